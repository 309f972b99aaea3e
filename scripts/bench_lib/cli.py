"""Section ``cli``: ``tclaude new/list/switch/kill`` on a private tmux server.

Each command runs as a user would run it (the venv's ``tclaude``), timed from
spawn to exit, with ``TCLAUDE_TMUX_SOCKET`` naming the run's private server
and a claude that only sleeps (``sandbox.CLAUDE_STANDIN``). ``tmux`` on PATH is a shim that
logs each call with the measured command's tag, so the table also shows how
many tmux processes a command spawns. A command that is missing or fails
gives a "not available: <reason>" row, never a crash.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .report import INFO, Row, ms, percentile, unavailable, verdict
from .report import median as med
from .sandbox import REPO, Sandbox, check_interrupted

SECTION = "cli"
TCLAUDE = os.path.join(REPO, ".venv", "bin", "tclaude")
# Not TCLAUDE_*: the config cache is keyed by the TCLAUDE_* environment, and a tag that
# changes at every command would make each one miss it and validate with pydantic.
TAG_VAR = "TCB_TAG"
SESSION = "bench"  # the run's own session: an attached client and a pane to "be in"

NEW_TARGET = 200e-3
LIST_TARGET = 150e-3
SWITCH_TARGET = 100e-3
ANY_TARGET = 150e-3

# subcommand → module of tmuxclaude.cli that implements it
MODULES = {"new": "new", "list": "list_cmd", "switch": "switch", "kill": "kill"}


@dataclass
class Options:
    runs: int = 10
    instances: int = 50
    verbose: bool = False


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    tmux_calls: list[int] = field(default_factory=list)
    error: str | None = None


class CliFailedError(Exception):
    pass


class Runner:
    """Runs ``tclaude`` commands in the sandbox with the tmux shim on PATH."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.log_path = os.path.join(box.root, "tmux-calls.log")
        self.bin = os.path.join(box.root, "bin")
        os.makedirs(self.bin, exist_ok=True)
        real = shutil.which("tmux")
        if real is None:
            raise CliFailedError("tmux is not installed")
        shim = os.path.join(self.bin, "tmux")
        with open(shim, "w", encoding="utf-8") as handle:
            handle.write(
                "#!/bin/sh\n"
                f'printf "%s\\n" "${{{TAG_VAR}:--}} $*" >> "{self.log_path}"\n'
                f'exec "{real}" "$@"\n'
            )
        os.chmod(shim, 0o755)
        self.env = dict(box.env)
        self.env["PATH"] = self.bin + os.pathsep + self.env.get("PATH", "")
        self.env.pop("TMUX", None)
        self.env.pop("TMUX_PANE", None)
        self._n = 0
        self.inside: dict[str, str] = {}  # TMUX/TMUX_PANE when a command runs "inside" tmux

    def tmux_calls(self, tag: str) -> int:
        try:
            with open(self.log_path, encoding="utf-8") as handle:
                return sum(1 for line in handle if line.split(" ", 1)[0] == tag)
        except FileNotFoundError:
            return 0

    def run(
        self, args: Sequence[str], *, inside: bool = False, program: str = TCLAUDE
    ) -> tuple[float, int, str]:
        """Run ``tclaude ARGS``; (seconds, tmux calls, stdout). CliFailedError when it fails."""
        self._n += 1
        tag = f"c{self._n}"
        env = {**self.env, TAG_VAR: tag}
        if inside:
            env.update(self.inside)
        check_interrupted()
        t0 = time.perf_counter()
        proc = subprocess.run(
            [program, *args],
            env=env,
            cwd=self.box.work,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        seconds = time.perf_counter() - t0
        if proc.returncode != 0:
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            last = lines[-1] if lines else "(no output)"
            raise CliFailedError(f"`tclaude {' '.join(args)}` exit {proc.returncode}: {last}")
        return seconds, self.tmux_calls(tag), proc.stdout


def missing_commands() -> dict[str, str]:
    """Subcommands whose module is not written yet, with the reason."""
    out = {}
    for command, module in MODULES.items():
        name = f"tmuxclaude.cli.{module}"
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:
            found = False
        if not found:
            out[command] = f"{name} not written yet"
    return out


def run(box: Sandbox, opts: Options, log: Callable[[str], None]) -> list[Row]:
    missing = missing_commands()
    if "new" in missing:
        log(f"cli: {missing['new']}")
        return _all_unavailable(opts, missing["new"])
    try:
        runner = Runner(box)
        # the private server exists before any measured command, so neither its start
        # nor the tmux calls of the hosts in its panes count against a command
        box.tmux("-f", "/dev/null", "new-session", "-d", "-s", SESSION, "-x", "200", "-y", "50")
    except (CliFailedError, OSError, subprocess.CalledProcessError) as exc:
        return _all_unavailable(opts, str(exc))
    bench = _CliBench(box, runner, opts, log, missing)
    try:
        return bench.measure()
    finally:
        bench.close()


def _sizes(instances: int) -> list[int]:
    return sorted({n for n in (1, 10, 50, instances) if 1 <= n <= instances})


def _all_unavailable(opts: Options, reason: str) -> list[Row]:
    rows = [unavailable(SECTION, "tclaude new --detached --json until ready", reason, "< 200 ms")]
    rows += [
        unavailable(SECTION, f"tclaude list --json, {n} instances", reason, "< 150 ms, flat in N")
        for n in _sizes(opts.instances)
    ]
    rows.append(unavailable(SECTION, "tclaude switch NAME", reason, "< 100 ms"))
    rows.append(unavailable(SECTION, "tclaude kill NAME", reason, "< 150 ms"))
    return rows


class _CliBench:
    def __init__(
        self,
        box: Sandbox,
        runner: Runner,
        opts: Options,
        log: Callable[[str], None],
        missing: dict[str, str],
    ) -> None:
        self.box = box
        self.runner = runner
        self.opts = opts
        self.log = log
        self.missing = missing
        self.names: list[str] = []
        self.client: subprocess.Popen[bytes] | None = None
        self._pty: int | None = None

    # -- steps

    def measure(self) -> list[Row]:
        rows: list[Row] = []
        sizes = _sizes(self.opts.instances)
        self._warm_up()
        new = Timing()
        lists: dict[int, Timing] = {}
        for size in sizes:
            self._grow(size, new)
            if new.error:
                break
            lists[size] = self._time("list", ["list", "--json"], check=self._check_list(size))
        rows.append(self._new_row(new))
        for size in sizes:
            what = f"tclaude list --json, {size} instance{'s' if size > 1 else ''}"
            timing = lists.get(size) or Timing(error=new.error or "no instances")
            rows.append(self._row(what, timing, LIST_TARGET, "< 150 ms, flat in N"))
        if lists:
            rows.append(self._regular_list_row(max(lists)))
        rows.append(self._switch_row())
        rows.append(self._kill_row())
        rows.append(self._kill_all_row())
        return rows

    def _warm_up(self) -> None:
        """One unmeasured new/list/kill: fills the bytecode cache, as an installed package has."""
        cwd = os.path.join(self.box.work, "warm")
        os.makedirs(cwd, exist_ok=True)
        self.log("cli: warm-up (new, list, kill; not measured)")
        for args in (
            ["new", "--detached", "--json", "--name", "warm", "--cwd", cwd],
            ["list", "--json"],
            ["switch", "--help"],
            ["kill", "warm"],
        ):
            with contextlib.suppress(CliFailedError, subprocess.TimeoutExpired):
                self.runner.run(args)

    def _kill_all_row(self) -> Row:
        what = f"tclaude kill --all ({len(self.names)} instances), then nothing left"
        if not self.names:
            return unavailable(SECTION, what, "no instances left to kill")
        count = len(self.names)
        timing = self._time("kill", ["kill", "--all"], runs=1)
        if timing.error:
            return unavailable(SECTION, what, timing.error)
        self.names.clear()
        left = self._leftovers()
        row = self._row(what, timing, ANY_TARGET * max(1, count), "nothing left")
        row.figure = f"{row.figure}, left: {', '.join(left) or 'nothing'}"
        row.verdict = "over" if left else "ok"
        row.value = len(left)
        row.unit = "leftovers"
        return row

    def _leftovers(self) -> list[str]:
        """Hosts, claude children, lock files, sockets and records still there."""
        left = []
        deadline = time.monotonic() + 2.0
        while True:
            procs = [
                p
                for p in self.box.leftovers()
                if _cmdline(p).endswith("sleep 100000")
                or "tmuxclaude host" in _cmdline(p)
                or " host --id " in _cmdline(p)
            ]
            locks = glob.glob(os.path.join(self.box.lock_dir, "*.lock"))
            files = [
                f
                for f in glob.glob(os.path.join(self.box.runtime, "*"))
                if f.endswith(".sock") or (f.endswith(".json") and _is_record(f))
            ]
            if not (procs or locks or files) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        if procs:
            left.append(f"{len(procs)} processes")
        if locks:
            left.append(f"{len(locks)} lock files")
        if files:
            names = ", ".join(sorted(os.path.basename(f) for f in files)[:3])
            left.append(f"{len(files)} sockets/records ({names})")
        return left

    def _grow(self, size: int, new: Timing) -> None:
        self.log(f"cli: tclaude new --detached --json until {size} instances")
        while len(self.names) < size:
            name = f"bn{len(self.names) + 1}"
            cwd = os.path.join(self.box.work, name)
            os.makedirs(cwd, exist_ok=True)
            args = ["new", "--detached", "--json", "--name", name, "--cwd", cwd]
            try:
                seconds, calls, out = self.runner.run(args)
                _parse_json(out, "new")
            except (CliFailedError, subprocess.TimeoutExpired, ValueError) as exc:
                new.error = str(exc)
                self.log(f"  {exc}")
                return
            new.seconds.append(seconds)
            new.tmux_calls.append(calls)
            self.names.append(name)

    def _check_list(self, size: int) -> Callable[[str], None]:
        def check(out: str) -> None:
            data = _parse_json(out, "list")
            items = data.get("instances", data) if isinstance(data, dict) else data
            if isinstance(items, list) and len(items) < size:
                raise ValueError(f"list shows {len(items)} instances, expected {size}")

        return check

    def _time(
        self,
        command: str,
        args: list[str],
        *,
        runs: int | None = None,
        inside: bool = False,
        check: Callable[[str], None] | None = None,
    ) -> Timing:
        timing = Timing()
        if command in self.missing:
            timing.error = self.missing[command]
            return timing
        for _ in range(runs or self.opts.runs):
            try:
                seconds, calls, out = self.runner.run(args, inside=inside)
                if check is not None:
                    check(out)
            except (CliFailedError, subprocess.TimeoutExpired, ValueError) as exc:
                timing.error = str(exc)
                break
            timing.seconds.append(seconds)
            timing.tmux_calls.append(calls)
        return timing

    def _regular_list_row(self, size: int) -> Row:
        what = f"tclaude list --json, {size} instances, regular install (no editable finder)"
        try:
            program = os.path.join(os.path.dirname(self.box.regular_install()), "tclaude")
        except (OSError, subprocess.CalledProcessError) as exc:
            return unavailable(SECTION, what, f"no regular install: {exc}", "< 150 ms")
        with contextlib.suppress(CliFailedError, subprocess.TimeoutExpired):
            self.runner.run(["list", "--json"], program=program)  # its bytecode
        timing = Timing()
        for _ in range(self.opts.runs):
            try:
                seconds, calls, out = self.runner.run(["list", "--json"], program=program)
                self._check_list(size)(out)
            except (CliFailedError, subprocess.TimeoutExpired, ValueError) as exc:
                timing.error = str(exc)
                break
            timing.seconds.append(seconds)
            timing.tmux_calls.append(calls)
        return self._row(what, timing, LIST_TARGET, "< 150 ms")

    def _switch_row(self) -> Row:
        what = "tclaude switch NAME (from inside tmux, a client attached)"
        if len(self.names) < 2:
            return unavailable(SECTION, what, "fewer than two instances", "< 100 ms")
        self.log("cli: tclaude switch, alternating between two instances")
        try:
            self._attach_client()
        except (OSError, subprocess.CalledProcessError, CliFailedError) as exc:
            return unavailable(SECTION, what, f"no tmux client: {exc}", "< 100 ms")
        timing = Timing()
        for i in range(self.opts.runs):
            part = self._time("switch", ["switch", self.names[i % 2]], runs=1, inside=True)
            if part.error:
                timing.error = part.error
                break
            timing.seconds += part.seconds
            timing.tmux_calls += part.tmux_calls
        return self._row(what, timing, SWITCH_TARGET, "< 100 ms (binding: < 20 ms)")

    def _kill_row(self) -> Row:
        what = "tclaude kill NAME (returns when all is gone)"
        runs = min(self.opts.runs, len(self.names) - 1)  # keep one for kill --all
        if not runs:
            return unavailable(SECTION, what, "no instances", "< 150 ms")
        self.log(f"cli: tclaude kill, {runs} instances one by one")
        timing = Timing()
        for name in list(reversed(self.names))[:runs]:
            part = self._time("kill", ["kill", name], runs=1)
            if part.error:
                timing.error = part.error
                break
            self.names.remove(name)
            timing.seconds += part.seconds
            timing.tmux_calls += part.tmux_calls
        return self._row(what, timing, ANY_TARGET, "< 150 ms")

    # -- rows

    def _new_row(self, new: Timing) -> Row:
        row = self._row("tclaude new --detached --json until ready", new, NEW_TARGET, "< 200 ms")
        if len(new.seconds) >= 20:
            first, last = med(new.seconds[:10]), med(new.seconds[-10:])
            row.reference += f"; first 10 {ms(first)}, last 10 {ms(last)}"
        return row

    def _row(self, what: str, timing: Timing, limit: float, target: str) -> Row:
        if not timing.seconds:
            return unavailable(SECTION, what, timing.error or "no runs", target)
        m = med(timing.seconds)
        calls = sorted(set(timing.tmux_calls))
        tmux_text = (
            "/".join(str(c) for c in calls) if len(calls) <= 3 else f"{calls[0]}-{calls[-1]}"
        )
        reference = (
            f"median of {len(timing.seconds)}, p90 {ms(percentile(timing.seconds, 90))}; "
            f"tmux processes: {tmux_text}"
        )
        if timing.error:
            reference += f"; stopped early: {timing.error}"
        return Row(
            SECTION,
            what,
            ms(m),
            target,
            verdict(m, limit),
            reference,
            m * 1000,
            "ms",
            {"tmux_calls": timing.tmux_calls, "seconds": timing.seconds},
        )

    # -- the attached client switch needs

    def _attach_client(self) -> None:
        fmt = "#{socket_path},#{pid},#{session_id}\t#{pane_id}"
        out = self.box.tmux("display-message", "-p", "-t", SESSION, fmt).stdout.strip()
        tmux_var, pane = out.split("\t")
        path, pid, session_id = tmux_var.split(",")
        self.runner.inside = {"TMUX": f"{path},{pid},{session_id.lstrip('$')}", "TMUX_PANE": pane}
        self.client, self._pty = self.box.attach_client(SESSION, self.box.env)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.box.tmux("list-clients", check=False).stdout.strip():
                return
            time.sleep(0.02)
        raise CliFailedError("the tmux client did not attach")

    def close(self) -> None:
        if self.names and "kill" not in self.missing:
            with contextlib.suppress(CliFailedError, subprocess.TimeoutExpired):
                self.runner.run(["kill", "--all"])
        if self.client is not None:
            self.box.stop(self.client)
        if self._pty is not None:
            with contextlib.suppress(OSError):
                os.close(self._pty)


def _is_record(path: str) -> bool:
    """Whether ``path`` is a host's runtime record (not, say, the CLI's own cache)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and "port" in data and "pid" in data


def _cmdline(proc: Any) -> str:
    try:
        return " ".join(proc.cmdline())
    except Exception:
        return ""


def _parse_json(out: str, command: str) -> Any:
    try:
        return json.loads(out)
    except ValueError:
        raise ValueError(f"tclaude {command} --json printed no JSON: {out[:80]!r}") from None


__all__ = ["INFO", "Options", "run"]
