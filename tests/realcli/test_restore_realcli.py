"""Restore with the real Claude Code CLI: the conversation comes back with --resume."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import psutil
import pytest

from tests.realcli.test_tclaude_realcli import new, screen, wait_screen
from tests.support.cli_runner import Tclaude
from tests.support.fake_messages_api import FakeMessagesAPI, request_session_id, user_texts
from tests.support.real_claude import PROMPT_READY_RE, SLASH_MENU_RE, settled

pytestmark = [pytest.mark.realcli]


def _prompt(tclaude: Tclaude, pane: str, api: FakeMessagesAPI, text: str) -> None:
    count = len(api.main_requests)
    tclaude.tmux("send-keys", "-t", pane, "-l", text)
    # Enter once the typed text is on screen and the screen has settled
    settled(lambda: screen(tclaude, pane), wait_screen(tclaude, pane, re.escape(text)), 10)
    tclaude.tmux("send-keys", "-t", pane, "Enter")
    api.wait_for_requests(lambda reqs: len(reqs) > count, timeout=30)
    wait_screen(tclaude, pane, PROMPT_READY_RE)


def _entry(env: dict[str, str], name: str = "api") -> dict[str, object]:
    state = json.loads((Path(env["TCLAUDE_STATE_DIR"]) / "instances.json").read_text())
    entries: dict[str, dict[str, object]] = state["instances"]
    return next(e for e in entries.values() if e["name"] == name)


def _session_once_idle(
    tclaude: Tclaude, env: dict[str, str], after: str | None = None, name: str = "api"
) -> str:
    """The session id claude's SessionStart reported (another than ``after``)."""
    deadline = time.monotonic() + 20
    while True:
        entry = _entry(env, name)
        session = entry.get("session_id")
        if entry.get("session_source") and isinstance(session, str) and session != after:
            return session
        assert time.monotonic() < deadline, entry
        time.sleep(0.1)


def test_restore_resumes_the_conversation_and_follows_clear(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI, isolated_env: dict[str, str]
) -> None:
    data = new(tclaude, "api", real_env)
    _prompt(tclaude, data["pane"], api, "remember the word pelican")
    first = _session_once_idle(tclaude, isolated_env)
    assert request_session_id(api.main_requests[-1]) == first
    transcript = _entry(isolated_env, "api")["transcript"]
    assert isinstance(transcript, str) and os.path.isfile(transcript)

    tclaude.kill_server()
    out = tclaude.run("restore").stdout
    assert f"api: restored (resume) — session {first}" in out
    pane = tclaude.json("list")[0]["pane"]
    wait_screen(tclaude, pane, PROMPT_READY_RE)
    status = tclaude.json("status", "api")
    argv = psutil.Process(status["claude_pid"]).cmdline()
    assert f"--resume={first}" in argv
    _prompt(tclaude, pane, api, "what was the word?")
    resumed = api.main_requests[-1]
    assert request_session_id(resumed) == first
    assert any("pelican" in text for text in user_texts(resumed))  # the old conversation

    # /clear starts a new session: SessionStart reports it, restore follows it
    tclaude.tmux("send-keys", "-t", pane, "-l", "/clear")
    wait_screen(tclaude, pane, SLASH_MENU_RE)  # Enter must not beat the completion menu
    tclaude.tmux("send-keys", "-t", pane, "Enter")
    second = _session_once_idle(tclaude, isolated_env, after=first)
    assert _entry(isolated_env, "api")["session_source"] == "clear"
    _prompt(tclaude, pane, api, "a fresh start")
    tclaude.kill_server()
    out = tclaude.run("restore").stdout
    assert f"api: restored (resume) — session {second}" in out
    argv = psutil.Process(tclaude.json("status", "api")["claude_pid"]).cmdline()
    assert f"--resume={second}" in argv


def test_restore_without_a_transcript_falls_back_and_says_so(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI, isolated_env: dict[str, str]
) -> None:
    data = new(tclaude, "api", real_env)
    _prompt(tclaude, data["pane"], api, "hello")
    session = _session_once_idle(tclaude, isolated_env)
    transcript = _entry(isolated_env, "api")["transcript"]
    assert isinstance(transcript, str)
    claude = psutil.Process(tclaude.json("status", "api")["claude_pid"])
    tclaude.kill_server()
    claude.wait(10)  # it writes its transcript on the way out
    for path in Path(transcript).parent.glob("*.jsonl"):
        path.unlink()  # no conversation left to resume or continue
    out = tclaude.run("restore").stdout
    assert f"api: restored (fresh) — session {session} has no transcript" in out
    pane = tclaude.json("list")[0]["pane"]
    wait_screen(tclaude, pane, PROMPT_READY_RE)
    argv = psutil.Process(tclaude.json("status", "api")["claude_pid"]).cmdline()
    assert not [arg for arg in argv if arg.startswith(("--resume", "--continue"))]
    assert f"--session-id={session}" in argv  # the CLI takes the id again: no transcript
    assert "hello" not in screen(tclaude, pane)
    _prompt(tclaude, pane, api, "anew")
    assert request_session_id(api.main_requests[-1]) == session


def test_two_instances_in_one_directory_each_resume_their_own_conversation(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI, isolated_env: dict[str, str]
) -> None:
    words = {"a": "pelican", "b": "walrus"}
    sessions = {}
    for name, word in words.items():
        data = new(tclaude, name, real_env)
        argv = psutil.Process(tclaude.json("status", name)["claude_pid"]).cmdline()
        given = [arg.split("=", 1)[1] for arg in argv if arg.startswith("--session-id=")]
        _prompt(tclaude, data["pane"], api, f"remember the word {word}")
        sessions[name] = _session_once_idle(tclaude, isolated_env, name=name)
        assert given == [sessions[name]]  # the id tclaude gave is the one claude uses
        assert request_session_id(api.main_requests[-1]) == sessions[name]
    assert sessions["a"] != sessions["b"]

    tclaude.kill_server()
    out = tclaude.run("restore").stdout
    for name, session in sessions.items():
        assert f"{name}: restored (resume) — session {session}" in out
    panes = {i["name"]: i["pane"] for i in tclaude.json("list")}
    for name, word in words.items():
        wait_screen(tclaude, panes[name], PROMPT_READY_RE)
        _prompt(tclaude, panes[name], api, "what was the word?")
        resumed = api.main_requests[-1]
        assert request_session_id(resumed) == sessions[name]
        texts = " ".join(user_texts(resumed))
        other = words["b" if name == "a" else "a"]
        assert word in texts and other not in texts  # its own conversation, not the other's
    after = {name: _entry(isolated_env, name)["session_id"] for name in words}
    assert after == sessions
