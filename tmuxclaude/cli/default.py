"""Focus the instance for the current directory, creating it when there is none.

Outside tmux, on a terminal, it then attaches to the instances' session.
"""

from __future__ import annotations

import argparse
import os
import sys

from ..app import App


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from ..focus import current
    from ..spawn import Spawner, SpawnRequest
    from ..tmux import inside_tmux
    from .switch import focused

    app = App.load()
    created = False
    instances = app.registry.instances()
    found = app.registry.for_directory(os.getcwd(), instances)
    if found is None:
        with app.state.creating():  # two at once: the second finds the first's instance
            instances = app.registry.instances()
            found = app.registry.for_directory(os.getcwd(), instances)
            if found is None:
                entry, ready = Spawner(app.config, app.tmux, app.state).spawn(
                    SpawnRequest(cwd=os.getcwd(), layout=app.config.layout, worktree=_worktree())
                )
                print(f"{entry.name} started in {entry.cwd} (port {ready.get('port')})")
                found = app.registry.resolve(entry.id)
                created = True
    if not created and (inside_tmux() or not sys.stdout.isatty()):
        return focused(app, found, current(app, [i for i in instances if i.running]))
    if not inside_tmux() and sys.stdin.isatty() and sys.stdout.isatty() and found.pane:
        from ..views import attach_argv

        argv = attach_argv(app.tmux, found.pane.session, found.pane.pane_id)
        os.execv(argv[0], argv)
    return 0


def _worktree() -> str | None:
    """The linked git worktree the cwd is in (not the main one), to record with the instance."""
    from ..errors import TclaudeError
    from ..worktree import Repository

    try:
        repo = Repository.discover(os.getcwd())
    except TclaudeError:
        return None  # not in a git repository, or git missing
    here = repo.containing(os.getcwd())
    if here is None or os.path.realpath(here.path) == os.path.realpath(repo.root):
        return None
    return here.path
