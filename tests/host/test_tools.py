"""Every tool, answered by the host alone and relayed from attached editors."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, NamedTuple

import pytest

from tests.host.conftest import EditorFactory, Instance, InstanceFactory
from tests.support.hosts import EditorClient, FakeCli

SELECTION: dict[str, Any] = {
    "text": "x = 1\n",
    "filePath": "/proj/a.py",
    "fileUrl": "file:///proj/a.py",
    "selection": {
        "start": {"line": 2, "character": 0},
        "end": {"line": 3, "character": 0},
        "isEmpty": False,
    },
}


def _text(reply: dict[str, Any]) -> list[str]:
    assert "result" in reply, reply
    return [block["text"] for block in reply["result"]["content"]]


def _json(reply: dict[str, Any]) -> Any:
    texts = _text(reply)
    assert len(texts) == 1
    return json.loads(texts[0])


async def test_workspace_folders(instance: Instance) -> None:
    assert _json(await instance.cli.tool("getWorkspaceFolders")) == {
        "success": True,
        "folders": [
            {
                "name": os.path.basename(instance.cwd),
                "uri": "file://" + instance.cwd,
                "path": instance.cwd,
            }
        ],
        "rootPath": instance.cwd,
    }


class FallbackCase(NamedTuple):
    test_id: str
    tool: str
    arguments: dict[str, Any]
    expected: Any


FALLBACK_CASES = [
    FallbackCase("open_editors", "getOpenEditors", {}, {"tabs": []}),
    FallbackCase("diagnostics", "getDiagnostics", {}, []),
    FallbackCase("diagnostics_uri", "getDiagnostics", {"uri": "file:///proj/a.py"}, []),
    FallbackCase(
        "dirty",
        "checkDocumentDirty",
        {"filePath": "/proj/a.py"},
        {"success": False, "filePath": "/proj/a.py", "message": "Document not open: /proj/a.py"},
    ),
    FallbackCase(
        "save",
        "saveDocument",
        {"filePath": "/proj/a.py"},
        {"success": False, "filePath": "/proj/a.py", "message": "Document not open: /proj/a.py"},
    ),
    FallbackCase(
        "open_file",
        "openFile",
        {"filePath": "/proj/a.py", "startLine": 1},
        {"success": False, "filePath": "/proj/a.py", "message": "No editor attached: not opened"},
    ),
    FallbackCase(
        "current_selection",
        "getCurrentSelection",
        {},
        {"success": False, "message": "No active editor found"},
    ),
    FallbackCase(
        "latest_selection",
        "getLatestSelection",
        {},
        {"success": False, "message": "No selection available"},
    ),
]


@pytest.mark.parametrize("case", FALLBACK_CASES, ids=[c.test_id for c in FALLBACK_CASES])
async def test_tool_without_editor(instance: Instance, case: FallbackCase) -> None:
    assert _json(await instance.cli.tool(case.tool, case.arguments)) == case.expected


async def test_host_only_tools_without_anything_pending(instance: Instance) -> None:
    assert _text(await instance.cli.tool("close_tab", {"tab_name": "nothing"})) == ["TAB_CLOSED"]
    assert _text(await instance.cli.tool("closeAllDiffTabs")) == ["CLOSED_0_DIFF_TABS"]


async def test_selection_answers_before_and_after_a_push(
    instance: Instance, editors: EditorFactory
) -> None:
    cli = instance.cli
    assert _json(await cli.tool("getLatestSelection"))["success"] is False
    sender = await editors()  # a plain client, not attached: the host answers itself
    assert (await sender.call("selection_changed", SELECTION))["result"] == {"delivered": 1}
    await cli.notification("selection_changed")
    expected = {"success": True, **SELECTION}
    assert _json(await cli.tool("getLatestSelection")) == expected
    assert _json(await cli.tool("getCurrentSelection")) == expected


class WireErrorCase(NamedTuple):
    test_id: str
    params: dict[str, Any]
    code: int


WIRE_ERROR_CASES = [
    WireErrorCase("unknown_tool", {"name": "executeCode", "arguments": {}}, -32601),
    WireErrorCase("bad_type", {"name": "openFile", "arguments": {"filePath": 7}}, -32602),
    WireErrorCase("missing", {"name": "saveDocument", "arguments": {}}, -32602),
    WireErrorCase("null_tab", {"name": "close_tab", "arguments": {"tab_name": None}}, -32602),
    WireErrorCase("no_name", {"arguments": {}}, -32602),
]


@pytest.mark.parametrize("case", WIRE_ERROR_CASES, ids=[c.test_id for c in WIRE_ERROR_CASES])
async def test_tool_errors(instance: Instance, case: WireErrorCase) -> None:
    reply = await instance.cli.call("tools/call", case.params)
    assert reply["error"]["code"] == case.code
    assert _json(await instance.cli.tool("getDiagnostics")) == []


class RelayCase(NamedTuple):
    test_id: str
    tool: str
    arguments: dict[str, Any]
    answer: dict[str, Any]


def _content(*texts: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": t} for t in texts]}


RELAY_CASES = [
    RelayCase(
        "open_file",
        "openFile",
        {"filePath": "/proj/a.py", "startLine": 3, "endLine": 4, "makeFrontmost": True},
        _content("Opened file: /proj/a.py"),
    ),
    RelayCase(
        "current_selection",
        "getCurrentSelection",
        {},
        _content(json.dumps({"success": True, **SELECTION})),
    ),
    RelayCase("open_editors", "getOpenEditors", {}, _content('{"tabs":[{"uri":"file:///a"}]}')),
    RelayCase("diagnostics", "getDiagnostics", {"uri": "file:///proj/a.py"}, _content("[]")),
    RelayCase(
        "dirty",
        "checkDocumentDirty",
        {"filePath": "/a"},
        _content('{"success":true,"isDirty":true}'),
    ),
    RelayCase(
        "save", "saveDocument", {"filePath": "/a"}, _content('{"success":true,"saved":true}')
    ),
    RelayCase("extra_fields", "getOpenEditors", {}, {**_content("x"), "isError": False}),
]


@pytest.mark.parametrize("case", RELAY_CASES, ids=[c.test_id for c in RELAY_CASES])
async def test_editor_answers_are_relayed(
    instance: Instance, editors: EditorFactory, case: RelayCase
) -> None:
    editor = await editors("nvim")
    call = await instance.cli.request(
        "tools/call", {"name": case.tool, "arguments": case.arguments}
    )
    request = await editor.next_request()
    assert request["method"] == case.tool
    assert request["params"] == case.arguments
    await editor.reply(request["id"], case.answer)
    reply = await instance.cli.response(call)
    assert reply["result"] == case.answer


async def test_host_only_tools_are_never_forwarded(
    instance: Instance, editors: EditorFactory
) -> None:
    editor = await editors("nvim")
    cli = instance.cli
    assert _json(await cli.tool("getWorkspaceFolders"))["rootPath"] == instance.cwd
    assert _json(await cli.tool("getLatestSelection"))["success"] is False
    assert _text(await cli.tool("close_tab", {"tab_name": "t"})) == ["TAB_CLOSED"]
    assert _text(await cli.tool("closeAllDiffTabs")) == ["CLOSED_0_DIFF_TABS"]
    call = await cli.request("tools/call", {"name": "getDiagnostics", "arguments": {}})
    request = await editor.next_request()
    assert request["method"] == "getDiagnostics"  # the first thing the editor was asked
    await editor.reply(request["id"], _content("[]"))
    await cli.response(call)


class EditorErrorCase(NamedTuple):
    test_id: str
    answer: dict[str, Any]
    expected: dict[str, Any]


EDITOR_ERROR_CASES = [
    EditorErrorCase(
        "error_relayed",
        {"error": {"code": -32000, "message": "cannot open"}},
        {"code": -32000, "message": "cannot open"},
    ),
    EditorErrorCase(
        "error_code_not_int",
        {"error": {"code": "bad", "message": 5}},
        {"code": -32000, "message": "the editor failed"},
    ),
    EditorErrorCase(
        "error_not_object",
        {"error": "boom"},
        {"code": -32000, "message": "the editor failed"},
    ),
    EditorErrorCase(
        "no_content",
        {"result": {"text": "x"}},
        {"code": -32603, "message": "the editor answered with no valid content list"},
    ),
    EditorErrorCase(
        "content_text_int",
        {"result": {"content": [{"type": "text", "text": 1}]}},
        {"code": -32603, "message": "the editor answered with no valid content list"},
    ),
    EditorErrorCase(
        "content_block_str",
        {"result": {"content": ["x"]}},
        {"code": -32603, "message": "the editor answered with no valid content list"},
    ),
]


@pytest.mark.parametrize("case", EDITOR_ERROR_CASES, ids=[c.test_id for c in EDITOR_ERROR_CASES])
async def test_editor_errors_are_relayed(
    instance: Instance, editors: EditorFactory, case: EditorErrorCase
) -> None:
    editor = await editors("nvim")
    call = await instance.cli.request(
        "tools/call", {"name": "openFile", "arguments": {"filePath": "/a"}}
    )
    request = await editor.next_request("openFile")
    await editor.send({"jsonrpc": "2.0", "id": request["id"], **case.answer})
    assert (await instance.cli.response(call))["error"] == case.expected
    # the editor and the CLI both live on
    call = await instance.cli.request("tools/call", {"name": "getOpenEditors", "arguments": {}})
    request = await editor.next_request("getOpenEditors")
    await editor.reply(request["id"], _content("ok"))
    assert _text(await instance.cli.response(call)) == ["ok"]


async def test_silent_editor_times_out_to_the_fallback(start_instance: InstanceFactory) -> None:
    """An editor silent past TCLAUDE_EDITOR_TIMEOUT: the host answers, the late answer is lost."""
    instance = await start_instance(extra_env={"TCLAUDE_EDITOR_TIMEOUT": "0.3"})
    editor = await EditorClient.connect(instance.host.socket)
    await editor.call("attach", {"name": "slow"})
    call = await instance.cli.request("tools/call", {"name": "getDiagnostics", "arguments": {}})
    request = await editor.next_request("getDiagnostics")
    assert _json(await instance.cli.response(call)) == []
    await editor.reply(request["id"], _content("late"))
    # still the editor: the next request goes to it and its answer counts
    call = await instance.cli.request("tools/call", {"name": "getOpenEditors", "arguments": {}})
    request = await editor.next_request("getOpenEditors")
    await editor.reply(request["id"], _content("fresh"))
    assert _text(await instance.cli.response(call)) == ["fresh"]
    await editor.close()


async def _ask_open_editors(cli: FakeCli) -> Any:
    return await cli.request("tools/call", {"name": "getOpenEditors", "arguments": {}})


async def test_most_recently_active_editor_is_asked(
    instance: Instance, editors: EditorFactory
) -> None:
    first = await editors("first")
    second = await editors("second")
    cli = instance.cli
    call = await _ask_open_editors(cli)
    request = await second.next_request("getOpenEditors")
    await second.reply(request["id"], _content("second"))
    assert _text(await cli.response(call)) == ["second"]

    assert (await first.call("focus"))["result"] == {"active": True}
    call = await _ask_open_editors(cli)
    request = await first.next_request("getOpenEditors")
    await first.reply(request["id"], _content("first"))
    assert _text(await cli.response(call)) == ["first"]

    # asking for status is no sign of the user being there
    await second.call("status")
    call = await _ask_open_editors(cli)
    request = await first.next_request("getOpenEditors")
    await first.reply(request["id"], _content("first still"))
    assert _text(await cli.response(call)) == ["first still"]

    # a selection is the user acting in that editor (issue 11: the one used last)
    await second.call(
        "selection_changed",
        {
            "text": "",
            "filePath": "/x.py",
            "selection": {
                "start": {"line": 0, "character": 0},
                "end": {"line": 0, "character": 0},
                "isEmpty": True,
            },
        },
    )
    call = await _ask_open_editors(cli)
    request = await second.next_request("getOpenEditors")
    await second.reply(request["id"], _content("second by selection"))
    assert _text(await cli.response(call)) == ["second by selection"]

    # so is an at-mention
    await first.call("at_mentioned", {"filePath": "/x.py"})
    call = await _ask_open_editors(cli)
    request = await first.next_request("getOpenEditors")
    await first.reply(request["id"], _content("first again"))
    assert _text(await cli.response(call)) == ["first again"]


class LeaveCase(NamedTuple):
    test_id: str
    how: str  # "close" or "detach"


LEAVE_CASES = [LeaveCase("disconnect", "close"), LeaveCase("detach", "detach")]


@pytest.mark.parametrize("case", LEAVE_CASES, ids=[c.test_id for c in LEAVE_CASES])
async def test_editor_leaving_mid_request(
    instance: Instance, editors: EditorFactory, case: LeaveCase
) -> None:
    """Asked, then gone: the next editor answers; with none left the host does."""
    other = await editors("other")
    leaving = await editors("leaving")
    cli = instance.cli
    call = await _ask_open_editors(cli)
    await leaving.next_request("getOpenEditors")
    if case.how == "close":
        await leaving.close()
    else:
        assert (await leaving.call("detach"))["result"] == {"detached": True}
    request = await other.next_request("getOpenEditors")
    await other.reply(request["id"], _content("other"))
    assert _text(await cli.response(call)) == ["other"]

    # the last editor leaves mid-request: the host answers itself at once
    call = await _ask_open_editors(cli)
    await other.next_request("getOpenEditors")
    await other.close()
    assert _json(await cli.response(call, timeout=5)) == {"tabs": []}


async def test_fallback_after_the_editor_left(instance: Instance, editors: EditorFactory) -> None:
    editor = await editors("nvim")
    await editor.close()
    status = None
    for _ in range(100):  # the host notices the closed socket on its next read
        probe = await editors()
        status = (await probe.call("status"))["result"]
        if not status["editors"]:
            break
        await asyncio.sleep(0.02)
    assert status is not None and status["editors"] == []
    assert _json(await instance.cli.tool("getOpenEditors", timeout=5)) == {"tabs": []}


async def test_answer_with_id_true_is_not_id_1(instance: Instance, editors: EditorFactory) -> None:
    """JSON true is not the number 1: a stray answer must not resolve request 1."""
    editor = await editors("nvim")
    call = await _ask_open_editors(instance.cli)
    request = await editor.next_request("getOpenEditors")
    assert request["id"] == 1
    await editor.send({"jsonrpc": "2.0", "id": True, "result": _content("wrong")})
    await editor.reply(1, _content("right"))
    assert _text(await instance.cli.response(call)) == ["right"]
