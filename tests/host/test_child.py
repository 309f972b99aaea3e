"""The claude child: command resolution, environment, who counts as our claude."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

import pytest

from tmuxclaude import proctree
from tmuxclaude.errors import ConfigError, NotFoundError, TclaudeError
from tmuxclaude.host import child


def test_resolve_command_splits_like_a_shell() -> None:
    argv = child.resolve_command(f"{sys.executable} -X 'a b'", ["--resume", "x y"])
    assert argv == [sys.executable, "-X", "a b", "--resume", "x y"]


class BadCommandCase(NamedTuple):
    test_id: str
    command: str
    message: str
    error: type[TclaudeError]


BAD_COMMANDS = [  # not installed: exit 127 like a shell; a broken setting: a config error
    BadCommandCase("missing", "no-such-claude-xyz", "claude command not found", NotFoundError),
    BadCommandCase("empty", "", "empty", ConfigError),
    BadCommandCase("unbalanced_quote", "claude 'x", "cannot parse", ConfigError),
]


@pytest.mark.parametrize("case", BAD_COMMANDS, ids=[c.test_id for c in BAD_COMMANDS])
def test_resolve_command_errors(case: BadCommandCase) -> None:
    with pytest.raises(case.error, match=case.message):
        child.resolve_command(case.command, [])


class EnvCase(NamedTuple):
    test_id: str
    base: dict[str, str]
    expected: dict[str, str]
    absent: tuple[str, ...]


ENV_CASES = [
    EnvCase(
        "clean",
        {"PATH": "/bin"},
        {
            "PATH": "/bin",
            "CLAUDE_CODE_SSE_PORT": "4321",
            "ENABLE_IDE_INTEGRATION": "true",
            "FORCE_CODE_TERMINAL": "true",
            "TCLAUDE_INSTANCE": "i1",
            "no_proxy": "127.0.0.1,localhost,::1",
            "NO_PROXY": "127.0.0.1,localhost,::1",
        },
        ("CLAUDECODE",),
    ),
    EnvCase(
        "inherited_removed",
        {"CLAUDE_CODE_SSE_PORT": "1", "CLAUDECODE": "1", "CLAUDE_CODE_AUTO_CONNECT_IDE": "0"},
        {"CLAUDE_CODE_SSE_PORT": "4321"},
        ("CLAUDECODE", "CLAUDE_CODE_AUTO_CONNECT_IDE"),
    ),
    EnvCase(
        "auto_connect_true_kept",
        {"CLAUDE_CODE_AUTO_CONNECT_IDE": "1"},
        {"CLAUDE_CODE_AUTO_CONNECT_IDE": "1"},
        (),
    ),
    EnvCase(
        "proxy_lists_extended",
        {"no_proxy": "corp, localhost", "NO_PROXY": ""},
        {"no_proxy": "corp,localhost,127.0.0.1,::1", "NO_PROXY": "127.0.0.1,localhost,::1"},
        (),
    ),
]


@pytest.mark.parametrize("case", ENV_CASES, ids=[c.test_id for c in ENV_CASES])
def test_environment(case: EnvCase) -> None:
    base = dict(case.base)
    env = child.environment(base, port=4321, instance_id="i1")
    assert base == case.base  # not modified in place
    assert {k: env.get(k) for k in case.expected} == case.expected
    for key in case.absent:
        assert key not in env


def test_is_descendant(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    # a child (with spaces and parentheses in its name) that starts a grandchild
    script = tmp_path / "odd (name) x.py"
    script.write_text(
        "import subprocess, sys\n"
        f"p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "p.wait()\n"
    )
    proc = subprocess.Popen([sys.executable, str(script)])
    grandchild = 0
    try:
        for _ in range(500):
            if pid_file.exists() and pid_file.read_text():
                break
            time.sleep(0.01)
        grandchild = int(pid_file.read_text())
        me = os.getpid()
        assert proctree.is_descendant(proc.pid, me)
        assert proctree.is_descendant(grandchild, me)
        assert proctree.is_descendant(grandchild, proc.pid)
        assert not proctree.is_descendant(me, proc.pid)
        assert not proctree.is_descendant(me, me)
        assert not proctree.is_descendant(1, me)
        assert not proctree.is_descendant(0, me)
        assert not proctree.is_descendant(2**22 + 12345, me)  # no such process
    finally:
        if grandchild:
            os.kill(grandchild, signal.SIGKILL)
        proc.kill()
        proc.wait()
