-- User commands and <Plug> mappings. Instance arguments are names (or ids) of running
-- instances, completed from the runtime records; without one, the paired instance.
local cli = require("tclaude.cli")
local config = require("tclaude.config")
local discovery = require("tclaude.discovery")
local pairing = require("tclaude.pairing")

local M = {}

local function info(msg)
  config.notify(msg, vim.log.levels.INFO)
end

local function fail(msg)
  config.notify(msg, vim.log.levels.ERROR)
end

function M.instance_names()
  local names = {}
  for _, record in ipairs(discovery.scan()) do
    names[#names + 1] = record.name
  end
  return names
end

local function complete_instances(arglead)
  return vim.tbl_filter(function(name)
    return name:sub(1, #arglead) == arglead
  end, M.instance_names())
end

-- Attach to the instance with id `id` and make it the default, once its record exists.
local function pin_id(id)
  for _, record in ipairs(discovery.scan()) do
    if record.id == id then
      pairing.pin(record)
      return
    end
  end
  pairing.pinned = id
  pairing.sync_later(200)
end

-- Bring `record`'s tmux pane to the front and pair with it.
function M.switch(record, on_done)
  pairing.pin(record)
  cli.run({ "switch", record.id }, function(code, _, stderr)
    if code ~= 0 then
      fail("switch to " .. record.name .. " failed: " .. stderr)
    end
    if on_done then
      on_done(code == 0)
    end
  end)
end

-- Create an instance with `args` (a list of `tclaude new` options) and pair with it.
function M.create(args, on_done)
  local argv = { "new", "--json" }
  vim.list_extend(argv, args)
  cli.json(argv, function(err, instance)
    if err then
      fail("could not create an instance: " .. err)
    elseif type(instance) == "table" and type(instance.id) == "string" then
      info((instance.reused and "focused " or "created ") .. tostring(instance.name or instance.id))
      pin_id(instance.id)
    end
    if on_done then
      on_done(err, instance)
    end
  end)
end

local function resolve(name)
  local records = discovery.scan()
  if name and name ~= "" then
    local record = discovery.find(records, name)
    if not record then
      fail("no running instance named " .. name)
    end
    return record
  end
  pairing.records = records
  return pairing.primary_record()
end

-- cwd -> true while :TClaude's `tclaude new --reuse` for it runs. Only for the
-- message: `--reuse` itself (bare tclaude's create lock) makes racing callers,
-- this Neovim, another one or a shell, end up with one instance.
local creating = {}

-- For :TClaude without a name, in a git worktree: (the deepest instance holding the current
-- file or directory if it lies in that worktree, else nil; the worktree's root). A worktree
-- nested in the main checkout (`git worktree add wt/x`, Claude Code's .claude/worktrees/)
-- gets its own instance, not the main checkout's. Outside git: nil, nil.
local function for_worktree()
  local buf = vim.api.nvim_get_current_buf()
  local name = vim.api.nvim_buf_get_name(buf)
  local path = vim.fn.getcwd()
  if name ~= "" and vim.bo[buf].buftype == "" and not name:match("^%a[%w+.-]*://") then
    path = discovery.realpath(name)
  end
  local dir = vim.fn.isdirectory(path) == 1 and path or vim.fn.fnamemodify(path, ":h")
  local root = discovery.git_root(dir)
  if not root then
    return nil, nil
  end
  local record = discovery.deepest_holding(discovery.scan(), discovery.realpath(path))
  if record and discovery.contains(root, discovery.realpath(record.cwd)) then
    return record, root
  end
  return nil, root
end

-- :TClaude [name]
function M.focus(name)
  local root
  local record
  if not name or name == "" then
    record, root = for_worktree()
  end
  if not root then
    record = resolve(name)
  end
  if record then
    M.switch(record)
    return
  end
  if name and name ~= "" then
    return
  end
  local cwd = root or vim.fn.getcwd()
  if creating[cwd] then -- pressed again before the first one is up: one instance, not two
    info("an instance for " .. cwd .. " is starting")
    return
  end
  local args = { "--reuse", "--cwd", cwd }
  if vim.env.TMUX_PANE and vim.env.TMUX_PANE ~= "" then
    vim.list_extend(args, { "--beside", vim.env.TMUX_PANE })
  end
  creating[cwd] = true
  M.create(args, function()
    creating[cwd] = nil
  end)
end

-- :TClaudeList — pick an instance to switch to.
function M.pick(on_choice)
  cli.json({ "list", "--json" }, function(err, instances)
    if err then
      fail("tclaude list failed: " .. err)
      return
    end
    if type(instances) ~= "table" or #instances == 0 then
      info("no instances running (:TClaude creates one)")
      return
    end
    vim.ui.select(instances, {
      prompt = "tclaude instances",
      format_item = function(item)
        return string.format("%-16s %-9s %s", tostring(item.name), tostring(item.state), tostring(item.cwd))
      end,
    }, function(choice)
      if not choice then
        return
      end
      if on_choice then
        on_choice(choice)
        return
      end
      cli.run({ "switch", choice.id }, function(code, _, stderr)
        if code ~= 0 then
          fail("switch failed: " .. stderr)
        end
      end)
      pin_id(choice.id)
    end)
  end)
end

-- :TClaudeKill {name|all}
function M.kill(target)
  local args
  if target == "all" then
    args = { "kill", "--all" }
  else
    local record = resolve(target)
    if not record then
      if not target or target == "" then
        fail("no instance paired with this directory")
      end
      return
    end
    args = { "kill", record.id }
  end
  cli.run(args, function(code, _, stderr)
    if code ~= 0 then
      fail("kill failed: " .. stderr)
    else
      pairing.sync_later(100)
    end
  end)
end

local function mention(target, params)
  pairing.send_to(target, "at_mentioned", params, function(err, result, record)
    if err then
      fail("could not send: " .. tostring(err.message or err))
      return
    end
    local where = params.lineStart and string.format(":%d-%d", params.lineStart + 1, params.lineEnd + 1) or ""
    local delivered = type(result) == "table" and result.delivered or 0
    local what = vim.fn.fnamemodify(params.filePath, ":~:.") .. where
    if type(result) == "table" and (tonumber(result.queued) or 0) > 0 then
      info("queued " .. what .. " for " .. record.name .. ": Claude gets it once it has connected")
    elseif delivered == 0 then
      config.notify("sent " .. what .. " but no Claude is connected to " .. record.name, vim.log.levels.WARN)
    else
      info("sent " .. what .. " to " .. record.name)
    end
    if config.options.focus_after_send and record then
      cli.run({ "switch", record.id }, function() end)
    end
  end)
end

-- :[range]TClaudeSend [name]
function M.send_range(line1, line2, has_range, target)
  local buf = vim.api.nvim_get_current_buf()
  local path = vim.api.nvim_buf_get_name(buf)
  if path == "" or vim.bo[buf].buftype ~= "" then
    fail("this buffer is not a file")
    return
  end
  local params = { filePath = vim.fn.fnamemodify(path, ":p") }
  if has_range then
    params.lineStart = math.min(line1, line2) - 1
    params.lineEnd = math.max(line1, line2) - 1
  end
  mention(target, params)
end

-- :TClaudeAdd {file} [start] [end] [name]
function M.add(fargs)
  if #fargs == 0 then
    fail("usage: :TClaudeAdd {file} [start] [end] [instance]")
    return
  end
  local path = vim.fn.fnamemodify(vim.fn.expand(fargs[1]), ":p")
  if vim.fn.filereadable(path) == 0 and vim.fn.isdirectory(path) == 0 then
    fail("no such file: " .. path)
    return
  end
  local numbers, target = {}, nil
  for i = 2, #fargs do
    local n = tonumber(fargs[i])
    if n then
      numbers[#numbers + 1] = n
    else
      target = fargs[i]
    end
  end
  local params = { filePath = path:gsub("/$", "") }
  if numbers[1] then
    local s = math.max(numbers[1], 1)
    local e = math.max(numbers[2] or s, s)
    params.lineStart, params.lineEnd = s - 1, e - 1
  end
  mention(target, params)
end

-- :TClaudeStatus [name]
function M.status(target, on_done)
  pairing.send_to(target, "status", nil, function(err, status)
    if err then
      fail(tostring(err.message or err))
      return
    end
    local lines = {
      string.format("%s (%s): %s", tostring(status.name), tostring(status.id), tostring(status.state)),
      "  cwd: " .. tostring(status.cwd),
      string.format("  port %s, claude connected: %s", tostring(status.port), tostring(status.clis)),
      "  editors: " .. table.concat(type(status.editors) == "table" and status.editors or {}, ", "),
    }
    if type(status.pending_diffs) == "table" and #status.pending_diffs > 0 then
      lines[#lines + 1] = "  pending diffs: " .. table.concat(status.pending_diffs, ", ")
    end
    info(table.concat(lines, "\n"))
    if on_done then
      on_done(status)
    end
  end)
end

function M.diff_accept()
  local diff = require("tclaude.diff")
  if not diff.accept(diff.current()) then
    fail("no diff open")
  end
end

function M.diff_deny()
  local diff = require("tclaude.diff")
  if not diff.reject(diff.current()) then
    fail("no diff open")
  end
end

local function complete_new(arglead)
  if arglead:sub(1, 1) == "-" then
    return vim.tbl_filter(function(flag)
      return flag:sub(1, #arglead) == arglead
    end, { "--name", "--cwd" })
  end
  return vim.fn.getcompletion(arglead, "dir")
end

local function complete_kill(arglead)
  local out = complete_instances(arglead)
  if ("all"):sub(1, #arglead) == arglead then
    out[#out + 1] = "all"
  end
  return out
end

local function complete_add(arglead, cmdline)
  local words = vim.split(vim.trim(cmdline), "%s+")
  local nargs = #words - (arglead == "" and 0 or 1)
  if nargs <= 1 then
    return vim.fn.getcompletion(arglead, "file")
  end
  return complete_instances(arglead)
end

local function define(name, fn, opts)
  vim.api.nvim_create_user_command(name, fn, opts)
end

function M.setup()
  local one = { nargs = "?", complete = complete_instances }
  define("TClaude", function(o)
    M.focus(o.args)
  end, vim.tbl_extend("force", one, { desc = "tclaude: focus (or create) the instance for this directory" }))
  define("TClaudeNew", function(o)
    M.create(o.fargs)
  end, { nargs = "*", complete = complete_new, desc = "tclaude: create an instance" })
  define("TClaudeList", function()
    M.pick()
  end, { nargs = 0, desc = "tclaude: pick an instance to switch to" })
  define("TClaudeSwitch", function(o)
    if o.args == "" then
      M.pick()
      return
    end
    local record = resolve(o.args)
    if record then
      M.switch(record)
    end
  end, vim.tbl_extend("force", one, { desc = "tclaude: switch to an instance" }))
  define("TClaudeKill", function(o)
    M.kill(o.args)
  end, { nargs = "?", complete = complete_kill, desc = "tclaude: stop an instance (or all)" })
  define("TClaudeSend", function(o)
    M.send_range(o.line1, o.line2, o.range > 0, o.args)
  end, { nargs = "?", range = true, complete = complete_instances, desc = "tclaude: mention the lines in Claude" })
  define("TClaudeAdd", function(o)
    M.add(o.fargs)
  end, { nargs = "+", complete = complete_add, desc = "tclaude: mention a file (and lines) in Claude" })
  define("TClaudeDiffAccept", M.diff_accept, { nargs = 0, desc = "tclaude: accept the diff" })
  define("TClaudeDiffDeny", M.diff_deny, { nargs = 0, desc = "tclaude: reject the diff" })
  define("TClaudeStatus", function(o)
    M.status(o.args)
  end, vim.tbl_extend("force", one, { desc = "tclaude: show an instance's status" }))

  if config.options.claudecode_aliases then
    define("ClaudeCode", function(o)
      M.focus(o.args)
    end, one)
    define("ClaudeCodeFocus", function(o)
      M.focus(o.args)
    end, one)
    define("ClaudeCodeSend", function(o)
      M.send_range(o.line1, o.line2, o.range > 0, o.args)
    end, { nargs = "?", range = true, complete = complete_instances })
    define("ClaudeCodeAdd", function(o)
      M.add(o.fargs)
    end, { nargs = "+", complete = complete_add })
    define("ClaudeCodeDiffAccept", M.diff_accept, { nargs = 0 })
    define("ClaudeCodeDiffDeny", M.diff_deny, { nargs = 0 })
  end

  local map = vim.keymap.set
  map("n", "<Plug>(tclaude-focus)", "<Cmd>TClaude<CR>", { desc = "tclaude: focus" })
  map("n", "<Plug>(tclaude-new)", "<Cmd>TClaudeNew<CR>", { desc = "tclaude: new instance" })
  map("n", "<Plug>(tclaude-list)", "<Cmd>TClaudeList<CR>", { desc = "tclaude: list instances" })
  map("n", "<Plug>(tclaude-status)", "<Cmd>TClaudeStatus<CR>", { desc = "tclaude: status" })
  map("n", "<Plug>(tclaude-send-line)", "<Cmd>.TClaudeSend<CR>", { desc = "tclaude: send this line" })
  map("n", "<Plug>(tclaude-add-file)", function()
    M.add({ vim.api.nvim_buf_get_name(0) })
  end, { desc = "tclaude: mention this file" })
  map("x", "<Plug>(tclaude-send)", ":TClaudeSend<CR>", { desc = "tclaude: send the selection", silent = true })
  map("n", "<Plug>(tclaude-diff-accept)", "<Cmd>TClaudeDiffAccept<CR>", { desc = "tclaude: accept diff" })
  map("n", "<Plug>(tclaude-diff-deny)", "<Cmd>TClaudeDiffDeny<CR>", { desc = "tclaude: reject diff" })
end

return M
