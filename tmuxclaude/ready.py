"""Waiting for a host to be ready without polling its files: a FIFO it writes to.

The waiter creates the FIFO and opens it read-write (so the open never
blocks and the host's non-blocking open for writing finds a reader), then
blocks in ``select`` until the host writes its one JSON line.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import time
from collections.abc import Callable
from typing import Any

from .errors import HostStartError


class ReadyFifo:
    """A FIFO to hand to ``tclaude host --ready-fifo``; remove it when done."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.mkfifo(path, 0o600)
        self._fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)

    def wait(
        self,
        timeout: float,
        still_starting: Callable[[], bool] | None = None,
        check_every: float = 0.5,
    ) -> dict[str, Any]:
        """The host's ready message; HostStartError on its error, death or timeout.

        ``still_starting`` is asked every ``check_every`` seconds while
        nothing has arrived; returning False means the host is gone.
        """
        deadline = time.monotonic() + timeout
        buffer = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise HostStartError(f"the instance host was not ready within {timeout:.0f} s")
            readable, _, _ = select.select([self._fd], [], [], min(left, check_every))
            if readable:
                try:
                    buffer += os.read(self._fd, 65536)
                except BlockingIOError:
                    continue
                if b"\n" in buffer:
                    break
            elif still_starting is not None and not still_starting():
                raise HostStartError("the instance host exited before it was ready")
        message = json.loads(buffer.split(b"\n", 1)[0])
        if not isinstance(message, dict) or "error" in message:
            reason = message.get("error") if isinstance(message, dict) else message
            raise HostStartError(f"the instance host failed: {reason}")
        return message

    def close(self) -> None:
        os.close(self._fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    def __enter__(self) -> ReadyFifo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
