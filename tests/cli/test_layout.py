"""`tclaude layout`: order kept both ways; one session's instances; beside pairs kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import Tclaude


def _new_parallel(names: list[str], cwd: Path) -> None:
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tmuxclaude",
                "new",
                "--detached",
                "--name",
                n,
                "--cwd",
                str(cwd),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in names
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err


def _pane_names(tclaude: Tclaude, target: str) -> list[str]:
    return tclaude.tmux("list-panes", "-t", target, "-F", "#{@tclaude-name}").splitlines()


def _window_names(tclaude: Tclaude, session: str) -> list[str]:
    return tclaude.tmux("list-windows", "-t", session, "-F", "#{window_name}").split()


def test_layout_split_and_back_keeps_the_order(tclaude: Tclaude, tmp_path: Path) -> None:
    names = [f"p{n}" for n in range(1, 7)]
    for name in names:  # one after another: windows in this order
        tclaude.run("new", "--detached", "--name", name, "--cwd", str(tmp_path))
    assert _window_names(tclaude, "tclaude") == names
    tclaude.run("layout", "split")
    assert _pane_names(tclaude, "tclaude:tclaude") == names
    assert [i["name"] for i in tclaude.json("list")] == names
    tclaude.run("layout", "tabbed")
    assert _window_names(tclaude, "tclaude") == names
    assert [i["name"] for i in tclaude.json("list")] == names


def test_layout_split_leaves_other_sessions_and_beside_pairs(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    _new_parallel(["a", "b"], tmp_path)
    tclaude.tmux("new-session", "-d", "-s", "work", "-x", "200", "-y", "50")
    editor = tclaude.tmux("display-message", "-p", "-t", "work:0", "#{pane_id}").strip()
    tclaude.run("new", "--detached", "--name", "ed", "--cwd", str(tmp_path), "--beside", editor)
    tclaude.run("new", "--detached", "--name", "w1", "--cwd", str(tmp_path))
    tclaude.tmux("move-window", "-s", "tclaude:w1", "-t", "work:1")
    where = {i["name"]: i["window"] for i in tclaude.json("list")}

    out = tclaude.run("layout", "split").stdout  # outside tmux: the configured session
    assert "2 instance(s) arranged split" in out
    after = {i["name"]: (i["session"], i["window"]) for i in tclaude.json("list")}
    assert after["a"] == after["b"] and after["a"][0] == "tclaude"
    assert after["ed"] == ("work", where["ed"])
    assert after["w1"] == ("work", where["w1"])
    assert _pane_names(tclaude, editor) == ["", "ed"]  # still beside its editor

    out = tclaude.run("layout", "split", "--session", "work").stdout
    assert "1 instance(s) arranged split; 1 beside an editor left in place" in out
    tclaude.run("layout", "tabbed", "--session", "work")
    tclaude.run("layout", "tabbed")
    final = {i["name"]: (i["session"], i["window"], i["layout"]) for i in tclaude.json("list")}
    assert final["ed"] == ("work", where["ed"], "beside")
    assert final["w1"][:2] == ("work", where["w1"])
    assert {final["a"][0], final["b"][0]} == {"tclaude"}
    assert final["a"][1] != final["b"][1]
    assert _pane_names(tclaude, editor) == ["", "ed"]

    empty = tclaude.run("layout", "split", "--session", "nowhere", check=False)
    assert empty.returncode != 0
    assert empty.stderr.count("\n") == 1 and "no running instances" in empty.stderr
