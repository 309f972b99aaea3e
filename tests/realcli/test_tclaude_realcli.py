"""The real Claude Code CLI, offline, launched by ``tclaude new`` in tmux.

Proves the host is an IDE the CLI accepts: it connects to its own host,
mentions land in its prompt, proposed edits reach the editor socket as
openDiff and the editor's answer decides what is written, and its hooks
drive the state.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from pathlib import Path

import pytest

from tests.support.cli_runner import Tclaude
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.hosts import EditorClient
from tests.support.real_claude import (
    PERMISSION_PROMPT_RE,
    PROMPT_READY_RE,
    RealClaude,
    seed_config,
    settled,
)

pytestmark = [pytest.mark.realcli]


def screen(tclaude: Tclaude, pane: str) -> str:
    return tclaude.tmux("capture-pane", "-p", "-J", "-t", pane)


def wait_screen(
    tclaude: Tclaude, pane: str, pattern: str | re.Pattern[str], timeout: float = 30
) -> str:
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    deadline = time.monotonic() + timeout
    while True:
        text = screen(tclaude, pane)
        if regex.search(text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{regex.pattern!r} not on screen:\n{text}{_host_logs()}")
        time.sleep(0.1)


def _host_logs() -> str:
    """The hosts' logs (a dead pane's host says why it ended), for a failure's message."""
    runtime = Path(os.environ.get("TCLAUDE_RUNTIME_DIR", "/nonexistent"))
    parts = [
        f"\n--- {log.name}:\n{log.read_text(errors='replace')[-3000:]}"
        for log in sorted(runtime.glob("*.log"))
    ]
    return "".join(parts)


def wait_connected(tclaude: Tclaude, name: str, timeout: float = 30) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        status: dict[str, object] = tclaude.json("status", name)
        if status["clis"] == 1:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"claude never connected to {name}: {status}")
        time.sleep(0.2)


def new(tclaude: Tclaude, name: str, cwd: Path) -> dict[str, str]:
    out = tclaude.run(
        "new",
        "--name",
        name,
        "--cwd",
        str(cwd),
        "--detached",
        "--json",
        "--",
        "--permission-mode",
        "default",
    ).stdout
    data: dict[str, str] = json.loads(out)
    wait_screen(tclaude, data["pane"], PROMPT_READY_RE)
    return data


def test_two_instances_each_cli_on_its_own_host(
    tclaude: Tclaude, real_env: Path, tmp_path: Path, real_claude: RealClaude
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    seed_config(Path(real_env.parent / "home" / ".claude"), other, version=real_claude.version)
    (real_env / "app.py").write_text("".join(f"line {n}\n" for n in range(1, 30)))
    a = new(tclaude, "a", real_env)
    b = new(tclaude, "b", other)
    status_a, status_b = wait_connected(tclaude, "a"), wait_connected(tclaude, "b")
    assert status_a["port"] != status_b["port"]
    assert status_a["claude_pid"] != status_b["claude_pid"]
    sent = tclaude.json("send", "a", "--file", f"{real_env / 'app.py'}:3-7")
    assert sent == {"delivered": 1}  # only to a CLI past ide_connected with its own pid
    assert "@app.py#L3-7" in wait_screen(tclaude, a["pane"], r"@app\.py#L3-7")
    for data in (a, b):  # the real CLI passed every check: header, owner, handshake
        log = Path(os.environ["TCLAUDE_RUNTIME_DIR"]) / f"{data['id']}.log"
        assert "refused" not in log.read_text() and "closed a cli" not in log.read_text()
    time.sleep(1)
    assert "@app.py" not in screen(tclaude, b["pane"])


@pytest.mark.parametrize("accept", [True, False], ids=["accepted-with-edits", "rejected"])
async def test_write_turn_opens_a_diff_in_the_editor(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI, accept: bool
) -> None:
    target = real_env / "hello.txt"
    data = await asyncio.to_thread(new, tclaude, "api", real_env)
    await asyncio.to_thread(wait_connected, tclaude, "api")
    editor = await EditorClient.connect(data["socket"])
    await editor.call("attach", {"name": "test-editor"})
    api.queue_tool_use("Write", {"file_path": str(target), "content": "proposed\n"})
    tclaude.tmux("send-keys", "-t", data["pane"], "-l", "write the file")
    tclaude.tmux("send-keys", "-t", data["pane"], "Enter")
    try:
        request = await editor.next_request("openDiff", timeout=60)
    except TimeoutError:
        raise AssertionError("no openDiff; screen:\n" + screen(tclaude, data["pane"])) from None
    args = request["params"]
    assert args["new_file_path"] == str(target)
    assert args["new_file_contents"] == "proposed\n"
    if accept:
        result = {
            "content": [
                {"type": "text", "text": "FILE_SAVED"},
                {"type": "text", "text": "edited by the user\n"},
            ]
        }
    else:
        result = {
            "content": [
                {"type": "text", "text": "DIFF_REJECTED"},
                {"type": "text", "text": args["tab_name"]},
            ]
        }
    await editor.reply(request["id"], result)
    if accept:
        deadline = time.monotonic() + 30
        # the CLI writes the editor's text but drops its final newline (2.1.197)
        while not (target.exists() and target.read_text().rstrip("\n") == "edited by the user"):
            assert time.monotonic() < deadline, (
                target.read_bytes() if target.exists() else None,
                screen(tclaude, data["pane"]),
            )
            await asyncio.sleep(0.1)
    else:
        await asyncio.to_thread(wait_screen, tclaude, data["pane"], r"(?i)reject")
        await asyncio.sleep(1)
        assert not target.exists()
    await editor.close()


def _states(tclaude: Tclaude, pane: str, seen: list[str]) -> None:
    state = tclaude.tmux("display-message", "-p", "-t", pane, "#{@tclaude-state}").strip()
    if not seen or seen[-1] != state:
        seen.append(state)


def test_a_permission_turn_goes_busy_waiting_busy_idle(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI, isolated_env: dict[str, str]
) -> None:
    target = real_env / "hello.txt"
    data = new(tclaude, "api", real_env)
    pane = data["pane"]
    seen: list[str] = []
    deadline = time.monotonic() + 20
    while seen[-1:] != ["idle"]:
        assert time.monotonic() < deadline, seen
        _states(tclaude, pane, seen)
        time.sleep(0.05)
    api.queue_tool_use("Write", {"file_path": str(target), "content": "hello\n"})
    tclaude.tmux("send-keys", "-t", pane, "-l", "write hello")
    tclaude.tmux("send-keys", "-t", pane, "Enter")
    deadline = time.monotonic() + 60
    answered = False
    while not (answered and seen[-1] == "idle"):
        assert time.monotonic() < deadline, (seen, screen(tclaude, pane))
        _states(tclaude, pane, seen)
        if (
            not answered
            and seen[-1] == "waiting"
            and PERMISSION_PROMPT_RE.search(now := screen(tclaude, pane))
        ):
            # once the prompt has settled: 2.1.332 drops an Enter that comes too early
            settled(lambda: screen(tclaude, pane), now, timeout=10)
            tclaude.tmux("send-keys", "-t", pane, "Enter")  # "1. Yes"
            answered = True
        time.sleep(0.02)
    assert target.read_text() == "hello\n"
    # compress: the order of distinct states the pane went through
    assert seen[seen.index("busy") :] == ["busy", "waiting", "busy", "idle"], seen
    listed = tclaude.json("list")[0]
    entry = json.loads((Path(isolated_env["TCLAUDE_STATE_DIR"]) / "instances.json").read_text())[
        "instances"
    ][listed["id"]]
    assert entry["session_source"] == "startup"
    from tests.support.fake_messages_api import request_session_id

    assert entry["session_id"] == request_session_id(api.main_requests[-1])


def test_a_permission_rejected_in_the_terminal_returns_to_idle(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI
) -> None:
    """Escape on the prompt fires no hook: Claude Code's session registry says idle."""
    target = real_env / "hello.txt"
    data = new(tclaude, "api", real_env)
    pane = data["pane"]
    api.queue_tool_use("Write", {"file_path": str(target), "content": "hello\n"})
    tclaude.tmux("send-keys", "-t", pane, "-l", "write hello")
    tclaude.tmux("send-keys", "-t", pane, "Enter")
    seen: list[str] = []
    deadline = time.monotonic() + 60
    while seen[-1:] != ["waiting"]:
        assert time.monotonic() < deadline, (seen, screen(tclaude, pane))
        _states(tclaude, pane, seen)
        time.sleep(0.05)
    now = wait_screen(tclaude, pane, PERMISSION_PROMPT_RE)
    settled(lambda: screen(tclaude, pane), now, timeout=10)
    tclaude.tmux("send-keys", "-t", pane, "Escape")
    deadline = time.monotonic() + 30
    while seen[-1] != "idle":
        assert time.monotonic() < deadline, (seen, screen(tclaude, pane))
        _states(tclaude, pane, seen)
        time.sleep(0.05)
    assert not target.exists()
    assert seen[-2:] == ["waiting", "idle"], seen
    # and it stays idle: no late permission notification brings `waiting` back
    time.sleep(8)
    _states(tclaude, pane, seen)
    assert seen[-1] == "idle", seen
