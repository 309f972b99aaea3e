"""Run the real ``tclaude`` command against the test's private tmux server."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any


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

    def kill_server(self) -> None:
        """Kill the tmux server and wait until it has gone (its socket refuses)."""
        self.tmux("kill-server", check=False)
        deadline = time.monotonic() + 5
        while (
            subprocess.run(
                ["tmux", "-L", self.socket, "list-sessions"], capture_output=True, check=False
            ).returncode
            == 0
        ):
            assert time.monotonic() < deadline, "tmux server did not exit"
            time.sleep(0.02)
        with contextlib.suppress(OSError):  # tmux 3.3 leaves the socket file
            os.unlink(
                os.path.join(
                    os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}", self.socket
                )
            )
