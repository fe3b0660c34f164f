-- nanlint language server for Neovim 0.11+.
--
-- Put the directory holding this `lsp/` folder on 'runtimepath' (or copy this
-- file to `~/.config/nvim/lsp/nanlint.lua`), then:
--
--   vim.lsp.enable('nanlint')
--
-- Change any field without editing this file, for example:
--
--   vim.lsp.config('nanlint', {
--     cmd = { '/path/to/nanlint', 'server' },
--     settings = { nanlint = { ignore = { 'NL101' } } },
--   })
--
-- `settings.nanlint` is what the server reads (workspace/configuration and
-- workspace/didChangeConfiguration). Rule keys you set here win over the
-- project's [tool.nanlint] in pyproject.toml (see configurationPreference), so
-- they are left unset by default: an empty list means "not set".

---@type vim.lsp.Config
return {
  cmd = { 'nanlint', 'server' },
  filetypes = { 'python' },
  root_markers = { '.nanlint.toml', 'nanlint.toml', 'pyproject.toml', 'setup.py', 'setup.cfg', '.git' },
  settings = {
    nanlint = {
      select = {}, -- rule codes or prefixes to enable, e.g. { 'NL1' }; empty: all
      ignore = {}, -- rule codes or prefixes to disable
      -- epsilon = 1e-7, -- lower bound written by the clip fixes
      severity = 'warning', -- 'error' | 'warning' | 'information' | 'hint'
      fixAll = { unsafe = false }, -- let source.fixAll.nanlint apply unsafe fixes
      configurationPreference = 'editorFirst', -- | 'filesystemFirst' | 'editorOnly'
    },
  },
}
