"""``tclaude review`` answers the real Claude Code CLI's proposed edits (fake Messages API).

The host answers openDiff as an editor would: accepted, the CLI writes the
text and Claude carries on; rejected, nothing is written and Claude says so.
A comment lands in Claude's prompt as an @-mention and text.
"""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import pytest

from tests.realcli.test_tclaude_realcli import new, screen, wait_connected, wait_screen
from tests.support.cli_runner import Tclaude
from tests.support.fake_messages_api import FakeMessagesAPI, tool_results, user_texts

pytestmark = [pytest.mark.realcli]


def _state(tclaude: Tclaude, pane: str) -> str:
    return tclaude.tmux("display-message", "-p", "-t", pane, "#{@tclaude-state}").strip()


def _propose(tclaude: Tclaude, api: FakeMessagesAPI, pane: str, target: Path) -> str:
    """Have Claude propose writing ``target``; its tool_use id once the diff is pending."""
    tool_use_id = api.queue_tool_use("Write", {"file_path": str(target), "content": "proposed\n"})
    api.queue_text("Done.")
    tclaude.tmux("send-keys", "-t", pane, "-l", "write the file")
    tclaude.tmux("send-keys", "-t", pane, "Enter")
    deadline = time.monotonic() + 60
    while not tclaude.json("review", "api", "--list")["diffs"]:
        assert time.monotonic() < deadline, screen(tclaude, pane)
        time.sleep(0.2)
    return tool_use_id


def _wait(condition: object, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not callable(condition) or not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


@pytest.mark.parametrize("how", ["accept", "edit", "reject"])
def test_review_answers_a_proposed_write(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI, tmp_path: Path, how: str
) -> None:
    target = real_env / "hello.txt"
    data = new(tclaude, "api", real_env)
    pane = data["pane"]
    wait_connected(tclaude, "api")
    tool_use_id = _propose(tclaude, api, pane, target)
    [diff] = tclaude.json("review", "api", "--list")["diffs"]
    assert diff["file"] == str(target) and diff["new_file"] is True
    assert diff["diff"] == "--- /dev/null\n+++ b/hello.txt\n@@ -0,0 +1 @@\n+proposed\n"
    # a comment now would answer the open permission prompt: refused, nothing typed
    refused = tclaude.run("review", "api", "--comment", str(real_env), "no", check=False)
    assert refused.returncode == 2 and "the comment was not sent" in refused.stderr
    if how == "accept":
        assert tclaude.run("review", "api", "--accept", "hello.txt").stdout == (
            "accepted hello.txt\n"
        )
        wanted = "proposed"
    elif how == "edit":
        editor = tmp_path / "editor.sh"
        editor.write_text("#!/bin/sh\nprintf 'edited in review\\n' > \"$1\"\n")
        editor.chmod(0o755)
        script = tmp_path / "review.sh"
        script.write_text(
            f"export GIT_PAGER=cat EDITOR={shlex.quote(str(editor))}\n"
            f"{shlex.quote(sys.executable)} -m tmuxclaude review api\n"
            'echo "review exited $?"; sleep 600\n'
        )
        review = tclaude.tmux("new-window", "-d", "-P", "-F", "#{pane_id}", f"sh {script}")
        review = review.strip()
        wait_screen(tclaude, review, r"hello\.txt: \[a\]ccept")
        tclaude.tmux("send-keys", "-t", review, "-l", "e")
        tclaude.tmux("send-keys", "-t", review, "Enter")
        wait_screen(tclaude, review, r"review exited 0")
        assert "accepted with your edits: hello.txt" in screen(tclaude, review)
        wanted = "edited in review"
    else:
        assert tclaude.run("review", "api", "--reject", "hello.txt").stdout == (
            "rejected hello.txt\n"
        )
    if how == "reject":
        wait_screen(tclaude, pane, r"(?i)reject")
        _wait(lambda: _state(tclaude, pane) == "idle", "never idle after the rejection")
        assert not target.exists()
        assert api.find_tool_result(tool_use_id) is None  # the turn ended: Claude was told
    else:
        # the CLI writes what it was given (2.1.197 drops the final newline), and carries on
        _wait(
            lambda: target.exists() and target.read_text().rstrip("\n") == wanted,
            f"not written: {target.read_bytes() if target.exists() else None!r}",
        )
        api.wait_for_requests(
            lambda rs: any(
                b.get("tool_use_id") == tool_use_id for r in rs for b in tool_results(r)
            ),
            30,
        )
        result = api.find_tool_result(tool_use_id)
        assert result is not None and not result.get("is_error"), result
        wait_screen(tclaude, pane, r"Done\.")
    assert tclaude.json("review", "api", "--list")["diffs"] == []


def test_a_review_comment_reaches_claude(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI
) -> None:
    (real_env / "app.py").write_text("".join(f"line {n}\n" for n in range(1, 10)))
    data = new(tclaude, "api", real_env)
    pane = data["pane"]
    wait_connected(tclaude, "api")
    _wait(lambda: _state(tclaude, pane) == "idle", "never idle")
    api.queue_text("Will do.")
    tclaude.run("review", "api", "--comment", "app.py:3", "rename this line", "--submit")
    requests = api.wait_for_requests(
        lambda rs: any("rename this line" in t for r in rs for t in user_texts(r)), 60
    )
    texts = [t for r in requests for t in user_texts(r) if "rename this line" in t]
    assert "@app.py#L3" in texts[-1], texts
    wait_screen(tclaude, pane, r"Will do\.")
