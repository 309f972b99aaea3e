"""The one table of instance states as every view shows them.

The list's colours, the picker's glyphs and colours, the menu and the tmux
plugin's default glyph options (tmux/tclaude.tmux, checked by a test) all
come from here. ``done`` is not a state a host publishes: it is ``idle``
with a finished turn the user has not looked at yet.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StateLook:
    """How one state is drawn: a glyph, its ASCII stand-in, a colour and weight."""

    glyph: str
    ascii: str
    colour: str | None = None  # a colour name tmux, rich and curses all know
    bold: bool = False
    dim: bool = False

    @property
    def style(self) -> str:
        """The rich style (``bold magenta``), empty for none."""
        words = ["bold"] * self.bold + ["dim"] * self.dim + [self.colour] * bool(self.colour)
        return " ".join(w for w in words if w)

    @property
    def tmux(self) -> str:
        """The glyph as a tmux format, ``#[fg=magenta,bold]◆``."""
        attrs = [f"fg={self.colour}"] * bool(self.colour) + ["bold"] * self.bold
        attrs += ["dim"] * self.dim
        return f"#[{','.join(attrs)}]{self.glyph}" if attrs else self.glyph


# urgent first: the order the picker's "most urgent" and the status counts use
STATES: dict[str, StateLook] = {
    "waiting": StateLook("◆", "!", "magenta", bold=True),
    "limited": StateLook("⧖", "~", "magenta"),
    "error": StateLook("✗", "x", "red", bold=True),
    "busy": StateLook("●", "*", "yellow"),
    "done": StateLook("✓", "+", "green"),
    "starting": StateLook("◌", ".", "blue"),
    "stopped": StateLook("■", "-", dim=True),
    "stale": StateLook("■", "-", "red"),
    "idle": StateLook("○", "o"),
}
UNKNOWN = StateLook("?", "?")


def look(state: str) -> StateLook:
    """How ``state`` is drawn; an unknown one (a newer host's) gets ``?``."""
    return STATES.get(state, UNKNOWN)
