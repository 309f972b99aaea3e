"""Search every Claude Code conversation: your prompts and Claude's replies.

Best match first, one line per conversation: its date, session id, directory
and the line that matched. Without QUERY, the latest conversations. The
index (SQLite, in the state dir) is brought up to date first; Claude Code's
transcripts are only read. Resume a conversation found here in an instance
of its own with `tclaude new --resume SESSION_ID`.

On a terminal (stdin and stdout), without --json, the matches are numbered
and a prompt asks which one to resume: its number starts an instance on that
conversation in its directory, as `tclaude new --resume SESSION_ID` does;
q, Esc, an empty line or end of input (Ctrl-D) quits and starts nothing.

examples:
  tclaude history "flaky login test"
  tclaude history migration --cwd ~/src/api
  tclaude history --json retry | jq -r '.[0].session_id'
"""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import TclaudeError
from .output import positive_count

# not cli/app.py: history needs no tmux, registry or state file (start-up time)


def add_arguments(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("query", nargs="*", help="words that must all appear (any order)")
    parser.add_argument("--cwd", metavar="DIR", help="only conversations in DIR or below it")
    parser.add_argument(
        "-n", "--limit", type=positive_count, default=20, help="how many conversations (default 20)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts and tools")


def run(args: argparse.Namespace) -> int:
    import sqlite3

    from .. import config
    from ..history import HistoryIndex
    from .output import print_json, table

    config.apply_dirs(config.load())  # the configured state dir
    cwd = os.path.realpath(os.path.expanduser(args.cwd)) if args.cwd else None
    query = " ".join(args.query)
    try:
        with HistoryIndex() as index:
            index.update()
            hits = index.search(query, cwd, args.limit) if query else index.recent(cwd, args.limit)
    except sqlite3.OperationalError as exc:
        raise TclaudeError(f"history search failed: {exc}") from None
    if args.json:
        print_json([hit.to_json() for hit in hits])
        return 0
    if not hits:
        print("no conversation matches" if query else "no conversations found")
        return 0
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    rows = [
        [
            (hit.timestamp or "")[:16].replace("T", " "),
            hit.session_id,
            hit.cwd or "?",
            ("» " if hit.role == "user" else "") + hit.line,
        ]
        for hit in hits
    ]
    if not interactive:
        table(["date", "session id", "cwd", "line"], rows)
        return 0
    table(["#", "date", "session id", "cwd", "line"], [[str(n), *r] for n, r in enumerate(rows, 1)])
    chosen = choose(len(hits))
    if chosen is None:
        return 0
    return resume(hits[chosen].session_id)


def choose(count: int) -> int | None:
    """The index of the row the user numbers; None on q, Esc, an empty line or end of input."""
    while True:
        sys.stdout.write(f"resume which conversation? (1-{count}; q, Esc or Enter quits) ")
        sys.stdout.flush()
        line = sys.stdin.readline()
        if not line:
            sys.stdout.write("\n")
            return None
        answer = line.strip()
        if answer.lower() in ("", "q", "\x1b"):
            return None
        if answer.isdigit() and 1 <= int(answer) <= count:
            return int(answer) - 1
        print(f"answer a number from 1 to {count}, or q")


def resume(session_id: str) -> int:
    """``tclaude new --resume SESSION_ID``, by its own code."""
    from . import new

    parser = argparse.ArgumentParser(prog="tclaude new")
    new.add_arguments(parser, "new")
    return new.run(parser.parse_args(["--resume", session_id]))
