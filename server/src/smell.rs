//! The engine's output: LSP-free findings with their fixes.

use serde::{Deserialize, Serialize};

pub use crate::syntax::{Point, Span};

/// Whether applying a fix keeps the program's meaning (ruff's terms).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// The meaning is unchanged; `--fix` applies it.
    Safe,
    /// Values may change; applied only with `--unsafe-fixes`.
    Unsafe,
}

/// Replace `source[start..end]` with `content`. An insertion has `start == end`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub content: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// What the fix does, e.g. "Clip `y_conv` into [1e-7, 1]".
    pub title: String,
    pub applicability: Applicability,
    /// Non-overlapping edits, sorted by start.
    pub edits: Vec<Edit>,
    /// The fix computes the whole finding another way, from the logits (the loss on logits for
    /// a cross-entropy written out, `Categorical(logits=z).entropy()`): preferred over the fixes
    /// of the inner findings it took the place of. Not serialized.
    #[serde(skip)]
    pub whole: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Smell {
    /// The rule's code, e.g. `NL101`: the rule table's own text, not a copy (a keystroke's
    /// analysis clones every cached finding of the file).
    pub code: &'static str,
    /// The rule's name, e.g. `log-of-possibly-zero`.
    pub rule: &'static str,
    /// What is wrong here and why, in one line.
    pub message: String,
    pub span: Span,
    /// Alternatives; the first is the preferred one.
    pub fixes: Vec<Fix>,
    /// A second place that explains this one (where a softmax output was assigned).
    pub related: Option<Related>,
    /// The codes of the findings this one took the place of by [`crate::engine::SUPERSEDES`],
    /// transitively (an NL104 that dropped an NL102 which had dropped an NL101 holds both),
    /// sorted: a `# noqa` naming one of them silences this finding. Empty for a finding that took
    /// no other's place. Not serialized.
    #[serde(skip)]
    pub absorbed: Vec<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Related {
    pub span: Span,
    pub message: String,
}

impl Smell {
    /// Moves every position at or after `at` by `bytes`, and the rows of spans that start there
    /// by `rows` (after an edit that ended at `at` in the old text, elsewhere in the file).
    pub fn move_from(&mut self, at: usize, bytes: isize, rows: isize) {
        if self.span.start_byte >= at {
            self.span.shift(bytes, rows);
        }
        if let Some(r) = self.related.as_mut().filter(|r| r.span.start_byte >= at) {
            r.span.shift(bytes, rows);
        }
        for e in self.fixes.iter_mut().flat_map(|f| f.edits.iter_mut()).filter(|e| e.start >= at) {
            e.start = e.start.saturating_add_signed(bytes);
            e.end = e.end.saturating_add_signed(bytes);
        }
    }
}

/// Applies edits (non-overlapping, any order) to `source`.
pub fn apply_edits(source: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(source.len() + 64);
    let mut at = 0;
    for e in sorted {
        if e.start < at || e.end > source.len() {
            continue; // overlapping or out of range: skipped, never half-applied
        }
        out.push_str(&source[at..e.start]);
        out.push_str(&e.content);
        at = e.end;
    }
    out.push_str(&source[at..]);
    out
}
