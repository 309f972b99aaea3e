"""Context from Neovim to Claude: selection_changed and at_mentioned."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from tests.nvim.conftest import HostFactory, Nvim, NvimFactory
from tests.support.hosts import FakeCli


def assert_selection_types(params: dict[str, Any]) -> None:
    """The exact types the CLI checks: a wrong one drops its connection."""
    assert set(params) == {"text", "filePath", "fileUrl", "selection"}
    assert isinstance(params["text"], str)
    assert isinstance(params["filePath"], str)
    assert params["fileUrl"] == "file://" + params["filePath"]
    sel = params["selection"]
    assert set(sel) == {"start", "end", "isEmpty"}
    assert type(sel["isEmpty"]) is bool
    for end in ("start", "end"):
        assert set(sel[end]) == {"line", "character"}
        for key in ("line", "character"):
            assert type(sel[end][key]) is int
            assert sel[end][key] >= 0


async def no_notification(cli: FakeCli, method: str, wait: float = 0.4) -> None:
    try:
        got = await cli.notification(method, timeout=wait)
    except TimeoutError:
        return
    pytest.fail(f"unexpected {method}: {got}")


async def opened(project: Path, host: HostFactory, nvim: NvimFactory) -> tuple[FakeCli, Nvim]:
    proc, cli = await host(project, name="api")
    nv = await nvim(project)
    await nv.wait_attached([proc.ready["id"]])
    await nv.command("edit src/app.py")
    first = await cli.notification("selection_changed")
    assert first["params"]["selection"]["start"] == {"line": 0, "character": 0}
    return cli, nv


async def test_cursor_moves_send_one_debounced_empty_selection(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await opened(project, host, nvim)
    for _ in range(3):  # a burst well inside the 100 ms debounce
        await nv.input("j")
        await asyncio.sleep(0.01)
    sel = await cli.notification("selection_changed")
    params = sel["params"]
    assert_selection_types(params)
    assert params["filePath"] == str(project / "src" / "app.py")
    assert params["text"] == ""
    assert params["selection"] == {
        "start": {"line": 3, "character": 0},
        "end": {"line": 3, "character": 0},
        "isEmpty": True,
    }
    await no_notification(cli, "selection_changed")
    await nv.input("jk")  # back where it was: nothing changed, nothing sent
    await no_notification(cli, "selection_changed")


async def test_visual_selection_sent_with_exact_types(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await opened(project, host, nvim)
    await nv.input("4GVj")
    params = (await cli.notification("selection_changed"))["params"]
    assert_selection_types(params)
    assert params["text"] == "def main():\n    print('hello')"
    assert params["selection"] == {
        "start": {"line": 3, "character": 0},
        "end": {"line": 4, "character": 18},
        "isEmpty": False,
    }
    # leaving visual mode without moving keeps the selection (select, <Esc>, go to Claude)
    await nv.input("<Esc>")
    await no_notification(cli, "selection_changed", 0.3)
    await nv.input("5G^vf(")
    params = (await cli.notification("selection_changed"))["params"]
    assert params["text"] == "print("
    assert params["selection"]["start"] == {"line": 4, "character": 4}
    assert params["selection"]["end"] == {"line": 4, "character": 10}
    await nv.input("<Esc>j")
    params = (await cli.notification("selection_changed"))["params"]
    assert params["selection"]["isEmpty"] is True
    assert params["selection"]["start"]["line"] == 5


async def test_terminal_and_scratch_buffers_are_not_sent(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await opened(project, host, nvim)
    await nv.command("enew")
    await nv.lua(
        "vim.bo.buftype = 'nofile'; vim.api.nvim_buf_set_lines(0, 0, -1, false, {'a', 'b'})"
    )
    await nv.input("j")
    await nv.command("terminal")
    await no_notification(cli, "selection_changed")


async def test_send_range_mentions_zero_based_lines(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await opened(project, host, nvim)
    await nv.command("2,4TClaudeSend")
    params = (await cli.notification("at_mentioned"))["params"]
    assert params == {"filePath": str(project / "src" / "app.py"), "lineStart": 1, "lineEnd": 3}
    await nv.input("5GVj")
    await nv.input(":TClaudeSend<CR>")  # from visual mode: :'<,'>TClaudeSend
    params = (await cli.notification("at_mentioned"))["params"]
    assert (params["lineStart"], params["lineEnd"]) == (4, 5)
    await nv.wait_lua("return #_G.tclaude_messages >= 2")
    assert any("sent src/app.py:2-4 to api" in m for m in await nv.messages())


async def test_add_mentions_files_and_lines(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await opened(project, host, nvim)
    await nv.command("TClaudeAdd README.md 2 3")
    params = (await cli.notification("at_mentioned"))["params"]
    assert params == {"filePath": str(project / "README.md"), "lineStart": 1, "lineEnd": 2}
    await nv.command("TClaudeAdd src")
    params = (await cli.notification("at_mentioned"))["params"]
    assert params == {"filePath": "src/"}  # as claudecode.nvim: relative, with a slash


async def test_send_to_a_named_instance_elsewhere(
    project: Path, tmp_path: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    _, cli = await host(other, name="docs")
    nv = await nvim(project)
    await nv.command("edit README.md")
    assert await nv.attached_ids() == []
    await nv.command("1TClaudeSend docs")
    params = (await cli.notification("at_mentioned"))["params"]
    assert params == {"filePath": str(project / "README.md"), "lineStart": 0, "lineEnd": 0}
    assert await nv.attached_ids() == []  # a one-shot message, not an attachment
