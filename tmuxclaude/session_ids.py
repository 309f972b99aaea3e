"""Claude session ids and transcript paths: what tclaude accepts as one, and new ones.

A session id becomes a claude argument on restore (``--resume=<id>``,
``--session-id=<id>``), so only a UUID, as Claude Code makes them, is ever
accepted, from a hook, the state file or anywhere else. A transcript path is
trusted only where the CLI keeps transcripts: ``<config dir>/projects/<dir
slug>/<session id>.jsonl``.
"""

from __future__ import annotations

import os

from . import paths

_HEX = frozenset("0123456789abcdefABCDEF")
_DASHES = (8, 13, 18, 23)  # 8-4-4-4-12 hex digits
# claude arguments by which the user picks the session; then tclaude gives none
SESSION_CHOICE_FLAGS = frozenset(
    {
        "--resume",
        "-r",
        "--continue",
        "-c",
        "--session-id",
        "--fork-session",
        "--from-pr",
        "--teleport",
    }
)


def is_session_id(value: object) -> bool:
    """Whether ``value`` is a session id as Claude Code makes them (a UUID)."""
    return (
        isinstance(value, str)
        and len(value) == 36
        and all(value[i] == "-" for i in _DASHES)
        and all(c in _HEX for i, c in enumerate(value) if i not in _DASHES)
    )


def new_session_id() -> str:
    """A fresh random (version 4) UUID, without importing ``uuid``."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def chooses_session(claude_args: list[str]) -> bool:
    """Whether these claude arguments pick a session themselves (resume, continue, …)."""
    return any(arg.split("=", 1)[0] in SESSION_CHOICE_FLAGS for arg in claude_args)


def projects_dir() -> str:
    """Where the Claude Code CLI keeps its transcripts, one directory per cwd."""
    return os.path.join(os.path.normpath(paths.claude_config_dir()), "projects")


def trusted_transcript(path: object, session_id: object) -> bool:
    """Whether ``path`` is where the CLI keeps the transcript of ``session_id``.

    Absolute and normalised, directly in a directory of ``projects/`` of the
    Claude config dir, and named ``<session id>.jsonl``; nothing is read.
    """
    if not isinstance(path, str) or not is_session_id(session_id):
        return False
    if not os.path.isabs(path) or os.path.normpath(path) != path or "\x00" in path:
        return False
    slug_dir, name = os.path.split(path)
    root = os.path.dirname(slug_dir)
    return name == f"{session_id}.jsonl" and root in (projects_dir(), _real(projects_dir()))


def _real(path: str) -> str:
    return os.path.realpath(path)
