"""tclaude pick in a popup and tclaude menu, driven through a real attached client."""

from __future__ import annotations

import re
import shlex
import sys

from tests.support import tmux_servers
from tests.tmux.conftest import Client, Server, wait_for


def test_picker_lists_filters_switches_kills_and_starts(server: Server, client: Client) -> None:
    server.source()
    panes = server.new("api", "docs", "web")
    server.set_state(panes["docs"], "waiting")
    client.keys("C-b", "C-f")
    screen = client.wait_screen("tclaude: 3 instances")
    for name in ("api", "docs", "web"):
        screen = client.wait_screen(str(server.root / name))
    assert "◆ docs" in screen and "waiting" in screen
    assert "── docs (" in screen  # the waiting one is preselected and previewed

    client.type("/we")
    screen = client.wait_screen("/we_")
    assert str(server.root / "web") in screen and str(server.root / "api") not in screen
    client.keys("Enter", "Enter")  # leave the filter, then switch
    client.wait_pane(panes["web"])
    wait_for(lambda: "─ tclaude ─" not in client.screen(), what="the popup to close")

    client.keys("C-b", "C-f")
    client.wait_screen("tclaude: 3 instances")
    client.type("/api")
    client.keys("Enter", "x")
    client.wait_screen("kill api? (y/n)")
    client.type("y")
    client.wait_screen("killed api")
    assert "api" not in server.panes()
    client.type("n")
    client.wait_screen("new instance name")
    client.type("fresh")
    client.keys("Enter")
    wait_for(lambda: "fresh" in server.panes(), what="the new instance")
    client.wait_pane(server.panes()["fresh"])
    assert server.option(server.panes()["fresh"], "@tclaude-cwd") == str(server.root / "web")


def test_picker_quits_with_q_and_digits_switch(server: Server, client: Client) -> None:
    server.source()
    panes = server.new("a1", "b2")
    client.keys("C-b", "C-f")
    client.wait_screen("tclaude: 2 instances")
    client.type("q")
    wait_for(lambda: "─ tclaude ─" not in client.screen(), what="the popup to close")
    client.keys("C-b", "C-f")
    client.wait_screen("tclaude: 2 instances")
    client.type("2")
    client.wait_pane(panes[server.order()[1]])


def test_menu_prints_outside_tmux_and_switches_from_a_client(
    server: Server, client: Client
) -> None:
    server.source()
    panes = server.new("a1", "b2")
    out = server.tclaude.run("menu", "--print").stdout
    argv = shlex.split(out)
    assert argv[0].endswith("tmux") and "display-menu" in argv
    for number, name in enumerate(server.order(), 1):
        index = next(i for i, word in enumerate(argv) if word.endswith(f" {name}  idle"))
        instance_id = server.option(panes[name], "@tclaude-id")
        assert argv[index + 1] == str(number)
        assert argv[index + 2].endswith(f"switch {instance_id}'")

    client.keys("C-b", "C-e")
    client.wait_screen("b2  idle")
    client.type("2")
    client.wait_pane(panes[server.order()[1]])


def test_a_failing_menu_item_without_the_plugin_shows_its_error(
    server: Server, client: Client
) -> None:
    """Without run.sh (no plugin loaded), tmux shows what the item writes: its error went
    to stderr, which tmux does not show ("'…' returned 2" only)."""
    server.new("a1")
    name = server.tmux("list-clients", "-F", "#{client_name}").strip()
    # as a binding runs it: display-menu waits for the menu to close
    server.tmux("run-shell", "-b", f"{sys.executable} -m tmuxclaude menu --client {name}")
    client.wait_screen("a1  idle")
    server.tclaude.run("kill", "a1")
    client.type("1")
    client.wait_screen("tclaude: no running instances")


def test_picker_knows_the_pane_it_came_from_and_switch_back_returns(
    server: Server, client: Client
) -> None:
    server.source()
    panes = server.new("a1", "b2")
    server.tmux("switch-client", "-t", panes["a1"])
    client.wait_pane(panes["a1"])
    client.keys("C-b", "C-f")
    screen = client.wait_screen("tclaude: 2 instances")
    assert re.search(r"\d\*\S a1 ", screen), screen  # a1's row marks the origin
    other = re.search(r"(\d) \S b2 ", screen)
    assert other is not None, screen
    ids = {i["name"]: i["id"] for i in server.tclaude.json("list")}
    client.type(other.group(1))
    client.wait_pane(panes["b2"])
    assert server.tmux("show-options", "-gqv", "@tclaude-last").strip() == ids["a1"]
    server.tclaude.run("switch", "-")
    client.wait_pane(panes["a1"])


def test_menu_pick_item_gets_the_origin_pane(server: Server, client: Client) -> None:
    server.source()
    panes = server.new("a1")
    out = server.tclaude.run("menu", "--print", "--from", panes["a1"]).stdout
    assert f"pick --from {panes['a1']}" in out and "#{pane_id}" not in out
    bad = server.tclaude.run("menu", "--print", "--from", "#{pane_id}").stdout
    assert "--from" not in bad


def test_switch_and_menu_move_the_client_named_not_the_best_one(
    server: Server, client: Client
) -> None:
    import subprocess

    panes = server.new("a1", "b2")
    other = server.tclaude.socket + "-other"
    inner = f"env -u TMUX tmux -L {server.tclaude.socket} attach -t main"
    subprocess.run(
        ["tmux", "-L", other, "-f", "/dev/null", "new-session", "-d", "-s", "o", inner],
        check=True,
    )
    try:
        wait_for(
            lambda: len(server.tmux("list-clients", "-F", "#{client_name}").split()) == 2,
            what="the second client",
        )
        # the older client (the fixture's), not the one tmux would pick by itself
        target = next(
            n
            for n in server.tmux("list-clients", "-F", "#{client_name}").split()
            if n != _newest(server)
        )
        server.tclaude.run("switch", "b2", "--client", target)
        wait_for(lambda: _client_pane(server, target) == panes["b2"], what="the named client")
        assert _client_pane(server, _newest(server)) != panes["b2"]
        menu = server.tclaude.run("menu", "--print", "--client", target).stdout
        assert f"switch {server.option(panes['a1'], '@tclaude-id')} --client {target}" in menu
        bad = server.tclaude.run("switch", "a1", "--client", "/dev/nope", check=False)
        assert bad.returncode == 2 and "no tmux client '/dev/nope'" in bad.stderr
    finally:
        tmux_servers.reap(other)


def _client_pane(server: Server, name: str) -> str:
    out = server.tmux("list-clients", "-F", "#{client_name} #{pane_id}")
    return dict(line.split(" ", 1) for line in out.splitlines()).get(name, "")


def _newest(server: Server) -> str:
    """The client that attached last (tmux's best client when none is current)."""
    out = server.tmux("list-clients", "-F", "#{client_created} #{client_name}")
    return max(out.splitlines()).split(" ", 1)[1]


def test_picker_rows_show_each_instance_usage_as_list_does(server: Server, client: Client) -> None:
    from pathlib import Path

    from tests.support import transcripts as tr
    from tmuxclaude.transcript import project_dir

    server.source()
    server.new("used", "fresh")
    rows = {row["name"]: row for row in server.tclaude.json("list")}
    session_id = rows["used"]["session_id"]
    cwd = str(server.root / "used")
    usage = {"input_tokens": 30_000, "output_tokens": 2_000}
    tr.write(
        Path(project_dir(cwd)) / f"{session_id}.jsonl",
        [
            tr.user("hello", session_id, cwd),
            tr.assistant([tr.text("hi")], session_id, cwd, usage=usage),
        ],
    )
    listed = {row["name"]: row for row in server.tclaude.json("list")}
    text = listed["used"]["usage"]
    shown = f"{text['context_percent']:.0f}% ${text['cost_usd_estimate']:.2f}"
    assert shown == "16% $0.12"
    client.keys("C-b", "C-f")
    screen = client.wait_screen(shown)
    used = next(line for line in screen.splitlines() if " used " in line)
    assert shown in used
    fresh = next(line for line in screen.splitlines() if " fresh " in line)
    assert "%" not in fresh and "$" not in fresh
