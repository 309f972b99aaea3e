"""Print what an instance changed: the git diff of its working tree, per file.

Tracked changes (staged or not) since the instance started (the commit its
directory was at, recorded by its host; HEAD when none was) or against
--base REV, and every untracked file that is not ignored, as a new file;
through the pager your
git uses ($GIT_PAGER, core.pager, $PAGER, less), coloured on a terminal.
PATHS are relative to the instance's directory. Nothing is written to the
repository.

examples:
  tclaude diff api
  tclaude diff api --stat
  tclaude diff api --json | jq '.files[] | select(.added > 100)'
  tclaude diff api --base main -- src/
  tclaude diff                  the instance of this pane or directory
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from ..app import App
from ..focus import target_instance
from .flags import add_json_flag

if TYPE_CHECKING:
    from ..changes import Worktree
    from ..registry import Instance


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "target", nargs="?", help="instance name, id or pane id (default: this pane's instance)"
    )
    parser.usage = "tclaude diff [-h] [--base REV] [--stat] [--json] [target] [-- PATHS ...]"
    parser.add_argument(
        "--base",
        metavar="REV",
        help="diff against this revision (default: the commit the instance started at, else HEAD)",
    )
    parser.add_argument("--stat", action="store_true", help="files and line counts only")
    parser.add_argument("--from", dest="origin", metavar="PANE", help=argparse.SUPPRESS)
    add_json_flag(parser)


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """PATHS come after ``--``, wherever the options are."""
    paths: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, paths = argv[:cut], argv[cut + 1 :]
    namespace = parser.parse_args(argv)
    namespace.paths = paths
    return namespace


def run(args: argparse.Namespace) -> int:
    from ..changes import stat_lines
    from .output import print_json

    app = App.load()
    instance = target_instance(app, args.target, args.origin)
    tree = worktree(instance, args.base)
    if args.json:
        files = tree.files(args.paths)
        print_json(
            {
                "name": instance.name,
                "repository": tree.top,
                "base": tree.base,
                "files": [f.to_json() for f in files],
                "added": sum(f.added or 0 for f in files),
                "removed": sum(f.removed or 0 for f in files),
            }
        )
        return 0
    if args.stat:
        from . import _columns

        lines = stat_lines(tree.files(args.paths), _columns())
        sys.stdout.write("".join(line + "\n" for line in lines))
        return 0
    show(instance, tree, args.paths)
    return 0


def worktree(instance: Instance, base: str | None = None) -> Worktree:
    """The instance's git tree, against ``base``, else the commit it started at, else HEAD."""
    from ..changes import Worktree

    return Worktree(instance.cwd, base, instance.saved.start_commit if instance.saved else None)


def show(instance: Instance, tree: Worktree, paths: list[str] | None = None) -> None:
    """The patch, per file, through the pager (``tclaude diff`` and review's ``d``)."""
    from ..pager import page, use_colour

    text = tree.patch(paths or [], colour=use_colour())
    if not text:
        print(f"{instance.name}: no changes in {tree.top}", file=sys.stderr)
        return
    page(text, instance.cwd)
