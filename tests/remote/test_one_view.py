"""One list of local and remote instances; faults: a cut link, a remote reboot, no tclaude."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.support.cli_runner import Tclaude
from tests.support.remotes import Machine, Remotes


def _by_name(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(r["name"]): r for r in rows}


def test_list_shows_local_and_remote_instances_together(
    tclaude: Tclaude, remotes: Remotes, tmp_path: object
) -> None:
    tclaude.run("new", "--name", "here", "--detached")
    tclaude.run("new", "--on", "alpha", "--name", "there", "--detached")
    tclaude.run("new", "--on", "beta", "--name", "yonder", "--detached")
    rows = _by_name(tclaude.json("list"))
    assert set(rows) == {"here", "there", "yonder"}
    assert rows["here"]["remote"] is None
    assert rows["there"]["remote"] == "alpha" and rows["there"]["stale"] is False
    assert rows["yonder"]["remote"] == "beta"
    assert rows["there"]["socket"] is None  # a remote's paths mean nothing here
    human = tclaude.run("list").stdout.splitlines()
    assert human[0].split()[:2] == ["NAME", "REMOTE"]
    assert any(line.split()[:2] == ["there", "alpha"] for line in human[1:])


def test_a_cut_link_goes_stale_and_comes_back(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine, isolated_env: dict[str, str]
) -> None:
    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    # alpha's own timeout: short, to see it; beta keeps the fixture's generous one
    config.write_text("remote_timeout = 30.0\n\n" + remotes.config_toml({"alpha": 1.5}))
    tclaude.run("new", "--on", "alpha", "--name", "far", "--detached")
    tclaude.run("new", "--on", "beta", "--name", "near", "--detached")
    assert _by_name(tclaude.json("list"))["far"]["stale"] is False  # seen: cached
    alpha.link_up(False)
    try:
        start = time.monotonic()
        proc = tclaude.run("list", "--json")
        took = time.monotonic() - start
        rows = _by_name(json.loads(proc.stdout))
        assert rows["far"]["stale"] is True and rows["far"]["state"] != "unknown"
        assert isinstance(rows["far"]["seen"], float)
        assert rows["near"]["stale"] is False
        assert "remote alpha: no answer within 1.5s" in proc.stderr
        assert took < 30  # a hang guard: the timeout bounds it, not the link
        human = tclaude.run("list").stdout
        assert "alpha (stale" in human
    finally:
        alpha.link_up(True)
    deadline = time.monotonic() + 90
    while _by_name(tclaude.json("list"))["far"]["stale"]:
        assert time.monotonic() < deadline, "alpha did not come back"
        time.sleep(0.5)


def test_a_remote_without_tclaude_is_one_line_in_list(
    tclaude: Tclaude, remotes: Remotes, beta: Machine
) -> None:
    beta.install_tclaude(False)
    proc = tclaude.run("list")
    notes = [line for line in proc.stderr.splitlines() if "beta" in line]
    assert len(notes) == 1 and "no tclaude there" in notes[0]
    assert "tclaude remote install beta" in notes[0]


def test_an_older_remote_tclaude_is_named_in_list(
    tclaude: Tclaude, remotes: Remotes, beta: Machine
) -> None:
    old = beta.bin / "tclaude"
    old.write_text(
        "#!/bin/sh\necho 'tclaude: unrecognized arguments: --remote-envelope' >&2\nexit 2\n"
    )
    old.chmod(0o755)
    proc = tclaude.run("list")
    assert "remote beta: its tclaude is older than this one" in proc.stderr


def test_restore_on_a_rebooted_remote_brings_its_instances_back(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine
) -> None:
    tclaude.run("new", "--on", "alpha", "--name", "keep", "--detached")
    alpha.tmux("kill-server")  # what a reboot does to it
    rows = _by_name(tclaude.json("list", "--on", "alpha"))
    assert rows["keep"]["running"] is False
    restored = tclaude.json("restore", "--on", "alpha")
    assert [p["name"] for p in restored["instances"]] == ["keep"]
    rows = _by_name(tclaude.json("list", "--on", "alpha"))
    assert rows["keep"]["running"] is True


def test_list_on_a_remote_shows_its_own_instances_not_its_remotes(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine
) -> None:
    config = alpha.home / ".config" / "tclaude" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[remotes.loop]\nssh = "no-such-host.invalid"\n')  # alpha's own remote
    tclaude.run("new", "--name", "here", "--detached")
    tclaude.run("new", "--on", "alpha", "--name", "there", "--detached")
    proc = tclaude.run("list", "--on", "alpha", "--json")
    assert [r["name"] for r in json.loads(proc.stdout)] == ["there"]
    assert "loop" not in proc.stderr
    human = tclaude.run("list", "--on", "alpha").stdout.splitlines()
    assert [line.split()[:2] for line in human[1:]] == [["there", "alpha"]]
