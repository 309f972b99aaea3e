-- Diff views for openDiff: each proposal in a tab page of its own, the file on one side,
-- the proposal (editable) on the other. `:w` in the proposal or :TClaudeDiffAccept
-- accepts it with the buffer's text; `:q`, closing the tab or :TClaudeDiffDeny rejects.
-- The file itself is never written here: the CLI writes the text it gets back, and the
-- file's buffer is reloaded once it has.
local config = require("tclaude.config")
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

-- Remove the view: the tab page, the proposal buffer, the autocmds. No answer is sent.
local function close_view(diff)
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
  local function remove()
    if diff.prop_buf and vim.api.nvim_buf_is_valid(diff.prop_buf) then
      vim.bo[diff.prop_buf].modified = false
    end
    local tab = tab_of(diff)
    if tab then
      for _, win in ipairs(vim.api.nvim_tabpage_list_wins(tab)) do
        pcall(function()
          vim.wo[win].diff = false
        end)
      end
      if #vim.api.nvim_list_tabpages() > 1 then
        local back = vim.api.nvim_get_current_tabpage() == tab
          and diff.prev_tab
          and vim.api.nvim_tabpage_is_valid(diff.prev_tab)
        pcall(vim.cmd, "tabclose! " .. vim.api.nvim_tabpage_get_number(tab))
        if back and vim.api.nvim_tabpage_is_valid(diff.prev_tab) then
          vim.api.nvim_set_current_tabpage(diff.prev_tab)
        end
      else
        -- the only tab page: keep the file's window, drop the proposal's
        if diff.prop_win and vim.api.nvim_win_is_valid(diff.prop_win) and #vim.api.nvim_tabpage_list_wins(tab) > 1 then
          pcall(vim.api.nvim_win_close, diff.prop_win, true)
        end
      end
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
  close_view(diff)
  reload_when_written(diff.new_file_path, before)
  return true
end

function M.reject(diff)
  if not diff or diff.resolved then
    return false
  end
  diff.resolved = true
  diff.reply(tools.text("DIFF_REJECTED", diff.tab_name))
  close_view(diff)
  return true
end

-- The diff shown in the current tab page or buffer, else the newest one.
function M.current()
  local buf = vim.api.nvim_get_current_buf()
  local tab = vim.api.nvim_get_current_tabpage()
  local newest
  for _, diff in pairs(M.active) do
    if diff.prop_buf == buf or diff.tabpage == tab then
      return diff
    end
    if not newest or diff.seq > newest.seq then
      newest = diff
    end
  end
  return newest
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

-- Open the view for an openDiff request. `reply(result)` answers it.
function M.open(params, reply, link)
  local old_path = vim.fn.fnamemodify(params.old_file_path, ":p")
  local new_path = vim.fn.fnamemodify(params.new_file_path, ":p")
  local existing = tools.find_buffer(old_path)
  if existing and vim.bo[existing].modified then
    tools.fail(
      -32000,
      "the buffer of " .. old_path .. " has unsaved changes in Neovim: save or undo them, then try again"
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
  }

  local is_new = vim.fn.filereadable(old_path) == 0
  diff.prev_tab = vim.api.nvim_get_current_tabpage()
  local ok, err = pcall(M._build_view, diff, params, old_path, new_path, is_new)
  if not ok then
    diff.resolved = true
    close_view(diff)
    tools.fail(-32000, "could not show the diff: " .. tostring(err))
  end
  M.active[diff.key] = diff
  return diff
end

function M._build_view(diff, params, old_path, new_path, is_new)
  vim.cmd("tabnew")
  diff.tabpage = vim.api.nvim_get_current_tabpage()
  local placeholder = vim.api.nvim_get_current_buf()
  vim.bo[placeholder].bufhidden = "wipe"
  diff.orig_win = vim.api.nvim_get_current_win()
  if is_new then
    -- a new file: compare against an empty scratch buffer
    diff.scratch_buf = placeholder
    vim.bo[placeholder].buftype = "nofile"
    vim.api.nvim_buf_set_name(placeholder, unique_buffer_name(old_path .. " (new file)"))
  else
    vim.cmd("edit " .. vim.fn.fnameescape(old_path))
  end
  local orig_buf = vim.api.nvim_get_current_buf()
  local filetype = vim.bo[orig_buf].filetype
  if filetype == "" then
    filetype = vim.filetype.match({ filename = new_path }) or ""
  end
  vim.cmd("diffthis")

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
  if filetype ~= "" then
    vim.bo[prop_buf].filetype = filetype
  end
  vim.b[prop_buf].tclaude_diff = params.tab_name

  local layout = (config.options.diff or {}).layout
  vim.cmd(layout == "horizontal" and "rightbelow split" or "rightbelow vsplit")
  diff.prop_win = vim.api.nvim_get_current_win()
  vim.api.nvim_win_set_buf(diff.prop_win, prop_buf)
  vim.cmd("diffthis")
  pcall(vim.api.nvim_tabpage_set_var, diff.tabpage, "tclaude_diff", params.tab_name)

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
  ids[#ids + 1] = vim.api.nvim_create_autocmd("WinClosed", {
    group = group,
    callback = function(args)
      local win = tonumber(args.match)
      if win == diff.orig_win or win == diff.prop_win then
        M.reject(diff)
      end
    end,
  })
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
