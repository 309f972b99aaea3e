"""A host that does not answer on its editor socket: one line, what to do, no traceback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import Tclaude

ECHO = "sh -c 'while IFS= read -r line; do echo \"got:$line\"; done'"


def test_status_and_send_to_a_host_that_never_answers_end_in_one_line(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    source = tmp_path / "app.py"
    source.write_text("x = 1\n")
    env = {"TCLAUDE_CLAUDE_COMMAND": ECHO}
    data = json.loads(
        tclaude.run(
            "new", "--name", "api", "--cwd", str(tmp_path), "--detached", "--json", env=env
        ).stdout
    )
    # a SIGSTOPped host is no test: tmux sends SIGCONT to a pane's stopped process. Put a
    # socket that accepts (the kernel's backlog does) and never answers in the host's place.
    path = data["socket"]
    os.rename(path, f"{path}.real")
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        silent.bind(path)
        silent.listen(8)
        commands = [["status", "api"], ["send", "api", "--file", str(source)]]
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "tmuxclaude", *args],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args in commands
        ]
        results = [proc.communicate(timeout=60) for proc in procs]
    finally:
        silent.close()
        os.replace(f"{path}.real", path)
    for proc, (_, stderr) in zip(procs, results, strict=True):
        assert proc.returncode == 2, (proc.args, results)
        assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr
        assert "the host of 'api' did not answer within 10 s" in stderr
        assert "or stop it with tclaude kill api" in stderr and ".log)" in stderr
    assert tclaude.json("status", "api")["name"] == "api"  # the real host answers again
