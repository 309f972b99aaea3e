"""One instance host from start to exit.

Order matters and is the contract with ``tclaude new``: bind the port, write
the lock file, open the editor socket, write the runtime record, signal
ready, and only then start claude. Every way out removes the lock file,
socket and record. The heavy imports (asyncio, websockets) come after the
lock file is on disk, so the CLI can find the server as early as possible.
"""

from __future__ import annotations

import os
import signal
import sys

from .. import lockfile
from ..errors import NotFoundError, TclaudeError
from . import child, ports
from .startup import HostFiles, HostOptions, signal_ready

TYPE_CHECKING = False  # not typing's: importing typing costs ~2 ms before the lock file
if TYPE_CHECKING:
    import socket


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
        signal_ready(options.ready_fifo, {"error": str(err)})
        return 127 if isinstance(err, NotFoundError) else 1
    except OSError as err:
        print(f"tclaude host: {err}", file=sys.stderr)
        signal_ready(options.ready_fifo, {"error": str(err)})
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

    from .main_loop import Host

    session = Host(options, argv, cwd, sock, token, files)
    return asyncio.run(session.main())
