"""``send --submit`` to a real Claude Code CLI waiting on a Write permission."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.cli_runner import Tclaude
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.real_claude import (
    PERMISSION_PROMPT_RE,
    PROMPT_READY_RE,
    claude_binary,
    skip_reason,
)

pytestmark = [
    pytest.mark.realcli,
    pytest.mark.skipif(claude_binary() is None, reason=skip_reason()),
]


def _screen(tclaude: Tclaude, pane: str) -> str:
    return tclaude.tmux("capture-pane", "-p", "-J", "-t", pane)


def _state(tclaude: Tclaude, pane: str) -> str:
    return tclaude.tmux("display-message", "-p", "-t", pane, "#{@tclaude-state}").strip()


def test_send_submit_does_not_answer_a_write_permission_prompt(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI
) -> None:
    target = real_env / "hello.txt"
    out = tclaude.run(
        "new", "--name", "api", "--cwd", str(real_env), "--detached", "--json",
        "--", "--permission-mode", "default",
    ).stdout  # fmt: skip
    pane = json.loads(out)["pane"]
    deadline = time.monotonic() + 60
    while not (PROMPT_READY_RE.search(_screen(tclaude, pane)) and _state(tclaude, pane) == "idle"):
        assert time.monotonic() < deadline, (_state(tclaude, pane), _screen(tclaude, pane))
        time.sleep(0.1)
    api.queue_tool_use("Write", {"file_path": str(target), "content": "hello\n"})
    # --submit submits: Enter waits until the paste has landed
    tclaude.run("send", "api", "--text", "write hello", "--submit")
    deadline = time.monotonic() + 60
    while not (
        _state(tclaude, pane) == "waiting" and PERMISSION_PROMPT_RE.search(_screen(tclaude, pane))
    ):
        assert time.monotonic() < deadline, (_state(tclaude, pane), _screen(tclaude, pane))
        time.sleep(0.05)
    refused = tclaude.run(
        "send", "api", "--text", "no wait, do not write anything", "--submit", check=False
    )
    assert refused.returncode == 2, refused
    assert refused.stderr.count("\n") == 1
    assert "'api' is waiting" in refused.stderr and "nothing was typed" in refused.stderr
    digit = tclaude.run("send", "api", "--text", "1", check=False)
    assert digit.returncode == 2 and "--force" in digit.stderr
    broadcast = tclaude.json("broadcast", "--text", "yes", "--submit")
    assert broadcast == {"sent": [], "skipped": {"api": "waiting"}}
    # the prompt is still open, untouched, and nothing was written
    time.sleep(2)
    assert _state(tclaude, pane) == "waiting"
    assert PERMISSION_PROMPT_RE.search(_screen(tclaude, pane))
    assert not target.exists()
    assert "do not write" not in _screen(tclaude, pane)
