"""Fixtures for host tests: a real host process with the fake claude as its child."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.hosts import ControlServer, EditorClient, FakeCli, HostProcess


@dataclass
class Instance:
    """One running host, its fake claude's control end, and its working directory."""

    host: HostProcess
    cli: FakeCli
    cwd: str
    stderr_path: str

    def stderr(self) -> str:
        """What the host (and its claude) wrote to stderr so far."""
        with open(self.stderr_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()


@pytest.fixture
def project(tmp_path: Path) -> str:
    path = tmp_path / "proj"
    path.mkdir()
    return os.path.realpath(path)


InstanceFactory = Callable[..., Awaitable[Instance]]


@pytest.fixture
async def start_instance(
    isolated_env: dict[str, str], control: ControlServer, project: str, tmp_path: Path
) -> AsyncIterator[InstanceFactory]:
    """Start hosts in ``project`` with the fake claude connected (handshake done).

    Editors get 60 s to answer unless ``extra_env`` says otherwise, so that a
    fallback seen within a test's own 10 s wait cannot come from the timeout.
    """
    started: list[HostProcess] = []

    async def start(name: str = "api", extra_env: dict[str, str] | None = None) -> Instance:
        env = {"TCLAUDE_EDITOR_TIMEOUT": "60", **(extra_env or {})}
        stderr = str(tmp_path / f"host-{len(started)}.stderr")
        host = await HostProcess.start(
            dict(os.environ), project, name=name, extra_env=env, stderr_path=stderr
        )
        started.append(host)
        cli = await control.accept()
        return Instance(host, cli, project, stderr)

    try:
        yield start
    finally:
        for host in started:
            await host.stop()


@pytest.fixture
async def instance(start_instance: InstanceFactory) -> Instance:
    """A host named ``api`` in ``project``, its fake claude connected."""
    return await start_instance()


EditorFactory = Callable[..., Awaitable[EditorClient]]


@pytest.fixture
async def editors(instance: Instance) -> AsyncIterator[EditorFactory]:
    """Connect editor-socket clients; ``await editors("nvim")`` also attaches one."""
    opened: list[EditorClient] = []

    async def connect(name: str | None = None) -> EditorClient:
        client = await EditorClient.connect(instance.host.socket)
        opened.append(client)
        if name is not None:
            reply = await client.call("attach", {"name": name})
            assert name in reply["result"]["editors"]
        return client

    yield connect
    for client in opened:
        await client.close()


@pytest.fixture(autouse=True)
async def _no_host_errors(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Fail a test whose host wrote a traceback or an error to stderr, or a traceback to its log.

    (From its start the host sends its stderr to its log file.)
    """
    yield
    if "start_instance" not in request.fixturenames:
        return
    for path in Path(request.getfixturevalue("tmp_path")).glob("host-*.stderr"):
        text = path.read_text(errors="replace")
        assert "Traceback" not in text and "rror" not in text, text
    for path in Path(os.environ["TCLAUDE_RUNTIME_DIR"]).glob("*.log"):
        text = path.read_text(errors="replace")
        assert "Traceback" not in text, text
