"""Stream instance events: a snapshot of every instance, then one line per event
(created, state changed, renamed, killed) as the hosts push them; no polling.

With --json each line is one JSON object with "type" (snapshot, synced,
created, state, renamed, killed), a growing "seq", "time", and the instance's
"id", "name", "state", "unseen", "cwd", "pane", "target", "port", "created"
("old": the state or name before). "synced" ends the snapshot and names
this tclaude's "version". With --heartbeat N, an "alive" line follows N
seconds without events, so a reader can tell a quiet stream from a dead
link. Runs until interrupted or its output is closed.

examples:
  tclaude watch
  tclaude watch --json | jq -c 'select(.type == "state" and .state == "waiting")'
  tclaude watch --json --heartbeat 1
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import time
from typing import Any

from ..app import App
from .flags import add_json_flag


class _Stop(Exception):
    pass


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    add_json_flag(parser)
    parser.add_argument(
        "--heartbeat",
        type=float,
        metavar="SECONDS",
        help='with --json: an "alive" line after SECONDS without events',
    )


def run(args: argparse.Namespace) -> int:
    from ..errors import TclaudeError
    from ..instance_usage import usage_of
    from ..watcher import Watcher

    heartbeat = args.heartbeat
    if heartbeat is not None and not (0.05 <= heartbeat <= 3600):
        raise TclaudeError("--heartbeat takes seconds between 0.05 and 3600")
    if heartbeat is not None and not args.json:
        raise TclaudeError("--heartbeat goes with --json (its alive lines are JSON)")
    app = App.load()
    watcher = Watcher(app.registry, app.tmux)
    previous = signal.signal(signal.SIGTERM, _stop)
    watcher.open()
    try:
        instances = app.registry.instances()
        _write(watcher.snapshot(usage_of(instances, app.config)), args.json)
        poller = select.poll()
        poller.register(watcher.fileno(), select.POLLIN)
        out = sys.stdout.fileno()
        poller.register(out, 0)  # only POLLERR/POLLHUP: the reader went away (| head)
        wait = -1 if heartbeat is None else int(heartbeat * 1000)
        while True:
            ready = poller.poll(wait)
            if any(fd == out for fd, _ in ready):
                return 0
            if not ready:
                _write([watcher.alive()], args.json)
                continue
            _write(watcher.receive(), args.json)
    except (_Stop, KeyboardInterrupt):
        return 0
    except BrokenPipeError:
        _silence_stdout()
        return 0
    finally:
        watcher.close()
        signal.signal(signal.SIGTERM, previous)


def _stop(signum: int, frame: object) -> None:
    raise _Stop


def _write(events: list[dict[str, Any]], as_json: bool) -> None:
    if not events:
        return
    if as_json:
        import json

        text = "".join(json.dumps(e) + "\n" for e in events)
    else:
        text = "".join(line(e) + "\n" for e in events)
    sys.stdout.write(text)
    sys.stdout.flush()


def line(event: dict[str, Any]) -> str:
    """One readable line: ``12:04:05 state    api  busy -> waiting  main:1.0``."""
    clock = time.strftime("%H:%M:%S", time.localtime(event["time"]))
    kind = event["type"]
    if kind == "synced":
        return f"{clock} synced   {event['count']} instance(s)"
    state = "done" if event.get("state") == "idle" and event.get("unseen") else event.get("state")
    what = {
        "state": f"{event.get('old')} -> {state}",
        "renamed": f"was {event.get('old')}",
        "killed": "",
    }.get(kind, str(state))
    where = event.get("target") or ""
    return f"{clock} {kind:<8} {event['name']:<16} {what:<20} {where}".rstrip()


def _silence_stdout() -> None:
    """After EPIPE: point stdout at /dev/null so the exit's flush does not fail again."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, sys.stdout.fileno())
    os.close(null)
