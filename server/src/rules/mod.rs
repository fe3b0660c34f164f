//! The rules: each lives in one folder, `queries/python/<CODE>-<name>/`, holding its query
//! (`query.scm`), its documentation (`rule.md`: the hover, `nanlint rule`, the README row), its
//! metadata, message and fixes (`rule.rs`, which defines `RULE`), and its fixtures (`bad.py`,
//! `good.py`). This module is the interface between them and the engine: [`Rule`], the
//! [`Finding`]s a check returns, the compiled [`query`], the shared [`fixes`] helpers, and the
//! registry [`ALL`].
//!
//! Rules read the file through the semantic model; they never walk scopes or resolve names
//! themselves.

pub mod edits;
pub mod fixes;
pub mod probs;
pub mod query;
// API contracts (issue 10)
pub mod contracts;

use crate::semantic::Model;
use crate::settings::Settings;
use crate::smell::{Fix, Related};
use crate::syntax::Span;
pub use query::Captures;

/// What a rule's check sees: the model of the file and the settings.
pub struct Checker<'m, 'a> {
    pub model: &'m Model<'a>,
    pub settings: &'m Settings,
}

/// One finding of a check. `span` defaults to the `@smell` capture.
pub struct Finding {
    pub span: Option<Span>,
    pub message: String,
    /// Alternatives, the preferred first.
    pub fixes: Vec<Fix>,
    pub related: Option<Related>,
}

impl Finding {
    pub fn new(message: String) -> Finding {
        Finding { span: None, message, fixes: Vec::new(), related: None }
    }
}

/// A check: the findings of one query match (often none, sometimes several).
pub type Check = for<'m, 'a> fn(&Checker<'m, 'a>, &Captures<'a>) -> Vec<Finding>;

/// Whether a rule offers fixes (for the README table and `nanlint rule --all`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixAvailability {
    None,
    Sometimes,
    Always,
}

/// Where a rule's query can match, beyond what its predicates say. Each pattern of a query needs
/// an anchor: the engine runs the query only around the anchors' words in the source. `#api?`
/// anchors a pattern on the spellings of its functions, `#method?` on its method names; other
/// patterns need one of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// An operator or punctuation token that every match contains (`"/"`, `"=="`).
    Token(&'static str),
    /// An identifier every match contains (`"nan"`, `"from_logits"`).
    Word(&'static str),
    /// Calls of this file's own functions and methods: their names are the words.
    LocalCall,
    /// A numeric literal with a value above 0 and below [`SMALL_FLOAT`], however it is written
    /// (`1e-10`, `1E-10`, `0.000_000_000_1`): no set of tokens holds them all.
    SmallFloat,
}

/// The literals [`Anchor::SmallFloat`] takes are below this: 1e-7, above float16's smallest
/// subnormal (2^-24, about 5.96e-8) and float32's half machine epsilon (2^-24 too).
pub const SMALL_FLOAT: f64 = 1e-7;

/// A rule's metadata, check and embedded texts.
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    /// The folder under `queries/python/`.
    pub dir: &'static str,
    pub query: &'static str,
    /// Markdown with ruff's headings.
    pub doc: &'static str,
    /// Captures `check` reads besides `@smell`.
    pub captures: &'static [&'static str],
    /// Anchors of patterns without an `#api?` or `#method?` predicate.
    pub anchors: &'static [Anchor],
    pub fix: FixAvailability,
    /// The fixes it offers and their applicability, for the README table.
    pub fixes: &'static str,
    pub check: Check,
    /// Runs only when preview rules are enabled (`--preview`, `preview = true`) or its code is
    /// selected by name: its hand-judged precision on real code is too low for a default.
    pub preview: bool,
}

impl Rule {
    /// Some of its forms run only in preview mode: its documentation says which, under
    /// "## Preview" (the rule runs by default in its other forms).
    pub fn has_preview_forms(&self) -> bool {
        self.doc.contains("\n## Preview\n")
    }

    /// Whether it runs by default: `" (preview)"`, `" (some forms in preview)"` or `""`, as the
    /// README table and `nanlint rule --all` show it.
    pub fn status(&self) -> &'static str {
        if self.preview {
            " (preview)"
        } else if self.has_preview_forms() {
            " (some forms in preview)"
        } else {
            ""
        }
    }

    /// The first paragraph under "What it does", for tables and short help.
    pub fn summary(&self) -> String {
        let after = self.doc.split("## What it does").nth(1).unwrap_or("");
        after.trim_start().split("\n\n").next().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The first paragraph under "Preview": which forms run by default and which only in
    /// preview mode, for the README table. Empty for a rule without preview forms.
    pub fn preview_summary(&self) -> String {
        let Some(after) = self.doc.split("\n## Preview\n").nth(1) else { return String::new() };
        after.trim_start().split("\n\n").next().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The rule's documentation page (its `rule.md`), as a path in the repository.
    pub fn page(&self) -> String {
        format!("queries/python/{}/rule.md", self.dir)
    }

    /// Where the rule's documentation is published: its `rule.md` in the repository that
    /// `Cargo.toml`'s `repository` names. None while that is unset, so no link points nowhere.
    pub fn url(&self) -> Option<String> {
        docs_url(&self.page())
    }
}

/// A number as a message shows it: an integer without a point (`100`), others with at most four
/// decimals and no trailing zeros (`14.2857`, `0.9995`), tiny ones in scientific form (`1e-8`).
pub fn message_number(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{}", v as i64);
    }
    if v != 0.0 && v.abs() < 1e-3 {
        return format!("{v:e}");
    }
    format!("{v:.4}").trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `path` in the repository `Cargo.toml`'s `package.repository` names (a GitHub-style
/// `/blob/main/` link); None when it is unset.
pub fn docs_url(path: &str) -> Option<String> {
    docs_url_in(env!("CARGO_PKG_REPOSITORY"), path)
}

/// [`docs_url`] with `repository` as `Cargo.toml`'s `repository` key.
pub fn docs_url_in(repository: &str, path: &str) -> Option<String> {
    let repository = repository.trim_end_matches('/');
    (!repository.is_empty()).then(|| format!("{repository}/blob/main/{path}"))
}

#[path = "../../../queries/python/NL101-log-of-possibly-zero/rule.rs"]
mod nl101;
#[path = "../../../queries/python/NL102-log-of-softmax/rule.rs"]
mod nl102;
#[path = "../../../queries/python/NL103-log-of-sigmoid/rule.rs"]
mod nl103;
#[path = "../../../queries/python/NL104-cross-entropy-on-probabilities/rule.rs"]
mod nl104;
#[path = "../../../queries/python/NL105-imprecise-log-exp/rule.rs"]
mod nl105;
#[path = "../../../queries/python/NL106-entropy-of-log-probabilities/rule.rs"]
mod nl106;

#[path = "../../../queries/python/NL301-softmax-into-logits-loss/rule.rs"]
mod nl301;
#[path = "../../../queries/python/NL302-sigmoid-into-logits-loss/rule.rs"]
mod nl302;
#[path = "../../../queries/python/NL303-logits-into-probability-loss/rule.rs"]
mod nl303;
#[path = "../../../queries/python/NL304-epsilon-below-dtype/rule.rs"]
mod nl304;

#[path = "../../../queries/python/NL201-division-by-possibly-zero/rule.rs"]
mod nl201;
#[path = "../../../queries/python/NL202-sqrt-or-power-at-zero/rule.rs"]
mod nl202;
#[path = "../../../queries/python/NL203-exp-overflow/rule.rs"]
mod nl203;
#[path = "../../../queries/python/NL204-where-gradient-nan/rule.rs"]
mod nl204;

/// Every rule, in code order.
pub static ALL: &[&Rule] = &[
    &nl101::RULE,
    &nl102::RULE,
    &nl103::RULE,
    &nl104::RULE,
    &nl105::RULE,
    &nl106::RULE,
    &nl201::RULE,
    &nl202::RULE,
    &nl203::RULE,
    &nl204::RULE,
    &nl301::RULE,
    &nl302::RULE,
    &nl303::RULE,
    &nl304::RULE,
];

/// Alias kept for callers that list the rules.
pub use self::ALL as RULES;

pub fn by_code(code: &str) -> Option<&'static Rule> {
    ALL.iter().copied().find(|r| r.code.eq_ignore_ascii_case(code) || r.name.eq_ignore_ascii_case(code))
}

/// The README's rule table (between `<!-- begin rules -->` and `<!-- end rules -->`).
pub fn markdown_table() -> String {
    let mut out = String::from("| Code | Name | What it catches | Fixes |\n| --- | --- | --- | --- |\n");
    for rule in ALL {
        let mut catches = rule.summary();
        let forms = rule.preview_summary();
        if !forms.is_empty() {
            catches.push_str(&format!(" <br>*{forms}*"));
        }
        out.push_str(&format!(
            "| [{}](queries/python/{}/rule.md){} | `{}` | {} | {} |\n",
            rule.code,
            rule.dir,
            rule.status(),
            rule.name,
            catches,
            rule.fixes
        ));
    }
    out
}

#[cfg(test)]
mod message_number_tests {
    use super::message_number;

    #[test]
    fn integers_have_no_point_and_fractions_at_most_four_decimals() {
        assert_eq!(message_number(100.0), "100");
        assert_eq!(message_number(-3.0), "-3");
        assert_eq!(message_number(1.0 / 0.07), "14.2857");
        assert_eq!(message_number(0.99951171875), "0.9995");
        assert_eq!(message_number(0.5), "0.5");
        assert_eq!(message_number(1e-8), "1e-8");
        assert_eq!(message_number(f64::INFINITY), "inf");
    }
}
