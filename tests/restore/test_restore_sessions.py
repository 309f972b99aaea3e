"""Session ids given up front at creation, and restore's choice between them (fake claude)."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest

from tests.restore.test_restore import _claude_argv, _saved
from tests.security.test_session_ids import _hook_url
from tests.support.cli_runner import Tclaude
from tmuxclaude.restore import without_resume_flags
from tmuxclaude.session_ids import is_session_id
from tmuxclaude.transcript import project_dir

ABC = "0b5e7a52-5a4f-4c43-9d38-3f1c2b1d0a11"


def _reported(env: dict[str, str], name: str, source: str = "startup") -> dict[str, object]:
    """The state entry once claude's SessionStart (of ``source``) has been recorded."""
    deadline = time.monotonic() + 10
    while (entry := _saved(env)[name]).get("session_source") != source:
        assert time.monotonic() < deadline, entry
        time.sleep(0.05)
    return entry


def _edit_state(env: dict[str, str], name: str, **changes: object) -> None:
    path = Path(env["TCLAUDE_STATE_DIR"]) / "instances.json"
    state = json.loads(path.read_text())
    for entry in state["instances"].values():
        if entry["name"] == name:
            entry.update(changes)
    path.write_text(json.dumps(state))


def _transcript(cwd: Path, session_id: object) -> None:
    """What the CLI leaves once a session has been prompted."""
    conversations = Path(project_dir(str(cwd.resolve())))
    conversations.mkdir(parents=True, exist_ok=True)
    (conversations / f"{session_id}.jsonl").write_text("{}\n")


def test_new_gives_claude_its_session_id_up_front_and_records_it(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    data = tclaude.json("new", "--name", "api", "--cwd", str(tmp_path), "--detached")
    argv = _claude_argv(tclaude, "api")
    given = [arg.split("=", 1)[1] for arg in argv if arg.startswith("--session-id=")]
    assert len(given) == 1 and is_session_id(given[0])
    entry = _reported(isolated_env, "api")
    assert entry["session_id"] == given[0] == data["session_id"]  # and claude reports it
    assert entry["claude_args"] == []  # a launch flag, not one of the instance's arguments


def test_bare_tclaude_gives_one_too(tclaude: Tclaude, tmp_path: Path) -> None:
    tclaude.run(cwd=str(tmp_path))  # find-or-create; not a terminal, so no attach
    argv = _claude_argv(tclaude, tmp_path.name)
    assert [arg for arg in argv if arg.startswith("--session-id=")]


def test_a_users_own_session_choice_is_left_to_claude(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    tclaude.run("new", "--name", "api", "--cwd", str(tmp_path), "--detached", "--", "--continue")
    argv = _claude_argv(tclaude, "api")
    assert "--continue" in argv and not [a for a in argv if a.startswith("--session-id")]
    assert is_session_id(_reported(isolated_env, "api")["session_id"])  # from its SessionStart


def test_two_instances_claiming_one_session_never_share_it(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    for name in ("a", "b"):  # a is the older
        tclaude.run("new", "--name", name, "--cwd", str(tmp_path), "--detached")
    shared = _reported(isolated_env, "a")["session_id"]
    _reported(isolated_env, "b")
    tclaude.kill_server()
    _edit_state(isolated_env, "b", session_id=shared)
    _transcript(tmp_path, shared)

    out = tclaude.run("restore").stdout
    assert f"a: restored (resume) — session {shared}" in out
    assert f"b: restored (fresh) — session {shared} is recorded for 'a' too, which keeps it" in out
    after = _saved(isolated_env)
    assert after["a"]["session_id"] == shared and is_session_id(after["b"]["session_id"])
    assert after["b"]["session_id"] != shared
    assert f"--resume={shared}" in _claude_argv(tclaude, "a")
    argv_b = _claude_argv(tclaude, "b")
    assert f"--session-id={after['b']['session_id']}" in argv_b
    assert not [arg for arg in argv_b if str(shared) in arg]


def test_a_running_instance_keeps_its_session(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    tclaude.run("new", "--name", "old", "--cwd", str(tmp_path), "--detached")
    tclaude.kill_server()
    tclaude.run("new", "--name", "live", "--cwd", str(tmp_path), "--detached")
    live = _reported(isolated_env, "live")["session_id"]
    _edit_state(isolated_env, "old", session_id=live)  # the older entry claims it too
    _transcript(tmp_path, live)
    out = tclaude.run("restore").stdout
    assert f"old: restored (fresh) — session {live} is recorded for 'live' too" in out
    assert not [arg for arg in _claude_argv(tclaude, "old") if str(live) in arg]


def test_no_recorded_session_starts_fresh_never_continue(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    tclaude.run("new", "--name", "api", "--cwd", str(tmp_path), "--detached")
    _reported(isolated_env, "api")
    tclaude.kill_server()
    _edit_state(isolated_env, "api", session_id=None)  # as a state file of older tclaudes
    _transcript(tmp_path, "5d0c2a4e-1b3f-4c6d-8e9f-0a1b2c3d4e5f")  # someone's conversation

    dry = json.loads(tclaude.run("restore", "--dry-run", "--json").stdout)["instances"][0]
    assert dry["resume"] == "fresh" and dry["reason"].startswith("no Claude session was recorded")
    assert _saved(isolated_env)["api"]["session_id"] is None  # a dry run changes nothing
    out = tclaude.run("restore").stdout
    assert "api: restored (fresh) — no Claude session was recorded; starting a new session" in out
    argv = _claude_argv(tclaude, "api")
    recorded = _saved(isolated_env)["api"]["session_id"]
    assert is_session_id(recorded) and f"--session-id={recorded}" in argv
    assert not [arg for arg in argv if arg.startswith(("--continue", "-c", "--resume"))]
    assert _reported(isolated_env, "api")["session_id"] == recorded


def test_restore_follows_clear(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    """A /clear's SessionStart (source clear) moves the instance to the new session."""
    data = tclaude.json("new", "--name", "api", "--cwd", str(tmp_path), "--detached")
    first = _reported(isolated_env, "api")["session_id"]
    cleared = "6f1d3c2e-8a7b-4e5f-9c0d-1a2b3c4d5e6f"
    url = urlsplit(_hook_url(Path(isolated_env["TCLAUDE_RUNTIME_DIR"]), data["id"]))
    conn = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    body = {"hook_event_name": "SessionStart", "source": "clear", "session_id": cleared}
    conn.request("POST", url.path, json.dumps(body))
    assert conn.getresponse().status == 200
    conn.close()
    _reported(isolated_env, "api", "clear")
    tclaude.kill_server()
    _transcript(tmp_path, first)
    _transcript(tmp_path, cleared)
    out = tclaude.run("restore").stdout
    assert f"api: restored (resume) — session {cleared}" in out
    assert f"--resume={cleared}" in _claude_argv(tclaude, "api")


class FlagsCase(NamedTuple):
    test_id: str
    args: list[str]
    kept: list[str]


FLAGS_CASES = [
    FlagsCase("resume-id", ["--resume", ABC, "--model", "x"], ["--model", "x"]),
    FlagsCase("resume-equals", [f"--resume={ABC}", "--model", "x"], ["--model", "x"]),
    FlagsCase("picker-r-before-a-flag", ["-r", "--model", "x"], ["--model", "x"]),
    FlagsCase("picker-resume-last", ["--model", "x", "--resume"], ["--model", "x"]),
    FlagsCase("session-id", ["--session-id", ABC, "-c"], []),
    FlagsCase("fork", ["--fork-session", "--continue", "--verbose"], ["--verbose"]),
    FlagsCase("from-pr", ["--from-pr", "12", "--teleport"], []),
]


@pytest.mark.parametrize("case", FLAGS_CASES, ids=lambda c: c.test_id)
def test_restore_drops_the_first_launchs_session_choice(case: FlagsCase) -> None:
    assert without_resume_flags(case.args) == case.kept
