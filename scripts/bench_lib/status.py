"""Section ``status``: hook → tmux state, switching through a binding, picker first paint.

All on the run's private tmux server, with instances made by ``tclaude new
--detached`` (claude: the sleeping stand-in) in the session ``tclaude``:

- hook → ``@tclaude-state``: POST a hook payload to the instance's http hook
  URL (read from ``<runtime>/<id>.settings.json``, as Claude Code does) and
  block in ``tmux wait-for tclaude-<id>``, which the host signals in the same
  tmux call that sets the option; then check the option's value. The waiter
  is started (and given 15 ms to register) before the POST, so the figure
  holds no tmux start-up; a signal that came first still wakes it (tmux keeps
  it), which can only make a figure larger.
- the SessionStart ``command`` hook: the relay (``python -S hook_relay.py URL_FILE``)
  from spawn to exit, and to the state visible.
- a binding's switch: ``tmux/scripts/focus.sh next CLIENT PANE`` (what the
  ``C-j`` binding runs) from spawn until it exits, its last tmux call done; and
  the key itself, ``C-b C-j`` written to an attached client's terminal, until
  tmux reports the window change to a control-mode client.
- hook → ``tclaude watch --json`` line: the same POST, until a running
  watcher prints the instance's ``state`` event (the host pushes a datagram
  to the watcher's socket: no polling anywhere).
- the picker: ``new-window 'tclaude pick'`` sent through a control-mode client,
  until the pane's output (``%output``) holds the header ``tclaude: N instances``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping

from .report import INFO, Row, ms, percentile, unavailable, verdict
from .report import median as med
from .sandbox import REPO, Sandbox, check_interrupted

SECTION = "status"
TCLAUDE = os.path.join(REPO, ".venv", "bin", "tclaude")
FOCUS = os.path.join(REPO, "tmux", "scripts", "focus.sh")
PLUGIN = os.path.join(REPO, "tmux", "tclaude.tmux")
SESSION = "tclaude"  # where `tclaude new` outside tmux puts instances

HOOK_TARGET = 20e-3
SWITCH_TARGET = 20e-3
PICK_TARGET = 150e-3
INSTANCES = 3
HOOK_EVENTS = 60
RELAY_RUNS = 20
SWITCHES = 40
PICKS = 15
HEADER = re.compile(rb"tclaude: \d+ instance")

WHAT_HOOK = "hook fired → @tclaude-state visible in tmux (http hook)"
WATCH_EVENTS = 60
WHAT_WATCH = "hook fired → tclaude watch --json prints the state event"
WHAT_RELAY = "SessionStart command hook (python -S hook_relay.py) → state visible"
WHAT_FOCUS = "switch through a tmux binding: focus.sh next, until the pane is active"
WHAT_KEY = "switch through a tmux binding: key C-b C-j → window changed"
WHAT_PICK = "picker (tclaude pick) first paint"


class StatusBenchError(Exception):
    pass


def run(box: Sandbox, log: Callable[[str], None]) -> list[Row]:
    bench = _StatusBench(box, log)
    try:
        bench.setup()
    except (StatusBenchError, OSError, subprocess.SubprocessError, ValueError) as exc:
        bench.close()
        reason = str(exc)
        return [
            unavailable(SECTION, WHAT_HOOK, reason, "< 20 ms"),
            unavailable(SECTION, WHAT_WATCH, reason, "a few ms"),
            unavailable(SECTION, WHAT_RELAY, reason),
            unavailable(SECTION, WHAT_FOCUS, reason, "< 20 ms"),
            unavailable(SECTION, WHAT_KEY, reason, "< 20 ms"),
            unavailable(SECTION, WHAT_PICK, reason, "< 150 ms"),
        ]
    rows: list[Row] = []
    try:
        for step in (bench.hooks, bench.watch, bench.relay, bench.focus, bench.key, bench.pick):
            check_interrupted()
            rows.append(step())
    finally:
        bench.close()
    return rows


class Control:
    """A tmux control-mode client (``tmux -C attach``): commands and timed notifications."""

    def __init__(self, box: Sandbox, session: str) -> None:
        self.proc = subprocess.Popen(
            ["tmux", "-L", box.tmux_socket, "-C", "attach-session", "-t", session],
            env=box.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        box.procs.append(self.proc)
        self.lines: list[tuple[float, bytes]] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            now = time.perf_counter()
            with self.cond:
                self.lines.append((now, line.rstrip(b"\n")))
                self.cond.notify_all()

    def mark(self) -> int:
        with self.cond:
            return len(self.lines)

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command.encode() + b"\n")
        self.proc.stdin.flush()

    def wait(
        self, start: int, match: Callable[[bytes], bool], timeout: float = 5.0
    ) -> tuple[int, float, bytes]:
        """The first line from index ``start`` on that ``match``es: index, arrival, line."""
        deadline = time.monotonic() + timeout
        with self.cond:
            index = start
            while True:
                while index < len(self.lines):
                    when, line = self.lines[index]
                    if match(line):
                        return index, when, line
                    index += 1
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StatusBenchError("tmux control client: nothing matched in time")
                self.cond.wait(left)

    def command(self, command: str) -> list[bytes]:
        """Run one command; the lines of its answer (between %begin and %end)."""
        start = self.mark()
        self.send(command)
        index, _, _ = self.wait(start, lambda line: line.startswith(b"%begin"))
        out: list[bytes] = []
        while True:
            index, _, line = self.wait(index + 1, lambda _line: True)
            if line.startswith(b"%end"):
                return out
            if line.startswith(b"%error"):
                raise StatusBenchError(f"tmux: {command}: {b' '.join(out)!r}")
            out.append(line)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(2)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class _StatusBench:
    def __init__(self, box: Sandbox, log: Callable[[str], None]) -> None:
        self.box = box
        self.log = log
        self.instances: list[dict[str, object]] = []
        self.control: Control | None = None
        self.client: subprocess.Popen[bytes] | None = None
        self.pty: int | None = None
        self.client_name = ""
        self.env = dict(box.env)  # no tmux shim here: the hosts' tmux calls are measured

    # -- setup

    def tmux(self, *args: str, check: bool = True) -> str:
        return self.box.tmux(*args, check=check).stdout

    def setup(self) -> None:
        if not os.path.exists(TCLAUDE):
            raise StatusBenchError(f"no {TCLAUDE}")
        # a session of its own: after the cli section the server and its "bench" session exist
        self.tmux(
            "-f", "/dev/null", "new-session", "-d", "-s", "bench-status", "-x", "200", "-y", "50"
        )
        self.log(f"status: {INSTANCES} instances (tclaude new --detached)")
        for n in range(INSTANCES):
            cwd = os.path.join(self.box.work, f"st{n}")
            os.makedirs(cwd, exist_ok=True)
            out = self._tclaude("new", "--detached", "--json", "--name", f"st{n}", "--cwd", cwd)
            self.instances.append(json.loads(out))
        self.control = Control(self.box, SESSION)
        self.control.command("display-message -p ok")

    def _tclaude(self, *args: str) -> str:
        proc = subprocess.run(
            [TCLAUDE, *args],
            env=self.env,
            cwd=self.box.work,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
        if proc.returncode != 0:
            last = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
            raise StatusBenchError(f"tclaude {args[0]} failed: {' '.join(last)}")
        return proc.stdout

    def _settings(self, instance: dict[str, object]) -> dict[str, object]:
        path = os.path.join(self.box.runtime, f"{instance['id']}.settings.json")
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        assert isinstance(data, dict)
        return data

    def _state(self, pane: str) -> str:
        return self.tmux("display-message", "-p", "-t", pane, "#{@tclaude-state}").strip()

    def _waiter(self, channel: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            ["tmux", "-L", self.box.tmux_socket, "wait-for", channel],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _drain(self, channel: str) -> None:
        """Take a signal nobody waited for (tmux keeps one), so the next wait blocks.

        Not with ``wait-for -S``: a second signal on a woken channel clears it."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(
                ["tmux", "-L", self.box.tmux_socket, "wait-for", channel],
                env=self.env,
                capture_output=True,
                timeout=0.3,
                check=False,
            )

    # -- hook → state

    def hooks(self) -> Row:
        instance = self.instances[0]
        pane, channel = str(instance["pane"]), f"tclaude-{instance['id']}"
        try:
            hooks = self._settings(instance)["hooks"]
            assert isinstance(hooks, dict)
            url = hooks["UserPromptSubmit"][0]["hooks"][0]["url"]
        except (OSError, ValueError, KeyError, IndexError, AssertionError) as exc:
            return unavailable(SECTION, WHAT_HOOK, f"no hook URL: {exc}", "< 20 ms")
        self.log(f"status: {HOOK_EVENTS} hook events (UserPromptSubmit / Stop, alternating)")
        self._drain(channel)
        visible: list[float] = []
        answered: list[float] = []
        wrong = 0
        for n in range(HOOK_EVENTS):
            check_interrupted()
            event, expected = ("UserPromptSubmit", "busy") if n % 2 == 0 else ("Stop", "idle")
            body = {"hook_event_name": event, "session_id": "bench", "cwd": self.box.work}
            if event == "UserPromptSubmit":
                body["prompt"] = "bench"
            waiter = self._waiter(channel)
            time.sleep(0.015)  # the waiter is registered with the server by now
            t0 = time.perf_counter()
            _post(str(url), body)
            answered.append(time.perf_counter() - t0)
            waiter.wait(5)
            visible.append(time.perf_counter() - t0)
            if self._state(pane) != expected:
                wrong += 1
        m = med(visible)
        return Row(
            SECTION,
            WHAT_HOOK,
            ms(m),
            "< 20 ms",
            verdict(m, HOOK_TARGET) if not wrong else "over",
            f"median of {len(visible)}, p90 {ms(percentile(visible, 90))}, "
            f"min {ms(min(visible))}; the POST answered in {ms(med(answered), 2)}"
            + (f"; {wrong} showed the wrong state" if wrong else ""),
            m * 1000,
            "ms",
            {"seconds": visible, "answered": answered, "wrong": wrong},
        )

    def watch(self) -> Row:
        instance = self.instances[2]
        try:
            hooks = self._settings(instance)["hooks"]
            assert isinstance(hooks, dict)
            url = hooks["UserPromptSubmit"][0]["hooks"][0]["url"]
        except (OSError, ValueError, KeyError, IndexError, AssertionError) as exc:
            return unavailable(SECTION, WHAT_WATCH, f"no hook URL: {exc}", "a few ms")
        self.log(f"status: {WATCH_EVENTS} hook events read back from tclaude watch --json")
        watcher = subprocess.Popen(
            [TCLAUDE, "watch", "--json"],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert watcher.stdout is not None
        seen: list[float] = []
        answered: list[float] = []
        try:
            while (
                json.loads(watcher.stdout.readline() or b'{"type": "synced"}')["type"] != "synced"
            ):
                pass
            for n in range(WATCH_EVENTS):
                check_interrupted()
                event, expected = ("UserPromptSubmit", "busy") if n % 2 == 0 else ("Stop", "idle")
                body = {"hook_event_name": event, "session_id": "bench", "cwd": self.box.work}
                # as in hooks(): let the host finish the previous event's tmux call (its
                # spawn holds the host's loop), else the POST measures that
                time.sleep(0.015)
                t0 = time.perf_counter()
                _post(str(url), body)
                answered.append(time.perf_counter() - t0)
                while True:
                    line = watcher.stdout.readline()
                    if not line:
                        raise StatusBenchError("tclaude watch ended")
                    data = json.loads(line)
                    if data.get("id") == instance["id"] and data.get("state") == expected:
                        break
                seen.append(time.perf_counter() - t0)
        except StatusBenchError as exc:
            return unavailable(SECTION, WHAT_WATCH, str(exc), "a few ms")
        finally:
            self.box.stop(watcher)
        m = med(seen)
        return Row(
            SECTION,
            WHAT_WATCH,
            ms(m),
            "a few ms",
            INFO,
            f"median of {len(seen)}, p90 {ms(percentile(seen, 90))}, min {ms(min(seen))}; "
            f"the POST answered in {ms(med(answered), 2)}",
            m * 1000,
            "ms",
            {"seconds": seen, "answered": answered},
        )

    def relay(self) -> Row:
        instance = self.instances[1]
        pane, channel = str(instance["pane"]), f"tclaude-{instance['id']}"
        try:
            hooks = self._settings(instance)["hooks"]
            assert isinstance(hooks, dict)
            command = hooks["SessionStart"][0]["hooks"][0]["command"]
            url = hooks["UserPromptSubmit"][0]["hooks"][0]["url"]
        except (OSError, ValueError, KeyError, IndexError, AssertionError) as exc:
            return unavailable(SECTION, WHAT_RELAY, f"no SessionStart hook: {exc}")
        argv = shlex.split(str(command))
        self.log(f"status: {RELAY_RUNS} SessionStart relays")
        self._drain(channel)
        runs: list[float] = []
        visible: list[float] = []
        wrong = 0
        for n in range(RELAY_RUNS):
            check_interrupted()
            waiter = self._waiter(channel)  # back to busy first, so SessionStart changes it
            _post(str(url), {"hook_event_name": "UserPromptSubmit", "session_id": "b"})
            waiter.wait(5)
            body = json.dumps(
                {"hook_event_name": "SessionStart", "session_id": f"bench-{n}", "source": "startup"}
            ).encode()
            waiter = self._waiter(channel)
            time.sleep(0.015)
            t0 = time.perf_counter()
            subprocess.run(argv, input=body, env=self.env, check=False, capture_output=True)
            runs.append(time.perf_counter() - t0)
            waiter.wait(5)
            visible.append(time.perf_counter() - t0)
            if self._state(pane) != "idle":
                wrong += 1
        m = med(visible)
        return Row(
            SECTION,
            WHAT_RELAY,
            ms(m),
            "",
            "—" if not wrong else "over",
            f"median of {len(visible)}; the relay process itself (spawn → exit): "
            f"{ms(med(runs))} (p90 {ms(percentile(runs, 90))})"
            + (f"; {wrong} showed the wrong state" if wrong else ""),
            m * 1000,
            "ms",
            {"seconds": visible, "relay": runs},
        )

    # -- switching through a binding

    def _attach(self) -> None:
        self.client, self.pty = self.box.attach_client(SESSION, self.env)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            names = self.tmux("list-clients", "-F", "#{client_name}\t#{client_control_mode}")
            for line in names.splitlines():
                name, _, control = line.partition("\t")
                if control != "1":
                    self.client_name = name
                    return
            time.sleep(0.02)
        raise StatusBenchError("the tmux client did not attach")

    def _client_pane(self) -> str:
        return self.tmux("display-message", "-p", "-c", self.client_name, "#{pane_id}").strip()

    def focus(self) -> Row:
        try:
            self._attach()
        except (OSError, subprocess.SubprocessError, StatusBenchError) as exc:
            return unavailable(SECTION, WHAT_FOCUS, f"no tmux client: {exc}", "< 20 ms")
        panes = [str(i["pane"]) for i in self.instances]
        fmt = "#{socket_path},#{pid},#{session_id}"
        tmux_var = self.tmux("display-message", "-p", "-t", panes[0], fmt).strip()
        path, pid, session_id = tmux_var.split(",")
        env = {**self.env, "TMUX": f"{path},{pid},{session_id.lstrip('$')}"}
        self.tmux("switch-client", "-c", self.client_name, "-t", panes[0])
        self.log(f"status: {SWITCHES} switches through focus.sh next")
        times: list[float] = []
        wrong = 0
        for _ in range(SWITCHES):
            check_interrupted()
            current = self._client_pane()
            expected = panes[(panes.index(current) + 1) % len(panes)] if current in panes else None
            t0 = time.perf_counter()
            subprocess.run(
                ["sh", FOCUS, "next", self.client_name, current],
                env=env,
                check=False,
                capture_output=True,
            )
            times.append(time.perf_counter() - t0)
            if self._client_pane() != expected:
                wrong += 1
        m = med(times)
        return Row(
            SECTION,
            WHAT_FOCUS,
            ms(m),
            "< 20 ms",
            verdict(m, SWITCH_TARGET) if not wrong else "over",
            f"median of {len(times)}, p90 {ms(percentile(times, 90))}; 2 tmux calls, no Python"
            + (f"; {wrong} landed on the wrong pane" if wrong else ""),
            m * 1000,
            "ms",
            {"seconds": times, "wrong": wrong},
        )

    def key(self) -> Row:
        if self.pty is None or self.control is None:
            return unavailable(SECTION, WHAT_KEY, "no tmux client", "< 20 ms")
        plugin = subprocess.run(
            ["tmux", "-L", self.box.tmux_socket, "set", "-g", "@tclaude-cmd", TCLAUDE, ";",
             "run-shell", PLUGIN],
            env=self.env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        if plugin.returncode != 0:
            return unavailable(SECTION, WHAT_KEY, f"plugin failed: {plugin.stderr.strip()}")
        panes = [str(i["pane"]) for i in self.instances]
        self.log(f"status: {SWITCHES} key presses C-b C-j on an attached client")
        times: list[float] = []
        wrong = 0
        for _ in range(SWITCHES):
            check_interrupted()
            current = self._client_pane()
            expected = panes[(panes.index(current) + 1) % len(panes)] if current in panes else None
            time.sleep(0.01)
            start = self.control.mark()
            t0 = time.perf_counter()
            os.write(self.pty, b"\x02\x0a")  # C-b C-j
            try:
                _, when, _ = self.control.wait(
                    start, lambda line: line.startswith(b"%session-window-changed")
                )
            except StatusBenchError:
                wrong += 1
                continue
            times.append(when - t0)
            time.sleep(0.02)  # focus.sh's last tmux call is done
            if self._client_pane() != expected:
                wrong += 1
        if not times:
            return unavailable(SECTION, WHAT_KEY, "no window change seen", "< 20 ms")
        m = med(times)
        return Row(
            SECTION,
            WHAT_KEY,
            ms(m),
            "< 20 ms",
            verdict(m, SWITCH_TARGET) if not wrong else "over",
            f"median of {len(times)}, p90 {ms(percentile(times, 90))}; tmux reads the key, "
            "run-shell starts sh focus.sh"
            + (f"; {wrong} landed on the wrong pane" if wrong else ""),
            m * 1000,
            "ms",
            {"seconds": times, "wrong": wrong},
        )

    # -- picker

    def pick(self) -> Row:
        if self.control is None:
            return unavailable(SECTION, WHAT_PICK, "no control client", "< 150 ms")
        self.log(f"status: {PICKS} picker starts (+1 unmeasured)")
        times: list[float] = []
        failed = ""
        for n in range(PICKS + 1):
            check_interrupted()
            start = self.control.mark()
            t0 = time.perf_counter()
            out = self.control.command(
                f"new-window -d -P -F '#{{pane_id}}' -t {SESSION}: {shlex.quote(TCLAUDE)} pick"
            )
            pane = out[0].decode().strip() if out else ""
            prefix = f"%output {pane} ".encode()

            def painted(line: bytes, prefix: bytes = prefix) -> bool:
                return line.startswith(prefix) and HEADER.search(line) is not None

            try:
                _, when, _ = self.control.wait(start, painted, timeout=10)
            except StatusBenchError:
                failed = "the header never appeared"
            finally:
                with contextlib.suppress(StatusBenchError):
                    self.control.command(f"kill-pane -t {pane}")
            if failed:
                break
            if n:
                times.append(when - t0)
        if not times:
            return unavailable(SECTION, WHAT_PICK, failed or "no runs", "< 150 ms")
        m = med(times)
        return Row(
            SECTION,
            WHAT_PICK,
            ms(m),
            "< 150 ms",
            verdict(m, PICK_TARGET),
            f"median of {len(times)}, p90 {ms(percentile(times, 90))}, min {ms(min(times))}; "
            f"new-window → header in the pane's output, {len(self.instances)} instances",
            m * 1000,
            "ms",
            {"seconds": times},
        )

    def close(self) -> None:
        if self.instances:
            with contextlib.suppress(StatusBenchError, subprocess.SubprocessError, OSError):
                self._tclaude("kill", "--all")
        if self.control is not None:
            self.control.close()
        if self.client is not None:
            self.box.stop(self.client)
        if self.pty is not None:
            with contextlib.suppress(OSError):
                os.close(self.pty)


def _post(url: str, body: Mapping[str, object]) -> None:
    """One hook POST as Claude Code sends it; returns once the host answered."""
    host_port, _, path = url.removeprefix("http://").partition("/")
    host, _, port = host_port.partition(":")
    data = json.dumps(body).encode()
    request = (
        f"POST /{path} HTTP/1.1\r\nHost: {host_port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    ).encode() + data
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(request)
        answer = conn.recv(256)
    if not answer.startswith(b"HTTP/1.1 200"):
        raise StatusBenchError(f"hook POST answered {answer[:40]!r}")
