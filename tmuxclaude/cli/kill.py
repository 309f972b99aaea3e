"""Stop instances; return only when their processes, lock files and sockets are gone.

With --remove-worktree, each instance's git worktree is removed after the
instance has stopped. It is refused, before anything is stopped, when the
worktree has uncommitted changes or commits on no remote branch (unless
--force), when it is the main worktree, or when git does not list it. The
branch goes too only with --delete-branch (git branch -d; -D with --force).
With --force nothing is lost: uncommitted files (as a commit on top of HEAD)
and unpushed commits are kept in a ref under refs/tclaude/removed/, named in
the output.

examples:
  tclaude kill api
  tclaude kill api docs
  tclaude kill --all
  tclaude kill feat-login --remove-worktree
  tclaude kill feat-login --remove-worktree --delete-branch --force
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .. import paths
from ..app import App
from ..errors import TclaudeError
from .flags import add_json_flag

if TYPE_CHECKING:
    from ..registry import Instance
    from ..worktree import Kept, Repository, Worktree


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("targets", nargs="*", help="instance names, ids or pane ids")
    parser.add_argument("--all", action="store_true", help="every instance, running or stopped")
    parser.add_argument(
        "--remove-worktree",
        action="store_true",
        help="then remove each instance's git worktree (not the main one)",
    )
    parser.add_argument(
        "--delete-branch", action="store_true", help="with --remove-worktree: delete the branch"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="remove worktrees with uncommitted or unpushed work; delete unmerged branches",
    )
    add_json_flag(parser)


@dataclass
class Removal:
    instance: Instance
    repo: Repository
    worktree: Worktree


def run(args: argparse.Namespace) -> int:
    from .. import teardown
    from .output import print_json

    if bool(args.targets) == bool(args.all):
        raise TclaudeError("name the instances to kill, or use --all")
    if args.delete_branch and not args.remove_worktree:
        raise TclaudeError("--delete-branch goes with --remove-worktree")
    if args.remove_worktree and args.all:
        raise TclaudeError("--remove-worktree takes instance names, not --all")
    app = App.load()
    instances = app.registry.instances()
    chosen = instances if args.all else [app.registry.resolve(t, instances) for t in args.targets]
    removals = (
        [_check(i, instances, chosen, args.force) for i in chosen] if args.remove_worktree else []
    )
    teardown.stop(chosen, app.tmux, app.state)
    names = [i.name for i in chosen]
    removed: list[str] = []
    branches: list[str] = []
    kept: list[tuple[str, Kept]] = []
    for removal in removals:
        if args.force:  # --force removes, but loses nothing: kept under refs/tclaude/
            keeping = removal.repo.keep(removal.worktree)
            if keeping is not None:
                kept.append((removal.worktree.path, keeping))
        removal.repo.remove(removal.worktree, force=args.force)
        removed.append(removal.worktree.path)
        branch = removal.worktree.branch
        if args.delete_branch and branch:
            try:
                removal.repo.delete_branch(branch, force=args.force)
            except TclaudeError as err:
                raise TclaudeError(
                    f"killed {', '.join(names)} and removed {', '.join(removed)}, but the "
                    f"branch {branch!r} stays: {err} (--force deletes it anyway)"
                ) from None
            branches.append(branch)
    if args.json:
        print_json(
            {
                "killed": names,
                "worktrees_removed": removed,
                "branches_deleted": branches,
                "kept": [
                    {"worktree": path, "ref": k.ref, "files": k.files, "commits": k.commits}
                    for path, k in kept
                ],
            }
        )
        return 0
    if names:
        print("killed " + ", ".join(names))
    else:
        print("no instances to kill")
    for path, keeping in kept:
        print(keeping.summary(path))
    for path in removed:
        print(f"removed worktree {path}")
    for branch in branches:
        print(f"deleted branch {branch}")
    return 0


def _check(
    instance: Instance, instances: list[Instance], chosen: list[Instance], force: bool
) -> Removal:
    """The instance's worktree if removing it is allowed; TclaudeError saying why not."""
    import os

    from ..worktree import Repository

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
