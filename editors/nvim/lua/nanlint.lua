-- nanlint language server for Neovim 0.8 to 0.10 (it also works on 0.11+,
-- where `vim.lsp.enable('nanlint')` with `lsp/nanlint.lua` is the simpler way).
--
--   require('nanlint').setup({
--     cmd = { 'nanlint', 'server' },                    -- optional
--     settings = { nanlint = { ignore = { 'NL101' } } }, -- optional
--   })
--
-- setup() starts (or reuses) one client per project root for every buffer
-- whose filetype is in `filetypes`, including buffers already open. Any other
-- key is passed on to vim.lsp.start(), e.g. `on_attach`, `capabilities`,
-- `init_options`, `cmd_env`.

local M = {}

M.defaults = {
  name = 'nanlint',
  cmd = { 'nanlint', 'server' },
  filetypes = { 'python' },
  root_markers = { '.nanlint.toml', 'nanlint.toml', 'pyproject.toml', 'setup.py', 'setup.cfg', '.git' },
  -- The same defaults as lsp/nanlint.lua; see there.
  settings = {
    nanlint = {
      select = {},
      ignore = {},
      severity = 'warning',
      fixAll = { unsafe = false },
      configurationPreference = 'editorFirst',
    },
  },
}

--- The options of the last setup() call.
M.options = nil

-- Clients started by setup() calls: client id -> which call started it. A new
-- setup() stops the older ones and never reuses them.
local started = {}
local generation = 0

local function is_list(t)
  return type(t) == 'table' and (next(t) == nil or t[1] ~= nil)
end

-- Deep merge where lists (cmd, select, ignore, ...) replace instead of merging
-- index by index; an empty table over a map (`setup({})`) changes nothing.
local function merge(base, override)
  if
    type(base) ~= 'table'
    or type(override) ~= 'table'
    or is_list(base)
    or (is_list(override) and next(override) ~= nil)
  then
    return vim.deepcopy(override)
  end
  local out = vim.deepcopy(base)
  for k, v in pairs(override) do
    out[k] = merge(base[k], v)
  end
  return out
end

--- Directory holding the nearest root marker above the buffer's file, else the
--- file's own directory. Nil for buffers that are not files on disk.
---@param bufnr integer
---@param markers string[]
---@return string?
function M.find_root(bufnr, markers)
  local path = vim.api.nvim_buf_get_name(bufnr)
  if path == '' then
    return nil
  end
  local dir = vim.fs.dirname(path)
  local found = vim.fs.find(markers, { path = dir, upward = true, limit = 1 })[1]
  return found and vim.fs.dirname(found) or dir
end

--- Starts or reuses the client for one buffer.
---@param bufnr integer
---@return integer? client_id
function M.attach(bufnr)
  local opts = M.options
  if not opts or vim.bo[bufnr].buftype ~= '' then
    return nil
  end
  local root = M.find_root(bufnr, opts.root_markers)
  if not root then
    return nil
  end
  local config = vim.deepcopy(opts)
  config.filetypes = nil
  config.root_markers = nil
  config.root_dir = root
  local id = vim.lsp.start(config, {
    bufnr = bufnr,
    reuse_client = function(client, conf)
      return started[client.id] == generation
        and client.name == conf.name
        and client.config.root_dir == conf.root_dir
    end,
  })
  if id then
    started[id] = generation
  end
  return id
end

---@param user_opts? table
function M.setup(user_opts)
  M.options = merge(M.defaults, user_opts or {})
  for id in pairs(started) do
    vim.lsp.stop_client(id)
  end
  started = {}
  generation = generation + 1
  local group = vim.api.nvim_create_augroup('nanlint', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = M.options.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
    desc = 'Start the nanlint language server',
  })
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if
      vim.api.nvim_buf_is_loaded(bufnr)
      and vim.tbl_contains(M.options.filetypes, vim.bo[bufnr].filetype)
    then
      M.attach(bufnr)
    end
  end
end

return M
