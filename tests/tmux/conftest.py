"""A private tmux server with the plugin sourced, instances, and a real attached client.

The client: a second private server ("outer") whose one pane runs
``tmux attach`` to the instances' server ("inner"); keys sent to the outer
pane reach the inner client as if typed, and the outer pane's screen is what
the user would see (popups, prompts and menus included).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import tmux_servers
from tests.support.cli_runner import Tclaude

PLUGIN = str(Path(__file__).resolve().parents[2] / "tmux" / "tclaude.tmux")
TCLAUDE_CMD = f"{sys.executable} -m tmuxclaude"


def wait_for(check: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class Server:
    """The instances' tmux server, started with no configuration, plugin sourced."""

    tclaude: Tclaude
    root: Path

    def tmux(self, *args: str, check: bool = True) -> str:
        return self.tclaude.tmux(*args, check=check)

    def source(self) -> str:
        """Run the plugin as TPM would; its output (errors) is returned."""
        return self.tmux("run-shell", PLUGIN)

    def new(self, *names: str) -> dict[str, str]:
        """Start instances in parallel (fake claude), one directory each; name -> pane id."""
        procs = []
        for name in names:
            directory = self.root / name
            directory.mkdir(exist_ok=True)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "tmuxclaude",
                        "new",
                        "--detached",
                        "--name",
                        name,
                        "--cwd",
                        str(directory),
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        for proc in procs:
            _, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
        panes = self.panes()
        wait_for(
            lambda: all(s != "starting" for s in self.states().values()), what="instances ready"
        )
        return panes

    def panes(self) -> dict[str, str]:
        out = self.tmux(
            "list-panes", "-a", "-f", "#{@tclaude-port}", "-F", "#{@tclaude-name} #{pane_id}"
        )
        return dict(line.split(" ", 1) for line in out.splitlines())

    def order(self) -> list[str]:
        """Instance names in tclaude list order (session, window, pane)."""
        out = self.tmux("list-panes", "-a", "-f", "#{@tclaude-port}", "-F", "#{@tclaude-name}")
        return out.split()

    def states(self) -> dict[str, str]:
        out = self.tmux(
            "list-panes", "-a", "-f", "#{@tclaude-port}", "-F", "#{@tclaude-name} #{@tclaude-state}"
        )
        return dict(line.split(" ", 1) for line in out.splitlines())

    def option(self, pane: str, name: str) -> str:
        return self.tmux("display-message", "-p", "-t", pane, "#{" + name + "}").strip()

    def set_state(
        self, pane: str, state: str, since: int | None = None, unseen: bool = False
    ) -> None:
        since = int(time.time()) if since is None else since
        self.tmux(
            "set-option",
            "-p",
            "-t",
            pane,
            "@tclaude-state",
            state,
            ";",
            "set-option",
            "-p",
            "-t",
            pane,
            "@tclaude-state-since",
            str(since),
            ";",
            "set-option",
            "-p",
            "-t",
            pane,
            "@tclaude-unseen",
            "1" if unseen else "",
        )


@dataclass
class Client:
    """A real tmux client attached to the inner server, driven through the outer one."""

    server: Server
    outer: str

    def otmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.outer, *args], capture_output=True, text=True, check=True
        ).stdout

    def keys(self, *keys: str) -> None:
        self.otmux("send-keys", "-t", "o:0.0", *keys)

    def type(self, text: str) -> None:
        self.otmux("send-keys", "-t", "o:0.0", "-l", text)

    def screen(self) -> str:
        return self.otmux("capture-pane", "-p", "-t", "o:0.0")

    def pane(self) -> str:
        """The pane the client looks at."""
        return self.server.tmux("list-clients", "-F", "#{pane_id}").strip()

    def session(self) -> str:
        """The session the client is attached to."""
        return self.server.tmux("list-clients", "-F", "#{client_session}").strip()

    def wait_pane(self, pane: str, timeout: float = 10.0) -> None:
        wait_for(lambda: self.pane() == pane, timeout, f"client on {pane} (is {self.pane()})")

    def wait_screen(self, text: str, timeout: float = 10.0) -> str:
        screen = ""

        def shows() -> bool:
            nonlocal screen
            screen = self.screen()
            return text in screen

        try:
            wait_for(shows, timeout, repr(text))
        except AssertionError:
            raise AssertionError(f"{text!r} not on screen:\n{screen}") from None
        return screen


@pytest.fixture
def server(isolated_env: dict[str, str], tmp_path: Path) -> Iterator[Server]:
    socket = isolated_env["TCLAUDE_TMUX_SOCKET"]
    runner = Tclaude(socket)
    env = {**os.environ, "LANG": "C.UTF-8"}
    subprocess.run(
        [
            "tmux",
            "-L",
            socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            "160",
            "-y",
            "45",
        ],
        check=True,
        env=env,
    )
    runner.tmux("set-option", "-g", "@tclaude-cmd", TCLAUDE_CMD)
    yield Server(runner, tmp_path)
    runner.run("kill", "--all", check=False)
    tmux_servers.reap(runner.socket)


@pytest.fixture
def client(server: Server) -> Iterator[Client]:
    outer = server.tclaude.socket + "-outer"
    inner = f"env -u TMUX LANG=C.UTF-8 tmux -u -L {server.tclaude.socket} attach -t main"
    subprocess.run(
        [
            "tmux",
            "-L",
            outer,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "o",
            "-x",
            "150",
            "-y",
            "40",
            inner,
        ],
        check=True,
    )
    subprocess.run(["tmux", "-L", outer, "set-option", "-g", "status", "off"], check=True)
    attached = Client(server, outer)
    wait_for(
        lambda: bool(server.tmux("list-clients", "-F", "#{client_name}").strip()),
        what="the inner client",
    )
    yield attached
    tmux_servers.reap(outer)
