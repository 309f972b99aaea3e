"""JSON-RPC 2.0 framing shared by the IDE server and the editor socket."""

from __future__ import annotations

import json
from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
TOOL_FAILED = -32000

JsonObject = dict[str, Any]
RequestId = int | str | None

# ensure_ascii: a lone surrogate (legal in a JSON string, e.g. "\ud800") stays an
# escape instead of making the frame unencodable; as fast as ensure_ascii=False.
# allow_nan=False: NaN/Infinity are not JSON and a peer would fail to parse them.
_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode


class RpcError(Exception):
    """An error answer: raised by handlers, turned into a JSON-RPC error object.

    ``request_id`` is the id of the offending message when ``parse`` could
    read one, so that the error answer can echo it.
    """

    def __init__(
        self, code: int, message: str, data: Any = None, request_id: RequestId = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data
        self.request_id = request_id

    def to_json(self) -> JsonObject:
        err: JsonObject = {"code": self.code, "message": self.message}
        if self.data is not None:
            err["data"] = self.data
        return err


def encode(message: JsonObject) -> str:
    """Serialise compactly to pure ASCII (non-ASCII as \\u escapes)."""
    return _dumps(message)


def result(msg_id: RequestId, value: Any) -> str:
    return _dumps({"jsonrpc": "2.0", "id": msg_id, "result": value})


def error(msg_id: RequestId, err: RpcError) -> str:
    return _dumps({"jsonrpc": "2.0", "id": msg_id, "error": err.to_json()})


def notification(method: str, params: JsonObject) -> str:
    return _dumps({"jsonrpc": "2.0", "method": method, "params": params})


def request(msg_id: RequestId, method: str, params: JsonObject) -> str:
    return _dumps({"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params})


def parse(text: str | bytes) -> JsonObject:
    """Decode one message; raise RpcError(-32700/-32600) for what is not one.

    A response (``result``/``error`` without ``method``) is returned as it is:
    the caller decides whether it expected one.
    """
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise RpcError(PARSE_ERROR, f"Parse error: {str(exc)[:200]}") from None
    if not isinstance(msg, dict):
        raise RpcError(INVALID_REQUEST, "Invalid Request: expected a JSON object")
    method = msg.get("method")
    if method is None:
        if "id" in msg and ("result" in msg or "error" in msg):
            return msg
        raise RpcError(INVALID_REQUEST, "Invalid Request: no method", request_id=request_id(msg))
    if not isinstance(method, str):
        raise RpcError(
            INVALID_REQUEST, "Invalid Request: method must be a string", request_id=request_id(msg)
        )
    msg_id = msg.get("id")
    if msg_id is not None and (isinstance(msg_id, bool) or not isinstance(msg_id, int | str)):
        raise RpcError(INVALID_REQUEST, "Invalid Request: id must be a string or a number")
    params = msg.get("params")
    if params is not None and not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "Invalid params: expected an object", request_id=msg_id)
    return msg


def request_id(raw: Any) -> RequestId:
    """The id to echo in an error for a message that failed validation."""
    if isinstance(raw, dict):
        msg_id = raw.get("id")
        if isinstance(msg_id, int | str) and not isinstance(msg_id, bool):
            return msg_id
    return None
