-- Finding running instances: the hosts' runtime records (<runtime>/<id>.json).
-- A record whose pid is not alive is stale and ignored. No process is started here.
local config = require("tclaude.config")

local uv = vim.uv or vim.loop
local M = {}

local function strip_slash(path)
  if #path > 1 then
    path = path:gsub("/+$", "")
  end
  return path
end

-- The runtime dir, resolved as tclaude resolves it (docs/editor-protocol.md).
function M.runtime_dir()
  local opt = config.options.runtime_dir
  if opt and opt ~= "" then
    return strip_slash(vim.fn.expand(opt))
  end
  local env = vim.env.TCLAUDE_RUNTIME_DIR
  if env and env ~= "" then
    return strip_slash(env)
  end
  local xdg = vim.env.XDG_RUNTIME_DIR
  if xdg and xdg ~= "" and vim.fn.isdirectory(xdg) == 1 then
    return strip_slash(xdg) .. "/tclaude"
  end
  local tmp
  for _, var in ipairs({ "TMPDIR", "TEMP", "TMP" }) do
    local value = vim.env[var]
    if value and value ~= "" and vim.fn.isdirectory(value) == 1 then
      tmp = value
      break
    end
  end
  local uid = uv.getuid and uv.getuid() or tonumber(vim.fn.system({ "id", "-u" })) or 0
  return strip_slash(tmp or "/tmp") .. "/tclaude-" .. uid
end

function M.realpath(path)
  return uv.fs_realpath(path) or strip_slash(vim.fn.fnamemodify(path, ":p"))
end

function M.alive(pid)
  if type(pid) ~= "number" or pid <= 0 then
    return false
  end
  local ok, _, name = uv.kill(pid, 0)
  return ok == 0 or name == "EPERM"
end

local function read_json(path)
  local handle = io.open(path, "r")
  if not handle then
    return nil
  end
  local text = handle:read("*a")
  handle:close()
  local ok, value = pcall(vim.json.decode, text)
  if ok and type(value) == "table" then
    return value
  end
  return nil
end

local function valid(record)
  return type(record.id) == "string"
    and type(record.cwd) == "string"
    and type(record.socket) == "string"
    and type(record.pid) == "number"
end

-- Live instances from the runtime dir, oldest first: a list of records.
function M.scan()
  local dir = M.runtime_dir()
  local found = {}
  local handle = uv.fs_scandir(dir)
  if not handle then
    return found
  end
  while true do
    local name, kind = uv.fs_scandir_next(handle)
    if not name then
      break
    end
    if kind ~= "directory" and name:sub(1, 1) ~= "." and name:match("%.json$") then
      local record = read_json(dir .. "/" .. name)
      if record and valid(record) and M.alive(record.pid) then
        if type(record.name) ~= "string" then
          record.name = record.id
        end
        found[#found + 1] = record
      end
    end
  end
  table.sort(found, function(a, b)
    local sa, sb = tonumber(a.started) or 0, tonumber(b.started) or 0
    if sa ~= sb then
      return sa < sb
    end
    return a.id < b.id
  end)
  return found
end

-- Whether `path` is `dir` or lies below it.
function M.contains(dir, path)
  dir = strip_slash(dir)
  if dir == path or dir == "/" then
    return true
  end
  return path:sub(1, #dir + 1) == dir .. "/"
end

-- The records an editor in `cwd` pairs with: those with the deepest cwd holding it; when
-- none holds it, every record whose cwd lies below it (Neovim started at a monorepo's root,
-- or one directory up: `nvim proj/app.py`).
function M.pair(records, cwd)
  cwd = M.realpath(cwd)
  local best, depth, below = {}, -1, {}
  for _, record in ipairs(records) do
    local rcwd = strip_slash(record.cwd)
    if M.contains(rcwd, cwd) then
      if #rcwd > depth then
        best, depth = { record }, #rcwd
      elseif #rcwd == depth then
        best[#best + 1] = record
      end
    elseif M.contains(cwd, rcwd) then
      below[#below + 1] = record
    end
  end
  if #best == 0 then
    return below
  end
  return best
end

-- Of `records`, the newest of those with the deepest cwd holding the file `path`, or nil.
function M.deepest_holding(records, path)
  local best, depth = nil, -1
  for _, record in ipairs(records) do
    local rcwd = strip_slash(record.cwd)
    if M.contains(rcwd, path) and #rcwd >= depth then
      best, depth = record, #rcwd
    end
  end
  return best
end

-- The root of the git worktree holding `dir` (`git rev-parse --show-toplevel`), or nil.
function M.git_root(dir)
  if vim.fn.executable("git") == 0 or vim.fn.isdirectory(dir) == 0 then
    return nil
  end
  local out = vim.fn.systemlist({ "git", "-C", dir, "rev-parse", "--show-toplevel" })
  if vim.v.shell_error ~= 0 or not out[1] or out[1] == "" then
    return nil
  end
  return M.realpath(out[1])
end

-- The record whose name or id is `target` (names first), or nil.
function M.find(records, target)
  for _, record in ipairs(records) do
    if record.name == target then
      return record
    end
  end
  for _, record in ipairs(records) do
    if record.id == target then
      return record
    end
  end
  return nil
end

-- Watch the runtime dir; `on_change` runs (scheduled, coalesced) when records change.
-- Returns a stop function. Creates the dir (0700) when missing so it can be watched.
function M.watch(on_change)
  local dir = M.runtime_dir()
  if vim.fn.isdirectory(dir) == 0 then
    pcall(vim.fn.mkdir, dir, "p", 448) -- 0700, as the hosts make it
  end
  local timer = uv.new_timer()
  local function fire()
    timer:stop()
    timer:start(30, 0, vim.schedule_wrap(on_change))
  end
  local event = uv.new_fs_event()
  local ok = event and event:start(dir, {}, function(err, filename)
    if err or not filename or filename:match("%.json$") then
      fire()
    end
  end)
  local poll
  if not ok then
    -- no inotify (or the dir cannot be watched): look every few seconds instead
    if event then
      event:close()
      event = nil
    end
    poll = uv.new_timer()
    poll:start(3000, 3000, vim.schedule_wrap(on_change))
  end
  return function()
    if event and not event:is_closing() then
      event:stop()
      event:close()
    end
    if poll and not poll:is_closing() then
      poll:stop()
      poll:close()
    end
    if not timer:is_closing() then
      timer:stop()
      timer:close()
    end
  end
end

return M
