"""Start ``tclaude host`` processes and talk to them as the Claude Code CLI does."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import select
import shlex
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psutil  # type: ignore[import-untyped,unused-ignore]
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from .claude_standin import hold_path
from .sandbox import PYTHON, Sandbox

AUTH_HEADER = "X-Claude-Code-Ide-Authorization"
_ids = itertools.count(1)


class BenchError(Exception):
    """A measurement could not be taken; the row says why."""


@dataclass
class Host:
    proc: subprocess.Popen[bytes]
    instance_id: str
    ready: dict[str, Any]
    spawn_to_ready: float  # seconds
    spawn_to_lock: float | None = None
    token: str = ""
    ps: psutil.Process = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.ps = psutil.Process(self.proc.pid)

    @property
    def port(self) -> int:
        return int(self.ready["port"])

    def claude_pid(self, timeout: float = 5.0) -> int:
        """The pid of the host's claude child (started just after ready)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            children = self.ps.children()
            if children:
                return int(children[0].pid)
            time.sleep(0.002)
        raise BenchError(f"host {self.instance_id} started no claude child")


def wait_fifo(fd: int, proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    buffer = b""
    while b"\n" not in buffer:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BenchError(f"host not ready within {timeout:.0f} s")
        readable, _, _ = select.select([fd], [], [], min(left, 0.5))
        if readable:
            try:
                buffer += os.read(fd, 65536)
            except BlockingIOError:
                continue
        elif proc.poll() is not None:
            raise BenchError(f"host exited with {proc.returncode} before it was ready")
    return buffer.split(b"\n", 1)[0]


def start_host(
    box: Sandbox,
    *,
    name: str = "bench",
    watch_lock: bool = False,
    timeout: float = 20.0,
    env: dict[str, str] | None = None,
    python: str = PYTHON,
) -> Host:
    """Spawn ``python -m tmuxclaude host … --ready-fifo`` and wait for its ready line.

    With ``watch_lock``, a thread polls the lock dir (stat loop, ~0.1 ms
    resolution, no inotify) and the time to the first new ``*.lock`` is kept.
    """
    instance_id = f"b{next(_ids)}-{os.getpid() % 10000}"
    fifo = os.path.join(box.runtime, f"rf-{instance_id}")
    os.mkfifo(fifo, 0o600)
    fd = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
    lock_seen: list[float] = []
    stop_watch = threading.Event()
    watcher: threading.Thread | None = None
    argv = [
        python, "-m", "tmuxclaude", "host",
        "--id", instance_id, "--name", name, "--cwd", box.work,
        "--ready-fifo", fifo, "--",
    ]  # fmt: skip
    try:
        if watch_lock:
            before = set(_locks(box.lock_dir))
            started = threading.Event()

            def watch() -> None:
                started.set()
                while not stop_watch.is_set():
                    if set(_locks(box.lock_dir)) - before:
                        lock_seen.append(time.perf_counter())
                        return
                    time.sleep(0.0001)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            started.wait()
        t0 = time.perf_counter()
        # cwd: not the repository, whose tmuxclaude/ `-m` would import from sys.path[0]
        proc = box.spawn(argv, env=env, stdout=subprocess.DEVNULL, cwd=box.work)
        line = wait_fifo(fd, proc, timeout)
        t_ready = time.perf_counter()
    finally:
        stop_watch.set()
        if watcher is not None:
            watcher.join()
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(fifo)
    ready = json.loads(line)
    if not isinstance(ready, dict) or "error" in ready:
        raise BenchError(f"host failed: {ready}")
    host = Host(proc, instance_id, ready, t_ready - t0)
    if lock_seen:
        host.spawn_to_lock = lock_seen[0] - t0
    with open(ready["lockfile"], encoding="utf-8") as handle:
        host.token = json.load(handle)["authToken"]
    return host


def _locks(directory: str) -> list[str]:
    try:
        return [n for n in os.listdir(directory) if n.endswith(".lock")]
    except FileNotFoundError:
        return []


def tool_call_frame(msg_id: int, name: str = "getWorkspaceFolders") -> str:
    """A tools/call frame as the CLI writes it (``_meta.progressToken`` included)."""
    return json.dumps(
        {
            "method": "tools/call",
            "params": {"name": name, "arguments": {}, "_meta": {"progressToken": msg_id}},
            "jsonrpc": "2.0",
            "id": msg_id,
        },
        separators=(",", ":"),
    )


def holder_command() -> str:
    """A claude command for ``start_host`` whose child can hold the bench's sockets."""
    return shlex.join(
        [sys.executable, os.path.join(os.path.dirname(__file__), "claude_standin.py")]
    )


def _lend(claude_pid: int, fd: int) -> None:
    """Hand ``fd`` to the stand-in claude, so the host's owner check finds it in its tree."""
    with socket.socket(socket.AF_UNIX) as conn:
        conn.settimeout(10)
        for _ in range(100):  # the stand-in may still be starting
            try:
                conn.connect(hold_path(claude_pid))
                break
            except (FileNotFoundError, ConnectionRefusedError):
                time.sleep(0.05)
        socket.send_fds(conn, [b"fd"], [fd])
        if conn.recv(1) != b"k":
            raise BenchError("the stand-in claude did not take the socket")


async def connect_cli(port: int, token: str, claude_pid: int) -> ClientConnection:
    """Connect and do the CLI's opening: initialize, initialized, ide_connected, tools/list.

    Like the CLI, offer permessage-deflate (the host declines it) and send no pings.
    With a ``claude_pid`` of a stand-in (``holder_command``), the socket is lent to
    it first; ``0`` (the bare server) connects plainly.
    """
    sock = None
    if claude_pid:
        sock = socket.create_connection(("127.0.0.1", port))
        await asyncio.to_thread(_lend, claude_pid, sock.fileno())
    ws = await connect(
        f"ws://127.0.0.1:{port}/",
        sock=sock,
        subprotocols=[Subprotocol("mcp")],
        additional_headers={AUTH_HEADER: token},
        user_agent_header="claude-code/bench (cli)",
        max_size=None,
        ping_interval=None,
    )
    opening: list[dict[str, Any]] = [
        {
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {"roots": {}},
                "clientInfo": {"name": "claude-code", "version": "bench"},
            },
            "jsonrpc": "2.0",
            "id": 0,
        },
        {"method": "notifications/initialized", "jsonrpc": "2.0"},
        {"method": "ide_connected", "params": {"pid": claude_pid}, "jsonrpc": "2.0"},
        {"method": "tools/list", "jsonrpc": "2.0", "id": 1},
    ]
    for msg in opening:
        await ws.send(json.dumps(msg))
    for expected in (0, 1):
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if reply.get("id") != expected or "result" not in reply:
            raise BenchError(f"unexpected answer to the opening: {str(reply)[:200]}")
    return ws


def negotiated_extensions(ws: ClientConnection) -> str:
    response = ws.response
    return (response.headers.get("Sec-WebSocket-Extensions") or "") if response else ""


async def round_trips(ws: ClientConnection, warmup: int, calls: int) -> tuple[list[float], float]:
    """Sequential tool calls; per-call seconds after ``warmup``, and the wall time of those."""
    frames = [tool_call_frame(i) for i in range(1000, 1000 + warmup + calls)]
    send, recv = ws.send, ws.recv
    for frame in frames[:warmup]:
        await send(frame)
        await recv()
    clock = time.perf_counter
    times: list[float] = []
    bad = 0
    t_start = clock()
    for frame in frames[warmup:]:
        t0 = clock()
        await send(frame)
        reply = await recv()
        times.append(clock() - t0)
        if '"result"' not in reply:  # outside the timed span
            bad += 1
    wall = clock() - t_start
    if bad:
        raise BenchError(f"{bad} of {calls} tool calls were not answered with a result")
    return times, wall
