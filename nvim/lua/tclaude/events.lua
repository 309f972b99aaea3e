-- User autocommands the plugin fires for the user's own config: `TClaude<Name>`, with
-- `data` in the callback's args. A failing user callback never breaks the plugin.
local M = {}

function M.fire(name, data)
  pcall(vim.api.nvim_exec_autocmds, "User", { pattern = name, modeline = false, data = data })
end

-- Wrap the callback of an at_mentioned request: once the host says a Claude got the
-- mention, fire TClaudeSendComplete (data: file, line_start/line_end 1-based or nil,
-- instance, delivered = how many CLIs got it), then call `callback` as it was.
function M.after_mention(params, callback)
  return function(err, result, record)
    local delivered = type(result) == "table" and tonumber(result.delivered) or 0
    if not err and delivered > 0 then
      M.fire("TClaudeSendComplete", {
        file = params.filePath,
        line_start = params.lineStart and params.lineStart + 1 or nil,
        line_end = params.lineEnd and params.lineEnd + 1 or nil,
        instance = record and record.name,
        delivered = delivered,
      })
    end
    return callback(err, result, record)
  end
end

return M
