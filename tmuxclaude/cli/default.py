"""Focus the instance for the current directory, creating it when there is none."""

from __future__ import annotations

import argparse
import os

from .app import App


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    from ..spawn import Spawner, SpawnRequest
    from .switch import _current, focus

    app = App.load()
    instances = app.registry.instances()
    found = app.registry.for_directory(os.getcwd(), instances)
    if found is not None:
        running = [i for i in instances if i.running]
        return focus(app, found, _current(app, running))
    entry, ready = Spawner(app.config, app.tmux, app.state).spawn(
        SpawnRequest(cwd=os.getcwd(), layout=app.config.layout)
    )
    print(f"{entry.name} started in {entry.cwd} (port {ready.get('port')})")
    return 0
