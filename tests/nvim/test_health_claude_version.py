"""`:checkhealth tclaude` prints the Claude Code version and whether it is supported."""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

import pytest

from tests.cli.test_claude_version import fake_claude
from tests.nvim.conftest import NvimFactory

TCLAUDE = str(Path(sys.executable).parent / "tclaude")


class HealthCase(t.NamedTuple):
    test_id: str
    printed: str
    line: str


HEALTH_CASES = [
    HealthCase("supported", "2.1.332 (Claude Code)", "OK Claude Code 2.1.332 (supported 2.1.197"),
    HealthCase(
        "too-old", "2.0.14 (Claude Code)", "WARNING Claude Code 2.0.14 is older than the oldest"
    ),
]


@pytest.mark.parametrize("case", HEALTH_CASES, ids=[c.test_id for c in HEALTH_CASES])
async def test_checkhealth_reports_the_claude_version(
    case: HealthCase,
    project: Path,
    tmp_path: Path,
    nvim: NvimFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = fake_claude(tmp_path / "bin", case.printed)
    monkeypatch.setenv("TCLAUDE_CLAUDE_COMMAND", str(script))  # Neovim inherits it
    nv = await nvim(project, {"cmd": TCLAUDE})
    await nv.command("checkhealth tclaude")
    report = await nv.lua("return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\\n')")
    assert case.line in report, report
