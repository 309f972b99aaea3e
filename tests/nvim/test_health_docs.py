"""`:checkhealth tclaude` and the help file."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.nvim.conftest import PLUGIN, HostFactory, NvimFactory

TCLAUDE = str(Path(sys.executable).parent / "tclaude")
COMMANDS = [
    "TClaude",
    "TClaudeNew",
    "TClaudeList",
    "TClaudeSwitch",
    "TClaudeKill",
    "TClaudeSend",
    "TClaudeAdd",
    "TClaudeTreeAdd",
    "TClaudeSendText",
    "TClaudeSelectModel",
    "TClaudeCloseAllDiffs",
    "TClaudeDiffAccept",
    "TClaudeDiffDeny",
    "TClaudeStatus",
]


async def test_checkhealth_reports_programs_and_instances(
    project: Path, tmp_path: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc, _ = await host(project, name="api")
    other, _ = await host(elsewhere, name="docs")
    nv = await nvim(project, {"cmd": TCLAUDE})
    await nv.wait_attached([proc.ready["id"]])
    await nv.command("checkhealth tclaude")
    report = await nv.lua("return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\\n')")
    assert re.search(r"OK Neovim version 0\.\d+\.\d+", report)
    assert f"OK tclaude found: {TCLAUDE}" in report
    if shutil.which("tmux"):
        assert "OK tmux found" in report
    assert "not inside tmux" in report
    assert f"instance api ({proc.ready['id']}) in {project}" in report
    assert f"instance docs ({other.ready['id']}) in {elsewhere}" in report
    assert f"OK attached to api ({proc.ready['id']}), idle, paired" in report
    assert "ERROR" not in report


async def test_checkhealth_without_cli_warns(project: Path, nvim: NvimFactory) -> None:
    nv = await nvim(project, {"cmd": "/nonexistent/tclaude"})
    await nv.command("checkhealth tclaude")
    report = await nv.lua("return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\\n')")
    assert "WARNING tclaude not found" in report
    assert "no instances running" in report


async def test_help_tags_are_valid(tmp_path: Path, project: Path, nvim: NvimFactory) -> None:
    copy = tmp_path / "plugin-copy"
    shutil.copytree(PLUGIN, copy)
    nv = await nvim(project, {"auto_attach": False})
    await nv.command(f"helptags {copy / 'doc'}")  # raises on a duplicate tag
    tags = (copy / "doc" / "tags").read_text(encoding="utf-8")
    names = [line.split("\t")[0] for line in tags.splitlines()]
    assert len(names) == len(set(names))
    for tag in ["tclaude", "tclaude-install", "tclaude.setup()", *(":" + c for c in COMMANDS)]:
        assert tag in names, tag
    # every |link| in the file points at a tag of this file or of Neovim's own help
    await nv.command(f"set runtimepath^={copy}")
    text = (copy / "doc" / "tclaude.txt").read_text(encoding="utf-8")
    for link in sorted(set(re.findall(r"\|([^|\s]+)\|", text))):
        await nv.command(f"help {link}")
    await nv.command("help tclaude")
    assert await nv.lua("return vim.fn.expand('%:t')") == "tclaude.txt"
    for command in COMMANDS:
        await nv.command(f"help :{command}")
        line = await nv.lua("return vim.api.nvim_get_current_line()")
        assert f"*:{command}*" in line


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_documented_with_an_example(command: str) -> None:
    text = (Path(PLUGIN) / "doc" / "tclaude.txt").read_text(encoding="utf-8")
    section = text.split(f"*:{command}*", 1)[1].split("\n\n", 2)
    assert "Example:" in "\n".join(section[:2])
    docs = (Path(PLUGIN).parent / "docs" / "neovim.md").read_text(encoding="utf-8")
    assert f"`:{command}" in docs or f"`:[range]{command}" in docs
