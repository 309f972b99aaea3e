"""Small things a user meets every day: kill with nothing to kill, list's words."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Tclaude


def _listed_state(tclaude: Tclaude, name: str) -> str:
    for line in tclaude.run("list").stdout.splitlines():
        words = line.lstrip("* ").split()
        if words[0] == name:
            return words[2]  # NAME ID STATE
    raise AssertionError(f"{name} not listed")


def test_kill_all_with_nothing_to_kill_says_so(tclaude: Tclaude) -> None:
    out = tclaude.run("kill", "--all")
    assert out.stdout == "no instances to kill\n" and out.stderr == ""


def test_list_calls_a_finished_unseen_instance_done(tclaude: Tclaude, tmp_path: Path) -> None:
    pane = tclaude.json("new", "--name", "api", "--cwd", str(tmp_path), "--detached")["pane"]
    tclaude.run("wait", "api", "--state", "idle", "--timeout", "30")
    tclaude.tmux("set-option", "-p", "-t", pane, "@tclaude-unseen", "1")
    assert _listed_state(tclaude, "api") == "done"
    assert tclaude.json("list")[0]["state"] == "idle"  # JSON: the host's state, and
    assert tclaude.json("list")[0]["unseen"] is True  # unseen says done
    tclaude.tmux("set-option", "-pu", "-t", pane, "@tclaude-unseen")
    assert _listed_state(tclaude, "api") == "idle"
