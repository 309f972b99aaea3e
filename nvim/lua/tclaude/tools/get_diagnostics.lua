-- getDiagnostics: vim.diagnostic for one file (uri) or every buffer.
local tools = require("tclaude.tools")

local M = { name = "getDiagnostics" }

local SEVERITY = { "Error", "Warning", "Information", "Hint" }

local function uri_to_path(uri)
  if uri:match("^file://") then
    return vim.uri_to_fname(uri)
  end
  return uri
end

function M.handler(params, reply)
  local files, by_path = {}, {}
  local function file_for(path)
    local entry = by_path[path]
    if not entry then
      entry = { uri = "file://" .. path, diagnostics = {} }
      by_path[path] = entry
      files[#files + 1] = entry
    end
    return entry
  end
  local diagnostics
  if type(params.uri) == "string" and params.uri ~= "" then
    local path = uri_to_path(params.uri)
    local buf = tools.find_buffer(path)
    if not buf then
      reply(tools.json({}))
      return
    end
    file_for(vim.api.nvim_buf_get_name(buf))
    diagnostics = vim.diagnostic.get(buf)
  else
    diagnostics = vim.diagnostic.get(nil)
  end
  for _, d in ipairs(diagnostics) do
    local path = d.bufnr and vim.api.nvim_buf_is_valid(d.bufnr) and vim.api.nvim_buf_get_name(d.bufnr) or ""
    if path ~= "" then
      local lnum, col = d.lnum or 0, d.col or 0
      local entry = {
        message = tostring(d.message or ""),
        severity = SEVERITY[d.severity] or "Information",
        range = {
          start = { line = lnum, character = col },
          ["end"] = { line = d.end_lnum or lnum, character = d.end_col or col },
        },
        source = type(d.source) == "string" and d.source or "",
      }
      if d.code ~= nil then
        entry.code = tostring(d.code)
      end
      table.insert(file_for(path).diagnostics, entry)
    end
  end
  if #files == 0 then
    reply(tools.text("[]")) -- an empty Lua table would encode as [] too; be explicit
    return
  end
  reply(tools.json(files))
end

return M
