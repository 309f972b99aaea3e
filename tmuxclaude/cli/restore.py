"""Bring instances back after tmux, the terminal or the machine restarted.

Each stopped instance is relaunched in its cwd and layout with
`--resume=<session id>` when its conversation is there, else fresh (with
the same session id when it was never prompted, a new one otherwise); the
output says which and why. Never `--continue`: two instances of one
directory would share the latest conversation. Running instances are left
alone, so it is safe to run twice (or from a tmux hook at every server start).

examples:
  tclaude restore --dry-run      what would happen
  tclaude restore                everything
  tclaude restore api docs       just these
"""

from __future__ import annotations

import argparse

from ..app import App
from .flags import add_json_flag


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("names", nargs="*", help="instances to restore (default: all)")
    parser.add_argument("--dry-run", action="store_true", help="say what would happen, do it not")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from .. import restore
    from .output import print_json

    app = App.load()
    if args.dry_run:
        plans, swept, failed = restore.plan(app.registry, args.names), [], 0
    else:
        with app.state.creating():  # a second restore plans after this one has started all
            plans = restore.plan(app.registry, args.names)
            swept = restore.sweep_stale()
            failed = restore.relaunch(app, plans)
    plugin = None
    if not args.dry_run and any(p.action == "restore" for p in plans):
        from ..tmux_plugin import reapply

        plugin = reapply(app.tmux)
    if args.json:
        print_json(
            {"instances": [p.to_json() for p in plans], "swept": swept, "tmux_plugin": plugin}
        )
    else:
        for item in plans:
            verb = {"restore": "would restore" if args.dry_run else "restored"}.get(
                item.action, item.action
            )
            how = f" ({item.resume})" if item.action == "restore" else ""
            print(f"{item.entry.name}: {verb}{how} — {item.reason}")
        if not plans:
            print("nothing to restore")
        if swept:
            print(f"swept {len(swept)} stale file(s) of dead hosts")
        if plugin:
            print(f"loaded the tmux plugin again: {plugin}")
    return 1 if failed else 0
