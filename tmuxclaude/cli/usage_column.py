"""The usage column of ``list`` and ``status`` (the figures: ``instance_usage``)."""

from __future__ import annotations

from typing import Any

from ..usage import short


def cell(usage: dict[str, Any] | None) -> str:
    """The list column: ``42% $1.23``, or ``-``."""
    return short(usage) if usage else "-"
