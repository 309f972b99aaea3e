"""Isolation for every test: no real HOME, ~/.claude, tmux server or config."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.support import tmux_servers
from tests.support.cli_runner import Tclaude
from tests.support.fake_messages_api import FakeMessagesAPI
from tests.support.hosts import FAKE_CLAUDE_COMMAND, ControlServer

if TYPE_CHECKING:
    from tests.support.real_claude import RealClaude

pytest_plugins = ["tests.support.watchdog"]  # a time limit per test


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Point HOME, XDG dirs, the CLI's config dir and tclaude's dirs into temp dirs."""
    home = tmp_path / "home"
    home.mkdir()
    # unix socket paths must stay short: keep the runtime dir near /tmp's root
    runtime = tempfile.mkdtemp(prefix="tc-")
    values = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "TCLAUDE_RUNTIME_DIR": runtime,
        "TCLAUDE_STATE_DIR": str(home / ".local" / "state" / "tclaude"),
        "TCLAUDE_TMUX_SOCKET": tmux_servers.PREFIX + Path(runtime).name,
        "TCLAUDE_CLAUDE_COMMAND": FAKE_CLAUDE_COMMAND,
        "SHELL": "/bin/sh",
        # the fake claude listens for mentions once its handshake is done; the real one
        # only a moment later (real_env puts the host's default back)
        "TCLAUDE_MENTION_DELAY": "0",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    for key in (
        "TMUX",
        "TMUX_PANE",
        "XDG_RUNTIME_DIR",
        "TCLAUDE_CONFIG_FILE",
        "CLAUDE_CODE_SSE_PORT",
        "CLAUDECODE",
        "TCLAUDE_INSTANCE",
    ):
        monkeypatch.delenv(key, raising=False)
    yield dict(os.environ)
    shutil.rmtree(runtime, ignore_errors=True)
    for name in tmux_servers.leftovers(values["TCLAUDE_TMUX_SOCKET"]):  # with its "-outer"
        tmux_servers.reap(name)


@pytest.fixture(autouse=True, scope="session")
def reap_tmux_servers() -> Iterator[None]:
    """After the run, no tmux server or socket file of this run is left."""
    yield
    for name in tmux_servers.leftovers():
        tmux_servers.reap(name)


@pytest.fixture
async def control(
    isolated_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[ControlServer]:
    """A control socket that fake claudes started by hosts dial into."""
    path = os.path.join(isolated_env["TCLAUDE_RUNTIME_DIR"], "control.sock")
    server = ControlServer(path)
    await server.start()
    monkeypatch.setenv("FAKE_CLAUDE_CONTROL", path)
    yield server
    await server.close()


@pytest.fixture
def tclaude(isolated_env: dict[str, str]) -> Iterator[Tclaude]:
    """The CLI on a private tmux server, which is killed (with its instances) afterwards."""
    runner = Tclaude(isolated_env["TCLAUDE_TMUX_SOCKET"])
    yield runner
    runner.run("kill", "--all", check=False)
    tmux_servers.reap(runner.socket)


@pytest.fixture
def api() -> Iterator[FakeMessagesAPI]:
    """A fake Messages API on loopback for the real Claude Code CLI."""
    with FakeMessagesAPI() as server:
        yield server


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that uses ``real_claude`` once per installed pinned CLI ([2.1.197], ...).

    Only then are the CLIs looked up (``claude --version`` each), so other
    runs do not pay for it.
    """
    if "real_claude" in metafunc.fixturenames:
        from tests.support.real_claude import real_claude_params

        metafunc.parametrize("real_claude", real_claude_params(), indirect=True)


@pytest.fixture
def real_claude(request: pytest.FixtureRequest) -> RealClaude:
    """The real Claude Code CLI this run of the test uses (see ``pytest_generate_tests``)."""
    claude: RealClaude = request.param
    return claude


@pytest.fixture
def real_env(
    isolated_env: dict[str, str],
    api: FakeMessagesAPI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    real_claude: RealClaude,
) -> Path:
    """A project dir; the test's environment (inherited by panes) made fit for the real CLI."""
    from tests.support.real_claude import claude_env

    project = (tmp_path / "project").resolve()
    project.mkdir()
    env = claude_env(Path(isolated_env["HOME"]), project, api.url, real_claude.version)
    for key, value in env.items():
        if key != "PATH":
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("TCLAUDE_CLAUDE_COMMAND", str(real_claude.binary))
    monkeypatch.delenv("TCLAUDE_MENTION_DELAY", raising=False)
    return project
