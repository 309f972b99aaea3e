"""A remote's feed, against a "remote" that is a second isolated tclaude on this machine."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.status.test_status_tmux import Client
from tests.support.cli_runner import Tclaude
from tests.support.hosts import ControlServer, FakeCli
from tmuxclaude.host.attention import announce
from tmuxclaude.remote.feed import Feed, _lines
from tmuxclaude.remote.feed_cache import cache_path, read_cache
from tmuxclaude.tmux import Tmux


class Remote:
    """Another machine's tclaude, as far as a feed can tell: its own HOME, dirs and tmux."""

    def __init__(self, root: Path) -> None:
        home = root / "home"
        home.mkdir(parents=True)
        self.runtime = tempfile.mkdtemp(prefix="tcr-")
        self.env = {
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_STATE_HOME": str(home / ".local" / "state"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "CLAUDE_CONFIG_DIR": str(home / ".claude"),
            "TCLAUDE_RUNTIME_DIR": self.runtime,
            "TCLAUDE_STATE_DIR": str(home / ".local" / "state" / "tclaude"),
            "TCLAUDE_TMUX_SOCKET": f"tclaude-test-{os.getpid()}-{Path(self.runtime).name}",
        }
        self.cli = Tclaude(self.env["TCLAUDE_TMUX_SOCKET"])

    @property
    def watch_argv(self) -> list[str]:
        """What ssh would run there: ``tclaude watch --json`` in that environment."""
        pairs = [f"{key}={value}" for key, value in self.env.items()]
        return ["env", *pairs, sys.executable, "-m", "tmuxclaude", "watch", "--json"]

    async def new(self, control: ControlServer, name: str, cwd: Path) -> FakeCli:
        args = ("new", "--name", name, "--cwd", str(cwd), "--detached", "--json")
        await asyncio.to_thread(self.cli.run, *args, env=self.env)
        return await control.accept()

    def close(self) -> None:
        self.cli.run("kill", "--all", check=False, env=self.env)
        self.cli.kill_server()  # and its socket file, which tmux 3.3 leaves
        shutil.rmtree(self.runtime, ignore_errors=True)


@pytest.fixture
def remote(tmp_path: Path, tclaude: Tclaude) -> Iterator[Remote]:
    machine = Remote(tmp_path / "remote")
    yield machine
    machine.close()


async def _start(feed: Feed) -> asyncio.Task[None]:
    return asyncio.get_running_loop().create_task(feed.run())


async def _until(what: str, check: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"no {what}"
        await asyncio.sleep(0.02)
    return value


def _cached(remote: str) -> dict[str, str]:
    data = read_cache(remote) or {}
    return {i["name"]: i["state"] for i in data.get("instances", [])}


def _marked(marker: str) -> list[psutil.Process]:
    """The processes with ``marker`` in their command line (not procps: it may be missing)."""
    return [
        proc
        for proc in psutil.process_iter(["cmdline"])
        if any(marker in part for part in proc.info["cmdline"] or ())
    ]


def _reap(marker: str) -> None:
    for proc in _marked(marker):
        with contextlib.suppress(psutil.Error):
            proc.kill()


async def _stop(task: asyncio.Task[None]) -> None:
    """Cancel a feed; it must end soon (a feed that ignored its cancel hung CI for an hour)."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=10)
    assert done, "the feed ran on after its cancel"
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_snapshot_and_changes_reach_the_cache_and_notify(
    remote: Remote, control: ControlServer, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    await remote.new(control, "api", tmp_path)
    told: list[tuple[str, str]] = []

    async def notify(name: str, state: str) -> None:
        told.append((name, state))

    feed = Feed("build", remote.watch_argv, notify=notify, backoff=(0.05, 0.4))
    task = await _start(feed)
    try:
        await _until("snapshot", lambda: feed.synced)
        cached = read_cache("build")
        assert cached is not None and cached["connected"] is True
        assert cached["contact"] >= time.time() - 60
        assert [(i["name"], i["cwd"]) for i in cached["instances"]] == [("api", str(tmp_path))]
        mode = os.stat(cache_path("build")).st_mode
        assert stat.S_IMODE(mode) == 0o600
        assert cache_path("build").startswith(isolated_env["TCLAUDE_STATE_DIR"])  # ours, not its
        cli = await remote.new(control, "web", tmp_path)
        await _until("web", lambda: _cached("build").get("web") == "idle")
        await cli.hook("UserPromptSubmit")
        await _until("busy", lambda: _cached("build").get("web") == "busy")
        assert told == []
        await cli.hook("PermissionRequest", {"tool_name": "Write"})
        await _until("a notice", lambda: told)
        assert told == [("build:web", "waiting")]
        await cli.hook("PostToolUse")
        await cli.hook("Stop")  # a turn done: notified too, as a local one
        await _until("done", lambda: len(told) == 2)
        assert told[1] == ("build:web", "idle")
        await asyncio.to_thread(remote.cli.run, "kill", "web", env=remote.env)
        await _until("killed", lambda: "web" not in _cached("build"))
    finally:
        await _stop(task)
    assert read_cache("build")["connected"] is False  # type: ignore[index]


async def test_a_killed_stream_reconnects_and_resyncs(
    remote: Remote, control: ControlServer, tmp_path: Path
) -> None:
    await remote.new(control, "api", tmp_path)
    feed = Feed("build", remote.watch_argv, backoff=(0.05, 0.4))
    task = await _start(feed)
    try:
        await _until("snapshot", lambda: feed.synced)
        assert feed.proc is not None
        feed.proc.kill()  # the link dropped
        await _until("disconnected", lambda: (read_cache("build") or {}).get("connected") is False)
        cli = await remote.new(control, "web", tmp_path)  # while it was away
        await _until("second run", lambda: feed.connections >= 2 and feed.connected)
        await _until("web", lambda: "web" in _cached("build"))
        assert feed.delays[0] == 0.05
        await cli.hook("UserPromptSubmit")  # and the new stream carries events
        await _until("busy", lambda: _cached("build").get("web") == "busy")
        assert feed.proc is not None
        feed.proc.kill()  # again: a run that synced started the backoff over
        await _until("third run", lambda: feed.connections >= 3 and feed.connected)
        assert feed.delays[:2] == [0.05, 0.05]
    finally:
        await _stop(task)


async def test_backoff_doubles_to_the_cap_while_the_remote_fails() -> None:
    feed = Feed("down", ["sh", "-c", "exit 255"], backoff=(0.01, 0.08))
    task = await _start(feed)
    await _until("six tries", lambda: feed.connections >= 6)
    await _stop(task)
    assert feed.delays[:5] == [0.01, 0.02, 0.04, 0.08, 0.08]


async def test_malformed_lines_are_dropped(tmp_path: Path) -> None:
    good = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    lines = [
        json.dumps(good),
        "not json",
        json.dumps({**good, "id": "b1", "name": "x; rm -rf /"}),
        json.dumps({**good, "id": "c1", "state": "pwned"}),
        json.dumps({**good, "id": "d1", "cwd": "relative/dir"}),
        json.dumps({**good, "id": "e1", "seq": "7"}),
        json.dumps({**good, "id": "f1", "target": "#(touch /tmp/x):0.0"}),
        json.dumps({**good, "id": "g1", "name": "a" * 5000}),
        "[" * 100000,  # longer than a line may be
        json.dumps([good]),
        json.dumps({"type": "synced", "seq": 9, "count": 1}),
        json.dumps({"type": "state", "seq": 10, "id": "a1", "name": "api", "state": "busy"}),
    ]
    script = tmp_path / "stream.txt"
    script.write_text("\n".join(lines) + "\n")
    feed = Feed("odd", ["sh", "-c", f"cat {script}; sleep 60"], backoff=(5, 5))
    task = await _start(feed)
    try:
        await _until("busy", lambda: _cached("odd").get("api") == "busy")
        assert _cached("odd") == {"api": "busy"}
        assert feed.dropped == 9
    finally:
        await _stop(task)


async def test_a_remote_instance_waiting_shows_a_message_here(
    tclaude: Tclaude, remote: Remote, control: ControlServer, tmp_path: Path
) -> None:
    tclaude.tmux("new-session", "-d", "-s", "tclaude")
    client = Client(tclaude.socket)
    try:
        await _until(
            "a client", lambda: tclaude.tmux("list-clients", "-F", "#{client_name}").strip()
        )
        local = Tmux(tclaude.socket)

        async def notify(name: str, state: str) -> None:
            await announce(local, ["message"], name, state)

        cli = await remote.new(control, "api", tmp_path)
        feed = Feed("build", remote.watch_argv, notify=notify, backoff=(0.05, 0.4))
        task = await _start(feed)
        try:
            await _until("snapshot", lambda: feed.synced)
            await cli.hook("UserPromptSubmit")
            await cli.hook("PermissionRequest", {"tool_name": "Write"})
            shown = await _until(
                "the message",
                lambda: "tclaude: build:api needs you" in tclaude.tmux("show-messages"),
            )
            assert shown
        finally:
            await _stop(task)
    finally:
        client.close()


async def test_watch_remotes_runs_one_feed_per_remote_once_per_user(
    tclaude: Tclaude, remote: Remote, control: ControlServer, tmp_path: Path
) -> None:
    import shlex
    import subprocess

    nothing = await asyncio.to_thread(tclaude.run, "watch-remotes")  # no remotes: done at once
    assert (nothing.returncode, nothing.stdout, nothing.stderr) == (0, "", "")
    await remote.new(control, "api", tmp_path)
    feed = "--feed=build=" + shlex.join(remote.watch_argv)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tmuxclaude", "watch-remotes", feed],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        await _until("the cache", lambda: _cached("build") == {"api": "idle"})
        second = await asyncio.to_thread(tclaude.run, "watch-remotes", feed)
        assert second.returncode == 0 and proc.poll() is None  # the first one holds the lock
        proc.terminate()
        out, err = await asyncio.to_thread(proc.communicate, timeout=20)
        assert (proc.returncode, out, err) == (0, b"", b"")
        assert read_cache("build")["connected"] is False  # type: ignore[index]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _stream_feed(tmp_path: Path, remote: str, lines: list[str]) -> Feed:
    script = tmp_path / f"{remote}.txt"
    script.write_text("\n".join(lines) + "\n")
    return Feed(remote, ["sh", "-c", f"cat {script}; sleep 60"], backoff=(5, 5))


async def test_a_snapshot_after_synced_starts_over(tmp_path: Path) -> None:
    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    lines = [
        json.dumps(snap),
        json.dumps({"type": "synced", "seq": 2, "count": 1}),
        json.dumps({**snap, "seq": 3, "id": "b1", "name": "web", "state": "busy"}),  # a resync
        json.dumps({"type": "synced", "seq": 4, "count": 1}),
    ]
    feed = _stream_feed(tmp_path, "again", lines)
    task = await _start(feed)
    try:
        await _until("the second snapshot", lambda: "web" in _cached("again"))
        assert _cached("again") == {"web": "busy"}
        assert feed.dropped == 0
    finally:
        await _stop(task)


async def test_a_flood_of_lines_writes_the_cache_a_few_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tmuxclaude import paths

    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    lines = [json.dumps(snap), json.dumps({"type": "synced", "seq": 2, "count": 1})]
    flood = 3000
    for seq in range(3, flood + 3):
        state = "busy" if seq % 2 else "idle"
        lines.append(json.dumps({**snap, "type": "state", "seq": seq, "state": state}))
    lines.append(json.dumps({**snap, "type": "state", "seq": flood + 3, "state": "waiting"}))
    writes: list[str] = []
    real = paths.write_atomic

    def counted(path: str, data: str, mode: int = 0o600) -> None:
        writes.append(path)
        real(path, data, mode)

    monkeypatch.setattr(paths, "write_atomic", counted)
    feed = _stream_feed(tmp_path, "flood", lines)
    task = await _start(feed)
    try:
        await _until("the last state", lambda: _cached("flood").get("api") == "waiting")
        assert len(writes) < flood / 10, len(writes)  # coalesced, not one per line
        assert "\n " not in Path(cache_path("flood")).read_text()  # compact
    finally:
        await _stop(task)


@pytest.mark.parametrize("flap", ["states", "snapshots"])
async def test_a_remote_flapping_needs_you_is_told_once_and_written_a_few_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flap: str
) -> None:
    """Found by the hostile trial: waiting/busy flaps made one notification and one cache
    write each (909 writes in 10 s, a tmux process per notification); so did 2000
    snapshot+synced pairs."""
    from tmuxclaude import paths

    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    synced = {"type": "synced", "seq": 2, "count": 1}
    lines = [json.dumps(snap), json.dumps(synced)]
    for seq in range(3, 3003, 2):
        state = "waiting" if seq % 4 == 3 else "busy"
        if flap == "states":
            lines.append(json.dumps({**snap, "type": "state", "seq": seq, "state": state}))
        else:
            lines.append(json.dumps({**snap, "seq": seq, "state": state}))
            lines.append(json.dumps({**synced, "seq": seq + 1}))
    lines.append(json.dumps({**snap, "type": "state", "seq": 9000, "state": "error"}))
    writes: list[str] = []
    real = paths.write_atomic

    def counted(path: str, data: str, mode: int = 0o600) -> None:
        writes.append(path)
        real(path, data, mode)

    told: list[tuple[str, str]] = []

    async def notify(name: str, state: str) -> None:
        told.append((name, state))
        await asyncio.sleep(0.05)  # as a tmux call takes

    monkeypatch.setattr(paths, "write_atomic", counted)
    script = tmp_path / "flap.txt"
    script.write_text("\n".join(lines) + "\n")
    feed = Feed("flap", ["sh", "-c", f"cat {script}; sleep 60"], notify=notify, backoff=(5, 5))
    task = await _start(feed)
    try:
        await _until("the last state", lambda: _cached("flap").get("api") == "error")
        assert told.count(("flap:api", "waiting")) == 1, told
        assert ("flap:api", "error") in told
        assert len(writes) < 20, len(writes)
    finally:
        await _stop(task)


async def test_a_state_without_cwd_keeps_the_cached_one(tmp_path: Path) -> None:
    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    lines = [
        json.dumps({**snap, "cwd": "/srv/api", "target": "main:1.0"}),
        json.dumps({"type": "synced", "seq": 2, "count": 1}),
        json.dumps({**snap, "type": "state", "seq": 3, "state": "busy"}),
    ]
    feed = _stream_feed(tmp_path, "keep", lines)
    task = await _start(feed)
    try:
        await _until("busy", lambda: _cached("keep").get("api") == "busy")
        [entry] = (read_cache("keep") or {})["instances"]
        assert (entry["cwd"], entry["target"]) == ("/srv/api", "main:1.0")
    finally:
        await _stop(task)


async def test_a_stopped_instance_keeps_no_port_and_no_target(tmp_path: Path) -> None:
    """As the remote's own list says: a stopped instance has no pane. Its watcher's state
    event still carries the ones it knew (a killed tmux server)."""
    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "b1", "state": "idle"}
    pane = {"port": 45412, "target": "tclaude:0.0", "cwd": "/srv/b1"}
    lines = [
        json.dumps({**snap, **pane}),
        json.dumps({**snap, "id": "z9", "name": "old", "state": "stopped", **pane}),
        json.dumps({"type": "synced", "seq": 2, "count": 2}),
        json.dumps({**snap, "type": "state", "seq": 3, "state": "stopped", **pane}),
    ]
    feed = _stream_feed(tmp_path, "stop", lines)
    task = await _start(feed)
    try:
        await _until("stopped", lambda: _cached("stop").get("b1") == "stopped")
        by_name = {e["name"]: e for e in (read_cache("stop") or {})["instances"]}
        for entry in by_name.values():
            assert (entry["port"], entry["target"]) == (None, None)
            assert entry["cwd"] == "/srv/b1"  # what a stopped instance still has
    finally:
        await _stop(task)


@pytest.mark.parametrize("bad", ["\u009b31m", "\u202e", "\u2066", "\x85"])
async def test_c1_and_bidi_controls_are_refused(tmp_path: Path, bad: str) -> None:
    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    lines = [
        json.dumps({**snap, "cwd": f"/srv/{bad}x"}),
        json.dumps({**snap, "id": "b1", "name": "web", "target": f"ma{bad}in:1.0"}),
        json.dumps({**snap, "id": "c1", "name": "ok", "cwd": "/srv/caf\u00e9"}),
        json.dumps({"type": "synced", "seq": 2, "count": 1}),
    ]
    feed = _stream_feed(tmp_path, "ctl", lines)
    task = await _start(feed)
    try:
        await _until("synced", lambda: feed.synced)
        assert _cached("ctl") == {"ok": "idle"}
        assert feed.dropped == 2
    finally:
        await _stop(task)


async def test_port_created_usage_and_version_are_kept_when_valid(tmp_path: Path) -> None:
    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    usage = {"context_percent": 12.5, "cost_usd_estimate": 0.5, "model": "m\u009b1"}
    lines = [
        json.dumps({**snap, "port": 41000, "created": 1700000000.5, "usage": usage}),
        json.dumps({**snap, "id": "b1", "name": "web", "port": True}),
        json.dumps({**snap, "id": "c1", "name": "db", "port": 70000}),
        json.dumps({**snap, "id": "d1", "name": "ui", "created": "yesterday"}),
        json.dumps({**snap, "id": "e1", "name": "ok", "usage": {"context_percent": "x"}}),
        json.dumps({"type": "synced", "seq": 2, "count": 2, "version": "9.9.9"}),
        json.dumps({**snap, "type": "state", "seq": 3, "state": "busy"}),
    ]
    feed = _stream_feed(tmp_path, "kept", lines)
    task = await _start(feed)
    try:
        await _until("busy", lambda: _cached("kept").get("api") == "busy")
        data = read_cache("kept") or {}
        by_name = {entry["name"]: entry for entry in data["instances"]}
        assert set(by_name) == {"api", "ok"} and feed.dropped == 3
        api = by_name["api"]  # the state event said none of these: they stay
        assert (api["port"], api["created"]) == (41000, 1700000000.5)
        assert api["usage"]["context_percent"] == 12.5 and "\u009b" not in api["usage"]["model"]
        assert by_name["ok"]["usage"] is None
        assert data["tclaude"] == "9.9.9"
    finally:
        await _stop(task)


async def test_an_alive_line_touches_the_cache_only(tmp_path: Path) -> None:
    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    lines = [json.dumps(snap), json.dumps({"type": "synced", "seq": 2, "count": 1})]
    alive = json.dumps({"type": "alive", "seq": 3, "time": 1.0})
    script = tmp_path / "beats.sh"
    script.write_text(
        "cat <<'EOF'\n" + "\n".join(lines) + f"\nEOF\nwhile sleep 0.2; do echo '{alive}'; done\n"
    )
    feed = Feed("beats", ["sh", str(script)], backoff=(5, 5))
    task = await _start(feed)
    try:
        await _until("synced", lambda: feed.synced)
        path = cache_path("beats")
        os.utime(path, (1.0, 1.0))  # as if written long ago
        before = Path(path).read_text()
        await _until("a touch", lambda: os.stat(path).st_mtime > time.time() - 5)
        assert Path(path).read_text() == before and feed.dropped == 0
    finally:
        await _stop(task)


async def test_a_run_that_fails_says_why_in_the_cache(tmp_path: Path) -> None:
    argv = ["sh", "-c", "echo noise >&2; printf 'ssh: connect: No route\\033[2J\\n' >&2; exit 255"]
    feed = Feed("gone", argv, backoff=(5, 5))
    task = await _start(feed)
    try:
        down = await _until("a down record", lambda: (read_cache("gone") or {}).get("down"))
        assert down["code"] == 255 and down["message"] == "ssh: connect: No route[2J"
        assert (read_cache("gone") or {})["connected"] is False
    finally:
        await _stop(task)


async def test_a_run_whose_stderr_is_held_elsewhere_ends_and_restarts(tmp_path: Path) -> None:
    """ssh passes its stderr to its master, which may hold it after ssh ended: the feed must
    not wait for that pipe (found by the hostile trial: no reconnect for 100 s)."""
    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    lines = tmp_path / "lines.txt"
    lines.write_text(json.dumps(snap) + "\n" + json.dumps({"type": "synced", "seq": 2, "count": 1}))
    marker = f"stderr-holder-{time.time():.6f}"  # its $0, to reap it
    holder = f"setsid sh -c 'sleep 60' {marker} >/dev/null </dev/null &"
    argv = ["sh", "-c", f"{holder} cat {lines}; echo"]
    feed = Feed("held", ["sh", "-c", f"exec {shlex.join(argv)}"], backoff=(0.05, 0.1))
    task = await _start(feed)
    try:
        await _until("a second run", lambda: feed.connections >= 3, timeout=30)
    finally:
        await _stop(task)
        _reap(marker)


async def test_a_line_that_fails_to_apply_is_dropped_and_the_feed_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One remote's line must never end every remote's feed (F1's review)."""
    from tmuxclaude.remote import feed as feed_module

    real = feed_module.parse_line

    def fragile(line: bytes) -> dict[str, Any] | None:
        if b"boom" in line:
            raise RuntimeError("unforeseen")
        return real(line)

    monkeypatch.setattr(feed_module, "parse_line", fragile)
    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    lines = [
        json.dumps(snap),
        json.dumps({"type": "synced", "seq": 2, "count": 1}),
        json.dumps({**snap, "type": "state", "seq": 3, "state": "busy", "cwd": "/boom"}),
        json.dumps({**snap, "type": "state", "seq": 4, "state": "waiting"}),
    ]
    feed = _stream_feed(tmp_path, "fragile", lines)
    task = await _start(feed)
    try:
        await _until("waiting", lambda: _cached("fragile").get("api") == "waiting")
        assert feed.dropped == 1 and feed.connections == 1
    finally:
        await _stop(task)


async def test_huge_numbers_are_dropped_and_the_feed_goes_on(tmp_path: Path) -> None:
    """A JSON integer of 400 digits cannot become a float (OverflowError): it is a number
    out of range like any other, and one remote's line never ends the feed."""
    huge = 10**400
    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    lines = [
        json.dumps(snap),
        json.dumps({**snap, "id": "b1", "name": "old", "created": huge}),
        json.dumps({**snap, "id": "c1", "name": "web", "port": huge}),
        json.dumps({**snap, "id": "d1", "name": "db", "usage": {"context_percent": huge}}),
        json.dumps({**snap, "id": "e1", "name": "ui", "usage": {"context_percent": 1e308}}),
        json.dumps({**snap, "id": "f1", "name": "ok", "usage": {"context_percent": 5, "x": huge}}),
        json.dumps({"type": "synced", "seq": 2, "count": 4}),
        json.dumps(
            {**snap, "type": "created", "seq": 3, "id": "g1", "name": "new", "created": huge}
        ),
        json.dumps({**snap, "type": "state", "seq": 4, "state": "busy"}),
    ]
    feed = _stream_feed(tmp_path, "huge", lines)
    task = await _start(feed)
    try:
        await _until("busy", lambda: task.done() or _cached("huge").get("api") == "busy")
        assert not task.done(), task.exception()
        assert _cached("huge") == {"api": "busy", "db": "idle", "ui": "idle", "ok": "idle"}
        usage = {i["name"]: i["usage"] for i in (read_cache("huge") or {})["instances"]}
        assert usage["db"] is None and usage["ui"] is None  # absurd figures: no usage
        assert usage["ok"] == {"context_percent": 5}  # the absurd figure left out
        assert feed.dropped == 3
    finally:
        await _stop(task)


async def test_a_stream_that_falls_silent_is_ended_and_tried_again(tmp_path: Path) -> None:
    """Found by the re-check: a remote that closed its output but ran on (ssh holding the
    pipe) kept its feed 'connected' with no reconnect and no down record."""
    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    lines = [json.dumps(snap), json.dumps({"type": "synced", "seq": 2, "count": 1})]
    script = tmp_path / "quiet.txt"
    script.write_text("\n".join(lines) + "\n")
    once = tmp_path / "once"  # the first run speaks, then falls silent; the later ones too
    command = f"[ -e {once} ] || {{ touch {once}; cat {script}; }}; sleep 60"
    feed = Feed("quiet", ["sh", "-c", command], backoff=(0.05, 0.1), silence=0.5)
    task = await _start(feed)
    try:
        await _until("a second run", lambda: feed.connections >= 2, timeout=20)
        down = await _until("a down record", lambda: (read_cache("quiet") or {}).get("down"))
        assert down["code"] == 255 and down["message"] == "no word for 0.5s"
    finally:
        await _stop(task)


async def test_a_remote_flooding_new_instances_is_told_a_few_times(tmp_path: Path) -> None:
    """Found by the re-check: new ids escaped the per-instance throttle (7 notices/s)."""
    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    lines = [json.dumps(snap), json.dumps({"type": "synced", "seq": 2, "count": 1})]
    for seq in range(3, 203):
        event = {"type": "created", "seq": seq, "id": f"n{seq}", "name": f"n{seq}"}
        lines.append(json.dumps({**event, "state": "waiting"}))
    told: list[str] = []

    async def notify(name: str, state: str) -> None:
        told.append(name)

    script = tmp_path / "names.txt"
    script.write_text("\n".join(lines) + "\n")
    # a line every few ms: each notice is done before the next comes (none is pending)
    paced = f'while IFS= read -r line; do echo "$line"; sleep 0.005; done < {script}; sleep 60'
    feed = Feed("many", ["sh", "-c", paced], notify=notify, backoff=(5, 5))
    task = await _start(feed)
    try:
        await _until("all", lambda: len(_cached("many")) == 201, timeout=60)
        await asyncio.sleep(0.1)
        assert 1 <= len(told) <= 10, len(told)
    finally:
        await _stop(task)


async def test_a_cancel_that_meets_a_chunk_ends_the_reading() -> None:
    """Python 3.11's wait_for returned the chunk when a cancel came in the same turn of the
    loop, and the feed read on: watch-remotes did not stop, and CI hung in this file."""
    reader = asyncio.StreamReader()
    got: list[bytes] = []

    async def read() -> None:
        got.extend([line async for line in _lines(reader, 30)])

    task = asyncio.get_running_loop().create_task(read())
    await asyncio.sleep(0.01)  # it waits for a chunk
    reader.feed_data(b"one\n")
    await asyncio.sleep(0)  # the chunk is read, not yet handed on
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=2)
    assert done and task.cancelled(), f"read on after the cancel: {got}"


async def test_a_streaming_feed_ends_at_once_whenever_it_is_cancelled(tmp_path: Path) -> None:
    """The same from outside: a remote that never stops talking, cancelled at many moments."""
    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    synced = {"type": "synced", "seq": 2, "count": 1}
    alive = json.dumps({"type": "alive", "seq": 2})
    script = tmp_path / "chatty.sh"
    script.write_text(
        f"echo '{json.dumps(snap)}'; echo '{json.dumps(synced)}'\n"
        f"while :; do echo '{alive}'; done\n"
    )

    async def cancelled_after(pause: float) -> bool:
        feed = Feed("chatty", ["sh", str(script)], backoff=(0.05, 0.1))
        task = await _start(feed)
        await _until("the snapshot", lambda: feed.synced)
        await asyncio.sleep(pause)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=5)
        return bool(done) and task.cancelled()

    for attempt in range(40):
        assert await cancelled_after(attempt * 0.0007), f"attempt {attempt}: ran on"


@pytest.mark.parametrize("flooding", [0.5, 1.0, 2.0])
def test_watch_remotes_ends_on_sigterm_while_remotes_flood_it(
    tmp_path: Path, flooding: float
) -> None:
    """A remote writing one endless line and another endless alive lines: a stream that always
    has data never let the loop take the signal (found by the hostile trial, session 5); and
    once read slower than it came, the stream's pipe was paused and wait() never returned
    (the hostile trial, session 6: 5 hangs in 11)."""
    snap = {"type": "snapshot", "seq": 1, "id": "a1", "name": "api", "state": "idle"}
    synced = {"type": "synced", "seq": 2, "count": 1}
    alive = json.dumps({"type": "alive", "seq": 2})
    marker = f"flood-{time.time():.6f}"  # in each remote's argv, to find what is left
    chatty = tmp_path / "chatty.sh"
    chatty.write_text(
        f"# {marker}\necho '{json.dumps(snap)}'; echo '{json.dumps(synced)}'\n"
        f"while :; do echo '{alive}'; done\n"
    )
    endless = f"tr '\\0' a < /dev/zero # {marker}"
    argv = [sys.executable, "-m", "tmuxclaude", "watch-remotes"]
    argv += [f"--feed=chatty=sh {chatty}", f"--feed=endless=sh -c {shlex.quote(endless)}"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not (read_cache("chatty") or {}).get("synced"):
            assert time.monotonic() < deadline and proc.poll() is None, "chatty never synced"
            time.sleep(0.05)
        time.sleep(flooding)  # both floods under way
        proc.terminate()
        out, err = proc.communicate(timeout=20)
        assert (proc.returncode, out, err) == (0, b"", b"")
        assert not _marked(marker), "a remote's command outlived watch-remotes"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        _reap(marker)


async def test_a_feed_whose_machine_changed_leaves_no_cache_of_the_old_one(
    tmp_path: Path,
) -> None:
    """An argv with another ControlPath (its digest: another machine) drops what the old
    machine's feed and list cached; another change (a timeout) keeps it."""
    from tmuxclaude.remote import listing
    from tmuxclaude.remote.feed_set import FeedSet

    def argv(control: str, wait: str = "60") -> list[str]:
        return ["sh", "-c", f"sleep {wait}", f"ControlPath={tmp_path}/{control}"]

    def plant() -> list[Path]:
        files = [Path(cache_path("box")), Path(listing.cache_path("box"))]
        for path in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("{}")
        return files

    feeds = FeedSet(lambda name, words: Feed(name, words))
    try:
        await feeds.sync({"box": argv("box.aaaa")})
        files = plant()
        await feeds.sync({"box": argv("box.aaaa", "61")})  # the same machine
        assert all(path.exists() for path in files)
        await feeds.sync({"box": argv("box.bbbb", "61")})  # another one
        assert not any(path.exists() for path in files)
        assert feeds.feeds["box"].argv == argv("box.bbbb", "61")
    finally:
        await feeds.stop_all()
