"""Tool schemas and argument checks."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from tmuxclaude.protocol import tools
from tmuxclaude.protocol.jsonrpc import INVALID_PARAMS, METHOD_NOT_FOUND, RpcError

ALL_LISTED = {
    "openFile",
    "openDiff",
    "getCurrentSelection",
    "getLatestSelection",
    "getOpenEditors",
    "getWorkspaceFolders",
    "getDiagnostics",
    "checkDocumentDirty",
    "saveDocument",
    "closeAllDiffTabs",
}


def test_listed_tools_have_schemas_and_no_close_tab() -> None:
    names = [tool["name"] for tool in tools.LISTED]
    assert set(names) == ALL_LISTED
    assert len(names) == len(set(names))
    assert "close_tab" in tools.SCHEMAS
    for tool in tools.LISTED:
        assert isinstance(tool["description"], str) and tool["description"]
        schema = tool["inputSchema"]
        assert schema["type"] == "object"
        assert set(schema["required"]) <= set(schema["properties"])
        for prop in schema["properties"].values():
            assert prop["type"] in ("string", "boolean", "integer")


class ArgsErrorCase(NamedTuple):
    test_id: str
    name: str
    arguments: Any
    code: int


ARGS_ERROR_CASES = [
    ArgsErrorCase("unknown_tool", "executeCode", {}, METHOD_NOT_FOUND),
    ArgsErrorCase("unknown_tool_empty", "", {}, METHOD_NOT_FOUND),
    ArgsErrorCase("args_list", "openFile", ["a"], INVALID_PARAMS),
    ArgsErrorCase("args_string", "getDiagnostics", "x", INVALID_PARAMS),
    ArgsErrorCase("missing_required", "openFile", {}, INVALID_PARAMS),
    ArgsErrorCase("required_null", "openFile", {"filePath": None}, INVALID_PARAMS),
    ArgsErrorCase("tab_name_null", "close_tab", {"tab_name": None}, INVALID_PARAMS),
    ArgsErrorCase("path_int", "openFile", {"filePath": 3}, INVALID_PARAMS),
    ArgsErrorCase("bool_not_int", "openFile", {"filePath": "/a", "startLine": True}, -32602),
    ArgsErrorCase("int_not_bool", "openFile", {"filePath": "/a", "preview": 1}, INVALID_PARAMS),
    ArgsErrorCase("float_not_int", "openFile", {"filePath": "/a", "endLine": 1.0}, -32602),
    ArgsErrorCase(
        "diff_missing_contents",
        "openDiff",
        {"old_file_path": "/a", "new_file_path": "/a", "tab_name": "t"},
        INVALID_PARAMS,
    ),
    ArgsErrorCase(
        "diff_contents_list",
        "openDiff",
        {"old_file_path": "/a", "new_file_path": "/a", "new_file_contents": [], "tab_name": "t"},
        INVALID_PARAMS,
    ),
    ArgsErrorCase("uri_int", "getDiagnostics", {"uri": 5}, INVALID_PARAMS),
]


@pytest.mark.parametrize("case", ARGS_ERROR_CASES, ids=[c.test_id for c in ARGS_ERROR_CASES])
def test_check_arguments_refuses(case: ArgsErrorCase) -> None:
    with pytest.raises(RpcError) as info:
        tools.check_arguments(case.name, case.arguments)
    assert info.value.code == case.code


class ArgsOkCase(NamedTuple):
    test_id: str
    name: str
    arguments: Any
    expected: dict[str, Any]


ARGS_OK_CASES = [
    ArgsOkCase("none_is_empty", "getWorkspaceFolders", None, {}),
    ArgsOkCase("extra_keys_kept", "getOpenEditors", {"future": 1}, {"future": 1}),
    ArgsOkCase("optional_null", "getDiagnostics", {"uri": None}, {"uri": None}),
    ArgsOkCase(
        "open_file_full",
        "openFile",
        {"filePath": "/a", "preview": False, "startLine": 0, "endLine": 3, "makeFrontmost": True},
        {"filePath": "/a", "preview": False, "startLine": 0, "endLine": 3, "makeFrontmost": True},
    ),
    ArgsOkCase("close_tab", "close_tab", {"tab_name": "t"}, {"tab_name": "t"}),
]


@pytest.mark.parametrize("case", ARGS_OK_CASES, ids=[c.test_id for c in ARGS_OK_CASES])
def test_check_arguments_accepts(case: ArgsOkCase) -> None:
    assert tools.check_arguments(case.name, case.arguments) == case.expected


def test_text_result() -> None:
    assert tools.text_result("A", "B") == {
        "content": [{"type": "text", "text": "A"}, {"type": "text", "text": "B"}]
    }
