"""The IDE tools the CLI may call: their schemas and argument checks.

``LISTED`` is what ``tools/list`` returns; ``close_tab`` is callable but not
listed, as in the official extensions.
"""

from __future__ import annotations

from typing import Any

from .jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND, JsonObject, RpcError

_STR = {"type": "string"}
_BOOL = {"type": "boolean"}
_INT = {"type": "integer"}


def _schema(props: dict[str, Any], required: list[str], description: str) -> JsonObject:
    return {
        "description": description,
        "inputSchema": {
            "type": "object",
            "properties": props,
            "required": required,
            "additionalProperties": False,
            "$schema": "http://json-schema.org/draft-07/schema#",
        },
    }


SCHEMAS: dict[str, JsonObject] = {
    "openFile": _schema(
        {
            "filePath": _STR,
            "preview": _BOOL,
            "startLine": _INT,
            "endLine": _INT,
            "startText": _STR,
            "endText": _STR,
            "selectToEndOfLine": _BOOL,
            "makeFrontmost": _BOOL,
        },
        ["filePath"],
        "Open a file in the editor and optionally select a range of text",
    ),
    "openDiff": _schema(
        {
            "old_file_path": _STR,
            "new_file_path": _STR,
            "new_file_contents": _STR,
            "tab_name": _STR,
        },
        ["old_file_path", "new_file_path", "new_file_contents", "tab_name"],
        "Open a diff view comparing a file with proposed contents; blocks until the user acts",
    ),
    "getCurrentSelection": _schema({}, [], "Get the current text selection in the editor"),
    "getLatestSelection": _schema({}, [], "Get the most recent text selection"),
    "getOpenEditors": _schema({}, [], "Get the list of open editors"),
    "getWorkspaceFolders": _schema({}, [], "Get the workspace folders"),
    "getDiagnostics": _schema(
        {"uri": _STR}, [], "Get language diagnostics for one file (uri) or all files"
    ),
    "checkDocumentDirty": _schema(
        {"filePath": _STR}, ["filePath"], "Check whether a document has unsaved changes"
    ),
    "saveDocument": _schema({"filePath": _STR}, ["filePath"], "Save a document"),
    "closeAllDiffTabs": _schema({}, [], "Close all diff tabs opened for Claude"),
    "close_tab": _schema({"tab_name": _STR}, ["tab_name"], "Close a tab by name"),
}

LISTED: list[JsonObject] = [
    {"name": name, **schema} for name, schema in SCHEMAS.items() if name != "close_tab"
]

_PY_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "boolean": bool,
    "integer": int,
}


def check_arguments(name: str, arguments: Any) -> JsonObject:
    """Validate a tool call's arguments against its schema; return them.

    Unknown tools raise -32601, wrong or missing arguments -32602. Extra keys
    are tolerated: newer CLIs add fields before the schemas say so.
    """
    schema = SCHEMAS.get(name)
    if schema is None:
        raise RpcError(METHOD_NOT_FOUND, f"Unknown tool: {name}")
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        raise RpcError(INVALID_PARAMS, f"{name}: arguments must be an object")
    spec = schema["inputSchema"]
    for key in spec["required"]:
        if arguments.get(key) is None:  # absent or null: both would reach handlers as None
            raise RpcError(INVALID_PARAMS, f"{name}: missing required argument {key!r}")
    for key, prop in spec["properties"].items():
        value = arguments.get(key)
        if value is None:
            continue
        want = _PY_TYPES[prop["type"]]
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            raise RpcError(INVALID_PARAMS, f"{name}: {key!r} must be a {prop['type']}")
    return arguments


def text_result(*texts: str) -> JsonObject:
    """An MCP tool result made of text blocks."""
    return {"content": [{"type": "text", "text": t} for t in texts]}
