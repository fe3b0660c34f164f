//! The analysis engine shared by `nanlint check` and the language server.
//!
//! One pass: parse (or reuse a tree), collect the import table, run every enabled rule's query as
//! one multi-pattern query, evaluate the engine's predicates on each match, let the rule build its
//! message and fixes, then drop what `# noqa` suppresses.

pub mod apis;
pub mod facts;
pub mod imports;
pub mod query;

use std::ops::Range;

use tree_sitter::{Node, Parser, StreamingIterator, Tree};

use crate::rules::{self, Finding};
use crate::settings::Settings;
use crate::smell::{Smell, Span};
use imports::Imports;

/// What a rule sees of the file it checks.
pub struct Context<'a> {
    pub src: &'a str,
    pub tree: &'a Tree,
    pub imports: Imports,
}

impl<'a> Context<'a> {
    pub fn new(src: &'a str, tree: &'a Tree) -> Self {
        Context { src, tree, imports: Imports::collect(tree.root_node(), src) }
    }

    pub fn text(&self, node: Node) -> &'a str {
        imports::text(node, self.src)
    }
}

pub fn language() -> tree_sitter::Language {
    tree_sitter_python::LANGUAGE.into()
}

pub fn parser() -> Parser {
    let mut parser = Parser::new();
    parser.set_language(&language()).expect("the bundled Python grammar matches the tree-sitter version");
    parser
}

/// Parses Python source. Tree-sitter recovers from syntax errors, so this always yields a tree.
pub fn parse(src: &str) -> Tree {
    parser().parse(src, None).expect("parsing without a timeout or cancellation flag always returns a tree")
}

/// Cheap text test run before parsing: can this file hold any smell at all? A file that never
/// names a numeric library, or never mentions any function a rule looks for, cannot.
pub fn might_smell(src: &str) -> bool {
    let q = query::compiled();
    q.roots.iter().any(|r| src.contains(r.as_str())) && q.triggers.iter().any(|t| src.contains(t.as_str()))
}

/// Parses and analyzes a whole file.
pub fn check_source(src: &str, settings: &Settings) -> Vec<Smell> {
    if !might_smell(src) {
        return Vec::new();
    }
    let tree = parse(src);
    analyze(src, &tree, settings, None)
}

/// Runs the enabled rules over `tree` (or only over matches that intersect `range`), sorted by
/// position, with `# noqa` suppressions applied.
pub fn analyze(src: &str, tree: &Tree, settings: &Settings, range: Option<Range<usize>>) -> Vec<Smell> {
    let cx = Context::new(src, tree);
    if !cx.imports.has_library() {
        return Vec::new();
    }
    let compiled = query::compiled();
    let mut cursor = tree_sitter::QueryCursor::new();
    if let Some(range) = range {
        cursor.set_byte_range(range);
    }
    let mut smells = Vec::new();
    let mut matches = cursor.matches(&compiled.query, tree.root_node(), src.as_bytes());
    while let Some(m) = matches.next() {
        let rule = &rules::RULES[compiled.pattern_rule[m.pattern_index]];
        if !settings.is_enabled(rule.code) || !compiled.predicates_hold(&cx, m) {
            continue;
        }
        let captures = query::Captures::new(&compiled.query, m);
        let Some(smell_node) = captures.get("smell") else {
            continue;
        };
        if let Some(Finding { message, fixes }) = (rule.check)(&cx, &captures, settings) {
            smells.push(Smell {
                code: rule.code.to_string(),
                rule: rule.name.to_string(),
                message,
                span: Span::of(smell_node),
                fixes,
            });
        }
    }
    smells.sort_by(|a, b| (a.span, &a.code).cmp(&(b.span, &b.code)));
    smells.dedup_by(|a, b| a.span == b.span && a.code == b.code);
    smells.retain(|s| !suppressed(src, s));
    smells
}

/// `# noqa` (every code) or `# noqa: NL101, NL102` on the line where the smell starts.
pub fn suppressed(src: &str, smell: &Smell) -> bool {
    let line_start = src[..smell.span.start_byte.min(src.len())].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[line_start..].find('\n').map_or(src.len(), |i| line_start + i);
    match noqa_codes(&src[line_start..line_end]) {
        None => false,
        Some(codes) => codes.is_empty() || codes.iter().any(|c| c == &smell.code),
    }
}

/// The codes of a `# noqa` comment on `line`: `None` without one, `Some([])` for a blanket noqa.
pub fn noqa_codes(line: &str) -> Option<Vec<String>> {
    let hash = line.find('#')?;
    let comment = &line[hash..];
    let lower = comment.to_ascii_lowercase();
    let at = lower.find("noqa")?;
    // Only `#`, spaces, and other comment text may stand before `noqa` within the comment.
    let after = &comment[at + 4..];
    let Some(list) = after.strip_prefix(':') else {
        return Some(Vec::new());
    };
    let codes: Vec<String> = list
        .split([',', ' ', '\t'])
        .map(str::trim)
        .take_while(|c| {
            c.is_empty()
                || (c.chars().next().is_some_and(|ch| ch.is_ascii_uppercase())
                    && c.chars().all(|ch| ch.is_ascii_alphanumeric()))
        })
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    Some(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noqa_forms() {
        assert_eq!(noqa_codes("x = 1"), None);
        assert_eq!(noqa_codes("x = 1  # noqa"), Some(vec![]));
        assert_eq!(noqa_codes("x = 1  # NOQA"), Some(vec![]));
        assert_eq!(noqa_codes("x = 1  # noqa: NL101"), Some(vec!["NL101".to_string()]));
        assert_eq!(
            noqa_codes("x = 1  # noqa: NL101, NL102 because"),
            Some(vec!["NL101".to_string(), "NL102".to_string()])
        );
        assert_eq!(noqa_codes("x = 1  # type: ignore  # noqa:NL101"), Some(vec!["NL101".to_string()]));
    }

    #[test]
    fn prefilter_needs_a_library_and_a_trigger() {
        assert!(might_smell("import numpy as np\nnp.log(x)"));
        assert!(!might_smell("import numpy as np\nnp.sum(x)"));
        assert!(!might_smell("import logging\nlog(x)"));
    }
}
