"""The router in process: what a subprocess test cannot reach."""

from __future__ import annotations

import asyncio
import json
import time

from tmuxclaude.host.router import EditorGoneError, Router
from tmuxclaude.protocol.jsonrpc import JsonObject
from tmuxclaude.protocol.mcp import McpConnection


class ClosingEditor:
    """An editor whose link is already closing: every request fails at once."""

    def __init__(self) -> None:
        self.name = "closing"
        self.last_active = time.monotonic()
        self.asked = 0

    async def request(self, method: str, params: JsonObject) -> JsonObject:
        self.asked += 1
        raise EditorGoneError()

    def notify(self, method: str, params: JsonObject) -> None:
        pass


async def test_gone_editor_is_dropped_not_retried() -> None:
    """A request failing without yielding must not spin the loop (Python 3.12+ wait_for)."""
    router = Router("/proj", lambda pid: False)
    editor = ClosingEditor()
    router.editor_attached(editor)
    session = McpConnection(router, "t", "0")
    result = await asyncio.wait_for(router.call_later("getOpenEditors", {}, session), 10)
    assert json.loads(result["content"][0]["text"]) == {"tabs": []}
    assert editor.asked == 1
    assert router.editors == []


async def test_gone_editor_mid_diff_is_dropped() -> None:
    router = Router("/proj", lambda pid: False)
    editor = ClosingEditor()
    router.editor_attached(editor)
    session = McpConnection(router, "t", "0")
    args = {"old_file_path": "/a", "new_file_path": "/a", "new_file_contents": "", "tab_name": "t"}
    diff = asyncio.ensure_future(router.call_later("openDiff", args, session))
    for _ in range(100):
        await asyncio.sleep(0)
    assert editor.asked == 1
    assert router.editors == []
    assert list(router.pending) == ["t"]
    assert router.close_all_diffs() == 1
    assert (await diff)["content"][0]["text"] == "DIFF_REJECTED"


class SlowEditor:
    """An editor that answers every request, with a marked result, after ``delay`` seconds."""

    def __init__(self, delay: float) -> None:
        self.name = "slow"
        self.last_active = time.monotonic()
        self.delay = delay
        self.asked: list[str] = []

    async def request(self, method: str, params: JsonObject) -> JsonObject:
        self.asked.append(method)
        await asyncio.sleep(self.delay)
        return {"content": [{"type": "text", "text": json.dumps([{"uri": "from-editor"}])}]}

    def notify(self, method: str, params: JsonObject) -> None:
        pass


async def test_diagnostics_are_answered_by_the_host_when_the_editor_is_past_the_cli_budget() -> (
    None
):
    """2.1.332 gives getDiagnostics 0.5 s: an editor slower than that is not waited for."""
    router = Router("/proj", lambda pid: False)
    editor = SlowEditor(delay=2.0)  # well inside EDITOR_TIMEOUT, well past the CLI's 0.5 s
    router.editor_attached(editor)
    session = McpConnection(router, "t", "0")
    result = await asyncio.wait_for(router.call_later("getDiagnostics", {}, session), 10)
    assert json.loads(result["content"][0]["text"]) == []  # the host's own answer
    assert editor.asked == ["getDiagnostics"]
    assert router.editors == [editor]  # slow, not gone: it stays attached


async def test_calls_without_a_cli_budget_still_wait_for_a_slow_editor() -> None:
    router = Router("/proj", lambda pid: False)
    editor = SlowEditor(delay=1.0)
    router.editor_attached(editor)
    session = McpConnection(router, "t", "0")
    result = await asyncio.wait_for(router.call_later("getOpenEditors", {}, session), 10)
    assert json.loads(result["content"][0]["text"]) == [{"uri": "from-editor"}]
