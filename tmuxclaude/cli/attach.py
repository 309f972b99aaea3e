"""Attach to the instances' tmux session (outside tmux) or switch to it (inside).

examples:
  tclaude attach            where you were: the last focused instance
  tclaude attach api
"""

from __future__ import annotations

import argparse
import os

from ..app import App
from ..errors import TclaudeError


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("target", nargs="?", help="instance to focus (default: where you were)")


def run(args: argparse.Namespace) -> int:
    from ..tmux import inside_tmux
    from ..views import attach_argv, focus_commands

    app = App.load()
    running = [i for i in app.registry.instances() if i.running]
    if args.target:
        target = app.registry.resolve(args.target, running)
    elif running:
        target = next(
            (i for i in running if i.pane and i.pane.active and i.pane.window_active), running[0]
        )
    else:
        raise TclaudeError("no running instances; start one with tclaude new, or tclaude restore")
    assert target.pane is not None
    if inside_tmux():
        app.tmux.sequence(focus_commands(app.tmux, target.pane.pane_id, client=True))
        return 0
    # a view of its own (views.py): other terminals keep what they show
    argv = attach_argv(app.tmux, target.pane.session, target.pane.pane_id)
    os.execv(argv[0], argv)
