"""What list shows of a remote it cannot ask, from the caches: no sshd needed (a fake ssh)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_runner import Tclaude


@pytest.fixture
def box(isolated_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """A remote "box" whose ssh fails as a dead link does (255, nothing said); the env."""
    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[remotes.box]\nssh = "box"\ntimeout = 5.0\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text("#!/bin/sh\nexit 255\n")
    (bin_dir / "ssh").chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}


def _state(env: dict[str, str]) -> Path:
    path = Path(env["TCLAUDE_STATE_DIR"]) / "remotes"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _row(name: str, **more: object) -> dict[str, object]:
    return {"id": f"{name}1", "name": name, "state": "idle", "cwd": "/srv", **more}


@pytest.fixture
def watch_remotes_lock(isolated_env: dict[str, str]) -> Iterator[None]:
    """The lock watch-remotes holds while it runs (held here by flock)."""
    runtime = Path(isolated_env["TCLAUDE_RUNTIME_DIR"])
    runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock = runtime / "watch-remotes.lock"
    holder = subprocess.Popen(["flock", "-x", str(lock), "sleep", "600"])
    deadline = time.monotonic() + 10
    while not lock.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # flock has it
    yield
    holder.kill()
    holder.wait()


def test_asked_and_silent_the_older_cache_is_counted_on_and_the_newer_feed_wins(
    tclaude: Tclaude, isolated_env: dict[str, str], box: dict[str, str]
) -> None:
    """Found by the new-user trial: list --fresh of an unreachable remote showed list's older
    cache (not the feed's newer state) and an AGE stopped at the last contact."""
    now = time.time()
    state = _state(isolated_env)
    (state / "box.json").write_text(json.dumps({"at": now - 100, "rows": [_row("api", age=50)]}))
    proc = tclaude.run("list", "--fresh", "--json", env=box, check=False)
    rows = {r["name"]: r for r in json.loads(proc.stdout) if r["remote"] == "box"}
    assert rows["api"]["stale"] is True and 145 < rows["api"]["age"] < 200
    assert rows["api"]["seen"] >= 100
    feed = {
        "version": 1, "remote": "box", "connected": False, "contact": now - 10,
        "synced": now - 10, "instances": [
            {"id": "api1", "name": "api", "state": "waiting", "unseen": False, "cwd": "/srv",
             "target": None, "port": None, "created": now - 160, "usage": None}
        ],
    }  # fmt: skip
    (state / "box.feed.json").write_text(json.dumps(feed))
    proc = tclaude.run("list", "--fresh", "--json", env=box, check=False)
    rows = {r["name"]: r for r in json.loads(proc.stdout) if r["remote"] == "box"}
    assert rows["api"]["state"] == "waiting" and 9 <= rows["api"]["seen"] < 60
    assert "remote box: the connection was lost" in proc.stderr


def test_an_unreachable_feed_that_said_nothing_says_the_connection_was_lost(
    tclaude: Tclaude, isolated_env: dict[str, str], box: dict[str, str], watch_remotes_lock: None
) -> None:
    now = time.time()
    feed = {
        "version": 1, "remote": "box", "connected": False, "contact": now - 30,
        "synced": now - 30, "down": {"at": now - 1, "code": 255, "message": ""}, "instances": [
            {"id": "api1", "name": "api", "state": "busy", "unseen": False, "cwd": "/srv",
             "target": None, "port": 40001, "created": now - 90, "usage": None}
        ],
    }  # fmt: skip
    (_state(isolated_env) / "box.feed.json").write_text(json.dumps(feed))
    proc = tclaude.run("list", "--json", env=box, check=False)
    [row] = [r for r in json.loads(proc.stdout) if r["remote"] == "box"]
    assert (row["state"], row["stale"], row["port"]) == ("busy", True, 40001)
    assert "remote box: unreachable (the connection was lost)" in proc.stderr


def test_any_failure_reading_a_remote_costs_only_its_rows(
    isolated_env: dict[str, str],
    box: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Whatever goes wrong with one remote's answer (an exception nobody foresaw), its
    listing is one note and the other rows stand (F1's review: only TclaudeError was caught)."""
    from tmuxclaude.remote import listing, replies
    from tmuxclaude.remote.ssh import Remote

    talker = tmp_path / "bin" / "ssh"
    talker.write_text('#!/bin/sh\necho \'{"version": "x", "instances": []}\'\n')
    monkeypatch.setenv("PATH", box["PATH"])

    def boom(remote: str, value: object) -> list[dict[str, object]]:
        raise KeyError("unforeseen")  # not a TclaudeError: what no check foresaw

    monkeypatch.setattr(replies, "instance_rows", boom)
    result = listing.ask(Remote("box", "box", timeout=5.0))
    assert result.state == "error" and "(KeyError)" in result.message
    assert result.message.startswith("remote box: its answer could not be read")


def test_a_directory_at_the_control_path_is_left_alone(isolated_env: dict[str, str]) -> None:
    from tmuxclaude.remote import ssh

    path = Path(ssh.control_path(ssh.Remote("box", "box")))
    path.mkdir()
    assert ssh.clear_stale(str(path)) is False
    assert path.is_dir()
