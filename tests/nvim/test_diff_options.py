"""Diffs in Neovim: which closing rejects, the diff options, the User autocommands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.nvim.conftest import HostFactory, Nvim, NvimFactory
from tests.nvim.test_diff import PROPOSAL, open_diff, texts, wait_closed
from tests.support.hosts import FakeCli

# Collect the plugin's User autocommands (pattern, data) in _G.tclaude_events.
RECORD_EVENTS = """
_G.tclaude_events = {}
vim.api.nvim_create_autocmd("User", {
  pattern = { "TClaudeDiffOpened", "TClaudeDiffClosed", "TClaudeSendComplete" },
  callback = function(args)
    table.insert(_G.tclaude_events, { name = args.match, data = args.data })
  end,
})
"""


async def paired(
    project: Path, host: HostFactory, nvim: NvimFactory, diff: dict[str, Any] | None = None
) -> tuple[FakeCli, Nvim]:
    proc, cli = await host(project, name="api")
    nv = await nvim(project, {"debounce_ms": 100, "diff": diff or {}})
    await nv.wait_attached([proc.ready["id"]])
    await nv.lua(RECORD_EVENTS)
    return cli, nv


async def still_pending(cli: FakeCli, nv: Nvim, msg_id: int) -> None:
    """The diff is listed in Neovim and the CLI has no answer (after Neovim's deferred checks)."""
    await nv.lua("vim.wait(100)")  # let the deferred checks run
    assert await nv.lua("return #require('tclaude.diff').list()") == 1
    with pytest.raises(TimeoutError):
        await cli.response(msg_id, timeout=0.3)


def windows_in_tab(nv: Nvim) -> Any:
    return nv.lua("return #vim.api.nvim_tabpage_list_wins(0)")


async def test_only_in_the_proposal_keeps_the_diff_and_accept_works(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim)
    msg_id, _ = await open_diff(cli, nv, project / "src" / "app.py")
    await nv.feed("<C-w>o")
    assert await windows_in_tab(nv) == 1
    await still_pending(cli, nv, msg_id)
    await nv.command("write")
    assert texts(await cli.response(msg_id)) == ["FILE_SAVED", PROPOSAL]
    await wait_closed(nv)


async def test_closing_the_file_window_keeps_the_diff(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim)
    msg_id, tab = await open_diff(cli, nv, project / "src" / "app.py")
    await nv.command("wincmd p")  # the file's window
    assert await nv.lua("return vim.bo.buftype") == ""
    await nv.command("close")
    await still_pending(cli, nv, msg_id)
    # the proposal in a second window: closing one of them keeps it too
    await nv.command("split")
    await nv.command("close")
    await still_pending(cli, nv, msg_id)
    # closing the last window that shows the proposal rejects
    await nv.command("close")
    assert texts(await cli.response(msg_id)) == ["DIFF_REJECTED", tab]
    await wait_closed(nv)


async def test_hiding_the_proposal_in_its_window_rejects(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim)
    msg_id, tab = await open_diff(cli, nv, project / "src" / "app.py")
    await nv.command("enew")  # the proposal's window shows another buffer: no window left
    assert texts(await cli.response(msg_id)) == ["DIFF_REJECTED", tab]
    await nv.wait_lua("return #require('tclaude.diff').list() == 0")


async def layout_of(nv: Nvim) -> Any:
    return await nv.lua("return vim.fn.winlayout()[1]")


async def test_layout_horizontal(project: Path, host: HostFactory, nvim: NvimFactory) -> None:
    cli, nv = await paired(project, host, nvim, {"layout": "horizontal"})
    msg_id, _ = await open_diff(cli, nv, project / "src" / "app.py")
    assert await layout_of(nv) == "col"  # one above the other
    assert await nv.lua("return vim.wo.diff") is True
    await nv.command("TClaudeDiffDeny")
    assert texts(await cli.response(msg_id))[0] == "DIFF_REJECTED"
    await wait_closed(nv)


async def test_layout_vertical_is_the_default(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim)
    await open_diff(cli, nv, project / "src" / "app.py")
    assert await layout_of(nv) == "row"  # side by side


INLINE_MARKS = """
local buf = ...
local ns = require('tclaude.diff_inline').ns
local out = { added = {}, deleted = {} }
for _, m in ipairs(vim.api.nvim_buf_get_extmarks(buf, ns, 0, -1, { details = true })) do
  local d = m[4]
  if d.line_hl_group then
    table.insert(out.added, { m[2] + 1, d.line_hl_group })
  end
  if d.virt_lines then
    for _, vl in ipairs(d.virt_lines) do
      table.insert(out.deleted, { m[2] + 1, d.virt_lines_above or false, vl[1][1], vl[1][2] })
    end
  end
end
return out
"""


async def test_layout_inline_marks_changes_and_accepts(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim, {"layout": "inline"})
    app = project / "src" / "app.py"
    # app.py: import os / "" / "" / def main(): / print('hello') / return 0
    proposal = "import os\nimport sys\n\n\ndef main():\n    return 0\n"
    msg_id, _ = await open_diff(cli, nv, app, proposal)
    assert await windows_in_tab(nv) == 1
    assert await nv.lua("return vim.wo.diff") is False
    buf = await nv.lua("return vim.api.nvim_get_current_buf()")
    assert await nv.lua("return vim.bo.buftype") == "acwrite"
    marks = await nv.lua(INLINE_MARKS, buf)
    assert marks["added"] == [[2, "DiffAdd"]]
    # the removed print line shows below the line it followed
    assert marks["deleted"] == [[5, False, "    print('hello')", "DiffDelete"]]
    # the marks follow an edit of the proposal
    await nv.lua("vim.api.nvim_buf_set_lines(0, 1, 2, false, {})")
    await nv.wait_lua(
        "local m = (load(...))(vim.api.nvim_get_current_buf()); return #m.added == 0",
        5,
        INLINE_MARKS,
    )
    await nv.command("write")
    expected = "import os\n\n\ndef main():\n    return 0\n"
    assert texts(await cli.response(msg_id)) == ["FILE_SAVED", expected]
    await wait_closed(nv)


async def test_layout_inline_new_file_and_reject(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim, {"layout": "inline"})
    msg_id, tab = await open_diff(cli, nv, project / "new.txt", "a\nb\n")
    buf = await nv.lua("return vim.api.nvim_get_current_buf()")
    marks = await nv.lua(INLINE_MARKS, buf)
    assert marks == {"added": [[1, "DiffAdd"], [2, "DiffAdd"]], "deleted": []}
    await nv.command("quit")
    assert texts(await cli.response(msg_id)) == ["DIFF_REJECTED", tab]
    await wait_closed(nv)


async def test_open_in_current_tab_uses_the_file_window(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim, {"open_in": "current_tab"})
    await nv.command("edit src/app.py")
    file_win = await nv.lua("return vim.api.nvim_get_current_win()")
    msg_id, _ = await open_diff(cli, nv, project / "src" / "app.py")
    assert await nv.lua("return #vim.api.nvim_list_tabpages()") == 1
    assert await windows_in_tab(nv) == 2
    assert await nv.lua("return vim.wo[...].diff", file_win) is True
    assert await nv.lua("return vim.bo.buftype") == "acwrite"
    await nv.command("write")
    assert texts(await cli.response(msg_id)) == ["FILE_SAVED", PROPOSAL]
    await nv.wait_lua("return #vim.api.nvim_tabpage_list_wins(0) == 1")
    # the user's window is back as it was: the file, out of diff mode, focused
    assert await nv.lua("return vim.api.nvim_get_current_win()") == file_win
    assert await nv.lua("return vim.wo.diff") is False
    assert await nv.lua("return vim.fn.expand('%:t')") == "app.py"


async def test_open_in_current_tab_inline(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim, {"open_in": "current_tab", "layout": "inline"})
    await nv.command("edit README.md")
    msg_id, tab = await open_diff(cli, nv, project / "README.md", "# project\n")
    assert await nv.lua("return #vim.api.nvim_list_tabpages()") == 1
    assert await windows_in_tab(nv) == 2
    await nv.command("TClaudeDiffDeny")
    assert texts(await cli.response(msg_id)) == ["DIFF_REJECTED", tab]
    await nv.wait_lua("return #vim.api.nvim_tabpage_list_wins(0) == 1")
    assert await nv.lua("return vim.fn.expand('%:t')") == "README.md"


NO_PROPOSAL_SHOWN = """
for _, w in ipairs(vim.api.nvim_list_wins()) do
  if vim.bo[vim.api.nvim_win_get_buf(w)].buftype == "acwrite" then return false end
end
return #require("tclaude.diff").list() == 0
"""


async def new_file_rejected(nv: Nvim, cli: FakeCli, project: Path) -> None:
    await nv.command("edit README.md")
    msg_id, tab = await open_diff(cli, nv, project / "src" / "new.py", "x = 1\n")
    assert await windows_in_tab(nv) == 3  # README, the new file's empty side, the proposal
    await nv.command("TClaudeDiffDeny")
    assert texts(await cli.response(msg_id)) == ["DIFF_REJECTED", tab]
    await nv.wait_lua(NO_PROPOSAL_SHOWN)


async def test_on_new_file_reject_keep_empty(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim, {"open_in": "current_tab"})
    await new_file_rejected(nv, cli, project)
    assert await windows_in_tab(nv) == 2
    bufs = await nv.lua(
        "local out = {} for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do "
        "local b = vim.api.nvim_win_get_buf(w) "
        "out[#out + 1] = { vim.fn.fnamemodify(vim.api.nvim_buf_get_name(b), ':t'), "
        "vim.api.nvim_buf_line_count(b), vim.api.nvim_buf_get_lines(b, 0, 1, false)[1], "
        "vim.wo[w].diff } end "
        "table.sort(out, function(a, b) return a[1] < b[1] end) return out"
    )
    assert bufs == [["", 1, "", False], ["README.md", 3, "# project", False]]
    assert not (project / "src" / "new.py").exists()


async def test_on_new_file_reject_close_window(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(
        project, host, nvim, {"open_in": "current_tab", "on_new_file_reject": "close_window"}
    )
    await new_file_rejected(nv, cli, project)
    assert await windows_in_tab(nv) == 1
    assert await nv.lua("return vim.fn.expand('%:t')") == "README.md"


async def test_keep_focus(project: Path, host: HostFactory, nvim: NvimFactory) -> None:
    cli, nv = await paired(project, host, nvim, {"keep_focus": True})
    await nv.command("edit README.md")
    win = await nv.lua("return vim.api.nvim_get_current_win()")
    msg_id, _ = await open_diff(cli, nv, project / "src" / "app.py")
    assert await nv.lua("return #vim.api.nvim_list_tabpages()") == 2  # opened, in the background
    assert await nv.lua("return vim.api.nvim_get_current_win()") == win
    await nv.command("TClaudeDiffAccept")  # the newest diff, from anywhere
    assert texts(await cli.response(msg_id))[0] == "FILE_SAVED"
    await wait_closed(nv)
    assert await nv.lua("return vim.api.nvim_get_current_win()") == win


async def test_bad_option_values_fall_back_to_the_defaults(
    project: Path, nvim: NvimFactory
) -> None:
    nv = await nvim(project, {"diff": {"layout": "diagonal", "open_in": 3}})
    opts = await nv.lua("return require('tclaude.diff').options()")
    assert opts == {
        "layout": "vertical",
        "open_in": "new_tab",
        "on_new_file_reject": "keep_empty",
        "keep_focus": False,
    }


async def events(nv: Nvim) -> list[Any]:
    return list(await nv.lua("return _G.tclaude_events"))


async def test_diff_autocommands(project: Path, host: HostFactory, nvim: NvimFactory) -> None:
    cli, nv = await paired(project, host, nvim)
    app = str(project / "src" / "app.py")
    first, tab1 = await open_diff(cli, nv, project / "src" / "app.py")
    assert await events(nv) == [
        {
            "name": "TClaudeDiffOpened",
            "data": {
                "file": app,
                "tab_name": tab1,
                "instance": "api",
                "new_file": False,
                "layout": "vertical",
            },
        }
    ]
    await nv.command("write")
    await cli.response(first)
    closed = (await events(nv))[1]
    assert closed == {
        "name": "TClaudeDiffClosed",
        "data": {
            "file": app,
            "tab_name": tab1,
            "instance": "api",
            "accepted": True,
            "reason": "accepted",
        },
    }
    second, tab2 = await open_diff(cli, nv, project / "README.md", "x\n")
    await nv.command("quit")
    await cli.response(second)
    await nv.wait_lua("return #_G.tclaude_events == 4")
    last = (await events(nv))[3]
    assert last["name"] == "TClaudeDiffClosed"
    assert last["data"]["accepted"] is False and last["data"]["reason"] == "rejected"
    assert last["data"]["tab_name"] == tab2


async def test_send_complete_autocommand(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim)
    await nv.command("edit src/app.py")
    await nv.command("2,4TClaudeSend")
    await cli.notification("at_mentioned")
    fired = await nv.wait_lua(
        "for _, e in ipairs(_G.tclaude_events) do "
        "if e.name == 'TClaudeSendComplete' then return e.data end end"
    )
    assert fired == {
        "file": str(project / "src" / "app.py"),
        "line_start": 2,
        "line_end": 4,
        "instance": "api",
        "delivered": 1,
    }


RECORD_STATES = """
_G.tclaude_states = {}
vim.api.nvim_create_autocmd("User", {
  pattern = "TClaudeState",
  callback = function(args)
    table.insert(_G.tclaude_states, args.data.state)
  end,
})
"""


@pytest.mark.parametrize("answer", ["TClaudeDiffDeny", "TClaudeDiffAccept"])
async def test_a_diff_answered_in_neovim_leaves_waiting(
    project: Path, host: HostFactory, nvim: NvimFactory, answer: str
) -> None:
    """The fake claude has no session registry: only the host's own answer leaves waiting."""
    cli, nv = await paired(project, host, nvim)
    await nv.lua(RECORD_STATES)
    await cli.hook("UserPromptSubmit")
    await cli.hook("PreToolUse", {"tool_name": "Write"})
    await cli.hook("PermissionRequest", {"tool_name": "Write"})
    await nv.wait_lua("return require('tclaude').attached()[1].state == 'waiting'")
    msg_id, _ = await open_diff(cli, nv, project / "src" / "app.py")
    await nv.command(answer)
    await cli.response(msg_id)
    await nv.wait_lua("return require('tclaude').attached()[1].state == 'busy'")
    # the CLI's late notification about that permission does not make it waiting again
    await cli.hook("Notification", {"notification_type": "permission_prompt"})
    await cli.hook("Stop")
    await nv.wait_lua("return require('tclaude').attached()[1].state == 'idle'")
    states = await nv.lua("return _G.tclaude_states")
    assert states[states.index("waiting") :] == ["waiting", "busy", "idle"]


async def test_two_diffs_in_the_current_tab(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    cli, nv = await paired(project, host, nvim, {"open_in": "current_tab"})
    await nv.command("edit src/app.py")
    first, _ = await open_diff(cli, nv, project / "src" / "app.py")
    second, tab2 = await open_diff(cli, nv, project / "README.md", "# new\n")
    assert await nv.lua("return #vim.api.nvim_list_tabpages()") == 1
    # from a window that is no proposal, the deny goes to the newest diff of this tab
    await nv.lua(
        "for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do "
        "if vim.bo[vim.api.nvim_win_get_buf(w)].buftype == '' then "
        "vim.api.nvim_set_current_win(w) return end end"
    )
    assert await nv.lua("return vim.bo.buftype") == ""
    await nv.command("TClaudeDiffDeny")
    assert texts(await cli.response(second)) == ["DIFF_REJECTED", tab2]
    await nv.wait_lua("return #require('tclaude.diff').list() == 1")
    await nv.command("TClaudeDiffAccept")
    assert texts(await cli.response(first)) == ["FILE_SAVED", PROPOSAL]
    await nv.wait_lua(NO_PROPOSAL_SHOWN)
    assert await windows_in_tab(nv) == 1
    assert await nv.lua("return vim.fn.expand('%:t')") == "app.py"
