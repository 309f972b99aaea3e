-- checkDocumentDirty: whether the buffer of a file has unsaved changes.
local tools = require("tclaude.tools")

local M = { name = "checkDocumentDirty" }

function M.handler(params, reply)
  local path, buf = tools.open_document(params, reply)
  if not buf then
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
