-- Neovim 0.11+ path: the shipped editors/nvim/lsp/nanlint.lua, enabled with
-- vim.lsp.enable(), against the real server.
local H = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/helpers.lua')

vim.opt.runtimepath:prepend(H.nvim_dir)
local exits, on_exit = H.exit_recorder()
local messages = H.capture_errors()
-- Only the command is changed; everything else comes from lsp/nanlint.lua.
vim.lsp.config('nanlint', { cmd = { H.bin, 'server' }, on_exit = on_exit })
vim.lsp.enable('nanlint')

local dir = H.project({
  ['pyproject.toml'] = { '[project]', 'name = "demo"' },
  ['pkg/train.py'] = H.SEED,
})
local buf = H.open(dir .. '/pkg/train.py')
local client, seed

H.case('attaches with the shipped config', function()
  client = H.client_for(buf, 'nanlint')
  H.eq(client.config.cmd, { H.bin, 'server' }, 'cmd')
  H.eq(client.config.filetypes, { 'python' }, 'filetypes (from lsp/nanlint.lua)')
  H.eq(client.root_dir, dir, 'root_dir found from pyproject.toml above the file')
  H.truthy(client.settings and client.settings.nanlint, 'settings.nanlint (from lsp/nanlint.lua)')
  -- Neovim offers utf-8, so the server should pick it.
  H.eq(client.offset_encoding, 'utf-8', 'negotiated position encoding')
end)
assert(client, 'no client, nothing else can run')

H.case('NL101 on the seed bug at the log call', function()
  local line = H.SEED[3]
  seed = H.wait_nl101(buf, { { 2, H.col(line, 'tf.log') } })[1]
  H.eq(seed.end_lnum, 2, 'end line')
  H.eq(seed.end_col, H.col(line, 'y_conv))') + #'y_conv)', 'end column (after the closing paren)')
  H.eq(seed.source, 'nanlint', 'source')
  H.truthy(seed.message:find('y_conv', 1, true), 'message names y_conv: ' .. seed.message)
  -- Neovim keeps pushed and pulled diagnostics apart; one finding must show once.
  H.eq(#vim.diagnostic.get(buf), 1, 'number of diagnostics in the buffer')
end)

H.case('hover explains the rule', function()
  local d = H.truthy(seed, 'seed diagnostic').user_data.lsp
  local result = H.request(client, 'textDocument/hover', {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    position = d.range.start,
  }, buf)
  local text = H.hover_text(result)
  H.truthy(text:find('log(0)', 1, true), 'hover mentions log(0): ' .. vim.inspect(text))
  H.truthy(text:find('NL101', 1, true), 'hover names NL101: ' .. vim.inspect(text))
  H.eq(result.contents.kind, 'markdown', 'hover kind')
end)

H.case('quick fixes: clip and xlogy offered; clip rewrites the line and clears it', function()
  local actions = H.code_actions(client, buf, H.truthy(seed, 'seed diagnostic'))
  local clip = H.find_action(actions, '^nanlint %(NL101%): Raise `?y_conv`? to at least 1e%-7')
  local xlogy = H.find_action(actions, 'xlogy')
  H.find_action(actions, 'Disable NL101 for this line$')
  H.eq(clip.kind, 'quickfix', 'clip kind')
  H.eq(xlogy.kind, 'quickfix', 'xlogy kind')
  H.apply(client, clip)
  local lines = H.lines(buf)
  H.eq(vim.list_slice(lines, 1, 2), vim.list_slice(H.SEED, 1, 2), 'lines above the fix')
  H.eq(#lines, 3, 'line count')
  H.eq(
    lines[3],
    'cross_entropy = -tf.reduce_sum(y_ * tf.log(tf.math.maximum(y_conv, 1e-7)))',
    'fixed line'
  )
  H.wait_nl101(buf, {}, 'NL101 to go after the clip fix')
end)

-- Each case below starts from a known buffer, so one failure does not cascade.
local CLEAN = vim.list_extend(vim.list_slice(H.SEED, 1, 2), { 'cross_entropy = -tf.reduce_sum(y_ * y_conv)' })
local function reset(lines, positions)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  return H.wait_nl101(buf, positions, 'diagnostics of the reset buffer')
end

H.case('a smell typed incrementally appears, and goes when deleted', function()
  reset(CLEAN, {})
  vim.api.nvim_buf_set_lines(buf, 3, 3, false, { '' })
  vim.api.nvim_buf_set_text(buf, 3, 0, 3, 0, { 'z = tf.math.' })
  -- The log of `y_conv`, the ReLU output assigned above.
  vim.api.nvim_buf_set_text(buf, 3, 12, 3, 12, { 'log(y_conv)' })
  H.eq(H.lines(buf)[4], 'z = tf.math.log(y_conv)', 'typed line')
  local d = H.wait_nl101(buf, { { 3, 4 } }, 'NL101 on the typed line')[1]
  H.eq(d.end_col, #'z = tf.math.log(y_conv)', 'end column')
  vim.api.nvim_buf_set_lines(buf, 3, 4, false, {})
  H.wait_nl101(buf, {}, 'NL101 to go with the deleted line')
end)

H.case('CJK text and an emoji before the smell: right columns', function()
  local prefix = 'label = "日本語のラベル 🙂"; loss = '
  reset(CLEAN, {})
  vim.api.nvim_buf_set_lines(buf, 3, 3, false, { prefix .. '0' })
  -- Replace the `0` after the multibyte text, so the change's range itself
  -- starts past non-ASCII characters.
  vim.api.nvim_buf_set_text(buf, 3, #prefix, 3, #prefix + 1, { 'tf.math.log(y_conv)' })
  local line = H.lines(buf)[4]
  H.eq(line, prefix .. 'tf.math.log(y_conv)', 'edited line')
  local d = H.wait_nl101(buf, { { 3, #prefix } }, 'NL101 after the emoji')[1]
  H.eq(d.end_col, #line, 'end column')
end)

H.case('"Disable NL101 for this line" silences it', function()
  local line = 'label = "日本語のラベル 🙂"; loss = tf.math.log(y_conv)'
  local d = reset(vim.list_extend(vim.deepcopy(CLEAN), { line }), { { 3, H.col(line, 'tf.math.log') } })[1]
  local actions = H.code_actions(client, buf, d)
  H.apply(client, H.find_action(actions, 'Disable NL101 for this line$'))
  local lines = H.lines(buf)
  H.eq(#lines, 4, 'line count')
  H.truthy(
    vim.startswith(lines[4], line),
    'code left as it was: ' .. lines[4]
  )
  H.truthy(lines[4]:find('#.*NL101'), 'a comment naming NL101: ' .. lines[4])
  H.wait_nl101(buf, {}, 'NL101 to go after the disable comment')
end)

H.case('a settings change applies from the next edit on', function()
  reset(H.SEED, { { 2, H.col(H.SEED[3], 'tf.log') } })
  client.settings = vim.tbl_deep_extend('force', client.settings, { nanlint = { ignore = { 'NL101' } } })
  client:notify('workspace/didChangeConfiguration', { settings = client.settings })
  -- Neovim 0.11 has no workspace/diagnostic/refresh, so it pulls again only
  -- after a change; the server handles the notification before that change.
  vim.api.nvim_buf_set_lines(buf, -1, -1, false, { 'z = tf.math.log(y_conv)' })
  H.wait_nl101(buf, {}, 'no NL101 once it is ignored')
end)

H.case('the server reported no problem with the settings', function()
  H.eq(messages, {}, 'window/showMessage and window/logMessage errors from the server')
end)

H.finish(exits)
