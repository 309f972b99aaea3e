"""Focus an instance: its window and pane selected, the client moved there, zoom undone.

examples:
  tclaude switch api        by name (exact), id or pane id
  tclaude switch -          the previously focused instance
  tclaude switch --waiting  the next instance that needs input (cycling); prefix C-w
  tclaude switch --done     the most recently finished one not seen yet; prefix C-d
  tclaude next / tclaude prev
  tclaude switch api --client /dev/pts/3   move that tmux client (from a binding)
"""

from __future__ import annotations

import argparse
import sys

from ..errors import TclaudeError
from ..registry import Instance
from .app import App

LAST_OPTION = "@tclaude-last"


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    if name == "switch":
        parser.add_argument(
            "target", nargs="?", help="instance name, id, pane id, or - for the previous"
        )
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--waiting", action="store_true", help="the next instance waiting for input, cycling"
        )
        which.add_argument(
            "--done", action="store_true", help="the most recently finished instance not seen yet"
        )
    parser.add_argument(
        "--client",
        metavar="CLIENT",
        help="the tmux client to move (#{client_name}); default: the current one",
    )


def run(args: argparse.Namespace) -> int:
    chosen = args.command == "switch" and (bool(args.target) + bool(args.waiting) + bool(args.done))
    if args.command == "switch" and chosen != 1:
        raise TclaudeError("name one instance (or -), or give --waiting or --done")
    app = App.load()
    instances = [i for i in app.registry.instances() if i.running]
    if not instances:
        raise TclaudeError("no running instances; start one with: tclaude new")
    current = _current(app, instances, args.client)
    if args.command == "switch" and args.waiting:
        target = _next_waiting(instances, current)
    elif args.command == "switch" and args.done:
        target = _latest_done(instances, current)
    elif args.command == "switch":
        target = (
            _previous(app, instances)
            if args.target == "-"
            else app.registry.resolve(args.target)  # a stopped one gets its own message
        )
    else:
        step = 1 if args.command == "next" else -1
        index = instances.index(current) + step if current in instances else 0
        target = instances[index % len(instances)]
    if not target.running or target.pane is None:
        raise TclaudeError(f"instance {target.name!r} is stopped; restart it with tclaude restore")
    return focus(app, target, current, args.client)


def focus(app: App, target: Instance, current: Instance | None, client: str | None = None) -> int:
    """Focus ``target``; ``client`` (a ``#{client_name}``) is moved there, else the
    current client, if any."""
    from ..spawn import focus_commands
    from ..tmux import inside_tmux

    assert target.pane is not None
    clients = (
        bool(client)
        or inside_tmux()
        or bool(app.tmux.run("list-clients", "-F", "x", check=False).strip())
    )
    commands = focus_commands(target.pane.pane_id, client=clients, client_name=client)
    if current is not None and current.id != target.id:
        commands.append(["set-option", "-g", LAST_OPTION, current.id])
    app.tmux.sequence(commands)
    if not clients:
        print(
            f"{target.name} selected; no tmux client is attached: run `tclaude attach`",
            file=sys.stderr,
        )
    return 0


def _current(app: App, instances: list[Instance], client: str | None = None) -> Instance | None:
    """The instance the user is looking at: the pane ``client`` shows, else the active
    pane of the current client's session."""
    from ..tmux import inside_tmux

    if client:
        out = app.tmux.run("list-clients", "-F", "#{client_name}\t#{pane_id}", check=False)
        panes = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
        if client not in panes:
            raise TclaudeError(f"no tmux client {client!r}")
        for instance in instances:
            if instance.pane and instance.pane.pane_id == panes[client]:
                return instance
        return None
    if inside_tmux():
        pane_id = app.tmux.display("#{pane_id}")
        for instance in instances:
            if instance.pane and instance.pane.pane_id == pane_id:
                return instance
    for instance in instances:
        pane = instance.pane
        if pane and pane.active and pane.window_active and pane.session_attached:
            return instance
    for instance in instances:
        if instance.pane and instance.pane.active and instance.pane.window_active:
            return instance
    return None


def _previous(app: App, instances: list[Instance]) -> Instance:
    last = app.tmux.run("show-options", "-gqv", LAST_OPTION, check=False).strip()
    for instance in instances:
        if instance.id == last:
            return instance
    raise TclaudeError("no previous instance to switch back to")


def _next_waiting(instances: list[Instance], current: Instance | None) -> Instance:
    """The first waiting instance after the current one, in list order, cycling."""
    start = instances.index(current) + 1 if current in instances else 0
    for step in range(len(instances)):
        instance = instances[(start + step) % len(instances)]
        if instance.state == "waiting":
            return instance
    raise TclaudeError("no instance is waiting for input")


def _latest_done(instances: list[Instance], current: Instance | None) -> Instance:
    """Of the finished instances not seen yet, the one that finished last."""
    done = [i for i in instances if i.pane is not None and i.pane.unseen and i is not current]
    if not done:
        raise TclaudeError("no finished instance left unseen")
    return max(done, key=lambda i: int(i.pane.state_since or 0) if i.pane else 0)
