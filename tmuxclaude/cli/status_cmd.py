"""Show one instance's host status: port, claude pid, connected CLIs and editors, pending diffs.

examples:
  tclaude status api
  tclaude status api --json
"""

from __future__ import annotations

import argparse

from .app import App, add_json_flag


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("target", help="instance name, id or pane id")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from .output import print_json
    from .send import editor_call

    app = App.load()
    instance = app.registry.resolve(args.target)
    status = editor_call(instance, "status", {})
    if args.json:
        print_json(status)
    else:
        for key, value in status.items():
            print(f"{key:>14}: {value}")
    return 0
