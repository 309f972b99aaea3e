"""The editor socket: newline-delimited JSON-RPC 2.0 on a unix socket (0600).

Any client may push context (``selection_changed``, ``at_mentioned``) and ask
``status``; a client that sends ``attach`` becomes an editor and is then sent
tool requests. ``docs/editor-protocol.md`` is the contract. A client that
stops reading is dropped (``MAX_UNSENT`` bytes waiting, or ``SEND_TIMEOUT``
without progress); it holds up nobody else.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard

from ..protocol import jsonrpc
from ..protocol.jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    TOOL_FAILED,
    JsonObject,
    RpcError,
)
from .router import EditorGoneError, Router

logger = logging.getLogger(__name__)

# What makes an editor the one tool requests go to: the user acting in it (an editor
# sends selection updates only when its selection or cursor changed). `attach` may
# say how long ago the user last acted in it (`used`, seconds).
ACTIVATING = frozenset({"attach", "focus", "selection_changed", "at_mentioned"})
MAX_LINE = 128 * 1024 * 1024
MAX_UNSENT = 2 * MAX_LINE  # bytes waiting for one client (openDiff carries whole files)
SEND_TIMEOUT = float(os.environ.get("TCLAUDE_SEND_TIMEOUT") or 5.0)  # seconds to drain
StatusFn = Callable[[], JsonObject]


def _is_tool_result(value: Any) -> TypeGuard[JsonObject]:
    """An MCP tool result the CLI will accept: text blocks with string text.

    The CLI validates strictly and drops the connection on a wrong shape,
    so an editor's answer is checked before it is relayed.
    """
    if not isinstance(value, dict):
        return False
    content = value.get("content")
    if not isinstance(content, list):
        return False
    for block in content:
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            return False
        if block["type"] == "text" and not isinstance(block.get("text"), str):
            return False
    return True


class EditorLink:
    """One client on the editor socket; an editor once it has attached."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.name = "client"
        self.attached = False
        self.last_active = time.monotonic()
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[JsonObject]] = {}
        self._drain_watch: asyncio.Task[None] | None = None

    def write(self, text: str) -> None:
        """Queue a line without waiting; a client that does not take it in time is dropped."""
        if self.writer.is_closing():
            return
        self.writer.write(text.encode() + b"\n")
        unsent = self.writer.transport.get_write_buffer_size()
        if unsent > MAX_UNSENT:
            self.drop(f"{unsent} bytes unread")
        elif unsent and self._drain_watch is None:
            self._drain_watch = asyncio.get_running_loop().create_task(self._watch_drain())

    async def _watch_drain(self) -> None:
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await self.writer.drain()
        except TimeoutError:
            self.drop(f"nothing read for {SEND_TIMEOUT:g} s")
        except ConnectionError:
            pass
        finally:
            self._drain_watch = None

    def drop(self, reason: str) -> None:
        """Cut the link at once; its reader then cleans up as for any leaving client."""
        logger.warning("dropped editor link %s: %s", self.name, reason)
        self.writer.transport.abort()

    def notify(self, method: str, params: JsonObject) -> None:
        self.write(jsonrpc.notification(method, params))

    async def request(self, method: str, params: JsonObject) -> JsonObject:
        """Send a request and wait for the editor's result (an MCP tool result)."""
        msg_id = next(self._ids)
        future: asyncio.Future[JsonObject] = asyncio.get_running_loop().create_future()
        if self.writer.is_closing():
            raise EditorGoneError()
        self._waiting[msg_id] = future
        try:
            self.write(jsonrpc.request(msg_id, method, params))
            try:
                await self.writer.drain()
            except ConnectionError:
                raise EditorGoneError() from None
            return await future
        finally:
            self._waiting.pop(msg_id, None)

    def answered(self, msg: JsonObject) -> None:
        msg_id = msg["id"]
        future = self._waiting.get(msg_id) if type(msg_id) is int else None
        if future is None or future.done():
            return  # late answer to a request that was resolved elsewhere
        if "error" in msg:
            err = msg["error"] if isinstance(msg["error"], dict) else {}
            code = err.get("code")
            message = err.get("message")
            future.set_exception(
                RpcError(
                    code if type(code) is int else TOOL_FAILED,
                    message if isinstance(message, str) else "the editor failed",
                )
            )
            return
        value = msg.get("result")
        if not _is_tool_result(value):
            future.set_exception(
                RpcError(INTERNAL_ERROR, "the editor answered with no valid content list")
            )
            return
        future.set_result(value)

    def gone(self) -> None:
        """Fail every request still waiting on this editor (it left or detached)."""
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(EditorGoneError())


class EditorSocket:
    """Accepts editor clients and dispatches their messages."""

    def __init__(self, router: Router, status: StatusFn) -> None:
        self.router = router
        self._status = status
        self._server: asyncio.AbstractServer | None = None
        self.links: set[EditorLink] = set()
        self._methods: dict[str, Callable[[EditorLink, Any], Awaitable[Any]]] = {
            "selection_changed": self._selection,
            "at_mentioned": self._mention,
            "status": self._status_method,
            "attach": self._attach,
            "detach": self._detach,
            "focus": self._focus,
            "list_diffs": self._list_diffs,
            "answer_diff": self._answer_diff,
        }

    async def start(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(self._handle, path, limit=MAX_LINE)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for link in list(self.links):
            link.writer.close()

    def notify_editors(self, method: str, params: JsonObject) -> None:
        for link in self.links:
            if link.attached:
                link.notify(method, params)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        link = EditorLink(writer)
        self.links.add(link)
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:  # a line longer than MAX_LINE
                    link.write(jsonrpc.error(None, RpcError(-32600, "message too large")))
                    break
                if not line:
                    break
                if line.strip():
                    await self._dispatch(link, line)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # the host ends: Python 3.11's stream server takes a handler that ends cancelled
            # for a failure and logs a traceback; this task ends here all the same
            pass
        finally:
            self.links.discard(link)
            link.gone()
            self.router.editor_detached(link)
            writer.close()

    async def _dispatch(self, link: EditorLink, line: bytes) -> None:
        try:
            msg = jsonrpc.parse(line)
        except RpcError as err:
            link.write(jsonrpc.error(err.request_id, err))
            return
        method = msg.get("method")
        if method is None:
            link.answered(msg)
            return
        if method in ACTIVATING:
            link.last_active = time.monotonic()
        msg_id = msg.get("id")
        try:
            handler = self._methods.get(method)
            if handler is None:
                raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")
            value = await handler(link, msg.get("params") or {})
        except RpcError as err:
            if msg_id is not None:
                link.write(jsonrpc.error(msg_id, err))
            else:
                link.write(jsonrpc.error(None, err))  # say why a notification was dropped
            return
        if msg_id is not None:
            link.write(jsonrpc.result(msg_id, value))

    async def _selection(self, link: EditorLink, params: Any) -> JsonObject:
        return {"delivered": self.router.push_selection(params)}

    async def _mention(self, link: EditorLink, params: Any) -> JsonObject:
        delivered, queued = self.router.push_at_mention(params)
        if queued:
            return {"delivered": 0, "queued": queued}
        return {"delivered": delivered}

    async def _status_method(self, link: EditorLink, params: Any) -> JsonObject:
        return self._status()

    async def _attach(self, link: EditorLink, params: Any) -> JsonObject:
        name = params.get("name", "editor")
        if not isinstance(name, str):
            raise RpcError(INVALID_PARAMS, "attach: name must be a string")
        used = params.get("used", 0)
        if isinstance(used, bool) or not isinstance(used, int | float) or not used >= 0:
            raise RpcError(INVALID_PARAMS, "attach: used must be a non-negative number")
        # used: seconds since the user last acted in this editor (an editor re-attaching
        # to a restarted instance keeps its place in "used last")
        link.last_active = time.monotonic() - min(float(used), 10 * 365 * 86400.0)
        link.name = name
        link.attached = True
        self.router.editor_attached(link)
        logger.info("editor attached: %s", name)
        return self._status()

    async def _detach(self, link: EditorLink, params: Any) -> JsonObject:
        link.attached = False
        self.router.editor_detached(link)
        link.gone()  # what it was asked goes to the next editor or the host
        return {"detached": True}

    async def _focus(self, link: EditorLink, params: Any) -> JsonObject:
        return {"active": link.attached}

    async def _list_diffs(self, link: EditorLink, params: Any) -> JsonObject:
        return {"diffs": self.router.list_diffs()}

    async def _answer_diff(self, link: EditorLink, params: Any) -> JsonObject:
        tab = params.get("tab_name") if isinstance(params, dict) else None
        action = params.get("action") if isinstance(params, dict) else None
        contents = params.get("contents") if isinstance(params, dict) else None
        if not isinstance(tab, str):
            raise RpcError(INVALID_PARAMS, "answer_diff: tab_name must be a string")
        if action not in ("accept", "reject"):
            raise RpcError(INVALID_PARAMS, 'answer_diff: action must be "accept" or "reject"')
        if contents is not None and (action != "accept" or not isinstance(contents, str)):
            raise RpcError(INVALID_PARAMS, "answer_diff: contents must be a string, to accept")
        if not self.router.answer_diff(tab, action == "accept", contents):
            raise RpcError(INVALID_PARAMS, f"no pending diff {tab!r} (answered already?)")
        logger.info("diff %s answered through the socket: %s", tab, action)
        return {"answered": tab, "action": action}
