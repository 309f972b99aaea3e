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
import re
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

POLL_INTERVAL = 1.0  # seconds between stats of the file while the state may need it
IDLE_POLL_INTERVAL = 5.0  # otherwise (most instances, most of the time, are idle)
MAX_BYTES = 64 * 1024  # a registry file is under 1 KB; anything far bigger is not one
STATUSES = frozenset({"idle", "busy", "waiting"})
_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


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
    if not (isinstance(session_id, str) and _UUID_RE.match(session_id)):
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
