"""A process on a pty of its own, as in a terminal emulator: a tmux client to drive."""

from __future__ import annotations

import os
import pty
import subprocess
import threading


class Terminal:
    """A process on a pty of its own (a terminal emulator's), its output drained."""

    def __init__(self, argv: list[str]) -> None:
        master, slave = pty.openpty()
        env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        self.proc = subprocess.Popen(
            argv,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color"},
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                if not os.read(self.master, 65536):
                    return
            except OSError:
                return

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        os.close(self.master)
        self._reader.join(timeout=5)
