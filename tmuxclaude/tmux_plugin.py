"""Remembering that the tmux plugin was loaded, to load it again after a restart.

``tmux/tclaude.tmux`` sets the server option ``@tclaude-plugin`` to its own
path. Each instance start reads it (in the tmux call it makes anyway) and keeps
it in ``<state dir>/tmux-plugin``; ``tclaude restore`` on a new server that has
not loaded the plugin (no ``.tmux.conf`` line for it) runs it again, so the
keys and status glyphs come back with the instances.
"""

from __future__ import annotations

import os
import shlex

from . import paths
from .tmux import Tmux

OPTION = "@tclaude-plugin"
FORMAT = "#{" + OPTION + "}"


def _marker() -> str:
    return os.path.join(paths.state_dir(), "tmux-plugin")


def _usable(path: str) -> bool:
    """Only our plugin script: an absolute path to an existing tclaude.tmux."""
    return os.path.isabs(path) and path.endswith("/tclaude.tmux") and os.path.isfile(path)


def remember(path: str) -> None:
    """Keep ``path`` (what ``@tclaude-plugin`` said) unless it is kept already."""
    if not path or not _usable(path) or remembered() == path:
        return
    paths.ensure_private_dir(paths.state_dir())
    paths.write_atomic(_marker(), path + "\n", mode=0o600)


def remembered() -> str | None:
    try:
        with open(_marker(), encoding="utf-8") as handle:
            path = handle.read().strip()
    except OSError:
        return None
    return path if _usable(path) else None


def reapply(tmux: Tmux) -> str | None:
    """Run the remembered plugin on a server that has not loaded it; its path, or None."""
    path = remembered()
    if path is None or tmux.display(FORMAT):
        return None
    tmux.run("run-shell", shlex.quote(path))
    return path
