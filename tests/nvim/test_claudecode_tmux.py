"""claudecode.nvim's commands that start claude or type into it, through the real `tclaude`
on the test's private tmux: `:ClaudeCode --resume`, `:ClaudeCodeSelectModel`, SendText."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.nvim.conftest import Nvim, NvimFactory
from tests.nvim.test_commands import TCLAUDE
from tests.nvim.test_commands import private_tmux as private_tmux  # the fixture

# a child that echoes each line it reads shows what was typed and whether Enter came
ECHO = "sh -c 'while IFS= read -r line; do echo \"got:$line\"; done'"


def tmux(socket: str, *args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", socket, *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout


async def argv_of_claude(args_file: Path, nv: Nvim) -> list[str]:
    await nv.wait_lua(f"return vim.fn.filereadable({str(args_file)!r}) == 1", 30)
    deadline = time.monotonic() + 30
    while True:  # the file may be caught half written
        try:
            argv: list[str] = json.loads(args_file.read_text(encoding="utf-8"))["argv"]
            return argv
        except ValueError:
            assert time.monotonic() < deadline
            time.sleep(0.05)


async def message_with(nv: Nvim, text: str) -> str:
    await nv.wait_lua(
        "for _, m in ipairs(_G.tclaude_messages) do if m.msg:find(..., 1, true) then "
        "return true end end",
        30,
        text,
    )
    return next(m for m in await nv.messages() if text in m)


@pytest.mark.usefixtures("private_tmux")
async def test_claude_options_start_claude_with_them(
    project: Path, tmp_path: Path, nvim: NvimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    args_file = tmp_path / "args.json"
    monkeypatch.setenv("FAKE_CLAUDE_ARGS_FILE", str(args_file))  # Neovim, tclaude, tmux inherit it
    nv = await nvim(project, {"cmd": TCLAUDE, "claudecode_aliases": True})
    await nv.lua(
        "vim.ui.select = function(items, opts, on_choice) "
        "for _, m in ipairs(items) do if m.value == 'sonnet' then return on_choice(m) end end end"
    )
    await nv.command("ClaudeCodeSelectModel")  # no instance yet: one starts with --model
    argv = await argv_of_claude(args_file, nv)
    assert argv[argv.index("--model") + 1] == "sonnet"
    await nv.wait_lua("return #require('tclaude').attached() == 1", 30)

    # running: the options cannot apply, and it says so
    await nv.command("ClaudeCode --continue")
    warning = await message_with(nv, "--continue not applied")
    assert warning.startswith("tclaude: project is running: ")
    assert len(await nv.lua("return require('tclaude.discovery').scan()")) == 1

    await nv.command("TClaudeKill all")
    await nv.wait_lua("return #require('tclaude.discovery').scan() == 0", 30)
    args_file.unlink()
    await nv.command("ClaudeCode --resume")  # claudecode's README keymap <leader>ar
    argv = await argv_of_claude(args_file, nv)
    assert "--resume" in argv and "--model" not in argv
    await nv.wait_lua("return #require('tclaude').attached() == 1", 30)
    errors = await nv.lua(
        "return vim.tbl_filter(function(m) return m.level >= vim.log.levels.ERROR end, "
        "_G.tclaude_messages)"
    )
    assert errors == []


async def test_send_text_and_select_model_type_into_the_prompt(
    project: Path, private_tmux: str, nvim: NvimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TCLAUDE_CLAUDE_COMMAND", ECHO)
    made = subprocess.run(
        [TCLAUDE, "new", "--cwd", str(project), "--detached", "--json"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    pane = json.loads(made.stdout)["pane"]
    tmux(private_tmux, "set-option", "-p", "-t", pane, "@tclaude-state", "idle")  # no hooks
    nv = await nvim(project, {"cmd": TCLAUDE, "claudecode_aliases": True})
    await nv.wait_lua("return #require('tclaude').attached() == 1", 30)

    def screen() -> str:
        return tmux(private_tmux, "capture-pane", "-p", "-J", "-t", pane)

    async def typed(text: str) -> None:
        deadline = time.monotonic() + 30
        while text not in screen():
            assert time.monotonic() < deadline, screen()
            await nv.lua("vim.wait(50)")

    await nv.lua(
        "_G.sent = {} vim.api.nvim_create_autocmd('User', { pattern = 'TClaudeSendComplete', "
        "callback = function(a) table.insert(_G.sent, a.data) end })"
    )
    await nv.command("TClaudeSendText! hello there")
    await typed("got:hello there")
    await nv.wait_lua("return #_G.sent == 1")
    sent = (await nv.lua("return _G.sent"))[0]
    assert (sent["text"], sent["submitted"]) == ("hello there", True)
    await nv.command("TClaudeSendText --submit by flag")
    await typed("got:by flag")
    await nv.command("ClaudeCodeSendText from the alias")  # claudecode's: submits unless !
    await typed("got:from the alias")
    await nv.lua(
        "vim.ui.select = function(items, opts, on_choice) "
        "for _, m in ipairs(items) do if m.value == 'haiku' then return on_choice(m) end end end"
    )
    await nv.command("TClaudeSelectModel")  # running: /model to it
    await typed("got:/model haiku")
    await nv.command("TClaudeSendText typed only")
    await message_with(nv, "typed into project")
    assert "typed only" in screen() and "got:typed only" not in screen()

    tmux(private_tmux, "set-option", "-p", "-t", pane, "@tclaude-state", "waiting")
    await nv.command("TClaudeSendText! 1")  # would answer a prompt: refused, as tclaude send does
    refused = await message_with(nv, "is waiting")
    assert "nothing was typed" in refused and "Traceback" not in refused
    assert "got:" + "typed only1" not in screen()
