"""Hostile local files: a corrupt or planted state file, a full disk, loose modes,
directories and lock files of another user. All through the real ``tclaude``."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.support.cli_runner import Tclaude

NOBODY = 65534
ECHO = "sh -c 'while IFS= read -r line; do echo \"got:$line\"; done'"


def _entry(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "id": "a1b2c3",
        "name": "api",
        "cwd": "/tmp",
        "layout": "tabbed",
        "claude_args": [],
        "created": 1.0,
        "session_id": None,
    }
    entry.update(changes)
    return entry


def _file(**changes: object) -> bytes:
    return json.dumps({"version": 1, "instances": {"a1b2c3": _entry(**changes)}}).encode()


class Corrupt(NamedTuple):
    test_id: str
    content: bytes
    reason: str


CORRUPT = [
    Corrupt("invalid-utf8", b'{"instances": {"\xff\xfe": 1}}', "utf-8"),
    Corrupt("not-json", b'{"instances": {', "Expecting"),
    Corrupt("top-level-list", b"[]", '"instances"'),
    Corrupt("instances-list", b'{"instances": []}', '"instances"'),
    Corrupt("entry-a-string", b'{"instances": {"x": "oops"}}', "not an object"),
    Corrupt("claude-args-string", _file(claude_args="--resume x"), "claude_args"),
    Corrupt("claude-args-numbers", _file(claude_args=[1, 2]), "claude_args"),
    Corrupt("created-a-string", _file(created="yesterday"), "created"),
    Corrupt("created-a-bool", _file(created=True), "created"),
    Corrupt("name-a-path", _file(name="../evil"), "name"),
    Corrupt("name-a-number", _file(name=7), "name"),
    Corrupt(
        "id-with-slash", b'{"instances": {"a/b": {"id": "a/b", "name": "x", "cwd": "/"}}}', "id"
    ),
    Corrupt("id-not-its-key", _file(id="other"), "its id"),
    Corrupt("cwd-relative", _file(cwd="src"), "cwd"),
    Corrupt("cwd-missing", b'{"instances": {"a": {"id": "a", "name": "x"}}}', "cwd"),
    Corrupt("layout-unknown", _file(layout="diagonal"), "layout"),
    Corrupt("session-id-number", _file(session_id=5), "session_id"),
    Corrupt("worktree-a-list", _file(worktree=["/x"]), "worktree"),
]


def _state_dir(env: dict[str, str]) -> Path:
    return Path(env["TCLAUDE_STATE_DIR"])


def _one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("tclaude: ") and proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr


@pytest.mark.parametrize("case", CORRUPT, ids=[c.test_id for c in CORRUPT])
def test_a_corrupt_state_file_is_one_line_a_backup_and_left_as_it_is(
    tclaude: Tclaude, isolated_env: dict[str, str], tmp_path: Path, case: Corrupt
) -> None:
    directory = _state_dir(isolated_env)
    directory.mkdir(parents=True, mode=0o700)
    state = directory / "instances.json"
    state.write_bytes(case.content)
    for args in (["list"], ["new", "--name", "z", "--cwd", str(tmp_path), "--detached"]):
        proc = tclaude.run(*args, check=False)
        assert proc.returncode == 2
        line = _one_line(proc)
        assert str(state) in line and case.reason in line and "is corrupt" in line
        assert state.read_bytes() == case.content  # never rewritten by a command that failed
    backups = list(directory.glob("instances.json.corrupt-*"))
    assert len(backups) == 1 and str(backups[0]) in line
    assert backups[0].read_bytes() == case.content
    assert stat.S_IMODE(backups[0].stat().st_mode) == 0o600
    assert tclaude.run("list", "--json", check=False).stdout == ""  # no pane was made
    doctor = tclaude.run("doctor", check=False)
    assert doctor.returncode == 1
    [row] = [r for r in doctor.stdout.splitlines() if r.startswith("FAIL state file")]
    assert str(state) in row and "move it away" in row


def test_a_state_file_of_another_user_is_not_trusted(
    tclaude: Tclaude, isolated_env: dict[str, str]
) -> None:
    directory = _state_dir(isolated_env)
    directory.mkdir(parents=True, mode=0o700)
    state = directory / "instances.json"
    state.write_bytes(_file())
    os.chown(state, NOBODY, NOBODY)
    proc = tclaude.run("list", check=False)
    assert proc.returncode == 2
    assert "belongs to another user" in _one_line(proc) and str(state) in proc.stderr


@contextlib.contextmanager
def _tmpfs(path: Path, size: str) -> Iterator[Path]:
    path.mkdir(parents=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_is_one_line_and_leaves_the_old_state_file_whole(
    tclaude: Tclaude, isolated_env: dict[str, str], tmp_path: Path
) -> None:
    with _tmpfs(tmp_path / "small", "64k") as small:
        env = {"TCLAUDE_STATE_DIR": str(small / "tclaude"), "TCLAUDE_CLAUDE_COMMAND": ECHO}
        tclaude.run("new", "--name", "first", "--cwd", str(tmp_path), "--detached", env=env)
        state = small / "tclaude" / "instances.json"
        before = state.read_bytes()
        filler = small / "filler"
        with contextlib.suppress(OSError), open(filler, "wb") as handle:
            while True:
                handle.write(b"\0" * 4096)
                handle.flush()
        proc = tclaude.run(
            "new", "--name", "second", "--cwd", str(tmp_path), "--detached", check=False, env=env
        )
        assert proc.returncode == 2
        line = _one_line(proc)
        assert str(state) in line and "No space left on device" in line
        assert state.read_bytes() == before
        assert sorted(p.name for p in (small / "tclaude").iterdir()) == [
            "create.lock",  # new's, since it holds the create lock (as restore does)
            "instances.json",
            "instances.lock",
        ]  # no temp file left
        names = [i["name"] for i in json.loads(tclaude.run("list", "--json", env=env).stdout)]
        assert names == ["first"]  # nothing spawned for the instance it could not record
        filler.unlink()
        tclaude.run("kill", "--all", env=env)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o000, 0o022], ids=["umask-000", "umask-022"])
def test_dirs_and_files_are_private_whatever_the_umask(
    tclaude: Tclaude, isolated_env: dict[str, str], tmp_path: Path, umask: int
) -> None:
    home = Path(isolated_env["HOME"])
    runtime = tmp_path / "run" / "deeper" / "tclaude"
    env = {"TCLAUDE_RUNTIME_DIR": str(runtime), "TCLAUDE_CLAUDE_COMMAND": ECHO}
    old = os.umask(umask)
    try:
        tclaude.run("new", "--name", "m", "--cwd", str(tmp_path), "--detached", env=env)
    finally:
        os.umask(old)
    state = _state_dir(isolated_env)
    created_dirs = [
        home / ".local",
        home / ".local" / "state",
        state,
        home / ".claude",
        home / ".claude" / "ide",
        tmp_path / "run",
        tmp_path / "run" / "deeper",
        runtime,
    ]
    assert {str(d): oct(_mode(d)) for d in created_dirs} == {str(d): "0o700" for d in created_dirs}
    files = [*state.iterdir(), *(home / ".claude" / "ide").iterdir()]
    files += [p for p in runtime.iterdir() if not p.name.endswith(".log")]  # the log: not ours
    assert {"instances.json", "instances.lock"} <= {p.name for p in files}
    assert {p.name: oct(_mode(p)) for p in files} == {p.name: "0o600" for p in files}
    doctor = tclaude.run("doctor", "--json", check=False, env=env)
    rows = {r["check"]: r for r in json.loads(doctor.stdout)}
    for check in ("state dir", "state dir files", "runtime dir", "lock dir", "lock dir files"):
        assert rows[check]["status"] == "OK", rows[check]
    tclaude.run("kill", "--all", env=env)


def test_loose_dirs_and_lock_files_are_tightened(
    tclaude: Tclaude, isolated_env: dict[str, str], tmp_path: Path
) -> None:
    state = _state_dir(isolated_env)
    state.mkdir(parents=True)
    os.chmod(state, 0o755)
    lock = state / "instances.lock"
    lock.touch()
    os.chmod(lock, 0o666)
    doctor = json.loads(tclaude.run("doctor", "--json", check=False).stdout)
    rows = {r["check"]: r for r in doctor}
    assert rows["state dir"]["status"] == "WARN" and "chmod 700" in rows["state dir"]["detail"]
    assert rows["state dir files"]["status"] == "WARN"
    assert "instances.lock (0o666)" in rows["state dir files"]["detail"]
    tclaude.run(
        "new", "--name", "t", "--cwd", str(tmp_path), "--detached",
        env={"TCLAUDE_CLAUDE_COMMAND": ECHO},
    )  # fmt: skip
    assert _mode(state) == 0o700 and _mode(lock) == 0o600


class Foreign(NamedTuple):
    test_id: str
    variable: str  # the environment variable that points tclaude at the directory
    doctor_check: str


FOREIGN = [
    Foreign("state-dir", "TCLAUDE_STATE_DIR", "state dir"),
    Foreign("runtime-dir", "TCLAUDE_RUNTIME_DIR", "runtime dir"),
]


@pytest.mark.parametrize("case", FOREIGN, ids=[c.test_id for c in FOREIGN])
def test_a_directory_of_another_user_is_refused(
    tclaude: Tclaude, tmp_path: Path, case: Foreign
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o777)
    os.chmod(theirs, 0o777)
    os.chown(theirs, NOBODY, NOBODY)
    env = {case.variable: str(theirs)}
    proc = tclaude.run(
        "new", "--name", "f", "--cwd", str(tmp_path), "--detached", check=False, env=env
    )
    assert proc.returncode != 0
    line = _one_line(proc)
    assert str(theirs) in line and "belongs to another user" in line
    assert list(theirs.iterdir()) == []  # nothing written into it
    doctor = json.loads(tclaude.run("doctor", "--json", check=False, env=env).stdout)
    row = next(r for r in doctor if r["check"] == case.doctor_check)
    assert row["status"] == "FAIL" and "another user" in row["detail"]


def test_a_lock_file_of_another_user_is_refused_not_waited_on(
    tclaude: Tclaude, isolated_env: dict[str, str], tmp_path: Path
) -> None:
    state = _state_dir(isolated_env)
    state.mkdir(parents=True, mode=0o700)
    lock = state / "instances.lock"
    lock.touch()
    os.chown(lock, NOBODY, NOBODY)
    # another user holding it would make an unchecked `new` wait for ever
    holder = subprocess.Popen(["flock", "-x", str(lock), "sleep", "600"])
    try:
        proc = tclaude.run("new", "--name", "l", "--cwd", str(tmp_path), "--detached", check=False)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 1
    assert str(lock) in _one_line(proc) and "belongs to another user" in proc.stderr


def test_an_unusable_runtime_dir_is_one_line(tclaude: Tclaude, tmp_path: Path) -> None:
    proc = tclaude.run(
        "new", "--cwd", str(tmp_path), "--detached", check=False,
        env={"TCLAUDE_RUNTIME_DIR": "/proc/nope"},
    )  # fmt: skip
    assert proc.returncode == 1
    assert "/proc/nope" in _one_line(proc)


def test_doctor_finds_a_secret_in_the_argv_of_an_instance(tclaude: Tclaude, tmp_path: Path) -> None:
    secret = "sk-test-0123456789abcdef"
    leaky = f"sh -c 'sleep 600; :' {secret}"  # $0 of the shell: in its command line
    env = {"TCLAUDE_CLAUDE_COMMAND": leaky, "TEST_API_KEY": secret}
    clean = json.loads(tclaude.run("doctor", "--json", check=False, env=env).stdout)
    row = next(r for r in clean if r["check"] == "argv secrets")
    assert row["status"] == "OK"
    tclaude.run("new", "--name", "leak", "--cwd", str(tmp_path), "--detached", env=env)
    found = tclaude.run("doctor", "--json", check=False, env=env)
    assert found.returncode == 1
    row = next(r for r in json.loads(found.stdout) if r["check"] == "argv secrets")
    assert row["status"] == "FAIL" and "$TEST_API_KEY in pid" in row["detail"], row
    assert secret not in found.stdout  # named, never shown
    # the IDE token of the running host is known and not in anyone's argv
    assert "IDE token" not in row["detail"]
    tclaude.run("kill", "--all", env=env)


@pytest.mark.parametrize(
    ("owner", "group", "mode"),
    [(NOBODY, NOBODY, 0o755), (0, 0, 0o777), (0, NOBODY, 0o2775)],  # the last: group-writable
)
def test_a_runtime_dir_below_a_directory_others_control_is_refused(
    tclaude: Tclaude,
    isolated_env: dict[str, str],
    tmp_path: Path,
    owner: int,
    group: int,
    mode: int,
) -> None:
    """Another user's dir (as /tmp/tclaude-<uid> pre-created by them), or a world-writable one
    without the sticky bit: its owner could swap what tclaude makes inside (the ssh control
    sockets, say). Found by the hostile trial: the ssh dir was made inside such a dir."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, owner, group)
    os.chmod(theirs, mode)
    runtime = theirs / "tclaude-0"
    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[remotes.box]\nssh = "box"\n')
    env = {"TCLAUDE_RUNTIME_DIR": str(runtime)}
    for args in (("list", "--fresh"), ("new", "--name", "f", "--cwd", str(tmp_path), "--detached")):
        proc = tclaude.run(*args, check=False, env=env)
        assert proc.returncode != 0, args
        line = _one_line(proc)
        assert str(theirs) in line, line
        assert ("belongs to another user" in line) == (owner == NOBODY), line
    assert list(theirs.iterdir()) == []  # nothing made inside it: no ssh dir, no sockets


def test_a_sticky_world_writable_parent_like_tmp_is_fine(tclaude: Tclaude, tmp_path: Path) -> None:
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    env = {"TCLAUDE_RUNTIME_DIR": str(shared / "tclaude-0")}
    proc = tclaude.run("list", check=False, env=env)
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(os.stat(shared / "tclaude-0").st_mode) == 0o700


def test_a_runtime_dir_reached_through_another_users_link_is_refused(
    tclaude: Tclaude, isolated_env: dict[str, str], tmp_path: Path
) -> None:
    """Found by the re-check: another user's symlink as the runtime dir, to a directory of
    root's, passed (the check followed it), and they could repoint it while ssh connected."""
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    target = tmp_path / "roots"
    target.mkdir()
    link = shared / "tclaude-0"
    link.symlink_to(target)
    os.lchown(link, NOBODY, NOBODY)
    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[remotes.box]\nssh = "box"\n')
    proc = tclaude.run("list", "--fresh", check=False, env={"TCLAUDE_RUNTIME_DIR": str(link / "x")})
    assert proc.returncode != 0
    line = _one_line(proc)
    assert str(link) in line and "belongs to another user" in line
    assert list(target.iterdir()) == []


def test_a_relative_xdg_runtime_dir_is_ignored(
    tclaude: Tclaude, isolated_env: dict[str, str], tmp_path: Path
) -> None:
    here = tmp_path / "cwd"
    here.mkdir()
    env = {"XDG_RUNTIME_DIR": ".", "TCLAUDE_RUNTIME_DIR": "", "TMPDIR": str(tmp_path)}
    proc = tclaude.run("list", check=False, env=env, cwd=str(here))
    assert proc.returncode == 0, proc.stderr
    assert list(here.iterdir()) == []  # nothing made where the command happened to run
