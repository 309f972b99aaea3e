"""What every subcommand starts from: config, the tmux server, the registry."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .. import config as config_module
from ..config import Config
from ..registry import Instance, Registry
from ..state import StateFile
from ..tmux import Tmux


@dataclass
class App:
    config: Config

    @classmethod
    def load(cls, overrides: dict[str, Any] | None = None) -> App:
        cfg = config_module.load(overrides)
        config_module.apply_dirs(cfg)
        return cls(cfg)

    @cached_property
    def tmux(self) -> Tmux:
        return Tmux(self.config.tmux_socket)

    @cached_property
    def state(self) -> StateFile:
        return StateFile()

    @cached_property
    def registry(self) -> Registry:
        return Registry(self.tmux, self.state)


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for scripts and tools")


def target_instance(app: App, target: str | None, from_pane: str | None = None) -> Instance:
    """The instance named ``target``; without one, the current instance: the one in
    this pane (``from_pane``, ``$TMUX_PANE``), else the only one in its window, else
    the one whose directory holds the pane's (or this process's) directory."""
    import os

    from ..errors import TclaudeError
    from .pick import origin_pane

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
