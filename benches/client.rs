//! The client side of a language-server benchmark: the server process over real stdio pipes,
//! JSON-RPC framing, VS Code-like capabilities, per-edit CPU time and percentile statistics.
//! Shared by `benches/lsp.rs` and `benches/keystrokes.rs`.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const URI: &str = "file:///bench/workspace/models/training_zoo.py";
/// How long to wait for any one message before giving up (a hang, not a slow answer).
pub const STALL: Duration = Duration::from_secs(30);

pub fn env_number(key: &str, default: usize) -> usize {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(default)
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

/// CPU time the server has used so far, all its threads, in nanoseconds (from
/// `/proc/<pid>/task/*/schedstat`; a busy machine disturbs this less than wall time).
pub fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0 };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

pub struct Stats {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Stats {
    pub fn of(samples: &[Duration]) -> Stats {
        let mut v: Vec<f64> = samples.iter().copied().map(ms).collect();
        v.sort_by(f64::total_cmp);
        // Nearest-rank percentiles.
        let pct = |p: f64| v[((p / 100.0 * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Stats { p50: pct(50.0), p90: pct(90.0), p99: pct(99.0), max: v[v.len() - 1] }
    }
}

// ---------------------------------------------------------------------------------------------
// The client side of the pipes.

pub struct Server {
    pub child: Child,
    stdin: ChildStdin,
    messages: Receiver<(Instant, usize, Value)>,
    next_id: i64,
    pub last_message_bytes: usize,
}

impl Server {
    pub fn start(bin: &str) -> Server {
        Server::start_command(bin, &["server"])
    }

    /// Starts `program args...` as a language server on stdio.
    pub fn start_command(bin: &str, args: &[&str]) -> Server {
        let mut child = Command::new(bin)
            .args(args)
            .env("NANLINT_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e} (build it with `cargo build --release`)"));
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, messages) = channel();
        // The reader stamps each message when its last byte has been read, then parses it.
        thread::spawn(move || {
            let mut reader = BufReader::with_capacity(1 << 20, stdout);
            let mut header = String::new();
            loop {
                let mut length = None;
                loop {
                    header.clear();
                    if reader.read_line(&mut header).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = header.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length:") {
                        length = v.trim().parse::<usize>().ok();
                    }
                }
                let Some(length) = length else { return };
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let at = Instant::now();
                let Ok(value) = serde_json::from_slice::<Value>(&body) else { return };
                if tx.send((at, length, value)).is_err() {
                    return;
                }
            }
        });
        Server { child, stdin, messages, next_id: 0, last_message_bytes: 0 }
    }

    pub fn write(&mut self, message: Value) -> Instant {
        let body = serde_json::to_vec(&message).expect("json");
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend_from_slice(&body);
        self.stdin.write_all(&frame).expect("write to server");
        self.stdin.flush().expect("flush to server");
        Instant::now()
    }

    pub fn notify(&mut self, method: &str, params: Value) -> Instant {
        self.write(json!({"jsonrpc": "2.0", "method": method, "params": params}))
    }

    /// Sends a request and waits for its response, answering the server's own requests
    /// (configuration, registration) on the way.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.write(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let (_, _, m) = self.next_message();
            if m.get("method").is_none() && m["id"] == json!(id) {
                return m;
            }
        }
    }

    pub fn next_message(&mut self) -> (Instant, usize, Value) {
        let (at, bytes, m) = self.messages.recv_timeout(STALL).expect("the server stopped answering");
        if let (Some(method), Some(id)) = (m.get("method").and_then(Value::as_str), m.get("id")) {
            // A request from the server: configuration gets `null` (defaults), the rest `null` too.
            let result = if method == "workspace/configuration" { json!([null]) } else { Value::Null };
            self.write(json!({"jsonrpc": "2.0", "id": id, "result": result}));
        }
        (at, bytes, m)
    }

    pub fn change(&mut self, version: i32, change: Value) -> Instant {
        self.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": URI, "version": version}, "contentChanges": [change]}),
        )
    }

    /// Waits for the `publishDiagnostics` of `version`; returns the time since `sent` and the
    /// number of diagnostics.
    pub fn wait_diagnostics(&mut self, version: i32, sent: Instant) -> (Duration, usize) {
        loop {
            let (at, bytes, m) = self.next_message();
            if m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == json!(version) {
                self.last_message_bytes = bytes;
                let count = m["params"]["diagnostics"].as_array().map_or(0, Vec::len);
                return (at.duration_since(sent), count);
            }
        }
    }

    pub fn shutdown(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin);
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(10));
        }
        eprintln!("the server did not exit after `exit`; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn initialize_params() -> Value {
    // What VS Code sends, trimmed to what matters here: no positionEncodings (so UTF-16), push
    // diagnostics with related information and data, no pull support.
    json!({
        "processId": std::process::id(),
        "clientInfo": {"name": "Visual Studio Code", "version": "1.95.0"},
        "rootUri": "file:///bench/workspace",
        "capabilities": {
            "general": {"regularExpressions": {"engine": "ECMAScript", "version": "ES2020"}},
            "workspace": {"configuration": true, "didChangeWatchedFiles": {"dynamicRegistration": true}},
            "textDocument": {
                "synchronization": {"dynamicRegistration": true, "didSave": true},
                "publishDiagnostics": {"relatedInformation": true, "versionSupport": false,
                    "codeDescriptionSupport": true, "dataSupport": true, "tagSupport": {"valueSet": [1, 2]}},
                "hover": {"contentFormat": ["markdown", "plaintext"]},
                "codeAction": {"isPreferredSupport": true, "dataSupport": true,
                    "codeActionLiteralSupport": {"codeActionKind": {"valueSet": ["", "quickfix", "source"]}}}
            }
        }
    })
}

pub fn position(line: usize, character: usize) -> Value {
    json!({"line": line, "character": character})
}

pub fn insert(line: usize, character: usize, text: &str) -> Value {
    json!({"range": {"start": position(line, character), "end": position(line, character)}, "text": text})
}

pub fn delete(line: usize, character: usize, n: usize) -> Value {
    json!({"range": {"start": position(line, character), "end": position(line, character + n)}, "text": ""})
}
