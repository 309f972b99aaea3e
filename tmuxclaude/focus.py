"""Which instance the user looks at, which one comes next, and moving the view there."""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from .errors import TclaudeError

if TYPE_CHECKING:
    from .app import App
    from .registry import Instance

LAST_OPTION = "@tclaude-last"  # the instance focused before the current one


def focus(app: App, target: Instance, current: Instance | None, client: str | None = None) -> bool:
    """Focus ``target``; ``client`` (a ``#{client_name}``) is moved there, else the
    current client, if any. False: no client is attached to show it."""
    from .tmux import inside_tmux
    from .views import focus_commands

    assert target.pane is not None
    clients = bool(client) or inside_tmux() or bool(app.tmux.clients("x"))
    commands = focus_commands(app.tmux, target.pane.pane_id, client=clients, client_name=client)
    if current is not None and current.id != target.id:
        commands.append(["set-option", "-g", LAST_OPTION, current.id])
    app.tmux.sequence(commands)
    return clients


def current(app: App, instances: list[Instance], client: str | None = None) -> Instance | None:
    """The instance the user is looking at: the pane ``client`` shows, else the active
    pane of the current client's session."""
    from .tmux import inside_tmux

    if client:
        lines = app.tmux.clients("#{client_name}\t#{pane_id}")
        panes = dict(line.split("\t", 1) for line in lines if "\t" in line)
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


def previous(app: App, instances: list[Instance]) -> Instance:
    last = app.tmux.global_option(LAST_OPTION)
    for instance in instances:
        if instance.id == last:
            return instance
    raise TclaudeError("no previous instance to switch back to")


def next_waiting(instances: list[Instance], current: Instance | None) -> Instance:
    """The first waiting instance after the current one, in list order, cycling."""
    start = instances.index(current) + 1 if current in instances else 0
    for step in range(len(instances)):
        instance = instances[(start + step) % len(instances)]
        if instance.state == "waiting":
            return instance
    raise TclaudeError("no instance is waiting for input")


def latest_done(instances: list[Instance], current: Instance | None) -> Instance:
    """Of the finished instances not seen yet, the one that finished last."""
    done = [i for i in instances if i.pane is not None and i.pane.unseen and i is not current]
    if not done:
        raise TclaudeError("no finished instance left unseen")
    return max(done, key=lambda i: int(i.pane.state_since or 0) if i.pane else 0)


def origin_pane(app: App, given: str | None) -> str | None:
    """The pane id given, else ``$TMUX_PANE``, else the pane the popup's client shows.

    A ``--from '#{pane_id}'`` that reached us unexpanded (a display-popup binding)
    is no pane id: it is ignored, not trusted.
    """
    for candidate in (given, os.environ.get("TMUX_PANE")):
        if candidate and re.fullmatch(r"%[0-9]+", candidate):
            return candidate
    if os.environ.get("TMUX"):  # a popup: its session's current pane
        pane = app.tmux.display("#{pane_id}", check=False).strip()
        if re.fullmatch(r"%[0-9]+", pane):
            return pane
    return None


def target_instance(app: App, target: str | None, from_pane: str | None = None) -> Instance:
    """The instance named ``target``; without one, the current instance: the one in
    this pane (``from_pane``, ``$TMUX_PANE``), else the only one in its window, else
    the one whose directory holds the pane's (or this process's) directory."""
    instances = app.registry.instances()
    if target:
        return app.registry.resolve(target, instances)
    cwd = os.getcwd()
    pane = origin_pane(app, from_pane)
    if pane is not None:
        for instance in instances:
            if instance.pane is not None and instance.pane.pane_id == pane:
                return instance
        window, _, cwd = app.tmux.display("#{window_id}\t#{pane_current_path}", pane).partition(
            "\t"
        )
        here = [i for i in instances if i.running and i.pane and i.pane.window_id == window]
        if len(here) == 1:
            return here[0]
    found = app.registry.for_directory(cwd or os.getcwd(), instances)
    if found is None:
        raise TclaudeError("no instance in this pane, window or directory: name one (tclaude list)")
    return found
