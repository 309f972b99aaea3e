"""selection_changed and at_mentioned payloads: exact types or -32602."""

from __future__ import annotations

import copy
from typing import Any, NamedTuple

import pytest

from tmuxclaude.protocol import context
from tmuxclaude.protocol.jsonrpc import INVALID_PARAMS, RpcError

SELECTION: dict[str, Any] = {
    "text": "def main():\n",
    "filePath": "/src/app.py",
    "fileUrl": "file:///src/app.py",
    "selection": {
        "start": {"line": 9, "character": 0},
        "end": {"line": 10, "character": 0},
        "isEmpty": False,
    },
}


def _sel(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """SELECTION with the key at ``path`` set to ``value`` (``...`` deletes it)."""
    out = copy.deepcopy(SELECTION)
    node: Any = out
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def test_selection_clean_copy() -> None:
    params = {**copy.deepcopy(SELECTION), "extra": 1}
    params["selection"]["junk"] = 2
    assert context.selection_changed(params) == SELECTION


def test_selection_file_url_derived() -> None:
    out = context.selection_changed(_sel(("fileUrl",), ...))
    assert out["fileUrl"] == "file:///src/app.py"


def test_selection_empty_cursor() -> None:
    params = _sel(
        ("selection",),
        {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 4}, "isEmpty": True},
    )
    params["text"] = ""
    out = context.selection_changed(params)
    assert out["selection"]["isEmpty"] is True
    assert out["text"] == ""


class BadSelectionCase(NamedTuple):
    test_id: str
    params: Any


BAD_SELECTIONS = [
    BadSelectionCase("not_object", ["x"]),
    BadSelectionCase("no_text", _sel(("text",), ...)),
    BadSelectionCase("text_int", _sel(("text",), 3)),
    BadSelectionCase("no_path", _sel(("filePath",), ...)),
    BadSelectionCase("path_null", _sel(("filePath",), None)),
    BadSelectionCase("url_int", _sel(("fileUrl",), 1)),
    BadSelectionCase("no_selection", _sel(("selection",), ...)),
    BadSelectionCase("selection_list", _sel(("selection",), [])),
    BadSelectionCase("is_empty_int", _sel(("selection", "isEmpty"), 0)),
    BadSelectionCase("is_empty_missing", _sel(("selection", "isEmpty"), ...)),
    BadSelectionCase("start_missing", _sel(("selection", "start"), ...)),
    BadSelectionCase("line_bool", _sel(("selection", "start", "line"), True)),
    BadSelectionCase("line_float", _sel(("selection", "start", "line"), 1.0)),
    BadSelectionCase("line_str", _sel(("selection", "end", "line"), "3")),
    BadSelectionCase("line_negative", _sel(("selection", "end", "line"), -1)),
    BadSelectionCase("character_negative", _sel(("selection", "start", "character"), -5)),
    BadSelectionCase("character_missing", _sel(("selection", "end", "character"), ...)),
]


@pytest.mark.parametrize("case", BAD_SELECTIONS, ids=[c.test_id for c in BAD_SELECTIONS])
def test_selection_refused(case: BadSelectionCase) -> None:
    with pytest.raises(RpcError) as info:
        context.selection_changed(case.params)
    assert info.value.code == INVALID_PARAMS


class MentionCase(NamedTuple):
    test_id: str
    params: Any
    expected: dict[str, Any] | None  # None: refused with -32602


MENTION_CASES = [
    MentionCase(
        "lines",
        {"filePath": "/a", "lineStart": 1, "lineEnd": 3},
        {"filePath": "/a", "lineStart": 1, "lineEnd": 3},
    ),
    MentionCase("whole_file", {"filePath": "/a"}, {"filePath": "/a"}),
    MentionCase(
        "start_only",
        {"filePath": "/a", "lineStart": 4},
        {"filePath": "/a", "lineStart": 4, "lineEnd": 4},
    ),
    MentionCase("extra_dropped", {"filePath": "/a", "x": 1}, {"filePath": "/a"}),
    MentionCase("end_only", {"filePath": "/a", "lineEnd": 4}, None),
    MentionCase("not_object", "x", None),
    MentionCase("no_path", {"lineStart": 1, "lineEnd": 2}, None),
    MentionCase("path_int", {"filePath": 1}, None),
    MentionCase("bool_line", {"filePath": "/a", "lineStart": False, "lineEnd": 1}, None),
    MentionCase("float_line", {"filePath": "/a", "lineStart": 1.5, "lineEnd": 2}, None),
    MentionCase("negative", {"filePath": "/a", "lineStart": -1, "lineEnd": 2}, None),
    MentionCase("reversed", {"filePath": "/a", "lineStart": 5, "lineEnd": 2}, None),
]


@pytest.mark.parametrize("case", MENTION_CASES, ids=[c.test_id for c in MENTION_CASES])
def test_at_mentioned(case: MentionCase) -> None:
    if case.expected is None:
        with pytest.raises(RpcError) as info:
            context.at_mentioned(case.params)
        assert info.value.code == INVALID_PARAMS
    else:
        assert context.at_mentioned(case.params) == case.expected
