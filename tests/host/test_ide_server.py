"""The WebSocket side: authentication, subprotocol, ide_connected, several CLIs."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from typing import Any, NamedTuple

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from tests.host.conftest import EditorFactory, Instance
from tests.support.hosts import (
    ControlServer,
    HostProcess,
    connect_ide,
    ide_connected,
    lock_token,
    ws_call,
)


class TokenCase(NamedTuple):
    test_id: str
    header: Callable[[str], str | None]  # the right token -> the header sent (None: no header)


TOKEN_CASES = [
    TokenCase("missing", lambda token: None),
    TokenCase("empty", lambda token: ""),
    TokenCase("wrong", lambda token: "0" * len(token)),
    TokenCase("too_short", lambda token: "abc"),
    TokenCase("prefix", lambda token: token[:-1]),
    TokenCase("longer", lambda token: token + "0"),
    TokenCase("upper_case", lambda token: token.upper()),
    TokenCase("non_ascii", lambda token: "é" * 32),
]


@pytest.mark.parametrize("case", TOKEN_CASES, ids=[c.test_id for c in TOKEN_CASES])
async def test_bad_token_refused_before_upgrade(instance: Instance, case: TokenCase) -> None:
    value = case.header(lock_token(instance.host))
    headers = {} if value is None else {"X-Claude-Code-Ide-Authorization": value}
    with pytest.raises(InvalidStatus) as info:
        await connect(
            f"ws://127.0.0.1:{instance.host.port}/",
            subprotocols=[Subprotocol("mcp")],
            additional_headers=headers,
        )
    assert info.value.response.status_code == 401
    # the server is none the worse
    assert (await instance.cli.call("ping"))["result"] == {}


async def test_right_token_gets_mcp(instance: Instance) -> None:
    ws = await connect_ide(instance.host, held_by=instance.cli)
    try:
        assert ws.subprotocol == "mcp"
        reply = await ws_call(
            ws,
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {}},
            },
        )
        assert reply["result"]["protocolVersion"] == "2025-11-25"
    finally:
        await ws.close()


async def test_server_listens_on_loopback_only(instance: Instance) -> None:
    import socket

    for family, address in ((socket.AF_INET, "127.0.0.2"), (socket.AF_INET6, "::1")):
        probe = socket.socket(family)
        probe.settimeout(2)
        try:
            with pytest.raises(OSError):
                probe.connect((address, instance.host.port))
        finally:
            probe.close()


class PidCase(NamedTuple):
    test_id: str
    pid: Any


PID_CASES = [
    PidCase("init", 1),
    PidCase("the_test", os.getpid()),
    PidCase("not_int", "123"),
    PidCase("missing", None),
]


@pytest.mark.parametrize("case", PID_CASES, ids=[c.test_id for c in PID_CASES])
async def test_foreign_ide_connected_is_closed(instance: Instance, case: PidCase) -> None:
    ws = await connect_ide(instance.host, held_by=instance.cli)
    params = {} if case.pid is None else {"pid": case.pid}
    await ws.send(json.dumps({"jsonrpc": "2.0", "method": "ide_connected", "params": params}))
    with pytest.raises(ConnectionClosed) as info:
        await asyncio.wait_for(ws.recv(), 10)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1008
    # the host's own claude is untouched
    assert (await instance.cli.call("ping"))["result"] == {}


async def test_fake_claude_claiming_another_pid_is_closed(
    isolated_env: dict[str, str], control: ControlServer, project: str
) -> None:
    host = await HostProcess.start(dict(os.environ), project, extra_env={"FAKE_CLAUDE_PID": "1"})
    try:
        cli = await control.accept_raw()
        assert (await cli.response(0))["result"]["protocolVersion"] == "2025-11-25"
        with pytest.raises(ConnectionError, match="closed the connection"):
            await cli.response(1)
    finally:
        await host.stop()


async def test_own_child_is_accepted(instance: Instance, editors: EditorFactory) -> None:
    probe = await editors()
    status = (await probe.call("status"))["result"]
    assert status["clis"] == 1
    assert status["claude_pid"] == instance.cli.pid
    assert status["state"] not in ("starting", "error", "stopped")


async def test_several_clis_at_once(instance: Instance, editors: EditorFactory) -> None:
    extra = [await connect_ide(instance.host, held_by=instance.cli) for _ in range(8)]
    try:
        for ws in extra:  # the handshake a CLI makes before it uses the IDE
            await ide_connected(ws, instance.cli.pid)
            await ws_call(ws, {"jsonrpc": "2.0", "id": 0, "method": "tools/list"})

        async def ask(ws: Any, n: int) -> None:
            for i in range(20):
                msg_id = n * 1000 + i
                reply = await ws_call(
                    ws,
                    {
                        "jsonrpc": "2.0",
                        "id": msg_id,
                        "method": "tools/call",
                        "params": {"name": "getWorkspaceFolders", "arguments": {}},
                    },
                )
                assert reply["id"] == msg_id
                assert "result" in reply

        async def ask_cli() -> None:
            for _ in range(20):
                assert "result" in await instance.cli.tool("getWorkspaceFolders")

        await asyncio.gather(ask_cli(), *(ask(ws, n) for n, ws in enumerate(extra)))
        probe = await editors()
        assert (await probe.call("status"))["result"]["clis"] == 9
        mention = {"filePath": "/a.py", "lineStart": 0, "lineEnd": 1}
        assert (await probe.call("at_mentioned", mention))["result"] == {"delivered": 9}
        for ws in extra:
            note = json.loads(await asyncio.wait_for(ws.recv(), 10))
            assert note == {"jsonrpc": "2.0", "method": "at_mentioned", "params": mention}
    finally:
        for ws in extra:
            await ws.close()
