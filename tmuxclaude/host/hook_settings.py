"""The ``--settings`` file that points Claude Code's hooks at this host.

Claude Code merges it with the user's own settings, so their hooks keep
running. Every event goes to the host's ``http`` hook endpoint except
SessionStart, which the CLI only runs as a ``command`` hook: a tiny relay,
whose command line (visible to every local user) names the file holding the
URL, not the URL with its token.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
from typing import Any

from .. import hook_relay, paths, runtime_files

HTTP_EVENTS = (
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "PermissionRequest",
    "Notification",
    "Stop",
    "StopFailure",
    "SessionEnd",
)
TOOL_EVENTS = frozenset({"PreToolUse", "PostToolUse", "PermissionRequest"})
#: The first CLI version known to have each event that is not in every CLI.
#: An event the running CLI does not know opens a blocking "Settings
#: Warning" dialog, so only the events of the version launched are hooked.
#: Those not listed here are older than any CLI tclaude has met.
EVENTS_SINCE: dict[str, tuple[int, int, int]] = {
    "PermissionRequest": (2, 1, 197),  # the oldest version checked; older unknown
    "StopFailure": (2, 1, 197),
}
HOOK_TIMEOUT = 5  # seconds; the host answers at once, this only bounds a stuck host


def events_for(version: tuple[int, int, int] | None) -> tuple[str, ...]:
    """The HTTP events to hook for a CLI of ``version``; all of them when it is unknown."""
    if version is None:
        return HTTP_EVENTS
    return tuple(e for e in HTTP_EVENTS if version >= EVENTS_SINCE.get(e, (0, 0, 0)))


def settings(url: str, url_file: str, events: tuple[str, ...] = HTTP_EVENTS) -> dict[str, Any]:
    """Hooks for ``url``; the relay gets ``url_file``, as its argv is public."""
    relay = shlex.join([sys.executable, "-S", hook_relay.__file__, url_file])
    hooks: dict[str, Any] = {
        "SessionStart": [{"hooks": [{"type": "command", "command": relay, "timeout": 5}]}]
    }
    for event in events:
        entry: dict[str, Any] = {"hooks": [{"type": "http", "url": url, "timeout": HOOK_TIMEOUT}]}
        if event in TOOL_EVENTS:
            entry["matcher"] = "*"
        hooks[event] = [entry]
    return {"hooks": hooks}


def take_user_settings(args: list[str]) -> tuple[list[str], dict[str, Any] | None]:
    """Claude arguments without the user's ``--settings``, and that settings' content.

    The CLI keeps only the last ``--settings`` it is given, so the user's own
    (a file or inline JSON) is merged into ours instead of being overridden.
    One that cannot be read is left in place, before ours.
    """
    for index, arg in enumerate(args):
        if arg == "--settings" and index + 1 < len(args):
            value, end = args[index + 1], index + 2
        elif arg.startswith("--settings="):
            value, end = arg.split("=", 1)[1], index + 1
        else:
            continue
        try:
            if value.lstrip().startswith("{"):
                loaded = json.loads(value)
            else:
                with open(os.path.expanduser(value), encoding="utf-8") as handle:
                    loaded = json.load(handle)
        except (OSError, ValueError):
            return args, None
        if not isinstance(loaded, dict):
            return args, None
        return [*args[:index], *args[end:]], loaded
    return args, None


def merged(ours: dict[str, Any], user: dict[str, Any] | None) -> dict[str, Any]:
    """The user's settings with our hooks added beside theirs, event by event."""
    if not user:
        return ours
    result = dict(user)
    hooks = dict(user.get("hooks") or {})
    for event, entries in ours["hooks"].items():
        hooks[event] = [*(hooks.get(event) or []), *entries]
    result["hooks"] = hooks
    return result


def write(
    instance_id: str,
    url: str,
    user: dict[str, Any] | None = None,
    events: tuple[str, ...] = HTTP_EVENTS,
) -> str:
    """Write the relay's URL file and the settings file (both 0600); return the latter's path."""
    url_file = runtime_files.hook_url_path(instance_id)
    paths.write_atomic(url_file, url, mode=0o600)
    path = runtime_files.settings_path(instance_id)
    body = json.dumps(merged(settings(url, url_file, events), user), indent=1)
    paths.write_atomic(path, body, mode=0o600)
    return path
