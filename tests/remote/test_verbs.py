"""Every verb reaches a remote with --on NAME or a NAME:instance target."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from tests.support.cli_runner import Tclaude
from tests.support.hosts import ControlServer
from tests.support.remotes import Machine, Remotes
from tests.support.waiters import blocked_on


async def test_new_send_status_kill_on_a_remote(
    tclaude: Tclaude,
    remotes: Remotes,
    alpha: Machine,
    alpha_control: ControlServer,
    tmp_path: Path,
) -> None:
    (alpha.home / "proj" / "src").mkdir(parents=True)
    (alpha.home / "proj" / "src" / "app.py").write_text("remote\n" * 30)
    local = tmp_path / "proj" / "src"
    local.mkdir(parents=True)  # the same relative path here: never read
    (local / "app.py").write_text("local\n")
    made = await asyncio.to_thread(
        tclaude.json, "new", "--on", "alpha", "--name", "api", "--cwd", "proj", "--detached"
    )
    assert made["name"] == "api"
    assert made["cwd"] == str(alpha.home / "proj")  # relative: the remote's, from its home
    cli = await alpha_control.accept()
    sent = await asyncio.to_thread(
        tclaude.json, "send", "alpha:api", "--file", "proj/src/app.py:2-3"
    )
    assert sent == {"delivered": 1}
    note = await cli.notification("at_mentioned")
    assert note["params"]["filePath"] == str(alpha.home / "proj" / "src" / "app.py")
    status = await asyncio.to_thread(tclaude.json, "status", "alpha:api")
    assert status["name"] == "api"
    assert not (await asyncio.to_thread(tclaude.json, "list", "--on", "beta"))
    killed = await asyncio.to_thread(tclaude.run, "kill", "alpha:api")
    assert killed.returncode == 0
    assert await asyncio.to_thread(tclaude.json, "list", "--on", "alpha") == []
    assert "api" not in alpha.tmux("list-windows", "-a", "-F", "#{window_name}").stdout


def test_remote_errors_are_one_line_and_name_the_remote(tclaude: Tclaude, remotes: Remotes) -> None:
    proc = tclaude.run("status", "alpha:nope", check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("tclaude: alpha: no instance 'nope'")
    assert proc.stderr.count("\n") == 1
    unknown = tclaude.run("status", "gamma:api", check=False)
    assert unknown.returncode == 2 and "no remote 'gamma'" in unknown.stderr
    mixed = tclaude.run("kill", "alpha:a", "beta:b", check=False)
    assert mixed.returncode == 2 and "several machines" in mixed.stderr
    bad = tclaude.run("status", "alpha:a:b", check=False)
    assert bad.returncode == 2 and "one colon" in bad.stderr


def test_wait_and_broadcast_and_worktree_run_there(
    tclaude: Tclaude, remotes: Remotes, beta: Machine
) -> None:
    tclaude.run("new", "--on", "beta", "--name", "w1", "--detached")
    waited = tclaude.run("wait", "beta:w1", "--state", "idle", "--timeout", "30")
    assert waited.returncode == 0
    sent = json.loads(tclaude.run("broadcast", "--on", "beta", "--text", "hi", "--json").stdout)
    assert sent == {"sent": ["w1"], "skipped": {}}, sent
    repo = tclaude.run("worktree", "list", "--on", "beta", check=False)
    assert repo.returncode == 2 and "beta:" in repo.stderr  # beta's HOME is no repository


def test_wait_json_on_a_remote_is_its_object_and_its_exit_code(
    tclaude: Tclaude, remotes: Remotes, beta: Machine
) -> None:
    made = tclaude.json("new", "--on", "beta", "--name", "w1", "--detached")
    ours = {"name": "w1", "id": made["id"]}
    reached = tclaude.run("wait", "beta:w1", "--state", "idle", "--timeout", "30", "--json")
    assert json.loads(reached.stdout) == {**ours, "state": "idle", "result": "reached"}
    timeout = tclaude.run(
        "wait", "--on", "beta", "w1", "--state", "busy", "--timeout", "0.3", "--json", check=False
    )
    assert (timeout.returncode, timeout.stderr) == (1, ""), timeout
    assert json.loads(timeout.stdout) == {**ours, "state": "idle", "result": "timeout"}
    waiter = subprocess.Popen(
        [sys.executable, "-m", "tmuxclaude", "wait", "beta:w1", "--state", "busy", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        blocked_on(made["id"])  # it waits there, in beta's tmux
        beta.tmux("kill-pane", "-t", str(made["pane"]))
        out, err = waiter.communicate(timeout=60)
    finally:
        waiter.kill()
        waiter.wait()
    assert waiter.returncode == 3, (out, err)
    assert json.loads(out) == {**ours, "state": "stopped", "result": "stopped"}


def test_list_on_an_empty_remote_says_how_to_start_one_there(
    tclaude: Tclaude, remotes: Remotes
) -> None:
    proc = tclaude.run("list", "--on", "alpha")
    assert proc.stdout == "no instances; start one with: tclaude new --on alpha\n"


def test_on_given_twice_is_refused_in_one_line(tclaude: Tclaude, remotes: Remotes) -> None:
    """broadcast --on alpha --on beta ran on beta only, silently."""
    for args in (["--on", "alpha", "--on", "beta"], ["--on=alpha", "--on", "alpha"]):
        proc = tclaude.run("broadcast", *args, "--text", "hi", check=False)
        assert proc.returncode == 2, proc
        assert proc.stderr.startswith("tclaude: --on given 2 times ("), proc.stderr
        assert "one command per machine" in proc.stderr and proc.stderr.count("\n") == 1


def test_an_option_naming_a_local_pane_is_refused_with_a_remote(
    tclaude: Tclaude, remotes: Remotes
) -> None:
    """new --on alpha --beside %0 split whatever pane of alpha's had that id."""
    alpha = remotes.machines["alpha"]
    alpha.tmux("new-session", "-d", "-s", "mine", "-x", "100", "-y", "30")
    proc = tclaude.run("new", "--on", "alpha", "--beside", "%0", "--detached", check=False)
    assert proc.returncode == 2, proc
    assert proc.stderr == (
        "tclaude: --beside names a tmux pane here: not with --on or a REMOTE:NAME target\n"
    )
    assert tclaude.json("list", "--on", "alpha") == []
    assert alpha.tmux("list-panes", "-a", "-F", "#{pane_id}").stdout.split() == ["%0"]


def test_peek_and_log_reach_a_remote_and_the_docs_list_the_verbs_that_do(
    tclaude: Tclaude, remotes: Remotes
) -> None:
    """docs/remote.md called peek and log local-only (they work) and said every verb takes
    --on (watch does not)."""
    import re

    from tmuxclaude.cli import REMOTE_VERBS

    tclaude.run("new", "--on", "alpha", "--name", "a1", "--detached")
    assert tclaude.run("peek", "alpha:a1").returncode == 0
    log = tclaude.run("log", "alpha:a1", check=False)  # alpha's own answer: no turn yet
    assert log.stderr.startswith("tclaude: alpha: instance 'a1' has no conversation yet"), log
    watch = tclaude.run("watch", "--on", "alpha", check=False)
    assert watch.returncode == 2 and "--on" in watch.stderr
    docs = (Path(__file__).parents[2] / "docs" / "remote.md").read_text()
    listed = re.search(
        r"These verbs take `--on NAME` or\na `NAME:instance` target: (.*?)\n\(", docs, re.S
    )
    assert listed is not None
    assert set(re.findall(r"`([a-z]+)`", listed.group(1))) == REMOTE_VERBS
    local_only = docs[docs.index("## Not there yet") :]
    for verb in REMOTE_VERBS:
        assert f"`{verb}`" not in local_only, verb
