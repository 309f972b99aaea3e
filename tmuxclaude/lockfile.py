"""The IDE lock file the Claude Code CLI discovers: ``<config>/ide/<port>.lock``."""

from __future__ import annotations

import json
import os

from . import paths


def path_for(port: int) -> str:
    return os.path.join(paths.lock_dir(), f"{port}.lock")


def write(port: int, *, pid: int, cwd: str, ide_name: str, token: str) -> str:
    """Write the lock file atomically (dir 0700, file 0600) and return its path."""
    paths.ensure_private_dir(paths.lock_dir())
    body = {
        "pid": pid,
        "workspaceFolders": [cwd],
        "ideName": ide_name,
        "transport": "ws",
        "authToken": token,
    }
    target = path_for(port)
    paths.write_atomic(target, json.dumps(body), mode=0o600)
    return target


def read(path: str) -> dict[str, object] | None:
    """A lock file's (or any JSON object file's) content; None when missing or not an object."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
