//! The rule registry. Each rule lives in one folder, `queries/python/<CODE>-<name>/`: its query
//! (`query.scm`), its documentation (`rule.md`: hover text, `nanlint rule`, README row), its
//! message and fixes (`rule.rs`), and its fixtures (`bad.py`, `good.py`). The build script embeds
//! them; nothing is read from disk at run time.

use crate::engine::Context;
use crate::engine::query::Captures;
use crate::settings::Settings;
use crate::smell::{Fix, Related};

/// What a rule's `check` returns for one query match.
pub struct Finding {
    pub message: String,
    pub fixes: Vec<Fix>,
    pub related: Option<Related>,
}

/// The tree's lifetime ties the captured nodes to the context that reasons about them.
pub type Check = for<'a> fn(&Context<'a>, &Captures<'a>, &Settings) -> Option<Finding>;

pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    /// The folder under `queries/python/`.
    pub dir: &'static str,
    pub query: &'static str,
    /// Markdown with ruff's headings.
    pub doc: &'static str,
    /// Captures the rule reads besides `@smell`.
    pub captures: &'static [&'static str],
    /// The fixes it offers, for the README table (e.g. "clip or xlogy (unsafe)").
    pub fixes: &'static str,
    pub check: Check,
}

impl Rule {
    /// The first paragraph under "What it does", for tables and short help.
    pub fn summary(&self) -> String {
        let after = self.doc.split("## What it does").nth(1).unwrap_or("");
        after.trim_start().split("\n\n").next().unwrap_or("").split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// Where the rule's documentation is published: its `rule.md` in the repository that
    /// `Cargo.toml`'s `repository` names. None while that is unset, so no link points nowhere.
    pub fn url(&self) -> Option<String> {
        docs_url(&format!("queries/python/{}/rule.md", self.dir))
    }
}

/// `path` in the repository `Cargo.toml`'s `package.repository` names (a GitHub-style
/// `/blob/main/` link); None when it is unset.
pub fn docs_url(path: &str) -> Option<String> {
    let repository = env!("CARGO_PKG_REPOSITORY").trim_end_matches('/');
    (!repository.is_empty()).then(|| format!("{repository}/blob/main/{path}"))
}

pub fn by_code(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code.eq_ignore_ascii_case(code) || r.name == code)
}

include!(concat!(env!("OUT_DIR"), "/rules_gen.rs"));

/// The README's rule table (between `<!-- begin rules -->` and `<!-- end rules -->`).
pub fn markdown_table() -> String {
    let mut out = String::from("| Code | Name | What it catches | Fixes |\n| --- | --- | --- | --- |\n");
    for rule in RULES {
        out.push_str(&format!(
            "| [{}](queries/python/{}/rule.md) | `{}` | {} | {} |\n",
            rule.code,
            rule.dir,
            rule.name,
            rule.summary(),
            rule.fixes
        ));
    }
    out
}
