-- tclaude.nvim: Neovim as the editor of every tclaude instance.
-- Nothing happens until require("tclaude").setup() is called; see :help tclaude.
if vim.g.loaded_tclaude == 1 or vim.fn.has("nvim-0.8") == 0 then
  return
end
vim.g.loaded_tclaude = 1
