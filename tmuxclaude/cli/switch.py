"""Focus an instance: its window and pane selected, the client moved there, zoom undone.

examples:
  tclaude switch api        by name (exact), id or pane id
  tclaude switch -          the previously focused instance
  tclaude next / tclaude prev
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
        parser.add_argument("target", help="instance name, id, pane id, or - for the previous")


def run(args: argparse.Namespace) -> int:
    app = App.load()
    instances = [i for i in app.registry.instances() if i.running]
    if not instances:
        raise TclaudeError("no running instances; start one with: tclaude new")
    current = _current(app, instances)
    if args.command == "switch":
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
    return focus(app, target, current)


def focus(app: App, target: Instance, current: Instance | None) -> int:
    from ..spawn import focus_commands
    from ..tmux import inside_tmux

    assert target.pane is not None
    clients = inside_tmux() or bool(app.tmux.run("list-clients", "-F", "x", check=False).strip())
    commands = focus_commands(target.pane.pane_id, client=clients)
    if current is not None and current.id != target.id:
        commands.append(["set-option", "-g", LAST_OPTION, current.id])
    app.tmux.sequence(commands)
    if not clients:
        print(
            f"{target.name} selected; no tmux client is attached: run `tclaude attach`",
            file=sys.stderr,
        )
    return 0


def _current(app: App, instances: list[Instance]) -> Instance | None:
    """The instance the user is looking at: the active pane of the current client's session."""
    from ..tmux import inside_tmux

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
