-- The tools this Neovim serves for its instances: one module per tool, each returning
-- { name = ..., handler = function(params, reply, link) }. A handler calls
-- reply(result) or raises error({ code = ..., message = ... }); openDiff replies later.
local M = {}

M.names = {
  openFile = "tclaude.tools.open_file",
  openDiff = "tclaude.tools.open_diff",
  getCurrentSelection = "tclaude.tools.get_current_selection",
  getOpenEditors = "tclaude.tools.get_open_editors",
  getDiagnostics = "tclaude.tools.get_diagnostics",
  checkDocumentDirty = "tclaude.tools.check_document_dirty",
  saveDocument = "tclaude.tools.save_document",
}

-- An MCP tool result with one text block per argument.
function M.text(...)
  local content = {}
  for _, text in ipairs({ ... }) do
    content[#content + 1] = { type = "text", text = text }
  end
  return { content = content }
end

-- Before Neovim 0.11, vim.json.encode writes "/" as "\/": valid JSON, but Claude reads
-- the text, so keep paths as they are. In its output every "\/" is such an escape.
local escapes_slash = vim.json.encode("/") == '"\\/"'

-- An MCP tool result whose one text block is `value` as JSON.
function M.json(value)
  local text = vim.json.encode(value)
  if escapes_slash then
    text = text:gsub("\\/", "/")
  end
  return M.text(text)
end

function M.fail(code, message)
  error({ code = code, message = message }, 0)
end

-- The loaded buffer whose file is `path`, or nil.
function M.find_buffer(path)
  if type(path) ~= "string" or path == "" then
    return nil
  end
  local want = vim.fn.fnamemodify(path, ":p")
  local real = (vim.uv or vim.loop).fs_realpath(want)
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.bo[buf].buftype == "" then
      local name = vim.api.nvim_buf_get_name(buf)
      if name ~= "" and (name == want or name == path or (real and name == real)) then
        return buf
      end
    end
  end
  return nil
end

-- For the tools on one open file: `params.filePath` and its buffer; when it is not
-- open, answers "Document not open" itself and returns the path and nil.
function M.open_document(params, reply)
  local path = M.require_string(params, "filePath")
  local buf = M.find_buffer(path)
  if not buf then
    reply(M.json({ success = false, filePath = path, message = "Document not open: " .. path }))
  end
  return path, buf
end

function M.require_string(params, key)
  local value = params[key]
  if type(value) ~= "string" or value == "" then
    M.fail(-32602, "missing or bad argument: " .. key)
  end
  return value
end

-- Answer a request from the host over `link`.
function M.handle(link, msg)
  local module = M.names[msg.method]
  if not module then
    link:respond_error(msg.id, -32601, "Method not found: " .. tostring(msg.method))
    return
  end
  local params = type(msg.params) == "table" and msg.params or {}
  local answered = false
  local function reply(result)
    if answered then
      return
    end
    answered = true
    link:respond(msg.id, result)
  end
  local ok, err = pcall(function()
    require(module).handler(params, reply, link, msg.id)
  end)
  if not ok and not answered then
    answered = true
    if type(err) == "table" and err.code then
      link:respond_error(msg.id, err.code, tostring(err.message), err.data)
    else
      link:respond_error(msg.id, -32000, tostring(err))
    end
  end
end

return M
