"""Knowing that a ``tclaude wait`` is blocked in tmux, without sleeping and hoping."""

from __future__ import annotations

import os
import time


def blocked_on(instance_id: str, timeout: float = 30) -> None:
    """Return once a ``tmux wait-for tclaude-ID`` runs (a waiter in its loop), on any machine
    of this box; AssertionError after ``timeout`` (a hang guard)."""
    channel = f"tclaude-{instance_id}".encode()
    deadline = time.monotonic() + timeout
    while True:
        for pid in os.listdir("/proc"):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    argv = handle.read().split(b"\0")
            except OSError:
                continue
            if b"wait-for" in argv and channel in argv:
                return
        assert time.monotonic() < deadline, f"no tclaude wait blocked on {instance_id}"
        time.sleep(0.05)
