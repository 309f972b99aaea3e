"""Removing the git worktree of a killed instance, refused when work would be lost.

Checked before anything is stopped: uncommitted changes, commits on no remote
branch, the main worktree, another instance running in it. With ``force``
nothing is lost either: the work is kept in a ref under refs/tclaude/removed/.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from . import paths
from .errors import TclaudeError
from .registry import Instance
from .worktree import Kept, Repository, Worktree


@dataclass
class Removal:
    instance: Instance
    repo: Repository
    worktree: Worktree


def check(
    instance: Instance, instances: list[Instance], chosen: list[Instance], force: bool
) -> Removal:
    """The instance's worktree if removing it is allowed; TclaudeError saying why not."""
    saved = instance.saved.worktree if instance.saved else None
    where = saved or instance.cwd
    if not where or not os.path.isdir(where):
        raise TclaudeError(
            f"the directory of {instance.name!r} ({where or '?'}) is gone; nothing to remove: "
            "use `tclaude prune` and `git worktree prune`"
        )
    repo = Repository.discover(where)
    worktree = repo.containing(where)
    if worktree is None:  # pragma: no cover - discover found a repository here
        raise TclaudeError(f"{where} is not in a git worktree; nothing removed")
    if worktree.main or worktree.bare:
        raise TclaudeError(
            f"{instance.name!r} runs in the main worktree {worktree.path}; it is never removed "
            "(kill it without --remove-worktree)"
        )
    repo.check_removable(worktree)
    if force:
        return Removal(instance, repo, worktree)
    status = repo.status(worktree)
    problems = []
    if status.dirty:
        problems.append(f"{status.changes} uncommitted change(s)")
    if status.unpushed:
        where_to = f"ahead of {status.upstream}" if status.upstream else "on no remote branch"
        problems.append(f"{status.unpushed} unpushed commit(s), {where_to}")
    chosen_ids = {i.id for i in chosen}
    others = [
        i.name
        for i in instances
        if i.running and i.id not in chosen_ids and i.cwd and paths.inside(i.cwd, worktree.path)
    ]
    if others:
        problems.append("instance(s) " + ", ".join(others) + " running in it")
    if problems:
        raise TclaudeError(
            f"not removing the worktree {worktree.path} of {instance.name!r}: "
            + "; ".join(problems)
            + "; nothing was stopped (--force removes it anyway)"
        )
    return Removal(instance, repo, worktree)


class BranchKept(TclaudeError):
    """A worktree was removed but its branch could not be deleted."""


def remove(
    removals: list[Removal], force: bool, delete_branch: bool
) -> tuple[list[str], list[str], list[tuple[str, Kept]]]:
    """Remove the checked worktrees (their instances are stopped by now).

    Returns the removed paths, the deleted branches, and what ``force`` kept
    under refs/tclaude/ (path, what) so that nothing is lost.
    """
    removed: list[str] = []
    branches: list[str] = []
    kept: list[tuple[str, Kept]] = []
    for removal in removals:
        if force:  # --force removes, but loses nothing: kept under refs/tclaude/
            keeping = removal.repo.keep(removal.worktree)
            if keeping is not None:
                kept.append((removal.worktree.path, keeping))
        removal.repo.remove(removal.worktree, force=force)
        removed.append(removal.worktree.path)
        branch = removal.worktree.branch
        if delete_branch and branch:
            try:
                removal.repo.delete_branch(branch, force=force)
            except TclaudeError as err:
                raise BranchKept(
                    f"removed {', '.join(removed)}, but the "
                    f"branch {branch!r} stays: {err} (--force deletes it anyway)"
                ) from None
            branches.append(branch)
    return removed, branches, kept
