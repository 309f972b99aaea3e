"""Receives Claude Code's ``http`` hooks on loopback: ``POST /hook/<token>``.

A minimal HTTP/1.1 server (keep-alive, Content-Length bodies) because the
payloads are small and the answer is always ``{}``: the host observes hooks,
it never decides them. Any local user can connect, so everything before the
token check is bounded: the request head is read with a size limit and a
timeout, the path is checked before a byte of the body is read, and at the
connection cap the oldest connection that has not yet shown the token is
dropped. Refusals are logged (to the instance log) at most once a minute.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

from .refusals import RefusalLog

logger = logging.getLogger(__name__)

MAX_HEAD = 8 * 1024  # request line and headers
MAX_BODY = 16 * 1024 * 1024  # PreToolUse carries a Write's whole content; after auth only
MAX_CONNECTIONS = 64  # claude opens a few; the rest are someone else's
HEAD_TIMEOUT = 10.0  # seconds for a connection's first request head
BODY_TIMEOUT = 30.0  # seconds for an authenticated body
IDLE_TIMEOUT = 30.0  # seconds a kept-alive connection may wait for its next request
REFUSAL_LOG_INTERVAL = 60.0
OK = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    b"Keep-Alive: timeout=%d\r\n\r\n{}" % int(IDLE_TIMEOUT - 5)
)
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
FORBIDDEN = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
TOO_LARGE = b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

HookHandler = Callable[[dict[str, Any]], None]


class _Refused(Exception):
    """A request answered with ``reply`` (if any) and its connection closed."""

    def __init__(self, reason: str, reply: bytes | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reply = reply


class HookServer:
    """The hook endpoint; ``token`` must be its own, never the IDE's."""

    def __init__(
        self,
        token: str,
        handler: HookHandler,
        *,
        max_connections: int = MAX_CONNECTIONS,
        head_timeout: float = HEAD_TIMEOUT,
        body_timeout: float = BODY_TIMEOUT,
        idle_timeout: float = IDLE_TIMEOUT,
    ) -> None:
        self._path = f"/hook/{token}".encode()
        self._handler = handler
        self._server: asyncio.AbstractServer | None = None
        self.port = 0
        self._hosts: set[bytes] = set()  # Host headers of a loopback request to our port
        self.max_connections = max_connections
        self.head_timeout = head_timeout
        self.body_timeout = body_timeout
        self.idle_timeout = idle_timeout
        self.refusals = RefusalLog(
            logger, "hook endpoint refused: %(reasons)s", REFUSAL_LOG_INTERVAL
        )
        self._open: set[asyncio.StreamWriter] = set()
        # not yet authenticated, oldest first: the ones evicted at the cap
        self._strangers: dict[asyncio.StreamWriter, None] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self._path.decode()}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", 0, limit=MAX_HEAD, backlog=128
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._hosts = {f"{name}:{self.port}".encode() for name in ("127.0.0.1", "localhost")}

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._admit(writer)
        try:
            timeout = self.head_timeout
            while await self._one_request(reader, writer, timeout):
                timeout = self.idle_timeout
        except _Refused as refused:
            self.refusals.refused(refused.reason)
            if refused.reply is not None:
                writer.write(refused.reply)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # the host ends (see EditorSocket._handle: 3.11 would log a traceback)
        except Exception:  # never a traceback on claude's screen: the log file only
            logger.exception("hook connection failed")
        finally:
            self._open.discard(writer)
            self._strangers.pop(writer, None)
            writer.close()

    def _admit(self, writer: asyncio.StreamWriter) -> None:
        """Count a new connection; at the cap drop the oldest unauthenticated one."""
        self._open.add(writer)
        self._strangers[writer] = None
        if len(self._open) > self.max_connections:
            oldest = next(iter(self._strangers))
            self._strangers.pop(oldest)
            self._open.discard(oldest)
            oldest.transport.abort()  # its task sees the connection lost and ends
            self.refusals.refused("evicted at the connection cap")

    async def _one_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timeout: float
    ) -> bool:
        try:
            async with asyncio.timeout(timeout):
                head = await reader.readuntil(b"\r\n\r\n")
        except TimeoutError:
            if writer in self._strangers:
                raise _Refused("timed out before a request") from None
            return False  # an idle keep-alive connection: closed quietly
        except asyncio.LimitOverrunError:
            raise _Refused("header too large", BAD) from None
        except asyncio.IncompleteReadError as err:
            if err.partial:
                raise _Refused("half a request") from None
            return False
        request_line, *header_lines = head[:-4].split(b"\r\n")
        parts = request_line.split(b" ")
        if len(parts) != 3 or parts[0] != b"POST":
            raise _Refused("bad request line", BAD)
        if not hmac.compare_digest(parts[1], self._path):
            raise _Refused("wrong path or token", NOT_FOUND)
        self._strangers.pop(writer, None)  # authenticated: never evicted
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"origin" in headers:  # only browsers send one; claude's hooks do not
            raise _Refused("an Origin header (a browser)", FORBIDDEN)
        if headers.get(b"host") not in self._hosts:
            raise _Refused("a Host header that is not loopback", FORBIDDEN)
        if b"transfer-encoding" in headers:
            raise _Refused("chunked body", BAD)
        try:
            length = int(headers.get(b"content-length", b"0"))
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            raise _Refused("body too large or bad length", TOO_LARGE if length > 0 else BAD)
        try:
            async with asyncio.timeout(self.body_timeout):
                body = await reader.readexactly(length)
        except TimeoutError:
            raise _Refused("body timed out") from None
        writer.write(OK)
        await writer.drain()
        self.dispatch(body)
        return headers.get(b"connection", b"").lower() != b"close"

    def dispatch(self, body: bytes) -> None:
        """Hand one hook payload to the handler; junk (not JSON, too deep) is dropped."""
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            self.refusals.refused("not JSON or nested too deep")
            return
        if isinstance(payload, dict):
            try:
                self._handler(payload)
            except RecursionError:
                self.refusals.refused("nested too deep")
