"""Which instances a Neovim is the editor of, and finding them again after restarts."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.nvim.conftest import HostFactory, Nvim, NvimFactory
from tests.support.hosts import EditorClient, FakeCli

TCLAUDE = str(Path(sys.executable).parent / "tclaude")


async def editors_of(socket: str) -> list[str]:
    client = await EditorClient.connect(socket)
    try:
        status = await client.call("status")
        return list(status["result"]["editors"])
    finally:
        await client.close()


async def test_nested_worktree_pairs_with_its_own_instance(
    tmp_path: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    repo = tmp_path / "repo"
    worktree = repo / "wt"
    worktree.mkdir(parents=True)
    (repo / "a.txt").write_text("main\n", encoding="utf-8")
    (worktree / "b.txt").write_text("worktree\n", encoding="utf-8")
    main_host, main_cli = await host(repo, name="main")
    wt_host, wt_cli = await host(worktree, name="wt")
    in_main = await nvim(repo)
    in_wt = await nvim(worktree)
    await in_main.wait_attached([main_host.ready["id"]])
    await in_wt.wait_attached([wt_host.ready["id"]])
    pid_main = await in_main.lua("return vim.fn.getpid()")
    pid_wt = await in_wt.lua("return vim.fn.getpid()")
    assert await editors_of(main_host.socket) == [f"nvim {pid_main}"]
    assert await editors_of(wt_host.socket) == [f"nvim {pid_wt}"]
    # each instance's tools are served by its own Neovim
    await in_main.command("edit a.txt")
    await in_wt.command("edit b.txt")
    for cli, name in ((main_cli, "a.txt"), (wt_cli, "b.txt")):
        reply = await cli.tool("getOpenEditors")
        tabs = json.loads(reply["result"]["content"][0]["text"])["tabs"]
        assert [tab["label"] for tab in tabs] == [name]
    assert await in_wt.lua("return require('tclaude').statusline()") == "✻ wt idle"
    # changing directory pairs again
    await in_main.command("cd wt")
    await in_main.wait_attached([wt_host.ready["id"]])
    assert await in_main.lua("return require('tclaude').statusline()") == "✻ wt idle"


async def test_neovim_restarted_attaches_again(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    proc, _ = await host(project, name="api")
    first = await nvim(project)
    await first.wait_attached([proc.ready["id"]])
    await first.close()
    second = await nvim(project / "src")
    await second.wait_attached([proc.ready["id"]])
    pid = await second.lua("return vim.fn.getpid()")
    for _ in range(100):
        if await editors_of(proc.socket) == [f"nvim {pid}"]:
            break
        await asyncio.sleep(0.05)
    assert await editors_of(proc.socket) == [f"nvim {pid}"]


async def test_instance_restarted_is_attached_again(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    proc, _ = await host(project, name="api", instance_id="restart1")
    nv = await nvim(project)
    await nv.wait_attached(["restart1"])
    await nv.command("edit README.md")
    await proc.stop()
    await nv.wait_attached([])
    await nv.wait_lua("return require('tclaude').statusline() == ''")
    again, cli = await host(project, name="api", instance_id="restart1")
    await nv.wait_attached(["restart1"])
    reply = await cli.tool("getOpenEditors")
    tabs = json.loads(reply["result"]["content"][0]["text"])["tabs"]
    assert [tab["label"] for tab in tabs] == ["README.md"]
    assert again.ready["pid"] != proc.ready["pid"]


async def test_stale_and_unrelated_records_are_ignored(
    project: Path, tmp_path: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    runtime = os.environ["TCLAUDE_RUNTIME_DIR"]
    stale = {
        "id": "dead01",
        "name": "ghost",
        "cwd": str(project),
        "port": 1,
        "pid": dead.pid,
        "socket": os.path.join(runtime, "dead01.sock"),
        "started": 1.0,
    }
    Path(runtime, "dead01.json").write_text(json.dumps(stale), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other, _ = await host(elsewhere, name="other")
    nv = await nvim(project)
    await asyncio.sleep(0.3)
    assert await nv.attached_ids() == []
    names = await nv.lua("return require('tclaude.commands').instance_names()")
    assert names == ["other"]
    # an instance appearing later for this directory is noticed (the runtime dir is watched)
    proc, _ = await host(project, name="api")
    await nv.wait_attached([proc.ready["id"]])
    # the one the user switches to is attached too (switching the pane itself needs tmux)
    await nv.command("TClaudeSwitch other")
    await nv.wait_attached(sorted([proc.ready["id"], other.ready["id"]]))
    assert await nv.lua("return require('tclaude').statusline()") == "✻ other idle"


async def test_completion_offers_running_instances(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    await host(project, name="api")
    nv = await nvim(project, {"cmd": TCLAUDE, "claudecode_aliases": True})
    assert await nv.lua("return vim.fn.getcompletion('TClaudeKill ', 'cmdline')") == ["api", "all"]
    assert await nv.lua("return vim.fn.getcompletion('TClaudeSend a', 'cmdline')") == ["api"]
    assert await nv.lua("return vim.fn.exists(':ClaudeCodeSend')") == 2
    assert await nv.lua("return vim.fn.maparg('<Plug>(tclaude-send)', 'x')") != ""


async def test_requests_go_to_the_neovim_used_last(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    proc, cli = await host(project, name="api")
    first = await nvim(project)
    second = await nvim(project)
    await first.wait_attached([proc.ready["id"]])
    await second.wait_attached([proc.ready["id"]])
    readme = str(project / "README.md")
    for nv in (first, second, first):
        await nv.command("doautocmd FocusGained")  # the user enters this Neovim
        await asyncio.sleep(0.1)
        reply = await cli.tool("openFile", {"filePath": readme, "makeFrontmost": False})
        assert json.loads(reply["result"]["content"][0]["text"])["success"] is True
        assert await nv.lua("return vim.fn.bufloaded(...)", readme) == 1
        await nv.command("bwipeout " + readme)


# --- issue 11: the editor used last, pairing from above, worktrees --------------------


async def _open_editors(cli: FakeCli) -> list[str]:
    reply = await cli.tool("getOpenEditors")
    tabs = json.loads(reply["result"]["content"][0]["text"])["tabs"]
    return [str(tab["label"]) for tab in tabs]


async def test_diffs_go_to_the_neovim_that_selected_last(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    """A in proj, B in proj/sub; B opens a file, then A selects lines: A is asked."""
    sub = project / "sub"
    sub.mkdir()
    (sub / "s.txt").write_text("s\n", encoding="utf-8")
    proc, cli = await host(project, name="api", instance_id="usedlast")
    a = await nvim(project)
    b = await nvim(sub)
    await a.wait_attached(["usedlast"])
    await b.wait_attached(["usedlast"])
    await a.command("edit src/app.py")
    await asyncio.sleep(0.3)  # past the focus throttle: B's BufEnter is the later event
    await b.command("edit s.txt")
    for _ in range(100):
        if await _open_editors(cli) == ["s.txt"]:
            break
        await asyncio.sleep(0.05)
    assert await _open_editors(cli) == ["s.txt"]  # B was entered last
    # B's cursor in s.txt reaches Claude too (debounced: under load it came after A's
    # selection below and made B the one used last); wait for it, then select in A
    note = await cli.notification("selection_changed")
    while note["params"]["filePath"] != str(sub / "s.txt"):
        note = await cli.notification("selection_changed")
    await a.feed("2GVj")  # lines 2-3 in A (Claude shows them)
    note = await cli.notification("selection_changed")
    while note["params"]["selection"]["isEmpty"]:
        note = await cli.notification("selection_changed")
    assert note["params"]["filePath"] == str(project / "src" / "app.py")
    assert await _open_editors(cli) == ["app.py"]
    # the instance restarts (`:TClaude` re-created it): both attach again, in any order,
    # and A, used last, is still the one asked
    await a.feed("<Esc>")
    await proc.stop()
    await a.wait_attached([])
    await b.wait_attached([])
    _, again = await host(project, name="api", instance_id="usedlast")
    await a.wait_attached(["usedlast"])
    await b.wait_attached(["usedlast"])
    for _ in range(100):
        if len(await editors_of(proc.socket)) == 2:
            break
        await asyncio.sleep(0.05)
    assert await _open_editors(again) == ["app.py"]


async def test_neovim_above_the_instance_pairs_with_it(
    tmp_path: Path, project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    """`nvim project/src/app.py` from project's parent pairs with project's instance."""
    proc, cli = await host(project, name="api")
    nv = await nvim(project.parent)
    await nv.wait_attached([proc.ready["id"]])
    await nv.command("edit project/src/app.py")
    assert await _open_editors(cli) == ["app.py"]
    assert await nv.lua("return require('tclaude').statusline()") == "✻ api idle"


async def test_several_instances_below_neovim_the_file_decides(
    tmp_path: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    """A monorepo root with an instance per package: all attached; the primary one is the
    one holding the current file, else the newest."""
    root = tmp_path / "mono"
    for pkg in ("a", "b", "c"):
        (root / pkg).mkdir(parents=True)
        (root / pkg / "f.txt").write_text(pkg + "\n", encoding="utf-8")
    pa, _ = await host(root / "a", name="pkg-a")
    pb, _ = await host(root / "b", name="pkg-b")
    nv = await nvim(root)
    await nv.wait_attached(sorted([pa.ready["id"], pb.ready["id"]]))
    await nv.command("edit a/f.txt")
    assert await nv.lua("return require('tclaude').statusline()") == "✻ pkg-a idle"
    await nv.command("edit b/f.txt")
    assert await nv.lua("return require('tclaude').statusline()") == "✻ pkg-b idle"
    await nv.command("edit a/f.txt")
    assert await nv.lua("return require('tclaude').statusline()") == "✻ pkg-a idle"
    await nv.command("edit c/f.txt")  # in none of them: the newest
    assert await nv.lua("return require('tclaude').statusline()") == "✻ pkg-b idle"
    # an instance holding Neovim's cwd wins over those below it, as before
    whole, _ = await host(root, name="mono")
    await nv.wait_attached([whole.ready["id"]])


def _git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=30,
    )


@pytest.fixture
def private_tmux(isolated_env: dict[str, str]) -> Iterator[str]:
    """The test's own tmux server (TCLAUDE_TMUX_SOCKET), emptied afterwards."""
    socket = isolated_env["TCLAUDE_TMUX_SOCKET"]
    yield socket
    subprocess.run([TCLAUDE, "kill", "--all"], capture_output=True, check=False, timeout=30)
    subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, check=False)


async def _instances(nv: Nvim) -> dict[str, str]:
    found = await nv.lua(
        "local out = {} for _, r in ipairs(require('tclaude.discovery').scan()) do "
        "out[r.name] = r.cwd end return out"
    )
    return {str(k): str(v) for k, v in found.items()}


@pytest.mark.parametrize("layout", ["wt/feat2", ".claude/worktrees/feat2"])
async def test_tclaude_in_a_nested_worktree_uses_the_worktrees_own_instance(
    tmp_path: Path, private_tmux: str, nvim: NvimFactory, layout: str
) -> None:
    proj = (tmp_path / "proj").resolve()
    proj.mkdir()
    (proj / "a.txt").write_text("main\n", encoding="utf-8")
    _git("init", "-q", "-b", "main", cwd=proj)
    _git("add", "a.txt", cwd=proj)
    _git("commit", "-q", "-m", "one", cwd=proj)
    _git("worktree", "add", "-q", "-b", "feat2", layout, cwd=proj)
    worktree = proj / layout
    subprocess.run(
        [TCLAUDE, "new", "--name", "main", "--cwd", str(proj)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    nv = await nvim(proj, {"cmd": TCLAUDE})
    await nv.wait_lua("return #require('tclaude').attached() == 1", 20)
    await nv.command(f"edit {layout}/a.txt")
    await nv.command("TClaude")  # the worktree has none: one is made for it
    try:
        await nv.wait_lua("return #require('tclaude.discovery').scan() == 2", 30)
    except TimeoutError:
        raise AssertionError(await nv.messages()) from None
    made = {name: cwd for name, cwd in (await _instances(nv)).items() if name != "main"}
    assert list(made.values()) == [str(worktree)]
    new_id = await nv.wait_lua(
        "local l = require('tclaude.pairing').primary_link() return l and l.record.cwd ~= ... "
        "and l.id",
        20,
        str(proj),
    )
    assert await nv.lua("return require('tclaude.pairing').primary_record().cwd") == str(worktree)
    # pressed again in the worktree: focuses that one, makes no other
    await nv.command("TClaude")
    await asyncio.sleep(0.5)
    assert len(await _instances(nv)) == 2
    assert await nv.lua("return require('tclaude.pairing').primary") == new_id
    # back in the main checkout: its own instance
    await nv.command("edit a.txt")
    await nv.command("TClaude")
    await nv.wait_lua(
        "return require('tclaude.pairing').primary_record().cwd == ...", 20, str(proj)
    )
    assert len(await _instances(nv)) == 2
