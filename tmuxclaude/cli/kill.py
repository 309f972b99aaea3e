"""Stop instances; return only when their processes, lock files and sockets are gone.

examples:
  tclaude kill api
  tclaude kill api docs
  tclaude kill --all
"""

from __future__ import annotations

import argparse

from ..errors import TclaudeError
from .app import App, add_json_flag


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("targets", nargs="*", help="instance names, ids or pane ids")
    parser.add_argument("--all", action="store_true", help="every instance, running or stopped")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from .. import teardown
    from .output import print_json

    if bool(args.targets) == bool(args.all):
        raise TclaudeError("name the instances to kill, or use --all")
    app = App.load()
    instances = app.registry.instances()
    chosen = instances if args.all else [app.registry.resolve(t, instances) for t in args.targets]
    teardown.stop(chosen, app.tmux, app.state)
    names = [i.name for i in chosen]
    if args.json:
        print_json({"killed": names})
    elif names:
        print("killed " + ", ".join(names))
    return 0
