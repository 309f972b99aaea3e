"""A running ``tclaude watch --json`` and its lines, for the tests."""

from __future__ import annotations

import asyncio
import json
import os
import queue
import subprocess
import sys
import threading
import time
from typing import Any


class WatchStream:
    """``tclaude watch --json`` as a child; its lines are read by a thread."""

    def __init__(self, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tmuxclaude", "watch", "--json", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        self.lines: queue.Queue[bytes] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self._stopped: tuple[int, str] | None = None
        self.synced_event: dict[str, Any] | None = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.put(raw)

    async def next(self, kind: str, timeout: float = 15, **match: Any) -> dict[str, Any]:
        """The next event of type ``kind`` whose fields equal ``match`` (others are kept)."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.seen:
                if event["type"] == kind and all(event.get(k) == v for k, v in match.items()):
                    self.seen.remove(event)
                    return event
            try:
                raw = await asyncio.to_thread(self.lines.get, True, 0.2)
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise AssertionError(f"no {kind} {match}; seen: {self.seen}") from None
                continue
            self.seen.append(json.loads(raw))

    async def synced(self) -> list[dict[str, Any]]:
        """The snapshot events, once ``synced`` has come."""
        done = await self.next("synced")
        self.synced_event = done
        snapshot = [e for e in self.seen if e["type"] == "snapshot"]
        assert len(snapshot) == done["count"]
        for event in snapshot:
            self.seen.remove(event)
        return snapshot

    def stop(self) -> tuple[int, str]:
        """SIGTERM; the exit status and what it wrote on stderr (idempotent)."""
        if self._stopped is not None:
            return self._stopped
        if self.proc.poll() is None:
            self.proc.terminate()
        code = self.proc.wait(10)
        assert self.proc.stderr is not None
        err = self.proc.stderr.read().decode()
        self.proc.stderr.close()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self._stopped = (code, err)
        return self._stopped
