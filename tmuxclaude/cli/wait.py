"""Wait until an instance reaches a state; for scripts.

Exit 0 when it does, 1 on timeout, 3 when the instance stopped instead.
The host signals a tmux wait-for channel at every change, so this blocks
in tmux rather than polling.

examples:
  tclaude wait api --state idle --timeout 600 && notify-send "api is done"
  tclaude wait api --state waiting,idle
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time

from ..app import App
from ..errors import TclaudeError

RECHECK = 1.0  # seconds: also notice a pane that died without a last signal


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("target", help="instance name, id or pane id")
    parser.add_argument("--state", required=True, help="state(s) to wait for, comma-separated")
    parser.add_argument("--timeout", type=float, default=None, help="seconds (default: forever)")


def run(args: argparse.Namespace) -> int:
    from ..state_tracker import STATES

    wanted = {s.strip() for s in args.state.split(",") if s.strip()}
    unknown = wanted - set(STATES)
    if unknown:
        raise TclaudeError(f"unknown state {sorted(unknown)[0]!r}; states: {', '.join(STATES)}")
    app = App.load()
    instance = app.registry.resolve(args.target)
    if instance.pane is None:
        if "stopped" in wanted:
            return 0
        raise TclaudeError(f"instance {instance.name!r} is not running")
    pane, channel = instance.pane.pane_id, f"tclaude-{instance.id}"
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    while True:
        state = app.tmux.display("#{@tclaude-state}", pane, check=False).strip()
        if state in wanted or (not state and "stopped" in wanted):
            print(state or "stopped")
            return 0
        if not state or state == "stopped":
            print(f"tclaude: {instance.name} stopped", file=sys.stderr)
            return 3
        left = RECHECK if deadline is None else min(RECHECK, deadline - time.monotonic())
        if left <= 0:
            print(f"tclaude: {instance.name} is still {state}", file=sys.stderr)
            return 1
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(
                app.tmux.argv("wait-for", channel), timeout=left, capture_output=True, check=False
            )
