"""tclaude restore after the tmux server went away (fake claude; real tmux)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import psutil

from tests.support.cli_runner import Tclaude
from tmuxclaude.transcript import project_dir


def _claude_argv(tclaude: Tclaude, name: str) -> list[str]:
    """The command line of the claude child an instance's host runs."""
    deadline = time.monotonic() + 10
    while True:
        status = tclaude.json("status", name)
        if status["claude_pid"]:
            argv: list[str] = psutil.Process(status["claude_pid"]).cmdline()
            return argv
        assert time.monotonic() < deadline, status
        time.sleep(0.1)


def _saved(env: dict[str, str]) -> dict[str, dict[str, object]]:
    state = json.loads((Path(env["TCLAUDE_STATE_DIR"]) / "instances.json").read_text())
    return {entry["name"]: entry for entry in state["instances"].values()}


def _wait_session_ids(env: dict[str, str], names: list[str]) -> dict[str, dict[str, object]]:
    deadline = time.monotonic() + 10
    while True:
        saved = _saved(env)
        if all(saved[n].get("session_id") for n in names):
            return saved
        assert time.monotonic() < deadline, saved
        time.sleep(0.05)


def _layout(tclaude: Tclaude) -> dict[str, str]:
    """instance name → window name."""
    return {
        i["name"]: tclaude.tmux("display", "-p", "-t", i["pane"], "#{window_name}").strip()
        for i in tclaude.json("list")
        if i["running"]
    }


def test_restore_brings_back_names_cwds_layouts_and_sessions(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    dirs = {}
    for name, layout in (
        ("a", "tabbed"),
        ("b", "tabbed"),
        ("c", "tabbed"),
        ("d", "split"),
        ("e", "split"),
    ):
        dirs[name] = tmp_path / name
        dirs[name].mkdir()
        tclaude.run(
            "new",
            "--name",
            name,
            "--cwd",
            str(dirs[name]),
            "--layout",
            layout,
            "--detached",
            "--",
            "--model",
            "sonnet",
        )
    before = _layout(tclaude)
    assert before == {"a": "a", "b": "b", "c": "c", "d": "tclaude", "e": "tclaude"}
    saved = _wait_session_ids(isolated_env, list(dirs))
    # a: its transcript is there → --resume; b: only another conversation → fresh, never
    # --continue (that one may be another instance's); c, d, e: nothing → fresh, same id
    conv_a = Path(project_dir(str(dirs["a"].resolve())))
    conv_a.mkdir(parents=True)
    (conv_a / f"{saved['a']['session_id']}.jsonl").write_text("{}\n")
    conv_b = Path(project_dir(str(dirs["b"].resolve())))
    conv_b.mkdir(parents=True)
    (conv_b / "older-session.jsonl").write_text("{}\n")

    tclaude.kill_server()
    listed = tclaude.json("list")
    assert {i["name"]: i["state"] for i in listed} == dict.fromkeys(dirs, "stopped")

    dry = json.loads(tclaude.run("restore", "--dry-run", "--json").stdout)
    plans = {p["name"]: p for p in dry["instances"]}
    assert {n: p["resume"] for n, p in plans.items()} == {
        "a": "resume",
        "b": "fresh",
        "c": "fresh",
        "d": "fresh",
        "e": "fresh",
    }
    assert "no transcript" in plans["c"]["reason"]
    assert {n: p["session_id"] for n, p in plans.items()} == {
        n: e["session_id"] for n, e in saved.items()
    }
    assert tclaude.json("list")[0]["state"] == "stopped"  # a dry run changes nothing

    out = tclaude.run("restore").stdout
    assert f"a: restored (resume) — session {saved['a']['session_id']}" in out
    assert "b: restored (fresh)" in out and "c: restored (fresh)" in out
    assert _layout(tclaude) == before
    listed = {i["name"]: i for i in tclaude.json("list")}
    assert {n: i["cwd"] for n, i in listed.items()} == {
        n: str(d.resolve()) for n, d in dirs.items()
    }
    assert {i["id"] for i in listed.values()} == {e["id"] for e in saved.values()}
    argv_a = _claude_argv(tclaude, "a")
    assert f"--resume={saved['a']['session_id']}" in argv_a
    assert "--model" in argv_a  # the instance's own claude arguments are kept
    argv_b = _claude_argv(tclaude, "b")
    assert "--continue" not in argv_b and f"--session-id={saved['b']['session_id']}" in argv_b
    argv_c = _claude_argv(tclaude, "c")
    assert not [a for a in argv_c if a.startswith(("--resume", "--continue"))]
    # the resumed session reports itself as resumed, with the same id
    deadline = time.monotonic() + 10
    while _saved(isolated_env)["a"].get("session_source") != "resume":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert _saved(isolated_env)["a"]["session_id"] == saved["a"]["session_id"]
    # the resume flags are not saved: the next restore decides again
    assert "--resume" not in str(_saved(isolated_env)["a"]["claude_args"])
    assert "--session-id" not in str(_saved(isolated_env)["b"]["claude_args"])

    again = tclaude.run("restore").stdout
    assert again.count("running already") == 5
    assert len(tclaude.json("list")) == 5


def test_restore_one_instance_by_name(tclaude: Tclaude, tmp_path: Path) -> None:
    for name in ("a", "b"):
        tclaude.run("new", "--name", name, "--cwd", str(tmp_path), "--detached")
    tclaude.kill_server()
    tclaude.run("restore", "b")
    states = {i["name"]: i["state"] for i in tclaude.json("list")}
    assert states["a"] == "stopped" and states["b"] != "stopped"
    unknown = tclaude.run("restore", "zzz", check=False)
    assert unknown.returncode == 2 and "known instances" in unknown.stderr


def test_vanished_directory_is_reported_not_crashed_on(tclaude: Tclaude, tmp_path: Path) -> None:
    gone, kept = tmp_path / "gone", tmp_path / "kept"
    gone.mkdir()
    kept.mkdir()
    tclaude.run("new", "--name", "gone", "--cwd", str(gone), "--detached")
    tclaude.run("new", "--name", "kept", "--cwd", str(kept), "--detached")
    tclaude.kill_server()
    shutil.rmtree(gone)
    out = tclaude.run("restore").stdout
    assert f"gone: skip — {gone.resolve()} is gone" in out
    assert "kept: restored" in out
    assert {i["name"]: i["state"] for i in tclaude.json("list")}["gone"] == "stopped"


def test_a_shell_left_by_resurrect_is_reused(tclaude: Tclaude, tmp_path: Path) -> None:
    tclaude.run("new", "--name", "api", "--cwd", str(tmp_path), "--detached")
    tclaude.kill_server()
    # what tmux-resurrect brings back: the window, its name and cwd, and a shell
    tclaude.tmux("new-session", "-d", "-s", "tclaude", "-n", "api", "-c", str(tmp_path), "sh")
    shell_pane = tclaude.tmux("display", "-p", "-t", "tclaude:api", "#{pane_id}").strip()
    deadline = time.monotonic() + 5
    while (
        tclaude.tmux("display", "-p", "-t", shell_pane, "#{pane_current_command}").strip() != "sh"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert tclaude.json("list")[0]["state"] == "stopped"  # a bare shell is not the instance
    out = tclaude.run("restore").stdout
    assert f"reusing the shell tmux-resurrect left in {shell_pane}" in out
    listed = tclaude.json("list")
    assert listed[0]["pane"] == shell_pane and listed[0]["state"] != "stopped"
    assert tclaude.tmux("list-windows", "-a").count("\n") == 1


def test_stale_files_of_dead_hosts_are_swept(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    data = tclaude.json("new", "--name", "api", "--cwd", str(tmp_path), "--detached")
    host = psutil.Process(data["pid"])
    host.kill()  # SIGKILL: the host cannot clean up
    host.wait(5)
    tclaude.kill_server()  # gone already if that was its last pane
    assert os.path.exists(data["lockfile"]) and os.path.exists(data["socket"])
    hook_url = Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / f"{data['id']}.hook-url"
    assert hook_url.exists()  # it holds the hook token: it must not outlive the host
    out = tclaude.run("restore").stdout
    # lock file, runtime record, socket, settings, hook URL
    assert "swept 5 stale file(s)" in out
    assert not os.path.exists(data["lockfile"])
    # the restored instance keeps its id, so its new host has the same socket path
    restored = tclaude.json("list")[0]
    assert restored["state"] != "stopped" and restored["pid"] != data["pid"]
    assert restored["socket"] == data["socket"] and restored["lockfile"] != data["lockfile"]
    record = json.loads(
        (Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / f"{data['id']}.json").read_text()
    )
    assert record["pid"] == restored["pid"]


def test_the_documented_tmux_conf_line_restores_at_server_start(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    tclaude.run("new", "--name", "api", "--cwd", str(tmp_path), "--detached")
    tclaude.kill_server()
    # docs/restore.md: run-shell -b 'tclaude restore >/dev/null 2>&1 || true'
    conf = tmp_path / "tmux.conf"
    conf.write_text(
        f"run-shell -b '{sys.executable} -m tmuxclaude restore >/dev/null 2>&1 || true'\n"
    )
    tclaude.tmux("-f", str(conf), "new-session", "-d", "-s", "work")
    deadline = time.monotonic() + 20
    while not any(i["running"] for i in tclaude.json("list")):
        assert time.monotonic() < deadline, tclaude.json("list")
        time.sleep(0.1)
    listed = tclaude.json("list")
    assert [(i["name"], i["session"]) for i in listed] == [("api", "tclaude")]


def test_restore_loads_the_tmux_plugin_again_when_it_was_loaded(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    plugin = str(Path(__file__).resolve().parents[2] / "tmux" / "tclaude.tmux")
    tclaude.run("new", "--name", "a", "--cwd", str(tmp_path), "--detached")
    assert tclaude.tmux("run-shell", plugin) == ""
    tclaude.run("new", "--name", "b", "--cwd", str(tmp_path), "--detached")
    marker = Path(isolated_env["TCLAUDE_STATE_DIR"]) / "tmux-plugin"
    assert marker.read_text() == plugin + "\n"
    assert marker.stat().st_mode & 0o777 == 0o600
    tclaude.kill_server()

    out = tclaude.run("restore").stdout
    assert f"loaded the tmux plugin again: {plugin}" in out
    assert tclaude.tmux("show-options", "-gqv", "@tclaude-plugin").strip() == plugin
    assert "tclaude pick" in tclaude.tmux("list-keys", "-T", "prefix")  # the keys are back
    assert "@tclaude-state" in tclaude.tmux("show-options", "-gv", "status-right")

    pane = next(i["pane"] for i in tclaude.json("list") if i["name"] == "a")
    tclaude.tmux("kill-pane", "-t", pane)
    deadline = time.monotonic() + 20
    while next(i["state"] for i in tclaude.json("list") if i["name"] == "a") != "stopped":
        assert time.monotonic() < deadline, "a did not stop"
        time.sleep(0.05)
    again = tclaude.run("restore").stdout  # the plugin is loaded: not again
    assert "a: restored" in again and "loaded the tmux plugin" not in again


def test_two_restores_at_once_start_each_instance_once(tclaude: Tclaude, tmp_path: Path) -> None:
    """Found by the new-user trial (session 6): two at once started each instance twice, and
    kill then left one copy running."""
    import subprocess

    for name in ("a", "b"):
        tclaude.run("new", "--name", name, "--cwd", str(tmp_path), "--detached")
    tclaude.kill_server()
    argv = [sys.executable, "-m", "tmuxclaude", "restore"]
    both = [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in "12"]
    for proc in both:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, (out, err)
    panes = tclaude.tmux("list-panes", "-a", "-F", "#{@tclaude-name}").split()
    assert sorted(panes) == ["a", "b"]
    for name in ("a", "b"):
        tclaude.run("kill", name)
    assert tclaude.tmux("list-panes", "-a", "-F", "#{@tclaude-name}", check=False).split() == []


def test_a_shell_seen_twice_through_a_view_is_reused_once(tclaude: Tclaude, tmp_path: Path) -> None:
    """A view (a session grouped with the instances', tclaude attach) lists the shell's
    pane again: two instances were planned into that one pane."""
    for name in ("a", "b"):
        tclaude.run("new", "--name", name, "--cwd", str(tmp_path), "--detached")
    tclaude.kill_server()
    tclaude.tmux("new-session", "-d", "-s", "tclaude", "-n", "tclaude", "-c", str(tmp_path), "sh")
    view = tclaude.tmux("new-session", "-d", "-t", "=tclaude", "-P", "-F", "#{session_id}")
    tclaude.tmux("set-option", "-t", view.strip(), "@tclaude-view", "@0")
    shell_pane = tclaude.tmux("display", "-p", "-t", "tclaude:tclaude", "#{pane_id}").strip()
    deadline = time.monotonic() + 5
    while (
        tclaude.tmux("display", "-p", "-t", shell_pane, "#{pane_current_command}").strip() != "sh"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    out = tclaude.run("restore").stdout
    assert out.count(f"reusing the shell tmux-resurrect left in {shell_pane}") == 1, out
    assert sorted(i["state"] != "stopped" for i in tclaude.json("list")) == [True, True]


def test_a_restore_during_a_new_does_not_start_that_instance_again(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    """Found by the session-6 re-check: new writes its entry before its pane is there, and a
    restore planning meanwhile took it for a stopped instance (5 twins in 8)."""
    import subprocess

    new = [sys.executable, "-m", "tmuxclaude", "new", "--detached", "--cwd", str(tmp_path)]
    restore = [sys.executable, "-m", "tmuxclaude", "restore"]
    for k in range(4):
        making = subprocess.Popen([*new, "--name", f"nr{k}"], stdout=subprocess.PIPE, text=True)
        time.sleep(0.03 * k)
        subprocess.run(restore, capture_output=True, check=True, timeout=60)
        assert making.wait(timeout=60) == 0
    names = tclaude.tmux("list-panes", "-a", "-F", "#{@tclaude-name}").split()
    assert sorted(names) == [f"nr{k}" for k in range(4)], names
