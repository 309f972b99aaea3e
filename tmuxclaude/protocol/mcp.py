"""MCP over JSON-RPC, server side, one ``McpConnection`` per CLI connection.

Nothing of the user's is served before the CLI's handshake: a tool call
before an accepted ``ide_connected`` gets an error, and ``trusted`` (which the
host checks before it sends selections) stays False.

``McpConnection.receive`` takes one text frame and answers with a string to send,
``None`` (notifications), or a ``Deferred`` for a tool that must wait (an
editor's answer, a pending diff): the transport awaits those off the read
loop so that other requests are served meanwhile. The fast path, a tool the
backend answers at once, does no allocation beyond the reply itself.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from . import jsonrpc, tools
from .jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    JsonObject,
    RpcError,
)

DEFAULT_PROTOCOL_VERSION = "2024-11-05"


class ToolBackend(Protocol):
    """What an MCP connection needs from the host."""

    def call_now(self, name: str, arguments: JsonObject) -> JsonObject | None:
        """The result at once, or ``None`` when the call must be awaited."""

    async def call_later(self, name: str, arguments: JsonObject, mcp: McpConnection) -> JsonObject:
        """The result of a call that waits (editor round trip, openDiff)."""

    def accept_ide_connected(self, pid: int) -> bool:
        """Whether ``pid`` may speak for this instance (the host's own claude)."""


@dataclass(slots=True)
class Deferred:
    """A reply that needs awaiting; ``await deferred.reply`` gives the frame."""

    reply: Coroutine[Any, Any, str]


class McpConnection:
    """The state of one CLI connection: handshake, client pid, closing."""

    def __init__(self, backend: ToolBackend, server_name: str, server_version: str) -> None:
        self.backend = backend
        self.server_info = {"name": server_name, "version": server_version}
        self.initialized = False
        self.client_pid: int | None = None
        self.client_info: JsonObject = {}
        self.close_reason: str | None = None
        self.ready = False  # handshake done and tools/list answered: the CLI uses this IDE
        self.on_ready: Callable[[], None] | None = None
        self._methods: dict[str, Callable[[JsonObject], Any]] = {
            "initialize": self._initialize,
            "ping": lambda params: {},
            "tools/list": self._tools_list,
            "prompts/list": lambda params: {"prompts": []},
            "resources/list": lambda params: {"resources": []},
            "resources/templates/list": lambda params: {"resourceTemplates": []},
        }

    def receive(self, text: str | bytes) -> str | Deferred | None:
        """Handle one frame. Never raises for what the peer sent."""
        try:
            msg = jsonrpc.parse(text)
        except RpcError as err:
            return jsonrpc.error(err.request_id, err)
        method = msg.get("method")
        if method is None:
            return None  # a response to a request we never send: ignore
        msg_id = msg.get("id")
        params = msg.get("params") or {}
        if msg_id is None:
            self._notification(method, params)
            return None
        try:
            if method == "tools/call":
                return self._tools_call(msg_id, params)
            handler = self._methods.get(method)
            if handler is None:
                raise RpcError(METHOD_NOT_FOUND, f"Method not found: {method}")
            return jsonrpc.result(msg_id, handler(params))
        except RpcError as err:
            return jsonrpc.error(msg_id, err)

    @property
    def trusted(self) -> bool:
        """Whether ``ide_connected`` came with a pid the backend accepted."""
        return self.client_pid is not None

    def _tools_list(self, params: JsonObject) -> JsonObject:
        if not self.ready and self.trusted:
            self.ready = True
            if self.on_ready is not None:
                self.on_ready()
        return {"tools": tools.LISTED}

    def _initialize(self, params: JsonObject) -> JsonObject:
        version = params.get("protocolVersion")
        client = params.get("clientInfo")
        self.client_info = client if isinstance(client, dict) else {}
        return {
            "protocolVersion": version if isinstance(version, str) else DEFAULT_PROTOCOL_VERSION,
            "capabilities": {"tools": {"listChanged": True}},
            "serverInfo": self.server_info,
        }

    def _notification(self, method: str, params: JsonObject) -> None:
        if method == "notifications/initialized":
            self.initialized = True
        elif method == "ide_connected":
            pid = params.get("pid")
            if isinstance(pid, bool) or not isinstance(pid, int):
                self.close_reason = "ide_connected without a pid"
            elif not self.backend.accept_ide_connected(pid):
                self.close_reason = f"ide_connected from pid {pid}, not this instance's claude"
            else:
                self.client_pid = pid

    def _tools_call(self, msg_id: jsonrpc.RequestId, params: JsonObject) -> str | Deferred:
        if not self.trusted:
            raise RpcError(INVALID_REQUEST, "tools/call before ide_connected")
        name = params.get("name")
        if not isinstance(name, str):
            raise RpcError(INVALID_PARAMS, "tools/call: name must be a string")
        arguments = tools.check_arguments(name, params.get("arguments"))
        now = self.backend.call_now(name, arguments)
        if now is not None:
            return jsonrpc.result(msg_id, now)
        return Deferred(self._later(msg_id, name, arguments))

    async def _later(self, msg_id: jsonrpc.RequestId, name: str, arguments: JsonObject) -> str:
        try:
            return jsonrpc.result(msg_id, await self.backend.call_later(name, arguments, self))
        except RpcError as err:
            return jsonrpc.error(msg_id, err)
        except Exception as exc:  # a bug in a handler must not kill the connection
            return jsonrpc.error(msg_id, RpcError(INTERNAL_ERROR, f"{name} failed: {exc}"))
