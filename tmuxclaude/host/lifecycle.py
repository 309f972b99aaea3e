"""One instance host from start to exit.

Order matters and is the contract with ``tclaude new``: bind the port, write
the lock file, open the editor socket, write the runtime record, signal
ready, and only then start claude. Every way out removes the lock file,
socket and record. The heavy imports (asyncio, websockets) come after the
lock file is on disk, so the CLI can find the server as early as possible.
"""

from __future__ import annotations

import json
import os
import signal
import sys

from .. import paths
from ..errors import NotFoundError, TclaudeError
from . import child, lockfile, ports

TYPE_CHECKING = False  # not typing's: importing typing costs ~2 ms before the lock file
if TYPE_CHECKING:
    import socket
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
        port_range: tuple[int, int] = ports.DEFAULT_RANGE,
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


def _signal_ready(fifo: str | None, message: dict[str, Any]) -> None:
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


class _Stopped(BaseException):
    """SIGTERM/SIGHUP before the event loop took over the signals."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _early_stop(signum: int, frame: object) -> None:
    raise _Stopped(signum)


def run(options: HostOptions) -> int:
    """Run the host; return the exit status (claude's own, or 1/127 on failure)."""
    files = HostFiles()
    for sig in (signal.SIGTERM, signal.SIGHUP):  # until asyncio installs its own
        signal.signal(sig, _early_stop)
    try:
        argv = child.resolve_command(options.claude_command, options.claude_args)
        cwd = os.path.realpath(options.cwd)
        if not os.path.isdir(cwd):
            raise TclaudeError(f"working directory does not exist: {options.cwd}")
        sock = ports.bind_loopback(options.port_range)
        port = sock.getsockname()[1]
        token = os.urandom(16).hex()  # what secrets.token_hex does, without its import
        files.lockfile = lockfile.write(
            port, pid=os.getpid(), cwd=cwd, ide_name=f"tclaude:{options.name}", token=token
        )
        return _serve(options, argv, cwd, sock, token, files)
    except TclaudeError as err:
        print(f"tclaude host: {err}", file=sys.stderr)
        _signal_ready(options.ready_fifo, {"error": str(err)})
        return 127 if isinstance(err, NotFoundError) else 1
    except OSError as err:
        print(f"tclaude host: {err}", file=sys.stderr)
        _signal_ready(options.ready_fifo, {"error": str(err)})
        return 1
    except _Stopped as stop:
        return 128 + stop.signum
    finally:
        files.remove()


def _serve(
    options: HostOptions,
    argv: list[str],
    cwd: str,
    sock: socket.socket,
    token: str,
    files: HostFiles,
) -> int:
    import asyncio

    from .session import HostSession

    session = HostSession(options, argv, cwd, sock, token, files)
    return asyncio.run(session.main())
