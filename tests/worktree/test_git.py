"""The git layer alone: worktree creation, include files, status, removal guards."""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.worktree.conftest import Repo, git
from tmuxclaude.errors import TclaudeError
from tmuxclaude.worktree import (
    Repository,
    SetupError,
    copy_includes,
    include_entries,
    run_setup,
    sanitise,
)


class NameCase(NamedTuple):
    test_id: str
    branch: str
    expected: str


NAME_CASES = [
    NameCase("plain", "fix", "fix"),
    NameCase("slash", "feat/login", "feat-login"),
    NameCase("nested", "user/feat/a.b", "user-feat-a-b"),
    NameCase("edges", "-/x/-", "x"),
]


@pytest.mark.parametrize(NameCase._fields, NAME_CASES, ids=[c.test_id for c in NAME_CASES])
def test_sanitise(test_id: str, branch: str, expected: str) -> None:
    assert sanitise(branch) == expected


def test_default_path_is_beside_the_repository(repo: Repo) -> None:
    repository = Repository.discover(str(repo.path / "."))
    assert repository.root == str(repo.path)
    assert repository.default_path("feat/login") == str(repo.worktrees_dir / "feat-login")
    inside = repository.default_path("x", "{root}/.worktrees/{branch}")
    assert inside == str(repo.path / ".worktrees" / "x")


def test_add_new_branch_from_base_and_existing_branch(repo: Repo) -> None:
    repo.commit("second.txt")
    repository = Repository.discover(str(repo.path))
    added = repository.add("feat/a", base="HEAD~1")
    assert added.created and added.how == "new from HEAD~1"
    assert added.worktree.branch == "feat/a" and not added.worktree.main
    assert not (Path(added.worktree.path) / "second.txt").exists()
    assert repo.git("rev-parse", "feat/a") == repo.git("rev-parse", "HEAD~1")

    repo.git("branch", "old")
    other = repository.add("old")
    assert other.how == "existing branch"
    assert (Path(other.worktree.path) / "second.txt").exists()
    repo.git("branch", "idle")
    with pytest.raises(TclaudeError, match="--base only applies"):
        repository.add("idle", base="HEAD")
    with pytest.raises(TclaudeError, match="checked out in"):
        repository.add("main", base="HEAD")
    with pytest.raises(TclaudeError, match="no commit 'nope'"):
        repository.add("main2", base="nope")
    again = repository.add("feat/a")
    assert not again.created and again.worktree.path == added.worktree.path


def test_add_refuses_bad_names_and_occupied_paths(repo: Repo, tmp_path: Path) -> None:
    repository = Repository.discover(str(repo.path))
    with pytest.raises(TclaudeError, match="not a valid branch name"):
        repository.add("bad..name")
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "file").write_text("x")
    with pytest.raises(TclaudeError, match="exists already"):
        repository.add("x", path=str(occupied))


def test_include_entries_follow_gitignore_syntax_and_need_ignored(repo: Repo) -> None:
    (repo.path / ".env").write_text("SECRET=1\n")
    (repo.path / "node_modules" / "pkg").mkdir(parents=True)
    (repo.path / "node_modules" / "pkg" / "index.js").write_text("x")
    (repo.path / "logs" / "deep").mkdir(parents=True)
    (repo.path / "logs" / "deep" / "a.log").write_text("a")
    (repo.path / "logs" / "deep" / "keep.log").write_text("k")
    (repo.path / "notes.txt").write_text("untracked, not ignored")
    (repo.path / ".worktreeinclude").write_text(
        "# carried into new worktrees\n.env\nnode_modules/\n**/*.log\n!logs/deep/keep.log\n"
        "notes.txt\nREADME.md\n"
    )
    entries = include_entries(str(repo.path))
    # notes.txt is not ignored and README.md is tracked: neither is carried
    assert entries == [".env", "logs/deep/a.log", "node_modules/"]
    (repo.path / ".worktreeinclude").unlink()
    assert include_entries(str(repo.path), ["*.log", "!keep.log"]) == ["logs/deep/a.log"]
    assert include_entries(str(repo.path)) == []


def test_copy_and_symlink_includes(repo: Repo, tmp_path: Path) -> None:
    (repo.path / ".env").write_text("SECRET=1\n")
    (repo.path / "node_modules" / "pkg").mkdir(parents=True)
    (repo.path / "node_modules" / "pkg" / "index.js").write_text("x")
    patterns = [".env", "node_modules/"]
    copied_to = tmp_path / "copied"
    copied_to.mkdir()
    assert copy_includes(str(repo.path), str(copied_to), patterns) == [".env", "node_modules/"]
    assert (copied_to / ".env").read_text() == "SECRET=1\n"
    assert not (copied_to / ".env").is_symlink()
    assert (copied_to / "node_modules" / "pkg" / "index.js").exists()
    (copied_to / ".env").write_text("mine\n")
    assert copy_includes(str(repo.path), str(copied_to), patterns) == []  # never overwrites
    assert (copied_to / ".env").read_text() == "mine\n"

    linked_to = tmp_path / "linked"
    linked_to.mkdir()
    copy_includes(str(repo.path), str(linked_to), patterns, mode="symlink")
    assert os.readlink(linked_to / ".env") == str(repo.path / ".env")
    assert (linked_to / "node_modules").is_symlink()


def test_status_dirty_and_unpushed(repo: Repo, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "-q", "-u", "origin", "main")
    repository = Repository.discover(str(repo.path))
    worktree = repository.add("feat").worktree
    path = Path(worktree.path)
    status = repository.status(worktree)
    assert (status.changes, status.upstream, status.ahead, status.unpushed) == (0, None, None, 0)

    (path / "new.txt").write_text("x")
    assert repository.status(worktree).changes == 1
    (path / ".env").write_text("ignored files are not changes")
    assert repository.status(worktree).changes == 1
    repo.commit("new.txt", cwd=path)
    status = repository.status(worktree)
    assert status.changes == 0 and status.unpushed == 1  # no upstream, not in main

    git(path, "push", "-q", "-u", "origin", "feat")
    status = repository.status(worktree)
    assert (status.upstream, status.ahead, status.unpushed) == ("origin/feat", 0, 0)
    repo.commit("more.txt", cwd=path)
    status = repository.status(worktree)
    assert (status.ahead, status.unpushed) == (1, 1)


def test_removal_guards(repo: Repo, tmp_path: Path) -> None:
    repository = Repository.discover(str(repo.path))
    with pytest.raises(TclaudeError, match="main worktree"):
        repository.remove(repository.main)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    fake = repository.main.__class__(str(elsewhere), None, "x", main=False)
    with pytest.raises(TclaudeError, match="not a worktree of"):
        repository.remove(fake)
    assert elsewhere.exists()


def test_setup_failure_keeps_the_worktree(repo: Repo) -> None:
    repository = Repository.discover(str(repo.path))
    path = repository.add("feat").worktree.path
    run_setup('echo "$TCLAUDE_BRANCH" > setup-ran', path, "feat", repository.root)
    assert (Path(path) / "setup-ran").read_text() == "feat\n"
    with pytest.raises(SetupError, match="left in place"):
        run_setup("exit 3", path, "feat", repository.root)
    assert os.path.isdir(path)


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(TclaudeError, match="not in a git repository"):
        Repository.discover(str(tmp_path))


def test_a_branch_only_on_a_remote_is_tracked(repo: Repo, tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "-q", "origin", "main:shared")
    repo.git("fetch", "-q", "origin")
    added = Repository.discover(str(repo.path)).add("shared")
    assert added.how == "tracking origin/shared"
    upstream = git(added.worktree.path, "rev-parse", "--abbrev-ref", "@{upstream}").strip()
    assert upstream == "origin/shared"
