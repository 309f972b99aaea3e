"""The full-screen picker: instances on top, a live preview of the selected pane below.

Made for ``display-popup -E``: it paints once the first ``list-panes`` and
``capture-pane`` are back, then refreshes the preview every half second and the
list every second. Actions run while the screen is up; an error is shown on the
bottom line and the picker stays. Remote instances (``REMOTE:NAME``) follow the
local ones, read from the state dir (never over ssh before a paint); Enter on
one opens it as ``tclaude switch REMOTE:NAME`` does; they have no preview.
"""

from __future__ import annotations

import contextlib
import curses
import locale
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..app import App
from ..durations import age
from ..errors import TclaudeError
from ..states import STATES, look

if TYPE_CHECKING:
    from ..usage import UsageReader
from . import AnyRow, RemoteRow, Row, ages, load_remote_rows, load_rows, urgent_index

PREVIEW_EVERY = 0.5
LIST_EVERY = 1.0
HELP = "↑↓/jk move  enter switch  1-9 jump  x kill  n new  / filter  q quit"
HELP_ASCII = "up/down/jk move  enter switch  1-9 jump  x kill  n new  / filter  q quit"
# curses colour of each state that has one, from the one table of states
STATE_COLOURS = {
    name: getattr(curses, f"COLOR_{state.colour.upper()}")
    for name, state in STATES.items()
    if state.colour
}
ESC = 27
ENTER_KEYS = (curses.KEY_ENTER, 10, 13)
BACKSPACE_KEYS = (curses.KEY_BACKSPACE, 127, 8)


@dataclass
class Outcome:
    """What the picker did, for the command's exit code and message."""

    switched_to: str | None = None
    error: str | None = None


@dataclass
class Picker:
    app: App
    origin: str | None  # the pane the picker was opened from
    rows: list[AnyRow] = field(default_factory=list)
    selected: int = 0
    query: str = ""
    filtering: bool = False
    message: str = ""
    preview: list[str] = field(default_factory=list)
    preview_of: str | None = None  # the key of the row previewed
    top: int = 0  # first row on screen
    list_top: int = 1  # screen line of the first row
    unicode: bool = True
    outcome: Outcome = field(default_factory=Outcome)
    client: str | None = None  # the tmux client to move on a switch (#{client_name})
    usage: dict[str, str] = field(default_factory=dict)  # instance id -> "42% $1.23"
    usage_reader: UsageReader | None = None

    # --- data -------------------------------------------------------------------

    @property
    def visible(self) -> list[AnyRow]:
        if not self.query:
            return self.rows
        return [row for row in self.rows if row.matches(self.query)]

    @property
    def current(self) -> AnyRow | None:
        visible = self.visible
        if not visible:
            return None
        self.selected = max(0, min(self.selected, len(visible) - 1))
        return visible[self.selected]

    def reload(self, first: bool = False, remote: bool = True) -> None:
        """Read the rows again; ``remote=False`` keeps the remote rows as they are (the first
        paint: reading them loads the remote code, which waits until the local rows show)."""
        keep = self.current.key if self.current and not first else None
        local = load_rows(self.app.tmux, self.app.state)
        remote_rows = [row for row in self.rows if isinstance(row, RemoteRow)]
        self.rows = [*local, *(load_remote_rows(self.app.config) if remote else remote_rows)]
        if first:
            self.selected = urgent_index(self.rows, self.origin)
        elif keep is not None:
            keys = [row.key for row in self.visible]
            self.selected = keys.index(keep) if keep in keys else self.selected

    def add_remote_rows(self) -> None:
        """The remote rows, after the first paint; the urgent one is chosen again with them
        (no key has been read yet)."""
        self.rows = [*self.rows, *load_remote_rows(self.app.config)]
        self.selected = urgent_index(self.rows, self.origin)

    def read_usage(self) -> None:
        """Each row's usage as ``list`` shows it, through one incremental reader."""
        from ..instance_usage import usage_of
        from ..usage import UsageReader, short

        if self.usage_reader is None:
            self.usage_reader = UsageReader()
        local = [row.instance for row in self.rows if isinstance(row, Row)]
        found = usage_of(local, self.app.config, self.usage_reader)
        self.usage = {key: short(data) for key, data in found.items() if data}

    def capture(self) -> None:
        row = self.current
        if row is None:
            self.preview, self.preview_of = [], None
            return
        if isinstance(row, RemoteRow):
            self.preview, self.preview_of = _remote_preview(row), row.key
            return
        out = self.app.tmux.screen(row.pane_id)
        lines = out.rstrip("\n").split("\n") if out.strip() else []
        while lines and not lines[-1].strip():
            lines.pop()
        self.preview, self.preview_of = lines, row.key

    # --- drawing ----------------------------------------------------------------

    def glyph(self, row: AnyRow) -> str:
        return row.glyph if self.unicode else look(row.state).ascii

    def draw(self, screen: curses.window) -> None:
        height, width = screen.getmaxyx()
        screen.erase()
        visible = self.visible
        counts: dict[str, int] = {}
        for row in self.rows:
            counts[row.state] = counts.get(row.state, 0) + 1
        summary = "  ".join(
            f"{n} {state}" for state, n in sorted(counts.items(), key=lambda kv: kv[0])
        )
        title = f" tclaude: {len(self.rows)} instance{'s' if len(self.rows) != 1 else ''}"
        if self.query or self.filtering:
            title += f"   /{self.query}" + ("_" if self.filtering else "")
        _put(screen, 0, 0, title, width, curses.A_BOLD)
        if summary and len(title) + len(summary) + 3 < width:
            _put(screen, 0, width - len(summary) - 1, summary, width, curses.A_DIM)

        list_height = max(1, min(max(len(visible), 1), (height - 4) * 2 // 5))
        self.top = min(self.top, self.selected)
        if self.selected >= self.top + list_height:
            self.top = self.selected - list_height + 1
        if not visible:
            empty = "no match; Esc clears the filter" if self.rows else "no instances; n starts one"
            _put(screen, self.list_top, 2, empty, width, curses.A_DIM)
        now = time.time()
        name_width = max([len(r.label) for r in visible] + [4])
        usage_width = max([len(self.usage_text(r)) for r in visible] + [1])
        state_width = max([len(_state_text(r)) for r in visible] + [8])
        for line, index in enumerate(range(self.top, min(len(visible), self.top + list_height))):
            row = visible[index]
            in_state, created = ages(row, now)
            here = "*" if row.pane_id is not None and row.pane_id == self.origin else " "
            number = str(index + 1) if index < 9 else " "
            text = (
                f"{number}{here}{self.glyph(row)} {row.label:<{name_width}}  "
                f"{_state_text(row):<{state_width}} {in_state:>4}  {created:>4}  "
                f"{self.usage_text(row):<{usage_width}}  {row.cwd}"
            )
            attr = curses.A_REVERSE if index == self.selected else curses.A_NORMAL
            if row.stale:
                attr |= curses.A_DIM
            _put(screen, self.list_top + line, 0, text.ljust(width), width, attr)
            colour = STATE_COLOURS.get(row.state)
            if colour is not None and curses.has_colors():
                _put(
                    screen,
                    self.list_top + line,
                    2,
                    self.glyph(row),
                    width,
                    attr | curses.color_pair(colour + 1) | curses.A_BOLD,
                )

        rule = self.list_top + list_height
        chosen = self.current
        label = ""
        if isinstance(chosen, RemoteRow):
            label = f" {chosen.label} (on {chosen.remote}) "
        elif chosen is not None:
            label = f" {chosen.label} ({chosen.pane_id}) "
        _put(screen, rule, 0, ("─" if self.unicode else "-") * 2 + label, width, curses.A_DIM)
        _put(
            screen,
            rule,
            2 + len(label),
            ("─" if self.unicode else "-") * width,
            width,
            curses.A_DIM,
        )
        preview_height = height - rule - 2
        if preview_height > 0 and self.preview_of == (chosen.key if chosen else None):
            for offset, text in enumerate(self.preview[-preview_height:]):
                _put(screen, rule + 1 + offset, 0, text.expandtabs(), width)
        footer = self.message or (HELP if self.unicode else HELP_ASCII)
        _put(screen, height - 1, 0, footer, width, curses.A_DIM if not self.message else 0)
        screen.noutrefresh()
        curses.doupdate()

    def usage_text(self, row: AnyRow) -> str:
        """The usage column: ``42% $1.23``, or ``-``."""
        text = row.usage if isinstance(row, RemoteRow) else self.usage.get(row.key, "")
        return text or "-"

    # --- actions ----------------------------------------------------------------

    def ask(self, screen: curses.window, prompt: str, validate: Callable[[int], bool]) -> int:
        """Show ``prompt`` on the bottom line; return the first key ``validate`` accepts."""
        self.message = prompt
        self.draw(screen)
        screen.timeout(-1)
        while True:
            key = screen.getch()
            if validate(key):
                self.message = ""
                return key

    def read_line(self, screen: curses.window, prompt: str) -> str | None:
        """Read a line on the bottom line; None when Esc cancels."""
        text = ""
        screen.timeout(-1)
        while True:
            self.message = prompt + text + "_"
            self.draw(screen)
            key = screen.get_wch()
            if key == "\x1b" or key == ESC:
                self.message = ""
                return None
            if key in ("\n", "\r") or key in ENTER_KEYS:
                self.message = ""
                return text
            if key in ("\x7f", "\b") or key in BACKSPACE_KEYS:
                text = text[:-1]
            elif isinstance(key, str) and key.isprintable():
                text += key

    def switch(self, row: AnyRow, screen: curses.window | None = None) -> bool:
        if isinstance(row, RemoteRow):
            return self.switch_remote(row, screen)
        from ..focus import focus

        origin = next(
            (r.instance for r in self.rows if isinstance(r, Row) and r.pane_id == self.origin), None
        )
        try:
            focus(self.app, row.instance, origin, self.client)
        except TclaudeError as err:
            self.message = str(err)
            return False
        self.outcome.switched_to = row.instance.name
        return True

    def switch_remote(self, row: RemoteRow, screen: curses.window | None) -> bool:
        """Open (or focus) a window here attached to ``row``, as ``tclaude switch
        REMOTE:NAME``: the remote is asked first, so this waits up to its timeout."""
        from ..remote.attach import attach_remote
        from ..remote.ssh import Remote

        if screen is not None:
            self.message = f"opening {row.label}…" if self.unicode else f"opening {row.label}..."
            self.draw(screen)
        try:
            remote = Remote.named(self.app.config, row.remote)
            attach_remote(
                self.app, remote, row.name, "switch", client=self.client, origin=self.origin
            )
        except TclaudeError as err:
            self.message = str(err)
            return False
        self.outcome.switched_to = row.label
        return True

    def kill(self, screen: curses.window, row: AnyRow) -> None:
        if isinstance(row, RemoteRow):
            self.message = f"x kills local instances; for this one: tclaude kill {row.label}"
            return
        name = row.instance.name
        key = self.ask(screen, f"kill {name}? (y/n)", lambda k: k in (*map(ord, "yYnNq"), ESC))
        if key not in (ord("y"), ord("Y")):
            return
        self.message = f"killing {name}…" if self.unicode else f"killing {name}..."
        self.draw(screen)
        from .. import teardown

        try:
            teardown.stop([row.instance], self.app.tmux, self.app.state)
        except TclaudeError as err:
            self.message = str(err)
            return
        self.reload()
        self.message = f"killed {name}"

    def new(self, screen: curses.window) -> bool:
        import os

        name = self.read_line(screen, "new instance name (empty: the directory's): ")
        if name is None:
            return False
        self.message = f"starting {name or 'an instance'} in {os.getcwd()}"
        self.draw(screen)
        from ..spawn import Spawner, SpawnRequest

        request = SpawnRequest(cwd=os.getcwd(), name=name or None, layout=self.app.config.layout)
        try:
            entry, _ = Spawner(self.app.config, self.app.tmux, self.app.state).spawn(request)
        except TclaudeError as err:
            self.message = str(err)
            return False
        self.outcome.switched_to = entry.name
        return True

    # --- the loop ---------------------------------------------------------------

    def handle(self, screen: curses.window, key: int) -> bool:
        """Act on one key; True when the picker is done."""
        visible = self.visible
        if self.filtering:
            if key == ESC:
                self.query, self.filtering = "", False
            elif key in ENTER_KEYS:
                self.filtering = False
            elif key in BACKSPACE_KEYS:
                self.query = self.query[:-1]
            elif key == curses.KEY_UP:
                self.selected -= 1
            elif key == curses.KEY_DOWN:
                self.selected += 1
            elif 32 <= key < 127:
                self.query += chr(key)
                self.selected = 0
            return False
        if key in (ord("q"), ESC):
            return True
        self.message = ""
        if key in (curses.KEY_UP, ord("k")):
            self.selected = max(0, self.selected - 1)
        elif key in (curses.KEY_DOWN, ord("j")):
            self.selected = min(len(visible) - 1, self.selected + 1)
        elif key in (curses.KEY_HOME, ord("g")):
            self.selected = 0
        elif key in (curses.KEY_END, ord("G")):
            self.selected = len(visible) - 1
        elif key == ord("/"):
            self.filtering = True
        elif ord("1") <= key <= ord("9") and key - ord("1") < len(visible):
            return self.switch(visible[key - ord("1")], screen)
        elif key in ENTER_KEYS and self.current is not None:
            return self.switch(self.current, screen)
        elif key == ord("x") and self.current is not None:
            self.kill(screen, self.current)
        elif key == ord("n"):
            return self.new(screen)
        elif key == curses.KEY_MOUSE:
            return self.click(screen, visible)
        return False

    def click(self, screen: curses.window, visible: list[AnyRow]) -> bool:
        """A click selects a row; a click on the selected row switches to it."""
        try:
            _, _, y, _, buttons = curses.getmouse()
        except curses.error:
            return False
        if buttons & getattr(curses, "BUTTON4_PRESSED", 0):
            self.selected = max(0, self.selected - 1)
        elif buttons & getattr(curses, "BUTTON5_PRESSED", 0):
            self.selected = min(len(visible) - 1, self.selected + 1)
        elif buttons & (curses.BUTTON1_PRESSED | curses.BUTTON1_CLICKED):
            index = self.top + y - self.list_top
            if 0 <= index < len(visible) and y >= self.list_top:
                if index == self.selected:
                    return self.switch(visible[index], screen)
                self.selected = index
        return False

    def main(self, screen: curses.window) -> None:
        _init_screen()
        self.draw(screen)  # the local list first: the remote rows, preview and usage follow
        if self.app.config.remotes:
            self.add_remote_rows()
        self.capture()
        self.read_usage()
        self.draw(screen)
        next_preview = time.monotonic() + PREVIEW_EVERY
        next_list = time.monotonic() + LIST_EVERY
        while True:
            screen.timeout(max(1, int((next_preview - time.monotonic()) * 1000)))
            key = screen.getch()
            before = self.current.key if self.current else None
            if key != -1 and self.handle(screen, key):
                return
            now = time.monotonic()
            if now >= next_list:
                self.reload()
                self.read_usage()
                next_list = now + LIST_EVERY
            after = self.current.key if self.current else None
            if now >= next_preview or after != before:
                self.capture()
                next_preview = now + PREVIEW_EVERY
            self.draw(screen)


def _state_text(row: AnyRow) -> str:
    """The state column; a stale remote row says so, with how long ago it was heard."""
    if isinstance(row, RemoteRow) and row.seen is not None:
        return f"{row.state}, stale {age(row.seen)}"
    return row.state


def _remote_preview(row: RemoteRow) -> list[str]:
    """What the preview shows of a remote instance: no screen (that would take ssh)."""
    lines = [f"{row.name} on remote {row.remote}: {row.state}"]
    if row.seen is not None:
        lines.append(f"stale: {row.remote} was last heard from {age(row.seen)} ago")
    if row.note:
        lines.append(row.note)
    if row.cwd:
        lines.append(f"directory there: {row.cwd}")
    lines += ["", f"Enter opens it in a window here, over ssh (tclaude switch {row.label})"]
    return lines


def _init_screen() -> None:
    curses.curs_set(0)
    curses.set_escdelay(25)
    curses.mousemask(
        curses.BUTTON1_PRESSED
        | curses.BUTTON1_CLICKED
        | getattr(curses, "BUTTON4_PRESSED", 0)
        | getattr(curses, "BUTTON5_PRESSED", 0)
    )
    curses.mouseinterval(0)
    if curses.has_colors():
        curses.use_default_colors()
        for colour in STATE_COLOURS.values():
            curses.init_pair(colour + 1, colour, -1)


def _put(screen: curses.window, y: int, x: int, text: str, width: int, attr: int = 0) -> None:
    """Write what fits of ``text``; curses refuses the bottom-right cell, ignore it."""
    height, _ = screen.getmaxyx()
    if y < 0 or y >= height or x >= width:
        return
    with contextlib.suppress(curses.error):
        screen.addnstr(y, x, text, width - x, attr)


def run(app: App, origin: str | None, client: str | None = None) -> Outcome:
    """Show the picker until the user switches, starts, or quits."""
    locale.setlocale(locale.LC_ALL, "")
    picker = Picker(
        app,
        origin,
        unicode=locale.getpreferredencoding(False).lower() in ("utf-8", "utf8"),
        client=client,
    )
    picker.reload(first=True, remote=False)
    curses.wrapper(picker.main)
    return picker.outcome
