"""openDiff in Neovim: accept (with the user's edits), reject, close_tab, refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.nvim.conftest import HostFactory, Nvim, NvimFactory
from tests.support.hosts import FakeCli

PROPOSAL = "import os\nimport sys\n\n\ndef main():\n    print('hello, world')\n    return 0\n"


async def setup_pair(project: Path, host: HostFactory, nvim: NvimFactory) -> tuple[FakeCli, Nvim]:
    proc, cli = await host(project, name="api")
    nv = await nvim(project)
    await nv.wait_attached([proc.ready["id"]])
    return cli, nv


async def open_diff(
    cli: FakeCli, nv: Nvim, path: Path, contents: str = PROPOSAL, tab: str | None = None
) -> tuple[int, str]:
    tab = tab or f"✻ [Claude Code] {path.name} ⧉"
    before = await nv.lua("return #require('tclaude.diff').list()")
    msg_id = await cli.request(
        "tools/call",
        {
            "name": "openDiff",
            "arguments": {
                "old_file_path": str(path),
                "new_file_path": str(path),
                "new_file_contents": contents,
                "tab_name": tab,
            },
        },
    )
    await nv.wait_lua(f"return #require('tclaude.diff').list() == {before + 1}")
    return msg_id, tab


def texts(reply: dict[str, Any]) -> list[str]:
    assert "result" in reply, reply
    return [block["text"] for block in reply["result"]["content"]]


async def wait_closed(nv: Nvim) -> None:
    await nv.wait_lua(
        "return #require('tclaude.diff').list() == 0 and #vim.api.nvim_list_tabpages() == 1"
    )


async def test_accept_after_editing_the_proposal(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await setup_pair(project, host, nvim)
    app = project / "src" / "app.py"
    await nv.command("edit src/app.py")
    msg_id, _ = await open_diff(cli, nv, app)
    # a tab of its own: the file and the proposal side by side, in diff mode
    assert await nv.lua("return #vim.api.nvim_list_tabpages()") == 2
    assert await nv.lua("return vim.wo.diff and vim.bo.buftype") == "acwrite"
    assert await nv.lua("return vim.bo.filetype") == "python"
    await nv.lua("vim.api.nvim_buf_set_lines(0, 1, 2, false, {'import re'})")
    await nv.command("write")
    reply = await cli.response(msg_id)
    edited = PROPOSAL.replace("import sys", "import re")
    assert texts(reply) == ["FILE_SAVED", edited]
    await wait_closed(nv)
    # the file is untouched by Neovim; once the CLI writes it, its buffer is reloaded
    assert "import re" not in app.read_text(encoding="utf-8")
    app.write_text(edited, encoding="utf-8")
    await nv.wait_lua(
        "return vim.api.nvim_buf_get_lines(vim.fn.bufnr(...), 1, 2, false)[1] == 'import re'",
        5,
        str(app),
    )


async def test_accept_command_keeps_text_exactly(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await setup_pair(project, host, nvim)
    readme = project / "README.md"
    msg_id, _ = await open_diff(cli, nv, readme, "no trailing newline")
    await nv.command("wincmd p")  # from the file's side of the view
    await nv.command("TClaudeDiffAccept")
    assert texts(await cli.response(msg_id)) == ["FILE_SAVED", "no trailing newline"]
    await wait_closed(nv)


async def test_quit_rejects(project: Path, host: HostFactory, nvim: NvimFactory) -> None:
    cli, nv = await setup_pair(project, host, nvim)
    msg_id, tab = await open_diff(cli, nv, project / "src" / "app.py")
    await nv.command("quit")
    assert texts(await cli.response(msg_id)) == ["DIFF_REJECTED", tab]
    await wait_closed(nv)


async def test_deny_command_and_several_diffs_at_once(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await setup_pair(project, host, nvim)
    first, _ = await open_diff(cli, nv, project / "src" / "app.py")
    second, tab2 = await open_diff(cli, nv, project / "README.md", "# new readme\n")
    assert await nv.lua("return #vim.api.nvim_list_tabpages()") == 3
    await nv.command("TClaudeDiffDeny")  # the current tab: the second diff
    assert texts(await cli.response(second)) == ["DIFF_REJECTED", tab2]
    await nv.wait_lua("return #require('tclaude.diff').list() == 1")
    await nv.command("tabnext 2")
    await nv.command("TClaudeDiffAccept")
    assert texts(await cli.response(first)) == ["FILE_SAVED", PROPOSAL]
    await wait_closed(nv)


async def test_close_tab_from_the_cli_closes_the_view(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await setup_pair(project, host, nvim)
    msg_id, tab = await open_diff(cli, nv, project / "src" / "app.py")
    closed = await cli.tool("close_tab", {"tab_name": tab})
    assert texts(closed) == ["TAB_CLOSED"]
    assert texts(await cli.response(msg_id)) == ["DIFF_REJECTED", tab]
    await wait_closed(nv)


async def test_new_file_diff(project: Path, host: HostFactory, nvim: NvimFactory) -> None:
    cli, nv = await setup_pair(project, host, nvim)
    new = project / "src" / "new.py"
    msg_id, _ = await open_diff(cli, nv, new, "x = 1\n")
    await nv.command("write")
    assert texts(await cli.response(msg_id)) == ["FILE_SAVED", "x = 1\n"]
    await wait_closed(nv)
    assert not new.exists()


async def test_dirty_original_is_refused(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await setup_pair(project, host, nvim)
    await nv.command("edit src/app.py")
    await nv.lua("vim.api.nvim_buf_set_lines(0, 0, 1, false, {'# unsaved'})")
    reply = await cli.tool(
        "openDiff",
        {
            "old_file_path": str(project / "src" / "app.py"),
            "new_file_path": str(project / "src" / "app.py"),
            "new_file_contents": PROPOSAL,
            "tab_name": "t",
        },
    )
    assert reply["error"]["code"] == -32000
    assert "unsaved changes" in reply["error"]["message"]
    assert await nv.lua("return #vim.api.nvim_list_tabpages()") == 1
    assert await nv.lua("return vim.api.nvim_buf_get_lines(0, 0, 1, false)[1]") == "# unsaved"
    # and Neovim says so, in one line kept in :messages (it was silent)
    warnings = await nv.lua(
        "local out = {} for _, m in ipairs(_G.tclaude_messages) do "
        "if m.level == vim.log.levels.WARN then out[#out + 1] = m.msg end end return out"
    )
    assert len(warnings) == 1
    assert "src/app.py" in warnings[0] and "unsaved changes" in warnings[0]
    assert ":w" in warnings[0] and "\n" not in warnings[0]
