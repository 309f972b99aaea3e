"""Forget instances whose directory is gone: stale ones (still running, their
worktree deleted under them) are stopped first, stopped ones are dropped from
the state file. Stopped instances whose directory still exists are kept for
`tclaude restore`.

examples:
  tclaude prune --dry-run      say what would go
  tclaude prune
  tclaude prune --json
"""

from __future__ import annotations

import argparse
import os
from typing import TypedDict

from ..app import App
from ..registry import Instance
from .flags import add_json_flag


class PrunedRow(TypedDict):
    name: str
    id: str
    state: str
    cwd: str
    reason: str


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--dry-run", action="store_true", help="report, change nothing")
    add_json_flag(parser)


def prunable(instances: list[Instance]) -> list[tuple[Instance, str, str]]:
    """(instance, state, reason) for each instance whose directory is gone."""
    from ..worktree import is_stale

    found: list[tuple[Instance, str, str]] = []
    for instance in instances:
        if is_stale(instance.cwd, instance.running):
            # HOOK(notify-stale): this is where a stale instance is detected from the CLI;
            # a notification would go out here (and from the registry / host likewise).
            found.append((instance, "stale", f"running, but {instance.cwd} is gone"))
        elif not instance.running and not os.path.isdir(instance.cwd or "/nonexistent/"):
            found.append((instance, "stopped", f"{instance.cwd or 'its directory'} is gone"))
    return found


def run(args: argparse.Namespace) -> int:
    from .. import teardown
    from .output import print_json

    app = App.load()
    found = prunable(app.registry.instances())
    if found and not args.dry_run:
        teardown.stop([instance for instance, _, _ in found], app.tmux, app.state)
    rows: list[PrunedRow] = [
        {"name": i.name, "id": i.id, "state": state, "cwd": i.cwd, "reason": reason}
        for i, state, reason in found
    ]
    if args.json:
        print_json({"dry_run": args.dry_run, "pruned": rows})
        return 0
    if not rows:
        print("nothing to prune")
    verb = "would prune" if args.dry_run else "pruned"
    for row in rows:
        print(f"{verb} {row['name']} ({row['id']}, {row['state']}): {row['reason']}")
    return 0
