"""A private tmux server per test and a way to run the real ``tclaude`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest


@dataclass
class Tclaude:
    """Runs ``python -m tmuxclaude`` as a user would, against the test's tmux socket."""

    socket: str

    def run(
        self,
        *args: str,
        check: bool = True,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "tmuxclaude", *args],
            capture_output=True,
            text=True,
            check=False,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            timeout=60,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"tclaude {' '.join(args)} exited {proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    def json(self, *args: str, cwd: str | None = None) -> Any:
        return json.loads(self.run(*args, "--json", cwd=cwd).stdout)

    def tmux(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=False
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)}: {proc.stderr}")
        return proc.stdout


@pytest.fixture
def tclaude(isolated_env: dict[str, str]) -> Iterator[Tclaude]:
    runner = Tclaude(isolated_env["TCLAUDE_TMUX_SOCKET"])
    yield runner
    runner.run("kill", "--all", check=False)
    runner.tmux("kill-server", check=False)
