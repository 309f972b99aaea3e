"""Start a Claude Code instance in a tmux window (or pane) with its own IDE server.

Waits until the instance's host is ready, then prints it. Inside tmux the new
instance gets focus unless --detached.

examples:
  tclaude new                          name from the directory: api, api-2, ...
  tclaude new --name docs --cwd ~/src/docs
  tclaude new --layout split           a pane in the shared instances window
  tclaude new --beside $TMUX_PANE      next to your editor's pane
  tclaude new --json -- --model sonnet arguments after -- go to claude
"""

from __future__ import annotations

import argparse
import os

from .app import App, add_json_flag


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--name", help="instance name (default: the directory's name)")
    parser.add_argument("--cwd", default=None, help="working directory (default: .)")
    parser.add_argument("--layout", choices=["tabbed", "split"], default=None)
    parser.add_argument("--beside", metavar="PANE", help="split this tmux pane (e.g. an editor's)")
    parser.add_argument("--detached", action="store_true", help="do not focus the new instance")
    add_json_flag(parser)
    parser.add_argument("claude_args", nargs=argparse.REMAINDER, help="-- then claude's arguments")


def run(args: argparse.Namespace) -> int:
    from ..spawn import Spawner, SpawnRequest

    app = App.load({"layout": args.layout})
    claude_args = list(args.claude_args)
    if claude_args and claude_args[0] == "--":
        claude_args = claude_args[1:]
    request = SpawnRequest(
        cwd=args.cwd or os.getcwd(),
        name=args.name,
        layout=app.config.layout,
        beside=args.beside,
        detached=args.detached,
        claude_args=claude_args,
    )
    entry, ready = Spawner(app.config, app.tmux, app.state).spawn(request)
    print_instance(app, entry.id, ready, args.json)
    return 0


def print_instance(app: App, instance_id: str, ready: dict[str, object], as_json: bool) -> None:
    from .output import print_json

    instance = app.registry.resolve(instance_id)
    data = instance.to_json()
    data["lockfile"] = ready.get("lockfile", data["lockfile"])
    data["socket"] = ready.get("socket", data["socket"])
    if as_json:
        print_json(data)
    else:
        print(
            f"{data['name']} ({data['id']}) in {data['cwd']}: "
            f"port {data['port']}, pane {data['pane']}"
        )
