"""The picker and the menu switch to a remote instance over real ssh, as tclaude switch does."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli_runner import Tclaude
from tests.support.hosts import ControlServer
from tests.support.remotes import Machine, Remotes
from tests.tmux import conftest as tmux_fixtures
from tests.tmux.conftest import Client, Server, wait_for

server = tmux_fixtures.server  # a local tmux server and a real client attached to it
client = tmux_fixtures.client


@pytest.fixture
def feeds(
    server: Server, remotes: Remotes, isolated_env: dict[str, str]
) -> Iterator[subprocess.Popen[bytes]]:
    """The real watch-remotes (ssh feeds of alpha and beta), following the local server;
    started before the plugin, whose own one then exits at once."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tmuxclaude", "watch-remotes"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(
            lambda: (
                server.tmux("show-options", "-gqv", "@tclaude-remote-watcher").strip()
                == str(proc.pid)
            ),
            30,
            "watch-remotes",
        )
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _fed(env: dict[str, str], remote: str, name: str) -> bool:
    path = Path(env["TCLAUDE_STATE_DIR"]) / "remotes" / f"{remote}.feed.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return data.get("connected") is True and name in [i["name"] for i in data["instances"]]


def _attached(machine: Machine) -> list[str]:
    return machine.tmux("list-clients", "-F", "#{window_name}").stdout.split()


def test_enter_on_a_remote_row_opens_the_window_attached_to_it(
    tclaude: Tclaude,
    server: Server,
    client: Client,
    alpha: Machine,
    feeds: subprocess.Popen[bytes],
    isolated_env: dict[str, str],
) -> None:
    tclaude.run("new", "--on", "alpha", "--name", "api", "--detached")
    wait_for(lambda: _fed(isolated_env, "alpha", "api"), 60, "alpha's feed")
    server.source()
    server.new("here")
    origin = client.pane()
    client.keys("C-b", "C-f")
    client.wait_screen("alpha:api")
    client.type("/alpha:api")
    client.keys("Enter", "Enter")  # keep the filter, then switch
    wait_for(
        lambda: server.tmux("display-message", "-p", "#{window_name}").strip() == "alpha:api",
        60,
        "the client on the window alpha:api",
    )
    windows = server.tmux("list-windows", "-a", "-F", "#{window_name}\t#{@tclaude-remote}")
    assert windows.splitlines().count("alpha:api\talpha:api") == 1
    # in the session of the pane the picker was opened from, after its window
    session = server.tmux("display", "-p", "-t", origin, "#{session_name}").strip()
    ids = server.tmux("list-windows", "-t", session, "-F", "#{window_id}").split()
    names = server.tmux("list-windows", "-t", session, "-F", "#{window_name}").split()
    origin_window = server.tmux("display", "-p", "-t", origin, "#{window_id}").strip()
    assert names[ids.index(origin_window) + 1] == "alpha:api", names
    deadline = time.monotonic() + 30
    while _attached(alpha) != ["api"]:  # the ssh there attached to the instance
        assert time.monotonic() < deadline, _attached(alpha)
        time.sleep(0.2)


def test_a_menu_item_switches_to_a_remote_instance(
    tclaude: Tclaude,
    server: Server,
    client: Client,
    beta: Machine,
    feeds: subprocess.Popen[bytes],
    isolated_env: dict[str, str],
) -> None:
    tclaude.run("new", "--on", "beta", "--name", "w1", "--detached")
    wait_for(lambda: _fed(isolated_env, "beta", "w1"), 60, "beta's feed")
    server.source()
    client.keys("C-b", "C-e")
    try:
        client.wait_screen("beta:w1")
    except AssertionError as err:  # seen once in a full run under load: say what menu knew
        cache = Path(isolated_env["TCLAUDE_STATE_DIR"]) / "remotes" / "beta.feed.json"
        menu = tclaude.run("menu", "--print", check=False)
        raise AssertionError(
            f"{err}\nfeed cache: {cache.read_text()}\nmenu --print: {menu.stdout}{menu.stderr}"
        ) from None
    client.type("1")  # no local instance: the remote one is the first item
    wait_for(
        lambda: server.tmux("display-message", "-p", "#{window_name}").strip() == "beta:w1",
        60,
        "the client on the window beta:w1",
    )
    deadline = time.monotonic() + 30
    while _attached(beta) != ["w1"]:
        assert time.monotonic() < deadline, _attached(beta)
        time.sleep(0.2)


def test_switch_with_a_client_works_from_outside_tmux(
    tclaude: Tclaude, server: Server, client: Client, alpha: Machine
) -> None:
    """As the menu's items run it; it said "not inside tmux" whatever the client."""
    tclaude.run("new", "--on", "alpha", "--name", "api", "--detached")
    name = server.tmux("list-clients", "-F", "#{client_name}").strip()
    before = client.pane()
    tclaude.run("switch", "alpha:api", "--client", name)  # no $TMUX here
    wait_for(
        lambda: server.tmux("display-message", "-p", "#{window_name}").strip() == "alpha:api",
        60,
        "the client on the window alpha:api",
    )
    session = server.tmux("display", "-p", "-t", before, "#{session_name}").strip()
    assert "alpha:api" in server.tmux("list-windows", "-t", session, "-F", "#{window_name}")
    bad = tclaude.run("switch", "alpha:api", "--client", "/dev/nope", check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr


def test_switch_with_a_client_opens_the_window_in_that_clients_session(
    tclaude: Tclaude, server: Server, client: Client, alpha: Machine
) -> None:
    """Run in a pane of another session, --client CLIENT made the window in the pane's
    session and pulled the client there (new-user trial); the client's session is meant."""
    tclaude.run("new", "--on", "alpha", "--name", "api", "--detached")
    name = server.tmux("list-clients", "-F", "#{client_name}").strip()
    shown = client.pane()
    server.tmux("new-session", "-d", "-s", "other", "-x", "120", "-y", "40")
    other = server.tmux("display", "-p", "-t", "other", "#{pane_id}").strip()
    inside = {"TMUX": "/tmp/x,1,0", "TMUX_PANE": other}  # as if run from a pane of "other"
    tclaude.run("switch", "alpha:api", "--client", name, env=inside)
    wait_for(
        lambda: server.tmux("display-message", "-p", "#{window_name}").strip() == "alpha:api",
        60,
        "the client on the window alpha:api",
    )
    assert server.tmux("list-windows", "-t", "other", "-F", "#{window_name}").count("\n") == 1
    assert client.session() == "main"
    ids = server.tmux("list-windows", "-t", "main", "-F", "#{window_id}").split()
    names = server.tmux("list-windows", "-t", "main", "-F", "#{window_name}").split()
    before = server.tmux("display", "-p", "-t", shown, "#{window_id}").strip()
    assert names[ids.index(before) + 1] == "alpha:api", names  # after the window it showed


def test_a_menu_item_that_fails_shows_its_error_on_the_client(
    tclaude: Tclaude,
    server: Server,
    client: Client,
    remotes: Remotes,
    alpha: Machine,
    isolated_env: dict[str, str],
) -> None:
    """With alpha's link down, choosing alpha:a1 showed only tmux's "'…' returned 2"."""
    tclaude.run("new", "--on", "alpha", "--name", "a1", "--detached")
    tclaude.run("list")  # what the menu shows of alpha: its last list, asked now
    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config.write_text(remotes.config_toml({"alpha": 3.0}))
    server.tmux("set-option", "-g", "display-time", "0")  # a message stays until a key
    server.source()
    alpha.link_up(False)
    try:
        client.keys("C-b", "C-e")
        client.wait_screen("alpha:a1")
        client.type("1")  # no local instance: the remote one is the first item
        screen = client.wait_screen("tclaude: remote alpha: no answer within 3s", 60)
    finally:
        alpha.link_up(True)
    assert "returned" not in screen, screen
    assert "alpha:a1" not in server.tmux("list-windows", "-a", "-F", "#{window_name}")


async def test_the_waiting_key_and_switch_waiting_reach_a_remote_waiting_instance(
    tclaude: Tclaude,
    server: Server,
    client: Client,
    alpha: Machine,
    alpha_control: ControlServer,
    feeds: subprocess.Popen[bytes],
    isolated_env: dict[str, str],
) -> None:
    """With only alpha:api waiting (and counted in the status line), prefix C-w and
    switch --waiting said "no instance is waiting for input"."""
    await asyncio.to_thread(tclaude.run, "new", "--on", "alpha", "--name", "api", "--detached")
    cli = await alpha_control.accept()
    await asyncio.to_thread(wait_for, lambda: _fed(isolated_env, "alpha", "api"), 60, "the feed")
    await cli.hook("UserPromptSubmit")
    await cli.hook("PermissionRequest", {"tool_name": "Write"})

    def counted() -> bool:
        return server.tmux("show-options", "-gqv", "@tclaude-remote-waiting").strip() == "x"

    await asyncio.to_thread(wait_for, counted, 60, "alpha:api counted waiting")
    server.source()
    start = server.tmux("display-message", "-p", "#{window_id}").strip()

    def on_api() -> bool:
        return server.tmux("display-message", "-p", "#{window_name}").strip() == "alpha:api"

    client.keys("C-b", "C-w")
    await asyncio.to_thread(wait_for, on_api, 60, "the client on the window alpha:api")
    server.tmux("select-window", "-t", start)
    assert not on_api()
    name = server.tmux("list-clients", "-F", "#{client_name}").strip()
    await asyncio.to_thread(tclaude.run, "switch", "--waiting", "--client", name)
    await asyncio.to_thread(wait_for, on_api, 60, "the client on alpha:api again")
    windows = server.tmux("list-windows", "-a", "-F", "#{window_name}").split()
    assert windows.count("alpha:api") == 1, windows
