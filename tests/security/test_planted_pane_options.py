"""Pane options are the registry, and claude (or anything in its pane) can set them.

What ``list`` and the other commands read from ``@tclaude-*`` becomes screen
text and file paths: an escape sequence, a path-like id or a state that is no
state must not come through. Found by reading the code after the hostile trial.
"""

from __future__ import annotations

import json

from tests.support.cli_runner import Tclaude


def test_planted_pane_options_reach_no_screen_and_no_path(tclaude: Tclaude) -> None:
    data = tclaude.json("new", "--name", "api", "--detached")
    pane = data["pane"]
    tclaude.run("wait", "api", "--state", "idle", "--timeout", "30")  # the host has its say first
    shell = tclaude.tmux("split-window", "-d", "-P", "-F", "#{pane_id}", "-t", pane).strip()
    escape = "\x1b]0;pwned\x07\x1b[2J"
    for option, value in (
        ("@tclaude-name", "evil" + escape),
        ("@tclaude-state", "idle" + escape),
        ("@tclaude-cwd", "/tmp/\u202eevil" + escape),
    ):
        tclaude.tmux("set-option", "-p", "-t", pane, option, value)
    # a shell pane that claims to be an instance with an id that is a path
    for option, value in (("@tclaude-id", "../../../tmp/x"), ("@tclaude-port", "1234")):
        tclaude.tmux("set-option", "-p", "-t", shell, option, value)

    out = tclaude.run("list").stdout
    assert "\x1b" not in out and "\x07" not in out, repr(out)
    listed = json.loads(tclaude.run("list", "--json").stdout)
    assert [i["id"] for i in listed] == [data["id"]]  # the path-like id is no instance
    (api,) = listed
    assert api["name"] == "api"  # from the state file, not the planted option
    assert api["state"] == "unknown"
    assert "\x1b" not in api["cwd"] and "\u202e" not in api["cwd"]
