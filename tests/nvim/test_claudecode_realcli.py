"""Mentions of directories, as the real Claude Code CLI shows them (see test_realcli.py)."""

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
    await p.nv.command("TClaudeAdd pkg")
    await p.wait_screen(r"@pkg/")
    await p.nv.command("TClaudeAdd .")  # was a bare "@"
    await p.wait_screen(r"@\./")
