"""Section ``remote``: ``tclaude list`` with 2 SSH remotes × 10 instances and 10 local.

The remotes are the test suite's sshd "machines" (tests/support/remotes.py:
network namespaces, so it needs root and Debian's openssh-server). Figures:
``list --json`` of the 10 local instances alone, then with both remotes'
(connections warm), and the ssh processes kept per remote (its master).
Target (issue 13): list ≤ local list + 25 ms; one ssh process per remote.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable

from .report import Row, median, ms, unavailable, verdict
from .sandbox import PYTHON, REPO, Sandbox

SECTION = "remote"
PER_MACHINE = 10


def run(box: Sandbox, log: Callable[[str], None], runs: int = 10) -> list[Row]:
    what = "tclaude list --json, 10 local + 2 remotes × 10 (warm)"
    if os.geteuid() != 0 or (shutil.which("sshd") is None and not os.path.exists("/usr/sbin/sshd")):
        return [unavailable(SECTION, what, "needs root and openssh-server", "≤ local + 25 ms")]
    sys.path.insert(0, REPO)
    from tests.support.remotes import close_masters, started

    env = dict(box.env)
    config = os.path.join(env["XDG_CONFIG_HOME"], "tclaude", "config.toml")

    def tclaude(*args: str) -> str:
        proc = subprocess.run(
            [PYTHON, "-m", "tmuxclaude", *args],
            env=env, cwd=box.work, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        if proc.returncode != 0:
            raise RuntimeError(f"tclaude {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def timed(count: int) -> list[float]:
        seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            out = tclaude("list", "--json")
            seconds.append(time.perf_counter() - start)
            if out.count('"name"') < count:
                raise RuntimeError(f"list showed fewer than {count} instances")
        return seconds

    log("remote: starting 2 sshd machines")
    with started(["r1", "r2"]) as remotes:
        try:
            for i in range(PER_MACHINE):
                tclaude("new", "--name", f"l{i}", "--detached")
            tclaude("list", "--json")
            local = timed(PER_MACHINE)
            os.makedirs(os.path.dirname(config), exist_ok=True)
            with open(config, "w", encoding="utf-8") as handle:
                handle.write("remote_timeout = 30.0\n\n" + remotes.config_toml())
            log("remote: starting 2 × 10 remote instances")
            for name in remotes.machines:
                for i in range(PER_MACHINE):
                    tclaude("new", "--on", name, "--name", f"{name}i{i}", "--detached")
            tclaude("list", "--json")  # warm: masters up
            merged = timed(3 * PER_MACHINE)
            masters = [_masters(os.path.join(box.runtime, "ssh", n)) for n in remotes.machines]
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            return [unavailable(SECTION, what, str(exc), "≤ local + 25 ms")]
        finally:
            subprocess.run([PYTHON, "-m", "tmuxclaude", "kill", "--all"], env=env,
                           capture_output=True, timeout=120, check=False)  # fmt: skip
            close_masters(box.runtime)
    delta = median(merged) - median(local)
    return [
        Row(SECTION, "tclaude list --json, 10 local, no remotes", ms(median(local)),
            value=median(local), unit="s"),
        Row(SECTION, what, ms(median(merged)), "≤ local + 25 ms", verdict(delta, 0.025),
            value=median(merged), unit="s", extra={"delta_s": delta}),
        Row(SECTION, "ssh processes per remote (masters)", str(max(masters)), "1",
            verdict(max(masters), 1), value=max(masters)),
    ]  # fmt: skip


def _masters(path: str) -> int:
    """ssh processes titled ``ssh: PATH [mux]``: the master of that control path."""
    found = 0
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if handle.read().startswith(f"ssh: {path} [mux]".encode()):
                    found += 1
        except OSError:
            continue
    return found
