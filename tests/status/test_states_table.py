"""One table of states: every view draws a state the same way."""

from __future__ import annotations

import re
from pathlib import Path

from tmuxclaude.cli.output import state_style
from tmuxclaude.picker import Row
from tmuxclaude.registry import Instance
from tmuxclaude.state_tracker import STATES as PUBLISHED
from tmuxclaude.states import STATES, look

PLUGIN = Path(__file__).resolve().parents[2] / "tmux" / "tclaude.tmux"


def _plugin_glyph_defaults() -> dict[str, str]:
    text = PLUGIN.read_text(encoding="utf-8")
    return dict(re.findall(r"^glyph-([a-z]+)=(.*?)\"?$", text, flags=re.MULTILINE))


def test_the_tmux_plugin_defaults_are_the_table() -> None:
    defaults = _plugin_glyph_defaults()
    assert set(defaults) == set(STATES) - {"stale"}  # stale is drawn with stopped's option
    for name, value in defaults.items():
        assert value == STATES[name].tmux, name


def test_every_published_state_has_a_look_and_ascii_glyphs_differ() -> None:
    assert set(PUBLISHED) <= set(STATES)
    looks = {s.glyph: s.ascii for s in STATES.values()}
    assert len(set(looks.values())) == len(looks)  # one ASCII stand-in per glyph
    assert look("from-a-newer-host").glyph == "?"


def test_list_and_picker_read_the_table() -> None:
    assert state_style("waiting") == "bold magenta"
    assert state_style("stopped") == "dim"
    assert state_style("idle") == ""
    for name, state in STATES.items():
        assert state_style(name) == state.style
    waiting = Row(Instance("aaaaaa", "api", "/", "waiting", "tabbed", 0.0), False, 0.0)
    done = Row(Instance("bbbbbb", "web", "/", "idle", "tabbed", 0.0), True, 0.0)
    assert (waiting.glyph, done.state, done.glyph) == ("◆", "done", "✓")
