"""The coalesced notice names every state a host notifies about, as tmux expands it."""

from __future__ import annotations

import pytest

from tests.support.cli_runner import Tclaude
from tmuxclaude.host.attention import MESSAGES, message_commands


@pytest.mark.parametrize("state", sorted(MESSAGES))
def test_every_notified_state_shows_in_the_message(tclaude: Tclaude, state: str) -> None:
    tclaude.tmux("new-session", "-d", "-s", "notice")
    commands = message_commands("api", state, ["some-client"])
    *setup, show = commands
    for command in setup:
        tclaude.tmux(*command)
    text = show[-1]
    shown = tclaude.tmux("display-message", "-p", text).strip()
    assert shown == f"tclaude: api {MESSAGES[state]}"


def test_a_name_told_again_is_noted_once(tclaude: Tclaude) -> None:
    """A remote flapping between waiting and busy made the notice option grow per flap
    (27 KB, found by the hostile trial): a name already noted is not appended again."""
    tclaude.tmux("new-session", "-d", "-s", "notice")
    for name in ("alpha:api", "api", "alpha:api", "alpha:api", "ap", "api"):
        *setup, show = message_commands(name, "waiting", ["some-client"])
        for command in setup:
            tclaude.tmux(*command)
    noted = tclaude.tmux("show-options", "-gv", "@tclaude-notice-waiting").strip()
    assert noted.split() == ["alpha:api", "api", "ap"]
    shown = tclaude.tmux("display-message", "-p", show[-1]).strip()
    assert shown == "tclaude: alpha:api api ap need you"


def test_a_flood_of_names_makes_no_endless_notice(tclaude: Tclaude) -> None:
    """Found by the re-check: a remote creating waiting instances without end grew the notice
    option (and the message) without bound."""
    tclaude.tmux("new-session", "-d", "-s", "notice")
    for index in range(60):
        *setup, _ = message_commands(f"box:n{index:06d}", "waiting", ["some-client"])
        for command in setup:
            tclaude.tmux(*command)
    noted = tclaude.tmux("show-options", "-gv", "@tclaude-notice-waiting").strip()
    assert 100 < len(noted) <= 200 + len(" box:n000000")
