"""Choose an instance in a full-screen picker, made for a tmux popup.

Lists the running instances (name, state, how long in it, age, usage as in
list, directory), then the remotes' ones as REMOTE:NAME (as last heard here),
with a live preview of the selected local one. Keys: arrows or j/k move, Enter
switches, 1-9 switch to that row, x kills (asks first), n starts an instance
in the current directory, / filters, q or Esc quits; a click selects, a click
on the selected row switches.

examples:
  tclaude pick
  tmux display-popup -E -w 90% -h 85% 'tclaude pick'
  bind-key C-f run-shell -b \
    "tmux display-popup -c '#{client_name}' -E 'tclaude pick --from #{pane_id}'"
  (display-popup does not expand #{pane_id} in its command: run-shell does)
"""

from __future__ import annotations

import argparse
import sys

from ..app import App
from ..errors import TclaudeError
from ..focus import origin_pane


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--from",
        dest="origin",
        metavar="PANE",
        help="the pane the picker was opened from (default: $TMUX_PANE)",
    )
    parser.add_argument(
        "--client",
        metavar="CLIENT",
        help="the tmux client to move on a switch (#{client_name}; default: the current one)",
    )


def run(args: argparse.Namespace) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise TclaudeError(
            "tclaude pick needs a terminal; in tmux: display-popup -E 'tclaude pick'"
        )
    from ..picker import screen

    app = App.load()
    outcome = screen.run(app, origin_pane(app, args.origin), args.client)
    if outcome.error:
        raise TclaudeError(outcome.error)
    return 0
