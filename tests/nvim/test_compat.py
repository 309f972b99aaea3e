"""The fallbacks for Neovim 0.8, run on this Neovim with the plugin's modules seeing 0.8's Lua.

Only the plugin's modules get the 0.8 surface (through their environment): no `vim.uv` and
the other names that came in 0.9 / 0.10, `vim.health` with only the `report_*()` functions,
and a `vim.json.encode` that writes "/" as "\\/" as it did before 0.11. Neovim's own runtime
keeps the real ones.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.nvim import conftest
from tests.nvim.conftest import HostFactory, NvimFactory

NVIM_0_8 = r"""
_G.compat_health = {}
local health = vim.health
local health08 = {}
for _, kind in ipairs({ "start", "info", "ok", "warn", "error" }) do
  health08["report_" .. kind] = function(...)
    table.insert(_G.compat_health, kind)
    return health[kind](...)
  end
end
local json08 = setmetatable({
  encode = function(value)
    return (vim.json.encode(value, { escape_slash = true }))
  end,
}, { __index = vim.json })
local missing = { uv = true, system = true, iter = true, islist = true, print = true,
  ringbuf = true, base64 = true }
local vim08 = setmetatable({ health = health08, json = json08 }, {
  __index = function(_, key)
    if not missing[key] then
      return vim[key]
    end
  end,
})
local env = setmetatable({ vim = vim08 }, { __index = _G })
table.insert(package.loaders, 2, function(name)
  if name ~= "tclaude" and not vim.startswith(name, "tclaude.") then
    return nil
  end
  local path = name:gsub("%.", "/")
  local file = vim.api.nvim_get_runtime_file("lua/" .. path .. ".lua", false)[1]
    or vim.api.nvim_get_runtime_file("lua/" .. path .. "/init.lua", false)[1]
  return file and setfenv(assert(loadfile(file)), env)
end)
"""


@pytest.fixture
def nvim_0_8(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Neovims the ``nvim`` fixture starts load the plugin as Neovim 0.8 would."""
    prelude = NVIM_0_8.replace("{", "{{").replace("}", "}}")
    monkeypatch.setattr(conftest, "INIT", prelude + conftest.INIT)


@pytest.mark.usefixtures("nvim_0_8")
async def test_checkhealth_reports_through_report_functions(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    proc, _ = await host(project, name="api")
    nv = await nvim(project, {"cmd": "/nonexistent/tclaude"})
    await nv.wait_attached([proc.ready["id"]])
    await nv.command("checkhealth tclaude")
    report = await nv.lua("return table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\\n')")
    assert re.search(r"OK Neovim version 0\.\d+\.\d+", report)
    assert "WARNING tclaude not found (/nonexistent/tclaude)" in report
    assert "install it: pipx install tmuxclaude" in report  # the advice list
    assert f"instance api ({proc.ready['id']}) in {project}" in report
    assert f"OK attached to api ({proc.ready['id']}), idle, paired" in report
    assert "ERROR" not in report
    calls = await nv.lua("return _G.compat_health")
    assert calls.count("start") == 3
    assert set(calls) == {"start", "ok", "warn", "info"}


@pytest.mark.usefixtures("nvim_0_8")
async def test_pairing_selection_and_tools_without_vim_uv(
    project: Path, host: HostFactory, nvim: NvimFactory
) -> None:
    odd = project / "odd\\" / "f.txt"  # a backslash right before a slash
    odd.parent.mkdir()
    odd.write_text("x\n", encoding="utf-8")
    readme = str(project / "README.md")
    proc, cli = await host(project, name="api")
    nv = await nvim(project)
    await nv.wait_attached([proc.ready["id"]])  # runtime dir and socket through vim.loop
    assert await nv.lua("return vim.uv ~= nil")  # this Neovim has it; the plugin does not see it
    assert await nv.lua("return getfenv(require('tclaude.link').new).vim.uv == nil")
    await nv.lua("vim.cmd('edit ' .. vim.fn.fnameescape(...))", str(odd))
    await nv.lua("vim.cmd('edit ' .. vim.fn.fnameescape(...))", readme)
    sel = await cli.notification("selection_changed")  # the debounce timer
    while sel["params"]["filePath"] != readme:
        sel = await cli.notification("selection_changed")
    assert sel["params"]["fileUrl"] == "file://" + readme
    reply = await cli.tool("getOpenEditors")
    text = reply["result"]["content"][0]["text"]
    assert json.dumps(readme) in text  # no "\/"
    tabs = json.loads(text)["tabs"]
    assert sorted(tab["fileName"] for tab in tabs) == sorted([readme, str(odd)])
    reply = await cli.tool("checkDocumentDirty", {"filePath": str(odd)})  # fs_realpath
    assert json.loads(reply["result"]["content"][0]["text"]) == {
        "success": True,
        "filePath": str(odd),
        "isDirty": False,
        "isUntitled": False,
    }


async def test_tool_json_from_this_neovim_is_left_alone(project: Path, nvim: NvimFactory) -> None:
    odd = str(project / "odd\\" / "f.txt")  # a backslash right before a slash
    nv = await nvim(project, {"auto_attach": False})
    assert await nv.lua("return vim.json.encode('/')") == '"/"'
    text = await nv.lua("return require('tclaude.tools').json({ path = ... }).content[1].text", odd)
    assert text == json.dumps({"path": odd}, separators=(",", ":"))
