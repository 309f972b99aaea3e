-- getCurrentSelection: the selection in the current window, or the latest one of a file.
local tools = require("tclaude.tools")

local M = { name = "getCurrentSelection" }

function M.handler(_, reply)
  local selection = require("tclaude.selection")
  local current = selection.current() or selection.latest
  if not current then
    reply(tools.json({ success = false, message = "No active editor found" }))
    return
  end
  local out = vim.deepcopy(current)
  out.success = true
  reply(tools.json(out))
end

return M
