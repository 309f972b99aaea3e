"""Names that tmux or a shell would read as code: a repository's directory, a
planted tmux session name, a symlinked runtime dir. None may run anything.

tmux expands formats (``#(command)`` runs a command) in ``-c`` and
``new-session -s``; the tmux plugin's shell snippets see the pane's path.
Found by the hostile-user trial.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli_runner import Tclaude

NOBODY = 65534


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The tmux server and its shells start here: a relative ``touch`` lands in tmp_path."""
    monkeypatch.chdir(tmp_path)


def _crafted_dir(base: Path, marker: Path) -> Path:
    """A directory whose name runs ``touch marker`` if tmux or sh ever evaluates it."""
    name = f"r#(touch {marker.name}-tmux)$(touch {marker.name}-sh);'q\"#{{pane_id}}"
    crafted = base / name
    crafted.mkdir()
    return crafted


def _ran(base: Path, marker: Path) -> list[str]:
    return sorted(p.name for p in base.rglob(f"{marker.name}-*"))


def test_a_directory_name_is_never_run_by_tmux(tclaude: Tclaude, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    crafted = _crafted_dir(tmp_path, marker)
    data = tclaude.json("new", "--name", "api", "--cwd", str(crafted), "--detached")
    tclaude.run("new", "--name", "split1", "--cwd", str(crafted), "--layout", "split", "--detached")
    time.sleep(0.3)
    assert _ran(tmp_path, marker) == []
    # the pane starts in the directory itself, not in a name tmux rewrote
    path = tclaude.tmux("display-message", "-p", "-t", data["pane"], "#{pane_current_path}")
    assert path.strip() == str(crafted)
    # restore into a fresh server (new-session -c) and over a respawned pane
    tclaude.kill_server()
    tclaude.run("restore")
    time.sleep(0.3)
    assert _ran(tmp_path, marker) == []


def test_a_planted_session_name_is_never_run_by_tmux(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    marker = tmp_path / "pwned"
    data = tclaude.json("new", "--name", "api", "--cwd", str(tmp_path), "--detached")
    tclaude.kill_server()
    state = Path(isolated_env["TCLAUDE_STATE_DIR"]) / "instances.json"
    saved = json.loads(state.read_text())
    saved["instances"][data["id"]]["session"] = f"x#(touch {marker})"
    state.write_text(json.dumps(saved))
    result = tclaude.run("restore", check=False)
    time.sleep(0.3)
    assert not marker.exists()
    assert "Traceback" not in result.stderr


def test_the_new_instance_menu_item_does_not_run_the_directory_name(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    crafted = _crafted_dir(tmp_path, marker)
    tclaude.tmux("new-session", "-d", "-s", "work", "-c", str(crafted).replace("#", "##"))
    pane = tclaude.tmux("display-message", "-p", "-t", "work:", "#{pane_id}").strip()
    # the menu's "new instance here" item, run as tmux runs it (formats expanded
    # for the pane the menu was opened from)
    argv = shlex.split(tclaude.run("menu", "--print").stdout)
    action = shlex.split(argv[argv.index("new instance here") + 2])
    assert action[:2] == ["run-shell", "-b"]
    tclaude.tmux("run-shell", "-t", pane, action[-1])
    assert _ran(tmp_path, marker) == []
    listed = tclaude.json("list")
    assert [i["cwd"] for i in listed] == [str(crafted)]


def test_the_new_instance_prompt_does_not_run_the_directory_name(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    crafted = _crafted_dir(tmp_path, marker)
    script = Path(__file__).parents[2] / "tmux" / "scripts" / "new.sh"
    tclaude.tmux("new-session", "-d", "-s", "work", "-c", str(crafted).replace("#", "##"))
    pane = tclaude.tmux("display-message", "-p", "-t", "work:", "#{pane_id}").strip()
    # the prompt's template with an empty answer for the directory: this pane's
    command = f"{sys.executable} -m tmuxclaude"
    tclaude.tmux("run-shell", "-t", pane, f"sh '{script}' '{command}' '' '' '' '{pane}'")
    assert _ran(tmp_path, marker) == []
    listed = tclaude.json("list")
    assert [i["cwd"] for i in listed] == [str(crafted)]


def test_a_runtime_dir_that_is_another_users_symlink_is_refused(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    # another user plants /tmp/tclaude-<uid> as a link to a directory of theirs
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o1777)
    os.chmod(theirs, 0o1777)
    shared = tmp_path / "shared-tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    link = shared / "tclaude-run"
    link.symlink_to(theirs)
    os.lchown(link, NOBODY, NOBODY)
    result = tclaude.run(
        "new",
        "--name",
        "api",
        "--cwd",
        str(tmp_path),
        "--detached",
        env={"TCLAUDE_RUNTIME_DIR": str(link)},
        check=False,
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "tclaude-run" in result.stderr
    assert os.stat(theirs).st_mode & 0o7777 == 0o1777  # their directory left as it was
    assert list(theirs.iterdir()) == []
    # and the failed attempt left no entry behind that blocks the name
    assert tclaude.json("list") == []


@pytest.mark.parametrize("cwd", ["/tmp/../tmp", "/tmp/./x/.."])
def test_a_state_file_cwd_that_is_not_normalised_is_refused(
    tclaude: Tclaude, isolated_env: dict[str, str], cwd: str
) -> None:
    state = Path(isolated_env["TCLAUDE_STATE_DIR"])
    state.mkdir(parents=True, exist_ok=True)
    entry = {"id": "a1b2c3", "name": "api", "cwd": cwd, "layout": "tabbed", "claude_args": []}
    (state / "instances.json").write_text(
        json.dumps({"version": 1, "instances": {"a1b2c3": entry}})
    )
    result = tclaude.run("list", check=False)
    assert result.returncode == 2 and "cwd" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_failed_new_leaves_no_entry_behind(tclaude: Tclaude, tmp_path: Path) -> None:
    # a runtime dir tclaude cannot use: the OSError must not leave a 'stopped' ghost
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    bad = tclaude.run(
        "new",
        "--name",
        "api",
        "--cwd",
        str(tmp_path),
        "--detached",
        env={"TCLAUDE_RUNTIME_DIR": str(blocker / "run")},
        check=False,
    )
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    again = tclaude.run("new", "--name", "api", "--cwd", str(tmp_path), "--detached", check=False)
    assert again.returncode == 0, again.stderr
