-- checkDocumentDirty: whether the buffer of a file has unsaved changes.
local tools = require("tclaude.tools")

local M = { name = "checkDocumentDirty" }

function M.handler(params, reply)
  local path = tools.require_string(params, "filePath")
  local buf = tools.find_buffer(path)
  if not buf then
    reply(tools.json({ success = false, filePath = path, message = "Document not open: " .. path }))
    return
  end
  reply(tools.json({
    success = true,
    filePath = path,
    isDirty = vim.bo[buf].modified,
    isUntitled = vim.api.nvim_buf_get_name(buf) == "",
  }))
end

return M
