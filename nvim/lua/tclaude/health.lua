-- :checkhealth tclaude
local M = {}

local health = vim.health or require("health")
local start = health.start or health.report_start
local ok = health.ok or health.report_ok
local warn = health.warn or health.report_warn
local err = health.error or health.report_error
local info = health.info or health.report_info

-- The claude version row of `tclaude doctor --json` (the version and the supported range).
local function claude_version(argv)
  local cmd = vim.deepcopy(argv)
  vim.list_extend(cmd, { "doctor", "--json" })
  local decoded, rows = pcall(vim.fn.json_decode, vim.fn.system(cmd))
  if not decoded or type(rows) ~= "table" then
    warn("Claude Code version unknown: `tclaude doctor --json` gave no answer")
    return
  end
  for _, row in ipairs(rows) do
    if row.check == "claude version" then
      if row.status == "OK" then
        ok("Claude Code " .. tostring(row.detail))
      else
        warn(tostring(row.detail), { "see `tclaude doctor` and docs/compatibility.md" })
      end
      return
    end
  end
  for _, row in ipairs(rows) do
    if row.check == "claude" and row.status ~= "OK" then
      warn("Claude Code: " .. tostring(row.detail))
      return
    end
  end
end

function M.check()
  local discovery = require("tclaude.discovery")
  local pairing = require("tclaude.pairing")

  start("tclaude: Neovim")
  local v = vim.version()
  local version = string.format("%d.%d.%d", v.major, v.minor, v.patch)
  if vim.fn.has("nvim-0.8") == 1 then
    ok("Neovim version " .. version)
  else
    err("Neovim version " .. version .. ": 0.8 or later is needed")
  end

  start("tclaude: programs")
  local argv = require("tclaude.cli").argv({})
  local exe = vim.fn.exepath(argv[1])
  if exe ~= "" then
    ok("tclaude found: " .. exe)
    claude_version(argv)
  else
    warn("tclaude not found (" .. argv[1] .. "): commands that drive tmux will fail", {
      "install it: pipx install tmuxclaude",
      'or set it: require("tclaude").setup({ cmd = "/path/to/tclaude" })',
    })
  end
  local tmux = vim.fn.exepath("tmux")
  if tmux ~= "" then
    ok("tmux found: " .. tmux)
  else
    warn("tmux not found: instances cannot be created or switched to")
  end
  if vim.env.TMUX and vim.env.TMUX ~= "" then
    ok("inside tmux (pane " .. tostring(vim.env.TMUX_PANE) .. ")")
  else
    info("not inside tmux: :TClaude creates instances in the `tclaude` tmux session")
  end

  start("tclaude: instances")
  local dir = discovery.runtime_dir()
  info("runtime dir: " .. dir)
  local records = discovery.scan()
  if #records == 0 then
    info("no instances running (:TClaude creates one for this directory)")
  end
  for _, record in ipairs(records) do
    info(string.format("instance %s (%s) in %s", record.name, record.id, record.cwd))
  end
  local links = pairing.attached_links()
  if #links == 0 then
    if #records > 0 then
      info("attached to none (no instance's directory holds " .. vim.fn.getcwd() .. ")")
    end
  else
    for _, link in ipairs(links) do
      ok(string.format(
        "attached to %s (%s)%s%s",
        link.name,
        link.id,
        link.state and (", " .. link.state) or "",
        link.id == pairing.primary and ", paired" or ""
      ))
    end
  end
  if not require("tclaude").is_started() then
    warn('setup() was not called: add require("tclaude").setup() to your config')
  end
end

return M
