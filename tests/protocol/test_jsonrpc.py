"""JSON-RPC framing: what ``parse`` accepts, refuses and with which code."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import pytest

from tmuxclaude.protocol import jsonrpc
from tmuxclaude.protocol.jsonrpc import RpcError


class ParseErrorCase(NamedTuple):
    test_id: str
    text: str | bytes
    code: int
    request_id: Any = None


PARSE_ERROR_CASES = [
    ParseErrorCase("empty", "", jsonrpc.PARSE_ERROR),
    ParseErrorCase("not_json", "{oops", jsonrpc.PARSE_ERROR),
    ParseErrorCase("truncated", '{"jsonrpc":"2.0","id":1,"method":"pi', jsonrpc.PARSE_ERROR),
    ParseErrorCase("bad_utf8", b'{"method":"\xff\xfe"}', jsonrpc.PARSE_ERROR),
    ParseErrorCase("deep_nesting", "[" * 100_000 + "]" * 100_000, jsonrpc.PARSE_ERROR),
    ParseErrorCase("deep_object", '{"a":' * 100_000 + "1" + "}" * 100_000, jsonrpc.PARSE_ERROR),
    ParseErrorCase("huge_int_literal", '{"id":' + "9" * 10_000 + "}", jsonrpc.PARSE_ERROR),
    ParseErrorCase("array", "[1,2]", jsonrpc.INVALID_REQUEST),
    ParseErrorCase("string", '"hello"', jsonrpc.INVALID_REQUEST),
    ParseErrorCase("number", "42", jsonrpc.INVALID_REQUEST),
    ParseErrorCase("null", "null", jsonrpc.INVALID_REQUEST),
    ParseErrorCase("no_method", '{"jsonrpc":"2.0","id":1}', jsonrpc.INVALID_REQUEST, 1),
    ParseErrorCase("method_int", '{"jsonrpc":"2.0","id":2,"method":5}', jsonrpc.INVALID_REQUEST, 2),
    ParseErrorCase("id_bool", '{"jsonrpc":"2.0","id":true,"method":"ping"}', -32600),
    ParseErrorCase("id_float", '{"jsonrpc":"2.0","id":1.5,"method":"ping"}', -32600),
    ParseErrorCase("id_object", '{"jsonrpc":"2.0","id":{},"method":"ping"}', -32600),
    ParseErrorCase("id_nan", '{"jsonrpc":"2.0","id":NaN,"method":"ping"}', -32600),
    ParseErrorCase(
        "params_list", '{"jsonrpc":"2.0","id":7,"method":"ping","params":[1]}', -32602, 7
    ),
    ParseErrorCase(
        "params_string", '{"jsonrpc":"2.0","id":"s","method":"ping","params":"x"}', -32602, "s"
    ),
]


@pytest.mark.parametrize("case", PARSE_ERROR_CASES, ids=[c.test_id for c in PARSE_ERROR_CASES])
def test_parse_refuses(case: ParseErrorCase) -> None:
    with pytest.raises(RpcError) as info:
        jsonrpc.parse(case.text)
    assert info.value.code == case.code
    assert info.value.request_id == case.request_id


class ParseOkCase(NamedTuple):
    test_id: str
    text: str | bytes
    expected: dict[str, Any]


PARSE_OK_CASES = [
    ParseOkCase(
        "request",
        '{"jsonrpc":"2.0","id":1,"method":"ping"}',
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
    ),
    ParseOkCase("bytes", b'{"id":"a","method":"x"}', {"id": "a", "method": "x"}),
    ParseOkCase("notification", '{"method":"n","params":{}}', {"method": "n", "params": {}}),
    ParseOkCase("null_id", '{"id":null,"method":"n"}', {"id": None, "method": "n"}),
    ParseOkCase(
        "huge_id", '{"id":' + "9" * 300 + ',"method":"n"}', {"id": int("9" * 300), "method": "n"}
    ),
    ParseOkCase("negative_id", '{"id":-3,"method":"n"}', {"id": -3, "method": "n"}),
    ParseOkCase("result", '{"id":3,"result":{}}', {"id": 3, "result": {}}),
    ParseOkCase("error", '{"id":3,"error":{"code":1}}', {"id": 3, "error": {"code": 1}}),
    ParseOkCase("unicode", '{"id":1,"method":"é✻"}', {"id": 1, "method": "é✻"}),
]


@pytest.mark.parametrize("case", PARSE_OK_CASES, ids=[c.test_id for c in PARSE_OK_CASES])
def test_parse_accepts(case: ParseOkCase) -> None:
    assert jsonrpc.parse(case.text) == case.expected


def test_encoders_are_compact_ascii() -> None:
    assert jsonrpc.result(1, {"a": "✻"}) == '{"jsonrpc":"2.0","id":1,"result":{"a":"\\u273b"}}'
    # a lone surrogate, legal in a JSON string, must not make the frame unencodable
    lone = jsonrpc.parse('{"id":"\\ud800","method":"x"}')["id"]
    jsonrpc.error(lone, RpcError(-32601, f"Method not found: {lone}")).encode("utf-8")
    assert jsonrpc.notification("n", {}) == '{"jsonrpc":"2.0","method":"n","params":{}}'
    assert json.loads(jsonrpc.request("x", "m", {"k": 1})) == {
        "jsonrpc": "2.0",
        "id": "x",
        "method": "m",
        "params": {"k": 1},
    }
    err = jsonrpc.error(None, RpcError(-32601, "nope", data={"x": 1}))
    assert json.loads(err) == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32601, "message": "nope", "data": {"x": 1}},
    }


def test_encoders_refuse_nan() -> None:
    """NaN is not JSON: a peer would fail to parse it, so it never leaves the host."""
    with pytest.raises(ValueError):
        jsonrpc.result(1, {"x": float("nan")})


class RequestIdCase(NamedTuple):
    test_id: str
    raw: Any
    expected: Any


REQUEST_ID_CASES = [
    RequestIdCase("int", {"id": 4}, 4),
    RequestIdCase("str", {"id": "a"}, "a"),
    RequestIdCase("bool", {"id": True}, None),
    RequestIdCase("float", {"id": 1.5}, None),
    RequestIdCase("missing", {}, None),
    RequestIdCase("not_a_dict", [1], None),
]


@pytest.mark.parametrize("case", REQUEST_ID_CASES, ids=[c.test_id for c in REQUEST_ID_CASES])
def test_request_id(case: RequestIdCase) -> None:
    assert jsonrpc.request_id(case.raw) == case.expected
