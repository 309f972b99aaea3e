"""The hook → state rules, event by event."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from tmuxclaude.status import StatusTracker


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
    tracker = StatusTracker()
    seen = []
    for event in case.events:
        tracker.feed(event)
        seen.append(tracker.state)
    assert seen == case.states


def test_changes_are_reported_once_and_carry_unseen_and_session() -> None:
    tracker = StatusTracker()
    start = tracker.feed(ev("SessionStart", session_id="abc", source="resume"))
    assert (start.state, start.session_id, start.session_source) == ("idle", "abc", "resume")
    assert tracker.feed(ev("UserPromptSubmit")).unseen is False
    assert tracker.feed(ev("PreToolUse")).state is None  # busy already: no change
    done = tracker.feed(ev("Stop"))
    assert (done.state, done.unseen) == ("idle", True)
    cleared = tracker.feed(ev("SessionStart", session_id="def", source="clear"))
    assert cleared.state is None and cleared.session_id == "def"
    assert tracker.session_id == "def"


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
