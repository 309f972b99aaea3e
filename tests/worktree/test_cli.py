"""``new --worktree``, ``worktree list/sync``, ``kill --remove-worktree`` and ``prune``
with real git repositories and the real ``tclaude`` on a private tmux server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.worktree.conftest import Repo, Tclaude, git


def _saved(isolated_env: dict[str, str]) -> dict[str, Any]:
    path = Path(isolated_env["TCLAUDE_STATE_DIR"]) / "instances.json"
    entries: dict[str, Any] = json.loads(path.read_text())["instances"]
    return entries


def _by_name(tclaude: Tclaude) -> dict[str, Any]:
    return {i["name"]: i for i in tclaude.json("list")}


def _remote(repo: Repo, tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "-q", "-u", "origin", "main")
    return remote


def test_new_worktree_creates_copies_sets_up_and_names_the_instance(
    tclaude: Tclaude, repo: Repo, isolated_env: dict[str, str]
) -> None:
    (repo.path / ".env").write_text("TOKEN=abc\n")
    (repo.path / "debug.log").write_text("not named anywhere\n")
    (repo.path / ".worktreeinclude").write_text("# secrets\n.env\n")
    (repo.path / "node_modules" / "x").mkdir(parents=True)
    env = {
        "TCLAUDE_WORKTREE_SETUP": 'echo "$TCLAUDE_BRANCH from $TCLAUDE_REPO" > .setup-ran',
        "TCLAUDE_WORKTREE_INCLUDE": '["node_modules/"]',
    }
    proc = tclaude.run(
        "new", "--worktree", "feat/login", "--detached", "--json", cwd=str(repo.path), env=env
    )
    data = json.loads(proc.stdout)
    path = repo.worktrees_dir / "feat-login"
    assert data["name"] == "feat-login"
    assert data["cwd"] == str(path)
    assert data["worktree"]["path"] == str(path)
    assert data["worktree"]["created"] is True
    assert data["worktree"]["copied"] == [".env", "node_modules/"]
    assert git(path, "branch", "--show-current").strip() == "feat/login"
    assert (path / ".env").read_text() == "TOKEN=abc\n"
    assert not (path / "debug.log").exists()
    assert (path / ".setup-ran").read_text() == f"feat/login from {repo.path}\n"
    saved = _saved(isolated_env)[data["id"]]
    assert saved["worktree"] == str(path) and saved["cwd"] == str(path)
    # a second one for the same branch: refused while its instance runs, unless named
    again = tclaude.run("new", "--worktree", "feat/login", cwd=str(repo.path), check=False)
    assert again.returncode == 2 and "runs in the worktree" in again.stderr


def test_new_worktree_checks_out_an_existing_branch_at_a_given_path(
    tclaude: Tclaude, repo: Repo, tmp_path: Path
) -> None:
    repo.git("branch", "fix")
    repo.commit("on-main.txt")
    target = tmp_path / "elsewhere" / "fix-tree"
    out = tclaude.run(
        "new", "--worktree", "fix", "--path", str(target), "--detached", cwd=str(repo.path)
    ).stdout
    assert f"worktree {target}: branch fix (existing branch)" in out
    assert git(target, "branch", "--show-current").strip() == "fix"
    assert not (target / "on-main.txt").exists()  # fix is the old commit, not main
    assert _by_name(tclaude)["fix"]["cwd"] == str(target)


def test_setup_failure_is_one_clear_error_and_leaves_the_worktree(
    tclaude: Tclaude, repo: Repo
) -> None:
    proc = tclaude.run(
        "new",
        "--worktree",
        "broken",
        "--detached",
        cwd=str(repo.path),
        env={"TCLAUDE_WORKTREE_SETUP": "echo installing >&2; exit 7"},
        check=False,
    )
    path = repo.worktrees_dir / "broken"
    assert proc.returncode == 2
    assert "failed (exit 7)" in proc.stderr and "left in place" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert path.is_dir()
    assert tclaude.json("list") == []


def test_list_and_sync_is_idempotent(tclaude: Tclaude, repo: Repo) -> None:
    repo.git("worktree", "add", "-q", "-b", "feat/a", str(repo.worktrees_dir / "feat-a"))
    repo.git("worktree", "add", "-q", "-b", "b", str(repo.worktrees_dir / "b"))
    (repo.worktrees_dir / "b" / "wip.txt").write_text("uncommitted\n")

    planned = tclaude.json("worktree", "sync", "--dry-run", cwd=str(repo.path))
    assert [p["action"] for p in planned] == ["would start"] * 3
    assert tclaude.json("list") == []
    first = tclaude.json("worktree", "sync", cwd=str(repo.worktrees_dir / "b"))
    assert sorted((p["action"], p["instance"]) for p in first) == [
        ("started", "api"),
        ("started", "b"),
        ("started", "feat-a"),
    ]
    second = tclaude.json("worktree", "sync", cwd=str(repo.path))
    assert [p["action"] for p in second] == ["exists"] * 3
    assert sorted(_by_name(tclaude)) == ["api", "b", "feat-a"]

    rows = {Path(r["path"]).name: r for r in tclaude.json("worktree", "list", cwd=str(repo.path))}
    assert rows["api"]["main"] and rows["api"]["branch"] == "main"
    assert rows["feat-a"]["instance"]["name"] == "feat-a"
    assert rows["feat-a"]["dirty"] is False and rows["b"]["dirty"] is True
    assert rows["b"]["changes"] == 1
    table = tclaude.run("worktree", cwd=str(repo.path)).stdout
    assert "feat/a" in table and "yes (1)" in table


def test_bare_tclaude_in_a_worktree_subdir_focuses_its_instance(
    tclaude: Tclaude, repo: Repo
) -> None:
    tclaude.run("new", "--detached", cwd=str(repo.path))
    tclaude.run("new", "--worktree", "feat", "--detached", cwd=str(repo.path))
    sub = repo.worktrees_dir / "feat" / "src" / "deep"
    sub.mkdir(parents=True)
    proc = tclaude.run(cwd=str(sub))
    assert "feat selected" in proc.stderr
    assert sorted(_by_name(tclaude)) == ["api", "feat"]  # nothing new was started


def test_remove_worktree_refuses_dirty_unpushed_and_main(
    tclaude: Tclaude, repo: Repo, tmp_path: Path
) -> None:
    _remote(repo, tmp_path)
    tclaude.run("new", "--detached", "--name", "main-api", cwd=str(repo.path))
    tclaude.run("new", "--worktree", "feat", "--detached", cwd=str(repo.path))
    path = repo.worktrees_dir / "feat"

    refused = tclaude.run("kill", "main-api", "--remove-worktree", "--force", check=False)
    assert refused.returncode == 2 and "main worktree" in refused.stderr
    (path / "sub").mkdir()
    tclaude.run("new", "--detached", "--name", "helper", "--cwd", str(path / "sub"))
    refused = tclaude.run("kill", "feat", "--remove-worktree", check=False)
    assert "instance(s) helper running in it" in refused.stderr
    tclaude.run("kill", "helper")
    (path / "wip.txt").write_text("x")
    refused = tclaude.run("kill", "feat", "--remove-worktree", check=False)
    assert "1 uncommitted change(s)" in refused.stderr and "nothing was stopped" in refused.stderr
    assert _by_name(tclaude)["feat"]["running"]

    repo.commit("wip.txt", cwd=path)
    refused = tclaude.run("kill", "feat", "--remove-worktree", check=False)
    assert "1 unpushed commit(s), on no remote branch" in refused.stderr
    git(path, "push", "-q", "-u", "origin", "feat")
    repo.commit("later.txt", cwd=path)
    refused = tclaude.run("kill", "feat", "--remove-worktree", check=False)
    assert "ahead of origin/feat" in refused.stderr

    git(path, "push", "-q")
    done = tclaude.json("kill", "feat", "--remove-worktree")
    assert done == {
        "killed": ["feat"],
        "worktrees_removed": [str(path)],
        "branches_deleted": [],
        "kept": [],  # nothing at risk, nothing kept
    }
    assert not path.exists()
    assert "feat" in repo.git("branch", "--list", "feat")
    assert sorted(_by_name(tclaude)) == ["main-api"]
    assert repo.path.is_dir()


def test_remove_worktree_force_and_delete_branch(
    tclaude: Tclaude, repo: Repo, tmp_path: Path
) -> None:
    tclaude.run("new", "--worktree", "spike", "--detached", cwd=str(repo.path))
    tclaude.run("new", "--worktree", "merged", "--detached", cwd=str(repo.path))
    spike = repo.worktrees_dir / "spike"
    repo.commit("idea.txt", cwd=spike)
    (spike / "scratch.txt").write_text("untracked\n")

    refused = tclaude.run("kill", "spike", "--remove-worktree", "--delete-branch", check=False)
    assert (
        refused.returncode == 2 and "uncommitted" in refused.stderr and "unpushed" in refused.stderr
    )
    out = tclaude.run("kill", "spike", "--remove-worktree", "--delete-branch", "--force").stdout
    assert "removed worktree" in out and "deleted branch spike" in out
    assert not spike.exists() and repo.git("branch", "--list", "spike") == ""

    # a branch with nothing of its own: safe without --force, deleted with git branch -d
    out = tclaude.run("kill", "merged", "--remove-worktree", "--delete-branch").stdout
    assert "deleted branch merged" in out
    assert repo.git("branch", "--list", "merged") == ""
    assert [w for w in repo.git("worktree", "list").splitlines() if "worktrees" in w] == []


def test_deleted_worktree_makes_a_stale_instance_that_prune_forgets(
    tclaude: Tclaude, repo: Repo
) -> None:
    data = tclaude.json("new", "--worktree", "gone", "--detached", cwd=str(repo.path))
    tclaude.run("new", "--detached", cwd=str(repo.path))
    shutil.rmtree(data["cwd"])

    rows = {r["branch"]: r for r in tclaude.json("worktree", "list", cwd=str(repo.path))}
    assert rows["gone"]["exists"] is False and rows["gone"]["instance"]["state"] == "stale"
    planned = tclaude.json("prune", "--dry-run")
    assert [(p["name"], p["state"]) for p in planned["pruned"]] == [("gone", "stale")]
    assert "gone" in _by_name(tclaude)

    out = tclaude.run("prune").stdout
    assert out.startswith("pruned gone (") and "is gone" in out
    assert sorted(_by_name(tclaude)) == ["api"]
    assert not os.path.exists(Path(data["socket"]))
    assert tclaude.run("prune").stdout == "nothing to prune\n"


def test_list_shows_stale(tclaude: Tclaude, repo: Repo) -> None:
    data = tclaude.json("new", "--worktree", "gone", "--detached", cwd=str(repo.path))
    shutil.rmtree(data["cwd"])
    assert _by_name(tclaude)["gone"]["state"] == "stale"


def test_pruning_a_stopped_instance_whose_directory_is_gone(
    tclaude: Tclaude, repo: Repo, isolated_env: dict[str, str]
) -> None:
    data = tclaude.json("new", "--worktree", "old", "--detached", cwd=str(repo.path))
    tclaude.tmux("kill-pane", "-t", data["pane"])  # the pane went; the state entry stays
    assert _by_name(tclaude)["old"]["state"] == "stopped"
    kept = tclaude.run("prune").stdout
    assert kept == "nothing to prune\n"  # its directory exists: kept for restore
    shutil.rmtree(data["cwd"])
    assert "pruned old" in tclaude.run("prune").stdout
    assert _saved(isolated_env) == {}


def test_bare_tclaude_records_the_worktree_it_starts_in(
    tclaude: Tclaude, repo: Repo, isolated_env: dict[str, str]
) -> None:
    path = repo.worktrees_dir / "plain"
    repo.git("worktree", "add", "-q", "-b", "plain", str(path))
    tclaude.run(cwd=str(path))
    tclaude.run(cwd=str(repo.path))
    state = json.loads((Path(isolated_env["TCLAUDE_STATE_DIR"]) / "instances.json").read_text())
    worktrees = {e["name"]: e["worktree"] for e in state["instances"].values()}
    assert worktrees == {"plain": str(path.resolve()), "api": None}


def test_forced_removal_names_and_keeps_files_and_commits(
    tclaude: Tclaude, repo: Repo, tmp_path: Path
) -> None:
    tclaude.run("new", "--worktree", "spike", "--detached", cwd=str(repo.path))
    spike = repo.worktrees_dir / "spike"
    repo.commit("idea.txt", cwd=spike)
    subject = git(spike, "log", "-1", "--format=%h %s").strip()
    (spike / "scratch.txt").write_text("untracked\n")
    (spike / "README.md").write_text("changed\n")
    (spike / ".env").write_text("ignored: not kept\n")
    index_before = git(repo.path, "ls-files", "--stage")

    out = tclaude.run(
        "kill", "spike", "--remove-worktree", "--delete-branch", "--force", "--json"
    ).stdout
    kept = json.loads(out)["kept"]
    assert len(kept) == 1 and kept[0]["worktree"] == str(spike)
    assert sorted(kept[0]["files"]) == ["README.md", "scratch.txt"]
    assert kept[0]["commits"] == [subject]
    ref = kept[0]["ref"]
    assert ref.startswith("refs/tclaude/removed/spike-")
    assert not spike.exists() and repo.git("branch", "--list", "spike") == ""
    # everything is there: the files as the last commit, the unpushed commit below it
    assert git(repo.path, "show", f"{ref}:scratch.txt") == "untracked\n"
    assert git(repo.path, "show", f"{ref}:README.md") == "changed\n"
    assert git(repo.path, "show", f"{ref}:idea.txt") != ""
    assert git(repo.path, "log", "-1", "--format=%h %s", f"{ref}~1").strip() == subject
    ignored = ["git", "-C", str(repo.path), "cat-file", "-e", f"{ref}:.env"]
    assert subprocess.run(ignored, capture_output=True, check=False).returncode != 0
    assert git(repo.path, "ls-files", "--stage") == index_before  # the main index untouched
    assert git(repo.path, "stash", "list") == ""

    tclaude.run("new", "--worktree", "second", "--detached", cwd=str(repo.path))
    second = repo.worktrees_dir / "second"
    (second / "notes.txt").write_text("draft\n")
    text = tclaude.run("kill", "second", "--remove-worktree", "--force").stdout
    assert "kept 1 uncommitted file(s) (notes.txt) of " in text
    assert "refs/tclaude/removed/second-" in text and "git branch NAME" in text
