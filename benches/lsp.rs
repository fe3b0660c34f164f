//! Language server latency: `nanlint server` (the release binary) driven over real stdio pipes the
//! way an editor drives it, on one large, generated ML file.
//!
//!   cargo bench --bench lsp
//!
//! Cargo builds the binary with the bench (release) profile before running this; `$NANLINT_BIN`
//! points at another binary instead. `$NANLINT_BENCH_EDITS` (default 300) sets the number of
//! one-character edits, `$NANLINT_BENCH_LINES` (default 5000) the size of the file,
//! `$NANLINT_BENCH_OPENS` (default 7) the number of fresh servers the opening is timed in.
//!
//! The client: VS Code-like capabilities (UTF-16 positions, pushed diagnostics, no pull), one
//! document opened (timed in several fresh server processes, as an editor's first file is: one
//! sample is too noisy), then edits typed in the middle of a function body (insert a character,
//! delete it, alternating), each a `didChange` with the next version, the next sent once the
//! previous one's diagnostics are in. A latency is the time from writing the `didChange` to
//! having read the whole `publishDiagnostics` of that version (before parsing its JSON). Then
//! edits of an import line, which empty the server's per-function cache, measured apart.
//! Afterwards the server's VmRSS and VmHWM from `/proc/<pid>/status`. Next to each latency, the
//! CPU time the server spent on that edit (all its threads, from `/proc/<pid>/task/*/schedstat`),
//! which a busy machine disturbs less.
//!
//! The document (see `generate`) is about 5,000 lines and 180 KB of PyTorch, TensorFlow and NumPy
//! code: losses, models, metrics and schedules, about one log in four unguarded. Every function
//! has its own text except one boilerplate method repeated in each `Block` class, as in real code.
//!
//! It prints the figures next to the budget and asserts nothing about them.

use std::time::{Duration, Instant};

use serde_json::json;

#[path = "client.rs"]
mod client;
use client::{Server, Stats, URI, cpu_ns, delete, env_number, initialize_params, insert, ms, verdict};

fn main() {
    let bin = std::env::var("NANLINT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_nanlint").to_string());
    let edits: usize = env_number("NANLINT_BENCH_EDITS", 300);
    let lines: usize = env_number("NANLINT_BENCH_LINES", 5000);
    let import_edits = 40;

    let source = generate(lines);
    let edit_line = middle_body_line(&source);
    println!("server: {bin} server");
    println!(
        "document: {} lines, {:.1} KB generated ({} functions/methods, {} log calls); edits on line {} ({:?})",
        source.lines().count(),
        source.len() as f64 / 1024.0,
        source.matches("\n    def ").count() + source.matches("\ndef ").count(),
        source.matches("log(").count(),
        edit_line.line,
        edit_line.text.trim(),
    );

    // Open: didOpen written → first publishDiagnostics for version 1 read, each time in a fresh
    // server; the last one goes on to the edits.
    let opens: usize = env_number("NANLINT_BENCH_OPENS", 7);
    let mut open_times = Vec::with_capacity(opens);
    let mut open_cpus = Vec::with_capacity(opens);
    let mut init_ms = 0.0;
    let mut encoding = String::new();
    let (mut open_diags, mut open_bytes) = (0, 0);
    let mut server = None;
    for i in 0..opens {
        let mut s = Server::start(&bin);
        let pid = s.child.id();
        let t = Instant::now();
        let init = s.request("initialize", initialize_params());
        init_ms = ms(t.elapsed());
        encoding = init["result"]["capabilities"]["positionEncoding"].as_str().unwrap_or("(none)").to_string();
        s.notify("initialized", json!({}));
        let cpu = cpu_ns(pid);
        let t = Instant::now();
        s.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": source}}),
        );
        let (elapsed, count) = s.wait_diagnostics(1, t);
        open_times.push(elapsed);
        open_cpus.push(Duration::from_nanos(cpu_ns(pid).saturating_sub(cpu)));
        (open_diags, open_bytes) = (count, s.last_message_bytes);
        if i + 1 < opens {
            s.shutdown();
        } else {
            server = Some(s);
        }
    }
    let mut server = server.expect("at least one open");
    let pid = server.child.id();
    let (open, open_cpu) = (Stats::of(&open_times), Stats::of(&open_cpus));
    println!(
        "initialize: {init_ms:.2} ms (positionEncoding {encoding}); open: {:.2} ms (median of {opens}), {} diagnostics ({:.1} KB of JSON)",
        open.p50,
        open_diags,
        open_bytes as f64 / 1024.0
    );

    // Body edits: insert a character, then delete it.
    let mut version = 1;
    let mut body = Vec::with_capacity(edits);
    let mut body_bytes = 0;
    let mut body_cpu = Vec::with_capacity(edits);
    let mut diag_counts = std::collections::BTreeSet::new();
    for i in 0..edits {
        let cpu = cpu_ns(pid);
        version += 1;
        let change = if i % 2 == 0 {
            insert(edit_line.line, edit_line.column, "x")
        } else {
            delete(edit_line.line, edit_line.column, 1)
        };
        let t = server.change(version, change);
        let (elapsed, count) = server.wait_diagnostics(version, t);
        body.push(elapsed);
        body_cpu.push(Duration::from_nanos(cpu_ns(pid).saturating_sub(cpu)));
        body_bytes = body_bytes.max(server.last_message_bytes);
        diag_counts.insert(count);
    }

    // Import edits: `import math` ↔ `import mathx` changes the file's imports, so the server
    // re-analyzes every function instead of reusing its per-function cache.
    let import_line = source.lines().position(|l| l == "import math").expect("generated file imports math");
    let mut imports = Vec::with_capacity(import_edits);
    let mut imports_cpu = Vec::with_capacity(import_edits);
    for i in 0..import_edits {
        let cpu = cpu_ns(pid);
        version += 1;
        let change = if i % 2 == 0 {
            insert(import_line, "import math".len(), "x")
        } else {
            delete(import_line, "import math".len(), 1)
        };
        let t = server.change(version, change);
        let (elapsed, _) = server.wait_diagnostics(version, t);
        imports.push(elapsed);
        imports_cpu.push(Duration::from_nanos(cpu_ns(pid).saturating_sub(cpu)));
    }

    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| -> Option<f64> {
        status.lines().find(|l| l.starts_with(key))?.split_whitespace().nth(1)?.parse::<f64>().ok()
    };
    let (rss, hwm) = (kb("VmRSS:").unwrap_or(f64::NAN) / 1024.0, kb("VmHWM:").unwrap_or(f64::NAN) / 1024.0);
    server.shutdown();

    let budget_rss = 30.0 + 10.0 * source.len() as f64 / (1024.0 * 1024.0);
    let (b, bc) = (Stats::of(&body), Stats::of(&body_cpu));
    let (im, imc) = (Stats::of(&imports), Stats::of(&imports_cpu));
    println!();
    println!(
        "{edits} one-character body edits (diagnostics per publish: {diag_counts:?}, up to {:.1} KB of JSON):",
        body_bytes as f64 / 1024.0
    );
    println!("         latency    server CPU");
    println!("  p50 {:>9.3} ms {:>9.3} ms   budget <= 1 ms   {}", b.p50, bc.p50, verdict(b.p50 <= 1.0));
    println!("  p90 {:>9.3} ms {:>9.3} ms", b.p90, bc.p90);
    println!("  p99 {:>9.3} ms {:>9.3} ms   budget <= 5 ms   {}", b.p99, bc.p99, verdict(b.p99 <= 5.0));
    println!("  max {:>9.3} ms {:>9.3} ms   (first edit {:.3} ms)", b.max, bc.max, ms(body[0]));
    println!("{import_edits} import-line edits (the per-function cache is emptied each time):");
    println!("  p50 {:>9.3} ms {:>9.3} ms", im.p50, imc.p50);
    println!("  p90 {:>9.3} ms {:>9.3} ms", im.p90, imc.p90);
    println!("  max {:>9.3} ms {:>9.3} ms", im.max, imc.max);
    println!("open, {opens} fresh servers:");
    println!("  p50 {:>9.3} ms {:>9.3} ms   budget <= 30 ms  {}", open.p50, open_cpu.p50, verdict(open.p50 <= 30.0));
    println!("  max {:>9.3} ms {:>9.3} ms", open.max, open_cpu.max);
    println!(
        "memory after the edits: VmRSS {rss:.1} MB, VmHWM {hwm:.1} MB   budget <= {budget_rss:.1} MB (30 MB + 10 x {:.1} KB open)   {}",
        source.len() as f64 / 1024.0,
        verdict(hwm <= budget_rss)
    );
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average while measuring: {}", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
}

// ---------------------------------------------------------------------------------------------
// The document: a deterministic, realistic training-code module.

struct EditPoint {
    line: usize,
    column: usize,
    text: String,
}

/// The first `hidden = ...` line of a function body at or after the middle of the file; edits
/// go at the end of its first identifier after `=`.
fn middle_body_line(source: &str) -> EditPoint {
    let lines: Vec<&str> = source.lines().collect();
    let (line, text) = lines
        .iter()
        .enumerate()
        .skip(lines.len() / 2)
        .find(|(_, l)| l.trim_start().starts_with("hidden = "))
        .expect("a body line in the second half");
    let column = text.find("= ").expect("assignment") + "= ".len() + 1;
    EditPoint { line, column, text: text.to_string() }
}

/// A small deterministic generator (xorshift), so the document is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const HEADER: &str = r#""""Model zoo and training losses.

Generated for nanlint's language-server benchmark: PyTorch and TensorFlow models, losses and
metrics in the styles found in real training code, some with an unguarded log.
"""
import math
import os

import numpy as np
import tensorflow as tf
import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-8
NUM_CLASSES = 10

"#;

/// Appends one top-level unit (function or class); `smelly` decides whether its log is guarded.
fn unit(out: &mut String, i: usize, rng: &mut Rng, smelly: bool) {
    let act = rng.pick(&["relu", "gelu", "tanh", "sigmoid"]);
    let dim = [64, 128, 256, 512][rng.below(4)];
    match i % 6 {
        0 => {
            let log = if smelly {
                "torch.log(probs)"
            } else {
                rng.pick(&[
                    "torch.log(probs + EPS)",
                    "torch.log(probs.clamp(min=1e-7))",
                    "F.log_softmax(logits, dim=-1)",
                ])
            };
            out.push_str(&format!(
                "def cross_entropy_{i}(logits, target, weight=None):\n    \"\"\"Cross-entropy from raw logits (variant {i}).\n\n    Args:\n        logits: unnormalized scores, shape [batch, classes].\n        target: one-hot or soft labels with the same shape as `logits`.\n        weight: optional per-example weights, shape [batch].\n    \"\"\"\n    hidden = logits.float()\n    probs = torch.softmax(hidden, dim=-1)\n    log_probs = {log}\n    loss = -(target * log_probs).sum(dim=-1)\n    if weight is not None:\n        loss = loss * weight\n    return loss.mean()\n\n\n"
            ));
        }
        1 => {
            let log = if smelly {
                "-tf.reduce_sum(y_ * tf.log(y_conv), axis=1)"
            } else {
                rng.pick(&[
                    "-tf.reduce_sum(y_ * tf.log(tf.clip_by_value(y_conv, 1e-10, 1.0)), axis=1)",
                    "-tf.reduce_sum(tf.math.xlogy(y_, y_conv), axis=1)",
                ])
            };
            out.push_str(&format!(
                "def tf_loss_{i}(x, W, b, y_):\n    \"\"\"The TF1 tutorial's softmax regression loss for one batch.\"\"\"\n    hidden = tf.matmul(x, W) + b\n    y_conv = tf.nn.softmax(hidden)\n    cross_entropy = {log}\n    # Shapes: x [batch, features], W [features, classes], y_ [batch, classes].\n    # Mean over the batch; the sum above runs over the class axis.\n    return tf.reduce_mean(cross_entropy)\n\n\n"
            ));
        }
        2 => {
            let log = if smelly { "torch.log(attn)" } else { "torch.log(attn + self.eps)" };
            out.push_str(&format!(
                "class Block{i}(nn.Module):\n    \"\"\"A residual MLP block with an attention-entropy regularizer.\"\"\"\n\n    def __init__(self, dim={dim}, dropout=0.1):\n        super().__init__()\n        self.norm = nn.LayerNorm(dim)\n        self.fc1 = nn.Linear(dim, 4 * dim)\n        self.fc2 = nn.Linear(4 * dim, dim)\n        self.drop = nn.Dropout(dropout)\n        self.eps = 1e-6\n        self.name = \"block_{i}\"\n\n    def extra_repr(self):\n        return f\"eps={{self.eps}}\"\n\n    def forward(self, x):\n        # Block {i}, pre-norm residual: x + fc2(act(fc1(norm(x)))), dropout on the branch.\n        hidden = self.fc1(self.norm(x))\n        hidden = F.{act}(hidden)\n        hidden = self.drop(self.fc2(hidden))\n        return x + hidden\n\n    def entropy(self, scores):\n        \"\"\"Mean attention entropy of block {i}, added to the loss as a regularizer.\"\"\"\n        attn = torch.softmax(scores, dim=-1)\n        return -(attn * {log}).sum(dim=-1).mean()\n\n\n"
            ));
        }
        3 => {
            let log = if smelly { "np.log(p)" } else { "np.log(np.maximum(p, 1e-12))" };
            out.push_str(&format!(
                "def kl_divergence_{i}(p, q):\n    \"\"\"KL(p || q) of two discrete distributions given as unnormalized counts.\"\"\"\n    hidden = np.asarray(p, dtype=np.float64)\n    p = hidden / hidden.sum()\n    # Both arguments are normalized histograms; q is clipped so the ratio stays finite.\n    q = np.clip(q, 1e-12, 1.0)\n    return float(np.sum(p * ({log} - np.log(q))))\n\n\n"
            ));
        }
        4 => {
            out.push_str(&format!(
                "def lr_schedule_{i}(step, warmup=1000, base_lr=3e-4):\n    # Linear warmup to `base_lr`, then cosine decay to zero over 100k steps.\n    hidden = min(1.0, (step + 1) / warmup)\n    decay = 0.5 * (1.0 + math.cos(math.pi * min(step, 100000) / 100000))\n    return base_lr * hidden * decay\n\n\n"
            ));
        }
        _ => {
            let log = if smelly { "torch.log(dist)" } else { "torch.log(dist.clamp_min(1e-9))" };
            out.push_str(&format!(
                "class Head{i}(nn.Module):\n    def __init__(self, dim={dim}, classes=NUM_CLASSES):\n        super().__init__()\n        self.proj = nn.Linear(dim, classes)\n        self.name = \"head_{i}\"\n\n    def forward(self, features, labels=None):\n        # Head {i}: class probabilities, or the NLL of `labels` when given.\n        hidden = self.proj(features)\n        dist = F.softmax(hidden, dim=-1)\n        if labels is None:\n            return dist\n        # Negative log-likelihood of the true class, one value per example.\n        nll = -{log}.gather(1, labels[:, None])\n        return nll.mean()\n\n\n"
            ));
        }
    }
}

/// A module of exactly `lines` lines: the header, then units while they fit (about one unit in
/// four with a log, not counting the learning-rate schedules, leaves it unguarded), then an
/// `__all__` list to fill the rest.
fn generate(lines: usize) -> String {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = String::from(HEADER);
    let mut names = Vec::new();
    for i in 0.. {
        let mut next = String::new();
        let smelly = rng.below(4) == 0;
        unit(&mut next, i, &mut rng, smelly);
        // Keep two lines for `__all__ = [` and `]`.
        if out.matches('\n').count() + next.matches('\n').count() + 2 > lines {
            break;
        }
        let name = next.split([' ', '(', ':']).nth(1).unwrap_or_default().to_string();
        names.push(name);
        out.push_str(&next);
    }
    out.push_str("__all__ = [\n");
    let mut names = names.into_iter().cycle();
    while out.matches('\n').count() + 1 < lines {
        out.push_str(&format!("    \"{}\",\n", names.next().unwrap_or_default()));
    }
    out.push_str("]\n");
    out
}
