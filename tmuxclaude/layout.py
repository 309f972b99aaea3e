"""Arranging one tmux session's instances as tabs (a window each) or split panes.

No process restarts: panes move with join-pane and break-pane, in list order
both ways. Instances beside an editor stay where they are.
"""

from __future__ import annotations

import os

from .app import App
from .errors import TclaudeError
from .registry import Instance

SEP = "\t"


def arrange(app: App, layout: str, session: str | None = None) -> tuple[int, int]:
    """Arrange ``session``'s running instances (default: the one in question).

    Returns how many moved and how many beside an editor were left in place;
    the moved ones' entries record ``layout``.
    """
    session = session or session_in_question(app)
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
    if layout == "split":
        app.tmux.sequence(_split(moving))
    else:
        _tabbed(app, moving)
    with app.state.locked() as entries:
        for instance in moving:
            if instance.id in entries:
                entries[instance.id].layout = layout
    return len(moving), len(beside)


def record(app: App, target: str, layout: str, editor: str | None = None) -> None:
    """Write what the beside key did to the panes into the state file."""
    instance = app.registry.resolve(target)
    with app.state.locked() as entries:
        entry = entries.get(instance.id)
        if entry is None:
            raise TclaudeError(f"{instance.name!r} has no state entry to record a layout in")
        entry.layout = layout
        if layout == "beside":
            entry.beside = editor or entry.beside


def session_in_question(app: App) -> str:
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
    from .spawn import SPLIT_WINDOW_OPTION

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
    from .spawn import SPLIT_WINDOW_OPTION

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
