"""The usage of each instance's conversation, for ``list``, ``status`` and the picker."""

from __future__ import annotations

from typing import Any

from . import transcript
from .config import Config, default_prices
from .registry import Instance
from .usage import UsageReader


def prices(config: Config) -> dict[str, dict[str, float]]:
    """The configured prices over the shipped ones (a family set in the file replaces its own)."""
    return {**default_prices(), **config.prices}


def usage_of(
    instances: list[Instance], config: Config, reader: UsageReader | None = None
) -> dict[str, dict[str, Any] | None]:
    """Instance id -> ``Usage.to_json`` (None: no transcript yet); the cache is saved once."""
    reader = reader or UsageReader()
    table = prices(config)
    found: dict[str, dict[str, Any] | None] = {}
    for instance in instances:
        saved = instance.saved
        path = (
            transcript.path_for(instance.cwd, saved.session_id, saved.transcript)
            if saved is not None
            else None
        )
        usage = reader.read(path) if path else None
        found[instance.id] = usage.to_json(table) if usage else None
    reader.save()
    return found
