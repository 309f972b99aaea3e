"""The router in process: what a subprocess test cannot reach."""

from __future__ import annotations

import asyncio
import json
import time

from tmuxclaude.host.router import EditorGoneError, Router
from tmuxclaude.protocol.jsonrpc import JsonObject
from tmuxclaude.protocol.mcp import McpSession


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
    session = McpSession(router, "t", "0")
    result = await asyncio.wait_for(router.call_later("getOpenEditors", {}, session), 10)
    assert json.loads(result["content"][0]["text"]) == {"tabs": []}
    assert editor.asked == 1
    assert router.editors == []


async def test_gone_editor_mid_diff_is_dropped() -> None:
    router = Router("/proj", lambda pid: False)
    editor = ClosingEditor()
    router.editor_attached(editor)
    session = McpSession(router, "t", "0")
    args = {"old_file_path": "/a", "new_file_path": "/a", "new_file_contents": "", "tab_name": "t"}
    diff = asyncio.ensure_future(router.call_later("openDiff", args, session))
    for _ in range(100):
        await asyncio.sleep(0)
    assert editor.asked == 1
    assert router.editors == []
    assert list(router.pending) == ["t"]
    assert router.close_all_diffs() == 1
    assert (await diff)["content"][0]["text"] == "DIFF_REJECTED"
