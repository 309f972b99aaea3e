"""Isolation for a benchmark run, and the cleanup that must happen whatever.

One ``Sandbox`` per run: a short temp root (unix socket paths stay well
under the 108-byte limit) holding HOME, CLAUDE_CONFIG_DIR, the runtime and
state dirs, TMUX_TMPDIR and a private tmux socket name. Every process the
run starts gets ``TCLAUDE_BENCH_RUN=<token>`` in its environment and its own
session, so ``close`` can find and stop all of them — tmux panes included,
even after Ctrl-C.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Sequence

import psutil  # type: ignore[import-untyped,unused-ignore]

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PYTHON = os.path.join(REPO, ".venv", "bin", "python")
if not os.path.exists(PYTHON):
    PYTHON = sys.executable
TOKEN_VAR = "TCLAUDE_BENCH_RUN"
# The claude child: a process that only waits. Through sh, so that the arguments the host
# adds (--settings FILE for the status hooks, the user's claude args) are ignored.
CLAUDE_STANDIN = "sh -c 'exec sleep 100000' claude"


class Interrupted:
    """Set by the signal handler: steps that catch errors must still stop on Ctrl-C."""

    flag = False


def check_interrupted() -> None:
    if Interrupted.flag:
        raise KeyboardInterrupt


# Environment a run never inherits: it would leak the user's tmux, Claude or tclaude setup in.
_DROP_PREFIXES = ("TCLAUDE_", "CLAUDE_", "TMUX")
_DROP = {
    "CLAUDECODE",
    "XDG_RUNTIME_DIR",
    "XDG_STATE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONPYCACHEPREFIX",
}


class Sandbox:
    """Temp dirs, environment, spawned processes and the private tmux server of one run."""

    def __init__(self, claude_command: str = CLAUDE_STANDIN) -> None:
        self.root = tempfile.mkdtemp(prefix="tcb-", dir="/tmp" if os.path.isdir("/tmp") else None)
        self.token = secrets.token_hex(8)
        self.tmux_socket = f"bench-{os.getpid()}"
        self.home = self._dir("h")
        self.config = self._dir("c")  # CLAUDE_CONFIG_DIR; lock files in ./ide
        self.runtime = self._dir("r")
        self.state = self._dir("s")
        self.tmux_tmpdir = self._dir("t")
        self.work = self._dir("w")  # cwd of the instances
        self.procs: list[subprocess.Popen[bytes]] = []
        self.tmux_started = False
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(_DROP_PREFIXES) and k not in _DROP
        }
        env.update(
            HOME=self.home,
            CLAUDE_CONFIG_DIR=self.config,
            TCLAUDE_RUNTIME_DIR=self.runtime,
            TCLAUDE_STATE_DIR=self.state,
            XDG_STATE_HOME=os.path.join(self.home, ".local", "state"),
            XDG_CONFIG_HOME=os.path.join(self.home, ".config"),
            XDG_CACHE_HOME=os.path.join(self.home, ".cache"),
            TMUX_TMPDIR=self.tmux_tmpdir,
            TCLAUDE_TMUX_SOCKET=self.tmux_socket,
            TCLAUDE_CLAUDE_COMMAND=claude_command,
            TCLAUDE_LOG_LEVEL="WARNING",
            # Bytecode as an installed package has it, without writing into the repo or
            # the venv: every .pyc goes to (and is read from) the sandbox. The first
            # start of each program compiles; the measured ones after it do not.
            PYTHONPYCACHEPREFIX=self._dir("pyc"),
        )
        env[TOKEN_VAR] = self.token
        self.env = env

    def _dir(self, name: str) -> str:
        path = os.path.join(self.root, name)
        os.makedirs(path, mode=0o700)
        return path

    def env_without_package_bytecode(self) -> dict[str, str]:
        """The environment of a dev shell with PYTHONDONTWRITEBYTECODE=1: stdlib and
        websockets from cached bytecode, tmuxclaude compiled at every start."""
        prefix = self.env["PYTHONPYCACHEPREFIX"]
        shutil.rmtree(prefix + os.path.join(REPO, "tmuxclaude"), ignore_errors=True)
        return {**self.env, "PYTHONDONTWRITEBYTECODE": "1"}

    def regular_install(self) -> str:
        """A venv where tmuxclaude is installed as a wheel would install it (a copy of the
        package in site-packages, no editable finder in ``site``); its python.

        The dependencies come from the project venv through a ``.pth`` line, which adds
        the directory to ``sys.path`` without running that venv's own ``.pth`` files
        (the editable finder among them). Made once per run.
        """
        venv = os.path.join(self.root, "venv")
        python = os.path.join(venv, "bin", "python")
        if os.path.exists(python):
            return python
        base = subprocess.run(
            [PYTHON, "-c", "import sys, sysconfig; print(sys._base_executable); "
             "print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, check=True,
        ).stdout.split("\n")  # fmt: skip
        subprocess.run([base[0], "-m", "venv", "--without-pip", venv], check=True)
        site = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        with open(os.path.join(site, "project-deps.pth"), "w", encoding="utf-8") as handle:
            handle.write(base[1].strip() + "\n")
        shutil.copytree(
            os.path.join(REPO, "tmuxclaude"),
            os.path.join(site, "tmuxclaude"),
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        script = os.path.join(venv, "bin", "tclaude")
        with open(script, "w", encoding="utf-8") as handle:  # what pip writes for the entry point
            handle.write(
                f"#!{python}\nimport re\nimport sys\nfrom tmuxclaude.cli import main\n"
                "if __name__ == '__main__':\n"
                "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
                "    sys.exit(main())\n"
            )
        os.chmod(script, 0o755)
        return python

    @property
    def lock_dir(self) -> str:
        return os.path.join(self.config, "ide")

    def spawn(
        self,
        argv: Sequence[str],
        env: dict[str, str] | None = None,
        **kwargs: object,
    ) -> subprocess.Popen[bytes]:
        """Start a process in a session of its own (Ctrl-C reaches only us) and track it."""
        proc = subprocess.Popen(  # type: ignore[call-overload]
            list(argv),
            env=env or self.env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            **kwargs,
        )
        self.procs.append(proc)
        assert isinstance(proc, subprocess.Popen)
        return proc

    def attach_client(
        self, session: str, env: dict[str, str]
    ) -> tuple[subprocess.Popen[bytes], int]:
        """A real tmux client attached on a pty (200x50), its output drained; (process, pty).

        The process is one of the run's (stopped on the way out); close the pty yourself.
        """
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        client = subprocess.Popen(
            ["tmux", "-L", self.tmux_socket, "attach-session", "-t", session],
            env={**env, "TERM": "xterm-256color"},
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        self.procs.append(client)
        os.close(slave)
        threading.Thread(target=_drain, args=(master,), daemon=True).start()
        return client, master

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run tmux against the run's private server (never the user's)."""
        self.tmux_started = True
        return subprocess.run(
            ["tmux", "-L", self.tmux_socket, *args],
            env=self.env,
            capture_output=True,
            text=True,
            check=check,
            stdin=subprocess.DEVNULL,
        )

    def stop(self, proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
        """SIGTERM the process, SIGKILL its whole group after ``grace`` seconds."""
        if proc.poll() is None:
            # the host alone, as `tclaude kill` does: it passes the signal on to its child
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait()
        _signal_group(proc.pid, signal.SIGKILL)  # stragglers of the group
        with contextlib.suppress(ValueError):
            self.procs.remove(proc)

    def leftovers(self) -> list[psutil.Process]:
        """Live processes carrying this run's token in their environment."""
        found = []
        me = os.getpid()
        for proc in psutil.process_iter(["pid"]):
            if proc.pid == me:
                continue
            try:
                if proc.environ().get(TOKEN_VAR) == self.token:
                    found.append(proc)
            except (psutil.Error, OSError):
                continue
        return found

    def close(self) -> list[str]:
        """Stop everything the run started and remove its files; what had to be killed."""
        killed: list[str] = []
        for proc in list(self.procs):
            with contextlib.suppress(Exception):
                self.stop(proc, grace=3.0)
        if self.tmux_started:
            with contextlib.suppress(Exception):
                self.tmux("kill-server", check=False)
        deadline = time.monotonic() + 3
        while (rest := self.leftovers()) and time.monotonic() < deadline:
            for straggler in rest:
                with contextlib.suppress(psutil.Error):
                    straggler.terminate()
            time.sleep(0.1)
        for straggler in self.leftovers():
            with contextlib.suppress(psutil.Error):
                killed.append(f"{straggler.pid} {' '.join(straggler.cmdline())}")
                straggler.kill()
        shutil.rmtree(self.root, ignore_errors=True)
        return killed


def _drain(fd: int) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 65536):
            pass


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)
