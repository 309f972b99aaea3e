"""Headless Neovims with the plugin loaded, and real hosts with the fake claude.

pynvim is synchronous and runs an event loop of its own, so each Neovim is driven
from a thread of its own; the tests and the hosts stay on pytest's asyncio loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pynvim
import pytest

from tests.support.hosts import ControlServer, FakeCli, HostProcess

NVIM = str(Path(sys.executable).parent / "nvim")
PLUGIN = str(Path(__file__).resolve().parents[2] / "nvim")

T = TypeVar("T")

INIT = """
vim.opt.runtimepath:prepend({plugin})
vim.opt.swapfile = false
vim.opt.shortmess:append("AI")
vim.fn.chdir({cwd})
_G.tclaude_messages = {{}}
vim.notify = function(msg, level)
  table.insert(_G.tclaude_messages, {{ msg = msg, level = level or 2 }})
end
require("tclaude").setup(vim.json.decode({opts}))
"""


def lua_str(value: str) -> str:
    return json.dumps(value)


class Nvim:
    """One headless Neovim; every call runs on its own thread, awaited from asyncio."""

    def __init__(self, cwd: Path, init: Path) -> None:
        self.cwd = cwd
        self.init = init
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nvim")
        self._nvim: Any = None

    async def _run(self, fn: Callable[[Any], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, fn, self._nvim)

    @classmethod
    async def start(cls, cwd: Path, tmp: Path, opts: dict[str, Any] | None = None) -> Nvim:
        tmp.mkdir(parents=True, exist_ok=True)
        init = tmp / f"init-{time.monotonic_ns()}.lua"
        init.write_text(
            INIT.format(
                plugin=lua_str(PLUGIN),
                cwd=lua_str(str(cwd)),
                opts=lua_str(json.dumps(opts or {"debounce_ms": 100})),
            ),
            encoding="utf-8",
        )
        nv = cls(cwd, init)
        argv = [NVIM, "--embed", "--headless", "--clean", "-n", "-u", str(init)]

        def attach(_: Any) -> Any:
            return pynvim.attach("child", argv=argv)

        nv._nvim = await nv._run(attach)
        return nv

    async def lua(self, code: str, *args: Any) -> Any:
        return await self._run(lambda n: n.exec_lua(code, *args))

    async def command(self, command: str) -> None:
        await self._run(lambda n: n.command(command))

    async def command_output(self, command: str) -> str:
        return await self._run(lambda n: str(n.command_output(command)))

    async def input(self, keys: str) -> None:
        await self._run(lambda n: n.input(keys))

    async def feed(self, keys: str) -> None:
        """Type `keys` as a user would (mappings off), and let Neovim process them."""
        await self._run(lambda n: n.feedkeys(n.replace_termcodes(keys, True, False, True), "xt"))

    async def wait_lua(self, code: str, timeout: float = 10, *args: Any) -> Any:
        """Poll `code` until it returns a truthy value; return that value."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.lua(code, *args)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for: {code}")
            await asyncio.sleep(0.05)

    async def attached_ids(self) -> list[str]:
        items = await self.lua("return require('tclaude').attached()")
        return sorted(str(item["id"]) for item in items)

    async def wait_attached(self, ids: list[str], timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while sorted(ids) != await self.attached_ids():
            if time.monotonic() > deadline:
                raise TimeoutError(f"attached to {await self.attached_ids()}, expected {ids}")
            await asyncio.sleep(0.05)

    async def messages(self) -> list[str]:
        items = await self.lua("return _G.tclaude_messages")
        return [str(item["msg"]) for item in items]

    async def close(self) -> None:
        if self._nvim is not None:

            def quit_(n: Any) -> None:
                with contextlib.suppress(Exception):  # the connection closes as it quits
                    n.command("qa!")
                with contextlib.suppress(Exception):
                    n.close()

            await self._run(quit_)
            self._nvim = None
        self._pool.shutdown(wait=False)


NvimFactory = Callable[..., Awaitable[Nvim]]
HostFactory = Callable[..., Awaitable[tuple[HostProcess, FakeCli]]]


@pytest.fixture
async def nvim(tmp_path: Path) -> AsyncIterator[NvimFactory]:
    """Start Neovims in a directory: ``await nvim(cwd, opts)``; all closed afterwards."""
    started: list[Nvim] = []

    async def start(cwd: Path, opts: dict[str, Any] | None = None) -> Nvim:
        nv = await Nvim.start(cwd, tmp_path / "nvim-init", opts)
        started.append(nv)
        return nv

    yield start
    for nv in started:
        await nv.close()


@pytest.fixture
async def host(control: ControlServer) -> AsyncIterator[HostFactory]:
    """Start hosts (fake claude inside): ``await host(cwd, name=...)`` → (host, cli)."""
    started: list[HostProcess] = []

    async def start(
        cwd: Path, name: str = "test", instance_id: str | None = None
    ) -> tuple[HostProcess, FakeCli]:
        proc = await HostProcess.start(
            dict(os.environ), str(cwd), name=name, instance_id=instance_id
        )
        started.append(proc)
        cli = await control.accept()
        return proc, cli

    yield start
    for proc in started:
        await proc.stop()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A small project directory with a couple of files."""
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(
        "import os\n\n\ndef main():\n    print('hello')\n    return 0\n", encoding="utf-8"
    )
    (root / "README.md").write_text("# project\n\nSome text.\n", encoding="utf-8")
    return root.resolve()
