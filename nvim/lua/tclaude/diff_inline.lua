-- The inline diff layout: the proposal in one buffer, the lines it adds highlighted
-- (DiffAdd) and the lines it removes shown as virtual lines (DiffDelete) where they were.
-- The marks follow the user's edits of the proposal.
local M = {}

M.ns = vim.api.nvim_create_namespace("tclaude_diff_inline")

local diff_fn = (vim.text and vim.text.diff) or vim.diff

local function joined(lines)
  if #lines == 0 or (#lines == 1 and lines[1] == "") then
    return ""
  end
  return table.concat(lines, "\n") .. "\n"
end

-- Mark `buf` (the proposal) against `old_lines` (the file as it is).
function M.render(buf, old_lines)
  if not vim.api.nvim_buf_is_valid(buf) then
    return
  end
  vim.api.nvim_buf_clear_namespace(buf, M.ns, 0, -1)
  local new_lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
  local hunks = diff_fn(joined(old_lines), joined(new_lines), { result_type = "indices" })
  local last = #new_lines
  for _, hunk in ipairs(hunks) do
    local start_a, count_a, start_b, count_b = hunk[1], hunk[2], hunk[3], hunk[4]
    for line = start_b, start_b + count_b - 1 do
      vim.api.nvim_buf_set_extmark(buf, M.ns, line - 1, 0, { line_hl_group = "DiffAdd", priority = 100 })
    end
    if count_a > 0 then
      local virt = {}
      for line = start_a, start_a + count_a - 1 do
        virt[#virt + 1] = { { old_lines[line] or "", "DiffDelete" } }
      end
      -- above the first line that replaced them, else below the line they followed
      local row, above = start_b - 1, true
      if count_b == 0 then
        row, above = start_b - 1, false
        if start_b == 0 then
          row, above = 0, true
        end
      end
      row = math.max(0, math.min(row, last - 1))
      vim.api.nvim_buf_set_extmark(buf, M.ns, row, 0, { virt_lines = virt, virt_lines_above = above })
    end
  end
end

return M
