"""File names from a repository or from Claude never become Ex commands or shell text.

Found by the hostile trial: ``vim.cmd("edit " .. fnameescape(path))`` runs the
second line of a name holding a newline as its own Ex command (``lua=...``),
and ``vim.fn.expand`` runs a path's backticks through the shell.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.nvim.conftest import HostFactory, NvimFactory
from tests.nvim.test_diff import open_diff, setup_pair, texts

PAYLOAD = "lua=vim.g.tclaude_pwned=1"


@pytest.mark.parametrize("layout", ["vertical", "inline"])
async def test_a_file_name_with_a_newline_opens_as_a_diff_and_runs_nothing(
    project: Path, host: HostFactory, nvim: NvimFactory, layout: str
) -> None:
    crafted = project / f"notes\n{PAYLOAD}"
    crafted.write_text("old\n")
    cli, nv = await setup_pair(project, host, nvim)
    await nv.lua(f"require('tclaude').setup({{ diff = {{ layout = '{layout}' }} }})")
    msg_id, _ = await open_diff(cli, nv, crafted, "new\n")
    assert await nv.lua("return vim.g.tclaude_pwned") is None
    await nv.command("TClaudeDiffAccept")
    assert texts(await cli.response(msg_id))[0] == "FILE_SAVED"
    assert await nv.lua("return vim.g.tclaude_pwned") is None


async def test_open_file_takes_the_path_literally(
    project: Path, host: HostFactory, nvim: NvimFactory, tmp_path: Path
) -> None:
    cli, nv = await setup_pair(project, host, nvim)
    marker = tmp_path / "pwned-openfile"
    reply = await cli.tool("openFile", {"filePath": f"{project}/`touch {marker}`"})
    assert reply["error"]["code"] == -32000
    assert not marker.exists()
    crafted = project / f"notes\n{PAYLOAD}"
    crafted.write_text("line\n")
    for frontmost in (True, False):
        reply = await cli.tool("openFile", {"filePath": str(crafted), "makeFrontmost": frontmost})
        assert "result" in reply, reply
        assert await nv.lua("return vim.g.tclaude_pwned") is None
    assert await nv.lua("return vim.api.nvim_buf_get_name(0)") == str(crafted)
