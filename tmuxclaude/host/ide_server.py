"""The WebSocket server the claude child connects to (MCP over ``ws://127.0.0.1``).

Authentication happens before the upgrade: a missing or wrong
``X-Claude-Code-Ide-Authorization`` header gets HTTP 401 and no WebSocket.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import socket
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from ..protocol.mcp import Deferred, McpSession
from .router import Router

logger = logging.getLogger(__name__)

AUTH_HEADER = "X-Claude-Code-Ide-Authorization"
MAX_MESSAGE = 128 * 1024 * 1024  # whole files travel in openDiff


class CliConnection:
    """One CLI on the WebSocket; what the router sees of it."""

    __slots__ = ("session", "tasks", "ws")

    def __init__(self, ws: ServerConnection, session: McpSession) -> None:
        self.ws = ws
        self.session = session
        self.tasks: set[asyncio.Task[None]] = set()

    async def send(self, text: str) -> None:
        await self.ws.send(text)


class IdeServer:
    """Serves MCP to every authenticated CLI on an already bound socket."""

    def __init__(self, router: Router, token: str, server_name: str, version: str) -> None:
        self.router = router
        self._token = token.encode()
        self._server_name = server_name
        self._version = version
        self._server: Server | None = None

    def _authenticate(self, connection: ServerConnection, request: Request) -> Response | None:
        given = request.headers.get(AUTH_HEADER)
        if given is not None and hmac.compare_digest(given.encode(), self._token):
            return None
        logger.warning("refused a connection: %s auth header", "wrong" if given else "no")
        return Response(
            HTTPStatus.UNAUTHORIZED.value,
            "Unauthorized",
            Headers([("Content-Type", "text/plain"), ("Connection", "close")]),
            b"missing or wrong " + AUTH_HEADER.encode() + b"\n",
        )

    async def start(self, sock: socket.socket) -> None:
        self._server = await serve(
            self._handle,
            sock=sock,
            subprotocols=[Subprotocol("mcp")],
            process_request=self._authenticate,
            compression=None,  # loopback: deflate costs more CPU than it saves
            max_size=MAX_MESSAGE,
            max_queue=64,
            ping_interval=30,
            ping_timeout=60,
            server_header=None,
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        session = McpSession(self.router, self._server_name, self._version)
        cli = CliConnection(ws, session)
        session.on_ready = lambda: self.router.cli_ready(cli)
        self.router.cli_connected(cli)
        receive = session.receive
        send = ws.send
        try:
            async for frame in ws:
                reply = receive(frame)
                if reply is None:
                    if session.close_reason is not None:
                        logger.warning("closed a cli connection: %s", session.close_reason)
                        await ws.close(1008, session.close_reason[:120])
                        break
                elif type(reply) is str:
                    await send(reply)
                else:
                    assert isinstance(reply, Deferred)
                    task = asyncio.create_task(self._finish(cli, reply))
                    cli.tasks.add(task)
                    task.add_done_callback(cli.tasks.discard)
        except ConnectionClosed:
            pass
        finally:
            self.router.cli_closed(cli)
            for task in list(cli.tasks):
                task.cancel()

    async def _finish(self, cli: CliConnection, deferred: Deferred) -> None:
        text = await deferred.reply
        with contextlib.suppress(ConnectionClosed):
            await cli.send(text)
