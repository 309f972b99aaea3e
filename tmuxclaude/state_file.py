"""The state file: what tclaude remembers beyond tmux.

``<state dir>/instances.json`` holds every instance's name, cwd, layout,
claude arguments, created time and (once reported) Claude session id. It is
changed only under an exclusive ``flock`` on ``instances.lock`` and written
atomically, so racing commands never lose each other's entries. A file that
does not parse or has the wrong shape is never overwritten: it is copied aside
and the command fails with a clear message.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from . import paths
from .errors import StateFileError

VERSION = 1
# instance names (`tclaude new` checks them here too) and ids (as cli/host.ID_PATTERN,
# which keeps its own copy: the host's start does not import this module)
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+-]{0,47}")
KEEP_BACKUPS = 5  # copies of corrupt state files kept, the newest
# tmux session names as tmux keeps them (it turns ':' and '.' into '_'); no '#',
# which tmux would expand, and no control characters
SESSION_PATTERN = re.compile(r"[^#:.\x00-\x1f\x7f]{1,200}")
COMMIT_PATTERN = re.compile(r"[0-9a-f]{40}")
LAYOUTS = ("tabbed", "split", "beside")
_OPTIONAL_TEXT = ("session", "beside", "session_id", "session_source", "transcript", "worktree")


@dataclass
class SavedInstance:
    id: str
    name: str
    cwd: str
    layout: str = "tabbed"
    claude_args: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    session: str | None = None
    beside: str | None = None
    session_id: str | None = None
    session_source: str | None = None
    transcript: str | None = None
    worktree: str | None = None
    start_commit: str | None = None  # HEAD of the cwd's git worktree when the instance started

    @classmethod
    def from_json(cls, data: Any) -> SavedInstance:
        """An entry checked field by field; ValueError names the first bad one.

        Unknown keys are ignored (a newer tclaude may add some).
        """
        if not isinstance(data, dict):
            raise ValueError(f"an entry is {type(data).__name__}, not an object")
        for key in ("id", "name", "cwd"):
            if not isinstance(data.get(key), str):
                raise ValueError(f"{key} is missing or not a string")
        if not ID_PATTERN.fullmatch(data["id"]):
            raise ValueError(f"id {data['id']!r} is not a valid instance id")
        if not NAME_PATTERN.fullmatch(data["name"]):
            raise ValueError(f"name {data['name']!r} is not a valid instance name")
        if not os.path.isabs(data["cwd"]) or os.path.normpath(data["cwd"]) != data["cwd"]:
            raise ValueError(f"cwd {data['cwd']!r} is not an absolute, normalised path")
        if data.get("layout", "tabbed") not in LAYOUTS:
            raise ValueError(f"layout {data.get('layout')!r} is not one of {', '.join(LAYOUTS)}")
        args = data.get("claude_args", [])
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
            raise ValueError("claude_args is not a list of strings")
        created = data.get("created", 0.0)
        if isinstance(created, bool) or not isinstance(created, int | float):
            raise ValueError("created is not a number")
        for key in _OPTIONAL_TEXT:
            if not isinstance(data.get(key), str | None):
                raise ValueError(f"{key} is neither null nor a string")
        start = data.get("start_commit")
        if start is not None and not (isinstance(start, str) and COMMIT_PATTERN.fullmatch(start)):
            raise ValueError(f"start_commit {str(start)[:60]!r} is not a 40-hex commit id")
        session = data.get("session")
        if session is not None and not SESSION_PATTERN.fullmatch(session):
            raise ValueError(f"session {session!r} is not a tmux session name tclaude uses")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class StateFile:
    """``instances.json`` and its lock in the state directory."""

    def __init__(self, directory: str | None = None) -> None:
        self.directory = directory or paths.state_dir()
        self.path = os.path.join(self.directory, "instances.json")
        self.lock_path = os.path.join(self.directory, "instances.lock")

    def read(self) -> dict[str, SavedInstance]:
        """All instances, without taking the lock (a reader sees whole files only)."""
        try:
            with open(self.path, "rb") as handle:
                paths.check_owner(handle.fileno(), self.path)
                raw = handle.read()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StateFileError(
                f"cannot read the state file {self.path}: {exc.strerror or exc}"
            ) from None
        return self._parse(raw)

    def _parse(self, raw: bytes) -> dict[str, SavedInstance]:
        try:
            data = json.loads(raw.decode("utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("instances"), dict):
                raise ValueError('no "instances" object at the top')
            instances: dict[str, SavedInstance] = {}
            for key, value in data["instances"].items():
                try:
                    entry = SavedInstance.from_json(value)
                except ValueError as exc:
                    raise ValueError(f"instance {key!r}: {exc}") from None
                if entry.id != key:
                    raise ValueError(f"instance {key!r}: its id is {entry.id!r}")
                instances[key] = entry
            return instances
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
            reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
            raise StateFileError(
                f"the state file {self.path} is corrupt ({reason}); {self._backup(raw)}; "
                "fix it, or move it away to start afresh (running instances go on, but restore "
                "no longer knows them; tclaude doctor checks it)"
            ) from None

    def _backup(self, raw: bytes) -> str:
        """Keep a private copy of an unreadable state file; say where (or why not)."""
        import hashlib  # only on this rare path: keeps every command's start lighter

        # named for its content: every command that meets the same file keeps one copy
        backup = f"{self.path}.corrupt-{hashlib.sha256(raw).hexdigest()[:12]}"
        try:
            fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            return f"a copy is kept at {backup}"
        except OSError as exc:
            return f"no copy could be kept ({exc.strerror}); it is left as it is"
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
        except OSError as exc:
            paths.remove_quietly(backup)
            return f"no copy could be kept ({exc.strerror}); it is left as it is"
        self._prune_backups()
        return f"a copy is kept at {backup}"

    def _prune_backups(self) -> None:
        """Keep the newest ``KEEP_BACKUPS`` copies of corrupt state files, remove the rest."""
        import glob

        found = []
        for path in glob.glob(glob.escape(self.path) + ".corrupt-*"):
            try:
                found.append((os.lstat(path).st_mtime_ns, path))
            except OSError:
                continue
        for _, path in sorted(found, reverse=True)[KEEP_BACKUPS:]:
            paths.remove_quietly(path)

    def creating(self) -> contextlib.AbstractContextManager[None]:
        """Hold the lock that makes find-or-create atomic (bare ``tclaude``).

        Separate from the state file's own lock, which is taken inside: one
        creator at a time, for as long as it takes its host to get ready.
        """
        return self._flock(os.path.join(self.directory, "create.lock"))

    @contextlib.contextmanager
    def _flock(self, path: str) -> Iterator[None]:
        """An exclusive ``flock`` on ``path`` (created 0600 in the private state dir).

        A lock file that is not the user's own is refused: whoever can open
        it can hold the lock and make every command wait.
        """
        paths.ensure_private_dir(self.directory)
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(path, flags, 0o600)
        try:
            paths.check_private_file(fd, path)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict[str, SavedInstance]]:
        """Read under the lock; the (possibly changed) dict is written back on exit."""
        with self._flock(self.lock_path):
            instances = self.read()
            before = {k: asdict(v) for k, v in instances.items()}
            yield instances
            after = {k: asdict(v) for k, v in instances.items()}
            if after != before:
                body = json.dumps({"version": VERSION, "instances": after}, indent=1)
                try:
                    paths.write_atomic(self.path, body + "\n", mode=0o600)
                except OSError as exc:
                    raise StateFileError(
                        f"cannot write the state file {self.path}: {exc.strerror or exc}; "
                        "it was left as it was"
                    ) from None

    def update(self, instance_id: str, **changes: Any) -> None:
        with self.locked() as instances:
            entry = instances.get(instance_id)
            if entry is not None:
                for key, value in changes.items():
                    setattr(entry, key, value)
