"""Choose an instance in a full-screen picker, made for a tmux popup.

Lists the running instances (name, state, how long in it, age, directory)
with a live preview of the selected one. Keys: arrows or j/k move, Enter
switches, 1-9 switch to that row, x kills (asks first), n starts an instance
in the current directory, / filters, q or Esc quits; a click selects, a click
on the selected row switches.

examples:
  tclaude pick
  tmux display-popup -E -w 90% -h 85% 'tclaude pick'
  bind-key C-f display-popup -E -d '#{pane_current_path}' "tclaude pick --from '#{pane_id}'"
"""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import TclaudeError
from .app import App


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--from",
        dest="origin",
        metavar="PANE",
        help="the pane the picker was opened from (default: $TMUX_PANE)",
    )


def run(args: argparse.Namespace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise TclaudeError(
            "tclaude pick needs a terminal; in tmux: display-popup -E 'tclaude pick'"
        )
    from ..picker import screen

    app = App.load()
    outcome = screen.run(app, args.origin or os.environ.get("TMUX_PANE"))
    if outcome.error:
        raise TclaudeError(outcome.error)
    return 0
