"""Switching to a remote instance: a local tmux window attached to it over ssh."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.support.cli_runner import Tclaude
from tests.support.remotes import Machine, Remotes


def test_switch_opens_then_reuses_a_window_attached_to_the_remote_instance(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine
) -> None:
    tclaude.run("new", "--on", "alpha", "--name", "api", "--detached")
    tclaude.tmux("new-session", "-d", "-s", "main", "-x", "120", "-y", "40")
    here = tclaude.tmux("display", "-p", "-t", "main", "#{pane_id}").strip()
    inside = {"TMUX": "/tmp/x,1,0", "TMUX_PANE": here}  # as if run from that pane
    tclaude.run("switch", "alpha:api", env=inside)
    windows = tclaude.tmux("list-windows", "-a", "-F", "#{window_name}\t#{@tclaude-remote}")
    assert windows.splitlines().count("alpha:api\talpha:api") == 1
    deadline = time.monotonic() + 30
    while not alpha.tmux("list-clients", "-F", "#{window_name}").stdout.strip():
        assert time.monotonic() < deadline, "no tmux client attached on alpha"
        time.sleep(0.2)
    # the client that ssh runs there shows the instance's window
    assert alpha.tmux("list-clients", "-F", "#{window_name}").stdout.split() == ["api"]
    tclaude.run("switch", "alpha:api", env=inside)  # again: the same window, focused
    windows = tclaude.tmux("list-windows", "-a", "-F", "#{window_name}\t#{@tclaude-remote}")
    assert windows.splitlines().count("alpha:api\talpha:api") == 1
    active = tclaude.tmux("display", "-p", "-t", "main", "#{window_name}").strip()
    assert active == "alpha:api"


def test_switch_outside_tmux_points_to_attach(tclaude: Tclaude, remotes: Remotes) -> None:
    proc = tclaude.run("switch", "alpha:api", check=False)
    assert proc.returncode == 2 and "tclaude attach alpha:api" in proc.stderr


def test_a_remote_target_that_is_no_instance_runs_nothing_here(
    tclaude: Tclaude, remotes: Remotes, tmp_path: Path
) -> None:
    """``#(cmd)`` in a window name would run cmd in the local tmux: refused, one line."""
    tclaude.tmux("new-session", "-d", "-s", "main", "-x", "120", "-y", "40")
    here = tclaude.tmux("display", "-p", "-t", "main", "#{pane_id}").strip()
    inside = {"TMUX": "/tmp/x,1,0", "TMUX_PANE": here}
    marker = tmp_path / "ran"
    evil = f"#(touch {marker})x"
    for args in (["switch", f"alpha:{evil}"], ["switch", "--on", "alpha", evil]):
        proc = tclaude.run(*args, env=inside, check=False)
        assert proc.returncode == 2, (args, proc)
        assert "bad remote instance '#(touch" in proc.stderr, proc.stderr
        assert proc.stderr.count("\n") == 1, proc.stderr
    time.sleep(1)  # a #() job would have run by now (this only adds to the checks above)
    assert not marker.exists()
    windows = tclaude.tmux("list-windows", "-a", "-F", "#{window_name}")
    assert len(windows.splitlines()) == 1, windows  # main's window only
    for good in ("alpha:api", "alpha:%12", "alpha:0123abcd-ef"):
        assert "bad remote instance" not in tclaude.run("switch", good, env={}, check=False).stderr


def test_switch_to_a_remote_instance_that_is_not_there_is_one_line(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine
) -> None:
    """It exited 0 with a window that died at once (new-user trial)."""
    tclaude.tmux("new-session", "-d", "-s", "main", "-x", "120", "-y", "40")
    here = tclaude.tmux("display", "-p", "-t", "main", "#{pane_id}").strip()
    inside = {"TMUX": "/tmp/x,1,0", "TMUX_PANE": here}
    proc = tclaude.run("switch", "alpha:nope", env=inside, check=False)
    assert proc.returncode == 2, proc
    assert proc.stderr.startswith("tclaude: alpha: no instance 'nope'"), proc.stderr
    assert proc.stderr.count("\n") == 1
    windows = tclaude.tmux("list-windows", "-a", "-F", "#{window_name}")
    assert windows.split() == ["main"] or len(windows.splitlines()) == 1, windows


def test_attach_to_a_remote_without_running_instances_is_one_line_naming_it(
    tclaude: Tclaude, remotes: Remotes
) -> None:
    """It ran ssh -t, and the remote's own words came through: no remote named, no --on."""
    proc = tclaude.run("attach", "--on", "beta", check=False)
    assert proc.returncode == 2, proc
    assert proc.stderr == (
        "tclaude: beta: no running instances; start one with tclaude new --on beta,"
        " or tclaude restore --on beta\n"
    )


def _in_a_terminal(args: list[str], env: dict[str, str]) -> tuple[int, bytes]:
    """Run tclaude ARGS on a pty; its exit code and all it wrote to the terminal."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "tmuxclaude", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, **env},
        start_new_session=True,
    )
    os.close(slave)
    out = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            assert ready, "tclaude attach hung"
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: every writer closed the terminal
                break
            if not data:
                break
            out += data
        return proc.wait(timeout=30), out
    finally:
        proc.kill()
        proc.wait()
        os.close(master)


def test_a_remote_attach_that_fails_in_a_terminal_writes_only_the_failure(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine, isolated_env: dict[str, str]
) -> None:
    """ssh's "Shared connection to ... closed." came after the remote's words."""
    ssh_config = Path(isolated_env["HOME"]) / "ssh_config"  # a user's: no LogLevel in it
    ssh_config.write_text(remotes.ssh_config.read_text().replace("  LogLevel ERROR\n", ""))
    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config.write_text(
        f'remote_timeout = 30.0\n\n[remotes.alpha]\nssh = "alpha"\nssh_config = "{ssh_config}"\n'
    )
    tclaude.run("new", "--on", "alpha", "--name", "api", "--detached")
    # the remote's tmux refuses this terminal: the attach fails after ssh -t started
    code, out = _in_a_terminal(["attach", "alpha:api"], {"TERM": "dumb"})
    assert code != 0
    assert out == b"open terminal failed: terminal does not support clear\r\n", out


def test_an_attach_whose_link_drops_puts_the_terminal_right_and_says_so(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine
) -> None:
    """The remote tmux had set the alternate screen, keypad and reporting modes on the
    terminal and could not undo them: ssh ended silently and left them on."""
    from tmuxclaude.remote.attach import TERMINAL_RESET

    tclaude.run("new", "--on", "alpha", "--name", "api", "--detached")

    def cut_once_attached() -> None:
        deadline = time.monotonic() + 60
        while not alpha.tmux("list-clients").stdout.strip() and time.monotonic() < deadline:
            time.sleep(0.1)
        alpha.link_up(False)

    cutter = threading.Thread(target=cut_once_attached)
    cutter.start()
    try:
        code, out = _in_a_terminal(["attach", "alpha:api"], {"TERM": "xterm-256color"})
    finally:
        cutter.join()
        alpha.link_up(True)
    assert b"\x1b[?1049h" in out  # the remote tmux took the terminal
    assert code == 2, out[-300:]
    ending = TERMINAL_RESET.encode() + b"tclaude: remote alpha: the connection was lost\r\n"
    assert out.endswith(ending), out[-300:]


def test_one_window_per_remote_instance_however_it_is_named(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine
) -> None:
    """By id, name and pane id, switch opened three windows attached to one instance."""
    tclaude.run("new", "--on", "alpha", "--name", "a1", "--detached")
    (row,) = tclaude.json("list", "--on", "alpha")
    pane = alpha.tmux("list-panes", "-a", "-f", "#{@tclaude-port}", "-F", "#{pane_id}").stdout
    tclaude.tmux("new-session", "-d", "-s", "main", "-x", "120", "-y", "40")
    here = tclaude.tmux("display", "-p", "-t", "main", "#{pane_id}").strip()
    inside = {"TMUX": "/tmp/x,1,0", "TMUX_PANE": here}
    for target in (row["id"][:6], "a1", pane.strip()):
        tclaude.run("switch", f"alpha:{target}", env=inside)
        windows = tclaude.tmux("list-windows", "-a", "-F", "#{window_name}\t#{@tclaude-remote}")
        assert windows.splitlines()[1:] == ["alpha:a1\talpha:a1"], (target, windows)


def test_the_lost_connection_line_starts_on_a_line_of_its_own(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine
) -> None:
    """Resetting the scroll region after leaving the alternate screen moved the cursor
    home: the line overwrote the command line (new-user trial). A local tmux pane is the
    terminal, and its screen what the user reads."""
    tclaude.run("new", "--on", "alpha", "--name", "api", "--detached")
    tclaude.tmux("new-session", "-d", "-s", "term", "-x", "100", "-y", "30", "/bin/sh")
    pane = tclaude.tmux("display", "-p", "-t", "term", "#{pane_id}").strip()
    command = f"env -u TMUX {sys.executable} -m tmuxclaude attach alpha:api; echo rc=$?"
    tclaude.tmux("send-keys", "-t", pane, "-l", command)
    tclaude.tmux("send-keys", "-t", pane, "Enter")
    deadline = time.monotonic() + 60
    while not alpha.tmux("list-clients").stdout.strip():
        assert time.monotonic() < deadline, "no client attached on alpha"
        time.sleep(0.1)
    alpha.link_up(False)
    try:
        deadline = time.monotonic() + 120
        while "rc=" not in (screen := tclaude.tmux("capture-pane", "-p", "-J", "-t", pane)):
            assert time.monotonic() < deadline, screen
            time.sleep(0.2)
    finally:
        alpha.link_up(True)
    lines = screen.splitlines()
    typed = next((i for i, line in enumerate(lines) if line.endswith(command)), None)
    assert typed is not None, screen  # the command line is still there
    assert lines[typed + 1] == "tclaude: remote alpha: the connection was lost", screen
    assert lines[typed + 2] == "rc=2", screen
