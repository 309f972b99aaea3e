"""Port allocation: bind first, never a duplicate, clear errors."""

from __future__ import annotations

import errno
import resource
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import pytest

from tmuxclaude.host import ports
from tmuxclaude.port_range import DEFAULT_RANGE, parse_range

ALLOCATIONS = 10_000


@pytest.fixture
def many_fds() -> Iterator[None]:
    """Raise the soft RLIMIT_NOFILE to the hard limit for the test (restored after)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < ALLOCATIONS + 200:
        pytest.skip(f"ulimit -Hn is {hard}: {ALLOCATIONS} sockets cannot be held open")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_ten_thousand_parallel_allocations_never_collide(many_fds: None) -> None:
    held: list[socket.socket] = []
    lock = threading.Lock()

    def allocate(_: int) -> int:
        sock = ports.bind_loopback()
        with lock:
            held.append(sock)
        port: int = sock.getsockname()[1]
        return port

    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            got = list(pool.map(allocate, range(ALLOCATIONS)))
        assert len(got) == ALLOCATIONS
        assert len(set(got)) == ALLOCATIONS
        lo, hi = DEFAULT_RANGE
        assert all(lo <= port <= hi for port in got)
        for sock in held[:50]:
            assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        for sock in held:
            sock.close()


def test_narrow_range_fully_taken() -> None:
    first = ports.bind_loopback((20000, 65535))
    port = first.getsockname()[1]
    try:
        with pytest.raises(OSError) as info:
            ports.bind_loopback((port, port))
        assert info.value.errno == errno.EADDRINUSE
        assert f"no free port in {port}-{port}" in str(info.value)
    finally:
        first.close()


def test_range_of_two_gives_both_then_fails() -> None:
    # find two adjacent free ports, then take them through bind_loopback
    for base in range(30000, 40000, 2):
        probes = []
        try:
            for port in (base, base + 1):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
        break
    else:
        pytest.fail("no two adjacent free ports")
    a = ports.bind_loopback((base, base + 1))
    b = ports.bind_loopback((base, base + 1))
    try:
        assert {a.getsockname()[1], b.getsockname()[1]} == {base, base + 1}
        assert not a.getblocking()
        with pytest.raises(OSError, match="no free port"):
            ports.bind_loopback((base, base + 1))
    finally:
        a.close()
        b.close()


class RangeCase(NamedTuple):
    test_id: str
    text: str
    expected: tuple[int, int] | None  # None: ValueError


RANGE_CASES = [
    RangeCase("range", "10000-20000", (10000, 20000)),
    RangeCase("single", "40000", (40000, 40000)),
    RangeCase("spaces", " 10000 - 10010 ", (10000, 10010)),
    RangeCase("edges", "1024-65535", (1024, 65535)),
    RangeCase("reversed", "20000-10000", None),
    RangeCase("privileged", "80-90", None),
    RangeCase("too_high", "60000-70000", None),
    RangeCase("words", "low-high", None),
    RangeCase("empty", "", None),
    RangeCase("dangling_dash", "10000-", None),
    RangeCase("leading_dash", "-10000", None),
    RangeCase("three_parts", "10000-10001-10002", None),
]


@pytest.mark.parametrize("case", RANGE_CASES, ids=[c.test_id for c in RANGE_CASES])
def test_parse_range(case: RangeCase) -> None:
    if case.expected is None:
        with pytest.raises(ValueError, match="port range"):
            parse_range(case.text)
    else:
        assert parse_range(case.text) == case.expected
