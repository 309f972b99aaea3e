"""One watcher of instance events: a snapshot, then what publishers push (see watch.py).

It binds its socket before it reads the snapshot, so nothing that happens
meanwhile is lost; an event that the snapshot already shows is not repeated.
It keeps the instances it knows, so it can say what changed (old -> new) and
names instances by their current name (a host learns of a rename late).
When a publisher found its queue full (the ``.lost`` flag, see watch.py) it
re-reads the registry and says what changed meanwhile, as ordinary events
(created, state, renamed, killed): the stream converges, its format unchanged.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from typing import Any

from . import VERSION, paths, watch
from .errors import TclaudeError, TmuxError
from .registry import Registry
from .tmux import Tmux

logger = logging.getLogger(__name__)

TARGET_FORMAT = "#{session_name}:#{window_index}.#{pane_index}"
RECEIVE_BUFFER = 1 << 20  # bytes; the queue's length is still the kernel's max_dgram_qlen


class Watcher:
    """Events as the ``watch --json`` stream shows them: dicts with ``seq`` and ``type``."""

    def __init__(self, registry: Registry, tmux: Tmux) -> None:
        self.registry = registry
        self.tmux = tmux
        self.path: str | None = None
        self.sock: socket.socket | None = None
        self.known: dict[str, dict[str, Any]] = {}
        self.dropped = 0  # datagrams refused by validation
        self._seq = 0

    def open(self) -> None:
        """Bind the socket (0600, in the 0700 watch dir)."""
        directory = paths.ensure_private_dir(watch.watch_dir())
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        with contextlib.suppress(OSError):  # else the default
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        path = os.path.join(directory, f"{os.getpid()}-{os.urandom(4).hex()}.sock")
        old = os.umask(0o177)
        try:
            sock.bind(path)
        except OSError:
            sock.close()
            raise
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        self.sock, self.path = sock, path

    def close(self) -> None:
        """Unbind and remove the socket (idempotent)."""
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        paths.remove_quietly(self.path)
        if self.path is not None:
            paths.remove_quietly(watch.lost_path(self.path))
        self.path = None

    def fileno(self) -> int:
        assert self.sock is not None
        return self.sock.fileno()

    def snapshot(self, usage: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """One ``snapshot`` event per instance, then ``synced`` (with the count)."""
        events = []
        for fields in self._current():
            self.known[fields["id"]] = fields
            event = self._event("snapshot", fields)
            if usage is not None:
                event["usage"] = usage.get(fields["id"])
            events.append(event)
        events.append(self._event("synced", {"count": len(events), "version": VERSION}))
        return events

    def alive(self) -> dict[str, Any]:
        """The heartbeat line (``watch --json --heartbeat``): nothing happened, we are here."""
        return self._event("alive", {})

    def _current(self) -> list[dict[str, Any]]:
        """Every instance of the registry, as the stream shows it."""
        current = []
        for instance in self.registry.instances():
            pane = instance.pane
            target = pane.target if pane else None
            current.append(
                {
                    "id": instance.id,
                    "name": instance.name,
                    "state": instance.state,
                    "unseen": bool(pane and pane.unseen),
                    "cwd": instance.cwd if watch.valid_cwd(instance.cwd) else None,
                    "pane": pane.pane_id if pane else None,
                    "target": target if watch.valid_target(target) else None,
                    "port": instance.port,
                    "created": round(instance.created, 3) if instance.created else None,
                }
            )
        return current

    def resync(self) -> list[dict[str, Any]]:
        """The events that take what we know to what the registry says now."""
        current = {fields["id"]: fields for fields in self._current()}
        gone = [i for i in self.known if i not in current]
        events = [self._event("killed", self.known.pop(i)) for i in gone]
        for instance_id, now in current.items():
            known = self.known.get(instance_id)
            self.known[instance_id] = now
            if known is None:
                events.append(self._event("created", now))
                continue
            if known["name"] != now["name"]:
                events.append(self._event("renamed", {**now, "old": known["name"]}))
            if any(known.get(key) != now[key] for key in ("state", "unseen", "pane", "target")):
                events.append(self._event("state", {**now, "old": known["state"]}))
        return events

    def receive(self) -> list[dict[str, Any]]:
        """Read every datagram waiting (without blocking); the events they make, and
        those of a resync when a publisher flagged that some did not fit."""
        assert self.sock is not None
        assert self.path is not None
        events: list[dict[str, Any]] = []
        while True:
            try:
                data = self.sock.recv(watch.MAX_DATAGRAM + 1, socket.MSG_DONTWAIT)
            except BlockingIOError:
                try:
                    os.unlink(watch.lost_path(self.path))
                except FileNotFoundError:
                    return events
                try:
                    return events + self.resync()
                except (TclaudeError, OSError) as exc:  # tmux or the state file: next time
                    logger.warning("events missed, resync failed: %s", exc)
                    watch.flag_lost(self.path)
                    return events
            datagram = watch.parse_datagram(data)
            if datagram is None:
                self.dropped += 1
                if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                    logger.warning("%s invalid datagram(s) dropped", self.dropped)
                continue
            events += self.apply(datagram)

    def apply(self, datagram: dict[str, Any]) -> list[dict[str, Any]]:
        """The events one valid datagram makes (none when it tells nothing new)."""
        kind = datagram["type"]
        instance_id = datagram["id"]
        known = self.known.get(instance_id)
        if kind == "killed":
            if known is None:
                return []
            del self.known[instance_id]
            return [self._event("killed", known)]
        if kind == "renamed":
            if known is None or known["name"] == datagram["name"]:
                return []
            old, known["name"] = known["name"], datagram["name"]
            return [self._event("renamed", {**known, "old": old})]
        # created, state
        if known is None:
            fields = {key: datagram.get(key) for key in watch.KEYS if key != "old"}
            fields["unseen"] = bool(fields["unseen"])
            fields["target"] = self._target(fields["pane"])
            fields["created"] = fields["created"] or round(time.time(), 3)  # about now
            self.known[instance_id] = fields
            return [self._event("created", fields)]
        new = {"state": datagram["state"], "unseen": bool(datagram.get("unseen"))}
        if datagram.get("pane") and datagram["pane"] != known["pane"]:
            new["pane"] = datagram["pane"]
            new["target"] = self._target(datagram["pane"])
        if datagram.get("port") and datagram["port"] != known.get("port"):
            new["port"] = datagram["port"]
        if all(known.get(key) == value for key, value in new.items()):
            return []
        old = known["state"]
        known.update(new)
        return [self._event("state", {**known, "old": old})]

    def _target(self, pane: str | None) -> str | None:
        if pane is None:
            return None
        try:
            target = self.tmux.display(TARGET_FORMAT, pane)
        except (TmuxError, OSError):
            return None
        return target if watch.valid_target(target) else None

    def _event(self, kind: str, fields: dict[str, Any]) -> dict[str, Any]:
        self._seq += 1
        return {"seq": self._seq, "type": kind, "time": round(time.time(), 3), **fields}
