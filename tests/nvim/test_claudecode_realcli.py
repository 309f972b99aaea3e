"""Mentions of directories, as the real Claude Code CLI shows them (see test_realcli.py).

The CLI (2.1.197, 2.1.332) shows "pkg/" and an absolute path of pkg alike as "@pkg", and
every form of its own directory ("./", ".", absolute, with or without "/") as a bare "@".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.nvim.conftest import NvimFactory
from tests.nvim.test_realcli import pair
from tests.support.cli_runner import Tclaude

pytestmark = [pytest.mark.realcli, pytest.mark.nvim]


async def test_directories_show_as_dir_slash_in_the_prompt(
    tclaude: Tclaude, real_env: Path, nvim: NvimFactory
) -> None:
    (real_env / "pkg").mkdir()
    p = await pair(tclaude, real_env, nvim)
    await p.nv.command("TClaudeAdd .")  # was a bare "@" ("./", as claudecode sends it, too)
    assert "not sent" in (await p.nv.messages())[-1]
    await p.nv.command("TClaudeAdd pkg")  # sent as "pkg/"
    screen = await p.wait_screen(r"@pkg")
    prompt = next(line for line in screen.splitlines() if line.startswith("❯"))
    assert prompt[1:].split() == ["@pkg"], prompt
