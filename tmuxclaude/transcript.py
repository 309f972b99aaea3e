"""Claude Code's transcripts: where an instance's is, and what its records say.

A transcript is ``<config dir>/projects/<cwd slug>/<session id>.jsonl``, one
JSON record per line, appended to by the CLI and never changed by tclaude.
User records carry the prompts (and the tool results), assistant records the
model's text, tool calls and the API's ``usage``; an API failure is an
assistant record with ``isApiErrorMessage`` and ``error`` (``rate_limit`` for
a 429). Lines are read whole only: a line still being written is left for
the next read. Import-light: ``tclaude list`` uses it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .session_ids import is_session_id, projects_dir, trusted_transcript

MAX_LINE = 64 * 1024 * 1024  # a longer "line" is not a record of the CLI's


def project_dir(cwd: str) -> str:
    """The CLI's directory for the conversations of ``cwd`` (every non-alphanumeric -> ``-``)."""
    slug = "".join(c if c.isascii() and c.isalnum() else "-" for c in cwd)
    return os.path.join(projects_dir(), slug)


def path_for(cwd: str, session_id: str | None, recorded: str | None = None) -> str | None:
    """The transcript of ``session_id``: the recorded path when trusted, else the usual one."""
    if not is_session_id(session_id):
        return None
    assert session_id is not None
    if recorded and trusted_transcript(recorded, session_id):
        return recorded
    return os.path.join(project_dir(cwd), f"{session_id}.jsonl")


def find(session_id: str) -> str | None:
    """The transcript of ``session_id`` in any project directory, if there is one."""
    root = projects_dir()
    try:
        slugs = os.listdir(root)
    except OSError:
        return None
    for slug in slugs:
        path = os.path.join(root, slug, f"{session_id}.jsonl")
        if os.path.isfile(path):
            return path
    return None


def recorded_cwd(path: str) -> str | None:
    """The working directory the CLI recorded in a transcript (its first record with one)."""
    try:
        for line in iter_lines(path):
            if b'"cwd"' not in line:
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            cwd = record.get("cwd") if isinstance(record, dict) else None
            if isinstance(cwd, str) and os.path.isabs(cwd):
                return os.path.normpath(cwd)
    except OSError:
        return None
    return None


def read_records(path: str, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The whole records after byte ``offset``, and the offset after the last of them.

    Lines that are no JSON object are skipped (counted as read); a last line
    without its newline is not read yet.
    """
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read()
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    records: list[dict[str, Any]] = []
    for line in data[: end + 1].splitlines():
        if not line.strip() or len(line) > MAX_LINE:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records, offset + end + 1


def message(record: dict[str, Any]) -> dict[str, Any]:
    value = record.get("message")
    return value if isinstance(value, dict) else {}


def prompt_text(record: dict[str, Any]) -> str | None:
    """The text the user typed, if ``record`` is a prompt (not a tool result or meta)."""
    if record.get("type") != "user" or record.get("isMeta") or "toolUseResult" in record:
        return None
    if record.get("isSidechain"):
        return None
    content = message(record).get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        if any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
            return None
        texts = [
            b["text"]
            for b in content
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        ]
        return "\n".join(texts) if texts else None
    return None


def assistant_blocks(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The content blocks of an assistant record (text and tool_use), else []."""
    if record.get("type") != "assistant" or record.get("isSidechain"):
        return []
    content = message(record).get("content")
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def is_api_error(record: dict[str, Any]) -> bool:
    return record.get("type") == "assistant" and bool(record.get("isApiErrorMessage"))


@dataclass
class ToolCall:
    name: str
    target: str | None  # the file, path, pattern or command it works on

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "target": self.target}


@dataclass
class Turn:
    """One prompt and what came of it."""

    prompt: str
    timestamp: str | None
    text: list[str] = field(default_factory=list)
    tools: list[ToolCall] = field(default_factory=list)
    error: str | None = None  # the API error that ended it (rate_limit, ...)

    def to_json(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt,
            "timestamp": self.timestamp,
            "text": self.text,
            "tools": [t.to_json() for t in self.tools],
            "error": self.error,
        }


_TARGET_KEYS = ("file_path", "notebook_path", "path", "pattern", "command", "url", "description")


def _tool_target(block: dict[str, Any]) -> str | None:
    arguments = block.get("input")
    if isinstance(arguments, dict):
        for key in _TARGET_KEYS:
            value = arguments.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def turns(records: list[dict[str, Any]]) -> list[Turn]:
    """Group records into turns: each prompt with the assistant text and tool calls after it.

    Records are taken in timestamp order: the CLI may write a prompt's record
    after the reply's (seen with 2.1.197 when its IDE is connected).
    """
    found: list[Turn] = []
    stamped = [r for r in records if isinstance(r.get("timestamp"), str)]
    stamped.sort(key=lambda r: str(r["timestamp"]))
    for record in stamped:
        prompt = prompt_text(record)
        if prompt is not None:
            timestamp = record.get("timestamp")
            found.append(Turn(prompt, timestamp if isinstance(timestamp, str) else None))
            continue
        if not found:
            continue
        turn = found[-1]
        if is_api_error(record):
            turn.error = str(record.get("error") or "api_error")
        for block in assistant_blocks(record):
            if block.get("type") == "text" and isinstance(block.get("text"), str):
                if not is_api_error(record):
                    turn.text.append(block["text"])
            elif block.get("type") == "tool_use" and isinstance(block.get("name"), str):
                turn.tools.append(ToolCall(block["name"], _tool_target(block)))
    return found


def iter_lines(path: str) -> Iterator[bytes]:
    """The file's whole lines (bytes), for readers that filter before parsing."""
    with open(path, "rb") as handle:
        for line in handle:
            if line.endswith(b"\n"):
                yield line
