//! The analysis engine shared by `nanlint check` and the language server.
//!
//! One pass: parse (or reuse a tree), collect the import table, run every enabled rule's query as
//! one multi-pattern query, evaluate the engine's predicates on each match, let the rule build its
//! message and fixes, then drop what `# noqa` suppresses.

pub mod apis;
pub mod facts;
pub mod fix;
pub mod imports;
pub mod query;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::Range;
use std::rc::Rc;

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
    /// Binding indexes of the scopes looked at so far, by scope node id.
    scopes: RefCell<HashMap<usize, Rc<facts::ScopeIndex<'a>>>>,
}

impl<'a> Context<'a> {
    pub fn new(src: &'a str, tree: &'a Tree) -> Self {
        Context { src, tree, imports: Imports::collect(tree.root_node(), src), scopes: RefCell::default() }
    }

    /// The bindings of a scope (a function or the module), indexed on first use.
    pub fn scope_index(&self, scope: Node<'a>) -> Rc<facts::ScopeIndex<'a>> {
        self.scopes
            .borrow_mut()
            .entry(scope.id())
            .or_insert_with(|| Rc::new(facts::ScopeIndex::build(scope, self.src)))
            .clone()
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
    reparse(src, None)
}

/// Parses `src`, reusing `old` (already `Tree::edit`ed to match `src`) when given. Uses one
/// parser per thread: making a parser costs more than a small incremental reparse.
pub fn reparse(src: &str, old: Option<&Tree>) -> Tree {
    thread_local! {
        static PARSER: RefCell<Parser> = RefCell::new(parser());
    }
    let parsed = PARSER.with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.parse(src, old)));
    parsed.unwrap_or_else(|| {
        parser().parse(src, old).expect("parsing without a timeout or cancellation flag always returns a tree")
    })
}

/// Cheap text test run before parsing: can this file hold any smell at all? A file that never
/// names a numeric library, or never has a function a rule looks for as a whole word (at a call,
/// `np.log(`, or in the import that renamed it, `from torch import log as ln`), cannot.
/// `logging` or `logits` alone do not count.
pub fn might_smell(src: &str) -> bool {
    let q = query::compiled();
    q.roots.iter().any(|r| src.contains(r.as_str())) && q.triggers.iter().any(|t| contains_word(src, t))
}

/// `word` occurs in `src` with no identifier character on either side.
fn contains_word(src: &str, word: &str) -> bool {
    !word_ranges(src, 0..src.len(), &[word.to_string()]).is_empty()
}

/// Parses and analyzes a whole file.
pub fn check_source(src: &str, settings: &Settings) -> Vec<Smell> {
    if !might_smell(src) {
        return Vec::new();
    }
    let tree = parse(src);
    analyze(src, &tree, settings)
}

/// Runs the enabled rules over the whole tree, sorted by position, with `# noqa` suppressions
/// applied.
pub fn analyze(src: &str, tree: &Tree, settings: &Settings) -> Vec<Smell> {
    let cx = Context::new(src, tree);
    let words = piece_triggers(&cx.imports);
    let mut all = Vec::new();
    pieces(tree.root_node(), &mut all);
    let targets: Vec<Target> = all
        .into_iter()
        .map(|piece| match piece {
            Piece::Unit(node) => Target { node, range: None },
            Piece::Loose(target) => target,
        })
        .collect();
    let mut smells = run_rules(&cx, settings, &targets, &words);
    finish(src, &mut smells);
    smells
}

/// Sorted, deduplicated, `# noqa` applied.
fn finish(src: &str, smells: &mut Vec<Smell>) {
    smells.sort_by(|a, b| (a.span, &a.code).cmp(&(b.span, &b.code)));
    smells.dedup_by(|a, b| a.span == b.span && a.code == b.code);
    smells.retain(|s| !suppressed(src, s));
}

/// Where to run the rules: matches inside `node`, intersecting `range` if one is given.
/// Running on the smallest node that holds the code keeps a query from walking the whole tree
/// to find its range, which would make many small targets cost quadratic time.
struct Target<'t> {
    node: Node<'t>,
    range: Option<Range<usize>>,
}

/// The rules' findings in the targets, before sorting and `# noqa`.
///
/// When every pattern is anchored by an `#api?` predicate, the query runs only around the
/// whole-word occurrences of `words` (the rules' triggers and the local names bound to them, see
/// [`piece_triggers`]) in each target: a match must span its callee, and the callee spells one of
/// them. Matching every call of a function to keep the few that call a logarithm was most of the
/// engine's time; a cursor restricted to a byte range skips the subtrees outside it.
fn run_rules<'a>(cx: &Context<'a>, settings: &Settings, targets: &[Target<'a>], words: &[String]) -> Vec<Smell> {
    let mut smells = Vec::new();
    if !cx.imports.has_library() {
        return smells;
    }
    let compiled = query::compiled();
    let mut cursor = tree_sitter::QueryCursor::new();
    for target in targets {
        let whole = target.range.clone().unwrap_or(target.node.byte_range());
        let ranges = if compiled.anchored { word_ranges(cx.src, whole, words) } else { vec![whole] };
        // One match can span several occurrences (`torch.log(torch.log(x))` for the outer call).
        let mut seen: Vec<(usize, Vec<usize>)> = Vec::new();
        for range in ranges {
            cursor.set_byte_range(range);
            let mut matches = cursor.matches(&compiled.query, target.node, cx.src.as_bytes());
            while let Some(m) = matches.next() {
                let key = (m.pattern_index, m.captures().iter().map(|c| c.node.id()).collect::<Vec<_>>());
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                let rule = &rules::RULES[compiled.pattern_rule[m.pattern_index]];
                if !settings.is_enabled(rule.code) || !compiled.predicates_hold(cx, m) {
                    continue;
                }
                let captures = query::Captures::new(&compiled.query, m);
                let Some(smell_node) = captures.get("smell") else { continue };
                if let Some(Finding { message, fixes, related }) = (rule.check)(cx, &captures, settings) {
                    smells.push(Smell {
                        code: rule.code.to_string(),
                        rule: rule.name.to_string(),
                        message,
                        span: Span::of(smell_node),
                        fixes,
                        related,
                    });
                }
            }
        }
    }
    smells
}

/// The byte ranges of the whole-word occurrences of `words` in `src[within]`, in order.
fn word_ranges(src: &str, within: Range<usize>, words: &[String]) -> Vec<Range<usize>> {
    let Some(text) = src.get(within.clone()) else { return vec![within] };
    let bytes = src.as_bytes();
    let mut ranges: Vec<Range<usize>> = words
        .iter()
        .flat_map(|w| {
            text.match_indices(w.as_str())
                .map(move |(i, _)| within.start + i..within.start + i + w.len())
                .filter(|r| !r.start.checked_sub(1).is_some_and(|i| ident_byte(bytes[i])))
                .filter(|r| !bytes.get(r.end).copied().is_some_and(ident_byte))
        })
        .collect();
    ranges.sort_by_key(|r| (r.start, r.end));
    ranges
}

/// Bytes that continue a Python identifier; non-ASCII bytes count, as identifiers may be Unicode.
fn ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || !b.is_ascii()
}

/// Findings per function, reused across edits.
///
/// A function's findings depend only on its own text, the file's imports and the settings:
/// names inside it resolve through the import table, and reaching assignments never leave the
/// function. So after an edit, every function whose text (and starting column) is unchanged keeps
/// its findings, moved to where it now stands; only edited functions, functions with syntax
/// errors, module-level statements and class bodies are analyzed again. Imports or settings changing empties the cache.
#[derive(Default)]
pub struct UnitCache {
    imports: Option<Imports>,
    /// `piece_triggers` of `imports`.
    words: Vec<String>,
    settings: Option<Settings>,
    /// Functions with identical text (boilerplate methods) share a key, so each key holds a list.
    units: HashMap<UnitKey, Vec<CachedUnit>>,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct UnitKey {
    hash: u64,
    len: usize,
    column: usize,
}

struct CachedUnit {
    start_byte: usize,
    start_row: usize,
    smells: Vec<Smell>,
}

/// A function definition (at module level or directly in a class body, possibly decorated)
/// whose findings can be cached, or code that is always analyzed.
enum Piece<'t> {
    Unit(Node<'t>),
    Loose(Target<'t>),
}

fn pieces<'t>(root: Node<'t>, out: &mut Vec<Piece<'t>>) {
    let mut cursor = root.walk();
    for child in root.children(&mut cursor) {
        let def =
            if child.kind() == "decorated_definition" { child.child_by_field_name("definition") } else { Some(child) };
        match def.map(|d| d.kind()) {
            Some("function_definition") => out.push(Piece::Unit(child)),
            Some("class_definition") => match def.and_then(|d| d.child_by_field_name("body")) {
                Some(body) => {
                    // The header (decorators, name, bases) is loose; the body is split further.
                    out.push(Piece::Loose(Target { node: child, range: Some(child.start_byte()..body.start_byte()) }));
                    pieces(body, out);
                }
                None => out.push(Piece::Loose(Target { node: child, range: None })),
            },
            _ => out.push(Piece::Loose(Target { node: child, range: None })),
        }
    }
}

impl UnitCache {
    /// The same findings as `analyze(src, tree, settings)`, reusing unchanged functions.
    pub fn analyze(&mut self, src: &str, tree: &Tree, settings: &Settings) -> Vec<Smell> {
        let cx = Context::new(src, tree);
        if self.imports.as_ref() != Some(&cx.imports) || self.settings.as_ref() != Some(settings) {
            self.units.clear();
            self.imports = Some(cx.imports.clone());
            self.words = piece_triggers(&cx.imports);
            self.settings = Some(settings.clone());
        }
        let triggers = &self.words;
        let mut all = Vec::new();
        pieces(tree.root_node(), &mut all);
        let mut loose = Vec::new();
        // Per function, in order: its key and place, and its findings (reused, or `None` until
        // analyzed below).
        let mut slots: Vec<(UnitKey, CachedUnit, bool)> = Vec::new();
        let mut misses = Vec::new();
        for piece in all {
            let unit = match piece {
                Piece::Loose(target) => {
                    loose.push(target);
                    continue;
                }
                // A function with a syntax error in it is parsed according to its surroundings
                // (error recovery), so its text alone does not determine its findings.
                Piece::Unit(unit) if unit.has_error() => {
                    loose.push(Target { node: unit, range: None });
                    continue;
                }
                Piece::Unit(unit) => unit,
            };
            let text = &src[unit.byte_range()];
            let key = UnitKey { hash: hash_text(text), len: text.len(), column: unit.start_position().column };
            let (start_byte, start_row) = (unit.start_byte(), unit.start_position().row);
            let reused = self.units.get_mut(&key).and_then(Vec::pop);
            let (smells, analyzed) = match reused {
                Some(c) => {
                    let (db, dr) =
                        (start_byte as isize - c.start_byte as isize, start_row as isize - c.start_row as isize);
                    let moved: Vec<Smell> = c
                        .smells
                        .into_iter()
                        .map(|mut s| {
                            s.move_from(c.start_byte, db, dr);
                            s
                        })
                        .collect();
                    (moved, true)
                }
                None if !mentions_any(text, triggers) => (Vec::new(), true),
                None => {
                    misses.push(unit);
                    (Vec::new(), false)
                }
            };
            slots.push((key, CachedUnit { start_byte, start_row, smells }, analyzed));
        }
        let mut found = analyze_units(&cx, settings, &misses, triggers).into_iter();
        let mut smells = Vec::new();
        let mut fresh_units = HashMap::with_capacity(self.units.len());
        for (key, mut cached, analyzed) in slots {
            if !analyzed {
                cached.smells = found.next().unwrap_or_default();
            }
            smells.extend(cached.smells.iter().cloned());
            fresh_units.entry(key).or_insert_with(Vec::new).push(cached);
        }
        self.units = fresh_units;
        loose.retain(|t| {
            let range = t.range.clone().unwrap_or(t.node.byte_range());
            mentions_any(&src[range], triggers)
        });
        smells.extend(run_rules(&cx, settings, &loose, triggers));
        finish(src, &mut smells);
        smells
    }
}

/// One edit as the server applied it: `start..old_end` of the old text became `start..new_end`,
/// the text from `old_end` on moved by `rows` lines, and `unit` is the function that held the
/// edit in the old text ([`unit_around`] on the old tree, before `Tree::edit`); `unit_imports`
/// says whether its old text mentioned `import`.
#[derive(Clone, Debug)]
pub struct EditSite {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
    pub rows: isize,
    pub unit: Range<usize>,
    pub unit_imports: bool,
}

/// The function whose findings the cache keeps (a definition at module level or directly in a
/// class body, with its decorators) that holds `start..end` after its first byte, if any.
pub fn unit_around(tree: &Tree, start: usize, end: usize) -> Option<Range<usize>> {
    unit_node_around(tree.root_node(), start, end).map(|n| n.byte_range())
}

fn unit_node_around(root: Node, start: usize, end: usize) -> Option<Node> {
    let mut parent = root;
    loop {
        // The first child that ends at or after `start`: the one holding it, or that `start`
        // extends (typing at the end of a function's last line).
        let child = parent.first_child_for_byte(start.checked_sub(1)?)?;
        if child.start_byte() >= start || child.end_byte() < end {
            return None;
        }
        let def = if child.kind() == "decorated_definition" { child.child_by_field_name("definition")? } else { child };
        match def.kind() {
            "function_definition" => return Some(child),
            "class_definition" => {
                let body = def.child_by_field_name("body")?;
                if start <= body.start_byte() {
                    return None;
                }
                parent = body;
            }
            _ => return None,
        }
    }
}

impl UnitCache {
    /// The findings after an edit inside one function, from `previous` (the findings before it)
    /// and a fresh analysis of that function alone; `None` when the shortcut does not apply and
    /// [`UnitCache::analyze`] must run. It applies when the edit lies inside the function that
    /// was at `site.unit` before it, that function still starts there and ends where the edit
    /// moved its end, the reparse changed the tree nowhere else (`old_tree` is the edited old
    /// tree), and the imports and settings are those of the last analysis. Everything else
    /// kept its text, and a function's findings depend only on its own text, the imports and the
    /// settings, so the other findings only move.
    pub fn reanalyze_edit(
        &mut self,
        src: &str,
        old_tree: &Tree,
        tree: &Tree,
        settings: &Settings,
        previous: &[Smell],
        site: &EditSite,
    ) -> Option<Vec<Smell>> {
        let old_unit = site.unit.clone();
        if self.settings.as_ref() != Some(settings) {
            return None;
        }
        let delta = site.new_end as isize - site.old_end as isize;
        let unit = unit_node_around(tree.root_node(), site.start, site.new_end)?;
        if unit.start_byte() != old_unit.start || unit.end_byte() as isize != old_unit.end as isize + delta {
            return None;
        }
        // Where either tree has a syntax error, an incremental reparse may recover differently
        // elsewhere; without errors the text outside the function, unchanged, parses the same.
        let erroneous = old_tree.root_node().has_error() || tree.root_node().has_error();
        if erroneous
            && old_tree.changed_ranges(tree).any(|r| r.start_byte < unit.start_byte() || r.end_byte > unit.end_byte())
        {
            return None;
        }
        // Imports are collected at module level and in bodies that mention `import`: unless the
        // function does (before or after the edit), the table is the last analysis's.
        let imports = self.imports.as_ref()?;
        if site.unit_imports || src[unit.byte_range()].contains("import") || old_unit.start < imports.insert_at() {
            return None;
        }
        let cx = Context { src, tree, imports: imports.clone(), scopes: RefCell::default() };
        let words = &self.words;
        let mut fresh = if mentions_any(&src[unit.byte_range()], words) {
            run_rules(&cx, settings, &[Target { node: unit, range: None }], words)
        } else {
            Vec::new()
        };
        finish(src, &mut fresh);
        let moved = |s: &Smell| {
            let mut s = s.clone();
            s.move_from(site.old_end, delta, site.rows);
            s
        };
        let before = previous.partition_point(|s| s.span.start_byte < old_unit.start);
        let after = previous.partition_point(|s| s.span.start_byte < old_unit.end);
        let mut smells = Vec::with_capacity(previous.len() + fresh.len());
        smells.extend(previous[..before].iter().map(moved));
        smells.append(&mut fresh);
        smells.extend(previous[after..].iter().map(moved));
        Some(smells)
    }
}

/// Below this many functions to analyze, one thread does it: handing work to a second core costs
/// more than a few functions (about 10 to 50 µs each).
const PARALLEL_UNITS: usize = 64;

/// The findings of each function in `units`, in order. Many at once (opening a file, or an edit
/// that changed its imports) are shared among rayon's threads, each with a context of its own.
fn analyze_units<'a>(cx: &Context<'a>, settings: &Settings, units: &[Node<'a>], words: &[String]) -> Vec<Vec<Smell>> {
    let one =
        |cx: &Context<'a>, unit: &Node<'a>| run_rules(cx, settings, &[Target { node: *unit, range: None }], words);
    if units.len() < PARALLEL_UNITS || rayon::current_num_threads() < 2 {
        return units.iter().map(|u| one(cx, u)).collect();
    }
    use rayon::prelude::*;
    let chunk = units.len().div_ceil(rayon::current_num_threads() * 4).max(PARALLEL_UNITS / 4);
    let (src, tree, imports) = (cx.src, cx.tree, &cx.imports);
    units
        .par_chunks(chunk)
        .flat_map_iter(|chunk| {
            let local = Context { src, tree, imports: imports.clone(), scopes: RefCell::default() };
            chunk.iter().map(|u| one(&local, u)).collect::<Vec<_>>()
        })
        .collect()
}

/// Words one of which any code holding a smell must contain: the rules' function names, and the
/// local names this file's imports bind to functions (`ln` after `from torch import log as ln`).
fn piece_triggers(imports: &Imports) -> Vec<String> {
    let q = query::compiled();
    let mut words = q.triggers.clone();
    words.extend(imports.names_reaching(|api| q.triggers.iter().any(|t| apis::leaf(api).contains(t.as_str()))));
    words
}

fn mentions_any(text: &str, words: &[String]) -> bool {
    words.iter().any(|w| text.contains(w.as_str()))
}

fn hash_text(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// `# noqa` (every code) or `# noqa: NL101, NL102` on the line where the smell starts.
pub fn suppressed(src: &str, smell: &Smell) -> bool {
    let line_start = src[..smell.span.start_byte.min(src.len())].rfind('\n').map_or(0, |i| i + 1);
    let line_end = src[line_start..].find('\n').map_or(src.len(), |i| line_start + i);
    match noqa_codes(&src[line_start..line_end]) {
        None => false,
        Some(codes) => codes.is_empty() || codes.iter().any(|c| c.eq_ignore_ascii_case(&smell.code)),
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
                || (c.chars().next().is_some_and(|ch| ch.is_ascii_alphabetic())
                    && c.chars().any(|ch| ch.is_ascii_digit())
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
        assert!(might_smell("import numpy as np\nnp.log10(x)"));
        assert!(might_smell("from torch import log as ln\nln(x)"));
        // Words that merely contain a trigger do not count.
        assert!(!might_smell("import torch\nimport logging\nlogits = torch.zeros(3)\nlogger.info(catalog)"));
        assert!(!might_smell("import torch\nx = é_log(1)"));
        assert!(!might_smell("import numpy as np\nnp.sum(x)"));
        assert!(!might_smell("import logging\nlog(x)"));
    }
}
