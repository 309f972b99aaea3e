"""send / broadcast / status through real hosts; config sources; doctor."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

from tests.cli.conftest import Tclaude
from tests.support.hosts import ControlServer


def _screen(tclaude: Tclaude, pane: str) -> str:
    return tclaude.tmux("capture-pane", "-p", "-J", "-t", pane)


async def test_send_file_mentions_with_zero_based_lines(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer
) -> None:
    source = tmp_path / "app.py"
    source.write_text("".join(f"line {n}\n" for n in range(1, 40)))
    await asyncio.to_thread(
        tclaude.run, "new", "--name", "api", "--cwd", str(tmp_path), "--detached"
    )
    cli = await control.accept()
    sent = await asyncio.to_thread(tclaude.json, "send", "api", "--file", f"{source}:10-20")
    assert sent == {"delivered": 1}
    note = await cli.notification("at_mentioned")
    assert note["params"] == {"filePath": str(source.resolve()), "lineStart": 9, "lineEnd": 19}
    await asyncio.to_thread(tclaude.run, "send", "api", "--file", str(source))
    whole = await cli.notification("at_mentioned")
    assert whole["params"] == {"filePath": str(source.resolve())}
    bad = await asyncio.to_thread(
        tclaude.run, "send", "api", "--file", f"{source}:20-10", check=False
    )
    assert bad.returncode == 2 and "1-based" in bad.stderr
    missing = await asyncio.to_thread(tclaude.run, "send", "api", "--file", "nope.py", check=False)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    short = tmp_path / "short.py"
    short.write_text("a\nb\nc\nd")  # 4 lines, the last without a newline
    beyond = await asyncio.to_thread(
        tclaude.run, "send", "api", "--file", f"{short}:9-12", check=False
    )
    assert beyond.returncode == 2 and beyond.stdout == ""
    assert beyond.stderr == f"tclaude: {short} has 4 line(s); lines 9-12 go beyond its end\n"
    last = await asyncio.to_thread(tclaude.json, "send", "api", "--file", f"{short}:4")
    assert last == {"delivered": 1}


async def test_status_reports_the_connected_cli(
    tclaude: Tclaude, tmp_path: Path, control: ControlServer
) -> None:
    await asyncio.to_thread(
        tclaude.run, "new", "--name", "api", "--cwd", str(tmp_path), "--detached"
    )
    cli = await control.accept()
    status = await asyncio.to_thread(tclaude.json, "status", "api")
    assert status["name"] == "api"
    assert status["clis"] == 1
    assert status["claude_pid"] == cli.pid
    assert status["pending_diffs"] == []


def test_send_text_and_broadcast_paste_into_the_panes(tclaude: Tclaude, tmp_path: Path) -> None:
    # a child that echoes what it reads shows what was pasted and whether Enter came
    echo = "sh -c 'while IFS= read -r line; do echo \"got:$line\"; done'"
    env = {"TCLAUDE_CLAUDE_COMMAND": echo}
    a = json.loads(
        tclaude.run(
            "new", "--name", "a", "--cwd", str(tmp_path), "--detached", "--json", env=env
        ).stdout
    )
    b = json.loads(
        tclaude.run(
            "new", "--name", "b", "--cwd", str(tmp_path), "--detached", "--json", env=env
        ).stdout
    )
    # text is typed only into a ready instance: these children send no hooks, so say so
    for pane in (a["pane"], b["pane"]):
        tclaude.tmux("set-option", "-p", "-t", pane, "@tclaude-state", "idle")
    tclaude.run("send", "a", "--text", "hello there", "--submit")
    tclaude.run("broadcast", "--text", "to all", "--submit")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        screens = {n: _screen(tclaude, p["pane"]) for n, p in (("a", a), ("b", b))}
        if "got:to all" in screens["a"] and "got:to all" in screens["b"]:
            break
        time.sleep(0.1)
    assert "got:hello there" in screens["a"]
    assert "got:hello there" not in screens["b"]
    assert "got:to all" in screens["a"] and "got:to all" in screens["b"]


def test_config_sources_file_env_and_errors(tclaude: Tclaude, isolated_env: dict[str, str]) -> None:
    config_file = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text('session_name = "work"\nlayout = "split"\n')
    shown = tclaude.json("config")
    assert shown["session_name"] == {"value": "work", "source": str(config_file)}
    assert shown["layout"]["value"] == "split"
    assert shown["port_range"]["source"] == "default"
    env_over = json.loads(
        tclaude.run("config", "--json", env={"TCLAUDE_SESSION_NAME": "fromenv"}).stdout
    )
    assert env_over["session_name"] == {"value": "fromenv", "source": "$TCLAUDE_SESSION_NAME"}
    config_file.write_text('layout = "diagonal"\n')
    bad = tclaude.run("list", check=False)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1
    assert "layout" in bad.stderr and str(config_file) in bad.stderr
    config_file.write_text("layout = [\n")
    broken = tclaude.run("config", check=False)
    assert broken.returncode == 2 and str(config_file) in broken.stderr
    config_file.write_text('port_range = "9-8"\n')
    assert "port_range" in tclaude.run("list", check=False).stderr
    config_file.write_text("no_such_key = 1\n")
    assert "no_such_key" in tclaude.run("list", check=False).stderr


def test_config_file_session_name_is_used(
    tclaude: Tclaude, isolated_env: dict[str, str], tmp_path: Path
) -> None:
    config_file = Path(isolated_env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config_file.parent.mkdir(parents=True)
    config_file.write_text('session_name = "work"\n')
    data = tclaude.json("new", "--cwd", str(tmp_path), "--detached")
    assert data["session"] == "work"


def test_doctor_reports_each_check(tclaude: Tclaude, isolated_env: dict[str, str]) -> None:
    ide = Path(isolated_env["CLAUDE_CONFIG_DIR"]) / "ide"
    ide.mkdir(parents=True)
    os.chmod(ide, 0o700)
    (ide / "12345.lock").write_text(
        json.dumps(
            {
                "pid": 999999999,
                "ideName": "tclaude:gone",
                "workspaceFolders": [],
                "transport": "ws",
                "authToken": "x",
            }
        )
    )
    rows = {r["check"]: r for r in json.loads(tclaude.run("doctor", "--json").stdout)}
    assert rows["tmux"]["status"] == "OK"
    assert rows["claude"]["status"] == "OK"
    assert rows["stale locks"]["status"] == "WARN" and "12345.lock" in rows["stale locks"]["detail"]
    missing = tclaude.run("doctor", check=False, env={"TCLAUDE_CLAUDE_COMMAND": "nope-claude"})
    assert missing.returncode == 1
    assert any(
        line.startswith("FAIL claude") and "npm install" in line
        for line in missing.stdout.splitlines()
    )


def test_a_config_cache_from_another_tclaude_version_is_ignored(
    tclaude: Tclaude, isolated_env: dict[str, str]
) -> None:
    # the runtime dir outlives an upgrade: a cache written by a tclaude with other
    # settings (one more, here) must not break every command with a traceback
    tclaude.run("list")  # writes the cache
    cache = Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / "config-cache.json"
    data = json.loads(cache.read_text())
    data["values"]["setting_of_a_newer_tclaude"] = {"x": 1}
    cache.write_text(json.dumps(data))
    for command in ("config", "list", "doctor"):
        result = tclaude.run(command, check=False)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode in (0, 1), (command, result.stderr)
