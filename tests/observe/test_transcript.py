"""Turns from transcript records, as the CLI writes them."""

from __future__ import annotations

from pathlib import Path

from tests.support import transcripts as tr
from tmuxclaude import transcript

SID = "11111111-2222-4333-8444-555555555555"


def test_a_prompt_written_after_its_reply_still_leads_its_turn(tmp_path: Path) -> None:
    # 2.1.197 with an IDE connected wrote the reply's record before the prompt's
    reply = tr.assistant([tr.text("The answer.")], SID, "/p", ts="2026-12-01T14:35:39.730Z")
    ask = tr.user("the question", SID, "/p", "2026-12-01T14:35:39.422Z")
    path = tmp_path / "t.jsonl"
    tr.write(path, [reply, ask])
    records, end = transcript.read_records(str(path))
    assert end == path.stat().st_size
    (turn,) = transcript.turns(records)
    assert turn.prompt == "the question"
    assert turn.text == ["The answer."]


def test_tool_results_and_meta_records_are_no_prompts(tmp_path: Path) -> None:
    meta = tr.user("<system-reminder>", SID, "/p", "2026-12-01T10:00:01.000Z")
    meta["isMeta"] = True
    records = [
        tr.user("do it", SID, "/p", "2026-12-01T10:00:00.000Z"),
        meta,
        tr.assistant(
            [tr.tool_use("Write", file_path="/p/x")], SID, "/p", ts="2026-12-01T10:00:02Z"
        ),
        {**tr.tool_result(SID, "/p", "ok"), "timestamp": "2026-12-01T10:00:03.000Z"},
        tr.assistant([tr.text("Done.")], SID, "/p", ts="2026-12-01T10:00:04.000Z"),
    ]
    (turn,) = transcript.turns(records)
    assert turn.prompt == "do it"
    assert [t.to_json() for t in turn.tools] == [{"name": "Write", "target": "/p/x"}]
    assert turn.text == ["Done."]


def test_junk_lines_are_skipped_and_a_partial_last_line_waits(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'not json\n[1, 2]\n{"type":"user","message":{"content":"hi"}}\n{"type":')
    records, end = transcript.read_records(str(path))
    assert records == [{"type": "user", "message": {"content": "hi"}}]
    assert end == path.read_bytes().rindex(b"\n") + 1
