"""Neovim as the IDE of the real Claude Code CLI (offline, fake Messages API).

The CLI runs in an instance made by ``tclaude new`` on the test's private tmux
server; a headless Neovim with the plugin, started in the instance's
directory, pairs with it over the editor socket. A Write turn opens its diff
in Neovim, and what the user does there decides what the CLI writes; the
selection made in Neovim and ``:TClaudeSend`` show in the CLI's pane.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.nvim.conftest import Nvim, NvimFactory
from tests.realcli.test_tclaude_realcli import new, wait_screen
from tests.support.cli_runner import Tclaude
from tests.support.fake_messages_api import FakeMessagesAPI, tool_results
from tests.support.real_claude import PROMPT_READY_RE, rejected_re

pytestmark = [pytest.mark.realcli, pytest.mark.nvim]

TCLAUDE = str(Path(sys.executable).parent / "tclaude")
APP = "".join(f"line {n}\n" for n in range(1, 11))


@pytest.fixture
def real_env(real_env: Path) -> Path:
    """The project of tests/conftest.py, with a file of ten lines to select in."""
    (real_env / "app.py").write_text(APP, encoding="utf-8")
    return real_env


@dataclass
class Paired:
    tclaude: Tclaude
    pane: str
    nv: Nvim

    def screen(self) -> str:
        return self.tclaude.tmux("capture-pane", "-p", "-J", "-t", self.pane)

    async def wait_screen(self, pattern: str, timeout: float = 20) -> str:
        regex = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            text = await asyncio.to_thread(self.screen)
            if regex.search(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} not on screen:\n{text}")
            await asyncio.sleep(0.1)

    async def type_prompt(self, text: str) -> None:
        self.tclaude.tmux("send-keys", "-t", self.pane, "-l", text)
        self.tclaude.tmux("send-keys", "-t", self.pane, "Enter")


def _wait_connected(tclaude: Tclaude, timeout: float = 30) -> dict[str, object]:
    """`tclaude status api` once the CLI's IDE handshake is done and Neovim is its editor."""
    deadline = time.monotonic() + timeout
    while True:
        status: dict[str, object] = tclaude.json("status", "api")
        editors = status.get("editors")
        if status["clis"] == 1 and isinstance(editors, list) and len(editors) == 1:
            return status
        if time.monotonic() > deadline:
            raise AssertionError(f"claude or Neovim never connected: {status}")
        time.sleep(0.1)


async def pair(tclaude: Tclaude, project: Path, nvim: NvimFactory) -> Paired:
    data = await asyncio.to_thread(new, tclaude, "api", project)
    nv = await nvim(project)
    paired = Paired(tclaude, data["pane"], nv)
    await nv.wait_attached([data["id"]], timeout=20)
    await asyncio.to_thread(_wait_connected, tclaude)
    await paired.wait_screen(PROMPT_READY_RE.pattern)
    return paired


async def open_write_diff(p: Paired, api: FakeMessagesAPI, target: Path, content: str) -> int:
    """Queue a Write of `target`, type the prompt; the proposal buffer once Neovim shows it."""
    api.queue_tool_use("Write", {"file_path": str(target), "content": content})
    await p.type_prompt("write the file")
    try:
        await p.nv.wait_lua("return #require('tclaude.diff').list() == 1", 30)
    except TimeoutError:
        raise AssertionError("no diff in Neovim; screen:\n" + p.screen()) from None
    listed = await p.nv.lua("return require('tclaude.diff').list()")
    assert listed[0]["file"] == str(target)
    assert listed[0]["instance"] == "api"
    buf: int = await p.nv.lua(
        "for _, d in pairs(require('tclaude.diff').active) do return d.prop_buf end"
    )
    lines = await p.nv.lua("return vim.api.nvim_buf_get_lines(..., 0, -1, false)", buf)
    assert lines == content.rstrip("\n").split("\n")
    # the view has the focus: the proposal's window is the current one
    assert await p.nv.lua("return vim.api.nvim_get_current_buf()") == buf
    return buf


async def test_write_turn_diff_accepted_after_editing(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI, nvim: NvimFactory
) -> None:
    p = await pair(tclaude, real_env, nvim)
    target = real_env / "hello.txt"
    await open_write_diff(p, api, target, "proposed line\nsecond line\n")
    # the user edits the proposal as any buffer, then saves it: the edited text is written
    await p.nv.feed("ggcwedited<Esc>")
    await p.nv.command("write")
    deadline = time.monotonic() + 20
    # CLI 2.1.197 writes the editor's text without its final newline: compare without it
    edited = "edited line\nsecond line\n"
    while not (target.exists() and target.read_text().rstrip("\n") == edited.rstrip("\n")):
        assert time.monotonic() < deadline, (
            target.read_bytes() if target.exists() else None,
            p.screen(),
        )
        await asyncio.sleep(0.1)
    text = await p.wait_screen(r"Wrote 2 lines to hello\.txt")
    assert "edited line" in text
    await p.nv.wait_lua("return #require('tclaude.diff').list() == 0")
    assert await p.nv.lua("return #vim.api.nvim_list_tabpages()") == 1
    await p.wait_screen(PROMPT_READY_RE.pattern)
    # the model is told about the edit
    result = tool_results(api.main_requests[-1])[0]
    assert not result.get("is_error"), result
    assert "The user modified your proposed content" in str(result["content"])


@pytest.mark.parametrize("how", ["TClaudeDiffDeny", "quit"])
async def test_write_turn_diff_rejected(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI, nvim: NvimFactory, how: str
) -> None:
    p = await pair(tclaude, real_env, nvim)
    target = real_env / "hello.txt"
    await open_write_diff(p, api, target, "proposed\n")
    await p.nv.command(how)
    await p.wait_screen(rejected_re("hello.txt").pattern)
    await p.nv.wait_lua("return #require('tclaude.diff').list() == 0")
    await p.wait_screen(PROMPT_READY_RE.pattern)
    await asyncio.sleep(0.5)
    assert not target.exists()


async def test_selection_in_neovim_shows_in_the_cli(
    tclaude: Tclaude, real_env: Path, nvim: NvimFactory
) -> None:
    p = await pair(tclaude, real_env, nvim)
    await p.nv.command("edit app.py")
    await p.wait_screen(r"⧉ In app\.py")
    await p.nv.feed("2GVjj")  # lines 2-4, linewise; stays in visual mode
    await p.wait_screen(r"⧉ 3 lines selected")
    await p.nv.feed("<Esc>")
    await p.nv.command("'<,'>TClaudeSend")
    await p.wait_screen(r"@app\.py#L2-4")
    # the plugin's answer to the user (the host's reply may come just after the screen shows
    # it): sent, or queued when it came within the host's wait after Claude's handshake
    # (a fast machine gets there first; it reached the prompt either way, above)
    sent = "tclaude: sent app.py:2-4 to api"
    queued = "tclaude: queued app.py:2-4 for api: Claude gets it once it has connected"
    await p.nv.wait_lua(
        "for _, m in ipairs(_G.tclaude_messages) do "
        "if m.msg == select(1, ...) or m.msg == select(2, ...) then return true end end",
        5,
        sent,
        queued,
    )
    told = [m for m in await p.nv.messages() if "app.py:2-4" in m]
    assert told in ([sent], [queued]), told


async def test_only_window_keeps_the_diff_then_accept_writes(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI, nvim: NvimFactory
) -> None:
    """<C-w>o in the proposal closes the file's side; the diff stays pending; :w accepts."""
    p = await pair(tclaude, real_env, nvim)
    target = real_env / "hello.txt"
    await open_write_diff(p, api, target, "proposed\n")
    await p.nv.feed("<C-w>o")
    assert await p.nv.lua("return #vim.api.nvim_tabpage_list_wins(0)") == 1
    await p.nv.lua("vim.wait(100)")  # Neovim's deferred check has run
    assert await p.nv.lua("return #require('tclaude.diff').list()") == 1
    status = await asyncio.to_thread(tclaude.json, "status", "api")
    assert len(status["pending_diffs"]) == 1, status
    assert not rejected_re("hello.txt").search(p.screen())
    await p.nv.command("write")
    await p.wait_screen(r"Wrote 1 lines? to hello\.txt")
    assert target.read_text().rstrip("\n") == "proposed"
    await p.nv.wait_lua("return #require('tclaude.diff').list() == 0")


async def _wait_state(tclaude: Tclaude, want: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (state := tclaude.json("status", "api")["state"]) != want:
        assert time.monotonic() < deadline, f"state {state}, expected {want}"
        await asyncio.sleep(0.1)


async def test_rejected_diff_leaves_waiting(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI, nvim: NvimFactory
) -> None:
    """A diff rejected in Neovim: the state follows Claude (the turn ends: idle).

    No hook tells: the host leaves ``waiting`` itself when Neovim answers (``busy``),
    and Claude Code's session registry then says idle.
    """
    p = await pair(tclaude, real_env, nvim)
    await p.nv.lua(
        "_G.states = {} vim.api.nvim_create_autocmd('User', { pattern = 'TClaudeState', "
        "callback = function(a) table.insert(_G.states, a.data.state) end })"
    )
    target = real_env / "hello.txt"
    await open_write_diff(p, api, target, "proposed\n")
    await _wait_state(tclaude, "waiting")  # the CLI asked for the permission (its hook)
    await p.nv.command("TClaudeDiffDeny")
    await p.wait_screen(rejected_re("hello.txt").pattern)
    await _wait_state(tclaude, "idle")
    await p.nv.wait_lua("return require('tclaude').attached()[1].state == 'idle'")
    states = await p.nv.lua("return _G.states")
    assert states[states.index("waiting") :] == ["waiting", "busy", "idle"]


async def test_refused_diff_is_reported_in_neovim(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI, nvim: NvimFactory
) -> None:
    """app.py has unsaved changes in Neovim: no diff there, a warning saying why and what
    to do, and the CLI falls back to asking in its own pane."""
    p = await pair(tclaude, real_env, nvim)
    app = real_env / "app.py"
    await p.nv.command("edit app.py")
    await p.nv.lua("vim.api.nvim_buf_set_lines(0, 0, 1, false, {'changed in nvim'})")
    api.queue_tool_use("Read", {"file_path": str(app)})  # the CLI writes only files it read
    api.queue_tool_use("Write", {"file_path": str(app), "content": "new\n"})
    await p.type_prompt("write the file")
    warning = "tclaude: api's change to app.py not shown: its buffer has unsaved changes"
    await p.nv.wait_lua(
        "for _, m in ipairs(_G.tclaude_messages) do "
        "if m.level == vim.log.levels.WARN and vim.startswith(m.msg, ...) then return true end end",
        30,
        warning,
    )
    assert [m for m in await p.nv.messages() if "app.py" in m] == [
        warning + "; save (:w) or discard (:e!) them, and answer in Claude's pane"
    ]
    await p.wait_screen(r"Do you want to overwrite app\.py\?")
    assert await p.nv.lua("return #require('tclaude.diff').list()") == 0
    assert await p.nv.lua("return #vim.api.nvim_list_tabpages()") == 1
    # the user answers there: No
    tclaude.tmux("send-keys", "-t", p.pane, "Escape")
    await p.wait_screen(PROMPT_READY_RE.pattern)
    assert app.read_text(encoding="utf-8") == APP
    assert (
        await p.nv.lua("return vim.api.nvim_buf_get_lines(0, 0, 1, false)[1]") == "changed in nvim"
    )


# --- issue 11: two Neovims on one instance; mentions before Claude connects -----------


def _wait_editors(tclaude: Tclaude, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status: dict[str, object] = tclaude.json("status", "api")
        editors = status.get("editors")
        if status["clis"] == 1 and isinstance(editors, list) and len(editors) == count:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"claude or the Neovims never connected: {status}")
        time.sleep(0.1)


async def test_write_diff_opens_in_the_neovim_that_selected_last(
    tclaude: Tclaude, real_env: Path, api: FakeMessagesAPI, nvim: NvimFactory
) -> None:
    """Neovim A in proj, B in proj/sub, both attached; `:e s.txt` in B, then lines
    selected in A: Claude's Write opens its diff in A, also once the instance was made again."""
    sub = real_env / "sub"
    sub.mkdir()
    (sub / "s.txt").write_text("s\n", encoding="utf-8")
    data = await asyncio.to_thread(new, tclaude, "api", real_env)
    a = await nvim(real_env)
    b = await nvim(sub)
    p = Paired(tclaude, data["pane"], a)
    for round_ in (1, 2):
        await a.wait_attached([data["id"]], timeout=20)
        await b.wait_attached([data["id"]], timeout=20)
        await asyncio.to_thread(_wait_editors, tclaude, 2)
        await p.wait_screen(PROMPT_READY_RE.pattern)
        if round_ == 1:
            await a.command("edit app.py")
            await asyncio.sleep(0.3)
            await b.command("edit s.txt")
            await p.wait_screen(r"⧉ In s\.txt")
            await a.feed("2GVj")  # lines 2-3
            await p.wait_screen(r"⧉ 2 lines selected")
            await a.feed("<Esc>")
        target = real_env / f"hello{round_}.txt"
        await open_write_diff(p, api, target, "proposed\n")
        assert await b.lua("return #require('tclaude.diff').list()") == 0
        await a.command("TClaudeDiffDeny")
        await p.wait_screen(rejected_re(target.name).pattern)
        await a.wait_lua("return #require('tclaude.diff').list() == 0")
        await p.wait_screen(PROMPT_READY_RE.pattern)
        if round_ == 1:
            # the instance is made again (as :TClaude does after it stopped): both Neovims
            # attach to the new host, in whatever order; A was used last
            await asyncio.to_thread(tclaude.run, "kill", "api")
            await a.wait_attached([], timeout=20)
            await b.wait_attached([], timeout=20)
            data = await asyncio.to_thread(new, tclaude, "api", real_env)
            p = Paired(tclaude, data["pane"], a)


async def test_mention_right_after_tclaude_is_queued_and_reaches_the_prompt(
    tclaude: Tclaude, real_env: Path, nvim: NvimFactory
) -> None:
    """`:TClaude` then at once `:TClaudeAdd`: the host keeps the mention until claude's
    IDE handshake is done, and it shows in the prompt."""
    nv = await nvim(real_env, {"cmd": TCLAUDE})
    await nv.command("TClaude")
    # at once, before `tclaude new` has even returned (the new-user trial lost it here)
    await nv.command("TClaudeAdd app.py 2 4")
    await nv.wait_lua("return #require('tclaude').attached() == 1", 30)
    listed = await asyncio.to_thread(tclaude.json, "list")
    pane = next(item["pane"] for item in listed if item["name"] == "project")
    await asyncio.to_thread(wait_screen, tclaude, str(pane), r"@app\.py#L2-4", 60)
    errors = [m for m in await nv.messages() if "could not" in m or "no Claude" in m]
    assert errors == []


def test_tclaude_send_right_after_tclaude_new_is_queued(tclaude: Tclaude, real_env: Path) -> None:
    out = tclaude.run("new", "--name", "api", "--cwd", str(real_env), "--detached", "--json").stdout
    data = json.loads(out)
    sent = tclaude.run("send", "api", "--file", "app.py:3-5", cwd=str(real_env)).stdout
    status = tclaude.json("status", "api")
    if status["clis"] == 0 or "queued" in sent:
        assert sent.strip() == "api: no Claude connected yet; the mention is queued until it is"
    wait_screen(tclaude, data["pane"], r"@app\.py#L3-5", 60)
