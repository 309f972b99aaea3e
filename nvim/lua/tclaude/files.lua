-- Files by name, without Ex parsing or expansion: a name from a repository or from
-- Claude may hold newlines, |, %, #, backticks or spaces, and none of it may become an
-- Ex command or shell text (`:edit` splits on newlines; expand() runs backticks).
local M = {}

-- Load the file `path` (as :edit would: autocommands, filetype) and show it in window
-- `win` (default: the current one); returns its buffer.
function M.show(path, win)
  local buf = vim.fn.bufadd(path)
  vim.fn.bufload(buf)
  vim.bo[buf].buflisted = true
  vim.api.nvim_win_set_buf(win or vim.api.nvim_get_current_win(), buf)
  return buf
end

-- `raw` as an absolute path, taken literally: no ~, $VAR, backtick or wildcard expansion.
function M.absolute(raw)
  if raw:sub(1, 1) ~= "/" then
    raw = vim.fn.getcwd() .. "/" .. raw
  end
  return vim.fn.simplify(raw)
end

return M
