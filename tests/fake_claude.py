#!/usr/bin/env python3
"""A stand-in for the Claude Code CLI, run by the host as its child in tests.

It discovers its IDE server the way the CLI does (``CLAUDE_CODE_SSE_PORT``,
then ``<config>/ide/<port>.lock`` for the token), connects with the
``mcp`` subprotocol and the auth header, and sends the CLI's four opening
messages. With ``FAKE_CLAUDE_CONTROL`` set to a unix socket path it then
relays: every frame from the host becomes a line on the control socket, and
every line from the control socket is sent to the host (``{"__fake__":
"exit", "code": N}`` makes it exit with N instead).

Other knobs: ``FAKE_CLAUDE_EXIT=N`` exits at once with N (a claude that fails
at start); ``FAKE_CLAUDE_PID`` claims another pid in ``ide_connected``;
``FAKE_CLAUDE_ARGS_FILE`` records argv and selected environment as JSON;
``FAKE_CLAUDE_IGNORE_TERM=1`` ignores SIGTERM and SIGHUP (a claude that hangs).

Lending: with a control socket, the fake also listens on the abstract unix
socket ``\\0<control>.<pid>.fds`` and keeps every fd sent to it (SCM_RIGHTS),
so that a socket the test opens is held by claude's process tree too, as the host's
socket-owner check requires of a CLI.

Hooks: with ``--settings FILE`` (as the host passes it) the fake runs the
file's hooks the way the CLI does: ``command`` hooks with the payload on
stdin, ``http`` hooks as a POST. It fires SessionStart (``source`` startup,
or resume with ``--resume ID``) before connecting, SessionEnd on a control
``exit``, and any event on ``{"__fake__": "hook", "event": E, "payload": {...}}``
(answered on the control socket with ``{"__fake__": "hooked", "event": E}``).
Session flags as the real CLI takes them (``--resume``/``--session-id``,
with a space or ``=``): the id they name is the one hooks report, and a
``--session-id`` that is no UUID, or one beside ``--resume`` without
``--fork-session``, fails at start with the CLI's message.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.request
import uuid
from typing import Any

SESSION_ID = str(uuid.uuid4())


def _settings() -> dict[str, Any]:
    args = sys.argv[1:]
    if "--settings" not in args:
        return {}
    with open(args[args.index("--settings") + 1], encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


def _flag(name: str) -> str | None:
    """The value of ``--name VALUE`` or ``--name=VALUE`` in argv, as the CLI reads it."""
    args = sys.argv[1:]
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _session_error() -> str | None:
    """What the real CLI (2.1.197, 2.1.332) says of these session flags before it starts."""
    chosen = _flag("--session-id")
    if chosen is None:
        return None
    try:
        uuid.UUID(chosen)
    except ValueError:
        return "Error: Invalid session ID. Must be a valid UUID."
    resuming = _flag("--resume") is not None or {"--continue", "-c"} & set(sys.argv[1:])
    if resuming and "--fork-session" not in sys.argv[1:]:
        return (
            "Error: --session-id can only be used with --continue or --resume "
            "if --fork-session is also specified."
        )
    return None


def _session_id() -> str:
    """--resume keeps the resumed id; --session-id chooses one; else a new one."""
    return _flag("--resume") or _flag("--session-id") or SESSION_ID


def _fire(event: str, extra: dict[str, Any] | None = None) -> None:
    """Run every hook the settings give for ``event``, as the CLI would."""
    session_id = _session_id()
    payload = {
        "session_id": session_id,
        "transcript_path": "",
        "cwd": os.getcwd(),
        "hook_event_name": event,
        **(extra or {}),
    }
    body = json.dumps(payload).encode()
    for entry in _settings().get("hooks", {}).get(event, []):
        for hook in entry.get("hooks", []):
            if hook.get("type") == "command":
                subprocess.run(hook["command"], shell=True, input=body, check=False, timeout=10)
            elif hook.get("type") == "http":
                request = urllib.request.Request(
                    hook["url"], data=body, headers={"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=10) as reply:
                    reply.read()


def _config_dir() -> str:
    return os.environ.get("CLAUDE_CONFIG_DIR") or os.path.join(os.path.expanduser("~"), ".claude")


async def _connect() -> object:
    from websockets.asyncio.client import connect

    port = os.environ["CLAUDE_CODE_SSE_PORT"]
    lock_path = os.path.join(_config_dir(), "ide", f"{port}.lock")
    for _ in range(100):
        if os.path.exists(lock_path):
            break
        await asyncio.sleep(0.05)
    with open(lock_path, encoding="utf-8") as handle:
        lock = json.load(handle)
    return await connect(
        f"ws://127.0.0.1:{port}/",
        subprotocols=["mcp"],  # type: ignore[list-item]
        additional_headers={"X-Claude-Code-Ide-Authorization": lock["authToken"]},
        max_size=None,
        compression=None,
    )


def _hold_lent_fds(path: str) -> None:
    """Keep every fd sent to ``path`` open for the rest of this process's life."""
    import socket
    import threading

    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()
    held: list[int] = []

    def serve() -> None:
        while True:
            conn, _ = server.accept()
            with conn:
                _, fds, _, _ = socket.recv_fds(conn, 16, 8)
                held.extend(fds)
                conn.sendall(b"k")

    threading.Thread(target=serve, daemon=True).start()


async def main() -> int:
    args_file = os.environ.get("FAKE_CLAUDE_ARGS_FILE")
    if args_file:
        keep = [
            k
            for k in os.environ
            if k.startswith(
                ("CLAUDE", "ENABLE_IDE", "FORCE_CODE", "TCLAUDE", "no_proxy", "NO_PROXY")
            )
        ]
        with open(args_file, "w", encoding="utf-8") as handle:
            json.dump(
                {
                    "argv": sys.argv[1:],
                    "env": {k: os.environ[k] for k in keep},
                    "cwd": os.getcwd(),
                    "pid": os.getpid(),
                    "ppid": os.getppid(),
                },
                handle,
            )
    if os.environ.get("FAKE_CLAUDE_IGNORE_TERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if "FAKE_CLAUDE_EXIT" in os.environ:
        return int(os.environ["FAKE_CLAUDE_EXIT"])
    error = _session_error()
    if error:
        print(error, file=sys.stderr)
        return 1
    resumed = _flag("--resume") is not None
    await asyncio.to_thread(_fire, "SessionStart", {"source": "resume" if resumed else "startup"})
    ws = await _connect()
    pid = int(os.environ.get("FAKE_CLAUDE_PID", os.getpid()))
    opening = [
        {
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "claude-code", "version": "fake"},
            },
            "jsonrpc": "2.0",
            "id": 0,
        },
        {"method": "notifications/initialized", "jsonrpc": "2.0"},
        {"method": "ide_connected", "params": {"pid": pid}, "jsonrpc": "2.0"},
        {"method": "tools/list", "jsonrpc": "2.0", "id": 1},
    ]
    for msg in opening:
        await ws.send(json.dumps(msg))  # type: ignore[attr-defined]
    control_path = os.environ.get("FAKE_CLAUDE_CONTROL")
    if not control_path:
        async for _ in ws:  # type: ignore[attr-defined]
            pass
        await asyncio.Event().wait()
        return 0
    _hold_lent_fds(f"\0{control_path}.{os.getpid()}.fds")  # abstract: no file left behind
    reader, writer = await asyncio.open_unix_connection(control_path, limit=2**28)
    writer.write((json.dumps({"__fake__": "hello", "pid": os.getpid()}) + "\n").encode())
    exit_code: list[int] = []

    async def host_to_control() -> None:
        try:
            async for frame in ws:  # type: ignore[attr-defined]
                writer.write((frame if isinstance(frame, str) else frame.decode()).encode() + b"\n")
                await writer.drain()
        finally:
            writer.write((json.dumps({"__fake__": "closed"}) + "\n").encode())

    async def control_to_host() -> None:
        while line := await reader.readline():
            msg = json.loads(line)
            if isinstance(msg, dict) and msg.get("__fake__") == "exit":
                exit_code.append(int(msg.get("code", 0)))
                await asyncio.to_thread(_fire, "SessionEnd", {"reason": "prompt_input_exit"})
                return
            if isinstance(msg, dict) and msg.get("__fake__") == "hook":
                await asyncio.to_thread(_fire, str(msg["event"]), msg.get("payload") or {})
                ack = {"__fake__": "hooked", "event": msg["event"]}
                writer.write((json.dumps(ack) + "\n").encode())
                await writer.drain()
                continue
            if isinstance(msg, dict) and "__raw__" in msg:
                await ws.send(msg["__raw__"])  # type: ignore[attr-defined]
            else:
                await ws.send(json.dumps(msg))  # type: ignore[attr-defined]

    relay = asyncio.ensure_future(host_to_control())
    await control_to_host()
    relay.cancel()
    return exit_code[0] if exit_code else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
