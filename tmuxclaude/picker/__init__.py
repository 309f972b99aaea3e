"""Instances as the picker and the menu show them: one row each, with a glyph.

Curses-free, so that ``tclaude menu`` does not pay for the screen. Rows come
from one ``list-panes -a`` call; only panes that carry ``@tclaude-port`` are
instances (a pane split into an instance's window inherits the window's
``@tclaude-id`` but never the port), so a shell beside Claude is not listed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from ..registry import Instance
from ..state import StateFile
from ..tmux import PANE_FORMAT, SEP, Tmux, _parse_pane

# state -> glyph, as the tmux status decoration draws them (tmux/tclaude.tmux)
GLYPHS = {
    "waiting": "◆",
    "error": "✗",
    "busy": "●",
    "done": "✓",
    "starting": "◌",
    "stopped": "■",
    "stale": "■",
}
IDLE_GLYPH = "○"
# unseen, the one field tmux.PANE_FORMAT lacks, goes first: cwd must stay last
ROW_FORMAT = "#{@tclaude-unseen}" + SEP + PANE_FORMAT


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
        return GLYPHS.get(self.state, IDLE_GLYPH)

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
        if home != "/" and (cwd == home or cwd.startswith(home + "/")):
            return "~" + cwd[len(home) :]
        return cwd


def load_rows(tmux: Tmux, state: StateFile | None = None) -> list[Row]:
    """Every instance pane, in ``tclaude list`` order (session, window, pane)."""
    out = tmux.run("list-panes", "-a", "-f", "#{@tclaude-port}", "-F", ROW_FORMAT, check=False)
    saved = (state or StateFile()).read()
    rows: list[Row] = []
    seen: set[str] = set()
    for line in out.splitlines():
        unseen, _, rest = line.partition(SEP)
        pane = _parse_pane(rest)
        if pane is None or pane.instance_id in seen:
            continue
        seen.add(pane.instance_id)
        entry = saved.get(pane.instance_id)
        instance = Instance(
            id=pane.instance_id,
            name=pane.name or (entry.name if entry else pane.instance_id),
            cwd=pane.cwd or (entry.cwd if entry else ""),
            state="stopped" if pane.dead else pane.state,
            layout=entry.layout if entry else "tabbed",
            created=entry.created if entry else 0.0,
            pane=pane,
            saved=entry,
        )
        since = float(pane.state_since) if pane.state_since.isdigit() else 0.0
        rows.append(Row(instance, unseen == "1", since))
    rows.sort(key=lambda r: _order(r.instance))
    return rows


def _order(instance: Instance) -> tuple[str, int, int]:
    pane = instance.pane
    assert pane is not None
    return (pane.session, pane.window_index, pane.pane_index)


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


def age(seconds: float) -> str:
    """A short age: 42s, 5m, 3h, 2d."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def ages(row: Row, now: float | None = None) -> tuple[str, str]:
    """How long in this state, and how long since the instance was created."""
    now = time.time() if now is None else now
    in_state = age(now - row.since) if row.since else "-"
    created = age(now - row.instance.created) if row.instance.created else "-"
    return in_state, created
