"""Transcripts as the Claude Code CLI writes them (records shaped as 2.1.197 and 2.1.332 write)."""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path
from typing import Any

_WORD_TEXT = (
    "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november "
    "oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu refactor "
    "module function test build deploy cache index query parser render widget server client"
)
WORDS = tuple(_WORD_TEXT.split())


def user(
    text: str, session_id: str, cwd: str, ts: str = "2026-11-30T10:00:00.000Z"
) -> dict[str, Any]:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "type": "user",
        "message": {"role": "user", "content": text},
        "uuid": str(uuid.uuid4()),
        "timestamp": ts,
        "cwd": cwd,
        "sessionId": session_id,
        "version": "2.1.197",
    }


def assistant(
    blocks: list[dict[str, Any]],
    session_id: str,
    cwd: str,
    *,
    message_id: str | None = None,
    model: str = "claude-sonnet-4-5-20250929",
    usage: dict[str, int] | None = None,
    ts: str = "2026-11-30T10:00:01.000Z",
) -> dict[str, Any]:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "type": "assistant",
        "message": {
            "id": message_id or f"msg_{uuid.uuid4().hex[:20]}",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": blocks,
            "stop_reason": "end_turn",
            "usage": {
                "input_tokens": 10,
                "output_tokens": 5,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                **(usage or {}),
            },
        },
        "requestId": "req_x",
        "uuid": str(uuid.uuid4()),
        "timestamp": ts,
        "cwd": cwd,
        "sessionId": session_id,
    }


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool_use(name: str, **arguments: Any) -> dict[str, Any]:
    return {
        "type": "tool_use",
        "id": f"toolu_{uuid.uuid4().hex[:12]}",
        "name": name,
        "input": arguments,
    }


def tool_result(session_id: str, cwd: str, content: str) -> dict[str, Any]:
    record = user("", session_id, cwd)
    record["message"]["content"] = [
        {"type": "tool_result", "tool_use_id": "toolu_x", "content": content}
    ]
    record["toolUseResult"] = {"stdout": content}
    return record


def rate_limit_error(session_id: str, cwd: str, message: str) -> dict[str, Any]:
    record = assistant(
        [text(message)],
        session_id,
        cwd,
        model="<synthetic>",
        usage={"input_tokens": 0, "output_tokens": 0},
    )
    record["error"] = "rate_limit"
    record["isApiErrorMessage"] = True
    record["apiErrorStatus"] = 429
    return record


def write(path: Path, records: list[dict[str, Any]], mode: str = "w") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode, encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, separators=(",", ":"), ensure_ascii=False) + "\n")


def slug(cwd: str) -> str:
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in cwd)


def corpus(
    projects: Path,
    count: int,
    *,
    planted: dict[int, str] | None = None,
    size: int = 100_000,
    seed: int = 14,
) -> list[tuple[str, str, Path]]:
    """``count`` transcripts of about ``size`` bytes each under ``projects``.

    ``planted[i]`` is a phrase put in a prompt of transcript ``i`` only; the
    rest is random words from ``WORDS`` (which no planted phrase should use)
    and tool results (which are not searched). Returns (session id, cwd, path).
    """
    rng = random.Random(seed)
    made = []
    for index in range(count):
        session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        cwd = f"/home/u/src/project-{index % 37}"
        path = projects / slug(cwd) / f"{session_id}.jsonl"
        records: list[dict[str, Any]] = []
        written = 0
        turn = 0
        while written < size:
            prompt = " ".join(rng.choice(WORDS) for _ in range(12))
            if planted and index in planted and turn == 0:
                prompt = f"{prompt} {planted[index]}"
            day = 1 + (index % 28)
            ts = f"2026-10-{day:02d}T{turn % 24:02d}:00:00.000Z"
            batch = [
                user(prompt, session_id, cwd, ts),
                assistant(
                    [
                        text(" ".join(rng.choice(WORDS) for _ in range(40))),
                        tool_use("Read", file_path=f"{cwd}/src/m{turn}.py"),
                    ],
                    session_id,
                    cwd,
                    ts=ts,
                ),
                tool_result(session_id, cwd, "x = 1\n" * 300),
            ]
            records += batch
            written += sum(len(json.dumps(r)) for r in batch)
            turn += 1
        write(path, records)
        made.append((session_id, cwd, path))
    return made
