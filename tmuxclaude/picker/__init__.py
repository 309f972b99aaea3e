"""Instances as the picker and the menu show them: one row each, with a glyph.

Curses-free, so that ``tclaude menu`` does not pay for the screen. Rows come
from the registry's one ``list-panes -a`` call.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from .. import paths
from ..durations import age
from ..registry import Instance, Registry
from ..state_file import StateFile
from ..states import look
from ..tmux import Tmux


@dataclass
class Row:
    """One running instance, what the user sees of it, and when its state began."""

    instance: Instance
    unseen: bool
    since: float

    @property
    def state(self) -> str:
        """The state as shown: ``done`` for a finished turn not looked at yet."""
        state = self.instance.state
        return "done" if state == "idle" and self.unseen else state

    @property
    def glyph(self) -> str:
        return look(self.state).glyph

    @property
    def pane_id(self) -> str:
        assert self.instance.pane is not None
        return self.instance.pane.pane_id

    def matches(self, query: str) -> bool:
        """Case-insensitive substring of the name, state or directory."""
        query = query.lower()
        return any(query in text.lower() for text in (self.instance.name, self.state, self.cwd))

    @property
    def cwd(self) -> str:
        home = os.path.expanduser("~")
        cwd = self.instance.cwd
        if home != "/" and paths.inside(cwd, home):
            return "~" + cwd[len(home) :]
        return cwd


def load_rows(tmux: Tmux, state: StateFile | None = None) -> list[Row]:
    """Every running instance, in ``tclaude list`` order (session, window, pane)."""
    rows: list[Row] = []
    for instance in Registry(tmux, state).instances():
        pane = instance.pane
        if pane is None:
            continue
        since = float(pane.state_since) if pane.state_since.isdigit() else 0.0
        rows.append(Row(instance, pane.unseen, since))
    return rows


def urgent_index(rows: list[Row], current_pane: str | None) -> int:
    """The row to start on: the first waiting, else the latest done, else the current."""
    for index, row in enumerate(rows):
        if row.state == "waiting" and row.pane_id != current_pane:
            return index
    done = [(row.since, index) for index, row in enumerate(rows) if row.state == "done"]
    if done:
        return max(done)[1]
    for index, row in enumerate(rows):
        if row.pane_id == current_pane:
            return index
    return 0


def ages(row: Row, now: float | None = None) -> tuple[str, str]:
    """How long in this state, and how long since the instance was created."""
    now = time.time() if now is None else now
    in_state = age(now - row.since) if row.since else "-"
    created = age(now - row.instance.created) if row.instance.created else "-"
    return in_state, created
