"""Each ``tclaude attach`` has its own view: terminals attached at once each show their
instance, whatever the others do (new-user trial, session 6)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.cli_runner import Tclaude
from tests.support.terminal import Terminal


@pytest.fixture
def terminals() -> Iterator[Callable[[list[str]], Terminal]]:
    opened: list[Terminal] = []

    def open_one(argv: list[str]) -> Terminal:
        opened.append(Terminal(argv))
        return opened[-1]

    yield open_one
    for terminal in opened:
        terminal.close()


def _wait(check: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _shown(tclaude: Tclaude) -> dict[str, tuple[str, str]]:
    """Each attached client's pid: the name of the instance window it shows, its session."""
    lines = tclaude.tmux("list-clients", "-F", "#{client_pid}\t#{window_name}\t#{session_name}")
    return {
        pid: (name, session)
        for pid, name, session in (ln.split("\t") for ln in lines.split("\n") if ln)
    }


def _attach(tclaude: Tclaude, terminals: Callable[[list[str]], Terminal], name: str) -> str:
    """Run ``tclaude attach NAME`` in a new terminal; the pid of its tmux client."""
    before = set(_shown(tclaude))
    terminals([sys.executable, "-m", "tmuxclaude", "attach", name])
    _wait(
        lambda: len(set(_shown(tclaude)) - before) == 1, f"tclaude attach {name} attached no client"
    )
    (pid,) = set(_shown(tclaude)) - before
    return pid


def _sessions(tclaude: Tclaude) -> list[str]:
    return tclaude.tmux("list-sessions", "-F", "#{session_name}", check=False).split()


def test_two_terminals_attached_each_show_their_own_instance(
    tclaude: Tclaude, tmp_path: Path, terminals: Callable[[list[str]], Terminal]
) -> None:
    for name in ("a", "b"):
        tclaude.run("new", "--name", name, "--cwd", str(tmp_path), "--detached")
    first = _attach(tclaude, terminals, "a")
    second = _attach(tclaude, terminals, "b")
    shown = _shown(tclaude)
    assert shown[first][0] == "a" and shown[second][0] == "b", shown  # both showed b
    # a switch for one client moves that client only
    tclaude.run("switch", "a", "--client", _client_name(tclaude, second))
    shown = _shown(tclaude)
    assert shown[first][0] == "a" and shown[second][0] == "a", shown
    tclaude.run("switch", "b", "--client", _client_name(tclaude, first))
    shown = _shown(tclaude)
    assert shown[first][0] == "b" and shown[second][0] == "a", shown
    # each client kept its own session, and the instances are listed once each
    assert len({session for _, session in shown.values()}) == 2, shown
    rows = tclaude.json("list")
    assert sorted(row["name"] for row in rows) == ["a", "b"], rows
    assert {row["session"] for row in rows} == {"tclaude"}, rows


def test_a_view_goes_when_its_terminal_does(
    tclaude: Tclaude, tmp_path: Path, terminals: Callable[[list[str]], Terminal]
) -> None:
    tclaude.run("new", "--name", "a", "--cwd", str(tmp_path), "--detached")
    pid = _attach(tclaude, terminals, "a")
    assert len(_sessions(tclaude)) == 2, _sessions(tclaude)
    os.kill(int(pid), 9)  # the terminal closed under it
    _wait(lambda: _sessions(tclaude) == ["tclaude"], f"a view was left: {_sessions(tclaude)}")
    assert [row["name"] for row in tclaude.json("list")] == ["a"]


def test_the_view_of_a_killed_instance_ends(
    tclaude: Tclaude, tmp_path: Path, terminals: Callable[[list[str]], Terminal]
) -> None:
    """A terminal attached to a2 showed a1 once a2 was killed."""
    for name in ("a1", "a2"):
        tclaude.run("new", "--name", name, "--cwd", str(tmp_path), "--detached")
    watching_a1 = _attach(tclaude, terminals, "a1")
    before = set(_shown(tclaude))
    terminal = terminals([sys.executable, "-m", "tmuxclaude", "attach", "a2"])
    _wait(lambda: len(set(_shown(tclaude)) - before) == 1, "tclaude attach a2 attached no client")
    tclaude.run("kill", "a2")
    terminal.proc.wait(timeout=30)  # the attach ended
    assert list(_shown(tclaude)) == [watching_a1]
    assert _shown(tclaude)[watching_a1][0] == "a1"  # killing another instance left it alone
    assert len(_sessions(tclaude)) == 2, _sessions(tclaude)


def _client_name(tclaude: Tclaude, pid: str) -> str:
    for line in tclaude.tmux("list-clients", "-F", "#{client_pid}\t#{client_name}").splitlines():
        if line.split("\t")[0] == pid:
            return line.split("\t")[1]
    raise AssertionError(f"no client {pid}")


def test_an_instance_started_while_a_view_is_attached_belongs_to_the_instances_session(
    tclaude: Tclaude, tmp_path: Path, terminals: Callable[[list[str]], Terminal]
) -> None:
    """tmux picked the view (the session active last) for the new pane: its name, gone
    with the view, was what restore would have made the instance in."""
    tclaude.run("new", "--name", "a", "--cwd", str(tmp_path), "--detached")
    _attach(tclaude, terminals, "a")
    tclaude.run("new", "--name", "b", "--cwd", str(tmp_path), "--detached")
    state = Path(os.environ["TCLAUDE_STATE_DIR"]) / "instances.json"
    entries = json.loads(state.read_text())["instances"].values()
    sessions = {entry["name"]: entry["session"] for entry in entries}
    assert sessions == {"a": "tclaude", "b": "tclaude"}, sessions
