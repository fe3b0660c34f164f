//! Output formats of `nanlint check`: `full` (source line and caret, like ruff), `concise`
//! (`path:row:col: CODE message`) and `json` (ruff's JSON schema).

use std::fmt::Write;
use std::path::Path;

use serde_json::{Value, json};
use unicode_width::UnicodeWidthStr;

use crate::check::FileReport;
use crate::rules;
use crate::smell::{Applicability, Fix, Smell};
use crate::text::{Encoding, LineIndex};

/// Turns byte offsets of one file into one-based rows and one-based *character* columns, as
/// ruff reports them. Built once per file, so each lookup costs a binary search and one line.
pub struct Locator<'s> {
    source: &'s str,
    index: LineIndex,
}

impl<'s> Locator<'s> {
    pub fn new(source: &'s str) -> Self {
        Locator { source, index: LineIndex::new(source) }
    }

    pub fn location(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.source.len());
        let line = self.index.position(self.source, byte, Encoding::Utf8).line as usize;
        let start = self.index.line_start(line).unwrap_or(0).min(byte);
        (line + 1, self.source.get(start..byte).map_or(0, |s| s.chars().count()) + 1)
    }
}

fn line_of(source: &str, byte: usize) -> (usize, &str) {
    let byte = byte.min(source.len());
    let start = source[..byte].rfind('\n').map_or(0, |i| i + 1);
    let end = source[start..].find('\n').map_or(source.len(), |i| start + i);
    (start, source[start..end].trim_end_matches('\r'))
}

pub fn concise(out: &mut String, path: &Path, loc: &Locator, smell: &Smell) {
    let (row, col) = loc.location(smell.span.start_byte);
    let _ = writeln!(out, "{}:{row}:{col}: {} {}", path.display(), smell.code, smell.message);
}

pub fn full(out: &mut String, path: &Path, loc: &Locator, smell: &Smell) {
    let source = loc.source;
    let (row, col) = loc.location(smell.span.start_byte);
    let (line_start, line) = line_of(source, smell.span.start_byte);
    let _ = writeln!(out, "{}:{row}:{col}: {} {}", path.display(), smell.code, smell.message);
    let gutter = row.to_string().len();
    let pad = " ".repeat(gutter);
    // Carets count display columns: a CJK character or an emoji takes two.
    let caret_start = source[line_start..smell.span.start_byte].width();
    let caret_end_byte = smell.span.end_byte.min(line_start + line.len());
    let width = source.get(smell.span.start_byte..caret_end_byte).map_or(1, |s| s.width()).max(1);
    let _ = writeln!(out, "{pad} |");
    let _ = writeln!(out, "{row} | {line}");
    let _ = writeln!(out, "{pad} | {}{} {}", " ".repeat(caret_start), "^".repeat(width), smell.code);
    let _ = writeln!(out, "{pad} |");
    if let Some(related) = &smell.related {
        let (r, _) = loc.location(related.span.start_byte);
        let _ = writeln!(out, "{pad} = note: line {r}: {}", related.message);
    }
    for fix in &smell.fixes {
        let note = if fix.applicability == Applicability::Unsafe { " (unsafe)" } else { "" };
        let _ = writeln!(out, "{pad} = help: {}{note}", fix.title);
    }
    out.push('\n');
}

fn fix_json(loc: &Locator, fix: &Fix) -> Value {
    let edits: Vec<Value> = fix
        .edits
        .iter()
        .map(|e| {
            let (r0, c0) = loc.location(e.start);
            let (r1, c1) = loc.location(e.end);
            json!({
                "content": e.content,
                "location": { "row": r0, "column": c0 },
                "end_location": { "row": r1, "column": c1 },
            })
        })
        .collect();
    json!({ "applicability": fix.applicability, "message": fix.title, "edits": edits })
}

/// One entry of ruff's JSON output, plus `fixes`: every alternative, the preferred first.
pub fn json_entry(path: &Path, loc: &Locator, smell: &Smell) -> Value {
    let (row, col) = loc.location(smell.span.start_byte);
    let (end_row, end_col) = loc.location(smell.span.end_byte);
    let filename = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    json!({
        "cell": null,
        "code": smell.code,
        "message": smell.message,
        "filename": filename.display().to_string(),
        "location": { "row": row, "column": col },
        "end_location": { "row": end_row, "column": end_col },
        "noqa_row": row,
        "fix": smell.fixes.first().map(|f| fix_json(loc, f)),
        "fixes": smell.fixes.iter().map(|f| fix_json(loc, f)).collect::<Vec<_>>(),
        "url": rules::by_code(&smell.code).map(|r| r.url()),
    })
}

pub fn json_report(reports: &[FileReport]) -> String {
    let entries: Vec<Value> = reports
        .iter()
        .filter(|r| !r.smells.is_empty())
        .flat_map(|r| {
            let loc = Locator::new(&r.source);
            r.smells.iter().map(|s| json_entry(&r.path, &loc, s)).collect::<Vec<_>>()
        })
        .collect();
    serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".into()) + "\n"
}
