//! Output formats of `nanlint check`: `full` (source line and caret, like ruff), `concise`
//! (`path:row:col: CODE message`), `json` (ruff's JSON schema), and for CI `sarif`, `github`,
//! `gitlab` and `junit` (in [`sarif`] and [`ci`]); plus the summary, `--statistics` and `--diff`.

pub mod ci;
pub mod sarif;

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use anstyle::{AnsiColor, Style};
use serde_json::{Value, json};
use unicode_width::UnicodeWidthStr;

use crate::check::notebook::CellMap;
use crate::check::{self, FileReport, FixChoice};
use crate::rules;
use crate::smell::{Applicability, Fix, Smell};
use crate::text::{Encoding, LineIndex};

/// Turns byte offsets of one file into one-based rows and one-based *character* columns, as
/// ruff reports them. Built once per file, so each lookup costs a binary search and one line.
/// In a notebook, rows count from the start of the cell (ruff's `cell 3:2:17`).
pub struct Locator<'s> {
    source: &'s str,
    index: LineIndex,
    cells: Option<CellMap>,
    /// The last column found: (line start, byte, characters from the line start to it), so
    /// that the findings of one long line, asked in order, count its characters once.
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl<'s> Locator<'s> {
    pub fn new(source: &'s str) -> Self {
        Locator { source, index: LineIndex::new(source), cells: None, last: std::cell::Cell::new((0, 0, 0)) }
    }

    /// The locator of a report's source: a notebook's positions are in its cells.
    pub fn of(report: &'s FileReport) -> Self {
        let cells = report.cells.as_ref().map(|numbers| CellMap::of(&report.source, numbers));
        Locator { cells, ..Locator::new(&report.source) }
    }

    fn program_location(&self, byte: usize) -> (usize, usize) {
        let byte = byte.min(self.source.len());
        let line = self.index.position(self.source, byte, Encoding::Utf8).line as usize;
        let start = self.index.line_start(line).unwrap_or(0).min(byte);
        let (last_start, last_byte, last_chars) = self.last.get();
        let (from, base) = if last_start == start && last_byte <= byte { (last_byte, last_chars) } else { (start, 0) };
        let chars = base + self.source.get(from..byte).map_or(0, |s| s.chars().count());
        self.last.set((start, byte, chars));
        (line, chars + 1)
    }

    /// One-based row (in the cell, for a notebook) and column.
    pub fn location(&self, byte: usize) -> (usize, usize) {
        let (line, column) = self.program_location(byte);
        match self.cells.as_ref().and_then(|c| c.cell_row(line)) {
            Some((_, row)) => (row + 1, column),
            None => (line + 1, column),
        }
    }

    /// The notebook cell (1-based, ruff's numbering) holding `byte`; `None` outside notebooks.
    pub fn cell(&self, byte: usize) -> Option<usize> {
        let (line, _) = self.program_location(byte);
        self.cells.as_ref()?.cell_row(line).map(|(cell, _)| cell)
    }

    /// `row`, or `cell N:row` in a notebook, of the 0-based row `line` of the source: where a
    /// warning about a whole line points (`path:3`, ruff's "Invalid `# noqa` directive on").
    pub fn row_label(&self, line: usize) -> String {
        match self.cells.as_ref().and_then(|c| c.cell_row(line)) {
            Some((cell, row)) => format!("cell {cell}:{}", row + 1),
            None => format!("{}", line + 1),
        }
    }

    /// `row:col`, or `cell N:row:col` in a notebook (ruff's layout).
    pub fn label(&self, byte: usize) -> String {
        let (row, col) = self.location(byte);
        match self.cell(byte) {
            Some(cell) => format!("cell {cell}:{row}:{col}"),
            None => format!("{row}:{col}"),
        }
    }

    /// `line R`, or `cell N, line R` in a notebook: where a note points.
    pub fn line_label(&self, byte: usize) -> String {
        let (row, _) = self.location(byte);
        match self.cell(byte) {
            Some(cell) => format!("cell {cell}, line {row}"),
            None => format!("line {row}"),
        }
    }
}

/// Every smell of every report with its file's locator, in output order.
pub fn each<'r>(reports: &'r [FileReport]) -> impl Iterator<Item = (&'r FileReport, Locator<'r>)> {
    reports.iter().filter(|r| !r.smells.is_empty()).map(|r| (r, Locator::of(r)))
}

/// A rule's or built-in code's name, summary and documentation.
pub struct RuleInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: String,
    /// `" (preview)"`, `" (some forms in preview)"` or `""` (built-ins always run).
    pub status: &'static str,
    pub doc: &'static str,
    /// The documentation page, as a path in the repository.
    pub page: String,
    pub url: Option<String>,
    /// Whether it offers fixes (never for the built-ins).
    pub fix: rules::FixAvailability,
    /// Runs only in preview mode (or selected by its code).
    pub preview: bool,
    /// Some of its forms run only in preview mode.
    pub preview_forms: bool,
}

/// Every code nanlint can report: the built-ins, then the rules.
pub fn all_rules() -> Vec<RuleInfo> {
    let builtins = check::BUILTINS.iter().map(|b| RuleInfo {
        code: b.code,
        name: b.name,
        summary: b.summary.to_string(),
        status: "",
        doc: b.doc,
        page: b.page.to_string(),
        url: b.url(),
        fix: rules::FixAvailability::None,
        preview: false,
        preview_forms: false,
    });
    let rules = rules::RULES.iter().map(|r| RuleInfo {
        code: r.code,
        name: r.name,
        summary: r.summary(),
        status: r.status(),
        doc: r.doc,
        page: r.page(),
        url: r.url(),
        fix: r.fix,
        preview: r.preview,
        preview_forms: !r.preview && r.has_preview_forms(),
    });
    builtins.chain(rules).collect()
}

impl RuleInfo {
    /// `nanlint rule --output-format json`: ruff's fields for `ruff rule --output-format json`
    /// that nanlint has (`code`, `name`, `summary`, `explanation`, `fix`, `fix_availability`,
    /// `preview`), plus `preview_forms` (some forms run only in preview mode) and `url`.
    pub fn to_json(&self) -> Value {
        let (fix, availability) = match self.fix {
            rules::FixAvailability::Always => ("Fix is always available.", "Always"),
            rules::FixAvailability::Sometimes => ("Fix is sometimes available.", "Sometimes"),
            rules::FixAvailability::None => ("Fix is not available.", "None"),
        };
        json!({
            "code": self.code,
            "name": self.name,
            "summary": self.summary,
            "explanation": self.doc,
            "fix": fix,
            "fix_availability": availability,
            "preview": self.preview,
            "preview_forms": self.preview_forms,
            "url": self.url,
        })
    }
}

/// Lines longer than this many bytes are shown only around the finding.
const SHOWN_LINE: usize = 240;

/// The part of the line holding `start` to show under a finding, with the byte it starts at:
/// the whole line, or for a long line (generated code, minified data) [`SHOWN_LINE`] bytes
/// from a little before the finding, so each finding prints a bounded excerpt.
fn shown_line<'s>(loc: &Locator<'s>, start: usize, end: usize) -> (usize, &'s str) {
    let source = loc.source;
    let boundary =
        |i: usize| (i.min(source.len())..=source.len()).find(|&b| source.is_char_boundary(b)).unwrap_or(source.len());
    let start = start.min(source.len());
    let line = loc.index.position(source, start, Encoding::Utf8).line as usize;
    let line_start = loc.index.line_start(line).unwrap_or(0).min(start);
    // Only up to SHOWN_LINE bytes after the finding are searched for the line's end.
    let cut = boundary(start + SHOWN_LINE);
    let (line_end, cut_short) = match source[start..cut].find(['\n', '\r']) {
        Some(i) => (start + i, false),
        None => (cut, cut < source.len()),
    };
    if !cut_short && line_end - line_start <= SHOWN_LINE {
        return (line_start, source[line_start..line_end].trim_end_matches('\r'));
    }
    let from = boundary(start.saturating_sub(40).max(line_start)).min(start);
    let to = boundary((end.max(start) + 40).min(line_end));
    (from, source[from..to].trim_end_matches('\r'))
}

/// Colours of the text formats; [`Styles::plain`] writes none. The command line always writes
/// colours and lets `anstream` strip them unless the terminal, `--color` and `NO_COLOR` allow.
#[derive(Clone, Copy, Default)]
pub struct Styles {
    pub path: Style,
    pub code: Style,
    pub caret: Style,
    pub gutter: Style,
    pub help: Style,
    pub insert: Style,
    pub delete: Style,
}

impl Styles {
    pub fn plain() -> Self {
        Styles::default()
    }

    pub fn colored() -> Self {
        Styles {
            path: Style::new().bold(),
            code: Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
            caret: Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
            gutter: Style::new().bold().fg_color(Some(AnsiColor::Blue.into())),
            help: Style::new().bold().fg_color(Some(AnsiColor::Cyan.into())),
            insert: Style::new().fg_color(Some(AnsiColor::Green.into())),
            delete: Style::new().fg_color(Some(AnsiColor::Red.into())),
        }
    }
}

/// Source text as the text formats show it, as ruff shows it: a tab as four spaces (a terminal's
/// tab stops would not match the carets), other control characters as their Unicode symbols
/// (`\x1b` as `␛`, DEL as `␡`, C1 controls as `�`), so that an escape sequence or a bell in a
/// checked file never reaches the terminal and every character shown has the width counted.
fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\t' => out.push_str("    "),
            '\0'..='\x1f' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}')),
            '\x7f' => out.push('\u{2421}'),
            c if c.is_control() => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out.into()
}

fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

pub fn concise(out: &mut String, path: &Path, loc: &Locator, smell: &Smell) {
    concise_styled(out, path, loc, smell, &Styles::plain());
}

pub fn concise_styled(out: &mut String, path: &Path, loc: &Locator, smell: &Smell, st: &Styles) {
    let _ = writeln!(
        out,
        "{}:{}: {} {}",
        paint(st.path, &path.display().to_string()),
        loc.label(smell.span.start_byte),
        paint(st.code, smell.code),
        printable(&smell.message)
    );
}

pub fn full(out: &mut String, path: &Path, loc: &Locator, smell: &Smell) {
    full_styled(out, path, loc, smell, &Styles::plain());
}

pub fn full_styled(out: &mut String, path: &Path, loc: &Locator, smell: &Smell, st: &Styles) {
    concise_styled(out, path, loc, smell, st);
    let source = loc.source;
    if source.is_empty() {
        out.push('\n');
        return;
    }
    let (row, _) = loc.location(smell.span.start_byte);
    let (line_start, line) = shown_line(loc, smell.span.start_byte, smell.span.end_byte);
    let gutter = row.to_string().len();
    let pad = " ".repeat(gutter);
    let bar = |prefix: &str| paint(st.gutter, &format!("{prefix} |"));
    // Carets count display columns of the line as shown: a CJK character or an emoji takes two,
    // a tab four (see `printable`).
    let caret_start = line.get(..smell.span.start_byte - line_start).map_or(0, |s| printable(s).width());
    let caret_end_byte = smell.span.end_byte.min(line_start + line.len());
    let width = source.get(smell.span.start_byte..caret_end_byte).map_or(1, |s| printable(s).width()).max(1);
    let _ = writeln!(out, "{}", bar(&pad));
    let _ = writeln!(out, "{} {}", bar(&row.to_string()), printable(line));
    let carets = format!("{} {}", "^".repeat(width), smell.code);
    let _ = writeln!(out, "{} {}{}", bar(&pad), " ".repeat(caret_start), paint(st.caret, &carets));
    let _ = writeln!(out, "{}", bar(&pad));
    if let Some(related) = &smell.related {
        let at = loc.line_label(related.span.start_byte);
        let _ = writeln!(out, "{pad} {} {at}: {}", paint(st.gutter, "= note:"), printable(&related.message));
    }
    for fix in &smell.fixes {
        let note = if fix.applicability == Applicability::Unsafe { " (unsafe)" } else { "" };
        let _ = writeln!(out, "{pad} {} {}{note}", paint(st.help, "= help:"), printable(&fix.title));
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

/// The path as JSON consumers want it: absolute (ruff does the same).
pub fn absolute_display(path: &Path) -> String {
    if path == Path::new("-") {
        return "-".to_string();
    }
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()).display().to_string()
}

/// One entry of ruff's JSON output, plus `fixes`: every alternative, the preferred first.
/// `fix` is the one `--fix` would apply (the `--fix-choice` one, if any matches).
pub fn json_entry(path: &Path, loc: &Locator, smell: &Smell, choices: &[FixChoice]) -> Value {
    let (row, col) = loc.location(smell.span.start_byte);
    let (end_row, end_col) = loc.location(smell.span.end_byte);
    json!({
        "cell": loc.cell(smell.span.start_byte),
        "code": smell.code,
        "message": smell.message,
        "filename": absolute_display(path),
        "location": { "row": row, "column": col },
        "end_location": { "row": end_row, "column": end_col },
        "noqa_row": row,
        "fix": check::chosen_fix(smell, choices).map(|f| fix_json(loc, f)),
        "fixes": smell.fixes.iter().map(|f| fix_json(loc, f)).collect::<Vec<_>>(),
        "url": check::docs_url_of(smell.code),
    })
}

pub fn json_report(reports: &[FileReport], choices: &[FixChoice]) -> String {
    let entries: Vec<Value> = each(reports)
        .flat_map(|(r, loc)| r.smells.iter().map(|s| json_entry(&r.path, &loc, s, choices)).collect::<Vec<_>>())
        .collect();
    serde_json::to_string_pretty(&entries).unwrap_or_else(|_| "[]".into()) + "\n"
}

/// Counts for the summary line and the statistics.
#[derive(Default)]
pub struct Counts {
    pub smells: usize,
    pub syntax_errors: usize,
    pub unreadable: usize,
    /// NL002: files not checked for their size.
    pub too_large: usize,
    /// NL003: code not checked for its depth.
    pub too_deep: usize,
    pub fixed: usize,
    /// Remaining smells whose chosen fix is safe / unsafe.
    pub safe_fixable: usize,
    pub unsafe_fixable: usize,
}

impl Counts {
    pub fn of(reports: &[FileReport], choices: &[FixChoice]) -> Counts {
        let mut c = Counts::default();
        for r in reports {
            c.fixed += r.fixed_count();
            for s in &r.smells {
                match s.code {
                    code if code == check::SYNTAX_ERROR.code => c.syntax_errors += 1,
                    code if code == check::UNREADABLE_FILE.code => c.unreadable += 1,
                    code if code == check::FILE_TOO_LARGE.code => c.too_large += 1,
                    code if code == check::NESTING_TOO_DEEP.code => c.too_deep += 1,
                    _ => {
                        c.smells += 1;
                        match check::chosen_fix(s, choices).map(|f| f.applicability) {
                            Some(Applicability::Safe) => c.safe_fixable += 1,
                            Some(Applicability::Unsafe) => c.unsafe_fixable += 1,
                            None => {}
                        }
                    }
                }
            }
        }
        c
    }

    /// Diagnostics that fail the run.
    pub fn remaining(&self) -> usize {
        self.smells + self.syntax_errors + self.unreadable + self.too_large + self.too_deep
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The lines after the diagnostics: what was found and fixed, and which fixes are available.
/// `fixing`: `--fix` was given; `unsafe_fixes`: unsafe fixes are enabled.
pub fn summary(c: &Counts, fixing: bool, unsafe_fixes: bool) -> String {
    if c.remaining() == 0 && c.fixed == 0 {
        return "All checks passed!\n".to_string();
    }
    let mut parts = Vec::new();
    if c.fixed > 0 {
        let total = c.smells + c.fixed;
        parts.push(format!("{} ({} fixed, {} remaining)", plural(total, "smell", "smells"), c.fixed, c.smells));
    } else if c.smells > 0 {
        parts.push(plural(c.smells, "smell", "smells"));
    }
    if c.syntax_errors > 0 {
        parts.push(plural(c.syntax_errors, "syntax error", "syntax errors"));
    }
    if c.unreadable > 0 {
        parts.push(plural(c.unreadable, "unreadable file", "unreadable files"));
    }
    if c.too_large > 0 {
        parts.push(plural(c.too_large, "file too large to check", "files too large to check"));
    }
    if c.too_deep > 0 {
        parts.push(plural(c.too_deep, "part not checked", "parts not checked"));
    }
    let list = match parts.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    let mut s = format!("Found {list}.\n");
    let fixes = |n: usize| plural(n, "fix", "fixes");
    if fixing {
        if !unsafe_fixes && c.unsafe_fixable > 0 {
            let _ = writeln!(s, "{} available with `--unsafe-fixes`.", fixes(c.unsafe_fixable));
        }
    } else if unsafe_fixes {
        let n = c.safe_fixable + c.unsafe_fixable;
        if n > 0 {
            let _ = writeln!(s, "{} available with `--fix`.", fixes(n));
        }
    } else {
        match (c.safe_fixable, c.unsafe_fixable) {
            (0, 0) => {}
            (0, u) => {
                let _ = writeln!(s, "{} available with `--fix --unsafe-fixes`.", fixes(u));
            }
            (n, 0) => {
                let _ = writeln!(s, "{} available with `--fix`.", fixes(n));
            }
            (n, u) => {
                let _ = writeln!(s, "{} available with `--fix` ({u} more with `--unsafe-fixes`).", fixes(n));
            }
        }
    }
    s
}

/// `--statistics`: one line per code, most frequent first (ruff's layout; `[*]` marks codes
/// whose smells all have a fix `--fix` would apply with the current flags).
pub fn statistics(reports: &[FileReport], choices: &[FixChoice], unsafe_fixes: bool, as_json: bool) -> String {
    struct Stat {
        name: String,
        count: usize,
        fixable: usize,
    }
    let mut by_code: BTreeMap<String, Stat> = BTreeMap::new();
    for s in reports.iter().flat_map(|r| &r.smells) {
        let stat = by_code.entry(s.code.to_string()).or_insert_with(|| Stat {
            name: s.rule.to_string(),
            count: 0,
            fixable: 0,
        });
        stat.count += 1;
        let allowed =
            check::chosen_fix(s, choices).is_some_and(|f| f.applicability == Applicability::Safe || unsafe_fixes);
        stat.fixable += usize::from(allowed);
    }
    let mut rows: Vec<(String, Stat)> = by_code.into_iter().collect();
    rows.sort_by(|a, b| b.1.count.cmp(&a.1.count).then_with(|| a.0.cmp(&b.0)));
    if as_json {
        let v: Vec<Value> = rows
            .iter()
            .map(|(code, s)| json!({"code": code, "name": s.name, "count": s.count, "fixable": s.fixable == s.count}))
            .collect();
        return serde_json::to_string_pretty(&v).unwrap_or_default() + "\n";
    }
    let count_width = rows.iter().map(|(_, s)| s.count.to_string().len()).max().unwrap_or(1);
    let code_width = rows.iter().map(|(c, _)| c.len()).max().unwrap_or(5);
    let mut out = String::new();
    for (code, s) in &rows {
        let mark = if s.fixable == s.count { "[*]" } else { "[ ]" };
        let _ = writeln!(out, "{:>count_width$}\t{code:<code_width$}\t{mark} {}", s.count, s.name);
    }
    out
}

/// `--diff`: a unified diff per changed file.
pub fn diff(reports: &[FileReport], st: &Styles) -> String {
    let mut out = String::new();
    for r in reports {
        let Some(original) = &r.original else { continue };
        let name = r.path.display().to_string();
        if r.cells.is_some() {
            // A notebook: one diff per changed cell, named as ruff names them.
            for (cell, before, after) in &r.changed_cells {
                unified_diff(&mut out, &format!("{name}:cell {cell}"), before, after, st);
            }
            continue;
        }
        unified_diff(&mut out, &name, original, &r.source, st);
    }
    out
}

fn unified_diff(out: &mut String, name: &str, before: &str, after: &str, st: &Styles) {
    let text = similar::TextDiff::from_lines(before, after);
    let mut unified = text.unified_diff();
    unified.context_radius(3);
    // Line by line from similar's own changes rather than by splitting its text at `\n`: a file
    // with old Mac endings (lone `\r`) has lines that `\n` does not end, each painted on its own.
    for (i, hunk) in unified.iter_hunks().enumerate() {
        if i == 0 {
            let _ = writeln!(out, "--- {name}\n+++ {name}");
        }
        let _ = writeln!(out, "{}", hunk.header());
        for change in hunk.iter_changes() {
            let style = match change.tag() {
                similar::ChangeTag::Insert => st.insert,
                similar::ChangeTag::Delete => st.delete,
                similar::ChangeTag::Equal => Style::new(),
            };
            let line = format!("{}{}", change.tag(), change.value());
            let body = line.trim_end_matches(['\n', '\r']);
            out.push_str(&paint(style, body));
            match &line[body.len()..] {
                "" => out.push('\n'),
                ending => out.push_str(ending),
            }
            if change.missing_newline() {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
    out.push('\n');
}

/// `--show-fixes`: which smells fixes removed, per file (ruff's layout).
pub fn fixed_list(reports: &[FileReport]) -> String {
    let total: usize = reports.iter().map(FileReport::fixed_count).sum();
    if total == 0 {
        return String::new();
    }
    let mut out = format!("Fixed {}:\n", plural(total, "smell", "smells"));
    for r in reports.iter().filter(|r| r.fixed_count() > 0) {
        let _ = writeln!(out, "- {}:", r.path.display());
        for (code, n) in &r.fixed {
            let name = rules::by_code(code).map_or("", |r| r.name);
            let _ = writeln!(out, "    {n} × {code} ({name})");
        }
    }
    out.push('\n');
    out
}
