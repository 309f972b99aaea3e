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
