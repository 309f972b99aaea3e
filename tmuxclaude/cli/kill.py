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
from typing import TYPE_CHECKING

from ..app import App
from ..errors import TclaudeError
from .flags import add_json_flag

if TYPE_CHECKING:
    from ..worktree import Kept


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
    names = [i.name for i in chosen]
    removed: list[str] = []
    branches: list[str] = []
    kept: list[tuple[str, Kept]] = []
    if not args.remove_worktree:
        teardown.stop(chosen, app.tmux, app.state)
    else:
        from .. import worktree_removal  # git only when asked

        removals = [worktree_removal.check(i, instances, chosen, args.force) for i in chosen]
        teardown.stop(chosen, app.tmux, app.state)
        try:
            removed, branches, kept = worktree_removal.remove(
                removals, force=args.force, delete_branch=args.delete_branch
            )
        except worktree_removal.BranchKept as err:
            raise TclaudeError(f"killed {', '.join(names)} and {err}") from None
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
