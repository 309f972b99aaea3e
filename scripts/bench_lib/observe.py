"""Section ``observe``: ``tclaude history`` over a corpus, and what usage adds to ``list``.

A corpus of transcripts (1,000 of ~100 kB: ~100 MB, shaped as the CLI writes
them) is generated in the sandbox's CLAUDE_CONFIG_DIR. Timed: the first
index build (a figure without a target), a warm ``tclaude history QUERY``
from spawn to exit, the index update after one new transcript (in process,
and as the whole command), and, for ``list``, the usage of 50 instances
read through the warm cache after each transcript grew by one reply: the
time ``list`` spends on the usage column.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from .report import INFO, Row, ms, unavailable, verdict
from .report import median as med
from .sandbox import REPO, Sandbox, check_interrupted

SECTION = "observe"
TCLAUDE = os.path.join(REPO, ".venv", "bin", "tclaude")
QUERY_TARGET = 200e-3
UPDATE_TARGET = 100e-3
LIST_USAGE_TARGET = 10e-3
PHRASE = "perplexed hedgehog orchestra"


def run(
    box: Sandbox, log: Callable[[str], None], transcripts: int = 1000, runs: int = 10
) -> list[Row]:
    if REPO not in sys.path:
        sys.path.insert(0, REPO)
    try:
        from tests.support import transcripts as tr
    except ImportError as exc:
        return [unavailable(SECTION, "history", f"no test support module: {exc}")]
    projects = os.path.join(box.config, "projects")
    log(f"observe: writing {transcripts} transcripts")
    from pathlib import Path

    made = tr.corpus(Path(projects), transcripts, planted={transcripts // 2: PHRASE})
    size = sum(os.path.getsize(p) for _, _, p in made)
    rows: list[Row] = []

    def history(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
        start = time.perf_counter()
        proc = subprocess.run(
            [TCLAUDE, "history", *args], env=box.env, capture_output=True, text=True, check=False
        )
        return time.perf_counter() - start, proc

    log("observe: first index")
    first, proc = history("--json", PHRASE)
    if proc.returncode != 0:
        return [unavailable(SECTION, "history", proc.stderr.strip()[:200])]
    rows.append(
        Row(
            SECTION,
            f"history: first index of {transcripts} transcripts ({size / 1e6:.0f} MB)",
            ms(first, 0),
            value=first,
            unit="s",
        )
    )
    warm = []
    for _ in range(runs):
        check_interrupted()
        seconds, proc = history("--json", PHRASE)
        warm.append(seconds)
    found = proc.stdout.count('"session_id"')
    rows.append(
        Row(
            SECTION,
            f"tclaude history QUERY, warm ({found} hit), spawn to exit, median of {runs}",
            ms(med(warm)),
            "≤ 200 ms",
            verdict(med(warm), QUERY_TARGET),
            value=med(warm),
            unit="s",
        )
    )
    baseline = []
    for _ in range(runs):
        check_interrupted()
        start = time.perf_counter()
        subprocess.run([TCLAUDE, "list", "--json"], env=box.env, capture_output=True, check=False)
        baseline.append(time.perf_counter() - start)
    rows.append(
        Row(
            SECTION,
            "for comparison: tclaude list --json (no instances), spawn to exit",
            ms(med(baseline)),
            value=med(baseline),
            unit="s",
        )
    )
    rows += _update(box, tr, projects, runs, history)
    rows += _list_usage(box, tr, log)
    return rows


def _update(
    box: Sandbox,
    tr: Any,
    projects: str,
    runs: int,
    history: Callable[..., tuple[float, subprocess.CompletedProcess[str]]],
) -> list[Row]:
    from pathlib import Path

    from tmuxclaude.history import HistoryIndex

    os.environ.update(box.env)  # the index and the projects dir of the sandbox
    in_process, whole = [], []
    for n in range(runs):
        check_interrupted()
        tr.corpus(Path(projects), 1, seed=1000 + n)
        with HistoryIndex() as index:
            start = time.perf_counter()
            changed = index.update()
            in_process.append(time.perf_counter() - start)
        assert changed == 1, changed
        tr.corpus(Path(projects), 1, seed=2000 + n)
        seconds, _ = history("--json", PHRASE)
        whole.append(seconds)
    return [
        Row(
            SECTION,
            "history: index update after one new transcript (in process)",
            ms(med(in_process)),
            "≤ 100 ms",
            verdict(med(in_process), UPDATE_TARGET),
            value=med(in_process),
            unit="s",
        ),
        Row(
            SECTION,
            "tclaude history QUERY after one new transcript, spawn to exit",
            ms(med(whole)),
            "",
            INFO,
            value=med(whole),
            unit="s",
        ),
    ]


def _list_usage(box: Sandbox, tr: Any, log: Callable[[str], None]) -> list[Row]:
    from pathlib import Path

    from tmuxclaude.cli.usage_column import usage_of
    from tmuxclaude.config import Config
    from tmuxclaude.registry import Instance
    from tmuxclaude.session_ids import new_session_id
    from tmuxclaude.state_file import SavedInstance
    from tmuxclaude.transcript import project_dir

    log("observe: usage of 50 instances")
    os.environ.update(box.env)
    instances = []
    for n in range(50):
        cwd = os.path.join(box.work, f"i{n}")
        session_id = new_session_id()
        path = Path(project_dir(cwd)) / f"{session_id}.jsonl"
        records = []
        for turn in range(200):  # ~ a long conversation: 400 records
            records.append(tr.user(f"prompt {turn}", session_id, cwd))
            records.append(tr.assistant([tr.text("reply " * 50)], session_id, cwd))
        tr.write(path, records)
        saved = SavedInstance(id=f"b{n}", name=f"i{n}", cwd=cwd, session_id=session_id)
        instances.append(Instance(saved.id, saved.name, cwd, "idle", "tabbed", 0.0, None, saved))
    config = Config()
    usage_of(instances, config)  # the cache is built once
    times = []
    for _ in range(10):
        check_interrupted()
        for instance in instances:
            sid = instance.saved.session_id if instance.saved else None
            assert sid is not None
            path = Path(project_dir(instance.cwd)) / f"{sid}.jsonl"
            reply = tr.assistant([tr.text("one more")], sid, instance.cwd)
            tr.write(path, [reply], mode="a")
        start = time.perf_counter()
        usage_of(instances, config)
        times.append(time.perf_counter() - start)
    unchanged = []
    for _ in range(10):
        start = time.perf_counter()
        usage_of(instances, config)
        unchanged.append(time.perf_counter() - start)
    return [
        Row(
            SECTION,
            "list: usage column for 50 instances (no transcript changed)",
            ms(med(unchanged), 2),
            "≤ 10 ms",
            verdict(med(unchanged), LIST_USAGE_TARGET),
            value=med(unchanged),
            unit="s",
        ),
        Row(
            SECTION,
            "list: usage column for 50 instances (each transcript one reply longer)",
            ms(med(times), 2),
            "≤ 10 ms",
            verdict(med(times), LIST_USAGE_TARGET),
            value=med(times),
            unit="s",
        ),
    ]
