"""Print an instance's screen as it is now, without attaching (one tmux capture-pane).

examples:
  tclaude peek api
  tclaude peek api -n 20        the last 20 lines (from the scrollback when the screen is short)
  watch -n 2 tclaude peek api -n 15
"""

from __future__ import annotations

import argparse
import sys

from ..app import App
from ..errors import TclaudeError
from .output import positive_count


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("target", help="instance name, id or pane id")
    parser.add_argument("-n", "--lines", type=positive_count, help="only the last LINES lines")
    parser.add_argument(
        "-e", "--escapes", action="store_true", help="keep colours (terminal escape sequences)"
    )


def run(args: argparse.Namespace) -> int:
    app = App.load()
    instance = app.registry.resolve(args.target)
    if not instance.running or instance.pane is None:
        raise TclaudeError(
            f"instance {instance.name!r} is not running; "
            f"`tclaude log {instance.name}` shows its conversation"
        )
    screen = app.tmux.capture(instance.pane.pane_id, args.lines, args.escapes)
    rows = screen.rstrip("\n").split("\n")
    while rows and not rows[-1].strip():
        rows.pop()
    if args.lines is not None:
        rows = rows[-args.lines :]
    sys.stdout.write("\n".join(rows) + ("\n" if rows else ""))
    return 0
