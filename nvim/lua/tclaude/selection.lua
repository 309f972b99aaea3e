-- Selection tracking: the visual selection (or the cursor, as an empty selection) of a
-- file buffer, sent to every attached instance as `selection_changed`, debounced and only
-- when it changed. Lines and characters are 0-based; characters count code points.
local config = require("tclaude.config")
local pairing = require("tclaude.pairing")

local uv = vim.uv or vim.loop
local M = {
  latest = nil, -- the latest selection of a file buffer (a table as sent)
  _sent = nil, -- JSON of the latest selection sent
  _timer = nil,
  _visual_exit = nil, -- { buf, tick, cursor, selection } when visual mode was left
}

local function is_visual(mode)
  return mode == "v" or mode == "V" or mode == "\22"
end

-- Whether `buf` is a file Claude can see: a normal buffer with a name (not a terminal,
-- not a diff proposal, not a plugin window).
function M.is_file_buffer(buf)
  if not vim.api.nvim_buf_is_valid(buf) then
    return false
  end
  if vim.bo[buf].buftype ~= "" then
    return false
  end
  local name = vim.api.nvim_buf_get_name(buf)
  -- a directory listing (netrw's buffers are normal buffers named after the directory)
  -- is no file
  return name ~= "" and not name:match("^%a[%w+.-]*://") and vim.fn.isdirectory(name) == 0
end

local function char_index(line, byte_col)
  if byte_col <= 0 then
    return 0
  end
  return vim.fn.strchars(line:sub(1, byte_col))
end

local function file_url(path)
  return "file://" .. path
end

-- The payload for a visual selection from `a` to `b` ({1-based line, 0-based byte col},
-- a before b) in `buf`, in visual mode `vmode` ("v", "V" or CTRL-V).
local function build(buf, vmode, a, b)
  local path = vim.api.nvim_buf_get_name(buf)
  local lines = vim.api.nvim_buf_get_lines(buf, a[1] - 1, b[1], false)
  local first, last = lines[1] or "", lines[#lines] or ""
  local text, start_char, end_char
  if vmode == "V" then
    text = table.concat(lines, "\n")
    start_char, end_char = 0, vim.fn.strchars(last)
  elseif vmode == "v" then
    -- inclusive end: take the whole (possibly multi-byte) character under it
    local end_byte = math.min(b[2], math.max(#last - 1, 0))
    if #last > 0 then
      end_byte = end_byte + math.max(#vim.fn.strcharpart(last:sub(end_byte + 1), 0, 1), 1)
    end
    if #lines == 1 then
      text = first:sub(a[2] + 1, end_byte)
    else
      local parts = { first:sub(a[2] + 1) }
      for i = 2, #lines - 1 do
        parts[#parts + 1] = lines[i]
      end
      parts[#parts + 1] = last:sub(1, end_byte)
      text = table.concat(parts, "\n")
    end
    start_char, end_char = char_index(first, a[2]), char_index(last, end_byte)
  else
    -- blockwise: the rectangle's text, one row per line
    local c1, c2 = math.min(a[2], b[2]), math.max(a[2], b[2])
    local rows = {}
    for i, line in ipairs(lines) do
      rows[i] = line:sub(c1 + 1, c2 + 1)
    end
    text = table.concat(rows, "\n")
    start_char, end_char = char_index(first, c1), char_index(last, math.min(c2 + 1, #last))
  end
  return {
    text = text,
    filePath = path,
    fileUrl = file_url(path),
    selection = {
      start = { line = a[1] - 1, character = start_char },
      ["end"] = { line = b[1] - 1, character = end_char },
      isEmpty = text == "",
    },
  }
end

-- The selection of the current window as a selection_changed payload, or nil when the
-- current buffer is no file.
function M.current()
  local win = vim.api.nvim_get_current_win()
  local buf = vim.api.nvim_win_get_buf(win)
  if not M.is_file_buffer(buf) then
    return nil
  end
  local path = vim.api.nvim_buf_get_name(buf)
  local mode = vim.api.nvim_get_mode().mode
  local cursor = vim.api.nvim_win_get_cursor(win)
  if is_visual(mode) then
    local anchor = vim.fn.getpos("v")
    local a = { anchor[2], anchor[3] - 1 }
    local b = { cursor[1], cursor[2] }
    if a[1] > b[1] or (a[1] == b[1] and a[2] > b[2]) then
      a, b = b, a
    end
    return build(buf, mode, a, b)
  end
  -- just left visual mode and nothing moved or changed since: keep that selection, so a
  -- user who selects, presses <Esc> and goes to Claude's pane still shares it
  local exit = M._visual_exit
  if
    exit
    and exit.buf == buf
    and exit.tick == vim.api.nvim_buf_get_changedtick(buf)
    and exit.cursor[1] == cursor[1]
    and exit.cursor[2] == cursor[2]
  then
    return exit.selection
  end
  M._visual_exit = nil
  local line = vim.api.nvim_buf_get_lines(buf, cursor[1] - 1, cursor[1], false)[1] or ""
  local pos = { line = cursor[1] - 1, character = char_index(line, cursor[2]) }
  return {
    text = "",
    filePath = path,
    fileUrl = file_url(path),
    selection = { start = pos, ["end"] = { line = pos.line, character = pos.character }, isEmpty = true },
  }
end

-- Compute the selection now and send it if it changed (to `only`, or every attached link).
function M.update(force, only)
  local selection = M.current()
  if not selection then
    return
  end
  M.latest = selection
  local encoded = vim.json.encode(selection)
  if encoded == M._sent and not force then
    return
  end
  pairing.touch() -- the selection moved: the user is here (this Neovim gets the diffs)
  local links = only and { only } or pairing.attached_links()
  if #links == 0 then
    return
  end
  M._sent = encoded
  for _, link in ipairs(links) do
    link._selection_sent = encoded
    link:notify("selection_changed", selection)
  end
end

local function schedule_update()
  if not M._timer then
    M._timer = uv.new_timer()
  end
  M._timer:stop()
  M._timer:start(
    config.options.debounce_ms or 100,
    0,
    vim.schedule_wrap(function()
      M.update(false)
    end)
  )
end

-- Leaving visual mode: remember the selection from the '< '> marks (the mode is already
-- normal when this runs) for as long as the cursor stays where it was.
local function on_mode_changed()
  local event = vim.v.event or {}
  if is_visual(event.old_mode) and not is_visual(event.new_mode) then
    M._visual_exit = nil
    local buf = vim.api.nvim_get_current_buf()
    local s = vim.api.nvim_buf_get_mark(buf, "<")
    local e = vim.api.nvim_buf_get_mark(buf, ">")
    if M.is_file_buffer(buf) and s[1] > 0 and e[1] > 0 then
      local vmode = vim.fn.visualmode()
      local selection = build(buf, vmode ~= "" and vmode or "v", s, e)
      if not selection.selection.isEmpty then
        M._visual_exit = {
          buf = buf,
          tick = vim.api.nvim_buf_get_changedtick(buf),
          cursor = vim.api.nvim_win_get_cursor(0),
          selection = selection,
        }
      end
    end
  end
  schedule_update()
end

function M.enable()
  local group = vim.api.nvim_create_augroup("TClaudeSelection", { clear = true })
  vim.api.nvim_create_autocmd({ "CursorMoved", "CursorMovedI", "BufEnter", "TextChanged" }, {
    group = group,
    callback = schedule_update,
  })
  vim.api.nvim_create_autocmd("ModeChanged", { group = group, callback = on_mode_changed })
end

function M.disable()
  pcall(vim.api.nvim_del_augroup_by_name, "TClaudeSelection")
  if M._timer then
    M._timer:stop()
  end
end

-- A newly connected instance gets the current selection at once (once: the host takes a
-- selection as the user acting in this Neovim).
function M.send_to(link)
  local selection = M.current() or M.latest
  if selection then
    M.latest = selection
    local encoded = vim.json.encode(selection)
    if link._selection_sent ~= encoded then
      link._selection_sent = encoded
      link:notify("selection_changed", selection)
    end
  end
end

return M
