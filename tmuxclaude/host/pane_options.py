"""The host's voice in tmux: the ``@tclaude-*`` options of its own pane.

tmux is the registry: ``tclaude list``, key bindings and status lines read
these options with no process of ours running. The pane is ``$TMUX_PANE``
and the server the one ``$TMUX`` names; outside tmux this does nothing.
Updates are queued and applied in order by one task; a burst of changes is
coalesced into one tmux call.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess

from ..tmux import Tmux, joined, pane_option_commands

logger = logging.getLogger(__name__)

UNSEEN = "@tclaude-unseen"
# 0 when an attached client shows the pane: a turn finishing there is seen already
# (tmux 3.3 has no #{!:...}); counted over all clients, as the pane's window may be
# shown in a view (views.py) while the session tmux picks for the pane is not attached
NOT_IN_VIEW = "#{?#{&&:#{pane_active},#{window_active_clients}},0,1}"


class PaneOptions:
    def __init__(self, channel: str | None = None) -> None:
        self.channel = channel  # `tmux wait-for -S` after each change, for `tclaude wait`
        self.pane = os.environ.get("TMUX_PANE") if os.environ.get("TMUX") else None
        self._tmux: Tmux | None = None
        self._pending: dict[str, str] = {}
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.pane is not None

    def _commands(self, options: dict[str, str]) -> list[list[str]]:
        assert self.pane is not None
        unseen = options.get(UNSEEN) == "1"
        if unseen:
            options = {k: v for k, v in options.items() if k != UNSEEN}
        commands = pane_option_commands(self.pane, options)
        if unseen:  # decided by tmux in this same call: no extra process
            set_unseen = f"set-option -p -t {self.pane} {UNSEEN} 1"
            commands.append(["if-shell", "-F", "-t", self.pane, NOT_IN_VIEW, set_unseen])
        if self.channel:
            commands.append(["wait-for", "-S", self.channel])
        return commands

    @property
    def tmux(self) -> Tmux:
        if self._tmux is None:
            self._tmux = Tmux(None)
        return self._tmux

    def set_now(self, options: dict[str, str]) -> None:
        """Set options before returning (used once, before the host reports ready)."""
        if not self.enabled:
            return
        try:
            self.tmux.sequence(self._commands(options), check=False, timeout=5)
        except (OSError, subprocess.SubprocessError) as exc:
            logger.warning("pane options not set: %s", exc)

    def set_later(self, options: dict[str, str]) -> None:
        """Queue options; the latest value of each key wins."""
        if not self.enabled:
            return
        self._pending.update(options)
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())
        assert self._wake is not None
        self._wake.set()

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            options, self._pending = self._pending, {}
            if not options:
                continue
            await self.tmux.run_async(*joined(self._commands(options)))

    async def flush(self) -> None:
        """Apply what is queued now (on the way out)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._pending:
            self.set_now(self._pending)
            self._pending = {}
