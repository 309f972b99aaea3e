"""Run real hosts with the fake claude as child, and talk to both ends."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from websockets.typing import Subprotocol

from tmuxclaude.ready import ReadyFifo

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

FAKE_CLAUDE = Path(__file__).resolve().parent.parent / "fake_claude.py"
FAKE_CLAUDE_COMMAND = f"{sys.executable} {FAKE_CLAUDE}"


class FakeCli:
    """The test's end of a fake claude: send frames as the CLI, read the host's."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.pid = 0
        self.lend_path = ""  # where the fake claude takes fds to hold (see fake_claude.py)
        self.notifications: list[dict[str, Any]] = []
        self._ids = itertools.count(100)
        self.responses: dict[Any, dict[str, Any]] = {}

    async def send(self, msg: dict[str, Any]) -> None:
        self.writer.write(json.dumps(msg).encode() + b"\n")
        await self.writer.drain()

    async def send_raw(self, text: str) -> None:
        await self.send({"__raw__": text})

    async def recv(self, timeout: float = 10) -> dict[str, Any]:
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        if not line:
            raise ConnectionError("fake claude went away")
        msg: dict[str, Any] = json.loads(line)
        return msg

    async def next_frame(self, timeout: float = 10) -> dict[str, Any]:
        """The next frame from the host, sorting it into responses or notifications."""
        msg = await self.recv(timeout)
        if msg.get("__fake__") == "closed":
            raise ConnectionError("the host closed the connection")
        if "id" in msg and "method" not in msg:
            self.responses[msg["id"]] = msg
        elif "method" in msg:
            self.notifications.append(msg)
        return msg

    async def response(self, msg_id: Any, timeout: float = 10) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while msg_id not in self.responses:
            await self.next_frame(max(0.01, deadline - loop.time()))
        return self.responses.pop(msg_id)

    async def notification(self, method: str, timeout: float = 10) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for i, msg in enumerate(self.notifications):
                if msg["method"] == method:
                    return self.notifications.pop(i)
            await self.next_frame(max(0.01, deadline - loop.time()))

    async def request(self, method: str, params: dict[str, Any] | None = None) -> Any:
        msg_id = next(self._ids)
        msg: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            msg["params"] = params
        await self.send(msg)
        return msg_id

    async def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 10
    ) -> dict[str, Any]:
        return await self.response(await self.request(method, params), timeout)

    async def tool(
        self, name: str, arguments: dict[str, Any] | None = None, timeout: float = 10
    ) -> dict[str, Any]:
        """Call a tool; return the JSON-RPC response (result or error)."""
        return await self.call("tools/call", {"name": name, "arguments": arguments or {}}, timeout)

    async def hook(self, event: str, payload: dict[str, Any] | None = None) -> None:
        """Make the fake claude run its hooks for ``event``; return once they ran."""
        await self.send({"__fake__": "hook", "event": event, "payload": payload or {}})
        while True:
            msg = await self.recv()
            if msg.get("__fake__") == "hooked":
                return
            if "id" in msg and "method" not in msg:
                self.responses[msg["id"]] = msg
            elif "method" in msg:
                self.notifications.append(msg)

    async def exit(self, code: int = 0) -> None:
        await self.send({"__fake__": "exit", "code": code})


class ControlServer:
    """Where fake claudes dial in; ``accept`` gives the next one, handshake done."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._queue: asyncio.Queue[FakeCli] = asyncio.Queue()
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._on_client, self.path, limit=2**28)

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        cli = FakeCli(reader, writer)
        hello = await cli.recv()
        cli.pid = int(hello["pid"])
        cli.lend_path = f"\0{self.path}.{cli.pid}.fds"
        await self._queue.put(cli)

    async def accept_raw(self, timeout: float = 15) -> FakeCli:
        """The next fake claude, before its opening is answered (or refused)."""
        return await asyncio.wait_for(self._queue.get(), timeout)

    async def accept(self, timeout: float = 15) -> FakeCli:
        cli = await asyncio.wait_for(self._queue.get(), timeout)
        # the opening: initialize (id 0) and tools/list (id 1) are answered
        await cli.response(0)
        await cli.response(1)
        return cli

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()


@dataclass
class HostProcess:
    proc: asyncio.subprocess.Process
    ready: dict[str, Any]
    env: dict[str, str] = field(repr=False)

    @property
    def port(self) -> int:
        return int(self.ready["port"])

    @property
    def socket(self) -> str:
        return str(self.ready["socket"])

    @property
    def lockfile(self) -> str:
        return str(self.ready["lockfile"])

    @classmethod
    async def start(
        cls,
        env: dict[str, str],
        cwd: str,
        *,
        name: str = "test",
        instance_id: str | None = None,
        claude_args: list[str] | None = None,
        extra_env: dict[str, str] | None = None,
        stderr_path: str | None = None,
    ) -> HostProcess:
        """Start a host and wait until it is ready; ``stderr_path`` captures its stderr."""
        instance_id = instance_id or uuid.uuid4().hex[:8]
        full_env = {**env, **(extra_env or {})}
        fifo_path = os.path.join(full_env["TCLAUDE_RUNTIME_DIR"], f"ready-{instance_id}")
        os.makedirs(full_env["TCLAUDE_RUNTIME_DIR"], mode=0o700, exist_ok=True)
        with ReadyFifo(fifo_path) as fifo, contextlib.ExitStack() as stack:
            stderr = stack.enter_context(open(stderr_path, "wb")) if stderr_path else None
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "tmuxclaude",
                "host",
                "--id",
                instance_id,
                "--name",
                name,
                "--cwd",
                cwd,
                "--ready-fifo",
                fifo_path,
                "--",
                *(claude_args or []),
                env=full_env,
                stdin=asyncio.subprocess.DEVNULL,
                stderr=stderr,
            )
            ready = await asyncio.to_thread(fifo.wait, 20, lambda: proc.returncode is None)
        return cls(proc, ready, full_env)

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    async def wait(self, timeout: float = 15) -> int:
        return await asyncio.wait_for(self.proc.wait(), timeout)

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await self.wait(10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


class IdeEndpoint(Protocol):
    """Where an IDE server is: a ``HostProcess``, or an instance ``tclaude new`` made."""

    @property
    def port(self) -> int: ...

    @property
    def lockfile(self) -> str: ...


def lock_token(host: IdeEndpoint) -> str:
    """The auth token a CLI would read from the host's lock file."""
    with open(host.lockfile, encoding="utf-8") as handle:
        token: str = json.load(handle)["authToken"]
    return token


def lend_socket(path: str, fd: int) -> None:
    """Have the fake claude listening at ``path`` hold ``fd`` too (SCM_RIGHTS)."""
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(10)
        conn.connect(path)
        socket.send_fds(conn, [b"fd"], [fd])
        assert conn.recv(1) == b"k"


async def connect_ide(
    host: IdeEndpoint,
    token: str | None = None,
    *,
    held_by: FakeCli | None = None,
    headers: dict[str, str] | None = None,
) -> ClientConnection:
    """A WebSocket straight to the host's IDE server, as a CLI would open it.

    ``token`` defaults to the lock file's. With ``held_by``, the socket is lent
    to that fake claude before the upgrade, so it passes the host's
    socket-owner check; without, the host refuses it (HTTP 403).
    ``headers`` are sent besides.
    """
    from websockets.asyncio.client import connect

    sock = socket.create_connection(("127.0.0.1", host.port))
    if held_by is not None:
        await asyncio.to_thread(lend_socket, held_by.lend_path, sock.fileno())
    return await connect(
        f"ws://127.0.0.1:{host.port}/",
        sock=sock,
        subprotocols=[Subprotocol("mcp")],
        additional_headers={
            "X-Claude-Code-Ide-Authorization": lock_token(host) if token is None else token,
            **(headers or {}),
        },
        max_size=None,
        compression=None,
    )


async def ide_connected(ws: ClientConnection, pid: int) -> None:
    """The CLI's handshake on a direct connection: initialized, then ide_connected."""
    await ws.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
    await ws.send(json.dumps({"jsonrpc": "2.0", "method": "ide_connected", "params": {"pid": pid}}))


async def ws_call(ws: ClientConnection, msg: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
    """Send a request on a direct connection; return its response, skipping notifications."""
    await ws.send(json.dumps(msg))
    while True:
        reply: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if reply.get("id") == msg.get("id") and "method" not in reply:
            return reply


class EditorClient:
    """A raw client of a host's editor socket (NDJSON JSON-RPC)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._ids = itertools.count(1)
        self.inbox: list[dict[str, Any]] = []

    @classmethod
    async def connect(cls, path: str) -> EditorClient:
        reader, writer = await asyncio.open_unix_connection(path, limit=2**28)
        return cls(reader, writer)

    async def send(self, msg: dict[str, Any]) -> None:
        self.writer.write(json.dumps(msg).encode() + b"\n")
        await self.writer.drain()

    async def read(self, timeout: float = 10) -> dict[str, Any]:
        line = await asyncio.wait_for(self.reader.readline(), timeout)
        if not line:
            raise ConnectionError("host closed the editor socket")
        msg: dict[str, Any] = json.loads(line)
        return msg

    async def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 10
    ) -> dict[str, Any]:
        msg_id = next(self._ids)
        await self.send({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params or {}})
        while True:
            msg = await self.read(timeout)
            if msg.get("id") == msg_id and "method" not in msg:
                return msg
            self.inbox.append(msg)

    async def next_request(self, method: str | None = None, timeout: float = 10) -> dict[str, Any]:
        """The next message from the host with a method (request or notification)."""
        for i, msg in enumerate(self.inbox):
            if "method" in msg and (method is None or msg["method"] == method):
                return self.inbox.pop(i)
        while True:
            msg = await self.read(timeout)
            if "method" in msg and (method is None or msg["method"] == method):
                return msg
            self.inbox.append(msg)

    async def reply(self, msg_id: Any, result: dict[str, Any]) -> None:
        await self.send({"jsonrpc": "2.0", "id": msg_id, "result": result})

    async def close(self) -> None:
        self.writer.close()
