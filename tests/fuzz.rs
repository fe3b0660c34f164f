//! Fuzzing the engine with random valid programs ([`programs`]) and byte-level mutations of the
//! repository's Python files, through the library API (no binary, no files written).
//!
//! For every generated program:
//! - nothing panics (checking, fixing, the per-function cache, a notebook of its cells);
//! - the findings are unchanged, up to the line shift, when a blank line or a comment is added at
//!   a line boundary outside every finding;
//! - each fix applied alone leaves a program that parses and no longer has its finding;
//! - the edits of a fix-all round do not overlap, and fix-all (`--fix`, `--fix --unsafe-fixes`)
//!   is idempotent: a second run changes nothing;
//! - the per-function cache gives the findings of a whole-file pass.
//!
//! For every mutated file: nothing panics, and fix-all is idempotent.
//!
//! `NANLINT_FUZZ_PROGRAMS` sets the number of generated programs (default below, chosen to keep a
//! debug run near a minute on one core; mutated files and notebooks are a quarter of it each).
//! `NANLINT_FUZZ_CORPUS` names a folder whose `.py` files join the mutation seeds.
//! `benches/fuzz.sh` runs the long campaign in release mode.

mod fuzz {
    pub mod programs;
}

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use fuzz::programs::{self, Choices};
use nanlint::check::{self, Options};
use nanlint::engine::fix::{FixMode, fix_source, non_overlapping};
use nanlint::engine::{self, UnitCache};
use nanlint::settings::Settings;
use nanlint::smell::{Edit, Smell, apply_edits};
use proptest::prelude::*;

const DEFAULT_PROGRAMS: u32 = 40;

fn programs_to_run() -> u32 {
    std::env::var("NANLINT_FUZZ_PROGRAMS").ok().and_then(|c| c.parse().ok()).unwrap_or(DEFAULT_PROGRAMS)
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases.max(1),
        max_shrink_iters: 4096,
        // The campaign (`benches/fuzz.sh`) keeps going past a failure: known failures are not
        // replayed first.
        failure_persistence: if std::env::var_os("NANLINT_FUZZ_CAMPAIGN").is_some() {
            None
        } else {
            ProptestConfig::default().failure_persistence
        },
        // The test command draws the same programs on every run (a red run reproduces);
        // `NANLINT_FUZZ_SEED` picks others, and the campaign draws fresh ones.
        rng_seed: match std::env::var("NANLINT_FUZZ_SEED").ok().and_then(|s| s.parse().ok()) {
            Some(seed) => proptest::test_runner::RngSeed::Fixed(seed),
            None if std::env::var_os("NANLINT_FUZZ_CAMPAIGN").is_some() => proptest::test_runner::RngSeed::Random,
            None => proptest::test_runner::RngSeed::Fixed(7),
        },
        ..ProptestConfig::default()
    }
}

fn settings(preview: bool) -> Settings {
    Settings { preview, ..Settings::default() }
}

/// Where each original position lands after `edits` (sorted, non-overlapping) are applied; a
/// position inside a replaced range lands at the replacement's start.
fn map_position(edits: &[Edit], at: usize) -> usize {
    let mut shift: isize = 0;
    for e in edits {
        if e.end <= at && !(e.start == e.end && e.start == at) {
            shift += e.content.len() as isize - (e.end - e.start) as isize;
        } else if e.start < at {
            return (e.start as isize + shift) as usize;
        }
    }
    (at as isize + shift) as usize
}

fn overlap(a: &Edit, b: &Edit) -> bool {
    a.start < b.end && b.start < a.end || (a.start == b.start && a.end == b.end && a.content != b.content)
}

fn assert_disjoint(edits: &[Edit], what: &str, source: &str) -> Result<(), TestCaseError> {
    for (i, a) in edits.iter().enumerate() {
        prop_assert!(a.start <= a.end && a.end <= source.len(), "{what}: edit {a:?} out of range in:\n{source}");
        prop_assert!(
            source.is_char_boundary(a.start) && source.is_char_boundary(a.end),
            "{what}: edit {a:?} splits a character"
        );
        for b in &edits[i + 1..] {
            prop_assert!(!overlap(a, b), "{what}: edits {a:?} and {b:?} overlap in:\n{source}");
        }
    }
    Ok(())
}

/// Line starts where a blank line or a comment can go without touching a finding: not inside a
/// finding's span, its related span, or at or inside one of its fixes' edits.
fn quiet_line_starts(source: &str, smells: &[Smell]) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(source.match_indices('\n').map(|(i, _)| i + 1).filter(|&i| i < source.len()));
    starts.retain(|&at| {
        smells.iter().all(|s| {
            let inside = |start: usize, end: usize| start < at && at < end;
            !inside(s.span.start_byte, s.span.end_byte)
                && s.related.as_ref().is_none_or(|r| !inside(r.span.start_byte, r.span.end_byte))
                && s.fixes.iter().flat_map(|f| &f.edits).all(|e| at < e.start || at > e.end)
        })
    });
    starts
}

/// The properties of one program that parses without errors.
fn check_program(source: &str, c: &mut Choices, preview: bool) -> Result<(), TestCaseError> {
    let settings = settings(preview);
    let tree = engine::parse(source);
    prop_assert!(!tree.root_node().has_error(), "the generator wrote a syntax error:\n{source}");
    let smells = engine::check_source(source, &settings);

    // The per-function cache agrees with a whole-file pass.
    if engine::might_smell(source) {
        let mut cache = UnitCache::default();
        prop_assert_eq!(&cache.analyze(source, &tree, &settings), &smells, "cache differs on:\n{}", source);
    }

    // A blank line or a comment elsewhere only moves the findings.
    let starts = quiet_line_starts(source, &smells);
    if !starts.is_empty() {
        let at = starts[c.below(starts.len())];
        let next_indent: String = source[at..].chars().take_while(|ch| *ch == ' ').collect();
        let inserted = match c.below(3) {
            0 => "\n".to_string(),
            1 => format!("{next_indent}# a comment: log(0) / 0\n"),
            _ => format!("{next_indent}# noqa-free note\n\n"),
        };
        let rows = inserted.matches('\n').count() as isize;
        let mut changed = source.to_string();
        changed.insert_str(at, &inserted);
        // tree-sitter-python reads a comment dedented below a decorator's level as the end of the
        // class body (Python ignores it); such an insertion says nothing about nanlint.
        if engine::parse(&changed).root_node().has_error() {
            return Ok(());
        }
        let mut moved = engine::check_source(&changed, &settings);
        for s in &mut moved {
            s.move_from(at + inserted.len(), -(inserted.len() as isize), -rows);
        }
        prop_assert_eq!(
            &moved,
            &smells,
            "findings changed when {:?} was added at byte {} of:\n{}",
            inserted,
            at,
            source
        );
    }

    // Each fix alone: a program that parses, without its finding (the fixes of up to three
    // findings per program: each costs a check).
    let mut sample: Vec<&Smell> = smells.iter().collect();
    while sample.len() > 3 {
        sample.remove(c.below(sample.len()));
    }
    for s in sample {
        for fix in &s.fixes {
            prop_assert!(fix.edits.is_sorted(), "{} fix {:?} has unsorted edits", s.code, fix.title);
            assert_disjoint(&fix.edits, &format!("{} fix {:?}", s.code, fix.title), source)?;
            let fixed = apply_edits(source, &fix.edits);
            let expected_len = fix
                .edits
                .iter()
                .fold(source.len() as isize, |n, e| n + e.content.len() as isize - (e.end - e.start) as isize);
            prop_assert_eq!(
                fixed.len() as isize,
                expected_len,
                "an edit of {} fix {:?} was skipped",
                s.code,
                &fix.title
            );
            prop_assert!(
                !engine::parse(&fixed).root_node().has_error(),
                "{} fix {:?} introduced a syntax error:\n{}\n--- fixed:\n{}",
                s.code,
                fix.title,
                source,
                fixed
            );
            let start = map_position(&fix.edits, s.span.start_byte);
            let after = engine::check_source(&fixed, &settings);
            let kept = after.iter().find(|a| a.code == s.code && a.span.start_byte == start);
            prop_assert!(
                kept.is_none(),
                "{} fix {:?} did not remove its finding ({}):\n{}\n--- fixed:\n{}",
                s.code,
                fix.title,
                s.message,
                source,
                fixed
            );
        }
    }

    // Fix-all: disjoint edits in a round, nothing left to do after it.
    for mode in [FixMode::Safe, FixMode::Unsafe] {
        let fixes: Vec<_> =
            smells.iter().filter_map(|s| s.fixes.first()).filter(|f| mode.allows(f.applicability)).collect();
        let (edits, _) = non_overlapping(&fixes);
        assert_disjoint(&edits, &format!("a {mode:?} fix-all round"), source)?;
        let once = fix_source(source, &settings, mode);
        prop_assert!(once.refused.is_none(), "{:?} fix-all refused: {:?} on:\n{}", mode, once.refused, source);
        if once.fixed == 0 {
            prop_assert_eq!(&once.source, source);
            continue;
        }
        let twice = fix_source(&once.source, &settings, mode);
        prop_assert_eq!(
            twice.fixed,
            0,
            "{:?} fix-all is not idempotent on:\n{}\n--- once:\n{}",
            mode,
            source,
            &once.source
        );
        prop_assert_eq!(&twice.source, &once.source);
    }
    Ok(())
}

fn notebook_json(cells: &[String]) -> String {
    let cells: Vec<serde_json::Value> = cells
        .iter()
        .map(|text| {
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            serde_json::json!({"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": lines})
        })
        .collect();
    serde_json::json!({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}).to_string()
}

/// Checks and fixes `bytes` as the file `name`; fixing the fixed output again changes nothing.
fn check_twice(name: &str, bytes: &[u8], preview: bool) -> Result<(), TestCaseError> {
    let path = Path::new(name);
    for mode in [FixMode::Safe, FixMode::Unsafe] {
        let options = Options { fix: mode, ..Options::default() };
        let report = check::check_bytes(path, bytes, &settings(preview), &options);
        if let Some(output) = &report.output {
            let again = check::check_bytes(path, output, &settings(preview), &options);
            prop_assert!(
                again.output.is_none(),
                "{:?} fix of {} is not idempotent:\n{}\n--- once:\n{}\n--- twice:\n{}",
                mode,
                name,
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(output),
                String::from_utf8_lossy(again.output.as_deref().unwrap_or_default())
            );
        }
    }
    Ok(())
}

/// The seeds of byte-level mutations: the rules' fixtures, the examples, the field cases, and the
/// `.py` files under `NANLINT_FUZZ_CORPUS` if it is set.
fn seeds() -> &'static Vec<(PathBuf, Vec<u8>)> {
    static SEEDS: OnceLock<Vec<(PathBuf, Vec<u8>)>> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut dirs: Vec<PathBuf> =
            ["queries/python", "examples", "tests/cases"].iter().map(|d| root.join(d)).collect();
        if let Ok(corpus) = std::env::var("NANLINT_FUZZ_CORPUS") {
            dirs.push(PathBuf::from(corpus));
        }
        let mut files = Vec::new();
        for dir in dirs {
            for entry in ignore::WalkBuilder::new(dir).standard_filters(false).build().flatten() {
                let path = entry.path();
                if path.extension().is_some_and(|e| e == "py")
                    && let Ok(bytes) = std::fs::read(path)
                {
                    files.push((path.to_path_buf(), bytes));
                }
            }
        }
        files.sort();
        assert!(files.len() >= 30, "the repository's Python files were not found: {}", files.len());
        files
    })
}

/// Fragments mutations insert: brackets and quotes that open what never closes, indentation,
/// line ends, the rules' words, non-ASCII text, IPython syntax and bytes that are not UTF-8.
const FRAGMENTS: &[&[u8]] = &[
    b"(",
    b")",
    b"[",
    b"]",
    b":",
    b"\n",
    b"\r\n",
    b"\r",
    b"    ",
    b"\t",
    b"\"",
    b"'''",
    b"#",
    b"\\",
    b"\0",
    b"log",
    b"softmax",
    b"sigmoid",
    b"/",
    b"**",
    b"exp",
    b"sqrt",
    b"where",
    b"import torch\n",
    b"import numpy as np\n",
    b"from tensorflow import math as tm\n",
    b"lambda v: ",
    b"@",
    b"%matplotlib inline\n",
    b"# noqa\n",
    b"# noqa: NL101",
    "é".as_bytes(),
    "概率".as_bytes(),
    "🔥".as_bytes(),
    b"\xff",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"# -*- coding: latin-1 -*-\n",
    b"1e-45",
    b".half()",
    b"def f(x):\n",
    b"class C:\n",
    b" + 1e-7",
    b"torch.log(",
    b"np.log(",
];

fn mutate(c: &mut Choices, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..1 + c.below(8) {
        let at = c.below(bytes.len() + 1);
        match c.below(6) {
            0 => {
                let end = (at + 1 + c.below(40)).min(bytes.len());
                bytes.drain(at.min(end)..end);
            }
            1 | 2 => {
                let f = FRAGMENTS[c.below(FRAGMENTS.len())];
                bytes.splice(at..at, f.iter().copied());
            }
            3 => {
                if at < bytes.len() {
                    bytes[at] = c.below(256) as u8;
                }
            }
            4 => {
                // Copies a range elsewhere (a line or a call appearing twice).
                let end = (at + c.below(200)).min(bytes.len());
                let piece = bytes[at..end].to_vec();
                let to = c.below(bytes.len() + 1);
                bytes.splice(to..to, piece);
            }
            _ => {
                let end = (at + c.below(400)).min(bytes.len());
                bytes.truncate(end.max(at));
            }
        }
    }
    bytes
}

fn choices() -> impl Strategy<Value = Vec<u32>> {
    prop::collection::vec(any::<u32>(), 0..600)
}

proptest! {
    #![proptest_config(config(programs_to_run()))]

    #[test]
    fn generated_programs(choices in choices(), preview in any::<bool>()) {
        let mut c = Choices::new(&choices);
        let program = programs::program(&mut c, 3);
        check_program(&program.source, &mut c, preview)?;
    }
}

proptest! {
    #![proptest_config(config(programs_to_run() / 4))]

    #[test]
    fn generated_notebooks(choices in choices(), preview in any::<bool>()) {
        let mut c = Choices::new(&choices);
        let program = programs::program(&mut c, 3);
        let cells = programs::cells(&mut c, &program.source);
        check_twice("fuzz.ipynb", notebook_json(&cells).as_bytes(), preview)?;
    }

    #[test]
    fn mutated_files(seed in any::<prop::sample::Index>(), choices in choices(), preview in any::<bool>()) {
        let seeds = seeds();
        let (path, bytes) = &seeds[seed.index(seeds.len())];
        let mut c = Choices::new(&choices);
        let mutated = mutate(&mut c, bytes.clone());
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        check_twice(&name, &mutated, preview)?;
        // Valid UTF-8 through the engine directly too (no decoding, no syntax-error pass).
        if let Ok(text) = std::str::from_utf8(&mutated) {
            let smells = engine::check_source(text, &settings(preview));
            for s in &smells {
                prop_assert!(s.span.start_byte <= s.span.end_byte && s.span.end_byte <= text.len());
                for f in &s.fixes {
                    assert_disjoint(&f.edits, &format!("{} fix {:?}", s.code, f.title), text)?;
                }
            }
        }
    }
}

/// The generator must reach every rule: over a fixed set of choice sequences, each rule of the
/// catalog is reported at least once (a generator that lost its triggers would make the
/// properties above vacuous).
#[test]
fn generated_programs_reach_every_rule() {
    let mut seen = std::collections::BTreeSet::new();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..400 {
        let choices: Vec<u32> = (0..600)
            .map(|_| {
                // splitmix64: a fixed, portable sequence.
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                (z ^ (z >> 31)) as u32
            })
            .collect();
        let program = programs::program(&mut Choices::new(&choices), 3);
        assert!(!engine::parse(&program.source).root_node().has_error(), "{}", program.source);
        seen.extend(engine::check_source(&program.source, &settings(true)).into_iter().map(|s| s.code.to_string()));
    }
    let all: Vec<String> = nanlint::rules::ALL.iter().map(|r| r.code.to_string()).collect();
    let missing: Vec<&String> = all.iter().filter(|c| !seen.contains(*c)).collect();
    assert!(missing.is_empty(), "no generated program had {missing:?}");
}
