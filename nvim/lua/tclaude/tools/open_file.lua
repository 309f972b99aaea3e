-- openFile: open a file and select a range of lines or of text.
local tools = require("tclaude.tools")

local M = { name = "openFile" }

local function suitable(win)
  if vim.api.nvim_win_get_config(win).relative ~= "" then
    return false
  end
  if vim.wo[win].diff then
    return false
  end
  local buf = vim.api.nvim_win_get_buf(win)
  return vim.bo[buf].buftype == ""
end

-- The window to open files in: the current one if it holds a file, else another one in
-- this tab page, else a new split.
local function editor_window()
  local current = vim.api.nvim_get_current_win()
  if suitable(current) then
    return current
  end
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if suitable(win) then
      return win
    end
  end
  vim.cmd("botright vnew")
  return vim.api.nvim_get_current_win()
end

local function select_range(win, s_line, s_col, e_line, e_col)
  vim.api.nvim_win_call(win, function()
    local buf = vim.api.nvim_get_current_buf()
    vim.api.nvim_buf_set_mark(buf, "<", s_line, s_col, {})
    vim.api.nvim_buf_set_mark(buf, ">", e_line, e_col, {})
    vim.api.nvim_win_set_cursor(win, { s_line, s_col })
    vim.cmd("normal! zz")
  end)
end

local function find_text(lines, needle, from_line)
  for i = from_line, #lines do
    local col = lines[i]:find(needle, 1, true)
    if col then
      return i, col - 1
    end
  end
  return nil
end

function M.handler(params, reply)
  local files = require("tclaude.files")
  local path = files.absolute(tools.require_string(params, "filePath"))
  if vim.fn.filereadable(path) == 0 then
    tools.fail(-32000, "File not found: " .. path)
  end
  if params.makeFrontmost == false then
    local buf = vim.fn.bufadd(path)
    vim.fn.bufload(buf)
    vim.bo[buf].buflisted = true
    local filetype = vim.bo[buf].filetype
    if filetype == "" then
      filetype = vim.filetype.match({ buf = buf, filename = path }) or ""
    end
    reply(tools.json({
      success = true,
      filePath = path,
      languageId = filetype ~= "" and filetype or "plaintext",
      lineCount = vim.api.nvim_buf_line_count(buf),
    }))
    return
  end
  local win = editor_window()
  vim.api.nvim_set_current_win(win)
  files.show(path)
  local buf = vim.api.nvim_win_get_buf(win)
  local line_count = vim.api.nvim_buf_line_count(buf)
  local start_line = type(params.startLine) == "number" and params.startLine or nil
  local end_line = type(params.endLine) == "number" and params.endLine or nil
  local start_text = type(params.startText) == "string" and params.startText ~= "" and params.startText or nil
  local end_text = type(params.endText) == "string" and params.endText ~= "" and params.endText or nil
  if start_text then
    local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
    local sl, sc = find_text(lines, start_text, 1)
    if sl then
      local el, ec = sl, sc + #start_text - 1
      if end_text then
        local l, c = find_text(lines, end_text, sl)
        if l then
          el, ec = l, c + #end_text - 1
        end
      end
      if params.selectToEndOfLine then
        ec = math.max(#lines[el] - 1, 0)
      end
      select_range(win, sl, sc, el, ec)
    end
  elseif start_line or end_line then
    local s = math.min(math.max(start_line or end_line, 1), line_count)
    local e = math.min(math.max(end_line or s, s), line_count)
    select_range(win, s, 0, e, 2147483647)
  end
  reply(tools.text("Opened file: " .. path))
end

return M
