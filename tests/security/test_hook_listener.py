"""The hook endpoint as a hostile local client sees it: any user can connect to it.

Floods of idle connections, half-sent requests, huge bodies with a wrong token
and deeply nested JSON must neither stop the real hooks (nor ``tclaude
status``, nor new IDE handshakes) nor print anything on claude's pane.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli_runner import Tclaude
from tests.support.hosts import (
    ControlServer,
    FakeCli,
    HostProcess,
    connect_ide,
    ide_connected,
    ws_call,
)
from tmuxclaude.host.hook_server import MAX_BODY, HookServer

FLOOD = 1100
USUAL_FD_LIMIT = 1024  # the soft RLIMIT_NOFILE most users' hosts run with


def _hook_url(env: dict[str, str], instance_id: str) -> str:
    settings = Path(env["TCLAUDE_RUNTIME_DIR"]) / f"{instance_id}.settings.json"
    url: str = json.loads(settings.read_text())["hooks"]["Stop"][-1]["hooks"][0]["url"]
    return url


def _post(url: str, payload: dict[str, Any]) -> bytes:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as reply:
        body: bytes = reply.read()
        return body


def _option(tclaude: Tclaude, pane: str, name: str) -> str:
    return tclaude.tmux("display-message", "-p", "-t", pane, "#{" + name + "}").strip()


def _until_state(tclaude: Tclaude, pane: str, state: str) -> None:
    deadline = time.monotonic() + 20
    while _option(tclaude, pane, "@tclaude-state") != state:
        assert time.monotonic() < deadline, _option(tclaude, pane, "@tclaude-state")
        time.sleep(0.02)


def _raw(port: int, data: bytes) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    conn.sendall(data)
    return conn


def _read_all(conn: socket.socket) -> bytes:
    """Everything until the server closes; the socket timeout is the hang guard."""
    chunks = []
    while chunk := conn.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _connect_many(port: int, count: int) -> list[socket.socket]:
    """``count`` idle connections (closed again if one cannot be made)."""
    conns: list[socket.socket] = []
    try:
        while len(conns) < count:
            conns.append(socket.create_connection(("127.0.0.1", port), timeout=30))
    except BaseException:
        for conn in conns:
            conn.close()
        raise
    return conns


@contextlib.contextmanager
def _fd_limit(soft: int) -> Iterator[None]:
    """This process's soft RLIMIT_NOFILE (inherited by what it starts) set to ``soft``."""
    old_soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (old_soft, hard))


def _instance(tclaude: Tclaude, tmp_path: Path, env: dict[str, str]) -> tuple[str, str, str]:
    """A new instance (fake claude) idle after SessionStart: its pane, hook URL and id."""
    with _fd_limit(USUAL_FD_LIMIT):  # the tmux server and its hosts inherit it
        data = tclaude.json("new", "--name", "api", "--cwd", str(tmp_path), "--detached")
    pane = str(data["pane"])
    _until_state(tclaude, pane, "idle")
    return pane, _hook_url(env, str(data["id"])), str(data["id"])


def _pane_text(tclaude: Tclaude, pane: str) -> str:
    return tclaude.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", pane).strip()


def _fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


async def _ide_handshake(status: dict[str, Any], cli: FakeCli) -> None:
    """A new IDE connection of the instance's own claude still opens and is served."""

    class Endpoint:
        port = int(status["port"])
        lockfile = str(status["lockfile"])

    ws = await asyncio.wait_for(connect_ide(Endpoint(), held_by=cli), 30)
    try:
        await ide_connected(ws, cli.pid)
        reply = await ws_call(ws, {"jsonrpc": "2.0", "id": 9, "method": "tools/list"})
        assert reply["result"]["tools"]
    finally:
        await ws.close()


async def test_a_flood_of_idle_connections_stops_no_hook_status_or_ide(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str], control: ControlServer
) -> None:
    pane, url, instance_id = await asyncio.to_thread(_instance, tclaude, tmp_path, isolated_env)
    cli = await control.accept()
    port = int(url.split(":")[2].split("/")[0])
    status = await asyncio.to_thread(tclaude.json, "status", "api")
    if resource.getrlimit(resource.RLIMIT_NOFILE)[1] < FLOOD + 200:
        pytest.skip("this process may not open enough sockets for the flood")
    with _fd_limit(FLOOD + 200):
        flood = await asyncio.to_thread(_connect_many, port, FLOOD)
        try:
            assert _fd_count(status["pid"]) < USUAL_FD_LIMIT // 2  # bounded, not one per peer
            for event, state in (("UserPromptSubmit", "busy"), ("Stop", "idle")) * 3:
                reply = await asyncio.to_thread(_post, url, {"hook_event_name": event})
                assert reply == b"{}"
                await asyncio.to_thread(_until_state, tclaude, pane, state)
            assert (await asyncio.to_thread(tclaude.json, "status", "api"))["state"] == "idle"
            await _ide_handshake(status, cli)
        finally:
            for conn in flood:
                conn.close()
    assert _pane_text(tclaude, pane) == ""  # the fake claude prints nothing; nor may the host
    log = (Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / f"{instance_id}.log").read_text()
    assert "hook endpoint refused" in log
    assert log.count("hook endpoint refused") < 5  # throttled, not a line per connection


async def test_deep_huge_and_junk_bodies_are_dropped_quietly(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    pane, url, _instance_id = await asyncio.to_thread(_instance, tclaude, tmp_path, isolated_env)
    deep = 100_000
    for body in (
        b"[" * deep + b"]" * deep,
        b'{"hook_event_name": "Stop", "x": ' + b'{"a": ' * deep + b"1" + b"}" * deep + b"}",
        b"not json",
        b"\xff\xfe",
    ):
        request = urllib.request.Request(url, data=body, method="POST")
        with urllib.request.urlopen(request, timeout=30) as reply:
            assert reply.read() == b"{}"  # hooks are observed, never decided: always {}
    # the host still works, and said nothing on claude's screen
    await asyncio.to_thread(_post, url, {"hook_event_name": "UserPromptSubmit"})
    await asyncio.to_thread(_until_state, tclaude, pane, "busy")
    assert _pane_text(tclaude, pane) == ""


@pytest.fixture
async def host(isolated_env: dict[str, str], tmp_path: Path) -> Any:
    started = await HostProcess.start(isolated_env, str(tmp_path), name="hooked")
    yield started
    await started.stop()


def _host_hook_url(host: HostProcess) -> str:
    return _hook_url(host.env, str(host.ready["id"]))


def _port_and_path(url: str) -> tuple[int, bytes]:
    host_port, _, path = url.removeprefix("http://").partition("/")
    return int(host_port.split(":")[1]), b"/" + path.encode()


async def test_a_half_sent_request_is_closed_after_the_timeout(host: HostProcess) -> None:
    port, _path = _port_and_path(_host_hook_url(host))
    conn = await asyncio.to_thread(_raw, port, b"POST /hook/")  # and then nothing
    with conn:
        conn.settimeout(120)  # a hang guard: the host's own timeout is far shorter
        assert await asyncio.to_thread(_read_all, conn) == b""


async def test_a_huge_body_with_a_wrong_token_is_refused_unread(host: HostProcess) -> None:
    port, path = _port_and_path(_host_hook_url(host))
    head = b"POST /hook/%%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %%d\r\n\r\n" % port
    wrong = await asyncio.to_thread(_raw, port, head % (b"0" * 32, 16 * 1024 * 1024))
    with wrong:  # not a byte of the body sent: the answer comes anyway, and the close
        assert (await asyncio.to_thread(_read_all, wrong)).startswith(b"HTTP/1.1 404")
    too_big = await asyncio.to_thread(_raw, port, head % (path[6:], MAX_BODY + 1))
    with too_big:  # the right token, but more than any hook: refused before reading too
        assert (await asyncio.to_thread(_read_all, too_big)).startswith(b"HTTP/1.1 413")
    assert await asyncio.to_thread(_post, _host_hook_url(host), {"hook_event_name": "Stop"})


def _hook_request(port: int, token: bytes, body: bytes, length: int | None = None) -> bytes:
    """A hook POST as claude sends it: a loopback Host, a Content-Length."""
    size = len(body) if length is None else length
    head = b"POST /hook/%s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Length: %d\r\n\r\n"
    return head % (token, port, size) + body


async def _served(**limits: Any) -> tuple[HookServer, list[dict[str, Any]]]:
    seen: list[dict[str, Any]] = []
    server = HookServer("t" * 32, seen.append, **limits)
    await server.start()
    return server, seen


async def test_a_stalled_body_and_an_idle_keep_alive_are_closed() -> None:
    server, seen = await _served(body_timeout=0.2, idle_timeout=0.2)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(_hook_request(server.port, b"t" * 32, b"{}", length=10))
        assert await asyncio.wait_for(reader.read(), 30) == b""
        writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(_hook_request(server.port, b"t" * 32, b"{}"))
        assert (await asyncio.wait_for(reader.read(), 30)).startswith(b"HTTP/1.1 200")
        writer.close()
        assert seen == [{}]
    finally:
        await server.close()


async def test_at_the_cap_strangers_are_evicted_not_an_authenticated_peer() -> None:
    server, seen = await _served(max_connections=4)
    hook = _hook_request(server.port, b"t" * 32, b"{}")
    strangers = []
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(hook)
        assert (await asyncio.wait_for(reader.readuntil(b"{}"), 30)).startswith(b"HTTP/1.1 200")
        strangers += [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(10)]
        evicted = [await asyncio.wait_for(r.read(), 30) for r, _w in strangers[:7]]
        assert evicted == [b""] * 7  # the oldest strangers went, the newest three stay
        writer.write(hook)  # the kept-alive authenticated peer was never evicted
        assert (await asyncio.wait_for(reader.readuntil(b"{}"), 30)).startswith(b"HTTP/1.1 200")
        assert seen == [{}, {}]
        writer.close()
    finally:
        for _r, w in strangers:
            w.close()
        await server.close()


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Host": "evil.example"},
        {"Host": "127.0.0.1:1"},
    ],
    ids=["foreign-origin", "null-origin", "foreign-host", "other-port"],
)
def test_a_browser_or_a_foreign_host_is_refused_even_with_the_token(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str], headers: dict[str, str]
) -> None:
    # a page in the user's browser (DNS rebinding) that somehow learnt the URL
    pane, url, _instance_id = _instance(tclaude, tmp_path, isolated_env)
    request = urllib.request.Request(
        url,
        data=json.dumps({"hook_event_name": "UserPromptSubmit"}).encode(),
        method="POST",
        headers=headers,
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403
    time.sleep(0.2)
    assert _option(tclaude, pane, "@tclaude-state") == "idle"  # nothing was taken in
    assert _post(url, {"hook_event_name": "UserPromptSubmit"}) == b"{}"  # claude's still is
    _until_state(tclaude, pane, "busy")


async def test_a_host_stopped_with_hook_connections_open_logs_no_traceback(
    host: HostProcess,
) -> None:
    """Like the editor socket's (session-6 hostile trial): a connection's handler cancelled
    at the host's end made Python 3.11 log "Exception in callback ..." with a traceback."""
    port, _path = _port_and_path(_host_hook_url(host))
    conns = [await asyncio.to_thread(_raw, port, b"POST /hook/") for _ in range(3)]
    try:
        await asyncio.sleep(0.3)
        await host.stop()
    finally:
        for conn in conns:
            conn.close()
    log = (Path(host.env["TCLAUDE_RUNTIME_DIR"]) / f"{host.ready['id']}.log").read_text()
    assert "Exception in callback" not in log and "Traceback" not in log, log
