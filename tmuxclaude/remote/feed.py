"""One remote's status feed: its ``tclaude watch --json`` stream, kept running.

The command that prints the stream is given (over ssh: ``remote_argv``); it
is restarted with exponential backoff when it ends (``BACKOFF``, reset once a
run reached ``synced``). Its output is untrusted: each line is parsed
strictly (size, JSON, types, names, states, as ``watch.check_fields``) and a
bad one is dropped, with one throttled log line. What the feed knows is kept
in ``<state dir>/remotes/<remote>.feed.json`` (0600, written atomically) with the
time of last contact, for ``list`` to show fresh or stale; it is written at
most once per ``SAVE_EVERY`` (and at once on synced and on disconnect), so a
chatty remote costs few writes; an ``alive`` line (the stream's heartbeat)
only touches the file, so its modification time is the last contact. A
snapshot after ``synced`` (a watcher's resync) starts a new snapshot. A remote instance
that goes into a state that needs the user is announced locally as a local
one is (``attention.announce``), named ``REMOTE:NAME``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import signal
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from .. import paths, watch
from ..config import Config
from ..names import printable
from ..state_tracker import ATTENTION
from .feed_cache import CACHE_VERSION, RETRY_CAP, cache_path, lock_path, read_cache
from .replies import usage_figures

logger = logging.getLogger(__name__)

BACKOFF = (1.0, RETRY_CAP)  # seconds: first delay before a restart, and the cap
STDERR_KEPT = 2048  # bytes of the end of a run's stderr, for the reason it ended
MAX_INSTANCES = 1000  # a remote reporting more is cut off there
DROP_LOG_EVERY = 60.0  # seconds between two log lines about dropped lines
# what the cache keeps per instance
KEPT = ("id", "name", "state", "unseen", "cwd", "target", "port", "created", "usage")
SAVE_EVERY = 0.5  # seconds: the cache is written at most this often while events flow
HEARTBEAT = 1.0  # seconds: the remote's watch says "alive" after this long without events
SILENCE = 15.0  # seconds without a line (heartbeats included) after which a run is ended
URGENT_SAVES = 3  # immediate cache writes (a snapshot, a state that needs you) per second;
# more go the coalesced way (SAVE_EVERY): a remote flapping between states cannot make
# the cache be rewritten per line
TELL_AGAIN = 5.0  # seconds before one instance's same state is told again
PENDING_NOTICES = 4  # notifications under way at most; more are dropped
NOTICES_PER_10S = 10  # notifications of one remote in 10 s at most (distinct instances too)
VERSION_TEXT = re.compile(r"[0-9][0-9A-Za-z.+-]{0,40}")

Notify = Callable[[str, str], Coroutine[Any, Any, None]]  # (REMOTE:NAME, state)
Changed = Callable[["Feed"], None]  # after what the feed knows changed (or its connection)


def parse_line(line: bytes) -> dict[str, Any] | None:
    """One event of a ``watch --json`` stream, with only the fields we know; None if invalid."""
    if len(line) > watch.MAX_LINE:
        return None
    try:
        event = json.loads(line)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(event, dict):
        return None
    kind = event.get("type")
    seq = event.get("seq")
    if kind not in watch.STREAM_TYPES or not isinstance(seq, int) or isinstance(seq, bool):
        return None
    if not watch.check_fields(event, watch.REQUIRED[kind]):
        return None
    parsed: dict[str, Any] = {"type": kind, "seq": seq}
    parsed.update({key: event[key] for key in watch.KEYS if key in event})
    if kind == "synced":
        count = event.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            return None
        parsed["count"] = count
        version = event.get("version")
        if isinstance(version, str) and VERSION_TEXT.fullmatch(version):
            parsed["version"] = version
    if kind == "snapshot":
        parsed["usage"] = usage_figures(event.get("usage"))
    return parsed


def needs_user(fields: dict[str, Any]) -> bool:
    """What a local host notifies about: waiting, limited, error, stale, and a turn done."""
    state = fields.get("state")
    return state in ATTENTION and (state != "idle" or bool(fields.get("unseen")))


class Feed:
    """Keeps ``argv`` (a remote's ``watch --json``) running and its instances cached."""

    def __init__(
        self,
        remote: str,
        argv: list[str],
        notify: Notify | None = None,
        backoff: tuple[float, float] = BACKOFF,
        changed: Changed | None = None,
        silence: float = SILENCE,
        stale_after: float | None = None,
    ) -> None:
        if not watch.NAME_PATTERN.fullmatch(remote):
            raise ValueError(f"invalid remote name {remote!r}")
        self.remote = remote
        self.argv = argv
        self.notify = notify
        self.backoff = backoff
        self.changed = changed
        self.silence = silence
        self.stale_after = stale_after  # the remote's timeout: silent longer, it is stale
        self.version: str | None = None  # the remote tclaude's, from its last snapshot
        self.down: dict[str, Any] | None = None  # how and when the last run ended unsynced
        self.instances: dict[str, dict[str, Any]] = {}
        self.connected = False
        self.contact: float | None = None  # time of the last valid line
        self.synced: float | None = None  # time of the last snapshot taken in whole
        self.connections = 0  # runs of argv started
        self.delays: list[float] = []  # the waits before each restart, in order
        self.dropped = 0
        self.proc: asyncio.subprocess.Process | None = None
        self._pending: dict[str, dict[str, Any]] | None = None  # a snapshot being read
        self._last_drop_log = 0.0
        self._saved_at = 0.0  # time.monotonic() of the last write
        self._urgent: list[float] = []  # time.monotonic() of the immediate writes of late
        self._told: dict[tuple[str, str], float] = {}  # (id, state) -> when it was told
        self._notices: list[float] = []  # time.monotonic() of this remote's recent notices
        self._save_later: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        cached = read_cache(remote)
        if cached is not None:  # what we knew before: a restart does not notify it again
            self.contact = cached.get("contact")
            for entry in cached.get("instances", []):
                if isinstance(entry, dict) and watch.check_fields(entry, watch.REQUIRED["state"]):
                    self.instances[entry["id"]] = {k: entry.get(k) for k in KEPT}

    def live(self, now: float | None = None) -> bool:
        """Connected, and heard within ``stale_after`` seconds (of ``now``, a ``time.time()``):
        the rule of ``list`` and the picker, which show a feed silent for longer stale."""
        if not self.connected:
            return False
        if self.stale_after is None or self.contact is None:
            return True
        return (time.time() if now is None else now) - self.contact <= self.stale_after

    async def run(self) -> None:
        """Run until cancelled: the stream, and after it ends a wait, then again."""
        first, cap = self.backoff
        delay = first
        try:
            while True:
                if await self._run_once():
                    delay = first  # it worked: the next outage starts over
                self.delays.append(delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, cap)
        finally:
            self.connected = False
            with contextlib.suppress(OSError):
                self._save()

    async def _run_once(self) -> bool:
        """One run of ``argv``; True if it delivered a whole snapshot."""
        self.connections += 1
        self._pending = {}
        synced = False
        # stdout and stderr through pipes of our own, not asyncio's, whose wait() waits for
        # them to close: ssh passes stderr to its master, which may hold it after ssh ended,
        # and a stdout paused (its buffer full) when a cancel came would never reach its end
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out_write,
                stderr=err_write,
                start_new_session=True,
            )
        except OSError as exc:
            os.close(out_read)
            os.close(err_read)
            logger.warning("feed of %s not started: %s", self.remote, exc)
            return False
        finally:
            os.close(out_write)
            os.close(err_write)
        self.proc = proc
        tail = bytearray()
        out_pipe: asyncio.BaseTransport | None = None
        errors: tuple[asyncio.Task[None], asyncio.BaseTransport] | None = None
        unowned: int | None = err_read  # closed here unless a transport took it
        ended = silent = False
        try:
            # from the call on, the fd is the transport's (asyncio closes it on a cancel)
            stdout, out_pipe = await _reader(out_read)
            unowned = None
            errors = await _tail(err_read, tail)
            try:
                async for line in _lines(stdout, self.silence):
                    try:
                        synced = self._line(line) or synced
                    except Exception:  # one remote's line never ends every remote's feed
                        logger.exception("feed of %s: a line could not be applied", self.remote)
                        self._drop(line)
            except Silent:
                silent = True
            ended = True
        finally:
            if out_pipe is not None:
                out_pipe.close()
            # its whole group: nothing of it goes on writing to a pipe nobody reads
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()
            self.proc = None
            if ended and errors:  # not cancelled: why it ended, for list to say without asking
                await asyncio.wait({errors[0]}, timeout=1.0)  # what ssh said last
                lines = [x for x in tail.decode("utf-8", "replace").splitlines() if x.strip()]
                self.down = {
                    "at": time.time(),
                    "code": proc.returncode,
                    "message": printable(lines[-1], 200) if lines else "",
                }
                if silent:  # as good as a link ssh gave up on: list says unreachable
                    self.down.update(code=255, message=f"no word for {self.silence:g}s")
            if unowned is not None:
                os.close(unowned)
            if errors is not None:
                errors[0].cancel()
                errors[1].close()
            if self.connected or ended:
                self.connected = False
                self._save_now()
                self._changed()
            logger.info("feed of %s ended (%s)", self.remote, proc.returncode)
        return synced

    def _line(self, line: bytes) -> bool:
        """Apply one line; True when it completed a snapshot."""
        event = parse_line(line)
        if event is None:
            self._drop(line)
            return False
        heard = time.time()
        was_stale = self.connected and not self.live(heard)
        self.contact = heard
        kind = event["type"]
        if kind == "alive":
            if self.connected and self._save_later is None:
                with contextlib.suppress(OSError):
                    os.utime(cache_path(self.remote))  # its mtime: the last contact
            if was_stale:
                self._changed()  # it speaks again: counted again
            return False
        fields = {k: event.get(k) for k in KEPT}
        fields["unseen"] = bool(fields["unseen"])
        if kind == "snapshot":
            if self._pending is None:
                self._pending = {}  # a new snapshot (a resync): what it says replaces all
            if len(self._pending) < MAX_INSTANCES:
                self._pending[event["id"]] = _paneless_if_stopped(fields)
            return False
        if kind == "synced":
            if self._pending is None:
                self._drop(line)
                return False
            before, self.instances, self._pending = self.instances, self._pending, None
            for instance_id, now in self.instances.items():
                old = before.get(instance_id)
                if old is not None and old["state"] != now["state"]:
                    self._notify_if_needed(now)  # changed while we did not listen
            self.connected, self.synced = True, self.contact
            self.version = event.get("version")
            self.down = None
            self._save_urgent()
            self._changed()
            return True
        if self._pending is not None:
            self._drop(line)  # an event before the snapshot ended
            return False
        known = self.instances.get(event["id"])
        if kind == "killed":
            self.instances.pop(event["id"], None)
        elif kind == "renamed":
            if known is not None:
                known["name"] = event["name"]
        elif known is not None or len(self.instances) < MAX_INSTANCES:  # created, state
            changed = known is None or known["state"] != fields["state"]
            if known is not None:  # what the event does not say stays as it was
                kept = ("cwd", "target", "port", "created", "usage")
                fields.update({k: known.get(k) for k in kept if k not in event or k == "usage"})
            self.instances[event["id"]] = _paneless_if_stopped(fields)
            if changed and needs_user(fields):
                # written before the user is told: what list or the picker shows then agrees
                self._save_urgent()
                self._notify_if_needed(fields)
                self._changed()
                return False
        self._save_soon()
        self._changed()
        return False

    def _changed(self) -> None:
        if self.changed is not None:
            try:
                self.changed(self)
            except Exception:  # a view of the feed; the feed goes on
                logger.exception("feed of %s: change callback failed", self.remote)

    def _save_soon(self) -> None:
        """Write the cache now, or once ``SAVE_EVERY`` has passed since the last write."""
        if self._save_later is not None:
            return
        delay = self._saved_at + SAVE_EVERY - time.monotonic()
        if delay <= 0:
            self._save_now()
        else:
            self._save_later = asyncio.get_running_loop().call_later(delay, self._save_late)

    def _save_late(self) -> None:
        self._save_later = None
        self._save_now()

    def _save_urgent(self) -> None:
        """Write now, unless ``URGENT_SAVES`` writes were made now in the last second: then
        the coalesced way."""
        now = time.monotonic()
        self._urgent = [at for at in self._urgent if now - at < 1.0]
        if len(self._urgent) < URGENT_SAVES:
            self._urgent.append(now)
            self._save_now()
        else:
            self._save_soon()

    def _save_now(self) -> None:
        """``_save``, an error logged: the feed goes on without its cache."""
        try:
            self._save()
        except OSError as exc:
            logger.warning("feed of %s: cache not written: %s", self.remote, exc)

    def _notify_if_needed(self, fields: dict[str, Any]) -> None:
        if self.notify is None or not needs_user(fields):
            return
        state = fields["state"]
        now = time.monotonic()
        key = (fields["id"], state)
        if (
            now - self._told.get(key, -TELL_AGAIN) < TELL_AGAIN
            or len(self._tasks) >= PENDING_NOTICES
        ):
            return  # a flapping or flooding remote: told once, not per line
        self._notices = [at for at in self._notices if now - at < 10.0]
        if len(self._notices) >= NOTICES_PER_10S:
            return  # a remote flooding instances: a few notices, then list and the status say
        self._notices.append(now)
        if len(self._told) > MAX_INSTANCES:
            self._told.clear()
        self._told[key] = now
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(
            self.notify(f"{self.remote}:{fields['name']}", state)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _drop(self, line: bytes) -> None:
        self.dropped += 1
        now = time.monotonic()
        if now - self._last_drop_log >= DROP_LOG_EVERY:
            self._last_drop_log = now
            logger.warning(
                "feed of %s: %s invalid line(s) dropped, e.g. %.80r",
                self.remote,
                self.dropped,
                line,
            )

    def _save(self) -> None:
        """Write the cache file (0600, atomically), now."""
        if self._save_later is not None:
            self._save_later.cancel()
            self._save_later = None
        self._saved_at = time.monotonic()
        data = {
            "version": CACHE_VERSION,
            "remote": self.remote,
            "connected": self.connected,
            "contact": self.contact,
            "synced": self.synced,
            "tclaude": self.version,
            "down": self.down,
            "instances": list(self.instances.values()),
        }
        path = cache_path(self.remote)
        paths.ensure_private_dir(os.path.dirname(path))
        paths.write_atomic(path, json.dumps(data, separators=(",", ":")) + "\n")


def _paneless_if_stopped(fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` without a port and a target when the instance is stopped: it has no pane
    (the remote's own list says none), whatever its watcher still remembered of one."""
    if fields.get("state") == "stopped":
        fields["port"] = fields["target"] = None
    return fields


class Silent(Exception):
    """The stream said nothing (not even its heartbeat) for too long."""


async def _lines(stream: asyncio.StreamReader, silence: float) -> AsyncIterator[bytes]:
    """The lines of ``stream``; one longer than ``watch.MAX_LINE`` becomes one ``b"<too long>"``
    (whatever the chunks it came in), so that a huge line costs neither memory nor a resync.
    Silent when nothing came for ``silence`` seconds: a remote that stopped writing but runs on
    (ssh still holds the pipe, so no end comes)."""
    buffer = b""
    skipping = False
    while True:
        try:
            async with asyncio.timeout(silence):
                chunk = await stream.read(65536)
        except TimeoutError:
            raise Silent from None
        if not chunk:
            return
        # a stream that always has data would never let the loop run otherwise (signals,
        # the other feeds): found by a remote writing an endless line
        await asyncio.sleep(0)
        buffer += chunk
        while True:
            end = buffer.find(b"\n")
            if end < 0:
                break
            line, buffer = buffer[: end + 1], buffer[end + 1 :]
            if skipping:
                skipping = False
            else:
                yield line if len(line) <= watch.MAX_LINE else b"<too long>"
        if len(buffer) > watch.MAX_LINE:
            if not skipping:
                yield b"<too long>"
            buffer, skipping = b"", True


async def _reader(fd: int) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    """A stream reading pipe ``fd``, and the pipe's transport (close it)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    pipe, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader, pipe


async def _tail(fd: int, kept: bytearray) -> tuple[asyncio.Task[None], asyncio.BaseTransport]:
    """Read pipe ``fd`` to its end (so its writer never blocks) into ``kept``, which holds
    its last ``STDERR_KEPT`` bytes; the reading task and the pipe's transport (close it)."""
    reader, pipe = await _reader(fd)

    async def read() -> None:
        while chunk := await reader.read(65536):
            kept.extend(chunk)
            del kept[:-STDERR_KEPT]

    return asyncio.get_running_loop().create_task(read()), pipe


def take_lock() -> int | None:
    """Hold the one-per-user lock of ``watch-remotes`` (an fd kept open, with our pid in it),
    or None when another process holds it."""
    import fcntl

    paths.ensure_private_dir(paths.runtime_dir())
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        paths.check_private_file(fd, lock_path())
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def configured(config: Config) -> dict[str, list[str]]:
    """Remote name -> the argv of its ``tclaude watch --json``, from the config's remotes."""
    from .ssh import remote_argv

    return {
        # by name: remote_argv loads the config with its dirs (the control socket's)
        name: remote_argv(name, ["watch", "--json", "--heartbeat", f"{HEARTBEAT:g}"])
        for name in config.remotes
    }


def start_detached(feeds: list[str] | None = None) -> None:
    """Start ``tclaude watch-remotes`` in the background (with ``--feed`` specs, if given);
    one that finds another running exits at once."""
    import subprocess
    import sys

    argv = [sys.executable, "-m", "tmuxclaude", "watch-remotes"]
    argv += [f"--feed={spec}" for spec in feeds or []]
    with open(os.devnull, "r+b") as null:
        subprocess.Popen(argv, stdin=null, stdout=null, stderr=null, start_new_session=True)
