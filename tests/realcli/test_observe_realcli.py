"""The real Claude Code CLI, offline: usage in list --json, peek, log, and a rate limit.

The fake Messages API answers with usage figures the test chooses; they
must come out of the CLI's transcript exactly. A 429 ``rate_limit_error``
(answered with ``x-should-retry: false`` so the CLI does not back off and
retry for minutes) ends the turn with StopFailure ``error: rate_limit``
(2.1.197 and 2.1.332 alike), which is the ``limited`` state.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli_runner import Tclaude
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.real_claude import PROMPT_READY_RE, claude_binary, skip_reason

pytestmark = [
    pytest.mark.realcli,
    pytest.mark.skipif(claude_binary() is None, reason=skip_reason()),
]

USAGE = {
    "input_tokens": 1234,
    "output_tokens": 567,
    "cache_creation_input_tokens": 89,
    "cache_read_input_tokens": 4321,
}


def state(tclaude: Tclaude, pane: str) -> str:
    return tclaude.tmux("display-message", "-p", "-t", pane, "#{@tclaude-state}").strip()


def wait_for(what: str, check: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not within {timeout}s")
        time.sleep(0.1)


def prompt(tclaude: Tclaude, pane: str, text: str) -> None:
    tclaude.tmux("send-keys", "-t", pane, "-l", text)
    tclaude.tmux("send-keys", "-t", pane, "Enter")


def test_usage_peek_log_and_a_rate_limit(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI
) -> None:
    out = tclaude.run(
        "new", "--name", "api", "--cwd", str(real_env), "--detached", "--json",
        "--", "--permission-mode", "default",
    ).stdout  # fmt: skip
    pane = json.loads(out)["pane"]

    def peek() -> str:
        return tclaude.run("peek", "api").stdout

    wait_for("the input prompt", lambda: PROMPT_READY_RE.search(peek()))
    wait_for("idle", lambda: state(tclaude, pane) == "idle")

    api.queue_text("The zebra answer.", usage=USAGE)
    prompt(tclaude, pane, "tell me about zebras")
    wait_for("the reply on screen", lambda: "The zebra answer." in peek())
    wait_for("idle after the turn", lambda: state(tclaude, pane) == "idle")

    def usage() -> dict[str, Any] | None:
        row = tclaude.json("list")[0]
        return row["usage"] if row["usage"] and row["usage"]["output_tokens"] else None

    got = wait_for("usage in list --json", usage, timeout=20)
    for key, value in USAGE.items():
        assert got[key] == value, (key, got)
    assert got["context_tokens"] == sum(USAGE.values())
    assert got["cost_usd_estimate"] is not None and got["cost_usd_estimate"] > 0
    assert got["limit"] is None
    option = wait_for(
        "@tclaude-usage",
        lambda: tclaude.tmux("display-message", "-p", "-t", pane, "#{@tclaude-usage}").strip(),
        timeout=20,
    )
    assert re.fullmatch(r"\d+% \$\d+\.\d\d", option), option

    log = tclaude.json("log", "api")
    assert [t["prompt"] for t in log["turns"]] == ["tell me about zebras"]
    assert log["turns"][0]["text"] == ["The zebra answer."]

    api.queue_error(
        429,
        "rate_limit_error",
        "This request would exceed your rate limit",
        headers={"x-should-retry": "false"},
        times=20,
    )
    prompt(tclaude, pane, "and about giraffes")
    wait_for("limited", lambda: state(tclaude, pane) == "limited")
    row = tclaude.json("list")[0]
    assert row["state"] == "limited"
    limited = wait_for("the limit in usage", lambda: tclaude.json("list")[0]["usage"]["limit"])
    assert "rate limit" in limited
    log = tclaude.json("log", "api")
    assert log["turns"][-1]["prompt"] == "and about giraffes"
    assert log["turns"][-1]["error"] == "rate_limit"
    # the failed turn adds no tokens
    assert {k: tclaude.json("list")[0]["usage"][k] for k in USAGE} == USAGE
