-- tclaude.nvim: Neovim as the editor of every tclaude instance whose directory it is in.
-- See :help tclaude and docs/editor-protocol.md.
local M = {}

local started = false
local stop_watch = nil

function M.setup(opts)
  local config = require("tclaude.config")
  local pairing = require("tclaude.pairing")
  local selection = require("tclaude.selection")
  local statusline = require("tclaude.statusline")
  if vim.fn.has("nvim-0.8") == 0 then
    vim.notify("tclaude: Neovim 0.8 or later is needed", vim.log.levels.ERROR)
    return
  end
  if started then
    M.stop()
  end
  started = true
  config.setup(opts)
  pairing.request_handler = require("tclaude.tools").handle
  if not M._listening then
    M._listening = true
    pairing.on_change(function(event, link)
      if event == "attached" and config.options.track_selection then
        selection.send_to(link)
      elseif event == "detached" then
        require("tclaude.diff").link_closed(link)
      end
      statusline.refresh()
    end)
  end

  local group = vim.api.nvim_create_augroup("TClaude", { clear = true })
  vim.api.nvim_create_autocmd("DirChanged", {
    group = group,
    callback = function()
      pairing.unpin()
      pairing.sync()
    end,
  })
  local last_focus = 0
  local function focus()
    local now = (vim.uv or vim.loop).now()
    if now - last_focus >= 200 then
      last_focus = now
      pairing.focus()
    end
  end
  vim.api.nvim_create_autocmd("FocusGained", {
    group = group,
    callback = function()
      last_focus = 0
      focus()
      pcall(vim.cmd, "silent! checktime")
    end,
  })
  vim.api.nvim_create_autocmd("BufEnter", { group = group, callback = focus })
  -- the primary instance follows the current file (the deepest instance holding it)
  vim.api.nvim_create_autocmd("BufEnter", {
    group = group,
    callback = function()
      local before = pairing.primary
      if pairing.choose_primary() ~= before then
        statusline.refresh()
      end
    end,
  })
  vim.api.nvim_create_autocmd("VimLeavePre", {
    group = group,
    callback = function()
      M.stop()
    end,
  })

  stop_watch = require("tclaude.discovery").watch(pairing.sync)
  if config.options.track_selection then
    selection.enable()
  end
  require("tclaude.commands").setup()
  pairing.sync()
end

-- Detach from every instance and stop watching (setup() starts again).
function M.stop()
  started = false
  if stop_watch then
    stop_watch()
    stop_watch = nil
  end
  require("tclaude.selection").disable()
  require("tclaude.pairing").stop()
  pcall(vim.api.nvim_del_augroup_by_name, "TClaude")
end

-- The status line component: "✻ <name> <state>" of the paired instance, or "".
function M.statusline()
  return require("tclaude.statusline").get()
end

-- What this Neovim is attached to: a list of { id, name, state, cwd, primary }.
function M.attached()
  local pairing = require("tclaude.pairing")
  local out = {}
  for _, link in ipairs(pairing.attached_links()) do
    out[#out + 1] = {
      id = link.id,
      name = link.name,
      state = link.state,
      cwd = link.record.cwd,
      primary = link.id == pairing.primary,
    }
  end
  return out
end

function M.is_started()
  return started
end

-- Look for instances again now (the runtime dir is watched; this is rarely needed).
function M.refresh()
  require("tclaude.pairing").sync()
end

return M
