"""Rename an instance: the state file, its pane's and window's options, and in the
tabbed layout its window's name.

The running host keeps the old name in what it reports itself (`tclaude status`,
the IDE name `tclaude:OLD` in its lock file, the editor socket) until the instance
restarts (`tclaude restore` after `kill`, or a tmux restart); notifications use the
new name at once.

examples:
  tclaude rename api backend
  tclaude rename e0f2c5 backend      by id or pane id too
"""

from __future__ import annotations

import argparse

from .. import watch
from ..app import App
from ..errors import TclaudeError


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("old", help="instance name, id or pane id")
    parser.add_argument("new", help="the new name (letters, digits, '_', '+', '-')")


def run(args: argparse.Namespace) -> int:
    from ..spawn import check_name

    new = check_name(args.new)
    app = App.load()
    instances = app.registry.instances()
    instance = app.registry.resolve(args.old, instances)
    if instance.name == new:
        print(f"{new} is already called {new}")
        return 0
    with app.state.locked() as entries:
        taken = {e.name for e in entries.values()} | {i.name for i in instances}
        if new in taken:
            raise TclaudeError(f"an instance named {new!r} exists already")
        if new in entries or any(i.id == new for i in instances):
            raise TclaudeError(f"{new!r} is another instance's id: a name must not hide it")
        if instance.id in entries:
            entries[instance.id].name = new
        pane = instance.pane
        if pane is not None:
            commands = [["set-option", "-p", "-t", pane.pane_id, "@tclaude-name", new]]
            window_owner = app.tmux.display("#{@tclaude-id}", pane.pane_id)
            if window_owner == instance.id:  # a window of its own (tabbed, or hidden beside)
                commands += [
                    ["set-option", "-w", "-t", pane.pane_id, "@tclaude-name", new],
                    ["rename-window", "-t", pane.pane_id, new],
                ]
            app.tmux.sequence(commands)
    watch.publish({"type": "renamed", "id": instance.id, "name": new, "old": instance.name})
    print(f"renamed {instance.name} to {new}")
    return 0
