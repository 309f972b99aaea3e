-- Diff views for openDiff: the file and the proposal (editable) side by side, one above
-- the other, or the proposal alone with the changes marked (diff_inline), in a tab page of
-- their own or the current one (config.diff). `:w` in the proposal or :TClaudeDiffAccept
-- accepts it with the buffer's text; :TClaudeDiffDeny rejects, and so does the proposal
-- leaving the screen (no window shows it any more: `:q`, its tab closed, `:bd`), but not
-- <C-w>o or closing the file's window.
-- The file itself is never written here: the CLI writes the text it gets back, and the
-- file's buffer is reloaded once it has.
local config = require("tclaude.config")
local events = require("tclaude.events")
local tools = require("tclaude.tools")

local uv = vim.uv or vim.loop
local M = {
  active = {}, -- key(link, tab_name) -> diff: tab names are unique per instance only
}

local function key(link, tab_name)
  return (link and link.id or "") .. "\0" .. tab_name
end

local group = vim.api.nvim_create_augroup("TClaudeDiff", { clear = true })
local counter = 0

local function unique_buffer_name(base)
  local name = base
  local n = 1
  while vim.fn.bufexists(name) == 1 do
    n = n + 1
    name = base .. " (" .. n .. ")"
  end
  return name
end

local function split_text(text)
  local lines = vim.split(text, "\n", { plain = true })
  local eol = false
  if #lines > 1 and lines[#lines] == "" then
    table.remove(lines)
    eol = true
  end
  return lines, eol
end

local function tab_of(diff)
  if diff.tabpage and vim.api.nvim_tabpage_is_valid(diff.tabpage) then
    return diff.tabpage
  end
  return nil
end

local function windows_showing(buf)
  local wins = {}
  if buf and vim.api.nvim_buf_is_valid(buf) then
    for _, win in ipairs(vim.api.nvim_list_wins()) do
      if vim.api.nvim_win_get_buf(win) == buf then
        wins[#wins + 1] = win
      end
    end
  end
  return wins
end

-- Close `win`, or when it is its tab's last window show an empty buffer in it instead.
local function close_or_empty(win)
  if not (win and vim.api.nvim_win_is_valid(win)) then
    return
  end
  local tab = vim.api.nvim_win_get_tabpage(win)
  if #vim.api.nvim_tabpage_list_wins(tab) > 1 then
    if pcall(vim.api.nvim_win_close, win, true) then
      return
    end
  end
  local empty = vim.api.nvim_create_buf(true, false)
  vim.bo[empty].bufhidden = "wipe"
  pcall(vim.api.nvim_win_set_buf, win, empty)
end

-- Remove the view: the proposal's windows and buffer (the tab page when the diff made
-- one), the autocmds. `accepted` is true, false (rejected) or nil (closed for another
-- reason: the CLI, the link). No answer is sent.
local function close_view(diff, accepted)
  if diff.closed then
    return
  end
  diff.closed = true
  if M.active[diff.key] == diff then
    M.active[diff.key] = nil
  end
  for _, id in ipairs(diff.autocmds) do
    pcall(vim.api.nvim_del_autocmd, id)
  end
  if diff.shown then
    events.fire("TClaudeDiffClosed", {
      file = diff.old_file_path,
      tab_name = diff.tab_name,
      instance = diff.link and diff.link.name,
      accepted = accepted == true,
      reason = accepted == true and "accepted" or (accepted == false and "rejected" or "closed"),
    })
  end
  local function remove()
    if diff.prop_buf and vim.api.nvim_buf_is_valid(diff.prop_buf) then
      vim.bo[diff.prop_buf].modified = false
    end
    local was_current = vim.api.nvim_get_current_tabpage() == diff.tabpage
    local tab = tab_of(diff)
    if tab and diff.own_tab and #vim.api.nvim_list_tabpages() > 1 then
      for _, win in ipairs(vim.api.nvim_tabpage_list_wins(tab)) do
        pcall(function()
          vim.wo[win].diff = false
        end)
      end
      pcall(vim.cmd, "tabclose! " .. vim.api.nvim_tabpage_get_number(tab))
    else
      for _, win in ipairs(windows_showing(diff.prop_buf)) do
        close_or_empty(win)
      end
      local orig = diff.orig_win
      if orig and vim.api.nvim_win_is_valid(orig) then
        pcall(vim.api.nvim_win_call, orig, function()
          vim.cmd("diffoff")
        end)
        local keep_empty = accepted == false and diff.is_new and diff.opts.on_new_file_reject == "keep_empty"
        if diff.orig_created and not keep_empty then
          close_or_empty(orig)
        elseif diff.orig_created and vim.api.nvim_win_get_buf(orig) == diff.scratch_buf then
          -- keep_empty: the window stays, with an ordinary empty buffer
          local empty = vim.api.nvim_create_buf(true, false)
          vim.bo[empty].bufhidden = "wipe"
          pcall(vim.api.nvim_win_set_buf, orig, empty)
        end
      end
    end
    if was_current and diff.prev_win and vim.api.nvim_win_is_valid(diff.prev_win) then
      pcall(vim.api.nvim_set_current_win, diff.prev_win)
    elseif was_current and diff.prev_tab and vim.api.nvim_tabpage_is_valid(diff.prev_tab) then
      pcall(vim.api.nvim_set_current_tabpage, diff.prev_tab)
    end
    if diff.prop_buf and vim.api.nvim_buf_is_valid(diff.prop_buf) then
      pcall(vim.api.nvim_buf_delete, diff.prop_buf, { force = true })
    end
    if diff.scratch_buf and vim.api.nvim_buf_is_valid(diff.scratch_buf) then
      pcall(vim.api.nvim_buf_delete, diff.scratch_buf, { force = true })
    end
  end
  -- window layout cannot change inside some autocmds (BufWipeout, WinClosed): defer
  vim.schedule(remove)
end

-- Reload the file's buffer once the CLI has written it (polled for a few seconds).
local function reload_when_written(path, before)
  local timer = uv.new_timer()
  local tries = 0
  timer:start(
    50,
    100,
    vim.schedule_wrap(function()
      tries = tries + 1
      local stat = uv.fs_stat(path)
      local changed = stat
        and (
          not before
          or stat.mtime.sec ~= before.mtime.sec
          or stat.mtime.nsec ~= before.mtime.nsec
          or stat.size ~= before.size
        )
      if changed or tries > 100 then
        timer:stop()
        timer:close()
        if changed then
          local buf = tools.find_buffer(path)
          if buf and not vim.bo[buf].modified then
            pcall(vim.api.nvim_buf_call, buf, function()
              vim.cmd("silent! edit")
            end)
          end
        end
      end
    end)
  )
end

local function proposal_text(diff)
  local lines = vim.api.nvim_buf_get_lines(diff.prop_buf, 0, -1, false)
  local text = table.concat(lines, "\n")
  if vim.bo[diff.prop_buf].eol and not (#lines == 1 and lines[1] == "") then
    text = text .. "\n"
  end
  return text
end

function M.accept(diff)
  if not diff or diff.resolved then
    return false
  end
  diff.resolved = true
  local text = proposal_text(diff)
  local before = uv.fs_stat(diff.new_file_path)
  diff.reply(tools.text("FILE_SAVED", text))
  close_view(diff, true)
  reload_when_written(diff.new_file_path, before)
  return true
end

function M.reject(diff)
  if not diff or diff.resolved then
    return false
  end
  diff.resolved = true
  diff.reply(tools.text("DIFF_REJECTED", diff.tab_name))
  close_view(diff, false)
  return true
end

-- The diff of the current buffer, else the newest in the current tab page, else the
-- newest one (several diffs share a tab page with open_in = "current_tab").
function M.current()
  local buf = vim.api.nvim_get_current_buf()
  local tab = vim.api.nvim_get_current_tabpage()
  local newest, in_tab
  for _, diff in pairs(M.active) do
    if diff.prop_buf == buf then
      return diff
    end
    if diff.tabpage == tab and (not in_tab or diff.seq > in_tab.seq) then
      in_tab = diff
    end
    if not newest or diff.seq > newest.seq then
      newest = diff
    end
  end
  return in_tab or newest
end

-- close_tab from the host: the diff was resolved elsewhere; close the view, do not answer.
function M.close_by_name(tab_name, link)
  local diff = M.active[key(link, tab_name)]
  if not diff then
    return false
  end
  diff.resolved = true
  close_view(diff)
  return true
end

-- The link a diff came from went away: nobody can take the answer any more.
function M.link_closed(link)
  for _, diff in pairs(M.active) do
    if diff.link == link then
      diff.resolved = true
      close_view(diff)
    end
  end
end

function M.list()
  local out = {}
  for _, diff in pairs(M.active) do
    out[#out + 1] = { tab_name = diff.tab_name, file = diff.old_file_path, instance = diff.link and diff.link.name }
  end
  table.sort(out, function(a, b)
    return a.tab_name < b.tab_name
  end)
  return out
end

-- The diff options (config.diff), unknown values replaced by the defaults.
local CHOICES = {
  layout = { "vertical", "horizontal", "inline" },
  open_in = { "new_tab", "current_tab" },
  on_new_file_reject = { "keep_empty", "close_window" },
}

function M.options()
  local given = config.options.diff or {}
  local defaults = config.defaults.diff
  local out = { keep_focus = given.keep_focus == true }
  for name, allowed in pairs(CHOICES) do
    out[name] = vim.tbl_contains(allowed, given[name]) and given[name] or defaults[name]
  end
  return out
end

-- Refuse an openDiff: say why in Neovim (one line, kept in :messages), answer the error.
local function refuse(link, path, why)
  local who = link and link.name or "Claude"
  local name = vim.fn.fnamemodify(path, ":~:.")
  vim.notify(
    string.format("tclaude: %s's change to %s not shown: %s", who, name, why),
    vim.log.levels.WARN
  )
  tools.fail(-32000, "Cannot show the diff in Neovim: " .. path .. ": " .. why)
end

-- Open the view for an openDiff request. `reply(result)` answers it.
function M.open(params, reply, link)
  local old_path = vim.fn.fnamemodify(params.old_file_path, ":p")
  local new_path = vim.fn.fnamemodify(params.new_file_path, ":p")
  local existing = tools.find_buffer(old_path)
  if existing and vim.bo[existing].modified then
    refuse(
      link,
      old_path,
      "its buffer has unsaved changes; save (:w) or discard (:e!) them, and answer in Claude's pane"
    )
  end
  local previous = M.active[key(link, params.tab_name)]
  if previous then
    -- the host replaced that proposal with this one
    previous.resolved = true
    close_view(previous)
  end
  counter = counter + 1
  local diff = {
    seq = counter,
    tab_name = params.tab_name,
    key = key(link, params.tab_name),
    old_file_path = old_path,
    new_file_path = new_path,
    link = link,
    reply = reply,
    autocmds = {},
    resolved = false,
    closed = false,
    opts = M.options(),
  }

  diff.is_new = vim.fn.filereadable(old_path) == 0
  diff.prev_tab = vim.api.nvim_get_current_tabpage()
  diff.prev_win = vim.api.nvim_get_current_win()
  local ok, err = pcall(M._build_view, diff, params, old_path, new_path, diff.is_new)
  if not ok then
    diff.resolved = true
    close_view(diff)
    refuse(link, old_path, tostring(err) .. "; answer in Claude's pane")
  end
  M.active[diff.key] = diff
  diff.shown = true
  if diff.opts.keep_focus then
    if vim.api.nvim_win_is_valid(diff.prev_win) then
      vim.api.nvim_set_current_win(diff.prev_win)
    elseif vim.api.nvim_tabpage_is_valid(diff.prev_tab) then
      vim.api.nvim_set_current_tabpage(diff.prev_tab)
    end
  end
  events.fire("TClaudeDiffOpened", {
    file = old_path,
    tab_name = params.tab_name,
    instance = link and link.name,
    new_file = diff.is_new,
    layout = diff.opts.layout,
  })
  return diff
end

-- The proposal buffer: acwrite, named after the file, `:w` answers.
local function proposal_buffer(diff, params, new_path, filetype)
  local prop_buf = vim.api.nvim_create_buf(false, false)
  diff.prop_buf = prop_buf
  vim.bo[prop_buf].buftype = "acwrite"
  vim.bo[prop_buf].bufhidden = "wipe"
  vim.bo[prop_buf].swapfile = false
  local who = diff.link and diff.link.name and (" by " .. diff.link.name) or ""
  vim.api.nvim_buf_set_name(prop_buf, unique_buffer_name(new_path .. " [proposed" .. who .. "]"))
  local lines, eol = split_text(params.new_file_contents)
  vim.api.nvim_buf_set_lines(prop_buf, 0, -1, false, lines)
  vim.bo[prop_buf].eol = eol
  vim.bo[prop_buf].fixeol = false
  vim.bo[prop_buf].modified = false
  if filetype and filetype ~= "" then
    vim.bo[prop_buf].filetype = filetype
  end
  vim.b[prop_buf].tclaude_diff = params.tab_name
  return prop_buf
end

-- An empty buffer standing for a file that does not exist yet.
local function scratch_for(diff, old_path, buf)
  buf = buf or vim.api.nvim_create_buf(false, true)
  diff.scratch_buf = buf
  vim.bo[buf].buftype = "nofile"
  vim.bo[buf].bufhidden = "wipe"
  vim.api.nvim_buf_set_name(buf, unique_buffer_name(old_path .. " (new file)"))
  return buf
end

-- The window (in the current tab) that shows the file's buffer, if any.
local function window_with(path)
  local buf = tools.find_buffer(path)
  if not buf then
    return nil
  end
  for _, win in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    if vim.api.nvim_win_get_buf(win) == buf then
      return win
    end
  end
  return nil
end

function M._build_view(diff, params, old_path, new_path, is_new)
  local opts = diff.opts
  local filetype = ""
  local old_lines = {}
  local existing = tools.find_buffer(old_path)
  if existing then
    filetype = vim.bo[existing].filetype
    old_lines = vim.api.nvim_buf_get_lines(existing, 0, -1, false)
  elseif not is_new then
    old_lines = vim.fn.readfile(old_path)
  end
  if filetype == "" then
    filetype = vim.filetype.match({ filename = new_path }) or ""
  end

  local placeholder
  if opts.open_in == "new_tab" then
    vim.cmd("tabnew")
    diff.own_tab = true
    placeholder = vim.api.nvim_get_current_buf()
    vim.bo[placeholder].bufhidden = "wipe"
  end
  diff.tabpage = vim.api.nvim_get_current_tabpage()

  if opts.layout == "inline" then
    local prop_buf = proposal_buffer(diff, params, new_path, filetype)
    if not diff.own_tab then
      vim.cmd("aboveleft split")
    end
    diff.prop_win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(diff.prop_win, prop_buf)
    local inline = require("tclaude.diff_inline")
    inline.render(prop_buf, old_lines)
    diff.autocmds[#diff.autocmds + 1] = vim.api.nvim_create_autocmd({ "TextChanged", "TextChangedI" }, {
      group = group,
      buffer = prop_buf,
      callback = function()
        inline.render(prop_buf, old_lines)
      end,
    })
  else
    -- the file's side: the window already showing it in this tab, else a new one
    if diff.own_tab then
      diff.orig_win = vim.api.nvim_get_current_win()
      if is_new then
        scratch_for(diff, old_path, placeholder)
      else
        require("tclaude.files").show(old_path)
      end
    else
      diff.orig_win = (not is_new) and window_with(old_path) or nil
      if diff.orig_win then
        vim.api.nvim_set_current_win(diff.orig_win)
      else
        vim.cmd(opts.layout == "horizontal" and "aboveleft split" or "aboveleft vsplit")
        diff.orig_win = vim.api.nvim_get_current_win()
        diff.orig_created = true
        if is_new then
          vim.api.nvim_win_set_buf(diff.orig_win, scratch_for(diff, old_path))
        else
          require("tclaude.files").show(old_path)
        end
      end
    end
    vim.cmd("diffthis")
    local prop_buf = proposal_buffer(diff, params, new_path, filetype)
    vim.cmd(opts.layout == "horizontal" and "rightbelow split" or "rightbelow vsplit")
    diff.prop_win = vim.api.nvim_get_current_win()
    vim.api.nvim_win_set_buf(diff.prop_win, prop_buf)
    vim.cmd("diffthis")
  end
  if diff.own_tab then
    pcall(vim.api.nvim_tabpage_set_var, diff.tabpage, "tclaude_diff", params.tab_name)
  end

  local prop_buf = diff.prop_buf
  local ids = diff.autocmds
  ids[#ids + 1] = vim.api.nvim_create_autocmd("BufWriteCmd", {
    group = group,
    buffer = prop_buf,
    callback = function()
      M.accept(diff)
    end,
  })
  ids[#ids + 1] = vim.api.nvim_create_autocmd({ "BufWipeout", "BufUnload" }, {
    group = group,
    buffer = prop_buf,
    callback = function()
      M.reject(diff)
    end,
  })
  -- Closing windows (<C-w>o, the file's window, one of two views) keeps the diff; it is
  -- rejected once no window shows the proposal any more. Checked after the change is done.
  local function check_shown()
    vim.schedule(function()
      if not diff.resolved and #windows_showing(prop_buf) == 0 then
        M.reject(diff)
      end
    end)
  end
  ids[#ids + 1] = vim.api.nvim_create_autocmd("BufWinLeave", { group = group, buffer = prop_buf, callback = check_shown })
  ids[#ids + 1] = vim.api.nvim_create_autocmd("WinClosed", { group = group, callback = check_shown })
end

vim.api.nvim_create_autocmd("VimLeavePre", {
  group = group,
  callback = function()
    for _, diff in pairs(M.active) do
      M.reject(diff)
    end
  end,
})

return M
