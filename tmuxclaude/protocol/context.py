"""Editor context sent to the CLI: ``selection_changed`` and ``at_mentioned``.

The CLI validates these strictly and drops the connection on a wrong type,
so everything is checked here before it is forwarded.
"""

from __future__ import annotations

from typing import Any

from .jsonrpc import INVALID_PARAMS, JsonObject, RpcError


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RpcError(INVALID_PARAMS, f"{where} must be a non-negative integer")
    return value


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise RpcError(INVALID_PARAMS, f"{where} must be a string")
    return value


def _position(value: Any, where: str) -> JsonObject:
    if not isinstance(value, dict):
        raise RpcError(INVALID_PARAMS, f"{where} must be an object")
    return {
        "line": _int(value.get("line"), f"{where}.line"),
        "character": _int(value.get("character"), f"{where}.character"),
    }


def selection_changed(params: Any) -> JsonObject:
    """Return a clean copy of a ``selection_changed`` payload or raise -32602."""
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "selection_changed: params must be an object")
    sel = params.get("selection")
    if not isinstance(sel, dict):
        raise RpcError(INVALID_PARAMS, "selection must be an object")
    is_empty = sel.get("isEmpty")
    if not isinstance(is_empty, bool):
        raise RpcError(INVALID_PARAMS, "selection.isEmpty must be a boolean")
    file_path = _str(params.get("filePath"), "filePath")
    file_url = params.get("fileUrl")
    if file_url is None:
        file_url = "file://" + file_path
    return {
        "text": _str(params.get("text"), "text"),
        "filePath": file_path,
        "fileUrl": _str(file_url, "fileUrl"),
        "selection": {
            "start": _position(sel.get("start"), "selection.start"),
            "end": _position(sel.get("end"), "selection.end"),
            "isEmpty": is_empty,
        },
    }


def at_mentioned(params: Any) -> JsonObject:
    """Return a clean copy of an ``at_mentioned`` payload or raise -32602.

    Lines are 0-based; ``lineStart``/``lineEnd`` may both be omitted to
    mention a whole file.
    """
    if not isinstance(params, dict):
        raise RpcError(INVALID_PARAMS, "at_mentioned: params must be an object")
    out: JsonObject = {"filePath": _str(params.get("filePath"), "filePath")}
    start, end = params.get("lineStart"), params.get("lineEnd")
    if start is None and end is None:
        return out
    start = _int(start, "lineStart")
    end = _int(start if end is None else end, "lineEnd")
    if end < start:
        raise RpcError(INVALID_PARAMS, "lineEnd must not be before lineStart")
    out["lineStart"] = start
    out["lineEnd"] = end
    return out
