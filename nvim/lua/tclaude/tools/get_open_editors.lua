-- getOpenEditors: the listed file buffers, the current one active.
local tools = require("tclaude.tools")

local M = { name = "getOpenEditors" }

function M.handler(_, reply)
  local current = vim.api.nvim_get_current_buf()
  local tabs = {}
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].buflisted and vim.bo[buf].buftype == "" then
      local path = vim.api.nvim_buf_get_name(buf)
      if path ~= "" then
        local filetype = vim.bo[buf].filetype
        tabs[#tabs + 1] = {
          uri = "file://" .. path,
          isActive = buf == current,
          label = vim.fn.fnamemodify(path, ":t"),
          languageId = filetype ~= "" and filetype or "plaintext",
          isDirty = vim.bo[buf].modified,
          fileName = path,
          isUntitled = false,
          lineCount = vim.api.nvim_buf_line_count(buf),
        }
      end
    end
  end
  reply(tools.json({ tabs = tabs }))
end

return M
