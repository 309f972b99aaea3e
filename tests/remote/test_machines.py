"""The test machines themselves: each answers over ssh with its own HOME and tclaude."""

from __future__ import annotations

import os

import pytest

from tests.support.remotes import Remotes, real_bashrc


def test_each_machine_has_its_own_home_and_tclaude(remotes: Remotes) -> None:
    for name, machine in remotes.machines.items():
        proc = remotes.ssh(name, 'echo "$HOME"; pwd; command -v tclaude; tclaude --version')
        assert proc.returncode == 0, proc.stderr
        home, cwd, tclaude, version = proc.stdout.split("\n")[:4]
        assert home == cwd == str(machine.home)
        assert tclaude == str(machine.bin / "tclaude")
        assert version.startswith("tclaude ")


def test_a_cut_link_stops_answering(remotes: Remotes) -> None:
    alpha = remotes.machines["alpha"]
    alpha.link_up(False)
    try:
        proc = remotes.ssh("alpha", "true")
        assert proc.returncode != 0
        assert remotes.ssh("beta", "true").returncode == 0
    finally:
        alpha.link_up(True)
    assert remotes.ssh("alpha", "true").returncode == 0


def test_a_login_there_reads_nothing_of_the_real_users_bashrc(remotes: Remotes) -> None:
    """sshd's bash runs the passwd home's ~/.bashrc even for a command: the real user's file
    (pyenv there made each login cost 200 ms, and once 60 s on its lock)."""
    rc = real_bashrc()
    if rc is None:
        pytest.skip("this user has no ~/.bashrc to keep out")
    assert os.path.getsize(rc) > 0  # here, outside the machines, it is the user's own
    for name in remotes.machines:
        proc = remotes.ssh(name, f"wc -c < {rc}")
        assert (proc.returncode, proc.stdout.strip()) == (0, "0"), proc.stderr
