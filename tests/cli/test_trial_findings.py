"""Defects the new-user trial found, each a test that failed before its fix."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.support.cli_runner import Tclaude
from tests.support.hosts import ControlServer


def test_an_empty_text_is_refused_in_one_line(tclaude: Tclaude, tmp_path: Path) -> None:
    tclaude.run("new", "--name", "api", "--cwd", str(tmp_path), "--detached")
    result = tclaude.run("send", "api", "--text", "", check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("tclaude: ") and "empty" in result.stderr
    assert "tmux" not in result.stderr
    broadcast = tclaude.run("broadcast", "--text", "", check=False)
    assert broadcast.returncode == 2 and "empty" in broadcast.stderr


def test_a_name_that_is_another_instances_id_is_refused(tclaude: Tclaude, tmp_path: Path) -> None:
    first = tclaude.json("new", "--name", "a1", "--cwd", str(tmp_path), "--detached")
    taken = tclaude.run(
        "new", "--name", first["id"], "--cwd", str(tmp_path), "--detached", check=False
    )
    assert taken.returncode == 2 and "id" in taken.stderr
    tclaude.run("new", "--name", "b1", "--cwd", str(tmp_path), "--detached")
    renamed = tclaude.run("rename", "b1", first["id"], check=False)
    assert renamed.returncode == 2 and "id" in renamed.stderr
    assert tclaude.json("status", first["id"])["name"] == "a1"  # the id still means a1


def test_doctor_reports_a_loose_runtime_dir_before_anything_tightens_it(
    tclaude: Tclaude, isolated_env: dict[str, str]
) -> None:
    runtime = isolated_env["TCLAUDE_RUNTIME_DIR"]
    os.chmod(runtime, 0o755)
    out = tclaude.run("doctor", check=False).stdout
    line = next(ln for ln in out.splitlines() if "runtime dir" in ln and "files" not in ln)
    assert line.startswith("WARN"), out
    assert "chmod 700" in line


def test_doctor_says_when_there_is_no_config_file(
    tclaude: Tclaude, isolated_env: dict[str, str]
) -> None:
    out = tclaude.run("doctor", check=False).stdout
    line = next(ln for ln in out.splitlines() if ln.split()[1:2] == ["config"])
    assert "defaults" in line, line


def test_doctor_with_a_bad_config_still_checks_what_the_environment_names(
    tclaude: Tclaude, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    tclaude.run("new", "--name", "api", "--cwd", str(tmp_path), "--detached")
    config = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('layout = "grid"\n')
    out = tclaude.run("doctor", check=False).stdout
    rows = {ln[5:19].strip(): ln for ln in out.splitlines()}  # STATUS LABEL… DETAIL
    assert rows["config"].startswith("FAIL")
    assert rows["claude"].startswith("OK"), out  # $TCLAUDE_CLAUDE_COMMAND, not 'claude'
    secrets = next(ln for ln in out.splitlines() if "argv secrets" in ln)
    assert " of 0 process" not in secrets, secrets  # the instance's tree was looked at


async def test_a_mention_of_a_path_with_a_space_warns(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer
) -> None:
    await asyncio.to_thread(
        tclaude.run, "new", "--name", "api", "--cwd", str(tmp_path), "--detached"
    )
    await control.accept()
    odd = tmp_path / "we ird.txt"
    odd.write_text("x\n")
    sent = await asyncio.to_thread(tclaude.run, "send", "api", "--file", f"{odd}:1")
    assert "warning" in sent.stderr and "space" in sent.stderr
    plain = tmp_path / "plain.txt"
    plain.write_text("x\n")
    quiet = await asyncio.to_thread(tclaude.run, "send", "api", "--file", f"{plain}:1")
    assert quiet.stderr == ""


def test_a_usage_error_is_one_line_pointing_to_help(tclaude: Tclaude) -> None:
    """Found by the session-6 new-user trial: argparse's usage block came first (3-4 lines)."""
    cases = {
        ("watch", "--on", "alpha"): "tclaude watch: unrecognized arguments: --on alpha",
        ("wait", "l1", "--json"): "tclaude wait: the following arguments are required: --state",
        ("send", "a", "b", "--text", "x"): "tclaude send: unrecognized arguments: b",
        ("remote", "frob"): "tclaude remote: argument ACTION: invalid choice: 'frob'",
        ("--bogus",): "tclaude: unrecognized arguments: --bogus",
    }
    for args, start in cases.items():
        proc = tclaude.run(*args, check=False)
        assert proc.returncode == 2, args
        assert proc.stderr.startswith(start), proc.stderr
        assert proc.stderr.count("\n") == 1, proc.stderr
        command = start.split(":")[0]
        assert proc.stderr.endswith(f"(see {command} --help)\n")
