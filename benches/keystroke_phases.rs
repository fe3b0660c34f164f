//! Where a keystroke's time goes, in process: the same rows as `benches/keystrokes.rs` on the
//! same file (`benches/latency_file.py`, class `Block147`), each keystroke the identifier
//! character `x` typed at the end of the line and then deleted. For each row, two figures:
//!
//! - `reparse`: tree-sitter's incremental reparse alone (`Tree::edit`, then `Parser::parse` with
//!   the edited old tree), the floor under any analysis;
//! - `change`: `Session::change`, what the server does for one `didChange` before publishing:
//!   applying the edit, the incremental reparse, the re-analysis (one function, or the whole
//!   file reusing cached functions and facts) and the findings.
//!
//!   cargo bench --bench keystroke_phases
//!
//! Before the rows, `open`: `Session::open` of the whole file in a fresh session (7 of them, the
//! query compiled beforehand as the server does at start), beside the parse alone.
//!
//! One thread for the analysis (`RAYON_NUM_THREADS=1` is set unless given). It prints p50 and
//! p99 in milliseconds, and asserts nothing about them. `NANLINT_BENCH_ROWS=header` runs only the
//! rows whose name contains that text (to profile one, e.g. under `perf record`).

use std::process::Command;
use std::time::Instant;

use nanlint::lsp::session::Session;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent, Uri};
use tree_sitter::{InputEdit, Parser, Point};

const KEYSTROKES: usize = 100;

fn main() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        // SAFETY: set before any thread is started.
        unsafe { std::env::set_var("RAYON_NUM_THREADS", "1") };
    }
    let src = generate();
    let lines: Vec<&str> = src.lines().collect();
    let header = lines.iter().position(|l| *l == "class Block147(nn.Module):").expect("the class");
    let after = |wanted: &str| header + lines[header..].iter().position(|l| *l == wanted).expect("the line");
    let init_eps = after("        self.eps = 1e-6");
    let rows = [
        ("a line inside forward", after("        h = torch.relu(self.proj(x))")),
        ("`self.eps = 1e-6` in __init__", init_eps),
        ("the blank line between __init__ and forward", init_eps + 1),
        ("a class header", header),
        ("the blank line between two classes (module level)", header - 1),
        ("an import line", lines.iter().position(|l| *l == "import numpy as np").expect("the import")),
    ];
    println!("file: {} lines, {:.1} KB", lines.len(), src.len() as f64 / 1024.0);
    println!(
        "{:<52} {:>12} {:>12} {:>12} {:>12}",
        "where the keystroke lands", "reparse p50", "reparse p99", "change p50", "change p99"
    );
    let only = std::env::var("NANLINT_BENCH_ROWS").unwrap_or_default();
    if "open".contains(only.as_str()) {
        let (mut parse, mut open) = open_times(&src);
        let (p50, p99) = percentiles(&mut parse);
        let (o50, o99) = percentiles(&mut open);
        println!("{:<52} {p50:>12.2} {p99:>12.2} {o50:>12.2} {o99:>12.2}", "open (parse alone; Session::open)");
    }
    for (name, line) in rows.into_iter().filter(|(name, _)| name.contains(only.as_str())) {
        let column = lines[line].len();
        let offset = lines[..line].iter().map(|l| l.len() + 1).sum::<usize>() + column;
        let mut reparse = reparse_times(&src, line, column, offset);
        let mut change = change_times(&src, line, column);
        let (r50, r99) = percentiles(&mut reparse);
        let (c50, c99) = percentiles(&mut change);
        println!("{name:<52} {r50:>12.2} {r99:>12.2} {c50:>12.2} {c99:>12.2}");
    }
}

/// Milliseconds of each incremental reparse, `x` typed at `offset` and deleted in turn.
fn reparse_times(src: &str, line: usize, column: usize, offset: usize) -> Vec<f64> {
    let mut parser = Parser::new();
    parser.set_language(&tree_sitter_python::LANGUAGE.into()).expect("the Python grammar loads");
    let mut tree = parser.parse(src, None).expect("a tree");
    let (at, after) = (Point::new(line, column), Point::new(line, column + 1));
    let mut text = src.to_string();
    let mut times = Vec::with_capacity(KEYSTROKES);
    for i in 0..KEYSTROKES {
        let edit = if i % 2 == 0 {
            text.insert(offset, 'x');
            InputEdit {
                start_byte: offset,
                old_end_byte: offset,
                new_end_byte: offset + 1,
                start_position: at,
                old_end_position: at,
                new_end_position: after,
            }
        } else {
            text.remove(offset);
            InputEdit {
                start_byte: offset,
                old_end_byte: offset + 1,
                new_end_byte: offset,
                start_position: at,
                old_end_position: after,
                new_end_position: at,
            }
        };
        tree.edit(&edit);
        let t = Instant::now();
        let new = parser.parse(&text, Some(&tree)).expect("a tree");
        times.push(t.elapsed().as_secs_f64() * 1e3);
        tree = new;
    }
    times
}

/// Milliseconds of 7 parses of the whole file and of 7 `Session::open`s, each in a fresh session.
fn open_times(src: &str) -> (Vec<f64>, Vec<f64>) {
    nanlint::engine::RuleSet::all();
    let (mut parse, mut open) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let mut parser = Parser::new();
        parser.set_language(&tree_sitter_python::LANGUAGE.into()).expect("the Python grammar loads");
        let t = Instant::now();
        std::hint::black_box(parser.parse(src, None).expect("a tree"));
        parse.push(t.elapsed().as_secs_f64() * 1e3);
        let session = Session::default();
        let uri: Uri = "file:///bench/latency_file.py".parse().expect("a URI");
        let t = Instant::now();
        std::hint::black_box(session.open(uri, 1, src.to_string()));
        open.push(t.elapsed().as_secs_f64() * 1e3);
    }
    (parse, open)
}

/// Milliseconds of each `Session::change`, `x` typed at the end of `line` and deleted in turn.
fn change_times(src: &str, line: usize, column: usize) -> Vec<f64> {
    let session = Session::default();
    let uri: Uri = "file:///bench/latency_file.py".parse().expect("a URI");
    session.open(uri.clone(), 1, src.to_string());
    let at = |c: usize| Position { line: line as u32, character: c as u32 };
    let mut times = Vec::with_capacity(KEYSTROKES);
    for i in 0..KEYSTROKES {
        let (end, text) = if i % 2 == 0 { (column, "x") } else { (column + 1, "") };
        let change = TextDocumentContentChangeEvent {
            range: Some(Range { start: at(column), end: at(end) }),
            range_length: None,
            text: text.to_string(),
        };
        let t = Instant::now();
        let answer = session.change(&uri, i as i32 + 2, vec![change]);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(answer);
    }
    times
}

fn percentiles(times: &mut [f64]) -> (f64, f64) {
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).saturating_sub(1)];
    (at(0.5), at(0.99))
}

fn generate() -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/latency_file.py");
    let out = Command::new("python3").arg(script).output().expect("python3 runs benches/latency_file.py");
    assert!(out.status.success(), "latency_file.py failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}
