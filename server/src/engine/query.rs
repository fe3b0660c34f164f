//! Compiling the rules' `.scm` queries into one multi-pattern query, and the engine's own
//! predicates, which the tree-sitter binding would otherwise silently ignore.
//!
//! Engine predicates:
//! - `(#api? @capture "canonical.name" ...)`: the capture, resolved through the file's imports and
//!   canonicalized, is one of the names.
//! - `(#unguarded? @capture)`: the capture's value is not provably away from 0.

use std::collections::HashSet;
use std::sync::OnceLock;

use tree_sitter::{Node, Query, QueryMatch, QueryPredicateArg};

use super::Context;
use super::apis;
use super::facts::Value;
use crate::rules::RULES;

pub const ENGINE_PREDICATES: &[&str] = &["api?", "unguarded?"];

enum Predicate {
    /// `leaves`: the last segment of every spelling of `names` (aliases included). A callee
    /// written as an attribute (`x.y.log`) whose attribute is none of them cannot resolve to one
    /// of `names`, so it is rejected without resolving it.
    Api {
        capture: u32,
        names: HashSet<String>,
        leaves: HashSet<String>,
    },
    Unguarded {
        capture: u32,
    },
}

pub struct Compiled {
    pub query: Query,
    /// Pattern index → index into the compiled rules (`RULES` for [`compile`]).
    pub pattern_rule: Vec<usize>,
    predicates: Vec<Vec<Predicate>>,
    /// Top-level modules a file must mention to hold a smell.
    pub roots: Vec<String>,
    /// Function names a file must mention to hold a smell.
    pub triggers: Vec<String>,
    /// Every pattern has an `#api?` predicate, so every match spans a spelling of a trigger (or
    /// of a local name an import binds to one) and the query need only run around those words.
    pub anchored: bool,
}

/// The compiled rules. The queries are embedded and tested, so failing here is a build defect.
pub fn compiled() -> &'static Compiled {
    static COMPILED: OnceLock<Compiled> = OnceLock::new();
    COMPILED.get_or_init(|| compile().unwrap_or_else(|e| panic!("embedded rule queries do not compile: {e}")))
}

/// What compiling needs of one rule: its code and name (for errors), its query and the captures
/// its `check` reads.
#[derive(Clone, Copy, Debug)]
pub struct RuleQuery<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub query: &'a str,
    pub captures: &'a [&'a str],
}

/// Compiles every rule's query into one query. Errors name the rule and the problem.
pub fn compile() -> Result<Compiled, String> {
    let rules: Vec<RuleQuery> =
        RULES.iter().map(|r| RuleQuery { code: r.code, name: r.name, query: r.query, captures: r.captures }).collect();
    compile_from(&rules)
}

/// Compiles the given queries into one query; `Compiled::pattern_rule` indexes into `rules`.
/// Rejects what the tree-sitter binding would silently ignore: predicates the engine does not
/// evaluate, `#api?` names that are not canonical, and captures no rule reads.
pub fn compile_from(rules: &[RuleQuery]) -> Result<Compiled, String> {
    let mut source = String::new();
    let mut starts = Vec::new();
    for rule in rules {
        starts.push(source.len());
        source.push_str(rule.query);
        source.push('\n');
    }
    let rule_at = |byte: usize| starts.iter().rposition(|s| *s <= byte).unwrap_or(0);
    let query = Query::new(&super::language(), &source).map_err(|e| {
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
    let mut pattern_rule = Vec::new();
    let mut predicates = Vec::new();
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
                _ => {
                    return Err(format!("{}: #{} takes a capture first", rule.code, p.operator));
                }
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
                    let mut leaves = HashSet::new();
                    for name in &strings {
                        leaves.insert(apis::leaf(name).to_string());
                        leaves.extend(apis::aliases_of(name).map(|a| apis::leaf(a).to_string()));
                    }
                    preds.push(Predicate::Api { capture, names: strings.into_iter().collect(), leaves });
                }
                "unguarded?" => {
                    if !strings.is_empty() {
                        return Err(format!("{}: #unguarded? takes only a capture", rule.code));
                    }
                    preds.push(Predicate::Unguarded { capture });
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
        predicates.push(preds);
    }
    for name in query.capture_names() {
        let known = name.starts_with('_') || *name == "smell" || rules.iter().any(|r| r.captures.contains(name));
        if !known {
            return Err(format!(
                "unknown capture @{name}: the engine reads @smell, rules declare theirs in CAPTURES, others start with _"
            ));
        }
    }
    // Any numeric library counts: Keras APIs are reached through `tensorflow.keras` too.
    let roots = apis::LIBRARY_ROOTS.iter().map(|r| r.to_string()).collect();
    // The names a call of a rule's API must spell somewhere in the file (at the call, or in the
    // import that renamed it): every `#api?` predicate's leaves.
    let mut triggers: Vec<String> = predicates
        .iter()
        .flatten()
        .filter_map(|p| match p {
            Predicate::Api { leaves, .. } => Some(leaves),
            Predicate::Unguarded { .. } => None,
        })
        .flatten()
        .cloned()
        .collect();
    triggers.sort();
    triggers.dedup();
    let anchored = predicates.iter().all(|preds| preds.iter().any(|p| matches!(p, Predicate::Api { .. })));
    Ok(Compiled { query, pattern_rule, predicates, roots, triggers, anchored })
}

impl Compiled {
    pub fn predicates_hold<'a>(&self, cx: &Context<'a>, m: &QueryMatch<'_, 'a>) -> bool {
        self.predicates[m.pattern_index].iter().all(|p| match p {
            Predicate::Api { capture, names, leaves } => m.nodes_for_capture_index(*capture).all(|n| {
                let attribute = (n.kind() == "attribute").then(|| n.child_by_field_name("attribute")).flatten();
                attribute.is_none_or(|a| leaves.contains(cx.text(a)))
                    && cx.imports.api(n, cx.src).is_some_and(|api| names.contains(&api))
            }),
            Predicate::Unguarded { capture } => {
                m.nodes_for_capture_index(*capture).all(|n| cx.value_of(n) != Value::Positive)
            }
        })
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
