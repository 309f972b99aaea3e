"""The README's first command, as a user on a fresh account runs it.

``scripts/install`` is run from a project directory in a tmux pane (of the
test's private server) under an empty HOME: it must build its own venv,
link ``tclaude`` into ~/.local/bin and start the instance for that
directory, with the real Claude Code CLI (found on PATH as ``claude``, as a
user has it) connected to the instance's host.
"""

from __future__ import annotations

import os
import shlex
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.support.cli_runner import Tclaude
from tests.support.real_claude import RealClaude

pytestmark = [pytest.mark.realcli]

REPO = Path(__file__).resolve().parents[2]


def wait_for(check: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_install_then_run_gives_a_connected_instance(
    real_env: Path,
    tclaude: Tclaude,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    real_claude: RealClaude,
) -> None:
    home = Path(os.environ["HOME"])
    binary = real_claude.binary
    user_bin = tmp_path / "usr-bin"  # where a user's npm put claude
    user_bin.mkdir()
    (user_bin / "claude").symlink_to(binary)
    monkeypatch.delenv("TCLAUDE_CLAUDE_COMMAND")  # the default: `claude` from PATH
    path = f"{home / '.local' / 'bin'}:{user_bin}:{os.environ['PATH']}"
    monkeypatch.setenv("PATH", path)
    done = tmp_path / "install.status"
    install = shlex.quote(str(REPO / "scripts" / "install"))
    err, status = shlex.quote(str(tmp_path / "err")), shlex.quote(str(done))
    script = (
        f"cd {shlex.quote(str(real_env))} && {install} 2>{err}; "
        f"echo $? > {status}.part; mv {status}.part {status}; exec sleep 600"
    )
    tclaude.tmux("new-session", "-d", "-s", "user", "-x", "160", "-y", "50", "sh", "-c", script)

    # inside tmux, the bare `tclaude` the script ends with returns once the instance is ready
    wait_for(done.exists, "scripts/install to finish", 240)
    errors = (tmp_path / "err").read_text()
    assert done.read_text().strip() == "0", errors
    assert "Traceback" not in errors
    installed = home / ".local" / "bin" / "tclaude"
    assert installed.is_symlink()
    assert installed.resolve().is_relative_to(home / ".local" / "share" / "tclaude" / "venv")

    [instance] = tclaude.json("list")
    assert instance["name"] == real_env.name
    assert instance["cwd"] == str(real_env)
    assert instance["session"] == "user"  # inside tmux: the user's own session

    def connected() -> bool:
        return bool(tclaude.json("status", instance["id"])["clis"] == 1)

    wait_for(connected, "the real CLI to connect", 60)
    status = tclaude.json("status", instance["id"])
    host = psutil.Process(int(status["pid"]))
    # the host runs from the venv the script made, and its child is the user's claude
    assert str(home / ".local" / "share" / "tclaude" / "venv") in " ".join(host.cmdline())
    [claude] = [child for child in host.children() if child.pid == status["claude_pid"]]
    assert claude.cmdline()[0] == str(user_bin / "claude")  # found on PATH, as a user has it
    assert os.path.realpath(claude.exe()) == os.path.realpath(binary)
