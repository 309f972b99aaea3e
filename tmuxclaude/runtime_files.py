"""The runtime record: ``<runtime>/<id>.json``, what a running host is.

Written atomically when the host is ready and again when claude starts;
removed on the way out. Readers treat a record whose pid is dead as stale.
"""

from __future__ import annotations

import json
import os
from typing import Any

from . import paths


def record_path(instance_id: str) -> str:
    return os.path.join(paths.runtime_dir(), f"{instance_id}.json")


def socket_path(instance_id: str) -> str:
    return os.path.join(paths.runtime_dir(), f"{instance_id}.sock")


def settings_path(instance_id: str) -> str:
    return os.path.join(paths.runtime_dir(), f"{instance_id}.settings.json")


def hook_url_path(instance_id: str) -> str:
    """The hook URL, for the SessionStart relay: it holds the hook token (0600)."""
    return os.path.join(paths.runtime_dir(), f"{instance_id}.hook-url")


def log_path(instance_id: str) -> str:
    return os.path.join(paths.runtime_dir(), f"{instance_id}.log")


def leftovers(instance_id: str) -> list[str]:
    """What a host leaves in the runtime dir besides its log: record, socket, settings, URL file."""
    return [
        record_path(instance_id),
        socket_path(instance_id),
        settings_path(instance_id),
        hook_url_path(instance_id),
    ]


def write(instance_id: str, record: dict[str, Any]) -> str:
    target = record_path(instance_id)
    paths.write_atomic(target, json.dumps(record), mode=0o600)
    return target


def read(instance_id: str) -> dict[str, Any] | None:
    try:
        with open(record_path(instance_id), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
