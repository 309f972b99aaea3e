-- Running the `tclaude` command line, asynchronously. All tmux actions go through it.
local config = require("tclaude.config")

local M = {}

function M.argv(args)
  local cmd = config.options.cmd
  local argv = type(cmd) == "table" and vim.deepcopy(cmd) or { cmd }
  vim.list_extend(argv, args)
  return argv
end

function M.available()
  local argv = M.argv({})
  return vim.fn.executable(argv[1]) == 1
end

-- Run `tclaude <args>`; on_done(code, stdout, stderr) runs in the main loop.
function M.run(args, on_done)
  local argv = M.argv(args)
  if vim.fn.executable(argv[1]) == 0 then
    vim.schedule(function()
      on_done(127, "", argv[1] .. " not found: install tclaude or set the `cmd` option")
    end)
    return
  end
  local out, err = {}, {}
  local ok, job = pcall(vim.fn.jobstart, argv, {
    stdout_buffered = true,
    stderr_buffered = true,
    on_stdout = function(_, data)
      out = data or {}
    end,
    on_stderr = function(_, data)
      err = data or {}
    end,
    on_exit = function(_, code)
      on_done(code, table.concat(out, "\n"), vim.trim(table.concat(err, "\n")))
    end,
  })
  if not ok or job <= 0 then
    vim.schedule(function()
      on_done(127, "", "cannot run " .. argv[1] .. ": " .. tostring(job))
    end)
  end
end

-- Run and decode JSON output; on_done(err_message, value).
function M.json(args, on_done)
  M.run(args, function(code, stdout, stderr)
    if code ~= 0 then
      on_done(stderr ~= "" and stderr or ("tclaude exited with " .. code), nil)
      return
    end
    local ok, value = pcall(vim.json.decode, stdout)
    if not ok then
      on_done("tclaude printed no JSON: " .. stdout:sub(1, 200), nil)
      return
    end
    on_done(nil, value)
  end)
end

return M
