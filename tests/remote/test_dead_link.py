"""A remote that does not answer costs its timeout, whatever the verb; a live one is waited for.

Found by trial: over a cut link, ``send``, ``kill`` or ``new --on`` waited for
ssh's keep-alives (15-22 s) and printed ssh's own message; docs said "no
answer within 3s".
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.support.cli_runner import Tclaude
from tests.support.remotes import Machine, Remotes

KEEPALIVE = 15  # ssh's ServerAliveInterval x CountMax: what a slow verb waited for


def _timeouts(isolated_env: dict[str, str], remotes: Remotes, **timeouts: float) -> None:
    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config.write_text("remote_timeout = 30.0\n\n" + remotes.config_toml(timeouts))


def test_every_verb_over_a_cut_link_fails_in_the_remote_timeout(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine, isolated_env: dict[str, str]
) -> None:
    tclaude.run("new", "--on", "alpha", "--name", "x", "--detached")  # the master is warm
    _timeouts(isolated_env, remotes, alpha=1.5)
    alpha.link_up(False)
    try:
        for args in (
            ["send", "alpha:x", "--text", "hi"],
            ["kill", "alpha:x"],
            ["new", "--on", "alpha", "--name", "y", "--detached"],
            ["restore", "--on", "alpha"],
            ["wait", "alpha:x", "--state", "busy"],
            ["status", "alpha:x"],
        ):
            start = time.monotonic()
            proc = tclaude.run(*args, check=False)
            took = time.monotonic() - start
            assert proc.returncode == 2, (args, proc)
            assert proc.stderr == "tclaude: remote alpha: no answer within 1.5s\n", (args, proc)
            assert took < KEEPALIVE, (args, took)  # the timeout ends it, not the keep-alives
    finally:
        alpha.link_up(True)
    # nothing was sent for later: once the link is back, x is there and y was never made
    deadline = time.monotonic() + 90
    while (listed := tclaude.run("list", "--on", "alpha", "--json")).stderr:
        assert time.monotonic() < deadline, f"alpha did not come back: {listed.stderr}"
        time.sleep(0.5)
    assert [r["name"] for r in json.loads(listed.stdout)] == ["x"]


def test_a_slow_verb_a_live_remote_accepted_gets_its_long_timeout(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine, isolated_env: dict[str, str]
) -> None:
    _timeouts(isolated_env, remotes, alpha=1.0)
    slow = alpha.bin / "tclaude"
    slow.write_text("#!/bin/sh\nsleep 3\necho killed\n")  # kill takes seconds there
    slow.chmod(0o755)
    proc = tclaude.run("kill", "alpha:x", check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "killed\n", "")
