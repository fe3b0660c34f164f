//! The engine: runs a set of rules over a parsed file and returns its findings, shared by
//! `nanlint check` and the language server.
//!
//! One pass: build the semantic model (lazily), run every enabled rule's query as one
//! multi-pattern query around the words and tokens its patterns are anchored on, let each rule's
//! check turn a match into findings, then settle precedence between rules (`SUPERSEDES`) and drop
//! what `# noqa` suppresses. [`cache`] reuses the findings of unchanged functions between
//! versions of a document; [`fix`] applies fixes.

pub mod cache;
pub mod fix;

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use tree_sitter::{Node, StreamingIterator, Tree};

use crate::rules::query::{Compiled, RuleQuery, compile_from};
use crate::rules::{self, Captures, Checker, Rule};
use crate::semantic::imports::Imports;
use crate::semantic::{Model, apis};
use crate::settings::Settings;
use crate::smell::Smell;
pub use crate::syntax::{FIELD, parse, reparse};
use crate::syntax::{KindName, Span, identifiers, numeric_literals, numeric_value};
pub use cache::{EditSite, UnitCache, unit_around};

/// Precedence between rules: where the first rule reports a span that holds the second's, the
/// second's finding is dropped and its fixes become further alternatives of the first's (not
/// one strictly inside another such finding of the second rule: that one is about an inner value
/// the first's fix leaves in place). A
/// `# noqa` naming the second silences the first where it took a finding of the second's place
/// ([`Smell::absorbed`]).
pub const SUPERSEDES: &[(&str, &str)] = &[
    // Log family (issue 8): the log of a probability, a cross-entropy or an entropy holds a log
    // of a value that reaches 0.
    ("NL102", "NL101"),
    ("NL103", "NL101"),
    ("NL104", "NL101"),
    ("NL104", "NL102"),
    ("NL104", "NL103"),
    ("NL106", "NL101"),
    ("NL106", "NL102"),
    // Overflowing `exp` inside a log-sum-exp, softplus or softmax written out: `logsumexp`,
    // `softplus` and the loss on logits remove the `exp`.
    ("NL105", "NL203"),
    ("NL104", "NL203"),
    ("NL106", "NL203"),
    // A division by `sqrt(var)`: the value's division by 0 comes first; `+ eps` under the root
    // fixes both.
    ("NL201", "NL202"),
    // A root or division inside a `where` that guards it: the `where`'s gradient is the finding.
    ("NL204", "NL202"),
    ("NL204", "NL201"),
    ("NL204", "NL101"),
    ("NL204", "NL105"),
    ("NL204", "NL102"),
    ("NL204", "NL103"),
];

/// Rules compiled to run together.
pub struct RuleSet {
    pub rules: Vec<&'static Rule>,
    pub compiled: Compiled,
}

impl RuleSet {
    /// Compiles `rules` together. Rule sets live as long as the process (the server and the
    /// CLI keep one; tests make a few), so the set is leaked and callers hold `&'static`.
    pub fn new(rules: Vec<&'static Rule>) -> Result<&'static RuleSet, String> {
        let queries: Vec<RuleQuery> = rules.iter().map(|r| RuleQuery::from(*r)).collect();
        let compiled = compile_from(&queries)?;
        Ok(Box::leak(Box::new(RuleSet { rules, compiled })))
    }

    /// Every rule. The queries are embedded and tested, so failing here is a build defect.
    pub fn all() -> &'static RuleSet {
        static ALL: OnceLock<&'static RuleSet> = OnceLock::new();
        ALL.get_or_init(|| {
            RuleSet::new(rules::ALL.to_vec()).unwrap_or_else(|e| panic!("embedded rule queries do not compile: {e}"))
        })
    }

    /// The words and tokens around which this file's code is queried: the rules' words, the
    /// local names imports bind to the rules' functions (`ln` after `from torch import log as
    /// ln`), and, for rules anchored on local calls, the names of the file's functions.
    pub fn triggers(&self, imports: &Imports) -> Triggers {
        let c = &self.compiled;
        let mut words = c.words.clone();
        words.extend(imports.names_reaching(|api| c.words.iter().any(|w| apis::leaf(api) == w.as_str())));
        if c.local_calls {
            words.extend(imports.defined().iter().cloned());
        }
        words.sort();
        words.dedup();
        Triggers { words, tokens: c.tokens.clone(), small_floats: c.small_floats }
    }
}

/// Words (matched whole), tokens (matched anywhere) and small float literals, one of which every
/// match contains.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Triggers {
    pub words: Vec<String>,
    pub tokens: Vec<String>,
    /// Numeric literals above 0 and below [`rules::SMALL_FLOAT`] ([`rules::Anchor::SmallFloat`]).
    pub small_floats: bool,
}

/// The numeric literals of `text` (offsets plus `base`) above 0 and below [`rules::SMALL_FLOAT`].
fn small_floats(text: &str, base: usize) -> impl Iterator<Item = (usize, &str)> {
    numeric_literals(text, base).filter(|(_, l)| numeric_value(l).is_some_and(|v| v > 0.0 && v < rules::SMALL_FLOAT))
}

impl Triggers {
    /// Some trigger occurs in `text` (whole words as whole words, looked up one by one in a
    /// pass over the identifiers of the text).
    pub fn mentioned_in(&self, text: &str) -> bool {
        identifiers(text, 0).any(|(_, w)| self.words.binary_search_by(|x| x.as_str().cmp(w)).is_ok())
            || self.tokens.iter().any(|t| text.contains(t.as_str()))
            || (self.small_floats && small_floats(text, 0).next().is_some())
    }

    /// The byte ranges of the trigger occurrences in `src[within]`, in order: one pass over the
    /// identifiers of the text (the words are sorted, so each is a binary search), one search
    /// per token, and one pass over the numbers if small floats are triggers.
    fn ranges(&self, src: &str, within: Range<usize>) -> Vec<Range<usize>> {
        let Some(text) = src.get(within.clone()) else { return vec![within] };
        let words = identifiers(text, within.start)
            .filter(|(_, w)| self.words.binary_search_by(|x| x.as_str().cmp(w)).is_ok())
            .map(|(at, w)| at..at + w.len());
        let tokens = self.tokens.iter().flat_map(|t| {
            text.match_indices(t.as_str()).map(move |(i, _)| within.start + i..within.start + i + t.len())
        });
        let floats = self.small_floats.then(|| small_floats(text, within.start)).into_iter().flatten();
        let floats = floats.map(|(at, l)| at..at + l.len());
        let mut ranges: Vec<Range<usize>> = words.chain(tokens).chain(floats).collect();
        ranges.sort_by_key(|r| (r.start, r.end));
        ranges
    }
}

/// Cheap text test run before parsing: can this file hold any smell at all? A file that never
/// names a numeric library, or none of the rules' words (as whole words) or tokens, cannot.
/// `logging` or `logits` alone do not count.
pub fn might_smell(src: &str) -> bool {
    let c = &RuleSet::all().compiled;
    // One pass over the identifiers with a binary search in the sorted words: a scan of the
    // whole text per word was a sixth of `nanlint check` on the corpus once the catalog had
    // a few hundred words. Tokens first: `/` is in most files.
    c.roots.iter().any(|r| src.contains(r.as_str()))
        && (c.tokens.iter().any(|t| src.contains(t.as_str()))
            || identifiers(src, 0).any(|(_, w)| c.words.binary_search_by(|x| x.as_str().cmp(w)).is_ok())
            || (c.small_floats && small_floats(src, 0).next().is_some()))
}

/// Parses and analyzes a whole file.
pub fn check_source(src: &str, settings: &Settings) -> Vec<Smell> {
    if !might_smell(src) {
        return Vec::new();
    }
    let tree = parse(src);
    analyze(src, &tree, settings)
}

/// Runs every enabled rule over the whole tree; findings sorted by position, precedence and
/// `# noqa` applied.
pub fn analyze(src: &str, tree: &Tree, settings: &Settings) -> Vec<Smell> {
    analyze_with(RuleSet::all(), src, tree, settings)
}

/// [`analyze`] with a chosen rule set.
pub fn analyze_with(rules: &'static RuleSet, src: &str, tree: &Tree, settings: &Settings) -> Vec<Smell> {
    analyze_counted(rules, src, tree, settings).0
}

/// How much work one analysis did, for tests that check it grows in proportion to the input
/// (never with wall time): each count is deterministic for a given source and settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Syntax nodes visited looking for code nested too deep (NL003): every node of the file
    /// once, in the worst case.
    pub nodes_visited: usize,
    /// Query runs (one per byte range queried).
    pub queries: usize,
    /// Bytes of source those runs covered.
    pub bytes_queried: usize,
    /// Query matches enumerated, repeats included.
    pub matches: usize,
    /// Values the semantic model computed (memo misses included, answers from the memo not).
    pub values_evaluated: usize,
    /// Steps down the tree taken to find a node's ancestors (`syntax::ancestry`).
    pub ancestor_steps: usize,
    /// Nodes walked building a scope's indexes (its identifiers by name, its dtype
    /// conversions) and entries rules examined from them (`Model::index_work`).
    pub index_work: usize,
    /// Facts recorded as used, for a cache to check later (`Model::recorded`): none, as no
    /// cache keeps this analysis.
    pub facts_recorded: usize,
    /// Nodes walked by the rules' and the model's own walks of a subtree (`syntax::visit`).
    pub nodes_walked: usize,
    /// Statements read walking back through blocks for the bindings that reach a use
    /// (`semantic::scope::reaching_steps`).
    pub reaching_steps: usize,
}

/// [`analyze_with`], also returning the work it did.
pub fn analyze_counted(rules: &'static RuleSet, src: &str, tree: &Tree, settings: &Settings) -> (Vec<Smell>, Stats) {
    let steps = crate::syntax::ancestor_steps();
    let walked = crate::syntax::nodes_walked();
    let reaching = crate::semantic::scope::reaching_steps();
    let imports = Arc::new(Imports::collect(tree.root_node(), src));
    // No cache keeps these findings: the facts they used are not recorded.
    let model = Model::new(src, tree, imports.clone()).without_dependencies();
    let triggers = rules.triggers(&imports);
    let mut all = Vec::new();
    pieces(tree.root_node(), &mut all);
    let targets: Vec<Target> = all
        .into_iter()
        .map(|piece| match piece {
            Piece::Unit(node, _) => Target { node, range: None },
            Piece::Loose(target) => target,
        })
        .collect();
    let mut stats = Stats::default();
    let mut smells = run_rules_counted(rules, &model, settings, &targets, &triggers, &mut stats);
    finish(src, tree.root_node(), &mut smells);
    stats.values_evaluated = model.evaluations();
    stats.index_work = model.index_work();
    stats.facts_recorded = model.recorded();
    stats.ancestor_steps = crate::syntax::ancestor_steps() - steps;
    stats.nodes_walked = crate::syntax::nodes_walked() - walked;
    stats.reaching_steps = crate::semantic::scope::reaching_steps() - reaching;
    (smells, stats)
}

/// Where to run the rules: matches inside `node`, intersecting `range` if one is given.
/// Running on the smallest node that holds the code keeps a query from walking the whole tree
/// to find its range, which would make many small targets cost quadratic time.
pub(crate) struct Target<'t> {
    pub node: Node<'t>,
    pub range: Option<Range<usize>>,
}

/// The rules' findings in the targets, before sorting, precedence and `# noqa`.
///
/// The query runs only around the occurrences of the triggers in each target: every match spans
/// one (see [`crate::rules::Anchor`]). Matching every call of a function to keep the few that
/// call a logarithm was most of the engine's time; a cursor restricted to a byte range skips the
/// subtrees outside it.
pub(crate) fn run_rules<'a>(
    rules: &'static RuleSet,
    model: &Model<'a>,
    settings: &Settings,
    targets: &[Target<'a>],
    triggers: &Triggers,
) -> Vec<Smell> {
    run_rules_counted(rules, model, settings, targets, triggers, &mut Stats::default())
}

/// [`run_rules`], adding the work it does to `stats`.
///
/// Matches are started at most [`MAX_NESTING`] levels below a target's node; a target with
/// code deeper than that gets one NL003 at its first such node.
pub(crate) fn run_rules_counted<'a>(
    rules: &'static RuleSet,
    model: &Model<'a>,
    settings: &Settings,
    targets: &[Target<'a>],
    triggers: &Triggers,
    stats: &mut Stats,
) -> Vec<Smell> {
    let mut smells = Vec::new();
    if !model.imports.has_library() {
        return smells;
    }
    let compiled = &rules.compiled;
    let mut cursor = tree_sitter::QueryCursor::new();
    cursor.set_max_start_depth(Some(MAX_NESTING));
    let checker = Checker { model, settings };
    for target in targets {
        // Every target, also one no rule is triggered in: code too deep to follow is reported
        // wherever it is (a statement of 100,000 parentheses around a literal included).
        if let Some(deep) = too_deep(target, &mut stats.nodes_visited) {
            smells.push(nesting_too_deep(deep));
        }
        let whole = target.range.clone().unwrap_or(target.node.byte_range());
        let ranges = query_ranges(triggers.ranges(model.src, whole));
        if ranges.is_empty() {
            continue;
        }
        if target.range.is_none() {
            model.index_parents(target.node);
        }
        // One match can span several occurrences (`torch.log(torch.log(x))` for the outer call).
        let mut seen: foldhash::HashSet<(usize, Vec<usize>)> = Default::default();
        for range in ranges {
            stats.queries += 1;
            stats.bytes_queried += range.len();
            cursor.set_byte_range(range);
            let mut matches = cursor.matches(&compiled.query, target.node, model.src.as_bytes());
            while let Some(m) = matches.next() {
                stats.matches += 1;
                let key = (m.pattern_index, m.captures().iter().map(|c| c.node.id()).collect::<Vec<_>>());
                if !seen.insert(key) {
                    continue;
                }
                let mut captures = None;
                for &pattern in &compiled.shared[m.pattern_index] {
                    let rule = rules.rules[compiled.pattern_rule[pattern]];
                    if !settings.is_enabled(rule.code) || !compiled.predicates_hold(model, m, pattern) {
                        continue;
                    }
                    let captures = captures.get_or_insert_with(|| Captures::new(&compiled.query, m));
                    let Some(smell_node) = captures.get("smell") else { continue };
                    let findings = (rule.check)(&checker, captures);
                    let caveats = checker.model.take_import_caveats();
                    for mut finding in findings {
                        downgrade(&mut finding.fixes, &caveats);
                        smells.push(Smell {
                            code: rule.code,
                            rule: rule.name,
                            message: finding.message,
                            span: finding.span.unwrap_or_else(|| Span::of(smell_node)),
                            fixes: finding.fixes,
                            related: finding.related,
                            absorbed: Vec::new(),
                        });
                    }
                }
            }
        }
    }
    smells
}

/// Makes each fix holding an import edit a caveat names (an import at the top of a package the
/// module imports only conditionally: [`Model::take_import_caveats`]) unsafe,
/// adding the caveat to its title.
fn downgrade(fixes: &mut [crate::smell::Fix], caveats: &[(crate::smell::Edit, String)]) {
    if caveats.is_empty() {
        return;
    }
    for fix in fixes {
        if let Some((_, caveat)) = caveats.iter().find(|(edit, _)| fix.edits.contains(edit)) {
            fix.applicability = crate::smell::Applicability::Unsafe;
            fix.title = format!("{} ({caveat})", fix.title);
        }
    }
}

/// How many levels below a target's node (a statement, or a function) the rules look: matches
/// rooted deeper are not started, and NL003 says so. Python refuses more than 200 nested
/// parentheses, and real code stays far below this; past it, every node's walk up its ancestors
/// would make the analysis quadratic in the depth.
pub const MAX_NESTING: u32 = 400;

/// The first node of `target` (within its range) more than [`MAX_NESTING`] levels below its
/// node, visiting nodes in order with an explicit cursor (no recursion: a tree can be 100,000
/// deep); adds the nodes it visits to `visited`.
///
/// A subtree of `n` nodes is at most `n - 1` levels deep, and tree-sitter stores each node's
/// count: the walk does not enter a subtree too small to reach the limit, so it visits only the
/// few large nodes of ordinary code, and every target can be looked at. The depth is counted
/// along the walk: `TreeCursor::depth` counts the cursor's whole stack at each call.
fn too_deep<'t>(target: &Target<'t>, visited: &mut usize) -> Option<Node<'t>> {
    let within = |n: Node| target.range.as_ref().is_none_or(|r| n.start_byte() < r.end && r.start < n.end_byte());
    let limit = MAX_NESTING as usize;
    // Can a node `depth` levels below the target's have a descendant deeper than the limit?
    let may_reach = |n: Node, depth: usize| depth + n.descendant_count() > limit + 1;
    let mut cursor = target.node.walk();
    let mut depth = 0;
    'walk: loop {
        *visited += 1;
        if depth > limit {
            return Some(cursor.node());
        }
        let node = cursor.node();
        if may_reach(node, depth) && within(node) && cursor.goto_first_child() {
            depth += 1;
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                return None;
            }
            depth -= 1;
        }
    }
}

/// NL003 at the start of `node`.
fn nesting_too_deep(node: Node) -> Smell {
    let (code, name) = crate::settings::BUILTIN_CODES[3];
    let mut span = Span::of(node);
    (span.end_byte, span.end) = (span.start_byte, span.start);
    Smell {
        code,
        rule: name,
        message: format!(
            "Code nested more than {MAX_NESTING} levels deep in one statement: smells inside it are not checked"
        ),
        span,
        fixes: Vec::new(),
        related: None,
        absorbed: Vec::new(),
    }
}

/// Trigger occurrences closer than this many bytes are queried as one range. Only overlapping
/// or touching ones: with the catalog's patterns, walking the code between two occurrences (the
/// query starts a state at every call there) costs more than starting the query again, which
/// skips the siblings before the next occurrence. Every match contains an occurrence of a
/// trigger (the anchors are complete: NL304's is a small float found by its value), so no
/// match lies between two of them.
const MERGE_GAP: usize = 0;

/// More separate ranges than this in one target are queried as one range from the first to the
/// last.
const MAX_RANGES: usize = 16;

/// The byte ranges to run the query on, given the sorted trigger occurrences of one target.
///
/// A query restricted to a byte range still enters every sibling before the range on its way
/// down (tree-sitter skips a subtree only after entering its root), so each range costs up to
/// the size of the target: one query per occurrence made a line of 90,000 calls, or a call
/// nested 3,200 deep, quadratic. Merged ranges cover each byte at most once, and at most
/// [`MAX_RANGES`] of them per target keep the skipping linear.
fn query_ranges(occurrences: Vec<Range<usize>>) -> Vec<Range<usize>> {
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in occurrences {
        match merged.last_mut() {
            Some(last) if r.start <= last.end + MERGE_GAP => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    if merged.len() > MAX_RANGES {
        let (start, end) = (merged[0].start, merged.iter().map(|r| r.end).max().unwrap_or(0));
        merged.truncate(1);
        merged[0] = start..end;
    }
    merged
}

/// Sorted, deduplicated, precedence settled, `# noqa` applied.
pub(crate) fn finish(src: &str, root: Node, smells: &mut Vec<Smell>) {
    settle(smells);
    if smells.is_empty() {
        return;
    }
    // Smells are sorted: each line's start is found by searching back only over the text since
    // the previous smell (searching back to each smell's line start made 90,000 smells on one
    // 1 MB line quadratic; indexing every line of the file was a tenth of a keystroke's time),
    // and each line's comment is read once.
    let mut lines = LineStarts::default();
    let mut last: Option<(usize, Option<Vec<String>>)> = None;
    smells.retain(|s| {
        let line = lines.of(src, s.span.start_byte.min(src.len()));
        if last.as_ref().is_none_or(|(l, _)| *l != line) {
            let (text, comment) = line_with_comment(root, src, line);
            last = Some((line, noqa_codes(text, comment)));
        }
        !last.as_ref().is_some_and(|(_, codes)| silences(codes.as_deref(), s))
    });
    // A finding whose code holds a syntax error keeps no fix: the rule read a tree-sitter
    // recovery, not the user's call. Regression (the fuzz campaign): in
    // `optim.Adam(model.parameters()[ lr=1e-3)` the keywords sit in an ERROR node, NL304 saw no
    // `eps=`, and each `--fix` round appended another `eps=1e-4`.
    if root.has_error() {
        let mut cursor = root.walk();
        let statements: Vec<Statement> =
            root.children(&mut cursor).map(|c| (c.start_byte(), c.end_byte(), c.has_error())).collect();
        for s in smells.iter_mut().filter(|s| !s.fixes.is_empty()) {
            if holds_syntax_error(root, &statements, &s.span) {
                s.fixes.clear();
            }
        }
    }
}

/// A top-level statement's start and end bytes, and whether it holds a syntax error.
type Statement = (usize, usize, bool);

/// Whether the smallest node spanning `span` holds a syntax error. A finding inside a top-level
/// statement free of errors is answered from `statements` (the root's children, in order)
/// without searching down from the root, whose children that search walks one by one: a
/// keystroke that left an error in a 5,000-line file searched through some 300 statements for
/// each of its 295 findings.
fn holds_syntax_error(root: Node, statements: &[Statement], span: &Span) -> bool {
    let (start, end) = (span.start_byte, span.end_byte);
    // A statement holding a non-empty range holds the smallest node that spans it: its
    // siblings do not overlap it (an empty range at a boundary may go to either side).
    let holder = statements.partition_point(|(s, _, _)| *s <= start).checked_sub(1).map(|i| statements[i]);
    if start < end && holder.is_some_and(|(_, e, broken)| !broken && end <= e) {
        return false;
    }
    root.descendant_for_byte_range(start, end).is_some_and(|n| n.has_error())
}

/// The starts of the lines holding ascending offsets of one text, each found by searching back
/// over the bytes since the previous offset. Lines end at `\n`, `\r\n` or a lone `\r`, as for
/// Python and the LSP.
#[derive(Default)]
struct LineStarts {
    /// The start of the line holding `searched`.
    start: usize,
    /// The bytes before it have been searched.
    searched: usize,
}

impl LineStarts {
    fn of(&mut self, src: &str, at: usize) -> usize {
        if at < self.searched {
            // Not ascending: searched afresh.
            *self = LineStarts { start: crate::text::line_start(src, at), searched: at };
            return self.start;
        }
        let bytes = src.as_bytes();
        let mut end = at;
        while let Some(i) = memchr::memrchr2(b'\n', b'\r', &bytes[self.searched..end]) {
            let p = self.searched + i;
            // The `\r` of a `\r\n` whose `\n` is `at` itself: the line goes on before it.
            if bytes[p] == b'\r' && bytes.get(p + 1) == Some(&b'\n') {
                end = p;
                continue;
            }
            self.start = p + 1;
            break;
        }
        self.searched = at;
        self.start
    }
}

/// Orders `smells`, drops duplicates and the findings another supersedes
/// ([`settle_precedence`]). A winner's span holds its losers', so a function's findings settle
/// alone: the cache keeps them settled, and a keystroke neither copies nor drops the losers of
/// every cached function again (`NL101` under each `NL102`). Settling again changes nothing.
pub(crate) fn settle(smells: &mut Vec<Smell>) {
    smells.sort_by(|a, b| (a.span, &a.code).cmp(&(b.span, &b.code)));
    smells.dedup_by(|a, b| a.span == b.span && a.code == b.code);
    settle_precedence(smells);
}

/// Applies [`SUPERSEDES`]: a superseded finding inside a superseding one is dropped, its code
/// and those it had absorbed join the winner's [`Smell::absorbed`], and its fixes (those the
/// winner lacks) are appended to the winner's when every finding the winner drops is at one
/// place. `smells` are sorted by span. Settled findings settle as they are: a winner takes no
/// finding of a code it has absorbed (every finding rules make has absorbed none).
fn settle_precedence(smells: &mut Vec<Smell>) {
    if SUPERSEDES.is_empty() {
        return;
    }
    let mut dropped = vec![false; smells.len()];
    // Sorted by start: the findings inside one start between its start and its end (one file
    // has thousands; comparing every pair was a seventh of an edit's time).
    let starts: Vec<usize> = smells.iter().map(|s| s.span.start_byte).collect();
    for i in 0..smells.len() {
        if dropped[i] || !SUPERSEDES.iter().any(|(w, _)| *w == smells[i].code) {
            continue;
        }
        let lo = starts.partition_point(|&s| s < smells[i].span.start_byte);
        let hi = starts.partition_point(|&s| s <= smells[i].span.end_byte);
        let losers: Vec<usize> = (lo..hi)
            .filter(|&j| {
                j != i
                    && !dropped[j]
                    && SUPERSEDES.iter().any(|(w, l)| *w == smells[i].code && *l == smells[j].code)
                    // Findings settled before (a cached function's): a winner that took a code's
                    // place kept the findings of that code it did not take, on purpose (below).
                    && !smells[i].absorbed.contains(&smells[j].code)
                    && smells[i].span.contains(&smells[j].span)
            })
            .collect();
        // A loser strictly inside another of the same rule is about another value: the inner
        // log of `log(softmax(log(relu(x))))` stays in the argument the outer NL102's fix keeps
        // (`log_softmax(log(relu(x)))`); only the outer log's NL101 is the same finding.
        let losers: Vec<usize> = losers
            .iter()
            .copied()
            .filter(|&j| {
                !losers.iter().any(|&k| {
                    k != j
                        && smells[k].code == smells[j].code
                        && smells[k].span != smells[j].span
                        && smells[k].span.contains(&smells[j].span)
                })
            })
            .collect();
        // Losers at different places (the two logs of a binary cross-entropy) each fix a part of
        // the winner's finding, not the whole: their fixes are not alternatives of the winner's.
        let one_place = losers.windows(2).all(|w| smells[w[0]].span == smells[w[1]].span);
        let merged = one_place && !losers.is_empty();
        for j in losers {
            dropped[j] = true;
            // Transitively: a loser that had taken another's place (an NL102 that dropped an
            // NL101 before NL104 dropped it) hands its codes on.
            let mut absorbed = std::mem::take(&mut smells[j].absorbed);
            absorbed.push(smells[j].code);
            smells[i].absorbed.extend(absorbed);
            if one_place {
                let extra: Vec<_> = smells[j].fixes.iter().filter(|f| !smells[i].fixes.contains(f)).cloned().collect();
                smells[i].fixes.extend(extra);
            }
        }
        smells[i].absorbed.sort_unstable();
        smells[i].absorbed.dedup();
        if merged {
            order_merged_fixes(&mut smells[i]);
        }
    }
    let mut keep = dropped.iter().map(|d| !d);
    smells.retain(|_| keep.next().unwrap_or(true));
}

/// The fixes of a finding that took an inner one's place, in the order of preference: those that
/// compute the whole finding from the logits ([`crate::smell::Fix::whole`]: the loss on logits
/// for a cross-entropy written out), then the safe ones (`log_softmax` of the inner log, which
/// `--fix` applies), then the rest (`xlogy`, the clip), each group in its own order.
fn order_merged_fixes(smell: &mut Smell) {
    let rank = |f: &crate::smell::Fix| {
        if f.whole {
            0
        } else if f.applicability == crate::smell::Applicability::Safe {
            1
        } else {
            2
        }
    };
    smell.fixes.sort_by_key(rank);
}

/// A function definition (at module level or directly in a class body, possibly decorated)
/// whose findings can be cached, or code that is always analyzed.
pub(crate) enum Piece<'t> {
    /// A function, with the class whose body holds it (its methods' `self`).
    Unit(Node<'t>, Option<Node<'t>>),
    Loose(Target<'t>),
}

pub(crate) fn pieces<'t>(root: Node<'t>, out: &mut Vec<Piece<'t>>) {
    pieces_in(root, None, out)
}

fn pieces_in<'t>(root: Node<'t>, class: Option<Node<'t>>, out: &mut Vec<Piece<'t>>) {
    let mut cursor = root.walk();
    for child in root.children(&mut cursor) {
        let def = if child.kind_name() == "decorated_definition" {
            child.child_by_field_id(FIELD.definition)
        } else {
            Some(child)
        };
        match def.map(|d| d.kind_name()) {
            Some("function_definition") => out.push(Piece::Unit(child, class)),
            Some("class_definition") => match def.and_then(|d| d.child_by_field_id(FIELD.body)) {
                Some(body) => {
                    // The header (decorators, name, bases) is loose; the body is split further.
                    out.push(Piece::Loose(Target { node: child, range: Some(child.start_byte()..body.start_byte()) }));
                    pieces_in(body, def, out);
                }
                None => out.push(Piece::Loose(Target { node: child, range: None })),
            },
            _ => out.push(Piece::Loose(Target { node: child, range: None })),
        }
    }
}

/// `# noqa` (every code) or `# noqa: NL101, NL102` on the line where the smell starts; the code
/// of a finding the smell took the place of counts as its own ([`Smell::absorbed`]). `root` is
/// the tree of `src`.
pub fn suppressed(src: &str, root: Node, smell: &Smell) -> bool {
    let (line, comment) = line_with_comment(root, src, crate::text::line_start(src, smell.span.start_byte));
    silences(noqa_codes(line, comment).as_deref(), smell)
}

/// The line of `src` that starts at byte `start` (its terminator excluded), and the byte of it
/// where its comment starts, read from `root`, the tree of `src` ([`crate::syntax::line_comment`]): a
/// `#` in a string, also in one continuing from an earlier line, starts none.
pub fn line_with_comment<'s>(root: Node, src: &'s str, start: usize) -> (&'s str, Option<usize>) {
    let line = &src[start..crate::text::line_end(src, start)];
    (line, crate::syntax::line_comment(root, line, start).map(|c| c - start))
}

/// Why no comment can end `line` (a line of the source `root` is the tree of, starting at byte
/// `start`, its terminator excluded): it ends inside a string (a `#` there is text) or continues
/// with a backslash. `None` when a `# noqa` can be appended. What `check --add-noqa` refuses and
/// the server's "Disable" is not offered for.
pub fn comment_cannot_end(root: Node, line: &str, start: usize) -> Option<&'static str> {
    if crate::syntax::inside_string(root, start + line.len()) {
        Some("ends inside a string (a `#` there would be text)")
    } else if line.trim_end().ends_with('\\') {
        Some("continues onto the next with a backslash")
    } else {
        None
    }
}

/// A line's `# noqa` codes ([`noqa_codes`]) silence `smell`: a blanket `# noqa`, its own code, or
/// the code of a finding it took the place of ([`Smell::absorbed`]). One written for the log
/// before NL104 existed still silences the NL104 that holds that log now; a code the smell's rule
/// could hold but did not (`# noqa: NL101` on a `where` that absorbed no log) silences nothing.
fn silences(codes: Option<&[String]>, smell: &Smell) -> bool {
    match codes {
        None => false,
        Some(codes) => {
            let named = |c: &&str| codes.iter().any(|n| n.eq_ignore_ascii_case(c));
            codes.is_empty() || std::iter::once(&smell.code).chain(&smell.absorbed).any(named)
        }
    }
}

/// The codes of a `# noqa` comment on `line` (its comment starting at byte `comment`, see
/// [`line_with_comment`]): `None` without one (or with an invalid one), `Some([])` for a blanket
/// noqa.
pub fn noqa_codes(line: &str, comment: Option<usize>) -> Option<Vec<String>> {
    match noqa_directive(line, comment)? {
        Noqa::All => Some(Vec::new()),
        Noqa::Codes { codes, .. } => Some(codes),
        Noqa::Invalid { .. } => None,
    }
}

/// A line's `# noqa` directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Noqa {
    /// `# noqa`: every code.
    All,
    /// `# noqa: NL101, NL102`: these codes (as written), and the byte of the line just after
    /// the last of them (where another code is added).
    Codes { codes: Vec<String>, end: usize },
    /// `# noqa:` followed by no code (`# noqa: none`, `# noqa:`), or `noqa` with other text glued
    /// to it (`# noqaNL101`). Ruff warns ("expected a comma-separated list of codes", "expected
    /// `:` followed by ...") and applies nothing, rather than read it as `# noqa`; so does
    /// nanlint ([`invalid_noqa_reason`]). `list` is the byte of the line just after the colon,
    /// where a code can be inserted, or, without a colon, just after `noqa` (see
    /// [`Noqa::insertion`]).
    Invalid { list: usize },
}

impl Noqa {
    /// For an invalid directive of `line`: where to insert `codes` and the text that makes it
    /// valid with them first in its list (`# noqa: NL101 none`, `# noqa: NL101 NL101x`).
    /// Text glued to `noqa` that is itself one of `codes` (`# noqaNL102`) gets only the colon.
    fn insertion(line: &str, list: usize, codes: &str) -> (usize, String) {
        if line[..list].ends_with(':') {
            // `# noqa:ALL` gets `# noqa: NL101 ALL`, not the word `NL101ALL`.
            let glued = line[list..].starts_with(|c: char| !c.is_whitespace());
            return (list, format!(" {codes}{}", if glued { " " } else { "" }));
        }
        let rest = &line[list..];
        let glued = &rest[..rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len())];
        let others: Vec<&str> = codes.split(", ").filter(|c| !c.eq_ignore_ascii_case(glued)).collect();
        match others.len() == codes.split(", ").count() {
            true => (list, format!(": {codes} ")),
            false if others.is_empty() => (list, ": ".to_string()),
            false => (list, format!(": {}, ", others.join(", "))),
        }
    }
}

/// Why an invalid `# noqa` directive ([`Noqa::Invalid`]) of `line` is one, for warnings: `noqa`
/// with text glued to it wants a colon (`# noqaNL101`), a colon wants codes (`# noqa: none`).
pub fn invalid_noqa_reason(line: &str, list: usize) -> &'static str {
    let listed = line[list..].trim_start();
    let all = listed.get(..3).is_some_and(|w| w.eq_ignore_ascii_case("all"))
        && !listed[3..].starts_with(|c: char| c.is_ascii_alphanumeric());
    if line[..list].ends_with(':') && all {
        "invalid `# noqa` directive: `ALL` is no code (a bare `# noqa` silences every code on its \
         line, `# noqa: NL101, NL102` these codes); it silences nothing"
    } else if line[..list].ends_with(':') {
        "invalid `# noqa` directive: expected a comma-separated list of codes after `noqa:` \
         (e.g. `# noqa: NL101, NL102`); it silences nothing"
    } else {
        "invalid `# noqa` directive: expected `:` followed by a comma-separated list of codes \
         (e.g. `# noqa: NL101, NL102`); it silences nothing"
    }
}

/// A `# noqa` directive that does not do what it seems to, for a warning: invalid (it silences
/// nothing) or naming a nanlint-shaped code no rule has (`# noqa: NL999`; codes of other tools,
/// `E501`, are theirs and pass).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoqaWarning {
    /// The byte of `src` its line starts at.
    pub line: usize,
    /// The bytes of the line, from its start, that the warning is about: the text up to the
    /// list of an invalid directive, or up to the end of an unknown code. A client that logs
    /// warnings once per directive keys them by this text.
    pub key: usize,
    pub message: String,
}

/// `NL` and a digit, then letters and digits (`NL999`, `NL10`, `NL103NL102`), in any case as
/// `# noqa` reads codes, that is no rule or file code (`NL000`-`NL003`). Codes of other tools
/// (`E501`, `NLP001`) are theirs.
fn unknown_nanlint_code(code: &str) -> bool {
    let code = code.to_ascii_uppercase();
    code.strip_prefix("NL").is_some_and(|d| d.starts_with(|c: char| c.is_ascii_digit()))
        && crate::rules::by_code(&code).is_none()
        && !crate::settings::BUILTIN_CODES.iter().any(|(c, _)| *c == code)
}

/// The warnings of one line's `# noqa` directive (see [`NoqaWarning`]), `line` starting at byte
/// `start` of the file and its comment at byte `comment` of it ([`line_with_comment`]).
pub fn noqa_line_warnings(line: &str, comment: Option<usize>, start: usize) -> Vec<NoqaWarning> {
    match noqa_directive(line, comment) {
        Some(Noqa::Invalid { list }) => {
            vec![NoqaWarning { line: start, key: list, message: invalid_noqa_reason(line, list).to_string() }]
        }
        Some(Noqa::Codes { codes, end }) => {
            let list = line.to_ascii_lowercase().rfind("noqa").unwrap_or(0);
            // `# noqa: NL102, ALL`: the list ends at `ALL` (no code), read as prose.
            let rest = line[end..].trim_start_matches(|c: char| c == ',' || c.is_whitespace());
            let all = rest.get(..3).is_some_and(|w| w.eq_ignore_ascii_case("all"))
                && !rest[3..].starts_with(|c: char| c.is_ascii_alphanumeric());
            let all = all.then(|| NoqaWarning {
                line: start,
                key: line.len() - rest.len() + 3,
                message: "`# noqa` names `ALL`, which is no code: it silences only the codes before it (a bare \
                          `# noqa` silences every code on its line)"
                    .to_string(),
            });
            codes
                .iter()
                .filter(|c| unknown_nanlint_code(c))
                .map(|c| NoqaWarning {
                    line: start,
                    key: line[list..].find(c.as_str()).map_or(line.len(), |i| list + i + c.len()),
                    message: match &c.to_ascii_uppercase()[2..] {
                        // `# noqa: NL10`: flake8 reads codes as prefixes, ruff and nanlint do not.
                        digits if digits.len() < 3 && digits.bytes().all(|b| b.is_ascii_digit()) => format!(
                            "`# noqa` names `{c}`, which is no nanlint rule: a prefix silences nothing, name \
                             each code (`# noqa: NL101, NL102`)"
                        ),
                        // `# noqa: NL103NL102` is one word, as in ruff.
                        digits if digits.contains("NL") => format!(
                            "`# noqa` names `{c}`, which is no nanlint rule: codes are separated by commas \
                             or spaces (`# noqa: NL101, NL102`); it silences nothing"
                        ),
                        _ => format!(
                            "`# noqa` names `{c}`, which is no nanlint rule (`nanlint rule --all` lists \
                             them); it silences nothing"
                        ),
                    },
                })
                .chain(all)
                .collect()
        }
        _ => Vec::new(),
    }
}

/// The `# noqa` directive of `line`, if it has one, in its comment starting at byte `comment`
/// ([`line_with_comment`]; `None`: the line has no comment).
pub fn noqa_directive(line: &str, comment: Option<usize>) -> Option<Noqa> {
    let start = comment?;
    let comment = &line[start..];
    // A directive of its own, as ruff reads it: `#`, spaces, `noqa`, at the comment's start or
    // after other comment text (`# type: ignore  # noqa`); not a word of a sentence (`# TODO:
    // drop the noqa`) nor text in a string (`s = "# noqa"`).
    let lower = comment.to_ascii_lowercase();
    let at = lower.match_indices('#').find_map(|(i, _)| {
        let rest = lower[i + 1..].trim_start_matches([' ', '\t']);
        rest.starts_with("noqa").then(|| lower.len() - rest.len())
    })?;
    let after = &comment[at + 4..];
    // As ruff lexes what follows `noqa`: nothing, or a space and prose (`# noqa because`), is
    // every code; a colon, also after spaces (`# noqa : NL101`), starts the list; anything else
    // glued to the word (`# noqaNL101`, `# noqa;NL101`) makes the directive invalid.
    let list = match after.chars().next() {
        None | Some('#') => return Some(Noqa::All),
        Some(':') => &after[1..],
        Some(c) if c.is_whitespace() => match after.trim_start().strip_prefix(':') {
            Some(list) => list,
            None => return Some(Noqa::All),
        },
        Some(_) => return Some(Noqa::Invalid { list: start + at + "noqa".len() }),
    };
    // Codes separated by commas and whitespace, up to the first word that is no code (prose).
    let list_at = line.len() - list.len();
    let (mut codes, mut end) = (Vec::new(), list_at);
    let mut at = list_at;
    for piece in list.split_inclusive(|c: char| c == ',' || c.is_whitespace()) {
        let word = piece.trim_end_matches(|c: char| c == ',' || c.is_whitespace());
        if !word.is_empty() {
            if !is_code_shaped(word) {
                break;
            }
            codes.push(word.to_string());
            end = at + word.len();
        }
        at += piece.len();
    }
    match codes.is_empty() {
        true => Some(Noqa::Invalid { list: list_at }),
        false => Some(Noqa::Codes { codes, end }),
    }
}

/// A word `# noqa` reads as a code: a letter first, a digit somewhere, letters and digits only
/// (`NL101`, `E501`, `nl101`; not `none` or `-`).
fn is_code_shaped(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && word.chars().any(|c| c.is_ascii_digit())
        && word.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Where to insert into `line`, and what, so that its `# noqa` directive silences `codes` too:
/// after the last code of its list, as the first codes of an invalid directive's list
/// ([`Noqa::insertion`]), or a new `  # noqa: CODES` after the code. `None` when the line's
/// directive silences every one of them already. What `check --add-noqa` and the language
/// server's "Disable" quick fix write. `comment` is where the line's comment starts
/// ([`line_with_comment`]).
pub fn noqa_insertion(line: &str, comment: Option<usize>, codes: &[&str]) -> Option<(usize, String)> {
    match noqa_directive(line, comment) {
        Some(Noqa::All) => None,
        Some(Noqa::Invalid { list }) => Some(Noqa::insertion(line, list, &codes.join(", "))),
        Some(Noqa::Codes { codes: listed, end }) => {
            let new: Vec<&str> =
                codes.iter().copied().filter(|c| !listed.iter().any(|l| l.eq_ignore_ascii_case(c))).collect();
            (!new.is_empty()).then(|| (end, format!(", {}", new.join(", "))))
        }
        None => {
            let code_end = line.trim_end().len();
            Some((code_end, format!("  # noqa: {}", codes.join(", "))))
        }
    }
}

/// The warnings of the file's `# noqa` directives ([`NoqaWarning`]), in order: what `nanlint
/// check` prints and the server logs. One pass over the text for `noqa` in any case; only the
/// lines holding it are read, their comments from `tree`, the tree of `src` (parsed here, only
/// if `noqa` occurs, when `None`).
pub fn noqa_warnings(src: &str, tree: Option<&Tree>) -> Vec<NoqaWarning> {
    static NOQA: OnceLock<aho_corasick::AhoCorasick> = OnceLock::new();
    let noqa = NOQA.get_or_init(|| {
        aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(["noqa"])
            .expect("one literal pattern always builds")
    });
    let mut warnings = Vec::new();
    // The lines before this byte have been read (each line once, however many `noqa` it holds).
    let mut read = 0;
    let mut parsed = None;
    for m in noqa.find_iter(src) {
        if m.start() < read {
            continue;
        }
        let root = match tree {
            Some(tree) => tree.root_node(),
            None => parsed.get_or_insert_with(|| parse(src)).root_node(),
        };
        let start = src[read..m.start()].rfind(['\n', '\r']).map_or(read, |i| read + i + 1);
        let (line, comment) = line_with_comment(root, src, start);
        let end = start + line.len();
        warnings.extend(noqa_line_warnings(line, comment, start));
        read = end.max(m.end());
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `holds_syntax_error` answers as the search down from the root does, for the span of
    /// every node and every empty span at a node's ends, in the field cases and the rules'
    /// fixtures broken at many places (a deleted byte, a bracket or a quote put in).
    #[test]
    fn a_syntax_error_is_found_as_the_search_from_the_root_finds_it() {
        let (mut broken, mut spans, mut with_error) = (0, 0, 0);
        for text in crate::syntax::tests::field_sources() {
            for src in crate::syntax::tests::broken_variants(&text) {
                let tree = parse(&src);
                let root = tree.root_node();
                if !root.has_error() {
                    continue;
                }
                broken += 1;
                let mut cursor = root.walk();
                let statements: Vec<Statement> =
                    root.children(&mut cursor).map(|c| (c.start_byte(), c.end_byte(), c.has_error())).collect();
                for node in crate::syntax::tests::all_nodes(&tree) {
                    let a = Span::of(node);
                    let (mut empty_start, mut empty_end) = (a, a);
                    empty_start.end_byte = empty_start.start_byte;
                    empty_end.start_byte = empty_end.end_byte;
                    for span in [a, empty_start, empty_end] {
                        let expected = root
                            .descendant_for_byte_range(span.start_byte, span.end_byte)
                            .is_some_and(|n| n.has_error());
                        assert_eq!(holds_syntax_error(root, &statements, &span), expected, "{span:?} in {src:?}");
                        spans += 1;
                        with_error += usize::from(expected);
                    }
                }
            }
        }
        // Both answers occur many times.
        assert!(broken > 300 && spans > 100_000 && with_error > 10_000, "{broken} {spans} {with_error}");
        assert!(spans - with_error > 10_000, "{spans} {with_error}");
    }

    /// Settling findings already settled changes nothing: the cache keeps each function's
    /// findings settled and the whole file's are settled again. Regression: the inner log of
    /// `log(softmax(log(relu(x))))` keeps its NL101 once the outer log's NL101 is gone, and a
    /// second settling dropped it under the NL102.
    #[test]
    fn settled_findings_settle_as_they_are() {
        let mut kept_inside = 0;
        for src in crate::syntax::tests::field_sources() {
            let settings = Settings { preview: true, ..Settings::default() };
            let once = analyze(&src, &parse(&src), &settings);
            let mut twice = once.clone();
            settle(&mut twice);
            assert_eq!(once, twice, "settled again in {src:?}");
            kept_inside += once.iter().filter(|s| !s.absorbed.is_empty()).count();
        }
        assert!(kept_inside > 20, "{kept_inside} winners");
    }

    /// A finding records the codes of those it took the place of, sorted, and those they had
    /// taken the place of: an NL102 that dropped an NL101 before NL104 dropped it hands NL101 on
    /// (the log starts where the product does, so NL102 comes first); the two logs of a binary
    /// cross-entropy give NL103 and NL101. A finding that took no other's place has none.
    #[test]
    fn a_finding_absorbs_the_codes_of_those_it_took_the_place_of() {
        let absorbed = |src: &str| -> Vec<(&'static str, Vec<&'static str>)> {
            check_source(src, &Settings::default()).into_iter().map(|s| (s.code, s.absorbed)).collect()
        };
        let head = "import torch\n\n\ndef loss(y, z):\n";
        let chained = format!("{head}    p = torch.softmax(z, -1)\n    ce = torch.log(p) * y\n    return ce\n");
        assert_eq!(absorbed(&chained), [("NL104", vec!["NL101", "NL102"])]);
        let ce = format!("{head}    p = torch.softmax(z, -1)\n    return -(y * torch.log(p)).sum(-1)\n");
        assert_eq!(absorbed(&ce), [("NL104", vec!["NL101", "NL102"])]);
        let bce = format!(
            "{head}    p = torch.sigmoid(z)\n    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()\n"
        );
        assert_eq!(absorbed(&bce), [("NL104", vec!["NL101", "NL103"])]);
        let guarded = format!("{head}    n = y.sum(-1)\n    return torch.where(n > 0, z / n, torch.zeros_like(z))\n");
        assert_eq!(absorbed(&guarded), [("NL204", vec![])]);
        let relu = format!("{head}    return torch.log(torch.relu(z))\n");
        assert_eq!(absorbed(&relu), [("NL101", vec![])]);
    }

    /// The class `pieces` gives each function is the one the model says it is a method of.
    #[test]
    fn pieces_know_the_class_of_each_method() {
        let src = "def f(): pass\nclass A:\n    def m(self): pass\n    @staticmethod\n    def s(): pass\n    \
                   class B:\n        def n(self): pass\n    def k(self):\n        def inner(): pass\n\
                   @dec\nclass C:\n    if x:\n        def hidden(self): pass\n    def c(self): pass\n";
        let tree = parse(src);
        let model = Model::new(src, &tree, Arc::new(Imports::collect(tree.root_node(), src)));
        let mut all = Vec::new();
        pieces(tree.root_node(), &mut all);
        let mut seen = Vec::new();
        for piece in all {
            if let Piece::Unit(unit, class) = piece {
                let def = match unit.kind_name() {
                    "decorated_definition" => unit.child_by_field_id(FIELD.definition).unwrap(),
                    _ => unit,
                };
                assert_eq!(class, model.class_of_method(def), "{}", model.text(def));
                let name = |n: Node| model.text(n.child_by_field_id(FIELD.name).unwrap()).to_string();
                seen.push(format!("{}:{}", class.map(name).unwrap_or_default(), name(def)));
            }
        }
        assert_eq!(seen, [":f", "A:m", "A:s", "B:n", "A:k", "C:c"]);
    }

    proptest::proptest! {
        /// Line starts found for ascending offsets are those found by searching back from each.
        #[test]
        fn line_starts_of_ascending_offsets(
            text in "[a\r\n]{0,40}",
            mut offsets in proptest::collection::vec(0usize..41, 0..12),
        ) {
            offsets.iter_mut().for_each(|o| *o = (*o).min(text.len()));
            offsets.sort();
            let mut lines = LineStarts::default();
            for at in offsets {
                proptest::prop_assert_eq!(lines.of(&text, at), crate::text::line_start(&text, at), "at {}", at);
            }
        }
    }

    // One line read as a whole file: its comment from its own tree.
    fn comment(line: &str) -> Option<usize> {
        line_with_comment(parse(line).root_node(), line, 0).1
    }
    fn noqa_codes(line: &str) -> Option<Vec<String>> {
        super::noqa_codes(line, comment(line))
    }
    fn noqa_directive(line: &str) -> Option<Noqa> {
        super::noqa_directive(line, comment(line))
    }
    fn noqa_insertion(line: &str, codes: &[&str]) -> Option<(usize, String)> {
        super::noqa_insertion(line, comment(line), codes)
    }
    fn noqa_warnings(src: &str) -> Vec<NoqaWarning> {
        super::noqa_warnings(src, None)
    }

    #[test]
    fn a_noqa_inside_a_multi_line_string_is_text() {
        // Regression: lines were read alone, so `# noqa` on a line a triple-quoted string
        // continues onto silenced the finding after the string, and a docstring's example
        // directive was warned about.
        let src = "import tensorflow as tf\ny = f(\"\"\"a\nb\"\"\", tf.log(tf.nn.softmax(z)), \"\"\" # noqa \"\"\")\n";
        let tree = parse(src);
        let line = crate::text::line_start(src, src.find("# noqa").unwrap());
        assert_eq!(line_with_comment(tree.root_node(), src, line).1, None);
        let smells = analyze(src, &tree, &Settings::default());
        assert_eq!(smells.iter().map(|s| s.code).collect::<Vec<_>>(), ["NL102"], "{smells:?}");
        let doc = "def f():\n    \"\"\"Use as\n\n    y = log(p)  # noqa: NL999\n    \"\"\"\n";
        assert_eq!(noqa_warnings(doc), []);
        // A string that closes on the line, then a comment: a directive.
        let closed = "import tensorflow as tf\ny = f(\"\"\"a\n\"\"\", tf.log(tf.nn.softmax(z)))  # noqa: NL102\n";
        assert_eq!(analyze(closed, &parse(closed), &Settings::default()), []);
        assert_eq!(noqa_warnings("s = \"\"\"\n\"\"\"  # noqa: NL999\n").len(), 1);
    }

    #[test]
    fn noqa_is_a_comment_of_its_own() {
        // A `#` in a string, `noqa` as a word of a comment: no directive (each hid a finding).
        assert_eq!(noqa_codes(r##"a = torch.log(p); s = "#"  # see https://example.org/noqa-policy"##), None);
        assert_eq!(noqa_codes("b = torch.log(p)  # TODO: remove the noqa below"), None);
        assert_eq!(noqa_codes(r##"c = torch.log(p); t = "# noqa""##), None);
        assert_eq!(noqa_codes(r##"d = f'{x!r}#' + '\'#'  # noqa: NL101"##), Some(vec!["NL101".to_string()]));
        assert_eq!(noqa_codes(r##"e = """# noqa""" + x  #noqa"##), Some(vec![]));
    }

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
    fn a_noqa_list_without_codes_is_invalid_not_blanket() {
        // Regression (a newcomer's run): each of these silenced every rule on its line.
        for line in
            ["x = 1  # noqa: none", "x = 1  # NOQA:", "x = 1  # noqa:  ", "x = 1  # noqa: -, NL101", "x  # noqa:all"]
        {
            assert_eq!(noqa_codes(line), None, "{line}");
            let list = line.to_ascii_lowercase().find("noqa:").unwrap() + "noqa:".len();
            assert_eq!(noqa_directive(line), Some(Noqa::Invalid { list }), "{line}");
        }
        // A code first, then prose: the code counts, as before.
        let end = "x = 1  # noqa: NL101".len();
        assert_eq!(
            noqa_directive("x = 1  # noqa: NL101 none"),
            Some(Noqa::Codes { codes: vec!["NL101".to_string()], end })
        );
        assert_eq!(noqa_directive("x = 1  # noqa"), Some(Noqa::All));
        assert_eq!(noqa_directive("x = 1  # nothing"), None);
    }

    #[test]
    fn noqa_glued_to_other_text_is_invalid_and_a_spaced_colon_starts_the_list() {
        // Regression: each of these silenced every rule on its line (ruff: "expected `:`").
        for line in ["x = 1  # noqaXYZ", "x = 1  # NOQA-please", "x = 1  # noqa;NL101", "x = 1  # noqaNL101"] {
            assert_eq!(noqa_codes(line), None, "{line}");
            let list = line.to_ascii_lowercase().find("noqa").unwrap() + "noqa".len();
            assert_eq!(noqa_directive(line), Some(Noqa::Invalid { list }), "{line}");
            // The quick fix's insertion makes it a valid list holding the code.
            let (at, text) = Noqa::insertion(line, list, "NL102");
            let fixed = format!("{}{text}{}", &line[..at], &line[at..]);
            assert!(noqa_codes(&fixed).is_some_and(|c| c.first().is_some_and(|c| c == "NL102")), "{fixed}");
        }
        // Prose after a space is still blanket, a `#` ends the word, and a colon after spaces
        // starts the list, as in ruff.
        assert_eq!(noqa_directive("x = 1  # noqa because"), Some(Noqa::All));
        assert_eq!(noqa_directive("x = 1  # noqa#why"), Some(Noqa::All));
        let line = "x = 1  # noqa : NL101";
        assert_eq!(noqa_directive(line), Some(Noqa::Codes { codes: vec!["NL101".to_string()], end: line.len() }));
        let spaced = "x = 1  # noqa :  none";
        assert_eq!(noqa_directive(spaced), Some(Noqa::Invalid { list: spaced.find(':').unwrap() + 1 }));
        let lines = |src: &str| noqa_warnings(src).into_iter().map(|w| w.line).collect::<Vec<_>>();
        assert_eq!(lines("a  # noqaXYZ\nb  # noqa\n"), vec![0]);
    }

    #[test]
    fn noqa_warnings_are_found_once_each() {
        let lines = |src: &str| noqa_warnings(src).into_iter().map(|w| w.line).collect::<Vec<_>>();
        let src = "a  # noqa: none noqa\r\nb  # noqa\rc  # NOQA: NL101\nd = 'noqa'  # noqa:\ne  # noqa: x";
        let starts: Vec<usize> = ["a  #", "d = ", "e  #"].iter().map(|l| src.find(l).unwrap()).collect();
        assert_eq!(lines(src), starts);
        assert_eq!(lines(""), Vec::<usize>::new());
    }

    #[test]
    fn glued_and_empty_noqa_lists_are_told_apart() {
        let glued = noqa_warnings("x  # noqaNL101\n");
        assert!(glued[0].message.contains("expected `:` followed by"), "{glued:?}");
        assert_eq!(glued[0].key, "x  # noqa".len());
        let empty = noqa_warnings("x  # noqa: none\n");
        assert!(empty[0].message.contains("after `noqa:`"), "{empty:?}");
    }

    #[test]
    fn a_noqa_code_no_rule_has_is_warned_and_other_tools_codes_are_not() {
        let src = "x  # noqa: E501, NL999, NL101, nl101, NL000\ny  # noqa: NLP001, F401\nz  # noqa: NL1234, nl998\n";
        let warnings = noqa_warnings(src);
        let named: Vec<(usize, &str)> = warnings.iter().map(|w| (w.line, &src[w.line..w.line + w.key])).collect();
        let z = src.find("z  #").unwrap();
        assert_eq!(
            named,
            vec![(0, "x  # noqa: E501, NL999"), (z, "z  # noqa: NL1234"), (z, "z  # noqa: NL1234, nl998")]
        );
        assert!(warnings[0].message.contains("`NL999`, which is no nanlint rule"), "{warnings:?}");
    }

    #[test]
    fn prefixes_glued_codes_and_all_in_a_noqa_list_are_warned_about() {
        // Regression (a newcomer's run): each silenced nothing without a word.
        let message = |line: &str| noqa_warnings(line).into_iter().map(|w| w.message).collect::<Vec<_>>();
        for (line, says) in [
            ("x  # noqa: NL10", "a prefix silences nothing"),
            ("x  # noqa: nl1", "a prefix silences nothing"),
            ("x  # noqa: NL103NL102", "codes are separated by commas or spaces"),
            ("x  # noqa: ALL", "`ALL` is no code"),
            ("x  # noqa:all because", "`ALL` is no code"),
        ] {
            let said = message(line);
            assert!(said.len() == 1 && said[0].contains(says), "{line}: {said:?}");
        }
        // After codes, `ALL` silences nothing more (the codes before it still count).
        assert!(message("x  # noqa: NL102, ALL")[0].contains("names `ALL`, which is no code"));
        assert!(message("x  # noqa: NL102 all because")[0].contains("names `ALL`"));
        assert_eq!(message("x  # noqa: NL102, allowed"), Vec::<String>::new());
        // `# noqa: allow` is prose, not `ALL`.
        assert!(!message("x  # noqa: allow")[0].contains("`ALL`"));
    }

    #[test]
    fn a_code_is_added_to_the_directive_of_the_comment_not_to_text_in_a_string() {
        let added = |line: &str, codes: &[&str]| {
            noqa_insertion(line, codes).map(|(at, text)| format!("{}{text}{}", &line[..at], &line[at..]))
        };
        // Regression: `--add-noqa` wrote the code into the string, refused the file.
        assert_eq!(
            added(r##"h = f(z); s = "# noqa: NL102""##, &["NL103"]).as_deref(),
            Some(r##"h = f(z); s = "# noqa: NL102"  # noqa: NL103"##)
        );
        // Regression: `NL103` is part of the word `NL103NL102`, not listed.
        assert_eq!(
            added("b = f(z)  # noqa: NL103NL102 why", &["NL103"]).as_deref(),
            Some("b = f(z)  # noqa: NL103NL102, NL103 why")
        );
        // Regression: text glued to the colon made one word with the code (`NL102ALL`).
        for (line, with) in [
            ("a = f(z)  # noqa:ALL", "a = f(z)  # noqa: NL102 ALL"),
            ("a = f(z)  # noqa:ALL,NL101", "a = f(z)  # noqa: NL102 ALL,NL101"),
            ("a = f(z)  # noqa:none", "a = f(z)  # noqa: NL102 none"),
            ("a = f(z)  # noqa:", "a = f(z)  # noqa: NL102"),
        ] {
            assert_eq!(added(line, &["NL102"]).as_deref(), Some(with), "{line}");
            assert!(noqa_codes(with).is_some_and(|c| c[0] == "NL102"), "{with}");
        }
        // Regression: glued text that is the code in another case got the code again.
        assert_eq!(added("e = f(z)  # noqanl101", &["NL101"]).as_deref(), Some("e = f(z)  # noqa: nl101"));
        assert_eq!(added("e = f(z)  # noqa: nl101, E501", &["NL101"]), None);
        assert_eq!(added("e = f(z)  # noqa", &["NL101"]), None);
        assert_eq!(added("e = f(z)  \t", &["NL101", "NL102"]).as_deref(), Some("e = f(z)  # noqa: NL101, NL102  \t"));
        for line in [r##"h = f(z); s = "# noqa: NL102""##, "b = f(z)  # noqa: NL103NL102 why", "e = f(z)  # noqaNL101"]
        {
            let with = added(line, &["NL103"]).unwrap();
            assert!(noqa_codes(&with).is_some_and(|c| c.iter().any(|c| c == "NL103")), "{with}");
        }
    }

    #[test]
    fn a_code_glued_to_noqa_gets_a_colon_not_a_second_copy() {
        // Regression (a newcomer's run): `--add-noqa` wrote `# noqa: NL102 NL102`.
        let line = "x  # noqaNL102";
        let list = "x  # noqa".len();
        assert_eq!(Noqa::insertion(line, list, "NL102"), (list, ": ".to_string()));
        assert_eq!(Noqa::insertion(line, list, "NL101, NL102"), (list, ": NL101, ".to_string()));
        assert_eq!(Noqa::insertion(line, list, "NL101"), (list, ": NL101 ".to_string()));
    }

    #[test]
    fn prefilter_needs_a_library_and_a_trigger() {
        assert!(might_smell("import numpy as np\nnp.log(x)"));
        assert!(might_smell("import numpy as np\nnp.log10(x)"));
        assert!(might_smell("from torch import log as ln\nln(x)"));
        // Words that merely contain a trigger do not count.
        assert!(!might_smell("import torch\nimport logging\nlogits = torch.zeros(3)\nlogger.info(catalog)"));
        assert!(!might_smell("import torch\nx = é_log(1)"));
        assert!(!might_smell("import logging\nlog(x)"));
    }

    #[test]
    fn a_damaged_deep_tree_is_analyzed_to_the_end() {
        // Once looped forever looking for the scope of `p` (the chain missed the node).
        let src = crate::syntax::tests::deep_ifs();
        let _ = check_source(&src, &Settings::default());
        let src = src.replace("q = torch.log(p)", "q = torch.log(torch.softmax(p, -1))");
        let _ = check_source(&src, &Settings::default());
    }
}
