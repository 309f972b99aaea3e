"""``tclaude review`` against a host whose (fake) claude proposes edits, on a real tmux.

The interactive form runs in a tmux pane (a real terminal) and is driven
with keys; the non-interactive forms run as a user would type them.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.cli_runner import Tclaude
from tests.support.hosts import ControlServer, FakeCli


def _content(*texts: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": t} for t in texts]}


async def start(tclaude: Tclaude, control: ControlServer, cwd: Path) -> FakeCli:
    await asyncio.to_thread(tclaude.run, "new", "--name", "api", "--cwd", str(cwd), "--detached")
    return await control.accept()


async def propose(cli: FakeCli, path: Path, contents: str, tab: str | None = None) -> Any:
    tab = tab or f"✻ [Claude Code] {path.name} ⧉"
    args = {
        "old_file_path": str(path),
        "new_file_path": str(path),
        "new_file_contents": contents,
        "tab_name": tab,
    }
    return await cli.request("tools/call", {"name": "openDiff", "arguments": args})


async def pending(tclaude: Tclaude, count: int) -> list[dict[str, Any]]:
    """The pending edits, once there are ``count`` of them (the host takes each in turn)."""
    for _ in range(200):
        diffs: list[dict[str, Any]] = (
            await asyncio.to_thread(tclaude.json, "review", "api", "--list")
        )["diffs"]
        if len(diffs) == count:
            return diffs
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {count} pending edits: {diffs}")


async def no_answer(cli: FakeCli, call: Any) -> None:
    """The CLI has had no answer to ``call`` (it would be here within a second)."""
    try:
        got = await cli.response(call, timeout=1)
    except TimeoutError:
        return
    raise AssertionError(f"answered: {got}")


async def test_list_accept_reject_and_accept_all(
    tclaude: Tclaude, control: ControlServer, tmp_path: Path
) -> None:
    app = tmp_path / "app.py"
    app.write_text("a\nb\nc\n")
    cli = await start(tclaude, control, tmp_path)
    one = await propose(cli, app, "a\nB\nc\nd\n")
    two = await propose(cli, tmp_path / "new.py", "x = 1\n")
    [first, second] = await pending(tclaude, 2)
    assert first["file"] == str(app) and (first["added"], first["removed"]) == (2, 1)
    assert first["new_file"] is False and first["changed_on_disk"] is False
    assert first["diff"] == ("--- a/app.py\n+++ b/app.py\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n")
    assert second["new_file"] is True and second["diff"].startswith("--- /dev/null\n+++ b/new.py")
    listed = (await asyncio.to_thread(tclaude.run, "review", "api", "--list")).stdout
    assert re.search(r"app\.py  \+2 -1  \d+s ago\n", listed), listed
    assert "new.py (new file)  +1 -0" in listed
    # by a path relative to the instance's directory, from elsewhere
    out = await asyncio.to_thread(tclaude.run, "review", "api", "--accept", "app.py", cwd="/")
    assert out.stdout == "accepted app.py\n"
    assert (await cli.response(one))["result"] == _content("FILE_SAVED", "a\nB\nc\nd\n")
    await asyncio.to_thread(tclaude.run, "review", "api", "--reject", str(tmp_path / "new.py"))
    assert (await cli.response(two))["result"] == _content(
        "DIFF_REJECTED", "✻ [Claude Code] new.py ⧉"
    )
    calls = [await propose(cli, tmp_path / f"f{n}.txt", f"{n}\n") for n in range(3)]
    await pending(tclaude, 3)
    done = await asyncio.to_thread(tclaude.json, "review", "api", "--accept", "--all")
    assert done == {"accepted": ["f0.txt", "f1.txt", "f2.txt"]}
    for n, call in enumerate(calls):
        assert (await cli.response(call))["result"] == _content("FILE_SAVED", f"{n}\n")
    assert await pending(tclaude, 0) == []


async def test_bad_requests_accept_nothing(
    tclaude: Tclaude, control: ControlServer, tmp_path: Path
) -> None:
    app = tmp_path / "app.py"
    app.write_text("old\n")
    cli = await start(tclaude, control, tmp_path)
    call = await propose(cli, app, "new\n")
    await pending(tclaude, 1)
    app.write_text("old, and the user's own change\n")
    [diff] = await pending(tclaude, 1)
    assert diff["changed_on_disk"] is True
    cases = [
        (["--accept", "app.py"], "app.py changed on disk since Claude proposed the edit"),
        (["--accept", "--all"], "app.py changed on disk since Claude proposed the edit"),
        (["--accept", "other.py"], "no pending diff for other.py (pending: app.py)"),
        (["--accept"], "--accept needs FILE or --all"),
        (["--reject", "app.py", "--all"], "--reject needs FILE or --all"),
        ([], "review asks on a terminal"),  # stdin is no terminal here
    ]
    for args, message in cases:
        proc = await asyncio.to_thread(tclaude.run, "review", "api", *args, check=False)
        assert proc.returncode == 2, (args, proc)
        assert message in proc.stderr and proc.stderr.count("\n") == 1, (args, proc.stderr)
    await no_answer(cli, call)
    await asyncio.to_thread(tclaude.run, "review", "api", "--accept", "app.py", "--force")
    assert (await cli.response(call))["result"] == _content("FILE_SAVED", "new\n")


def _pane(tclaude: Tclaude, command: str) -> str:
    out = tclaude.tmux("new-window", "-d", "-P", "-F", "#{pane_id}", command)
    return out.strip()


def _wait(tclaude: Tclaude, pane: str, pattern: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = tclaude.tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", pane)
        if re.search(pattern, text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} not on screen:\n{text}")
        time.sleep(0.05)


def _review_command(tmp_path: Path, editor: str = "false") -> str:
    script = tmp_path / "review.sh"
    script.write_text(
        f"export GIT_PAGER=cat EDITOR={shlex.quote(editor)}\n"
        f"cd {shlex.quote(str(tmp_path))}\n"
        f"{shlex.quote(sys.executable)} -m tmuxclaude review api\n"
        'echo "review exited $?"\n'
        "sleep 600\n"
    )
    return f"sh {shlex.quote(str(script))}"


async def test_interactive_unknown_keys_and_eof_accept_nothing(
    tclaude: Tclaude, control: ControlServer, tmp_path: Path
) -> None:
    app = tmp_path / "app.py"
    app.write_text("old\n")
    cli = await start(tclaude, control, tmp_path)
    call = await propose(cli, app, "new\n")
    await pending(tclaude, 1)
    pane = _pane(tclaude, _review_command(tmp_path))
    screen = await asyncio.to_thread(_wait, tclaude, pane, r"\[q\]uit\?\s*\Z")
    assert "Claude proposes an edit to app.py (+1 -1" in screen
    assert "-old\n+new" in screen
    for keys in (["Enter"], ["-l", "y"], ["-l", "accept"], ["-l", "yes"]):
        tclaude.tmux("send-keys", "-t", pane, *keys)
        if keys != ["Enter"]:
            tclaude.tmux("send-keys", "-t", pane, "Enter")
    await asyncio.to_thread(
        _wait, tclaude, pane, r"(?s)(answer a, e, r, s, c, d or q.*){4}\[q\]uit\?\s*\Z"
    )
    tclaude.tmux("send-keys", "-t", pane, "C-d")  # end of input: quit
    await asyncio.to_thread(_wait, tclaude, pane, r"review exited 0")
    await no_answer(cli, call)
    assert (await pending(tclaude, 1))[0]["file"] == str(app)
    assert app.read_text() == "old\n"


async def test_interactive_edit_reject_skip(
    tclaude: Tclaude, control: ControlServer, tmp_path: Path
) -> None:
    record = tmp_path / "editor.record"
    editor = tmp_path / "editor.sh"
    editor.write_text(
        "#!/bin/sh\n"
        f'stat -c "%a" "$1" "$(dirname "$1")" > {shlex.quote(str(record))}\n'
        f'echo "$1" >> {shlex.quote(str(record))}\n'
        "printf 'edited by the user\\n' > \"$1\"\n"
    )
    editor.chmod(0o755)
    cli = await start(tclaude, control, tmp_path)
    calls = [await propose(cli, tmp_path / f"f{n}.txt", f"proposed {n}\n") for n in range(3)]
    await pending(tclaude, 3)
    pane = _pane(tclaude, _review_command(tmp_path, str(editor)))
    await asyncio.to_thread(_wait, tclaude, pane, r"f0\.txt: \[a\]ccept")
    tclaude.tmux("send-keys", "-t", pane, "-l", "e")
    tclaude.tmux("send-keys", "-t", pane, "Enter")
    assert (await cli.response(calls[0], timeout=30))["result"] == _content(
        "FILE_SAVED", "edited by the user\n"
    )
    file_mode, dir_mode, path = record.read_text().split("\n")[:3]
    assert (file_mode, dir_mode) == ("600", "700")
    assert path.endswith("/f0.txt")  # named as the file, for the editor's syntax
    assert not os.path.exists(os.path.dirname(path))  # the temp file and its directory are gone
    await asyncio.to_thread(_wait, tclaude, pane, r"f1\.txt: \[a\]ccept")
    tclaude.tmux("send-keys", "-t", pane, "-l", "r")
    tclaude.tmux("send-keys", "-t", pane, "Enter")
    assert (await cli.response(calls[1], timeout=30))["result"] == _content(
        "DIFF_REJECTED", "✻ [Claude Code] f1.txt ⧉"
    )
    await asyncio.to_thread(_wait, tclaude, pane, r"f2\.txt: \[a\]ccept")
    tclaude.tmux("send-keys", "-t", pane, "-l", "s")
    tclaude.tmux("send-keys", "-t", pane, "Enter")
    await asyncio.to_thread(_wait, tclaude, pane, r"review exited 0")
    await no_answer(cli, calls[2])
    assert [d["file"] for d in await pending(tclaude, 1)] == [str(tmp_path / "f2.txt")]


async def test_interactive_comment_mentions_the_line_and_accepts_nothing(
    tclaude: Tclaude, control: ControlServer, tmp_path: Path
) -> None:
    app = tmp_path / "app.py"
    app.write_text("a\nb\nc\n")
    cli = await start(tclaude, control, tmp_path)
    call = await propose(cli, app, "a\nB\nc\n")
    await pending(tclaude, 1)
    pane = _pane(tclaude, _review_command(tmp_path))
    await asyncio.to_thread(_wait, tclaude, pane, r"app\.py: \[a\]ccept")
    for answer in ("c", "2", "use a constant here"):
        tclaude.tmux("send-keys", "-t", pane, "-l", answer)
        tclaude.tmux("send-keys", "-t", pane, "Enter")
    note = await cli.notification("at_mentioned", timeout=30)
    assert note["params"] == {"filePath": str(app.resolve()), "lineStart": 1, "lineEnd": 1}
    await asyncio.to_thread(_wait, tclaude, pane, r"(?s)comment typed.*app\.py: \[a\]ccept")
    tclaude.tmux("send-keys", "-t", pane, "-l", "q")
    tclaude.tmux("send-keys", "-t", pane, "Enter")
    await asyncio.to_thread(_wait, tclaude, pane, r"review exited 0")
    await no_answer(cli, call)


async def test_file_names_from_the_repository_reach_the_terminal_printable(
    tclaude: Tclaude, control: ControlServer, tmp_path: Path
) -> None:
    """A proposed file's name retitles and clears no terminal; --json keeps it exact."""
    evil = tmp_path / "esc\x1b]0;PWNTITLE\x07\x1b[2J\x1b[41mX.py"
    evil.write_text("old\n")
    cli = await start(tclaude, control, tmp_path)
    call = await propose(cli, evil, "new\n", tab="evil")
    [diff] = await pending(tclaude, 1)
    assert diff["file"] == str(evil)  # exact: JSON escapes the controls
    listed = (await asyncio.to_thread(tclaude.run, "review", "api", "--list")).stdout
    assert "esc]0;PWNTITLE[2J[41mX.py  +1 -1" in listed, listed
    assert "\x1b" not in listed and "\x07" not in listed
    pane = _pane(tclaude, _review_command(tmp_path))
    screen = await asyncio.to_thread(_wait, tclaude, pane, r"\[q\]uit\?\s*\Z")
    assert "Claude proposes an edit to esc]0;PWNTITLE[2J[41mX.py (+1 -1" in screen, screen
    assert "esc]0;PWNTITLE[2J[41mX.py: [a]ccept" in screen
    assert "+++ b/esc]0;PWNTITLE[2J[41mX.py" in screen
    # a comment refused: the error names the file, printable too
    for keys in ("c", "99", "note"):
        tclaude.tmux("send-keys", "-t", pane, "-l", keys)
        tclaude.tmux("send-keys", "-t", pane, "Enter")
    await asyncio.to_thread(_wait, tclaude, pane, r"not sent: .*X\.py has 1 line")
    await asyncio.to_thread(_wait, tclaude, pane, r"\[q\]uit\?\s*\Z")
    assert tclaude.tmux("display", "-p", "-t", pane, "#{pane_title}").strip() != "PWNTITLE"
    coloured = tclaude.tmux("capture-pane", "-p", "-e", "-S", "-200", "-t", pane)
    assert "\x1b[41m" not in coloured, coloured  # the name's red background never took
    tclaude.tmux("send-keys", "-t", pane, "C-d")
    await asyncio.to_thread(_wait, tclaude, pane, r"review exited 0")
    out = await asyncio.to_thread(tclaude.run, "review", "api", "--reject", "--all")
    assert out.stdout == "rejected esc]0;PWNTITLE[2J[41mX.py\n"
    assert (await cli.response(call))["result"] == _content("DIFF_REJECTED", "evil")


async def test_a_fifo_is_not_read_and_an_edit_outside_is_flagged(
    tclaude: Tclaude, control: ControlServer, tmp_path: Path
) -> None:
    """A FIFO's edit is listed as not shown (no read hangs); an edit whose path, or a
    symlink on it, leads out of the instance's directory is flagged, not refused."""
    repo, elsewhere = tmp_path / "repo", tmp_path / "etc"
    repo.mkdir()
    elsewhere.mkdir()
    (elsewhere / "passwd").write_text("root\n")
    (repo / "link").symlink_to(elsewhere)
    (repo / "app.py").write_text("a\n")
    os.mkfifo(repo / "pipe.py")
    cli = await start(tclaude, control, repo)
    await propose(cli, repo / "pipe.py", "x\n", tab="pipe")
    await propose(cli, repo / "link" / "passwd", "evil\n", tab="passwd")
    await propose(cli, repo / "app.py", "b\n", tab="app")
    diffs = await pending(tclaude, 3)
    assert diffs[0]["not_shown"] == "not a regular file: not shown"
    assert diffs[1]["outside"] == str(elsewhere / "passwd") and diffs[2]["outside"] is None
    listed = (await asyncio.to_thread(tclaude.run, "review", "api", "--list")).stdout
    assert re.search(r"  pipe\.py  ! not a regular file: not shown  \d+s ago\n", listed), listed
    assert "link/passwd  +1 -1" in listed
    assert f"    ! outside api's directory: {elsewhere / 'passwd'}\n" in listed
    assert re.search(r"  app\.py  \+1 -1  \d+s ago\n", listed), listed
    assert listed.count("outside") == 1


async def test_interactive_d_shows_the_changes_since_the_instance_started(
    tclaude: Tclaude, control: ControlServer, tmp_path: Path
) -> None:
    import json
    import subprocess

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(tmp_path), *args], check=True, capture_output=True, text=True
        ).stdout

    git("init", "-q", "-b", "main")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    (tmp_path / "notes.txt").write_text("before\n")
    git("add", ".")
    git("commit", "-q", "-m", "base")
    start_commit = git("rev-parse", "HEAD").strip()
    cli = await start(tclaude, control, tmp_path)
    state = Path(os.environ["TCLAUDE_STATE_DIR"]) / "instances.json"
    for _ in range(600):  # a hang guard: the host records it after ready
        entries = json.loads(state.read_text())["instances"].values()
        if next(e for e in entries if e["name"] == "api").get("start_commit"):
            break
        await asyncio.sleep(0.05)
    assert next(e for e in entries if e["name"] == "api")["start_commit"] == start_commit
    (tmp_path / "notes.txt").write_text("before\ncommitted by the agent\n")
    git("commit", "-q", "-am", "the agent's work")
    app = tmp_path / "app.py"
    call = await propose(cli, app, "new\n")
    await pending(tclaude, 1)
    pane = _pane(tclaude, _review_command(tmp_path))
    await asyncio.to_thread(_wait, tclaude, pane, r"\[q\]uit\?\s*\Z")
    tclaude.tmux("send-keys", "-t", pane, "-l", "d")
    tclaude.tmux("send-keys", "-t", pane, "Enter")
    screen = await asyncio.to_thread(
        _wait, tclaude, pane, r"(?s)\+committed by the agent.*\[q\]uit\?\s*\Z"
    )
    assert "diff --git a/notes.txt b/notes.txt" in screen
    tclaude.tmux("send-keys", "-t", pane, "C-d")
    await asyncio.to_thread(_wait, tclaude, pane, r"review exited 0")
    await no_answer(cli, call)
    assert not app.exists()
