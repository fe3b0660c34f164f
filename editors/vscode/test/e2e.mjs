// End-to-end test of the packaged nanlint extension in real VS Code (code-server),
// driven through headless Chromium with playwright-core. Run it through run-e2e.sh,
// which installs the tools and sets these variables:
//   NANLINT_E2E_CODE_SERVER  code-server's entry script (run with NANLINT_E2E_NODE24)
//   NANLINT_E2E_NODE24       Node 24 binary
//   NANLINT_E2E_PLAYWRIGHT   playwright-core package folder
//   NANLINT_E2E_CHROMIUM     chromium binary
//   NANLINT_E2E_VSIX         the .vsix under test (with the server bundled)
//   NANLINT_E2E_OUT          folder for screenshots and logs
//   NANLINT_E2E_ONLY_MISSING "1": stop after the "server not found" checks
//
// Every check waits for something VS Code shows (with a time limit) and fails with a
// description of what was on screen and in the logs instead.
import { spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { NOTEBOOK_CELLS, SEED, notebookJson } from './seed.mjs';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run test/run-e2e.sh)`);
  return v;
};
const NODE24 = env('NANLINT_E2E_NODE24');
const CODE_SERVER = env('NANLINT_E2E_CODE_SERVER');
const CHROMIUM = env('NANLINT_E2E_CHROMIUM');
const VSIX = env('NANLINT_E2E_VSIX');
const OUT = env('NANLINT_E2E_OUT');
const ONLY_MISSING = process.env.NANLINT_E2E_ONLY_MISSING === '1';
const { chromium } = createRequire(import.meta.url)(env('NANLINT_E2E_PLAYWRIGHT'));

// A closed port on loopback: anything that tries to go out through a proxy ends here.
const DEAD_PROXY = 'http://127.0.0.1:9';
const EXT_ID = 'nanlint.nanlint';


const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nanlint-e2e-'));
const WS = path.join(tmp, 'workspace');
const USER_DATA = path.join(tmp, 'user-data');
const EXTENSIONS = path.join(tmp, 'extensions');
const BROWSER_PROFILE = path.join(tmp, 'chromium-profile');
const MISSING_SERVER = path.join(tmp, 'no-such-dir', 'nanlint');
const SETTINGS_FILE = path.join(USER_DATA, 'User', 'settings.json');
fs.mkdirSync(OUT, { recursive: true });
for (const d of [WS, EXTENSIONS, BROWSER_PROFILE, path.join(USER_DATA, 'User'), path.join(USER_DATA, 'Machine')]) fs.mkdirSync(d, { recursive: true });
fs.writeFileSync(path.join(WS, 'model.py'), SEED);
fs.writeFileSync(path.join(WS, 'severity.py'), SEED);
fs.writeFileSync(path.join(WS, 'on_save.py'), SEED);
fs.writeFileSync(path.join(WS, 'fix_all.py'), SEED);
fs.writeFileSync(path.join(WS, 'loss.ipynb'), notebookJson(NOTEBOOK_CELLS));

const baseSettings = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'chat.disableAIFeatures': true,
  'git.enabled': false,
  'http.proxy': DEAD_PROXY,
  'files.autoSave': 'off',
  'editor.minimap.enabled': false,
  'editor.hover.delay': 300,
  'window.commandCenter': false,
  // The LSP traffic goes to the "nanlint Trace" channel, which the failure report prints.
  'nanlint.trace.server': 'messages',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  '[python]': { 'editor.codeActionsOnSave': { 'source.fixAll.nanlint': 'explicit' } },
};
// The nanlint.* settings go into the remote machine's settings (code-server's window is a
// remote window): nanlint.path is machine-scoped, so VS Code reads it only from there, and
// VS Code notices when that file changes on disk (it does not for the user settings file
// while code-server runs).
const MACHINE_SETTINGS_FILE = path.join(USER_DATA, 'Machine', 'settings.json');
fs.writeFileSync(SETTINGS_FILE, JSON.stringify(baseSettings, null, 2));
function writeSettings(nanlint) {
  fs.writeFileSync(MACHINE_SETTINGS_FILE, JSON.stringify(nanlint, null, 2));
}

let step = 'setup';
const passed = [];
function pass(what) {
  passed.push(what);
  console.log(`  ok: ${what}`);
}
function begin(name) {
  step = name;
  console.log(`\n== ${name}`);
}
class CheckFailed extends Error {}
function assert(cond, what) {
  if (!cond) throw new CheckFailed(what);
  pass(what);
}

// ------------------------------------------------------------------ code-server
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const serverEnv = {
  ...process.env,
  HTTP_PROXY: DEAD_PROXY,
  HTTPS_PROXY: DEAD_PROXY,
  http_proxy: DEAD_PROXY,
  https_proxy: DEAD_PROXY,
  NO_PROXY: '127.0.0.1,localhost',
  no_proxy: '127.0.0.1,localhost',
  NODE_USE_ENV_PROXY: '1',
  // The extension gallery is never needed: point it at the closed loopback port.
  EXTENSIONS_GALLERY: JSON.stringify({
    serviceUrl: `${DEAD_PROXY}/gallery`,
    itemUrl: `${DEAD_PROXY}/item`,
    resourceUrlTemplate: `${DEAD_PROXY}/resource/{publisher}/{name}/{version}/{path}`,
  }),
};
// The server must come from the .vsix, not from the developer's PATH.
serverEnv.PATH = (process.env.PATH ?? '')
  .split(path.delimiter)
  .filter((dir) => dir && !fs.existsSync(path.join(dir, 'nanlint')))
  .join(path.delimiter);

function installExtension() {
  const r = spawnSync(
    NODE24,
    [CODE_SERVER, '--install-extension', VSIX, '--extensions-dir', EXTENSIONS, '--user-data-dir', USER_DATA],
    { env: serverEnv, encoding: 'utf8', timeout: 180_000 },
  );
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  fs.writeFileSync(path.join(OUT, 'install-extension.log'), out);
  if (r.status !== 0 || !/successfully installed/i.test(out)) {
    throw new CheckFailed(`code-server --install-extension failed (status ${r.status}):\n${out}`);
  }
  const installed = fs.readdirSync(EXTENSIONS).find((d) => d.startsWith(`${EXT_ID}-`));
  if (!installed) throw new CheckFailed(`the extension folder is missing in ${EXTENSIONS}: ${fs.readdirSync(EXTENSIONS)}`);
  const bundled = path.join(EXTENSIONS, installed, 'bundled', 'nanlint');
  return { dir: path.join(EXTENSIONS, installed), bundled };
}

let codeServer;
const codeServerLog = path.join(OUT, 'code-server.log');
async function startCodeServer(port) {
  const logFd = fs.openSync(codeServerLog, 'w');
  codeServer = spawn(
    NODE24,
    [
      CODE_SERVER,
      '--bind-addr', `127.0.0.1:${port}`,
      '--auth', 'none',
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--user-data-dir', USER_DATA,
      '--extensions-dir', EXTENSIONS,
      WS,
    ],
    { env: serverEnv, stdio: ['ignore', logFd, logFd], detached: true },
  );
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (codeServer.exitCode !== null) {
      throw new CheckFailed(`code-server exited with ${codeServer.exitCode}:\n${tail(codeServerLog, 40)}`);
    }
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(500);
  }
  throw new CheckFailed(`code-server did not answer on 127.0.0.1:${port}:\n${tail(codeServerLog, 40)}`);
}

function stopCodeServer() {
  if (codeServer && codeServer.exitCode === null) {
    try {
      process.kill(-codeServer.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}

// ------------------------------------------------------------------ page helpers
let page;
const blocked = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const EDITOR = '.part.editor .editor-group-container.active .monaco-editor';
// A notebook editor is drawn in an overlay on the workbench, outside its editor group; the
// test has one notebook open at a time.
const NOTEBOOK = '.notebookOverlay.notebook-editor';

async function screenshot(name) {
  const file = path.join(OUT, name);
  await page.screenshot({ path: file });
  return file;
}

async function waitFor(what, fn, arg, timeout = 60_000) {
  try {
    const handle = await page.waitForFunction(fn, arg, { timeout, polling: 250 });
    return await handle.jsonValue();
  } catch (err) {
    throw new CheckFailed(`timed out waiting for ${what}${err?.message?.includes('Timeout') ? '' : `: ${err.message}`}`);
  }
}

/** Waits until line 9 of the active editor no longer holds `tf.log(y_conv)`; returns its text. */
async function line9Rewritten(what) {
  return waitFor(
    what,
    (sel) => {
      const lines = [...document.querySelectorAll(`${sel} .view-lines .view-line`)]
        .map((l) => ({ top: parseFloat(l.style.top) || 0, text: l.textContent.replace(/\u00a0/g, ' ') }))
        .sort((a, b) => a.top - b.top);
      const t = lines[8]?.text ?? '';
      return t.startsWith('cross_entropy') && !t.includes('tf.log(y_conv)') ? t : false;
    },
    EDITOR,
    30_000,
  );
}

/** Lines of the active editor as shown (monaco renders lines absolutely positioned). */
async function editorLines() {
  return page.evaluate((sel) => {
    const ed = document.querySelector(sel);
    if (!ed) return [];
    return [...ed.querySelectorAll('.view-lines .view-line')]
      .map((l) => ({ top: parseFloat(l.style.top) || 0, text: l.textContent.replace(/\u00a0/g, ' ') }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.text);
  }, EDITOR);
}

async function openFile(name, { notebook = false } = {}) {
  await page.keyboard.press('Control+P');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 15_000 });
  await page.keyboard.type(name, { delay: 20 });
  const listed = await page
    .waitForFunction(
      (n) => [...document.querySelectorAll('.quick-input-list .monaco-list-row')].some((r) => r.textContent.includes(n)),
      name,
      { timeout: 15_000 },
    )
    .then(() => true, () => false);
  if (listed) {
    await page.keyboard.press('Enter');
  } else {
    // File search needs ripgrep; fall back to the Explorer.
    await page.keyboard.press('Escape');
    await page.click(`.explorer-folders-view .monaco-list-row[aria-label^="${name}"]`, { timeout: 15_000 });
  }
  await waitFor(
    `the editor tab of ${name}`,
    ({ n, shown }) => {
      const tab = document.querySelector('.part.editor .editor-group-container.active .tab.active');
      return tab && tab.textContent.includes(n) && document.querySelector(shown);
    },
    { n: name, shown: notebook ? `${NOTEBOOK} .monaco-list-row` : `${EDITOR} .view-line` },
    30_000,
  );
  if (!notebook) await page.click(`${EDITOR} .view-lines`);
}

async function clearNotifications() {
  await page.evaluate(() => {
    for (const b of document.querySelectorAll('.notification-toast .codicon-notifications-clear')) b.click();
  });
  await page
    .waitForFunction(() => document.querySelectorAll('.notification-toast .notification-list-item-message').length === 0, undefined, { timeout: 5_000 })
    .catch(() => {});
}

async function runCommand(title) {
  await page.keyboard.press('F1');
  await page.waitForSelector('.quick-input-widget input', { state: 'visible', timeout: 15_000 });
  await page.keyboard.type(title, { delay: 10 });
  await waitFor(
    `the command "${title}" in the command palette`,
    (t) => [...document.querySelectorAll('.quick-input-list .monaco-list-row')].some((r) => r.textContent.includes(t)),
    title,
    15_000,
  );
  await page.keyboard.press('Enter');
}

const squiggles = (kind) =>
  page.evaluate((sel) => document.querySelectorAll(sel).length, `${EDITOR} .squiggly-${kind}`);

// ------------------------------------------------------------------ notebook helpers

/**
 * The cells of the active notebook editor as shown, in order: their kind, the lines of their
 * editor (a markdown cell not being edited has none), and for each squiggle of `kind`, the
 * line of the cell it is on, its first column (1-based) and the characters under it.
 */
async function notebookCells(kind = 'warning') {
  return page.evaluate(
    ({ nb, kind }) => {
      const norm = (t) => t.replace(/\u00a0/g, ' ');
      const rows = [...document.querySelectorAll(`${nb} .monaco-list-row.code-cell-row, ${nb} .monaco-list-row.markdown-cell-row`)].sort(
        (a, b) => Number(a.dataset.index) - Number(b.dataset.index),
      );
      return rows.map((row) => {
        const ed = row.querySelector('.cell-editor-container .monaco-editor');
        const lineEls = ed
          ? [...ed.querySelectorAll('.view-lines .view-line')].sort((a, b) => (parseFloat(a.style.top) || 0) - (parseFloat(b.style.top) || 0))
          : [];
        const squiggles = ed
          ? [...ed.querySelectorAll(`.squiggly-${kind}`)].map((sq) => {
              const box = sq.getBoundingClientRect();
              const mid = (box.top + box.bottom) / 2;
              const line = lineEls.findIndex((l) => {
                const r = l.getBoundingClientRect();
                return r.top <= mid && mid <= r.bottom;
              });
              if (line < 0) return { line: null, column: null, covered: '' };
              // The characters whose middle lies under the squiggle.
              let col = 0;
              let first = null;
              let covered = '';
              const walk = document.createTreeWalker(lineEls[line], NodeFilter.SHOW_TEXT);
              for (let n = walk.nextNode(); n; n = walk.nextNode()) {
                for (let i = 0; i < n.data.length; i++, col++) {
                  const r = document.createRange();
                  r.setStart(n, i);
                  r.setEnd(n, i + 1);
                  const cb = r.getBoundingClientRect();
                  const cx = (cb.left + cb.right) / 2;
                  if (cx >= box.left && cx <= box.right) {
                    if (first === null) first = col;
                    covered += norm(n.data[i]);
                  }
                }
              }
              return { line: line + 1, column: first === null ? null : first + 1, covered };
            })
          : [];
        return {
          index: Number(row.dataset.index),
          kind: row.classList.contains('code-cell-row') ? 'code' : 'markdown',
          lines: lineEls.map((l) => norm(l.textContent)),
          squiggles,
        };
      });
    },
    { nb: NOTEBOOK, kind },
  );
}

/** The source of each cell of a notebook file on disk. */
function cellSources(file) {
  const nb = JSON.parse(fs.readFileSync(file, 'utf8'));
  return nb.cells.map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source));
}

// ------------------------------------------------------------------ failure report
function tail(file, n) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return `(no ${file})`;
  }
}

function findFiles(dir, pred, out = []) {
  let entries = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) findFiles(p, pred, out);
    else if (pred(p)) out.push(p);
  }
  return out;
}

/** The extension's own log (its LogOutputChannel), under the extension host's log folder. */
function extensionLog() {
  return findFiles(
    path.join(USER_DATA, 'logs'),
    (p) => p.includes(`${path.sep}${EXT_ID}${path.sep}`) || /nanlint Trace\.log$/.test(p),
  )
    .map((p) => `--- ${path.relative(USER_DATA, p)}\n${fs.readFileSync(p, 'utf8')}`)
    .join('\n');
}

function extensionHostLog() {
  return findFiles(path.join(USER_DATA, 'logs'), (p) => /exthost\d*\.log$/.test(p) || p.endsWith('remoteexthost.log'))
    .map((p) => `--- ${path.relative(USER_DATA, p)}\n${tail(p, 40)}`)
    .join('\n');
}

async function report(err) {
  console.error(`\nFAILED in step "${step}": ${err instanceof CheckFailed ? err.message : err?.stack ?? err}`);
  if (page) {
    try {
      const shot = await screenshot('failure.png');
      console.error(`screenshot: ${shot}`);
      const notes = await page.evaluate(() =>
        [...document.querySelectorAll('.notification-list-item-message')].map((n) => n.textContent),
      );
      if (notes.length) console.error(`notifications on screen:\n  ${notes.join('\n  ')}`);
      console.error(`active editor:\n  ${(await editorLines()).join('\n  ')}`);
      const nbCells = await notebookCells();
      if (nbCells.length) {
        console.error(`notebook cells:\n  ${nbCells.map((c) => `${c.index + 1} ${c.kind} ${JSON.stringify(c.lines)} squiggles ${JSON.stringify(c.squiggles)}`).join('\n  ')}`);
      }
    } catch (e) {
      console.error(`(could not inspect the page: ${e.message})`);
    }
  }
  console.error(`\nextension log:\n${extensionLog() || '(none)'}`);
  console.error(`\nextension host log:\n${extensionHostLog() || '(none)'}`);
  console.error(`\ncode-server log (last lines):\n${tail(codeServerLog, 30)}`);
}

// ------------------------------------------------------------------ the test
async function main() {
  begin('install the .vsix into code-server');
  const ext = installExtension();
  assert(fs.existsSync(ext.bundled), `the server binary is bundled in the installed extension (${path.relative(EXTENSIONS, ext.bundled)})`);

  // First the extension starts with nanlint.path pointing at nothing.
  writeSettings({ 'nanlint.path': MISSING_SERVER });

  begin('start code-server and open the workspace');
  const port = await freePort();
  await startCodeServer(port);
  const context = await chromium.launchPersistentContext(BROWSER_PROFILE, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      `--proxy-server=${DEAD_PROXY}`,
    ],
  });
  // Only code-server on 127.0.0.1 may be reached.
  await context.route(
    (url) => !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && url.protocol.startsWith('http'),
    (route) => {
      blocked.push(route.request().url());
      return route.abort();
    },
  );
  page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(WS)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
  await waitFor('the Explorer to list model.py', () =>
    [...document.querySelectorAll('.explorer-folders-view .monaco-list-row')].some((r) => r.textContent.includes('model.py')),
  );
  pass('VS Code (code-server) is up with the workspace open');

  begin('server not found: nanlint.path points at a missing file');
  await openFile('model.py');
  const note = await waitFor(
    'an error notification about the missing server',
    (p) =>
      [...document.querySelectorAll('.notification-list-item-message')]
        .map((n) => n.textContent)
        .find((t) => t.includes(p)) ?? false,
    MISSING_SERVER,
  );
  console.log(`  notification: ${note}`);
  assert(/nanlint/i.test(note) && /not found/i.test(note), 'the notification says the nanlint server was not found');
  await screenshot('missing-server.png');
  const logDeadline = Date.now() + 15_000;
  while (!extensionLog().includes(MISSING_SERVER) && Date.now() < logDeadline) await sleep(250);
  assert(extensionLog().includes(MISSING_SERVER), 'the extension log ("nanlint: Show logs") names the missing path');
  assert((await squiggles('warning')) === 0, 'no diagnostics without a server');

  begin('server fails: nanlint.path points at a program that exits at once');
  const broken = path.join(tmp, 'broken-nanlint');
  fs.writeFileSync(broken, '#!/bin/sh\necho "broken-nanlint: cannot serve today" >&2\nexit 3\n', { mode: 0o755 });
  await clearNotifications();
  writeSettings({ 'nanlint.path': broken });
  const failed = await waitFor(
    'an error notification about the failed start',
    (p) =>
      [...document.querySelectorAll('.notification-list-item-message')]
        .map((n) => n.textContent)
        .find((t) => t.includes(p) && t.includes('failed to start')) ?? false,
    broken,
  );
  console.log(`  notification: ${failed}`);
  assert(/exit code 3/.test(failed) && failed.includes('cannot serve today'), "the notification gives the exit code and the server's last words");
  await screenshot('failed-server.png');
  if (ONLY_MISSING) return;

  begin('clearing nanlint.path restarts on the bundled server');
  await clearNotifications();
  writeSettings({});
  await waitFor('a warning squiggle in model.py', (sel) => document.querySelectorAll(sel).length > 0, `${EDITOR} .squiggly-warning`, 90_000);
  pass('a warning squiggle appears');
  const started = extensionLog();
  assert(started.includes(ext.bundled) || started.includes('bundled with the extension'), 'the extension log says it uses the bundled server');

  begin('Problems panel');
  await page.keyboard.press('Control+Shift+M');
  const problem = await waitFor(
    'an NL101 entry in the Problems panel',
    () =>
      [...document.querySelectorAll('.markers-panel .monaco-list-row')].map((r) => r.textContent).find((t) => t.includes('NL101')) ?? false,
  );
  console.log(`  problem: ${problem}`);
  assert(problem.includes('NL101'), 'the Problems entry contains NL101');
  assert(/nanlint/.test(problem), 'the Problems entry names the source nanlint');
  assert(/Ln 9\b/.test(problem), 'the Problems entry points at line 9 (the tf.log call)');

  begin('hover');
  const squiggle = page.locator(`${EDITOR} .squiggly-warning`).first();
  const box = await squiggle.boundingBox();
  if (!box) throw new CheckFailed('the squiggle has no box on screen');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  const hover = await waitFor(
    'the hover with the rule explanation',
    () => {
      const h = [...document.querySelectorAll('.monaco-hover')].find((e) => e.offsetParent !== null);
      if (!h) return false;
      const parts = [...h.querySelectorAll('.hover-row.markdown-hover, .markdown-hover')].map((e) => e.textContent);
      const all = h.textContent;
      return parts.length && all.includes('NL101') ? { parts, all } : false;
    },
    undefined,
    30_000,
  );
  console.log(`  hover: ${hover.all.slice(0, 300)}${hover.all.length > 300 ? '…' : ''}`);
  // The diagnostic's own hover only has the message; the rule name comes from the server's hover.
  assert(hover.parts.some((t) => t.includes('log-of-possibly-zero')), "the hover shows the rule's documentation (log-of-possibly-zero)");
  await screenshot('hover.png');
  await page.mouse.move(5, 400);
  await page.keyboard.press('Escape');

  begin('quick fixes');
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.keyboard.press('Control+.');
  const fixes = await waitFor(
    'the quick fix menu',
    () => {
      const rows = [...document.querySelectorAll('.action-widget .monaco-list-row')].map((r) => r.textContent);
      return rows.length ? rows : false;
    },
    undefined,
    30_000,
  );
  console.log(`  quick fixes:\n    ${fixes.join('\n    ')}`);
  const clip = fixes.find((t) => /clip|raise/i.test(t) && t.includes('NL101'));
  const xlogy = fixes.find((t) => /xlogy/i.test(t) && t.includes('NL101'));
  assert(clip, 'the clip fix is offered');
  assert(xlogy, 'the xlogy fix is offered');
  assert(/y_conv/.test(clip) && /1e-7|1e-07|0\.0000001/.test(clip), 'the clip fix title names y_conv and the epsilon 1e-7');
  const shot = await screenshot('quickfix.png');
  console.log(`  screenshot: ${shot}`);

  begin('apply the clip fix');
  await page.locator('.action-widget .monaco-list-row', { hasText: clip.trim().slice(0, 40) }).first().click();
  const fixedLine = await line9Rewritten('line 9 to be rewritten');
  console.log(`  line 9: ${fixedLine}`);
  assert(/clip|maximum/.test(fixedLine) && fixedLine.includes('y_conv'), 'line 9 now raises y_conv to the epsilon');
  const lines = await editorLines();
  assert(lines.slice(0, 8).join('\n') === SEED.split('\n').slice(0, 8).join('\n'), 'lines 1-8 are unchanged');
  await waitFor('the squiggle to go away', (sel) => document.querySelectorAll(sel).length === 0, `${EDITOR} .squiggly-warning`, 30_000);
  pass('the squiggle is gone');
  await waitFor(
    'the NL101 entry to leave the Problems panel',
    () => ![...document.querySelectorAll('.markers-panel .monaco-list-row')].some((r) => r.textContent.includes('NL101')),
    undefined,
    30_000,
  );
  pass('the Problems entry is gone');
  await screenshot('fixed.png');

  begin('a Jupyter notebook in the notebook editor');
  const nbFile = path.join(WS, 'loss.ipynb');
  await openFile('loss.ipynb', { notebook: true });
  await waitFor(
    `the notebook editor with its ${NOTEBOOK_CELLS.length} cells`,
    ({ nb, n }) => document.querySelectorAll(`${nb} .monaco-list-row.code-cell-row, ${nb} .monaco-list-row.markdown-cell-row`).length === n,
    { nb: NOTEBOOK, n: NOTEBOOK_CELLS.length },
  );
  pass('loss.ipynb is open in the notebook editor');
  await waitFor('a warning squiggle in a cell of the notebook', (sel) => document.querySelectorAll(sel).length > 0, `${NOTEBOOK} .cell-editor-container .squiggly-warning`, 60_000);
  const cells = await notebookCells();
  for (const c of cells) console.log(`  cell ${c.index + 1} (${c.kind}): ${JSON.stringify(c.lines)} squiggles ${JSON.stringify(c.squiggles)}`);
  assert(
    cells.map((c) => c.kind).join() === NOTEBOOK_CELLS.map(([k]) => k).join(),
    'the notebook editor shows the cells of loss.ipynb: one markdown cell, then three code cells',
  );
  assert(
    cells.filter((c) => c.kind === 'code').every((c) => c.lines.join('\n') === NOTEBOOK_CELLS[c.index][1]),
    'each code cell shows its source',
  );
  const flagged = cells.filter((c) => c.squiggles.length > 0);
  assert(flagged.length === 1 && flagged[0].index === 3, 'only the fourth cell (the log of the softmax from the third cell) has a squiggle');
  const [nbSquiggle] = flagged[0].squiggles;
  assert(
    flagged[0].squiggles.length === 1 && nbSquiggle.line === 2 && nbSquiggle.column === 8 && nbSquiggle.covered === '-np.sum(y * np.log(p))',
    'the squiggle is on line 2 of the cell, under `-np.sum(y * np.log(p))` (columns 8-29, as `nanlint check` reports)',
  );
  assert(/notebookDocument\/didOpen/.test(extensionLog()), 'the LSP trace shows the notebook synced as a notebook (notebookDocument/didOpen)');
  // The Problems panel is still open from above.
  const nbProblem = await waitFor(
    'an NL104 entry in the Problems panel',
    () => [...document.querySelectorAll('.markers-panel .monaco-list-row')].map((r) => r.textContent).find((t) => t.includes('NL104')) ?? false,
  );
  console.log(`  problem: ${nbProblem}`);
  assert(/Ln 2, Col 8\b/.test(nbProblem), 'the Problems entry points at line 2, column 8 (of the cell)');
  assert(
    await page.evaluate(() => [...document.querySelectorAll('.markers-panel .monaco-list-row')].some((r) => r.textContent.includes('loss.ipynb'))),
    'the Problems panel lists it under loss.ipynb',
  );
  await runCommand('View: Hide Panel');
  await waitFor('the panel to close', () => !document.querySelector('.markers-panel .monaco-list-row'), undefined, 15_000);

  begin('hover in a notebook cell');
  const nbSquiggleEl = page.locator(`${NOTEBOOK} .cell-editor-container .squiggly-warning`).first();
  const nbBox = await nbSquiggleEl.boundingBox();
  if (!nbBox) throw new CheckFailed('the squiggle in the cell has no box on screen');
  await page.mouse.move(nbBox.x + nbBox.width / 2, nbBox.y + nbBox.height / 2);
  const nbHover = await waitFor(
    'the hover on the squiggle in the cell',
    () => {
      const h = [...document.querySelectorAll('.monaco-hover')].find((e) => e.offsetParent !== null);
      return h && h.textContent.includes('NL104') ? h.textContent : false;
    },
    undefined,
    30_000,
  );
  console.log(`  hover: ${nbHover.slice(0, 300)}${nbHover.length > 300 ? '…' : ''}`);
  // The rule's name comes from the server's hover for the cell, not from the diagnostic.
  assert(nbHover.includes('cross-entropy-on-probabilities'), "the hover in the cell shows the rule's documentation (cross-entropy-on-probabilities)");
  await page.mouse.move(5, 400);
  await page.keyboard.press('Escape');

  begin('quick fix in a notebook cell');
  await page.mouse.click(nbBox.x + nbBox.width / 2, nbBox.y + nbBox.height / 2);
  await page.keyboard.press('Control+.');
  const nbFixes = await waitFor(
    'the quick fix menu in the cell',
    () => {
      const rows = [...document.querySelectorAll('.action-widget .monaco-list-row')].map((r) => r.textContent);
      return rows.length ? rows : false;
    },
    undefined,
    30_000,
  );
  console.log(`  quick fixes:\n    ${nbFixes.join('\n    ')}`);
  const nbClip = nbFixes.find((t) => /clip/i.test(t) && t.includes('NL104'));
  assert(nbClip, 'the clip fix for NL104 is offered in the cell');
  await screenshot('notebook-quickfix.png');
  await page.locator('.action-widget .monaco-list-row', { hasText: nbClip.trim().slice(0, 40) }).first().click();
  const FIXED_CELL = '\nloss = -np.sum(y * np.log(np.clip(p, 1e-7, 1.0)))';
  await waitFor(
    'the fourth cell to be rewritten',
    ({ nb, fixed }) => {
      const row = document.querySelector(`${nb} .monaco-list-row.code-cell-row[data-index="3"]`);
      const lines = row
        ? [...row.querySelectorAll('.cell-editor-container .view-lines .view-line')]
            .sort((a, b) => (parseFloat(a.style.top) || 0) - (parseFloat(b.style.top) || 0))
            .map((l) => l.textContent.replace(/\u00a0/g, ' '))
        : [];
      return lines.join('\n') === fixed;
    },
    { nb: NOTEBOOK, fixed: FIXED_CELL },
    30_000,
  );
  pass('the fourth cell now reads `loss = -np.sum(y * np.log(np.clip(p, 1e-7, 1.0)))` on its line 2');
  await waitFor('the squiggle in the cell to go away', (sel) => document.querySelectorAll(sel).length === 0, `${NOTEBOOK} .cell-editor-container .squiggly-warning`, 30_000);
  pass('no squiggle is left in the notebook');
  const after = await notebookCells();
  assert(
    after.filter((c) => c.kind === 'code' && c.index !== 3).every((c) => c.lines.join('\n') === NOTEBOOK_CELLS[c.index][1]),
    'the other code cells are unchanged',
  );
  await screenshot('notebook-fixed.png');
  // Saved, the fix is in the notebook's file: the edit went into the notebook's cell.
  await page.keyboard.press('Control+S');
  const savedDeadline = Date.now() + 30_000;
  while (cellSources(nbFile)[3] !== FIXED_CELL && Date.now() < savedDeadline) await sleep(250);
  const savedCells = cellSources(nbFile);
  console.log(`  saved cells: ${JSON.stringify(savedCells)}`);
  assert(
    savedCells.join('\u0000') === [...NOTEBOOK_CELLS.slice(0, 3).map(([, src]) => src), FIXED_CELL].join('\u0000'),
    'saved, loss.ipynb holds the fixed fourth cell and the other cells as they were',
  );

  begin('typing in a notebook cell');
  // The cursor is still in the fourth cell: a new finding typed there gets its squiggle, so
  // the server follows keystrokes in a cell, not only the quick fix.
  await page.keyboard.press('Control+End');
  await page.keyboard.type('\nnll = -np.log(p)', { delay: 20 });
  await waitFor('a squiggle under the typed line', (sel) => document.querySelectorAll(sel).length > 0, `${NOTEBOOK} .cell-editor-container .squiggly-warning`, 30_000);
  const typed = (await notebookCells()).filter((c) => c.squiggles.length > 0);
  console.log(`  flagged: ${JSON.stringify(typed.map((c) => ({ cell: c.index + 1, lines: c.lines, squiggles: c.squiggles })))}`);
  assert(
    typed.length === 1 && typed[0].index === 3 && typed[0].squiggles.length === 1 && typed[0].squiggles[0].line === 3 && typed[0].squiggles[0].covered === 'np.log(p)',
    'the typed `nll = -np.log(p)` gets a squiggle under `np.log(p)` on line 3 of the fourth cell',
  );

  begin('changing nanlint.severity applies without a reload');
  await openFile('severity.py');
  await waitFor('a warning squiggle in severity.py', (sel) => document.querySelectorAll(sel).length > 0, `${EDITOR} .squiggly-warning`);
  writeSettings({ 'nanlint.severity': 'error' });
  await waitFor('the squiggle to turn into an error', (sel) => document.querySelectorAll(sel).length > 0, `${EDITOR} .squiggly-error`);
  assert((await squiggles('warning')) === 0, 'severity "error" turns the warning into an error squiggle');

  begin('fix on save (editor.codeActionsOnSave: source.fixAll.nanlint)');
  writeSettings({ 'nanlint.fixAll.unsafe': true });
  await openFile('on_save.py');
  await waitFor('a warning squiggle in on_save.py', (sel) => document.querySelectorAll(sel).length > 0, `${EDITOR} .squiggly-warning`);
  // Make the document dirty so that saving runs the save participants.
  await page.keyboard.press('Control+End');
  await page.keyboard.type('# end\n');
  await page.keyboard.press('Control+S');
  const onDisk = path.join(WS, 'on_save.py');
  const saved = await (async () => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const text = fs.readFileSync(onDisk, 'utf8');
      if (text.includes('# end')) return text;
      if (Date.now() > deadline) return text;
      await sleep(250);
    }
  })();
  assert(saved.includes('# end'), 'the file was saved');
  const savedLine = saved.split('\n')[8];
  console.log(`  saved line 9: ${savedLine}`);
  assert(!saved.includes('tf.log(y_conv)') && /clip|maximum|xlogy/.test(savedLine), 'saving applied source.fixAll.nanlint');

  begin('nanlint: Fix all command');
  await openFile('fix_all.py');
  await waitFor('a warning squiggle in fix_all.py', (sel) => document.querySelectorAll(sel).length > 0, `${EDITOR} .squiggly-warning`);
  await runCommand('nanlint: Fix all');
  const fixAllLine = await line9Rewritten('the Fix all command to rewrite line 9');
  console.log(`  line 9: ${fixAllLine}`);
  assert(/clip|maximum|xlogy/.test(fixAllLine), 'nanlint: Fix all applied the fix');

  begin('nanlint: Restart server');
  const before = (extensionLog().match(/server started/g) ?? []).length;
  await runCommand('nanlint: Restart server');
  const restartDeadline = Date.now() + 30_000;
  while ((extensionLog().match(/server started/g) ?? []).length <= before && Date.now() < restartDeadline) await sleep(250);
  assert((extensionLog().match(/server started/g) ?? []).length > before, 'the server started again');

  begin('a crashed server is restarted');
  await openFile('severity.py');
  await waitFor('a warning squiggle in severity.py', (sel) => document.querySelectorAll(sel).length > 0, `${EDITOR} .squiggly-warning`);
  const pids = serverPids(ext.bundled);
  assert(pids.length === 1, `exactly one server process runs (${pids.join(', ')})`);
  process.kill(pids[0], 'SIGKILL');
  const crashDeadline = Date.now() + 30_000;
  while (!/the server stopped \(killed by SIGKILL\); restarting it/.test(extensionLog()) && Date.now() < crashDeadline) await sleep(250);
  assert(/the server stopped \(killed by SIGKILL\); restarting it/.test(extensionLog()), 'the extension logs the crash and restarts the server');
  // The new server must know the open document: a new finding typed now gets its own squiggle.
  await page.keyboard.press('Control+End');
  await page.keyboard.type('loss2 = tf.log(y_conv)\n');
  await waitFor('two warning squiggles after the restart', (sel) => document.querySelectorAll(sel).length >= 2, `${EDITOR} .squiggly-warning`, 30_000);
  pass('the restarted server reports the finding typed after the crash');
  const newPids = serverPids(ext.bundled);
  assert(newPids.length === 1 && newPids[0] !== pids[0], 'a new server process serves the editor');
}

/** Process ids of running copies of the given executable (found through /proc). */
function serverPids(exe) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readlinkSync(`/proc/${name}/exe`) === exe) out.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

let status = 0;
try {
  await main();
  console.log(`\nPASS: ${passed.length} checks passed`);
} catch (err) {
  status = 1;
  await report(err);
  console.log(`\n${passed.length} passed, 1 failed`);
} finally {
  if (blocked.length) console.log(`blocked ${blocked.length} request(s) to hosts other than 127.0.0.1: ${[...new Set(blocked)].slice(0, 5).join(', ')}`);
  try {
    await page?.context().close();
  } catch {
    // ignore
  }
  stopCodeServer();
  if (status === 0 && !process.env.NANLINT_E2E_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  else console.log(`test files kept in ${tmp}`);
}
process.exit(status);
