"""A host's files and exit: lock file, socket, runtime record, exit status."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import stat
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.host.conftest import EditorFactory, Instance, InstanceFactory
from tests.support.hosts import EditorClient, HostProcess
from tmuxclaude import paths


def _mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _leftovers(env: dict[str, str]) -> list[str]:
    """Files a host may have left: lock files and runtime entries (the test's own excluded)."""
    lock_dir = Path(env["CLAUDE_CONFIG_DIR"]) / "ide"
    runtime = Path(env["TCLAUDE_RUNTIME_DIR"])
    found = [str(p) for p in lock_dir.iterdir()] if lock_dir.is_dir() else []
    found += [
        str(p)
        for p in runtime.iterdir()
        if p.name != "control.sock" and not p.name.startswith("ready-") and p.suffix != ".log"
    ]
    return found


async def test_lock_file(instance: Instance) -> None:
    host = instance.host
    lock_dir = os.path.join(host.env["CLAUDE_CONFIG_DIR"], "ide")
    assert host.lockfile == os.path.join(lock_dir, f"{host.port}.lock")
    with open(host.lockfile, encoding="utf-8") as handle:
        lock = json.load(handle)
    assert set(lock) == {"pid", "workspaceFolders", "ideName", "transport", "authToken"}
    assert lock["pid"] == host.proc.pid
    assert lock["workspaceFolders"] == [os.path.realpath(instance.cwd)]
    assert lock["ideName"] == "tclaude:api"
    assert lock["transport"] == "ws"
    assert re.fullmatch(r"[0-9a-f]{32,}", lock["authToken"])
    assert _mode(lock_dir) == 0o700
    assert _mode(host.lockfile) == 0o600
    assert [p for p in os.listdir(lock_dir) if p.endswith(".part")] == []


async def test_lock_file_names_the_real_cwd(
    isolated_env: dict[str, str], control: Any, tmp_path: Path
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    host = await HostProcess.start(dict(os.environ), str(link), name="linked")
    try:
        await control.accept()
        with open(host.lockfile, encoding="utf-8") as handle:
            assert json.load(handle)["workspaceFolders"] == [os.path.realpath(real)]
    finally:
        await host.stop()


async def test_runtime_files(instance: Instance) -> None:
    host = instance.host
    runtime = host.env["TCLAUDE_RUNTIME_DIR"]
    assert _mode(runtime) == 0o700
    assert stat.S_ISSOCK(os.stat(host.socket).st_mode)
    assert _mode(host.socket) == 0o600
    instance_id = Path(host.socket).stem
    record_file = os.path.join(runtime, f"{instance_id}.json")
    assert _mode(record_file) == 0o600
    with open(record_file, encoding="utf-8") as handle:
        rec = json.load(handle)
    assert rec["id"] == instance_id
    assert rec["name"] == "api"
    assert rec["cwd"] == instance.cwd
    assert rec["port"] == host.port
    assert rec["pid"] == host.proc.pid
    assert rec["claude_pid"] == instance.cli.pid
    assert rec["socket"] == host.socket
    assert rec["lockfile"] == host.lockfile
    assert isinstance(rec["started"], float)


async def test_runtime_dir_made_private(
    isolated_env: dict[str, str], control: Any, project: str
) -> None:
    runtime = os.path.join(isolated_env["TCLAUDE_RUNTIME_DIR"], "fresh")
    host = await HostProcess.start(
        dict(os.environ), project, extra_env={"TCLAUDE_RUNTIME_DIR": runtime}
    )
    try:
        await control.accept()
        assert _mode(runtime) == 0o700
    finally:
        await host.stop()


async def test_child_environment(
    isolated_env: dict[str, str], control: Any, project: str, tmp_path: Path
) -> None:
    args_file = tmp_path / "args.json"
    host = await HostProcess.start(
        dict(os.environ),
        project,
        instance_id="env1",
        claude_args=["--model", "sonnet", "two words"],
        extra_env={
            "FAKE_CLAUDE_ARGS_FILE": str(args_file),
            "CLAUDE_CODE_SSE_PORT": "1",
            "CLAUDECODE": "1",
            "CLAUDE_CODE_AUTO_CONNECT_IDE": "false",
            "no_proxy": "example.com",
        },
    )
    try:
        cli = await control.accept()
        seen = json.loads(args_file.read_text())
        # the user's arguments, in order (the host may add its own after them: --settings)
        assert seen["argv"][:3] == ["--model", "sonnet", "two words"]
        assert seen["cwd"] == project
        assert seen["pid"] == cli.pid
        assert seen["ppid"] == host.proc.pid
        env = seen["env"]
        assert env["CLAUDE_CODE_SSE_PORT"] == str(host.port)
        assert env["ENABLE_IDE_INTEGRATION"] == "true"
        assert env["FORCE_CODE_TERMINAL"] == "true"
        assert env["TCLAUDE_INSTANCE"] == "env1"
        assert "CLAUDECODE" not in env
        assert "CLAUDE_CODE_AUTO_CONNECT_IDE" not in env
        assert env["no_proxy"].split(",")[0] == "example.com"
        for var in ("no_proxy", "NO_PROXY"):
            assert {"127.0.0.1", "localhost"} <= set(env[var].split(","))
    finally:
        await host.stop()


Exit = Callable[[Instance], Awaitable[None]]


async def _normal_exit(instance: Instance) -> None:
    await instance.cli.exit(0)


async def _error_exit(instance: Instance) -> None:
    await instance.cli.exit(3)


async def _child_sigkill(instance: Instance) -> None:
    os.kill(instance.cli.pid, signal.SIGKILL)


async def _child_sigterm(instance: Instance) -> None:
    os.kill(instance.cli.pid, signal.SIGTERM)


async def _host_sigterm(instance: Instance) -> None:
    instance.host.signal(signal.SIGTERM)


async def _host_sighup(instance: Instance) -> None:
    instance.host.signal(signal.SIGHUP)


class ExitCase(NamedTuple):
    test_id: str
    how: Exit
    status: int


EXIT_CASES = [
    ExitCase("child_exits_0", _normal_exit, 0),
    ExitCase("child_exits_3", _error_exit, 3),
    ExitCase("child_sigkill", _child_sigkill, 128 + signal.SIGKILL),
    ExitCase("child_sigterm", _child_sigterm, 128 + signal.SIGTERM),
    ExitCase("host_sigterm", _host_sigterm, 128 + signal.SIGTERM),
    ExitCase("host_sighup", _host_sighup, 128 + signal.SIGHUP),
]


@pytest.mark.parametrize("case", EXIT_CASES, ids=[c.test_id for c in EXIT_CASES])
async def test_every_way_out_cleans_up(
    isolated_env: dict[str, str], instance: Instance, case: ExitCase
) -> None:
    host = instance.host
    for path in (host.lockfile, host.socket):
        assert os.path.exists(path)
    await case.how(instance)
    assert await host.wait() == case.status
    assert _leftovers(host.env) == []
    with pytest.raises(ProcessLookupError):
        os.kill(instance.cli.pid, 0)


async def _read_until_closed(editor: EditorClient) -> None:
    while True:
        try:
            await editor.read()
        except ConnectionError:
            return


async def test_editors_see_the_host_go_only_once_it_is_unpublished(
    isolated_env: dict[str, str], instance: Instance, editors: EditorFactory
) -> None:
    """An editor that sees its socket close must not find the instance in a scan after."""
    host = instance.host
    editor = await editors("nvim")
    record_file = Path(host.env["TCLAUDE_RUNTIME_DIR"]) / f"{host.ready['id']}.json"
    assert record_file.exists()
    host.signal(signal.SIGTERM)
    await _read_until_closed(editor)
    assert not record_file.exists()
    assert not os.path.exists(host.lockfile)
    assert await host.wait() == 128 + signal.SIGTERM


async def test_child_failing_at_start(isolated_env: dict[str, str], project: str) -> None:
    host = await HostProcess.start(dict(os.environ), project, extra_env={"FAKE_CLAUDE_EXIT": "7"})
    assert await host.wait() == 7
    assert _leftovers(host.env) == []


async def test_child_ignoring_sigterm_is_killed_after_the_grace(
    isolated_env: dict[str, str], start_instance: InstanceFactory
) -> None:
    instance = await start_instance(extra_env={"FAKE_CLAUDE_IGNORE_TERM": "1"})
    instance.host.signal(signal.SIGTERM)
    assert await instance.host.wait(30) == 128 + signal.SIGKILL
    assert _leftovers(instance.host.env) == []


class StartFailureCase(NamedTuple):
    test_id: str
    env: dict[str, str]
    args: list[str]
    status: int
    message: str


START_FAILURE_CASES = [
    StartFailureCase(
        "claude_missing",
        {"TCLAUDE_CLAUDE_COMMAND": "no-such-claude-xyz --flag"},
        [],
        127,
        "claude command not found: 'no-such-claude-xyz'",
    ),
    StartFailureCase(
        "claude_empty", {"TCLAUDE_CLAUDE_COMMAND": "  "}, [], 1, "the claude command is empty"
    ),
    StartFailureCase(
        "claude_unparsable", {"TCLAUDE_CLAUDE_COMMAND": "claude 'open"}, [], 1, "cannot parse"
    ),
    StartFailureCase("cwd_missing", {}, ["--cwd", "/nonexistent/dir"], 1, "does not exist"),
    StartFailureCase("bad_port_range", {}, ["--port-range", "5-3"], 2, "port range"),
    StartFailureCase("port_range_taken", {"TCLAUDE_PORT_RANGE": "{taken}"}, [], 1, "no free port"),
    StartFailureCase("bad_id", {}, ["--id", "../x"], 2, "bad instance id"),
]


@pytest.mark.parametrize("case", START_FAILURE_CASES, ids=[c.test_id for c in START_FAILURE_CASES])
async def test_start_failures_are_one_clear_line(
    isolated_env: dict[str, str], project: str, case: StartFailureCase
) -> None:
    import socket

    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = str(blocker.getsockname()[1])
    env = {**os.environ, **{k: v.replace("{taken}", taken) for k, v in case.env.items()}}
    args = ["--id", "x1", "--name", "x", "--cwd", project, *case.args]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tmuxclaude",
        "host",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 20)
    blocker.close()
    lines = err.decode().splitlines()
    assert len(lines) == 1, lines
    assert case.message in lines[0]
    assert "Traceback" not in lines[0]
    assert proc.returncode == case.status
    assert out == b""
    assert _leftovers(env) == []


def test_write_atomic_replaces(tmp_path: Path) -> None:
    tmp_path = tmp_path / "d"
    tmp_path.mkdir()
    target = tmp_path / "f.json"
    paths.write_atomic(str(target), "one", mode=0o600)
    paths.write_atomic(str(target), "two", mode=0o640)
    assert target.read_text() == "two"
    assert _mode(str(target)) == 0o640
    assert os.listdir(tmp_path) == ["f.json"]


class AtomicFailureCase(NamedTuple):
    test_id: str
    data: str
    fail_replace: bool


ATOMIC_FAILURE_CASES = [
    AtomicFailureCase("unencodable_data", "half \ud800 written", False),
    AtomicFailureCase("rename_fails", "good data", True),
]


@pytest.mark.parametrize(
    "case", ATOMIC_FAILURE_CASES, ids=[c.test_id for c in ATOMIC_FAILURE_CASES]
)
def test_write_atomic_failure_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: AtomicFailureCase
) -> None:
    tmp_path = tmp_path / "d"
    tmp_path.mkdir()
    target = tmp_path / "f.lock"
    paths.write_atomic(str(target), "old")
    if case.fail_replace:

        def refuse(src: str, dst: str) -> None:
            raise OSError("disk on fire")

        monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises((OSError, UnicodeEncodeError)):
        paths.write_atomic(str(target), case.data)
    assert os.listdir(tmp_path) == ["f.lock"]  # no .part left beside it
    assert target.read_text() == "old"


def test_write_atomic_temp_file_is_beside_the_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rename is atomic only within one file system: the temp file lives in the same dir."""
    seen: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen.append((src, dst))
        assert _mode(src) == 0o600
        assert Path(src).read_text() == "data"  # complete before it is published
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    paths.write_atomic(str(tmp_path / "x.lock"), "data")
    ((src, dst),) = seen
    assert os.path.dirname(src) == str(tmp_path)
    assert dst == str(tmp_path / "x.lock")
