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

use tree_sitter::{Node, Query, QueryMatch, QueryPredicate, QueryPredicateArg};

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
    /// The rules' patterns in order (each rule's in its text's order) → index into the rules.
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
    /// `query`'s pattern index → the rules' patterns (indices into `pattern_rule`) that match
    /// exactly what it matches: patterns that differ only in engine predicates (every rule's
    /// `(call function: (attribute ...))` with its own `#method?` names) are compiled once, as
    /// the first of them, and matched once; their predicates are checked per pattern. The
    /// catalog's 37 patterns are 21 shapes: compiling takes about 23 ms instead of 39, and the
    /// latency file's analysis finds 36,285 matches instead of 83,190.
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
    // tree-sitter analyzes every pattern it compiles (about 1-4 ms each, benches/README.md): only
    // the first pattern of each shape is compiled, and the others share its matches.
    let spans = split_patterns(&source);
    let mut shared: Vec<Vec<usize>> = Vec::new();
    let mut group_of_shape: std::collections::HashMap<String, usize> = Default::default();
    for (i, span) in spans.iter().enumerate() {
        let group = *group_of_shape.entry(shape(&source[span.clone()])).or_insert_with(|| {
            shared.push(Vec::new());
            shared.len() - 1
        });
        shared[group].push(i);
    }
    let mut compiled_source = String::new();
    let mut compiled_starts = Vec::new();
    for group in &shared {
        compiled_starts.push(compiled_source.len());
        compiled_source.push_str(&source[spans[group[0]].clone()]);
        compiled_source.push('\n');
    }
    let query = match Query::new(&crate::syntax::language(), &compiled_source) {
        Ok(q)
            if q.pattern_count() == shared.len()
                && (0..shared.len()).all(|j| q.start_byte_for_pattern(j) == compiled_starts[j]) =>
        {
            q
        }
        _ => return Err(whole_query_error(rules, &source, &starts, spans.len())),
    };
    let mut pattern_rule = vec![0; spans.len()];
    let mut predicates: Vec<Vec<Predicate>> = spans.iter().map(|_| Vec::new()).collect();
    let mut words: Vec<String> = Vec::new();
    let mut tokens: Vec<String> = Vec::new();
    let mut local_calls = false;
    let mut small_floats = false;
    for (j, group) in shared.iter().enumerate() {
        let rule = &rules[rule_at(spans[group[0]].start)];
        // `#set!`, `#is?` and `#is-not?` are parsed by tree-sitter but applied by no one.
        if let Some(p) = query.property_settings(j).first() {
            return Err(format!("{}: unknown predicate #set! {:?} (the engine does not apply it)", rule.code, p.key));
        }
        if let Some((p, positive)) = query.property_predicates(j).first() {
            let op = if *positive { "is?" } else { "is-not?" };
            return Err(format!(
                "{}: unknown predicate #{op} {:?} (the engine does not evaluate it)",
                rule.code, p.key
            ));
        }
        // The engine predicates of the compiled pattern as tree-sitter read them, and of the
        // others of its shape as read from their text: the same reading of the compiled one must
        // give tree-sitter's.
        let read = |i: usize| engine_predicates(&source[spans[i].clone()], &query);
        let compiled_preds = query.general_predicates(j);
        if compiled_preds.iter().all(|p| ENGINE_PREDICATES.contains(&&*p.operator))
            && read(group[0]).as_deref() != Ok(compiled_preds)
        {
            return Err(whole_query_error(rules, &source, &starts, spans.len()));
        }
        for &i in group {
            pattern_rule[i] = rule_at(spans[i].start);
            let rule = &rules[pattern_rule[i]];
            let text_read;
            let general = if i == group[0] {
                compiled_preds
            } else {
                text_read = read(i).map_err(|_| whole_query_error(rules, &source, &starts, spans.len()))?;
                &text_read[..]
            };
            let mut preds = Vec::new();
            for p in general {
                let capture = match p.args.first() {
                    Some(QueryPredicateArg::Capture(c)) => *c,
                    _ => return Err(format!("{}: #{} takes a capture first", rule.code, p.operator)),
                };
                let strings: Vec<String> = p.args[1..]
                    .iter()
                    .map(|a| match a {
                        QueryPredicateArg::String(s) => Ok(s.to_string()),
                        QueryPredicateArg::Capture(_) => {
                            Err(format!("{}: #{} takes one capture", rule.code, p.operator))
                        }
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
            predicates[i] = preds;
        }
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

/// The error of the rules' query as tree-sitter reports it when the whole text is compiled
/// (each pattern, not one per shape), located in the rule that holds it; or, where the whole
/// text compiles, the disagreement of [`split_patterns`] or [`engine_predicates`] with
/// tree-sitter's reading (a bug here, which the catalog's tests would show).
fn whole_query_error(rules: &[RuleQuery], source: &str, starts: &[usize], split: usize) -> String {
    match Query::new(&crate::syntax::language(), source) {
        Err(e) => {
            let r = starts.iter().rposition(|s| *s <= e.offset).unwrap_or(0);
            format!(
                "{} ({}): {:?} error at line {}: {}",
                rules[r].code,
                rules[r].name,
                e.kind,
                e.row + 1 - source[..starts[r]].lines().count(),
                e.message
            )
        }
        Ok(q) => format!(
            "the rules' query compiles, but nanlint read it differently from tree-sitter ({split} patterns, tree-sitter {}): \
             write each engine predicate as `(#api? @capture \"name\" ...)` on a capture of its own pattern, \
             `(` and `#` together, its names quoted",
            q.pattern_count()
        ),
    }
}

/// The byte ranges of the top-level patterns of a query's text, as tree-sitter delimits them:
/// each from its first character (`(`, `[`, `"`, `_` or a node name) to the end of its captures
/// and quantifiers (`(call) @smell`, `(x)*`), comments and whitespace between them left out.
fn split_patterns(source: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = source.as_bytes();
    let mut spans = Vec::new();
    let mut at = skip_blank(bytes, 0);
    while at < bytes.len() {
        let start = at;
        let mut end = skip_item(bytes, at);
        loop {
            let next = skip_blank(bytes, end);
            match bytes.get(next) {
                Some(b'@') => end = skip_name(bytes, next + 1),
                Some(b'?' | b'*' | b'+') => end = next + 1,
                _ => break,
            }
        }
        spans.push(start..end);
        at = skip_blank(bytes, end);
    }
    spans
}

/// The end of the item starting at `at`: a group `( ... )` or alternation `[ ... ]` with what it
/// nests, a string, or a name.
fn skip_item(bytes: &[u8], at: usize) -> usize {
    match bytes[at] {
        b'(' | b'[' => {
            let mut depth = 0usize;
            let mut i = at;
            while i < bytes.len() {
                match bytes[i] {
                    b'(' | b'[' => depth += 1,
                    b')' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    b'"' => i = skip_string(bytes, i) - 1,
                    b';' => i = skip_comment_bytes(bytes, i) - 1,
                    _ => {}
                }
                i += 1;
            }
            bytes.len()
        }
        b'"' => skip_string(bytes, at),
        _ => skip_name(bytes, at).max(at + 1),
    }
}

/// The end of a string whose `"` is at `at`, its closing `"` included.
fn skip_string(bytes: &[u8], at: usize) -> usize {
    let mut i = at + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'"' => return i + 1,
            _ => {}
        }
        i += 1;
    }
    bytes.len()
}

/// The end of a `;` comment at `at`, its line end included.
fn skip_comment_bytes(bytes: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |n| at + n + 1)
}

/// The end of a name (a capture's, a node's, a predicate's) starting at `at`.
fn skip_name(bytes: &[u8], at: usize) -> usize {
    let mut i = at;
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !b"()[]\";@".contains(&bytes[i]) {
        i += 1;
    }
    i
}

/// Past whitespace and comments.
fn skip_blank(bytes: &[u8], mut at: usize) -> usize {
    loop {
        match bytes.get(at) {
            Some(b) if b.is_ascii_whitespace() => at += 1,
            Some(b';') => at = skip_comment_bytes(bytes, at),
            _ => return at,
        }
    }
}

/// The engine predicates of one pattern read from its text, in order, their captures numbered as
/// in `query` (which holds a pattern of the same shape): what `query.general_predicates` gives
/// for a pattern it compiled. `Err` where the text is not `(#name? @capture "string" ...)`.
fn engine_predicates(pattern: &str, query: &Query) -> Result<Vec<QueryPredicate>, ()> {
    let bytes = pattern.as_bytes();
    // A capture is the pattern's own: named outside its engine predicates (tree-sitter rejects
    // one it does not define; `query` holds the captures of every pattern).
    let structure = shape(pattern);
    let own = |name: &str| {
        structure.match_indices('@').any(|(at, _)| {
            let rest = &structure[at + 1..];
            rest.starts_with(name) && skip_name(rest.as_bytes(), 0) == name.len()
        })
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = skip_string(bytes, i),
            b';' => i = skip_comment_bytes(bytes, i),
            b'(' if bytes.get(i + 1) == Some(&b'#') => {
                let name_end = skip_name(bytes, i + 2);
                let operator = &pattern[i + 2..name_end];
                if !ENGINE_PREDICATES.contains(&operator) {
                    i = name_end;
                    continue;
                }
                let mut args = Vec::new();
                let mut at = skip_blank(bytes, name_end);
                loop {
                    match bytes.get(at) {
                        Some(b')') => break,
                        Some(b'@') => {
                            let end = skip_name(bytes, at + 1);
                            let name = &pattern[at + 1..end];
                            if !own(name) {
                                return Err(());
                            }
                            let index = query.capture_index_for_name(name).ok_or(())?;
                            args.push(QueryPredicateArg::Capture(index));
                            at = end;
                        }
                        Some(b'"') => {
                            let end = skip_string(bytes, at);
                            // A line break in a string is tree-sitter's syntax error.
                            if bytes[at..end].contains(&b'\n') {
                                return Err(());
                            }
                            args.push(QueryPredicateArg::String(
                                unescape(pattern.get(at + 1..end - 1).ok_or(())?)?.into(),
                            ));
                            at = end;
                        }
                        _ => return Err(()),
                    }
                    at = skip_blank(bytes, at);
                }
                out.push(QueryPredicate { operator: operator.into(), args: args.into() });
                i = at + 1;
            }
            _ => i += 1,
        }
    }
    Ok(out)
}

/// A query string's content with its escapes read as tree-sitter reads them: `\n`, `\r`, `\t`,
/// `\0`, and any other character after a backslash for itself (`\"`, `\\`).
fn unescape(s: &str) -> Result<String, ()> {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next().ok_or(())? {
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '0' => '\0',
            other => other,
        });
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog's text and some shapes it does not use yet, one query.
    fn texts() -> String {
        let mut source: String = crate::rules::ALL.iter().map(|r| format!("{}\n", r.query)).collect();
        source.push_str(concat!(
            "(call) @smell\n",
            "; a comment with ( and [\n",
            "[(identifier) (attribute)] @a @b\n",
            "((string) @s (#eq? @s \"a ) ( ; \\\" \"))\n",
            "(call arguments: (argument_list (_)* @args))\n",
            "(comment)+ @c\n",
            "\"return\" @kw\n",
            "((call function: (_) @f) @smell (#method? @f \"a\\\\b\" \"c\\\"d\" \"e\\nf\" ; x ( y\n))\n",
        ));
        source
    }

    /// `split_patterns` delimits the patterns where tree-sitter starts them: the compiled query
    /// leaves the others out on that reading.
    #[test]
    fn patterns_are_split_where_tree_sitter_starts_them() {
        let source = texts();
        let query = Query::new(&crate::syntax::language(), &source).expect("the test text compiles");
        let starts: Vec<usize> = split_patterns(&source).iter().map(|s| s.start).collect();
        let expected: Vec<usize> = (0..query.pattern_count()).map(|i| query.start_byte_for_pattern(i)).collect();
        assert_eq!(starts, expected);
    }

    /// `engine_predicates` reads from a pattern's text what tree-sitter reads as its general
    /// predicates, on every pattern of the catalog and on escaped strings.
    #[test]
    fn engine_predicates_read_from_the_text_are_tree_sitters() {
        let source = texts();
        let query = Query::new(&crate::syntax::language(), &source).expect("the test text compiles");
        let spans = split_patterns(&source);
        let mut read = 0;
        for (i, span) in spans.iter().enumerate() {
            let from_text = engine_predicates(&source[span.clone()], &query).expect("the predicates read");
            assert_eq!(from_text, query.general_predicates(i), "pattern {i}: {}", &source[span.clone()]);
            read += from_text.len();
        }
        assert!(read > 30, "only {read} engine predicates were read");
    }

    /// A pattern compiled only through the first of its shape still has its own errors reported:
    /// an engine predicate naming a capture the pattern does not have is tree-sitter's error.
    #[test]
    fn an_error_in_a_shared_pattern_is_reported() {
        let rule = |query| RuleQuery { code: "NL999", name: "test-rule", query, captures: &[], anchors: &[] };
        let good = "((call function: (_) @_f) @smell (#method? @_f \"log\"))";
        let bad = "((call function: (_) @_f) @smell (#method? @_g \"log\"))";
        assert!(compile_from(&[rule(good), rule(good)]).is_ok());
        let error = compile_from(&[rule(good), rule(bad)]).err().expect("an unknown capture is an error");
        assert!(error.contains("Capture") && error.contains("_g"), "{error}");
    }

    /// What tree-sitter accepts and the engine would read wrongly is refused: an engine
    /// predicate on another pattern's capture (it would hold vacuously: that pattern's match has
    /// no such node), in a pattern compiled or shared; and a line break inside a predicate's
    /// string, which tree-sitter refuses, in a shared pattern it never reads.
    #[test]
    fn engine_predicates_on_foreign_captures_or_broken_strings_are_refused() {
        let rule = |query| RuleQuery { code: "NL999", name: "test-rule", query, captures: &[], anchors: &[] };
        let first = "((call function: (_) @_f) @smell (#method? @_f \"log\"))";
        let other = "((identifier) @_g @smell (#method? @_g \"x\"))";
        let foreign = "((call function: (_) @_f) @smell (#method? @_g \"exp\"))";
        assert!(compile_from(&[rule(first), rule(other)]).is_ok());
        let shared = compile_from(&[rule(first), rule(other), rule(foreign)]).err().expect("refused");
        assert!(shared.contains("read it differently"), "{shared}");
        let compiled = compile_from(&[rule(other), rule(foreign)]).err().expect("refused");
        assert!(compiled.contains("read it differently"), "{compiled}");
        let broken = "((call function: (_) @_f) @smell (#method? @_f \"ex\np\"))";
        assert!(compile_from(&[rule(first), rule(broken)]).is_err());
    }
}
