"""``tclaude wait --json``: one object says how the wait ended; the exit codes stay."""

from __future__ import annotations

import asyncio
import json

from tests.cli.conftest import Tclaude
from tests.support.hosts import ControlServer
from tests.support.waiters import blocked_on


async def test_wait_json_says_reached_timeout_or_stopped(
    tclaude: Tclaude, control: ControlServer
) -> None:
    made = await asyncio.to_thread(tclaude.json, "new", "--name", "api", "--detached")
    await control.accept()
    ours = {"name": "api", "id": made["id"]}
    reached = await asyncio.to_thread(
        tclaude.run, "wait", "api", "--state", "idle", "--timeout", "30", "--json"
    )
    assert json.loads(reached.stdout) == {**ours, "state": "idle", "result": "reached"}
    timeout = await asyncio.to_thread(
        tclaude.run, "wait", "api", "--state", "busy", "--timeout", "0.3", "--json", check=False
    )
    assert timeout.returncode == 1, timeout
    assert json.loads(timeout.stdout) == {**ours, "state": "idle", "result": "timeout"}
    assert timeout.stderr == ""  # the object says it
    waiter = asyncio.create_task(
        asyncio.to_thread(
            tclaude.run, "wait", "api", "--state", "busy", "--timeout", "60", "--json", check=False
        )
    )
    await asyncio.to_thread(blocked_on, made["id"])
    assert not waiter.done()
    tclaude.tmux("kill-pane", "-t", str(made["pane"]))
    stopped = await waiter
    assert stopped.returncode == 3, stopped
    assert json.loads(stopped.stdout) == {**ours, "state": "stopped", "result": "stopped"}
    already = await asyncio.to_thread(tclaude.run, "wait", "api", "--state", "stopped", "--json")
    assert json.loads(already.stdout) == {**ours, "state": "stopped", "result": "reached"}
