"""`tclaude` run from a pane of the server itself (inside tmux), as shells and scripts do."""

from __future__ import annotations

import shlex
from pathlib import Path

from tests.tmux.conftest import TCLAUDE_CMD, Client, Server, wait_for


def run_in_pane(server: Server, tmp_path: Path, args: str, cwd: Path) -> tuple[int, str]:
    """Run ``tclaude ARGS`` in a new background window of session main; its status and stderr."""
    status = tmp_path / "status"
    err = tmp_path / "err"
    status.unlink(missing_ok=True)
    script = (
        f"cd {shlex.quote(str(cwd))} && {TCLAUDE_CMD} {args} 2>{shlex.quote(str(err))}; "
        f"echo $? > {status}.part; mv {status}.part {status}; exec sleep 600"
    )
    server.tmux("new-window", "-d", "-t", "main:", "sh", "-c", script)
    wait_for(status.exists, 60, f"tclaude {args}")
    return int(status.read_text()), err.read_text()


def active_pane(server: Server) -> str:
    return server.tmux("display-message", "-p", "-t", "main", "#{pane_id}").strip()


def test_new_and_bare_tclaude_in_a_session_nobody_is_attached_to(
    server: Server, tmp_path: Path
) -> None:
    assert server.tmux("list-clients").strip() == ""
    project = tmp_path / "project"
    project.mkdir()
    code, err = run_in_pane(server, tmp_path, "new --name api", project)
    assert (code, err) == (0, "")
    [api] = server.tclaude.json("list")
    assert (api["name"], api["session"]) == ("api", "main")
    assert active_pane(server) == api["pane"]  # focused in its session, no client to move

    server.tmux("select-window", "-t", "main:0")
    code, err = run_in_pane(server, tmp_path, "", project)  # bare tclaude: focus the cwd's
    assert (code, err) == (0, "")
    assert active_pane(server) == api["pane"]


def test_switch_from_a_pane_moves_the_attached_client_to_another_session(
    server: Server, client: Client, tmp_path: Path
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    # started from outside tmux: it lives in the session "tclaude", not in main
    server.tclaude.run("new", "--name", "far", "--detached", "--cwd", str(project))
    [far] = server.tclaude.json("list")
    assert far["session"] == "tclaude"
    assert client.session() == "main"
    code, err = run_in_pane(server, tmp_path, "switch far", project)
    assert (code, err) == (0, "")
    client.wait_pane(far["pane"])
    assert client.session() == "tclaude"
