"""A remote's answers, checked: they come from another machine and are untrusted.

JSON is parsed strictly (size-capped, no NaN, the expected shape); each
instance row keeps only the keys the local views use, each of its type, with
names and states checked and text made printable; what only means something
on the remote (its pane ids, pids, session ids, files) is None. Nothing a
remote says becomes a local path, command or claude argument.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import TclaudeError
from ..names import printable
from ..watch import MAX_EPOCH, number_in
from .names import REMOTE_NAME

MAX_REPLY = 16 * 1024 * 1024
MAX_DEPTH = 16  # lists and objects in lists and objects; tclaude's answers nest 4 deep
INSTANCE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
STATES = frozenset(
    ("starting", "idle", "busy", "waiting", "limited", "error", "stopped", "stale", "running")
)
WAIT_RESULTS = frozenset(("reached", "timeout", "stopped"))
VERSION = re.compile(r"tclaude ([0-9][0-9A-Za-z.+-]{0,40})")
_TEXT_KEYS = ("cwd", "target", "layout")  # shown: the remote's, as it says them
# each number a row carries, and its range (else None): an int from 1 to 65535 for a port
_INT_RANGES = {"port": (1, 65535), "clis": (0, 1_000_000)}
_SECONDS_KEYS = ("created", "age")  # from 0 to watch.MAX_EPOCH
MAX_USAGE_KEYS = 40
MAX_FIGURE = 1e15  # a usage figure (tokens, dollars) beyond this is left out
MAX_CONTEXT_PERCENT = 1000.0
MAX_COST = 1e9  # dollars
# the remote's tmux ids, host pid, claude session id and files: here they would name a
# local pane, process, transcript or file, so a remote row carries them as None
_REMOTE_ONLY = ("pane", "window", "session", "pid", "session_id", "socket", "lockfile")
_FLAG_KEYS = ("running", "active", "unseen")


class RemoteReplyError(TclaudeError):
    """A remote answered something that is not what its tclaude would say."""


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(remote: str, text: str) -> Any:
    """The remote's JSON; RemoteReplyError (one line) for anything else (nested too deep too)."""
    if len(text) > MAX_REPLY:
        raise RemoteReplyError(f"remote {remote}: its answer is larger than {MAX_REPLY} bytes")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise RemoteReplyError(
            f"remote {remote}: its tclaude did not answer JSON ({printable(text, 80)!r})"
        ) from None
    if _too_deep(value):  # nothing done with it later comes near the recursion limit
        raise RemoteReplyError(f"remote {remote}: its answer is nested too deep")
    return value


def _too_deep(value: Any) -> bool:
    """True when lists and objects are nested more than ``MAX_DEPTH`` deep in ``value``."""
    level: list[Any] = [value] if isinstance(value, list | dict) else []
    for _ in range(MAX_DEPTH):
        level = [
            item
            for container in level
            for item in (container.values() if isinstance(container, dict) else container)
            if isinstance(item, list | dict)
        ]
        if not level:
            return False
    return True


def instance_rows(remote: str, value: Any) -> list[dict[str, Any]]:
    """A remote's ``tclaude list --json`` as checked rows, each naming ``remote``."""
    if not isinstance(value, list):
        raise RemoteReplyError(f"remote {remote}: its instance list is not a list")
    return [instance_row(remote, item) for item in value]


def instance_row(remote: str, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise RemoteReplyError(f"remote {remote}: an instance is not an object")
    name, instance_id = item.get("name"), item.get("id")
    if not isinstance(name, str) or not REMOTE_NAME.fullmatch(name):
        raise RemoteReplyError(f"remote {remote}: an instance has a bad name")
    if not isinstance(instance_id, str) or not INSTANCE_ID.fullmatch(instance_id):
        raise RemoteReplyError(f"remote {remote}: instance {name} has a bad id")
    state = item.get("state")
    row: dict[str, Any] = {
        "id": instance_id,
        "name": name,
        "state": state if isinstance(state, str) and state in STATES else "unknown",
    }
    for key in _TEXT_KEYS:
        value = item.get(key)
        row[key] = printable(value, 4096) if isinstance(value, str) else None
    row["cwd"] = row["cwd"] or ""
    for key, (low, high) in _INT_RANGES.items():
        value = item.get(key)
        row[key] = value if isinstance(value, int) and number_in(value, low, high) else None
    for key in _SECONDS_KEYS:
        value = item.get(key)
        row[key] = value if number_in(value, 0, MAX_EPOCH) else None
    row["clis"] = row["clis"] or 0
    row["age"] = float(row["age"] or 0.0)
    for key in _FLAG_KEYS:
        row[key] = item.get(key) is True
    row["usage"] = usage_figures(item.get("usage"))
    row.update(dict.fromkeys(_REMOTE_ONLY))
    row["remote"] = remote
    return row


def wait_result(remote: str, value: Any) -> dict[str, Any]:
    """A remote's ``tclaude wait --json`` object, checked, with only its known keys."""
    if not isinstance(value, dict):
        raise RemoteReplyError(f"remote {remote}: its wait answer is not an object")
    name, instance_id = value.get("name"), value.get("id")
    state, result = value.get("state"), value.get("result")
    if (
        not isinstance(name, str)
        or not REMOTE_NAME.fullmatch(name)
        or not isinstance(instance_id, str)
        or not INSTANCE_ID.fullmatch(instance_id)
        or state not in STATES
        or result not in WAIT_RESULTS
    ):
        raise RemoteReplyError(f"remote {remote}: its wait answer is not tclaude's")
    return {"name": name, "id": instance_id, "state": state, "result": result}


def usage_figures(value: Any) -> dict[str, Any] | None:
    """Usage figures: a flat object of numbers and short strings, or None.

    The two the usage column prints must be sane (a percentage; a cost or None),
    else there are none; any other figure out of range is left out.
    """
    if not isinstance(value, dict):
        return None
    cost = value.get("cost_usd_estimate")
    if not number_in(value.get("context_percent"), 0, MAX_CONTEXT_PERCENT) or not (
        cost is None or number_in(cost, 0, MAX_COST)
    ):
        return None  # what the usage column prints must be numbers, and sane
    kept: dict[str, Any] = {}
    for key, item in value.items():
        if len(kept) >= MAX_USAGE_KEYS:
            break
        if not isinstance(key, str) or len(key) > 40:
            continue
        if item is None or isinstance(item, bool) or number_in(item, -MAX_FIGURE, MAX_FIGURE):
            kept[key] = item
        elif isinstance(item, str):
            kept[key] = printable(item, 80)
    kept["context_percent"] = value["context_percent"]  # kept, whatever came before it
    if "cost_usd_estimate" in value:
        kept["cost_usd_estimate"] = cost
    return kept


# a remote's hint naming one of its instances: ``tclaude wait api --state idle``
_HINT = re.compile(
    r"\b(tclaude (?:attach|kill|log|peek|review|send|status|switch|wait) )"
    r"([A-Za-z0-9_+-]+)(?![A-Za-z0-9_+.:-])"
)


def hints_here(remote: str, text: str) -> str:
    """A remote's message with its ``tclaude VERB NAME`` hints made to work here
    (``REMOTE:NAME``): as given, they would act on a local instance of that name."""
    return _HINT.sub(lambda m: f"{m[1]}{remote}:{m[2]}", text)


def version(remote: str, text: str) -> str:
    """The version in ``tclaude --version`` output."""
    match = VERSION.fullmatch(text.strip())
    if match is None:
        raise RemoteReplyError(
            f"remote {remote}: {printable(text, 60)!r} is not tclaude's version line"
        )
    return match.group(1)
