//! CI formats with the fields ruff writes: `github` (workflow commands that annotate the lines of
//! a pull request), `gitlab` (a Code Quality report) and `junit` (one test suite per file, one
//! failed test case per finding).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::{Value, json};

use super::each;
use crate::check::FileReport;

/// A workflow command property value: `%`, CR, LF, `:` and `,` escaped (GitHub's toolkit).
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A workflow command message: `%`, CR and LF escaped.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// `::error title=nanlint (NL101),file=a.py,line=3,col=5,endLine=3,endColumn=17::a.py:3:5: NL101 message`
pub fn github(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for (r, loc) in each(reports) {
        let path = r.path.display().to_string();
        for s in &r.smells {
            let (row, col) = loc.location(s.span.start_byte);
            let (end_row, end_col) = loc.location(s.span.end_byte);
            out.push_str(&format!(
                "::error title={},file={},line={row},col={col},endLine={end_row},endColumn={end_col}::{}\n",
                escape_property(&format!("nanlint ({})", s.code)),
                escape_property(&path),
                escape_data(&format!("{path}:{}: {} {}", loc.label(s.span.start_byte), s.code, s.message)),
            ));
        }
    }
    out
}

/// A path relative to `base` when under it (GitLab wants paths relative to the project).
fn relative_to(path: &Path, base: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    abs.strip_prefix(base).map(Path::to_path_buf).unwrap_or(abs).display().to_string()
}

/// FNV-1a, 64 bits: a fingerprint that stays the same across runs, versions and platforms.
fn fnv1a(parts: &[&str], salt: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for part in parts {
        for b in part.bytes().chain([0xff]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// A GitLab Code Quality report. Paths are relative to `CI_PROJECT_DIR` when it is set, else to
/// the current folder. Fingerprints hash the code, the message and the path (not the line, so
/// moving code does not make a finding new), made unique within the report.
pub fn gitlab(reports: &[FileReport], cwd: &Path) -> String {
    let base = std::env::var_os("CI_PROJECT_DIR").map(PathBuf::from).unwrap_or_else(|| cwd.to_path_buf());
    let mut seen = HashSet::new();
    let mut entries: Vec<Value> = Vec::new();
    for (r, loc) in each(reports) {
        let path = relative_to(&r.path, &base);
        for s in &r.smells {
            let (row, col) = loc.location(s.span.start_byte);
            let (end_row, end_col) = loc.location(s.span.end_byte);
            let mut fingerprint = fnv1a(&[s.code, &s.message, &path], 0);
            while !seen.insert(fingerprint) {
                fingerprint = fnv1a(&[s.code, &s.message, &path], fingerprint);
            }
            let cell = loc.cell(s.span.start_byte).map(|c| format!(" (cell {c})")).unwrap_or_default();
            entries.push(json!({
                "check_name": s.code,
                "description": format!("{}: {}{cell}", s.code, s.message),
                "severity": "major",
                "fingerprint": format!("{fingerprint:016x}"),
                "location": {
                    "path": path,
                    "positions": {
                        "begin": {"line": row, "column": col},
                        "end": {"line": end_row, "column": end_col},
                    },
                },
            }));
        }
    }
    serde_json::to_string_pretty(&entries).unwrap_or_default() + "\n"
}

/// JUnit XML as ruff writes it: a suite per file, a failed `org.nanlint.CODE` case per finding
/// with `line` and `column` attributes; one passing case when nothing was found.
pub fn junit(reports: &[FileReport]) -> String {
    let mut report = Report::new("nanlint");
    let mut any = false;
    for (r, loc) in each(reports) {
        any = true;
        let path = r.path.display().to_string();
        let mut suite = TestSuite::new(path.as_str());
        suite.extra.insert("package".into(), "org.nanlint".into());
        let classname = r.path.with_extension("").display().to_string();
        for s in &r.smells {
            let (row, col) = loc.location(s.span.start_byte);
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(s.message.as_str());
            let cell = loc.cell(s.span.start_byte).map(|c| format!("cell {c}, ")).unwrap_or_default();
            status.set_description(format!("{cell}line {row}, col {col}, {}", s.message));
            let mut case = TestCase::new(format!("org.nanlint.{}", s.code), status);
            case.set_classname(classname.as_str());
            case.extra.insert("line".into(), row.to_string().into());
            case.extra.insert("column".into(), col.to_string().into());
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    if !any {
        let mut suite = TestSuite::new("nanlint");
        suite.extra.insert("package".into(), "org.nanlint".into());
        let mut case = TestCase::new("No errors found", TestCaseStatus::success());
        case.set_classname("nanlint");
        suite.add_test_case(case);
        report.add_test_suite(suite);
    }
    report.to_string().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_commands_are_escaped() {
        assert_eq!(escape_property("a,b:c%\n"), "a%2Cb%3Ac%25%0A");
        assert_eq!(escape_data("50% of a:b,\r\n"), "50%25 of a:b,%0D%0A");
    }

    #[test]
    fn fingerprints_are_stable() {
        // FNV-1a's published test vector for "a" (before our separator byte) is af63dc4c8601ec8c.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        h ^= u64::from(b'a');
        h = h.wrapping_mul(0x0100_0000_01b3);
        assert_eq!(h, 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(&["NL101", "m", "a.py"], 0), fnv1a(&["NL101", "m", "a.py"], 0));
        assert_ne!(fnv1a(&["NL101", "m", "a.py"], 0), fnv1a(&["NL101", "m", "b.py"], 0));
    }
}
