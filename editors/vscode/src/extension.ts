// VS Code client for the nanlint language server (`nanlint server`, LSP over stdio).
//
// The server does the work: diagnostics, hover, quick fixes and `source.fixAll.nanlint`.
// This file finds the executable, starts it, forwards the `nanlint.*` settings
// (as initializationOptions, through workspace/configuration, and as
// workspace/didChangeConfiguration when they change) and adds three commands.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
  State,
} from 'vscode-languageclient/node';

const SECTION = 'nanlint';
const FIX_ALL_KIND = vscode.CodeActionKind.SourceFixAll.append('nanlint');

/**
 * While the server is starting, the client library's own error pop-ups (several per failed
 * start) are only logged: `start` then shows one message saying what went wrong.
 */
class NanlintClient extends LanguageClient {
  quiet = true;

  override error(message: string, data?: unknown, showNotification: boolean | 'force' = true): void {
    super.error(message, data, this.quiet ? false : showNotification);
  }
}

/** What the last server process said on stderr and how it ended. */
class ServerProcessInfo {
  private lines: string[] = [];
  exit: string | undefined;
  private exited: Promise<void> = Promise.resolve();

  track(cp: ReturnType<typeof spawn>): void {
    this.lines = [];
    this.exit = undefined;
    cp.stderr?.on('data', (d: Buffer) => {
      this.lines.push(...d.toString('utf8').split(/\r?\n/).filter((l) => l.trim() !== ''));
      this.lines = this.lines.slice(-5);
    });
    this.exited = new Promise((resolve) => {
      cp.on('exit', (code, signal) => {
        this.exit = signal ? `killed by ${signal}` : `exit code ${code}`;
        resolve();
      });
      cp.on('error', (err) => {
        this.exit = `could not run it: ${err.message}`;
        resolve();
      });
    });
  }

  /** Waits a moment for the process to end, then describes how it ended. */
  async describe(): Promise<string> {
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, 1000))]);
    const last = this.lines.at(-1);
    return [this.exit, last].filter((x) => x !== undefined).join(': ');
  }
}

const MAX_RESTARTS = 3;
const RESTART_WINDOW_MS = 3 * 60 * 1000;

let client: NanlintClient | undefined;
let log: vscode.LogOutputChannel;
let traceLog: vscode.OutputChannel | undefined;
// Serializes start/stop/restart so that quick successive setting changes do not race.
let lifecycle: Promise<void> = Promise.resolve();

export function activate(context: vscode.ExtensionContext): void {
  log = vscode.window.createOutputChannel('nanlint', { log: true });
  context.subscriptions.push(log);

  context.subscriptions.push(
    vscode.commands.registerCommand('nanlint.restart', () => enqueue(() => restart(context))),
    vscode.commands.registerCommand('nanlint.showLogs', () => log.show()),
    vscode.commands.registerCommand('nanlint.fixAll', fixAll),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(`${SECTION}.path`)) {
        log.info('nanlint.path changed: restarting the server');
        void enqueue(() => restart(context));
      }
      // Every other nanlint.* setting reaches the running server through
      // workspace/didChangeConfiguration (synchronize.configurationSection below).
    }),
  );

  void enqueue(() => start(context));
}

export function deactivate(): Thenable<void> | undefined {
  return stop();
}

function enqueue(step: () => Promise<void>): Promise<void> {
  lifecycle = lifecycle.then(step, step);
  return lifecycle;
}

async function restart(context: vscode.ExtensionContext): Promise<void> {
  await stop();
  await start(context);
}

async function stop(): Promise<void> {
  const old = client;
  client = undefined;
  if (old === undefined) {
    return;
  }
  try {
    // dispose() also stops a running server (shutdown + exit).
    await old.dispose(5000);
  } catch (err) {
    if (old.state === State.Running) {
      log.warn(`stopping the server: ${message(err)}`);
    }
  }
}

async function start(context: vscode.ExtensionContext): Promise<void> {
  const found = findServer(context);
  if ('problem' in found) {
    log.error(found.problem);
    void reportProblem(found.problem);
    return;
  }
  log.info(`using ${found.path} (${found.how})`);

  const proc = new ServerProcessInfo();
  const serverOptions: ServerOptions = async () => {
    const cp = spawn(found.path, ['server'], { env: process.env, stdio: 'pipe' });
    proc.track(cp);
    return cp;
  };
  traceLog ??= vscode.window.createOutputChannel('nanlint Trace');
  const crashes: number[] = [];
  let lc: NanlintClient | undefined;
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'python' },
      { scheme: 'untitled', language: 'python' },
      // Python cells of Jupyter notebooks: hover and code actions on them, and (with the
      // server's notebookDocumentSync) the notebook synced as a whole.
      { notebook: 'jupyter-notebook', language: 'python' },
    ],
    initializationOptions: settings(),
    synchronize: { configurationSection: SECTION },
    outputChannel: log,
    traceOutputChannel: traceLog,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    markdown: { isTrusted: false, supportHtml: false },
    initializationFailedHandler: (err) => {
      log.error(`initialize failed: ${message(err)}`);
      return false;
    },
    errorHandler: {
      // While starting, `closed` (and then `start`) deal with a server that went away.
      error: (_err, _msg, count) =>
        lc === undefined || lc.quiet || (count ?? 0) <= 3
          ? { action: ErrorAction.Continue, handled: true }
          : { action: ErrorAction.Shutdown, handled: true },
      closed: async () => {
        if (lc === undefined || lc.quiet) {
          // Still starting: `start` reports the failure.
          return { action: CloseAction.DoNotRestart, handled: true };
        }
        const how = await proc.describe();
        const now = Date.now();
        crashes.push(now);
        while (crashes.length > 0 && crashes[0] < now - RESTART_WINDOW_MS) {
          crashes.shift();
        }
        if (crashes.length <= MAX_RESTARTS) {
          log.warn(`the server stopped (${how}); restarting it`);
          return { action: CloseAction.Restart, handled: true };
        }
        const problem =
          `nanlint: the server stopped ${crashes.length} times in 3 minutes and will not be restarted ` +
          `(last: ${how}). Run "nanlint: Restart server" to try again.`;
        log.error(problem);
        void reportProblem(problem);
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    },
  };

  lc = new NanlintClient(SECTION, 'nanlint', serverOptions, clientOptions);
  client = lc;
  try {
    await lc.start();
    lc.quiet = false;
    const info = lc.initializeResult?.serverInfo;
    log.info(`server started${info ? `: ${info.name} ${info.version ?? ''}`.trimEnd() : ''}`);
    const kinds = codeActionKinds(lc);
    if (kinds !== undefined && !kinds.some((k) => vscode.CodeActionKind.Empty.append(k).contains(FIX_ALL_KIND))) {
      log.warn(`the server does not announce ${FIX_ALL_KIND.value} among its code action kinds (${kinds.join(', ')})`);
    }
  } catch (err) {
    const how = await proc.describe();
    const problem = `nanlint: the server at ${found.path} failed to start (${how || message(err)}).`;
    log.error(problem);
    void reportProblem(problem);
    if (client === lc) {
      client = undefined;
    }
    try {
      await lc.dispose(2000);
    } catch {
      // already stopped
    }
  }
}

function codeActionKinds(lc: LanguageClient): string[] | undefined {
  const provider = lc.initializeResult?.capabilities.codeActionProvider;
  if (provider === undefined || typeof provider === 'boolean') {
    return undefined;
  }
  return provider.codeActionKinds?.map((k) => (typeof k === 'string' ? k : String(k)));
}

/** The `nanlint` section as the server reads it (same shape as workspace/configuration returns). */
function settings(): Record<string, unknown> {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    select: c.get<string[]>('select', []),
    ignore: c.get<string[]>('ignore', []),
    // null leaves epsilon to [tool.nanlint] (or the server's default, 1e-7).
    epsilon: c.get<number | null>('epsilon', null),
    // null leaves preview to [tool.nanlint] (or off).
    preview: c.get<boolean | null>('preview', null),
    severity: c.get<string>('severity', 'warning'),
    fixAll: { unsafe: c.get<boolean>('fixAll.unsafe', false) },
    configurationPreference: c.get<string>('configurationPreference', 'editorFirst'),
  };
}

type Found = { path: string; how: string } | { problem: string };

/** `nanlint.path`, else the binary bundled in the extension, else `nanlint` on PATH. */
function findServer(context: vscode.ExtensionContext): Found {
  const exe = process.platform === 'win32' ? 'nanlint.exe' : 'nanlint';
  const configured = vscode.workspace.getConfiguration(SECTION).get<string>('path', '').trim();
  if (configured !== '') {
    const resolved = resolveConfiguredPath(configured);
    if (isExecutable(resolved)) {
      return { path: resolved, how: 'from the nanlint.path setting' };
    }
    const where = resolved === configured ? '' : ` (${resolved})`;
    return {
      problem: `nanlint: the server was not found: nanlint.path is set to "${configured}"${where}, which is not an executable file.`,
    };
  }

  const bundled = context.asAbsolutePath(path.join('bundled', exe));
  if (fs.existsSync(bundled)) {
    ensureExecutable(bundled);
    if (isExecutable(bundled)) {
      return { path: bundled, how: 'bundled with the extension' };
    }
    log.warn(`${bundled} exists but is not executable`);
  }

  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') {
      continue;
    }
    const candidate = path.join(dir, exe);
    if (isExecutable(candidate)) {
      return { path: candidate, how: 'found on PATH' };
    }
  }

  return {
    problem:
      'nanlint: the server was not found. Set "nanlint.path" to the nanlint executable, ' +
      'install a build of this extension that bundles it, or put "nanlint" on PATH ' +
      '(for example with `cargo install --path .` in the nanlint repository).',
  };
}

function resolveConfiguredPath(p: string): string {
  let out = p;
  if (out === '~' || out.startsWith('~/')) {
    out = path.join(os.homedir(), out.slice(1));
  }
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  out = out.replace(/\$\{workspaceFolder\}/g, folder ?? '');
  if (!path.isAbsolute(out) && folder !== undefined) {
    out = path.join(folder, out);
  }
  return out;
}

function isExecutable(p: string): boolean {
  try {
    if (!fs.statSync(p).isFile()) {
      return false;
    }
    fs.accessSync(p, process.platform === 'win32' ? fs.constants.F_OK : fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A .vsix may lose the executable bit on the bundled binary; put it back. */
function ensureExecutable(p: string): void {
  if (process.platform === 'win32') {
    return;
  }
  try {
    const mode = fs.statSync(p).mode;
    if ((mode & 0o111) === 0) {
      fs.chmodSync(p, mode | 0o755);
    }
  } catch (err) {
    log.warn(`could not make ${p} executable: ${message(err)}`);
  }
}

async function reportProblem(problem: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(problem, 'Open Settings', 'Show Logs');
  if (choice === 'Open Settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'nanlint.path');
  } else if (choice === 'Show Logs') {
    log.show();
  }
}

/** Applies the `source.fixAll.nanlint` code action to the active editor. */
async function fixAll(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    void vscode.window.showInformationMessage('nanlint: open a Python file to fix.');
    return;
  }
  if (client === undefined || client.state !== State.Running) {
    void vscode.window.showErrorMessage('nanlint: the server is not running (see "nanlint: Show logs").');
    return;
  }
  const doc = editor.document;
  const whole = new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length));
  const actions =
    (await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      doc.uri,
      whole,
      FIX_ALL_KIND.value,
      1,
    )) ?? [];
  const mine = actions.filter((a) => a.kind !== undefined && FIX_ALL_KIND.contains(a.kind));
  if (mine.length === 0) {
    void vscode.window.showInformationMessage('nanlint: nothing to fix.');
    return;
  }
  const action = mine[0];
  if (action.edit !== undefined) {
    await vscode.workspace.applyEdit(action.edit);
  }
  if (action.command !== undefined) {
    await vscode.commands.executeCommand(action.command.command, ...(action.command.arguments ?? []));
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
