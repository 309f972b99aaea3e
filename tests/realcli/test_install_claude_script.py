"""``scripts/install-claude``: versions side by side, idempotent, bad input refused.

No npm here: the cache is seeded with stand-ins that report their version,
which is all the script checks before it would install.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.real_claude import CLAUDE_VERSIONS
from tmuxclaude import claude_version

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "install-claude"


def _seed(cache: Path, version: str) -> Path:
    binary = cache / f"claude-code-{version}" / "node_modules" / ".bin" / "claude"
    binary.parent.mkdir(parents=True)
    binary.write_text(f"#!/bin/sh\necho '{version} (Claude Code)'\n")
    binary.chmod(0o755)
    return binary


def _run(cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TCLAUDE_TEST_CACHE": str(cache), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_the_pinned_versions_are_the_supported_range() -> None:
    assert CLAUDE_VERSIONS == (claude_version.OLDEST, claude_version.NEWEST)
    text = SCRIPT.read_text()
    assert f'pinned=("{claude_version.OLDEST}" "{claude_version.NEWEST}")' in text


def test_installed_versions_are_printed_one_a_line_without_npm(tmp_path: Path) -> None:
    bins = [_seed(tmp_path, v) for v in CLAUDE_VERSIONS]
    out = _run(tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [str(b) for b in bins]
    one = _run(tmp_path, CLAUDE_VERSIONS[-1])
    assert one.stdout.splitlines() == [str(bins[-1])]


def test_a_bad_version_is_one_line_and_nothing_runs(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    out = _run(cache, "2.1.332", "2.1.332; rm -rf ~")
    assert out.returncode == 1
    assert out.stdout == ""
    assert out.stderr.splitlines() == [
        "install-claude: not a version: '2.1.332; rm -rf ~' (expected X.Y.Z, e.g. 2.1.332)"
    ]
    assert not cache.exists()  # not even the first, valid one was installed
