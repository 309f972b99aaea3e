"""send / broadcast never type into a prompt or an instance that is not ready."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.cli.conftest import Tclaude

# a child that echoes each line it reads shows what was pasted and whether Enter came
ECHO = "sh -c 'while IFS= read -r line; do echo \"got:$line\"; done'"


def _screen(tclaude: Tclaude, pane: str) -> str:
    return tclaude.tmux("capture-pane", "-p", "-J", "-t", pane)


def _wait_screen(tclaude: Tclaude, pane: str, text: str) -> str:
    deadline = time.monotonic() + 15
    while text not in (screen := _screen(tclaude, pane)):
        assert time.monotonic() < deadline, screen
        time.sleep(0.05)
    return screen


def _new(tclaude: Tclaude, name: str, cwd: Path, state: str | None) -> str:
    out = tclaude.run(
        "new", "--name", name, "--cwd", str(cwd), "--detached", "--json",
        env={"TCLAUDE_CLAUDE_COMMAND": ECHO},
    ).stdout  # fmt: skip
    pane: str = json.loads(out)["pane"]
    if state is not None:  # what the host sets from claude's hooks
        tclaude.tmux("set-option", "-p", "-t", pane, "@tclaude-state", state)
    return pane


def test_send_refuses_a_waiting_or_starting_instance_unless_forced(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    waiting = _new(tclaude, "w", tmp_path, "waiting")
    starting = _new(tclaude, "s", tmp_path, None)
    for args in (["--text", "1", "--submit"], ["--text", "1"]):
        refused = tclaude.run("send", "w", *args, check=False)
        assert refused.returncode == 2
        assert refused.stderr.count("\n") == 1 and "Traceback" not in refused.stderr
        assert "'w' is waiting" in refused.stderr and "--force" in refused.stderr
        assert "nothing was typed" in refused.stderr
    early = tclaude.run("send", "s", "--text", "hi", "--submit", check=False)
    assert early.returncode == 2 and "'s' is starting (not ready" in early.stderr
    assert "tclaude wait s --state idle" in early.stderr
    # nothing reached either pane, nor is left in a tmux buffer: a forced marker comes after
    tclaude.run("send", "w", "--text", "marker", "--submit", "--force")
    screen = _wait_screen(tclaude, waiting, "got:marker")
    assert "1" not in screen.replace("got:marker", "")
    assert "hi" not in _screen(tclaude, starting)
    assert "tclaude-" not in tclaude.tmux("list-buffers", "-F", "#{buffer_name}")


def test_broadcast_skips_waiting_and_unready_instances_and_says_which(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    idle = _new(tclaude, "a", tmp_path, "idle")
    busy = _new(tclaude, "b", tmp_path, "busy")
    waiting = _new(tclaude, "w", tmp_path, "waiting")
    errored = _new(tclaude, "e", tmp_path, "error")
    out = tclaude.json("broadcast", "--text", "to all", "--submit")
    assert out == {"sent": ["a", "b"], "skipped": {"w": "waiting", "e": "error"}}
    _wait_screen(tclaude, idle, "got:to all")
    _wait_screen(tclaude, busy, "got:to all")
    human = tclaude.run("broadcast", "--text", "again").stdout.splitlines()
    assert human == [
        "sent to 2 instance(s)",
        "skipped (not ready, or a prompt is open; --force to type anyway): w (waiting), e (error)",
    ]
    for pane in (waiting, errored):
        tclaude.run("send", pane, "--text", "marker", "--submit", "--force")
        screen = _wait_screen(tclaude, pane, "got:marker")
        assert "to all" not in screen and "again" not in screen
