"""``tclaude watch``: a snapshot, then the events the hosts and commands push."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_runner import Tclaude
from tests.support.hosts import ControlServer, FakeCli
from tests.watch.stream import WatchStream


@pytest.fixture
def watchers() -> Iterator[list[WatchStream]]:
    started: list[WatchStream] = []
    yield started
    for stream in started:
        stream.stop()


def _sockets(env: dict[str, str]) -> list[str]:
    directory = Path(env["TCLAUDE_RUNTIME_DIR"]) / "watch"
    return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


async def _new(tclaude: Tclaude, control: ControlServer, name: str, cwd: Path) -> FakeCli:
    await asyncio.to_thread(tclaude.json, "new", "--name", name, "--cwd", str(cwd), "--detached")
    return await control.accept()


async def _socket_count(env: dict[str, str], count: int) -> None:
    deadline = time.monotonic() + 15
    while len(_sockets(env)) != count:
        assert time.monotonic() < deadline, _sockets(env)
        await asyncio.sleep(0.02)


async def test_snapshot_then_created_state_renamed_killed(
    tclaude: Tclaude,
    tmp_path: Path,
    control: ControlServer,
    watchers: list[WatchStream],
    isolated_env: dict[str, str],
) -> None:
    await _new(tclaude, control, "a", tmp_path)
    stream = WatchStream()
    watchers.append(stream)
    snapshot = await stream.synced()
    assert [(e["name"], e["cwd"], e["target"]) for e in snapshot] == [
        ("a", str(tmp_path), "tclaude:0.0")
    ]
    cli = await _new(tclaude, control, "b", tmp_path)
    created = await stream.next("created", name="b")
    assert created["target"] and created["pane"].startswith("%") and created["cwd"] == str(tmp_path)
    await stream.next("state", name="b", state="idle")  # SessionStart
    await cli.hook("UserPromptSubmit")
    busy = await stream.next("state", name="b", state="busy")
    assert busy["old"] == "idle" and busy["id"] == created["id"]
    await cli.hook("PermissionRequest", {"tool_name": "Write"})
    await stream.next("state", name="b", state="waiting", old="busy")
    await cli.hook("Stop")
    done = await stream.next("state", name="b", state="idle", old="waiting")
    assert done["unseen"] is True
    await asyncio.to_thread(tclaude.run, "rename", "b", "c")
    await stream.next("renamed", name="c", old="b")
    await asyncio.to_thread(tclaude.run, "kill", "c")
    await stream.next("state", name="c", state="stopped")
    killed = await stream.next("killed", name="c")
    assert killed["id"] == created["id"]
    seqs = [e["seq"] for e in [*snapshot, created, busy, done, killed]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    code, err = stream.stop()
    assert (code, err) == (0, "")
    assert _sockets(isolated_env) == []  # SIGTERM removed its socket


async def test_two_watchers_see_the_same_change(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer, watchers: list[WatchStream]
) -> None:
    cli = await _new(tclaude, control, "a", tmp_path)
    watchers += [WatchStream(), WatchStream()]
    for stream in watchers:
        await stream.synced()
    await cli.hook("UserPromptSubmit")
    for stream in watchers:
        await stream.next("state", name="a", state="busy")


async def test_heartbeat_lines_and_what_the_stream_says_of_each_instance(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer, watchers: list[WatchStream]
) -> None:
    from tmuxclaude import VERSION

    await _new(tclaude, control, "a", tmp_path)
    stream = WatchStream(args=("--heartbeat", "0.2"))
    watchers.append(stream)
    [first] = await stream.synced()
    assert isinstance(first["port"], int) and first["created"] <= time.time()
    alive = await stream.next("alive")
    later = await stream.next("alive")
    assert later["seq"] > alive["seq"] and set(alive) == {"seq", "type", "time"}
    await _new(tclaude, control, "b", tmp_path)
    created = await stream.next("created", name="b")
    assert isinstance(created["port"], int) and created["port"] != first["port"]
    assert abs(created["created"] - time.time()) < 60
    again = WatchStream()
    watchers.append(again)
    await again.synced()
    # a plain watch --json has no heartbeat; its synced line names the version
    assert again.synced_event is not None and again.synced_event["version"] == VERSION


def test_a_bad_heartbeat_is_one_line(tclaude: Tclaude) -> None:
    proc = tclaude.run("watch", "--json", "--heartbeat", "0", check=False)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        "tclaude: --heartbeat takes seconds between 0.05 and 3600"
    ]
    proc = tclaude.run("watch", "--heartbeat", "1", check=False)  # without --json
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        "tclaude: --heartbeat goes with --json (its alive lines are JSON)"
    ]


def test_a_closed_output_ends_it_cleanly(tclaude: Tclaude, isolated_env: dict[str, str]) -> None:
    # only one line ("synced"): it must notice the reader is gone while it waits
    watch = f"{sys.executable} -m tmuxclaude watch --json"
    proc = subprocess.Popen(
        ["bash", "-c", f"set -o pipefail; {watch} | head -1; echo $?"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # a hang guard: nothing left behind
    lines = out.splitlines()
    assert '"type": "synced"' in lines[0] and lines[1] == "0"
    assert err == ""
    assert _sockets(isolated_env) == []


async def test_garbage_datagrams_are_ignored(
    tclaude: Tclaude,
    tmp_path: Path,
    control: ControlServer,
    watchers: list[WatchStream],
    isolated_env: dict[str, str],
) -> None:
    cli = await _new(tclaude, control, "a", tmp_path)
    stream = WatchStream()
    watchers.append(stream)
    (entry,) = await stream.synced()
    (name,) = _sockets(isolated_env)
    path = str(Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / "watch" / name)
    good = json.dumps({"v": 1, "type": "state", "id": entry["id"], "name": "a", "state": "busy"})
    garbage = [
        b"not json",
        b"\xff\xfe",
        b"[1,2]",
        b'{"v":2,"type":"state","id":"x1","name":"a","state":"busy"}',
        b'{"v":1,"type":"exec","id":"x1","name":"a","state":"busy"}',
        b'{"v":1,"type":"created","id":"x1","name":"a;b","state":"busy"}',
        b'{"v":1,"type":"created","id":"x1","name":"a","state":"evil"}',
        b'{"v":1,"type":"created","id":"../x","name":"a","state":"busy"}',
        b'{"v":1,"type":"created","id":"x1","name":"a","state":"busy","cwd":"rel"}',
        b'{"v":1,"type":"created","id":"x1","name":"a","state":"busy","pane":"%1;x"}',
        b'{"v":1,"type":"renamed","id":"x1","name":"a","old":"#(boom)"}',
        b"[" * 3000,
        good.replace("busy", "waiting").encode() + b" " * 5000,  # oversized
    ]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sender:
        for data in garbage:
            sender.sendto(data, path)
        sender.sendto(good.encode(), path)  # a valid one still counts
    first = await stream.next("state", id=entry["id"])
    assert first["state"] == "busy"
    await cli.hook("UserPromptSubmit")  # busy already, as the forged one said: no event
    await cli.hook("PermissionRequest", {"tool_name": "Write"})
    await stream.next("state", name="a", state="waiting", old="busy")
    assert stream.seen == [] and stream.proc.poll() is None


async def test_a_watcher_killed_hard_leaves_a_socket_that_hosts_remove(
    tclaude: Tclaude,
    tmp_path: Path,
    control: ControlServer,
    watchers: list[WatchStream],
    isolated_env: dict[str, str],
) -> None:
    cli = await _new(tclaude, control, "a", tmp_path)
    dead, alive = WatchStream(), WatchStream()
    watchers += [dead, alive]
    await dead.synced()
    await alive.synced()
    assert len(_sockets(isolated_env)) == 2
    os.kill(dead.proc.pid, signal.SIGKILL)
    dead.proc.wait(10)
    assert len(_sockets(isolated_env)) == 2  # nobody removed it
    await cli.hook("UserPromptSubmit")
    await alive.next("state", name="a", state="busy")
    await _socket_count(isolated_env, 1)  # the host met the refusal and removed it


async def test_a_watcher_that_fell_behind_resyncs(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer, watchers: list[WatchStream]
) -> None:
    from tmuxclaude import watch

    await _new(tclaude, control, "a", tmp_path)
    stream = WatchStream()
    watchers.append(stream)
    await stream.synced()
    qlen = int(Path("/proc/sys/net/unix/max_dgram_qlen").read_text())
    os.kill(stream.proc.pid, signal.SIGSTOP)  # a slow watcher: its queue fills
    try:
        for i in range(qlen + 5):
            filler: dict[str, object] = {"type": "created", "id": f"f{i}", "name": f"f{i}"}
            filler["state"] = "idle"
            watch.publish(filler)  # never in the registry
        await asyncio.to_thread(tclaude.run, "kill", "a")  # its events find the queue full
    finally:
        os.kill(stream.proc.pid, signal.SIGCONT)
    await stream.next("killed", name="a")
    # what it had accepted of the fillers it takes back: it converges on the registry
    created = [e["name"] for e in stream.seen if e["type"] == "created"]
    assert created  # the queue took some
    for name in created:
        await stream.next("killed", name=name)


@pytest.mark.parametrize("bad", ["\u009b", "\u202e", "\u2069"])
def test_datagrams_with_c1_or_bidi_in_cwd_or_target_are_refused(bad: str) -> None:
    from tmuxclaude import watch

    base = {"v": 1, "type": "created", "id": "a1", "name": "api", "state": "idle"}
    assert watch.parse_datagram(json.dumps({**base, "cwd": "/srv/caf\u00e9"}).encode())
    for extra in ({"cwd": f"/srv/{bad}x"}, {"target": f"ma{bad}in:1.0"}):
        assert watch.parse_datagram(json.dumps({**base, **extra}).encode()) is None


async def test_json_lines_are_ascii_and_a_bidi_cwd_is_not_shown(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer
) -> None:
    odd = tmp_path / "caf\u00e9"
    bidi = tmp_path / "x\u202ey"
    odd.mkdir()
    bidi.mkdir()
    await _new(tclaude, control, "a", odd)
    await _new(tclaude, control, "b", bidi)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tmuxclaude", "watch", "--json", stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None
        lines = [await asyncio.wait_for(proc.stdout.readline(), 15) for _ in range(3)]
    finally:
        proc.terminate()
        await proc.wait()
    assert all(line.isascii() for line in lines), lines
    cwds = {e["name"]: e.get("cwd") for e in map(json.loads, lines) if e["type"] == "snapshot"}
    assert cwds == {"a": str(odd), "b": None}
