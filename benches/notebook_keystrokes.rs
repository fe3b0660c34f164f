//! Keystroke latency of the language server in a cell of a Jupyter notebook of 200 code cells,
//! synced with `notebookDocument/*` (the cells analyzed as one program).
//!
//!   cargo bench --bench notebook_keystrokes
//!
//! The notebook is generated (`notebook`): an import cell, then 199 cells of model, data and
//! training code, 10 lines each; every 8th cell holds a hazard (the log of a ReLU output, NL101)
//! on a value an earlier cell made. A keystroke is the character `x` typed at the end of a line
//! of a cell, then deleted: each a `notebookDocument/didChange` with one incremental change of
//! that cell's text. 300 (cell, line) pairs are drawn with a fixed-seed generator: 600
//! keystrokes. A cell's diagnostics are pushed only when they change, so a keystroke in a cell
//! without findings publishes nothing; the keystroke is over when the answer to a `textDocument/
//! hover` on that cell, sent right after the change, has been read (the server applies a change
//! before it reads the next message). Reported: the time from writing the change to reading that
//! answer, and the CPU time the server spent meanwhile (all threads, `/proc/<pid>/task/*/
//! schedstat`), which a busy machine disturbs less. `$NANLINT_BIN` picks another server binary.
//!
//! It prints figures and asserts nothing about them.

use std::time::Duration;

use serde_json::{Value, json};

#[path = "client.rs"]
mod client;
use client::{Server, Stats, cpu_ns, env_number, initialize_params, position};

const NOTEBOOK: &str = "file:///bench/workspace/notebooks/training.ipynb";
const CELLS: usize = 200;

fn cell_uri(i: usize) -> String {
    format!("vscode-notebook-cell:/bench/workspace/notebooks/training.ipynb#W{i}sZmlsZQ%3D%3D")
}

/// The cells' texts: see the module documentation.
fn notebook() -> Vec<String> {
    let mut cells = vec![
        "%matplotlib inline\nimport numpy as np\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n"
            .to_string(),
    ];
    for i in 1..CELLS {
        let cell = match i % 4 {
            0 => format!(
                "class Block{i}(nn.Module):\n    def __init__(self, d):\n        super().__init__()\n        \
                 self.fc = nn.Linear(d, d)\n        self.eps = 1e-6\n\n    def forward(self, x):\n        \
                 h = F.relu(self.fc(x))\n        return h / (h.norm() + self.eps)\n\n"
            ),
            1 => format!(
                "x{i} = torch.randn(64, 128)\nw{i} = torch.randn(128, 10)\nlogits{i} = x{i} @ w{i}\n\
                 h{i} = F.relu(logits{i})\nmean{i} = h{i}.mean(dim=0)\nstd{i} = h{i}.std(dim=0)\n\
                 z{i} = (h{i} - mean{i}) / (std{i} + 1e-5)\nprint(z{i}.shape)\n!nvidia-smi\nnp.random.seed({i})\n"
            ),
            2 => format!(
                "model{i} = Block{}(128)\nopt{i} = torch.optim.Adam(model{i}.parameters(), lr=1e-3)\n\
                 for step in range(10):\n    out = model{i}(x{})\n    loss = out.pow(2).mean()\n    \
                 opt{i}.zero_grad()\n    loss.backward()\n    opt{i}.step()\n    if step % 5 == 0:\n        \
                 print(step, loss.item())\n",
                i - 2 - (i - 2) % 4,
                i - 1
            ),
            _ => {
                let hazard = if i % 8 == 3 {
                    format!("ce{i} = -(y * torch.log(h{})).sum()\n", i - 2)
                } else {
                    format!("ce{i} = F.cross_entropy(logits{}, y)\n", i - 2)
                };
                format!(
                    "y = torch.randint(0, 10, (64,))\ny = F.one_hot(y, 10).float()\n{hazard}\
                     acc = (logits{}.argmax(1) == y.argmax(1)).float().mean()\nhist = []\n\
                     hist.append(acc.item())\nbest = max(hist)\nworst = min(hist)\n\
                     spread = best - worst\nprint(best, worst, spread)\n",
                    i - 2
                )
            }
        };
        cells.push(cell);
    }
    cells
}

/// A fixed-seed generator (64-bit LCG, Knuth's MMIX constants): the same draws on every run.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn main() {
    let bin = std::env::var("NANLINT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_nanlint").to_string());
    let cells = notebook();
    let bytes: usize = cells.iter().map(String::len).sum();
    let lines: usize = cells.iter().map(|c| c.lines().count()).sum();
    println!("server: {bin} server");
    println!("notebook: {CELLS} code cells, {lines} lines, {:.1} KB", bytes as f64 / 1024.0);

    let mut s = Server::start(&bin);
    let mut init = initialize_params();
    init["capabilities"]["notebookDocument"] = json!({"synchronization": {"dynamicRegistration": true}});
    s.request("initialize", init);
    s.notify("initialized", json!({}));
    let open = json!({
        "notebookDocument": {
            "uri": NOTEBOOK, "notebookType": "jupyter-notebook", "version": 1,
            "cells": (0..CELLS).map(|i| json!({"kind": 2, "document": cell_uri(i)})).collect::<Vec<_>>(),
        },
        "cellTextDocuments": cells.iter().enumerate()
            .map(|(i, t)| json!({"uri": cell_uri(i), "languageId": "python", "version": 1, "text": t}))
            .collect::<Vec<_>>(),
    });
    let before = cpu_ns(s.child.id());
    s.notify("notebookDocument/didOpen", open);
    let findings = sync(&mut s, 0);
    println!(
        "open: server CPU {:.1} ms; cells with findings pushed: {findings} (hover answered on cell 0)",
        (cpu_ns(s.child.id()) - before) as f64 / 1e6
    );

    let mut rng = Lcg(7);
    let mut versions = vec![1; CELLS];
    let mut version = 1;
    let (mut latencies, mut cpu) = (Vec::new(), Vec::new());
    let draws = env_number("NANLINT_BENCH_DRAWS", 300);
    for _ in 0..draws {
        let i = rng.below(CELLS);
        let cell_lines: Vec<&str> = cells[i].lines().collect();
        let line = rng.below(cell_lines.len());
        let column: usize = cell_lines[line].encode_utf16().count();
        for (text, end) in [("x", column), ("", column + 1)] {
            version += 1;
            versions[i] += 1;
            let change = json!({
                "range": {"start": position(line, column), "end": position(line, end)}, "text": text,
            });
            let params = json!({
                "notebookDocument": {"uri": NOTEBOOK, "version": version},
                "change": {"cells": {"textContent": [{
                    "document": {"uri": cell_uri(i), "version": versions[i]},
                    "changes": [change],
                }]}},
            });
            let before = cpu_ns(s.child.id());
            let sent = s.notify("notebookDocument/didChange", params);
            let hover = json!({"textDocument": {"uri": cell_uri(i)}, "position": position(0, 0)});
            s.request("textDocument/hover", hover);
            latencies.push(sent.elapsed());
            cpu.push(Duration::from_nanos(cpu_ns(s.child.id()) - before));
        }
    }
    let wall = Stats::of(&latencies);
    let cpu_stats = Stats::of(&cpu);
    println!(
        "keystrokes: {} in random cells at random lines: change + hover answered p50 {:.2} ms, p95 {:.2} ms; \
         server CPU p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        latencies.len(),
        wall.p50,
        p95(&latencies),
        cpu_stats.p50,
        p95(&cpu),
        cpu_stats.max
    );
    s.shutdown();
}

/// Sends a hover on cell `i` and reads messages until its answer; returns how many
/// `publishDiagnostics` with findings arrived meanwhile.
fn sync(s: &mut Server, i: usize) -> usize {
    let hover = json!({"textDocument": {"uri": cell_uri(i)}, "position": position(0, 0)});
    s.write(json!({"jsonrpc": "2.0", "id": 1_000_000, "method": "textDocument/hover", "params": hover}));
    let mut findings = 0;
    loop {
        let (_, _, m): (_, _, Value) = s.next_message();
        if m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["diagnostics"].as_array().is_some_and(|d| !d.is_empty())
        {
            findings += 1;
        }
        if m.get("method").is_none() && m["id"] == json!(1_000_000) {
            return findings;
        }
    }
}

/// The nearest-rank 95th percentile, in milliseconds (`Stats` has p50, p90 and p99).
fn p95(samples: &[Duration]) -> f64 {
    let mut v: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1e3).collect();
    v.sort_by(f64::total_cmp);
    v[((0.95 * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
}
