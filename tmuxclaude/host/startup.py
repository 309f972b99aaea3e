"""What a host starts with and reports: its options, the files it must remove, ready.

Imported before the lock file is written: plain classes and no ``typing``
(see lifecycle.py). Both the start-up code and the asyncio side use it.
"""

from __future__ import annotations

import json
import os

from .. import paths
from ..port_range import DEFAULT_RANGE
from . import child

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

VERSION = "0.1.0"


# Plain classes, not dataclasses: ``dataclasses`` pulls in ``inspect`` (~10 ms of
# imports) before the lock file is written; asyncio imports it later anyway.
class HostOptions:
    """What one host runs: the instance, its directory, claude's command and options."""

    __slots__ = (
        "claude_args",
        "claude_command",
        "cwd",
        "hooks",
        "instance_id",
        "name",
        "notify",
        "port_range",
        "ready_fifo",
    )

    def __init__(
        self,
        instance_id: str,
        name: str,
        cwd: str,
        claude_args: list[str] | None = None,
        claude_command: str = child.DEFAULT_COMMAND,
        port_range: tuple[int, int] = DEFAULT_RANGE,
        ready_fifo: str | None = None,
        notify: list[str] | None = None,
        hooks: bool = True,  # pass claude a --settings file whose hooks report state
    ) -> None:
        self.instance_id = instance_id
        self.name = name
        self.cwd = cwd
        self.claude_args = [] if claude_args is None else claude_args
        self.claude_command = claude_command
        self.port_range = port_range
        self.ready_fifo = ready_fifo
        self.notify = ["message"] if notify is None else notify
        self.hooks = hooks

    def __repr__(self) -> str:
        fields = ", ".join(f"{key}={getattr(self, key)!r}" for key in self.__slots__)
        return f"HostOptions({fields})"


class HostFiles:
    """What this host created and must remove on the way out."""

    __slots__ = ("hook_url", "lockfile", "record", "settings", "socket")

    def __init__(self) -> None:
        self.lockfile: str | None = None
        self.socket: str | None = None
        self.record: str | None = None
        self.settings: str | None = None
        self.hook_url: str | None = None

    def remove(self) -> None:
        for path in (self.lockfile, self.socket, self.record, self.settings, self.hook_url):
            paths.remove_quietly(path)


def signal_ready(fifo: str | None, message: dict[str, Any]) -> None:
    """Write ``message`` as one JSON line to the FIFO ``tclaude new`` waits on, if any."""
    if not fifo:
        return
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return  # nobody waits any more
    try:
        os.write(fd, (json.dumps(message) + "\n").encode())
    except OSError:
        pass
    finally:
        os.close(fd)
