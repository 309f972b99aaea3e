"""The WebSocket server the claude child connects to (MCP over ``ws://127.0.0.1``).

Everything is checked before the upgrade: exactly one right
``X-Claude-Code-Ide-Authorization`` header (else HTTP 401), no ``Origin``,
a loopback ``Host``, and a connecting socket held by the host's own process
tree (else 403). Refusals are logged throttled. Each CLI gets a bounded send
queue: one that stops reading is dropped and harms no other.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import socket
from collections.abc import Callable
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from ..protocol.mcp import Deferred, McpConnection
from .refusals import RefusalLog
from .router import Router

logger = logging.getLogger(__name__)

AUTH_HEADER = "X-Claude-Code-Ide-Authorization"
MAX_MESSAGE = 128 * 1024 * 1024  # whole files travel in openDiff
MAX_CONNECTIONS = 64  # TCP connections at once, handshaking or open
OPEN_TIMEOUT = 5.0  # seconds from accept to a finished upgrade
SEND_QUEUE = 256  # frames waiting for one CLI; more and it is dropped
SEND_TIMEOUT = float(os.environ.get("TCLAUDE_SEND_TIMEOUT") or 5.0)  # seconds per frame
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})

Address = tuple[str, int]
OwnerCheck = Callable[[Address, Address], bool]  # (client, server) -> held by our claude's tree


class CliConnection:
    """One CLI on the WebSocket; what the router sees of it.

    ``send`` never waits: frames go through a bounded queue to a writer task
    that gives each frame ``SEND_TIMEOUT``; a full queue or a timeout drops
    the connection (the CLI reconnects if it is alive). ``reply`` (answers to
    the CLI's own requests) waits for room instead: a CLI that sends without
    reading slows only its own reads.
    """

    __slots__ = ("_queue", "_writer", "dropped", "mcp", "tasks", "ws")

    def __init__(self, ws: ServerConnection, mcp: McpConnection) -> None:
        self.ws = ws
        self.mcp = mcp
        self.tasks: set[asyncio.Task[None]] = set()
        self.dropped: str | None = None
        self._queue: asyncio.Queue[str] = asyncio.Queue(SEND_QUEUE)
        self._writer = asyncio.get_running_loop().create_task(self._write_all())

    def send(self, text: str) -> bool:
        """Queue one frame; False when the connection is (now) dropped."""
        if self.dropped is not None:
            return False
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            self.drop(f"{SEND_QUEUE} frames unread")
            return False
        return True

    async def reply(self, text: str) -> bool:
        """Queue an answer, waiting up to ``SEND_TIMEOUT`` for room; False when dropped."""
        if self.dropped is not None:
            return False
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await self._queue.put(text)
        except TimeoutError:
            self.drop(f"{SEND_QUEUE} frames unread for {SEND_TIMEOUT:g} s")
            return False
        return True

    def drop(self, reason: str) -> None:
        """Cut the connection at once: no closing handshake with a peer that does not read."""
        if self.dropped is None:
            self.dropped = reason
            logger.warning("dropped a cli connection: %s", reason)
            self.ws.transport.abort()

    async def close(self, code: int, reason: str) -> None:
        """Send what is queued (replies come before the reason to close), then close."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(SEND_TIMEOUT):
                await self._queue.join()
        await self.ws.close(code, reason)

    def stop(self) -> None:
        self._writer.cancel()

    async def _write_all(self) -> None:
        while True:
            text = await self._queue.get()
            try:
                async with asyncio.timeout(SEND_TIMEOUT):
                    await self.ws.send(text)
            except TimeoutError:
                self.drop(f"a frame not taken in {SEND_TIMEOUT:g} s")
                return
            except ConnectionClosed:
                return
            finally:
                self._queue.task_done()


def _loopback_host(value: str, port: int) -> bool:
    host, sep, given_port = value.rpartition(":")
    if not sep or host.endswith(":"):  # no port, or a bare IPv6 address
        host, given_port = value, str(port)
    return host.lower() in LOOPBACK_HOSTS and given_port == str(port)


class IdeServer:
    """Serves MCP to the host's own claude on an already bound socket.

    ``is_ours`` decides whether a connecting socket belongs to the host's
    process tree (``peer.owned_by_tree`` in the host).
    """

    def __init__(
        self, router: Router, token: str, server_name: str, version: str, is_ours: OwnerCheck
    ) -> None:
        self.router = router
        self._token = token.encode()
        self._server_name = server_name
        self._version = version
        self._is_ours = is_ours
        self._server: Server | None = None
        self.refusals = RefusalLog(logger, "refused %(total)d ide connections (%(reasons)s)")
        # connections still in their opening, oldest first: at the cap, the oldest
        # of them makes room, so idle sockets of another user never lock claude out
        self._opening: dict[ServerConnection, None] = {}

    def _refuse(self, status: HTTPStatus, reason: str) -> Response:
        self.refusals.refused(reason)
        body = reason.encode() + b"\n"
        return Response(
            status.value,
            status.phrase,
            Headers(
                [
                    ("Content-Type", "text/plain"),
                    ("Content-Length", str(len(body))),
                    ("Connection", "close"),
                ]
            ),
            body,
        )

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse what is not our claude's opening, before any WebSocket work."""
        headers = request.headers
        given = headers.get_all(AUTH_HEADER)
        if len(given) > 1:
            return self._refuse(HTTPStatus.UNAUTHORIZED, f"more than one {AUTH_HEADER}")
        if not given or not hmac.compare_digest(given[0].encode(), self._token):
            return self._refuse(HTTPStatus.UNAUTHORIZED, f"missing or wrong {AUTH_HEADER}")
        if "Origin" in headers:
            return self._refuse(HTTPStatus.FORBIDDEN, "an Origin header (a browser)")
        server = connection.transport.get_extra_info("sockname")
        client = connection.transport.get_extra_info("peername")
        if not server or not client:
            return self._refuse(HTTPStatus.FORBIDDEN, "a connection already gone")
        hosts = headers.get_all("Host")
        if len(hosts) != 1 or not _loopback_host(hosts[0], server[1]):
            return self._refuse(HTTPStatus.FORBIDDEN, "a Host header that is not loopback")
        if not self._is_ours(client[:2], server[:2]):
            return self._refuse(HTTPStatus.FORBIDDEN, "a socket not held by this instance's claude")
        return None

    async def start(self, sock: socket.socket) -> None:
        refusals = self.refusals
        opening = self._opening

        class CappedConnection(ServerConnection):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                super().connection_made(transport)
                opening[self] = None
                if len(self.server.handler_tasks) > MAX_CONNECTIONS:
                    refusals.refused(f"over {MAX_CONNECTIONS} connections at once")
                    oldest = next(iter(opening))
                    opening.pop(oldest)
                    oldest.transport.abort()

            def connection_lost(self, exc: Exception | None) -> None:
                opening.pop(self, None)
                super().connection_lost(exc)

        self._server = await serve(
            self._handle,
            sock=sock,
            create_connection=CappedConnection,
            subprotocols=[Subprotocol("mcp")],
            process_request=self._check_request,
            compression=None,  # loopback: deflate costs more CPU than it saves
            max_size=MAX_MESSAGE,
            max_queue=64,
            open_timeout=OPEN_TIMEOUT,
            ping_interval=30,
            ping_timeout=60,
            server_header=None,
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        self._opening.pop(ws, None)  # opened: no longer one to evict
        mcp = McpConnection(self.router, self._server_name, self._version)
        cli = CliConnection(ws, mcp)
        mcp.on_ready = lambda: self.router.cli_ready(cli)
        self.router.cli_connected(cli)
        receive = mcp.receive
        reply_with = cli.reply
        try:
            async for frame in ws:
                reply = receive(frame)
                if reply is None:
                    if mcp.close_reason is not None:
                        logger.warning("closed a cli connection: %s", mcp.close_reason)
                        await cli.close(1008, mcp.close_reason[:120])
                        break
                elif type(reply) is str:
                    if not await reply_with(reply):
                        break
                else:
                    assert isinstance(reply, Deferred)
                    task = asyncio.create_task(self._finish(cli, reply))
                    cli.tasks.add(task)
                    task.add_done_callback(cli.tasks.discard)
        except ConnectionClosed:
            pass
        finally:
            self.router.cli_closed(cli)
            cli.stop()
            for task in list(cli.tasks):
                task.cancel()

    async def _finish(self, cli: CliConnection, deferred: Deferred) -> None:
        await cli.reply(await deferred.reply)
