"""The hook → state rules, event by event."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from tmuxclaude.state_tracker import StateTracker


class Case(NamedTuple):
    test_id: str
    events: list[dict[str, Any]]
    states: list[str]  # the state after each event


def ev(name: str, **extra: Any) -> dict[str, Any]:
    return {"hook_event_name": name, "session_id": "s1", **extra}


CASES = [
    Case("start is ready", [ev("SessionStart", source="startup")], ["idle"]),
    Case(
        "a permission turn",
        [
            ev("SessionStart"),
            ev("UserPromptSubmit"),
            ev("PreToolUse"),
            ev("PermissionRequest"),
            ev("Notification", notification_type="permission_prompt"),
            ev("PostToolUse"),
            ev("Stop"),
        ],
        ["idle", "busy", "busy", "waiting", "waiting", "busy", "idle"],
    ),
    Case(
        "a late permission notification after the answer is ignored",
        [
            ev("UserPromptSubmit"),
            ev("PermissionRequest"),
            ev("PostToolUse"),
            ev("Notification", notification_type="permission_prompt"),
        ],
        ["busy", "waiting", "busy", "busy"],
    ),
    Case(
        "idle_prompt changes nothing",
        [ev("SessionStart"), ev("Notification", notification_type="idle_prompt")],
        ["idle", "idle"],
    ),
    Case(
        "an elicitation during a turn waits",
        [ev("UserPromptSubmit"), ev("Notification", notification_type="elicitation_dialog")],
        ["busy", "waiting"],
    ),
    Case("a failed turn", [ev("UserPromptSubmit"), ev("StopFailure")], ["busy", "error"]),
    Case(
        "a turn stopped by a rate or usage limit (the payload 2.1.197 and 2.1.332 send)",
        [
            ev("UserPromptSubmit"),
            ev("StopFailure", error="rate_limit", last_assistant_message="API Error: (429)"),
            ev("UserPromptSubmit"),
            ev("Stop"),
        ],
        ["busy", "limited", "busy", "idle"],
    ),
    Case(
        "another API failure is an error",
        [ev("UserPromptSubmit"), ev("StopFailure", error="server_error")],
        ["busy", "error"],
    ),
    Case(
        "subagents change nothing", [ev("UserPromptSubmit"), ev("SubagentStop")], ["busy", "busy"]
    ),
    Case(
        "the end",
        [ev("SessionStart"), ev("SessionEnd", reason="prompt_input_exit")],
        ["idle", "stopped"],
    ),
    Case(
        "/clear ends one session and starts the next",
        [ev("SessionStart"), ev("SessionEnd", reason="clear"), ev("SessionStart", source="clear")],
        ["idle", "idle", "idle"],
    ),
    Case("junk changes nothing", [{"hook_event_name": 3}, {}], ["starting", "starting"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.test_id for c in CASES])
def test_states(case: Case) -> None:
    tracker = StateTracker()
    seen = []
    for event in case.events:
        tracker.feed(event)
        seen.append(tracker.state)
    assert seen == case.states


ABC = "0b5e7a52-5a4f-4c43-9d38-3f1c2b1d0a11"
DEF = "6f1d3c2e-8a7b-4e5f-9c0d-1a2b3c4d5e6f"


def test_changes_are_reported_once_and_carry_unseen_and_session() -> None:
    tracker = StateTracker()
    start = tracker.feed(ev("SessionStart", session_id=ABC, source="resume"))
    assert (start.state, start.session_id, start.session_source) == ("idle", ABC, "resume")
    assert tracker.feed(ev("UserPromptSubmit")).unseen is False
    assert tracker.feed(ev("PreToolUse")).state is None  # busy already: no change
    done = tracker.feed(ev("Stop"))
    assert (done.state, done.unseen) == ("idle", True)
    cleared = tracker.feed(ev("SessionStart", session_id=DEF, source="clear"))
    assert cleared.state is None and cleared.session_id == DEF
    assert tracker.session_id == DEF


def test_a_users_own_settings_are_merged_not_overridden(tmp_path: object) -> None:
    import json
    from pathlib import Path

    from tmuxclaude.host import hook_settings

    user_file = Path(str(tmp_path)) / "mine.json"
    user = {
        "model": "sonnet",
        "hooks": {"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}]},
    }
    user_file.write_text(json.dumps(user))
    for args in (
        ["--model", "x", "--settings", str(user_file)],
        ["--settings=" + json.dumps(user), "--model", "x"],
    ):
        rest, loaded = hook_settings.take_user_settings(args)
        assert rest == ["--model", "x"] and loaded == user
        ours = hook_settings.settings("http://127.0.0.1:1/hook/t", "/run/t.hook-url")
        merged = hook_settings.merged(ours, loaded)
        assert merged["model"] == "sonnet"
        assert merged["hooks"]["Stop"][0]["hooks"][0]["command"] == "say done"
        assert merged["hooks"]["Stop"][1]["hooks"][0]["type"] == "http"
        assert "SessionStart" in merged["hooks"]
    unreadable = ["--settings", str(user_file) + ".missing"]
    assert hook_settings.take_user_settings(unreadable) == (unreadable, None)


class SessionStartCase(NamedTuple):
    test_id: str
    session_id: object
    transcript: object
    recorded: tuple[object, object]  # (session id, transcript) the change carries


SESSION_START_CASES = [
    SessionStartCase("uuid-and-its-transcript", ABC, "ours", (ABC, "ours")),
    SessionStartCase("a-flag", "--settings={}", "ours", (None, None)),
    SessionStartCase("not-a-uuid", "abc", "", (None, None)),
    SessionStartCase("a-number", 7, "", (None, None)),
    SessionStartCase("uuid-with-newline", ABC + "\n", "", (None, None)),
    SessionStartCase("transcript-elsewhere", ABC, "/etc/passwd", (ABC, None)),
    SessionStartCase("transcript-of-another-id", ABC, "theirs", (ABC, None)),
    SessionStartCase("transcript-climbing", ABC, "climb", (ABC, None)),
    SessionStartCase("transcript-relative", ABC, f"-tmp-p/{ABC}.jsonl", (ABC, None)),
]


@pytest.mark.parametrize("case", SESSION_START_CASES, ids=lambda c: c.test_id)
def test_session_start_keeps_only_uuids_and_transcripts_of_ours(case: SessionStartCase) -> None:
    """What a SessionStart carries becomes claude's arguments on restore: checked here."""
    import os

    projects = os.path.join(os.environ["CLAUDE_CONFIG_DIR"], "projects")
    transcripts = {
        "ours": os.path.join(projects, "-tmp-p", f"{ABC}.jsonl"),
        "theirs": os.path.join(projects, "-tmp-p", f"{DEF}.jsonl"),
        "climb": os.path.join(projects, "..", f"{ABC}.jsonl"),
    }
    transcript = transcripts.get(str(case.transcript), case.transcript)
    recorded = tuple(transcripts.get(str(v), v) for v in case.recorded)
    tracker = StateTracker()
    change = tracker.feed(
        {"hook_event_name": "SessionStart", "session_id": case.session_id, "source": "startup"}
        | {"transcript_path": transcript}
    )
    assert change.state == "idle"  # the session started, whatever it claims
    assert (change.session_id, change.transcript) == recorded
    assert tracker.session_id == case.session_id if recorded[0] else tracker.session_id is None


def test_a_diff_answered_in_an_editor_ends_waiting() -> None:
    """No hook says a diff was answered in the IDE; the host tells the tracker itself."""
    tracker = StateTracker()
    for event in ("SessionStart", "UserPromptSubmit", "PreToolUse", "PermissionRequest"):
        tracker.feed(ev(event))
    assert tracker.state == "waiting"
    assert tracker.permission_answered().state == "busy"
    assert tracker.state == "busy"
    # that permission's late notification does not bring waiting back
    assert tracker.feed(ev("Notification", notification_type="permission_prompt")).state is None
    assert tracker.state == "busy"
    # answered while not waiting (e.g. idle already): nothing changes
    tracker.feed(ev("Stop"))
    assert tracker.permission_answered().state is None
    assert tracker.state == "idle"
