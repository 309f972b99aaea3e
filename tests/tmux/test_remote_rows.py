"""Remote instances in the picker, the menu and the status counts, from a real feed.

The "remote" is a ``tclaude watch --json`` stream played from a file (``tail -f``:
lines appended later arrive as events) through a real ``watch-remotes --feed``;
the remotes are in config.toml, so ``remote.listing.known`` reads what the feed
keeps. Nothing here runs ssh (see tests/remote/test_remote_views.py for that).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.tmux.conftest import Client, Server, wait_for

SNAPSHOT = [
    {"id": "a1b2c3", "name": "api", "state": "waiting", "cwd": "/srv/api"},
    {"id": "d4e5f6", "name": "build", "state": "busy", "cwd": "/srv/build"},
]


@dataclass
class Feeds:
    """A running ``watch-remotes --feed alpha=tail -f FILE``; append lines to FILE."""

    proc: subprocess.Popen[bytes]
    stream: Path
    state_dir: Path
    seq: int = 10

    def event(self, **fields: Any) -> None:
        self.seq += 1
        with self.stream.open("a") as handle:
            handle.write(json.dumps({"seq": self.seq, **fields}) + "\n")

    def cache(self) -> dict[str, Any]:
        try:
            data = json.loads((self.state_dir / "remotes" / "alpha.feed.json").read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            _, err = self.proc.communicate()
        return self.proc.returncode, err.decode()


def _configure(env: dict[str, str], timeout: float = 600) -> None:
    """alpha in config.toml: the views read its feed's cache; nothing ssh-es to it here."""
    config = Path(env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    # its own timeout: the file stream has no heartbeat, and must not look silent
    config.write_text(f'[remotes.alpha]\nssh = "alpha.invalid"\ntimeout = {timeout}\n')


def _start_feeds(
    root: Path,
    env: dict[str, str],
    snapshot: list[dict[str, str]] = SNAPSHOT,
    proc_env: dict[str, str] | None = None,
) -> Feeds:
    stream = root / "alpha.jsonl"
    lines = [{"type": "snapshot", "seq": n, **i} for n, i in enumerate(snapshot, 1)]
    lines.append({"type": "synced", "seq": len(snapshot) + 1, "count": len(snapshot)})
    stream.write_text("".join(json.dumps(line) + "\n" for line in lines))
    command = shlex.join(["tail", "-n", "+1", "-f", str(stream)])
    proc = subprocess.Popen(
        [sys.executable, "-m", "tmuxclaude", "watch-remotes", f"--feed=alpha={command}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=proc_env,
    )
    feeds = Feeds(proc, stream, Path(env["TCLAUDE_STATE_DIR"]))
    try:
        wait_for(lambda: feeds.cache().get("connected") is True, 30, "the feed's snapshot")
    except AssertionError:
        proc.kill()
        proc.communicate()
        raise
    return feeds


@pytest.fixture
def feeds(server: Server, isolated_env: dict[str, str], tmp_path: Path) -> Iterator[Feeds]:
    """Started before the plugin is sourced: the plugin's own watch-remotes then finds this
    one serving the server and exits at once."""
    _configure(isolated_env)
    started = _start_feeds(tmp_path, isolated_env)
    try:
        wait_for(
            lambda: (
                server.tmux("show-options", "-gqv", "@tclaude-remote-watcher").strip()
                == str(started.proc.pid)
            ),
            what="watch-remotes to follow the server",
        )
        yield started
    finally:
        started.stop()


def _right(server: Server) -> str:
    return server.tmux("display-message", "-p", "#{E:status-right}")


def test_picker_shows_remote_rows_after_local_ones_and_filters_them(
    server: Server, client: Client, feeds: Feeds
) -> None:
    server.source()
    server.new("here")
    client.keys("C-b", "C-f")
    screen = client.wait_screen("alpha:build")
    lines = screen.splitlines()
    rows = [line for line in lines if re.match(r"\s*│\d", line)]
    order = [n for row in rows for n in ("here", "alpha:api", "alpha:build") if f" {n} " in row]
    assert order == ["here", "alpha:api", "alpha:build"], screen
    api = next(line for line in lines if " alpha:api " in line)
    assert "◆ alpha:api" in api and "waiting" in api and "/srv/api" in api
    assert "● alpha:build" in next(line for line in lines if " alpha:build " in line)
    assert "tclaude: 3 instances" in screen
    # urgent first: the remote waiting one, with what the preview can say of it
    assert "── alpha:api (on alpha)" in screen and "api on remote alpha: waiting" in screen

    client.type("/alpha:b")
    screen = client.wait_screen("/alpha:b_")
    assert " alpha:build " in screen and " alpha:api " not in screen and " here " not in screen
    client.keys("Escape")
    client.type("/busy")
    screen = client.wait_screen("/busy_")
    assert " alpha:build " in screen and " alpha:api " not in screen
    client.keys("Enter")

    client.type("x")  # kill: a local action, refused on a remote row, nothing killed
    client.wait_screen("x kills local instances; for this one: tclaude kill alpha:build")
    assert "here" in server.panes()
    assert "kill alpha:build?" not in client.screen()


def test_a_stale_remote_is_marked_with_its_age(
    server: Server, client: Client, feeds: Feeds
) -> None:
    server.source()
    server.new("here")
    client.keys("C-b", "C-f")
    screen = client.wait_screen("alpha:api")
    assert ", stale" not in screen
    assert feeds.stop()[0] == 0  # no feed running: what it knew is shown, stale
    screen = client.wait_screen("waiting, stale ")  # the picker reloads every second
    api = next(line for line in screen.splitlines() if " alpha:api " in line)
    assert "◆ alpha:api" in api and re.search(r"waiting, stale \d+s ", api), api
    # a stale waiting row is not "urgent": a new picker starts on the local one
    client.keys("Escape")
    wait_for(lambda: "─ tclaude ─" not in client.screen(), what="the popup to close")
    client.keys("C-b", "C-f")
    screen = client.wait_screen("alpha:api")
    assert "── here (" in screen


def test_menu_items_switch_to_remote_instances_by_remote_name(
    server: Server, client: Client, feeds: Feeds
) -> None:
    server.source()
    panes = server.new("here")
    out = server.tclaude.run("menu", "--print", "--client", "/dev/pts/9").stdout
    argv = shlex.split(out)
    labels = [word for word in argv if word.startswith(("○ ", "◆ ", "● "))]
    assert labels == ["○ here         idle", "◆ alpha:api    waiting", "● alpha:build  busy"]
    index = argv.index("◆ alpha:api    waiting")
    assert argv[index + 1] == "2"
    action = shlex.split(argv[index + 2])
    assert action[:2] == ["run-shell", "-b"]
    assert action[2].endswith(" switch alpha:api --client /dev/pts/9"), action
    instance_id = server.option(panes["here"], "@tclaude-id")
    assert argv[argv.index("○ here         idle") + 2].endswith(
        f"switch {instance_id} --client /dev/pts/9'"
    )
    client.keys("C-b", "C-e")
    client.wait_screen("alpha:build  busy")


def test_a_menu_of_many_remote_instances_keeps_the_local_ones_and_offers_the_rest(
    server: Server, client: Client, isolated_env: dict[str, str], tmp_path: Path
) -> None:
    """tmux refuses a command of about 16 KiB ("command too long") and does not show a menu
    taller than its client: the items stop in time, and the rest is one item, the picker."""
    _configure(isolated_env)
    many = [
        {"id": f"m{n:05d}", "name": f"n{n:05d}", "state": "idle", "cwd": "/srv"} for n in range(120)
    ]
    feeds = _start_feeds(tmp_path, isolated_env, many)
    try:
        wait_for(
            lambda: (
                server.tmux("show-options", "-gqv", "@tclaude-remote-watcher").strip()
                == str(feeds.proc.pid)
            ),
            what="watch-remotes to follow the server",
        )
        server.source()
        server.new("here")
        client.keys("C-b", "C-e")
        screen = client.wait_screen(" more… (pick)")
        assert "○ here " in screen and "alpha:n00000" in screen, screen
        shown = screen.count("alpha:n")
        assert 0 < shown < 120 and f"{120 - shown} more… (pick)" in screen, screen
        client.type("1")  # the local one kept its key
        wait_for(lambda: "more… (pick)" not in client.screen(), what="the menu to close")
        printed = server.tclaude.run("menu", "--print").stdout  # no height: bytes only
        assert len(printed.encode()) < 12 * 1024 and " more… (pick)" in printed
    finally:
        feeds.stop()


def test_status_counts_include_remote_instances_and_are_cleared_at_exit(
    server: Server, feeds: Feeds
) -> None:
    server.source()
    panes = server.new("here")
    wait_for(lambda: "◆#[default]1 " in _right(server), what="the remote waiting count")
    assert "●#[default]1 " in _right(server)
    assert server.tmux("show-options", "-gqv", "@tclaude-remote-waiting").strip() == "x"

    feeds.event(type="state", id="d4e5f6", name="build", state="waiting")
    wait_for(lambda: "◆#[default]2 " in _right(server), what="two remote waiting")
    assert "●" not in _right(server)
    server.set_state(panes["here"], "waiting")  # local and remote add up
    assert "◆#[default]3 " in _right(server)
    feeds.event(type="state", id="a1b2c3", name="api", state="idle", unseen=True)
    wait_for(lambda: "✓#[default]1 " in _right(server), what="a remote done")

    code, err = feeds.stop()
    assert code == 0, err
    for state in ("waiting", "limited", "error", "busy", "done"):
        assert server.tmux("show-options", "-gqv", f"@tclaude-remote-{state}").strip() == ""
    assert server.tmux("show-options", "-gqv", "@tclaude-remote-watcher").strip() == ""
    right = _right(server)
    assert "◆#[default]1 " in right and "✓" not in right  # the local one only


def test_a_flapping_remote_sets_the_counts_a_few_times_a_second(
    server: Server, isolated_env: dict[str, str], tmp_path: Path
) -> None:
    """Every tmux call of watch-remotes goes through a wrapper that logs it: a remote
    instance flapping busy/idle for a while costs a few calls per second, the last
    counts win, and lines that change no count cost none."""
    import shutil

    from tmuxclaude.remote.status_counts import APPLY_EVERY

    real = shutil.which("tmux")
    assert real is not None
    wrapper_dir = tmp_path / "wrapped"
    wrapper_dir.mkdir()
    log = tmp_path / "tmux-calls.log"
    (wrapper_dir / "tmux").write_text(
        f'#!/bin/sh\necho "$*" >> {shlex.quote(str(log))}\nexec {shlex.quote(real)} "$@"\n'
    )
    (wrapper_dir / "tmux").chmod(0o755)
    env = {**os.environ, "PATH": f"{wrapper_dir}{os.pathsep}{os.environ['PATH']}"}

    def sets() -> int:
        calls = log.read_text().splitlines() if log.exists() else []
        return sum("if-shell" in call and "@tclaude-remote-busy" in call for call in calls)

    def option(state: str) -> str:
        return server.tmux("show-options", "-gqv", f"@tclaude-remote-{state}").strip()

    _configure(isolated_env)
    feeds = _start_feeds(tmp_path, isolated_env, proc_env=env)
    try:
        wait_for(lambda: option("busy") == "x", 30, "the first counts")
        before = sets()
        assert before >= 1
        started = time.monotonic()
        for n in range(300):  # ~2 s of flapping, one line each few ms
            feeds.event(type="state", id="d4e5f6", name="build", state=("idle", "busy")[n % 2])
            time.sleep(0.005)
        feeds.event(type="state", id="d4e5f6", name="build", state="waiting")
        wait_for(lambda: option("waiting") == "xx" and option("busy") == "", 30, "the last")
        elapsed = time.monotonic() - started
        made = sets() - before
        assert 1 <= made <= elapsed / APPLY_EVERY + 2, (made, elapsed)

        settled = sets()
        for _ in range(20):  # a rename changes no count
            feeds.event(type="renamed", id="d4e5f6", name="build2")
        feeds.event(type="state", id="a1b2c3", name="api", state="error")
        wait_for(lambda: option("error") == "x", 30, "the error count")
        assert sets() == settled + 1  # the renames cost nothing, the change one call
    finally:
        feeds.stop()


def test_a_silent_feed_is_left_out_of_the_counts_as_list_calls_it_stale(
    server: Server, isolated_env: dict[str, str], tmp_path: Path
) -> None:
    """One rule for every view: a feed silent for the remote's timeout (a cut link, long
    before ssh gives up on it) counts nothing, and counts again when it speaks."""
    from tmuxclaude import config
    from tmuxclaude.remote import listing

    def waiting() -> str:
        return server.tmux("show-options", "-gqv", "@tclaude-remote-waiting").strip()

    def heard_until_counted(stream: Feeds) -> None:
        deadline = time.monotonic() + 30  # a hang guard only
        while waiting() != "x":
            assert time.monotonic() < deadline, "the remote's waiting instance not counted"
            stream.event(type="alive")  # heartbeats, as the remote's watch sends them
            time.sleep(0.2)

    _configure(isolated_env, timeout=2)
    feeds = _start_feeds(tmp_path, isolated_env)
    try:
        heard_until_counted(feeds)
        synced = feeds.cache().get("synced")
        wait_for(lambda: waiting() == "", 30, "the silent feed to count nothing")
        cache = feeds.cache()
        # left out while its feed still runs (ssh would keep a dead link 15 s), not ended
        assert cache.get("connected") is True and cache.get("synced") == synced
        wait_for(  # what the picker and list say meanwhile
            lambda: listing.known(config.load())[0].stale_for is not None, 30, "list: stale"
        )
        heard_until_counted(feeds)  # it speaks again: counted again, without a resync
        assert feeds.cache().get("synced") == synced
    finally:
        feeds.stop()


def test_watch_remotes_exits_when_its_tmux_server_is_gone(
    server: Server, isolated_env: dict[str, str], tmp_path: Path
) -> None:
    _configure(isolated_env)
    feeds = _start_feeds(tmp_path, isolated_env)
    try:
        wait_for(lambda: bool(server.tmux("show-options", "-gqv", "@tclaude-remote-waiting")))
        time.sleep(0.5)
        assert feeds.proc.poll() is None  # it runs while its server does
        server.tclaude.kill_server()
        code, err = _wait_exit(feeds)
        assert code == 0, err
        assert feeds.cache().get("connected") is False  # its feeds were ended in order
    finally:
        if feeds.proc.poll() is None:
            feeds.proc.kill()
            feeds.proc.wait()


def _wait_exit(feeds: Feeds) -> tuple[int, str]:
    """Its exit, by itself (a hang guard only: it checks its server every 2 s)."""
    try:
        _, err = feeds.proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError("watch-remotes outlived its tmux server") from None
    return feeds.proc.returncode, err.decode()


def test_a_new_server_gets_the_counts_when_the_old_one_ends(
    server: Server, isolated_env: dict[str, str], tmp_path: Path
) -> None:
    """A restart (kill-server, then tmux again): the plugin's watch-remotes on the new
    server waits for the old one, which follows the dead server, to hand over."""
    _configure(isolated_env)
    first = _start_feeds(tmp_path, isolated_env)
    second: subprocess.Popen[bytes] | None = None
    try:
        server.tclaude.kill_server()
        subprocess.run(
            ["tmux", "-L", server.tclaude.socket, "-f", "/dev/null", "new-session", "-d"],
            check=True,
            env={**os.environ, "LANG": "C.UTF-8"},
        )
        command = shlex.join(["tail", "-n", "+1", "-f", str(first.stream)])
        second = subprocess.Popen(
            [sys.executable, "-m", "tmuxclaude", "watch-remotes", f"--feed=alpha={command}"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(
            lambda: server.tmux("show-options", "-gqv", "@tclaude-remote-waiting").strip() == "x",
            30,
            "the second watch-remotes to count on the new server",
        )
        assert first.proc.wait(30) == 0  # it gave way (the lock is free once it has)
        assert second.poll() is None
    finally:
        for proc in (first.proc, second):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        if first.proc.stderr:
            first.proc.stderr.close()


def test_without_remotes_the_picker_and_the_menu_load_nothing_of_remote(server: Server) -> None:
    """Their start-up is measured: tmuxclaude.remote (ssh, threads) only with a remote."""
    server.new("here")
    code = (
        "import sys\n"
        "from tmuxclaude.app import App\n"
        "from tmuxclaude.cli.menu import menu_argv\n"
        "from tmuxclaude.picker.screen import Picker\n"
        "app = App.load()\n"
        "assert any('here' in word for word in menu_argv(app, None))\n"
        "picker = Picker(app, None)\n"
        "picker.reload(first=True)\n"
        "assert [row.label for row in picker.rows] == ['here']\n"
        "print(sorted(m for m in sys.modules if m.startswith('tmuxclaude.remote')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (proc.returncode, proc.stdout.strip()) == (0, "[]"), proc.stderr


def test_a_remote_waiting_row_is_urgent_wherever_the_picker_was_opened() -> None:
    """Opened with no pane known (outside tmux), a remote row is not "the current one"."""
    from tmuxclaude.picker import RemoteRow, urgent_index

    stale = RemoteRow("alpha", "old", "c1", "waiting", False, "/srv", None, seen=90.0)
    fresh = RemoteRow("alpha", "web", "b1", "waiting", False, "/srv", None)
    assert urgent_index([stale, fresh], None) == 1
    assert urgent_index([stale, fresh], "%3") == 1
    done = RemoteRow("beta", "api", "d1", "idle", True, "/srv", None)
    assert urgent_index([stale, done], None) == 1  # a remote done one, when no waiting one


def test_switch_waiting_and_done_fall_back_to_a_fresh_remote_instance(
    server: Server, feeds: Feeds
) -> None:
    """With none here, they said "no instance is waiting" though the status line counted
    alpha's; outside tmux, the remote one is named as tclaude attach takes it."""
    feeds.event(type="state", id="d4e5f6", name="build", state="idle", unseen=True)
    wait_for(
        lambda: server.tmux("show-options", "-gqv", "@tclaude-remote-done").strip() == "x",
        what="alpha:build counted done",
    )
    for flag, label in (("--waiting", "alpha:api"), ("--done", "alpha:build")):
        proc = server.tclaude.run("switch", flag, check=False)
        assert proc.returncode == 2, proc
        assert proc.stderr == f"tclaude: not inside tmux: use tclaude attach {label}\n"
    feeds.stop()  # stale from now on: not counted, not chosen
    proc = server.tclaude.run("switch", "--waiting", check=False)
    assert proc.stderr == "tclaude: no running instances; start one with: tclaude new\n"


def test_without_remotes_switch_waiting_loads_nothing_of_remote(server: Server) -> None:
    server.new("here")
    code = (
        "import sys\n"
        "from tmuxclaude.cli import main\n"
        "assert main(['switch', '--waiting']) == 2\n"
        "print(sorted(m for m in sys.modules if m.startswith('tmuxclaude.remote')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (proc.returncode, proc.stdout.strip()) == (0, "[]"), proc.stderr
    assert proc.stderr == "tclaude: no instance is waiting for input\n"
