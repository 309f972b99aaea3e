"""Keep one status feed per remote running (``ssh REMOTE tclaude watch --json``):
remote instances cached for ``list``, the picker and the menu, counted in the
tmux status line, and announced here when they need you.

One per user (a lock in the runtime dir): a second one exits at once, and so
does one with no remotes. The tmux plugin starts it with --detach. It follows
the tmux server it was started from (counts in its options) and exits when
that server is gone; a second one started for a server nobody serves waits a
few seconds for the first one to go.

examples:
  tclaude watch-remotes --detach
  tclaude watch-remotes --feed 'box=ssh box tclaude watch --json'
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal

from ..app import App
from ..errors import TclaudeError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..remote import feed as feed_types
    from ..remote.feed_set import FeedSet
    from ..remote.status_counts import StatusCounts

HANDOVER = 10.0  # seconds a new watch-remotes waits for one whose tmux server ended


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--feed",
        action="append",
        default=[],
        metavar="NAME=COMMAND",
        help="a remote and the command printing its watch --json (instead of the config's)",
    )
    parser.add_argument("--detach", action="store_true", help="run in the background")


def run(args: argparse.Namespace) -> int:
    import shlex

    from ..remote import feed

    app = App.load()
    remotes: dict[str, list[str]] = {}
    for spec in args.feed:
        name, sep, command = spec.partition("=")
        argv = shlex.split(command) if sep else []
        if not argv:
            raise TclaudeError(f"--feed {spec!r}: give NAME=COMMAND")
        remotes[name] = argv
    remotes = remotes or feed.configured(app.config)
    if not remotes:
        return 0
    if args.detach:
        feed.start_detached(args.feed)
        return 0
    from .. import watch

    for name in remotes:
        if not watch.NAME_PATTERN.fullmatch(name):
            raise TclaudeError(f"invalid remote name {name!r}")
    lock = _lock(app)
    if lock is None:
        return 0  # running already
    from ..remote.feed_set import FeedSet
    from ..remote.status_counts import StatusCounts

    try:
        status = StatusCounts.start(app.tmux)
        notify = _announcer(app)

        def make(name: str, argv: list[str]) -> feed_types.Feed:
            return feed.Feed(
                name,
                argv,
                notify=notify,
                changed=status.changed if status else None,
                stale_after=_timeout(name),
            )

        def recount(feeds: list[feed_types.Feed]) -> None:
            if status:
                status.feeds = feeds
                status.recount()

        _log_to_file()
        try:
            asyncio.run(_main(FeedSet(make, recount), remotes, status, follow=not args.feed))
        finally:
            if status:
                status.clear()
    finally:
        os.close(lock)  # after the options are cleared: a successor sets them anew
    return 0


def _timeout(name: str) -> float:
    """Remote ``name``'s timeout as config.toml says now (the default for one not there,
    or a config that does not load): a feed silent for longer is stale, counted nowhere."""
    from .. import config as config_module
    from ..remote.ssh import Remote

    try:
        config = config_module.load()
    except TclaudeError:
        return config_module.Config.remote_timeout
    if name in config.remotes:
        return Remote.named(config, name).timeout
    return config.remote_timeout


def _lock(app: App) -> int | None:
    """The one-per-user lock, or None when another ``watch-remotes`` holds it. If the holder
    does not serve this tmux server (it followed one that ended just now, a restart),
    wait up to ``HANDOVER`` seconds for it to exit."""
    import time

    from ..remote import feed
    from ..remote.status_counts import served

    lock = feed.take_lock()
    if lock is not None or served(app.tmux) is not False:
        return lock
    deadline = time.monotonic() + HANDOVER
    while lock is None and time.monotonic() < deadline:
        time.sleep(0.1)
        lock = feed.take_lock()
    return lock


def _announcer(app: App) -> feed_types.Notify:
    from ..host.attention import announce

    tmux, methods = app.tmux, [str(way) for way in app.config.notify]

    async def notify(name: str, state: str) -> None:
        await announce(tmux, methods, name, state)

    return notify


async def _main(
    feeds: FeedSet, remotes: dict[str, list[str]], status: StatusCounts | None, follow: bool
) -> None:
    """Run the feeds until a signal, or until the followed tmux server is gone; ``follow``:
    also follow config.toml (remotes added, removed, changed)."""
    from .. import paths
    from ..remote import feed

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    await feeds.sync(remotes)
    helpers = []
    if status:
        helpers.append(loop.create_task(status.follow()))
        helpers[-1].add_done_callback(lambda _: stop.set())
    if follow:

        def wanted() -> dict[str, list[str]]:
            return feed.configured(App.load().config)

        def watched() -> list[str]:  # what changes a remote's feed: the ssh files too
            from ..remote.ssh import config_file, configured

            try:
                files = [config_file(remote) for remote in configured(App.load().config)]
            except TclaudeError:
                files = []
            return [paths.config_file(), *sorted(set(files))]

        helpers.append(loop.create_task(feeds.follow(watched, wanted)))
    await stop.wait()
    for helper in helpers:
        helper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await helper
    await feeds.stop_all()


def _log_to_file() -> None:
    """Warnings to ``<runtime dir>/watch-remotes.log`` (0600): nobody reads its stderr."""
    import logging

    from .. import paths

    path = os.path.join(paths.runtime_dir(), "watch-remotes.log")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    handler = logging.StreamHandler(os.fdopen(fd, "a", encoding="utf-8", buffering=1))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger("tmuxclaude").setLevel(logging.WARNING)
