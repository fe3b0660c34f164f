//! The field cases in `tests/cases/`: small programs reduced from public bug reports, each line
//! ending in `# expect: flag FAMILY` or `# expect: clean FAMILY` (see `tests/cases/README.md`).
//!
//! The marks hold with the default settings and in preview mode.
//! Every `clean` mark must be clean, whatever its family: a false alarm is never acceptable.
//! `flag` marks must be found for the families the catalog covers ([`COVERED`]); the marks of
//! families still to come are listed, not failed, so the test names what is left.

use std::path::Path;

use nanlint::engine::check_source;
use nanlint::settings::Settings;

/// Families of the catalog that have rules: `log` (NL1xx logarithms), `ce` (cross-entropy and
/// entropy written out: NL104, NL106), `api` (NL3xx loss contracts and dtypes), `range` (NL2xx
/// divisions, roots, exp overflow, where gradients).
const COVERED: &[&str] = &["log", "ce", "api", "range"];

struct Mark {
    file: String,
    row: usize,
    flag: bool,
    family: String,
    line: String,
}

fn marks_and_findings(settings: &Settings) -> Vec<(Mark, bool)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/cases exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    files.sort();
    assert!(files.len() >= 14, "tests/cases holds {} programs; the field cases were not copied", files.len());
    let mut out = Vec::new();
    for path in files {
        let src = std::fs::read_to_string(&path).unwrap();
        let rows: Vec<usize> = check_source(&src, settings).iter().map(|s| s.span.start.row + 1).collect();
        for (i, line) in src.lines().enumerate() {
            let Some(at) = line.find("# expect: ") else { continue };
            let mut words = line[at + "# expect: ".len()..].split_whitespace();
            let flag = match words.next() {
                Some("flag") => true,
                Some("clean") => false,
                other => panic!("{}:{}: unknown mark {other:?}", path.display(), i + 1),
            };
            let family = words.next().unwrap_or("").to_string();
            let mark = Mark {
                file: path.file_name().unwrap().to_string_lossy().into_owned(),
                row: i + 1,
                flag,
                family,
                line: line.trim().to_string(),
            };
            let found = rows.contains(&(i + 1));
            out.push((mark, found));
        }
    }
    out
}

/// With the default rules, as a user who installed nanlint gets them: every mark holds.
#[test]
fn clean_marks_are_clean_and_covered_families_are_found() {
    marks_hold(&Settings::default());
}

/// In preview mode (more rules and forms): no flag is lost and no false alarm appears.
#[test]
fn the_marks_hold_in_preview_mode_too() {
    marks_hold(&Settings { preview: true, ..Settings::default() });
}

fn marks_hold(settings: &Settings) {
    let marks = marks_and_findings(settings);
    let mut wrong = Vec::new();
    let mut pending = Vec::new();
    for (m, found) in &marks {
        let covered = COVERED.contains(&m.family.as_str());
        match (m.flag, found) {
            (false, true) => wrong.push(format!("false alarm {}:{}: {}", m.file, m.row, m.line)),
            (true, false) if covered => wrong.push(format!("missed {}:{}: {}", m.file, m.row, m.line)),
            (true, false) => pending.push(format!("{}:{} [{}]", m.file, m.row, m.family)),
            _ => {}
        }
    }
    if !pending.is_empty() {
        eprintln!("flag marks of families without rules yet: {}", pending.join(", "));
    }
    assert!(wrong.is_empty(), "field cases:\n{}", wrong.join("\n"));
    // The covered families have marks to hold, of both kinds.
    for family in COVERED {
        assert!(marks.iter().any(|(m, _)| m.family == *family && m.flag), "no flag mark of family {family}");
        assert!(marks.iter().any(|(m, _)| m.family == *family && !m.flag), "no clean mark of family {family}");
    }
}

#[test]
fn the_cases_are_the_shared_ones_when_they_are_at_hand() {
    // Where the shared case folder exists (the developers' machines), the copy must not be stale;
    // elsewhere (CI, a user's clone) the copy is all there is.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("shared").join("cases");
    let Ok(entries) = std::fs::read_dir(&shared) else { return };
    let ours = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("cases");
    for e in entries {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "py") {
            let name = path.file_name().unwrap();
            let copy = std::fs::read_to_string(ours.join(name))
                .unwrap_or_else(|_| panic!("{} is not copied into tests/cases", name.to_string_lossy()));
            assert_eq!(
                copy,
                std::fs::read_to_string(&path).unwrap(),
                "tests/cases/{} differs from the shared case",
                name.to_string_lossy()
            );
        }
    }
}
