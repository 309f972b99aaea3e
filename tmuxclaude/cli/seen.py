"""Tell the watchers that the instance in PANE was looked at (the tmux plugin's seen hook
runs this after it cleared @tclaude-unseen; see tmuxclaude/seen.py).

examples:
  tclaude seen %3
"""

from __future__ import annotations

import argparse

from ..app import App


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("pane", help="a tmux pane id (%%N)")


def run(args: argparse.Namespace) -> int:
    from ..seen import publish_seen

    publish_seen(App.load().tmux, args.pane)
    return 0
