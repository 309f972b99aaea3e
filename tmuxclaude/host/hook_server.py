"""Receives Claude Code's ``http`` hooks on loopback: ``POST /hook/<token>``.

A minimal HTTP/1.1 server (keep-alive, Content-Length bodies) because the
payloads are small and the answer is always ``{}``: the host observes hooks,
it never decides them. Requests without the token get 404 and are dropped.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

MAX_BODY = 16 * 1024 * 1024  # PreToolUse carries a Write's whole content
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

HookHandler = Callable[[dict[str, Any]], None]


class HookServer:
    def __init__(self, token: str, handler: HookHandler) -> None:
        self._path = f"/hook/{token}".encode()
        self._handler = handler
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self._path.decode()}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await self._one_request(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        head = await reader.readuntil(b"\r\n\r\n")
        request_line, *header_lines = head[:-4].split(b"\r\n")
        parts = request_line.split(b" ")
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        try:
            length = int(headers.get(b"content-length", b"0"))
        except ValueError:
            length = -1
        if len(parts) != 3 or parts[0] != b"POST" or not 0 <= length <= MAX_BODY:
            writer.write(BAD)
            return False
        body = await reader.readexactly(length)
        if not hmac.compare_digest(parts[1], self._path):
            writer.write(NOT_FOUND)
            return False
        writer.write(OK)
        await writer.drain()
        self.dispatch(body)
        return headers.get(b"connection", b"").lower() != b"close"

    def dispatch(self, body: bytes) -> None:
        """Hand one hook payload to the handler; junk is logged and dropped."""
        try:
            payload = json.loads(body)
        except ValueError:
            logger.warning("dropped a hook body that is not JSON")
            return
        if isinstance(payload, dict):
            self._handler(payload)
