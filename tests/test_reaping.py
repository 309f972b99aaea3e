"""The suite leaves no tmux server or socket file behind (libtmux reaps them)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.support import tmux_servers

ROOT = Path(__file__).resolve().parent.parent


def test_a_run_with_an_attached_outer_client_leaves_no_tmux_socket() -> None:
    run = f"reap{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "TCLAUDE_TEST_RUN": run}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            "-p",
            "no:cacheprovider",
            "tests/tmux/test_picker.py::test_picker_quits_with_q_and_digits_switch",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    prefix = f"tclaude-test-{run}-"
    assert "1 passed" in proc.stdout
    assert tmux_servers.leftovers(prefix) == []
