"""Claude Code's session registry (``sessions/<pid>.json``) cross-checks the hooks.

The fake claude writes no registry file: the test writes the one a real CLI
would, for the fake's pid, as the CLI does on a rejection in the terminal
(which fires no hook). tests/realcli has the same with the real CLI.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.status.test_status_tmux import _new, _option, _until
from tests.support.cli_runner import Tclaude
from tests.support.hosts import ControlServer
from tmuxclaude.host import claude_sessions


def _write_registry(env: dict[str, str], pid: int, **fields: Any) -> None:
    sessions = Path(env["CLAUDE_CONFIG_DIR"]) / "sessions"
    sessions.mkdir(parents=True, exist_ok=True)
    now = int(time.time() * 1000)
    body = {"pid": pid, "kind": "interactive", "updatedAt": now, "statusUpdatedAt": now, **fields}
    tmp = sessions / f".{pid}.tmp"
    tmp.write_text(json.dumps(body))
    os.replace(tmp, sessions / f"{pid}.json")


def _state_file_session(env: dict[str, str]) -> object:
    state = json.loads((Path(env["TCLAUDE_STATE_DIR"]) / "instances.json").read_text())
    [entry] = state["instances"].values()
    return entry.get("session_id")


async def test_a_rejection_without_a_hook_returns_to_idle_by_the_registry(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer, isolated_env: dict[str, str]
) -> None:
    pane, cli = await _new(tclaude, control, "api", tmp_path)
    await _until(tclaude, pane, "@tclaude-state", "idle")
    pid = int(tclaude.json("status", "api")["claude_pid"])
    await cli.hook("UserPromptSubmit")
    await cli.hook("PermissionRequest", {"tool_name": "Write"})
    await _until(tclaude, pane, "@tclaude-state", "waiting")
    # the user presses Escape in the terminal: no hook; the CLI's registry says idle
    session_id = str(uuid.uuid4())
    _write_registry(isolated_env, pid, sessionId=session_id, status="idle")
    await _until(tclaude, pane, "@tclaude-state", "idle")
    # the permission was answered: its late notification does not make it waiting again
    await cli.hook("Notification", {"notification_type": "permission_prompt"})
    await asyncio.sleep(0.5)
    assert _option(tclaude, pane, "@tclaude-state") == "idle"
    # the session id (as after /clear) is recorded for restore
    deadline = time.monotonic() + 10
    while _state_file_session(isolated_env) != session_id:
        assert time.monotonic() < deadline, _state_file_session(isolated_env)
        await asyncio.sleep(0.05)


async def test_a_registry_status_older_than_the_last_hook_is_ignored(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer, isolated_env: dict[str, str]
) -> None:
    pane, cli = await _new(tclaude, control, "api", tmp_path)
    await _until(tclaude, pane, "@tclaude-state", "idle")
    pid = int(tclaude.json("status", "api")["claude_pid"])
    stale = int(time.time() * 1000) - 1
    await cli.hook("UserPromptSubmit")
    await _until(tclaude, pane, "@tclaude-state", "busy")
    _write_registry(isolated_env, pid, status="idle", statusUpdatedAt=stale, updatedAt=stale)
    await asyncio.sleep(2.5)  # two polls: the host has read the file
    assert _option(tclaude, pane, "@tclaude-state") == "busy"


PID = 4242
GOOD_ID = "b57f5502-5804-4205-8560-6c39c7aac0e5"


@pytest.mark.parametrize(
    ("test_id", "raw", "expected"),
    [
        (
            "real-2.1.332",
            {"pid": PID, "sessionId": GOOD_ID, "status": "waiting", "statusUpdatedAt": 1_796_000},
            claude_sessions.RegistryEntry(GOOD_ID, "waiting", 1796.0),
        ),
        (
            "not-a-uuid",
            {"pid": PID, "sessionId": "--resume=/etc/passwd", "status": "idle", "updatedAt": 5000},
            claude_sessions.RegistryEntry(None, "idle", 5.0),
        ),
        (
            "unknown-status",
            {"pid": PID, "sessionId": GOOD_ID, "status": "rm -rf", "updatedAt": True},
            claude_sessions.RegistryEntry(GOOD_ID, None, None),
        ),
        ("another-pid", {"pid": PID + 1, "sessionId": GOOD_ID, "status": "idle"}, None),
        ("a-list", [PID], None),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_parse_validates_what_it_reads(test_id: str, raw: object, expected: object) -> None:
    assert claude_sessions.parse(json.dumps(raw).encode(), PID) == expected


def test_read_refuses_garbage_oversized_and_links(tmp_path: Path) -> None:
    path = tmp_path / f"{PID}.json"
    path.write_bytes(b"\xff{not json")
    assert claude_sessions.read(str(path), PID) is None
    path.write_text(json.dumps({"pid": PID, "pad": "x" * claude_sessions.MAX_BYTES}))
    assert claude_sessions.read(str(path), PID) is None
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({"pid": PID, "status": "idle"}))
    path.unlink()
    path.symlink_to(target)
    assert claude_sessions.read(str(path), PID) is None
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    assert claude_sessions.read(str(fifo), PID) is None  # does not block
