"""Instances as the picker and the menu show them: one row each, with a glyph.

Curses-free, so that ``tclaude menu`` does not pay for the screen. Local rows
come from the registry's one ``list-panes -a`` call; remote rows (``REMOTE:NAME``)
from what the remotes' feeds and lists left in the state dir, asking nobody
(``remote.listing.known``), and only when a remote is configured.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import paths
from ..config import Config
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

    remote = None  # a local row: no remote (RemoteRow's field)
    stale = False

    @property
    def label(self) -> str:
        return self.instance.name

    @property
    def key(self) -> str:
        """What tells this row from every other, across reloads."""
        return self.instance.id

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


@dataclass
class RemoteRow:
    """One instance on a remote, as last heard here; shown as ``REMOTE:NAME``.

    ``seen`` is how long ago its remote was last heard when the row is stale
    (its feed silent or not running), None when fresh. ``cwd`` is a path on
    the remote: shown, never used here.
    """

    remote: str
    name: str
    id: str
    instance_state: str
    unseen: bool
    cwd: str
    created: float | None
    seen: float | None = None
    usage: str = ""  # as list shows it: ``42% $1.23``
    note: str = ""  # what is wrong with the remote (no answer, another version), if anything
    since = 0.0  # a feed does not say when a remote state began

    @property
    def label(self) -> str:
        return f"{self.remote}:{self.name}"

    @property
    def key(self) -> str:
        return f"{self.remote}:{self.id}"

    @property
    def stale(self) -> bool:
        return self.seen is not None

    @property
    def state(self) -> str:
        return "done" if self.instance_state == "idle" and self.unseen else self.instance_state

    @property
    def glyph(self) -> str:
        return look(self.state).glyph

    @property
    def pane_id(self) -> None:
        """A remote pane is no pane here."""
        return None

    def matches(self, query: str) -> bool:
        """Case-insensitive substring of ``REMOTE:NAME``, the state or the directory."""
        query = query.lower()
        return any(query in text.lower() for text in (self.label, self.state, self.cwd))


AnyRow = Row | RemoteRow


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


def load_remote_rows(config: Config) -> list[RemoteRow]:
    """The configured remotes' running instances as known here, asking nobody (reads
    files only: the first paint never waits for ssh); [] without remotes, and then
    nothing of ``tmuxclaude.remote`` is imported."""
    if not config.remotes:
        return []
    from ..remote.listing import known

    rows: list[RemoteRow] = []
    for listing in known(config):
        rows += [_remote_row(row, listing.message) for row in listing.rows if row.get("running")]
    return rows


def _remote_row(row: dict[str, Any], note: str) -> RemoteRow:
    from ..usage import short

    created, seen, usage = row.get("created"), row.get("seen"), row.get("usage")
    return RemoteRow(
        remote=str(row["remote"]),
        name=str(row["name"]),
        id=str(row["id"]),
        instance_state=str(row["state"]),
        unseen=row.get("unseen") is True,
        cwd=str(row.get("cwd") or ""),
        created=float(created) if isinstance(created, int | float) else None,
        seen=float(seen) if row.get("stale") and isinstance(seen, int | float) else None,
        usage=short(usage) if isinstance(usage, dict) else "",
        note=note,
    )


def urgent_index(rows: Sequence[AnyRow], current_pane: str | None) -> int:
    """The row to start on: the first waiting, else the latest done, else the current.

    A stale remote row is never the urgent one: its state may be old news.
    """
    for index, row in enumerate(rows):
        here = row.pane_id is not None and row.pane_id == current_pane
        if row.state == "waiting" and not row.stale and not here:
            return index
    done = [(r.since, i) for i, r in enumerate(rows) if r.state == "done" and not r.stale]
    if done:
        return max(done)[1]
    for index, row in enumerate(rows):
        if row.pane_id is not None and row.pane_id == current_pane:
            return index
    return 0


def ages(row: AnyRow, now: float | None = None) -> tuple[str, str]:
    """How long in this state, and how long since the instance was created."""
    now = time.time() if now is None else now
    in_state = age(now - row.since) if row.since else "-"
    created = row.instance.created if isinstance(row, Row) else row.created
    return in_state, age(now - created) if created else "-"
