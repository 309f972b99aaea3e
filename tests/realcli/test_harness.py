"""The real Claude Code CLI, offline, in a private tmux server.

These tests check the harness itself and pin down the CLI behaviour the
package relies on: what the screen shows, which keys answer the terminal
permission prompt, which hooks fire in which order with which payloads, and
how session ids behave across ``--session-id``, ``--resume`` and ``/clear``.
See docs/testing-real-cli.md for the observations behind them.
"""

from __future__ import annotations

import json
import re
import time
import typing as t
import uuid
from pathlib import Path

import pytest

from tests.support.fake_messages_api import FakeMessagesAPI, request_session_id, user_texts
from tests.support.real_claude import (
    BUSY_RE,
    PERMISSION_PROMPT_RE,
    PROMPT_READY_RE,
    HookRecorder,
    RealClaude,
    TmuxDriver,
    claude_argv,
    claude_env,
    command_hook_logger,
    exit_claude,
    hook_settings,
    launch_claude,
    read_command_hook_log,
    rejected_re,
    submit_prompt,
    wait_until_prompt_ready,
    wrote_re,
)

pytestmark = [pytest.mark.realcli]

#: The footer line once a turn is over: "✻ <verb> for <n>s".
TURN_DONE = r"✻ \w+ for \d"


class Sandbox(t.NamedTuple):
    home: Path
    cwd: Path
    version: str  # of the CLI under test


@pytest.fixture
def claude(real_claude: RealClaude) -> Path:
    return real_claude.binary


@pytest.fixture
def sandbox(tmp_path: Path, real_claude: RealClaude) -> Sandbox:
    home = tmp_path / "claude-home"
    cwd = tmp_path / "project"
    home.mkdir()
    cwd.mkdir()
    return Sandbox(home, cwd.resolve(), real_claude.version)


@pytest.fixture
def api() -> t.Iterator[FakeMessagesAPI]:
    with FakeMessagesAPI() as server:
        yield server


@pytest.fixture
def hooks() -> t.Iterator[HookRecorder]:
    with HookRecorder() as recorder:
        yield recorder


@pytest.fixture
def tmux() -> t.Iterator[t.Callable[[], TmuxDriver]]:
    """A factory of private tmux servers, each killed after the test."""
    drivers: list[TmuxDriver] = []

    def make() -> TmuxDriver:
        driver = TmuxDriver()
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.kill()


def test_prompt_is_answered_by_fake_api(
    claude: Path, sandbox: Sandbox, api: FakeMessagesAPI, tmux: t.Callable[[], TmuxDriver]
) -> None:
    driver = tmux()
    screen = launch_claude(
        driver,
        claude_argv(claude),
        claude_env(sandbox.home, sandbox.cwd, api.url, sandbox.version),
        sandbox.cwd,
    )
    # No first-run dialog, theme picker, trust prompt or tip in the way.
    assert "Claude Code v" in screen
    assert not any(word in screen for word in ("trust", "theme", "Select", "API key"))

    api.queue_text("The fake answer is 42.", delay=1.5)
    submit_prompt(driver, "what is the answer?")
    screen = driver.wait_for_text(BUSY_RE, timeout=10)
    assert not PROMPT_READY_RE.search(screen)
    screen = driver.wait_for_text("The fake answer is 42.", timeout=20)
    assert "❯ what is the answer?" in screen

    main = api.main_requests
    assert len(main) == 1
    assert main[0]["stream"] is True
    assert any("what is the answer?" in text for text in user_texts(main[0]))
    assert request_session_id(main[0])
    assert api.pending() == 0
    wait_until_prompt_ready(driver)


class PermissionCase(t.NamedTuple):
    test_id: str
    keys: tuple[str, ...]
    written: bool
    screen_after: re.Pattern[str]


PERMISSION_CASES = [
    PermissionCase("enter-on-yes", ("Enter",), True, wrote_re(1, "hello.txt")),
    PermissionCase("key-1-yes", ("1",), True, wrote_re(1, "hello.txt")),
    PermissionCase("escape", ("Escape",), False, rejected_re("hello.txt")),
    PermissionCase("key-3-no", ("3",), False, rejected_re("hello.txt")),
]


@pytest.mark.parametrize("case", PERMISSION_CASES, ids=[c.test_id for c in PERMISSION_CASES])
def test_write_asks_in_terminal_without_ide(
    case: PermissionCase,
    claude: Path,
    sandbox: Sandbox,
    api: FakeMessagesAPI,
    tmux: t.Callable[[], TmuxDriver],
) -> None:
    driver = tmux()
    launch_claude(
        driver,
        claude_argv(claude),
        claude_env(sandbox.home, sandbox.cwd, api.url, sandbox.version),
        sandbox.cwd,
    )
    target = sandbox.cwd / "hello.txt"
    tool_use_id = api.queue_tool_use("Write", {"file_path": str(target), "content": "hello\n"})
    submit_prompt(driver, "create hello.txt")

    # keys go once the prompt has settled: 2.1.332 drops early Enter and digits
    screen = driver.wait_until_settled(PERMISSION_PROMPT_RE, timeout=20)
    assert "Do you want to create hello.txt?" in screen
    assert "❯ 1. Yes" in screen
    assert "3. No" in screen
    assert "Esc to cancel" in screen
    assert not target.exists()

    driver.send_keys(*case.keys)
    driver.wait_for_text(case.screen_after, timeout=15)
    wait_until_prompt_ready(driver)
    if case.written:
        driver.wait_for_text("Done.", timeout=10)
        assert target.read_text() == "hello\n"
        result = api.find_tool_result(tool_use_id)
        assert result is not None
        assert "File created successfully" in str(result["content"])
    else:
        assert not target.exists()
        # A rejection ends the turn: the error result only travels with the next prompt.
        assert api.find_tool_result(tool_use_id) is None
        assert len(api.main_requests) == 1
        submit_prompt(driver, "never mind")
        api.wait_for_requests(lambda requests: len(requests) >= 2, timeout=20)
        result = api.find_tool_result(tool_use_id)
        assert result is not None
        assert result["is_error"] is True
        assert "doesn't want to proceed" in str(result["content"])


def test_hooks_during_a_write_turn(
    claude: Path,
    sandbox: Sandbox,
    api: FakeMessagesAPI,
    hooks: HookRecorder,
    tmux: t.Callable[[], TmuxDriver],
) -> None:
    session_id = str(uuid.uuid4())
    log = sandbox.home / "command-hooks.ndjson"
    settings = sandbox.home / "hooks.json"
    settings.write_text(json.dumps(hook_settings(hooks.url, command=command_hook_logger(log))))
    driver = tmux()
    launch_claude(
        driver,
        claude_argv(claude, settings=settings, session_id=session_id),
        claude_env(sandbox.home, sandbox.cwd, api.url, sandbox.version),
        sandbox.cwd,
    )
    target = sandbox.cwd / "hello.txt"
    api.queue_tool_use("Write", {"file_path": str(target), "content": "hello\n"})
    submit_prompt(driver, "create hello.txt")

    driver.wait_for_text(PERMISSION_PROMPT_RE, timeout=20)
    hooks.wait_for_event("PermissionRequest")
    assert not target.exists()
    # The permission_prompt notification comes ~6 s after the prompt shows.
    hooks.wait_for_event("Notification", timeout=20)
    driver.send_keys("1")
    hooks.wait_for_event("Stop")
    assert target.read_text() == "hello\n"
    exit_claude(driver)
    hooks.wait_for_event("SessionEnd")

    calls = hooks.calls
    events = [call.event for call in calls]
    assert events == [
        "UserPromptSubmit",
        "PreToolUse",
        "PermissionRequest",
        "Notification",
        "PostToolUse",
        "Stop",
        "SessionEnd",
    ], events
    # 2.1.197 skips http hooks for SessionStart ("HTTP hooks are not supported
    # for SessionStart"): only command hooks see it.
    assert all(call.payload["session_id"] == session_id for call in calls)
    by_event = {call.event: call.payload for call in calls}
    assert by_event["UserPromptSubmit"]["prompt"] == "create hello.txt"
    assert by_event["PreToolUse"]["tool_name"] == "Write"
    assert by_event["PermissionRequest"]["tool_input"] == {
        "file_path": str(target),
        "content": "hello\n",
    }
    assert by_event["Notification"]["notification_type"] == "permission_prompt"
    assert by_event["Notification"]["message"] == "Claude needs your permission"
    assert by_event["PostToolUse"]["tool_response"]["type"] == "create"
    assert by_event["Stop"]["last_assistant_message"] == "Done."
    assert by_event["SessionEnd"]["reason"] == "prompt_input_exit"
    for payload in by_event.values():
        assert {"session_id", "transcript_path", "cwd", "hook_event_name"} <= payload.keys()
        assert payload["cwd"] == str(sandbox.cwd)

    commands = read_command_hook_log(log)
    assert [p["hook_event_name"] for p in commands] == ["SessionStart", *events]
    assert commands[0]["source"] == "startup"
    assert commands[0]["session_id"] == session_id


class HookDelayCase(t.NamedTuple):
    test_id: str
    delay: float


HOOK_DELAY_CASES = [HookDelayCase("fast", 0.0), HookDelayCase("slow-1s", 1.0)]


@pytest.mark.parametrize("case", HOOK_DELAY_CASES, ids=[c.test_id for c in HOOK_DELAY_CASES])
def test_http_hook_blocks_prompt_for_its_duration(
    case: HookDelayCase,
    claude: Path,
    sandbox: Sandbox,
    api: FakeMessagesAPI,
    tmux: t.Callable[[], TmuxDriver],
) -> None:
    settings = sandbox.home / "hooks.json"
    with HookRecorder(delay=case.delay) as hooks:
        settings.write_text(json.dumps(hook_settings(hooks.url, events=["UserPromptSubmit"])))
        driver = tmux()
        launch_claude(
            driver,
            claude_argv(claude, settings=settings),
            claude_env(sandbox.home, sandbox.cwd, api.url, sandbox.version),
            sandbox.cwd,
        )
        submit_prompt(driver, "hello")
        api.wait_for_requests(lambda requests: len(requests) >= 1, timeout=20)
        hook_at = hooks.wait_for_event("UserPromptSubmit")[0].at
    # The model request waits for the UserPromptSubmit hook's answer (the lower bound);
    # the upper one is a hang guard only: what a hook costs is a figure, not a test
    added = api.main_request_times[0] - hook_at
    assert case.delay <= added < case.delay + 10.0, added


def test_resume_sees_first_conversation(
    claude: Path,
    sandbox: Sandbox,
    api: FakeMessagesAPI,
    tmux: t.Callable[[], TmuxDriver],
) -> None:
    session_id = str(uuid.uuid4())
    log = sandbox.home / "command-hooks.ndjson"
    settings = sandbox.home / "hooks.json"
    settings.write_text(
        json.dumps(hook_settings(command=command_hook_logger(log), events=["SessionStart"]))
    )
    env = claude_env(sandbox.home, sandbox.cwd, api.url, sandbox.version)

    first = tmux()
    launch_claude(
        first, claude_argv(claude, settings=settings, session_id=session_id), env, sandbox.cwd
    )
    submit_prompt(first, "remember the word pineapple")
    first.wait_for_text(TURN_DONE, timeout=20)
    exit_claude(first)
    first.kill()
    assert request_session_id(api.main_requests[0]) == session_id

    second = tmux()
    screen = launch_claude(
        second, claude_argv(claude, settings=settings, resume=session_id), env, sandbox.cwd
    )
    assert "remember the word pineapple" in screen
    submit_prompt(second, "which word?")
    # The first turn's "✻ ... for 0s" is on screen again: wait on the API.
    resumed = api.wait_for_requests(lambda requests: len(requests) >= 2, timeout=20)[-1]
    assert request_session_id(resumed) == session_id
    texts = user_texts(resumed)
    assert any("remember the word pineapple" in text for text in texts)
    assert any("which word?" in text for text in texts)

    starts = read_command_hook_log(log)
    assert [(s["source"], s["session_id"]) for s in starts] == [
        ("startup", session_id),
        ("resume", session_id),
    ]


def test_clear_starts_a_new_session_id(
    claude: Path,
    sandbox: Sandbox,
    api: FakeMessagesAPI,
    hooks: HookRecorder,
    tmux: t.Callable[[], TmuxDriver],
) -> None:
    session_id = str(uuid.uuid4())
    log = sandbox.home / "command-hooks.ndjson"
    settings = sandbox.home / "hooks.json"
    settings.write_text(
        json.dumps(
            hook_settings(
                hooks.url, command=command_hook_logger(log), events=["SessionStart", "SessionEnd"]
            )
        )
    )
    driver = tmux()
    launch_claude(
        driver,
        claude_argv(claude, settings=settings, session_id=session_id),
        claude_env(sandbox.home, sandbox.cwd, api.url, sandbox.version),
        sandbox.cwd,
    )
    submit_prompt(driver, "before the clear")
    driver.wait_for_text(TURN_DONE, timeout=20)
    submit_prompt(driver, "/clear")
    ended = [c.payload for c in hooks.wait_for_event("SessionEnd") if c.event == "SessionEnd"]
    assert ended[0]["session_id"] == session_id
    assert ended[0]["reason"] == "clear"

    deadline = time.monotonic() + 10
    while len(read_command_hook_log(log)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    starts = [p for p in read_command_hook_log(log) if p["hook_event_name"] == "SessionStart"]
    assert [s["source"] for s in starts] == ["startup", "clear"], starts
    new_id = starts[1]["session_id"]
    assert new_id != session_id

    wait_until_prompt_ready(driver)
    submit_prompt(driver, "after the clear")
    api.wait_for_requests(lambda requests: len(requests) >= 2, timeout=20)
    after = api.main_requests[-1]
    assert request_session_id(after) == new_id
    assert not any("before the clear" in text for text in user_texts(after))
    # Both transcripts stay on disk, one per session id.
    transcripts = {p.stem for p in (sandbox.home / ".claude" / "projects").glob("*/*.jsonl")}
    assert {session_id, new_id} <= transcripts
