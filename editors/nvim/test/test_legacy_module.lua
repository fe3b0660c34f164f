-- Neovim 0.8-0.10 path: require('nanlint').setup{} from editors/nvim/lua,
-- which calls vim.lsp.start() itself (run here on 0.11, where it still works).
local H = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/helpers.lua')

vim.opt.runtimepath:prepend(H.nvim_dir)
local exits, on_exit = H.exit_recorder()

local a = H.project({
  ['pyproject.toml'] = { '[project]', 'name = "a"' },
  ['src/a/loss.py'] = H.SEED,
  ['src/a/other.py'] = { 'import torch', 'x = torch.log(torch.relu(p))' },
})
local b = H.project({ ['setup.cfg'] = { '[metadata]', 'name = b' }, ['b.py'] = H.SEED })

-- `nanlint` on PATH is the binary under test, so setup() can run without
-- arguments, as a user would call it.
local path_dir = vim.fn.tempname()
vim.fn.mkdir(path_dir, 'p')
vim.uv.fs_symlink(H.bin, path_dir .. '/nanlint')
vim.env.PATH = path_dir .. ':' .. vim.env.PATH

-- A buffer opened before setup() is attached too.
local early = H.open(a .. '/src/a/other.py')
local nanlint = require('nanlint')
local client

H.case('setup() without arguments attaches to a python buffer already open', function()
  nanlint.setup()
  client = H.client_for(early, 'nanlint')
  H.eq(client.config.cmd, { 'nanlint', 'server' }, 'cmd')
  H.eq(client.config.root_dir, a, 'root_dir from pyproject.toml')
  H.eq(client.offset_encoding, 'utf-8', 'negotiated position encoding')
  H.eq(client.config.settings, nanlint.defaults.settings, 'settings')
  H.wait_nl101(early, { { 1, H.col('x = torch.log(torch.relu(p))', 'torch.log') } })
end)

H.case('setup() again replaces the first: new options, one client', function()
  nanlint.setup({
    cmd = { H.bin, 'server' },
    on_exit = on_exit,
    settings = { nanlint = { select = { 'NL101' } } },
  })
  local old = client
  client = H.wait_for('a new client on the buffer', function()
    for _, c in ipairs(vim.lsp.get_clients({ bufnr = early, name = 'nanlint' })) do
      if c.id ~= old.id and c.initialized then
        return c
      end
    end
  end)
  H.eq(client.config.cmd, { H.bin, 'server' }, 'cmd')
  local settings = client.config.settings.nanlint
  H.eq(settings.select, { 'NL101' }, 'settings.nanlint.select (given)')
  H.eq(settings.severity, 'warning', 'settings.nanlint.severity (default kept)')
  -- is_stopped() turns true as soon as the transport starts closing; the
  -- client leaves the list of clients only when its process has exited.
  H.wait_for('the first client to exit', function()
    return vim.lsp.get_client_by_id(old.id) == nil
  end)
  H.eq(#vim.lsp.get_clients({ name = 'nanlint' }), 1, 'clients running')
  H.wait_nl101(early, { { 1, H.col('x = torch.log(torch.relu(p))', 'torch.log') } })
end)
assert(client, 'no client, nothing else can run')

H.case('a second file under the same root reuses the client', function()
  local buf = H.open(a .. '/src/a/loss.py')
  H.eq(H.client_for(buf, 'nanlint').id, client.id, 'client id')
  local d = H.wait_nl101(buf, { { 2, H.col(H.SEED[3], 'tf.log') } })[1]
  local actions = H.code_actions(client, buf, d)
  H.find_action(actions, '^nanlint %(NL101%): Raise `?y_conv`? to at least')
  H.find_action(actions, 'xlogy')
  H.eq(#vim.lsp.get_clients({ name = 'nanlint' }), 1, 'clients running')
end)

H.case('a file under another root gets its own client', function()
  local buf = H.open(b .. '/b.py')
  local other = H.client_for(buf, 'nanlint')
  H.truthy(other.id ~= client.id, 'a different client')
  H.eq(other.config.root_dir, b, 'root_dir from setup.cfg')
  H.wait_nl101(buf, { { 2, H.col(H.SEED[3], 'tf.log') } })
  H.eq(#vim.lsp.get_clients({ name = 'nanlint' }), 2, 'clients running')
end)

H.case('non-python buffers are left alone', function()
  vim.cmd.edit(vim.fn.fnameescape(a .. '/pyproject.toml'))
  local buf = vim.api.nvim_get_current_buf()
  vim.bo[buf].filetype = 'toml'
  H.eq(#vim.lsp.get_clients({ bufnr = buf }), 0, 'clients on pyproject.toml')
end)

H.finish(exits)
