"""Names made from text a user did not choose as a name (a directory, a branch),
and text from elsewhere (a repository, a remote) made safe to print."""

from __future__ import annotations

import re

_NOT_NAME = re.compile(r"[^A-Za-z0-9_+-]+")
_EDGES = "-_+"


def slug(text: str, limit: int, fallback: str) -> str:
    """``text`` as an instance name: runs of other characters become ``-``.

    ``feat/login`` -> ``feat-login``; at most ``limit`` characters, no ``-``,
    ``_`` or ``+`` at either end, ``fallback`` when nothing is left.
    """
    name = _NOT_NAME.sub("-", text).strip(_EDGES)
    return name[:limit].rstrip(_EDGES) or fallback


def printable(text: str, limit: int = 300) -> str:
    """Text from elsewhere made safe for the terminal: control characters dropped, one line.

    For a file name from a repository or a line a remote printed: an escape
    sequence in it would otherwise retitle or clear the user's terminal.
    """
    line = " ".join(text.split())
    cleaned = "".join(c for c in line if c.isprintable())
    return cleaned[:limit]
