"""The claude version tclaude launches: cached ``--version``, range checks, hook events.

A fake ``claude`` (a shell script) prints the version a case wants and, for
anything but ``--version``, runs the usual fake CLI, so ``tclaude new``
starts a real host with it.
"""

from __future__ import annotations

import json
import os
import shlex
import stat
import sys
import time
import typing as t
from pathlib import Path

import pytest

from tests.support.cli_runner import Tclaude
from tests.support.hosts import FAKE_CLAUDE
from tmuxclaude import claude_version
from tmuxclaude.host import hook_settings


def fake_claude(directory: Path, version: str) -> Path:
    """A ``claude`` that prints ``version`` and counts its ``--version`` runs."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "claude"
    counter = shlex.quote(str(directory / "version-calls"))
    fake = shlex.join([sys.executable, str(FAKE_CLAUDE)])
    printed = shlex.quote(version)
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = --version ]; then echo x >> {counter}; echo {printed}; exit 0; fi\n'
        f'exec {fake} "$@"\n'
    )
    script.chmod(0o755)
    return script


def version_calls(directory: Path) -> int:
    calls = directory / "version-calls"
    return len(calls.read_text().splitlines()) if calls.exists() else 0


class ParseCase(t.NamedTuple):
    test_id: str
    text: str
    expected: tuple[int, int, int] | None


PARSE_CASES = [
    ParseCase("claude-code", "2.1.197 (Claude Code)\n", (2, 1, 197)),
    ParseCase("bare", "2.1.332", (2, 1, 332)),
    ParseCase("python", "Python 3.11.2", None),
    ParseCase("empty", "", None),
    ParseCase("garbage", "2.x.1", None),
]


@pytest.mark.parametrize("case", PARSE_CASES, ids=[c.test_id for c in PARSE_CASES])
def test_parse(case: ParseCase) -> None:
    assert claude_version.parse(case.text) == case.expected


class RangeCase(t.NamedTuple):
    test_id: str
    version: tuple[int, int, int]
    problem: str | None  # a word of the warning, None when supported


RANGE_CASES = [
    RangeCase("oldest", (2, 1, 197), None),
    RangeCase("newest", (2, 1, 332), None),
    RangeCase("between", (2, 1, 250), None),
    RangeCase("too-old", (2, 1, 196), "older"),
    RangeCase("too-new", (2, 2, 0), "newer"),
]


@pytest.mark.parametrize("case", RANGE_CASES, ids=[c.test_id for c in RANGE_CASES])
def test_support_range(case: RangeCase) -> None:
    problem = claude_version.support_problem(case.version)
    if case.problem is None:
        assert problem is None
    else:
        assert problem is not None and case.problem in problem
        assert "\n" not in problem and claude_version.show(case.version) in problem


def test_version_is_cached_per_binary_until_it_changes(tmp_path: Path) -> None:
    script = fake_claude(tmp_path / "bin", "2.1.250 (Claude Code)")
    assert claude_version.version_of(str(script)) == (2, 1, 250)
    assert claude_version.version_of(str(script)) == (2, 1, 250)
    assert version_calls(tmp_path / "bin") == 1
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "tclaude" / "claude-version.json"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.parent.stat().st_mode) == 0o700
    # an update replaces the binary: another size (and mtime) asks again
    fake_claude(tmp_path / "bin", "2.1.332 (Claude Code)   ")
    assert claude_version.version_of(str(script)) == (2, 1, 332)
    assert version_calls(tmp_path / "bin") == 2


def test_a_planted_cache_entry_of_garbage_is_no_version(tmp_path: Path) -> None:
    script = fake_claude(tmp_path / "bin", "2.1.250")
    claude_version.version_of(str(script))
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "tclaude" / "claude-version.json"
    planted = dict.fromkeys(json.loads(cache.read_text()), "$(rm -rf ~)")
    cache.write_text(json.dumps(planted))
    assert claude_version.version_of(str(script)) is None
    cache.write_text("[1, 2")
    assert claude_version.version_of(str(script)) == (2, 1, 250)


def test_events_follow_the_version() -> None:
    newest = hook_settings.events_for((2, 1, 332))
    assert newest == hook_settings.HTTP_EVENTS
    older = hook_settings.events_for((2, 1, 100))
    assert "PermissionRequest" not in older and "StopFailure" not in older
    assert {"UserPromptSubmit", "PreToolUse", "Stop", "SessionEnd"} <= set(older)
    assert hook_settings.events_for(None) == hook_settings.HTTP_EVENTS


class DoctorCase(t.NamedTuple):
    test_id: str
    printed: str
    status: str
    detail: str


DOCTOR_CASES = [
    DoctorCase("supported", "2.1.250 (Claude Code)", "OK", "2.1.250"),
    DoctorCase("too-old", "2.0.14 (Claude Code)", "WARN", "older than the oldest"),
    DoctorCase("too-new", "3.0.0 (Claude Code)", "WARN", "newer than the newest"),
    DoctorCase("no-version", "oops", "WARN", "no version"),
]


@pytest.mark.parametrize("case", DOCTOR_CASES, ids=[c.test_id for c in DOCTOR_CASES])
def test_doctor_reports_the_claude_version(
    case: DoctorCase, tclaude: Tclaude, tmp_path: Path
) -> None:
    script = fake_claude(tmp_path / "bin", case.printed)
    out = tclaude.run("doctor", "--json", check=False, env={"TCLAUDE_CLAUDE_COMMAND": str(script)})
    rows = {r["check"]: r for r in json.loads(out.stdout)}
    row = rows["claude version"]
    assert row["status"] == case.status
    assert case.detail in row["detail"]
    assert f"{claude_version.OLDEST} to {claude_version.NEWEST}" in row["detail"]


def _settings_of(tclaude: Tclaude, args_file: Path) -> dict[str, t.Any]:
    """The hook settings the host gave the fake claude (which starts just after `new`)."""
    deadline = time.monotonic() + 30
    while not args_file.exists():
        assert time.monotonic() < deadline, "the fake claude never started"
        time.sleep(0.05)
    argv: list[str] = json.loads(args_file.read_text())["argv"]
    path = argv[argv.index("--settings") + 1]
    settings: dict[str, t.Any] = json.loads(Path(path).read_text())
    return settings


def test_new_warns_about_an_unsupported_claude_and_hooks_only_its_events(
    tclaude: Tclaude, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = fake_claude(tmp_path / "bin", "2.0.14 (Claude Code)")
    args_file = tmp_path / "args.json"
    monkeypatch.setenv("TCLAUDE_CLAUDE_COMMAND", str(script))
    monkeypatch.setenv("FAKE_CLAUDE_ARGS_FILE", str(args_file))  # the tmux server inherits it
    out = tclaude.run("new", "--cwd", str(tmp_path), "--detached", "--json")
    warnings = out.stderr.splitlines()
    assert len(warnings) == 1, out.stderr
    assert warnings[0].startswith("tclaude: warning: Claude Code 2.0.14 is older than")
    json.loads(out.stdout)  # stdout stays the instance's JSON
    hooks = _settings_of(tclaude, args_file)["hooks"]
    assert "PermissionRequest" not in hooks and "StopFailure" not in hooks
    assert "PreToolUse" in hooks and "SessionStart" in hooks
    assert version_calls(tmp_path / "bin") == 1  # new asked; the host used the cache


def test_new_is_quiet_about_a_supported_claude(
    tclaude: Tclaude, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = fake_claude(tmp_path / "bin", "2.1.332 (Claude Code)")
    args_file = tmp_path / "args.json"
    monkeypatch.setenv("TCLAUDE_CLAUDE_COMMAND", str(script))
    monkeypatch.setenv("FAKE_CLAUDE_ARGS_FILE", str(args_file))  # the tmux server inherits it
    out = tclaude.run("new", "--cwd", str(tmp_path), "--detached", "--json")
    assert out.stderr == ""
    hooks = _settings_of(tclaude, args_file)["hooks"]
    assert set(hook_settings.HTTP_EVENTS) | {"SessionStart"} == set(hooks)


def test_the_range_strings_match_the_tuples() -> None:
    assert claude_version.parse(claude_version.OLDEST) == claude_version.OLDEST_VERSION
    assert claude_version.parse(claude_version.NEWEST) == claude_version.NEWEST_VERSION
