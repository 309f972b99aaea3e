-- openDiff: show Claude's proposal against the file; answered when the user acts.
local tools = require("tclaude.tools")

local M = { name = "openDiff" }

function M.handler(params, reply, link, msg_id)
  local diff = require("tclaude.diff")
  diff.open({
    old_file_path = tools.require_string(params, "old_file_path"),
    new_file_path = type(params.new_file_path) == "string" and params.new_file_path or params.old_file_path,
    new_file_contents = type(params.new_file_contents) == "string" and params.new_file_contents
      or tools.fail(-32602, "missing or bad argument: new_file_contents"),
    tab_name = tools.require_string(params, "tab_name"),
  }, reply, link)
end

return M
