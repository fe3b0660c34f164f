//! Compiling the rules' `.scm` queries into one multi-pattern query, and the engine's own
//! predicates, which the tree-sitter binding would otherwise silently ignore.
//!
//! Engine predicates:
//! - `(#api? @callee "canonical.name" ...)`: the callee, resolved through the file's imports and
//!   canonicalized, is one of the names.
//! - `(#method? @callee "name" ...)`: the callee is an attribute `receiver.name` whose receiver
//!   is not an import and is (or may be) an array or tensor, not a string, number, module or
//!   an instance of a non-array class (`Logger().log("x")` is not `Tensor.log`).
//! - `(#local? @callee)`: the callee is a function or method defined in this file.
//!
//! Every pattern needs an anchor (see [`super::Anchor`]): the words or tokens every match
//! contains, around which the engine runs the query.

use foldhash::HashSet;

use tree_sitter::{Node, Query, QueryMatch, QueryPredicateArg};

use super::{Anchor, Rule};
use crate::semantic::value::Kind;
use crate::semantic::{Model, apis};
use crate::syntax::{FIELD, KindName};

pub const ENGINE_PREDICATES: &[&str] = &["api?", "method?", "local?"];

enum Predicate {
    /// `leaves`: the last segment of every spelling of `names` (aliases included). A callee
    /// written as an attribute (`x.y.log`) whose attribute is none of them cannot resolve to one
    /// of `names`, so it is rejected without resolving it.
    Api {
        capture: u32,
        names: HashSet<String>,
        leaves: HashSet<String>,
    },
    Method {
        capture: u32,
        names: HashSet<String>,
    },
    Local {
        capture: u32,
    },
}

/// The rules' queries compiled together.
pub struct Compiled {
    pub query: Query,
    /// Pattern index → index into the compiled rules.
    pub pattern_rule: Vec<usize>,
    predicates: Vec<Vec<Predicate>>,
    /// Top-level modules a file must mention to hold a smell.
    pub roots: Vec<String>,
    /// Words (identifiers) one of which every match spans: function and method names.
    pub words: Vec<String>,
    /// Tokens one of which a match spans, without word boundaries (`/`).
    pub tokens: Vec<String>,
    /// Some pattern is anchored on calls of the file's own functions.
    pub local_calls: bool,
    /// Some pattern is anchored on small float literals ([`super::Anchor::SmallFloat`]).
    pub small_floats: bool,
    /// Pattern index → the patterns that match exactly what it matches (itself first), when it
    /// is the first of them; empty for the others, which are disabled in `query`. Patterns that
    /// differ only in engine predicates (every rule's `(call function: (attribute ...))` with its
    /// own `#method?` names) are matched once and their predicates checked per pattern: the
    /// catalog's 37 patterns are 21 shapes, and the latency file's analysis went from 83,190
    /// matches to 36,285.
    pub shared: Vec<Vec<usize>>,
}

/// What compiling needs of one rule.
#[derive(Clone, Copy, Debug)]
pub struct RuleQuery<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub query: &'a str,
    pub captures: &'a [&'a str],
    pub anchors: &'a [Anchor],
}

impl<'a> From<&'a Rule> for RuleQuery<'a> {
    fn from(r: &'a Rule) -> Self {
        RuleQuery { code: r.code, name: r.name, query: r.query, captures: r.captures, anchors: r.anchors }
    }
}

/// Compiles the given rules' queries into one query; `Compiled::pattern_rule` indexes into
/// `rules`. Rejects what the tree-sitter binding would silently ignore: predicates the engine
/// does not evaluate, `#api?` names that are not canonical, captures no rule reads, and patterns
/// without an anchor.
pub fn compile_from(rules: &[RuleQuery]) -> Result<Compiled, String> {
    let mut source = String::new();
    let mut starts = Vec::new();
    for rule in rules {
        starts.push(source.len());
        source.push_str(rule.query);
        source.push('\n');
    }
    let rule_at = |byte: usize| starts.iter().rposition(|s| *s <= byte).unwrap_or(0);
    let query = Query::new(&crate::syntax::language(), &source).map_err(|e| {
        let r = rule_at(e.offset);
        format!(
            "{} ({}): {:?} error at line {}: {}",
            rules[r].code,
            rules[r].name,
            e.kind,
            e.row + 1 - source[..starts[r]].lines().count(),
            e.message
        )
    })?;
    let mut query = query;
    let shared = shared_patterns(&query, &source);
    for (i, group) in shared.iter().enumerate() {
        if group.is_empty() {
            query.disable_pattern(i);
        }
    }
    let mut pattern_rule = Vec::new();
    let mut predicates = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut tokens: Vec<String> = Vec::new();
    let mut local_calls = false;
    let mut small_floats = false;
    for i in 0..query.pattern_count() {
        let r = rule_at(query.start_byte_for_pattern(i));
        pattern_rule.push(r);
        let rule = &rules[r];
        // `#set!`, `#is?` and `#is-not?` are parsed by tree-sitter but applied by no one.
        if let Some(p) = query.property_settings(i).first() {
            return Err(format!("{}: unknown predicate #set! {:?} (the engine does not apply it)", rule.code, p.key));
        }
        if let Some((p, positive)) = query.property_predicates(i).first() {
            let op = if *positive { "is?" } else { "is-not?" };
            return Err(format!(
                "{}: unknown predicate #{op} {:?} (the engine does not evaluate it)",
                rule.code, p.key
            ));
        }
        let mut preds = Vec::new();
        for p in query.general_predicates(i) {
            let capture = match p.args.first() {
                Some(QueryPredicateArg::Capture(c)) => *c,
                _ => return Err(format!("{}: #{} takes a capture first", rule.code, p.operator)),
            };
            let strings: Vec<String> = p.args[1..]
                .iter()
                .map(|a| match a {
                    QueryPredicateArg::String(s) => Ok(s.to_string()),
                    QueryPredicateArg::Capture(_) => Err(format!("{}: #{} takes one capture", rule.code, p.operator)),
                })
                .collect::<Result<_, _>>()?;
            match &*p.operator {
                "api?" => {
                    if strings.is_empty() {
                        return Err(format!("{}: #api? needs at least one name", rule.code));
                    }
                    if let Some(bad) = strings.iter().find(|n| !apis::is_canonical(n)) {
                        return Err(format!(
                            "{}: #api? name {bad:?} is not canonical; use {:?}",
                            rule.code,
                            apis::canonical(bad)
                        ));
                    }
                    let mut leaves = HashSet::default();
                    for name in &strings {
                        leaves.insert(apis::leaf(name).to_string());
                        leaves.extend(apis::aliases_of(name).map(|a| apis::leaf(&a).to_string()));
                    }
                    preds.push(Predicate::Api { capture, names: strings.into_iter().collect(), leaves });
                }
                "method?" => {
                    if strings.is_empty() {
                        return Err(format!("{}: #method? needs at least one method name", rule.code));
                    }
                    preds.push(Predicate::Method { capture, names: strings.into_iter().collect() });
                }
                "local?" => {
                    if !strings.is_empty() {
                        return Err(format!("{}: #local? takes only a capture", rule.code));
                    }
                    preds.push(Predicate::Local { capture });
                }
                other => {
                    return Err(format!(
                        "{}: unknown predicate #{other} (the engine knows {}, tree-sitter knows #eq?, #match?, #any-of?)",
                        rule.code,
                        ENGINE_PREDICATES.iter().map(|p| format!("#{p}")).collect::<Vec<_>>().join(", ")
                    ));
                }
            }
        }
        // The pattern's anchor: its predicates' names, else the rule's declared anchors.
        let mut anchored = false;
        for p in &preds {
            match p {
                Predicate::Api { leaves, .. } => {
                    words.extend(leaves.iter().cloned());
                    anchored = true;
                }
                Predicate::Method { names, .. } => {
                    words.extend(names.iter().cloned());
                    anchored = true;
                }
                Predicate::Local { .. } => {
                    local_calls = true;
                    anchored = true;
                }
            }
        }
        if !anchored {
            if rule.anchors.is_empty() {
                return Err(format!(
                    "{}: pattern {} has no anchor: give it an #api? or #method? predicate, or declare the rule's anchors",
                    rule.code, i
                ));
            }
            for a in rule.anchors {
                match a {
                    Anchor::Token(t) => tokens.push(t.to_string()),
                    Anchor::Word(w) => words.push(w.to_string()),
                    Anchor::LocalCall => local_calls = true,
                    Anchor::SmallFloat => small_floats = true,
                }
            }
        }
        predicates.push(preds);
    }
    for name in query.capture_names() {
        let known = name.starts_with('_') || *name == "smell" || rules.iter().any(|r| r.captures.contains(name));
        if !known {
            return Err(format!(
                "unknown capture @{name}: the engine reads @smell, rules declare theirs in `captures`, others start with _"
            ));
        }
    }
    let roots = apis::LIBRARY_ROOTS.iter().map(|r| r.to_string()).collect();
    words.sort();
    words.dedup();
    tokens.sort();
    tokens.dedup();
    Ok(Compiled { query, pattern_rule, predicates, roots, words, tokens, local_calls, small_floats, shared })
}

/// [`Compiled::shared`]: patterns are grouped by their text without engine predicates and
/// comments, whitespace collapsed (tree-sitter's own predicates, `#eq?` and the like, stay part
/// of the text: the binding filters matches by them).
fn shared_patterns(query: &Query, source: &str) -> Vec<Vec<usize>> {
    let mut first_of: std::collections::HashMap<String, usize> = Default::default();
    let mut shared = vec![Vec::new(); query.pattern_count()];
    for i in 0..query.pattern_count() {
        let text = &source[query.start_byte_for_pattern(i)..query.end_byte_for_pattern(i)];
        let first = *first_of.entry(shape(text)).or_insert(i);
        shared[first].push(i);
    }
    shared
}

/// A pattern's text without comments and engine predicates (`(#api? ...)`, `(#method? ...)`,
/// `(#local? ...)`), runs of whitespace made one space.
fn shape(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    let mut space = false;
    while let Some(c) = chars.next() {
        match c {
            ';' => {
                skip_comment(&mut chars);
                space = true;
            }
            '"' => {
                push_space(&mut out, &mut space);
                out.push(c);
                out.push_str(&string_rest(&mut chars));
            }
            '(' if chars.peek() == Some(&'#') && engine_predicate_at(chars.clone()) => skip_group(&mut chars),
            c if c.is_whitespace() => space = true,
            c => {
                push_space(&mut out, &mut space);
                out.push(c);
            }
        }
    }
    out
}

fn push_space(out: &mut String, space: &mut bool) {
    if std::mem::take(space) && !out.is_empty() {
        out.push(' ');
    }
}

/// Whether the text after a `(` is `#` and an engine predicate's name.
fn engine_predicate_at(mut rest: impl Iterator<Item = char>) -> bool {
    rest.next();
    let name: String = rest.take_while(|c| !c.is_whitespace() && *c != ')').collect();
    ENGINE_PREDICATES.contains(&name.as_str())
}

/// Skips to the `)` that closes a group whose `(` was just read, over nested groups, strings and
/// comments (a `(` in a comment opens nothing).
fn skip_group(chars: &mut impl Iterator<Item = char>) {
    let mut depth = 1;
    while let Some(c) = chars.next() {
        match c {
            ';' => skip_comment(chars),
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
            '"' => drop(string_rest(chars)),
            _ => {}
        }
    }
}

/// Skips the rest of a `;` comment, its line end included.
fn skip_comment(chars: &mut impl Iterator<Item = char>) {
    for c in chars.by_ref() {
        if c == '\n' {
            break;
        }
    }
}

/// The rest of a string whose `"` was just read, up to its closing `"` included, escapes kept.
fn string_rest(chars: &mut impl Iterator<Item = char>) -> String {
    let mut out = String::new();
    while let Some(c) = chars.next() {
        out.push(c);
        match c {
            '\\' => out.extend(chars.next()),
            '"' => break,
            _ => {}
        }
    }
    out
}

impl Compiled {
    /// Whether the engine predicates of `pattern` hold on `m`, a match of `pattern` or of the
    /// first pattern of its [`Compiled::shared`] group.
    pub fn predicates_hold<'a>(&self, model: &Model<'a>, m: &QueryMatch<'_, 'a>, pattern: usize) -> bool {
        self.predicates[pattern].iter().all(|p| match p {
            Predicate::Api { capture, names, leaves } => m.nodes_for_capture_index(*capture).all(|n| {
                let attribute = (n.kind_name() == "attribute").then(|| n.child_by_field_id(FIELD.attribute)).flatten();
                attribute.is_none_or(|a| leaves.contains(model.text(a)))
                    && model.api(n).is_some_and(|api| names.contains(&api))
            }),
            Predicate::Method { capture, names } => {
                m.nodes_for_capture_index(*capture).all(|n| method_holds(model, n, names))
            }
            Predicate::Local { capture } => m.nodes_for_capture_index(*capture).all(|n| {
                let call = model.parent(n).filter(|c| c.kind_name() == "call");
                call.is_some_and(|c| model.local_callee(c).is_some())
            }),
        })
    }
}

/// `receiver.name` with `name` in `names`, not an import, on a receiver that may be an array.
fn method_holds<'a>(model: &Model<'a>, callee: Node<'a>, names: &HashSet<String>) -> bool {
    method_named(model, callee, |name| names.contains(name))
}

/// What `(#method? @callee "name")` checks, for a rule that checks a pattern's inner parts in
/// Rust: `callee` is `receiver.name`, not an import, on a receiver that may be an array.
pub fn is_method<'a>(model: &Model<'a>, callee: Node<'a>, name: &str) -> bool {
    method_named(model, callee, |n| n == name)
}

fn method_named<'a>(model: &Model<'a>, callee: Node<'a>, wanted: impl Fn(&str) -> bool) -> bool {
    if callee.kind_name() != "attribute" {
        return false;
    }
    let (Some(receiver), Some(attr)) =
        (callee.child_by_field_id(FIELD.object), callee.child_by_field_id(FIELD.attribute))
    else {
        return false;
    };
    if !wanted(model.text(attr)) || model.api(callee).is_some() {
        return false;
    }
    match model.value(receiver).kind {
        Kind::Array(_) | Kind::Unknown => true,
        Kind::Object(class) => !class.contains('.') || class.ends_with("Tensor"),
        Kind::NotArray | Kind::Scalar | Kind::Module | Kind::Instance(_) => false,
    }
}

/// The captured nodes of one match, by name.
pub struct Captures<'t> {
    nodes: Vec<(&'static str, Node<'t>)>,
}

impl<'t> Captures<'t> {
    pub fn new(query: &'static Query, m: &QueryMatch<'_, 't>) -> Self {
        let names = query.capture_names();
        Captures { nodes: m.captures().iter().map(|c| (names[c.index as usize], c.node)).collect() }
    }

    pub fn get(&self, name: &str) -> Option<Node<'t>> {
        self.nodes.iter().find(|(n, _)| *n == name).map(|(_, node)| *node)
    }
}
