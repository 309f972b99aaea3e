"""Reaping the tests' private tmux servers, through libtmux.

libtmux is a test dependency only: its import (tens of ms) must land on no
command's start-up, so tclaude itself talks to tmux through ``tmuxclaude.tmux``
(see docs/architecture.md). Here it kills a server and removes its socket
file, which tmux 3.3 leaves behind after ``kill-server``.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from libtmux import Server
from libtmux.exc import LibTmuxException

# every socket a test makes starts with this (conftest.isolated_env); the
# session fixture reaps all of this run's at the end, whatever a test forgot
PREFIX = f"tclaude-test-{os.environ.get('TCLAUDE_TEST_RUN') or os.getpid()}-"


def socket_dir() -> Path:
    """Where tmux puts ``-L`` sockets for this user."""
    return Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / f"tmux-{os.getuid()}"


def reap(socket_name: str) -> None:
    """Kill the tmux server on ``socket_name`` (if alive) and unlink its socket file."""
    with contextlib.suppress(LibTmuxException, OSError):
        server = Server(socket_name=socket_name)
        if server.is_alive():
            server.kill()
    with contextlib.suppress(OSError):
        (socket_dir() / socket_name).unlink()


def leftovers(prefix: str = PREFIX) -> list[str]:
    """Socket names of this run still in the tmux socket dir."""
    try:
        return sorted(name for name in os.listdir(socket_dir()) if name.startswith(prefix))
    except OSError:
        return []
