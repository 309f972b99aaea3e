"""The files a remote's feed keeps, read without the feed's asyncio (``list`` reads them).

``<state dir>/remotes/<remote>.feed.json``: what the feed knows of the remote
(remote/feed.py writes it); ``<runtime dir>/watch-remotes.lock``: held while
``watch-remotes`` runs, so that a reader can tell a kept file from a left one.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .. import paths

CACHE_VERSION = 1
RETRY_CAP = 30.0  # seconds: the longest wait of a feed before it tries its remote again


def cache_path(remote: str) -> str:
    """The feed's cache; ``<remote>.json`` beside it is list's own (remote/listing.py)."""
    return os.path.join(paths.state_dir(), "remotes", f"{remote}.feed.json")


def read_cache(remote: str) -> dict[str, Any] | None:
    """The cached view of ``remote`` (see ``Feed._save``), or None when there is none."""
    try:
        with open(cache_path(remote), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == CACHE_VERSION else None


def lock_path() -> str:
    return os.path.join(paths.runtime_dir(), "watch-remotes.lock")


def running() -> bool:
    """True while a ``watch-remotes`` holds its lock (so the feed caches are kept current)."""
    import fcntl

    try:
        fd = os.open(lock_path(), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        if os.fstat(fd).st_uid != os.getuid():
            return False  # not a lock of ours: nobody keeps the caches
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing drops the shared lock we may have taken
    return False
