"""Show one instance's host status: port, claude pid, connected CLIs and editors, pending diffs.

examples:
  tclaude status api
  tclaude status api --json
"""

from __future__ import annotations

import argparse
from typing import Any

from ..app import App
from .flags import add_json_flag


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("target", help="instance name, id or pane id")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from ..editor_client import editor_call
    from ..instance_usage import usage_of
    from .output import print_json
    from .usage_column import cell

    app = App.load()
    instance = app.registry.resolve(args.target)
    status = editor_call(instance, "status", {})
    usage = usage_of([instance], app.config)[instance.id]
    status["usage"] = usage if args.json else _usage_line(usage, cell(usage))
    if args.json:
        print_json(status)
    else:
        for key, value in status.items():
            print(f"{key:>14}: {value}")
    return 0


def _usage_line(usage: dict[str, Any] | None, short: str) -> str:
    if usage is None:
        return "-"
    cached = usage["cache_creation_input_tokens"] + usage["cache_read_input_tokens"]
    text = (
        f"{short} (context {usage['context_tokens']}/{usage['context_window']}, "
        f"in {usage['input_tokens']}, out {usage['output_tokens']}, cache {cached}; "
        "cost is an estimate)"
    )
    if usage["limit"]:
        text += f"; limited: {usage['limit']}"
    return text
