-- A client that offers only UTF-16 positions (as most editors do): the server
-- must fall back to UTF-16, and columns after CJK text and an emoji (a
-- surrogate pair in UTF-16) must still land on the right bytes in Neovim.
local H = dofile(vim.fs.dirname(debug.getinfo(1, 'S').source:sub(2)) .. '/helpers.lua')

vim.opt.runtimepath:prepend(H.nvim_dir)
local exits, on_exit = H.exit_recorder()
vim.lsp.config('nanlint', {
  cmd = { H.bin, 'server' },
  on_exit = on_exit,
  capabilities = { general = { positionEncodings = { 'utf-16' } } },
})
vim.lsp.enable('nanlint')

local prefix = 's = "日本語 🙂 🙂"; '
local dir = H.project({
  ['setup.py'] = { 'from setuptools import setup', 'setup()' },
  ['model.py'] = { 'import tensorflow as tf', 'q = tf.nn.relu(x)', prefix .. 'v = 0' },
})
local buf = H.open(dir .. '/model.py')
local client

H.case('falls back to utf-16 when utf-8 is not offered', function()
  client = H.client_for(buf, 'nanlint')
  H.eq(client.offset_encoding, 'utf-16', 'negotiated position encoding')
  H.eq(client.root_dir, dir, 'root_dir found from setup.py')
end)
assert(client, 'no client, nothing else can run')

H.case('incremental edit after surrogate pairs; diagnostic columns', function()
  H.wait_nl101(buf, {}, 'no NL101 before the edit')
  local line = H.lines(buf)[3]
  local at = H.col(line, 'v = 0')
  -- Replace `0` (after two emoji) with a log of `q`, a ReLU output (it can be 0).
  vim.api.nvim_buf_set_text(buf, 2, at + 4, 2, at + 5, { 'tf.math.log(q)' })
  line = H.lines(buf)[3]
  H.eq(line, prefix .. 'v = tf.math.log(q)', 'edited line')
  local d = H.wait_nl101(buf, { { 2, H.col(line, 'tf.math.log') } })[1]
  H.eq(d.end_col, #line, 'end column')
  -- And the positions the server sent really are UTF-16 code units.
  local r = d.user_data.lsp.range
  H.eq(r.start.character, vim.str_utfindex(line, 'utf-16', d.col), 'start character in UTF-16 units')
end)

H.case('the fix on that line edits the right span', function()
  local d = H.truthy(H.nl101(buf)[1], 'a diagnostic to fix')
  -- `q` is a ReLU output, not a probability, so the fix only raises its lower bound.
  local fix = H.find_action(H.code_actions(client, buf, d), '^nanlint %(NL101%): Raise `?q`? to at least 1e%-7')
  H.apply(client, fix)
  -- The fix spells TensorFlow's maximum by its canonical name (rules::fixes::function),
  -- as the Rust snapshots of NL101, NL201 and NL202 do.
  H.eq(H.lines(buf)[3], prefix .. 'v = tf.math.log(tf.math.maximum(q, 1e-7))', 'fixed line')
  H.wait_nl101(buf, {}, 'NL101 to go after the fix')
end)

H.finish(exits)
