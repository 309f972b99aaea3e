"""A time limit per test, so that a hang fails its test instead of the whole CI run.

At ``limit`` seconds a test's threads are dumped and the test fails where it hangs; if the
run is still stuck ``grace`` seconds later (a task that ignores its cancel keeps the event
loop's teardown waiting), the threads are dumped again and the run ends.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import pytest

LIMIT = float(os.environ.get("TCLAUDE_TEST_LIMIT", "600"))
GRACE = float(os.environ.get("TCLAUDE_TEST_GRACE", "120"))


class Watchdog:
    """Arms SIGALRM around each test; writes to ``fd`` (a copy of the run's stderr)."""

    def __init__(self, fd: int, limit: float = LIMIT, grace: float = GRACE) -> None:
        self.fd = fd
        self.limit = limit
        self.grace = grace
        self.test = ""
        self.started = 0.0
        self.failed = False

    @contextmanager
    def watching(self, test: str) -> Iterator[None]:
        self.test, self.started, self.failed = test, time.monotonic(), False
        previous = signal.signal(signal.SIGALRM, self._ring)
        signal.setitimer(signal.ITIMER_REAL, self.limit)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)

    def _say(self, text: str) -> None:
        os.write(self.fd, f"\n{text}\n".encode())
        faulthandler.dump_traceback(self.fd, all_threads=True)

    def _ring(self, signum: int, frame: FrameType | None) -> None:
        spent = time.monotonic() - self.started
        if self.failed:
            self._say(f"{self.test}: still stuck after {spent:.0f} s; ending the run")
            os._exit(3)
        self.failed = True
        self._say(f"{self.test}: over its limit of {self.limit:g} s; where it is:")
        signal.setitimer(signal.ITIMER_REAL, self.grace)
        pytest.fail(f"over the limit of {self.limit:g} s per test (a hang?)", pytrace=False)


# the plugin: tests/conftest.py names this module in pytest_plugins
_key = pytest.StashKey[Watchdog]()


def pytest_configure(config: pytest.Config) -> None:
    # a copy of stderr taken while capture is off: what is written there reaches the log
    config.stash[_key] = Watchdog(os.dup(2))


def _watched(item: pytest.Item) -> Iterator[None]:
    with item.config.stash[_key].watching(item.nodeid):
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    return (yield from _watched(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    return (yield from _watched(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Iterator[None]:
    return (yield from _watched(item))
