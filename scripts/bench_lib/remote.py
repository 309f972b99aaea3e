"""Section ``remote``: ``tclaude list`` with 2 SSH remotes × 10 instances and 10 local.

The remotes are the test suite's sshd "machines" (tests/support/remotes.py:
network namespaces, so it needs root and Debian's openssh-server). Figures:
``list --json`` of the 10 local instances alone; with both remotes' while
``watch-remotes`` keeps their feeds (what the tmux plugin runs); the same
with ``--fresh`` (each remote asked over its warm connection); a remote state
change until the local feed has it (remote_latency.py); the ssh processes per
remote (its master, and the feed's one client).
Targets (issue 13): list ≤ local list + 25 ms; remote change visible ≤ 50 ms;
one ssh process per remote for status.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable

from .report import Row, median, ms, percentile, unavailable, verdict
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

    def timed(count: int, *extra: str) -> list[float]:
        seconds = []
        for _ in range(runs):
            start = time.perf_counter()
            out = tclaude("list", "--json", *extra)
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
            tclaude("list", "--json", "--fresh")  # warm: masters up
            asked = timed(3 * PER_MACHINE, "--fresh")
            log("remote: watch-remotes, until both feeds are synced")
            watcher = box.spawn([PYTHON, "-m", "tmuxclaude", "watch-remotes"], env=env)
            _until_fed(box.state, list(remotes.machines), PER_MACHINE)
            merged = timed(3 * PER_MACHINE)
            masters = [_masters(os.path.join(box.runtime, "ssh", n)) for n in remotes.machines]
            clients = [_feed_clients(watcher.pid, n) for n in remotes.machines]
            box.stop(watcher)
            log("remote: remote state change -> local feed")
            latencies = _latencies(env, remotes.machines["r1"], runs)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
            return [unavailable(SECTION, what, str(exc), "≤ local + 25 ms")]
        finally:
            subprocess.run([PYTHON, "-m", "tmuxclaude", "kill", "--all"], env=env,
                           capture_output=True, timeout=120, check=False)  # fmt: skip
            close_masters(box.runtime)
    delta = median(merged) - median(local)
    late = median(latencies)
    return [
        Row(SECTION, "tclaude list --json, 10 local, no remotes", ms(median(local)),
            value=median(local), unit="s"),
        Row(SECTION, what + ", from the feeds",
            f"{ms(median(merged))} ({delta * 1000:+.0f} ms)", "≤ local + 25 ms",
            verdict(delta, 0.025), value=median(merged), unit="s", extra={"delta_s": delta}),
        Row(SECTION, what + ", --fresh (asked)", ms(median(asked)),
            value=median(asked), unit="s"),
        Row(SECTION, "remote state change → local feed (median, p90)",
            f"{ms(late)}, {ms(percentile(latencies, 90))}", "≤ 50 ms", verdict(late, 0.05),
            value=late, unit="s"),
        Row(SECTION, "ssh processes per remote: master, feed client",
            f"{max(masters)}, {max(clients)}", "1 for status",
            verdict(max(clients), 1), value=max(clients)),
    ]  # fmt: skip


def _until_fed(state_dir: str, names: list[str], count: int) -> None:
    """Wait until watch-remotes' feed of each remote is connected with ``count`` instances."""
    import json

    deadline = time.monotonic() + 120
    while True:
        ready = 0
        for name in names:
            try:
                with open(os.path.join(state_dir, "remotes", f"{name}.feed.json")) as handle:
                    data = json.load(handle)
            except (OSError, ValueError):
                continue
            ready += bool(data.get("connected")) and len(data.get("instances", [])) == count
        if ready == len(names):
            return
        if time.monotonic() > deadline:
            raise RuntimeError("the feeds did not sync")
        time.sleep(0.1)


def _feed_clients(parent: int, remote: str) -> int:
    """ssh processes of ``watch-remotes`` (pid ``parent``) running remote's watch."""
    import psutil

    found = 0
    for proc in psutil.Process(parent).children(recursive=True):
        try:
            argv = proc.cmdline()
        except psutil.Error:
            continue
        if argv[:1] == ["ssh"] and "watch" in argv[-1] and remote in argv[-2:-1]:
            found += 1
    return found


def _latencies(env: dict[str, str], machine: object, runs: int) -> list[float]:
    import json

    from .remote_latency import PUBLISHER

    remote_env = [f"{k}={v}" for k, v in machine.env().items()]  # type: ignore[attr-defined]
    publisher = ["ip", "netns", "exec", machine.netns,  # type: ignore[attr-defined]
                 "env", *remote_env, PYTHON, "-c", PUBLISHER]  # fmt: skip
    here = os.path.dirname(os.path.abspath(__file__))
    proc = subprocess.run(
        [PYTHON, "-m", "bench_lib.remote_latency", machine.name, str(runs),  # type: ignore[attr-defined]
         "--", *publisher],
        env={**env, "PYTHONPATH": os.path.dirname(here)}, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise RuntimeError(f"remote latency: {proc.stderr.strip()[-300:]}")
    return [float(x) for x in json.loads(proc.stdout)]


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
