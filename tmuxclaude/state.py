"""The state file: what tclaude remembers beyond tmux.

``<state dir>/instances.json`` holds every instance's name, cwd, layout,
claude arguments, created time and (once reported) Claude session id. It is
changed only under an exclusive ``flock`` on ``instances.lock`` and written
atomically, so racing commands never lose each other's entries. A file that
does not parse is never overwritten: it is copied aside and the command
fails with a clear message.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from . import paths
from .errors import StateFileError

VERSION = 1


@dataclass
class InstanceState:
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

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> InstanceState:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class StateFile:
    """``instances.json`` and its lock in the state directory."""

    def __init__(self, directory: str | None = None) -> None:
        self.directory = directory or paths.state_dir()
        self.path = os.path.join(self.directory, "instances.json")
        self.lock_path = os.path.join(self.directory, "instances.lock")

    def read(self) -> dict[str, InstanceState]:
        """All instances, without taking the lock (a reader sees whole files only)."""
        try:
            with open(self.path, encoding="utf-8") as handle:
                text = handle.read()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise StateFileError(f"cannot read the state file {self.path}: {exc}") from None
        return self._parse(text)

    def _parse(self, text: str) -> dict[str, InstanceState]:
        try:
            data = json.loads(text)
            items = data["instances"]
            if not isinstance(items, dict):
                raise TypeError("instances is not an object")
            return {key: InstanceState.from_json(value) for key, value in items.items()}
        except (ValueError, KeyError, TypeError) as exc:
            backup = self._backup()
            raise StateFileError(
                f"the state file {self.path} is corrupt ({exc.__class__.__name__}: {exc}); "
                f"a copy is kept at {backup}; fix it or move it away to start afresh"
            ) from None

    def _backup(self) -> str:
        backup = f"{self.path}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}"
        if not os.path.exists(backup):
            import shutil  # only on this rare path: keeps every command's start lighter

            shutil.copy2(self.path, backup)
        return backup

    def creating(self) -> contextlib.AbstractContextManager[None]:
        """Hold the lock that makes find-or-create atomic (bare ``tclaude``).

        Separate from the state file's own lock, which is taken inside: one
        creator at a time, for as long as it takes its host to get ready.
        """
        return self._flock(os.path.join(self.directory, "create.lock"))

    @contextlib.contextmanager
    def _flock(self, path: str) -> Iterator[None]:
        """An exclusive ``flock`` on ``path`` (created in the state dir when missing)."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        with open(path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def locked(self) -> Iterator[dict[str, InstanceState]]:
        """Read under the lock; the (possibly changed) dict is written back on exit."""
        with self._flock(self.lock_path):
            instances = self.read()
            before = {k: asdict(v) for k, v in instances.items()}
            yield instances
            after = {k: asdict(v) for k, v in instances.items()}
            if after != before:
                body = json.dumps({"version": VERSION, "instances": after}, indent=1)
                paths.write_atomic(self.path, body + "\n", mode=0o600)

    def update(self, instance_id: str, **changes: Any) -> None:
        with self.locked() as instances:
            entry = instances.get(instance_id)
            if entry is not None:
                for key, value in changes.items():
                    setattr(entry, key, value)
