"""peek, log, usage in list/status, and new --resume, with the fake claude on a real tmux."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tests.support import transcripts as tr
from tests.support.cli_runner import Tclaude
from tmuxclaude.transcript import project_dir


def new(tclaude: Tclaude, name: str, cwd: Path, **env: str) -> dict[str, str]:
    out = tclaude.run("new", "--name", name, "--cwd", str(cwd), "--detached", "--json", env=env)
    data: dict[str, str] = json.loads(out.stdout)
    return data


def session_of(tclaude: Tclaude, name: str) -> str:
    rows = tclaude.json("list")
    session_id: str = next(r["session_id"] for r in rows if r["name"] == name)
    return session_id


def conversation(session_id: str, cwd: str) -> list[dict[str, object]]:
    usage = {
        "input_tokens": 1200,
        "output_tokens": 340,
        "cache_creation_input_tokens": 5000,
        "cache_read_input_tokens": 20000,
    }
    records = [
        tr.user("first: explain the parser", session_id, cwd, "2026-11-30T09:00:00.000Z"),
        tr.assistant([tr.text("The parser reads tokens.")], session_id, cwd),
        tr.user("second: fix the bug in app.py", session_id, cwd, "2026-11-30T09:05:00.000Z"),
        tr.assistant(
            [tr.text("Looking at it."), tr.tool_use("Read", file_path=f"{cwd}/app.py")],
            session_id,
            cwd,
            message_id="m2",
        ),
        tr.tool_result(session_id, cwd, "print('x')"),
        tr.assistant(
            [tr.tool_use("Edit", file_path=f"{cwd}/app.py", old_string="x", new_string="y")],
            session_id,
            cwd,
            message_id="m3",
        ),
        tr.tool_result(session_id, cwd, "ok"),
        tr.assistant([tr.text("Fixed.")], session_id, cwd, message_id="m4", usage=usage),
        tr.user("third: run the tests", session_id, cwd, "2026-11-30T09:10:00.000Z"),
        tr.assistant([tr.tool_use("Bash", command="pytest -q")], session_id, cwd),
    ]
    for second, record in enumerate(records):
        record["timestamp"] = f"2026-11-30T09:00:{second:02d}.000Z"
    return records


def test_log_shows_the_last_turns_and_list_the_usage(tclaude: Tclaude, tmp_path: Path) -> None:
    project = (tmp_path / "proj").resolve()
    project.mkdir()
    new(tclaude, "api", project)
    session_id = session_of(tclaude, "api")
    path = Path(project_dir(str(project))) / f"{session_id}.jsonl"
    tr.write(path, conversation(session_id, str(project)))

    log = tclaude.json("log", "api", "-n", "2")
    assert log["session_id"] == session_id
    assert [t["prompt"] for t in log["turns"]] == [
        "second: fix the bug in app.py",
        "third: run the tests",
    ]
    second, third = log["turns"]
    assert second["text"] == ["Looking at it.", "Fixed."]
    assert second["tools"] == [
        {"name": "Read", "target": f"{project}/app.py"},
        {"name": "Edit", "target": f"{project}/app.py"},
    ]
    assert third["tools"] == [{"name": "Bash", "target": "pytest -q"}]
    human = tclaude.run("log", "api").stdout
    for piece in ("first: explain the parser", "The parser reads tokens.", "⏺ Edit", "pytest -q"):
        assert piece in human

    row = next(r for r in tclaude.json("list") if r["name"] == "api")
    usage = row["usage"]
    # 10 in / 5 out for each other reply (the generator's default), m4's own figures
    assert usage["input_tokens"] == 10 * 4 + 1200
    assert usage["output_tokens"] == 5 * 4 + 340
    assert usage["cache_creation_input_tokens"] == 5000
    assert usage["cache_read_input_tokens"] == 20000
    assert usage["context_tokens"] == 15  # the last reply: 10 in + 5 out
    assert usage["model"] == "claude-sonnet-4-5-20250929"
    assert usage["cost_usd_estimate"] > 0
    table = tclaude.run("list").stdout
    assert "USAGE" in table and "$" in table
    status = tclaude.json("status", "api")
    assert status["usage"] == usage
    assert "cost is an estimate" in tclaude.run("status", "api").stdout


def test_log_without_a_conversation_says_so(tclaude: Tclaude, tmp_path: Path) -> None:
    new(tclaude, "idle", tmp_path)
    proc = tclaude.run("log", "idle", check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("tclaude: instance 'idle' has no conversation yet")
    assert "Traceback" not in proc.stderr


def test_peek_prints_the_screen(tclaude: Tclaude, tmp_path: Path) -> None:
    data = new(tclaude, "api", tmp_path)
    tty = tclaude.tmux("display-message", "-p", "-t", data["pane"], "#{pane_tty}").strip()
    with open(tty, "w") as handle:  # stands in for claude drawing its screen
        handle.write("".join(f"screen line {n}\r\n" for n in range(1, 81)))
    deadline = time.monotonic() + 10
    while "screen line 80" not in tclaude.run("peek", "api").stdout:
        assert time.monotonic() < deadline, tclaude.run("peek", "api").stdout
        time.sleep(0.1)
    last = tclaude.run("peek", "api", "-n", "60").stdout.splitlines()
    assert last == [f"screen line {n}" for n in range(21, 81)]  # beyond the 50-row screen
    tclaude.run("kill", "api")
    proc = tclaude.run("peek", "api", check=False)
    assert proc.returncode == 2 and proc.stderr.startswith("tclaude: "), proc.stderr
    assert "Traceback" not in proc.stderr


def test_peek_rejects_a_bad_line_count(tclaude: Tclaude) -> None:
    proc = tclaude.run("peek", "api", "-n", "x", check=False)
    assert proc.returncode == 2 and "not a number" in proc.stderr


def test_new_resume_starts_the_conversation_in_its_directory(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    project = (tmp_path / "held-here").resolve()
    project.mkdir()
    session_id = "0f3c9a1e-5b2d-4c7e-9f10-2a3b4c5d6e7f"
    path = Path(project_dir(str(project))) / f"{session_id}.jsonl"
    tr.write(path, conversation(session_id, str(project)))
    args_file = tmp_path / "args.json"
    data = json.loads(
        tclaude.run(
            "new",
            "--resume",
            session_id,
            "--detached",
            "--json",
            cwd=str(tmp_path),
            env={"FAKE_CLAUDE_ARGS_FILE": str(args_file)},
        ).stdout
    )
    assert data["cwd"] == str(project)
    assert data["session_id"] == session_id
    deadline = time.monotonic() + 20
    while not args_file.exists() or not args_file.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    argv = json.loads(args_file.read_text())["argv"]
    assert f"--resume={session_id}" in argv
    assert not any(a.startswith("--session-id") for a in argv)
    # one conversation, one claude: a second --resume of it is refused
    proc = tclaude.run("new", "--resume", session_id, "--detached", check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"tclaude: instance {data['name']!r} holds conversation")
    assert len(tclaude.json("list")) == 1


def test_new_resume_refuses_what_is_no_session(tclaude: Tclaude, tmp_path: Path) -> None:
    for bad, message in (
        ("--model=x", "bad session id"),
        ("not-a-uuid", "bad session id"),
        ("0f3c9a1e-5b2d-4c7e-9f10-2a3b4c5d6e7f", "no conversation"),
    ):
        proc = tclaude.run("new", f"--resume={bad}", "--detached", check=False)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.startswith("tclaude: ") and message in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
    assert tclaude.json("list") == []
    assert os.environ["CLAUDE_CONFIG_DIR"]
