"""Refused connections, logged throttled: anyone can cause them, at any rate."""

from __future__ import annotations

import logging
import time
from collections import Counter

INTERVAL = 10.0  # seconds: at most one line per interval


class RefusalLog:
    """Counts refusals by reason; logs the first at once, then one summary per interval.

    ``message`` is a %-format with ``total`` and ``reasons`` (``"3 why, 1 other"``).
    """

    def __init__(self, logger: logging.Logger, message: str, interval: float = INTERVAL) -> None:
        self._logger = logger
        self._message = message
        self._interval = interval
        self._counts: Counter[str] = Counter()
        self._last = -interval

    def refused(self, reason: str) -> None:
        self._counts[reason] += 1
        now = time.monotonic()
        if now - self._last >= self._interval:
            self._last = now
            total = sum(self._counts.values())
            reasons = ", ".join(f"{n} {why}" for why, n in self._counts.most_common())
            self._logger.warning(self._message, {"total": total, "reasons": reasons})
            self._counts.clear()
