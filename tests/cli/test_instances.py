"""Creating, listing, focusing, arranging and killing instances on a real tmux."""

from __future__ import annotations

import asyncio
import glob
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.conftest import Tclaude


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def _workspace_root(port: int, socket_path: str) -> str:
    """The host's working directory, asked on its editor socket.

    (Its IDE server serves only its own claude's sockets: not the test's.)
    """
    reader, writer = await asyncio.open_unix_connection(socket_path)
    try:
        writer.write(b'{"jsonrpc":"2.0","id":1,"method":"status"}\n')
        status = json.loads(await asyncio.wait_for(reader.readline(), 10))["result"]
    finally:
        writer.close()
    assert status["port"] == port
    root: str = status["cwd"]
    return root


def test_new_prints_the_instance_and_its_host_answers(tclaude: Tclaude, tmp_path: Path) -> None:
    project = tmp_path / "api"
    project.mkdir()
    data = tclaude.json("new", "--cwd", str(project), "--detached")
    for key in (
        "id",
        "name",
        "cwd",
        "port",
        "pane",
        "window",
        "session",
        "lockfile",
        "socket",
        "state",
    ):
        assert data[key], key
    assert data["name"] == "api"
    assert data["session"] == "tclaude"
    assert os.path.exists(data["lockfile"]) and os.path.exists(data["socket"])
    assert asyncio.run(_workspace_root(data["port"], data["socket"])) == str(project.resolve())
    options = tclaude.tmux("show-options", "-p", "-t", data["pane"])
    assert f"@tclaude-id {data['id']}" in options
    assert f"@tclaude-port {data['port']}" in options


def test_twelve_concurrent_news_get_unique_names_and_ports(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    project = tmp_path / "svc"
    project.mkdir()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tmuxclaude",
                "new",
                "--detached",
                "--json",
                "--cwd",
                str(project),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(12)
    ]
    outputs = [p.communicate(timeout=90) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    created = [json.loads(out) for out, _ in outputs]
    names = {c["name"] for c in created}
    ports = {c["port"] for c in created}
    assert names == {"svc"} | {f"svc-{n}" for n in range(2, 13)}
    assert len(ports) == 12
    listed = tclaude.json("list")
    assert {i["name"] for i in listed} == names
    assert all(i["state"] != "stopped" for i in listed)

    async def roots() -> list[str]:
        return list(
            await asyncio.gather(*(_workspace_root(c["port"], c["socket"]) for c in created))
        )

    assert set(asyncio.run(roots())) == {str(project.resolve())}


def test_default_names_are_made_unique_and_bad_names_refused(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    project = tmp_path / "web"
    project.mkdir()
    first = tclaude.json("new", "--cwd", str(project), "--detached")
    second = tclaude.json("new", "--cwd", str(project), "--detached")
    assert (first["name"], second["name"]) == ("web", "web-2")
    for bad in ("a:b", "a.b", "%1", "has space", "-dash", ""):
        proc = tclaude.run("new", f"--name={bad}", "--cwd", str(project), check=False)
        assert proc.returncode == 2, bad
        assert proc.stderr.count("\n") == 1 and "bad instance name" in proc.stderr
    dup = tclaude.run("new", "--name", "web", "--cwd", str(project), check=False)
    assert dup.returncode == 2 and "exists already" in dup.stderr


def _active(tclaude: Tclaude) -> tuple[str, str]:
    """(window name, instance name) of the session's active window and pane."""
    out = tclaude.tmux("display-message", "-p", "-t", "tclaude", "#{window_name}\t#{@tclaude-name}")
    window, name = out.rstrip("\n").split("\t")
    return window, name


def test_switch_next_prev_and_back(tclaude: Tclaude, tmp_path: Path) -> None:
    for name in ("one", "two", "three"):
        tclaude.run("new", "--name", name, "--cwd", str(tmp_path), "--detached")
    tclaude.run("switch", "two")
    assert _active(tclaude) == ("two", "two")
    tclaude.run("next")
    assert _active(tclaude)[1] == "three"
    tclaude.run("next")
    assert _active(tclaude)[1] == "one"
    tclaude.run("prev")
    assert _active(tclaude)[1] == "three"
    tclaude.run("switch", "-")
    assert _active(tclaude)[1] == "one"
    unknown = tclaude.run("switch", "nope", check=False)
    assert unknown.returncode == 2
    assert "known instances: one, three, two" in unknown.stderr


def test_switch_unzooms_a_zoomed_window(tclaude: Tclaude, tmp_path: Path) -> None:
    tclaude.run("new", "--name", "a", "--cwd", str(tmp_path), "--layout", "split", "--detached")
    tclaude.run("new", "--name", "b", "--cwd", str(tmp_path), "--layout", "split", "--detached")
    panes = {i["name"]: i["pane"] for i in tclaude.json("list")}
    tclaude.tmux("select-pane", "-t", panes["a"])
    tclaude.tmux("resize-pane", "-Z", "-t", panes["a"])
    assert tclaude.tmux("display", "-p", "-t", panes["a"], "#{window_zoomed_flag}").strip() == "1"
    tclaude.run("switch", "b")
    assert tclaude.tmux("display", "-p", "-t", panes["b"], "#{window_zoomed_flag}").strip() == "0"
    assert tclaude.tmux("display", "-p", "-t", panes["b"], "#{pane_active}").strip() == "1"


def test_layout_conversion_keeps_every_process(tclaude: Tclaude, tmp_path: Path) -> None:
    for name in ("a", "b", "c"):
        tclaude.run("new", "--name", name, "--cwd", str(tmp_path), "--detached")
    before = {i["name"]: (i["pid"], i["port"]) for i in tclaude.json("list")}
    tclaude.run("layout", "split")
    listed = tclaude.json("list")
    assert len({i["window"] for i in listed}) == 1
    assert {i["name"]: (i["pid"], i["port"]) for i in listed} == before
    tclaude.run("layout", "tabbed")
    listed = tclaude.json("list")
    assert len({i["window"] for i in listed}) == 3
    assert {i["name"]: (i["pid"], i["port"]) for i in listed} == before
    windows = tclaude.tmux("list-windows", "-t", "tclaude", "-F", "#{window_name}").split()
    assert sorted(windows) == ["a", "b", "c"]
    assert all(_alive(pid) for pid, _ in before.values())


def _leftovers(env: dict[str, str]) -> list[str]:
    runtime = env["TCLAUDE_RUNTIME_DIR"]
    found = glob.glob(os.path.join(env["CLAUDE_CONFIG_DIR"], "ide", "*.lock"))
    found += [
        p
        for p in glob.glob(os.path.join(runtime, "*"))
        if not p.endswith(("config-cache.json", "control.sock"))
    ]
    return found


def test_kill_all_leaves_nothing_behind(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    created = [tclaude.json("new", "--cwd", str(tmp_path), "--detached") for _ in range(4)]
    pids = [c["pid"] for c in created]
    tclaude.run("kill", "--all")
    assert not any(_alive(pid) for pid in pids)
    assert _leftovers(isolated_env) == []
    assert tclaude.json("list") == []


@pytest.mark.parametrize("cycles", [100])
def test_create_destroy_cycles_leak_nothing(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str], cycles: int
) -> None:
    tclaude.run("new", "--name", "keeper", "--cwd", str(tmp_path), "--detached")
    windows_before = tclaude.tmux("list-windows", "-a").count("\n")
    pids: list[int] = []
    for n in range(cycles):
        data = tclaude.json("new", "--name", f"c{n}", "--cwd", str(tmp_path), "--detached")
        pids.append(data["pid"])
        tclaude.run("kill", f"c{n}")
    assert not any(_alive(pid) for pid in pids)
    assert tclaude.tmux("list-windows", "-a").count("\n") == windows_before
    assert [i["name"] for i in tclaude.json("list")] == ["keeper"]
    left = [p for p in _leftovers(isolated_env) if "keeper" not in p]
    keeper = tclaude.json("list")[0]
    expected = {
        keeper["lockfile"],
        keeper["socket"],
        os.path.join(isolated_env["TCLAUDE_RUNTIME_DIR"], f"{keeper['id']}.json"),
        os.path.join(isolated_env["TCLAUDE_RUNTIME_DIR"], f"{keeper['id']}.settings.json"),
        os.path.join(isolated_env["TCLAUDE_RUNTIME_DIR"], f"{keeper['id']}.hook-url"),
        # the host's log: opened at start, since it also takes the host's stderr
        os.path.join(isolated_env["TCLAUDE_RUNTIME_DIR"], f"{keeper['id']}.log"),
    }
    assert set(left) == expected


def test_server_killed_shows_stopped_instances(tclaude: Tclaude, tmp_path: Path) -> None:
    tclaude.run("new", "--name", "a", "--cwd", str(tmp_path), "--detached")
    tclaude.run("new", "--name", "b", "--cwd", str(tmp_path), "--detached")
    tclaude.kill_server()
    listed = tclaude.json("list")
    assert [(i["name"], i["state"], i["running"]) for i in listed] == [
        ("a", "stopped", False),
        ("b", "stopped", False),
    ]
    human = tclaude.run("list").stdout
    assert "stopped" in human


def test_corrupt_state_file_is_a_clear_error_with_a_backup(
    tclaude: Tclaude, isolated_env: dict[str, str]
) -> None:
    state_dir = Path(isolated_env["TCLAUDE_STATE_DIR"])
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "instances.json").write_text("{not json")
    proc = tclaude.run("list", check=False)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "corrupt" in proc.stderr
    backups = list(state_dir.glob("instances.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text() == "{not json"
    assert (state_dir / "instances.json").read_text() == "{not json"
    again = tclaude.run("new", "--name", "x", check=False)
    assert again.returncode == 2 and "corrupt" in again.stderr


def test_missing_claude_is_one_clear_line(tclaude: Tclaude, tmp_path: Path) -> None:
    proc = tclaude.run(
        "new",
        "--cwd",
        str(tmp_path),
        check=False,
        env={"TCLAUDE_CLAUDE_COMMAND": "no-such-claude-binary"},
    )
    assert proc.returncode == 2
    assert "claude command not found" in proc.stderr and "npm install" in proc.stderr
    assert proc.stderr.count("\n") == 1
    assert tclaude.json("list") == []


def test_missing_tmux_says_how_to_install(tclaude: Tclaude, tmp_path: Path) -> None:
    proc = tclaude.run("list", check=False, env={"PATH": str(tmp_path)})
    assert proc.returncode == 2
    assert "tmux not found" in proc.stderr and "apt install tmux" in proc.stderr


def test_bare_tclaude_focuses_or_creates_the_cwd_instance(tclaude: Tclaude, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "sub").mkdir(parents=True)
    tclaude.run(cwd=str(project))
    listed = tclaude.json("list")
    assert [i["name"] for i in listed] == ["proj"]
    tclaude.run("new", "--name", "other", "--cwd", str(tmp_path), "--detached")
    tclaude.run("switch", "other")
    tclaude.run(cwd=str(project / "sub"))
    assert [i["name"] for i in tclaude.json("list")] == ["proj", "other"]
    assert _active(tclaude)[1] == "proj"


def test_bare_tclaudes_racing_in_one_directory_make_one_instance(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tmuxclaude"],
            cwd=project,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=90) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outputs]
    assert sum("proj started in" in out for out, _ in outputs) == 1
    assert [i["name"] for i in tclaude.json("list")] == ["proj"]


def test_kill_cleans_up_after_a_host_killed_with_sigkill(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    tclaude.run("new", "--name", "keep", "--cwd", str(tmp_path), "--detached")
    data = tclaude.json("new", "--name", "web", "--cwd", str(tmp_path), "--detached")
    os.kill(data["pid"], 9)  # the host cannot clean up; tmux closes its pane
    deadline = time.monotonic() + 10
    while {i["name"]: i["state"] for i in tclaude.json("list")}["web"] != "stopped":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert os.path.exists(data["lockfile"])
    tclaude.run("kill", "web")
    assert not os.path.exists(data["lockfile"])
    assert [p for p in _leftovers(isolated_env) if data["id"] in p] == []
