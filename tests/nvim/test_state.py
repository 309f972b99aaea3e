"""Notifications from a host: state_changed feeds the status line. A scripted host stands
in for the real one here, since the real host's states come from claude's hooks."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from tests.nvim.conftest import NvimFactory


class ScriptedHost:
    """A runtime record plus an editor socket that answers attach and records the rest."""

    def __init__(self, runtime: str, cwd: Path, name: str) -> None:
        self.id = "scripted"
        self.socket = os.path.join(runtime, f"{self.id}.sock")
        self.record_path = os.path.join(runtime, f"{self.id}.json")
        self.status: dict[str, Any] = {
            "id": self.id,
            "name": name,
            "cwd": str(cwd),
            "port": 1,
            "pid": os.getpid(),
            "socket": self.socket,
            "started": time.time(),
            "state": "idle",
            "clis": 1,
            "editors": [],
            "pending_diffs": [],
        }
        self.received: list[dict[str, Any]] = []
        self.writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._client, self.socket)
        record = {k: self.status[k] for k in ("id", "name", "cwd", "port", "pid", "socket")}
        Path(self.record_path).write_text(json.dumps(record), encoding="utf-8")

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.append(writer)
        while line := await reader.readline():
            msg = json.loads(line)
            self.received.append(msg)
            if msg.get("method") == "attach":
                self.send(writer, {"jsonrpc": "2.0", "id": msg["id"], "result": self.status})

    def send(self, writer: asyncio.StreamWriter, msg: dict[str, Any]) -> None:
        writer.write(json.dumps(msg).encode() + b"\n")

    def notify_all(self, method: str, params: dict[str, Any]) -> None:
        for writer in self.writers:
            self.send(writer, {"jsonrpc": "2.0", "method": method, "params": params})

    def methods(self) -> list[str]:
        return [str(m.get("method")) for m in self.received]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self.writers:
            writer.close()


async def test_state_changes_reach_the_status_line_and_focus_is_sent(
    project: Path, nvim: NvimFactory, isolated_env: dict[str, str]
) -> None:
    host = ScriptedHost(isolated_env["TCLAUDE_RUNTIME_DIR"], project, "api")
    await host.start()
    try:
        nv = await nvim(project)
        await nv.wait_attached(["scripted"])
        assert await nv.lua("return require('tclaude').statusline()") == "✻ api idle"
        host.notify_all("state_changed", {"state": "busy", "since": 1})
        await nv.wait_lua("return require('tclaude').statusline() == '✻ api busy'")
        host.notify_all("state_changed", {"state": "waiting", "since": 2})
        await nv.wait_lua("return require('tclaude').statusline() == '✻ api waiting'")
        host.notify_all("usage_changed", {"text": "42% $1.23"})
        await nv.wait_lua("return require('tclaude').statusline() == '✻ api waiting 42% $1.23'")
        attach = next(m for m in host.received if m.get("method") == "attach")
        name = f"nvim {await nv.lua('return vim.fn.getpid()')}"
        # used: seconds since the user last acted in this Neovim (issue 11, defect 1)
        assert attach["params"] == {"name": name, "used": attach["params"]["used"]}
        assert isinstance(attach["params"]["used"], int | float) and attach["params"]["used"] >= 0
        await nv.command("doautocmd FocusGained")
        for _ in range(100):
            if "focus" in host.methods():
                break
            await asyncio.sleep(0.02)
        assert "focus" in host.methods()
        # a close_tab for a diff this Neovim does not show is ignored
        host.notify_all("close_tab", {"tab_name": "not ours"})
        await asyncio.sleep(0.1)
        assert await nv.lua("return #vim.api.nvim_list_tabpages()") == 1
    finally:
        await host.close()
