"""Relay one Claude Code ``command`` hook to its host's hook server.

Run as ``python -S hook_relay.py URL_FILE`` with the hook's JSON on stdin;
used for SessionStart, which Claude Code does not send to ``http`` hooks.
The URL (``http://127.0.0.1:PORT/hook/TOKEN``) is read from the host's 0600
file, never taken from argv, which every local user can read. It imports
only the socket module (no site-packages), so it costs little more than the
interpreter's own start; it never fails the hook.
"""

import _socket  # the C module: socket.py's imports would double this script's start
import sys

PREFIX = "http://127.0.0.1:"


def main() -> int:
    try:
        with open(sys.argv[1], encoding="ascii") as handle:
            url = handle.read(512).strip()
    except (IndexError, OSError, ValueError):
        return 0
    if not url.startswith(PREFIX):
        return 0  # only ever the host's loopback endpoint
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    body = sys.stdin.buffer.read()
    request = (
        f"POST /{path} HTTP/1.1\r\nHost: {host_port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    conn = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        conn.settimeout(2)
        conn.connect((host, int(port)))
        conn.sendall(request)
        conn.recv(64)
    except (OSError, ValueError):
        pass
    finally:
        conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
