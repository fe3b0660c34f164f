//! The language server under load: the real `nanlint server` process over stdio, fed a seeded,
//! reproducible random interleaving of document edits (valid, repaired and refused), requests,
//! cancellations, settings changes, broken `pyproject.toml` files and malformed frames, over
//! several documents, for a bounded number of messages and a bounded time.
//!
//! Afterwards the server must be alive (it answers), its resident memory within
//! [`RSS_BOUND_MIB`] plus [`HELD_PER_TEXT_BYTE`] per byte of the largest total of open text, and
//! within [`RSS_BOUND_MIB`] once every document is closed; every refused or repaired change must
//! have been logged, every frame it could not decode answered, and each open document's
//! diagnostics must equal what `nanlint check` reports on the client's own copy of its text,
//! written to disk. The client keeps that
//! copy with code of its own (lines, UTF-8 and UTF-16 columns), not the server's `text` module.
//!
//! Bounds (environment): `NANLINT_SOAK_MESSAGES` (per client profile, default 1,500),
//! `NANLINT_SOAK_SECONDS` (per profile, default 20), `NANLINT_SOAK_SEED` (default 14),
//! `NANLINT_SOAK_PASTE_KB` (the largest paste, default 64). `benches/soak.sh` runs the long
//! version in a release build. The figures (messages per second, RSS) are printed, not asserted.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use proptest::prelude::RngExt;
use proptest::test_runner::{RngAlgorithm, TestRng};
use serde_json::{Value, json};

/// The longest any single wait may take before the server counts as hung.
const HANG: Duration = Duration::from_secs(120);

/// The resident memory the server may have after a soak, in MiB, before what its documents hold
/// ([`HELD_PER_TEXT_BYTE`]). Measured at 35-36 MiB after the default run in a debug build, and at
/// 56-83 MiB with 256 KB pastes; the bound leaves room for allocator slack, not for text, trees or
/// findings kept per message.
const RSS_BOUND_MIB: u64 = 400;

/// What one byte of open document text may cost in resident memory at the peak: tree-sitter's
/// tree takes 60 to 85 bytes per byte of text (`nanlint check` of a 4.3 MB file of the soak's
/// template peaks at 368 MB RSS, findings included), and an edit holds the old and the new tree
/// at once. The soak's bound adds this for the largest total of open text it reached, so long
/// runs with megabyte pastes (`benches/soak.sh`: documents up to about 4 MB each) are bounded by
/// what they hold, and a leak (memory kept per message) still shows.
const HELD_PER_TEXT_BYTE: u64 = 200;

fn env_number(key: &str, default: u64) -> u64 {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

// ---------------------------------------------------------------------------------------------
// The client's model of a document: lines end at `\n`, `\r\n` or `\r` (the LSP spec), and a
// position's character counts UTF-8 bytes or UTF-16 units of the line's content.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Enc {
    Utf8,
    Utf16,
}

fn width(c: char, enc: Enc) -> usize {
    match enc {
        Enc::Utf8 => c.len_utf8(),
        Enc::Utf16 => c.len_utf16(),
    }
}

/// `(start, end of content)` byte offsets of each line.
fn lines(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let (mut out, mut start, mut i) = (Vec::new(), 0, 0);
    while i < b.len() {
        match b[i] {
            b'\n' => {
                out.push((start, i));
                i += 1;
                start = i;
            }
            b'\r' => {
                out.push((start, i));
                i += if b.get(i + 1) == Some(&b'\n') { 2 } else { 1 };
                start = i;
            }
            _ => i += 1,
        }
    }
    out.push((start, b.len()));
    out
}

/// Where a position lands in a text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lands {
    At(usize),
    /// Past the end of its line: the end of the line's content.
    PastLine(usize),
    /// Past the last line: the end of the text.
    PastText(usize),
    /// Inside one character.
    Inside,
}

fn lands(text: &str, (line, character): (u32, u32), enc: Enc) -> Lands {
    let Some(&(start, end)) = lines(text).get(line as usize) else { return Lands::PastText(text.len()) };
    let want = character as usize;
    let mut units = 0;
    for (i, c) in text[start..end].char_indices() {
        if units == want {
            return Lands::At(start + i);
        }
        if units > want {
            return Lands::Inside;
        }
        units += width(c, enc);
    }
    match units.cmp(&want) {
        std::cmp::Ordering::Equal => Lands::At(end),
        std::cmp::Ordering::Greater => Lands::Inside,
        std::cmp::Ordering::Less => Lands::PastLine(end),
    }
}

fn offset(l: Lands) -> Option<usize> {
    match l {
        Lands::At(o) | Lands::PastLine(o) | Lands::PastText(o) => Some(o),
        Lands::Inside => None,
    }
}

/// The position of byte `offset` (a char boundary).
fn position(text: &str, offset: usize, enc: Enc) -> (u32, u32) {
    let all = lines(text);
    let line = all.partition_point(|&(s, _)| s <= offset).saturating_sub(1);
    let (start, _) = all[line];
    (line as u32, text[start..offset].chars().map(|c| width(c, enc)).sum::<usize>() as u32)
}

/// One `contentChanges` entry.
#[derive(Clone, Debug)]
struct Change {
    range: Option<((u32, u32), (u32, u32))>,
    text: String,
}

impl Change {
    fn to_json(&self) -> Value {
        match self.range {
            Some((s, e)) => json!({
                "range": {"start": {"line": s.0, "character": s.1}, "end": {"line": e.0, "character": e.1}},
                "text": self.text,
            }),
            None => json!({"text": self.text}),
        }
    }
}

/// Applies `changes` in order as the server must: a range in the wrong order is taken in
/// order, positions past a line or the text clamp; `None` (nothing applied) if a position falls
/// inside a character.
fn apply(text: &str, changes: &[Change], enc: Enc) -> Option<String> {
    let mut text = text.to_string();
    for c in changes {
        match c.range {
            None => text = c.text.clone(),
            Some((s, e)) => {
                let s = offset(lands(&text, s, enc))?;
                let e = offset(lands(&text, e, enc))?;
                text.replace_range(s.min(e)..s.max(e), &c.text);
            }
        }
    }
    Some(text)
}

// ---------------------------------------------------------------------------------------------
// Random material.

const SNIPPETS: &[&str] = &[
    "import torch\n",
    "import numpy as np\n",
    "import tensorflow as tf\n",
    "p = torch.softmax(z, dim=-1)\n",
    "loss = -(y * torch.log(p)).sum()  # 🔥 NaN here\n",
    "损失 = torch.log(torch.relu(x))\n",
    "def f(z, y):\n    p = torch.relu(z)\n    return -(y * torch.log(p)).sum()\n",
    "x = np.log(counts / counts.sum())  # 日本語 🎉\r\n",
    "def g(logits):\n    q = tf.math.log(tf.nn.softmax(logits))\n    return q\n",
    "s = '🙂🙃' + \"é\"\n",
    "y = a / b.std()\n",
    "mean = (x * mask).sum(1) / mask.sum(1)\n",
    "r = torch.sqrt(((a - b) ** 2).sum())\n",
    "class M(torch.nn.Module):\n    def forward(self, x):\n        return torch.log(torch.sigmoid(x))\n",
    "\n",
    "\r\n",
];

const FRAGMENTS: &[&str] = &["(", ")", "\"", "'''", "🔥", "日本", "é", "torch.log(", " ", "p", ":", "\t", "#", "𝔁"];

const TEMPLATE: &str = "import numpy as np
import tensorflow as tf
import torch


def mnist_loss(x, W, b, y_):
    y_conv = tf.nn.relu(tf.matmul(x, W) + b)  # 🔥 日本語
    return -tf.reduce_sum(y_ * tf.log(y_conv))


def torch_nll(z, y):
    p = torch.relu(z)
    s = '👩‍👩‍👧 crème brûlée 𝔁'
    return -(y * torch.log(p)).sum()


def entropy(counts):
    p = counts / counts.sum()
    return -np.sum(p * np.log(p))
";

const GOOD_PYPROJECT: &str = "[project]\nname = \"soak\"\n\n[tool.nanlint]\npreview = true\n";

const PYPROJECTS: &[&str] = &[
    GOOD_PYPROJECT,
    "[tool.nanlint]\nselect = [\"NL1\"]\n",
    "[tool.nanlint]\nepsilon = 1e-4\nignore = [\"NL104\"]\n",
    // Broken: the server keeps the last good version and says so.
    "[tool.nanlint\nselect = [",
    "[tool.nanlint]\nselect = \"NL101\"\n",
    "[tool.nanlint]\nepsilon = -1\n",
    "[tool.nanlint]\nselect = [\"NL999\"]\n",
    "\u{0}\u{1}binary garbage",
];

fn client_settings(rng: &mut TestRng) -> Value {
    let options = [
        json!({}),
        json!({"select": ["NL1"]}),
        json!({"epsilon": 1e-3, "severity": "error"}),
        json!({"preview": true, "fixAll": {"unsafe": true}}),
        json!({"ignore": ["NL101"], "configurationPreference": "filesystemFirst"}),
        // Wrong: reported, not fatal.
        json!({"epsilon": "tiny"}),
        json!({"select": "NL101"}),
        json!({"severity": "loud", "preview": "yes"}),
        json!(42),
        json!([]),
    ];
    options[rng.random_range(0..options.len())].clone()
}

// ---------------------------------------------------------------------------------------------
// The server process.

#[derive(Default)]
struct Inbox {
    /// Responses to requests, by the id's JSON text.
    responses: HashMap<String, Value>,
    /// Error answers with a `null` id: frames the server could not decode.
    undecodable: Vec<Value>,
    /// The latest `publishDiagnostics` per URI: version and diagnostics.
    published: HashMap<String, (i64, Vec<Value>)>,
    /// `window/logMessage` and `window/showMessage` texts.
    log: Vec<String>,
    /// What the client answers to `workspace/configuration`.
    configuration: Value,
    received: u64,
    closed: bool,
}

struct Server {
    child: Child,
    out: Sender<Vec<u8>>,
    inbox: Arc<(Mutex<Inbox>, Condvar)>,
    stderr: Arc<Mutex<Vec<String>>>,
    next_id: i64,
    /// Messages (frames, malformed or not) sent.
    sent: u64,
    enc: Enc,
    pull: bool,
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn read_frame(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = Some(value.trim().parse::<usize>().expect("the server's Content-Length is a number"));
        }
    }
    let mut body = vec![0; length.expect("the server's frame has a Content-Length")];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

impl Server {
    /// Starts `nanlint server` in `dir`, initializes it with `capabilities`, and sends
    /// `initialized`.
    fn start(capabilities: Value, dir: &Path) -> Server {
        let mut server = Server::spawn(dir);
        let result =
            server.request("initialize", json!({"processId": null, "rootUri": null, "capabilities": capabilities}));
        let result = result.get("result").unwrap_or_else(|| panic!("initialize failed: {result}"));
        server.enc = if result["capabilities"]["positionEncoding"] == "utf-8" { Enc::Utf8 } else { Enc::Utf16 };
        server.pull = result["capabilities"].get("diagnosticProvider").is_some();
        server.notify("initialized", json!({}));
        server
    }

    /// Starts `nanlint server` in `dir`, and the threads that write its input and read its
    /// output and log.
    fn spawn(dir: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_nanlint"))
            .arg("server")
            .current_dir(dir)
            .env("NANLINT_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the nanlint binary starts");
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let stderr_pipe = child.stderr.take().unwrap();

        // One writer owns stdin, so neither the test nor the reader ever blocks on it while the
        // server waits for its output to be read.
        let (out, outgoing) = channel::<Vec<u8>>();
        std::thread::spawn(move || {
            // An empty buffer asks to close the server's input.
            while let Ok(bytes) = outgoing.recv() {
                if bytes.is_empty() {
                    break;
                }
                if stdin.write_all(&bytes).and_then(|_| stdin.flush()).is_err() {
                    break;
                }
            }
        });

        let inbox = Arc::new((Mutex::new(Inbox::default()), Condvar::new()));
        let (reader_inbox, answers) = (inbox.clone(), out.clone());
        std::thread::spawn(move || {
            let mut reader = BufReader::with_capacity(1 << 20, stdout);
            while let Some(body) = read_frame(&mut reader) {
                let msg: Value = serde_json::from_slice(&body).expect("the server sent valid JSON");
                let (lock, cvar) = &*reader_inbox;
                let mut inbox = lock.lock().unwrap();
                inbox.received += 1;
                let method = msg.get("method").and_then(Value::as_str).map(str::to_string);
                match (method.as_deref(), msg.get("id")) {
                    (None, Some(id)) if id.is_null() => inbox.undecodable.push(msg),
                    (None, Some(id)) => {
                        inbox.responses.insert(id.to_string(), msg);
                    }
                    (Some(method), Some(id)) => {
                        let result = match method {
                            "workspace/configuration" => json!([inbox.configuration.clone()]),
                            _ => Value::Null,
                        };
                        let answer = json!({"jsonrpc": "2.0", "id": id, "result": result});
                        let _ = answers.send(frame(answer.to_string().as_bytes()));
                    }
                    (Some("textDocument/publishDiagnostics"), None) => {
                        let p = &msg["params"];
                        let version = p["version"].as_i64().unwrap_or(-1);
                        let diagnostics = p["diagnostics"].as_array().cloned().unwrap_or_default();
                        inbox.published.insert(p["uri"].as_str().unwrap().to_string(), (version, diagnostics));
                    }
                    (Some("window/logMessage" | "window/showMessage"), None) => {
                        inbox.log.push(msg["params"]["message"].as_str().unwrap_or_default().to_string())
                    }
                    _ => {}
                }
                cvar.notify_all();
            }
            let (lock, cvar) = &*reader_inbox;
            lock.lock().unwrap().closed = true;
            cvar.notify_all();
        });

        let stderr = Arc::new(Mutex::new(Vec::new()));
        let lines = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr_pipe).lines() {
                let Ok(line) = line else { break };
                let mut lines = lines.lock().unwrap();
                // Keep the first and the latest lines; a soak logs a lot of warnings.
                if lines.len() >= 4000 {
                    lines.drain(2000..3000);
                }
                lines.push(line);
            }
        });

        Server { child, out, inbox, stderr, next_id: 0, sent: 0, enc: Enc::Utf16, pull: false }
    }

    /// Closes the server's input (the writer thread drops it).
    fn close_input(&mut self) {
        let _ = self.out.send(Vec::new());
    }

    /// Waits for the process to end; its exit code.
    fn exit_code(&mut self) -> Option<i32> {
        wait_exit(&mut self.child).code()
    }

    fn stderr_has(&self, needle: &str) -> bool {
        // The log thread may still be reading the last lines after the process ended.
        let deadline = Instant::now() + HANG;
        loop {
            if self.stderr.lock().unwrap().iter().any(|l| l.contains(needle)) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn send_bytes(&mut self, bytes: Vec<u8>) {
        self.sent += 1;
        self.out.send(bytes).expect("the writer thread is gone");
    }

    fn notify(&mut self, method: &str, params: Value) {
        let body = json!({"jsonrpc": "2.0", "method": method, "params": params}).to_string();
        self.send_bytes(frame(body.as_bytes()));
    }

    /// Sends a request; returns its id's JSON text.
    fn send_request(&mut self, method: &str, params: Value) -> String {
        self.next_id += 1;
        let body = json!({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}).to_string();
        self.send_bytes(frame(body.as_bytes()));
        self.next_id.to_string()
    }

    /// Waits until `ready` holds of the inbox; panics (with the server's last log lines) after
    /// [`HANG`] or when the server's output ends.
    fn wait<R>(&self, what: &str, mut ready: impl FnMut(&mut Inbox) -> Option<R>) -> R {
        let (lock, cvar) = &*self.inbox;
        let deadline = Instant::now() + HANG;
        let mut inbox = lock.lock().unwrap();
        loop {
            if let Some(r) = ready(&mut inbox) {
                return r;
            }
            if inbox.closed {
                panic!("the server's output ended while waiting for {what}\n{}", self.stderr_tail());
            }
            let now = Instant::now();
            if now >= deadline {
                panic!("no {what} within {HANG:?}: the server hangs\n{}", self.stderr_tail());
            }
            inbox = cvar.wait_timeout(inbox, deadline - now).unwrap().0;
        }
    }

    fn response(&self, id: &str) -> Value {
        self.wait(&format!("response to request {id}"), |inbox| inbox.responses.remove(id))
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response(&id)
    }

    fn log_count(&self, needle: &str) -> usize {
        self.inbox.0.lock().unwrap().log.iter().filter(|m| m.contains(needle)).count()
    }

    fn stderr_tail(&self) -> String {
        let lines = self.stderr.lock().unwrap();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Resident memory of the server process, in KiB.
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    /// A failed test leaves no server behind (this is the process this test started).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// The soak.

#[derive(Clone, Debug)]
struct Doc {
    uri: String,
    path: PathBuf,
    text: String,
    /// The last version sent, and the last one the server accepted.
    sent: i32,
    accepted: i32,
    open: bool,
}

/// A diagnostic as compared: code, start and end positions, message.
type Finding = (String, (u32, u32), (u32, u32), String);

/// What the soak sent that the server must have logged or answered.
#[derive(Default, Debug)]
struct Expect {
    refused: usize,
    reversed: usize,
    stale: usize,
    wrong_shape: usize,
    undecodable: usize,
    cancelled: usize,
}

struct Soak {
    rng: TestRng,
    server: Server,
    docs: Vec<Doc>,
    dir: PathBuf,
    expect: Expect,
    paste_bytes: usize,
    /// How many operations of each kind ran.
    ops: BTreeMap<&'static str, usize>,
}

fn uri_of(path: &Path) -> String {
    format!("file://{}", path.display())
}

impl Soak {
    fn pick(&mut self, n: usize) -> usize {
        self.rng.random_range(0..n)
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    /// A random char-boundary offset of `text`.
    fn boundary(&mut self, text: &str) -> usize {
        let bounds: Vec<usize> = text.char_indices().map(|(i, _)| i).chain([text.len()]).collect();
        bounds[self.pick(bounds.len())]
    }

    fn insertion(&mut self) -> String {
        if self.chance(0.5) {
            SNIPPETS[self.pick(SNIPPETS.len())].to_string()
        } else {
            FRAGMENTS[self.pick(FRAGMENTS.len())].to_string()
        }
    }

    fn open(&mut self, i: usize, text: String) {
        let d = &mut self.docs[i];
        d.text = text;
        d.sent += 1;
        d.accepted = d.sent;
        d.open = true;
        let item = json!({"uri": d.uri, "languageId": "python", "version": d.sent, "text": d.text});
        self.server.notify("textDocument/didOpen", json!({"textDocument": item}));
    }

    fn send_change(&mut self, i: usize, version: i32, changes: &[Change]) {
        let changes: Vec<Value> = changes.iter().map(Change::to_json).collect();
        let params = json!({"textDocument": {"uri": self.docs[i].uri, "version": version}, "contentChanges": changes});
        self.server.notify("textDocument/didChange", params);
    }

    /// Sends `changes` as the next version; the client's copy follows when they are valid.
    fn change(&mut self, i: usize, changes: Vec<Change>) {
        let enc = self.server.enc;
        let d = &mut self.docs[i];
        d.sent += 1;
        let version = d.sent;
        match apply(&d.text, &changes, enc) {
            Some(text) => {
                d.text = text;
                d.accepted = version;
            }
            None => self.expect.refused += 1,
        }
        self.send_change(i, version, &changes);
    }

    /// A valid range change: a random stretch of the text replaced by a random insertion.
    fn valid_change(&mut self, i: usize) -> Change {
        let enc = self.server.enc;
        let text = self.docs[i].text.clone();
        let a = self.boundary(&text);
        let b = if self.chance(0.6) { a } else { self.boundary(&text) };
        let (a, mut b) = (a.min(b), a.max(b));
        // Deletions stay short unless the document is large.
        if text.len() < 64 * 1024 {
            b = b.min(a + 200);
            while !text.is_char_boundary(b) {
                b -= 1;
            }
        }
        let new = if self.chance(0.2) { String::new() } else { self.insertion() };
        Change { range: Some((position(&text, a, enc), position(&text, b, enc))), text: new }
    }

    /// A position that falls inside a character of `text`, if it has one outside ASCII (in UTF-16
    /// only astral characters have an inside).
    fn inside_position(&mut self, text: &str) -> Option<(u32, u32)> {
        let enc = self.server.enc;
        let candidates: Vec<(usize, char)> = text.char_indices().filter(|&(_, c)| width(c, enc) > 1).collect();
        if candidates.is_empty() {
            return None;
        }
        let (at, c) = candidates[self.pick(candidates.len())];
        let (line, character) = position(text, at, enc);
        Some((line, character + 1 + self.pick(width(c, enc) - 1) as u32))
    }

    fn step(&mut self) {
        let n = self.docs.len();
        let i = self.pick(n);
        if !self.docs[i].open {
            *self.ops.entry("didOpen").or_default() += 1;
            self.open(i, TEMPLATE.to_string());
            return;
        }
        let enc = self.server.enc;
        let roll = self.pick(100);
        let kind: &'static str = match roll {
            0..=29 => {
                let change = self.valid_change(i);
                self.change(i, vec![change]);
                "didChange valid"
            }
            30..=34 => {
                // Several changes in one notification, each against the result of the previous.
                let mut changes = Vec::new();
                let mut text = self.docs[i].text.clone();
                for _ in 0..2 + self.pick(3) {
                    let saved = std::mem::replace(&mut self.docs[i].text, text.clone());
                    let c = self.valid_change(i);
                    self.docs[i].text = saved;
                    text = apply(&text, std::slice::from_ref(&c), enc).unwrap();
                    changes.push(c);
                }
                self.change(i, changes);
                "didChange several"
            }
            35..=38 => {
                // A reversed range (end before start), read in order.
                let text = self.docs[i].text.clone();
                let (a, b) = (self.boundary(&text), self.boundary(&text));
                if a == b {
                    return;
                }
                let (s, e) = (position(&text, a.max(b), enc), position(&text, a.min(b), enc));
                let new = self.insertion();
                self.expect.reversed += 1;
                self.change(i, vec![Change { range: Some((s, e)), text: new }]);
                "didChange reversed"
            }
            39..=42 => {
                // Past the end of a line, or of the text.
                let lines = lines(&self.docs[i].text).len() as u32;
                let start = if self.chance(0.5) {
                    (self.pick(lines as usize) as u32, 10_000 + self.pick(1000) as u32)
                } else {
                    (lines + self.pick(1000) as u32, self.pick(50) as u32)
                };
                let end = if self.chance(0.5) { start } else { (u32::MAX, u32::MAX) };
                let new = self.insertion();
                self.change(i, vec![Change { range: Some((start, end)), text: new }]);
                "didChange past the end"
            }
            43..=46 => {
                // Inside a character: refused, alone or after a valid change in the same
                // notification (the whole notification is refused then).
                let text = self.docs[i].text.clone();
                let Some(inside) = self.inside_position(&text) else {
                    let at = (0, 0);
                    self.change(i, vec![Change { range: Some((at, at)), text: "# 🔥 日本語 𝔁\n".into() }]);
                    return;
                };
                let refused = Change { range: Some((inside, inside)), text: "x".into() };
                let changes = if self.chance(0.5) {
                    vec![refused]
                } else {
                    // A valid first change that leaves the inside position where it was.
                    let end = (lines(&text).len() as u32 + 5, 0);
                    vec![Change { range: Some((end, end)), text: String::new() }, refused]
                };
                self.change(i, changes);
                "didChange inside a character"
            }
            47..=48 => {
                // A stale version: dropped.
                let back = self.pick(3) as i32;
                let version = self.docs[i].accepted - back;
                self.expect.stale += 1;
                self.send_change(i, version, &[Change { range: None, text: "stale = torch.log(0)\n".into() }]);
                "didChange stale"
            }
            49..=50 => {
                // A huge paste, or (when large) the document cut back to the template.
                if self.docs[i].text.len() > self.paste_bytes {
                    self.change(i, vec![Change { range: None, text: TEMPLATE.into() }]);
                } else {
                    let size = self.paste_bytes / 2 + self.pick(self.paste_bytes / 2);
                    let mut paste = String::with_capacity(size + TEMPLATE.len());
                    let mut k = 0;
                    while paste.len() < size {
                        paste.push_str(&TEMPLATE.replace("def ", &format!("def f{k}_")));
                        k += 1;
                    }
                    let text = self.docs[i].text.clone();
                    let at = position(&text, self.boundary(&text), enc);
                    self.change(i, vec![Change { range: Some((at, at)), text: paste }]);
                }
                "didChange huge paste"
            }
            51..=62 => {
                let text = self.docs[i].text.clone();
                let at = if self.chance(0.8) {
                    position(&text, self.boundary(&text), enc)
                } else {
                    self.inside_position(&text).unwrap_or((u32::MAX, u32::MAX))
                };
                let uri = self.docs[i].uri.clone();
                let r = self.server.request(
                    "textDocument/hover",
                    json!({"textDocument": {"uri": uri}, "position": {"line": at.0, "character": at.1}}),
                );
                assert!(r.get("error").is_none(), "hover failed: {r}");
                "hover"
            }
            63..=70 => {
                let uri = self.docs[i].uri.clone();
                let diagnostics =
                    self.server.inbox.0.lock().unwrap().published.get(&uri).map(|p| p.1.clone()).unwrap_or_default();
                let text = self.docs[i].text.clone();
                let (a, b) = (self.boundary(&text), self.boundary(&text));
                let (s, e) = (position(&text, a.min(b), enc), position(&text, a.max(b), enc));
                let only = if self.chance(0.3) { json!(["source.fixAll"]) } else { Value::Null };
                let mut context = json!({"diagnostics": diagnostics, "triggerKind": 1});
                if !only.is_null() {
                    context["only"] = only;
                }
                let r = self.server.request(
                    "textDocument/codeAction",
                    json!({
                        "textDocument": {"uri": uri},
                        "range": {"start": {"line": s.0, "character": s.1}, "end": {"line": e.0, "character": e.1}},
                        "context": context,
                    }),
                );
                assert!(r.get("error").is_none(), "codeAction failed: {r}");
                "codeAction"
            }
            71..=76 => {
                let uri = self.docs[i].uri.clone();
                let r = self.server.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
                assert!(r["result"]["items"].is_array(), "pull diagnostics failed: {r}");
                "textDocument/diagnostic"
            }
            77..=80 => {
                // A request cancelled at once: answered with its result or with -32800.
                let uri = self.docs[i].uri.clone();
                let method = ["textDocument/diagnostic", "textDocument/hover"][self.pick(2)];
                let params = match method {
                    "textDocument/hover" => {
                        json!({"textDocument": {"uri": uri}, "position": {"line": 6, "character": 40}})
                    }
                    _ => json!({"textDocument": {"uri": uri}}),
                };
                let id = self.server.send_request(method, params);
                self.server.notify("$/cancelRequest", json!({"id": id.parse::<i64>().unwrap()}));
                let r = self.server.response(&id);
                match r.get("error") {
                    Some(e) => {
                        assert_eq!(e["code"], -32800, "{method} cancelled: {r}");
                        self.expect.cancelled += 1;
                    }
                    None => assert!(r.get("result").is_some(), "{r}"),
                }
                "$/cancelRequest"
            }
            81..=83 => {
                let settings = client_settings(&mut self.rng);
                if self.server.pull {
                    // This client answers workspace/configuration: the server asks.
                    self.server.inbox.0.lock().unwrap().configuration = settings;
                    self.server.notify("workspace/didChangeConfiguration", json!({"settings": null}));
                } else {
                    self.server.notify("workspace/didChangeConfiguration", json!({"settings": {"nanlint": settings}}));
                }
                "didChangeConfiguration"
            }
            84..=86 => {
                let content = PYPROJECTS[self.pick(PYPROJECTS.len())];
                let path = self.dir.join("pyproject.toml");
                std::fs::write(&path, content).unwrap();
                self.server
                    .notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri_of(&path), "type": 2}]}));
                "pyproject.toml edit"
            }
            87..=94 => {
                self.malformed();
                "malformed frame"
            }
            95..=97 => {
                let uri = self.docs[i].uri.clone();
                self.docs[i].open = false;
                self.server.notify("textDocument/didClose", json!({"textDocument": {"uri": uri}}));
                "didClose"
            }
            _ => {
                // Re-open with the template (an open of an open document replaces it).
                self.open(i, TEMPLATE.to_string());
                "didOpen again"
            }
        };
        *self.ops.entry(kind).or_default() += 1;
    }

    /// One malformed, undecodable or oversized frame that keeps the stream in step.
    fn malformed(&mut self) {
        let uri = self.docs[0].uri.clone();
        match self.pick(12) {
            0 => self.undecodable(b"Content-Length: abc\r\n\r\n".to_vec()),
            1 => self.undecodable(b"Content-Length: 99999999999999999999999\r\n\r\n".to_vec()),
            2 => self.undecodable(b"X-Nothing: 1\r\n\r\n".to_vec()),
            3 => self.undecodable(frame(b"this is not json {")),
            4 => self.undecodable(frame(b"\xff\xfe{\"jsonrpc\": \"2.0\"}")),
            5 => self.undecodable(frame(b"[1, 2, 3]")),
            6 => {
                // A lone UTF-16 surrogate in a JSON string: not a string Rust (or UTF-8) can hold.
                let body = format!(
                    r#"{{"jsonrpc":"2.0","method":"textDocument/didChange","params":{{"textDocument":{{"uri":"{uri}","version":{}}},"contentChanges":[{{"text":"\ud83d"}}]}}}}"#,
                    i32::MAX
                );
                self.undecodable(frame(body.as_bytes()));
            }
            7 => {
                // Oversized, but well framed: a JSON-RPC notification nobody handles, and text.
                let blob = "x".repeat(self.paste_bytes * 4);
                let body = json!({"jsonrpc": "2.0", "method": "nanlint/unknown", "params": {"blob": blob}});
                self.server.send_bytes(frame(body.to_string().as_bytes()));
            }
            8 => {
                let blob = "{".repeat(self.paste_bytes * 4);
                self.undecodable(frame(blob.as_bytes()));
            }
            9 => {
                // A didChange of the wrong shape: dropped, and logged.
                self.expect.wrong_shape += 1;
                self.server.notify(
                    "textDocument/didChange",
                    json!({"textDocument": {"uri": uri, "version": "seven"}, "contentChanges": "nope"}),
                );
            }
            10 => {
                self.expect.wrong_shape += 1;
                self.server.notify("textDocument/didOpen", json!({"textDocument": {"uri": uri}}));
            }
            _ => {
                // A request of the wrong shape: answered with invalid params.
                let r =
                    self.server.request("textDocument/hover", json!({"textDocument": {"uri": uri}, "position": "x"}));
                assert_eq!(r["error"]["code"], -32602, "{r}");
            }
        }
    }

    fn undecodable(&mut self, bytes: Vec<u8>) {
        self.expect.undecodable += 1;
        self.server.send_bytes(bytes);
    }

    /// Puts settings back to the defaults and the good `pyproject.toml`, sends each open
    /// document's text as a new version, and returns its diagnostics at that version.
    fn settle(&mut self) -> Vec<(usize, Vec<Value>)> {
        std::fs::write(self.dir.join("pyproject.toml"), GOOD_PYPROJECT).unwrap();
        // Settings pushed (not pulled) apply at once and win over any pulled answer still on
        // its way; the server re-reads the configuration files then.
        self.server.inbox.0.lock().unwrap().configuration = json!({});
        self.server.notify("workspace/didChangeConfiguration", json!({"settings": {"nanlint": {}}}));
        // A request answered after the settings notification was taken in (handlers start in
        // order of arrival and run up to their first await).
        let r = self.server.request("textDocument/diagnostic", json!({"textDocument": {"uri": self.docs[0].uri}}));
        assert!(r.get("result").is_some(), "{r}");
        let mut out = Vec::new();
        for i in 0..self.docs.len() {
            if !self.docs[i].open {
                continue;
            }
            let d = &mut self.docs[i];
            d.sent += 1;
            d.accepted = d.sent;
            let (version, text) = (d.sent, d.text.clone());
            self.send_change(i, version, &[Change { range: None, text }]);
            let uri = self.docs[i].uri.clone();
            let diagnostics = if self.server.pull {
                let r = self.server.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}}));
                assert_eq!(r["result"]["resultId"], version.to_string(), "pulled after the change: {r}");
                r["result"]["items"].as_array().unwrap().clone()
            } else {
                self.server.wait(&format!("diagnostics of {uri} version {version}"), |inbox| {
                    inbox.published.get(&uri).filter(|p| p.0 == version as i64).map(|p| p.1.clone())
                })
            };
            out.push((i, diagnostics));
        }
        out
    }

    /// Checks the settled diagnostics against `nanlint check` on the client's texts.
    fn verify(&mut self) {
        let settled = self.settle();
        let enc = self.server.enc;
        let mut paths = Vec::new();
        for (i, _) in &settled {
            std::fs::write(&self.docs[*i].path, &self.docs[*i].text).unwrap();
            paths.push(self.docs[*i].path.to_str().unwrap().to_string());
        }
        if paths.is_empty() {
            return;
        }
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_nanlint"));
        cmd.args(["check", "--output-format", "json", "--exit-zero"])
            .args(&paths)
            .current_dir(&self.dir)
            .env_remove("RUST_LOG");
        let out = cmd.output().expect("nanlint check runs");
        assert!(out.status.success(), "nanlint check failed: {}", String::from_utf8_lossy(&out.stderr));
        let cli: Vec<Value> = serde_json::from_slice(&out.stdout).expect("check prints JSON");
        for (i, got) in settled {
            let d = &self.docs[i];
            let all = lines(&d.text);
            // The CLI counts rows from 1 and columns in characters from 1.
            let lsp_pos = |loc: &Value| {
                let row = loc["row"].as_u64().unwrap() as usize - 1;
                let col = loc["column"].as_u64().unwrap() as usize - 1;
                let (start, end) = all[row];
                let units: usize = d.text[start..end].chars().take(col).map(|c| width(c, enc)).sum();
                (row as u32, units as u32)
            };
            let mut expected: Vec<Finding> = cli
                .iter()
                .filter(|f| Path::new(f["filename"].as_str().unwrap()).ends_with(d.path.file_name().unwrap()))
                // A syntax error is the editor's to show; the server does not report NL000.
                .filter(|f| f["code"] != "NL000")
                .map(|f| {
                    let code = f["code"].as_str().unwrap().to_string();
                    (code, lsp_pos(&f["location"]), lsp_pos(&f["end_location"]), f["message"].as_str().unwrap().into())
                })
                .collect();
            let mut actual: Vec<Finding> = got
                .iter()
                .map(|g| {
                    let p = |v: &Value| (v["line"].as_u64().unwrap() as u32, v["character"].as_u64().unwrap() as u32);
                    let code = g["code"].as_str().unwrap().to_string();
                    (code, p(&g["range"]["start"]), p(&g["range"]["end"]), g["message"].as_str().unwrap().into())
                })
                .collect();
            expected.sort();
            actual.sort();
            if expected != actual {
                let keep = std::env::temp_dir().join(format!("nanlint-soak-divergence-{}.py", std::process::id()));
                std::fs::write(&keep, &d.text).unwrap();
                panic!(
                    "{}: the server's diagnostics differ from `nanlint check` of the client's text (saved to {})\n\
                     server: {actual:#?}\ncheck: {expected:#?}",
                    d.uri,
                    keep.display()
                );
            }
        }
    }
}

/// Runs one soak with a client profile; returns the figures line.
fn soak(profile: &str, capabilities: Value, seed: u64) -> String {
    let max_messages = env_number("NANLINT_SOAK_MESSAGES", 1500);
    let max_time = Duration::from_secs(env_number("NANLINT_SOAK_SECONDS", 20));
    let paste_bytes = env_number("NANLINT_SOAK_PASTE_KB", 64) as usize * 1024;

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(root.join("pyproject.toml"), GOOD_PYPROJECT).unwrap();
    let server = Server::start(capabilities, &root);
    let rss_start = server.rss_kib();
    let docs = ["a.py", "b.py", "c.py", "d.py"]
        .iter()
        .map(|name| {
            let path = root.join("pkg").join(name);
            Doc { uri: uri_of(&path), path, text: String::new(), sent: 0, accepted: 0, open: false }
        })
        .collect();
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    seed_bytes[8..8 + profile.len().min(24)].copy_from_slice(&profile.as_bytes()[..profile.len().min(24)]);
    let mut soak = Soak {
        rng: TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
        server,
        docs,
        dir: root.clone(),
        expect: Expect::default(),
        paste_bytes,
        ops: BTreeMap::new(),
    };
    for i in 0..soak.docs.len() {
        soak.open(i, TEMPLATE.to_string());
    }

    let started = Instant::now();
    let mut steps = 0u64;
    // The largest total of open document text (bytes), and RSS (KiB) sampled as the soak goes.
    let mut peak_open = 0;
    let mut samples: Vec<(f64, u64, usize)> = Vec::new();
    let mut next_sample = Duration::ZERO;
    while soak.server.sent < max_messages && started.elapsed() < max_time {
        soak.step();
        steps += 1;
        let open: usize = soak.docs.iter().filter(|d| d.open).map(|d| d.text.len()).sum();
        peak_open = peak_open.max(open);
        if started.elapsed() >= next_sample {
            samples.push((started.elapsed().as_secs_f64(), soak.server.rss_kib(), open));
            next_sample += max_time / 10;
        }
    }
    soak.verify();
    let elapsed = started.elapsed();
    let sent = soak.server.sent;

    // Alive: a request is answered.
    let alive = soak.server.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": soak.docs[0].uri}, "position": {"line": 0, "character": 0}}),
    );
    assert!(alive.get("result").is_some(), "{alive}");

    // Every refused, repaired, dropped or undecodable message was said so.
    let e = &soak.expect;
    let s = &soak.server;
    assert_eq!(s.log_count("refused change"), e.refused, "refused changes logged\n{}", s.stderr_tail());
    assert_eq!(s.log_count("reversed range"), e.reversed, "reversed ranges logged");
    assert_eq!(s.log_count("dropped a stale change"), e.stale, "stale changes logged");
    assert_eq!(s.log_count("wrong shape"), e.wrong_shape, "wrong-shape notifications logged");
    let undecodable = s.inbox.0.lock().unwrap().undecodable.clone();
    assert_eq!(undecodable.len(), e.undecodable, "each undecodable frame is answered");
    assert!(undecodable.iter().all(|u| [-32700, -32600].contains(&u["error"]["code"].as_i64().unwrap())));
    let stderr = s.stderr.lock().unwrap().clone();
    assert!(!stderr.iter().any(|l| l.contains("panicked")), "a panic in the server log:\n{}", s.stderr_tail());

    let rss_end = soak.server.rss_kib();
    // Every document closed: what the server still holds is what it keeps whatever is open.
    for d in soak.docs.iter_mut().filter(|d| d.open) {
        d.open = false;
        soak.server.notify("textDocument/didClose", json!({"textDocument": {"uri": d.uri}}));
    }
    let answer = soak.server.request("shutdown", Value::Null);
    assert_eq!(answer["result"], Value::Null, "{answer}");
    // The answer may overtake the last closes (tower-lsp-server handles messages concurrently).
    std::thread::sleep(Duration::from_millis(500));
    let rss_closed = soak.server.rss_kib();
    let bound_mib = RSS_BOUND_MIB + HELD_PER_TEXT_BYTE * peak_open as u64 / (1024 * 1024);
    let trace: Vec<String> = samples
        .iter()
        .map(|(t, rss, open)| format!("{t:.0} s: {:.0} MiB, {:.2} MB open", *rss as f64 / 1024.0, *open as f64 / 1e6))
        .collect();
    assert!(
        rss_end / 1024 <= bound_mib,
        "RSS {} MiB after the soak, bound {bound_mib} MiB (peak open text {peak_open} bytes); as it went: {}",
        rss_end / 1024,
        trace.join("; ")
    );

    // What stays once nothing is open is what the server keeps whatever it holds: memory kept
    // per message (a leak) shows here whatever the size of the pastes.
    assert!(
        rss_closed / 1024 <= RSS_BOUND_MIB,
        "RSS {} MiB with every document closed, bound {RSS_BOUND_MIB} MiB",
        rss_closed / 1024
    );

    // A clean end: (shutdown above,) exit, code 0.
    soak.server.notify("exit", Value::Null);
    let status = wait_exit(&mut soak.server.child);
    assert_eq!(status.code(), Some(0), "exit after shutdown");

    format!(
        "soak {profile} seed {seed}: {sent} messages ({steps} steps) in {:.1} s = {:.0} messages/s; \
         RSS {:.1} MiB at start, {:.1} MiB at the end, {:.1} MiB with every document closed (bound {bound_mib} MiB, peak open text {:.2} MB; as it went: {}); refused {}, reversed {}, stale {}, wrong shape {}, \
         undecodable {}, cancelled {}; ops {:?}",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64(),
        rss_start as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        rss_closed as f64 / 1024.0,
        peak_open as f64 / 1e6,
        trace.join("; "),
        e.refused,
        e.reversed,
        e.stale,
        e.wrong_shape,
        e.undecodable,
        e.cancelled,
        soak.ops
    )
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + HANG;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "the server did not exit within {HANG:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn soak_utf16_push_and_utf8_pull() {
    let seed = env_number("NANLINT_SOAK_SEED", 14);
    let figures = [
        soak("vscode-like (UTF-16, push)", common::vscode_like(), seed),
        soak("neovim-like (UTF-8, pull)", common::neovim_like(), seed),
    ];
    for f in figures {
        eprintln!("{f}");
    }
}

// ---------------------------------------------------------------------------------------------
// The lifecycle over stdio, as an editor runs the server.

#[test]
fn the_exit_code_is_0_after_shutdown_and_1_without() {
    let dir = tempfile::tempdir().unwrap();
    // shutdown, then exit: 0.
    let mut server = Server::start(common::vscode_like(), dir.path());
    assert_eq!(server.request("shutdown", Value::Null)["result"], Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(server.exit_code(), Some(0));
    // exit without shutdown: 1 (it used to be 0), and the log says why.
    let mut server = Server::start(common::vscode_like(), dir.path());
    server.notify("exit", Value::Null);
    assert_eq!(server.exit_code(), Some(1));
    assert!(server.stderr_has("without a `shutdown` request"), "{}", server.stderr_tail());
    // exit before initialize: 1.
    let mut server = Server::spawn(dir.path());
    server.notify("exit", Value::Null);
    assert_eq!(server.exit_code(), Some(1));
    // The client's end closed without shutdown (an editor that crashed): 1; after shutdown: 0.
    let mut server = Server::start(common::vscode_like(), dir.path());
    server.close_input();
    assert_eq!(server.exit_code(), Some(1));
    let mut server = Server::start(common::vscode_like(), dir.path());
    assert_eq!(server.request("shutdown", Value::Null)["result"], Value::Null);
    server.close_input();
    assert_eq!(server.exit_code(), Some(0));
}

#[test]
fn a_request_before_initialize_is_answered_server_not_initialized() {
    let dir = tempfile::tempdir().unwrap();
    let uri = uri_of(&dir.path().join("a.py"));
    let mut server = Server::spawn(dir.path());
    let hover = json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 16}});
    let r = server.request("textDocument/hover", hover.clone());
    assert_eq!(r["error"]["code"], -32002, "ServerNotInitialized: {r}");
    // A notification before initialize is dropped (the spec), and the log says so.
    let item = json!({"uri": uri, "languageId": "python", "version": 1, "text": "import torch\ny = torch.log(torch.relu(x))\n"});
    server.notify("textDocument/didOpen", json!({"textDocument": item}));
    let r = server
        .request("initialize", json!({"processId": null, "rootUri": null, "capabilities": common::vscode_like()}));
    assert!(r["result"]["capabilities"].is_object(), "{r}");
    server.notify("initialized", json!({}));
    // The document was never opened: no hover over its smell.
    assert_eq!(server.request("textDocument/hover", hover)["result"], Value::Null);
    assert!(server.stderr_has("dropped the notification `textDocument/didOpen`, received before `initialize`"));
    assert!(server.stderr_has("`textDocument/hover`, received before `initialize` (ServerNotInitialized)"));
    assert_eq!(server.request("shutdown", Value::Null)["result"], Value::Null);
    server.notify("exit", Value::Null);
    assert_eq!(server.exit_code(), Some(0));
}
