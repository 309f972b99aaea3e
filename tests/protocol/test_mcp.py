"""McpConnection dispatch, in process, with a backend that records what it is asked."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

import pytest

from tmuxclaude.protocol import tools
from tmuxclaude.protocol.jsonrpc import JsonObject, RpcError
from tmuxclaude.protocol.mcp import Deferred, McpConnection


class RecordingBackend:
    def __init__(self, our_pid: int = 4242) -> None:
        self.our_pid = our_pid
        self.calls: list[tuple[str, JsonObject]] = []

    def call_now(self, name: str, arguments: JsonObject) -> JsonObject | None:
        self.calls.append((name, arguments))
        if name == "getWorkspaceFolders":
            return tools.text_result("now")
        return None

    async def call_later(self, name: str, arguments: JsonObject, mcp: McpConnection) -> JsonObject:
        if name == "saveDocument":
            raise RpcError(-32000, "editor refused")
        if name == "getDiagnostics":
            raise RuntimeError("handler bug")
        return tools.text_result("later", name)

    def accept_ide_connected(self, pid: int) -> bool:
        return pid == self.our_pid


def _session(handshake: bool = True) -> tuple[McpConnection, RecordingBackend]:
    """A session; with ``handshake``, after the CLI's ``ide_connected`` with our pid."""
    backend = RecordingBackend()
    session = McpConnection(backend, "tclaude:test", "9.9")
    if handshake:
        params = {"pid": backend.our_pid}
        session.receive(json.dumps({"jsonrpc": "2.0", "method": "ide_connected", "params": params}))
        assert session.trusted
    return session, backend


def _answer(mcp: McpConnection, msg: Any) -> dict[str, Any]:
    reply = mcp.receive(msg if isinstance(msg, str | bytes) else json.dumps(msg))
    assert isinstance(reply, str)
    out: dict[str, Any] = json.loads(reply)
    return out


def _req(method: str, params: Any = None, msg_id: Any = 1) -> dict[str, Any]:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "id": msg_id, "method": method}
    if params is not None:
        msg["params"] = params
    return msg


class VersionCase(NamedTuple):
    test_id: str
    params: dict[str, Any]
    expected: str


VERSION_CASES = [
    VersionCase("echoed", {"protocolVersion": "2025-11-25"}, "2025-11-25"),
    VersionCase("other", {"protocolVersion": "1999-01-01"}, "1999-01-01"),
    VersionCase("missing", {}, "2024-11-05"),
    VersionCase("not_a_string", {"protocolVersion": 3}, "2024-11-05"),
]


@pytest.mark.parametrize("case", VERSION_CASES, ids=[c.test_id for c in VERSION_CASES])
def test_initialize_echoes_protocol_version(case: VersionCase) -> None:
    session, _ = _session()
    reply = _answer(session, _req("initialize", {**case.params, "clientInfo": {"name": "cc"}}))
    assert reply["id"] == 1
    assert reply["result"] == {
        "protocolVersion": case.expected,
        "capabilities": {"tools": {"listChanged": True}},
        "serverInfo": {"name": "tclaude:test", "version": "9.9"},
    }
    assert session.client_info == {"name": "cc"}


class SimpleCase(NamedTuple):
    test_id: str
    method: str
    result: Any


SIMPLE_CASES = [
    SimpleCase("ping", "ping", {}),
    SimpleCase("prompts", "prompts/list", {"prompts": []}),
    SimpleCase("resources", "resources/list", {"resources": []}),
    SimpleCase("templates", "resources/templates/list", {"resourceTemplates": []}),
]


@pytest.mark.parametrize("case", SIMPLE_CASES, ids=[c.test_id for c in SIMPLE_CASES])
def test_simple_methods(case: SimpleCase) -> None:
    session, _ = _session()
    assert _answer(session, _req(case.method, msg_id="s1")) == {
        "jsonrpc": "2.0",
        "id": "s1",
        "result": case.result,
    }


def test_tools_list_every_tool_no_close_tab() -> None:
    session, _ = _session()
    listed = _answer(session, _req("tools/list"))["result"]["tools"]
    names = {tool["name"] for tool in listed}
    assert "close_tab" not in names
    assert names == {name for name in tools.SCHEMAS if name != "close_tab"}
    for tool in listed:
        assert tool["inputSchema"] == tools.SCHEMAS[tool["name"]]["inputSchema"]


class ErrorCase(NamedTuple):
    test_id: str
    frame: str
    code: int
    msg_id: Any


ERROR_CASES = [
    ErrorCase("unknown_method", json.dumps(_req("nope/nope", msg_id=5)), -32601, 5),
    ErrorCase("malformed", '{"jsonrpc":"2.0","id":5,', -32700, None),
    ErrorCase("binary_junk", "\x00\x01\x02", -32700, None),
    ErrorCase("deep", "[" * 50_000, -32700, None),
    ErrorCase("not_object", "[]", -32600, None),
    ErrorCase("method_not_string", '{"jsonrpc":"2.0","id":6,"method":[]}', -32600, 6),
    ErrorCase("no_method", '{"jsonrpc":"2.0","id":8}', -32600, 8),
    ErrorCase("params_list", '{"jsonrpc":"2.0","id":9,"method":"ping","params":[]}', -32602, 9),
    ErrorCase("unknown_tool", json.dumps(_req("tools/call", {"name": "executeCode"})), -32601, 1),
    ErrorCase("tool_no_name", json.dumps(_req("tools/call", {"arguments": {}})), -32602, 1),
    ErrorCase("tool_name_int", json.dumps(_req("tools/call", {"name": 3})), -32602, 1),
    ErrorCase(
        "tool_bad_args",
        json.dumps(_req("tools/call", {"name": "openFile", "arguments": {"filePath": 1}})),
        -32602,
        1,
    ),
    ErrorCase(
        "tool_args_list",
        json.dumps(_req("tools/call", {"name": "getDiagnostics", "arguments": []})),
        -32602,
        1,
    ),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=[c.test_id for c in ERROR_CASES])
def test_errors(case: ErrorCase) -> None:
    session, backend = _session()
    reply = _answer(session, case.frame)
    assert reply["jsonrpc"] == "2.0"
    assert reply["id"] == case.msg_id
    assert reply["error"]["code"] == case.code
    assert isinstance(reply["error"]["message"], str)
    assert backend.calls == []
    # the session lives on
    assert _answer(session, _req("ping", msg_id=99))["result"] == {}


def test_notifications_and_responses_get_no_answer() -> None:
    session, _ = _session()
    assert session.receive('{"jsonrpc":"2.0","method":"notifications/initialized"}') is None
    assert session.initialized
    assert session.receive('{"jsonrpc":"2.0","method":"notifications/cancelled"}') is None
    assert session.receive('{"jsonrpc":"2.0","method":"unknown/notification"}') is None
    assert session.receive('{"jsonrpc":"2.0","id":3,"result":{}}') is None
    assert session.close_reason is None


class PidCase(NamedTuple):
    test_id: str
    params: Any
    accepted: bool


PID_CASES = [
    PidCase("ours", {"pid": 4242}, True),
    PidCase("other", {"pid": 1}, False),
    PidCase("missing", {}, False),
    PidCase("string", {"pid": "4242"}, False),
    PidCase("bool", {"pid": True}, False),
]


@pytest.mark.parametrize("case", PID_CASES, ids=[c.test_id for c in PID_CASES])
def test_ide_connected(case: PidCase) -> None:
    session, _ = _session(handshake=False)
    frame = json.dumps({"jsonrpc": "2.0", "method": "ide_connected", "params": case.params})
    assert session.receive(frame) is None
    if case.accepted:
        assert session.client_pid == 4242
        assert session.close_reason is None
    else:
        assert session.client_pid is None
        assert session.close_reason


@pytest.mark.parametrize("case", PID_CASES, ids=[c.test_id for c in PID_CASES])
def test_nothing_served_before_the_handshake(case: PidCase) -> None:
    session, backend = _session(handshake=False)
    ready: list[bool] = []
    session.on_ready = lambda: ready.append(True)
    call = _req("tools/call", {"name": "getWorkspaceFolders", "arguments": {}}, msg_id=5)
    assert _answer(session, call)["error"]["code"] == -32600
    frame = json.dumps({"jsonrpc": "2.0", "method": "ide_connected", "params": case.params})
    session.receive(frame)
    listed = _answer(session, _req("tools/list", msg_id=6))
    assert listed["result"]["tools"]  # listing is harmless; using is not
    reply = _answer(session, call)
    if case.accepted:
        assert reply["result"] == tools.text_result("now")
        assert backend.calls == [("getWorkspaceFolders", {})]
    else:
        assert reply["error"]["code"] == -32600
        assert backend.calls == []
    assert session.trusted is case.accepted
    assert session.ready is case.accepted and ready == ([True] if case.accepted else [])


def test_tools_call_now() -> None:
    session, backend = _session()
    reply = _answer(
        session,
        _req(
            "tools/call",
            {"name": "getWorkspaceFolders", "arguments": {}, "_meta": {"progressToken": 3}},
            msg_id=12,
        ),
    )
    assert reply == {"jsonrpc": "2.0", "id": 12, "result": tools.text_result("now")}
    assert backend.calls == [("getWorkspaceFolders", {})]


class LaterCase(NamedTuple):
    test_id: str
    tool: str
    expected: dict[str, Any]


LATER_CASES = [
    LaterCase("result", "getOpenEditors", {"result": tools.text_result("later", "getOpenEditors")}),
    LaterCase(
        "rpc_error", "saveDocument", {"error": {"code": -32000, "message": "editor refused"}}
    ),
    LaterCase(
        "handler_bug",
        "getDiagnostics",
        {"error": {"code": -32603, "message": "getDiagnostics failed: handler bug"}},
    ),
]


@pytest.mark.parametrize("case", LATER_CASES, ids=[c.test_id for c in LATER_CASES])
async def test_tools_call_deferred(case: LaterCase) -> None:
    session, _ = _session()
    args = {"filePath": "/a"} if case.tool == "saveDocument" else {}
    reply = session.receive(json.dumps(_req("tools/call", {"name": case.tool, "arguments": args})))
    assert isinstance(reply, Deferred)
    assert json.loads(await reply.reply) == {"jsonrpc": "2.0", "id": 1, **case.expected}
