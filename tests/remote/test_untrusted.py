"""A remote's answers are untrusted: crafted output never reaches the terminal raw."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli_runner import Tclaude
from tests.support.remotes import Machine, Remotes
from tmuxclaude.remote import replies

HUGE = 10**400  # a JSON integer float() cannot take (OverflowError)


def _answer_with(machine: Machine, stdout: str, stderr: str = "", code: int = 0) -> None:
    """Replace the machine's tclaude with a script that prints ``stdout``/``stderr``."""
    (machine.root / "out").write_text(stdout)
    (machine.root / "err").write_text(stderr)
    script = machine.bin / "tclaude"
    script.write_text(
        f"#!/bin/sh\ncat {machine.root / 'out'}\ncat {machine.root / 'err'} >&2\nexit {code}\n"
    )
    script.chmod(0o755)


def _row(**fields: object) -> dict[str, object]:
    return {"id": "abc123", "name": "api", "state": "idle", "cwd": "/srv", **fields}


def test_escape_sequences_in_a_remote_row_are_removed(
    tclaude: Tclaude, remotes: Remotes, beta: Machine
) -> None:
    evil = "/srv\x1b]52;c;aGk=\x07\x1b[2J\u009b31m"
    envelope = {"version": "0.1.0", "instances": [_row(cwd=evil, state="pwned", port="1; rm")]}
    _answer_with(beta, json.dumps(envelope))
    proc = tclaude.run("list")
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout and "\u009b" not in proc.stdout
    rows = {r["name"]: r for r in tclaude.json("list")}
    assert rows["api"]["remote"] == "beta"
    assert rows["api"]["state"] == "unknown" and rows["api"]["port"] is None
    assert rows["api"]["cwd"] == "/srv]52;c;aGk=[2J31m"


def test_a_bad_name_or_non_json_is_one_line_and_the_rest_is_listed(
    tclaude: Tclaude, remotes: Remotes, beta: Machine
) -> None:
    tclaude.run("new", "--on", "alpha", "--name", "fine", "--detached")
    _answer_with(beta, json.dumps({"version": "0.1.0", "instances": [_row(name="../x")]}))
    proc = tclaude.run("list", "--json")
    assert [r["name"] for r in json.loads(proc.stdout)] == ["fine"]
    assert "remote beta: an instance has a bad name" in proc.stderr
    _answer_with(beta, '{"version": "0.1.0", "instances": [NaN]}')
    proc = tclaude.run("list", "--json")
    assert "remote beta: its tclaude did not answer JSON" in proc.stderr


def test_relayed_text_and_errors_lose_their_control_characters(
    tclaude: Tclaude, remotes: Remotes, beta: Machine
) -> None:
    _answer_with(beta, "ok \x1b[31mred\x1b[0m\n", "tclaude: bad \x1b]0;title\x07 thing\n", code=2)
    proc = tclaude.run("status", "beta:api", check=False)
    assert proc.returncode == 2
    assert proc.stdout == "ok [31mred[0m\n"
    assert proc.stderr == "tclaude: beta: bad ]0;title thing\n"


def test_a_remotes_hints_name_its_instances_as_they_are_named_here(
    tclaude: Tclaude, remotes: Remotes, beta: Machine
) -> None:
    """Found in session 5: a remote's "tclaude wait api ..." relayed as it was would, typed
    here, wait for (or kill) a local api."""
    hint = (
        "tclaude: api is busy; wait for it (tclaude wait api --state idle), or `tclaude kill api`"
    )
    _answer_with(beta, "", hint + "\n", code=2)
    proc = tclaude.run("send", "beta:api", "--text", "hi", check=False)
    assert proc.returncode == 2
    assert proc.stderr == (
        "tclaude: beta: api is busy; wait for it (tclaude wait beta:api --state idle), "
        "or `tclaude kill beta:api`\n"
    )
    _answer_with(beta, "", "tclaude: see `tclaude switch beta:api` and tclaude list --on x\n", 2)
    proc = tclaude.run("status", "beta:api", check=False)  # named already; not an instance
    assert proc.stderr == "tclaude: beta: see `tclaude switch beta:api` and tclaude list --on x\n"
    _answer_with(beta, "", "tclaude: instance 'api' is not running; `tclaude log api` shows\n", 2)
    proc = tclaude.run("attach", "beta:api", check=False)
    assert proc.returncode == 2
    assert proc.stderr == (
        "tclaude: beta: instance 'api' is not running; `tclaude log beta:api` shows\n"
    )


def test_a_wait_answer_is_checked_and_its_exit_code_kept(
    tclaude: Tclaude, remotes: Remotes, beta: Machine
) -> None:
    answer = {"name": "api", "id": "abc123", "state": "stopped", "result": "stopped", "x": 1}
    _answer_with(beta, json.dumps(answer), code=3)
    proc = tclaude.run("wait", "beta:api", "--state", "idle", "--json", check=False)
    assert proc.returncode == 3, proc
    del answer["x"]  # only the keys tclaude's wait answers
    assert json.loads(proc.stdout) == answer
    _answer_with(beta, json.dumps({**answer, "state": "\x1b[2J"}), code=1)
    proc = tclaude.run("wait", "beta:api", "--state", "idle", "--json", check=False)
    assert proc.returncode == 2 and proc.stdout == "", proc
    assert proc.stderr == "tclaude: remote beta: its wait answer is not tclaude's\n"


def test_a_remote_rows_tmux_ids_pid_and_session_id_are_not_kept(
    tclaude: Tclaude, remotes: Remotes, beta: Machine
) -> None:
    """Here they would name a local pane, process or transcript: a script (or a view) that
    acted on them would act on something of this machine's."""
    remote_only = {
        "pane": "%0",
        "window": "@0",
        "session": "main",
        "pid": 1,
        "session_id": "5d0c2a4e-1b3f-4c6d-8e9f-0a1b2c3d4e5f",
        "socket": "/tmp/editor.sock",
        "lockfile": "/home/me/.claude/ide/1.lock",
    }
    row = _row(target="tclaude:0.0", port=40102, **remote_only)
    _answer_with(beta, json.dumps({"version": "0.1.0", "instances": [row]}))
    (listed,) = tclaude.json("list")
    assert {key: listed[key] for key in remote_only} == dict.fromkeys(remote_only)
    assert (listed["remote"], listed["target"], listed["port"]) == ("beta", "tclaude:0.0", 40102)


def _script(machine: Machine, body: str) -> None:
    """Replace the machine's tclaude with a sh script of ``body``."""
    script = machine.bin / "tclaude"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)


def _config(env: dict[str, str], remotes: Remotes, timeouts: dict[str, float]) -> None:
    config = Path(env["XDG_CONFIG_HOME"]) / "tclaude" / "config.toml"
    config.write_text("remote_timeout = 30.0\n\n" + remotes.config_toml(timeouts))


@pytest.mark.parametrize(
    ("key", "value", "kept"),
    [
        ("port", HUGE, None),
        ("port", 0, None),
        ("port", 70000, None),
        ("port", 4000.5, None),
        ("port", True, None),
        ("port", 4000, 4000),
        ("clis", HUGE, 0),
        ("clis", -1, 0),
        ("clis", 2, 2),
        ("created", HUGE, None),
        ("created", -HUGE, None),
        ("created", 1e300, None),
        ("created", 1700000000.5, 1700000000.5),
        ("age", HUGE, 0.0),
        ("age", -5, 0.0),
        ("age", 60, 60.0),
    ],
    ids=lambda v: "huge" if isinstance(v, int) and abs(v) > 1e300 else None,
)
def test_a_remote_rows_numbers_are_kept_only_in_range(
    key: str, value: object, kept: object
) -> None:
    row = replies.instance_row("beta", _row(**{key: value}))
    assert row[key] == kept and type(row[key]) is type(kept)


@pytest.mark.parametrize(
    "usage",
    [
        {"context_percent": HUGE},
        {"context_percent": 1e308},
        {"context_percent": -1},
        {"context_percent": True},
        {"context_percent": 5, "cost_usd_estimate": HUGE},
        {"context_percent": 5, "cost_usd_estimate": 1e300},
    ],
)
def test_absurd_usage_figures_are_refused(usage: dict[str, Any]) -> None:
    assert replies.instance_row("beta", _row(usage=usage))["usage"] is None


def test_usage_figures_in_range_are_kept_and_absurd_extra_ones_left_out() -> None:
    usage = {"context_percent": 42.5, "cost_usd_estimate": 1.25, "input_tokens": HUGE, "m": "x"}
    assert replies.usage_figures(usage) == {
        "context_percent": 42.5,
        "cost_usd_estimate": 1.25,
        "m": "x",
    }


@pytest.mark.parametrize("text", ["[" * 200000, "[" * 200000 + "]" * 200000, '{"a":' * 100000])
def test_deeply_nested_json_is_one_line(text: str) -> None:
    with pytest.raises(replies.RemoteReplyError, match="did not answer JSON"):
        replies.parse_json("beta", text)


def test_json_nested_deeper_than_tclaude_answers_is_refused() -> None:
    """Deeper than tclaude's answers ever nest: nothing done with it later (str(), a
    recursive walk) can come near Python's recursion limit."""
    deep = "[" * 900 + "]" * 900
    with pytest.raises(replies.RemoteReplyError, match="nested too deep"):
        replies.parse_json("beta", f'{{"version": {deep}, "instances": []}}')
    row = json.dumps(_row(usage={"context_percent": 1, "m": [[1]]}))
    assert replies.parse_json("beta", f'{{"instances": [{row}]}}')["instances"][0]["id"]


def test_a_bad_answer_costs_only_its_remote_in_list(
    tclaude: Tclaude, remotes: Remotes, alpha: Machine, beta: Machine
) -> None:
    tclaude.run("new", "--name", "here", "--detached")
    tclaude.run("new", "--on", "alpha", "--name", "there", "--detached")
    _answer_with(beta, "[" * 200000 + "]" * 200000)
    for args in (("list", "--fresh"), ("list", "--fresh", "--json")):
        proc = tclaude.run(*args)
        assert "Traceback" not in proc.stderr
        assert "here" in proc.stdout and "there" in proc.stdout, proc
        notes = [line for line in proc.stderr.splitlines() if "beta" in line]
        assert len(notes) == 1 and "did not answer JSON" in notes[0], proc.stderr
    proc = tclaude.run("wait", "beta:api", "--state", "idle", "--json", check=False)
    assert (proc.returncode, proc.stdout) == (2, ""), proc
    assert proc.stderr.startswith("tclaude: remote beta: its tclaude did not answer JSON")
    assert len(proc.stderr.splitlines()) == 1


def test_huge_numbers_in_a_remote_row_are_shown_as_unknown(
    tclaude: Tclaude, remotes: Remotes, beta: Machine
) -> None:
    usage = {"context_percent": 1e308, "cost_usd_estimate": 1.0}
    row = _row(port=HUGE, clis=HUGE, created=HUGE, age=HUGE, usage=usage, running=True)
    _answer_with(beta, json.dumps({"version": "0.1.0", "instances": [row]}))
    proc = tclaude.run("list", "--fresh")
    assert "Traceback" not in proc.stderr
    [line] = [line for line in proc.stdout.splitlines() if line.split()[:1] == ["api"]]
    assert line.split()[:7] == ["api", "beta", "abc123", "idle", "-", "0", "0s"], line
    assert len(line) < 200 and "100000" not in line  # no 309-digit usage cell
    (listed,) = tclaude.json("list", "--fresh")
    assert (listed["port"], listed["created"], listed["usage"]) == (None, None, None)


def test_an_endless_answer_is_cut_off_at_the_cap(
    tclaude: Tclaude, remotes: Remotes, beta: Machine, isolated_env: dict[str, str]
) -> None:
    _config(isolated_env, remotes, {"beta": 20.0})
    # about 20 MB/s, for ever: the cap (16 MiB) is met in a second, the timeout never
    line = "x" * 1023
    loop = f"i=0; while [ $i -lt 1000 ]; do echo {line}; i=$((i+1)); done"
    _script(beta, f"while :; do {loop}; sleep 0.05; done")
    proc = tclaude.run("list", "--fresh")
    notes = [line for line in proc.stderr.splitlines() if "beta" in line]
    assert notes == [f"tclaude: remote beta: its answer is larger than {replies.MAX_REPLY} bytes"]
    relayed = tclaude.run("peek", "beta:api", check=False)
    assert relayed.returncode == 2 and relayed.stdout == "", relayed.returncode
    assert (
        relayed.stderr
        == f"tclaude: remote beta: its answer is larger than {replies.MAX_REPLY} bytes\n"
    )


def test_a_flood_on_stderr_is_cut_to_its_end(
    tclaude: Tclaude, remotes: Remotes, beta: Machine
) -> None:
    line = "e" * 1023
    _script(
        beta,
        f"i=0; while [ $i -lt 30000 ]; do echo {line} >&2; i=$((i+1)); done;"
        " echo 'tclaude: the last word' >&2; exit 2",
    )
    proc = tclaude.run("status", "beta:api", check=False)
    assert proc.returncode == 2
    assert proc.stderr.endswith("tclaude: beta: the last word\n")
    assert len(proc.stderr) < 64 * 1024, len(proc.stderr)


def test_a_remote_wait_that_hangs_ends_after_the_timeout_and_the_remotes(
    tclaude: Tclaude, remotes: Remotes, beta: Machine, isolated_env: dict[str, str]
) -> None:
    _config(isolated_env, remotes, {"beta": 3.0})
    _script(beta, "exec sleep 1000")
    proc = tclaude.run(
        "wait", "beta:web", "--state", "idle", "--timeout", "2", "--json", check=False
    )
    assert proc.returncode == 2 and proc.stdout == "", proc
    assert proc.stderr.startswith("tclaude: remote beta: no answer within "), proc.stderr


def test_ssh_mux_chatter_is_not_shown_as_the_remotes_words(
    tclaude: Tclaude, remotes: Remotes, isolated_env: dict[str, str]
) -> None:
    """A second ssh that cannot be the master (parallel first calls; here a name already at
    the control path) says so on stderr: ssh's words, not the remote's."""
    control = Path(isolated_env["TCLAUDE_RUNTIME_DIR"]) / "ssh"
    control.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.symlink(control / "nowhere", control / "alpha")  # exists, and no master there
    proc = tclaude.run("status", "alpha:api", check=False)
    assert proc.returncode == 2, proc
    assert "ControlSocket" not in proc.stderr and "multiplexing" not in proc.stderr, proc.stderr
    assert proc.stderr.startswith("tclaude: alpha: ") and len(proc.stderr.splitlines()) == 1
