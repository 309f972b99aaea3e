"""The router in process: what a subprocess test cannot reach."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.hosts import EditorClient
from tmuxclaude.host import router as router_mod
from tmuxclaude.host.editor_socket import EditorSocket
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


# --- which editor is "used last" (issue 11, defect 1) ------------------------------

SELECTION: JsonObject = {
    "text": "line 2\n",
    "filePath": "/proj/a.py",
    "selection": {
        "start": {"line": 1, "character": 0},
        "end": {"line": 2, "character": 0},
        "isEmpty": False,
    },
}


@pytest.fixture
async def editor_socket(tmp_path: Path) -> AsyncIterator[tuple[Router, str]]:
    """A router behind a real editor socket, in process: (router, socket path)."""
    router = Router("/proj", lambda pid: False)
    sock = EditorSocket(router, lambda: {"id": "x"})
    path = str(tmp_path / "e.sock")
    await sock.start(path)
    yield router, path
    await sock.close()


async def _attach(path: str, name: str, **params: Any) -> EditorClient:
    client = await EditorClient.connect(path)
    assert "result" in await client.call("attach", {"name": name, **params})
    return client


async def test_the_editor_that_sent_a_selection_last_is_the_active_one(
    editor_socket: tuple[Router, str],
) -> None:
    """Neovim A and B share an instance; B opens a file (focus), A selects: A gets the diffs."""
    router, path = editor_socket
    a = await _attach(path, "A")
    b = await _attach(path, "B")
    await b.call("focus")
    active = router.active_editor()
    assert active is not None and active.name == "B"
    await a.send({"jsonrpc": "2.0", "method": "selection_changed", "params": SELECTION})
    await a.call("status")  # the notification was handled before this answer
    active = router.active_editor()
    assert active is not None and active.name == "A"
    for client in (a, b):
        await client.close()


async def test_attach_keeps_the_editors_order_of_use(editor_socket: tuple[Router, str]) -> None:
    """After a restart the editors attach again in any order; `used` keeps A in front."""
    router, path = editor_socket
    a = await _attach(path, "A", used=1.5)
    b = await _attach(path, "B", used=40)  # attached later, used longer ago
    active = router.active_editor()
    assert active is not None and active.name == "A"
    c = await _attach(path, "C")  # no `used`: attaching is using it
    active = router.active_editor()
    assert active is not None and active.name == "C"
    bad = await EditorClient.connect(path)
    for used in ("1", -1, True, None):
        reply = await bad.call("attach", {"name": "D", "used": used})
        assert reply["error"]["message"] == "attach: used must be a non-negative number"
    assert [e.name for e in router.editors] == ["A", "B", "C"]
    for client in (a, b, c, bad):
        await client.close()


# --- at-mentions before Claude connects (issue 11, defect 9) ------------------------


class ReadyCli:
    """A CLI connection past its handshake that keeps what it is sent."""

    def __init__(self, router: Router) -> None:
        self.mcp = McpConnection(router, "t", "0")
        self.mcp.client_pid = 1
        self.mcp.ready = True
        self.sent: list[JsonObject] = []

    def send(self, text: str) -> bool:
        self.sent.append(json.loads(text))
        return True


def _mentions(cli: ReadyCli) -> list[str]:
    return [m["params"]["filePath"] for m in cli.sent if m["method"] == "at_mentioned"]


async def test_mentions_wait_for_the_cli_and_arrive_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(router_mod, "MENTION_DELAY", 0.05)
    router = Router("/proj", lambda pid: False)
    assert router.push_at_mention({"filePath": "/p/a.py"}) == (0, 1)
    assert router.push_at_mention({"filePath": "/p/b.py", "lineStart": 1}) == (0, 2)
    cli = ReadyCli(router)
    router.cli_connected(cli)
    router.cli_ready(cli)
    # during the delay a new mention queues behind the others: the order is kept
    assert router.push_at_mention({"filePath": "/p/c.py"}) == (0, 3)
    assert cli.sent == []
    for _ in range(200):
        if cli.sent:
            break
        await asyncio.sleep(0.01)
    assert _mentions(cli) == ["/p/a.py", "/p/b.py", "/p/c.py"]
    assert cli.sent[1]["params"] == {"filePath": "/p/b.py", "lineStart": 1, "lineEnd": 1}
    assert router.push_at_mention({"filePath": "/p/d.py"}) == (1, 0)  # at once now
    assert _mentions(cli)[-1] == "/p/d.py"


async def test_queued_mentions_are_bounded_in_age_and_count(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(router_mod, "MENTION_DELAY", 0.0)
    monkeypatch.setattr(router_mod, "MENTION_QUEUE_TIMEOUT", 0.2)
    router = Router("/proj", lambda pid: False)
    router.push_at_mention({"filePath": "/p/old.py"})
    await asyncio.sleep(0.3)
    for n in range(router_mod.MENTION_QUEUE_MAX + 5):
        router.push_at_mention({"filePath": f"/p/{n}.py"})
    cli = ReadyCli(router)
    router.cli_connected(cli)
    router.cli_ready(cli)
    for _ in range(200):
        if cli.sent:
            break
        await asyncio.sleep(0.01)
    sent = _mentions(cli)
    assert "/p/old.py" not in sent  # too old: dropped
    assert sent == [f"/p/{n}.py" for n in range(5, router_mod.MENTION_QUEUE_MAX + 5)]


async def test_a_cli_that_leaves_before_the_delay_gets_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(router_mod, "MENTION_DELAY", 0.05)
    router = Router("/proj", lambda pid: False)
    router.push_at_mention({"filePath": "/p/a.py"})
    gone = ReadyCli(router)
    router.cli_connected(gone)
    router.cli_ready(gone)
    router.cli_closed(gone)
    await asyncio.sleep(0.15)
    assert gone.sent == []
    cli = ReadyCli(router)  # the next one gets it
    router.cli_connected(cli)
    router.cli_ready(cli)
    for _ in range(200):
        if cli.sent:
            break
        await asyncio.sleep(0.01)
    assert _mentions(cli) == ["/p/a.py"]


async def test_a_mention_just_after_the_handshake_waits_out_the_delay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The real CLI drops a mention that comes as its handshake ends (seen: `:TClaudeAdd`
    right after `:TClaude` "sent" and never in the prompt)."""
    monkeypatch.setattr(router_mod, "MENTION_DELAY", 0.2)
    router = Router("/proj", lambda pid: False)
    cli = ReadyCli(router)
    router.cli_connected(cli)
    router.cli_ready(cli)
    assert router.push_at_mention({"filePath": "/p/a.py"}) == (0, 1)
    assert cli.sent == []
    for _ in range(300):
        if cli.sent:
            break
        await asyncio.sleep(0.01)
    assert _mentions(cli) == ["/p/a.py"]
    assert router.push_at_mention({"filePath": "/p/b.py"}) == (1, 0)
