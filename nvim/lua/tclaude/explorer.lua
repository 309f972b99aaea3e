-- File explorers: the files and directories under the cursor, in a line range or marked,
-- in netrw, oil.nvim, nvim-tree, neo-tree, mini.files and the snacks explorer. Each adapter
-- uses only the plugin's public calls (listed in docs/neovim.md) and returns absolute paths;
-- a directory ends with "/".
local M = {}

local function exists(path)
  return type(path) == "string" and path ~= "" and (vim.fn.filereadable(path) == 1 or vim.fn.isdirectory(path) == 1)
end

-- `path` made absolute, a directory with a trailing "/" (nil when it does not exist).
local function normal(path)
  if not exists(path) then
    return nil
  end
  local full = vim.fn.fnamemodify(path, ":p")
  if vim.fn.isdirectory(full) == 1 and full:sub(-1) ~= "/" then
    full = full .. "/"
  end
  return full
end

local function collect(out, seen, path)
  local full = normal(path)
  if full and not seen[full] then
    seen[full] = true
    out[#out + 1] = full
  end
end

local function join(dir, name)
  return (dir:gsub("/+$", "")) .. "/" .. name
end

-- Call get(line) with the cursor on each line of first..last, then put the cursor back.
local function each_line(first, last, get)
  local win = vim.api.nvim_get_current_win()
  local cursor = vim.api.nvim_win_get_cursor(win)
  local ok, err = pcall(function()
    for line = first, last do
      vim.api.nvim_win_set_cursor(win, { line, 0 })
      get(line)
    end
  end)
  pcall(vim.api.nvim_win_set_cursor, win, cursor)
  if not ok then
    error(err, 0)
  end
end

local adapters = {}

-- netrw (built in): netrw#Expose("netrwmarkfilelist") for marked files (mf), else
-- netrw#Call("NetrwGetWord") on each line, joined to b:netrw_curdir.
adapters.netrw = function(buf, first, last, out, seen)
  local marked = vim.fn["netrw#Expose"]("netrwmarkfilelist")
  if first == nil and type(marked) == "table" and #marked > 0 then
    for _, path in ipairs(marked) do
      collect(out, seen, path)
    end
    return
  end
  local curdir = vim.b[buf].netrw_curdir or vim.fn.getcwd()
  local function word()
    local w = vim.fn["netrw#Call"]("NetrwGetWord")
    if type(w) == "string" and w ~= "" and w ~= "./" and w ~= "../" and w ~= "." and w ~= ".." then
      collect(out, seen, join(curdir, w))
    end
  end
  if first == nil then
    word()
  else
    each_line(first, last, word)
  end
end

-- oil.nvim: get_current_dir(buf), get_cursor_entry(), get_entry_on_line(buf, line).
adapters.oil = function(buf, first, last, out, seen)
  local oil = require("oil")
  local dir = oil.get_current_dir(buf)
  if not dir then
    return
  end
  local function add(entry)
    if entry and entry.name and entry.name ~= ".." and entry.name ~= "." then
      collect(out, seen, join(dir, entry.name))
    end
  end
  if first == nil then
    add(oil.get_cursor_entry())
  else
    for line = first, last do
      add(oil.get_entry_on_line(buf, line))
    end
  end
end

-- nvim-tree: api.marks.list(), api.tree.get_node_under_cursor(); node.absolute_path.
adapters.NvimTree = function(_, first, last, out, seen)
  local api = require("nvim-tree.api")
  local function add(node)
    if node and node.absolute_path and node.name ~= ".." then
      collect(out, seen, node.absolute_path)
    end
  end
  if first == nil then
    local marks = api.marks.list() or {}
    if #marks > 0 then
      for _, node in ipairs(marks) do
        add(node)
      end
      return
    end
    add(api.tree.get_node_under_cursor())
  else
    each_line(first, last, function()
      add(api.tree.get_node_under_cursor())
    end)
  end
end

-- neo-tree: require("neo-tree.sources.manager").get_state("filesystem"), state.tree:get_node()
-- (cursor) and state.tree:get_node(line); node.type, node.path.
adapters["neo-tree"] = function(_, first, last, out, seen)
  local state = require("neo-tree.sources.manager").get_state("filesystem")
  if not state or not state.tree then
    return
  end
  local function add(node)
    if node and (node.type == "file" or node.type == "directory") then
      collect(out, seen, node.path)
    end
  end
  if first == nil then
    add(state.tree:get_node())
  else
    for line = first, last do
      add(state.tree:get_node(line))
    end
  end
end

-- mini.files: MiniFiles.get_fs_entry(buf, line) (line nil = the cursor's); entry.path.
adapters.minifiles = function(buf, first, last, out, seen)
  local files = require("mini.files")
  local function add(entry)
    if entry and entry.path then
      collect(out, seen, entry.path)
    end
  end
  if first == nil then
    add(files.get_fs_entry(buf))
  else
    for line = first, last do
      add(files.get_fs_entry(buf, line))
    end
  end
end

-- snacks explorer: Snacks.picker.get({ tab = true }), picker:selected({ fallback = true })
-- (the Tab-selected items, else the one under the cursor); item.file (and item.cwd).
adapters.snacks_picker_list = function(_, _, _, out, seen)
  local pickers = require("snacks").picker.get({ tab = true }) or {}
  local win = vim.api.nvim_get_current_win()
  local picker = pickers[#pickers]
  for _, p in ipairs(pickers) do
    if p.list and p.list.win and p.list.win.win == win then
      picker = p
    end
  end
  if not picker then
    return
  end
  for _, item in ipairs(picker:selected({ fallback = true }) or {}) do
    if type(item.file) == "string" then
      local path = item.file
      if path:sub(1, 1) ~= "/" and type(item.cwd) == "string" then
        path = join(item.cwd, path)
      end
      collect(out, seen, path)
    end
  end
end

-- Whether `buf` is a file explorer this module knows.
function M.is_explorer(buf)
  return adapters[vim.bo[buf or 0].filetype] ~= nil
end

-- The paths in explorer buffer `buf`: in lines first..last, or (first nil) the marked
-- ones, else the one under the cursor. Returns paths, or nil and an error message.
function M.paths(buf, first, last)
  buf = (buf == nil or buf == 0) and vim.api.nvim_get_current_buf() or buf
  local filetype = vim.bo[buf].filetype
  local adapter = adapters[filetype]
  if not adapter then
    return nil, "not a file explorer (filetype " .. (filetype ~= "" and filetype or "none") .. ")"
  end
  if first and last and first > last then
    first, last = last, first
  end
  local out, seen = {}, {}
  local ok, err = pcall(adapter, buf, first, first and (last or first) or nil, out, seen)
  if not ok then
    return nil, filetype .. ": " .. tostring(err)
  end
  if #out == 0 then
    return nil, "no file or directory under the cursor"
  end
  return out
end

M.filetypes = vim.tbl_keys(adapters)
table.sort(M.filetypes)

return M
