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


def _active_name(tclaude: Tclaude) -> str:
    return str(next(i["name"] for i in tclaude.json("list") if i["active"]))


def test_switch_waiting_and_done_from_the_command_line(tclaude: Tclaude, tmp_path: Path) -> None:
    panes = {}
    for name in ("a", "b", "c"):
        panes[name] = tclaude.json("new", "--name", name, "--cwd", str(tmp_path), "--detached")[
            "pane"
        ]
    for name in panes:
        tclaude.run("wait", name, "--state", "idle", "--timeout", "30")
    none = tclaude.run("switch", "--waiting", check=False)
    assert none.returncode == 2 and none.stderr == "tclaude: no instance is waiting for input\n"
    for name in ("b", "c"):
        tclaude.tmux("set-option", "-p", "-t", panes[name], "@tclaude-state", "waiting")
    tclaude.run("switch", "a")
    tclaude.run("switch", "--waiting")
    assert _active_name(tclaude) == "b"
    tclaude.run("switch", "--waiting")  # the next one after b
    assert _active_name(tclaude) == "c"
    tclaude.run("switch", "--waiting")  # cycling
    assert _active_name(tclaude) == "b"

    for name, since in (("a", 100), ("c", 200)):
        tclaude.tmux("set-option", "-p", "-t", panes[name], "@tclaude-state", "idle")
        tclaude.tmux("set-option", "-p", "-t", panes[name], "@tclaude-state-since", str(since))
        tclaude.tmux("set-option", "-p", "-t", panes[name], "@tclaude-unseen", "1")
    tclaude.run("switch", "--done")
    assert _active_name(tclaude) == "c"  # the latest to finish
    tclaude.run("switch", "--done")
    assert _active_name(tclaude) == "a"
    none = tclaude.run("switch", "--done", check=False)
    assert none.returncode == 2 and none.stderr == "tclaude: no finished instance left unseen\n"
    both = tclaude.run("switch", "a", "--done", check=False)
    assert both.returncode == 2 and "--waiting or --done" in both.stderr


def test_new_reuse_and_bare_tclaude_racing_make_one_instance(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    import json
    import subprocess
    import sys

    project = tmp_path / "proj"
    project.mkdir()
    base = [sys.executable, "-m", "tmuxclaude"]
    argvs = [[*base, "new", "--reuse", "--json", "--detached", "--cwd", str(project)]] * 3
    argvs.append(base)  # bare tclaude, in the directory
    procs = [
        subprocess.Popen(
            argv,
            cwd=project,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    outputs = [p.communicate(timeout=90) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outputs]
    listed = tclaude.json("list")
    assert [i["name"] for i in listed] == ["proj"]
    reports = [json.loads(out) for out, _ in outputs[:3]]
    assert {r["id"] for r in reports} == {listed[0]["id"]}
    created = sum(not r["reused"] for r in reports) + ("proj started in" in outputs[3][0])
    assert created == 1
    again = tclaude.run("new", "--reuse", "--detached", "--cwd", str(project / ".")).stdout
    assert again.startswith("reused proj ")
    refused = tclaude.run("new", "--reuse", "--worktree", "x", check=False)
    assert refused.returncode == 2 and "--worktree" in refused.stderr


def test_rename_changes_state_file_pane_and_window(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    import json

    for name in ("api", "docs"):
        tclaude.run("new", "--name", name, "--cwd", str(tmp_path), "--detached")
    out = tclaude.run("rename", "api", "backend")
    assert out.stdout == "renamed api to backend\n"
    listed = tclaude.json("list")
    assert [i["name"] for i in listed] == ["backend", "docs"]
    windows = tclaude.tmux("list-windows", "-t", "tclaude", "-F", "#{window_name}").split()
    assert windows == ["backend", "docs"]
    state = json.loads((Path(isolated_env["TCLAUDE_STATE_DIR"]) / "instances.json").read_text())
    assert sorted(e["name"] for e in state["instances"].values()) == ["backend", "docs"]
    tclaude.run("switch", "backend")  # the new name is a target
    for bad, why in (
        (("backend", "docs"), "an instance named 'docs' exists already"),
        (("backend", "a b"), "bad instance name 'a b'"),
        (("nope", "x"), "no instance 'nope'"),
    ):
        refused = tclaude.run("rename", *bad, check=False)
        assert refused.returncode == 2 and why in refused.stderr
        assert refused.stderr.count("\n") == 1
