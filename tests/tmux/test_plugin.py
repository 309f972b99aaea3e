"""tmux/tclaude.tmux in a fresh tmux 3.3 server: bindings, hooks, status formats."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from tests.tmux.conftest import TCLAUDE_CMD, Client, Server, wait_for
from tests.watch.stream import WatchStream

KEYS = {
    "C-n": "new.sh",
    "C-f": "pick",
    "C-e": "menu",
    "C-j": "focus.sh' next",
    "C-k": "focus.sh' prev",
    "C-w": "focus.sh' waiting",
    "C-d": "focus.sh' finished",
    "C-x": "kill.sh",
    "C-t": "beside.sh",
    "R": "review.sh",
}
HOOKS = (
    "client-attached",
    "client-session-changed",
    "session-window-changed",
    "window-pane-changed",
)


def _bindings(server: Server, table: str = "prefix") -> dict[str, str]:
    out = server.tmux("list-keys", "-T", table)
    found = {}
    for line in out.splitlines():
        parts = line.split(None, 4)
        found[parts[3]] = parts[4] if len(parts) > 4 else ""
    return found


def _hook_lines(server: Server) -> list[str]:
    out = server.tmux("show-hooks", "-g") + server.tmux("show-hooks", "-gw")
    return [line for line in out.splitlines() if "@tclaude-unseen" in line]


def test_sources_cleanly_binds_every_key_and_twice_changes_nothing(server: Server) -> None:
    server.tmux("set-hook", "-g", "client-attached", "set-option -g @mine 1")
    server.tmux("set-option", "-g", "status-right", "MINE")
    server.tmux("set-option", "-gw", "window-status-format", "#I:#W")
    assert server.source() == ""
    bindings = _bindings(server)
    for key, what in KEYS.items():
        assert what in bindings[key], (key, bindings.get(key))
    assert "@tclaude-unseen" in server.tmux("show-hooks", "-g", "client-attached")
    assert "set-option -g @mine 1" in server.tmux("show-hooks", "-g", "client-attached")
    assert sorted(line.split("[")[0] for line in _hook_lines(server)) == sorted(HOOKS)
    right = server.tmux("show-option", "-gv", "status-right")
    window = server.tmux("show-option", "-gwv", "window-status-format")
    current = server.tmux("show-option", "-gwv", "window-status-current-format")
    length = server.tmux("show-option", "-gv", "status-right-length")
    assert right.startswith("MINE#{?") and window.startswith("#I:#W#{?")
    assert "@tclaude-state" in current

    assert server.source() == ""
    assert server.tmux("show-option", "-gv", "status-right") == right
    assert server.tmux("show-option", "-gwv", "window-status-format") == window
    assert server.tmux("show-option", "-gwv", "window-status-current-format") == current
    assert server.tmux("show-option", "-gv", "status-right-length") == length
    assert len(_hook_lines(server)) == len(HOOKS)


def test_options_choose_the_table_keys_and_turn_the_status_off(server: Server) -> None:
    for option, value in (
        ("key-table", "tclaude"),
        ("key-enter", "a"),
        ("key-next", "n"),
        ("key-menu", "none"),
        ("key-last", "l"),
        ("status", "off"),
    ):
        server.tmux("set-option", "-g", f"@tclaude-{option}", value)
    original = server.tmux("show-option", "-gv", "status-right")
    assert server.source() == ""
    table = _bindings(server, "tclaude")
    assert "focus.sh' next" in table["n"] and "focus.sh' last" in table["l"]
    assert "C-e" not in table and "C-j" not in table and "C-k" in table
    assert "switch-client -T tclaude" in _bindings(server)["a"]
    assert server.tmux("show-option", "-gv", "status-right") == original


def test_status_formats_show_a_glyph_per_instance_and_counts(server: Server) -> None:
    server.source()
    panes = server.new("api", "docs", "web", "ops")
    server.set_state(panes["api"], "waiting")
    server.set_state(panes["docs"], "busy")
    server.set_state(panes["web"], "idle", unseen=True)
    server.set_state(panes["ops"], "error")
    server.tmux("split-window", "-d", "-t", panes["api"])  # a shell beside: no glyph of its own

    def window(name: str) -> str:
        return server.tmux(
            "display-message", "-p", "-t", panes[name], "#{E:window-status-format}"
        ).strip()

    assert window("api").endswith("◆") and window("api").count("◆") == 1
    assert window("docs").endswith("●")
    assert window("web").endswith("✓")
    assert window("ops").endswith("✗")
    assert "#{" not in window("api")
    right = server.tmux("display-message", "-p", "#{E:status-right}")
    for glyph in ("◆", "●", "✓", "✗"):
        assert f"{glyph}#[default]1 " in right, right
    server.set_state(panes["docs"], "waiting")
    server.set_state(panes["web"], "idle")  # seen: a plain idle glyph, no count
    right = server.tmux("display-message", "-p", "#{E:status-right}")
    assert "◆#[default]2 " in right and "●" not in right and "✓" not in right
    assert window("web").endswith("○")

    server.set_state(panes["ops"], "limited")
    assert window("ops").endswith("⧖")
    assert "⧖#[default]1 " in server.tmux("display-message", "-p", "#{E:status-right}")

    server.tmux("set-option", "-g", "@tclaude-status", "off")
    assert "◆" not in window("api")
    assert "◆" not in server.tmux("display-message", "-p", "#{E:status-right}")


def test_bindings_switch_next_prev_waiting_finished_and_last(
    server: Server, client: Client
) -> None:
    server.source()
    panes = server.new("a1", "b2", "c3")
    a, b, c = (panes[name] for name in server.order())
    client.keys("C-b", "C-j")  # from a non-instance pane: the first instance
    client.wait_pane(a)
    client.keys("C-b", "C-j")
    client.wait_pane(b)
    client.keys("C-b", "C-k")
    client.wait_pane(a)
    client.keys("C-b", "C-k")  # wraps around
    client.wait_pane(c)
    assert server.tmux("show-option", "-gqv", "@tclaude-last").strip() == server.option(
        a, "@tclaude-id"
    )

    server.set_state(b, "waiting")
    client.keys("C-b", "C-w")
    client.wait_pane(b)
    server.set_state(a, "waiting")
    client.keys("C-b", "C-w")  # the next waiting one after b, cycling
    client.wait_pane(a)

    now = int(time.time())
    server.set_state(b, "idle", since=now - 50, unseen=True)
    server.set_state(c, "idle", since=now - 10, unseen=True)
    client.keys("C-b", "C-d")  # the most recent finished one
    client.wait_pane(c)
    assert server.option(c, "@tclaude-unseen") == ""
    client.keys("C-b", "C-d")
    client.wait_pane(b)
    client.keys("C-b", "C-d")
    client.wait_screen("no finished instance left unseen")


def test_focusing_a_finished_instance_by_hand_marks_it_seen(server: Server, client: Client) -> None:
    server.source()
    panes = server.new("a1", "b2")
    server.set_state(panes["a1"], "idle", unseen=True)
    server.set_state(panes["b2"], "idle", unseen=True)
    server.tmux("switch-client", "-t", panes["a1"])  # client-session-changed
    wait_seen = time.monotonic() + 5
    while server.option(panes["a1"], "@tclaude-unseen") and time.monotonic() < wait_seen:
        time.sleep(0.02)
    assert server.option(panes["a1"], "@tclaude-unseen") == ""
    assert server.option(panes["b2"], "@tclaude-unseen") == "1"  # not looked at
    client.keys("C-b", "n")  # next-window: session-window-changed
    client.wait_pane(panes["b2"])
    assert server.option(panes["b2"], "@tclaude-unseen") == ""


async def test_looking_at_a_finished_instance_tells_the_watchers(
    server: Server, client: Client
) -> None:
    """Found by the new-user trial: a remote instance stayed done everywhere after it was
    looked at, since nothing told its watchers (and so the remote's feed)."""
    server.source()
    panes = server.new("a1", "b2", "c3")
    for name in panes:
        server.set_state(panes[name], "idle", unseen=True)
    stream = WatchStream()
    try:
        snapshot = await stream.synced()
        assert all(e["unseen"] for e in snapshot)
        server.tmux("switch-client", "-t", panes["a1"])  # by hand: the seen hook
        seen = await stream.next("state", name="a1", timeout=20)
        assert (seen["state"], seen["unseen"]) == ("idle", False)
        await asyncio.to_thread(server.tclaude.run, "switch", "b2")  # tclaude switch
        seen = await stream.next("state", name="b2", timeout=20)
        assert seen["unseen"] is False
        client.keys("C-b", "C-d")  # the finished-instance key: focus.sh
        seen = await stream.next("state", name="c3", timeout=20)
        assert seen["unseen"] is False
    finally:
        stream.stop()


async def test_showing_a_finished_instance_beside_tells_the_watchers(
    server: Server, client: Client
) -> None:
    """beside.sh marks the instance it shows seen in its join-pane call (session 5, untested
    until now): the watchers, and so a remote's feed, hear it too."""
    server.source()
    panes = server.new("api", "web")
    editor = server.tmux(
        "new-window", "-P", "-F", "#{pane_id}", "-t", "main:", "-c", str(server.root / "api")
    ).strip()
    client.wait_pane(editor)
    server.set_state(panes["api"], "idle", unseen=True)
    server.set_state(panes["web"], "idle", unseen=True)
    stream = WatchStream()
    try:
        await stream.synced()
        client.keys("C-b", "C-t")  # shown beside the editor, and in view
        client.wait_pane(panes["api"])
        seen = await stream.next("state", name="api", timeout=20)
        assert (seen["state"], seen["unseen"]) == ("idle", False)
        assert server.option(panes["api"], "@tclaude-unseen") == ""
        assert server.option(panes["web"], "@tclaude-unseen") == "1"  # not looked at
    finally:
        stream.stop()


def test_an_older_plugins_seen_hooks_are_replaced(server: Server) -> None:
    old = "if-shell -F '#{==:#{@tclaude-unseen},1}' 'set-option -pu @tclaude-unseen'"
    server.tmux("set-hook", "-g", "client-attached", "set-option -g @mine 1")
    server.tmux("set-hook", "-ga", "client-attached", old)
    server.source()
    hooks = server.tmux("show-hooks", "-g", "client-attached")
    assert "set-option -g @mine 1" in hooks and "seen #{pane_id}" in hooks
    assert hooks.count("@tclaude-unseen") == 2  # ours once: the condition and the clear


def test_kill_binding_asks_then_kills(server: Server, client: Client) -> None:
    server.source()
    panes = server.new("a1", "b2")
    server.tmux("switch-client", "-t", panes["b2"])
    client.wait_pane(panes["b2"])
    client.keys("C-b", "C-x")
    client.wait_screen("kill instance b2? (y/n)")
    client.keys("y")
    deadline = time.monotonic() + 15
    while "b2" in server.panes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(server.panes()) == ["a1"]


def test_review_binding_opens_review_in_a_popup_for_this_pane(
    server: Server, client: Client
) -> None:
    server.source()
    panes = server.new("a1", "b2")
    server.tmux("switch-client", "-t", panes["b2"])
    client.wait_pane(panes["b2"])
    client.keys("C-b", "R")
    client.wait_screen("b2: no pending edits")  # this pane's instance, not the first
    client.wait_screen("[Enter closes this popup]")
    assert "a1: no pending edits" not in client.screen()
    client.keys("Enter")
    wait_for(lambda: "Enter closes" not in client.screen(), what="the popup to close")


def test_beside_toggle_shows_and_hides_the_paired_instance(server: Server, client: Client) -> None:
    server.source()
    panes = server.new("api")
    editor = server.tmux(
        "new-window", "-P", "-F", "#{pane_id}", "-t", "main:", "-c", str(server.root / "api")
    ).strip()
    client.wait_pane(editor)
    client.keys("C-b", "C-t")
    client.wait_pane(panes["api"])  # joined beside the editor, and focused
    window = server.option(editor, "window_id")
    assert server.option(panes["api"], "window_id") == window
    client.keys("C-b", "C-t")  # from the instance: hide it again
    client.wait_pane(editor)
    assert server.option(panes["api"], "window_id") != window
    assert server.option(panes["api"], "@tclaude-beside") == editor
    assert server.option(panes["api"], "window_name") == "api"
    client.keys("C-b", "C-t")  # and back
    client.wait_pane(panes["api"])
    assert server.option(panes["api"], "window_id") == window


def test_beside_toggle_records_the_layout_in_the_state_file(
    server: Server, client: Client, isolated_env: dict[str, str]
) -> None:
    import json

    state = Path(isolated_env["TCLAUDE_STATE_DIR"]) / "instances.json"

    def recorded() -> tuple[str, str | None]:
        entry = next(iter(json.loads(state.read_text())["instances"].values()))
        return entry["layout"], entry["beside"]

    server.source()
    panes = server.new("api")
    assert recorded() == ("tabbed", None)
    editor = server.tmux(
        "new-window", "-P", "-F", "#{pane_id}", "-t", "main:", "-c", str(server.root / "api")
    ).strip()
    client.wait_pane(editor)
    client.keys("C-b", "C-t")
    client.wait_pane(panes["api"])
    wait_for(lambda: recorded() == ("beside", editor), what="layout beside recorded")
    client.keys("C-b", "C-t")  # hidden: a window of its own again
    client.wait_pane(editor)
    wait_for(lambda: recorded()[0] == "tabbed", what="layout tabbed recorded")


def test_tpm_finds_the_plugin_at_the_repository_root(server: Server) -> None:
    # TPM clones the repository and runs every executable *.tmux at its root
    root = Path(__file__).resolve().parents[2]
    entries = [p for p in root.glob("*.tmux") if os.access(p, os.X_OK)]
    assert [p.name for p in entries] == ["tclaude.tmux"]
    assert server.tmux("run-shell", str(entries[0])) == ""
    assert "tmux/scripts/" in " ".join(_bindings(server).values())


def test_focus_skips_a_dead_instance_pane(server: Server) -> None:
    # tmux 3.3 has no #{!:...}: the filters must say "not dead" another way
    scripts = Path(__file__).resolve().parents[2] / "tmux" / "scripts"
    server.source()
    panes = server.new("a1")
    shell = server.tmux("display-message", "-p", "-t", "main:0", "#{pane_id}").strip()
    server.tmux("set-option", "-gw", "remain-on-exit", "on")
    dead = server.tmux("new-window", "-d", "-P", "-F", "#{pane_id}", "-t", "main:", "true")
    dead = dead.strip()
    wait_for(lambda: server.option(dead, "pane_dead") == "1", what="the dead pane")
    server.tmux("set-option", "-w", "-t", dead, "remain-on-exit", "on")
    server.tmux("set-option", "-gw", "remain-on-exit", "off")
    for option, value in (("@tclaude-port", "1"), ("@tclaude-id", "dead00"), ("@tclaude-cwd", "/")):
        server.tmux("set-option", "-p", "-t", dead, option, value)
    # main comes before tclaude: an unfiltered dead pane would be the first instance
    server.tmux("run-shell", f"sh '{scripts}/focus.sh' next '' '{shell}'")
    assert server.option(dead, "window_active") == "0"
    assert server.option(panes["a1"], "window_active") == "1"


def test_beside_hides_from_an_editor_on_its_right(server: Server) -> None:
    scripts = Path(__file__).resolve().parents[2] / "tmux" / "scripts"
    server.source()
    api = server.new("api")["api"]
    editor = server.tmux("split-window", "-d", "-h", "-P", "-F", "#{pane_id}", "-t", api)
    editor = editor.strip()  # the instance is pane 0, the editor pane 1
    server.tmux("run-shell", f"sh '{scripts}/beside.sh' '{TCLAUDE_CMD}' '' '{api}' 40%")
    assert server.option(api, "@tclaude-beside") == editor
    assert server.option(api, "window_id") != server.option(editor, "window_id")


def test_focus_events_are_turned_on_unless_the_user_says_off(server: Server) -> None:
    """Neovim in a pane needs FocusGained to become the editor used last (issue 11)."""
    server.tmux("set-option", "-g", "focus-events", "off")
    assert server.source() == ""
    assert server.tmux("show-option", "-gv", "focus-events").strip() == "on"
    server.tmux("set-option", "-g", "focus-events", "off")
    server.tmux("set-option", "-g", "@tclaude-focus-events", "off")
    assert server.source() == ""
    assert server.tmux("show-option", "-gv", "focus-events").strip() == "off"
