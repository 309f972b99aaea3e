"""The ``--settings`` file that points Claude Code's hooks at this host.

Claude Code merges it with the user's own settings, so their hooks keep
running. Every event goes to the host's ``http`` hook endpoint except
SessionStart, which the CLI only runs as a ``command`` hook: a tiny relay.
"""

from __future__ import annotations

import json
import shlex
import sys
from typing import Any

from .. import hook_relay, paths
from . import record

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
HOOK_TIMEOUT = 5  # seconds; the host answers at once, this only bounds a stuck host


def settings(url: str) -> dict[str, Any]:
    relay = shlex.join([sys.executable, "-S", hook_relay.__file__, url])
    hooks: dict[str, Any] = {
        "SessionStart": [{"hooks": [{"type": "command", "command": relay, "timeout": 5}]}]
    }
    for event in HTTP_EVENTS:
        entry: dict[str, Any] = {"hooks": [{"type": "http", "url": url, "timeout": HOOK_TIMEOUT}]}
        if event in TOOL_EVENTS:
            entry["matcher"] = "*"
        hooks[event] = [entry]
    return {"hooks": hooks}


def write(instance_id: str, url: str) -> str:
    path = record.settings_path(instance_id)
    paths.write_atomic(path, json.dumps(settings(url), indent=1), mode=0o600)
    return path
