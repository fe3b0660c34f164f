//! Keystroke latency of the language server wherever the keystroke lands, on the file
//! `benches/latency_file.py` prints (5,018 lines, 295 small `nn.Module` classes, one finding
//! each; `--clean` gives the same file with none).
//!
//!   cargo bench --bench keystrokes
//!
//! A keystroke is the identifier character `x` typed at the end of a line, then deleted, each a
//! `didChange` with the next version; the next is sent once the previous one's
//! `publishDiagnostics` has been read. A latency is the time from writing the `didChange` to
//! having read that publish. Beside it, the CPU time the server spent (all threads, from
//! `/proc/<pid>/task/*/schedstat`), which a busy machine disturbs less.
//!
//! Rows: random lines (300 lines drawn with Python's `random.Random(7)`, as the file's docstring
//! says: 600 keystrokes), the blank line between `__init__` and `forward` of a class,
//! `self.eps = 1e-6` in `__init__`, a line inside `forward`, the same three and random lines on
//! the clean file, a class header, the blank line between two classes (module level), an import
//! line, a 50-line block pasted at a random line and undone, and, reported apart, typing a string
//! delimiter `"` (tree-sitter re-lexes the rest of the file); then random lines of a file of about
//! 1 MB. Opening the file is timed in fresh servers. `$NANLINT_BIN` picks another server binary;
//! `ruff server` runs the random-lines row as a yardstick when `ruff` is on `PATH` (or `$RUFF`).
//!
//! It prints figures and asserts nothing about them.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

#[path = "client.rs"]
mod client;
use client::{Server, Stats, URI, cpu_ns, delete, env_number, initialize_params, insert, ms, verdict};

fn main() {
    let bin = std::env::var("NANLINT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_nanlint").to_string());
    let smelly = generate(&[]);
    let clean = generate(&["--clean"]);
    let lines: Vec<&str> = smelly.lines().collect();
    let drawn = random_lines(lines.len(), 300);
    println!("server: {bin} server");
    println!("file: {} lines, {:.1} KB; load average {}", lines.len(), smelly.len() as f64 / 1024.0, load());

    // Opening, in fresh servers.
    let opens = env_number("NANLINT_BENCH_OPENS", 7);
    let mut open_times = Vec::new();
    for _ in 0..opens {
        let mut s = start(&[&bin, "server"]);
        let t = s.notify("textDocument/didOpen", open_params(&smelly));
        let (elapsed, _) = s.wait_diagnostics(1, t);
        open_times.push(elapsed);
        s.shutdown();
    }
    let open = Stats::of(&open_times);
    println!(
        "open: p50 {:.2} ms, max {:.2} ms (fresh servers: {opens})   budget <= 30 ms   {}",
        open.p50,
        open.max,
        verdict(open.p50 <= 30.0)
    );

    println!();
    println!(
        "{:<58} {:>9} {:>9} {:>9} {:>9}  {:>5}",
        "where the keystroke lands", "p50 ms", "p99 ms", "cpu p50", "cpu p99", "edits"
    );
    let class = 147;
    let init_eps = find(&lines, &format!("class Block{class}(nn.Module):"), "        self.eps = 1e-6");
    let blank = init_eps + 1;
    let forward_line = find(&lines, &format!("class Block{class}(nn.Module):"), "        h = torch.relu(self.proj(x))");
    let header = lines.iter().position(|l| *l == format!("class Block{class}(nn.Module):")).expect("the class");
    let between = header - 1;
    let import = lines.iter().position(|l| *l == "import numpy as np").expect("the import");

    let mut s = start(&[&bin, "server"]);
    let t = s.notify("textDocument/didOpen", open_params(&smelly));
    s.wait_diagnostics(1, t);
    let mut version = 1;
    let pid = s.child.id();
    let row = |s: &mut Server, version: &mut i32, name: &str, points: &[(usize, usize)], text: &str| {
        let (lat, cpu) = keystrokes(s, pid, version, points, text);
        print_row(name, &lat, &cpu);
        (lat, cpu)
    };
    let ends = |rows: &[usize]| rows.iter().map(|&r| (r, utf16_len(lines[r]))).collect::<Vec<_>>();
    let repeat = |r: usize, n: usize| vec![(r, utf16_len(lines[r])); n];
    let (random_lat, random_cpu) =
        row(&mut s, &mut version, "random lines (300, random.Random(7))", &ends(&drawn), "x");
    row(&mut s, &mut version, "the blank line between __init__ and forward", &repeat(blank, 150), "x");
    row(&mut s, &mut version, "`self.eps = 1e-6` in __init__", &repeat(init_eps, 150), "x");
    row(&mut s, &mut version, "a line inside forward", &repeat(forward_line, 150), "x");
    row(&mut s, &mut version, "a class header", &repeat(header, 150), "x");
    row(&mut s, &mut version, "the blank line between two classes (module level)", &repeat(between, 150), "x");
    row(&mut s, &mut version, "an import line", &repeat(import, 150), "x");
    // A 50-line block pasted at the start of a random line, then undone.
    let block: String = lines[header..header + 50].iter().map(|l| format!("{l}\n")).collect();
    let (paste, paste_cpu) = paste_and_undo(&mut s, pid, &mut version, &drawn[..30], &block);
    print_row("a 50-line block pasted and undone", &paste, &paste_cpu);
    println!("reported apart:");
    row(&mut s, &mut version, "a string delimiter `\"` typed and deleted", &ends(&drawn[..50]), "\"");
    let hwm = vm_hwm_mb(pid);
    s.shutdown();
    let budget_rss = 30.0 + 10.0 * smelly.len() as f64 / 1048576.0;
    println!(
        "memory: VmHWM {hwm:.1} MB after every row above   budget <= {budget_rss:.1} MB   {}",
        verdict(hwm <= budget_rss)
    );

    let mut s = start(&[&bin, "server"]);
    let t = s.notify("textDocument/didOpen", open_params(&clean));
    s.wait_diagnostics(1, t);
    let mut version = 1;
    let pid = s.child.id();
    let clean_lines: Vec<&str> = clean.lines().collect();
    let clean_ends = |rows: &[usize]| rows.iter().map(|&r| (r, utf16_len(clean_lines[r]))).collect::<Vec<_>>();
    println!("the same file with 0 findings (--clean):");
    for (name, points) in [
        ("  a line inside forward", vec![(forward_line, utf16_len(clean_lines[forward_line])); 150]),
        ("  the blank line between __init__ and forward", vec![(blank, 0); 150]),
        ("  random lines", clean_ends(&drawn)),
    ] {
        let (lat, cpu) = keystrokes(&mut s, pid, &mut version, &points, "x");
        print_row(name, &lat, &cpu);
    }
    s.shutdown();

    // About 1 MB.
    let big = generate(&["--lines", "30000"]);
    let big_lines: Vec<&str> = big.lines().collect();
    let mut s = start(&[&bin, "server"]);
    let t = s.notify("textDocument/didOpen", open_params(&big));
    let (big_open, _) = s.wait_diagnostics(1, t);
    let mut version = 1;
    let pid = s.child.id();
    let points: Vec<(usize, usize)> =
        random_lines(big_lines.len(), 100).iter().map(|&r| (r, utf16_len(big_lines[r]))).collect();
    let (lat, cpu) = keystrokes(&mut s, pid, &mut version, &points, "x");
    println!(
        "a {:.2} MB file ({} lines, opened in {:.1} ms), random lines:",
        big.len() as f64 / 1048576.0,
        big_lines.len(),
        ms(big_open)
    );
    print_row("  random lines", &lat, &cpu);
    println!("  VmHWM {:.1} MB; budget p99 <= 10 ms {}", vm_hwm_mb(pid), verdict(Stats::of(&lat).p99 <= 10.0));
    s.shutdown();

    let (b, c) = (Stats::of(&random_lat), Stats::of(&random_cpu));
    println!();
    println!(
        "budget (random lines): p50 <= 1 ms {}, p99 <= 5 ms {} (CPU p50 {:.3} ms)",
        verdict(b.p50 <= 1.0),
        verdict(b.p99 <= 5.0),
        c.p50
    );

    // The yardstick.
    let ruff = std::env::var("RUFF").unwrap_or_else(|_| "ruff".to_string());
    if Command::new(&ruff).arg("--version").output().is_ok_and(|o| o.status.success()) {
        let version_text = Command::new(&ruff)
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
        let mut s = start(&[&ruff, "server"]);
        let t = s.notify("textDocument/didOpen", open_params(&smelly));
        s.wait_diagnostics(1, t);
        let mut version = 1;
        let pid = s.child.id();
        let (lat, cpu) = keystrokes(&mut s, pid, &mut version, &ends(&drawn), "x");
        println!("yardstick, {version_text} (`ruff server`), the same random-line keystrokes:");
        print_row("  random lines", &lat, &cpu);
        s.shutdown();
    } else {
        println!("(ruff is not installed: no yardstick row)");
    }
    println!("load average at the end: {}", load());
}

/// Starts a server and initializes it with VS Code's capabilities.
fn start(cmd: &[&str]) -> Server {
    let mut s = Server::start_command(cmd[0], &cmd[1..]);
    s.request("initialize", initialize_params());
    s.notify("initialized", json!({}));
    s
}

fn open_params(text: &str) -> serde_json::Value {
    json!({"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": text}})
}

/// For each point: type `text` there, wait for its diagnostics, delete it, wait again. Returns the
/// latencies and server CPU times of every edit.
fn keystrokes(
    s: &mut Server,
    pid: u32,
    version: &mut i32,
    points: &[(usize, usize)],
    text: &str,
) -> (Vec<Duration>, Vec<Duration>) {
    let (mut lat, mut cpu) = (Vec::new(), Vec::new());
    for &(line, column) in points {
        for change in [insert(line, column, text), delete(line, column, text.encode_utf16().count())] {
            let before = cpu_ns(pid);
            *version += 1;
            let t = s.change(*version, change);
            let (elapsed, _) = s.wait_diagnostics(*version, t);
            lat.push(elapsed);
            cpu.push(Duration::from_nanos(cpu_ns(pid).saturating_sub(before)));
        }
    }
    (lat, cpu)
}

/// A block inserted at the start of each line, then removed (an undo).
fn paste_and_undo(
    s: &mut Server,
    pid: u32,
    version: &mut i32,
    rows: &[usize],
    block: &str,
) -> (Vec<Duration>, Vec<Duration>) {
    let (mut lat, mut cpu) = (Vec::new(), Vec::new());
    let added = block.matches('\n').count();
    for &row in rows {
        let undo = json!({"range": {"start": {"line": row, "character": 0}, "end": {"line": row + added, "character": 0}}, "text": ""});
        for change in [insert(row, 0, block), undo] {
            let before = cpu_ns(pid);
            *version += 1;
            let t = s.change(*version, change);
            let (elapsed, _) = s.wait_diagnostics(*version, t);
            lat.push(elapsed);
            cpu.push(Duration::from_nanos(cpu_ns(pid).saturating_sub(before)));
        }
    }
    (lat, cpu)
}

fn print_row(name: &str, lat: &[Duration], cpu: &[Duration]) {
    let (l, c) = (Stats::of(lat), Stats::of(cpu));
    println!("{name:<58} {:>9.3} {:>9.3} {:>9.3} {:>9.3}  {:>5}", l.p50, l.p99, c.p50, c.p99, lat.len());
}

/// The latency file, from `benches/latency_file.py` with `args`.
fn generate(args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/latency_file.py");
    let out = Command::new("python3").arg(script).args(args).output().expect("python3 runs benches/latency_file.py");
    assert!(out.status.success(), "latency_file.py failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// `n` line numbers drawn with Python's `random.Random(7).randrange(count)`.
fn random_lines(count: usize, n: usize) -> Vec<usize> {
    let code =
        format!("import random\nr = random.Random(7)\nprint(' '.join(str(r.randrange({count})) for _ in range({n})))");
    let out = Command::new("python3").args(["-c", &code]).output().expect("python3 runs");
    String::from_utf8_lossy(&out.stdout).split_whitespace().map(|w| w.parse().expect("a line number")).collect()
}

/// The first line after the line `after` that equals `line`.
fn find(lines: &[&str], after: &str, line: &str) -> usize {
    let start = lines.iter().position(|l| *l == after).expect("the anchor line");
    start + lines[start..].iter().position(|l| *l == line).expect("the line")
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The server's peak resident memory so far.
fn vm_hwm_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
