-- :checkhealth tclaude
local M = {}

local health = vim.health or require("health")
local start = health.start or health.report_start
local ok = health.ok or health.report_ok
local warn = health.warn or health.report_warn
local err = health.error or health.report_error
local info = health.info or health.report_info

-- The claude rows of `tclaude doctor --json`: the claude CLI (found, where, its version)
-- and its version against the supported range (tmuxclaude/claude_version.py has it).
local function claude_rows(argv)
  local cmd = vim.deepcopy(argv)
  vim.list_extend(cmd, { "doctor", "--json" })
  local decoded, rows = pcall(vim.fn.json_decode, vim.fn.system(cmd))
  if not decoded or type(rows) ~= "table" then
    warn("Claude Code unknown: `tclaude doctor --json` gave no answer")
    return
  end
  local by_check = {}
  for _, row in ipairs(rows) do
    if type(row) == "table" and row.check then
      by_check[row.check] = row
    end
  end
  local found = by_check["claude"]
  if found and found.status == "OK" then
    ok("claude found: " .. tostring(found.detail))
  elseif found then
    warn("claude: " .. tostring(found.detail), {
      "instances cannot start without it",
      "or set `claude_command` in ~/.config/tclaude/config.toml ($TCLAUDE_CLAUDE_COMMAND)",
    })
    return
  end
  local version = by_check["claude version"]
  if version then
    if version.status == "OK" then
      ok("Claude Code " .. tostring(version.detail))
    else
      warn(tostring(version.detail), { "see `tclaude doctor` and docs/compatibility.md" })
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
    claude_rows(argv)
  else
    warn("tclaude not found (" .. argv[1] .. "): commands that drive tmux will fail", {
      "install it: pipx install tmuxclaude",
      'or set it: require("tclaude").setup({ cmd = "/path/to/tclaude" })',
    })
    local claude = vim.fn.exepath("claude")
    if claude ~= "" then
      info("claude on PATH: " .. claude .. " (its version is checked through tclaude)")
    else
      warn("claude not found on PATH")
    end
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
