-- Settings given through vim.lsp.config reach the server, and combine with the
-- project's [tool.nanlint] as configurationPreference says.
local H = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/helpers.lua')

vim.opt.runtimepath:prepend(H.nvim_dir)
local exits, on_exit = H.exit_recorder()
local messages = H.capture_errors()
vim.lsp.config('nanlint', {
  cmd = { H.bin, 'server' },
  on_exit = on_exit,
  settings = { nanlint = { severity = 'error', epsilon = 1e-6, fixAll = { unsafe = true } } },
})
vim.lsp.enable('nanlint')

local dir = H.project({
  ['pyproject.toml'] = { '[tool.nanlint]', 'epsilon = 1e-3' },
  ['train.py'] = H.SEED,
})
local buf = H.open(dir .. '/train.py')
local client = H.client_for(buf, 'nanlint')
local at = { { 2, H.col(H.SEED[3], 'tf.log') } }

H.case('the shipped defaults are kept under the given keys', function()
  local s = client.settings.nanlint
  H.eq(s.configurationPreference, 'editorFirst', 'configurationPreference (from lsp/nanlint.lua)')
  H.eq(s.epsilon, 1e-6, 'epsilon (given)')
end)

H.case('severity and epsilon from the editor win over pyproject.toml', function()
  local d = H.wait_nl101(buf, at)[1]
  H.eq(d.severity, vim.diagnostic.severity.ERROR, 'severity')
  H.find_action(H.code_actions(client, buf, d), 'Raise `?y_conv`? to at least 1e%-6')
end)

H.case('fixAll.unsafe lets source.fixAll.nanlint apply the preferred fix', function()
  local d = H.wait_nl101(buf, at)[1]
  local actions = H.code_actions(client, buf, d, { 'source.fixAll.nanlint' })
  H.eq(#actions, 1, 'number of actions')
  H.eq(actions[1].kind, 'source.fixAll.nanlint', 'kind')
  H.apply(client, actions[1])
  H.eq(
    H.lines(buf)[3],
    'cross_entropy = -tf.reduce_sum(y_ * tf.log(tf.math.maximum(y_conv, 1e-6)))',
    'fixed line'
  )
  H.wait_nl101(buf, {}, 'no NL101 after fixing all')
end)

H.case('configurationPreference = filesystemFirst: pyproject.toml wins', function()
  local change = { nanlint = { configurationPreference = 'filesystemFirst' } }
  client.settings = vim.tbl_deep_extend('force', client.settings, change)
  client:notify('workspace/didChangeConfiguration', { settings = client.settings })
  -- The edit makes Neovim pull again (it has no workspace/diagnostic/refresh).
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, H.SEED)
  local d = H.wait_nl101(buf, at)[1]
  H.find_action(H.code_actions(client, buf, d), 'Raise `?y_conv`? to at least 1e%-3')
end)

H.case('the server reported no problem with the settings', function()
  H.eq(messages, {}, 'error messages from the server')
end)

H.finish(exits)
