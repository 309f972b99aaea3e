"""Focus an instance: its window and pane selected, the client moved there, zoom undone.

examples:
  tclaude switch api        by name (exact), id or pane id
  tclaude switch -          the previously focused instance
  tclaude switch --waiting  the next instance that needs input (cycling); prefix C-w
  tclaude switch --done     the most recently finished one not seen yet; prefix C-d
                            (with none here, a remote one: as tclaude switch REMOTE:NAME)
  tclaude next / tclaude prev   the local instances only, in list order
  tclaude switch api --client /dev/pts/3   move that tmux client (from a binding)
"""

from __future__ import annotations

import argparse
import sys

from ..app import App
from ..errors import TclaudeError
from ..focus import current, focus, latest_done, next_waiting, previous
from ..registry import Instance


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "switch":
        parser.add_argument(
            "target", nargs="?", help="instance name, id, pane id, or - for the previous"
        )
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--waiting", action="store_true", help="the next instance waiting for input, cycling"
        )
        which.add_argument(
            "--done", action="store_true", help="the most recently finished instance not seen yet"
        )
    parser.add_argument(
        "--client",
        metavar="CLIENT",
        help="the tmux client to move (#{client_name}); default: the current one",
    )


def run(args: argparse.Namespace) -> int:
    chosen = args.command == "switch" and (bool(args.target) + bool(args.waiting) + bool(args.done))
    if args.command == "switch" and chosen != 1:
        raise TclaudeError("name one instance (or -), or give --waiting or --done")
    app = App.load()
    instances = [i for i in app.registry.instances() if i.running]
    wanted = None
    if args.command == "switch":
        wanted = "waiting" if args.waiting else "done" if args.done else None
    if wanted:
        # a local one first; else a remote one, as the status line counts them
        here = current(app, instances, args.client) if instances else None
        try:
            if not instances:
                raise TclaudeError("no running instances; start one with: tclaude new")
            pick = next_waiting if wanted == "waiting" else latest_done
            target = pick(instances, here)
        except TclaudeError:
            if not app.config.remotes:
                raise
            from ..remote.attach import switch_to_known

            if not switch_to_known(app, wanted, args.client):
                raise
            return 0
        return focused(app, target, here, args.client)
    if not instances:
        raise TclaudeError("no running instances; start one with: tclaude new")
    here = current(app, instances, args.client)
    if args.command == "switch":
        target = (
            previous(app, instances)
            if args.target == "-"
            else app.registry.resolve(args.target)  # a stopped one gets its own message
        )
    else:
        step = 1 if args.command == "next" else -1
        index = instances.index(here) + step if here in instances else 0
        target = instances[index % len(instances)]
    if not target.running or target.pane is None:
        raise TclaudeError(f"instance {target.name!r} is stopped; restart it with tclaude restore")
    return focused(app, target, here, args.client)


def focused(app: App, target: Instance, here: Instance | None, client: str | None = None) -> int:
    """Focus ``target`` and say so when no tmux client is there to show it."""
    if not focus(app, target, here, client):
        print(
            f"{target.name} selected; no tmux client is attached: run `tclaude attach`",
            file=sys.stderr,
        )
    return 0
