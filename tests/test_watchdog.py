"""The per-test time limit: a hang fails its test, and a run stuck past that ends."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SLOW = """
import time

def test_slow():
    time.sleep(30)

def test_next():
    pass
"""

STUBBORN_TASK = """
import asyncio

async def test_a_task_that_ignores_its_cancel():
    async def stubborn():
        while True:
            try:
                await asyncio.sleep(1)
            except asyncio.CancelledError:
                pass

    asyncio.get_running_loop().create_task(stubborn())
    await asyncio.sleep(30)
"""

DEAF = """
import time

def test_deaf():
    while True:
        try:
            time.sleep(10)
        except BaseException:
            pass
"""


def _pytest(
    tmp_path: Path, source: str, limit: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``source`` as a test file with the watchdog: limit seconds, and 2 s of grace."""
    test = tmp_path / "test_under_watch.py"
    test.write_text(source)
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "tests.support.watchdog",
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_mode=auto",
        "--rootdir",
        str(tmp_path),
        str(test),
    ]
    env = {
        **os.environ,
        "TCLAUDE_TEST_LIMIT": limit,
        "TCLAUDE_TEST_GRACE": "2",
        "PYTHONPATH": str(ROOT),
    }
    started = time.monotonic()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    return done, time.monotonic() - started


def test_a_test_over_its_limit_fails_and_the_run_goes_on(tmp_path: Path) -> None:
    done, spent = _pytest(tmp_path, SLOW, "1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed, 1 passed" in done.stdout
    assert "over the limit of 1 s per test" in done.stdout
    assert "test_slow: over its limit of 1 s" in done.stderr
    assert "time.sleep(30)" in done.stderr or "in test_slow" in done.stderr  # where it was
    assert spent < 25


def test_a_loop_teardown_held_by_a_task_fails_and_the_run_ends(tmp_path: Path) -> None:
    """What hung CI: a task that ignores its cancel holds pytest-asyncio's teardown."""
    done, spent = _pytest(tmp_path, STUBBORN_TASK, "1")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "over the limit of 1 s per test" in done.stdout
    assert "test_a_task_that_ignores_its_cancel: over its limit of 1 s" in done.stderr
    assert spent < 25


def test_a_test_deaf_to_the_limit_ends_the_run_with_the_threads_dumped(tmp_path: Path) -> None:
    done, spent = _pytest(tmp_path, DEAF, "1")
    assert done.returncode == 3, done.stdout + done.stderr
    assert "test_deaf: over its limit of 1 s" in done.stderr
    assert "test_deaf: still stuck after" in done.stderr and "ending the run" in done.stderr
    assert "in test_deaf" in done.stderr  # where it was, from the dump
    assert spent < 25
