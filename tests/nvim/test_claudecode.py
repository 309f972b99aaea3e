"""claudecode.nvim as a drop-in: its command names, keymaps and mentions from file explorers."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.cli.test_claude_version import fake_claude
from tests.nvim.conftest import NVIM, PLUGIN, HostFactory, Nvim, NvimFactory
from tests.nvim.test_diff import open_diff, texts
from tests.support.hosts import FakeCli

TCLAUDE = str(Path(sys.executable).parent / "tclaude")

# claudecode.nvim's README (coder/claudecode.nvim, 2390c6e): the lazy.nvim spec's `cmd` list
LAZY_CMD = [
    "ClaudeCode",
    "ClaudeCodeFocus",
    "ClaudeCodeSelectModel",
    "ClaudeCodeAdd",
    "ClaudeCodeSend",
    "ClaudeCodeTreeAdd",
    "ClaudeCodeStatus",
    "ClaudeCodeStart",
    "ClaudeCodeStop",
    "ClaudeCodeOpen",
    "ClaudeCodeClose",
    "ClaudeCodeDiffAccept",
    "ClaudeCodeDiffDeny",
    "ClaudeCodeCloseAllDiffs",
]
# what lua/claudecode/init.lua gives nvim_create_user_command: (nargs, range, bang)
CLAUDECODE_OPTS: dict[str, tuple[str, Any, bool]] = {
    "ClaudeCode": ("*", None, False),
    "ClaudeCodeFocus": ("*", None, False),
    "ClaudeCodeOpen": ("*", None, False),
    "ClaudeCodeClose": ("0", None, False),
    "ClaudeCodeStart": ("0", None, False),
    "ClaudeCodeStop": ("0", None, False),
    "ClaudeCodeStatus": ("0", None, False),
    "ClaudeCodeSend": ("0", ".", False),
    "ClaudeCodeAdd": ("+", None, False),
    "ClaudeCodeTreeAdd": ("0", None, False),
    "ClaudeCodeSendText": ("+", None, True),
    "ClaudeCodeSelectModel": ("*", None, False),
    "ClaudeCodeDiffAccept": ("0", None, False),
    "ClaudeCodeDiffDeny": ("0", None, False),
    "ClaudeCodeCloseAllDiffs": ("0", None, False),
}


async def paired(
    project: Path, host: HostFactory, nvim: NvimFactory, opts: dict[str, Any] | None = None
) -> tuple[FakeCli, Nvim]:
    proc, cli = await host(project, name="api")
    nv = await nvim(project, {"debounce_ms": 50, "claudecode_aliases": True, **(opts or {})})
    await nv.wait_attached([proc.ready["id"]])
    return cli, nv


async def test_every_claudecode_command_exists_with_its_arguments(
    project: Path, nvim: NvimFactory
) -> None:
    nv = await nvim(project, {"auto_attach": False, "claudecode_aliases": True})
    commands = await nv.lua("return vim.api.nvim_get_commands({})")
    missing = [name for name in [*LAZY_CMD, "ClaudeCodeSendText"] if name not in commands]
    assert missing == []
    for name, (nargs, range_, bang) in CLAUDECODE_OPTS.items():
        got = commands[name]
        assert (got["nargs"], got.get("range"), got["bang"]) == (nargs, range_, bang), name
    plain = await nvim(project, {"auto_attach": False})
    assert "ClaudeCode" not in await plain.lua("return vim.api.nvim_get_commands({})")


async def test_visual_cmd_map_sends_the_selection_and_leaves_visual_mode(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim)
    await nv.lua("vim.keymap.set('v', '<Space>as', '<cmd>ClaudeCodeSend<cr>')")
    await nv.command("edit src/app.py")
    await nv.input("gg")
    await nv.input("3GVjj")
    await nv.wait_lua("return vim.fn.mode() == 'V'")
    await nv.input("<Space>as")  # '< '> are unset: only the mode knows the selection
    params = (await cli.notification("at_mentioned"))["params"]
    assert params == {"filePath": str(project / "src" / "app.py"), "lineStart": 2, "lineEnd": 4}
    await nv.wait_lua("return vim.fn.mode() == 'n'")
    # the same with the cursor above the anchor, and with the <Plug> map
    await nv.lua("vim.keymap.set('x', '<Space>ap', '<Plug>(tclaude-send)')")
    await nv.input("5GVkk<Space>ap")
    params = (await cli.notification("at_mentioned"))["params"]
    assert (params["lineStart"], params["lineEnd"]) == (2, 4)
    await nv.wait_lua("return vim.fn.mode() == 'n'")


async def test_directories_are_mentioned_relative_with_a_slash(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim)
    # Claude's own directory: the CLI would show any mention of it as a bare "@"
    await nv.command("TClaudeAdd .")
    assert (await nv.messages())[-1] == (
        f"tclaude: not sent: {project} is Claude's own directory, "
        "which Claude Code shows as a bare @"
    )
    await nv.command("ClaudeCodeAdd src")
    assert (await cli.notification("at_mentioned"))["params"] == {"filePath": "src/"}  # the next
    await nv.command("edit README.md")
    await nv.command("ClaudeCodeAdd %")
    params = (await cli.notification("at_mentioned"))["params"]
    assert params == {"filePath": str(project / "README.md")}


async def netrw_line(nv: Nvim, text: str) -> int:
    line: int = await nv.wait_lua(
        "for i, l in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do "
        f"if l == {text!r} then return i end end"
    )
    return line


async def test_netrw_sends_the_entry_under_the_cursor_and_is_no_selection(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim)
    await nv.command("Explore")
    assert await nv.lua("return vim.bo.filetype") == "netrw"
    src = await netrw_line(nv, "src/")
    readme = await netrw_line(nv, "README.md")
    await nv.command(f"{src}TClaudeSend")
    assert (await cli.notification("at_mentioned"))["params"] == {"filePath": "src/"}
    await nv.lua(f"vim.api.nvim_win_set_cursor(0, {{ {readme}, 0 }})")
    await nv.lua("vim.keymap.set('n', '<Space>af', '<Plug>(tclaude-add-file)')")
    await nv.input("<Space>af")
    params = (await cli.notification("at_mentioned"))["params"]
    assert params == {"filePath": str(project / "README.md")}
    await nv.lua(f"vim.api.nvim_win_set_cursor(0, {{ {src}, 0 }})")
    await nv.command("ClaudeCodeTreeAdd")
    assert (await cli.notification("at_mentioned"))["params"] == {"filePath": "src/"}
    # a Visual selection over both lines mentions both (the <cmd> map reads the mode)
    await nv.lua("vim.keymap.set('x', '<Space>at', '<Plug>(tclaude-tree-add)')")
    first, last = sorted((src, readme))
    await nv.input(f"{first}GV{last}G<Space>at")
    got = {(await cli.notification("at_mentioned"))["params"]["filePath"] for _ in range(2)}
    assert got == {"src/", str(project / "README.md")}
    await nv.wait_lua("return vim.fn.mode() == 'n'")
    # moving about the listing (past the debounce) shares no selection of the directory
    await nv.lua(f"vim.api.nvim_win_set_cursor(0, {{ {readme}, 0 }})")
    await asyncio.sleep(0.3)
    await nv.command("TClaudeAdd src/app.py")  # a marker after the debounce
    await cli.notification("at_mentioned")
    shared = [
        n["params"]["filePath"] for n in cli.notifications if n["method"] == "selection_changed"
    ]
    assert str(project) not in shared and str(project) + "/" not in shared


STAND_INS = {
    "oil": """
      package.loaded['oil'] = {
        get_current_dir = function(buf)
          assert(buf == vim.api.nvim_get_current_buf())
          return ROOT .. '/'
        end,
        get_cursor_entry = function() return { name = 'src', type = 'directory' } end,
        get_entry_on_line = function(buf, line)
          return ({ { name = '..', type = 'directory' }, { name = 'README.md', type = 'file' },
                    { name = 'src', type = 'directory' } })[line]
        end,
      }
    """,
    "NvimTree": """
      local marks = {}
      package.loaded['nvim-tree.api'] = {
        marks = { list = function() return marks end },
        tree = { get_node_under_cursor = function()
          local line = vim.api.nvim_win_get_cursor(0)[1]
          return ({ { name = '..', absolute_path = ROOT },
                    { absolute_path = ROOT .. '/README.md', type = 'file' },
                    { absolute_path = ROOT .. '/src', type = 'directory' } })[line]
        end },
      }
      _G.set_marks = function(m) marks = m end
    """,
    "neo-tree": """
      local nodes = { { type = 'message', path = '' },
                      { type = 'file', path = ROOT .. '/README.md' },
                      { type = 'directory', path = ROOT .. '/src' } }
      local tree = {}
      function tree:get_node(line) return nodes[line or vim.api.nvim_win_get_cursor(0)[1]] end
      package.loaded['neo-tree.sources.manager'] = {
        get_state = function(source) assert(source == 'filesystem'); return { tree = tree } end,
      }
    """,
    "minifiles": """
      package.loaded['mini.files'] = {
        get_fs_entry = function(buf, line)
          line = line or vim.api.nvim_win_get_cursor(0)[1]
          return ({ false, { fs_type = 'file', path = ROOT .. '/README.md' },
                    { fs_type = 'directory', path = ROOT .. '/src' } })[line]
        end,
      }
    """,
    "snacks_picker_list": """
      local picker = { list = { win = { win = vim.api.nvim_get_current_win() } } }
      function picker:selected(opts)
        assert(opts.fallback)
        return { { file = 'README.md', cwd = ROOT }, { file = ROOT .. '/src', dir = true } }
      end
      local function get(opts) assert(opts.tab); return { picker } end
      package.loaded['snacks'] = { picker = { get = get } }
    """,
}


@pytest.mark.parametrize("filetype", sorted(STAND_INS))
async def test_explorer_adapters_against_stand_ins(
    filetype: str, project: Path, nvim: NvimFactory
) -> None:
    nv = await nvim(project, {"auto_attach": False})
    await nv.lua(f"ROOT = {str(project)!r}\n" + STAND_INS[filetype])
    await nv.lua(
        "vim.cmd('enew'); vim.api.nvim_buf_set_lines(0, 0, -1, false, { 'a', 'b', 'c' }); "
        "vim.bo.buftype = 'nofile'; vim.bo.filetype = ...; "
        "vim.api.nvim_win_set_cursor(0, { 3, 0 })",
        filetype,
    )
    paths = "return { require('tclaude.explorer').paths(0, ...) }"
    readme, src = str(project / "README.md"), str(project / "src") + "/"
    if filetype == "snacks_picker_list":  # its own multi-selection (Tab), not lines
        assert await nv.lua(paths) == [[readme, src]]
        return
    assert await nv.lua(paths) == [[src]]  # the entry under the cursor
    assert await nv.lua(paths, 1, 3) == [[readme, src]]  # a range: "..", messages skipped
    if filetype == "NvimTree":  # marks win over the cursor
        await nv.lua("set_marks({ { absolute_path = ROOT .. '/README.md', type = 'file' } })")
        assert await nv.lua(paths) == [[readme]]


async def test_tree_add_outside_an_explorer_says_so(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    _, nv = await paired(project, host, nvim)
    await nv.command("edit README.md")
    await nv.command("TClaudeTreeAdd")
    message = (await nv.messages())[-1]
    assert message.startswith("tclaude: not a file explorer (NvimTree, minifiles, neo-tree, netrw")


async def test_close_all_diffs_rejects_each(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim)
    first, _ = await open_diff(cli, nv, project / "src" / "app.py")
    second, tab2 = await open_diff(cli, nv, project / "README.md", "# new\n")
    await nv.command("ClaudeCodeCloseAllDiffs")
    assert texts(await cli.response(first))[0] == "DIFF_REJECTED"
    assert texts(await cli.response(second)) == ["DIFF_REJECTED", tab2]
    await nv.wait_lua("return #require('tclaude.diff').list() == 0")
    assert (await nv.messages())[-1] == "tclaude: closed 2 diff(s) (rejected)"
    await nv.command("TClaudeCloseAllDiffs")
    assert (await nv.messages())[-1] == "tclaude: no diffs open"


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ("--dangerously-skip-permissions", "not a claude option :TClaude passes on"),
        ("--model", "--model needs a value"),
        ("--model $(touch/x)", "bad value for --model"),
        ("--continue=yes", "--continue takes no value"),
    ],
)
async def test_tclaude_refuses_what_is_no_known_claude_option(
    args: str, error: str, project: Path, nvim: NvimFactory
) -> None:
    nv = await nvim(project, {"auto_attach": False, "cmd": "/nonexistent/tclaude"})
    await nv.command(f"TClaude {args}")
    messages = await nv.messages()
    assert len(messages) == 1 and error in messages[0], messages  # nothing was run


async def checkhealth(nv: Nvim) -> str:
    await nv.command("checkhealth tclaude")
    report: str = await nv.lua(
        "return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\\n')"
    )
    return report


async def test_checkhealth_reports_the_claude_cli(
    project: Path, tmp_path: Path, nvim: NvimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = fake_claude(tmp_path / "bin", "2.1.332 (Claude Code)")
    monkeypatch.setenv("TCLAUDE_CLAUDE_COMMAND", str(script))  # Neovim inherits it
    report = await checkhealth(await nvim(project, {"cmd": TCLAUDE, "auto_attach": False}))
    assert f"OK claude found: {script} (2.1.332 (Claude Code))" in report, report
    assert "OK Claude Code 2.1.332 (supported " in report

    monkeypatch.setenv("TCLAUDE_CLAUDE_COMMAND", str(tmp_path / "nowhere" / "claude"))
    report = await checkhealth(await nvim(project, {"cmd": TCLAUDE, "auto_attach": False}))
    assert f"WARNING claude: '{tmp_path / 'nowhere' / 'claude'}' not found" in report, report
    assert "set `claude_command`" in report
    assert "OK Claude Code" not in report


def test_the_shipped_help_tags_are_fresh(tmp_path: Path) -> None:
    """`:help tclaude` works without :helptags: nvim/doc/tags ships and matches the help."""
    shipped = Path(PLUGIN) / "doc" / "tags"
    copy = tmp_path / "doc"
    copy.mkdir()
    shutil.copy(Path(PLUGIN) / "doc" / "tclaude.txt", copy)
    subprocess.run(
        [NVIM, "--headless", "--clean", "-c", f"helptags {copy}", "-c", "qa!"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    assert shipped.read_text(encoding="utf-8") == (copy / "tags").read_text(encoding="utf-8"), (
        "nvim/doc/tags is stale: nvim --headless -c 'helptags nvim/doc' -c q"
    )


async def test_help_works_without_helptags(project: Path, tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    shutil.copytree(PLUGIN, plugin)  # as installed: the shipped tags, no :helptags run
    out = subprocess.run(
        [NVIM, "--headless", "--clean", "--cmd", f"set rtp^={plugin}", "-c", "help tclaude",
         "-c", "help :TClaudeTreeAdd", "-c", "echo expand('%:t') getline('.')", "-c", "qa!"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "E149" not in out.stderr, out.stderr
    assert "tclaude.txt" in out.stderr and "*:TClaudeTreeAdd*" in out.stderr
