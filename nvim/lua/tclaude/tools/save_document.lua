-- saveDocument: write the buffer of a file.
local tools = require("tclaude.tools")

local M = { name = "saveDocument" }

function M.handler(params, reply)
  local path, buf = tools.open_document(params, reply)
  if not buf then
    return
  end
  local ok, err = pcall(vim.api.nvim_buf_call, buf, function()
    vim.cmd("silent write")
  end)
  if not ok then
    reply(tools.json({ success = false, filePath = path, saved = false, message = tostring(err) }))
    return
  end
  reply(tools.json({
    success = true,
    filePath = path,
    saved = true,
    message = "Document saved successfully",
  }))
end

return M
