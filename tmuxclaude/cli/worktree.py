"""The current repository's git worktrees and their instances.

list (the default) shows each worktree with its instance (or none), branch,
uncommitted changes and commits not pushed anywhere. sync starts a detached
instance in every worktree that has none; run twice, it starts nothing the
second time.

examples:
  tclaude worktree                     same as: tclaude worktree list
  tclaude worktree list --json
  tclaude worktree sync --dry-run      what sync would start
  tclaude worktree sync
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

from .. import worktree_instances
from ..app import App
from ..registry import Instance
from ..worktree import Repository
from .flags import add_json_flag

ACTIONS = ("list", "sync")


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    sub = parser.add_subparsers(dest="action", metavar="{list,sync}")
    for action, summary in (
        ("list", "each worktree with its instance, branch, changes, unpushed commits"),
        ("sync", "start an instance in each worktree that has none"),
    ):
        child = sub.add_parser(action, help=summary, description=summary)
        child.add_argument("--cwd", default=None, help="a directory in the repository (default .)")
        if action == "sync":
            child.add_argument("--dry-run", action="store_true", help="say what would start")
        add_json_flag(child)


def parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace:
    args = list(argv)
    if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help")):
        args.insert(0, "list")
    return parser.parse_args(args)


def run(args: argparse.Namespace) -> int:
    app = App.load()
    repo = Repository.discover(args.cwd or os.getcwd())
    instances = app.registry.instances()
    if args.action == "sync":
        return _sync(app, repo, instances, args.dry_run, args.json)
    return _list(repo, instances, args.json)


def _sync(
    app: App, repo: Repository, instances: list[Instance], dry_run: bool, as_json: bool
) -> int:
    from .output import print_json

    report = worktree_instances.sync(
        app, repo, instances, dry_run, None if as_json else (lambda item: print(_describe(item)))
    )
    if as_json:
        print_json(report)
    return 0


def _list(repo: Repository, instances: list[Instance], as_json: bool) -> int:
    from .output import print_json, state_style, table

    found = worktree_instances.rows(repo, instances)
    if as_json:
        print_json(found)
        return 0

    def dirty(row: worktree_instances.WorktreeRow) -> str:
        if not row["exists"]:
            return "gone"
        return f"yes ({row['changes']})" if row["dirty"] else "no"

    def pushed(row: worktree_instances.WorktreeRow) -> str:
        if row["unpushed"] is None:
            return "-"
        ahead = f", ahead of {row['upstream']}" if row["ahead"] else ""
        return f"{row['unpushed']}{ahead}"

    table(
        ["worktree", "branch", "instance", "state", "dirty", "unpushed"],
        [
            [
                row["path"] + (" (main)" if row["main"] else ""),
                row["branch"] or "(detached)",
                row["instance"]["name"] if row["instance"] else "-",
                row["instance"]["state"] if row["instance"] else "-",
                dirty(row),
                pushed(row),
            ]
            for row in found
        ],
        styles=[{3: state_style(r["instance"]["state"])} if r["instance"] else {} for r in found],
    )
    return 0


def _describe(item: dict[str, Any]) -> str:
    path = item["worktree"]
    if item["action"] == "exists":
        return f"{path}: has {item['instance']} ({item['state']})"
    if item["action"] == "skipped":
        return f"{path}: skipped, {item['reason']}"
    return f"{path}: {item['action']} {item['instance']}"
