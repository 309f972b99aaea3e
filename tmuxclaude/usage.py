"""Token usage, context and estimated cost of a conversation, read from its transcript.

Read incrementally: what was summed up to a byte offset is kept, per
transcript, in ``<runtime dir>/usage-cache.json`` (0600), so a ``tclaude
list`` reads only what the CLI appended since the last one (a stat when
nothing was). The CLI writes one assistant record per content block, each
with the message's usage: records are summed per message id, the last
record of a message counting. Costs are estimates from the ``prices``
setting (USD per million tokens), never the bill.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from . import paths, transcript

CACHE_VERSION = 1
# input, output, cache write (creation), cache read
USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
)
PRICE_KEYS = ("input", "output", "cache_write", "cache_read")
DEFAULT_WINDOW = 200_000
LARGE_WINDOW = 1_000_000  # models run with the 1M-token context
_RESET = r"\breset(?:s)?(?: at| in)?\s+([^.·|\n]{1,60})"

Counts = list[int]  # the four USAGE_KEYS


def price_for(model: str, prices: dict[str, dict[str, float]]) -> dict[str, float] | None:
    keys = [key for key in prices if key and key in model]
    return prices[max(keys, key=len)] if keys else None


@dataclass
class Usage:
    """What one transcript adds up to."""

    by_model: dict[str, Counts]
    context: int  # tokens the last reply's request and answer hold
    model: str | None
    limit: str | None  # the message of a rate/usage-limit failure the last turn ended in

    @property
    def totals(self) -> Counts:
        sums = [0, 0, 0, 0]
        for counts in self.by_model.values():
            sums = [a + b for a, b in zip(sums, counts, strict=True)]
        return sums

    def window(self, default: int = DEFAULT_WINDOW) -> int:
        return LARGE_WINDOW if self.context > default else default

    def cost(self, prices: dict[str, dict[str, float]]) -> float | None:
        """Estimated USD, None when a model used has no price."""
        total = 0.0
        for model, counts in self.by_model.items():
            price = price_for(model, prices)
            if price is None:
                if any(counts):
                    return None
                continue
            total += sum(
                n * float(price.get(k, 0.0)) for n, k in zip(counts, PRICE_KEYS, strict=True)
            )
        return total / 1_000_000

    def to_json(self, prices: dict[str, dict[str, float]]) -> dict[str, Any]:
        totals = self.totals
        window = self.window()
        cost = self.cost(prices)
        return {
            "input_tokens": totals[0],
            "output_tokens": totals[1],
            "cache_creation_input_tokens": totals[2],
            "cache_read_input_tokens": totals[3],
            "context_tokens": self.context,
            "context_window": window,
            "context_percent": round(100 * self.context / window, 1),
            "model": self.model,
            "cost_usd_estimate": None if cost is None else round(cost, 4),
            "limit": self.limit,
            "limit_resets": limit_resets(self.limit),
        }


def limit_resets(message: str | None) -> str | None:
    """The reset time a limit message names ("resets 3pm", "reset at 5:00 UTC"), if any."""
    if not message or "reset" not in message.lower():
        return None
    import re  # only here: list's start-up stays light

    match = re.search(_RESET, message, re.I)
    return match.group(1).strip() if match else None


def short(data: dict[str, Any]) -> str:
    """``42% $1.23`` for a ``Usage.to_json``: the list column and the tmux option."""
    cost = data.get("cost_usd_estimate")
    text = f"{data['context_percent']:.0f}%"
    return text if cost is None else f"{text} ${cost:.2f}"


class UsageReader:
    """Reads transcripts' usage through the cache; ``save`` writes the cache back once."""

    def __init__(self, cache_path: str | None = None) -> None:
        self.cache_path = cache_path or os.path.join(paths.runtime_dir(), "usage-cache.json")
        self._cache: dict[str, dict[str, Any]] | None = None
        self._dirty = False

    def _entries(self) -> dict[str, dict[str, Any]]:
        if self._cache is None:
            self._cache = {}
            try:
                with open(self.cache_path, encoding="utf-8") as handle:
                    data = json.load(handle)
                if isinstance(data, dict) and data.get("version") == CACHE_VERSION:
                    entries = data.get("transcripts")
                    if isinstance(entries, dict):
                        self._cache = entries
            except (OSError, ValueError):
                pass
        return self._cache

    def read(self, path: str) -> Usage | None:
        """The usage of the transcript at ``path``; None when there is none (yet)."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        entries = self._entries()
        entry = _valid(entries.get(path))
        if entry is None or entry["ino"] != st.st_ino or entry["offset"] > st.st_size:
            entry = _fresh(st.st_ino)
        if entry["offset"] < st.st_size:
            try:
                records, offset = transcript.read_records(path, entry["offset"])
            except OSError:
                return None
            if offset != entry["offset"]:
                for record in records:
                    _add(entry, record)
                entry["offset"] = offset
                entries[path] = entry
                self._dirty = True
        return Usage(
            {m: list(c) for m, c in entry["models"].items()},
            entry["context"],
            entry["model"],
            entry["limit"],
        )

    def save(self) -> None:
        """Write the cache back if anything was read (atomically, 0600; errors ignored)."""
        if not self._dirty or self._cache is None:
            return
        try:
            paths.ensure_private_dir(os.path.dirname(self.cache_path))
            body = json.dumps({"version": CACHE_VERSION, "transcripts": self._cache})
            paths.write_atomic(self.cache_path, body, mode=0o600)
            self._dirty = False
        except OSError:
            pass


def _fresh(ino: int) -> dict[str, Any]:
    return {
        "ino": ino,
        "offset": 0,
        "models": {},
        "last_id": None,
        "last_model": None,
        "last": [0, 0, 0, 0],
        "context": 0,
        "model": None,
        "limit": None,
    }


def _valid(entry: Any) -> dict[str, Any] | None:
    """A cache entry as written by ``_add``, else None (the cache is input like any file)."""
    if not isinstance(entry, dict):
        return None
    fresh = _fresh(0)
    if set(entry) != set(fresh):
        return None
    ints = all(isinstance(entry[k], int) for k in ("ino", "offset", "context"))
    models = entry["models"]
    counts_ok = isinstance(models, dict) and all(
        isinstance(c, list) and len(c) == 4 and all(isinstance(n, int) for n in c)
        for c in [*models.values(), entry["last"]]
    )
    return entry if ints and counts_ok else None


def _counts(usage: Any) -> Counts:
    if not isinstance(usage, dict):
        return [0, 0, 0, 0]
    values = [usage.get(key) for key in USAGE_KEYS]
    return [v if isinstance(v, int) and v >= 0 else 0 for v in values]


def _add(entry: dict[str, Any], record: dict[str, Any]) -> None:
    if record.get("type") != "assistant":
        return
    if transcript.is_api_error(record):
        if record.get("error") == "rate_limit" and not record.get("isSidechain"):
            entry["limit"] = _error_text(record)[:300] or "rate_limit"
        return
    message = transcript.message(record)
    model = message.get("model")
    if not isinstance(model, str) or model.startswith("<"):
        return  # <synthetic>: the CLI's own messages, no API call
    counts = _counts(message.get("usage"))
    message_id = message.get("id")
    models = entry["models"]
    if message_id is not None and message_id == entry["last_id"] and entry["last_model"] in models:
        # another block of the same message: its usage replaces the one counted
        previous = models[entry["last_model"]]
        models[entry["last_model"]] = [a - b for a, b in zip(previous, entry["last"], strict=True)]
    totals = models.get(model, [0, 0, 0, 0])
    models[model] = [a + b for a, b in zip(totals, counts, strict=True)]
    entry["last_id"] = message_id if isinstance(message_id, str) else None
    entry["last_model"] = model
    entry["last"] = counts
    if not record.get("isSidechain"):
        entry["context"] = sum(counts)
        entry["model"] = model
        entry["limit"] = None


def _error_text(record: dict[str, Any]) -> str:
    for block in transcript.assistant_blocks({**record, "isSidechain": False}):
        if isinstance(block.get("text"), str):
            return str(block["text"])
    return ""
