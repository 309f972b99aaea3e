"""Real git repositories in temp dirs; ``tclaude`` (tests/conftest.py) runs the CLI."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli_runner import Tclaude

__all__ = ["Repo", "Tclaude", "git"]

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path | str, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(cwd), *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {proc.stderr}")
    return proc.stdout


@dataclass
class Repo:
    """A repository whose main worktree is ``path`` (``<tmp>/src/api``)."""

    path: Path

    def git(self, *args: str) -> str:
        return git(self.path, *args)

    def commit(self, name: str, text: str = "x\n", cwd: Path | None = None) -> None:
        where = cwd or self.path
        (where / name).write_text(text)
        git(where, "add", name)
        git(where, "commit", "-q", "-m", f"add {name}")

    @property
    def worktrees_dir(self) -> Path:
        return self.path.parent / "api-worktrees"


@pytest.fixture(autouse=True)
def git_identity(monkeypatch: pytest.MonkeyPatch, isolated_env: dict[str, str]) -> None:
    """Author and committer from the environment; HOME (and so ~/.gitconfig) is a temp dir."""
    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)
    for key in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CONFIG_GLOBAL"):
        monkeypatch.delenv(key, raising=False)
    assert os.environ["HOME"] == isolated_env["HOME"]


@pytest.fixture
def repo(tmp_path: Path, git_identity: None) -> Repo:
    """A repository with one commit on main, .env and node_modules/ ignored."""
    path = tmp_path / "src" / "api"
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    (path / ".gitignore").write_text(".env\nnode_modules/\n*.log\n")
    (path / "README.md").write_text("api\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "initial")
    return Repo(path.resolve())
