-- User commands and <Plug> mappings. Instance arguments are names (or ids) of running
-- instances, completed from the runtime records; without one, the paired instance.
local cli = require("tclaude.cli")
local config = require("tclaude.config")
local discovery = require("tclaude.discovery")
local explorer = require("tclaude.explorer")
local pairing = require("tclaude.pairing")

local uv = vim.uv or vim.loop

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
-- mentions asked for (with no instance named) while :TClaude creates the instance:
-- sent once it is up, in order (the host then keeps them until Claude has connected)
local after_create = {}

-- The claude options :TClaude passes on: flag -> "none", "value" or "optional" (a value
-- when the next word is no option). Anything else is refused: these become claude's argv.
local CLAUDE_FLAGS = {
  ["--resume"] = "optional",
  ["-r"] = "optional",
  ["--continue"] = "none",
  ["-c"] = "none",
  ["--fork-session"] = "none",
  ["--model"] = "value",
  ["--permission-mode"] = "value",
  ["--add-dir"] = "value",
  ["--agent"] = "value",
  ["--verbose"] = "none",
}
local CLAUDE_VALUE = "^[%w_~./][%w%._:@/+~%[%]-]*$"

-- `words` checked as claude options; returns the argv list, or nil and a one-line error.
function M.claude_args(words)
  local out, i = {}, 1
  while i <= #words do
    local word = words[i]
    local flag, inline = word:match("^(%-%-[%w-]+)=(.*)$")
    flag = flag or word
    local kind = CLAUDE_FLAGS[flag]
    if not kind then
      local known = vim.tbl_keys(CLAUDE_FLAGS)
      table.sort(known)
      return nil, "not a claude option :TClaude passes on: " .. word .. " (known: " .. table.concat(known, " ") .. ")"
    end
    if inline and kind == "none" then
      return nil, flag .. " takes no value"
    end
    local value = inline
    if value == nil and kind ~= "none" then
      local following = words[i + 1]
      if following and following:sub(1, 1) ~= "-" then
        value, i = following, i + 1
      elseif kind == "value" then
        return nil, flag .. " needs a value"
      end
    end
    out[#out + 1] = flag
    if value ~= nil then
      if not value:match(CLAUDE_VALUE) then
        return nil, "bad value for " .. flag .. ": " .. value
      end
      out[#out + 1] = value
    end
    i = i + 1
  end
  return out
end

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

-- Focus the instance for this directory (in a git worktree: the worktree's own), or
-- create it with `claude_args` passed to claude.
local function focus_or_create(claude_args)
  local record, root = for_worktree()
  if not root then
    record = resolve(nil)
  end
  if record then
    M.switch(record)
    if #claude_args > 0 then
      config.notify(
        record.name
          .. " is running: "
          .. table.concat(claude_args, " ")
          .. " not applied (claude options apply when an instance starts; :TClaudeKill it first, or :TClaudeNew -- "
          .. table.concat(claude_args, " ")
          .. " for another)",
        vim.log.levels.WARN
      )
    end
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
  if #claude_args > 0 then
    args[#args + 1] = "--"
    vim.list_extend(args, claude_args)
  end
  creating[cwd] = true
  M.create(args, function(err, instance)
    creating[cwd] = nil
    M.flush_after_create(err)
    if not err and type(instance) == "table" and instance.reused and #claude_args > 0 then
      config.notify(
        tostring(instance.name) .. " was running: " .. table.concat(claude_args, " ") .. " not applied",
        vim.log.levels.WARN
      )
    end
  end)
end

-- :TClaude [name] or :TClaude {claude options}
function M.focus(arg)
  local words = type(arg) == "table" and arg or vim.split(vim.trim(arg or ""), "%s+", { trimempty = true })
  if #words == 1 and words[1]:sub(1, 1) ~= "-" then
    local record = resolve(words[1])
    if record then
      M.switch(record)
    end
    return
  end
  local claude_args, err = M.claude_args(words)
  if not claude_args then
    fail(err)
    return
  end
  focus_or_create(claude_args)
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
  if (not target or target == "") and next(creating) ~= nil and not pairing.primary_record() then
    after_create[#after_create + 1] = params
    info("an instance is starting here: the mention follows once it is up")
    return
  end
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

-- Send what waited for :TClaude's instance (or say why it was not sent).
function M.flush_after_create(err)
  local waiting = after_create
  after_create = {}
  for _, params in ipairs(waiting) do
    if err then
      fail("mention not sent: the instance was not created")
    else
      mention(nil, params)
    end
  end
end

local function realpath(path)
  return uv.fs_realpath(path) or path
end

-- The filePath of a mention of `path`: a file absolute, a directory relative to the
-- target instance's cwd with a trailing "/" ("./" for the cwd itself), as claudecode.nvim
-- sends them; Claude shows an absolute directory path as a bare "@".
function M.mention_path(path, cwd)
  local full = vim.fn.fnamemodify(path, ":p")
  if vim.fn.isdirectory(full) == 0 then
    return full
  end
  full = realpath((full:gsub("/+$", "")))
  local base = cwd and realpath((cwd:gsub("/+$", ""))) or nil
  if base and full == base then
    return "./"
  end
  if base and full:sub(1, #base + 1) == base .. "/" then
    return full:sub(#base + 2) .. "/"
  end
  return full .. "/"
end

-- The cwd of the instance a mention to `target` goes to (nil when none is found).
local function target_cwd(target)
  local record
  if target and target ~= "" then
    record = discovery.find(discovery.scan(), target)
  else
    record = pairing.primary_record()
  end
  return record and record.cwd or vim.fn.getcwd()
end

-- Mention every path in `paths` (absolute; directories as "dir/"). The instance's own
-- directory is not sent: Claude Code (2.1.197 to 2.1.332) shows any mention of it, "./"
-- included, as a bare "@".
local function mention_paths(target, paths)
  local cwd = target_cwd(target)
  for _, path in ipairs(paths) do
    local file_path = M.mention_path(path, cwd)
    if file_path == "./" then
      config.notify(
        "not sent: " .. cwd .. " is Claude's own directory, which Claude Code shows as a bare @",
        vim.log.levels.WARN
      )
    else
      mention(target, { filePath = file_path })
    end
  end
end

local function is_visual(mode)
  return mode == "v" or mode == "V" or mode == "\22"
end

-- In Visual mode (a `<cmd>` map: no range is passed and '< '> are stale) the lines of the
-- selection, read from the mode itself; nil otherwise.
local function visual_lines()
  if not is_visual(vim.fn.mode()) then
    return nil
  end
  local a, b = vim.fn.getpos("v")[2], vim.fn.getpos(".")[2]
  return math.min(a, b), math.max(a, b)
end

local function leave_visual()
  if is_visual(vim.fn.mode()) then
    vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes("<Esc>", true, false, true), "nx", false)
  end
end

-- Mention what the explorer buffer `buf` shows in lines line1..line2 (or the marked /
-- cursor entries without a range). false when `buf` is no explorer.
local function send_explorer(buf, line1, line2, has_range, target)
  if not explorer.is_explorer(buf) then
    return false
  end
  local paths, err = explorer.paths(buf, has_range and line1 or nil, has_range and line2 or nil)
  leave_visual()
  if not paths then
    fail(err)
  else
    mention_paths(target, paths)
  end
  return true
end

-- :[range]TClaudeSend [name]
function M.send_range(line1, line2, has_range, target)
  local buf = vim.api.nvim_get_current_buf()
  local v1, v2 = visual_lines()
  if v1 then
    line1, line2, has_range = v1, v2, true
  end
  if send_explorer(buf, line1, line2, has_range, target) then
    return
  end
  leave_visual()
  local path = vim.api.nvim_buf_get_name(buf)
  if path == "" or vim.bo[buf].buftype ~= "" or vim.fn.isdirectory(path) == 1 then
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

-- :TClaudeTreeAdd [name]: the file-explorer entries under the cursor, selected or marked.
function M.tree_add(line1, line2, has_range, target)
  local buf = vim.api.nvim_get_current_buf()
  local v1, v2 = visual_lines()
  if v1 then
    line1, line2, has_range = v1, v2, true
  end
  if not send_explorer(buf, line1, line2, has_range, target) then
    leave_visual()
    fail("not a file explorer (" .. table.concat(explorer.filetypes, ", ") .. "); :TClaudeAdd mentions a path")
  end
end

-- <Plug>(tclaude-add-file): the explorer entry under the cursor, else this buffer's file.
function M.add_current()
  local buf = vim.api.nvim_get_current_buf()
  if send_explorer(buf, nil, nil, false, nil) then
    return
  end
  local path = vim.api.nvim_buf_get_name(buf)
  if path == "" or vim.bo[buf].buftype ~= "" then
    fail("this buffer is not a file")
    return
  end
  M.add({ path })
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
  if vim.fn.isdirectory(path) == 1 then
    mention_paths(target, { path })
    return
  end
  local params = { filePath = path }
  if numbers[1] then
    local s = math.max(numbers[1], 1)
    local e = math.max(numbers[2] or s, s)
    params.lineStart, params.lineEnd = s - 1, e - 1
  end
  mention(target, params)
end

-- :TClaudeSendText[!] [--submit] {text}: type text into the paired instance's prompt
-- (`tclaude send --text`, which refuses an instance that is waiting or not ready);
-- with ! or --submit, press Enter too.
function M.send_text(text, submit, on_done)
  text = vim.trim(text or "")
  if text:match("^%-%-submit%s") or text == "--submit" then
    submit, text = true, vim.trim(text:sub(9))
  end
  if text == "" then
    fail("usage: :TClaudeSendText[!] {text}")
    return
  end
  local record = resolve(nil)
  if not record then
    fail("no instance paired with " .. vim.fn.getcwd() .. " (:TClaude starts one)")
    return
  end
  local args = { "send", record.id, "--text", text }
  if submit then
    args[#args + 1] = "--submit"
  end
  cli.run(args, function(code, _, stderr)
    if code ~= 0 then
      fail((stderr:gsub("^tclaude: ", "")))
    else
      info((submit and "submitted to " or "typed into ") .. record.name)
      require("tclaude.events").fire(
        "TClaudeSendComplete",
        { text = text, submitted = submit and true or false, instance = record.name }
      )
    end
    if on_done then
      on_done(code == 0)
    end
  end)
end

local MODEL_VALUE = "^[%w][%w%._:%[%]-]*$"

-- :TClaudeSelectModel [claude options]: pick a model; `/model <m>` to the paired instance
-- when it runs, else start it with `--model <m>`.
function M.select_model(fargs)
  local extra, err = M.claude_args(fargs or {})
  if not extra then
    fail(err)
    return
  end
  local models = vim.tbl_filter(function(m)
    return type(m) == "table" and type(m.value) == "string" and m.value:match(MODEL_VALUE) ~= nil
  end, config.options.models or {})
  if #models == 0 then
    fail("no models configured (the `models` option)")
    return
  end
  vim.ui.select(models, {
    prompt = "Claude model",
    format_item = function(m)
      return tostring(m.name or m.value)
    end,
  }, function(choice)
    if not choice then
      return
    end
    local record = resolve(nil)
    if not record then
      local args = { "--model", choice.value }
      vim.list_extend(args, extra)
      focus_or_create(args)
      return
    end
    local link = pairing.links and pairing.links[record.id]
    local state = link and link.state
    if state == "busy" or state == "waiting" then
      fail(record.name .. " is " .. state .. ": /model " .. choice.value .. " not sent; try again when it is idle")
      return
    end
    if #extra > 0 then
      config.notify(record.name .. " is running: " .. table.concat(extra, " ") .. " not applied", vim.log.levels.WARN)
    end
    M.send_text("/model " .. choice.value, true)
  end)
end

-- :TClaudeCloseAllDiffs: reject every diff open in this Neovim (as :q in each would).
function M.close_all_diffs()
  local diff = require("tclaude.diff")
  local open = {}
  for _, d in pairs(diff.active) do
    open[#open + 1] = d
  end
  local closed = 0
  for _, d in ipairs(open) do
    if diff.reject(d) then
      closed = closed + 1
    end
  end
  if closed == 0 then
    config.notify("no diffs open", vim.log.levels.WARN)
  else
    info(string.format("closed %d diff(s) (rejected)", closed))
  end
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

local function complete_focus(arglead)
  if arglead:sub(1, 1) == "-" then
    local flags = vim.tbl_filter(function(flag)
      return flag:sub(1, #arglead) == arglead and flag:sub(2, 2) == "-"
    end, vim.tbl_keys(CLAUDE_FLAGS))
    table.sort(flags)
    return flags
  end
  return complete_instances(arglead)
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

-- claudecode.nvim's commands (as its README and lua/claudecode/init.lua define them:
-- the same nargs, range and bang) on top of the TClaude ones.
local function define_aliases()
  local function alias(name, fn, opts)
    define(name, fn, vim.tbl_extend("force", opts, { desc = "tclaude: claudecode.nvim's :" .. name }))
  end
  local function focus(o)
    leave_visual() -- as claudecode's, from a Visual-mode map
    M.focus(o.fargs)
  end
  alias("ClaudeCode", focus, { nargs = "*" })
  alias("ClaudeCodeFocus", focus, { nargs = "*" })
  alias("ClaudeCodeOpen", focus, { nargs = "*" })
  alias("ClaudeCodeClose", function()
    info("Claude runs in a tmux pane: hide it with the tmux plugin's prefix C-t (:TClaudeKill stops it)")
  end, {})
  alias("ClaudeCodeStart", function()
    if not require("tclaude").is_started() then
      require("tclaude").setup(config.options)
    else
      pairing.sync()
    end
  end, {})
  alias("ClaudeCodeStop", function()
    require("tclaude").stop()
    info("detached from every instance (they keep running); :ClaudeCodeStart attaches again")
  end, {})
  alias("ClaudeCodeStatus", function()
    M.status()
  end, {})
  alias("ClaudeCodeSend", function(o)
    M.send_range(o.line1, o.line2, o.range > 0)
  end, { range = true })
  alias("ClaudeCodeAdd", function(o)
    if #o.fargs > 3 then
      fail("usage: :ClaudeCodeAdd {file} [start] [end]")
      return
    end
    M.add(o.fargs)
  end, { nargs = "+", complete = "file" })
  alias("ClaudeCodeTreeAdd", function()
    M.tree_add(0, 0, false)
  end, {})
  alias("ClaudeCodeSendText", function(o)
    M.send_text(o.args, not o.bang) -- claudecode submits unless !
  end, { nargs = "+", bang = true })
  alias("ClaudeCodeSelectModel", function(o)
    M.select_model(o.fargs)
  end, { nargs = "*" })
  alias("ClaudeCodeDiffAccept", M.diff_accept, {})
  alias("ClaudeCodeDiffDeny", M.diff_deny, {})
  alias("ClaudeCodeCloseAllDiffs", M.close_all_diffs, {})
end

function M.setup()
  local one = { nargs = "?", complete = complete_instances }
  define("TClaude", function(o)
    M.focus(o.fargs)
  end, {
    nargs = "*",
    complete = complete_focus,
    desc = "tclaude: focus (or create, with claude options) the instance for this directory",
  })
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
  define("TClaudeTreeAdd", function(o)
    M.tree_add(o.line1, o.line2, o.range > 0, o.args)
  end, {
    nargs = "?",
    range = true,
    complete = complete_instances,
    desc = "tclaude: mention the file-explorer entries under the cursor, selected or marked",
  })
  define("TClaudeSendText", function(o)
    M.send_text(o.args, o.bang)
  end, { nargs = "+", bang = true, desc = "tclaude: type text into Claude's prompt (! or --submit: and submit)" })
  define("TClaudeSelectModel", function(o)
    M.select_model(o.fargs)
  end, { nargs = "*", complete = complete_focus, desc = "tclaude: pick the model (/model, or start with --model)" })
  define("TClaudeDiffAccept", M.diff_accept, { nargs = 0, desc = "tclaude: accept the diff" })
  define("TClaudeDiffDeny", M.diff_deny, { nargs = 0, desc = "tclaude: reject the diff" })
  define("TClaudeCloseAllDiffs", M.close_all_diffs, { nargs = 0, desc = "tclaude: reject every open diff" })
  define("TClaudeStatus", function(o)
    M.status(o.args)
  end, vim.tbl_extend("force", one, { desc = "tclaude: show an instance's status" }))

  if config.options.claudecode_aliases then
    define_aliases()
  end

  local map = vim.keymap.set
  map("n", "<Plug>(tclaude-focus)", "<Cmd>TClaude<CR>", { desc = "tclaude: focus" })
  map("n", "<Plug>(tclaude-new)", "<Cmd>TClaudeNew<CR>", { desc = "tclaude: new instance" })
  map("n", "<Plug>(tclaude-list)", "<Cmd>TClaudeList<CR>", { desc = "tclaude: list instances" })
  map("n", "<Plug>(tclaude-status)", "<Cmd>TClaudeStatus<CR>", { desc = "tclaude: status" })
  map("n", "<Plug>(tclaude-send-line)", "<Cmd>.TClaudeSend<CR>", { desc = "tclaude: send this line" })
  map("n", "<Plug>(tclaude-add-file)", M.add_current, { desc = "tclaude: mention this file (or explorer entry)" })
  map({ "n", "x" }, "<Plug>(tclaude-tree-add)", "<Cmd>TClaudeTreeAdd<CR>", {
    desc = "tclaude: mention the file-explorer entries under the cursor or selected",
  })
  map("x", "<Plug>(tclaude-send)", "<Cmd>TClaudeSend<CR>", { desc = "tclaude: send the selection" })
  map("n", "<Plug>(tclaude-select-model)", "<Cmd>TClaudeSelectModel<CR>", { desc = "tclaude: pick the model" })
  map("n", "<Plug>(tclaude-close-all-diffs)", "<Cmd>TClaudeCloseAllDiffs<CR>", { desc = "tclaude: reject all diffs" })
  map("n", "<Plug>(tclaude-diff-accept)", "<Cmd>TClaudeDiffAccept<CR>", { desc = "tclaude: accept diff" })
  map("n", "<Plug>(tclaude-diff-deny)", "<Cmd>TClaudeDiffDeny<CR>", { desc = "tclaude: reject diff" })
end

return M
