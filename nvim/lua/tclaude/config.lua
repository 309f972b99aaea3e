-- Options given to setup(), merged over the defaults.
local M = {}

M.defaults = {
  -- the tclaude executable (a string or a list, e.g. { "python", "-m", "tmuxclaude" })
  cmd = "tclaude",
  -- where hosts keep their runtime records; nil = as tclaude computes it
  runtime_dir = nil,
  -- attach to the instances whose cwd contains Neovim's cwd
  auto_attach = true,
  -- send the selection to attached instances, at most once per debounce_ms
  track_selection = true,
  debounce_ms = 100,
  -- how this Neovim calls itself in `tclaude status` (default "nvim <pid>")
  editor_name = nil,
  -- after :TClaudeSend / :TClaudeAdd, switch to the instance's tmux pane
  focus_after_send = false,
  -- define :ClaudeCode, :ClaudeCodeSend, ... as aliases (for claudecode.nvim key maps)
  claudecode_aliases = false,
  -- diffs Claude proposes (openDiff); see :help tclaude-diff-options
  diff = {
    -- "vertical" (side by side), "horizontal" (one above the other) or "inline" (one
    -- buffer: added lines highlighted, removed lines shown between them)
    layout = "vertical",
    -- "new_tab" (a tab page of its own) or "current_tab" (split the current window)
    open_in = "new_tab",
    -- a rejected new file, with open_in = "current_tab": "keep_empty" leaves its (empty)
    -- window, "close_window" closes it
    on_new_file_reject = "keep_empty",
    -- true: the focus stays where it was when a diff opens
    keep_focus = false,
  },
  -- vim.log.levels name for messages from the plugin
  log_level = "info",
  -- claudecode.nvim drop-in: the models :TClaudeSelectModel offers; `value` goes to
  -- `claude --model` (a new instance) or `/model` (a running one)
  models = {
    { name = "Claude Opus (latest)", value = "opus" },
    { name = "Claude Sonnet (latest)", value = "sonnet" },
    { name = "Claude Haiku (latest)", value = "haiku" },
    { name = "Default (account recommended)", value = "default" },
  },
}

M.options = vim.deepcopy(M.defaults)

function M.setup(opts)
  M.options = vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
  return M.options
end

function M.notify(msg, level)
  level = level or vim.log.levels.INFO
  local threshold = vim.log.levels[string.upper(M.options.log_level or "info")] or vim.log.levels.INFO
  if level >= threshold then
    vim.notify("tclaude: " .. msg, level)
  end
end

return M
