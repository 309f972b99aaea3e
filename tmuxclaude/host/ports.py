"""Bind a loopback port for the IDE server: bind first, publish after."""

from __future__ import annotations

import errno
import random
import socket

DEFAULT_RANGE = (10000, 65535)
ATTEMPTS = 200


def parse_range(text: str) -> tuple[int, int]:
    """``"10000-65535"`` → ``(10000, 65535)``; a single port is a range of one."""
    lo_text, dash, hi_text = text.partition("-")
    try:
        lo = int(lo_text)
        hi = int(hi_text) if dash else lo
    except ValueError:
        raise ValueError(f"port range {text!r} is not LOW-HIGH") from None
    if not 1024 <= lo <= hi <= 65535:
        raise ValueError(f"port range {text!r} must lie within 1024-65535, low first")
    return lo, hi


def bind_loopback(port_range: tuple[int, int] = DEFAULT_RANGE) -> socket.socket:
    """A listening socket on 127.0.0.1 at a random free port of the range.

    The port is owned once ``bind`` succeeds, so two hosts can never publish
    the same one; a taken port (EADDRINUSE) just means another try.
    """
    lo, hi = port_range
    span = hi - lo + 1
    tries = min(ATTEMPTS, span)
    candidates = (
        random.sample(range(lo, hi + 1), tries) if span > tries else list(range(lo, hi + 1))
    )
    if span <= tries:
        random.shuffle(candidates)
    for port in candidates:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(128)
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                continue
            raise
        sock.setblocking(False)
        return sock
    raise OSError(
        errno.EADDRINUSE,
        f"no free port in {lo}-{hi} after {tries} tries; widen --port-range/TCLAUDE_PORT_RANGE",
    )
