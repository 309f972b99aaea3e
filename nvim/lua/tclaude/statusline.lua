-- The status line component: the paired instance's name, state and usage (context
-- used and estimated cost, "42% $1.23"), from a cache that pairing events refresh (no
-- I/O when the status line is drawn).
local M = { cache = "" }

function M.refresh()
  local pairing = require("tclaude.pairing")
  local link = pairing.primary_link()
  local text = ""
  if link then
    text = "✻ " .. (link.name or link.id) .. (link.state and (" " .. link.state) or "")
    if link.usage and link.usage ~= "" then
      text = text .. " " .. link.usage
    end
  else
    local record = pairing.primary_record()
    if record then
      text = "✻ " .. (record.name or record.id) .. " (not attached)"
    end
  end
  if text ~= M.cache then
    M.cache = text
    vim.schedule(function()
      pcall(vim.cmd, "redrawstatus!")
    end)
  end
end

function M.get()
  return M.cache
end

return M
