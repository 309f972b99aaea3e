"""The IDE server's port range, ``LOW-HIGH``: parsed for the config and the host."""

from __future__ import annotations

DEFAULT_RANGE = (10000, 65535)


def parse_range(text: str) -> tuple[int, int]:
    """``"10000-65535"`` → ``(10000, 65535)``; a single port is a range of one."""
    lo_text, dash, hi_text = text.partition("-")
    try:
        lo = int(lo_text)
        hi = int(hi_text) if dash else lo
    except ValueError:
        raise ValueError(f"port range {text!r} is not LOW-HIGH") from None
    if not 1024 <= lo <= hi <= 65535:
        raise ValueError(f"port range {text!r} must lie within 1024-65535, low first")
    return lo, hi
