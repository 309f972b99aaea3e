"""Real sshd "machines" (network namespaces) for the remote tests; see tests/support/remotes.py."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.support.hosts import ControlServer
from tests.support.remotes import Machine, Remotes, close_masters, started


@pytest.fixture(scope="session")
def remotes_session() -> Iterator[Remotes]:
    """Two machines, alpha and beta, for the whole session; torn down at its end."""
    if os.geteuid() != 0:
        pytest.skip("the sshd machines need root (network namespaces)")
    with started(["alpha", "beta"]) as remotes:
        yield remotes


@pytest.fixture
def remotes(remotes_session: Remotes, isolated_env: dict[str, str]) -> Iterator[Remotes]:
    """The machines, fresh (no tmux server, no state), named in the local config.toml."""
    for machine in remotes_session.machines.values():
        machine.reset()
    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    # generous: a loaded test machine is slow; a timeout test sets a remote's own timeout
    config.write_text("remote_timeout = 30.0\n\n" + remotes_session.config_toml())
    yield remotes_session
    close_masters(isolated_env["TCLAUDE_RUNTIME_DIR"])
    for machine in remotes_session.machines.values():
        machine.reset()


@pytest.fixture
def alpha(remotes: Remotes) -> Machine:
    return remotes.machines["alpha"]


@pytest.fixture
def beta(remotes: Remotes) -> Machine:
    return remotes.machines["beta"]


@pytest.fixture
async def alpha_control(alpha: Machine) -> AsyncIterator[ControlServer]:
    """Fake claudes started on alpha dial in here (its sessions get FAKE_CLAUDE_CONTROL)."""
    path = str(alpha.root / "control.sock")
    server = ControlServer(path)
    await server.start()
    alpha.extra_env.write_text(f"export FAKE_CLAUDE_CONTROL={path}\n")
    yield server
    await server.close()
    os.unlink(path)
