//! Corpus benchmark: nanlint's per-file pipeline against tree-sitter parsing alone, on a large
//! real ML corpus (see `benches/fetch-corpus.sh` and `benches/README.md`).
//!
//!   cargo bench --bench corpus [-- CORPUS_DIR]
//!
//! The corpus folder is the first argument, else `$NANLINT_CORPUS`, else
//! `${NANLINT_DEV_CACHE:-$HOME/.cache/nanlint-dev}/corpus`. `$NANLINT_BENCH_RUNS` (default 5)
//! sets the repetitions; every figure is the median over them. `$NANLINT_BENCH_ONLY` picks
//! sections, comma-separated: `main` ((a)-(e3) and the breakdown), `prototypes`, `design`, `e2e`.
//!
//! Every file is read into memory once, so the in-process timings exclude I/O. Single-threaded
//! figures give wall time and the thread's CPU time (from `/proc/thread-self/schedstat`, which a
//! busy machine disturbs less than wall time); ratios are taken per round, then the median.
//! It prints figures and asserts nothing about them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nanlint::engine::{self, Context, query};
use nanlint::rules;
use nanlint::settings::Settings;
use rayon::prelude::*;
use tree_sitter::{Parser, StreamingIterator};

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
    let compiled = query::compiled();
    println!("rules: {}, query patterns: {}", rules::RULES.len(), compiled.query.pattern_count());

    let sections = std::env::var("NANLINT_BENCH_ONLY").unwrap_or_default();
    let want = |name: &str| sections.is_empty() || sections.split(',').any(|s| s.trim() == name);
    if want("main") {
        in_process(&files, &settings, runs, bytes);
    }
    if want("prototypes") {
        prototypes(&files, &settings, bytes);
    }
    if want("design") {
        query_design(&files, runs);
    }
    if want("e2e") {
        end_to_end(&dir, runs, threads);
    }
}

/// (a)-(e3) and the breakdown, interleaved per round.
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
    let e1 = row("(e1) substring prefilter (before 7dbbdff) + (c)", false);
    let e2 = row("(e2) parse + ranged query, no prefilter", false);
    let e3 = row("(e3) prefilter (might_smell) + (e2)", false);

    let mut breakdowns = Vec::new();
    let mut smells = [0; 6];
    for round in 0..runs {
        eprintln!("round {}/{runs}", round + 1);
        let mut parser = engine::parser();
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
        let pp = measure(|| files.par_iter().map_init(engine::parser, |ps, f| parse_only(ps, &f.src)).sum::<usize>());
        let (d, n_d) = measure_with(|| files.par_iter().map(|f| engine::check_source(&f.src, settings).len()).sum());
        let (s1, n_1) = measure_with(|| {
            files
                .iter()
                .filter(|f| might_smell_substring(&f.src))
                .map(|f| engine::analyze(&f.src, &engine::parse(&f.src), settings).len())
                .sum()
        });
        let (s2, n_2) = measure_with(|| files.iter().map(|f| ranged_check(&f.src, settings)).sum());
        let (s3, n_3) = measure_with(|| {
            files.iter().filter(|f| engine::might_smell(&f.src)).map(|f| ranged_check(&f.src, settings)).sum()
        });
        smells = [n_b, n_c, n_d, n_1, n_2, n_3];
        for (i, s) in [
            (parse, a),
            (check, b),
            (full, c),
            (prefilter, p),
            (parse_kept, ak),
            (par_parse, pp),
            (par_check, d),
            (e1, s1),
            (e2, s2),
            (e3, s3),
        ] {
            rows[i].samples.push(s);
            rows[i].ratios.push(ratio(s, a));
        }
        breakdowns.push(breakdown(files, settings));
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
    for (name, i) in [("(b)", check), ("(e3)", e3)] {
        let kept: Vec<(f64, f64)> =
            rows[i].samples.iter().zip(&rows[parse_kept].samples).map(|(x, k)| ratio(*x, *k)).collect();
        let (wall, cpu) = medians(&kept);
        println!("{name} over parsing only the files the prefilter keeps: {wall:.3} wall, {cpu:.3} cpu");
    }
    println!(
        "smells: (b) {}, (c) {}, (d) {}, (e1) {}, (e2, before noqa) {}, (e3, before noqa) {}",
        smells[0], smells[1], smells[2], smells[3], smells[4], smells[5]
    );

    print_breakdown(&breakdowns);
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

/// Where the time of parse + analyze (no prefilter) goes, per stage, summed over files.
#[derive(Default, Clone)]
struct Breakdown {
    parse: Duration,
    imports: Duration,
    /// Iterating the query's matches alone (no predicates).
    matching: Duration,
    /// The full query loop as `analyze` runs it: matches, predicates, rule checks, sort.
    query_loop: Duration,
    files_with_library: usize,
    matches: usize,
    findings: usize,
}

/// One instrumented pass. The query loop mirrors `engine::analyze`; matching alone runs the same
/// cursor once more without predicates, so predicates + rule checks = loop - matching.
fn breakdown(files: &[File], settings: &Settings) -> Breakdown {
    let compiled = query::compiled();
    let mut b = Breakdown::default();
    for f in files {
        let src = f.src.as_str();
        let t0 = thread_cpu();
        let tree = engine::parse(src);
        let t1 = thread_cpu();
        let cx = Context::new(src, &tree);
        let t2 = thread_cpu();
        b.parse += t1 - t0;
        b.imports += t2 - t1;
        if !cx.imports.has_library() {
            continue;
        }
        b.files_with_library += 1;

        let mut cursor = tree_sitter::QueryCursor::new();
        let mut matches = cursor.matches(&compiled.query, tree.root_node(), src.as_bytes());
        let mut n = 0;
        while matches.next().is_some() {
            n += 1;
        }
        let t3 = thread_cpu();
        b.matching += t3 - t2;
        b.matches += n;

        let found = findings(&cx, settings, None);
        b.findings += found.len();
        b.query_loop += thread_cpu() - t3;
        std::hint::black_box(&found);
    }
    b
}

fn print_breakdown(runs: &[Breakdown]) {
    let med = |f: &dyn Fn(&Breakdown) -> Duration| median(runs.iter().map(|b| f(b).as_secs_f64()).collect());
    let parse = med(&|b| b.parse);
    let imports = med(&|b| b.imports);
    let matching = med(&|b| b.matching);
    let query_loop = med(&|b| b.query_loop);
    let total = parse + imports + query_loop;
    let last = runs.last().cloned().unwrap_or_default();
    println!();
    println!("breakdown of (c), one thread, CPU time summed per stage over all files (median of runs):");
    let line = |name: &str, s: f64| println!("  {name:<58} {s:>7.3} s {:>5.1}%", 100.0 * s / total);
    line("parse (engine::parse, a new parser per file)", parse);
    line("import collection (Context::new)", imports);
    line("query loop: matching + predicates + rule checks + sort", query_loop);
    println!("  {:<58} {total:>7.3} s", "total");
    println!(
        "  of the query loop, matching alone (a second cursor pass without predicates): {matching:.3} s; \
         predicates + checks = {:.3} s",
        query_loop - matching
    );
    println!(
        "  files importing a numeric library: {} (the query runs on these); query matches: {}, findings: {}",
        last.files_with_library, last.matches, last.findings
    );
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
            let mut parser = engine::parser();
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

// ---------------------------------------------------------------------------------------------
// Prototypes of cheaper pipelines (benchmark-only; `nanlint check` does not use them).
//
// (e1) The prefilter nanlint had before commit 7dbbdff: a library root and a trigger as
//      substrings anywhere (`logging` and `logits` count), for comparison with the whole-word
//      prefilter `engine::might_smell` has now.
// (e2) The query restricted to the trigger occurrences: after import collection, the words are
//      the rules' triggers plus the local names an import binds to one of their functions
//      (`from numpy import log as L`); the cursor runs once per whole-word occurrence with
//      `set_byte_range`, so only patterns whose root node spans an occurrence start. The findings
//      are compared with the full query's.
// ---------------------------------------------------------------------------------------------

fn might_smell_substring(src: &str) -> bool {
    let q = query::compiled();
    q.roots.iter().any(|r| src.contains(r.as_str())) && q.triggers.iter().any(|t| src.contains(t.as_str()))
}

/// Bytes that continue a Python identifier (any non-ASCII byte may be part of one).
fn ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80
}

/// Start offsets of `word` as a whole identifier in `src`.
fn word_at<'s>(src: &'s str, word: &'s str) -> impl Iterator<Item = usize> + 's {
    let bytes = src.as_bytes();
    src.match_indices(word).map(|(i, _)| i).filter(move |&i| {
        let end = i + word.len();
        (i == 0 || !ident_byte(bytes[i - 1])) && (end == bytes.len() || !ident_byte(bytes[end]))
    })
}

type Found = Vec<(usize, usize, &'static str)>;

/// The query loop of `analyze` (before `# noqa`), over the whole tree or over `ranges`.
fn findings(cx: &Context, settings: &Settings, ranges: Option<&[std::ops::Range<usize>]>) -> Found {
    let compiled = query::compiled();
    let root = cx.tree.root_node();
    let ranges: Vec<Option<std::ops::Range<usize>>> = match ranges {
        None => vec![None],
        Some(r) => r.iter().cloned().map(Some).collect(),
    };
    let mut found = Vec::new();
    let mut cursor = tree_sitter::QueryCursor::new();
    for range in ranges {
        if let Some(range) = range {
            cursor.set_byte_range(range);
        }
        let mut matches = cursor.matches(&compiled.query, root, cx.src.as_bytes());
        while let Some(m) = matches.next() {
            let rule = &rules::RULES[compiled.pattern_rule[m.pattern_index]];
            if !settings.is_enabled(rule.code) || !compiled.predicates_hold(cx, m) {
                continue;
            }
            let captures = query::Captures::new(&compiled.query, m);
            let Some(node) = captures.get("smell") else {
                continue;
            };
            if (rule.check)(cx, &captures, settings).is_some() {
                found.push((node.start_byte(), node.end_byte(), rule.code));
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// The trigger occurrences of a parsed file, as byte ranges: the rules' triggers and the local
/// names bound to one of the functions they name.
fn occurrences(cx: &Context) -> Vec<std::ops::Range<usize>> {
    let triggers = &query::compiled().triggers;
    let mut words = triggers.clone();
    words.extend(cx.imports.names_reaching(|api| triggers.iter().any(|t| engine::apis::leaf(api) == t)));
    let mut ranges: Vec<std::ops::Range<usize>> =
        words.iter().flat_map(|w| word_at(cx.src, w).map(move |i| i..i + w.len())).collect();
    ranges.sort_by_key(|r| (r.start, r.end));
    ranges
}

/// Parse, imports, and the query restricted to the trigger occurrences (before `# noqa`).
fn ranged_check(src: &str, settings: &Settings) -> usize {
    let tree = engine::parse(src);
    let cx = Context::new(src, &tree);
    if !cx.imports.has_library() {
        return 0;
    }
    findings(&cx, settings, Some(&occurrences(&cx))).len()
}

fn prototypes(files: &[File], settings: &Settings, bytes: usize) {
    println!();
    println!("prototypes (e1-e3); rule triggers: {}", query::compiled().triggers.join(", "));
    let passing = |keep: &dyn Fn(&str) -> bool| {
        let kept: Vec<&File> = files.iter().filter(|f| keep(&f.src)).collect();
        format!("{} files, {:.1} MB", kept.len(), mb(kept.iter().map(|f| f.src.len()).sum()))
    };
    println!(
        "  passing the prefilter: substring (e1) {}; whole word (might_smell) {}; of {} files, {:.1} MB",
        passing(&|s| might_smell_substring(s)),
        passing(&|s| engine::might_smell(s)),
        files.len(),
        mb(bytes)
    );
    // Same findings? Compare the full and the ranged query on every file that imports a library.
    let mut mismatched = 0;
    let mut total = (0, 0);
    let mut skipped = 0;
    for f in files {
        let tree = engine::parse(&f.src);
        let cx = Context::new(&f.src, &tree);
        if !cx.imports.has_library() {
            continue;
        }
        let full = findings(&cx, settings, None);
        let ranged = findings(&cx, settings, Some(&occurrences(&cx)));
        total.0 += full.len();
        total.1 += ranged.len();
        if full != ranged {
            mismatched += 1;
        }
        if !full.is_empty() && !engine::might_smell(&f.src) {
            skipped += 1;
        }
    }
    println!(
        "  findings before noqa: full query {}, ranged query {}; files that differ: {mismatched}; \
         files with findings that might_smell skips: {skipped}",
        total.0, total.1
    );
}

/// Plausible shapes of future rules, to measure how query time grows with the pattern count and
/// whether one multi-pattern query (one pass) beats one query per rule (one pass each).
const SYNTHETIC_PATTERNS: &[&str] = &[
    // NL101's own shape: a call and its first argument.
    "((call function: (_) @f arguments: (argument_list . (expression) @a)) @smell)",
    // A division.
    r#"((binary_operator left: (_) @l operator: "/" right: (_) @r) @smell)"#,
    // A call with a keyword argument.
    "((call function: (_) @f arguments: (argument_list (keyword_argument name: (identifier) @k value: (_) @v))) @smell)",
    // A method call on any receiver.
    "((call function: (attribute object: (_) @o attribute: (identifier) @m)) @smell)",
    // An assignment of a call's result to a name.
    "((assignment left: (identifier) @n right: (call function: (_) @f)) @smell)",
    // A product with a call.
    r#"((binary_operator left: (_) @l operator: "*" right: (call function: (_) @f)) @smell)"#,
    // `sqrt`-like: a call with exactly one argument.
    "((call function: (_) @f arguments: (argument_list . (_) @a .)) @smell)",
    // A subtraction from a literal (`1 - p`).
    r#"((binary_operator left: [(integer) (float)] @l operator: "-" right: (_) @r) @smell)"#,
];

fn query_design(files: &[File], runs: usize) {
    const SIZES: [usize; 4] = [1, 2, 4, 8];
    let language = engine::language();
    let compile = |src: &str| tree_sitter::Query::new(&language, src).expect("synthetic patterns compile");
    let combined: Vec<tree_sitter::Query> =
        SIZES.iter().map(|&k| compile(&SYNTHETIC_PATTERNS[..k].join("\n"))).collect();
    let singles: Vec<tree_sitter::Query> = SYNTHETIC_PATTERNS.iter().map(|p| compile(p)).collect();
    let count = |q: &tree_sitter::Query, tree: &tree_sitter::Tree, src: &str| {
        let mut cursor = tree_sitter::QueryCursor::new();
        let mut matches = cursor.matches(q, tree.root_node(), src.as_bytes());
        let mut n = 0usize;
        while matches.next().is_some() {
            n += 1;
        }
        n
    };
    // Per run: parse, each combined query, each single-pattern query; CPU seconds.
    let mut parse = Vec::new();
    let mut one = vec![Vec::new(); SIZES.len()];
    let mut single = vec![Vec::new(); SYNTHETIC_PATTERNS.len()];
    let mut parser = engine::parser();
    for _ in 0..runs.min(3) {
        let mut t_parse = Duration::ZERO;
        let mut t_one = vec![Duration::ZERO; SIZES.len()];
        let mut t_single = vec![Duration::ZERO; SYNTHETIC_PATTERNS.len()];
        let mut n = 0;
        for f in files {
            let t0 = thread_cpu();
            let tree = parser.parse(&f.src, None).expect("no timeout or cancellation is set");
            t_parse += thread_cpu() - t0;
            for (q, t) in combined.iter().zip(&mut t_one).chain(singles.iter().zip(&mut t_single)) {
                let t0 = thread_cpu();
                n += count(q, &tree, &f.src);
                *t += thread_cpu() - t0;
            }
        }
        std::hint::black_box(n);
        parse.push(t_parse.as_secs_f64());
        for (v, t) in one.iter_mut().zip(&t_one).chain(single.iter_mut().zip(&t_single)) {
            v.push(t.as_secs_f64());
        }
    }
    let parse = median(parse);
    let single: Vec<f64> = single.into_iter().map(median).collect();
    println!();
    println!(
        "query design: matching alone (no predicates) of {} synthetic rule shapes on every file, one thread, \
         CPU s (parse of the same pass: {parse:.3} s)",
        SYNTHETIC_PATTERNS.len()
    );
    println!(
        "  {:<9} {:>18} {:>10} {:>22} {:>10}",
        "patterns", "one query, 1 pass", "/ parse", "one query per pattern", "/ parse"
    );
    for (i, k) in SIZES.iter().enumerate() {
        let one = median(one[i].clone());
        let many: f64 = single[..*k].iter().sum();
        println!("  {k:<9} {one:>16.3} s {:>10.3} {many:>20.3} s {:>10.3}", one / parse, many / parse);
    }
}
