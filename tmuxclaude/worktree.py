"""Git worktrees for instances: create, inspect, remove. Plain ``git`` subprocesses.

A repository is known by its main worktree (the first entry of ``git worktree
list``). Only paths that git lists as worktrees of that repository are ever
removed, and the main worktree never is. Include files (``.worktreeinclude``,
gitignore syntax, plus the ``worktree_include`` setting) are matched by git
itself (``ls-files --others --ignored --exclude-from``) and copied only when
git also ignores them, so a tracked file is never duplicated.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from . import paths
from .errors import NotFoundError, TclaudeError
from .names import slug

logger = logging.getLogger(__name__)

INCLUDE_FILE = ".worktreeinclude"
GIT_TIMEOUT = 60.0
DEFAULT_DIR = "{repo}-worktrees/{branch}"


class GitError(TclaudeError):
    """A git command failed; the message carries git's own words."""


class SetupError(TclaudeError):
    """The setup command failed; the worktree is left in place."""


def _git_binary() -> str:
    binary = shutil.which("git")
    if binary is None:
        raise NotFoundError("git not found; install it (Debian/Ubuntu: apt install git)")
    return binary


def git(
    *args: str,
    cwd: str,
    check: bool = True,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``git -C cwd ARGS``; raise GitError with git's message when ``check``.
    ``env`` is added to the environment."""
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", **(env or {})}
    proc = subprocess.run(
        [_git_binary(), "-C", cwd, *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=GIT_TIMEOUT,
    )
    if check and proc.returncode != 0:
        message = proc.stderr.strip().replace("\n", "; ") or f"git {args[0]} failed"
        raise GitError(f"git {args[0]}: {message}")
    return proc


def sanitise(branch: str) -> str:
    """A branch name as an instance or directory name: ``feat/login`` -> ``feat-login``."""
    return slug(branch, 48, "worktree")


@dataclass(frozen=True)
class Worktree:
    """One entry of ``git worktree list``."""

    path: str
    head: str | None
    branch: str | None  # short name; None when detached or bare
    main: bool
    bare: bool = False
    locked: bool = False
    prunable: bool = False  # git's word for a worktree whose directory is gone

    @property
    def exists(self) -> bool:
        return os.path.isdir(self.path)


@dataclass(frozen=True)
class WorkStatus:
    """What removing a worktree would put at risk."""

    changes: int  # uncommitted: modified, staged or untracked (not ignored) paths
    upstream: str | None
    ahead: int | None  # commits ahead of the upstream; None without one
    unpushed: int  # commits on no remote branch (nor, without upstream, in another ref)

    @property
    def dirty(self) -> bool:
        return self.changes > 0


@dataclass(frozen=True)
class Kept:
    """What a forced removal would have lost, kept under ``ref``."""

    ref: str
    files: list[str]  # uncommitted paths: the last commit of ref holds them
    commits: list[str]  # unpushed commits, "abc1234 subject", newest first

    def summary(self, what: str) -> str:
        """One line: what was kept, where, and how to get it back."""
        parts = []
        if self.files:
            parts.append(f"{len(self.files)} uncommitted file(s) ({_some(self.files)})")
        if self.commits:
            parts.append(f"{len(self.commits)} unpushed commit(s) ({_some(self.commits, '; ')})")
        return (
            f"kept {' and '.join(parts)} of {what} in {self.ref}; "
            f"`git branch NAME {self.ref}` brings them back"
            + (" (the uncommitted files as its last commit)" if self.files else "")
        )


def _some(items: list[str], sep: str = ", ", most: int = 5) -> str:
    shown = sep.join(items[:most])
    return shown + (f"{sep}and {len(items) - most} more" if len(items) > most else "")


@dataclass(frozen=True)
class Added:
    """What ``Repository.add`` did."""

    worktree: Worktree
    created: bool  # False: the branch's worktree existed and is reused
    how: str  # "new branch from REF", "existing branch", "tracking REMOTE/BRANCH", "reused"


def _parse_list(text: str) -> list[Worktree]:
    found: list[Worktree] = []
    for block in text.strip().split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, _, value = line.partition(" ")
            fields[key] = value
        if "worktree" not in fields:
            continue
        branch = fields.get("branch")
        found.append(
            Worktree(
                path=fields["worktree"],
                head=fields.get("HEAD"),
                branch=branch.removeprefix("refs/heads/") if branch else None,
                main=not found,
                bare="bare" in fields,
                locked="locked" in fields,
                prunable="prunable" in fields,
            )
        )
    return found


class Repository:
    """A git repository with its worktrees, found from any directory inside one."""

    def __init__(self, worktrees: list[Worktree]) -> None:
        self._worktrees = worktrees
        self.main = worktrees[0]

    @classmethod
    def discover(cls, cwd: str) -> Repository:
        cwd = os.path.realpath(os.path.expanduser(cwd))
        if not os.path.isdir(cwd):
            raise NotFoundError(f"no such directory: {cwd}")
        proc = git("worktree", "list", "--porcelain", cwd=cwd, check=False)
        if proc.returncode != 0:
            if "not a git repository" in proc.stderr:
                raise TclaudeError(f"{cwd} is not in a git repository")
            raise GitError(f"git worktree list: {proc.stderr.strip()}")
        worktrees = _parse_list(proc.stdout)
        if not worktrees:
            raise GitError(f"git worktree list printed nothing in {cwd}")
        return cls(worktrees)

    @property
    def root(self) -> str:
        """The main worktree's directory (for a bare repository: the repository)."""
        return self.main.path

    @property
    def name(self) -> str:
        base = os.path.basename(self.root.rstrip("/"))
        return base.removesuffix(".git") if self.main.bare else base

    def worktrees(self, refresh: bool = False) -> list[Worktree]:
        if refresh:
            self._worktrees = _parse_list(
                git("worktree", "list", "--porcelain", cwd=self.root).stdout
            )
            self.main = self._worktrees[0]
        return list(self._worktrees)

    def containing(self, path: str) -> Worktree | None:
        """The listed worktree that holds ``path`` most closely (worktrees may nest)."""
        path = os.path.realpath(path)
        best: Worktree | None = None
        for worktree in self._worktrees:
            root = os.path.realpath(worktree.path)
            if paths.inside(path, root) and (best is None or len(root) > len(best.path)):
                best = replace(worktree, path=root)
        return best

    def for_branch(self, branch: str) -> Worktree | None:
        return next((w for w in self._worktrees if w.branch == branch), None)

    def default_path(self, branch: str, template: str = DEFAULT_DIR) -> str:
        """Where a branch's worktree goes: ``template`` beside the main worktree.

        ``{repo}`` is the repository's directory name, ``{root}`` its path and
        ``{branch}`` the sanitised branch; a relative result is taken from the
        main worktree's parent directory.
        """
        try:
            rel = template.format(repo=self.name, root=self.root, branch=sanitise(branch))
        except (KeyError, IndexError, ValueError) as exc:
            raise TclaudeError(
                f"config: worktree_dir {template!r}: {exc}; use {{repo}}, {{root}}, {{branch}}"
            ) from None
        rel = os.path.expanduser(rel)
        return os.path.normpath(os.path.join(os.path.dirname(self.root.rstrip("/")), rel))

    def has_ref(self, ref: str) -> bool:
        return (
            git("rev-parse", "--verify", "--quiet", ref, cwd=self.root, check=False).returncode == 0
        )

    def _remote_candidates(self, branch: str) -> list[str]:
        remotes = git("remote", cwd=self.root, check=False).stdout.split()
        return [f"{r}/{branch}" for r in remotes if self.has_ref(f"refs/remotes/{r}/{branch}")]

    def add(
        self,
        branch: str,
        base: str | None = None,
        path: str | None = None,
        template: str = DEFAULT_DIR,
    ) -> Added:
        """``git worktree add`` for ``branch``: the existing branch, or a new one from ``base``.

        A branch already checked out in a worktree of this repository is reused
        (nothing created). ``base`` is refused for an existing branch, so a
        typo never silently checks out something else.
        """
        if git("check-ref-format", "--branch", branch, cwd=self.root, check=False).returncode:
            raise TclaudeError(f"{branch!r} is not a valid branch name")
        existing = self.for_branch(branch)
        if existing is not None:
            if base is not None:
                raise TclaudeError(
                    f"branch {branch!r} is checked out in {existing.path} already; "
                    "drop --base to start an instance there"
                )
            if not existing.exists:
                raise TclaudeError(
                    f"branch {branch!r} belongs to the worktree {existing.path}, whose directory "
                    "is gone; run `git worktree prune` first"
                )
            return Added(self.containing(existing.path) or existing, False, "reused")
        target = (
            os.path.realpath(os.path.expanduser(path))
            if path
            else self.default_path(branch, template)
        )
        if os.path.exists(target) and (not os.path.isdir(target) or os.listdir(target)):
            raise TclaudeError(f"{target} exists already; choose another place with --path")
        local = self.has_ref(f"refs/heads/{branch}")
        if local:
            if base is not None:
                raise TclaudeError(
                    f"branch {branch!r} exists already; --base only applies to a new branch"
                )
            args, how = ["worktree", "add", target, branch], "existing branch"
        else:
            remote = self._remote_candidates(branch) if base is None else []
            if len(remote) == 1:
                args = ["worktree", "add", "--track", "-b", branch, target, remote[0]]
                how = f"tracking {remote[0]}"
            else:
                start = base or "HEAD"
                if not self.has_ref(start + "^{commit}"):
                    raise TclaudeError(f"no commit {start!r} to start the branch from")
                args, how = ["worktree", "add", "-b", branch, target, start], f"new from {start}"
        os.makedirs(os.path.dirname(target), exist_ok=True)
        git(*args, cwd=self.root)
        logger.info("worktree added", extra={"path": target, "branch": branch})
        self.worktrees(refresh=True)
        added = self.containing(target)
        if added is None:  # pragma: no cover - git said it worked
            raise GitError(f"git worktree add did not list {target}")
        return Added(added, True, how)

    def status(self, worktree: Worktree) -> WorkStatus:
        """Uncommitted changes and unpushed commits of one worktree (git, 3-4 calls)."""
        path = worktree.path
        porcelain = git("status", "--porcelain", "--untracked-files=normal", cwd=path).stdout
        changes = len([line for line in porcelain.splitlines() if line.strip()])
        up = git(
            "rev-parse",
            "--abbrev-ref",
            "--symbolic-full-name",
            "@{upstream}",
            cwd=path,
            check=False,
        )
        upstream = up.stdout.strip() if up.returncode == 0 and up.stdout.strip() else None
        ahead = None
        if upstream is not None:
            ahead = _count(git("rev-list", "--count", "@{upstream}..HEAD", cwd=path, check=False))
        # Commits on no remote branch; without an upstream, work still held by another
        # branch or tag (the base it came from) is not at risk either.
        exclude = ["--exclude=" + worktree.branch] if worktree.branch else []
        others = [] if upstream else [*exclude, "--branches", "--tags"]
        unpushed = _count(
            git("rev-list", "--count", "HEAD", "--not", "--remotes", *others, cwd=path, check=False)
        )
        return WorkStatus(changes, upstream, ahead, unpushed)

    def keep(self, worktree: Worktree) -> Kept | None:
        """Before a forced removal: keep its uncommitted files and unpushed commits in a
        ref under ``refs/tclaude/removed/`` (a commit of the files, on top of HEAD, made
        with a scratch index: the user's index and stash are not touched). None when
        there is nothing to lose."""
        import tempfile
        import time

        path = worktree.path
        status = self.status(worktree)
        if not status.dirty and not status.unpushed:
            return None
        porcelain = git(
            "status", "--porcelain", "-z", "--untracked-files=all", cwd=path
        ).stdout.split("\0")
        files = [entry[3:] for entry in porcelain if len(entry) > 3 and entry[2] == " "]
        head = git("rev-parse", "--verify", "-q", "HEAD", cwd=path, check=False).stdout.strip()
        commits: list[str] = []
        if status.unpushed and head:
            exclude = ["--exclude=" + worktree.branch] if worktree.branch else []
            others = [] if status.upstream else [*exclude, "--branches", "--tags"]
            log = git("log", "--format=%h %s", "HEAD", "--not", "--remotes", *others, cwd=path)
            commits = log.stdout.splitlines()
        target = head
        if status.dirty:
            with tempfile.TemporaryDirectory(prefix="tclaude-keep-") as scratch:
                index = {"GIT_INDEX_FILE": os.path.join(scratch, "index"), **_identity(path)}
                if head:
                    git("read-tree", "HEAD", cwd=path, env=index)
                git("add", "-A", cwd=path, env=index)
                tree = git("write-tree", cwd=path, env=index).stdout.strip()
                message = f"tclaude: uncommitted files of {path} before its removal"
                parent = ["-p", head] if head else []
                target = git(
                    "commit-tree", tree, *parent, "-m", message, cwd=path, env=index
                ).stdout.strip()
        name = sanitise(worktree.branch or os.path.basename(path)) or "worktree"
        ref = f"refs/tclaude/removed/{name}-{time.strftime('%Y%m%d-%H%M%S')}"
        git("update-ref", ref, target, cwd=self.root)
        logger.info("work kept", extra={"path": path, "ref": ref})
        return Kept(ref, files, commits)

    def remove(self, worktree: Worktree, force: bool = False) -> None:
        """``git worktree remove``: only a linked worktree this repository lists."""
        self.check_removable(worktree)
        args = ["worktree", "remove", *(["--force"] if force else []), worktree.path]
        git(*args, cwd=self.root)
        logger.info("worktree removed", extra={"path": worktree.path})

    def check_removable(self, worktree: Worktree) -> None:
        listed = {os.path.realpath(w.path): w for w in self._worktrees}
        entry = listed.get(os.path.realpath(worktree.path))
        if entry is None:
            raise TclaudeError(f"{worktree.path} is not a worktree of {self.root}; nothing removed")
        if entry.main or entry.bare:
            raise TclaudeError(
                f"{worktree.path} is the main worktree of the repository; it is never removed"
            )

    def delete_branch(self, branch: str, force: bool = False) -> None:
        git("branch", "-D" if force else "-d", branch, cwd=self.root)
        logger.info("branch deleted", extra={"branch": branch})


def _identity(cwd: str) -> dict[str, str]:
    """A committer for the keeping commit when git has none configured."""
    if git("config", "user.email", cwd=cwd, check=False).stdout.strip() or os.environ.get(
        "GIT_COMMITTER_EMAIL"
    ):
        return {}
    return {
        "GIT_AUTHOR_NAME": "tclaude",
        "GIT_AUTHOR_EMAIL": "tclaude@localhost",
        "GIT_COMMITTER_NAME": "tclaude",
        "GIT_COMMITTER_EMAIL": "tclaude@localhost",
    }


def _count(proc: subprocess.CompletedProcess[str]) -> int:
    text = proc.stdout.strip()
    return int(text) if proc.returncode == 0 and text.isdigit() else 0


def include_entries(source: str, patterns: Sequence[str] = ()) -> list[str]:
    """Paths under ``source`` (relative; directories end in ``/``) to carry into a worktree.

    Those matched by ``.worktreeinclude`` or ``patterns`` that git ignores: a
    wholly ignored directory is one entry, a partly ignored one is expanded.
    """
    include_file = os.path.join(source, INCLUDE_FILE)
    selectors = [f"--exclude={p}" for p in patterns if p.strip()]
    if os.path.isfile(include_file):
        selectors.append(f"--exclude-from={include_file}")
    if not selectors:
        return []
    base = ["ls-files", "-z", "--others", "--ignored", *selectors]
    listed = _nul(git(*base, "--directory", cwd=source).stdout)
    ignored = set(_check_ignore(source, listed))
    entries: list[str] = []
    for entry in listed:
        if entry in ignored:
            entries.append(entry)
        elif entry.endswith("/"):  # matched, but only some of it ignored: look inside
            files = _nul(git(*base, "--", entry, cwd=source).stdout)
            entries += _check_ignore(source, files)
    return sorted(set(entries))


def _nul(text: str) -> list[str]:
    return [part for part in text.split("\0") if part]


def _check_ignore(source: str, entries: list[str]) -> list[str]:
    if not entries:
        return []
    proc = git("check-ignore", "-z", "--stdin", cwd=source, check=False, stdin="\0".join(entries))
    return _nul(proc.stdout)


def copy_includes(
    source: str,
    target: str,
    patterns: Sequence[str] = (),
    mode: str = "copy",
    skip: Iterable[str] = (),
) -> list[str]:
    """Copy (or symlink) the include entries from ``source`` into ``target``; the list done.

    Existing files in ``target`` are never overwritten; entries inside any
    path of ``skip`` (other worktrees) or that would leave ``target`` are skipped.
    """
    skipped = [os.path.realpath(p) for p in skip]
    target_root = os.path.realpath(target)
    done: list[str] = []
    for entry in include_entries(source, patterns):
        rel = entry.rstrip("/")
        src = os.path.join(source, rel)
        dst = os.path.normpath(os.path.join(target_root, rel))
        real_src = os.path.realpath(src)
        if not paths.inside(dst, target_root) or any(
            paths.inside(real_src, s) or paths.inside(s, real_src) for s in skipped
        ):
            continue
        if os.path.lexists(dst):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if mode == "symlink":
            os.symlink(os.path.abspath(src), dst)
        elif os.path.isdir(src) and not os.path.islink(src):
            shutil.copytree(src, dst, symlinks=True)
        else:
            shutil.copy2(src, dst, follow_symlinks=False)
        done.append(entry)
    return done


def run_setup(command: str, worktree: str, branch: str | None, repo_root: str) -> None:
    """Run ``sh -c command`` in the worktree, its output on stderr; SetupError on failure."""
    env = {
        **os.environ,
        "TCLAUDE_WORKTREE": worktree,
        "TCLAUDE_BRANCH": branch or "",
        "TCLAUDE_REPO": repo_root,
    }
    sys.stderr.flush()
    proc = subprocess.run(
        ["sh", "-c", command], cwd=worktree, env=env, stdout=sys.stderr, check=False
    )
    if proc.returncode != 0:
        raise SetupError(
            f"worktree setup `{command}` failed (exit {proc.returncode}) in {worktree}; "
            f"the worktree is left in place: fix it, then `tclaude new --cwd {worktree}`, "
            f"or remove it with `git worktree remove {worktree}`"
        )


def is_stale(cwd: str, running: bool) -> bool:
    """A running instance whose directory is gone (its worktree deleted under it).

    Hook point for notifications: whatever marks an instance ``stale`` (the
    registry when it lists, or a host watching its cwd) should notify here.
    """
    return running and bool(cwd) and not os.path.isdir(cwd)
