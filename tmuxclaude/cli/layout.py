"""Arrange the running instances of one tmux session as tabs (a window each) or split
panes of one window.

No process restarts: panes move with join-pane and break-pane, in `tclaude list`
order both ways. Only the instances of the session in question move (the caller's
tmux session, else the configured one, or --session). An instance beside an editor
(started with --beside, or shown or hidden with the beside key) stays where it is.

examples:
  tclaude layout split
  tclaude layout tabbed
  tclaude layout split --session work
  tclaude layout beside --record api --editor %3    record only (the beside key runs it)
"""

from __future__ import annotations

import argparse

from .. import layout
from ..app import App
from ..errors import TclaudeError


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("layout", choices=["tabbed", "split", "beside"])
    parser.add_argument(
        "--record",
        metavar="INSTANCE",
        help="move nothing: record INSTANCE's layout in the state file (after the beside key)",
    )
    parser.add_argument("--editor", metavar="PANE", help="with --record beside: the editor pane")
    parser.add_argument(
        "--session",
        metavar="NAME",
        help="the tmux session whose instances move (default: this one, else the configured)",
    )


def run(args: argparse.Namespace) -> int:
    app = App.load()
    if args.record:
        layout.record(app, args.record, args.layout, args.editor)
        return 0
    if args.layout == "beside":
        raise TclaudeError("layout beside only records (--record INSTANCE): use the beside key")
    moved, kept = layout.arrange(app, args.layout, args.session)
    note = f"; {kept} beside an editor left in place" if kept else ""
    print(f"{moved} instance(s) arranged {args.layout}{note}")
    return 0
