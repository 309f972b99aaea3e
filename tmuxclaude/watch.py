"""Instance events, pushed to watchers (``tclaude watch``, the remote feeds).

Each watcher binds a unix datagram socket ``<runtime dir>/watch/<pid>-<rand>.sock``
(the dir 0700, the socket 0600). Publishers send one small JSON datagram to
every socket there, non-blocking: hosts on each state change and at start
(``created``), ``tclaude kill`` (``killed``) and ``tclaude rename``
(``renamed``). A socket that refuses (its watcher died, e.g. ``kill -9``) is
removed by the first publisher that meets it. A watcher whose queue is full
(the kernel's ``net.unix.max_dgram_qlen``, often 10) misses that event and
nobody waits for it, but the publisher leaves a flag beside its socket,
``<pid>-<rand>.lost`` (:func:`lost_path`), and sends again: a watcher that
finds the flag after draining its queue re-reads the registry (a resync).

Trust: a datagram carries no sender credentials (no ``SO_PEERCRED`` without a
connection), so who may send rests on the directory: it is ours and 0700
(in a 0700 runtime dir), and another local user cannot reach a socket in it.
The content is still validated strictly (:func:`parse_datagram`): anything
else is dropped. Cheap to import: the host's start path uses ``publish``.
"""

from __future__ import annotations

import json
import os
import re
import socket

from . import paths

TYPE_CHECKING = False  # not typing's: the host starts without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable

VERSION = 1
MAX_DATAGRAM = 4096  # bytes; a larger one is dropped whole
MAX_LINE = 16384  # bytes of one line of the ``watch --json`` stream, for its readers
# what publishers send; the stream adds snapshot/synced (and alive: --heartbeat), seq and time
DATAGRAM_TYPES = ("created", "state", "renamed", "killed")
STREAM_TYPES = ("snapshot", "synced", "alive", *DATAGRAM_TYPES)
# instance states (state_tracker.STATES; not imported: it pulls in session_ids)
STATES = ("starting", "idle", "busy", "waiting", "limited", "error", "stopped", "stale")
# state_file.ID_PATTERN and NAME_PATTERN, copied: importing state_file.py costs the host's
# start ~9 ms (tests/seams keeps the copies equal)
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+-]{0,47}")
PANE_ID = re.compile(r"%[0-9]{1,9}")
MAX_EPOCH = 1e11  # seconds: a time (``created``) after this one is not a time
TARGET = re.compile(r"[^#:.\x00-\x1f\x7f]{1,200}:[0-9]{1,9}\.[0-9]{1,9}")


def watch_dir() -> str:
    return os.path.join(paths.runtime_dir(), "watch")


def lost_path(sock_path: str) -> str:
    """The flag a publisher leaves beside a watcher's socket when its queue was full."""
    return sock_path[: -len(".sock")] + ".lost"


def flag_lost(path: str) -> None:
    try:
        fd = os.open(
            lost_path(path), os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
        )
    except OSError:
        return
    os.close(fd)


def publish(event: dict[str, object]) -> int:
    """Send ``event`` (a :data:`DATAGRAM_TYPES` event) to every watcher; never raises.

    Returns how many watchers took it. Sockets that refuse are removed.
    """
    directory = watch_dir()
    try:
        names = os.listdir(directory)
    except OSError:
        return 0  # no watcher ever ran
    data = json.dumps({"v": VERSION, **event}, separators=(",", ":")).encode()
    if len(data) > MAX_DATAGRAM:
        return 0
    sent = 0
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK)
    except OSError:
        return 0
    with sock:
        for name in names:
            if not name.endswith(".sock"):
                continue
            path = os.path.join(directory, name)
            try:
                sock.sendto(data, path)
                sent += 1
            except ConnectionRefusedError:
                paths.remove_quietly(path)  # its watcher is gone
                paths.remove_quietly(lost_path(path))
            except BlockingIOError:
                # full: flag it, then try once more; if that fails too, the queue still
                # holds datagrams, so the watcher reads again after the flag is there
                flag_lost(path)
                try:
                    sock.sendto(data, path)
                    sent += 1
                except OSError:
                    continue
            except OSError:
                continue  # vanished meanwhile, or not a socket
    return sent


def printable(value: str) -> bool:
    """No control or format character: C0, DEL, C1 (U+009B CSI), bidi overrides
    (U+202A-U+202E, U+2066-U+2069), nor a line or paragraph separator."""
    return value.isprintable()


def valid_cwd(value: object) -> bool:
    return (
        isinstance(value, str) and value.startswith("/") and len(value) <= 4096 and printable(value)
    )


def valid_target(value: object) -> bool:
    return isinstance(value, str) and TARGET.fullmatch(value) is not None and printable(value)


def number_in(value: object, low: float, high: float) -> bool:
    """An int or a float (not a bool: JSON's true is not 1 here) from ``low`` to ``high``.

    Compared as it is, never converted: ``float()`` of a JSON integer of 400
    digits raises OverflowError; here it is out of range, as NaN and infinities are.
    """
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high


def check_fields(event: dict[str, object], required: tuple[str, ...]) -> bool:
    """True when every field of ``event`` that we know is valid and ``required`` are there.

    Fields: ``id``, ``name``, ``state``, ``unseen``, ``cwd``, ``pane``,
    ``target``, ``port``, ``created`` (epoch seconds) and ``old`` (a state after
    ``state``, a name after ``renamed``).
    """
    if any(key not in event for key in required):
        return False
    checks: dict[str, Callable[[object], bool]] = {
        "id": lambda v: isinstance(v, str) and ID_PATTERN.fullmatch(v) is not None,
        "name": lambda v: isinstance(v, str) and NAME_PATTERN.fullmatch(v) is not None,
        "state": lambda v: v in STATES,
        "unseen": lambda v: isinstance(v, bool),
        "cwd": lambda v: v is None or valid_cwd(v),
        "pane": lambda v: v is None or (isinstance(v, str) and PANE_ID.fullmatch(v) is not None),
        "target": lambda v: v is None or valid_target(v),
        "port": lambda v: v is None or (isinstance(v, int) and number_in(v, 1, 65535)),
        "created": lambda v: v is None or number_in(v, 0, MAX_EPOCH),
    }
    for key, check in checks.items():
        if key in event and not check(event[key]):
            return False
    if "old" in event:
        old = event["old"]
        if event.get("type") == "renamed":
            return isinstance(old, str) and NAME_PATTERN.fullmatch(old) is not None
        return old is None or old in STATES
    return True


REQUIRED = {
    "created": ("id", "name", "state"),
    "state": ("id", "name", "state"),
    "renamed": ("id", "name"),
    "killed": ("id",),
    "snapshot": ("id", "name", "state"),
    "synced": (),
    "alive": (),
}
KEYS = ("id", "name", "state", "unseen", "cwd", "pane", "target", "port", "created", "old")


def parse_datagram(data: bytes) -> dict[str, object] | None:
    """The event a datagram carries, with only the known keys, or None if it is not valid."""
    if len(data) > MAX_DATAGRAM:
        return None
    try:
        event = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(event, dict) or event.get("v") != VERSION:
        return None
    kind = event.get("type")
    if kind not in DATAGRAM_TYPES or not check_fields(event, REQUIRED[kind]):
        return None
    return {"type": kind, **{key: event[key] for key in KEYS if key in event}}
