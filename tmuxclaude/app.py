"""What every command starts from: config, the tmux server, the state file, the registry."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from . import config as config_module
from .config import Config
from .registry import Registry
from .state_file import StateFile
from .tmux import Tmux


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
