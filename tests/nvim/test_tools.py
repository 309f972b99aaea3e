"""The tools Neovim serves, called as the CLI calls them, answered from real buffers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.nvim.conftest import HostFactory, Nvim, NvimFactory
from tests.support.hosts import FakeCli


async def setup_pair(project: Path, host: HostFactory, nvim: NvimFactory) -> tuple[FakeCli, Nvim]:
    proc, cli = await host(project, name="api")
    nv = await nvim(project)
    await nv.wait_attached([proc.ready["id"]])
    return cli, nv


def text_of(reply: dict[str, Any]) -> str:
    assert "result" in reply, reply
    content = reply["result"]["content"]
    assert len(content) == 1
    assert content[0]["type"] == "text"
    return str(content[0]["text"])


def json_of(reply: dict[str, Any]) -> Any:
    return json.loads(text_of(reply))


async def test_open_file_selects_lines_and_text(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await setup_pair(project, host, nvim)
    app = str(project / "src" / "app.py")
    reply = await cli.tool("openFile", {"filePath": app, "startLine": 4, "endLine": 5})
    assert text_of(reply) == f"Opened file: {app}"
    assert await nv.lua("return vim.api.nvim_buf_get_name(0)") == app
    assert await nv.lua("return vim.api.nvim_buf_get_mark(0, '<')") == [4, 0]
    assert (await nv.lua("return vim.api.nvim_buf_get_mark(0, '>')"))[0] == 5
    readme = str(project / "README.md")
    reply = await cli.tool("openFile", {"filePath": readme, "startText": "Some", "endText": "text"})
    assert text_of(reply) == f"Opened file: {readme}"
    assert await nv.lua("return vim.api.nvim_win_get_cursor(0)") == [3, 0]
    assert await nv.lua("return vim.api.nvim_buf_get_mark(0, '>')") == [3, 8]
    reply = await cli.tool("openFile", {"filePath": app, "makeFrontmost": False})
    assert json_of(reply) == {
        "success": True,
        "filePath": app,
        "languageId": "python",
        "lineCount": 6,
    }
    assert await nv.lua("return vim.api.nvim_buf_get_name(0)") == readme
    reply = await cli.tool("openFile", {"filePath": str(project / "missing.txt")})
    assert reply["error"]["code"] == -32000


async def test_selection_and_open_editors(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await setup_pair(project, host, nvim)
    await nv.command("edit src/app.py")
    await nv.command("edit README.md")
    await nv.input("3Gve")
    await nv.wait_lua("return vim.api.nvim_get_mode().mode == 'v'")
    selection = json_of(await cli.tool("getCurrentSelection"))
    assert selection["success"] is True
    assert selection["filePath"] == str(project / "README.md")
    assert selection["text"] == "Some"
    assert selection["selection"]["start"] == {"line": 2, "character": 0}
    assert selection["selection"]["end"] == {"line": 2, "character": 4}
    await nv.input("<Esc>")
    await nv.lua("vim.api.nvim_buf_set_lines(0, 0, 1, false, {'# changed'})")
    tabs = json_of(await cli.tool("getOpenEditors"))["tabs"]
    by_label = {tab["label"]: tab for tab in tabs}
    assert set(by_label) == {"app.py", "README.md"}
    assert by_label["README.md"]["isActive"] is True
    assert by_label["README.md"]["isDirty"] is True
    assert by_label["README.md"]["languageId"] == "markdown"
    assert by_label["app.py"] == {
        **by_label["app.py"],
        "uri": "file://" + str(project / "src" / "app.py"),
        "isActive": False,
        "isDirty": False,
        "languageId": "python",
    }


async def test_no_file_buffer_means_no_active_editor(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, _ = await setup_pair(project, host, nvim)
    selection = json_of(await cli.tool("getCurrentSelection"))
    assert selection == {"success": False, "message": "No active editor found"}


async def test_diagnostics_from_vim_diagnostic(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await setup_pair(project, host, nvim)
    assert json_of(await cli.tool("getDiagnostics")) == []
    await nv.command("edit src/app.py")
    await nv.lua(
        """
        local ns = vim.api.nvim_create_namespace("test")
        vim.diagnostic.set(ns, 0, {
          { lnum = 3, col = 4, end_lnum = 3, end_col = 8, message = "bad name",
            severity = vim.diagnostic.severity.ERROR, source = "pyflakes", code = 7 },
          { lnum = 4, col = 0, message = "a hint", severity = vim.diagnostic.severity.HINT },
        })
        """
    )
    uri = "file://" + str(project / "src" / "app.py")
    everything = json_of(await cli.tool("getDiagnostics"))
    one = json_of(await cli.tool("getDiagnostics", {"uri": uri}))
    assert everything == one
    assert len(one) == 1
    assert one[0]["uri"] == uri
    first, second = one[0]["diagnostics"]
    assert first == {
        "message": "bad name",
        "severity": "Error",
        "range": {"start": {"line": 3, "character": 4}, "end": {"line": 3, "character": 8}},
        "source": "pyflakes",
        "code": "7",
    }
    assert second["severity"] == "Hint"
    assert second["source"] == ""
    other = "file://" + str(project / "README.md")
    assert json_of(await cli.tool("getDiagnostics", {"uri": other})) == []


async def test_dirty_check_and_save(project: Path, host: HostFactory, nvim: NvimFactory) -> None:
    cli, nv = await setup_pair(project, host, nvim)
    readme = str(project / "README.md")
    assert json_of(await cli.tool("checkDocumentDirty", {"filePath": readme})) == {
        "success": False,
        "filePath": readme,
        "message": f"Document not open: {readme}",
    }
    await nv.command("edit README.md")
    dirty = json_of(await cli.tool("checkDocumentDirty", {"filePath": readme}))
    assert dirty == {"success": True, "filePath": readme, "isDirty": False, "isUntitled": False}
    await nv.lua("vim.api.nvim_buf_set_lines(0, 0, 1, false, {'# saved by Claude'})")
    dirty = json_of(await cli.tool("checkDocumentDirty", {"filePath": readme}))
    assert dirty["isDirty"] is True
    saved = json_of(await cli.tool("saveDocument", {"filePath": readme}))
    assert saved["success"] is True
    assert saved["saved"] is True
    assert Path(readme).read_text(encoding="utf-8").startswith("# saved by Claude\n")
    assert await nv.lua("return vim.bo.modified") is False
    missing = json_of(await cli.tool("saveDocument", {"filePath": str(project / "x.py")}))
    assert missing["success"] is False
