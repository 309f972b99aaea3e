"""Run one instance host: the IDE server, editor socket and lock file, with claude as its child.

This is what an instance's tmux pane runs; it also works outside tmux:

  tclaude host --id a1 --name api --cwd ~/src/api -- --model sonnet
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
import types

from ..errors import TclaudeError

ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class _LazyModule(types.ModuleType):
    """A module imported on its first attribute access.

    For ``importlib.metadata``: websockets imports it at import time (~12 ms of the
    host's start and ~1 MB: email, zipfile, csv, pathlib …) and uses it only in its
    development builds. Anything that does use it gets the real module.
    """

    def __getattr__(self, name: str) -> object:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), name)


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--id", required=True, dest="instance_id", help="instance id")
    parser.add_argument("--name", help="instance name (default: the id)")
    parser.add_argument("--cwd", default=".", help="working directory (default: .)")
    parser.add_argument("--port-range", default=None, help="LOW-HIGH (default 10000-65535)")
    parser.add_argument("--ready-fifo", help="FIFO to write one JSON line to once ready")
    parser.add_argument(
        "--claude-command",
        default=None,
        help="claude command, split as a shell would (default: $TCLAUDE_CLAUDE_COMMAND or claude)",
    )
    parser.add_argument(
        "--notify", default="message", help="comma list: message,bell,osc777,notify-send"
    )
    parser.add_argument("--no-hooks", action="store_true", help="do not track state via hooks")
    parser.add_argument(
        "--env-file",
        help="private file (0600) with the environment to run with; read and removed at start",
    )
    parser.add_argument("claude_args", nargs=argparse.REMAINDER, help="-- then claude's arguments")


def run(args: argparse.Namespace) -> int:
    if args.env_file:  # first: it holds secrets, and the dirs below come from it
        from .. import env_file

        try:
            os.environ.update(env_file.take(args.env_file))
        except env_file.EnvFileError as err:
            from ..host.startup import signal_ready

            signal_ready(args.ready_fifo, {"error": str(err)})
            raise TclaudeError(str(err)) from None
    # The host speaks plain ws:// on loopback and never needs OpenSSL: keeping it
    # out saves ~1.5 MB RSS per instance and ~7 ms of start (hashlib falls back to
    # its built-in hashes). Only this process is affected.
    sys.modules.setdefault("ssl", None)  # type: ignore[arg-type]
    sys.modules.setdefault("_hashlib", None)  # type: ignore[arg-type]
    if "importlib.metadata" not in sys.modules:
        sys.modules["importlib.metadata"] = _LazyModule("importlib.metadata")
    from ..host.lifecycle import run as run_host
    from ..host.startup import HostOptions
    from ..port_range import DEFAULT_RANGE, parse_range

    if not ID_PATTERN.match(args.instance_id):
        raise TclaudeError(f"bad instance id {args.instance_id!r}: use letters, digits, - and _")
    claude_args = list(args.claude_args)
    if claude_args and claude_args[0] == "--":
        claude_args = claude_args[1:]
    range_text = args.port_range or os.environ.get("TCLAUDE_PORT_RANGE")
    try:
        port_range = parse_range(range_text) if range_text else DEFAULT_RANGE
    except ValueError as exc:
        raise TclaudeError(str(exc)) from None
    options = HostOptions(
        instance_id=args.instance_id,
        name=args.name or args.instance_id,
        cwd=args.cwd,
        claude_args=claude_args,
        claude_command=args.claude_command or os.environ.get("TCLAUDE_CLAUDE_COMMAND") or "claude",
        port_range=port_range,
        ready_fifo=args.ready_fifo,
        notify=[way for way in args.notify.split(",") if way],
        hooks=not args.no_hooks,
    )
    return run_host(options)
