"""History search over a generated corpus of transcripts: found are the planted phrases only."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from tests.support import transcripts as tr
from tests.support.cli_runner import Tclaude
from tmuxclaude.history import HistoryIndex

PLANTED = {
    3: "quantum marmalade",
    500: "perplexed hedgehog",
    999: "perplexed hedgehog orchestra",
}


def projects() -> Path:
    return Path(os.environ["CLAUDE_CONFIG_DIR"]) / "projects"


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    tr.corpus(root, 1000, planted=PLANTED, size=3000)
    return root


@pytest.fixture
def corpus(corpus_dir: Path) -> list[tuple[str, str, Path]]:
    """The corpus copied into this test's own Claude config dir."""
    import shutil

    shutil.copytree(corpus_dir, projects())
    found = []
    for path in sorted(projects().rglob("*.jsonl")):
        first = json.loads(path.read_text().splitlines()[0])
        found.append((path.stem, first["cwd"], path))
    return found


def fingerprint(root: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def session_with(corpus: list[tuple[str, str, Path]], phrase: str) -> list[str]:
    return [sid for sid, _, path in corpus if phrase in path.read_text()]


def test_finds_the_planted_phrases_and_nothing_else(
    tclaude: Tclaude, corpus: list[tuple[str, str, Path]]
) -> None:
    before = fingerprint(projects())
    hits = tclaude.json("history", "quantum", "marmalade")
    assert [h["session_id"] for h in hits] == session_with(corpus, "quantum marmalade")
    assert len(hits) == 1
    assert "quantum marmalade" in hits[0]["line"]
    assert hits[0]["cwd"].startswith("/home/u/src/project-")
    assert hits[0]["timestamp"].startswith("2026-10-")
    hedgehogs = tclaude.json("history", "perplexed", "hedgehog")
    assert sorted(h["session_id"] for h in hedgehogs) == sorted(
        session_with(corpus, "perplexed hedgehog")
    )
    assert len(hedgehogs) == 2
    # the one with the whole phrase plus a word ranks first for that query
    orchestra = tclaude.json("history", "hedgehog", "orchestra")
    assert [h["session_id"] for h in orchestra] == session_with(corpus, "hedgehog orchestra")
    assert tclaude.json("history", "nonexistentword") == []
    # Claude Code's files are untouched; the index is private
    assert fingerprint(projects()) == before
    index = Path(os.environ["TCLAUDE_STATE_DIR"]) / "history.sqlite"
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    human = tclaude.run("history", "quantum", "marmalade").stdout
    assert hits[0]["session_id"] in human and "quantum marmalade" in human


def test_cwd_filter_and_recent(tclaude: Tclaude, corpus: list[tuple[str, str, Path]]) -> None:
    (sid_a, cwd_a, _), (sid_b, cwd_b, _) = [
        next(c for c in corpus if c[0] == sid) for sid in session_with(corpus, "hedgehog")
    ]
    assert cwd_a != cwd_b
    only_a = tclaude.json("history", "hedgehog", "--cwd", cwd_a)
    assert [h["session_id"] for h in only_a] == [sid_a]
    recent = tclaude.json("history", "--cwd", cwd_b, "-n", "500")
    assert sid_b in [h["session_id"] for h in recent]
    assert {h["cwd"] for h in recent} == {cwd_b}


def test_tool_results_are_not_searched(tmp_path: Path) -> None:
    sid = "11111111-2222-4333-8444-555555555555"
    path = projects() / "-p" / f"{sid}.jsonl"
    tr.write(path, [tr.user("hello there", sid, "/p"), tr.tool_result(sid, "/p", "zanzibar")])
    with HistoryIndex() as index:
        index.update()
        assert index.search("zanzibar") == []
        assert [h.session_id for h in index.search("hello")] == [sid]


def test_updates_are_incremental(tmp_path: Path) -> None:
    sid = "11111111-2222-4333-8444-555555555555"
    other = "21111111-2222-4333-8444-555555555555"
    path = projects() / "-p" / f"{sid}.jsonl"
    tr.write(path, [tr.user("first words", sid, "/p")])
    with HistoryIndex() as index:
        assert index.update() == 1
        assert index.update() == 0  # nothing changed: nothing read
        tr.write(path, [tr.assistant([tr.text("appended reply")], sid, "/p")], mode="a")
        with path.open("a") as handle:
            handle.write('{"type":"user","message":{"content":"half wri')  # still being written
        assert index.update() == 1
        assert [h.session_id for h in index.search("appended")] == [sid]
        assert index.search("first") != []  # the start was kept, not indexed twice
        assert len(index.search("first")) == 1
        assert index.search("half") == []
        tr.write(projects() / "-q" / f"{other}.jsonl", [tr.user("brand new", other, "/q")])
        assert index.update() == 1
        assert [h.session_id for h in index.search("brand new")] == [other]
        path.unlink()
        index.update()
        assert index.search("appended") == []
        # a transcript rewritten in place (smaller) is indexed afresh
        tr.write(projects() / "-q" / f"{other}.jsonl", [tr.user("rewritten", other, "/q")])
        index.update()
        assert index.search("brand") == []
        assert [h.session_id for h in index.search("rewritten")] == [other]


@pytest.mark.parametrize("query", ['"', "AND OR NOT", "a*b(", "NEAR(x y)", "'; DROP TABLE files"])
def test_odd_queries_are_words_not_syntax(tclaude: Tclaude, query: str) -> None:
    sid = "11111111-2222-4333-8444-555555555555"
    tr.write(projects() / "-p" / f"{sid}.jsonl", [tr.user("AND OR NOT words", sid, "/p")])
    proc = tclaude.run("history", query, "--json", check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert isinstance(json.loads(proc.stdout), list)


def _in_pane(tclaude: Tclaude, tmp_path: Path, name: str, query: str) -> str:
    """``tclaude history QUERY`` in a tmux pane of its own (a terminal); the pane id."""
    import shlex
    import sys

    script = tmp_path / f"{name}.sh"
    script.write_text(
        f"cd {shlex.quote(str(tmp_path))}\n"
        f"{shlex.quote(sys.executable)} -m tmuxclaude history {shlex.quote(query)}\n"
        'echo "history exited $?"\n'
        "sleep 600\n"
    )
    command = f"sh {shlex.quote(str(script))}"
    if _has(tclaude, "hist"):
        out = tclaude.tmux("new-window", "-d", "-P", "-F", "#{pane_id}", "-t", "hist:", command)
    else:
        out = tclaude.tmux(
            "new-session", "-d", "-s", "hist", "-x", "200", "-y", "50", "-P", "-F",
            "#{pane_id}", command,
        )  # fmt: skip
    return out.strip()


def _has(tclaude: Tclaude, session: str) -> bool:
    import subprocess

    return (
        subprocess.run(
            ["tmux", "-L", tclaude.socket, "has-session", "-t", session], capture_output=True
        ).returncode
        == 0
    )


def _screen(tclaude: Tclaude, pane: str, pattern: str) -> str:
    import re
    import time

    deadline = time.monotonic() + 30  # a hang guard
    while True:
        text = tclaude.tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", pane)
        if re.search(pattern, text):
            return text
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} not on screen:\n{text}")
        time.sleep(0.05)


def test_on_a_terminal_history_numbers_the_matches_and_resumes_the_one_chosen(
    tclaude: Tclaude, tmp_path: Path
) -> None:
    from tmuxclaude.transcript import project_dir

    planted = {"a": "zebra pancake first", "b": "zebra pancake zebra pancake", "c": "nothing"}
    for n, (name, prompt) in enumerate(planted.items()):
        cwd = tmp_path / name
        cwd.mkdir()
        sid = f"{n}f3c9a1e-5b2d-4c7e-9f10-2a3b4c5d6e7f"
        tr.write(
            Path(project_dir(str(cwd))) / f"{sid}.jsonl",
            [tr.user(prompt, sid, str(cwd)), tr.assistant([tr.text("ok")], sid, str(cwd))],
        )
    hits = tclaude.json("history", "--json", "zebra", "pancake")
    assert len(hits) == 2
    prompt = r"resume which conversation\? \(1-2; q, Esc or Enter quits\) \s*\Z"

    # garbage asks again, out-of-range too; end of input quits: nothing started
    pane = _in_pane(tclaude, tmp_path, "eof", "zebra pancake")
    screen = _screen(tclaude, pane, prompt)
    rows = [line for line in screen.splitlines() if line[:3] in ("1  ", "2  ")]
    assert len(rows) == 2  # numbered in rank order (ids are cut to fit the terminal)
    for row, hit in zip(rows, hits, strict=True):
        assert hit["session_id"][:12] in row
    for answer in ("yes please", "7", "0", "-1"):
        tclaude.tmux("send-keys", "-t", pane, "-l", "--", answer)
        tclaude.tmux("send-keys", "-t", pane, "Enter")
    _screen(tclaude, pane, r"(?s)(answer a number from 1 to 2, or q.*){4}" + prompt)
    tclaude.tmux("send-keys", "-t", pane, "C-d")
    _screen(tclaude, pane, "history exited 0")
    for key in ("q", "Escape", ""):
        pane = _in_pane(tclaude, tmp_path, f"quit{key}", "zebra pancake")
        _screen(tclaude, pane, prompt)
        if key:
            tclaude.tmux("send-keys", "-t", pane, key)
        tclaude.tmux("send-keys", "-t", pane, "Enter")
        _screen(tclaude, pane, "history exited 0")
    assert tclaude.json("list") == []

    # a number starts the conversation in its directory, as new --resume does
    pane = _in_pane(tclaude, tmp_path, "pick", "zebra pancake")
    _screen(tclaude, pane, prompt)
    tclaude.tmux("send-keys", "-t", pane, "2", "Enter")
    _screen(tclaude, pane, "history exited 0")
    rows = tclaude.json("list")
    assert [(r["session_id"], r["cwd"]) for r in rows] == [(hits[1]["session_id"], hits[1]["cwd"])]
