"""Claude Code's own session registry: ``$CLAUDE_CONFIG_DIR/sessions/<pid>.json``.

Every interactive CLI keeps one file there with its session id (new on
``/clear``) and a status (idle, busy, waiting). It is a second source of
truth beside the hooks, which stay the fast path: a permission rejected in
the terminal fires no hook, but the file says idle again. The file is
input: read bounded, validated, and only when its stat changes (one stat a
second per host).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..session_ids import is_session_id
from ..state_tracker import Change, StateTracker

logger = logging.getLogger(__name__)

POLL_INTERVAL = 1.0  # seconds between stats of the file while the state may need it
IDLE_POLL_INTERVAL = 5.0  # otherwise (most instances, most of the time, are idle)
MAX_BYTES = 64 * 1024  # a registry file is under 1 KB; anything far bigger is not one
STATUSES = frozenset({"idle", "busy", "waiting"})
#: States the registry may correct (its statuses, and the first one); not
#: error, stale or stopped, which say more than "idle".
CORRECTABLE = frozenset({"starting", "idle", "busy", "waiting"})
SESSION_GRACE = 3.0  # seconds the SessionStart hook has to report a new session id


@dataclass(frozen=True)
class RegistryEntry:
    """What the file says that tclaude uses; None for a field absent or invalid."""

    session_id: str | None
    status: str | None
    status_at: float | None  # when the status was set (seconds since the epoch)


def registry_path(config_dir: str, pid: int) -> str:
    return os.path.join(config_dir, "sessions", f"{pid}.json")


def parse(raw: bytes, pid: int) -> RegistryEntry | None:
    """The entry in ``raw``, or None when it is not the registry file of ``pid``."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("pid") != pid:
        return None
    session_id = data.get("sessionId")
    if not is_session_id(session_id):
        session_id = None
    status = data.get("status")
    if status not in STATUSES:
        status = None
    stamp = data.get("statusUpdatedAt", data.get("updatedAt"))
    status_at = None
    if isinstance(stamp, int | float) and not isinstance(stamp, bool) and 0 < stamp < 1e14:
        status_at = stamp / 1000.0
    return RegistryEntry(session_id, status if isinstance(status, str) else None, status_at)


def read(path: str, pid: int) -> RegistryEntry | None:
    """Read and parse the file; None when it is missing, not a regular file, or too big."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not _regular(fd):
            return None
        raw = os.read(fd, MAX_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return None if len(raw) > MAX_BYTES else parse(raw, pid)


def _regular(fd: int) -> bool:
    import stat

    return stat.S_ISREG(os.fstat(fd).st_mode)


async def watch(
    config_dir: str,
    pid: int,
    on_entry: Callable[[RegistryEntry], None],
    interval: Callable[[], float] = lambda: POLL_INTERVAL,
) -> None:
    """Call ``on_entry`` with each new version of ``pid``'s registry file, until cancelled.

    A version is new when the file's (mtime, size, inode) changes; an
    unparsable one is skipped (logged once per version). ``interval()`` is
    asked before each sleep.
    """
    path = registry_path(config_dir, pid)
    seen: tuple[int, int, int] | None = None
    while True:
        try:
            st = os.stat(path)
            stamp: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
        except OSError:
            stamp = None
        if stamp is not None and stamp != seen:
            seen = stamp
            entry = read(path, pid)
            if entry is None:
                logger.info("claude session registry %s unreadable; ignored", path)
            else:
                try:
                    on_entry(entry)
                except Exception:  # the registry is a cross-check: never die for it
                    logger.warning("claude session registry entry not applied", exc_info=True)
        await asyncio.sleep(interval())


class CrossCheck:
    """What the registry may change, given what the hooks said and when.

    A registry status counts only when it was set after the last hook
    arrived (hooks are the fast path); a session id only when no hook
    reported a session within ``SESSION_GRACE`` (the hook also carries the
    source and the transcript).
    """

    def __init__(
        self,
        tracker: StateTracker,
        apply: Callable[[Change], None],
        record_session: Callable[[str], None],
    ) -> None:
        self.tracker = tracker
        self.apply = apply
        self.record_session = record_session
        self.hook_at = 0.0  # when the last hook arrived (time.time())
        self.session_hook_at = 0.0  # when the last hook with a session id arrived
        self.registry_session_id: str | None = None  # the last one the registry showed

    def hook_seen(self, change: Change) -> None:
        """Note one hook (call it for every hook, after the tracker took it)."""
        self.hook_at = time.time()
        if change.session_id is not None:
            self.session_hook_at = self.hook_at

    def poll_interval(self) -> float:
        """Often only while a missed hook would leave a wrong state."""
        return POLL_INTERVAL if self.tracker.state in ("busy", "waiting") else IDLE_POLL_INTERVAL

    def on_entry(self, entry: RegistryEntry) -> None:
        if entry.session_id is not None:
            self.registry_session_id = entry.session_id
            if entry.session_id != self.tracker.session_id:
                asyncio.get_running_loop().call_later(
                    SESSION_GRACE, self._session, entry.session_id, time.time()
                )
        newer = entry.status_at is not None and entry.status_at > self.hook_at
        if entry.status is not None and newer and self.tracker.state in CORRECTABLE:
            change = self.tracker.observe(entry.status)
            if change.state is not None:
                logger.info("state %s from claude's registry", change.state)
                self.apply(change)

    def _session(self, session_id: str, seen_at: float) -> None:
        if session_id == self.tracker.session_id or session_id != self.registry_session_id:
            return  # known already, or the registry has moved on since
        if self.session_hook_at >= seen_at:
            return  # a hook reported a session since: hooks win
        logger.info("session id %s from claude's registry", session_id)
        self.tracker.session_id = session_id
        self.record_session(session_id)

    async def watch(self, config_dir: str, pid: int) -> None:
        """Watch ``pid``'s registry file until cancelled (see ``watch``)."""
        await watch(config_dir, pid, self.on_entry, self.poll_interval)
