"""Arrange the running instances as tabs (a window each) or split panes of one window.

No process restarts: panes move with join-pane and break-pane.

examples:
  tclaude layout split
  tclaude layout tabbed
"""

from __future__ import annotations

import argparse

from ..errors import TclaudeError
from .app import App


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("layout", choices=["tabbed", "split"])


def run(args: argparse.Namespace) -> int:
    from ..spawn import SPLIT_WINDOW_OPTION

    app = App.load()
    running = [i for i in app.registry.instances() if i.running and i.pane is not None]
    if not running:
        raise TclaudeError("no running instances to arrange")
    commands: list[list[str]] = []
    if args.layout == "split":
        first = running[0].pane
        assert first is not None
        commands += [
            ["set-option", "-w", "-t", first.pane_id, SPLIT_WINDOW_OPTION, "1"],
            ["set-option", "-wu", "-t", first.pane_id, "@tclaude-id"],
            ["set-option", "-wu", "-t", first.pane_id, "@tclaude-name"],
            ["rename-window", "-t", first.pane_id, "tclaude"],
        ]
        for instance in running[1:]:
            assert instance.pane is not None
            if instance.pane.window_id != first.window_id:
                commands += [
                    ["join-pane", "-d", "-s", instance.pane.pane_id, "-t", first.pane_id],
                    ["select-layout", "-t", first.pane_id, "tiled"],
                ]
    else:
        seen: set[str] = set()
        for instance in running:
            assert instance.pane is not None
            pane_id = instance.pane.pane_id
            if instance.pane.window_id in seen:
                commands.append(["break-pane", "-d", "-s", pane_id, "-n", instance.name])
            else:
                seen.add(instance.pane.window_id)
                commands += [
                    ["set-option", "-wu", "-t", pane_id, SPLIT_WINDOW_OPTION],
                    ["rename-window", "-t", pane_id, instance.name],
                ]
        for instance in running:
            assert instance.pane is not None
            commands += [
                ["set-option", "-w", "-t", instance.pane.pane_id, "@tclaude-id", instance.id],
                ["set-option", "-w", "-t", instance.pane.pane_id, "@tclaude-name", instance.name],
            ]
    app.tmux.sequence(commands)
    with app.state.locked() as entries:
        for instance in running:
            if instance.id in entries:
                entries[instance.id].layout = args.layout
    print(f"{len(running)} instance(s) arranged {args.layout}")
    return 0
