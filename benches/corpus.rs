//! Corpus benchmark: nanlint's per-file pipeline against tree-sitter parsing alone, on a large
//! real ML corpus (see `benches/fetch-corpus.sh` and `benches/README.md`).
//!
//!   cargo bench --bench corpus [-- CORPUS_DIR]
//!
//! The corpus folder is the first argument, else `$NANLINT_CORPUS`, else
//! `${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}/corpus`. `$NANLINT_BENCH_RUNS` (default 5)
//! sets the repetitions; every figure is the median over them. `$NANLINT_BENCH_ONLY` picks
//! sections, comma-separated: `main` ((a)-(d)), `e2e`.
//!
//! Every file is read into memory once, so the in-process timings exclude I/O. Single-threaded
//! figures give wall time and the thread's CPU time (from `/proc/thread-self/schedstat`, which a
//! busy machine disturbs less than wall time); ratios are taken per round, then the median.
//! It prints figures and asserts nothing about them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nanlint::engine::{self, RuleSet};
use nanlint::rules;
use nanlint::settings::Settings;
use nanlint::syntax;
use rayon::prelude::*;
use tree_sitter::Parser;

struct File {
    src: String,
}

fn main() {
    let dir = corpus_dir();
    let runs: usize = std::env::var("NANLINT_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(5).max(1);
    let files = load(&dir);
    let bytes: usize = files.iter().map(|f| f.src.len()).sum();
    let lines: usize = files.iter().map(|f| f.src.matches('\n').count()).sum();
    let threads = rayon::current_num_threads();
    println!("corpus: {}", dir.display());
    println!(
        "{} files, {:.1} MB, {} lines; {runs} runs, median; {threads} threads for the parallel rows",
        files.len(),
        mb(bytes),
        lines
    );
    let settings = Settings::default();
    // Compile the rules' query outside the timings.
    let compiled = &RuleSet::all().compiled;
    println!(
        "rules: {}, query patterns: {} ({} shapes compiled)",
        rules::ALL.len(),
        compiled.pattern_rule.len(),
        compiled.query.pattern_count()
    );

    let sections = std::env::var("NANLINT_BENCH_ONLY").unwrap_or_default();
    let want = |name: &str| sections.is_empty() || sections.split(',').any(|s| s.trim() == name);
    if want("main") {
        in_process(&files, &settings, runs, bytes);
    }
    if want("e2e") {
        end_to_end(&dir, runs, threads);
    }
}

/// (a)-(d), interleaved per round.
fn in_process(files: &[File], settings: &Settings, runs: usize, bytes: usize) {
    let mut rows: Vec<Row> = Vec::new();
    let mut row = |name: &'static str, parallel: bool| {
        rows.push(Row { name, parallel, samples: Vec::new(), ratios: Vec::new() });
        rows.len() - 1
    };
    let parse = row("(a) tree-sitter parse only", false);
    let check = row("(b) check_source (prefilter, parse, analyze)", false);
    let full = row("(c) parse + analyze, no prefilter", false);
    let prefilter = row("    prefilter (might_smell) alone", false);
    let parse_kept = row("    parse only the files the prefilter keeps", false);
    let par_parse = row("    tree-sitter parse only, all cores", true);
    let par_check = row("(d) check_source, all cores", true);
    let mut smells = [0; 3];
    for round in 0..runs {
        eprintln!("round {}/{runs}", round + 1);
        let mut parser = syntax::parser();
        let a = measure(|| files.iter().map(|f| parse_only(&mut parser, &f.src)).sum::<usize>());
        let (b, n_b) = measure_with(|| files.iter().map(|f| engine::check_source(&f.src, settings).len()).sum());
        let (c, n_c) = measure_with(|| {
            files
                .iter()
                .map(|f| {
                    let tree = engine::parse(&f.src);
                    engine::analyze(&f.src, &tree, settings).len()
                })
                .sum()
        });
        let p = measure(|| files.iter().filter(|f| engine::might_smell(&f.src)).count());
        let kept: Vec<&File> = files.iter().filter(|f| engine::might_smell(&f.src)).collect();
        let ak = measure(|| kept.iter().map(|f| parse_only(&mut parser, &f.src)).sum::<usize>());
        let pp = measure(|| files.par_iter().map_init(syntax::parser, |ps, f| parse_only(ps, &f.src)).sum::<usize>());
        let (d, n_d) = measure_with(|| files.par_iter().map(|f| engine::check_source(&f.src, settings).len()).sum());
        smells = [n_b, n_c, n_d];
        for (i, s) in
            [(parse, a), (check, b), (full, c), (prefilter, p), (parse_kept, ak), (par_parse, pp), (par_check, d)]
        {
            rows[i].samples.push(s);
            rows[i].ratios.push(ratio(s, a));
        }
    }

    println!();
    println!(
        "{:<46} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7}",
        "in process, I/O excluded", "wall s", "cpu s", "MB/s", "files/s", "/(a)wall", "/(a)cpu"
    );
    for r in &rows {
        let wall = median(r.samples.iter().map(|s| s.wall.as_secs_f64()).collect());
        let (ratio_wall, ratio_cpu) = medians(&r.ratios);
        let (cpu, ratio_cpu) = if r.parallel {
            ("-".to_string(), "-".to_string())
        } else {
            (
                format!("{:.3}", median(r.samples.iter().map(|s| s.cpu.as_secs_f64()).collect())),
                format!("{ratio_cpu:.3}"),
            )
        };
        println!(
            "{:<46} {:>8.3} {:>8} {:>7.1} {:>7.0} {:>8.3} {:>7}",
            r.name,
            wall,
            cpu,
            mb(bytes) / wall,
            files.len() as f64 / wall,
            ratio_wall,
            ratio_cpu
        );
    }
    let (rb_wall, rb_cpu) = medians(&rows[check].ratios);
    println!("budget: (b)/(a) at most 1.25 on one thread: {rb_wall:.3} wall, {rb_cpu:.3} cpu");
    // On the files that pass the prefilter: what analysis adds to their parse.
    let kept: Vec<(f64, f64)> =
        rows[check].samples.iter().zip(&rows[parse_kept].samples).map(|(x, k)| ratio(*x, *k)).collect();
    let (wall, cpu) = medians(&kept);
    println!("(b) over parsing only the files the prefilter keeps: {wall:.3} wall, {cpu:.3} cpu");
    let kept_bytes: usize = files.iter().filter(|f| engine::might_smell(&f.src)).map(|f| f.src.len()).sum();
    println!(
        "the prefilter keeps {} of {} files, {:.1} of {:.1} MB ({:.0} % of the bytes)",
        files.iter().filter(|f| engine::might_smell(&f.src)).count(),
        files.len(),
        mb(kept_bytes),
        mb(bytes),
        100.0 * kept_bytes as f64 / bytes as f64
    );
    println!("smells: (b) {}, (c) {}, (d) {}", smells[0], smells[1], smells[2]);
}

/// Parses with a reused parser and returns the root's child count, so the work is not elided.
fn parse_only(parser: &mut Parser, src: &str) -> usize {
    let tree = parser.parse(src, None).expect("no timeout or cancellation is set");
    tree.root_node().child_count() as usize
}

#[derive(Clone, Copy)]
struct Sample {
    wall: Duration,
    cpu: Duration,
}

struct Row {
    name: &'static str,
    parallel: bool,
    samples: Vec<Sample>,
    /// This row over (a) of the same round, wall and CPU.
    ratios: Vec<(f64, f64)>,
}

fn measure<T>(f: impl FnOnce() -> T) -> Sample {
    measure_with(f).0
}

fn measure_with<T>(f: impl FnOnce() -> T) -> (Sample, T) {
    let cpu0 = thread_cpu();
    let t0 = Instant::now();
    let out = std::hint::black_box(f());
    let wall = t0.elapsed();
    let cpu = thread_cpu().saturating_sub(cpu0);
    (Sample { wall, cpu }, out)
}

fn ratio(x: Sample, base: Sample) -> (f64, f64) {
    (x.wall.as_secs_f64() / base.wall.as_secs_f64(), x.cpu.as_secs_f64() / base.cpu.as_secs_f64().max(1e-9))
}

fn medians(pairs: &[(f64, f64)]) -> (f64, f64) {
    (median(pairs.iter().map(|p| p.0).collect()), median(pairs.iter().map(|p| p.1).collect()))
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1e6
}

/// CPU time this thread has run, from the scheduler's statistics (Linux); zero elsewhere.
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// User + system CPU time of the waited-for children of this process (Linux, in clock ticks of
/// 1/100 s); zero elsewhere.
fn children_cpu() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the command name (which may hold spaces): state is field 3, cutime 16, cstime 17.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [13, 14].iter().filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok())).sum();
    Duration::from_millis(ticks * 10)
}

fn corpus_dir() -> PathBuf {
    // `cargo bench` passes `--bench`; the first other argument is the folder.
    if let Some(arg) = std::env::args().skip(1).find(|a| !a.starts_with("--")) {
        return PathBuf::from(arg);
    }
    if let Some(dir) = std::env::var_os("NANLINT_CORPUS") {
        return PathBuf::from(dir);
    }
    let cache = std::env::var_os("NANLINT_DEV_CACHE").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache").join("nanlint-dev")
    });
    cache.join("corpus")
}

/// The files `nanlint check DIR` checks, read once.
fn load(dir: &Path) -> Vec<File> {
    let paths = nanlint::check::collect_files(&[dir.to_path_buf()]).unwrap_or_else(|e| {
        eprintln!("corpus: {e}\nrun `bash benches/fetch-corpus.sh` first (or pass the corpus folder)");
        std::process::exit(2);
    });
    let mut files = Vec::with_capacity(paths.len());
    let mut not_utf8 = 0;
    for path in paths {
        match std::fs::read_to_string(&path) {
            Ok(src) => files.push(File { src }),
            Err(_) => not_utf8 += 1,
        }
    }
    if not_utf8 > 0 {
        eprintln!("corpus: skipped {not_utf8} unreadable or non-UTF-8 files");
    }
    if files.is_empty() {
        eprintln!("corpus: no Python files under {}", dir.display());
        std::process::exit(2);
    }
    files
}

/// The release binary end to end (walk, read, check, render), against walking, reading and
/// parsing the same files in this process on one thread. Runs interleave; medians of each, and
/// of the per-run ratio.
fn end_to_end(dir: &Path, runs: usize, threads: usize) {
    let exe = Path::new(env!("CARGO_BIN_EXE_nanlint"));
    let counts: Vec<usize> = if threads > 1 { vec![1, threads] } else { vec![1] };
    let mut baseline = Vec::new();
    let mut timed: Vec<Vec<Sample>> = vec![Vec::new(); counts.len()];
    let mut ratios = Vec::new();
    for _ in 0..runs {
        let base = measure(|| {
            let mut parser = syntax::parser();
            let files = nanlint::check::collect_files(&[dir.to_path_buf()]).unwrap_or_default();
            files
                .iter()
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .map(|src| parse_only(&mut parser, &src))
                .sum::<usize>()
        });
        baseline.push(base);
        for (i, n) in counts.iter().enumerate() {
            let c0 = children_cpu();
            let t0 = Instant::now();
            let status = Command::new(exe)
                .args(["check", "--threads", &n.to_string()])
                .arg(dir)
                .args(["--output-format", "concise"])
                .stdout(Stdio::null())
                .status();
            let wall = t0.elapsed();
            match status {
                // 0: no smells, 1: smells found; both are a complete run.
                Ok(s) if matches!(s.code(), Some(0 | 1)) => {}
                Ok(s) => {
                    println!("end to end: nanlint exited with {s}");
                    return;
                }
                Err(e) => {
                    println!("end to end: cannot run {}: {e}", exe.display());
                    return;
                }
            }
            let sample = Sample { wall, cpu: children_cpu().saturating_sub(c0) };
            if *n == 1 {
                ratios.push(ratio(sample, base));
            }
            timed[i].push(sample);
        }
    }
    let show = |name: String, samples: &[Sample]| {
        let wall = median(samples.iter().map(|s| s.wall.as_secs_f64()).collect());
        let cpu = median(samples.iter().map(|s| s.cpu.as_secs_f64()).collect());
        println!("  {name:<58} {wall:>7.3} s wall {cpu:>7.3} s cpu");
    };
    println!();
    println!("end to end, page cache warm:");
    show("walk + read + tree-sitter parse, one thread, in process".to_string(), &baseline);
    for (n, samples) in counts.iter().zip(&timed) {
        show(format!("nanlint check --threads {n} DIR --output-format concise"), samples);
    }
    let (wall, cpu) = medians(&ratios);
    println!("  nanlint check --threads 1 over walk + read + parse: {wall:.3} wall, {cpu:.3} cpu");
    println!("  (binary: {})", exe.display());
}
