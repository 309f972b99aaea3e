"""Junk does not stop the host; whole files of 64 MB travel both ways."""

from __future__ import annotations

import asyncio
import copy
import json
import random
from collections.abc import Iterator
from typing import Any

from websockets.asyncio.client import ClientConnection

from tests.host.conftest import EditorFactory, Instance
from tests.support.hosts import EditorClient, connect_ide, ide_connected

COUNT = 3000  # messages per channel


def _strict_json(text: str | bytes) -> Any:
    """Parse as a strict peer would: NaN and Infinity are not JSON."""

    def refuse(name: str) -> Any:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(9 if depth < 4 else 6)
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice([0, -1, 1, 2**31, 2**63, -(2**64), 10**300, rng.randrange(-999, 999)])
    if kind == 3:
        return rng.choice([0.5, -1e308, 1e-300, float("nan"), float("inf")])
    if kind == 4:
        return rng.choice(["", "x", "é✻\u0000\n", "\ud800", "a" * 5000, "tab"])
    if kind == 5:
        return rng.choice(["/proj/a.py", "file:///x", "openDiff", "FILE_SAVED"])
    if kind == 6:
        return [_random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["filePath", "lineStart", "tab_name", "name", "arguments", "id", "text", "selection"]
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randrange(4))}


def _mutate(rng: random.Random, msg: Any) -> Any:
    """Change one thing somewhere in ``msg``: a value's type, a key dropped, a key added."""
    msg = copy.deepcopy(msg)
    node = msg
    while isinstance(node, dict) and node and rng.random() < 0.6:
        key = rng.choice(list(node))
        if not isinstance(node[key], dict):
            break
        node = node[key]
    if not isinstance(node, dict):
        return msg
    action = rng.randrange(3)
    if action == 0 and node:
        node[rng.choice(list(node))] = _random_json(rng)
    elif action == 1 and node:
        del node[rng.choice(list(node))]
    else:
        node[rng.choice(["x", "params", "id", "method", "result", "error"])] = _random_json(rng)
    return msg


def _dump(rng: random.Random, msg: Any) -> str:
    try:
        return json.dumps(msg, ensure_ascii=rng.random() < 0.5)
    except (ValueError, TypeError):
        return "{}"


def _junk(rng: random.Random) -> str | bytes:
    kind = rng.randrange(6)
    if kind == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
    if kind == 1:
        depth = rng.choice([10, 1000, 100_000])
        return rng.choice(["[", '{"a":']) * depth
    if kind == 2:
        return rng.choice(["", " ", "null", "[]", "1e999999", '"\\ud800"', "NaN", "{" * 3])
    if kind == 3:
        return '{"jsonrpc":"2.0","id":' + "9" * rng.choice([20, 400, 5000]) + ',"method":"ping"}'
    return _dump(rng, _random_json(rng))


CLI_TEMPLATES: list[dict[str, Any]] = [
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "x"},
        },
    },
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    {"jsonrpc": "2.0", "id": 3, "method": "ping"},
    {
        "jsonrpc": "2.0",
        "id": 4,
        "method": "tools/call",
        "params": {"name": "openFile", "arguments": {"filePath": "/a", "startLine": 1}},
    },
    {
        "jsonrpc": "2.0",
        "id": 5,
        "method": "tools/call",
        "params": {
            "name": "openDiff",
            "arguments": {
                "old_file_path": "/a",
                "new_file_path": "/a",
                "new_file_contents": "x",
                "tab_name": "t",
            },
        },
    },
    {
        "jsonrpc": "2.0",
        "id": 6,
        "method": "tools/call",
        "params": {"name": "close_tab", "arguments": {"tab_name": "t"}},
    },
    {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": "getDiagnostics", "arguments": {"uri": "file:///a"}, "_meta": {"p": 1}},
    },
    {
        "jsonrpc": "2.0",
        "id": 8,
        "method": "tools/call",
        "params": {"name": "checkDocumentDirty", "arguments": {"filePath": "/a"}},
    },
    {"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "closeAllDiffTabs"}},
    {"jsonrpc": "2.0", "id": 10, "method": "resources/list"},
]

EDITOR_TEMPLATES: list[dict[str, Any]] = [
    {"jsonrpc": "2.0", "id": 1, "method": "status"},
    {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "selection_changed",
        "params": {
            "text": "t",
            "filePath": "/a",
            "selection": {
                "start": {"line": 0, "character": 0},
                "end": {"line": 0, "character": 1},
                "isEmpty": False,
            },
        },
    },
    {
        "jsonrpc": "2.0",
        "method": "at_mentioned",
        "params": {"filePath": "/a", "lineStart": 1, "lineEnd": 2},
    },
    {"jsonrpc": "2.0", "id": 3, "method": "attach", "params": {"name": "fuzz"}},
    {"jsonrpc": "2.0", "id": 4, "method": "detach"},
    {"jsonrpc": "2.0", "id": 5, "method": "focus"},
    {"jsonrpc": "2.0", "id": 1, "result": {"content": [{"type": "text", "text": "x"}]}},
    {"jsonrpc": "2.0", "id": 2, "error": {"code": -32000, "message": "no"}},
]


def _messages(rng: random.Random, templates: list[dict[str, Any]]) -> Iterator[str | bytes]:
    for _ in range(COUNT):
        if rng.random() < 0.4:
            yield _junk(rng)
        else:
            msg = rng.choice(templates)
            for _ in range(rng.randrange(1, 4)):
                msg = _mutate(rng, msg)
            yield _dump(rng, msg)


async def _drain_ws(ws: ClientConnection, seen: list[Any]) -> None:
    async for frame in ws:
        seen.append(_strict_json(frame))  # noqa: PERF401 (seen is read while this runs)


async def test_websocket_survives_junk(instance: Instance) -> None:
    rng = random.Random(20240602)
    ws = await connect_ide(instance.host, held_by=instance.cli)
    await ide_connected(ws, instance.cli.pid)
    seen: list[Any] = []
    drain = asyncio.create_task(_drain_ws(ws, seen))
    try:
        sent = 0
        for frame in _messages(rng, CLI_TEMPLATES):
            if '"ide_connected"' in (frame if isinstance(frame, str) else ""):
                continue  # a foreign pid closes the connection, by design
            if isinstance(frame, str):
                try:
                    frame.encode()
                except UnicodeEncodeError:  # a lone surrogate: only a binary frame carries it
                    frame = frame.encode("utf-8", "surrogatepass")
            await ws.send(frame)
            sent += 1
        assert sent > COUNT * 0.9
        await ws.send('{"jsonrpc":"2.0","id":"last","method":"ping"}')
        last = {"jsonrpc": "2.0", "id": "last", "result": {}}
        for _ in range(1000):
            if last in seen or drain.done():
                break
            await asyncio.sleep(0.01)
        assert last in seen
        assert len(seen) > COUNT / 4
        for msg in seen:
            assert msg["jsonrpc"] == "2.0"
            assert ("result" in msg) != ("error" in msg) or "method" in msg
    finally:
        drain.cancel()
        await ws.close()
    assert (await instance.cli.tool("getWorkspaceFolders"))["result"]["content"]
    assert (await instance.cli.call("ping"))["result"] == {}


async def _drain_editor(client: EditorClient, seen: list[Any]) -> None:
    while line := await client.reader.readline():
        seen.append(_strict_json(line))


async def test_editor_socket_survives_junk(instance: Instance, editors: EditorFactory) -> None:
    rng = random.Random(20240603)
    client = await editors()
    seen: list[Any] = []
    drain = asyncio.create_task(_drain_editor(client, seen))
    for line in _messages(rng, EDITOR_TEMPLATES):
        data = line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")
        client.writer.write(data.replace(b"\n", b" ") + b"\n")
        await client.writer.drain()
    client.writer.write(b'{"jsonrpc":"2.0","id":"end","method":"detach"}\n')
    await client.writer.drain()
    for _ in range(1000):
        if any(isinstance(m, dict) and m.get("id") == "end" for m in seen):
            break
        await asyncio.sleep(0.01)
    drain.cancel()
    assert any(isinstance(m, dict) and m.get("id") == "end" for m in seen)
    assert all(isinstance(m, dict) and m.get("jsonrpc") == "2.0" for m in seen)
    # the host lives on, on both sides
    fresh = await editors()
    status = (await fresh.call("status"))["result"]
    assert status["clis"] == 1
    assert "result" in await instance.cli.tool("getWorkspaceFolders")
    assert (await fresh.call("at_mentioned", {"filePath": "/ok"}))["result"] == {"delivered": 1}


async def test_64_mb_diff_round_trip(instance: Instance, editors: EditorFactory) -> None:
    big = "0123456789abcdé\n" * (64 * 1024 * 1024 // 17)
    edited = big + "edited\n"
    editor = await editors("nvim")
    call = await instance.cli.request(
        "tools/call",
        {
            "name": "openDiff",
            "arguments": {
                "old_file_path": "/proj/big.txt",
                "new_file_path": "/proj/big.txt",
                "new_file_contents": big,
                "tab_name": "big",
            },
        },
    )
    request = await editor.next_request("openDiff", timeout=60)
    assert request["params"]["new_file_contents"] == big
    await editor.reply(
        request["id"],
        {"content": [{"type": "text", "text": "FILE_SAVED"}, {"type": "text", "text": edited}]},
    )
    reply = await instance.cli.response(call, timeout=60)
    texts = [block["text"] for block in reply["result"]["content"]]
    assert texts[0] == "FILE_SAVED"
    assert texts[1] == edited
