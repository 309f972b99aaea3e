"""Telling the user that an instance needs them or is done.

Once per transition into ``waiting``, ``limited``, ``idle`` (turn done) or ``error``,
and only when the user is not already looking at the instance's pane
(errors always). Ways, from the ``notify`` setting: ``message`` (tmux
display-message on every client), ``bell`` and ``osc777`` (written to each
client's terminal, so they reach the outer terminal), ``notify-send``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil

from ..tmux import Tmux

logger = logging.getLogger(__name__)

MESSAGES = {
    "waiting": "needs you",
    "limited": "hit a rate or usage limit",
    "idle": "is done",
    "error": "failed",
    "stale": "lost its directory",
}
SEP = "\t"


async def _tmux(tmux: Tmux, *args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *tmux.argv(*args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    out, _ = await proc.communicate()
    return out.decode(errors="replace")


class Attention:
    def __init__(self, pane: str | None, name: str, methods: list[str]) -> None:
        self.pane = pane
        self.name = name
        self.methods = methods
        self._tmux: Tmux | None = None

    async def notify(self, state: str) -> None:
        """Notify about a transition into ``state`` (never raises)."""
        if state not in MESSAGES or not self.methods:
            return
        try:
            await self._notify(state)
        except Exception:  # a notification must never take the host down
            logger.warning("notification failed", exc_info=True)

    async def _notify(self, state: str) -> None:
        text = f"tclaude: {self.name} {MESSAGES[state]}"
        clients: list[tuple[str, str]] = []
        if self.pane is not None:
            if self._tmux is None:
                self._tmux = Tmux(None)
            fmt = SEP.join(["#{client_name}", "#{client_tty}", "#{pane_id}"])
            out = await _tmux(self._tmux, "list-clients", "-F", fmt)
            rows = [line.split(SEP) for line in out.splitlines() if line.count(SEP) == 2]
            if state != "error" and any(pane == self.pane for _, _, pane in rows):
                return  # someone is looking at it
            clients = [(name, tty) for name, tty, _ in rows]
        if "message" in self.methods and clients and self._tmux is not None:
            args: list[str] = []
            for name, _ in clients:
                args += [
                    *([";"] if args else []),
                    "display-message",
                    "-c",
                    name,
                    "-d",
                    "5000",
                    text.replace("#", "##"),
                ]
            await _tmux(self._tmux, *args)
        for _, tty in clients:
            if "bell" in self.methods:
                _write_tty(tty, b"\a")
            if "osc777" in self.methods:
                _write_tty(tty, f"\x1b]777;notify;tclaude;{text}\x07".encode())
        if "notify-send" in self.methods and shutil.which("notify-send"):
            proc = await asyncio.create_subprocess_exec("notify-send", "tclaude", text)
            await proc.wait()


def _write_tty(tty: str, data: bytes) -> None:
    with contextlib.suppress(OSError), open(tty, "wb", buffering=0) as handle:
        handle.write(data)
