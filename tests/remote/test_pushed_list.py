"""list while watch-remotes runs: the remotes' rows come from their feeds, asking nobody;
a feed that falls silent (a cut link) shows its remote stale within the remote's timeout."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.status.test_status_tmux import Client
from tests.support.cli_runner import Tclaude
from tests.support.hosts import ControlServer
from tests.support.remotes import Machine, Remotes


@pytest.fixture
def feeds(isolated_env: dict[str, str], remotes: Remotes) -> Iterator[subprocess.Popen[bytes]]:
    """``tclaude watch-remotes`` for the configured remotes, stopped (and checked) after."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tmuxclaude", "watch-remotes"],
        env=isolated_env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    yield proc
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err


@pytest.fixture
def no_ssh(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An env whose ``ssh`` only leaves a mark and fails: a list run with it asked nobody
    if the mark is not there."""
    bin_dir, mark = tmp_path / "no-ssh-bin", tmp_path / "ssh-was-run"
    bin_dir.mkdir()
    fake = bin_dir / "ssh"
    fake.write_text(f"#!/bin/sh\ntouch {mark}\nexit 255\n")
    fake.chmod(0o755)
    return {"PATH": f"{bin_dir}:{os.environ['PATH']}"}, mark


def _feed(env: dict[str, str], remote: str) -> dict[str, Any]:
    path = Path(env["TCLAUDE_STATE_DIR"]) / "remotes" / f"{remote}.feed.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _until_fed(env: dict[str, str], remote: str, names: list[str], feeds: Any) -> None:
    deadline = time.monotonic() + 60
    while True:
        data = _feed(env, remote)
        if data.get("connected") and sorted(i["name"] for i in data["instances"]) == names:
            return
        assert time.monotonic() < deadline, (data, feeds.poll())
        time.sleep(0.1)


def _rows(tclaude: Tclaude, env: dict[str, str]) -> tuple[dict[str, Any], str]:
    proc = tclaude.run("list", "--json", env=env)
    return {r["name"]: r for r in json.loads(proc.stdout)}, proc.stderr


def test_list_takes_the_remotes_rows_from_their_feeds(
    tclaude: Tclaude,
    remotes: Remotes,
    isolated_env: dict[str, str],
    feeds: subprocess.Popen[bytes],
    no_ssh: tuple[dict[str, str], Path],
) -> None:
    tclaude.run("new", "--name", "here", "--detached")
    tclaude.run("new", "--on", "alpha", "--name", "there", "--detached")
    tclaude.run("new", "--on", "beta", "--name", "yonder", "--detached")
    _until_fed(isolated_env, "alpha", ["there"], feeds)
    _until_fed(isolated_env, "beta", ["yonder"], feeds)
    env, mark = no_ssh
    rows, err = _rows(tclaude, env)
    assert not mark.exists(), "list ran ssh while the feeds were connected"
    assert err == ""
    assert set(rows) == {"here", "there", "yonder"}
    there = rows["there"]
    assert (there["remote"], there["stale"], there["state"]) == ("alpha", False, "idle")
    assert there["cwd"].startswith("/") and there["socket"] is None
    assert isinstance(there["port"], int) and there["age"] >= 0
    human = tclaude.run("list", env=env).stdout
    assert any(line.split()[:2] == ["there", "alpha"] for line in human.splitlines())
    assert not mark.exists()
    # --fresh asks the remote (and so its ssh); list's own cache is written beside the feed's
    proc = tclaude.run("list", "--json", "--fresh", env=env, check=False)
    assert mark.exists()
    assert "remote alpha: the connection was lost" in proc.stderr  # the fake ssh says nothing
    fresh = {r["name"]: r for r in tclaude.json("list", "--fresh")}
    assert fresh["there"]["stale"] is False and fresh["there"]["clis"] == 1
    own = Path(isolated_env["TCLAUDE_STATE_DIR"]) / "remotes" / "alpha.json"
    assert [r["name"] for r in json.loads(own.read_text())["rows"]] == ["there"]
    assert _feed(isolated_env, "alpha")["connected"] is True


def test_a_new_remote_instance_reaches_list_through_the_feed(
    tclaude: Tclaude,
    remotes: Remotes,
    alpha: Machine,
    isolated_env: dict[str, str],
    feeds: subprocess.Popen[bytes],
    no_ssh: tuple[dict[str, str], Path],
) -> None:
    tclaude.run("new", "--on", "alpha", "--name", "first", "--detached")
    _until_fed(isolated_env, "alpha", ["first"], feeds)
    # started on alpha by alpha's own user: only the feed can tell this side
    alpha.tclaude("new", "--name", "second", "--detached")
    _until_fed(isolated_env, "alpha", ["first", "second"], feeds)
    env, mark = no_ssh
    rows, _ = _rows(tclaude, env)
    assert not mark.exists()
    assert rows["second"]["remote"] == "alpha" and rows["second"]["stale"] is False
    assert rows["second"]["clis"] is None  # not carried by the feed, never listed yet
    alpha.tclaude("kill", "second")
    _until_fed(isolated_env, "alpha", ["first"], feeds)
    rows, _ = _rows(tclaude, env)
    assert set(rows) == {"first"}


def test_a_silent_feed_shows_its_remote_stale_within_the_timeout(
    tclaude: Tclaude,
    remotes: Remotes,
    alpha: Machine,
    isolated_env: dict[str, str],
    no_ssh: tuple[dict[str, str], Path],
    request: pytest.FixtureRequest,
) -> None:
    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config.write_text("remote_timeout = 30.0\n\n" + remotes.config_toml({"alpha": 4.0}))
    feeds = request.getfixturevalue("feeds")
    tclaude.run("new", "--on", "alpha", "--name", "far", "--detached")
    tclaude.run("new", "--on", "beta", "--name", "near", "--detached")
    _until_fed(isolated_env, "alpha", ["far"], feeds)
    _until_fed(isolated_env, "beta", ["near"], feeds)
    env, mark = no_ssh
    alpha.link_up(False)
    try:
        deadline = time.monotonic() + 30  # a hang guard: 4 s of silence makes it stale
        while True:
            rows, err = _rows(tclaude, env)
            if rows["far"]["stale"]:
                break
            assert time.monotonic() < deadline, rows
            time.sleep(0.2)
        assert not mark.exists(), "list asked alpha instead of reading its feed"
        assert rows["far"]["state"] == "idle" and rows["far"]["seen"] >= 4.0
        assert rows["near"]["stale"] is False
        assert "remote alpha: no word from it for" in err
        assert "alpha (stale" in tclaude.run("list", env=env).stdout
        # once ssh gives up (ServerAlive: 15 s), the feed says why; list still asks nobody
        deadline = time.monotonic() + 90
        while (_feed(isolated_env, "alpha").get("down") or {}).get("code") != 255:
            assert time.monotonic() < deadline, _feed(isolated_env, "alpha")
            time.sleep(0.5)
        rows, err = _rows(tclaude, env)
        assert rows["far"]["stale"] is True and rows["far"]["state"] == "idle"
        assert "remote alpha: unreachable (" in err and "--fresh" in err
        assert not mark.exists(), "list asked an unreachable alpha"
    finally:
        alpha.link_up(True)
    deadline = time.monotonic() + 90
    while _rows(tclaude, env)[0]["far"]["stale"]:
        assert time.monotonic() < deadline, "alpha's feed did not come back"
        time.sleep(0.5)


async def test_a_remote_instance_needing_you_is_told_here_and_listed_waiting(
    tclaude: Tclaude,
    remotes: Remotes,
    alpha: Machine,
    alpha_control: ControlServer,
    isolated_env: dict[str, str],
    feeds: subprocess.Popen[bytes],
    no_ssh: tuple[dict[str, str], Path],
) -> None:
    tclaude.tmux("new-session", "-d", "-s", "tclaude")
    client = Client(tclaude.socket)  # the message goes to attached clients
    try:
        await asyncio.to_thread(tclaude.run, "new", "--on", "alpha", "--name", "api", "--detached")
        cli = await alpha_control.accept()
        await asyncio.to_thread(_until_fed, isolated_env, "alpha", ["api"], feeds)
        await cli.hook("UserPromptSubmit")
        await cli.hook("PermissionRequest", {"tool_name": "Write"})
        deadline = time.monotonic() + 30
        while "tclaude: alpha:api needs you" not in tclaude.tmux("show-messages"):
            assert time.monotonic() < deadline, tclaude.tmux("show-messages")
            await asyncio.sleep(0.05)
        env, mark = no_ssh
        rows, _ = await asyncio.to_thread(_rows, tclaude, env)
        assert (rows["api"]["state"], rows["api"]["stale"]) == ("waiting", False)
        assert not mark.exists()
    finally:
        client.close()


def _alpha_fed(
    tclaude: Tclaude, isolated_env: dict[str, str], ssh_config: Path
) -> tuple[Path, _Holder]:
    """A local instance (a tmux server: remote add starts the feeds), remote alpha added with
    ``ssh_config``, alpha:a1 started and fed here: config.toml's path and watch-remotes."""
    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config.write_text("remote_timeout = 30.0\n")
    tclaude.run("new", "--name", "here", "--detached")
    tclaude.run("remote", "add", "alpha", "--ssh", "alpha", "--ssh-config", str(ssh_config))
    tclaude.run("new", "--on", "alpha", "--name", "a1", "--detached")
    holder = _lock_holder(isolated_env)
    _until_fed(isolated_env, "alpha", ["a1"], holder)
    return config, holder


def test_watch_remotes_follows_remote_add_and_remove(
    tclaude: Tclaude, remotes: Remotes, isolated_env: dict[str, str]
) -> None:
    _, holder = _alpha_fed(tclaude, isolated_env, remotes.ssh_config)
    # a second remote, added while watch-remotes runs: the running one takes it on
    tclaude.run("remote", "add", "beta", "--ssh", "beta", "--ssh-config", str(remotes.ssh_config))
    tclaude.run("new", "--on", "beta", "--name", "b1", "--detached")
    _until_fed(isolated_env, "beta", ["b1"], holder)
    assert _lock_holder(isolated_env).pid == holder.pid  # the same process
    tclaude.run("remote", "remove", "alpha")
    masters = Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / "ssh"
    feed_cache = Path(isolated_env["TCLAUDE_STATE_DIR"]) / "remotes" / "alpha.feed.json"
    deadline = time.monotonic() + 30
    while _feed(isolated_env, "alpha").get("connected") is not None or holder.poll() is not None:
        assert time.monotonic() < deadline, "alpha's feed still runs"
        time.sleep(0.2)
    time.sleep(3)  # past a config check (2 s) and a feed restart (1 s): nothing comes back
    assert not feed_cache.exists(), "a removed remote's feed wrote its cache again"
    assert not list(masters.glob("alpha.*")), "a removed remote's connection came back"
    assert list(masters.glob("beta.*"))  # the glob finds a live remote's
    assert _feed(isolated_env, "beta").get("connected") is True
    rows = {r["name"]: r["remote"] for r in tclaude.json("list")}
    assert rows == {"here": None, "b1": "beta"}
    tclaude.kill_server()  # watch-remotes ends with the tmux server it follows
    assert holder.wait(30) is not None


def test_watch_remotes_follows_a_remote_whose_ssh_changed(
    tclaude: Tclaude, remotes: Remotes, isolated_env: dict[str, str]
) -> None:
    """alpha's ssh becomes beta's: its feed, list --fresh and new all reach beta, none
    over the master to alpha that the feed and list had warmed."""
    config, holder = _alpha_fed(tclaude, isolated_env, remotes.ssh_config)
    assert [r["name"] for r in tclaude.json("list", "--on", "alpha", "--fresh")] == ["a1"]
    config.write_text(config.read_text().replace('ssh = "alpha"', 'ssh = "beta"'))
    assert [r["name"] for r in tclaude.json("list", "--on", "alpha", "--fresh")] == []
    tclaude.run("new", "--on", "alpha", "--name", "probe1", "--detached")
    _until_fed(isolated_env, "alpha", ["probe1"], holder)  # the feed followed, to beta
    for machine, there in (("alpha", ["a1"]), ("beta", ["probe1"])):  # as each says itself
        proc = remotes.ssh(machine, "tclaude list --json")
        assert [r["name"] for r in json.loads(proc.stdout)] == there, proc.stderr
    names = {r["name"]: r["remote"] for r in tclaude.json("list", "--fresh")}
    assert names == {"here": None, "probe1": "alpha"}
    assert holder.poll() is None
    masters = Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / "ssh"
    deadline = time.monotonic() + 30  # a hang guard: the feed's old session ends first
    while len(list(masters.glob("alpha.*"))) != 1:
        assert time.monotonic() < deadline, "the old machine's master lives on"
        time.sleep(0.1)


def test_watch_remotes_follows_a_host_changed_in_the_ssh_config_file(
    tclaude: Tclaude, remotes: Remotes, isolated_env: dict[str, str], tmp_path: Path
) -> None:
    """Found by the session-6 re-check: alpha's HostName edited in its ssh config file (the
    usual case: an alias in ~/.ssh/config) kept the master to the old machine for 600 s."""
    ssh_config = tmp_path / "ssh_config"  # a copy of the machines': only this test edits it
    ssh_config.write_text(remotes.ssh_config.read_text())
    _, holder = _alpha_fed(tclaude, isolated_env, ssh_config)
    alpha, beta = remotes.machines["alpha"], remotes.machines["beta"]
    text = ssh_config.read_text()
    ssh_config.write_text(
        text.replace(f"HostName {alpha.address}\n", f"HostName {beta.address}\n", 1)
    )
    assert [r["name"] for r in tclaude.json("list", "--on", "alpha", "--fresh")] == []
    tclaude.run("new", "--on", "alpha", "--name", "probe1", "--detached")
    _until_fed(isolated_env, "alpha", ["probe1"], holder)  # the feed followed, to beta
    for machine, there in (("alpha", ["a1"]), ("beta", ["probe1"])):  # as each says itself
        proc = remotes.ssh(machine, "tclaude list --json")
        assert [r["name"] for r in json.loads(proc.stdout)] == there, proc.stderr
    assert holder.poll() is None


class _Holder:
    """The watch-remotes process holding the lock (started by remote add, not by the test)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def poll(self) -> int | None:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return 0
        return None

    def wait(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGTERM)
                return None
            time.sleep(0.1)
        return 0


def _lock_holder(env: dict[str, str]) -> _Holder:
    path = Path(env["TCLAUDE_RUNTIME_DIR"]) / "watch-remotes.lock"
    deadline = time.monotonic() + 30
    while True:
        text = path.read_text().strip() if path.exists() else ""
        if text.isdigit():
            return _Holder(int(text))
        assert time.monotonic() < deadline, "no watch-remotes started"
        time.sleep(0.1)
