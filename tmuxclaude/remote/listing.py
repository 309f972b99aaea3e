"""The remotes' instances for ``tclaude list``: pushed, else asked; cached, stale when silent.

While ``watch-remotes`` runs (the tmux plugin starts it), each remote's feed
keeps ``<state dir>/remotes/NAME.feed.json`` current (remote/feed.py), and
its modification time is the last word from the remote (a heartbeat each
second): ``list`` reads that file and asks nobody. A feed silent for longer
than the remote timeout shows its instances stale, at once. Without a
connected feed, each remote is asked once (``tclaude list --json --remote-envelope`` over its
shared connection) with the remote timeout; all are asked at the same time,
so the slowest costs the timeout, not the sum. What a remote answered is
cached (``<state dir>/remotes/NAME.json``, 0600); a remote that does not
answer is shown with its cached instances, marked stale with their age.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from .. import VERSION, paths
from ..config import Config
from ..errors import TclaudeError
from ..names import printable
from . import feed_cache as feed
from . import replies
from .ssh import SSH_FAILED, Remote, RemoteError, call, configured, last_line


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
    """list's own cache of ``name``: its rows (their ages counted on to now) and its age."""
    try:
        with open(cache_path(name), encoding="utf-8") as handle:
            data = json.load(handle)
        rows = replies.instance_rows(name, data["rows"])
        elapsed = max(0.0, time.time() - float(data["at"]))
    except (OSError, ValueError, KeyError, TypeError, OverflowError, TclaudeError):
        return None
    for row in rows:
        row["age"] += elapsed  # instance_row made it a number
    return rows, elapsed


def _last_known(name: str, now: float) -> tuple[list[dict[str, Any]], float] | None:
    """The newer of what the feed and the last list said of ``name``, and its age."""
    cached = _cached(name)
    data = feed.read_cache(name)
    contact = data.get("contact") if data else None
    if (
        data
        and data.get("synced")
        and isinstance(contact, int | float)
        and (cached is None or now - contact < cached[1])
    ):
        with contextlib.suppress(TclaudeError, TypeError, ValueError, OverflowError):
            return _feed_rows(name, data, now), max(0.0, now - contact)
    return cached


def pushed(remote: Remote, now: float | None = None) -> Listing | None:
    """What ``remote``'s running, connected feed knows, or None (then ask it)."""
    if not feed.running():
        return None
    path = feed.cache_path(remote.name)
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        return None
    data = feed.read_cache(remote.name)
    now = time.time() if now is None else now
    if data is not None and data.get("connected") is False:
        return _unreachable(remote, data, now)
    if data is None or data.get("connected") is not True:
        return None
    listing = Listing(remote.name)
    try:
        listing.rows = _feed_rows(remote.name, data, now)
    except (TclaudeError, TypeError, ValueError):
        return None
    silent = max(0.0, now - mtime)
    if silent > remote.timeout:
        listing.state = "unreachable"
        listing.stale_for = silent
        listing.message = f"remote {remote.name}: no word from it for {silent:.0f}s"
    elif data.get("tclaude") not in (None, VERSION):
        listing.state = "version-mismatch"
        listing.message = (
            f"remote {remote.name} runs tclaude {printable(str(data['tclaude']), 40)}, "
            f"this one is {VERSION}; tclaude remote install {remote.name}"
        )
    _mark(listing)
    return listing


def _pushed_or_none(remote: Remote) -> Listing | None:
    """``pushed``, None (ask the remote) if its caches cannot be read for any reason."""
    try:
        return pushed(remote)
    except Exception:  # a cache written by a feed fed by a remote: never the local rows' end
        return None


def _unreachable(remote: Remote, data: dict[str, Any], now: float) -> Listing | None:
    """A remote whose feed's last try failed in ssh itself (unreachable), recently: stale,
    without asking (that would wait out the timeout); None for any other state (ask it)."""
    down = data.get("down")
    if not isinstance(down, dict) or down.get("code") != SSH_FAILED:
        return None
    at = down.get("at")
    # the feed tries again at least every RETRY_CAP seconds (each try within the timeout)
    if not isinstance(at, int | float) or not 0 <= now - at <= feed.RETRY_CAP + remote.timeout + 5:
        return None
    listing = Listing(remote.name, state="unreachable")
    known = _last_known(remote.name, now)
    if known is not None:
        listing.rows, listing.stale_for = known
    # a mux client whose master lost the link says nothing: its master's words go nowhere
    why = printable(str(down.get("message") or "the connection was lost"), 200)
    listing.message = f"remote {remote.name}: unreachable ({why}); tclaude list --fresh asks it"
    _mark(listing)
    return listing


def _feed_rows(name: str, data: dict[str, Any], now: float) -> list[dict[str, Any]]:
    """The feed's instances as list rows; what the feed does not carry (connected CLIs)
    comes from the last full list of that instance, else is unknown (None)."""
    listed = {row["id"]: row for row in (_cached(name) or ([], 0.0))[0]}
    rows = []
    for entry in data.get("instances", []):
        if not isinstance(entry, dict):
            continue
        created = entry.get("created")
        item = {
            **{k: entry.get(k) for k in ("id", "name", "state", "cwd", "target", "port")},
            "unseen": entry.get("unseen") is True,
            "created": created,
            "age": now - created if isinstance(created, int | float) else None,
            "running": entry.get("state") not in ("stopped", None),
            "usage": entry.get("usage"),
        }
        row = replies.instance_row(name, item)
        before = listed.get(row["id"])
        row["clis"] = before["clis"] if before else None
        if row["usage"] is None and before:
            row["usage"] = before["usage"]
        rows.append(row)
    return rows


def _mark(listing: Listing) -> None:
    for row in listing.rows:
        row["stale"] = listing.stale_for is not None
        row["seen"] = listing.stale_for


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
    # one remote's answer never takes the other rows with it (this machine's own faults, an
    # OSError such as a runtime dir refused, still end the command: they are no remote's)
    except (TclaudeError, ValueError, TypeError, KeyError, AttributeError, IndexError,
            RecursionError, OverflowError) as err:  # fmt: skip
        listing.state = err.state if isinstance(err, RemoteError) else "error"
        listing.message = (
            str(err)
            if isinstance(err, TclaudeError)
            else f"remote {remote.name}: its answer could not be read ({type(err).__name__})"
        )
        known = _last_known(remote.name, time.time())
        if known is not None:
            listing.rows, listing.stale_for = known
    _mark(listing)
    return listing


def gather(config: Config, only: str | None = None, *, fresh: bool = False) -> list[Listing]:
    """Every configured remote's listing (or remote ``only``'s): from its feed, else asked
    (in parallel); ``fresh`` asks every remote whatever its feed says."""
    remotes = [Remote.named(config, only)] if only else configured(config)
    listings = {r.name: None if fresh else _pushed_or_none(r) for r in remotes}
    to_ask = [r for r in remotes if listings[r.name] is None]
    if to_ask:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(to_ask)) as pool:
            for listing in pool.map(ask, to_ask):
                listings[listing.remote] = listing
    return [listing for listing in listings.values() if listing is not None]


def known(config: Config) -> list[Listing]:
    """Every remote as known here, asking nobody (the picker, the menu): its connected
    feed, else the newer of its feed's and its last list's instances, marked stale."""
    listings = []
    now = time.time()
    for remote in configured(config):
        listing = _pushed_or_none(remote)
        if listing is None:
            listing = Listing(remote.name, state="unknown")
            known_rows = _last_known(remote.name, now)
            if known_rows is not None:
                listing.rows, listing.stale_for = known_rows
            _mark(listing)
        listings.append(listing)
    return listings
