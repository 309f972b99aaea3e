"""Bind a loopback port for the IDE server: bind first, publish after."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import Iterator

from ..port_range import DEFAULT_RANGE

ATTEMPTS = 200


def bind_loopback(port_range: tuple[int, int] = DEFAULT_RANGE) -> socket.socket:
    """A listening socket on 127.0.0.1 at a random free port of the range.

    The port is owned once ``bind`` succeeds, so two hosts can never publish
    the same one; a taken port (EADDRINUSE) just means another try.
    """
    lo, hi = port_range
    span = hi - lo + 1
    tries = min(ATTEMPTS, span)
    for port in _shuffled(lo, hi, tries):
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


def _shuffled(lo: int, hi: int, count: int) -> Iterator[int]:
    """``count`` distinct ports of ``lo..hi`` in random order, drawn as needed.

    ``random.sample`` without the ``random`` module (1 ms of the host's start):
    a partial Fisher-Yates shuffle over the range, with ``os.urandom`` draws.
    """
    span = hi - lo + 1
    moved: dict[int, int] = {}  # the shuffle's swaps; untouched slots hold themselves
    for i in range(min(count, span)):
        j = i + _below(span - i)
        picked = moved.get(j, j)
        moved[j] = moved.get(i, i)
        yield lo + picked


def _below(n: int) -> int:
    """A uniform random integer in ``[0, n)`` (rejection sampling, no modulo bias)."""
    bits = (n - 1).bit_length()
    if bits == 0:
        return 0
    size = (bits + 7) // 8
    while True:
        value = int.from_bytes(os.urandom(size), "big") >> (size * 8 - bits)
        if value < n:
            return value
