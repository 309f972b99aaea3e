"""Commands that drive tmux through the real `tclaude` CLI, on the test's private tmux."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.nvim.conftest import Nvim, NvimFactory
from tests.support import tmux_servers

TCLAUDE = str(Path(sys.executable).parent / "tclaude")


@pytest.fixture
def private_tmux(isolated_env: dict[str, str]) -> Iterator[str]:
    """The test's own tmux server (TCLAUDE_TMUX_SOCKET), emptied afterwards."""
    socket = isolated_env["TCLAUDE_TMUX_SOCKET"]
    yield socket
    subprocess.run([TCLAUDE, "kill", "--all"], capture_output=True, check=False, timeout=30)
    tmux_servers.reap(socket)


async def records(nv: Nvim) -> list[str]:
    found = await nv.lua(
        "return vim.tbl_map(function(r) return r.name end, require('tclaude.discovery').scan())"
    )
    return sorted(str(name) for name in found)


async def test_focus_creates_then_new_list_status_kill(
    project: Path, tmp_path: Path, private_tmux: str, nvim: NvimFactory
) -> None:
    assert os.environ.get("TMUX") is None
    nv = await nvim(project, {"cmd": TCLAUDE})
    await nv.command("TClaude")  # none for this directory: one is created, then paired
    await nv.wait_lua("return #require('tclaude').attached() == 1", 20)
    attached = await nv.lua("return require('tclaude').attached()")
    assert attached[0]["name"] == "project"
    assert attached[0]["cwd"] == str(project)
    await nv.command("TClaudeStatus")
    await nv.wait_lua(
        "for _, m in ipairs(_G.tclaude_messages) do if m.msg:find('cwd: ', 1, true) then "
        "return true end end"
    )
    status = next(m for m in await nv.messages() if "cwd: " in m)
    assert f"project ({attached[0]['id']})" in status
    assert f"nvim {await nv.lua('return vim.fn.getpid()')}" in status

    other = tmp_path / "other"
    other.mkdir()
    await nv.command(f"TClaudeNew --name docs --cwd {other}")
    # the new instance is the one switched to: attached beside the directory's own
    await nv.wait_lua("return #require('tclaude').attached() == 2", 20)
    assert await nv.lua("return require('tclaude').statusline()") in (
        "✻ docs starting",
        "✻ docs idle",
    )
    assert await records(nv) == ["docs", "project"]

    # :TClaudeList offers both; choosing one switches to it
    await nv.lua(
        """
        vim.ui.select = function(items, opts, on_choice)
          _G.offered = vim.tbl_map(opts.format_item, items)
          for _, item in ipairs(items) do
            if item.name == 'project' then return on_choice(item) end
          end
        end
        """
    )
    await nv.command("TClaudeList")
    await nv.wait_lua("return _G.offered ~= nil", 20)
    offered = await nv.lua("return _G.offered")
    assert len(offered) == 2
    assert any(line.startswith("docs") and str(other) in line for line in offered)
    await nv.wait_lua("return require('tclaude').statusline():find('project') ~= nil")

    # only the directory's own instance stays attached once the user switched away from docs
    await nv.wait_lua("return #require('tclaude').attached() == 1")
    await nv.command("TClaudeKill docs")
    await nv.wait_lua("return #require('tclaude.discovery').scan() == 1", 20)
    assert await records(nv) == ["project"]
    await nv.command("TClaudeKill all")
    await nv.wait_lua("return #require('tclaude').attached() == 0", 20)
    assert await records(nv) == []
    errors = await nv.lua(
        "return vim.tbl_filter(function(m) return m.level >= vim.log.levels.ERROR end, "
        "_G.tclaude_messages)"
    )
    assert errors == []


async def test_missing_cli_is_reported(project: Path, nvim: NvimFactory) -> None:
    nv = await nvim(project, {"cmd": "/nonexistent/tclaude"})
    await nv.command("TClaude")
    await nv.wait_lua("return #_G.tclaude_messages > 0")
    assert "not found" in (await nv.messages())[0]


async def test_tclaude_pressed_twice_quickly_makes_one_instance(
    project: Path, private_tmux: str, nvim: NvimFactory
) -> None:
    nv = await nvim(project, {"cmd": TCLAUDE})
    starting = f"tclaude: an instance for {project} is starting"
    await nv.command("TClaude")
    await nv.command("TClaude")  # before the first `tclaude new` has returned
    assert (await nv.messages()).count(starting) == 1
    await nv.wait_lua(
        "for _, m in ipairs(_G.tclaude_messages) do if m.msg:find('created', 1, true) then "
        "return true end end",
        20,
    )
    await nv.wait_lua("return #require('tclaude').attached() == 1", 20)
    await nv.command("TClaude")  # up now: this one focuses it, nothing is starting
    assert (await nv.messages()).count(starting) == 1
    assert await records(nv) == ["project"]


async def test_tclaude_racing_a_bare_tclaude_in_a_shell_makes_one_instance(
    project: Path, private_tmux: str, nvim: NvimFactory
) -> None:
    nv = await nvim(project, {"cmd": TCLAUDE})
    shell = subprocess.Popen(
        [TCLAUDE],
        cwd=project,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    await nv.command("TClaude")  # `tclaude new --reuse`: bare tclaude's create lock
    _, err = shell.communicate(timeout=60)
    assert shell.returncode == 0, err
    await nv.wait_lua("return #require('tclaude').attached() == 1", 20)
    listed = subprocess.run(
        [TCLAUDE, "list", "--json"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert listed.count('"name": "project') == 1, listed
    assert await records(nv) == ["project"]
