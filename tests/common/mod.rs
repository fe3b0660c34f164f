//! An in-process LSP client for end-to-end tests.
//!
//! [`Client::start`] runs `nanlint::lsp::serve` on a tokio task over `tokio::io::duplex` pipes and
//! talks to it with real JSON-RPC frames (`Content-Length` headers). The client answers the
//! server's requests (`workspace/configuration` with [`Client::set_configuration`]'s value,
//! `client/registerCapability`, `workspace/diagnostic/refresh`) and keeps every message the server
//! sent, so a test can wait for one ([`Client::wait_for`]) or inspect them all afterwards
//! ([`Client::history`]). Configuration answers can be held back to play a slow client. Waits are
//! bounded by [`TIMEOUT`]; nothing here asserts on timing. [`Client::shutdown_and_exit`] checks
//! that `serve` returns after `exit` without waiting on its input.
//!
//! Positions are computed on the client side by code of its own ([`offset_of`], [`position_of`]),
//! not by the server's `text` module, so a test checks the server against an independent model,
//! as a real editor would.

#![allow(dead_code)]

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader, ReadBuf};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

/// The longest any single wait may take. Generous, because debug builds on a busy 2-core CI
/// machine are slow; a passing run never comes near it.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// The size of each in-memory pipe's buffer.
const PIPE: usize = 64 * 1024;

/// How a client counts `character` in positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

/// A VS Code-like client: UTF-16 only, diagnostics pushed (no `textDocument/diagnostic`), no
/// `workspace/configuration`, no dynamic registration of watched files.
pub fn vscode_like() -> Value {
    json!({
        "general": {"positionEncodings": ["utf-16"]},
        "textDocument": {
            "synchronization": {"dynamicRegistration": true, "didSave": true},
            "publishDiagnostics": {
                "relatedInformation": true,
                "versionSupport": true,
                "codeDescriptionSupport": true,
                "dataSupport": true
            },
            "hover": {"contentFormat": ["markdown", "plaintext"]},
            "codeAction": {
                "isPreferredSupport": true,
                "dataSupport": true,
                "codeActionLiteralSupport": {
                    "codeActionKind": {"valueSet": ["", "quickfix", "source", "source.fixAll"]}
                }
            }
        },
        "workspace": {"applyEdit": true, "workspaceEdit": {"documentChanges": true}}
    })
}

/// A Neovim 0.11-like client: offers UTF-8 and UTF-16, pulls diagnostics (with refresh support),
/// answers `workspace/configuration`, and registers file watchers dynamically.
pub fn neovim_like() -> Value {
    json!({
        "general": {"positionEncodings": ["utf-8", "utf-16"]},
        "textDocument": {
            "synchronization": {"didSave": true, "willSave": true},
            "publishDiagnostics": {"relatedInformation": true, "tagSupport": {"valueSet": [1, 2]}},
            "diagnostic": {"dynamicRegistration": false},
            "hover": {"contentFormat": ["markdown", "plaintext"]},
            "codeAction": {
                "isPreferredSupport": true,
                "dataSupport": true,
                "codeActionLiteralSupport": {
                    "codeActionKind": {"valueSet": ["", "quickfix", "refactor", "source", "source.fixAll"]}
                }
            }
        },
        "workspace": {
            "applyEdit": true,
            "configuration": true,
            "diagnostics": {"refreshSupport": true},
            "didChangeWatchedFiles": {"dynamicRegistration": true, "relativePatternSupport": true},
            "workspaceFolders": true
        }
    })
}

/// Returns `caps` with the value at JSON pointer `pointer` (e.g. `/workspace/configuration`)
/// replaced, creating objects on the way.
pub fn with(mut caps: Value, pointer: &str, value: Value) -> Value {
    let mut at = &mut caps;
    for key in pointer.trim_start_matches('/').split('/') {
        if !at.is_object() {
            *at = json!({});
        }
        at = at.as_object_mut().unwrap().entry(key.to_string()).or_insert(Value::Null);
    }
    *at = value;
    caps
}

/// The server's input, remembering whether the server's latest read is still waiting for data.
/// Once `serve` has returned, none may be: over stdio a pending read of stdin keeps the process
/// alive when the editor does not close its end after `exit`.
struct WatchedInput<R> {
    inner: R,
    waiting: Arc<AtomicBool>,
}

impl<R: AsyncRead + Unpin> AsyncRead for WatchedInput<R> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.waiting.store(poll.is_pending(), Ordering::SeqCst);
        poll
    }
}

enum Out {
    Bytes(Vec<u8>),
    Close,
}

#[derive(Default)]
struct Shared {
    /// Requests waiting for their response, by id.
    pending: Mutex<HashMap<i64, oneshot::Sender<Value>>>,
    /// Every message the server sent, in order.
    history: Mutex<Vec<Value>>,
    /// Notifications, server requests and responses nobody waits for (e.g. `id: null`), not yet
    /// taken by a `wait_for`.
    unclaimed: Mutex<Vec<Value>>,
    /// The value answered to `workspace/configuration` for the `nanlint` section.
    configuration: Mutex<Value>,
    /// While true, answers to `workspace/configuration` are kept in `held` instead of sent.
    hold_configuration: Mutex<bool>,
    held: Mutex<Vec<Vec<u8>>>,
    /// The server's output has ended.
    closed: Mutex<bool>,
}

/// The client side of one server.
pub struct Client {
    shared: Arc<Shared>,
    out: mpsc::UnboundedSender<Out>,
    changed: watch::Receiver<u64>,
    next_id: AtomicI64,
    server: Option<JoinHandle<nanlint::lsp::Ending>>,
    input_waiting: Arc<AtomicBool>,
    /// The negotiated position encoding (UTF-16 until `initialize` says otherwise).
    pub encoding: Encoding,
}

/// A document as the client sees it.
#[derive(Clone, Debug)]
pub struct Doc {
    pub uri: String,
    pub version: i32,
    pub text: String,
}

/// One `contentChanges` entry: a range edit or (with `range: None`) the full text.
#[derive(Clone, Debug)]
pub struct Change {
    pub range: Option<((u32, u32), (u32, u32))>,
    pub text: String,
}

impl Change {
    pub fn range(start: (u32, u32), end: (u32, u32), text: &str) -> Change {
        Change { range: Some((start, end)), text: text.to_string() }
    }

    pub fn insert(at: (u32, u32), text: &str) -> Change {
        Change::range(at, at, text)
    }

    pub fn full(text: &str) -> Change {
        Change { range: None, text: text.to_string() }
    }

    fn to_json(&self) -> Value {
        match self.range {
            Some((s, e)) => json!({"range": range_json(s, e), "text": self.text}),
            None => json!({"text": self.text}),
        }
    }
}

pub fn pos_json((line, character): (u32, u32)) -> Value {
    json!({"line": line, "character": character})
}

pub fn range_json(start: (u32, u32), end: (u32, u32)) -> Value {
    json!({"start": pos_json(start), "end": pos_json(end)})
}

/// `Content-Length` framing of one message body.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Reads one framed message body; `None` at the end of the stream.
async fn read_frame(reader: &mut (impl AsyncBufRead + Unpin)) -> Option<Vec<u8>> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':').unwrap_or_else(|| panic!("bad header line from server: {line:?}"));
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.trim().parse::<usize>().expect("Content-Length is a number"));
        }
    }
    let length = length.expect("the server's message has a Content-Length header");
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.ok()?;
    Some(body)
}

impl Client {
    /// Starts a server and sends `initialize`; returns the client and the `InitializeResult`.
    pub async fn start(capabilities: Value, initialization_options: Option<Value>) -> (Client, Value) {
        let (client_end, server_end) = tokio::io::duplex(PIPE);
        let (server_read, server_write) = tokio::io::split(server_end);
        let (client_read, mut client_write) = tokio::io::split(client_end);
        let input_waiting = Arc::new(AtomicBool::new(false));
        let server_read = WatchedInput { inner: server_read, waiting: input_waiting.clone() };
        let server = tokio::spawn(nanlint::lsp::serve(server_read, server_write));

        let (out, mut out_rx) = mpsc::unbounded_channel::<Out>();
        tokio::spawn(async move {
            while let Some(msg) = out_rx.recv().await {
                match msg {
                    Out::Bytes(bytes) => {
                        if client_write.write_all(&bytes).await.is_err() || client_write.flush().await.is_err() {
                            break;
                        }
                    }
                    Out::Close => break,
                }
            }
            let _ = client_write.shutdown().await;
        });

        let shared = Arc::new(Shared::default());
        let (changed_tx, changed) = watch::channel(0u64);
        let reader_shared = shared.clone();
        let answers = out.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(client_read);
            while let Some(body) = read_frame(&mut reader).await {
                let msg: Value = serde_json::from_slice(&body).expect("the server sent invalid JSON");
                handle_incoming(&reader_shared, &answers, msg);
                changed_tx.send_modify(|n| *n += 1);
            }
            *reader_shared.closed.lock().unwrap() = true;
            changed_tx.send_modify(|n| *n += 1);
        });

        let client = Client {
            shared,
            out,
            changed,
            next_id: AtomicI64::new(1),
            server: Some(server),
            input_waiting,
            encoding: Encoding::Utf16,
        };
        let mut params = json!({
            "processId": null,
            "clientInfo": {"name": "nanlint-e2e", "version": "0"},
            "rootUri": null,
            "capabilities": capabilities,
        });
        if let Some(options) = initialization_options {
            params["initializationOptions"] = options;
        }
        let result = client.request("initialize", params).await;
        let mut client = client;
        client.encoding = match result["capabilities"]["positionEncoding"].as_str() {
            Some("utf-8") => Encoding::Utf8,
            _ => Encoding::Utf16,
        };
        (client, result)
    }

    /// [`Client::start`], then sets the `workspace/configuration` answer and sends `initialized`.
    pub async fn start_initialized(
        capabilities: Value,
        initialization_options: Option<Value>,
        configuration: Value,
    ) -> Client {
        let (client, _) = Client::start(capabilities, initialization_options).await;
        client.set_configuration(configuration);
        client.notify("initialized", json!({})).await;
        client
    }

    /// What the client answers to `workspace/configuration` from now on.
    pub fn set_configuration(&self, value: Value) {
        *self.shared.configuration.lock().unwrap() = value;
    }

    /// From now on, answers to `workspace/configuration` (made with the settings of the moment
    /// the request arrives) wait until [`Client::release_configuration_answers`]: a slow client.
    pub fn hold_configuration_answers(&self) {
        *self.shared.hold_configuration.lock().unwrap() = true;
    }

    /// Sends the held answers and stops holding.
    pub fn release_configuration_answers(&self) {
        *self.shared.hold_configuration.lock().unwrap() = false;
        for answer in self.shared.held.lock().unwrap().drain(..) {
            self.send_bytes(answer);
        }
    }

    /// Writes raw bytes to the server (for malformed input).
    pub fn send_bytes(&self, bytes: Vec<u8>) {
        self.out.send(Out::Bytes(bytes)).expect("the client's writer is gone");
    }

    /// Writes one message, framed.
    pub fn send(&self, msg: &Value) {
        self.send_bytes(frame(msg.to_string().as_bytes()));
    }

    /// Closes the client's side of the pipe (the server sees the end of its input).
    pub fn close_input(&self) {
        let _ = self.out.send(Out::Close);
    }

    pub async fn notify(&self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns the whole response (`result` or `error`).
    pub async fn request_raw(&self, method: &str, params: Value) -> Value {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        self.shared.pending.lock().unwrap().insert(id, tx);
        let mut msg = json!({"jsonrpc": "2.0", "id": id, "method": method});
        if !params.is_null() {
            msg["params"] = params;
        }
        self.send(&msg);
        match tokio::time::timeout(TIMEOUT, rx).await {
            Ok(Ok(response)) => response,
            Ok(Err(_)) => panic!("the server closed its output before answering {method}"),
            Err(_) => panic!("no answer to {method} within {TIMEOUT:?}; unclaimed: {}", self.describe_unclaimed()),
        }
    }

    /// Sends a request and returns its `result`; panics on an error response.
    pub async fn request(&self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params).await;
        if let Some(error) = response.get("error") {
            panic!("{method} failed: {error}");
        }
        response["result"].clone()
    }

    /// Waits for (and takes) the first unclaimed message from the server matching `pred`.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let mut changed = self.changed.clone();
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            changed.borrow_and_update();
            {
                let mut unclaimed = self.shared.unclaimed.lock().unwrap();
                if let Some(i) = unclaimed.iter().position(&pred) {
                    return unclaimed.remove(i);
                }
            }
            if *self.shared.closed.lock().unwrap() {
                panic!(
                    "the server closed its output while we waited for {what}; unclaimed: {}",
                    self.describe_unclaimed()
                );
            }
            if tokio::time::timeout_at(deadline, changed.changed()).await.is_err() {
                panic!("no {what} within {TIMEOUT:?}; unclaimed: {}", self.describe_unclaimed());
            }
        }
    }

    /// Waits for the next notification `method` and returns its params.
    pub async fn wait_for_notification(&self, method: &str) -> Value {
        let msg = self.wait_for(method, |m| m["method"] == method && m.get("id").is_none()).await;
        msg["params"].clone()
    }

    /// Waits for the next server→client request `method` (already answered) and returns it.
    pub async fn wait_for_server_request(&self, method: &str) -> Value {
        self.wait_for(&format!("{method} request"), |m| m["method"] == method && m.get("id").is_some()).await
    }

    /// Waits for the next `publishDiagnostics` of `uri` at `version`; returns its params.
    pub async fn wait_for_publish(&self, uri: &str, version: i32) -> Value {
        let what = format!("publishDiagnostics for {uri} version {version}");
        let msg = self
            .wait_for(&what, |m| {
                m["method"] == "textDocument/publishDiagnostics"
                    && m["params"]["uri"] == uri
                    && m["params"]["version"] == version
            })
            .await;
        msg["params"].clone()
    }

    /// Waits for the next `publishDiagnostics` of `uri` at `version`; returns its diagnostics.
    pub async fn wait_for_diagnostics(&self, uri: &str, version: i32) -> Vec<Value> {
        let params = self.wait_for_publish(uri, version).await;
        params["diagnostics"].as_array().expect("diagnostics is an array").clone()
    }

    /// Every message the server has sent so far, in order.
    pub fn history(&self) -> Vec<Value> {
        self.shared.history.lock().unwrap().clone()
    }

    /// The params of every notification `method` sent so far.
    pub fn notifications(&self, method: &str) -> Vec<Value> {
        self.history()
            .into_iter()
            .filter(|m| m["method"] == method && m.get("id").is_none())
            .map(|m| m["params"].clone())
            .collect()
    }

    /// The `version` of every `publishDiagnostics` sent for `uri` so far, in order.
    pub fn published_versions(&self, uri: &str) -> Vec<Value> {
        self.notifications("textDocument/publishDiagnostics")
            .into_iter()
            .filter(|p| p["uri"] == uri)
            .map(|p| p["version"].clone())
            .collect()
    }

    fn describe_unclaimed(&self) -> String {
        let unclaimed = self.shared.unclaimed.lock().unwrap();
        let items: Vec<String> = unclaimed
            .iter()
            .map(|m| {
                let s = m.to_string();
                if s.chars().count() > 300 { format!("{}...", s.chars().take(300).collect::<String>()) } else { s }
            })
            .collect();
        format!("[{}]", items.join(", "))
    }

    /// Sends `didOpen` (version 1) and returns the client's copy of the document.
    pub async fn open(&self, uri: &str, text: &str) -> Doc {
        self.open_version(uri, 1, text).await
    }

    pub async fn open_version(&self, uri: &str, version: i32, text: &str) -> Doc {
        let item = json!({"uri": uri, "languageId": "python", "version": version, "text": text});
        self.notify("textDocument/didOpen", json!({"textDocument": item})).await;
        Doc { uri: uri.to_string(), version, text: text.to_string() }
    }

    /// Applies `changes` (in order, each to the result of the previous) to the client's copy,
    /// bumps the version and sends them as one `didChange`.
    pub async fn change(&self, doc: &mut Doc, changes: Vec<Change>) {
        for c in &changes {
            match c.range {
                None => doc.text = c.text.clone(),
                Some((s, e)) => {
                    let start = offset_of(&doc.text, s, self.encoding);
                    let end = offset_of(&doc.text, e, self.encoding);
                    doc.text.replace_range(start..end, &c.text);
                }
            }
        }
        doc.version += 1;
        self.send_change(&doc.uri, doc.version, &changes).await;
    }

    /// Sends a `didChange` without touching any client copy (for stale or odd changes).
    pub async fn send_change(&self, uri: &str, version: i32, changes: &[Change]) {
        let changes: Vec<Value> = changes.iter().map(Change::to_json).collect();
        let params = json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": changes});
        self.notify("textDocument/didChange", params).await;
    }

    /// Applies a `WorkspaceEdit`'s edits for `doc` the way an editor does: edits sorted from the
    /// end of the document backwards, sent as the `contentChanges` of one `didChange`.
    pub async fn apply_workspace_edit(&self, doc: &mut Doc, edit: &Value) {
        let edits = edit["changes"][&doc.uri].as_array().unwrap_or_else(|| panic!("no edits for {}: {edit}", doc.uri));
        let mut changes: Vec<Change> = edits
            .iter()
            .map(|e| {
                Change::range(pos_of(&e["range"]["start"]), pos_of(&e["range"]["end"]), e["newText"].as_str().unwrap())
            })
            .collect();
        changes.sort_by_key(|c| std::cmp::Reverse(c.range.unwrap().0));
        self.change(doc, changes).await;
    }

    /// The position of the `nth` (from 0) occurrence of `needle` in `doc`, plus `delta` bytes.
    pub fn find(&self, doc: &Doc, needle: &str, nth: usize) -> (u32, u32) {
        let offset =
            doc.text.match_indices(needle).nth(nth).unwrap_or_else(|| panic!("{needle:?} #{nth} not in doc")).0;
        position_of(&doc.text, offset, self.encoding)
    }

    /// `textDocument/hover` at `pos`.
    pub async fn hover(&self, uri: &str, pos: (u32, u32)) -> Value {
        self.request("textDocument/hover", json!({"textDocument": {"uri": uri}, "position": pos_json(pos)})).await
    }

    /// `textDocument/codeAction` for `diagnostics` over their range (or the whole first line).
    pub async fn code_actions(&self, uri: &str, range: Value, diagnostics: &[Value], only: Option<&[&str]>) -> Value {
        let mut context = json!({"diagnostics": diagnostics, "triggerKind": 1});
        if let Some(only) = only {
            context["only"] = json!(only);
        }
        self.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": range, "context": context}),
        )
        .await
    }

    /// `textDocument/diagnostic` (pull); returns the report.
    pub async fn pull_diagnostics(&self, uri: &str) -> Value {
        self.request("textDocument/diagnostic", json!({"textDocument": {"uri": uri}})).await
    }

    /// `shutdown`, then `exit` (keeping our end of the pipe open, as some editors do): `serve`
    /// must return on its own, and the server's output must end.
    pub async fn shutdown_and_exit(&mut self) {
        let result = self.request("shutdown", Value::Null).await;
        assert_eq!(result, Value::Null, "shutdown answers null");
        self.notify("exit", Value::Null).await;
        assert_eq!(self.wait_for_serve_to_end().await, nanlint::lsp::Ending::AfterShutdown);
    }

    /// Waits until `serve` has returned, with no read of its input left pending, and the
    /// server's output is closed; returns how `serve` says the session ended.
    pub async fn wait_for_serve_to_end(&mut self) -> nanlint::lsp::Ending {
        let server = self.server.take().expect("the server was already awaited");
        let ending = tokio::time::timeout(TIMEOUT, server)
            .await
            .unwrap_or_else(|_| panic!("serve did not return within {TIMEOUT:?}"))
            .expect("the server task panicked");
        assert!(
            !self.input_waiting.load(Ordering::SeqCst),
            "serve returned while still waiting to read its input (over stdio the process would hang)"
        );
        let mut changed = self.changed.clone();
        tokio::time::timeout(TIMEOUT, async {
            while !*self.shared.closed.lock().unwrap() {
                let _ = changed.changed().await;
            }
        })
        .await
        .expect("the server's output did not end");
        ending
    }
}

fn handle_incoming(shared: &Shared, answers: &mpsc::UnboundedSender<Out>, msg: Value) {
    shared.history.lock().unwrap().push(msg.clone());
    let method = msg.get("method").and_then(Value::as_str);
    match (method, msg.get("id")) {
        // A response to one of our requests.
        (None, Some(id)) => {
            let waiting = id.as_i64().and_then(|id| shared.pending.lock().unwrap().remove(&id));
            match waiting {
                Some(tx) => {
                    let _ = tx.send(msg);
                }
                None => shared.unclaimed.lock().unwrap().push(msg),
            }
        }
        // A request from the server: answer it, and keep it for tests to see.
        (Some(method), Some(id)) => {
            let result = match method {
                "workspace/configuration" => {
                    let settings = shared.configuration.lock().unwrap().clone();
                    let items = msg["params"]["items"].as_array().cloned().unwrap_or_default();
                    Value::Array(
                        items
                            .iter()
                            .map(|item| match item["section"].as_str() {
                                Some("nanlint") | None => settings.clone(),
                                Some(_) => Value::Null,
                            })
                            .collect(),
                    )
                }
                _ => Value::Null,
            };
            let response = frame(json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string().as_bytes());
            if method == "workspace/configuration" && *shared.hold_configuration.lock().unwrap() {
                shared.held.lock().unwrap().push(response);
            } else {
                let _ = answers.send(Out::Bytes(response));
            }
            shared.unclaimed.lock().unwrap().push(msg);
        }
        _ => shared.unclaimed.lock().unwrap().push(msg),
    }
}

pub fn pos_of(p: &Value) -> (u32, u32) {
    (p["line"].as_u64().unwrap() as u32, p["character"].as_u64().unwrap() as u32)
}

/// The lines of `text` as (start, end of content, start of the next line) byte offsets; lines end
/// at `\n`, `\r\n` or a lone `\r`, as the LSP spec says.
fn line_spans(text: &str) -> Vec<(usize, usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let next = match (bytes[i], bytes.get(i + 1)) {
            (b'\r', Some(b'\n')) => Some(i + 2),
            (b'\r' | b'\n', _) => Some(i + 1),
            _ => None,
        };
        match next {
            Some(n) => {
                spans.push((start, i, n));
                start = n;
                i = n;
            }
            None => i += 1,
        }
    }
    spans.push((start, bytes.len(), bytes.len()));
    spans
}

/// Byte offset of LSP position `(line, character)` in `text` (lines end at `\n`, `\r\n` or a
/// lone `\r`). Positions past a line's end or the text's end clamp, like editors do.
pub fn offset_of(text: &str, (line, character): (u32, u32), enc: Encoding) -> usize {
    let Some(&(start, end, _)) = line_spans(text).get(line as usize) else {
        return text.len();
    };
    let mut units = 0;
    for (i, c) in text[start..end].char_indices() {
        if units >= character as usize {
            return start + i;
        }
        units += match enc {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
        };
    }
    end
}

/// LSP position of byte `offset` in `text`.
pub fn position_of(text: &str, offset: usize, enc: Encoding) -> (u32, u32) {
    let spans = line_spans(text);
    let line = spans.iter().rposition(|&(start, _, _)| start <= offset).unwrap_or(0);
    let (start, end, _) = spans[line];
    let prefix = &text[start..offset.min(end)];
    let character = match enc {
        Encoding::Utf8 => prefix.len(),
        Encoding::Utf16 => prefix.encode_utf16().count(),
    };
    (line as u32, character as u32)
}

/// Runs `f` to completion on a current-thread runtime in a thread with a `stack` byte stack, so
/// the server's handlers run on that stack too. Fails if `f` has not returned within three
/// [`TIMEOUT`]s: a handler that never returns blocks that runtime, so the client's own timeouts
/// cannot fire.
pub fn on_thread_with_stack<F, Fut>(stack: usize, f: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (done, finished) = std::sync::mpsc::channel();
    let handle = std::thread::Builder::new()
        .name("small-stack".into())
        .stack_size(stack)
        .spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(f());
            let _ = done.send(());
        })
        .unwrap();
    // A panic drops `done` (disconnected): join to rethrow it.
    if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = finished.recv_timeout(3 * TIMEOUT) {
        panic!("the thread with a {stack}-byte stack did not finish within {:?}", 3 * TIMEOUT);
    }
    if let Err(panic) = handle.join() {
        std::panic::resume_unwind(panic);
    }
}
