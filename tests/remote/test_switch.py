"""Switching to a remote instance: a local tmux window attached to it over ssh."""

from __future__ import annotations

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
