"""The remotes' instances for ``tclaude list``: asked in parallel, cached, stale when silent.

Each remote is asked once (``tclaude list --json --remote-envelope`` over its
shared connection) with the remote timeout; all are asked at the same time,
so the slowest costs the timeout, not the sum. What a remote answered is
cached (``<state dir>/remotes/NAME.json``, 0600); a remote that does not
answer is shown with its cached instances, marked stale with their age.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .. import VERSION, paths
from ..config import Config
from ..errors import TclaudeError
from ..names import printable
from . import replies
from .ssh import Remote, RemoteError, call, configured, last_line


@dataclass
class Listing:
    remote: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    state: str = "ok"  # ok, unreachable, no-tclaude, version-mismatch, error
    message: str = ""
    stale_for: float | None = None  # seconds since the rows were seen; None: fresh


def cache_path(name: str) -> str:
    return os.path.join(paths.state_dir(), "remotes", f"{name}.json")


def _save(name: str, rows: list[dict[str, Any]]) -> None:
    path = cache_path(name)
    try:
        paths.ensure_private_dir(os.path.dirname(path))
        paths.write_atomic(path, json.dumps({"at": time.time(), "rows": rows}))
    except OSError:
        pass  # a cache: the listing stands without it


def _cached(name: str) -> tuple[list[dict[str, Any]], float] | None:
    try:
        with open(cache_path(name), encoding="utf-8") as handle:
            data = json.load(handle)
        rows = replies.instance_rows(name, data["rows"])
        return rows, max(0.0, time.time() - float(data["at"]))
    except (OSError, ValueError, KeyError, TypeError, TclaudeError):
        return None


def ask(remote: Remote) -> Listing:
    """One remote's instances, or its cached ones marked stale; never raises."""
    listing = Listing(remote.name)
    try:
        reply = call(remote, ["list", "--json", "--remote-envelope"])
        if reply.code != 0:
            if "--remote-envelope" in reply.stderr:  # a tclaude from before remotes
                raise RemoteError(
                    f"remote {remote.name}: its tclaude is older than this one ({VERSION}); "
                    f"update it with: tclaude remote install {remote.name}",
                    "version-mismatch",
                )
            raise RemoteError(
                f"remote {remote.name}: list failed: {last_line(reply.stderr)}", "error"
            )
        envelope = replies.parse_json(remote.name, reply.stdout)
        if not isinstance(envelope, dict):
            raise RemoteError(f"remote {remote.name}: its answer is not an object", "error")
        listing.rows = replies.instance_rows(remote.name, envelope.get("instances"))
        version = envelope.get("version")
        if version != VERSION:
            shown = printable(str(version), 40)
            listing.state = "version-mismatch"
            listing.message = (
                f"remote {remote.name} runs tclaude {shown}, this one is {VERSION}; "
                f"tclaude remote install {remote.name}"
            )
        _save(remote.name, listing.rows)
    except TclaudeError as err:
        listing.state = err.state if isinstance(err, RemoteError) else "error"
        listing.message = str(err)
        cached = _cached(remote.name)
        if cached is not None:
            listing.rows, listing.stale_for = cached
    for row in listing.rows:
        row["stale"] = listing.stale_for is not None
        row["seen"] = listing.stale_for
    return listing


def gather(config: Config, only: str | None = None) -> list[Listing]:
    """Every configured remote's listing (or remote ``only``'s), asked in parallel."""
    remotes = [Remote.named(config, only)] if only else configured(config)
    if not remotes:
        return []
    with ThreadPoolExecutor(max_workers=len(remotes)) as pool:
        return list(pool.map(ask, remotes))
