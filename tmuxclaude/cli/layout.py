"""Arrange the running instances of one tmux session as tabs (a window each) or split
panes of one window.

No process restarts: panes move with join-pane and break-pane, in `tclaude list`
order both ways. Only the instances of the session in question move (the caller's
tmux session, else the configured one, or --session). An instance beside an editor
(started with --beside, or shown or hidden with the beside key) stays where it is.

examples:
  tclaude layout split
  tclaude layout tabbed
  tclaude layout split --session work
  tclaude layout beside --record api --editor %3    record only (the beside key runs it)
"""

from __future__ import annotations

import argparse
import os

from ..app import App
from ..errors import TclaudeError
from ..registry import Instance

SEP = "\t"


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("layout", choices=["tabbed", "split", "beside"])
    parser.add_argument(
        "--record",
        metavar="INSTANCE",
        help="move nothing: record INSTANCE's layout in the state file (after the beside key)",
    )
    parser.add_argument("--editor", metavar="PANE", help="with --record beside: the editor pane")
    parser.add_argument(
        "--session",
        metavar="NAME",
        help="the tmux session whose instances move (default: this one, else the configured)",
    )


def run(args: argparse.Namespace) -> int:
    if args.record:
        return _record(args)
    if args.layout == "beside":
        raise TclaudeError("layout beside only records (--record INSTANCE): use the beside key")
    app = App.load()
    session = args.session or _session_in_question(app)
    running = [
        i
        for i in app.registry.instances()
        if i.running and i.pane is not None and i.pane.session == session
    ]
    beside = _beside(app, running)
    moving = [i for i in running if i.id not in beside]
    if not moving:
        kept = f" ({len(beside)} beside an editor stay where they are)" if beside else ""
        raise TclaudeError(f"no running instances to arrange in tmux session {session!r}{kept}")
    if args.layout == "split":
        app.tmux.sequence(_split(moving))
    else:
        _tabbed(app, moving)
    with app.state.locked() as entries:
        for instance in moving:
            if instance.id in entries:
                entries[instance.id].layout = args.layout
    note = f"; {len(beside)} beside an editor left in place" if beside else ""
    print(f"{len(moving)} instance(s) arranged {args.layout}{note}")
    return 0


def _record(args: argparse.Namespace) -> int:
    """Write what the beside key did to the panes into the state file."""
    app = App.load()
    instance = app.registry.resolve(args.record)
    with app.state.locked() as entries:
        entry = entries.get(instance.id)
        if entry is None:
            raise TclaudeError(f"{instance.name!r} has no state entry to record a layout in")
        entry.layout = args.layout
        if args.layout == "beside":
            entry.beside = args.editor or entry.beside
    return 0


def _session_in_question(app: App) -> str:
    """The caller's tmux session when it is on our server, else the configured session."""
    if os.environ.get("TMUX"):
        socket = os.path.basename(os.environ["TMUX"].split(",")[0])
        if not app.config.tmux_socket or socket == app.config.tmux_socket:
            return app.tmux.display("#{session_name}")
    return app.config.session_name


def _beside(app: App, running: list[Instance]) -> set[str]:
    """Ids of the instances that belong beside an editor: sharing a window with a
    pane that is no instance, hidden from an editor (``@tclaude-beside``), or made so."""
    fmt = SEP.join(["#{window_id}", "#{@tclaude-port}", "#{@tclaude-beside}", "#{pane_id}"])
    out = app.tmux.run("list-panes", "-a", "-F", fmt)
    shared: set[str] = set()
    hidden: set[str] = set()
    for line in out.splitlines():
        window, port, editor, pane = [*line.split(SEP), "", "", "", ""][:4]
        if not port:
            shared.add(window)
        elif editor:
            hidden.add(pane)
    found: set[str] = set()
    for instance in running:
        assert instance.pane is not None
        if (
            instance.layout == "beside"
            or instance.pane.window_id in shared
            or instance.pane.pane_id in hidden
        ):
            found.add(instance.id)
    return found


def _split(moving: list[Instance]) -> list[list[str]]:
    """Each pane joins right after the one before it, so the order is kept."""
    from ..spawn import SPLIT_WINDOW_OPTION

    first = moving[0].pane
    assert first is not None
    commands = [
        ["set-option", "-w", "-t", first.pane_id, SPLIT_WINDOW_OPTION, "1"],
        ["set-option", "-wu", "-t", first.pane_id, "@tclaude-id"],
        ["set-option", "-wu", "-t", first.pane_id, "@tclaude-name"],
        ["rename-window", "-t", first.pane_id, "tclaude"],
    ]
    previous = first.pane_id
    for instance in moving[1:]:
        assert instance.pane is not None
        pane_id = instance.pane.pane_id
        commands += [
            ["join-pane", "-d", "-s", pane_id, "-t", previous],
            ["select-layout", "-t", first.pane_id, "tiled"],
        ]
        previous = pane_id
    return commands


def _tabbed(app: App, moving: list[Instance]) -> None:
    """Each pane broken out into a window right after the previous one's (one tmux
    call per pane: the next one needs the window id the previous one got)."""
    from ..spawn import SPLIT_WINDOW_OPTION

    seen: set[str] = set()
    previous: str | None = None  # window id
    for instance in moving:
        assert instance.pane is not None
        pane_id = instance.pane.pane_id
        if instance.pane.window_id in seen:
            after = ["-a", "-t", previous] if previous else []
            out = app.tmux.run(
                "break-pane",
                "-d",
                "-P",
                "-F",
                "#{window_id}",
                *after,
                "-s",
                pane_id,
                "-n",
                instance.name,
            )
            previous = out.strip()
        else:
            seen.add(instance.pane.window_id)
            previous = instance.pane.window_id
            app.tmux.sequence(
                [
                    ["set-option", "-wu", "-t", pane_id, SPLIT_WINDOW_OPTION],
                    ["rename-window", "-t", pane_id, instance.name],
                ]
            )
    commands: list[list[str]] = []
    for instance in moving:
        assert instance.pane is not None
        commands += [
            ["set-option", "-w", "-t", instance.pane.pane_id, "@tclaude-id", instance.id],
            ["set-option", "-w", "-t", instance.pane.pane_id, "@tclaude-name", instance.name],
        ]
    app.tmux.sequence(commands)
