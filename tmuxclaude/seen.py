"""An instance looked at: tell the watchers (``tclaude watch``, and so a remote's feed).

The tmux plugin clears a finished instance's ``@tclaude-unseen`` in tmux itself
when you look at it (its seen hook); no host hears of it. The hook then runs
``tclaude seen PANE``, which publishes that instance's state with ``unseen``
false, so that a watcher, a remote's feed, and what reads them (another
machine's list, picker and status counts) stop showing it done.
"""

from __future__ import annotations

from . import watch
from .tmux import Tmux

FIELDS = ("@tclaude-id", "@tclaude-name", "@tclaude-state", "@tclaude-unseen")


def publish_seen(tmux: Tmux, pane: str) -> bool:
    """Publish ``pane``'s instance as seen; False when it is none, or not seen after all."""
    if not watch.PANE_ID.fullmatch(pane):
        return False
    text = tmux.display("\t".join("#{" + name + "}" for name in FIELDS), pane, check=False)
    parts = text.split("\t")
    if len(parts) != len(FIELDS):
        return False
    instance_id, name, state, unseen = parts
    if unseen == "1":
        return False  # done and still not looked at (a hook that fired for another pane)
    event = {"type": "state", "id": instance_id, "name": name, "state": state, "unseen": False}
    if not watch.check_fields({**event, "pane": pane}, watch.REQUIRED["state"]):
        return False
    watch.publish({**event, "pane": pane})
    return True
