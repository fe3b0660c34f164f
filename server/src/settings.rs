//! User settings: which rules run and the epsilon fixes use, plus the file-selection keys the
//! command line reads (`exclude`, `extend-exclude`, `per-file-ignores`).
//!
//! Settings come in layers, applied in order as ruff applies them: the defaults, a configuration
//! file (`.nanlint.toml`, `nanlint.toml`, or `[tool.nanlint]` in `pyproject.toml`), then the
//! command line or the editor. A layer that sets `select` starts the rule selection afresh; a layer
//! without it only adds (`extend-select`) and removes (`ignore`) rules from what came before.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::rules::RULES;

pub const DEFAULT_EPSILON: f64 = 1e-7;

/// Files larger than this many bytes are not checked (`max-file-size`; NL002): 10 MB, five
/// times the largest file of the benchmark corpus, checked in about a second.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10_000_000;

/// Configuration file names, in the order they win within one folder (ruff's order: a dotted
/// file, then the plain one, then `pyproject.toml`, which counts only with a `[tool.nanlint]`).
pub const CONFIG_FILES: [&str; 3] = [".nanlint.toml", "nanlint.toml", "pyproject.toml"];

/// Codes nanlint reports about files rather than code smells.
pub const BUILTIN_CODES: [(&str, &str); 4] = [
    ("NL000", "syntax-error"),
    ("NL001", "unreadable-file"),
    ("NL002", "file-too-large"),
    ("NL003", "nesting-too-deep"),
];

/// NL000 is on whatever `select` says; only an `ignore` naming it exactly (`NL000` or
/// `syntax-error`) turns it off, for code tree-sitter's Python grammar does not parse yet.
pub const SYNTAX_ERROR_CODE: &str = "NL000";

#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Code prefixes to enable (`NL`, `NL1`, `NL101`); empty means all. After [`Settings::merged`]
    /// with a layer that selects anything, it lists exactly the enabled codes.
    pub select: Vec<String>,
    /// Code prefixes to disable; wins over `select` when at least as specific. After
    /// [`Settings::merged`], exactly the disabled codes.
    pub ignore: Vec<String>,
    /// The lower bound clip fixes write (Keras' default epsilon).
    pub epsilon: f64,
    /// Preview rules run too (see [`crate::rules::Rule::preview`]).
    pub preview: bool,
    /// Files larger than this, in bytes, are reported as NL002 and not checked.
    pub max_file_size: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            select: Vec::new(),
            ignore: Vec::new(),
            epsilon: DEFAULT_EPSILON,
            preview: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// One layer of settings as written (a configuration file, the command line, the editor); every
/// key optional.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileSettings {
    pub select: Option<Vec<String>>,
    pub extend_select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub epsilon: Option<f64>,
    /// Run preview rules.
    pub preview: Option<bool>,
    /// The largest file checked, in bytes.
    pub max_file_size: Option<u64>,
    /// Glob → rule selectors switched off for the files it matches.
    pub per_file_ignores: Option<BTreeMap<String, Vec<String>>>,
    /// Replaces the default excludes.
    pub exclude: Option<Vec<String>>,
    /// Adds to the excludes.
    pub extend_exclude: Option<Vec<String>>,
}

/// `code` names a preview rule.
fn is_preview(code: &str) -> bool {
    crate::rules::by_code(code).is_some_and(|r| r.preview)
}

impl Settings {
    /// Ruff's rule: the most specific matching prefix decides; on a tie, `ignore` wins.
    /// With no selection, preview rules run only in preview mode.
    pub fn is_enabled(&self, code: &str) -> bool {
        let longest = |list: &[String]| list.iter().filter(|p| code.starts_with(p.as_str())).map(String::len).max();
        let selected = match self.select.is_empty() {
            true if is_preview(code) && !self.preview => None,
            true => Some(0),
            false => longest(&self.select),
        };
        match (selected, longest(&self.ignore)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(s), Some(i)) => s > i,
        }
    }

    /// These settings with `layer` applied. Rule selection follows ruff: with `select`, the layer
    /// decides alone; without it, `extend-select` enables and `ignore` disables on top of what
    /// these settings enable. Within a layer the most specific selector wins, `ignore` on a tie.
    /// Selectors are read case-insensitively and may be rule names; invalid ones are skipped
    /// (check them first with [`FileSettings::validate`]).
    pub fn merged(&self, layer: &FileSettings) -> Settings {
        let epsilon = layer.epsilon.unwrap_or(self.epsilon);
        let preview = layer.preview.unwrap_or(self.preview);
        let max_file_size = layer.max_file_size.unwrap_or(self.max_file_size);
        let normalized = |lists: &[&Option<Vec<String>>]| -> Vec<String> {
            lists.iter().filter_map(|l| l.as_ref()).flatten().filter_map(|s| normalize_selector(s).ok()).collect()
        };
        let enable = normalized(&[&layer.select, &layer.extend_select]);
        let disable = normalized(&[&layer.ignore]);
        if layer.select.is_none() && enable.is_empty() && disable.is_empty() {
            return Settings { epsilon, preview, max_file_size, ..self.clone() };
        }
        let longest =
            |list: &[String], code: &str| list.iter().filter(|p| code.starts_with(p.as_str())).map(String::len).max();
        let (mut on, mut off) = (Vec::new(), Vec::new());
        // Without a selection of its own the layer keeps what these settings enable, in the
        // layer's preview mode (`preview = true` beside an `ignore` must not lose the preview rules).
        let base = Settings { preview, ..self.clone() };
        for rule in RULES {
            // A preview rule is enabled by a prefix (`NL`, `NL2`) only in preview mode; by its own
            // code always, as ruff's `explicit-preview-rules` does.
            let by_code = enable.iter().any(|e| e == rule.code);
            let enabled = match (longest(&enable, rule.code), longest(&disable, rule.code)) {
                (None, None) => layer.select.is_none() && base.is_enabled(rule.code),
                (Some(_), None) => !rule.preview || preview || by_code,
                (None, Some(_)) => false,
                (Some(s), Some(i)) => s > i && (!rule.preview || preview || by_code),
            };
            if enabled { &mut on } else { &mut off }.push(rule.code.to_string());
        }
        let exact = |list: &[String]| list.iter().any(|c| c == SYNTAX_ERROR_CODE);
        let syntax = match (exact(&enable), exact(&disable)) {
            (_, true) => false,
            (true, false) => true,
            (false, false) => self.is_enabled(SYNTAX_ERROR_CODE),
        };
        if syntax { &mut on } else { &mut off }.push(SYNTAX_ERROR_CODE.to_string());
        Settings { select: on, ignore: off, epsilon, preview, max_file_size }
    }

    /// The epsilon as Python source: `1e-7`.
    pub fn epsilon_literal(&self) -> String {
        format_float(self.epsilon)
    }

    pub fn validate(&self) -> Result<(), String> {
        validate_epsilon(self.epsilon)
    }
}

fn validate_epsilon(epsilon: f64) -> Result<(), String> {
    if !(epsilon.is_finite() && epsilon > 0.0 && epsilon < 1.0) {
        // `1e-400` is read as 0.0 (below float64's smallest subnormal) and `1e400` as infinity:
        // only the parsed value reaches here, so name both readings rather than show a number
        // the user may not have written.
        let why = match epsilon {
            0.0 => " (0, or a number below float64's smallest subnormal, about 4.9e-324)",
            e if e.is_infinite() => " (infinity, or a number above float64's largest, about 1.8e308)",
            _ => "",
        };
        return Err(format!("epsilon must be a number in (0, 1), got {}{why}", format_float(epsilon)));
    }
    Ok(())
}

/// A rule selector as the engine compares it: an upper-case code or prefix. Accepts codes and
/// prefixes in any case (`nl101`, `NL1`), rule names (`log-of-possibly-zero`) and `ALL`. A
/// selector must name at least one rule, or be `NL000`/`syntax-error` exactly; `NL001` to
/// `NL003` are always reported and cannot be selected or ignored.
pub fn normalize_selector(selector: &str) -> Result<String, String> {
    let s = selector.trim();
    if s.eq_ignore_ascii_case("ALL") {
        return Ok("NL".to_string());
    }
    if let Some(rule) = RULES.iter().find(|r| r.name.eq_ignore_ascii_case(s)) {
        return Ok(rule.code.to_string());
    }
    if s.eq_ignore_ascii_case(SYNTAX_ERROR_CODE) || s.eq_ignore_ascii_case(BUILTIN_CODES[0].1) {
        return Ok(SYNTAX_ERROR_CODE.to_string());
    }
    let upper = s.to_ascii_uppercase();
    let is_code = !upper.is_empty() && upper.chars().all(|c| c.is_ascii_alphanumeric());
    if is_code && RULES.iter().any(|r| r.code.starts_with(&upper)) {
        return Ok(upper);
    }
    if let Some((code, name)) = BUILTIN_CODES.iter().find(|(code, name)| {
        *code == upper || name.eq_ignore_ascii_case(s) || code.starts_with(&upper) && upper.len() > 2
    }) {
        return Err(match *code {
            SYNTAX_ERROR_CODE => format!("{code} ({name}) can be selected or ignored only by its exact code or name"),
            _ => format!("{code} ({name}) is always reported; it cannot be selected or ignored"),
        });
    }
    Err(format!(
        "unknown rule selector {selector:?}: expected a rule code (NL101), a prefix of one (NL1), a rule name \
         (log-of-possibly-zero) or ALL; `nanlint rule --all` lists the rules"
    ))
}

impl FileSettings {
    /// Checks every selector, the epsilon and the globs.
    pub fn validate(&self) -> Result<(), String> {
        for (key, list) in [("select", &self.select), ("extend-select", &self.extend_select), ("ignore", &self.ignore)]
        {
            for s in list.iter().flatten() {
                normalize_selector(s).map_err(|e| format!("{key}: {e}"))?;
            }
        }
        if let Some(e) = self.epsilon {
            validate_epsilon(e)?;
        }
        for (pattern, codes) in self.per_file_ignores.iter().flatten() {
            check_glob(pattern).map_err(|e| format!("per-file-ignores: {e}"))?;
            for s in codes {
                normalize_selector(s).map_err(|e| format!("per-file-ignores {pattern:?}: {e}"))?;
            }
        }
        for (key, list) in [("exclude", &self.exclude), ("extend-exclude", &self.extend_exclude)] {
            for pattern in list.iter().flatten() {
                check_glob(pattern).map_err(|e| format!("{key}: {e}"))?;
            }
        }
        Ok(())
    }
}

fn check_glob(pattern: &str) -> Result<(), String> {
    globset::Glob::new(pattern).map(|_| ()).map_err(|e| format!("invalid glob {pattern:?}: {}", e.kind()))
}

/// Formats a float the way Python reads it back exactly: `1e-7`, `0.001`, `1.5e-8`.
pub fn format_float(v: f64) -> String {
    let plain = format!("{v}");
    let sci = format!("{v:e}");
    let chosen = if sci.len() < plain.len() { sci } else { plain };
    if chosen.contains(['.', 'e']) || !v.is_finite() { chosen } else { format!("{chosen}.0") }
}

/// A configuration file that applies, and its settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigFile {
    pub path: PathBuf,
    pub settings: FileSettings,
}

/// The configuration of the nearest folder at or above `dir` that has one: in each folder,
/// `.nanlint.toml`, then `nanlint.toml`, then a `pyproject.toml` with a `[tool.nanlint]` table.
pub fn find_config(dir: &Path) -> Result<Option<ConfigFile>, String> {
    for d in dir.ancestors() {
        if let Some(found) = config_in(d)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// The configuration file of `dir` itself, if it has one.
pub fn config_in(dir: &Path) -> Result<Option<ConfigFile>, String> {
    for name in CONFIG_FILES {
        let candidate = dir.join(name);
        if candidate.is_file()
            && let Some(settings) = read_config(&candidate)?
        {
            return Ok(Some(ConfigFile { path: candidate, settings }));
        }
    }
    Ok(None)
}

/// The nearest `pyproject.toml` at or above `dir` that has a `[tool.nanlint]` table.
pub fn find_pyproject(dir: &Path) -> Result<Option<(PathBuf, FileSettings)>, String> {
    for d in dir.ancestors() {
        let candidate = d.join("pyproject.toml");
        if candidate.is_file()
            && let Some(settings) = read_pyproject(&candidate)?
        {
            return Ok(Some((candidate, settings)));
        }
    }
    Ok(None)
}

/// Reads a configuration file: `[tool.nanlint]` of a file named `pyproject.toml` (`Ok(None)`
/// without that table), the whole file otherwise. Errors start with `path:line:column:`.
pub fn read_config(path: &Path) -> Result<Option<FileSettings>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {}", path.display(), io_message(&e)))?;
    let parsed = if path.file_name().is_some_and(|n| n == "pyproject.toml") {
        parse_pyproject_spanned(&text)
    } else {
        parse_config_spanned(&text).map(Some)
    };
    parsed.map_err(|(message, span)| match span.map(|s| line_column(&text, s.start)) {
        Some((line, column)) => format!("{}:{line}:{column}: {message}", path.display()),
        None => format!("{}: {message}", path.display()),
    })
}

/// Reads `[tool.nanlint]` from a `pyproject.toml`; `Ok(None)` when the table is absent.
pub fn read_pyproject(path: &Path) -> Result<Option<FileSettings>, String> {
    read_config(path)
}

/// `[tool.nanlint]` of a `pyproject.toml`'s text; errors carry `line:column:` when known.
pub fn parse_pyproject(text: &str) -> Result<Option<FileSettings>, String> {
    parse_pyproject_spanned(text).map_err(|(message, span)| with_position(text, message, span))
}

/// The keys of a `nanlint.toml` (top level, no table header).
pub fn parse_config(text: &str) -> Result<FileSettings, String> {
    parse_config_spanned(text).map_err(|(message, span)| with_position(text, message, span))
}

fn with_position(text: &str, message: String, span: Option<Range<usize>>) -> String {
    match span {
        Some(s) => {
            let (line, column) = line_column(text, s.start);
            format!("{line}:{column}: {message}")
        }
        None => message,
    }
}

/// One-based line and character column of byte `at` in `text`.
pub fn line_column(text: &str, at: usize) -> (usize, usize) {
    let at = (0..=at.min(text.len())).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (before.matches('\n').count() + 1, before[line_start..].chars().count() + 1)
}

/// An I/O error's message without any path in it (tempfile and others append one).
pub fn io_message(e: &std::io::Error) -> String {
    if let Some(code) = e.raw_os_error() {
        return std::io::Error::from_raw_os_error(code).to_string();
    }
    // tempfile wraps the OS error in one that appends ` at path "<its temporary file>"`.
    let text = e.to_string();
    match text.split_once(" at path \"") {
        Some((message, _)) => message.to_string(),
        None => text,
    }
}

type Spanned2<T> = Result<T, (String, Option<Range<usize>>)>;

/// A TOML error for a Python user: serde's words for a value of the wrong type ("invalid type:
/// string \"x\", expected f64") become `key: expected a number, found the string "x"`; the span
/// (the file's line and column) is kept.
fn toml_error(mut e: toml::de::Error) -> (String, Option<Range<usize>>) {
    let span = e.span();
    let message = e.message().trim_end().to_string();
    // Without its input, the error's text is its message and the key it is about (`in `a.b``).
    e.set_input(None);
    let text = e.to_string();
    let key = text.trim_end().strip_prefix(message.as_str()).and_then(|k| k.strip_prefix("\nin `")?.strip_suffix('`'));
    // `[tool.nanlint]: ` is prefixed by the caller.
    let key = key.map(|k| if k == "tool.nanlint" { "" } else { k.strip_prefix("tool.nanlint.").unwrap_or(k) });
    let message = python_words(&message).replace('\n', "; ");
    match key {
        Some(key) if !key.is_empty() => (format!("{key}: {message}"), span),
        _ => (message, span),
    }
}

/// serde's "invalid type: FOUND, expected EXPECTED" in words a Python user reads: "expected a
/// number, found the string \"1e-7\"". Other messages are kept.
fn python_words(message: &str) -> String {
    let Some(rest) = message.strip_prefix("invalid type: ").or_else(|| message.strip_prefix("invalid value: ")) else {
        return message.to_string();
    };
    let Some((found, expected)) = rest.rsplit_once(", expected ") else { return message.to_string() };
    let expected = match expected {
        "f32" | "f64" => "a number",
        "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128" | "isize" | "usize" => {
            "a whole number"
        }
        "a boolean" => "true or false",
        // Every list nanlint reads holds strings (selectors, globs).
        "a sequence" => "a list of strings",
        "a map" => "a table",
        e if e.starts_with("struct ") => "a table",
        e => e,
    };
    let unquoted = |s: &str| s.trim_matches('`').to_string();
    let found = if let Some(s) = found.strip_prefix("string ") {
        format!("the string {s}")
    } else if let Some(n) = found.strip_prefix("integer ").or_else(|| found.strip_prefix("floating point ")) {
        format!("the number {}", unquoted(n))
    } else if let Some(b) = found.strip_prefix("boolean ") {
        unquoted(b)
    } else {
        match found {
            "sequence" => "a list".to_string(),
            "map" => "a table".to_string(),
            f => f.to_string(),
        }
    };
    let hint = match (expected, found.starts_with("the string ")) {
        ("a number" | "a whole number", true) => " (write it without quotes)",
        _ => "",
    };
    format!("expected {expected}, found {found}{hint}")
}

fn parse_pyproject_spanned(text: &str) -> Spanned2<Option<FileSettings>> {
    #[derive(Deserialize)]
    struct Pyproject {
        tool: Option<Tool>,
    }
    #[derive(Deserialize)]
    struct Tool {
        nanlint: Option<RawLayer>,
    }
    // Syntax first, so that what the typed pass reports is about `[tool.nanlint]`.
    toml::from_str::<toml::Table>(text).map_err(toml_error)?;
    let doc: Pyproject = toml::from_str(text).map_err(|e| {
        let (m, s) = toml_error(e);
        (format!("[tool.nanlint]: {m}"), s)
    })?;
    match doc.tool.and_then(|t| t.nanlint) {
        Some(raw) => raw.into_settings().map(Some).map_err(|(m, s)| (format!("[tool.nanlint]: {m}"), s)),
        None => Ok(None),
    }
}

fn parse_config_spanned(text: &str) -> Spanned2<FileSettings> {
    let raw: RawLayer = toml::from_str(text).map_err(toml_error)?;
    raw.into_settings()
}

type Selectors = Option<Vec<Spanned<String>>>;

/// A layer as written, with the positions of its values for error messages.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLayer {
    select: Selectors,
    extend_select: Selectors,
    ignore: Selectors,
    epsilon: Option<Spanned<f64>>,
    preview: Option<bool>,
    max_file_size: Option<Spanned<i64>>,
    per_file_ignores: Option<BTreeMap<Spanned<String>, Vec<Spanned<String>>>>,
    exclude: Selectors,
    extend_exclude: Selectors,
}

impl RawLayer {
    fn into_settings(self) -> Spanned2<FileSettings> {
        let selectors = |key: &str, list: Selectors| -> Spanned2<Option<Vec<String>>> {
            list.map(|l| {
                l.into_iter()
                    .map(|s| {
                        normalize_selector(s.get_ref()).map_err(|e| (format!("{key}: {e}"), Some(s.span())))?;
                        Ok(s.into_inner())
                    })
                    .collect()
            })
            .transpose()
        };
        let globs = |key: &str, list: Selectors| -> Spanned2<Option<Vec<String>>> {
            list.map(|l| {
                l.into_iter()
                    .map(|s| {
                        check_glob(s.get_ref()).map_err(|e| (format!("{key}: {e}"), Some(s.span())))?;
                        Ok(s.into_inner())
                    })
                    .collect()
            })
            .transpose()
        };
        let epsilon = match self.epsilon {
            Some(e) => {
                validate_epsilon(*e.get_ref()).map_err(|m| (m, Some(e.span())))?;
                Some(e.into_inner())
            }
            None => None,
        };
        let max_file_size = match self.max_file_size {
            Some(n) => Some(u64::try_from(*n.get_ref()).ok().filter(|&n| n > 0).ok_or_else(|| {
                (format!("max-file-size must be a positive number of bytes, got {}", n.get_ref()), Some(n.span()))
            })?),
            None => None,
        };
        let per_file_ignores = match self.per_file_ignores {
            Some(map) => {
                let mut out = BTreeMap::new();
                for (pattern, codes) in map {
                    check_glob(pattern.get_ref())
                        .map_err(|e| (format!("per-file-ignores: {e}"), Some(pattern.span())))?;
                    let key = format!("per-file-ignores {:?}", pattern.get_ref());
                    out.insert(pattern.into_inner(), selectors(&key, Some(codes))?.unwrap_or_default());
                }
                Some(out)
            }
            None => None,
        };
        Ok(FileSettings {
            select: selectors("select", self.select)?,
            extend_select: selectors("extend-select", self.extend_select)?,
            ignore: selectors("ignore", self.ignore)?,
            epsilon,
            preview: self.preview,
            max_file_size,
            per_file_ignores,
            exclude: globs("exclude", self.exclude)?,
            extend_exclude: globs("extend-exclude", self.extend_exclude)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(select: &[&str], ignore: &[&str]) -> Settings {
        Settings {
            select: select.iter().map(|s| s.to_string()).collect(),
            ignore: ignore.iter().map(|s| s.to_string()).collect(),
            ..Settings::default()
        }
    }

    #[test]
    fn preview_rules_run_in_preview_mode_or_selected_by_code() {
        let d = Settings::default();
        assert!(d.is_enabled("NL101") && d.is_enabled("NL201") && !d.is_enabled("NL105"));
        assert!(Settings { preview: true, ..Settings::default() }.is_enabled("NL105"));
        let on = |l: FileSettings| d.merged(&l);
        assert!(!on(layer(Some(&["NL1"]), &[], &[])).is_enabled("NL105"), "a prefix does not enable a preview rule");
        assert!(on(layer(Some(&["NL1"]), &[], &[])).is_enabled("NL101"), "it does enable the others");
        assert!(on(layer(None, &["NL105"], &[])).is_enabled("NL105"), "its own code does");
        let preview = FileSettings { preview: Some(true), ..layer(Some(&["NL1"]), &[], &[]) };
        assert!(on(preview).is_enabled("NL105"));
        // Regression: an `ignore` or `extend-select` beside `preview = true` dropped them.
        let ignoring = FileSettings { preview: Some(true), ..layer(None, &[], &["NL301"]) };
        assert!(on(ignoring.clone()).is_enabled("NL105") && !on(ignoring).is_enabled("NL301"));
        let extending = FileSettings { preview: Some(true), ..layer(None, &["NL204"], &[]) };
        assert!(on(extending).is_enabled("NL105"));
        assert!(!on(layer(None, &[], &["NL301"])).is_enabled("NL105"), "still off without preview");
        let text = "preview = true\n";
        assert_eq!(parse_config_spanned(text).map(|l| l.preview).ok(), Some(Some(true)));
    }

    fn layer(select: Option<&[&str]>, extend: &[&str], ignore: &[&str]) -> FileSettings {
        let list = |l: &[&str]| (!l.is_empty()).then(|| l.iter().map(|s| s.to_string()).collect());
        FileSettings {
            select: select.map(|l| l.iter().map(|s| s.to_string()).collect()),
            extend_select: list(extend),
            ignore: list(ignore),
            ..FileSettings::default()
        }
    }

    #[test]
    fn selection_follows_specificity() {
        assert!(s(&[], &[]).is_enabled("NL101"));
        assert!(!s(&[], &["NL101"]).is_enabled("NL101"));
        assert!(!s(&["NL"], &["NL1"]).is_enabled("NL101"));
        assert!(s(&["NL101"], &["NL1"]).is_enabled("NL101"));
        assert!(!s(&["NL2"], &[]).is_enabled("NL101"));
        assert!(!s(&["NL101"], &["NL101"]).is_enabled("NL101"));
    }

    #[test]
    fn layers_follow_ruff() {
        let base = Settings::default();
        // A file ignores NL101; a later layer that only extends the selection brings it back.
        let file = base.merged(&layer(None, &[], &["NL101"]));
        assert!(!file.is_enabled("NL101"));
        assert!(file.merged(&layer(None, &["NL101"], &[])).is_enabled("NL101"));
        // A later `select` starts afresh: the file's ignore no longer applies.
        assert!(file.merged(&layer(Some(&["NL"]), &[], &[])).is_enabled("NL101"));
        // A later `ignore` adds to the file's.
        let on = base.merged(&layer(Some(&["NL1"]), &[], &[]));
        assert!(on.is_enabled("NL101"));
        assert!(!on.merged(&layer(None, &[], &["nl101"])).is_enabled("NL101"));
        // Names and lower case work like codes; nothing selected means nothing runs.
        assert!(!base.merged(&layer(None, &[], &["log-of-possibly-zero"])).is_enabled("NL101"));
        let none = base.merged(&layer(Some(&[]), &[], &[]));
        assert!(!none.is_enabled("NL101"), "{none:?}");
        // NL000 stays on whatever `select` says; only an exact ignore turns it off.
        assert!(base.merged(&layer(Some(&["NL101"]), &[], &["NL"])).is_enabled("NL000"));
        let off = base.merged(&layer(None, &[], &["syntax-error"]));
        assert!(!off.is_enabled("NL000") && off.is_enabled("NL101"));
        assert!(off.merged(&layer(None, &["NL000"], &[])).is_enabled("NL000"));
        // Epsilon only: the selection is untouched.
        let eps = base.merged(&FileSettings { epsilon: Some(1e-3), ..FileSettings::default() });
        assert_eq!((eps.select.len(), eps.epsilon), (0, 1e-3));
    }

    #[test]
    fn selectors() {
        assert_eq!(normalize_selector("nl101"), Ok("NL101".into()));
        assert_eq!(normalize_selector("Log-Of-Possibly-Zero"), Ok("NL101".into()));
        assert_eq!(normalize_selector("all"), Ok("NL".into()));
        assert!(normalize_selector("NOPE").unwrap_err().contains("unknown rule selector \"NOPE\""));
        assert!(normalize_selector("NL9").is_err());
        assert!(normalize_selector("NL-1").is_err());
        assert!(normalize_selector("").is_err());
        assert!(normalize_selector("NL001").unwrap_err().contains("always reported"));
        assert_eq!(normalize_selector("Syntax-Error"), Ok("NL000".into()));
        assert!(normalize_selector("NL0").unwrap_err().contains("only by its exact code"));
    }

    #[test]
    fn floats_read_back_in_python() {
        assert_eq!(format_float(1e-7), "1e-7");
        assert_eq!(format_float(0.001), "1e-3");
        assert_eq!(format_float(0.25), "0.25");
        assert_eq!(format_float(1.5e-8), "1.5e-8");
        assert_eq!(format_float(1.0), "1.0");
        assert_eq!(format_float(-1e-7), "-1e-7");
    }

    #[test]
    fn pyproject_tables() {
        assert_eq!(parse_pyproject("[project]\nname = 'x'\n"), Ok(None));
        let f = parse_pyproject("[tool.nanlint]\nepsilon = 1e-4\nignore = ['NL101']\n").unwrap().unwrap();
        assert_eq!(f.epsilon, Some(1e-4));
        assert_eq!(
            parse_pyproject("[tool.nanlint]\nepsilon = -1\n").unwrap_err(),
            "2:11: [tool.nanlint]: epsilon must be a number in (0, 1), got -1.0"
        );
        // Read as 0.0: the message says why rather than show a number nobody wrote; a 0 written
        // as 0 gets the same (only the value reaches the check), which says both.
        for written in ["1e-400", "0.0"] {
            let e = parse_pyproject(&format!("[tool.nanlint]\nepsilon = {written}\n")).unwrap_err();
            assert!(e.ends_with("got 0.0 (0, or a number below float64's smallest subnormal, about 4.9e-324)"), "{e}");
        }
        let e = parse_pyproject("[tool.nanlint]\nepsilon = inf\n").unwrap_err();
        assert!(e.ends_with("(infinity, or a number above float64's largest, about 1.8e308)"), "{e}");
        assert!(parse_pyproject("[tool.nanlint]\nepsilom = 1e-4\n").unwrap_err().contains("epsilom"));
        assert!(parse_pyproject("[tool.nanlint\n").unwrap_err().starts_with("1:"));
        let e = parse_pyproject("[tool.nanlint]\nselect = [\"NL1\",\n  \"NOPE\"]\n").unwrap_err();
        assert!(e.starts_with("3:3: [tool.nanlint]: select: unknown rule selector \"NOPE\""), "{e}");
        let f = parse_pyproject(
            "[tool.nanlint]\nper-file-ignores = { \"tests/*\" = [\"NL101\"] }\nextend-exclude = [\"gen\"]\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(f.per_file_ignores.unwrap()["tests/*"], ["NL101"]);
        assert_eq!(f.extend_exclude.unwrap(), ["gen"]);
        assert!(parse_pyproject("[tool.nanlint]\nexclude = [\"a[\"]\n").unwrap_err().starts_with("2:12: "));
    }

    #[test]
    fn nanlint_toml_has_top_level_keys() {
        assert_eq!(parse_config("select = [\"NL1\"]\n").unwrap().select, Some(vec!["NL1".to_string()]));
        assert!(parse_config("[tool.nanlint]\nselect = [\"NL1\"]\n").unwrap_err().contains("unknown field `tool`"));
        assert_eq!(parse_config("").unwrap(), FileSettings::default());
    }

    /// Regression (a newcomer's trial): a value of the wrong type read as serde's Rust words
    /// ("invalid type: string \"1e-7\", expected f64"). They name the key and Python's types, at
    /// the value's line and column.
    #[test]
    fn type_errors_read_for_a_python_user() {
        let pyproject = |body: &str| parse_pyproject(&format!("[tool.nanlint]\n{body}\n")).unwrap_err();
        assert_eq!(
            pyproject("epsilon = \"1e-7\""),
            "2:11: [tool.nanlint]: epsilon: expected a number, found the string \"1e-7\" (write it without quotes)"
        );
        assert_eq!(
            pyproject("preview = \"yes\""),
            "2:11: [tool.nanlint]: preview: expected true or false, found the string \"yes\""
        );
        assert_eq!(
            pyproject("select = \"NL1\""),
            "2:10: [tool.nanlint]: select: expected a list of strings, found the string \"NL1\""
        );
        assert_eq!(
            pyproject("max-file-size = 1.5"),
            "2:17: [tool.nanlint]: max-file-size: expected a whole number, found the number 1.5"
        );
        assert_eq!(
            pyproject("per-file-ignores = [\"a\"]"),
            "2:20: [tool.nanlint]: per-file-ignores: expected a table, found a list"
        );
        let config = parse_config("ignore = [\"NL1\", 2]\n").unwrap_err();
        assert_eq!(config, "1:18: ignore: expected a string, found the number 2");
        assert_eq!(parse_config("epsilon = true\n").unwrap_err(), "1:11: epsilon: expected a number, found true");
        assert_eq!(
            parse_pyproject("[tool]\nnanlint = 1\n").unwrap_err(),
            "2:11: [tool.nanlint]: expected a table, found the number 1"
        );
        assert!(pyproject("epsilom = 1").starts_with("2:1: [tool.nanlint]: unknown field `epsilom`, expected one of"));
    }

    #[test]
    fn line_columns_count_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
        assert_eq!(line_column("", 0), (1, 1));
    }
}
