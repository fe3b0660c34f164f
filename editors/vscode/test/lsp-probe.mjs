// Talks LSP over stdio to `nanlint server` the way VS Code's client does, without an
// editor: initialize, open the seed bug, collect diagnostics, hover and code actions.
// run-e2e.sh uses it to fail fast (with the server's own answers) before starting a browser.
//
//   node lsp-probe.mjs path/to/nanlint [--init-only] [--timeout-ms N]
//
// Exit status 0 when the server answered as expected, 1 otherwise.
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { SEED } from './seed.mjs';

const args = process.argv.slice(2);
const bin = args.find((a) => !a.startsWith('--'));
const initOnly = args.includes('--init-only');
const tIdx = args.indexOf('--timeout-ms');
const timeoutMs = tIdx >= 0 ? Number(args[tIdx + 1]) : 15000;
if (!bin) {
  console.error('usage: node lsp-probe.mjs path/to/nanlint [--init-only] [--timeout-ms N]');
  process.exit(2);
}


const settings = {
  select: [],
  ignore: [],
  epsilon: 1e-7,
  severity: 'warning',
  fixAll: { unsafe: false },
  configurationPreference: 'editorFirst',
};

const pending = new Map();
const child = spawn(bin, ['server'], { stdio: ['pipe', 'pipe', 'pipe'] });
let stderr = '';
child.stderr.on('data', (d) => {
  stderr += d;
});
let exited = null;
child.on('exit', (code, signal) => {
  exited = { code, signal };
  for (const [, p] of pending) p.reject(new Error(`${p.method}: the server exited (${JSON.stringify(exited)})`));
  pending.clear();
});
child.stdin.on('error', () => {
  // The server closed its stdin (it exited); the exit handler and timeouts report it.
});
child.on('error', (err) => {
  fail(`could not start ${bin} server: ${err.message}`);
});

let buf = Buffer.alloc(0);
const notifications = [];
const waiters = [];
let nextId = 1;

child.stdout.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  for (;;) {
    const headerEnd = buf.indexOf('\r\n\r\n');
    if (headerEnd < 0) return;
    const header = buf.subarray(0, headerEnd).toString('ascii');
    const m = /content-length:\s*(\d+)/i.exec(header);
    if (!m) return fail(`bad header from server: ${JSON.stringify(header)}`);
    const len = Number(m[1]);
    if (buf.length < headerEnd + 4 + len) return;
    const body = buf.subarray(headerEnd + 4, headerEnd + 4 + len).toString('utf8');
    buf = buf.subarray(headerEnd + 4 + len);
    let msg;
    try {
      msg = JSON.parse(body);
    } catch {
      return fail(`server sent invalid JSON: ${body.slice(0, 200)}`);
    }
    handle(msg);
  }
});

function send(msg) {
  const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...msg }), 'utf8');
  child.stdin.write(`Content-Length: ${body.length}\r\n\r\n`);
  child.stdin.write(body);
}

function handle(msg) {
  if (msg.id !== undefined && msg.method === undefined) {
    const p = pending.get(msg.id);
    if (p) {
      pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method} failed: ${JSON.stringify(msg.error)}`));
      else p.resolve(msg.result);
    }
    return;
  }
  if (msg.id !== undefined) {
    // A request from the server.
    let result = null;
    if (msg.method === 'workspace/configuration') {
      result = (msg.params?.items ?? []).map((it) => (it.section === 'nanlint' || !it.section ? settings : null));
    }
    send({ id: msg.id, result });
    return;
  }
  notifications.push(msg);
  for (const w of [...waiters]) {
    if (w.pred(msg)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(msg);
    }
  }
}

function request(method, params) {
  const id = nextId++;
  send({ id, method, params });
  return withTimeout(
    new Promise((resolve, reject) => pending.set(id, { resolve, reject, method })),
    `${method} request`,
  );
}

function waitNotification(pred, what) {
  const seen = notifications.find(pred);
  if (seen) return Promise.resolve(seen);
  return withTimeout(new Promise((resolve) => waiters.push({ pred, resolve })), what);
}

function withTimeout(p, what) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      const why = exited ? `the server exited (${JSON.stringify(exited)})` : `no answer in ${timeoutMs} ms`;
      reject(new Error(`${what}: ${why}`));
    }, timeoutMs);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

function fail(why) {
  console.error(`lsp-probe: FAIL: ${why}`);
  if (stderr.trim()) console.error(`--- server stderr ---\n${stderr.trimEnd().split('\n').slice(-40).join('\n')}`);
  child.kill('SIGKILL');
  process.exit(1);
}

const problems = [];
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) problems.push(what);
}

async function main() {
  const dir = os.tmpdir();
  const file = path.join(dir, 'nanlint_probe_seed.py');
  const uri = pathToFileURL(file).href;
  const init = await request('initialize', {
    processId: process.pid,
    clientInfo: { name: 'nanlint-lsp-probe' },
    rootUri: pathToFileURL(dir).href,
    workspaceFolders: [{ uri: pathToFileURL(dir).href, name: 'probe' }],
    initializationOptions: settings,
    capabilities: {
      general: { positionEncodings: ['utf-16'] },
      workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true }, workspaceFolders: true },
      textDocument: {
        synchronization: { dynamicRegistration: true, didSave: true },
        publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true, dataSupport: true },
        hover: { contentFormat: ['markdown', 'plaintext'] },
        codeAction: {
          dataSupport: true,
          resolveSupport: { properties: ['edit'] },
          codeActionLiteralSupport: {
            codeActionKind: { valueSet: ['', 'quickfix', 'refactor', 'source', 'source.fixAll'] },
          },
        },
      },
    },
  });
  const caps = init?.capabilities ?? {};
  console.log(`serverInfo: ${JSON.stringify(init?.serverInfo)}`);
  console.log(`capabilities: ${JSON.stringify(caps)}`);
  check(caps.positionEncoding === undefined || caps.positionEncoding === 'utf-16',
    `positionEncoding is utf-16 when the client offers only utf-16 (got ${JSON.stringify(caps.positionEncoding)})`);
  send({ method: 'initialized', params: {} });
  if (!initOnly) {
    check(Boolean(caps.hoverProvider), 'hoverProvider announced');
    const kinds = typeof caps.codeActionProvider === 'object' ? caps.codeActionProvider.codeActionKinds ?? [] : [];
    check(Boolean(caps.codeActionProvider), 'codeActionProvider announced');
    check(kinds.some((k) => k === 'source.fixAll.nanlint' || k === 'source.fixAll' || k === 'source'),
      `codeActionKinds cover source.fixAll.nanlint (got ${JSON.stringify(kinds)})`);
    send({ method: 'textDocument/didOpen', params: { textDocument: { uri, languageId: 'python', version: 1, text: SEED } } });
    let diags;
    if (caps.diagnosticProvider) {
      const report = await request('textDocument/diagnostic', { textDocument: { uri } });
      diags = report?.items ?? [];
    } else {
      const n = await waitNotification(
        (m) => m.method === 'textDocument/publishDiagnostics' && m.params?.uri === uri && m.params.diagnostics.length > 0,
        'publishDiagnostics for the seed file',
      );
      diags = n.params.diagnostics;
    }
    console.log(`diagnostics: ${JSON.stringify(diags)}`);
    const d = diags.find((x) => x.code === 'NL101');
    check(Boolean(d), 'an NL101 diagnostic');
    if (d) {
      check(d.source === 'nanlint', `source is "nanlint" (got ${JSON.stringify(d.source)})`);
      check(d.severity === 2, `severity is Warning (2) by default (got ${d.severity})`);
      const line = SEED.split('\n')[d.range.start.line] ?? '';
      const text = line.slice(d.range.start.character, d.range.end.line === d.range.start.line ? d.range.end.character : undefined);
      console.log(`diagnostic covers: ${JSON.stringify(text)}`);
      check(d.range.start.line === 8 && text.includes('y_conv'), 'the diagnostic is on tf.log(y_conv)');
      const hover = await request('textDocument/hover', { textDocument: { uri }, position: d.range.start });
      console.log(`hover: ${JSON.stringify(hover)}`);
      check(Boolean(hover?.contents), 'hover at the diagnostic has contents');
      const actions = await request('textDocument/codeAction', {
        textDocument: { uri },
        range: d.range,
        context: { diagnostics: [d], triggerKind: 1 },
      });
      console.log(`code actions: ${JSON.stringify(actions)}`);
      const titles = (actions ?? []).map((a) => a.title ?? '');
      check(titles.some((t) => /clip|raise/i.test(t) && t.includes('NL101')), 'a clip quick fix titled with NL101');
      check(titles.some((t) => /xlogy/i.test(t) && t.includes('NL101')), 'an xlogy quick fix titled with NL101');
      const wholeFile = { start: { line: 0, character: 0 }, end: { line: SEED.split('\n').length - 1, character: 0 } };
      const askFixAll = () =>
        request('textDocument/codeAction', {
          textDocument: { uri },
          range: wholeFile,
          context: { diagnostics: [], only: ['source.fixAll.nanlint'], triggerKind: 2 },
        });
      const safeOnly = (await askFixAll()) ?? [];
      console.log(`fixAll actions (fixAll.unsafe false): ${JSON.stringify(safeOnly)}`);
      // Both NL101 fixes are unsafe: turn fixAll.unsafe on through didChangeConfiguration
      // (and in what workspace/configuration answers from now on).
      settings.fixAll = { unsafe: true };
      send({ method: 'workspace/didChangeConfiguration', params: { settings: { nanlint: settings } } });
      let withUnsafe = [];
      const until = Date.now() + timeoutMs;
      while (Date.now() < until && !withUnsafe.some((a) => a.kind === 'source.fixAll.nanlint')) {
        await new Promise((r) => setTimeout(r, 100));
        withUnsafe = (await askFixAll()) ?? [];
      }
      console.log(`fixAll actions (fixAll.unsafe true): ${JSON.stringify(withUnsafe)}`);
      check(withUnsafe.some((a) => a.kind === 'source.fixAll.nanlint'), 'with fixAll.unsafe on, a source.fixAll.nanlint action is offered');
    }
  }
  await request('shutdown', null);
  send({ method: 'exit' });
  child.stdin.end();
  await new Promise((r) => (exited ? r() : child.on('exit', r)));
  if (problems.length > 0) fail(`${problems.length} check(s) failed`);
  console.log('lsp-probe: ok');
  process.exit(0);
}

main().catch((err) => fail(err.message));
