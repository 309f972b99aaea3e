"""``tclaude remote add | list | check | remove | install`` against the sshd machines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support.cli_runner import Tclaude
from tests.support.remotes import Machine, Remotes


def _install(tclaude: Tclaude, name: str) -> subprocess.CompletedProcess[str]:
    """``tclaude remote install NAME``: building wheels on a loaded machine takes minutes."""
    proc = subprocess.run(
        [sys.executable, "-m", "tmuxclaude", "remote", "install", name],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,  # a hang guard only
    )
    assert proc.returncode == 0, proc.stderr
    return proc


def _config(env: dict[str, str]) -> Path:
    return Path(env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"


def test_add_and_remove_keep_the_rest_of_the_file(
    tclaude: Tclaude, isolated_env: dict[str, str]
) -> None:
    config = _config(isolated_env)
    config.parent.mkdir(parents=True)
    original = '# my settings\nlayout = "split"\n\n[prices.opus]  # mine\ninput = 1.0\n'
    config.write_text(original)
    tclaude.run("remote", "add", "gpu", "--ssh", "me@gpu-box", "--tclaude", "~/bin/tclaude")
    rows = tclaude.json("remote", "list")
    assert rows == [
        {
            "name": "gpu",
            "ssh": "me@gpu-box",
            "ssh_config": None,
            "tclaude": "~/bin/tclaude",
            "timeout": None,
        }
    ]
    assert config.read_text().startswith(original)
    assert "gpu" in tclaude.run("config").stdout  # the file still validates
    again = tclaude.run("remote", "add", "gpu", "--ssh", "other", check=False)
    assert again.returncode != 0 and "configured already" in again.stderr
    tclaude.run("remote", "remove", "gpu")
    assert config.read_text().rstrip("\n") == original.rstrip("\n")
    assert tclaude.json("remote", "list") == []


def test_a_relative_ssh_config_is_kept_as_the_file_it_names_here(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    """Found by the session-6 re-check: stored as written, it named another file (or none)
    from any other directory."""
    (tmp_path / "ssh_config").write_text("Host box\n  HostName 127.0.0.1\n")
    tclaude.run(
        "remote", "add", "rel", "--ssh", "box", "--ssh-config", "ssh_config", cwd=str(tmp_path)
    )
    tclaude.run("remote", "add", "home", "--ssh", "box", "--ssh-config", "~/.ssh/other")
    rows = {row["name"]: row["ssh_config"] for row in tclaude.json("remote", "list")}
    assert rows == {"rel": str(tmp_path / "ssh_config"), "home": "~/.ssh/other"}


def test_remove_then_add_again_leaves_no_debris(
    tclaude: Tclaude, isolated_env: dict[str, str]
) -> None:
    """Blank lines piled up between tables, and the caches stayed (new-user trial)."""
    config = _config(isolated_env)
    config.parent.mkdir(parents=True)
    original = 'layout = "split"\n'
    config.write_text(original)
    caches = Path(isolated_env["TCLAUDE_STATE_DIR"]) / "remotes"
    for _ in range(3):
        tclaude.run("remote", "add", "beta", "--ssh", "beta")
        assert "\n\n\n" not in config.read_text()
        caches.mkdir(parents=True, exist_ok=True)
        for name in ("beta.json", "beta.feed.json"):
            (caches / name).write_text("{}")
        tclaude.run("remote", "remove", "beta")
        assert config.read_text() == original
        assert sorted(p.name for p in caches.iterdir()) == []


def test_add_refuses_a_bad_alias_in_one_line(
    tclaude: Tclaude, isolated_env: dict[str, str]
) -> None:
    proc = tclaude.run("remote", "add", "x", "--ssh", "-oProxyCommand=touch /tmp/p", check=False)
    assert proc.returncode != 0
    assert proc.stderr.count("\n") == 1 and "remotes.x.ssh" in proc.stderr
    assert not _config(isolated_env).exists()


def test_a_refused_alias_says_why(tclaude: Tclaude, isolated_env: dict[str, str]) -> None:
    """It said "an ssh alias or [user@]host is required" though one was given."""
    cases = [
        ("--ssh=-oProxyCommand=x", "'-oProxyCommand=x' starts with '-' (an ssh option)"),
        ("--ssh=me@gpu box", "'me@gpu box' has ' ' in it"),
        ("--ssh=h;id", "'h;id' has ';' in it"),
        ("--ssh=", "an ssh alias or [user@]host is required"),
    ]
    for arg, why in cases:
        proc = tclaude.run("remote", "add", "evil", arg, check=False)
        assert proc.returncode != 0, proc
        assert proc.stderr.startswith(f"tclaude: remotes.evil.ssh: {why}"), proc.stderr
        assert proc.stderr.count("\n") == 1
        assert not _config(isolated_env).exists()


def test_check_reports_versions_and_each_remote_state(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine, beta: Machine
) -> None:
    beta.install_tclaude(False)
    results = {
        h["remote"]: h
        for h in json.loads(tclaude.run("remote", "check", "--json", check=False).stdout)
    }
    assert results["alpha"]["state"] == "ok"
    assert results["alpha"]["tclaude"] == results["alpha"]["local_tclaude"]
    assert results["alpha"]["latency_ms"] is not None
    assert results["beta"]["state"] == "no-tclaude"
    other = beta.bin / "tclaude"
    other.write_text("#!/bin/sh\necho 'tclaude 0.0.9'\n")
    other.chmod(0o755)
    beta_only = tclaude.run("remote", "check", "beta", check=False)
    assert beta_only.returncode == 1
    assert "version-mismatch" in beta_only.stdout and "0.0.9" in beta_only.stdout


def test_install_puts_this_tclaude_on_a_remote_without_an_index(
    tclaude: Tclaude, remotes: Remotes, beta: Machine, isolated_env: dict[str, str]
) -> None:
    """beta's namespace has no route out: pip there can only use the wheels sent to it."""
    beta.install_tclaude(False)
    assert tclaude.run("remote", "check", "beta", check=False).returncode == 1
    proc = _install(tclaude, "beta")
    assert "tclaude installed on beta" in proc.stdout
    link = beta.home / ".local" / "bin" / "tclaude"
    assert link.is_symlink()
    venv = beta.home / ".local" / "share" / "tclaude" / "venv"
    assert venv.is_symlink() and venv.resolve().name.startswith("venv-0.1.0-")
    assert not list(venv.resolve().parent.glob("*.wheels"))  # the sent wheels are gone
    health = json.loads(tclaude.run("remote", "check", "beta", "--json").stdout)[0]
    assert health["state"] == "ok" and health["tclaude"] == "0.1.0"
    assert 'tclaude = "~/.local/bin/tclaude"' in _config(isolated_env).read_text()
    first = venv.resolve()
    _install(tclaude, "beta")  # again: a new venv switched in, the old one gone
    assert venv.resolve() != first and not first.exists()
    assert tclaude.json("remote", "check", "beta")[0]["state"] == "ok"


def test_install_prints_where_the_remote_says_only_as_printable_text() -> None:
    """The install script's last line comes from the remote: no escape reaches the terminal."""
    from tmuxclaude.remote.install import installed_at

    said = "pip chatter\n/home/u/.local/bin/tclaude\x1b]0;PWNTITLE\x07\x1b[2J\n\n"
    assert installed_at(said) == "/home/u/.local/bin/tclaude]0;PWNTITLE[2J"
    assert installed_at("\x1b\n\x07\x00\n") == "~/.local/bin/tclaude"  # nothing printable
    assert installed_at("") == "~/.local/bin/tclaude"
