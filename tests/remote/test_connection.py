"""The ssh transport: one shared master per remote, quoting, stale sockets, timeouts."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.remotes import Machine, Remotes
from tmuxclaude.errors import ConfigError
from tmuxclaude.remote import ssh
from tmuxclaude.remote.ssh import Remote, RemoteError


def _remote(remotes: Remotes, name: str, **kwargs: object) -> Remote:
    """The remote, with a timeout generous for a loaded machine unless a test sets one
    (a first connection under load took more than the default 3 s)."""
    kwargs.setdefault("timeout", 30.0)
    return Remote(name, name, str(remotes.ssh_config), **kwargs)  # type: ignore[arg-type]


def _masters(path: str) -> list[int]:
    """Pids of the ssh masters of control path ``path`` (titled ``ssh: PATH [mux]``)."""
    found = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                title = handle.read()
        except OSError:
            continue
        if title.startswith(f"ssh: {path} [mux]".encode()):
            found.append(int(pid))
    return found


def test_calls_share_one_master_connection(remotes: Remotes) -> None:
    remote = _remote(remotes, "alpha")
    first = ssh.call(remote, ["--version"])
    assert first.code == 0 and first.stdout.startswith("tclaude ")
    path = ssh.control_path(remote)
    assert os.path.exists(path)
    masters = _masters(path)
    assert len(masters) == 1
    for _ in range(3):
        assert ssh.call(remote, ["--version"]).code == 0
    assert _masters(path) == masters


def test_arguments_reach_the_remote_as_they_are(remotes: Remotes, alpha: Machine) -> None:
    script = alpha.bin / "echoargs"
    script.write_text('#!/bin/sh\nfor a in "$@"; do printf "<%s>\\n" "$a"; done\n')
    script.chmod(0o755)
    marker = alpha.home / "pwned"
    remote = _remote(remotes, "alpha", tclaude=str(script))
    args = ["a b", f"$(touch {marker})", "x;touch y", "'q'", "~", "*"]
    reply = ssh.call(remote, args)
    assert reply.stdout.splitlines() == [f"<{a}>" for a in args]
    assert not marker.exists()


def test_a_stale_control_socket_is_cleared(remotes: Remotes) -> None:
    remote = _remote(remotes, "beta")
    path = ssh.control_path(remote)
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(path)  # bound, never listening: what a master killed hard leaves
    dead.close()
    assert ssh.call(remote, ["--version"]).code == 0
    assert _masters(path)


def test_an_unreachable_remote_fails_within_the_timeout(remotes: Remotes, alpha: Machine) -> None:
    remote = _remote(remotes, "alpha", timeout=1.0)
    assert ssh.call(remote, ["--version"], timeout=60).code == 0  # warm; then the link is cut
    alpha.link_up(False)
    with pytest.raises(RemoteError) as caught:
        ssh.call(remote, ["--version"])
    assert caught.value.state == "unreachable"
    assert "\n" not in str(caught.value)


def test_a_remote_without_tclaude_says_so(remotes: Remotes, beta: Machine) -> None:
    beta.install_tclaude(False)
    with pytest.raises(RemoteError) as caught:
        ssh.call(_remote(remotes, "beta"), ["--version"])
    assert caught.value.state == "no-tclaude"
    assert "tclaude remote install beta" in str(caught.value)


def test_remote_argv_runs_tclaude_on_the_named_remote(remotes: Remotes) -> None:
    argv = ssh.remote_argv("alpha", ["--version"])
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert proc.returncode == 0 and proc.stdout.startswith("tclaude ")
    assert "--" in argv and argv[-1] == "tclaude --version"


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('[remotes."a:b"]\nssh = "h"\n', "remote name"),
        ("[remotes.x]\nssh_config = '/f'\n", "remotes.x.ssh"),
        ("[remotes.x]\nssh = '-oProxyCommand=sh'\n", "remotes.x.ssh"),
        ("[remotes.x]\nssh = 'h'\nport = '22'\n", "unknown key 'port'"),
    ],
)
def test_bad_remote_tables_are_refused_by_key(
    isolated_env: dict[str, str], table: str, words: str
) -> None:
    from tmuxclaude import config

    path = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(table)
    with pytest.raises(ConfigError, match=words):
        config.load()


def test_a_remote_timeout_of_its_own_is_used(
    isolated_env: dict[str, str], remotes: Remotes
) -> None:
    from tmuxclaude import config

    path = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    path.write_text("remote_timeout = 7.0\n" + remotes.config_toml({"alpha": 1.5}))
    loaded = config.load()
    assert Remote.named(loaded, "alpha").timeout == 1.5
    assert Remote.named(loaded, "beta").timeout == 7.0
    path.write_text(remotes.config_toml({"alpha": 0}))
    with pytest.raises(ConfigError, match=r"remotes.alpha.timeout"):
        config.load()


def test_remote_argv_keeps_the_control_socket_in_a_configured_runtime_dir(
    isolated_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    runtime = tmp_path / "rt"
    path = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    path.parent.mkdir(parents=True)
    path.write_text(f'runtime_dir = "{runtime}"\n\n[remotes.gpu]\nssh = "gpu-box"\n')
    monkeypatch.delenv("TCLAUDE_RUNTIME_DIR")
    argv = ssh.remote_argv("gpu", ["list", "--json"])
    assert any(a.startswith(f"ControlPath={runtime}/ssh/gpu.") for a in argv)
    assert argv[-3:] == ["--", "gpu-box", "tclaude list --json"]
    assert (runtime / "ssh").stat().st_mode & 0o777 == 0o700


def _home(remote: Remote) -> str:
    reply = ssh.run_ssh(remote, 'echo "$HOME"')
    assert reply.code == 0, reply.stderr
    return reply.stdout.strip()


def _gone(path: str) -> bool:
    """The master of ``path`` has ended (polled: a stopped one ends after its sessions)."""
    import time

    deadline = time.monotonic() + 30  # a hang guard only
    while _masters(path) or os.path.exists(path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_remote_whose_ssh_changed_reaches_the_new_machine(
    isolated_env: dict[str, str], remotes: Remotes, alpha: Machine, beta: Machine
) -> None:
    from tmuxclaude import config

    path = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    before = Remote.named(config.load(), "alpha")
    assert _home(before) == str(alpha.home)  # its master is up (ControlPersist)
    old = ssh.control_path(before)
    assert _masters(old)
    path.write_text(path.read_text().replace('ssh = "alpha"', 'ssh = "beta"'))
    after = Remote.named(config.load(), "alpha")
    assert after.ssh == "beta"
    assert _home(after) == str(beta.home)  # not over the master to alpha
    assert ssh.control_path(after) != old
    assert _gone(old)  # told to stop when the new settings' call found it
    assert _masters(ssh.control_path(after))


def test_removing_a_remote_ends_its_masters_of_any_settings(remotes: Remotes) -> None:
    first = _remote(remotes, "alpha")
    assert ssh.call(first, ["--version"]).code == 0
    path = ssh.control_path(first)
    assert _masters(path)
    ssh.close(Remote("alpha", "somewhere-else"))  # by name: what remote remove and a feed know
    assert _gone(path)


def test_a_control_socket_path_stays_short_for_a_long_name(isolated_env: dict[str, str]) -> None:
    long_name = "n" * 48
    path = ssh.control_path(Remote(long_name, "box"))
    name = os.path.basename(path)
    assert len(name) <= ssh.NAME_KEPT + 1 + ssh.DIGEST_KEPT
    assert ssh.control_path(Remote("n" * 47 + "m", "box")) != path  # still one per remote
    assert ssh.control_paths(long_name) == []  # none made yet
    # found by the session-6 re-check: another remote could be named as the long one's tag
    # (16 characters and 8 hex digits); a tag now holds a "~", which no remote's name does
    tag = name.split(".")[0]
    assert "~" in tag
    digest = hashlib.sha256(long_name.encode()).hexdigest()
    for other in (long_name[:16] + digest[:8], long_name[:16] + digest[:7]):
        made = ssh.control_path(Remote(other, "box"))
        Path(made).touch()
        assert ssh.control_paths(long_name) == []  # the other's socket is not the long one's
        assert ssh.control_paths(other) == [made]
