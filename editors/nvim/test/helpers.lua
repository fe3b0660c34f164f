-- Shared helpers for the end-to-end tests that drive the real nanlint server
-- from a real Neovim. Each test file runs in its own `nvim --headless --clean -l`
-- process, calls H.case() for each case and ends with H.finish().

local H = {}

-- Opening a Python file makes the python ftplugin probe for Neovim's Python
-- provider, which runs python3 and takes seconds; the tests do not use it.
vim.g.loaded_python3_provider = 0

local script = debug.getinfo(1, 'S').source:sub(2)
H.test_dir = vim.fs.dirname(vim.fn.fnamemodify(script, ':p'))
H.nvim_dir = vim.fs.dirname(H.test_dir) -- editors/nvim
H.repo = vim.fs.dirname(vim.fs.dirname(H.nvim_dir))
H.bin = os.getenv('NANLINT_BIN') or (H.repo .. '/target/debug/nanlint')

-- Generous upper bounds for waits; a case fails when one runs out.
H.TIMEOUT = tonumber(os.getenv('NANLINT_NVIM_TIMEOUT_MS') or '') or 15000

-- The seed bug, with evidence for NL101: a ReLU output can be exactly 0, and
-- log(0) = -inf. (On a softmax output the same line is NL104, a cross-entropy
-- to compute from the logits.)
H.SEED = {
  'import tensorflow as tf',
  'y_conv = tf.nn.relu(logits)',
  'cross_entropy = -tf.reduce_sum(y_ * tf.log(y_conv))',
}

local passed, failed = 0, 0

local function out(line)
  io.stdout:write(line, '\n')
  io.stdout:flush()
end

--- Runs one case; an error inside marks it failed and the file goes on.
function H.case(name, fn)
  local ok, err = xpcall(fn, debug.traceback)
  if ok then
    passed = passed + 1
    out('ok   - ' .. name)
  else
    failed = failed + 1
    out('FAIL - ' .. name)
    for line in tostring(err):gmatch('[^\n]+') do
      out('       ' .. line)
    end
  end
end

function H.eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(
      ('%s: expected %s, got %s'):format(what or 'value', vim.inspect(expected), vim.inspect(actual)),
      2
    )
  end
end

function H.truthy(v, what)
  if not v then
    error((what or 'condition') .. ' did not hold', 2)
  end
  return v
end

--- Waits until pred() returns a truthy value and returns it; fails with `what`
--- and, if given, describe() (the state seen last) when the timeout runs out.
function H.wait_for(what, pred, describe, timeout)
  local value
  local ok = vim.wait(timeout or H.TIMEOUT, function()
    value = pred()
    return value and true or false
  end, 20)
  if not ok then
    error(('timed out waiting for %s%s'):format(what, describe and ('; last seen: ' .. describe()) or ''), 2)
  end
  return value
end

--- A fresh project directory holding `files` (name -> list of lines).
function H.project(files)
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir, 'p')
  dir = vim.uv.fs_realpath(dir)
  for name, lines in pairs(files) do
    vim.fn.mkdir(vim.fs.dirname(dir .. '/' .. name), 'p')
    vim.fn.writefile(lines, dir .. '/' .. name)
  end
  return dir
end

--- Opens a file and makes sure the FileType event has fired for it.
function H.open(path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  if vim.bo[buf].filetype ~= 'python' then
    vim.bo[buf].filetype = 'python'
  end
  return buf
end

function H.client_for(buf, name)
  return H.wait_for(name .. ' client to attach to buffer ' .. buf, function()
    local c = vim.lsp.get_clients({ bufnr = buf, name = name })[1]
    return c and c.initialized and c
  end)
end

function H.lines(buf)
  return vim.api.nvim_buf_get_lines(buf, 0, -1, false)
end

--- NL101 diagnostics of a buffer, sorted by position.
function H.nl101(buf)
  local ds = vim.tbl_filter(function(d)
    return d.code == 'NL101'
  end, vim.diagnostic.get(buf))
  table.sort(ds, function(a, b)
    return a.lnum < b.lnum or (a.lnum == b.lnum and a.col < b.col)
  end)
  return ds
end

function H.describe_diagnostics(buf)
  return function()
    return vim.inspect(vim.tbl_map(function(d)
      return { lnum = d.lnum, col = d.col, end_col = d.end_col, code = d.code, message = d.message }
    end, vim.diagnostic.get(buf)))
  end
end

--- Waits until the buffer's NL101 diagnostics start exactly at `positions`
--- (a list of {lnum, col}, 0-based, col in bytes) and returns them.
function H.wait_nl101(buf, positions, what)
  return H.wait_for(what or ('NL101 at ' .. vim.inspect(positions)), function()
    local ds = H.nl101(buf)
    if #ds ~= #positions then
      return nil
    end
    for i, p in ipairs(positions) do
      if ds[i].lnum ~= p[1] or ds[i].col ~= p[2] then
        return nil
      end
    end
    return ds
  end, H.describe_diagnostics(buf))
end

--- 0-based byte column of the first plain-text `needle` in `line`.
function H.col(line, needle)
  local s = line:find(needle, 1, true)
  assert(s, ('%q not in %q'):format(needle, line))
  return s - 1
end

--- A request through the client; fails on a transport error or LSP error.
function H.request(client, method, params, buf)
  local resp, err = client:request_sync(method, params, H.TIMEOUT, buf)
  if not resp then
    error(('%s: no response (%s)'):format(method, tostring(err)), 2)
  end
  if resp.err then
    error(('%s: error response %s'):format(method, vim.inspect(resp.err)), 2)
  end
  return resp.result
end

--- Code actions for one diagnostic, asked the way editors do: its range plus
--- the original LSP diagnostic (which keeps `data`).
function H.code_actions(client, buf, d, only)
  local lsp_d = H.truthy(d.user_data and d.user_data.lsp, 'diagnostic carries user_data.lsp')
  return H.request(client, 'textDocument/codeAction', {
    textDocument = { uri = vim.uri_from_bufnr(buf) },
    range = lsp_d.range,
    context = { diagnostics = { lsp_d }, only = only, triggerKind = 1 },
  }, buf) or {}
end

function H.titles(actions)
  return vim.tbl_map(function(a)
    return a.title
  end, actions)
end

function H.find_action(actions, pattern)
  for _, a in ipairs(actions) do
    if a.title:find(pattern) then
      return a
    end
  end
  error(('no code action whose title matches %q among %s'):format(pattern, vim.inspect(H.titles(actions))), 2)
end

--- Applies an action's inline edit (the server is expected to send it inline).
function H.apply(client, action)
  H.truthy(action.edit, ('action %q has an inline edit'):format(action.title))
  vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
end

--- Markdown/plaintext of a hover result as one string.
function H.hover_text(result)
  local c = result and result.contents
  if type(c) == 'string' then
    return c
  elseif type(c) == 'table' and c.value then
    return c.value
  elseif type(c) == 'table' then
    return table.concat(
      vim.tbl_map(function(x)
        return type(x) == 'table' and x.value or x
      end, c),
      '\n'
    )
  end
  return ''
end

--- Stops every client and checks the servers ended on their own after
--- shutdown/exit; then reports and exits with 1 if any case failed.
--- `exits` is a table filled by an on_exit hook: client_id -> {code, signal}.
function H.finish(exits)
  local clients = vim.lsp.get_clients()
  if #clients > 0 then
    H.case('servers exit cleanly after shutdown/exit', function()
      for _, c in ipairs(clients) do
        c:stop()
      end
      if exits then
        H.wait_for('servers to exit', function()
          for _, c in ipairs(clients) do
            if not exits[c.id] then
              return false
            end
          end
          return true
        end, function()
          return vim.inspect(exits)
        end)
        for _, c in ipairs(clients) do
          H.eq(exits[c.id], { code = 0, signal = 0 }, 'exit of client ' .. c.id)
        end
      else
        H.wait_for('clients to stop', function()
          return #vim.lsp.get_clients() == 0
        end)
      end
    end)
  end
  out(('RESULT %d %d'):format(passed, failed))
  os.exit(failed > 0 and 1 or 0)
end

--- Collects the error messages servers send (window/showMessage and
--- window/logMessage of type Error) into the returned list.
function H.capture_errors()
  local seen = {}
  for _, method in ipairs({ 'window/showMessage', 'window/logMessage' }) do
    local default = vim.lsp.handlers[method]
    vim.lsp.handlers[method] = function(err, result, ctx, config)
      if result and result.type == vim.lsp.protocol.MessageType.Error then
        table.insert(seen, result.message)
      end
      return default(err, result, ctx, config)
    end
  end
  return seen
end

--- An on_exit hook that records how each server process ended.
function H.exit_recorder()
  local exits = {}
  return exits, function(code, signal, client_id)
    exits[client_id] = { code = code, signal = signal }
  end
end

return H
