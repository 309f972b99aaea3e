"""``tclaude diff``: an instance's git changes, tracked and untracked, on a real tmux."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.support.cli_runner import Tclaude


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True
    ).stdout


def repository(path: Path) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "t")
    (path / "app.py").write_text("".join(f"line {n}\n" for n in range(1, 11)))
    (path / "gone.txt").write_text("a\nb\n")
    (path / "logo.bin").write_bytes(b"\x00\x01")
    (path / ".gitignore").write_text("*.log\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "base")
    # tracked: 2 lines changed and 1 added (one staged); a file deleted; a binary changed
    text = (path / "app.py").read_text().replace("line 3\n", "LINE 3\n").replace("line 7\n", "")
    (path / "app.py").write_text(text + "line 11\nline 12\n")
    git(path, "add", "app.py")
    (path / "app.py").write_text(text + "line 11\nline 12\nline 13\n")
    (path / "gone.txt").unlink()
    (path / "logo.bin").write_bytes(b"\x00\x02\x03")
    # untracked: a new file in a new directory; an ignored one is not a change
    (path / "pkg").mkdir()
    (path / "pkg" / "new.py").write_text("x = 1\ny = 2\n")
    (path / "debug.log").write_text("noise\n")
    return path


def new(tclaude: Tclaude, name: str, cwd: Path) -> None:
    tclaude.run("new", "--name", name, "--cwd", str(cwd), "--detached")


def test_diff_json_counts_tracked_and_untracked_exactly(tclaude: Tclaude, tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo")
    new(tclaude, "api", repo)
    data = tclaude.json("diff", "api")
    rows = {(f["path"], f["status"], f["added"], f["removed"], f["binary"]) for f in data["files"]}
    assert rows == {
        ("app.py", "modified", 4, 2, False),
        ("gone.txt", "deleted", 0, 2, False),
        ("logo.bin", "modified", None, None, True),
        ("pkg/new.py", "untracked", 2, 0, False),
    }
    assert len(data["files"]) == 4
    assert (data["added"], data["removed"]) == (6, 4)
    assert data["repository"] == str(repo.resolve())
    assert data["base"] == git(repo, "rev-parse", "HEAD").strip()
    # nothing was staged or added to the index by looking
    assert git(repo, "status", "--porcelain") == "MM app.py\n D gone.txt\n M logo.bin\n?? pkg/\n"


def test_diff_prints_each_file_and_stat_sums(tclaude: Tclaude, tmp_path: Path) -> None:
    repo = repository(tmp_path / "repo")
    new(tclaude, "api", repo)
    out = tclaude.run("diff", "api").stdout  # not a terminal: no pager, no colour
    assert "\033[" not in out
    for name in ("app.py", "gone.txt", "logo.bin", "pkg/new.py"):
        assert f"diff --git a/{name} b/{name}" in out
    assert "+LINE 3\n" in out and "-line 7\n" in out and "+line 13\n" in out
    assert "new file mode" in out and "+x = 1\n" in out
    assert "debug.log" not in out
    stat = tclaude.run("diff", "api", "--stat").stdout.splitlines()
    assert stat[-1] == " 4 files changed, 6 insertions(+), 4 deletions(-)"
    assert any(line.startswith(" pkg/new.py") and "| 2 ++" in line for line in stat)
    only = json.loads(tclaude.run("diff", "api", "--json", "--", "pkg").stdout)
    assert [f["path"] for f in only["files"]] == ["pkg/new.py"]


def test_diff_against_a_base_and_in_a_repository_without_commits(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    repo = repository(tmp_path / "repo")
    new(tclaude, "api", repo)
    first = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "second")
    # HEAD by name: the default base is now the commit the instance started at
    assert tclaude.json("diff", "api", "--base", "HEAD")["files"] == []
    assert {f["path"] for f in tclaude.json("diff", "api", "--base", first)["files"]} == {
        "app.py", "gone.txt", "logo.bin", "pkg/new.py"
    }  # fmt: skip
    bad = tclaude.run("diff", "api", "--base", "no-such-rev", check=False)
    assert bad.returncode == 2 and bad.stderr.strip() == (
        f"tclaude: no such revision in {repo.resolve()}: no-such-rev"
    )
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    (empty / "a.txt").write_text("one\n")
    new(tclaude, "fresh", empty)
    assert tclaude.json("diff", "fresh")["files"] == [
        {"path": "a.txt", "status": "untracked", "added": 1, "removed": 0, "binary": False}
    ]


def test_diff_outside_a_repository_is_one_clear_line(tclaude: Tclaude, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    new(tclaude, "plain", plain)
    proc = tclaude.run("diff", "plain", check=False)
    assert proc.returncode == 2
    assert proc.stderr == f"tclaude: not in a git repository: {plain} (tclaude diff needs one)\n"
    assert json.loads(tclaude.run("list", "--json").stdout)[0]["name"] == "plain"


def test_diff_names_the_instance_of_the_directory_by_default(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    repo = repository(tmp_path / "repo")
    new(tclaude, "api", repo)
    data = json.loads(tclaude.run("diff", "--json", cwd=str(repo / "pkg")).stdout)
    assert data["name"] == "api"
    elsewhere = tclaude.run("diff", cwd=str(tmp_path), check=False)
    assert elsewhere.returncode == 2 and "no instance in this pane" in elsewhere.stderr


def test_diff_prints_file_names_from_the_repository_printable(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    """A file named with escapes retitles and clears no terminal; --json keeps it exact."""
    repo = repository(tmp_path / "repo")
    evil = "esc\x1b]0;PWNTITLE\x07\x1b[2J\x1b[41mX.py"
    (repo / evil).write_text("x\n")
    new(tclaude, "api", repo)
    assert evil in [f["path"] for f in tclaude.json("diff", "api")["files"]]
    for args in (["--stat"], []):
        out = tclaude.run("diff", "api", *args).stdout
        assert "\x1b" not in out and "\x07" not in out, (args, out)
    stat = tclaude.run("diff", "api", "--stat").stdout
    assert " esc]0;PWNTITLE[2J[41mX.py | 1 +" in stat, stat


def saved(tclaude: Tclaude, name: str) -> dict[str, object]:
    state = json.loads((Path(os.environ["TCLAUDE_STATE_DIR"]) / "instances.json").read_text())
    entry: dict[str, object] = next(e for e in state["instances"].values() if e["name"] == name)
    return entry


def test_diff_defaults_to_the_commit_the_instance_started_at(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    new(tclaude, "plain", plain)
    repo = repository(tmp_path / "repo")
    start = git(repo, "rev-parse", "HEAD").strip()
    new(tclaude, "api", repo)
    deadline = time.monotonic() + 30  # a hang guard: the host records it after ready
    while saved(tclaude, "api").get("start_commit") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert saved(tclaude, "api")["start_commit"] == start
    assert saved(tclaude, "plain").get("start_commit") is None  # not a repository
    # the agent commits its work: diff still shows it, against the start
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the agent's work")
    (repo / "later.txt").write_text("after the commit\n")
    data = tclaude.json("diff", "api")
    assert data["base"] == start
    assert {f["path"] for f in data["files"]} == {
        "app.py",
        "gone.txt",
        "logo.bin",
        "pkg/new.py",
        "later.txt",
    }
    # --base still wins
    head = tclaude.json("diff", "api", "--base", "HEAD")
    assert [f["path"] for f in head["files"]] == ["later.txt"]


def test_a_restored_instance_keeps_the_commit_it_started_at(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    """Restore started a new host, which recorded the then HEAD over the first start."""
    repo = repository(tmp_path / "repo")
    start = git(repo, "rev-parse", "HEAD").strip()
    new(tclaude, "api", repo)
    deadline = time.monotonic() + 30  # a hang guard
    while saved(tclaude, "api").get("start_commit") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the agent's work")
    tclaude.kill_server()
    tclaude.run("restore")
    tclaude.run("wait", "api", "--state", "idle", "--timeout", "30")
    time.sleep(2)  # the restored host records after ready (a slow day only makes this weaker)
    assert saved(tclaude, "api")["start_commit"] == start


def test_a_bad_start_commit_in_the_state_file_is_refused() -> None:
    from tmuxclaude.state_file import SavedInstance

    entry = {"id": "abc123", "name": "api", "cwd": "/tmp"}
    assert SavedInstance.from_json({**entry, "start_commit": "a" * 40}).start_commit == "a" * 40
    for bad in ("HEAD", "-" + "a" * 39, "A" * 40, 7):
        with pytest.raises(ValueError, match="start_commit"):
            SavedInstance.from_json({**entry, "start_commit": bad})
