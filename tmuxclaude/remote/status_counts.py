"""Remote instances in the local tmux status line: counts kept in global user options.

``watch-remotes`` keeps, on the tmux server it was started from, one global
user option per counted state: ``@tclaude-remote-waiting`` (and ``-limited``,
``-error``, ``-busy``, ``-done``: idle, not seen yet) holds one ``x`` per
instance in that state, summed over the remotes whose feed is connected and
heard within the remote's timeout (``Feed.live``: what ``list`` shows fresh). The
plugin's status-right counts add ``#{n:...}`` of them to the local panes'
(tmux/tclaude.tmux), so no process runs to draw them. They are set in one tmux
call, only when a value changed, and at most once per ``APPLY_EVERY`` (the
latest counts win: a remote flapping between states costs a few tmux calls a
second, not one per line), and unset when ``watch-remotes`` exits;
``@tclaude-remote-watcher`` holds its pid meanwhile.

It follows that server: once the server is gone (a cheap check every
``CHECK_EVERY`` seconds, no tmux process; or setting the options found no
server), ``follow`` returns and ``watch-remotes`` ends.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import TmuxError
from ..tmux import SERVER_GONE, Tmux
from .feed import Feed

logger = logging.getLogger(__name__)

COUNTED = ("waiting", "limited", "error", "busy", "done")  # as status-right counts them
WATCHER = "@tclaude-remote-watcher"
CHECK_EVERY = 2.0  # seconds between two checks that the tmux server is still there
APPLY_EVERY = 0.25  # seconds: the options are set at most this often
STALE_SLACK = 0.05  # seconds after a feed's due heartbeat before it is looked at again


def option(state: str) -> str:
    return f"@tclaude-remote-{state}"


def counts(feeds: Iterable[Feed], now: float | None = None) -> dict[str, int]:
    """Instances per counted state over the live feeds (a disconnected or silent one's are
    old); ``now`` is a ``time.time()``."""
    now = time.time() if now is None else now
    found = dict.fromkeys(COUNTED, 0)
    for feed in feeds:
        if not feed.live(now):
            continue
        for instance in feed.instances.values():
            state = instance.get("state")
            if state == "idle" and instance.get("unseen"):
                state = "done"
            if state in found:
                found[state] += 1
    return found


def option_commands(values: dict[str, int]) -> list[list[str]]:
    """Set each option to its count of ``x``; a zero is unset (``#{n:}`` of it is 0 too)."""
    return [
        ["set-option", "-g", option(state), "x" * values[state]]
        if values[state]
        else ["set-option", "-gu", option(state)]
        for state in COUNTED
    ]


@dataclass(frozen=True)
class Server:
    """A tmux server's process, told from a later process that got its pid."""

    pid: int
    started: str | None  # its start time in /proc (Linux), else None

    @classmethod
    def of(cls, tmux: Tmux) -> Server | None:
        """The server ``tmux`` talks to, or None when none answers."""
        try:
            pid = tmux.display("#{pid}").strip()
        except TmuxError:
            return None
        return cls(int(pid), _start_time(int(pid))) if pid.isdigit() else None

    def only(self, commands: list[list[str]]) -> list[str]:
        """``commands`` as one tmux call that runs them on this server only: a new server
        on the same socket (a restart) is left alone. Their words are option names, flags
        and runs of ``x``: nothing to quote."""
        text = " ; ".join(" ".join(command) for command in commands)
        return ["if-shell", "-F", f"#{{==:#{{pid}},{self.pid}}}", text]

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass  # there, as another user: not ours, but not gone either
        return self.started is None or _start_time(self.pid) == self.started


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) "
    return fields[19] if len(fields) > 19 else None


class StatusCounts:
    """Keeps the options of one tmux server equal to ``counts(feeds)``; see the module."""

    def __init__(self, tmux: Tmux, server: Server) -> None:
        self.tmux = tmux
        self.server = server
        self.feeds: list[Feed] = []
        self.applied = dict.fromkeys(COUNTED, 0)  # what the server holds (unset: 0)
        self.wanted = dict(self.applied)
        self._gone: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._stale_check: asyncio.TimerHandle | None = None

    @classmethod
    def start(cls, tmux: Tmux) -> StatusCounts | None:
        """Follow the server ``tmux`` talks to; None when no server answers (then there is
        no status line to keep, and nothing to follow)."""
        server = Server.of(tmux)
        if server is None:
            return None
        tmux.run(*server.only([["set-option", "-g", WATCHER, str(os.getpid())]]), check=False)
        return cls(tmux, server)

    @property
    def gone(self) -> asyncio.Event:
        if self._gone is None:
            self._gone = asyncio.Event()
        return self._gone

    def changed(self, feed: Feed) -> None:
        """A feed's ``changed`` callback: set the options if a count changed."""
        self.recount()

    def recount(self) -> None:
        """Set the options if a count changed (a feed's, or the set of feeds), and look
        again when the next counted feed would turn stale (its heartbeats call nobody)."""
        now = time.time()
        self.wanted = counts(self.feeds, now)
        loop = asyncio.get_running_loop()
        if self.wanted != self.applied and self._task is None:
            self._task = loop.create_task(self._apply())
        if self._stale_check is not None:
            self._stale_check.cancel()
            self._stale_check = None
        ends = [
            feed.contact + feed.stale_after
            for feed in self.feeds
            if feed.live(now) and feed.contact is not None and feed.stale_after is not None
        ]
        if ends:
            delay = max(0.0, min(ends) - now) + STALE_SLACK
            self._stale_check = loop.call_later(delay, self._look_again)

    def _look_again(self) -> None:
        self._stale_check = None
        self.recount()

    async def _apply(self) -> None:
        """Set the options until they are what is wanted: one tmux call at a time, then a
        pause of ``APPLY_EVERY`` in which changes only update what is wanted."""
        try:
            while self.wanted != self.applied and not self.gone.is_set():
                wanted = dict(self.wanted)
                try:
                    await asyncio.to_thread(
                        self.tmux.run, *self.server.only(option_commands(wanted))
                    )
                except TmuxError as err:
                    if any(sign in str(err) for sign in SERVER_GONE):
                        self.gone.set()
                    else:
                        logger.warning("status counts not set: %s", err)
                    return
                if not self.server.alive():
                    self.gone.set()  # the call reached a new server, and did nothing there
                    return
                self.applied = wanted
                await asyncio.sleep(APPLY_EVERY)
        finally:
            self._task = None

    async def follow(self) -> None:
        """Return once the server is gone."""
        while not self.gone.is_set():
            try:
                async with asyncio.timeout(CHECK_EVERY):
                    await self.gone.wait()
            except TimeoutError:
                if not self.server.alive():
                    self.gone.set()
        logger.info("tmux server %s gone", self.server.pid)

    def clear(self) -> None:
        """Unset the options (at exit), if the server is still there to hold them."""
        if not self.server.alive():
            return
        unset = [*option_commands(dict.fromkeys(COUNTED, 0)), ["set-option", "-gu", WATCHER]]
        self.tmux.run(*self.server.only(unset), check=False)


def served(tmux: Tmux) -> bool | None:
    """Whether a live ``watch-remotes`` keeps this server's options (its pid is in
    ``WATCHER``); None when no tmux server answers."""
    try:
        pid = tmux.run("show-options", "-gqv", WATCHER).strip()
    except TmuxError:
        return None
    if not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True
