"""The editor socket: context pushed to the CLI, status, attach, malformed lines."""

from __future__ import annotations

import asyncio
import copy
import json
import os
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.host.conftest import EditorFactory, Instance
from tests.support.hosts import connect_ide, ide_connected

SELECTION: dict[str, Any] = {
    "text": "héllo ✻\n",
    "filePath": "/proj/a b.py",
    "fileUrl": "file:///proj/a%20b.py",
    "selection": {
        "start": {"line": 0, "character": 0},
        "end": {"line": 1, "character": 3},
        "isEmpty": False,
    },
}


def _exact(value: Any) -> Any:
    """``value`` with every leaf replaced by (type name, value): == then checks types too."""
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_exact(v) for v in value]
    return (type(value).__name__, value)


class PushCase(NamedTuple):
    test_id: str
    method: str
    params: dict[str, Any]
    forwarded: dict[str, Any]


_NO_URL = {k: v for k, v in SELECTION.items() if k != "fileUrl"}
PUSH_CASES = [
    PushCase("selection", "selection_changed", SELECTION, SELECTION),
    PushCase(
        "selection_url_derived",
        "selection_changed",
        _NO_URL,
        {**_NO_URL, "fileUrl": "file:///proj/a b.py"},
    ),
    PushCase(
        "mention_lines",
        "at_mentioned",
        {"filePath": "/proj/a.py", "lineStart": 9, "lineEnd": 20},
        {"filePath": "/proj/a.py", "lineStart": 9, "lineEnd": 20},
    ),
    PushCase(
        "mention_file", "at_mentioned", {"filePath": "/proj/a.py"}, {"filePath": "/proj/a.py"}
    ),
]


@pytest.mark.parametrize("case", PUSH_CASES, ids=[c.test_id for c in PUSH_CASES])
async def test_push_reaches_the_cli_with_exact_types(
    instance: Instance, editors: EditorFactory, case: PushCase
) -> None:
    client = await editors()
    reply = await client.call(case.method, copy.deepcopy(case.params))
    assert reply["result"] == {"delivered": 1}
    note = await instance.cli.notification(case.method)
    assert _exact(note) == _exact(
        {"jsonrpc": "2.0", "method": case.method, "params": case.forwarded}
    )


async def test_push_as_notification(instance: Instance, editors: EditorFactory) -> None:
    client = await editors()
    await client.send({"jsonrpc": "2.0", "method": "at_mentioned", "params": {"filePath": "/x"}})
    note = await instance.cli.notification("at_mentioned")
    assert note["params"] == {"filePath": "/x"}
    # no answer to a valid notification: the next line is the status reply
    assert "result" in await client.call("status")
    assert client.inbox == []


class RefusedCase(NamedTuple):
    test_id: str
    method: str
    params: Any


REFUSED_CASES = [
    RefusedCase(
        "line_as_string", "at_mentioned", {"filePath": "/a", "lineStart": "1", "lineEnd": 2}
    ),
    RefusedCase("line_bool", "at_mentioned", {"filePath": "/a", "lineStart": True, "lineEnd": 2}),
    RefusedCase("no_path", "at_mentioned", {"lineStart": 1}),
    RefusedCase(
        "empty_flag_int",
        "selection_changed",
        {**SELECTION, "selection": {**SELECTION["selection"], "isEmpty": 1}},
    ),
    RefusedCase(
        "negative_character",
        "selection_changed",
        {**SELECTION, "selection": {**SELECTION["selection"], "end": {"line": 1, "character": -1}}},
    ),
    RefusedCase("params_list", "selection_changed", [SELECTION]),
]


@pytest.mark.parametrize("case", REFUSED_CASES, ids=[c.test_id for c in REFUSED_CASES])
async def test_invalid_push_refused_and_not_forwarded(
    instance: Instance, editors: EditorFactory, case: RefusedCase
) -> None:
    client = await editors()
    reply = await client.call(case.method, case.params)
    assert reply["error"]["code"] == -32602
    # as a notification it is refused too, with id null so the mistake is visible
    await client.send({"jsonrpc": "2.0", "method": case.method, "params": case.params})
    error = await client.read()
    assert error["id"] is None
    assert error["error"]["code"] == -32602
    # nothing reached the CLI: the next notification it sees is this one
    await client.call("at_mentioned", {"filePath": "/marker"})
    note = await instance.cli.notification("at_mentioned")
    assert note["params"] == {"filePath": "/marker"}
    assert instance.cli.notifications == []


async def test_delivered_counts(instance: Instance, editors: EditorFactory) -> None:
    client = await editors()
    mention = {"filePath": "/a"}
    assert (await client.call("at_mentioned", mention))["result"] == {"delivered": 1}
    fresh = await connect_ide(instance.host, held_by=instance.cli)  # no handshake: not counted
    try:
        assert (await client.call("at_mentioned", mention))["result"] == {"delivered": 1}
        await fresh.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        await fresh.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}))
        await fresh.recv()  # initialized alone is not the handshake: still not counted
        assert (await client.call("at_mentioned", mention))["result"] == {"delivered": 1}
        await ide_connected(fresh, instance.cli.pid)
        await fresh.send(json.dumps({"jsonrpc": "2.0", "id": 2, "method": "ping"}))
        await fresh.recv()  # ide_connected was handled before the ping
        assert (await client.call("at_mentioned", mention))["result"] == {"delivered": 2}
    finally:
        await fresh.close()


async def test_status_and_attach(instance: Instance, editors: EditorFactory) -> None:
    client = await editors()
    status = (await client.call("status"))["result"]
    host = instance.host
    expected = {
        "name": "api",
        "cwd": instance.cwd,
        "port": host.port,
        "pid": host.proc.pid,
        "claude_pid": instance.cli.pid,
        "clis": 1,
        "editors": [],
        "pending_diffs": [],
        "lockfile": host.lockfile,
        "socket": host.socket,
    }
    assert {k: status[k] for k in expected} == expected
    assert status["id"] == os.path.basename(host.socket).removesuffix(".sock")
    assert isinstance(status["started"], float)
    assert status["state"] not in ("starting", "error", "stopped")  # claude is up
    assert (await client.call("focus"))["result"] == {"active": False}
    attached = (await client.call("attach", {"name": "nvim 1"}))["result"]
    assert attached["editors"] == ["nvim 1"]
    assert (await client.call("attach", {"name": "nvim 1"}))["result"]["editors"] == ["nvim 1"]
    assert (await client.call("focus"))["result"] == {"active": True}
    assert (await client.call("attach", {"name": 5}))["error"]["code"] == -32602
    assert (await client.call("detach"))["result"] == {"detached": True}
    assert (await client.call("status"))["result"]["editors"] == []


class MalformedCase(NamedTuple):
    test_id: str
    line: bytes
    code: int
    msg_id: Any


MALFORMED_CASES = [
    MalformedCase("not_json", b"{nope", -32700, None),
    MalformedCase("bad_utf8", b'{"method":"\xff"}', -32700, None),
    MalformedCase("deep", b"[" * 200_000, -32700, None),
    MalformedCase("array", b"[1]", -32600, None),
    MalformedCase("no_method", b'{"jsonrpc":"2.0","id":4}', -32600, 4),
    MalformedCase("unknown_method", b'{"jsonrpc":"2.0","id":5,"method":"nope"}', -32601, 5),
    MalformedCase(
        "params_list", b'{"jsonrpc":"2.0","id":6,"method":"status","params":[]}', -32602, 6
    ),
]


@pytest.mark.parametrize("case", MALFORMED_CASES, ids=[c.test_id for c in MALFORMED_CASES])
async def test_malformed_lines(
    instance: Instance, editors: EditorFactory, case: MalformedCase
) -> None:
    client = await editors()
    client.writer.write(case.line + b"\n")
    reply = await client.read()
    assert reply["id"] == case.msg_id
    assert reply["error"]["code"] == case.code
    assert "result" in await client.call("status")  # the connection lives on


async def test_blank_lines_and_stray_answers_are_ignored(
    instance: Instance, editors: EditorFactory
) -> None:
    client = await editors("nvim")
    client.writer.write(b"\n  \n")
    for stray in ({"id": 99, "result": {}}, {"id": True, "result": {}}, {"id": "x", "error": 1}):
        await client.send({"jsonrpc": "2.0", **stray})
    assert "result" in await client.call("status")
    assert client.inbox == []


async def test_a_host_stopped_with_editors_connected_logs_no_traceback(
    instance: Instance, editors: EditorFactory
) -> None:
    """Found by the session-6 hostile trial: SIGTERM with an editor connected wrote asyncio's
    "Exception in callback StreamReaderProtocol..." (a cancelled handler) to the log."""
    clients = [await editors("nvim"), await editors()]
    reply = await clients[1].call("status", {})
    assert "result" in reply
    # and one that floods requests and never reads its answers: its handler is busy
    _, writer = await asyncio.open_unix_connection(instance.host.socket)
    request = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "status", "params": {}})
    writer.write((request + "\n").encode() * 20000)
    await asyncio.sleep(0.5)
    await instance.host.stop()
    writer.close()
    log = Path(os.environ["TCLAUDE_RUNTIME_DIR"]).glob("*.log")
    texts = [path.read_text(errors="replace") for path in log]
    assert texts and not any("Exception in callback" in text for text in texts), texts
