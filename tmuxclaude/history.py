"""Full-text search over every Claude Code conversation of the user.

An SQLite FTS5 index in ``<state dir>/history.sqlite`` (0600) holds the
prompts and the assistant's text of every transcript under
``<config dir>/projects/`` (tool results are not indexed). It is brought up
to date before each search: a transcript whose inode, size and mtime are
as indexed is skipped, one that grew is read from where the index stopped
(the CLI only appends), any other is indexed afresh, and a removed one is
dropped. Claude Code's files are only ever opened for reading.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from . import paths, transcript
from .session_ids import is_session_id, projects_dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS files(
    id INTEGER PRIMARY KEY,
    path TEXT UNIQUE NOT NULL,
    ino INTEGER, size INTEGER, mtime INTEGER, offset INTEGER, tail BLOB,
    session_id TEXT, cwd TEXT, first_prompt TEXT, first_ts TEXT, last_ts TEXT
);
CREATE VIRTUAL TABLE IF NOT EXISTS entries USING fts5(
    text, role UNINDEXED, file UNINDEXED, ts UNINDEXED, tokenize = 'unicode61'
);
"""
MAX_TEXT = 100_000  # characters of one prompt or reply that are indexed
HEAD, TAIL = 256, 64  # bytes at the start and before the indexed end: an append keeps both


@dataclass
class Hit:
    session_id: str
    cwd: str | None
    timestamp: str | None
    role: str  # "user" or "assistant"
    line: str  # the line of the prompt or reply that matched
    transcript: str
    rank: float

    def to_json(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "cwd": self.cwd,
            "timestamp": self.timestamp,
            "role": self.role,
            "line": self.line,
            "transcript": self.transcript,
            "rank": round(self.rank, 3),
        }


def index_path() -> str:
    return os.path.join(paths.state_dir(), "history.sqlite")


class HistoryIndex:
    """The index; ``update`` then ``search`` (or ``recent``)."""

    def __init__(self, path: str | None = None, projects: str | None = None) -> None:
        self.path = path or index_path()
        self.projects = projects or projects_dir()
        paths.ensure_private_dir(os.path.dirname(self.path))
        if not os.path.exists(self.path):
            with contextlib.suppress(FileExistsError):
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.chmod(self.path, 0o600)
        self.db = sqlite3.connect(self.path, timeout=10)
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> HistoryIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- indexing ------------------------------------------------------------

    def _transcripts(self) -> Iterator[tuple[str, os.stat_result]]:
        try:
            slugs = list(os.scandir(self.projects))
        except OSError:
            return
        for slug in slugs:
            if not slug.is_dir(follow_symlinks=False):
                continue
            try:
                entries = list(os.scandir(slug.path))
            except OSError:
                continue
            for entry in entries:
                name = entry.name
                if not name.endswith(".jsonl") or not is_session_id(name[:-6]):
                    continue
                try:
                    if entry.is_file(follow_symlinks=False):
                        yield entry.path, entry.stat(follow_symlinks=False)
                except OSError:
                    continue

    def update(self) -> int:
        """Bring the index up to date; return how many transcripts were (re)read."""
        known = {
            row[0]: row[1:]
            for row in self.db.execute("SELECT path, id, ino, size, mtime, offset, tail FROM files")
        }
        changed = 0
        seen: set[str] = set()
        with self.db:
            for path, st in self._transcripts():
                seen.add(path)
                old = known.get(path)
                if old is not None and (old[1], old[2], old[3]) == (
                    st.st_ino,
                    st.st_size,
                    st.st_mtime_ns,
                ):
                    continue
                if old is not None and old[1] == st.st_ino and _appended(path, old[4], old[5]):
                    self._index(path, st, old[0], old[4])
                else:
                    if old is not None:
                        self._forget(old[0])
                    self._index(path, st, None, 0)
                changed += 1
            for path, old in known.items():
                if path not in seen:
                    self._forget(old[0])
        return changed

    def _forget(self, file_id: int) -> None:
        self.db.execute("DELETE FROM entries WHERE file = ?", (file_id,))
        self.db.execute("DELETE FROM files WHERE id = ?", (file_id,))

    def _index(self, path: str, st: os.stat_result, file_id: int | None, offset: int) -> None:
        try:
            with open(path, "rb") as handle:
                handle.seek(offset)
                data = handle.read()
        except OSError:
            return
        end = data.rfind(b"\n") + 1  # a line still being written waits for the next update
        tail = _ends(path, offset + end)
        rows: list[tuple[str, str, str | None]] = []
        cwd: str | None = None
        for line in data[:end].splitlines():
            if b'"user"' not in line and b'"assistant"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            if cwd is None and isinstance(record.get("cwd"), str):
                cwd = record["cwd"]
            ts = record.get("timestamp")
            ts = ts if isinstance(ts, str) else None
            prompt = transcript.prompt_text(record)
            if prompt is not None:
                rows.append(("user", prompt[:MAX_TEXT], ts))
            elif not transcript.is_api_error(record):
                rows.extend(
                    ("assistant", block["text"][:MAX_TEXT], ts)
                    for block in transcript.assistant_blocks(record)
                    if block.get("type") == "text" and isinstance(block.get("text"), str)
                )
        session_id = os.path.basename(path)[:-6]
        first = next((text for role, text, _ in rows if role == "user"), None)
        stamps = [ts for _, _, ts in rows if ts]
        if file_id is None:
            cursor = self.db.execute(
                "INSERT INTO files(path, session_id) VALUES (?, ?)", (path, session_id)
            )
            file_id = cursor.lastrowid
        self.db.execute(
            "UPDATE files SET ino = ?, size = ?, mtime = ?, offset = ?, tail = ?, "
            "cwd = coalesce(cwd, ?), first_prompt = coalesce(first_prompt, ?), "
            "first_ts = coalesce(first_ts, ?), last_ts = coalesce(?, last_ts) WHERE id = ?",
            (
                st.st_ino,
                st.st_size,
                st.st_mtime_ns,
                offset + end,
                tail,
                cwd,
                first[:300] if first else None,
                stamps[0] if stamps else None,
                stamps[-1] if stamps else None,
                file_id,
            ),
        )
        self.db.executemany(
            "INSERT INTO entries(text, role, file, ts) VALUES (?, ?, ?, ?)",
            [(text, role, file_id, ts) for role, text, ts in rows],
        )

    # -- searching -----------------------------------------------------------

    def search(self, query: str, cwd: str | None = None, limit: int = 20) -> list[Hit]:
        """The best match of each conversation that has every word of ``query``, best first."""
        words = query.split()
        if not words:
            return []
        match = " ".join('"' + word.replace('"', '""') + '"' for word in words)
        sql = (
            "SELECT e.file, f.session_id, f.cwd, e.ts, e.role, e.text, f.path, e.rank "
            "FROM entries AS e JOIN files AS f ON f.id = e.file WHERE entries MATCH ?"
        )
        params: list[Any] = [match]
        if cwd is not None:
            sql += " AND (f.cwd = ? OR substr(f.cwd, 1, ?) = ?)"
            prefix = cwd.rstrip("/") + "/"
            params += [cwd, len(prefix), prefix]
        sql += " ORDER BY e.rank"
        hits: list[Hit] = []
        seen: set[int] = set()
        for file_id, sid, where, ts, role, text, path, rank in self.db.execute(sql, params):
            if file_id in seen:
                continue  # one line per conversation: its best
            seen.add(file_id)
            hits.append(Hit(sid, where, ts, role, _matching_line(text, words), path, rank))
            if len(hits) >= limit:
                break
        return hits

    def recent(self, cwd: str | None = None, limit: int = 20) -> list[Hit]:
        """The latest conversations (their first prompt), newest first."""
        sql = "SELECT session_id, cwd, last_ts, first_prompt, path FROM files"
        params: list[Any] = []
        if cwd is not None:
            prefix = cwd.rstrip("/") + "/"
            sql += " WHERE (cwd = ? OR substr(cwd, 1, ?) = ?)"
            params += [cwd, len(prefix), prefix]
        sql += " ORDER BY last_ts DESC LIMIT ?"
        params.append(limit)
        return [
            Hit(sid, where, ts, "user", _first_line(prompt or ""), path, 0.0)
            for sid, where, ts, prompt, path in self.db.execute(sql, params)
        ]


def _ends(path: str, end: int) -> bytes:
    """The first ``HEAD`` bytes of the file and the ``TAIL`` bytes before ``end``."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(min(end, HEAD))
            handle.seek(max(0, end - TAIL))
            return head + handle.read(min(end, TAIL))
    except OSError:
        return b""


def _appended(path: str, offset: int, ends: bytes | None) -> bool:
    """Whether the file still starts and goes on as indexed up to ``offset`` (the CLI appends)."""
    return ends is not None and _ends(path, offset) == ends


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return ""


def _matching_line(text: str, words: list[str]) -> str:
    """The first line holding a word of the query, else the first line."""
    lowered = [w.lower() for w in words]
    for line in text.splitlines():
        low = line.lower()
        if any(word in low for word in lowered):
            return line.strip()[:200]
    return _first_line(text)
