"""Section ``status``: hooks → tmux state, binding switch, picker (issue #5).

Placeholder until the hooks, the tmux plugin and the picker exist. To add a
measurement, write a function returning ``Row``s (see ``cli.py`` for how to
drive commands on the run's private tmux server and count tmux calls) and
replace the matching placeholder below.
"""

from __future__ import annotations

from collections.abc import Callable

from .report import Row, unavailable
from .sandbox import Sandbox

SECTION = "status"
REASON = "not available yet (hooks, tmux plugin and picker not written: issue #5)"

PLANNED = (
    ("hook fired → @tclaude-state visible in tmux", "< 20 ms"),
    ("switch through a tmux binding", "< 20 ms"),
    ("picker (tclaude pick) first paint", "< 150 ms"),
)


def run(box: Sandbox, log: Callable[[str], None]) -> list[Row]:
    del box
    log("status: placeholder rows only")
    return [unavailable(SECTION, what, REASON, target) for what, target in PLANNED]
