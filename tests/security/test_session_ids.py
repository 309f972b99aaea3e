"""Planted session ids and transcript paths never become claude's arguments.

A session id reaches ``claude`` on restore (``--resume=<id>``); it arrives
from a hook (anyone who learns the hook URL), the state file and the
runtime dir. These tests plant hostile values there and check the argv of
the claude that ``tclaude restore`` starts.
"""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.restore.test_restore import _claude_argv, _saved, _wait_session_ids
from tests.support.cli_runner import Tclaude
from tmuxclaude.session_ids import is_session_id, new_session_id

PLANTED_HOOK = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "touch /tmp/pwn"}]}]}}
PLANTED_ID = "--settings=" + json.dumps(PLANTED_HOOK)


def _hook_url(runtime: Path, instance_id: str) -> str:
    """The http hook URL the instance's settings file gives Claude Code (token and all)."""
    settings = json.loads((runtime / f"{instance_id}.settings.json").read_text())
    for entries in settings["hooks"].values():
        for entry in entries:
            for hook in entry["hooks"]:
                if hook.get("type") == "http":
                    return str(hook["url"])
    raise AssertionError(f"no http hook in {settings}")


def _post_all(url: str, payloads: list[dict[str, Any]]) -> None:
    """POST the payloads in order on one keep-alive connection, as a hook client would."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        for payload in payloads:
            conn.request(
                "POST", parts.path, json.dumps(payload), {"Content-Type": "application/json"}
            )
            reply = conn.getresponse()
            reply.read()
            assert reply.status == 200, reply.status
    finally:
        conn.close()


def _until_state(tclaude: Tclaude, pane: str, state: str) -> None:
    deadline = time.monotonic() + 10
    while tclaude.tmux("display", "-p", "-t", pane, "#{@tclaude-state}").strip() != state:
        assert time.monotonic() < deadline, f"{pane} never became {state}"
        time.sleep(0.05)


def _started(env: dict[str, str], name: str) -> str:
    """The session id claude's own SessionStart reported (so no hook of it is still due)."""
    deadline = time.monotonic() + 10
    while (entry := _saved(env)[name]).get("session_source") != "startup":
        assert time.monotonic() < deadline, entry
        time.sleep(0.05)
    assert is_session_id(entry["session_id"])
    return str(entry["session_id"])


def _stop_all(tclaude: Tclaude) -> None:
    tclaude.kill_server()
    assert not any(i["running"] for i in tclaude.json("list"))


def test_a_session_id_planted_through_the_hook_endpoint_is_refused(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    data = tclaude.json("new", "--name", "api", "--cwd", str(tmp_path), "--detached")
    original = _started(isolated_env, "api")
    url = _hook_url(Path(isolated_env["TCLAUDE_RUNTIME_DIR"]), data["id"])
    planted = {"hook_event_name": "SessionStart", "source": "startup", "cwd": str(tmp_path)}
    _post_all(
        url,
        [
            planted | {"session_id": PLANTED_ID, "transcript_path": "/etc/passwd"},
            planted | {"session_id": " " + original, "transcript_path": ""},
            {"hook_event_name": "UserPromptSubmit", "session_id": original, "prompt": "x"},
        ],
    )
    _until_state(tclaude, data["pane"], "busy")  # the host has handled all three
    entry = _saved(isolated_env)["api"]
    assert (entry["session_id"], entry["transcript"]) == (original, None)

    tclaude.tmux("kill-pane", "-t", data["pane"])
    _stop_all(tclaude)
    out = tclaude.run("restore").stdout
    assert f"api: restored (fresh) — session {original} has no transcript" in out
    argv = _claude_argv(tclaude, "api")
    assert not [arg for arg in argv if "pwn" in arg or "hooks" in arg]
    assert f"--session-id={original}" in argv
    restored = tclaude.json("list")[0]
    settings = Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / f"{restored['id']}.settings.json"
    assert "pwn" not in settings.read_text()


def test_planted_state_file_values_are_refused_and_restore_says_so(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        tclaude.run("new", "--name", name, "--cwd", str(tmp_path / name), "--detached")
    saved = _wait_session_ids(isolated_env, ["a", "b"])
    _stop_all(tclaude)
    # a: a flag instead of a session id; b: its own id, but a transcript path of our
    # choosing (which exists: a naive restore would --resume on its strength)
    evil = tmp_path / "evil" / f"{saved['b']['session_id']}.jsonl"
    evil.parent.mkdir()
    evil.write_text("{}\n")
    state_path = Path(isolated_env["TCLAUDE_STATE_DIR"]) / "instances.json"
    state = json.loads(state_path.read_text())
    for entry in state["instances"].values():
        if entry["name"] == "a":
            entry["session_id"] = PLANTED_ID
        else:
            entry["transcript"] = str(evil)
    state_path.write_text(json.dumps(state))

    out = tclaude.run("restore").stdout
    assert "a: restored (fresh) — the recorded session id '--settings=" in out
    assert "is not a UUID and was refused; starting a new session" in out
    assert f"b: restored (fresh) — session {saved['b']['session_id']} has no transcript" in out
    assert f"the recorded transcript path {str(evil)!r} was refused" in out
    argv_a, argv_b = _claude_argv(tclaude, "a"), _claude_argv(tclaude, "b")
    assert not [arg for arg in argv_a + argv_b if "pwn" in arg or "--resume" in arg]
    after = _saved(isolated_env)
    assert is_session_id(after["a"]["session_id"])  # a new one, recorded before the launch
    assert f"--session-id={after['a']['session_id']}" in argv_a
    assert f"--session-id={saved['b']['session_id']}" in argv_b
    assert after["b"]["transcript"] is None


@pytest.mark.parametrize(
    "value",
    [
        PLANTED_ID,
        "-r",
        "",
        "0b5e7a52-5a4f-4c43-9d38-3f1c2b1d0a1",  # one digit short
        "0b5e7a52-5a4f-4c43-9d38-3f1c2b1d0a11\n",
        "0b5e7a52-5a4f-4c43-9d38-3f1c2b1d0a1g",
        "0b5e7a52_5a4f_4c43_9d38_3f1c2b1d0a11",
        "../../../../etc/passwd#00000000000",
        "0b5e7a525a4f4c439d383f1c2b1d0a11",  # no dashes: the CLI's files all have them
        None,
        7,
    ],
)
def test_only_uuids_are_session_ids(value: object) -> None:
    assert not is_session_id(value)


def test_new_session_ids_are_version_4_uuids() -> None:
    import uuid

    ids = {new_session_id() for _ in range(200)}
    assert len(ids) == 200
    for session_id in ids:
        assert is_session_id(session_id) and str(uuid.UUID(session_id)) == session_id
        assert uuid.UUID(session_id).version == 4
