-- Which instances this Neovim is the editor of, and the links to them.
--
-- Attached: the instances whose cwd holds Neovim's cwd (the deepest such cwd wins, so a
-- worktree pairs with its own instance), or when none does, those whose cwd lies below
-- Neovim's; plus the one the user switched to. `sync` makes the links match that; it runs
-- on start, on DirChanged, when the runtime dir changes and when a link drops (an instance
-- restarting comes back with a new pid).
--
-- The primary instance (what commands default to): the one switched to; else, of the
-- paired ones, the deepest holding the current buffer's file; else the newest.
local config = require("tclaude.config")
local discovery = require("tclaude.discovery")
local link_mod = require("tclaude.link")

local M = {
  links = {}, -- id -> link (connecting or attached)
  records = {}, -- the latest scan
  pinned = nil, -- id of the instance the user switched to
  primary = nil, -- id of the instance commands default to
  used_at = 0, -- uv.now() when the user last acted here (selection, mention, focus)
}

local uv = vim.uv or vim.loop

-- The user acted in this Neovim: it is the editor "used last" of its instances.
function M.touch()
  M.used_at = uv.now()
end

local listeners = {}

-- fn(event, link) on "attached", "detached", "state"
function M.on_change(fn)
  listeners[#listeners + 1] = fn
end

local function emit(event, link)
  for _, fn in ipairs(listeners) do
    pcall(fn, event, link)
  end
  pcall(vim.api.nvim_exec_autocmds, "User", {
    pattern = "TClaude" .. event:sub(1, 1):upper() .. event:sub(2),
    modeline = false,
    data = link and { id = link.id, name = link.name, state = link.state } or nil,
  })
end

function M.editor_name()
  return config.options.editor_name or ("nvim " .. vim.fn.getpid())
end

-- The tool requests the host forwards; set by init to tools.handle.
M.request_handler = nil

local sync_timer = nil

-- Run sync after `ms` (coalesced).
function M.sync_later(ms)
  if sync_timer then
    sync_timer:stop()
  else
    sync_timer = (vim.uv or vim.loop).new_timer()
  end
  sync_timer:start(ms or 100, 0, vim.schedule_wrap(M.sync))
end

local function on_notification(link, msg)
  local params = type(msg.params) == "table" and msg.params or {}
  if msg.method == "close_tab" and type(params.tab_name) == "string" then
    require("tclaude.diff").close_by_name(params.tab_name, link)
  elseif msg.method == "usage_changed" and type(params.text) == "string" then
    link.usage = params.text
    emit("state", link)
  elseif msg.method == "state_changed" and type(params.state) == "string" then
    link.state = params.state
    if link.status then
      link.status.state = params.state
    end
    emit("state", link)
    if params.state ~= "busy" then
      -- claude may have written files during its turn
      vim.schedule(function()
        pcall(vim.cmd, "silent! checktime")
      end)
    end
  end
end

local function on_request(link, msg)
  if M.request_handler then
    M.request_handler(link, msg)
  else
    link:respond_error(msg.id, -32601, "Method not found: " .. tostring(msg.method))
  end
end

local function on_close(link, reason)
  if M.links[link.id] == link then
    M.links[link.id] = nil
  end
  emit("detached", link)
  -- an instance that restarts comes back with a new record; look again shortly
  M.sync_later(300)
end

local function attach(record)
  local link = link_mod.new(record, {
    on_request = on_request,
    on_notification = on_notification,
    on_close = on_close,
  })
  M.links[record.id] = link
  link:connect(function(err)
    if err then
      if M.links[record.id] == link then
        M.links[record.id] = nil
      end
      M.sync_later(1000)
      return
    end
    -- the current selection first, then attach saying when the user last acted here:
    -- Neovims re-attaching to a restarted instance keep their order of use
    if config.options.track_selection then
      pcall(function()
        require("tclaude.selection").send_to(link)
      end)
    end
    local used = math.max(uv.now() - M.used_at, 0) / 1000
    link:request("attach", { name = M.editor_name(), used = used }, function(rpc_err, status)
      if rpc_err or type(status) ~= "table" then
        link:close()
        if M.links[record.id] == link then
          M.links[record.id] = nil
        end
        return
      end
      link.attached = true
      link.status = status
      link.state = type(status.state) == "string" and status.state or nil
      link.usage = type(status.usage_text) == "string" and status.usage_text or nil
      link.name = type(status.name) == "string" and status.name or link.name
      emit("attached", link)
    end)
  end)
  return link
end

local function same_host(a, b)
  return a.pid == b.pid and a.socket == b.socket and a.started == b.started
end

-- Make the links match the instances this Neovim should be the editor of.
function M.sync()
  local records = discovery.scan()
  M.records = records
  local by_id, wanted = {}, {}
  for _, record in ipairs(records) do
    by_id[record.id] = record
  end
  local paired = config.options.auto_attach and discovery.pair(records, vim.fn.getcwd()) or {}
  for _, record in ipairs(paired) do
    wanted[record.id] = record
  end
  if M.pinned and by_id[M.pinned] then
    wanted[M.pinned] = by_id[M.pinned]
  end
  for id, link in pairs(M.links) do
    local record = wanted[id]
    if not record or not same_host(record, link.record) then
      M.links[id] = nil
      link:close()
      emit("detached", link)
    end
  end
  for id, record in pairs(wanted) do
    if not M.links[id] then
      attach(record)
    end
  end
  M.paired = paired
  M.choose_primary()
  emit("synced", nil)
end

-- The file of the current buffer (resolved), or nil.
local function current_file()
  local buf = vim.api.nvim_get_current_buf()
  local name = vim.api.nvim_buf_get_name(buf)
  if name == "" or vim.bo[buf].buftype ~= "" or name:match("^%a[%w+.-]*://") then
    return nil
  end
  return discovery.realpath(name)
end

-- Set M.primary from the pinned instance, the current buffer's file and the paired ones.
function M.choose_primary()
  local paired = M.paired or {}
  local ids = {}
  for _, record in ipairs(M.records) do
    ids[record.id] = true
  end
  if M.pinned and ids[M.pinned] then
    M.primary = M.pinned
    return M.primary
  end
  local file = current_file()
  local holder = file and discovery.deepest_holding(paired, file)
  if holder then
    M.primary = holder.id
  elseif #paired > 0 then
    M.primary = paired[#paired].id -- the newest
  else
    M.primary = nil
  end
  return M.primary
end

-- Attach to `record` and make it the default target (what :TClaudeSwitch does).
function M.pin(record)
  M.pinned = record.id
  M.primary = record.id
  if not M.links[record.id] then
    attach(record)
  end
  M.sync()
end

-- Forget the pinned instance (the cwd changed: pair by directory again).
function M.unpin()
  M.pinned = nil
end

function M.attached_links()
  local out = {}
  for _, link in pairs(M.links) do
    if link.attached then
      out[#out + 1] = link
    end
  end
  table.sort(out, function(a, b)
    return a.id < b.id
  end)
  return out
end

function M.primary_link()
  M.choose_primary()
  local link = M.primary and M.links[M.primary]
  if link and link.attached then
    return link
  end
  return nil
end

function M.primary_record()
  M.choose_primary()
  if not M.primary then
    return nil
  end
  for _, record in ipairs(M.records) do
    if record.id == M.primary then
      return record
    end
  end
  return nil
end

-- Mark this Neovim as the most recently active editor of every attached instance.
function M.focus()
  M.touch()
  for _, link in pairs(M.links) do
    if link.attached then
      link:notify("focus")
    end
  end
end

-- Send `method` to the instance named `target` (nil = the primary one). Uses the attached
-- link when there is one, else a one-shot connection. callback(err, result).
function M.send_to(target, method, params, callback)
  callback = callback or function() end
  if method == "at_mentioned" then
    M.touch()
    callback = require("tclaude.events").after_mention(params, callback)
  end
  local record
  if target and target ~= "" then
    record = discovery.find(discovery.scan(), target)
    if not record then
      callback({ message = "no running instance named " .. target })
      return
    end
  else
    record = M.primary_record()
    if not record then
      callback({ message = "no instance paired with " .. vim.fn.getcwd() .. " (see :TClaudeList)" })
      return
    end
  end
  local link = M.links[record.id]
  if link and link.attached then
    link:request(method, params, function(err, result)
      callback(err, result, record)
    end)
    return
  end
  local once = link_mod.new(record, {})
  once:connect(function(err)
    if err then
      callback({ message = "cannot reach " .. record.name .. ": " .. tostring(err) })
      return
    end
    once:request(method, params, function(rpc_err, result)
      once:close()
      callback(rpc_err, result, record)
    end)
  end)
end

function M.stop()
  for id, link in pairs(M.links) do
    M.links[id] = nil
    link:close()
  end
  if sync_timer and not sync_timer:is_closing() then
    sync_timer:stop()
    sync_timer:close()
  end
  sync_timer = nil
end

return M
