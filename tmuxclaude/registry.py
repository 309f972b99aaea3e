"""Instances as tmux holds them, completed by the state file.

A running instance is a pane with ``@tclaude-id``; one ``list-panes -a``
call finds them all. Instances in the state file without a pane are
``stopped``. Targets resolve by exact name, id or pane id, never by prefix.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from . import paths, runtime_files
from .errors import InstanceNotFoundError, TclaudeError
from .names import printable
from .state_file import SavedInstance, StateFile
from .tmux import Pane, Tmux


@dataclass
class Instance:
    id: str
    name: str
    cwd: str
    state: str
    layout: str
    created: float
    pane: Pane | None = None
    saved: SavedInstance | None = None

    @property
    def running(self) -> bool:
        return self.pane is not None and not self.pane.dead

    @property
    def port(self) -> int | None:
        return self.pane.port if self.pane else None

    @property
    def socket(self) -> str:
        return runtime_files.socket_path(self.id)

    @property
    def lockfile(self) -> str | None:
        port = self.port
        return os.path.join(paths.lock_dir(), f"{port}.lock") if port else None

    def to_json(self) -> dict[str, Any]:
        pane = self.pane
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "cwd": self.cwd,
            "port": self.port,
            "pane": pane.pane_id if pane else None,
            "window": pane.window_id if pane else None,
            "session": pane.session if pane else None,
            "target": pane.target if pane else None,
            "socket": self.socket if pane else None,
            "lockfile": self.lockfile,
            "clis": pane.clis if pane else 0,
            "pid": pane.host_pid if pane else None,
            "layout": self.layout,
            "created": self.created,
            "age": max(0.0, time.time() - self.created),
            "running": self.running,
            "active": bool(pane and pane.active and pane.window_active),
            "unseen": bool(pane and pane.unseen),
            "session_id": self.saved.session_id if self.saved else None,
        }


class Registry:
    """Reads instances from tmux and the state file; resolves targets."""

    def __init__(self, tmux: Tmux, state: StateFile | None = None) -> None:
        self.tmux = tmux
        self.state = state or StateFile()

    def instances(self) -> list[Instance]:
        panes = self.tmux.instance_panes()
        saved = self.state.read()
        found: list[Instance] = []
        seen: set[str] = set()
        panes.sort(key=lambda p: (p.session, p.window_index, p.pane_index))
        for pane in panes:
            if pane.instance_id in seen:
                continue
            seen.add(pane.instance_id)
            entry = saved.get(pane.instance_id)
            cwd = pane.cwd or (entry.cwd if entry else "")
            # a claude that failed at start leaves its pane, marked error, to be read
            state = (
                pane.state
                if pane.dead and pane.state == "error"
                else ("stopped" if pane.dead else pane.state)
            )
            if state != "stopped" and cwd and not os.path.isdir(cwd):
                state = "stale"  # its directory (a deleted worktree) is gone
            found.append(
                Instance(
                    id=pane.instance_id,
                    name=pane.name or (entry.name if entry else pane.instance_id),
                    cwd=cwd,
                    state=state,
                    layout=entry.layout if entry else "tabbed",
                    created=entry.created if entry else 0.0,
                    pane=pane,
                    saved=entry,
                )
            )
        found.extend(
            Instance(e.id, e.name, e.cwd, "stopped", e.layout, e.created, None, e)
            for e in sorted(saved.values(), key=lambda e: e.created)
            if e.id not in seen
        )
        return found

    def resolve(self, target: str, instances: list[Instance] | None = None) -> Instance:
        """The instance named ``target`` exactly, or with that id or pane id."""
        instances = self.instances() if instances is None else instances
        name = target[1:] if target.startswith("=") else target
        for instance in instances:
            if instance.name == name:
                return instance
        for instance in instances:
            if instance.id == target or (instance.pane and instance.pane.pane_id == target):
                return instance
        if ":" in name:  # no instance name has one: REMOTE:NAME reached a local-only verb
            raise TclaudeError(
                f"{printable(target)!r} names an instance on another machine: this command "
                "works on local instances only (see docs/remote.md for the verbs that reach "
                "a remote)"
            )
        raise InstanceNotFoundError(target, [i.name for i in instances])

    def for_directory(self, cwd: str, instances: list[Instance] | None = None) -> Instance | None:
        """The running instance whose cwd holds ``cwd`` most closely (worktrees nest).

        Not one outside the linked git worktree that holds ``cwd``: a worktree nested in
        the main checkout (``git worktree add wt/x``, ``.claude/worktrees/x``) has its own.
        """
        instances = self.instances() if instances is None else instances
        cwd = os.path.realpath(cwd)
        worktree = _linked_worktree_root(cwd)
        best: Instance | None = None
        for instance in instances:
            if not instance.running or not instance.cwd:
                continue
            root = instance.cwd.rstrip("/") or "/"
            if worktree is not None and len(root) < len(worktree):
                continue
            if paths.inside(cwd, root) and (best is None or len(root) > len(best.cwd)):
                best = instance
        return best


def _linked_worktree_root(path: str) -> str | None:
    """The root of the linked git worktree holding ``path`` (its ``.git`` is a file
    pointing into a ``worktrees/`` dir), or None; a few stat calls, no git."""
    while True:
        dot_git = os.path.join(path, ".git")
        if os.path.isfile(dot_git):
            try:
                with open(dot_git, encoding="utf-8", errors="replace") as handle:
                    first = handle.readline(4096)
            except OSError:
                first = ""
            if first.startswith("gitdir:") and "/worktrees/" in first:
                return path
            return None  # a submodule or another repository: not a worktree of one
        if os.path.isdir(dot_git):
            return None  # a main checkout
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent
