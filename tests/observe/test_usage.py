"""Usage, context and cost from a transcript, read incrementally through a 0600 cache."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.support import transcripts as tr
from tmuxclaude.config import default_prices
from tmuxclaude.usage import UsageReader, limit_resets, short

SID = "11111111-2222-4333-8444-555555555555"
CWD = "/work/proj"


@pytest.fixture
def reader(tmp_path: Path) -> UsageReader:
    return UsageReader(str(tmp_path / "run" / "usage-cache.json"))


def figures(**usage: int) -> dict[str, int]:
    return usage


def test_blocks_of_one_message_count_once_and_context_is_the_last_reply(
    tmp_path: Path, reader: UsageReader
) -> None:
    path = tmp_path / "t.jsonl"
    first = figures(
        input_tokens=100,
        output_tokens=20,
        cache_creation_input_tokens=1000,
        cache_read_input_tokens=0,
    )
    second = figures(
        input_tokens=7,
        output_tokens=30,
        cache_creation_input_tokens=50,
        cache_read_input_tokens=1000,
    )
    tr.write(path, [
        tr.user("hello", SID, CWD),
        # the CLI writes one record per content block, each with the message's usage
        tr.assistant([tr.text("a")], SID, CWD, message_id="m1", usage=first),
        tr.assistant([tr.tool_use("Read", file_path="/x")], SID, CWD, message_id="m1", usage=first),
        tr.tool_result(SID, CWD, "content"),
        tr.assistant([tr.text("b")], SID, CWD, message_id="m2", usage=second),
    ])  # fmt: skip
    usage = reader.read(str(path))
    assert usage is not None
    data = usage.to_json(default_prices())
    assert data["input_tokens"] == 107
    assert data["output_tokens"] == 50
    assert data["cache_creation_input_tokens"] == 1050
    assert data["cache_read_input_tokens"] == 1000
    assert data["context_tokens"] == 7 + 30 + 50 + 1000
    assert data["context_window"] == 200_000
    assert data["context_percent"] == round(100 * 1087 / 200_000, 1)
    # sonnet: 3 in, 15 out, 3.75 cache write, 0.30 cache read per million
    expected = (107 * 3 + 50 * 15 + 1050 * 3.75 + 1000 * 0.3) / 1e6
    assert data["cost_usd_estimate"] == round(expected, 4)
    assert data["model"] == "claude-sonnet-4-5-20250929"
    assert data["limit"] is None


def test_reading_is_incremental_and_a_half_written_line_waits(
    tmp_path: Path, reader: UsageReader
) -> None:
    path = tmp_path / "t.jsonl"
    tr.write(path, [tr.assistant([tr.text("a")], SID, CWD, usage=figures(output_tokens=3))])
    usage = reader.read(str(path))
    assert usage is not None and usage.totals[1] == 3
    reader.save()
    cache = Path(reader.cache_path)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    line = json.dumps(tr.assistant([tr.text("b")], SID, CWD, usage=figures(output_tokens=4)))
    with path.open("a") as handle:
        handle.write(line[:40])  # the CLI is still writing it
    again = UsageReader(reader.cache_path).read(str(path))
    assert again is not None and again.totals[1] == 3
    with path.open("a") as handle:
        handle.write(line[40:] + "\n")
    # the cache says where the last read ended: what is before it is not read again
    entry = json.loads(cache.read_text())["transcripts"][str(path)]
    before = entry["offset"]
    with path.open("r+b") as handle:  # prove it: garble the part already summed up
        handle.write(b"X" * (before - 1))
    fresh = UsageReader(reader.cache_path).read(str(path))
    assert fresh is not None and fresh.totals[1] == 3 + 4


def test_a_replaced_or_truncated_transcript_is_read_afresh(
    tmp_path: Path, reader: UsageReader
) -> None:
    path = tmp_path / "t.jsonl"
    reply = [tr.assistant([tr.text("a")], SID, CWD, usage=figures(output_tokens=9)) for _ in "abc"]
    tr.write(path, reply)
    assert (u := reader.read(str(path))) is not None and u.totals[1] == 27
    reader.save()
    tr.write(path, [tr.assistant([tr.text("a")], SID, CWD, usage=figures(output_tokens=2))])
    assert (u := UsageReader(reader.cache_path).read(str(path))) is not None
    assert u.totals[1] == 2


def test_a_corrupt_cache_is_ignored(tmp_path: Path, reader: UsageReader) -> None:
    path = tmp_path / "t.jsonl"
    tr.write(path, [tr.assistant([tr.text("a")], SID, CWD, usage=figures(output_tokens=9))])
    Path(reader.cache_path).parent.mkdir()
    for junk in ("not json", json.dumps({"version": 1, "transcripts": {str(path): {"ino": "x"}}})):
        Path(reader.cache_path).write_text(junk)
        usage = UsageReader(reader.cache_path).read(str(path))
        assert usage is not None and usage.totals[1] == 9


def test_a_rate_limit_failure_is_remembered_until_the_next_reply(
    tmp_path: Path, reader: UsageReader
) -> None:
    path = tmp_path / "t.jsonl"
    message = "API Error: Request rejected (429) · This request would exceed your rate limit"
    tr.write(path, [tr.user("go", SID, CWD), tr.rate_limit_error(SID, CWD, message)])
    usage = reader.read(str(path))
    assert usage is not None and usage.limit == message
    assert usage.totals == [0, 0, 0, 0]  # the CLI's synthetic message is no API call
    tr.write(path, [tr.assistant([tr.text("ok")], SID, CWD)], mode="a")
    usage = reader.read(str(path))
    assert usage is not None and usage.limit is None


def test_unknown_model_has_no_cost_and_a_large_context_a_1m_window(
    tmp_path: Path, reader: UsageReader
) -> None:
    path = tmp_path / "t.jsonl"
    big = figures(input_tokens=10, cache_read_input_tokens=300_000)
    tr.write(path, [tr.assistant([tr.text("a")], SID, CWD, model="mystery-1", usage=big)])
    usage = reader.read(str(path))
    assert usage is not None
    data = usage.to_json(default_prices())
    assert data["cost_usd_estimate"] is None
    assert data["context_window"] == 1_000_000
    assert short(data) == "30%"


def test_limit_reset_times_are_taken_from_the_message() -> None:
    assert limit_resets("5-hour limit reached ∙ resets 3pm (Europe/Paris)") == (
        "3pm (Europe/Paris)"
    )
    assert limit_resets("Claude usage limit reached. Your limit will reset at 5:00 UTC.") == (
        "5:00 UTC"
    )
    assert limit_resets("API Error: Request rejected (429) · rate limit") is None


def test_missing_transcript_is_no_usage(tmp_path: Path, reader: UsageReader) -> None:
    assert reader.read(str(tmp_path / "nope.jsonl")) is None
    reader.save()
    assert not os.path.exists(reader.cache_path)


def test_a_configured_family_replaces_its_default_only(tmp_path: Path, reader: UsageReader) -> None:
    from tmuxclaude.config import Config
    from tmuxclaude.instance_usage import prices

    mine = {"sonnet": {"input": 1.0, "output": 2.0, "cache_write": 0.0, "cache_read": 0.0}}
    table = prices(Config(prices=mine))
    assert table["sonnet"] == mine["sonnet"]
    assert table["haiku"] == default_prices()["haiku"]
    path = tmp_path / "t.jsonl"
    big = figures(input_tokens=1_000_000, output_tokens=1_000_000)
    tr.write(path, [tr.assistant([tr.text("a")], SID, CWD, usage=big)])
    usage = reader.read(str(path))
    assert usage is not None
    assert usage.to_json(table)["cost_usd_estimate"] == 3.0
    assert usage.to_json(default_prices())["cost_usd_estimate"] == 18.0
