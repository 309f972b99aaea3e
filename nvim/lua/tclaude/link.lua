-- One connection to one instance's editor socket: NDJSON JSON-RPC 2.0 over a unix socket.
-- Everything the caller sees (callbacks, handlers) runs in the main loop, never in a
-- luv callback, so it may use the whole Neovim API.
local uv = vim.uv or vim.loop

local M = {}

local Link = {}
Link.__index = Link

-- handlers: on_request(link, msg), on_notification(link, msg), on_close(link, reason)
function M.new(record, handlers)
  local self = setmetatable({
    id = record.id,
    record = record,
    name = record.name or record.id,
    state = nil, -- the instance's state, from status / state_changed
    status = nil, -- the latest status object
    usage = nil, -- "42% $1.23" (context used, estimated cost), from status / usage_changed
    attached = false,
    closed = false,
    handlers = handlers or {},
    _pipe = nil,
    _chunks = {},
    _next_id = 1,
    _callbacks = {},
  }, Link)
  return self
end

-- Connect, then call on_done(err) in the main loop.
function Link:connect(on_done)
  local pipe = uv.new_pipe(false)
  self._pipe = pipe
  pipe:connect(self.record.socket, function(err)
    if err then
      vim.schedule(function()
        self:_close("connect failed: " .. tostring(err), true)
        on_done(err)
      end)
      return
    end
    pipe:read_start(function(read_err, chunk)
      self:_on_read(read_err, chunk)
    end)
    vim.schedule(function()
      on_done(nil)
    end)
  end)
end

-- Runs in the luv callback: collect bytes, hand complete lines to the main loop.
function Link:_on_read(err, chunk)
  if err or not chunk then
    vim.schedule(function()
      self:_close(err and ("read error: " .. err) or "closed by the host")
    end)
    return
  end
  if not chunk:find("\n", 1, true) then
    self._chunks[#self._chunks + 1] = chunk
    return
  end
  self._chunks[#self._chunks + 1] = chunk
  local data = table.concat(self._chunks)
  local last = 1
  local lines = {}
  while true do
    local nl = data:find("\n", last, true)
    if not nl then
      break
    end
    lines[#lines + 1] = data:sub(last, nl - 1)
    last = nl + 1
  end
  self._chunks = { data:sub(last) }
  vim.schedule(function()
    for _, line in ipairs(lines) do
      self:_on_line(line)
    end
  end)
end

function Link:_on_line(line)
  if line:match("^%s*$") then
    return
  end
  local ok, msg = pcall(vim.json.decode, line)
  if not ok or type(msg) ~= "table" then
    return
  end
  if msg.method ~= nil then
    local has_id = msg.id ~= nil and msg.id ~= vim.NIL
    local handler = has_id and self.handlers.on_request or self.handlers.on_notification
    if handler then
      local handled, err = pcall(handler, self, msg)
      if not handled and has_id then
        self:respond_error(msg.id, -32603, tostring(err))
      end
    end
    return
  end
  local callback = msg.id ~= nil and self._callbacks[msg.id]
  if callback then
    self._callbacks[msg.id] = nil
    local error_value = msg.error
    if error_value == vim.NIL then
      error_value = nil
    end
    callback(error_value, msg.result)
  end
end

function Link:_write(msg)
  if self.closed or not self._pipe then
    return false
  end
  local ok, text = pcall(vim.json.encode, msg)
  if not ok then
    return false
  end
  self._pipe:write(text .. "\n")
  return true
end

-- Send a request; callback(err, result) runs in the main loop (err: JSON-RPC error object).
function Link:request(method, params, callback)
  local id = self._next_id
  self._next_id = id + 1
  if callback then
    self._callbacks[id] = callback
  end
  local msg = { jsonrpc = "2.0", id = id, method = method }
  if params ~= nil then
    msg.params = params
  end
  if not self:_write(msg) then
    self._callbacks[id] = nil
    if callback then
      callback({ code = -32603, message = "not connected" }, nil)
    end
  end
end

function Link:notify(method, params)
  local msg = { jsonrpc = "2.0", method = method }
  if params ~= nil then
    msg.params = params
  end
  return self:_write(msg)
end

function Link:respond(id, result)
  return self:_write({ jsonrpc = "2.0", id = id, result = result })
end

function Link:respond_error(id, code, message, data)
  local err = { code = code, message = message }
  if data ~= nil then
    err.data = data
  end
  return self:_write({ jsonrpc = "2.0", id = id, error = err })
end

function Link:_close(reason, quiet)
  if self.closed then
    return
  end
  self.closed = true
  self.attached = false
  if self._pipe and not self._pipe:is_closing() then
    self._pipe:read_stop()
    self._pipe:close()
  end
  local callbacks = self._callbacks
  self._callbacks = {}
  for _, callback in pairs(callbacks) do
    pcall(callback, { code = -32603, message = reason }, nil)
  end
  if not quiet and self.handlers.on_close then
    self.handlers.on_close(self, reason)
  end
end

-- Close the connection (the host then forgets this editor).
function Link:close()
  self:_close("closed by the editor", true)
end

return M
