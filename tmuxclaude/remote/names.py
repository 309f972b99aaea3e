"""What a remote may be called and configured with, and ``NAME:instance`` targets.

Everything here is checked before it becomes an ssh argument, a file name or
a tmux window option; a remote's own output is checked in ``remote/replies.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ..errors import TclaudeError
from ..state_file import ID_PATTERN, NAME_PATTERN

# the instance name pattern (state.NAME_PATTERN): no ":" in either, so NAME:inst parses one way
REMOTE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_+-]{0,47}")
# an ssh alias or [user@]host: never an option, never a space or a shell character
SSH_ALIAS = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_.@:%+-]{0,252}")
PANE_ID = re.compile(r"%[0-9]{1,9}")
KEYS = frozenset({"ssh", "ssh_config", "tclaude", "timeout"})


def check_remote(name: str, table: Mapping[str, object]) -> None:
    """Raise ValueError (the config model's way) for a bad remote name or table."""
    if not REMOTE_NAME.fullmatch(name):
        raise ValueError(f"remote name {name[:60]!r}: letters, digits, _ + - (like an instance)")
    unknown = set(table) - KEYS
    if unknown:
        first = sorted(unknown)[0]
        raise ValueError(
            f"remotes.{name}: unknown key {first!r} (ssh, ssh_config, tclaude, timeout)"
        )
    ssh = table.get("ssh")
    if not isinstance(ssh, str) or not ssh:
        raise ValueError(f"remotes.{name}.ssh: an ssh alias or [user@]host is required")
    if not SSH_ALIAS.fullmatch(ssh):
        raise ValueError(f"remotes.{name}.ssh: {_why_not_alias(ssh)}")
    for key in ("ssh_config", "tclaude"):
        value = table.get(key)
        if value is not None and (
            not isinstance(value, str)
            or not value
            or not value.isprintable()
            or value.startswith("-")
        ):
            raise ValueError(f"remotes.{name}.{key}: a path of printable characters")
    timeout = table.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 600
    ):
        raise ValueError(f"remotes.{name}.timeout: seconds between 0 and 600")


def _why_not_alias(ssh: str) -> str:
    """Why ``ssh`` is refused as an alias, in words (it is no ``SSH_ALIAS``)."""
    shown = repr(ssh[:60])
    if ssh.startswith("-"):
        return f"{shown} starts with '-' (an ssh option): give an ssh alias or [user@]host"
    if len(ssh) > 253:
        return f"{shown}... is longer than 253 characters: give an ssh alias or [user@]host"
    bad = next((c for c in ssh if not re.fullmatch(r"[A-Za-z0-9_.@:%+-]", c)), None)
    where = f"has {bad!r} in it" if bad else f"starts with {ssh[0]!r}"
    return (
        f"{shown} {where}: an ssh alias or [user@]host is letters, digits and . _ @ : % + -,"
        " starting with a letter, a digit, . or _"
    )


def split_target(target: str) -> tuple[str | None, str]:
    """``NAME:inst`` -> (NAME, inst); a target without ``:`` is local: (None, target)."""
    if ":" not in target:
        return None, target
    remote, _, instance = target.partition(":")
    if not REMOTE_NAME.fullmatch(remote) or not instance or ":" in instance:
        raise TclaudeError(
            f"bad target {target[:80]!r}: a remote instance is REMOTE:INSTANCE (one colon)"
        )
    check_instance(instance)
    return remote, instance


def check_instance(instance: str) -> None:
    """Refuse a remote instance that is no instance name, id or pane id (``%N``).

    It becomes a local tmux window's name and an ssh argument: ``#(cmd)`` in
    it would run ``cmd`` here, in tmux's format expansion.
    """
    if not any(p.fullmatch(instance) for p in (NAME_PATTERN, ID_PATTERN, PANE_ID)):
        raise TclaudeError(
            f"bad remote instance {instance[:80]!r}: an instance name, id or pane id (%N)"
        )
