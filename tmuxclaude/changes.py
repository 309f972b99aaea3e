"""What an instance changed in its git worktree: tracked changes and untracked files.

``git diff BASE`` (staged and unstaged alike) plus every untracked file that
is not ignored, as a new file. Nothing here writes to the repository (no
``git add -N``): untracked files are diffed with ``git diff --no-index``.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from typing import Any

from .errors import NotFoundError, TclaudeError
from .names import printable

GIT_TIMEOUT = 60.0
DIFF_FLAGS = ("--no-ext-diff", "--no-renames", "--no-textconv")


@dataclass(frozen=True)
class FileChange:
    """One changed file; ``added``/``removed`` are None for a binary file."""

    path: str  # relative to the repository's top
    status: str  # modified, added, deleted, untracked, type-changed
    added: int | None
    removed: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "added": self.added,
            "removed": self.removed,
            "binary": self.added is None,
        }


STATUS = {"M": "modified", "A": "added", "D": "deleted", "T": "type-changed"}


def _git(cwd: str, *args: str, ok: tuple[int, ...] = (0,)) -> str:
    """git's output (undecodable bytes replaced); TclaudeError with git's words otherwise."""
    try:
        proc = subprocess.run(
            ["git", "-C", cwd, *args],
            capture_output=True,
            check=False,
            timeout=GIT_TIMEOUT,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0"},
        )
    except FileNotFoundError:
        raise NotFoundError("git not found; install it (Debian/Ubuntu: apt install git)") from None
    except subprocess.TimeoutExpired:
        raise TclaudeError(f"git {args[0]} took longer than {GIT_TIMEOUT:.0f} s in {cwd}") from None
    if proc.returncode not in ok:
        message = proc.stderr.decode(errors="replace").strip().splitlines()
        raise TclaudeError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return proc.stdout.decode(errors="replace")


class Worktree:
    """The git working tree holding ``cwd``, diffed against ``base``.

    Without ``base``: ``start`` (the commit the instance started at) when it is
    still a commit here, else HEAD.
    """

    def __init__(self, cwd: str, base: str | None = None, start: str | None = None) -> None:
        if not os.path.isdir(cwd):
            raise TclaudeError(f"{cwd} is not a directory")
        probe = subprocess.run(
            ["git", "-C", cwd, "rev-parse", "--show-toplevel"],
            capture_output=True,
            check=False,
            timeout=GIT_TIMEOUT,
        )
        if probe.returncode != 0:
            raise TclaudeError(f"not in a git repository: {cwd} (tclaude diff needs one)")
        self.cwd = cwd
        self.top = probe.stdout.decode(errors="replace").strip()
        if base is not None and base.startswith("-"):
            raise TclaudeError(f"bad base {base!r}: a revision cannot start with -")
        started = self._commit(start) if base is None and start else None
        self.base = started or self._resolve(base or "HEAD", given=base is not None)

    def _commit(self, rev: str) -> str | None:
        """The commit ``rev`` names here, or None."""
        found = subprocess.run(
            ["git", "-C", self.cwd, "rev-parse", "--verify", "-q", f"{rev}^{{commit}}"],
            capture_output=True,
            check=False,
            timeout=GIT_TIMEOUT,
        )
        return found.stdout.decode().strip() if found.returncode == 0 else None

    def _resolve(self, base: str, given: bool) -> str:
        found = self._commit(base)
        if found is not None:
            return found
        if given:
            raise TclaudeError(f"no such revision in {self.top}: {base}")
        # no commit yet: everything is new, against the empty tree
        return _git(self.cwd, "hash-object", "-t", "tree", "/dev/null").strip()

    def _pathspec(self, paths: list[str]) -> list[str]:
        return ["--", *paths] if paths else []

    def untracked(self, paths: list[str]) -> list[str]:
        """Untracked, not ignored files, relative to the top."""
        out = _git(
            self.cwd,
            "ls-files",
            "--others",
            "--exclude-standard",
            "--full-name",
            "-z",
            *self._pathspec(paths),
        )
        return [name for name in out.split("\0") if name]

    def files(self, paths: list[str] | None = None) -> list[FileChange]:
        """Every changed file with its line counts, tracked first, in git's order."""
        spec = self._pathspec(paths or [])
        statuses = _git(
            self.cwd, "diff", *DIFF_FLAGS, "--name-status", "-z", self.base, *spec
        ).split("\0")
        status = {statuses[i + 1]: statuses[i] for i in range(0, len(statuses) - 1, 2)}
        found: list[FileChange] = []
        numstat = _git(self.cwd, "diff", *DIFF_FLAGS, "--numstat", "-z", self.base, *spec)
        for entry in numstat.split("\0"):
            if entry:
                letter = status.get(entry.split("\t", 2)[-1], "M")[:1]
                found.append(_numstat(entry, STATUS.get(letter, "modified")))
        for name in self.untracked(paths or []):
            out = _git(
                self.top, "diff", *DIFF_FLAGS, "--no-index", "--numstat", "-z",
                "--", "/dev/null", name, ok=(0, 1),
            )  # fmt: skip
            entry = out.split("\0")[0]
            found.append(
                _numstat(entry, "untracked", name) if entry else FileChange(name, "untracked", 0, 0)
            )
        return found

    def patch(self, paths: list[str] | None = None, colour: bool = False) -> str:
        """The whole diff, per file: tracked changes, then each untracked file as new."""
        flags = (*DIFF_FLAGS, f"--color={'always' if colour else 'never'}")
        parts = [_git(self.cwd, "diff", *flags, self.base, *self._pathspec(paths or []))]
        parts.extend(
            _git(self.top, "diff", *flags, "--no-index", "--", "/dev/null", name, ok=(0, 1))
            for name in self.untracked(paths or [])
        )
        return "".join(parts)


def _numstat(entry: str, status: str, name: str | None = None) -> FileChange:
    """One ``--numstat`` entry (``ADDED\\tREMOVED\\tPATH``; ``-`` counts for binary)."""
    added, removed, path = entry.split("\t", 2)
    binary = added == "-"
    return FileChange(
        name or path, status, None if binary else int(added), None if binary else int(removed)
    )


def stat_lines(files: list[FileChange], width: int = 80) -> list[str]:
    """``git diff --stat``'s shape: ``path | n ++--`` per file and a summary (paths printable)."""
    if not files:
        return []
    shown = [printable(f.path, 1000) for f in files]  # a repository names its files
    name_width = min(max(len(n) for n in shown), max(20, width // 2))
    totals = [(f.added or 0) + (f.removed or 0) for f in files]
    count_width = len(str(max(totals)))
    bar_room = max(10, width - name_width - count_width - 6)
    scale = min(1.0, bar_room / max(max(totals), 1))
    out: list[str] = []
    for change, path, total in zip(files, shown, totals, strict=True):
        name = path if len(path) <= name_width else "..." + path[-name_width + 3 :]
        if change.added is None:
            out.append(f" {name:<{name_width}} | {'Bin':>{count_width}}")
            continue
        plus = round(change.added * scale) if change.added else 0
        minus = round((change.removed or 0) * scale) if change.removed else 0
        out.append(
            f" {name:<{name_width}} | {total:>{count_width}} {'+' * plus}{'-' * minus}".rstrip()
        )
    added = sum(f.added or 0 for f in files)
    removed = sum(f.removed or 0 for f in files)
    out.append(
        f" {len(files)} file{'s' if len(files) != 1 else ''} changed, "
        f"{added} insertion{'s' if added != 1 else ''}(+), "
        f"{removed} deletion{'s' if removed != 1 else ''}(-)"
    )
    return out
