"""openDiff, resolved every way it can be."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, NamedTuple

import pytest

from tests.host.conftest import EditorFactory, Instance
from tests.support.hosts import EditorClient, FakeCli, connect_ide, ide_connected, ws_call


def _diff_args(tab: str, contents: str = "new text\n") -> dict[str, Any]:
    return {
        "old_file_path": "/proj/a.py",
        "new_file_path": "/proj/a.py",
        "new_file_contents": contents,
        "tab_name": tab,
    }


async def _open_diff(cli: FakeCli, tab: str, contents: str = "new text\n") -> Any:
    return await cli.request(
        "tools/call", {"name": "openDiff", "arguments": _diff_args(tab, contents)}
    )


def _content(*texts: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": t} for t in texts]}


async def _pending(editors: EditorFactory) -> list[str]:
    probe = await editors()
    pending: list[str] = (await probe.call("status"))["result"]["pending_diffs"]
    await probe.close()
    return pending


class AnswerCase(NamedTuple):
    test_id: str
    answer: dict[str, Any]


ANSWER_CASES = [
    AnswerCase("accepted_with_edits", _content("FILE_SAVED", "new text, edited by the user\n")),
    AnswerCase("rejected", _content("DIFF_REJECTED", "✻ [Claude Code] a.py ⧉")),
]


@pytest.mark.parametrize("case", ANSWER_CASES, ids=[c.test_id for c in ANSWER_CASES])
async def test_editor_answer_resolves(
    instance: Instance, editors: EditorFactory, case: AnswerCase
) -> None:
    editor = await editors("nvim")
    tab = "✻ [Claude Code] a.py ⧉"
    call = await _open_diff(instance.cli, tab)
    request = await editor.next_request("openDiff")
    assert request["params"] == _diff_args(tab)
    assert await _pending(editors) == [tab]
    await editor.reply(request["id"], case.answer)
    assert (await instance.cli.response(call))["result"] == case.answer
    assert await _pending(editors) == []


async def test_close_tab_from_the_cli_rejects(instance: Instance, editors: EditorFactory) -> None:
    editor = await editors("nvim")
    cli = instance.cli
    call = await _open_diff(cli, "tab-1")
    request = await editor.next_request("openDiff")
    assert (await cli.tool("close_tab", {"tab_name": "tab-1"}))["result"] == _content("TAB_CLOSED")
    assert (await cli.response(call))["result"] == _content("DIFF_REJECTED", "tab-1")
    note = await editor.next_request("close_tab")
    assert note["params"] == {"tab_name": "tab-1"}
    assert "id" not in note
    # the editor's late answer is ignored, and the editor still serves
    await editor.reply(request["id"], _content("FILE_SAVED", "late"))
    assert await _pending(editors) == []
    call = await cli.request("tools/call", {"name": "getOpenEditors", "arguments": {}})
    request = await editor.next_request("getOpenEditors")
    await editor.reply(request["id"], _content("ok"))
    assert (await cli.response(call))["result"] == _content("ok")


async def test_close_tab_without_an_editor(instance: Instance, editors: EditorFactory) -> None:
    cli = instance.cli
    call = await _open_diff(cli, "tab-1")
    # served meanwhile: the diff waits, other requests do not
    assert "result" in await cli.tool("getWorkspaceFolders")
    assert "result" in await cli.tool("getDiagnostics")
    assert await _pending(editors) == ["tab-1"]
    await cli.tool("close_tab", {"tab_name": "tab-1"})
    assert (await cli.response(call))["result"] == _content("DIFF_REJECTED", "tab-1")


async def test_close_all_diff_tabs(instance: Instance, editors: EditorFactory) -> None:
    editor = await editors("nvim")
    cli = instance.cli
    calls = [await _open_diff(cli, tab) for tab in ("a", "b", "c")]
    for _ in calls:
        await editor.next_request("openDiff")
    reply = await cli.tool("closeAllDiffTabs")
    assert reply["result"] == _content("CLOSED_3_DIFF_TABS")
    for call, tab in zip(calls, ("a", "b", "c"), strict=True):
        assert (await cli.response(call))["result"] == _content("DIFF_REJECTED", tab)
    closed = {(await editor.next_request("close_tab"))["params"]["tab_name"] for _ in calls}
    assert closed == {"a", "b", "c"}
    assert (await cli.tool("closeAllDiffTabs"))["result"] == _content("CLOSED_0_DIFF_TABS")


async def test_other_requests_served_while_a_diff_waits(
    instance: Instance, editors: EditorFactory
) -> None:
    editor = await editors("nvim")
    cli = instance.cli
    call = await _open_diff(cli, "t")
    diff_request = await editor.next_request("openDiff")
    other = await cli.request("tools/call", {"name": "getDiagnostics", "arguments": {}})
    request = await editor.next_request("getDiagnostics")
    await editor.reply(request["id"], _content("[]"))
    assert (await cli.response(other))["result"] == _content("[]")
    assert (await cli.call("ping"))["result"] == {}
    await editor.reply(diff_request["id"], _content("FILE_SAVED", "x"))
    assert (await cli.response(call))["result"] == _content("FILE_SAVED", "x")


async def test_same_tab_name_replaces(instance: Instance, editors: EditorFactory) -> None:
    editor = await editors("nvim")
    cli = instance.cli
    first = await _open_diff(cli, "t", "one")
    await editor.next_request("openDiff")
    second = await _open_diff(cli, "t", "two")
    assert (await cli.response(first))["result"] == _content("DIFF_REJECTED", "t")
    assert (await editor.next_request("close_tab"))["params"] == {"tab_name": "t"}
    request = await editor.next_request("openDiff")
    assert request["params"]["new_file_contents"] == "two"
    assert await _pending(editors) == ["t"]
    await editor.reply(request["id"], _content("FILE_SAVED", "two"))
    assert (await cli.response(second))["result"] == _content("FILE_SAVED", "two")


async def test_cli_connection_closing_drops_its_diffs(
    instance: Instance, editors: EditorFactory
) -> None:
    editor = await editors("nvim")
    ws = await connect_ide(instance.host, held_by=instance.cli)
    await ide_connected(ws, instance.cli.pid)
    await ws.send(
        json.dumps(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "openDiff", "arguments": _diff_args("gone")},
            }
        )
    )
    await editor.next_request("openDiff")
    # the child's own diff survives another connection's end
    mine = await _open_diff(instance.cli, "mine")
    await editor.next_request("openDiff")
    await ws.close()
    assert (await editor.next_request("close_tab"))["params"] == {"tab_name": "gone"}
    assert await _pending(editors) == ["mine"]
    await instance.cli.tool("close_tab", {"tab_name": "mine"})
    assert (await instance.cli.response(mine))["result"] == _content("DIFF_REJECTED", "mine")


async def test_editor_leaving_mid_diff_hands_it_on(
    instance: Instance, editors: EditorFactory
) -> None:
    cli = instance.cli
    first = await editors("first")
    second = await editors("second")
    call = await _open_diff(cli, "t")
    await second.next_request("openDiff")
    await second.close()
    request = await first.next_request("openDiff")  # re-sent to the one left
    assert request["params"] == _diff_args("t")
    await first.call("detach")
    assert await _pending(editors) == ["t"]  # held, with nobody to show it

    late = await editors("late")  # an editor attaching later gets the pending diff
    request = await late.next_request("openDiff")
    assert request["params"] == _diff_args("t")
    await late.reply(request["id"], _content("FILE_SAVED", "from late"))
    assert (await cli.response(call))["result"] == _content("FILE_SAVED", "from late")


async def test_diff_opened_before_any_editor(instance: Instance, editors: EditorFactory) -> None:
    call = await _open_diff(instance.cli, "t")
    assert "result" in await instance.cli.tool("getOpenEditors")
    editor: EditorClient = await editors("nvim")
    request = await editor.next_request("openDiff")
    await editor.reply(request["id"], _content("DIFF_REJECTED", "t"))
    assert (await instance.cli.response(call))["result"] == _content("DIFF_REJECTED", "t")


async def test_editor_error_on_a_diff_is_relayed(
    instance: Instance, editors: EditorFactory
) -> None:
    editor = await editors("nvim")
    call = await _open_diff(instance.cli, "t")
    request = await editor.next_request("openDiff")
    await editor.send(
        {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32000, "message": "no"}}
    )
    assert (await instance.cli.response(call))["error"] == {"code": -32000, "message": "no"}
    assert await _pending(editors) == []


async def test_direct_connection_without_editor_gets_close_tab(
    instance: Instance, editors: EditorFactory
) -> None:
    """close_tab resolves a diff opened on another connection too (tabs are per host)."""
    ws = await connect_ide(instance.host, held_by=instance.cli)
    try:
        await ide_connected(ws, instance.cli.pid)
        await ws.send(
            json.dumps(
                {
                    "jsonrpc": "2.0",
                    "id": 7,
                    "method": "tools/call",
                    "params": {"name": "openDiff", "arguments": _diff_args("x")},
                }
            )
        )
        while await _pending(editors) != ["x"]:  # two connections: no order between them
            await asyncio.sleep(0.01)
        closed = await instance.cli.tool("close_tab", {"tab_name": "x"})
        assert closed["result"] == _content("TAB_CLOSED")
        reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert reply == {"jsonrpc": "2.0", "id": 7, "result": _content("DIFF_REJECTED", "x")}
        reply = await ws_call(ws, {"jsonrpc": "2.0", "id": 8, "method": "ping"})
        assert reply["result"] == {}
    finally:
        await ws.close()


# --- answered through the editor socket (tclaude review) ----------------------


class SocketAnswerCase(NamedTuple):
    test_id: str
    params: dict[str, Any]
    result: dict[str, Any]


SOCKET_ANSWER_CASES = [
    SocketAnswerCase("accepted", {"action": "accept"}, _content("FILE_SAVED", "new text\n")),
    SocketAnswerCase(
        "accepted_with_edits",
        {"action": "accept", "contents": "edited in $EDITOR\n"},
        _content("FILE_SAVED", "edited in $EDITOR\n"),
    ),
    SocketAnswerCase("rejected", {"action": "reject"}, _content("DIFF_REJECTED", "tab-1")),
]


@pytest.mark.parametrize("case", SOCKET_ANSWER_CASES, ids=[c.test_id for c in SOCKET_ANSWER_CASES])
async def test_a_reviewer_answers_a_diff_an_editor_shows(
    instance: Instance, editors: EditorFactory, case: SocketAnswerCase
) -> None:
    editor = await editors("nvim")
    call = await _open_diff(instance.cli, "tab-1")
    request = await editor.next_request("openDiff")
    reviewer = await editors()
    reply = await reviewer.call("answer_diff", {"tab_name": "tab-1", **case.params})
    assert reply["result"] == {"answered": "tab-1", "action": case.params["action"]}
    assert (await instance.cli.response(call))["result"] == case.result
    assert (await editor.next_request("close_tab"))["params"] == {"tab_name": "tab-1"}
    # the editor's late answer changes nothing; the diff is gone from every list
    await editor.reply(request["id"], _content("DIFF_REJECTED", "tab-1"))
    assert (await reviewer.call("list_diffs"))["result"] == {"diffs": []}
    assert await _pending(editors) == []
    again = await reviewer.call("answer_diff", {"tab_name": "tab-1", "action": "accept"})
    assert "no pending diff" in again["error"]["message"]


async def test_list_diffs_without_an_editor(
    instance: Instance, editors: EditorFactory, project: str
) -> None:
    path = os.path.join(project, "a.py")
    with open(path, "w") as handle:
        handle.write("old text\n")
    args = {**_diff_args("tab-1"), "old_file_path": path, "new_file_path": path}
    call = await instance.cli.request("tools/call", {"name": "openDiff", "arguments": args})
    reviewer = await editors()
    for _ in range(100):
        diffs = (await reviewer.call("list_diffs"))["result"]["diffs"]
        if diffs:
            break
        await asyncio.sleep(0.05)
    [diff] = diffs
    assert diff["tab_name"] == "tab-1"
    assert diff["old_file_path"] == diff["new_file_path"] == path
    assert diff["new_file_contents"] == "new text\n"
    assert diff["changed_on_disk"] is False
    assert 0 <= diff["age"] < 600
    with open(path, "a") as handle:
        handle.write("the user typed this meanwhile\n")
    [diff] = (await reviewer.call("list_diffs"))["result"]["diffs"]
    assert diff["changed_on_disk"] is True
    await reviewer.call("answer_diff", {"tab_name": "tab-1", "action": "reject"})
    assert (await instance.cli.response(call))["result"] == _content("DIFF_REJECTED", "tab-1")


class BadAnswerCase(NamedTuple):
    test_id: str
    params: dict[str, Any]
    message: str


BAD_ANSWER_CASES = [
    BadAnswerCase("no_tab", {"action": "accept"}, "tab_name must be a string"),
    BadAnswerCase("bad_action", {"tab_name": "t", "action": "yes"}, "action must be"),
    BadAnswerCase(
        "contents_to_reject", {"tab_name": "t", "action": "reject", "contents": "x"}, "contents"
    ),
    BadAnswerCase("contents_not_text", {"tab_name": "t", "action": "accept", "contents": 1}, ""),
]


@pytest.mark.parametrize("case", BAD_ANSWER_CASES, ids=[c.test_id for c in BAD_ANSWER_CASES])
async def test_a_bad_answer_leaves_the_diff_pending(
    instance: Instance, editors: EditorFactory, case: BadAnswerCase
) -> None:
    call = await _open_diff(instance.cli, "t")
    reviewer = await editors()
    for _ in range(100):
        if (await reviewer.call("list_diffs"))["result"]["diffs"]:
            break
        await asyncio.sleep(0.05)
    reply = await reviewer.call("answer_diff", case.params)
    assert reply["error"]["code"] == -32602
    assert case.message in reply["error"]["message"]
    assert await _pending(editors) == ["t"]
    await instance.cli.tool("close_tab", {"tab_name": "t"})
    assert (await instance.cli.response(call))["result"] == _content("DIFF_REJECTED", "t")


@pytest.mark.parametrize("action", ["accept", "reject"])
async def test_a_reviewers_answer_leaves_waiting(
    instance: Instance, editors: EditorFactory, project: str, action: str
) -> None:
    """No hook says a diff was answered: answered by `tclaude review`, like an editor's
    answer, the host itself leaves ``waiting`` (found merging review with the Neovim fix)."""
    reviewer = await editors()

    async def state() -> str:
        return str((await reviewer.call("status"))["result"]["state"])

    for event in ("UserPromptSubmit", "PreToolUse", "PermissionRequest"):
        await instance.cli.hook(event, {"tool_name": "Write"})
    for _ in range(100):
        if await state() == "waiting":
            break
        await asyncio.sleep(0.05)
    assert await state() == "waiting"
    call = await _open_diff(instance.cli, "tab-1")
    for _ in range(100):
        if (await reviewer.call("list_diffs"))["result"]["diffs"]:
            break
        await asyncio.sleep(0.05)
    await reviewer.call("answer_diff", {"tab_name": "tab-1", "action": action})
    await instance.cli.response(call)
    assert await state() == "busy"
