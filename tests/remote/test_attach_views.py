"""Local windows attached to one remote each show their own instance (new-user trial,
session 6): every attach is a view of its own on the remote."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.support.cli_runner import Tclaude
from tests.support.remotes import Machine, Remotes
from tests.support.terminal import Terminal


def _wait(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def _main(tclaude: Tclaude) -> dict[str, str]:
    """A local session "main"; the environment of a command run in its pane."""
    tclaude.tmux("new-session", "-d", "-s", "main", "-x", "120", "-y", "40")
    here = tclaude.tmux("display", "-p", "-t", "main", "#{pane_id}").strip()
    return {"TMUX": "/tmp/x,1,0", "TMUX_PANE": here}


def _remote_clients(machine: Machine) -> list[str]:
    """The instance window each client attached on ``machine`` shows."""
    return sorted(machine.tmux("list-clients", "-F", "#{window_name}").stdout.split())


def _local_windows(tclaude: Tclaude) -> list[str]:
    """The remote instances local windows are attached to."""
    return tclaude.tmux("list-windows", "-a", "-F", "#{@tclaude-remote}").split()


def test_each_window_of_a_remote_shows_its_own_instance(
    tclaude: Tclaude, remotes: Remotes, beta: Machine
) -> None:
    """switch beta:b1, beta:b2, beta:b1: the window beta:b1 showed b2, and typing went there."""
    for name in ("b1", "b2"):
        tclaude.run("new", "--on", "beta", "--name", name, "--detached")
    inside = _main(tclaude)
    tclaude.run("switch", "beta:b1", env=inside)
    _wait(lambda: _remote_clients(beta) == ["b1"], "no client on beta's b1")
    tclaude.run("switch", "beta:b2", env=inside)
    _wait(lambda: len(_remote_clients(beta)) == 2, "no second client on beta")
    tclaude.run("switch", "beta:b1", env=inside)
    assert _remote_clients(beta) == ["b1", "b2"], _remote_clients(beta)  # was b2, b2
    # what each local window shows: the remote's status line marks its current window
    for label, mine, other in (("beta:b1", "b1", "b2"), ("beta:b2", "b2", "b1")):
        pane = next(
            line.split("\t")[0]
            for line in tclaude.tmux(
                "list-panes", "-a", "-F", "#{pane_id}\t#{window_name}"
            ).splitlines()
            if line.split("\t")[1] == label
        )
        screen = tclaude.tmux("capture-pane", "-p", "-t", pane)
        assert f"{mine}*" in screen and f"{other}*" not in screen, (label, screen)
    # the remote lists each instance once, and its windows stayed where they were
    assert sorted(row["name"] for row in tclaude.json("list", "--on", "beta")) == ["b1", "b2"]


def test_killing_a_remote_instance_closes_its_window(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine
) -> None:
    """The window alpha:a2 stayed open, showing a1, and switch alpha:a1 opened a second."""
    for name in ("a1", "a2", "a3"):
        tclaude.run("new", "--on", "alpha", "--name", name, "--detached")
    inside = _main(tclaude)
    for name in ("a1", "a2", "a3"):
        tclaude.run("switch", f"alpha:{name}", env=inside)
    _wait(lambda: len(_remote_clients(alpha)) == 3, "not three clients on alpha")
    tclaude.run("kill", "alpha:a2")
    _wait(lambda: "alpha:a2" not in _local_windows(tclaude), "the window alpha:a2 stayed")
    # killed there, not through tclaude here: the same
    window = alpha.tmux("list-windows", "-a", "-F", "#{window_id}\t#{window_name}").stdout
    a3 = next(line.split("\t")[0] for line in window.splitlines() if line.endswith("\ta3"))
    alpha.tmux("kill-window", "-t", a3)
    _wait(lambda: "alpha:a3" not in _local_windows(tclaude), "the window alpha:a3 stayed")
    assert _local_windows(tclaude) == ["alpha:a1"]
    assert _remote_clients(alpha) == ["a1"]
    tclaude.run("switch", "alpha:a1", env=inside)
    assert _local_windows(tclaude) == ["alpha:a1"]
    # no view was left behind there
    _wait(
        lambda: len(alpha.tmux("list-sessions").stdout.splitlines()) == 2,
        f"views left on alpha: {alpha.tmux('list-sessions').stdout}",
    )


def test_switch_for_a_client_in_another_session_keeps_it_there(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine
) -> None:
    """C2, in session "second", was moved into "main", where it shared main's current
    window with C1."""
    tclaude.run("new", "--on", "alpha", "--name", "a5", "--detached")
    _main(tclaude)
    tclaude.tmux("new-session", "-d", "-s", "second", "-x", "120", "-y", "40")
    terminals = [
        Terminal(["env", "-u", "TMUX", "tmux", "-L", tclaude.socket, "attach", "-t", session])
        for session in ("main", "second")
    ]
    try:
        _wait(lambda: len(_clients(tclaude)) == 2, "two local clients")
        by_session = {session: name for name, session, _ in _clients(tclaude)}
        tclaude.run("switch", "alpha:a5", "--client", by_session["main"])
        tclaude.run("switch", "alpha:a5", "--client", by_session["second"])
        assert sorted((s, w) for _, s, w in _clients(tclaude)) == [
            ("main", "alpha:a5"),
            ("second", "alpha:a5"),
        ], _clients(tclaude)
        # one window (one ssh), in both sessions
        ids = tclaude.tmux("list-windows", "-a", "-F", "#{window_id}\t#{window_name}")
        assert len({line for line in ids.splitlines() if line.endswith("\talpha:a5")}) == 1
        tclaude.run("switch", "alpha:a5", "--client", by_session["main"])  # again: stays
        assert sorted(s for _, s, _ in _clients(tclaude)) == ["main", "second"]
    finally:
        for terminal in terminals:
            terminal.close()


def _clients(tclaude: Tclaude) -> list[tuple[str, str, str]]:
    """Each local client: its name, its session, the window it shows."""
    out = tclaude.tmux(
        "list-clients", "-F", "#{client_name}\t#{session_name}\t#{window_name}", check=False
    )
    return [tuple(line.split("\t")) for line in out.splitlines()]  # type: ignore[misc]
