"""Which instances a Neovim is the editor of, and finding them again after restarts."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

from tests.nvim.conftest import HostFactory, NvimFactory
from tests.support.hosts import EditorClient

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
