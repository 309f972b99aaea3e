"""Wait until an instance reaches a state; for scripts.

Exit 0 when it does, 1 on timeout, 3 when the instance stopped instead.
The host signals a tmux wait-for channel at every change, so this blocks
in tmux rather than polling. With --json, one object says how it ended:
{"name", "id", "state", "result"}, result "reached", "timeout" or "stopped",
state the one it was in then (the exit code is the same).

examples:
  tclaude wait api --state idle --timeout 600 && notify-send "api is done"
  tclaude wait api --state waiting,idle
  tclaude wait gpu:train --state idle --json
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time

from ..app import App
from ..errors import TclaudeError
from .flags import add_json_flag

RECHECK = 1.0  # seconds: also notice a pane that died without a last signal
EXIT_CODES = {"reached": 0, "timeout": 1, "stopped": 3}  # as without --json


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("target", help="instance name, id or pane id")
    parser.add_argument("--state", required=True, help="state(s) to wait for, comma-separated")
    parser.add_argument("--timeout", type=float, default=None, help="seconds (default: forever)")
    add_json_flag(parser)


def run(args: argparse.Namespace) -> int:
    from ..state_tracker import STATES

    wanted = {s.strip() for s in args.state.split(",") if s.strip()}
    unknown = wanted - set(STATES)
    if unknown:
        raise TclaudeError(f"unknown state {sorted(unknown)[0]!r}; states: {', '.join(STATES)}")
    app = App.load()
    instance = app.registry.resolve(args.target)

    def ended(state: str, result: str) -> int:
        """Say how the wait ended (one JSON object with --json); its exit code."""
        if args.json:
            from .output import print_json

            print_json({"name": instance.name, "id": instance.id, "state": state, "result": result})
        elif result == "reached":
            print(state)
        elif result == "stopped":
            print(f"tclaude: {instance.name} stopped", file=sys.stderr)
        else:
            print(f"tclaude: {instance.name} is still {state}", file=sys.stderr)
        return EXIT_CODES[result]

    if instance.pane is None:
        if "stopped" in wanted:
            return ended("stopped", "reached")
        raise TclaudeError(f"instance {instance.name!r} is not running")
    pane, channel = instance.pane.pane_id, f"tclaude-{instance.id}"
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    while True:
        state = app.tmux.display("#{@tclaude-state}", pane, check=False).strip()
        if state in wanted or (not state and "stopped" in wanted):
            return ended(state or "stopped", "reached")
        if not state or state == "stopped":
            return ended("stopped", "stopped")
        left = RECHECK if deadline is None else min(RECHECK, deadline - time.monotonic())
        if left <= 0:
            return ended(state, "timeout")
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(
                app.tmux.argv("wait-for", channel), timeout=left, capture_output=True, check=False
            )
