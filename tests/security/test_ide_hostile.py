"""The IDE server against hostile clients, with the real host in a real tmux pane.

Each case plays a local attacker or a broken peer against an instance that
``tclaude new`` started (the fake claude as its claude), then checks that the
host's own claude is still served and that nothing but claude wrote on the
pane (the fake claude writes nothing, so the pane stays blank).
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import stat
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from tests.support.cli_runner import Tclaude
from tests.support.hosts import (
    ControlServer,
    EditorClient,
    FakeCli,
    HostProcess,
    connect_ide,
    ide_connected,
    lend_socket,
    lock_token,
    ws_call,
)

AUTH = "X-Claude-Code-Ide-Authorization"


@dataclass
class Target:
    """An instance in a tmux pane: its IDE port, files, pane and fake claude."""

    tclaude: Tclaude
    cli: FakeCli
    port: int
    lockfile: str
    socket: str
    pane: str
    log: str

    def pane_text(self) -> str:
        return self.tclaude.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", self.pane)

    async def assert_claude_served_and_pane_clean(self) -> None:
        """The real client still gets answers; nobody but claude wrote on the pane."""
        assert (await self.cli.call("ping"))["result"] == {}
        reply = await self.cli.tool("getWorkspaceFolders")
        assert json.loads(reply["result"]["content"][0]["text"])["success"] is True
        await asyncio.sleep(0.2)  # let tmux draw whatever might have been written
        text = self.pane_text()
        assert text.strip() == "", text

    def log_text(self) -> str:
        try:
            return Path(self.log).read_text(errors="replace")
        except FileNotFoundError:
            return ""


@pytest.fixture
async def target(tclaude: Tclaude, control: ControlServer, tmp_path: Path) -> Target:
    project = tmp_path / "proj"
    project.mkdir()
    data = await asyncio.to_thread(
        tclaude.json, "new", "--name", "api", "--cwd", str(project), "--detached"
    )
    cli = await control.accept()
    log = os.path.join(os.environ["TCLAUDE_RUNTIME_DIR"], f"{data['id']}.log")
    return Target(tclaude, cli, data["port"], data["lockfile"], data["socket"], data["pane"], log)


@pytest.fixture
async def editor(target: Target) -> AsyncIterator[EditorClient]:
    client = await EditorClient.connect(target.socket)
    yield client
    await client.close()


def _headers(target: Target, token: str | None = None) -> list[tuple[str, str]]:
    key = base64.b64encode(os.urandom(16)).decode()
    return [
        ("Host", f"127.0.0.1:{target.port}"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", key),
        ("Sec-WebSocket-Version", "13"),
        ("Sec-WebSocket-Protocol", "mcp"),
        (AUTH, lock_token(target) if token is None else token),
    ]


def _request(headers: list[tuple[str, str]]) -> bytes:
    lines = ["GET / HTTP/1.1", *(f"{name}: {value}" for name, value in headers), "", ""]
    return "\r\n".join(lines).encode()


async def _raw_handshake(
    target: Target, request: bytes, lend_to: FakeCli | None = None
) -> tuple[int, bytes, asyncio.StreamReader, asyncio.StreamWriter]:
    """Send one raw upgrade request; the status, the body or b"", and the open stream."""
    reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
    if lend_to is not None:
        sock = writer.get_extra_info("socket")
        await asyncio.to_thread(lend_socket, lend_to.lend_path, sock.fileno())
    writer.write(request)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    status = int(head.split()[1])
    body = b""
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            body = await asyncio.wait_for(reader.readexactly(int(line.split(b":")[1])), 10)
    return status, body, reader, writer


async def _status_of(target: Target, request: bytes, lend_to: FakeCli | None = None) -> int:
    status, _, _, writer = await _raw_handshake(target, request, lend_to)
    writer.close()
    return status


# --- before authentication --------------------------------------------------


async def test_ten_thousand_bad_tokens_are_refused_and_logged_throttled(target: Target) -> None:
    good = lock_token(target)
    statuses: list[int] = []

    async def worker(n: int) -> None:
        for i in range(1250):
            wrong = f"{(n * 1250 + i):032x}"
            assert wrong != good
            statuses.append(await _status_of(target, _request(_headers(target, wrong))))

    started = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(8)))
    elapsed = time.monotonic() - started
    assert len(statuses) == 10_000
    assert set(statuses) == {401}
    log = target.log_text()
    assert log.count("refused") <= 2 + int(elapsed / 10), log  # one line per 10 s, with counts
    assert len(log) < 2_000, log
    assert "Traceback" not in log
    await target.assert_claude_served_and_pane_clean()


class HeaderCase(NamedTuple):
    test_id: str
    change: Any  # (target, headers) -> the headers to send, all with the right token
    status: int
    reason: str


def _with(name: str, value: str) -> Any:
    return lambda t, h: [*h, (name, value)]


def _replacing(name: str, value: str) -> Any:
    return lambda t, h: [(n, value if n == name else v) for n, v in h]


HEADER_CASES = [
    HeaderCase("auth_twice_same", lambda t, h: [*h, (AUTH, lock_token(t))], 401, "more than one"),
    HeaderCase("auth_twice_other", lambda t, h: [*h, (AUTH, "0" * 32)], 401, "more than one"),
    HeaderCase("origin_foreign", _with("Origin", "https://evil.example"), 403, "Origin"),
    HeaderCase("origin_null", _with("Origin", "null"), 403, "Origin"),
    HeaderCase(
        "origin_loopback",
        lambda t, h: [*h, ("Origin", f"http://127.0.0.1:{t.port}")],
        403,
        "Origin",
    ),
    HeaderCase(
        "host_foreign", lambda t, h: _replacing("Host", f"evil.example:{t.port}")(t, h), 403, "Host"
    ),
    HeaderCase("host_rebound", _replacing("Host", "attacker.test"), 403, "Host"),
    HeaderCase("host_other_port", _replacing("Host", "127.0.0.1:1"), 403, "Host"),
    HeaderCase("host_twice", lambda t, h: [*h, ("Host", "evil.example")], 403, "Host"),
]


@pytest.mark.parametrize("case", HEADER_CASES, ids=[c.test_id for c in HEADER_CASES])
async def test_headers_refused_even_with_the_token(target: Target, case: HeaderCase) -> None:
    # the socket is lent to claude: only the header can be what is refused
    request = _request(case.change(target, _headers(target)))
    status, body, _, writer = await _raw_handshake(target, request, lend_to=target.cli)
    writer.close()
    assert (status, case.reason in body.decode()) == (case.status, True), body
    # the same opening without the bad header is upgraded
    status, _, _, writer = await _raw_handshake(
        target, _request(_headers(target)), lend_to=target.cli
    )
    writer.close()
    assert status == 101
    assert "Traceback" not in target.log_text()
    await target.assert_claude_served_and_pane_clean()


async def test_garbage_before_the_upgrade_gets_no_traceback(target: Target) -> None:
    for junk in (b"\x16\x03\x01\x00\xff" + os.urandom(300), b"GET / HTTP/1.1\r\n" + b"A" * 9000):
        reader, writer = await asyncio.open_connection("127.0.0.1", target.port)
        writer.write(junk + b"\r\n\r\n")
        await asyncio.wait_for(reader.read(), 10)  # the server answers and closes
        writer.close()
    await target.assert_claude_served_and_pane_clean()


async def test_connections_are_capped(target: Target) -> None:
    idle = [await asyncio.open_connection("127.0.0.1", target.port) for _ in range(80)]
    try:
        gone = 0
        for reader, _ in idle:  # over the cap: cut at once; the rest: the handshake timeout
            try:
                gone += await asyncio.wait_for(reader.read(1), 30) == b""
            except ConnectionError:
                gone += 1
        assert gone == 80
    finally:
        for _, writer in idle:
            writer.close()
    assert "connections at once" in target.log_text()
    await target.assert_claude_served_and_pane_clean()


async def test_idle_connections_at_the_cap_do_not_lock_claude_out(target: Target) -> None:
    # another user holds more idle sockets than the cap, and keeps them open: a
    # reconnecting claude (it retries for ~15 s only) must still get in at once
    idle = [await asyncio.open_connection("127.0.0.1", target.port) for _ in range(80)]
    try:
        await asyncio.sleep(0.2)  # every one accepted
        ws = await asyncio.wait_for(connect_ide(target, held_by=target.cli), 3)
        try:
            await ide_connected(ws, target.cli.pid)
            reply = await ws_call(
                ws, {"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {}}
            )
            assert reply["result"]["tools"]
        finally:
            await ws.close()
    finally:
        for _, writer in idle:
            writer.close()
    assert "connections at once" in target.log_text()
    await target.assert_claude_served_and_pane_clean()


# --- only our claude ---------------------------------------------------------


async def test_a_client_claiming_claudes_pid_is_refused_by_the_socket_owner(
    target: Target, editor: EditorClient
) -> None:
    # right token, right headers, claude's pid: but the socket is the test's own
    status, body, _, writer = await _raw_handshake(target, _request(_headers(target)))
    writer.close()
    assert status == 403 and b"not held by this instance's claude" in body
    # the websockets client too, about to claim the pid
    with pytest.raises(Exception, match="403"):
        await connect_ide(target)
    selected = (await editor.call("selection_changed", _selection("x")))["result"]
    assert selected == {"delivered": 1}
    await target.assert_claude_served_and_pane_clean()


def _selection(text: str) -> dict[str, Any]:
    return {
        "text": text,
        "filePath": "/proj/a.py",
        "fileUrl": "file:///proj/a.py",
        "selection": {
            "start": {"line": 0, "character": 0},
            "end": {"line": 0, "character": len(text)},
            "isEmpty": False,
        },
    }


async def test_a_client_without_ide_connected_is_served_nothing(
    target: Target, editor: EditorClient
) -> None:
    ws = await connect_ide(target, held_by=target.cli)  # passes the owner check
    try:
        init = {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {}}
        assert "result" in await ws_call(ws, init)
        await ws.send(json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        assert "result" in await ws_call(ws, {"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        for name in ("getLatestSelection", "getOpenEditors"):
            call: dict[str, Any] = {"name": name, "arguments": {}}
            reply = await ws_call(
                ws, {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": call}
            )
            assert reply["error"]["code"] == -32600, reply
        delivered = await editor.call("selection_changed", _selection("secret"))
        assert delivered["result"] == {"delivered": 1}  # the fake claude only
        assert (await target.cli.notification("selection_changed"))["params"]["text"] == "secret"
        mention = await editor.call("at_mentioned", {"filePath": "/proj/a.py"})
        assert mention["result"] == {"delivered": 1}
        # the next frame on the untrusted connection is the ping's answer, nothing before it
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": 3, "method": "ping"}))
        assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {
            "jsonrpc": "2.0",
            "id": 3,
            "result": {},
        }
        status = (await editor.call("status"))["result"]
        assert status["clis"] == 1
    finally:
        await ws.close()
    await target.assert_claude_served_and_pane_clean()


# --- malformed frames ----------------------------------------------------------


def _frame(opcode: int, payload: bytes, *, masked: bool = True, length: int | None = None) -> bytes:
    size = len(payload) if length is None else length
    head = bytes([0x80 | opcode])
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head += bytes([mask_bit | size])
    elif size < 2**16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", size)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class RawFrameCase(NamedTuple):
    test_id: str
    frame: bytes


RAW_FRAME_CASES = [
    RawFrameCase("huge_length", _frame(1, b"{", length=2**40)),
    RawFrameCase("unmasked", _frame(1, b"{}", masked=False)),
    RawFrameCase("reserved_opcode", _frame(3, b"x")),
    RawFrameCase("bad_utf8", _frame(1, b"\xff\xfe{")),
]


@pytest.mark.parametrize("case", RAW_FRAME_CASES, ids=[c.test_id for c in RAW_FRAME_CASES])
async def test_broken_frames_close_cleanly(target: Target, case: RawFrameCase) -> None:
    status, _, reader, writer = await _raw_handshake(
        target, _request(_headers(target)), lend_to=target.cli
    )
    assert status == 101
    writer.write(case.frame)
    rest = await asyncio.wait_for(reader.read(), 30)  # a close frame, then the end
    writer.close()
    assert rest[:1] == b"\x88", rest[:20]
    assert "Traceback" not in target.log_text()
    await target.assert_claude_served_and_pane_clean()


async def test_odd_json_gets_errors_and_the_connection_lives(target: Target) -> None:
    ws = await connect_ide(target, held_by=target.cli)
    try:
        await ide_connected(ws, target.cli.pid)
        for text in (
            "[" * 200_000,
            '{"a":' * 100_000 + "1" + "}" * 100_000,
            json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "y" * 2**24}}),
            "\u0000",
            "",
        ):
            await ws.send(text)
        await ws.send(b'{"jsonrpc":"2.0","id":9,"method":"ping"}')
        replies: list[dict[str, Any]] = []
        while not replies or replies[-1].get("id") != 9:
            replies.append(json.loads(await asyncio.wait_for(ws.recv(), 30)))
        codes = [r["error"]["code"] for r in replies if "error" in r]
        assert codes.count(-32700) == 4, replies
        assert {"jsonrpc": "2.0", "id": 1, "result": {}} in replies
    finally:
        await ws.close()
    await target.assert_claude_served_and_pane_clean()


# --- slow readers ----------------------------------------------------------------


async def _flood(editor: EditorClient, count: int, size: int) -> None:
    for n in range(count):
        await editor.call("selection_changed", _selection(f"{n:06d}" + "x" * size), timeout=30)


async def _send_file(target: Target, spec: str) -> float:
    """Run ``tclaude send --file``; seconds until it returned."""
    started = time.monotonic()
    await asyncio.to_thread(target.tclaude.run, "send", "api", "--file", spec)
    return time.monotonic() - started


async def _until_closed(ws: ClientConnection) -> None:
    """Read (late) until the host's end is gone; what was queued for it still arrives."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 30)
    except ConnectionClosed:
        return


async def test_a_client_that_never_reads_blocks_nobody(
    target: Target, editor: EditorClient, tmp_path: Path
) -> None:
    source = tmp_path / "proj" / "app.py"
    source.write_text("a\nb\nc\n")
    stuck = await connect_ide(target, held_by=target.cli)
    await ide_connected(stuck, target.cli.pid)  # trusted: it is sent every selection, never reads
    try:
        await _flood(editor, 400, 64 * 1024)  # ~26 MB: far more than the socket buffers hold
        started = time.monotonic()
        took = await asyncio.wait_for(_send_file(target, f"{source}:2-3"), 3)
        note = await target.cli.notification("at_mentioned", timeout=3)
        arrived = time.monotonic() - started
        print(
            f"\ntclaude send behind a non-reader: returned in {took:.3f} s, "
            f"arrived in {arrived:.3f} s"
        )
        assert note["params"] == {"filePath": str(source), "lineStart": 1, "lineEnd": 2}
        # the non-reader was dropped
        await _until_closed(stuck)
        assert "dropped a cli connection" in target.log_text()
    finally:
        stuck.transport.abort()
    await target.assert_claude_served_and_pane_clean()


async def test_a_stopped_claude_blocks_nobody(
    target: Target, editor: EditorClient, tmp_path: Path
) -> None:
    source = tmp_path / "proj" / "app.py"
    source.write_text("a\nb\nc\n")
    healthy = await connect_ide(target, held_by=target.cli)
    await ide_connected(healthy, target.cli.pid)
    seen: list[dict[str, Any]] = []
    mention = asyncio.get_running_loop().create_future()

    async def read_healthy(ws: ClientConnection) -> None:
        async for frame in ws:
            msg = json.loads(frame)
            seen.append(msg)
            if msg.get("method") == "at_mentioned" and not mention.done():
                mention.set_result(time.monotonic())

    reader = asyncio.create_task(read_healthy(healthy))
    os.kill(target.cli.pid, signal.SIGSTOP)
    try:
        await _flood(editor, 400, 64 * 1024)
        started = time.monotonic()
        await asyncio.wait_for(_send_file(target, f"{source}:1-1"), 3)
        arrived = await asyncio.wait_for(mention, 3)
        print(f"\ntclaude send behind a stopped claude: arrived in {arrived - started:.3f} s")
        assert len(seen) >= 400
        # the stopped claude's connection is dropped, not waited for
        for _ in range(300):
            if "dropped a cli connection" in target.log_text():
                break
            await asyncio.sleep(0.1)
        assert "dropped a cli connection" in target.log_text()
    finally:
        os.kill(target.cli.pid, signal.SIGCONT)
        reader.cancel()
        await healthy.close()
    await asyncio.sleep(0.2)
    text = target.pane_text()
    assert text.strip() == "", text


def _attach_raw(path: str) -> socket.socket:
    """An editor on a plain socket: it reads its attach answer, then nothing more."""
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(10)
    sock.connect(path)
    sock.sendall(b'{"jsonrpc":"2.0","id":1,"method":"attach","params":{"name":"stuck"}}\n')
    answer = b""
    while not answer.endswith(b"\n"):
        answer += sock.recv(1)
    assert b'"result"' in answer
    return sock


async def test_an_editor_that_never_reads_is_dropped(target: Target) -> None:
    stuck = await asyncio.to_thread(_attach_raw, target.socket)
    # the diff goes to the editor, which never reads it: far more than a socket buffer
    args = {
        "old_file_path": "/proj/a.py",
        "new_file_path": "/proj/a.py",
        "new_file_contents": "x" * (8 * 1024 * 1024),
        "tab_name": "big",
    }
    diff = await target.cli.request("tools/call", {"name": "openDiff", "arguments": args})
    for _ in range(300):
        if "dropped editor link stuck" in target.log_text():
            break
        await asyncio.sleep(0.1)
    assert "dropped editor link stuck" in target.log_text(), target.log_text()
    stuck.close()
    await target.cli.tool("close_tab", {"tab_name": "big"})
    assert "DIFF_REJECTED" in json.dumps(await target.cli.response(diff))
    await target.assert_claude_served_and_pane_clean()


# --- the log file ----------------------------------------------------------------


async def test_log_file_is_private_whatever_the_umask(
    isolated_env: dict[str, str], control: ControlServer, tmp_path: Path
) -> None:
    project = tmp_path / "p"
    project.mkdir()
    old = os.umask(0)
    try:
        host = await HostProcess.start(dict(os.environ), str(project), instance_id="umask0")
    finally:
        os.umask(old)
    try:
        await control.accept()
        probe = socket.create_connection(("127.0.0.1", host.port))
        probe.sendall(_request([("Host", f"127.0.0.1:{host.port}"), (AUTH, "bad")]))
        probe.recv(100)
        probe.close()
        log = os.path.join(os.environ["TCLAUDE_RUNTIME_DIR"], "umask0.log")
        for _ in range(100):
            if os.path.exists(log) and os.path.getsize(log):
                break
            await asyncio.sleep(0.05)
        assert stat.S_IMODE(os.stat(log).st_mode) == 0o600
    finally:
        await host.stop()


STRAY_OUTPUT = r"""
import asyncio, gc, logging, os, sys, warnings
from tmuxclaude.host.main_loop import _setup_logging

pane = _setup_logging("strays")
os.write(pane, b"claude's own line\n")
logging.getLogger("websockets.server").error("websockets: opening handshake failed")
logging.getLogger("asyncio").error("asyncio: something")
logging.getLogger().error("root: something")
logging.getLogger("tmuxclaude.host.x").warning("ours: something")
warnings.warn("a warning")
print("a stray print to stderr", file=sys.stderr)

async def main():
    async def fails():
        raise RuntimeError("never retrieved")
    asyncio.get_running_loop().create_task(fails())
    await asyncio.sleep(0.05)
    gc.collect()

asyncio.run(main())
gc.collect()
raise SystemError("an unexpected exception at the top")
"""


def test_every_logger_and_stray_write_goes_to_the_log_file(isolated_env: dict[str, str]) -> None:
    """What the host would print lands in ``<id>.log``; only claude's fd reaches the pane."""
    import subprocess
    import sys

    old = os.umask(0)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", STRAY_OUTPUT], capture_output=True, timeout=60, check=False
        )
    finally:
        os.umask(old)
    assert proc.stderr == b"claude's own line\n"
    assert proc.stdout == b""
    log = Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / "strays.log"
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    text = log.read_text()
    for expected in (
        "websockets: opening handshake failed",
        "asyncio: something",
        "root: something",
        "ours: something",
        "a warning",
        "a stray print to stderr",
        "never retrieved",
        "SystemError: an unexpected exception at the top",
    ):
        assert expected in text, (expected, text)
