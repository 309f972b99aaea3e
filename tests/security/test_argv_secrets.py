"""Another local user reads every process's argv and tmux's message log: no secret there.

Planted environment values (an API key among them), the IDE token (the lock
file's ``authToken``) and the hook token must appear in no ``/proc/*/cmdline``
(the tmux server's included, whose argv is that of the client that started
it), in ``tmux show-messages``, or in a file another user could read; and the
claude child still gets the caller's environment.
"""

from __future__ import annotations

import glob
import json
import os
import pty
import secrets
import stat
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from tests.support.cli_runner import Tclaude
from tests.support.real_claude import claude_binary, skip_reason

PLANTED = "TCLAUDE_PLANTED_SECRET"  # the fake claude reports TCLAUDE* variables


def _secret() -> str:
    return f"planted-{secrets.token_hex(12)}"


def _cmdlines(root: int) -> dict[int, bytes]:
    """``/proc/<pid>/cmdline`` of ``root`` and all its descendants (other tests' are not ours)."""
    found: dict[int, bytes] = {}
    for pid in (root, *(p.pid for p in psutil.Process(root).children(recursive=True))):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                found[pid] = handle.read()
        except OSError:
            continue  # a short-lived child, gone meanwhile
    return found


def _tokens(env: dict[str, str]) -> dict[str, str]:
    """The IDE tokens of the lock files and the hook tokens of the settings files."""
    found: dict[str, str] = {}
    for lock in glob.glob(os.path.join(env["CLAUDE_CONFIG_DIR"], "ide", "*.lock")):
        found[f"IDE token of {lock}"] = json.loads(Path(lock).read_text())["authToken"]
    for path in glob.glob(os.path.join(env["TCLAUDE_RUNTIME_DIR"], "*.settings.json")):
        hooks = json.loads(Path(path).read_text())["hooks"]
        url = hooks["Stop"][-1]["hooks"][0]["url"]
        hook_token = url.rsplit("/", 1)[1]
        assert hook_token not in found.values(), "the hook endpoint shares the IDE token"
        found[f"hook token of {path}"] = hook_token
        relay = hooks["SessionStart"][-1]["hooks"][0]["command"]  # becomes the relay's argv
        for label, value in found.items():
            assert value not in relay, f"{label} in the SessionStart relay's command line"
    return found


def assert_no_secret_exposed(
    tclaude: Tclaude, env: dict[str, str], planted: dict[str, str], instances: int
) -> None:
    tokens = _tokens(env)
    assert len(tokens) == 2 * instances, tokens  # one IDE and one hook token per instance
    watched = {**planted, **tokens}
    server = int(tclaude.tmux("display-message", "-p", "#{pid}").strip())
    hosts = [i["pid"] for i in tclaude.json("list") if i["running"]]
    claudes = [tclaude.json("status", name)["claude_pid"] for name in _names(tclaude)]
    assert len(hosts) == instances and all(claudes)
    cmdlines = _cmdlines(server)
    # the whole tree is scanned (short-lived children too, when caught), these surely
    assert {server, *hosts, *claudes} <= set(cmdlines)
    for pid, cmdline in cmdlines.items():
        for label, value in watched.items():
            assert value.encode() not in cmdline, f"{label} in the argv of pid {pid}"
    for flags, log in _message_logs(tclaude).items():
        for label, value in watched.items():
            assert value not in log, f"{label} in tmux show-messages {flags}"
    assert not glob.glob(os.path.join(env["TCLAUDE_RUNTIME_DIR"], "env-*")), "env file left"
    ide_dir = os.path.join(env["CLAUDE_CONFIG_DIR"], "ide")
    for top in (env["TCLAUDE_RUNTIME_DIR"], env["TCLAUDE_STATE_DIR"], ide_dir):  # tclaude's
        for directory, _dirs, files in os.walk(top):
            for name in files:
                path = os.path.join(directory, name)
                st = os.lstat(path)
                if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o044:
                    continue
                data = Path(path).read_bytes()
                for label, value in watched.items():
                    assert value.encode() not in data, f"{label} in {path}, readable by others"


def _message_logs(tclaude: Tclaude) -> dict[str, str]:
    """``show-messages``, ``-J`` and ``-T`` (they need a client: one is attached on a pty)."""
    master, slave = pty.openpty()
    client = subprocess.Popen(
        ["tmux", "-L", tclaude.socket, "attach"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "TERM": "xterm-256color"},
        start_new_session=True,
    )
    os.close(slave)
    try:
        deadline = time.monotonic() + 20
        while not (name := tclaude.tmux("list-clients", "-F", "#{client_name}").strip()):
            assert time.monotonic() < deadline, "no tmux client attached"
            time.sleep(0.05)
        target = ["-t", name.splitlines()[0]]
        logs = {
            flags: tclaude.tmux("show-messages", *flags.split(), *target)
            for flags in ("", "-J", "-T")
        }
    finally:
        client.terminate()
        client.wait(10)
        os.close(master)
    assert " command: " in logs[""]  # the log of every command tmux ran was read
    return logs


def _names(tclaude: Tclaude) -> list[str]:
    return [i["name"] for i in tclaude.json("list") if i["running"]]


def _claude_env(args_file: Path) -> dict[str, str]:
    """The environment the fake claude reported (it writes the file when it starts)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            env: dict[str, str] = json.loads(args_file.read_text())["env"]
            return env
        except (OSError, ValueError):
            assert time.monotonic() < deadline, f"the fake claude never wrote {args_file}"
            time.sleep(0.05)


def _wait_session_id(env: dict[str, str], name: str) -> None:
    """SessionStart reached the host: the relay found its URL."""
    state_file = Path(env["TCLAUDE_STATE_DIR"]) / "instances.json"
    deadline = time.monotonic() + 20
    while True:
        entries = json.loads(state_file.read_text())["instances"].values()
        if any(e["name"] == name and e.get("session_id") for e in entries):
            return
        assert time.monotonic() < deadline, f"no SessionStart from {name}"
        time.sleep(0.05)


def test_new_new_and_restore_keep_secrets_out_of_argv(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api_key, first, second, third = _secret(), _secret(), _secret(), _secret()
    monkeypatch.setenv("ANTHROPIC_API_KEY", api_key)
    assert "TMUX" not in os.environ  # outside tmux: `new` starts the tmux server itself
    assert tclaude.tmux("list-sessions", check=False) == ""

    monkeypatch.setenv(PLANTED, first)
    monkeypatch.setenv("FAKE_CLAUDE_ARGS_FILE", str(tmp_path / "a.json"))
    tclaude.run("new", "--name", "a", "--cwd", str(tmp_path), "--detached")
    assert _claude_env(tmp_path / "a.json")[PLANTED] == first
    _wait_session_id(isolated_env, "a")

    # the tmux server started with `first` in its environment: claude gets the caller's
    monkeypatch.setenv(PLANTED, second)
    monkeypatch.setenv("FAKE_CLAUDE_ARGS_FILE", str(tmp_path / "b.json"))
    tclaude.run("new", "--name", "b", "--cwd", str(tmp_path), "--detached")
    assert _claude_env(tmp_path / "b.json")[PLANTED] == second
    _wait_session_id(isolated_env, "b")
    planted = {"API key": api_key, "first value": first, "second value": second}
    assert_no_secret_exposed(tclaude, isolated_env, planted, instances=2)

    # restore into the shell tmux-resurrect left: respawn-pane
    old_hosts = [psutil.Process(i["pid"]) for i in tclaude.json("list") if i["running"]]
    tclaude.kill_server()
    psutil.wait_procs(old_hosts, timeout=15)  # their clean-up done: no file of theirs left
    tclaude.tmux("new-session", "-d", "-s", "tclaude", "-n", "a", "-c", str(tmp_path), "sh")
    monkeypatch.setenv(PLANTED, third)
    monkeypatch.setenv("FAKE_CLAUDE_ARGS_FILE", str(tmp_path / "restored.json"))
    out = tclaude.run("restore", "a").stdout
    assert "reusing the shell" in out
    assert _claude_env(tmp_path / "restored.json")[PLANTED] == third
    assert_no_secret_exposed(tclaude, isolated_env, {**planted, "third value": third}, 1)


@pytest.mark.realcli
@pytest.mark.skipif(claude_binary() is None, reason=skip_reason())
def test_real_cli_instance_keeps_secrets_out_of_argv(
    tclaude: Tclaude, real_env: Path, isolated_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    planted = _secret()
    monkeypatch.setenv(PLANTED, planted)
    data = tclaude.json("new", "--name", "real", "--cwd", str(real_env), "--detached")
    deadline = time.monotonic() + 60
    while tclaude.json("status", "real")["clis"] != 1:  # the CLI connected: it read the token
        assert time.monotonic() < deadline, "the real CLI never connected"
        time.sleep(0.2)
    _wait_session_id(isolated_env, "real")
    claude = psutil.Process(tclaude.json("status", "real")["claude_pid"])
    assert claude.environ()[PLANTED] == planted
    assert claude.environ()["ANTHROPIC_API_KEY"] == os.environ["ANTHROPIC_API_KEY"]
    assert data["pane"]
    watched = {"planted value": planted, "API key": os.environ["ANTHROPIC_API_KEY"]}
    assert_no_secret_exposed(tclaude, isolated_env, watched, instances=1)


@pytest.mark.parametrize("case", ["readable-by-others", "symlink", "not-an-environment", "missing"])
def test_the_host_refuses_an_environment_file_it_cannot_trust(
    tmp_path: Path, isolated_env: dict[str, str], case: str
) -> None:
    planted = _secret()
    os.makedirs(isolated_env["TCLAUDE_RUNTIME_DIR"], mode=0o700, exist_ok=True)
    env_path = Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / "env-planted"
    if case == "readable-by-others":
        env_path.write_text(json.dumps({PLANTED: planted}))
        env_path.chmod(0o644)
    elif case == "symlink":
        target = tmp_path / "elsewhere"
        target.write_text(json.dumps({PLANTED: planted}))
        target.chmod(0o600)
        env_path.symlink_to(target)
    elif case == "not-an-environment":
        env_path.write_text('{"a": [1]}')
        env_path.chmod(0o600)
    args_file = tmp_path / "claude.json"
    host = [sys.executable, "-m", "tmuxclaude", "host", "--env-file", str(env_path)]
    proc = subprocess.run(
        [*host, "--id", "x1", "--cwd", str(tmp_path), "--no-hooks"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FAKE_CLAUDE_ARGS_FILE": str(args_file)},
        check=False,
    )
    assert proc.returncode != 0 and not args_file.exists()  # claude never ran
    assert proc.stderr.count("\n") == 1 and "environment file" in proc.stderr, proc.stderr
    # a file that is not private stays for the user to look at; one of ours that was junk goes
    assert os.path.lexists(env_path) == (case in ("readable-by-others", "symlink"))
