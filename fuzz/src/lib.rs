//! What the fuzz targets share: the path of `nanlint check` from bytes to every output format,
//! and the invariants of fixing (those `tests/fuzz.rs` checks on generated programs, here on
//! whatever bytes libFuzzer's coverage guidance reaches).
//!
//! Preview rules run when the input's length is odd, so both rule sets are fuzzed without a
//! byte of the input spent on the choice. The SARIF log is written for one input in 16 (by a
//! hash of its bytes, so a failure reproduces): its rule catalog, the same for every input, took
//! a fifth of each execution.

use std::path::Path;

use nanlint::check::{self, FileReport, Options};
use nanlint::engine::{self, fix::FixMode, fix::non_overlapping};
use nanlint::render::{self, Counts, Locator, Styles};
use nanlint::settings::Settings;
use nanlint::smell::Edit;

fn settings(data: &[u8]) -> Settings {
    Settings { preview: data.len() % 2 == 1, ..Settings::default() }
}

fn one_in_16(data: &[u8]) -> bool {
    data.iter().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(*b))) % 16 == 0
}

/// Renders `reports` in every format `nanlint check` has (SARIF when `sarif`).
fn render_all(reports: &[FileReport], sarif: bool) {
    let cwd = Path::new(".");
    let mut out = String::new();
    for (r, loc) in render::each(reports) {
        for s in &r.smells {
            render::full(&mut out, &r.path, &loc, s);
            render::concise_styled(&mut out, &r.path, &loc, s, &Styles::colored());
        }
    }
    for r in reports {
        // Every byte a smell or fix points to must be locatable (and a notebook's cell found).
        let loc = Locator::of(r);
        for s in &r.smells {
            let _ = loc.label(s.span.start_byte);
            let _ = loc.line_label(s.span.end_byte);
        }
    }
    out.push_str(&render::json_report(reports, &[]));
    if sarif {
        out.push_str(&render::sarif::report(reports, cwd));
    }
    out.push_str(&render::ci::github(reports));
    out.push_str(&render::ci::gitlab(reports, cwd));
    out.push_str(&render::ci::junit(reports));
    out.push_str(&render::statistics(reports, &[], true, false));
    out.push_str(&render::statistics(reports, &[], false, true));
    out.push_str(&render::summary(&Counts::of(reports, &[]), false, true));
    std::hint::black_box(out);
}

/// What `--fix` adds to the output: the diff, the fixed list and the summary.
fn render_fixed(reports: &[FileReport]) {
    let mut out = render::diff(reports, &Styles::colored());
    out.push_str(&render::fixed_list(reports));
    out.push_str(&render::summary(&Counts::of(reports, &[]), true, true));
    std::hint::black_box(out);
}

/// `nanlint check` of `data` as the file `name` (a `.ipynb` name reads it as a notebook).
pub fn check_and_render(name: &str, data: &[u8]) {
    let report = check::check_bytes(Path::new(name), data, &settings(data), &Options::default());
    for s in &report.smells {
        assert!(
            s.span.start_byte <= s.span.end_byte && s.span.end_byte <= report.source.len(),
            "{} span {:?} out of the source ({} bytes)",
            s.code,
            s.span,
            report.source.len()
        );
    }
    render_all(&[report], one_in_16(data));
}

fn overlap(a: &Edit, b: &Edit) -> bool {
    a.start < b.end && b.start < a.end || (a.start == b.start && a.end == b.end && a.content != b.content)
}

fn assert_disjoint(edits: &[Edit], what: &str, source: &str) {
    for (i, a) in edits.iter().enumerate() {
        assert!(a.start <= a.end && a.end <= source.len(), "{what}: edit {a:?} out of range");
        assert!(
            source.is_char_boundary(a.start) && source.is_char_boundary(a.end),
            "{what}: edit {a:?} splits a character"
        );
        for b in &edits[i + 1..] {
            assert!(!overlap(a, b), "{what}: edits {a:?} and {b:?} overlap");
        }
    }
}

/// `nanlint check --fix` (and `--unsafe-fixes`) of `data` as the file `name`: a fix adds no
/// syntax error, and fixing the output again changes nothing. For UTF-8 Python, through the
/// engine too: each fix's edits are sorted, disjoint and in range, and so are a fix-all round's.
pub fn fix_invariants(name: &str, data: &[u8]) {
    let path = Path::new(name);
    let settings = settings(data);
    for mode in [FixMode::Safe, FixMode::Unsafe] {
        let options = Options { fix: mode, ..Options::default() };
        let report = check::check_bytes(path, data, &settings, &options);
        if let (Some(output), Some(original)) = (&report.output, &report.original) {
            let had_errors = engine::parse(original).root_node().has_error();
            assert!(
                had_errors || !engine::parse(&report.source).root_node().has_error(),
                "{mode:?} fix introduced a syntax error:\n{original}\n--- fixed:\n{}",
                report.source
            );
            let again = check::check_bytes(path, output, &settings, &options);
            assert!(
                again.output.is_none(),
                "{mode:?} fix is not idempotent:\n{original}\n--- once:\n{}\n--- twice:\n{}",
                report.source,
                again.source
            );
        }
        render_fixed(&[report]);
    }

    if check::is_notebook(path) {
        return;
    }
    let Ok(text) = std::str::from_utf8(data) else { return };
    let smells = engine::check_source(text, &settings);
    for s in &smells {
        assert!(s.span.start_byte <= s.span.end_byte && s.span.end_byte <= text.len(), "{} span out of range", s.code);
        for f in &s.fixes {
            assert!(f.edits.is_sorted(), "{} fix {:?} has unsorted edits", s.code, f.title);
            assert_disjoint(&f.edits, &format!("{} fix {:?}", s.code, f.title), text);
        }
    }
    for mode in [FixMode::Safe, FixMode::Unsafe] {
        let fixes: Vec<_> =
            smells.iter().filter_map(|s| s.fixes.first()).filter(|f| mode.allows(f.applicability)).collect();
        let (edits, _) = non_overlapping(&fixes);
        assert_disjoint(&edits, &format!("a {mode:?} fix-all round"), text);
    }
}
