"""The feeds ``watch-remotes`` runs, one per configured remote, following config.toml.

``tclaude remote add`` and ``remote remove`` (or an edit of config.toml) change
the remotes while ``watch-remotes`` runs: every ``CHECK_EVERY`` seconds the
file's stat is compared (no parsing while it is unchanged), and on a change the
set is brought to what the config says: a new remote gets a feed, a removed one's
feed is stopped, its cache removed and its master connection closed (``remote
remove`` did both already, but the stopping feed's last write and its restarts
must not bring them back), a remote whose ssh changed
is restarted (and when the machine changed, its control path says so, what the
old machine's feed and list cached is removed: it is no longer that remote's;
the new argv's ssh settings told the old master to stop). A config that does
not load leaves the feeds as they are (one warning in the log).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable

from .. import paths
from .feed import Feed
from .feed_cache import cache_path
from .listing import cache_path as list_cache_path
from .ssh import Remote, close

logger = logging.getLogger(__name__)

CHECK_EVERY = 2.0  # seconds between two looks at config.toml's stat

MakeFeed = Callable[[str, list[str]], Feed]
Wanted = Callable[[], dict[str, list[str]]]  # remote name -> its watch argv, from the config


class FeedSet:
    """Running feeds by remote name; ``on_change`` is told after the set changed."""

    def __init__(self, make: MakeFeed, on_change: Callable[[list[Feed]], None] | None = None):
        self.make = make
        self.on_change = on_change
        self.feeds: dict[str, Feed] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    def start(self, name: str, argv: list[str]) -> None:
        feed = self.make(name, argv)
        self.feeds[name] = feed
        self.tasks[name] = asyncio.get_running_loop().create_task(feed.run())

    async def stop(self, name: str, *, forget: bool = False, moved: bool = False) -> None:
        """Stop ``name``'s feed; ``forget``: remove its cache and end its connections too
        (the remote is gone); ``moved``: remove its caches (another machine is ``name`` now)."""
        self.feeds.pop(name, None)
        task = self.tasks.pop(name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if moved:
            for cached in (cache_path(name), list_cache_path(name)):
                paths.remove_quietly(cached)
        if forget:
            paths.remove_quietly(cache_path(name))
            # the feed's restarts may have made a master again since remote remove closed it;
            # close ends every master of the name, whatever settings made it
            await asyncio.to_thread(close, Remote(name, ssh=name))

    async def sync(self, wanted: dict[str, list[str]]) -> None:
        """Make the running feeds those of ``wanted``."""
        changed = False
        for name in list(self.feeds):
            if name not in wanted:
                await self.stop(name, forget=True)
                changed = True
            elif self.feeds[name].argv != wanted[name]:
                moved = _machine(self.feeds[name].argv) != _machine(wanted[name])
                await self.stop(name, moved=moved)
                changed = True
        for name, argv in wanted.items():
            if name not in self.feeds:
                self.start(name, argv)
                changed = True
        if changed and self.on_change is not None:
            self.on_change(list(self.feeds.values()))

    async def stop_all(self) -> None:
        for name in list(self.feeds):
            await self.stop(name)

    async def follow(self, watched: Callable[[], list[str]], wanted: Wanted) -> None:
        """Until cancelled: ``sync`` with ``wanted()`` whenever a file of ``watched()`` (the
        config, the remotes' ssh config files) changes."""
        seen = [_stamp(path) for path in watched()]
        while True:
            await asyncio.sleep(CHECK_EVERY)
            stamp = [_stamp(path) for path in watched()]
            if stamp == seen:
                continue
            seen = stamp
            try:
                now = await asyncio.to_thread(wanted)
            except Exception as exc:  # a broken config: keep what runs
                logger.warning("config not reloaded, the feeds stay as they are: %s", exc)
                continue
            await self.sync(now)


def _machine(argv: list[str]) -> str | None:
    """The control path an ssh argv names (it carries a digest of what selects the
    machine: see ssh.control_path), or None (a ``--feed`` command of its own)."""
    return next((word for word in argv if word.startswith("ControlPath=")), None)


def _stamp(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size
