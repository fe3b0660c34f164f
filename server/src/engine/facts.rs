//! Value facts: what the engine can prove about an expression without running it.
//!
//! The questions rules ask are "can this be 0?" and "is this a probability from softmax/sigmoid?".
//! Answers come from the expression itself and, for a plain name, from its reaching assignment:
//! the last assignment to that name earlier in the same function (or module), outside nested
//! functions and classes. That is a deliberate approximation of data flow: a guard assigned in one
//! branch of an `if` counts, which errs toward silence rather than false alarms.

use std::collections::HashMap;

use tree_sitter::Node;

use super::Context;
use super::apis;
use super::imports::text;

/// How far facts follow names and nested expressions before giving up ("unknown").
const MAX_DEPTH: u32 = 12;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// Provably greater than 0 (up to float underflow the rules accept as guarded).
    Positive,
    /// A softmax or sigmoid output (or `1 - ` one): in [0, 1], and exactly 0 happens in float32.
    Probability(Provenance),
    /// Nothing is known.
    Unknown,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Provenance {
    /// `softmax` or `sigmoid`.
    pub kind: &'static str,
    /// The assignment that gave the name its probability, when it came through a name.
    pub assigned: Option<crate::smell::Span>,
    /// The name it came through.
    pub name: Option<String>,
}

impl<'a> Context<'a> {
    /// What is known about the value of `node`.
    pub fn value_of(&self, node: Node<'a>) -> Value {
        self.value_at(node, 0)
    }

    fn value_at(&self, node: Node<'a>, depth: u32) -> Value {
        if depth > MAX_DEPTH {
            return Value::Unknown;
        }
        let src = self.src;
        match node.kind() {
            "integer" | "float" => {
                if positive_literal(text(node, src)) {
                    Value::Positive
                } else {
                    Value::Unknown
                }
            }
            "parenthesized_expression" => match node.named_child(0) {
                Some(inner) => self.value_at(inner, depth + 1),
                None => Value::Unknown,
            },
            "identifier" => {
                if epsilon_like(text(node, src)) {
                    return Value::Positive;
                }
                match self.reaching_value(node, depth) {
                    Value::Probability(mut p) if p.name.is_none() => {
                        p.name = Some(text(node, src).to_string());
                        Value::Probability(p)
                    }
                    other => other,
                }
            }
            // `self.eps`, `np.finfo(np.float32).eps`, `torch.finfo(x.dtype).tiny`
            "attribute" => match node.child_by_field_name("attribute") {
                Some(attr) if epsilon_like(text(attr, src)) => Value::Positive,
                _ => Value::Unknown,
            },
            "binary_operator" => self.binary_value(node, depth),
            "call" => self.call_value(node, depth),
            _ => Value::Unknown,
        }
    }

    fn binary_value(&self, node: Node<'a>, depth: u32) -> Value {
        let (Some(left), Some(op), Some(right)) =
            (node.child_by_field_name("left"), node.child_by_field_name("operator"), node.child_by_field_name("right"))
        else {
            return Value::Unknown;
        };
        match op.kind() {
            // `x + eps` is the conventional guard: the other operand is taken to be non-negative.
            "+" => {
                let l = self.value_at(left, depth + 1);
                let r = self.value_at(right, depth + 1);
                if l == Value::Positive || r == Value::Positive { Value::Positive } else { Value::Unknown }
            }
            // `1 - p` of a probability is a probability that reaches 0 where p reaches 1.
            "-" => match (left.kind(), self.value_at(right, depth + 1)) {
                ("integer" | "float", Value::Probability(p))
                    if text(left, self.src).trim_end_matches(['.', '0']) == "1" =>
                {
                    Value::Probability(p)
                }
                _ => Value::Unknown,
            },
            "*" | "/" => {
                let l = self.value_at(left, depth + 1);
                let r = self.value_at(right, depth + 1);
                if l == Value::Positive && r == Value::Positive { Value::Positive } else { Value::Unknown }
            }
            _ => Value::Unknown,
        }
    }

    fn call_value(&self, node: Node<'a>, depth: u32) -> Value {
        let Some(function) = node.child_by_field_name("function") else {
            return Value::Unknown;
        };
        let args = Args::of(node);
        if let Some(api) = self.imports.api(function, self.src) {
            let api = api.as_str();
            if apis::EXP.contains(&api) || apis::ONES.contains(&api) || apis::leaf(api) == "epsilon" {
                return Value::Positive;
            }
            if apis::SOFTMAX.contains(&api) {
                return Value::Probability(Provenance { kind: "softmax", assigned: None, name: None });
            }
            if apis::SIGMOID.contains(&api) {
                return Value::Probability(Provenance { kind: "sigmoid", assigned: None, name: None });
            }
            if let Some(clip) = apis::CLIPS.iter().find(|c| c.name == api) {
                return self.bound_value(args.get(clip.position, clip.keywords, self.src), depth);
            }
            if apis::MAXIMUMS.contains(&api) {
                return self.any_positive(&args.positional, depth);
            }
            if apis::WHERES.contains(&api) {
                return self.where_value(&args, depth);
            }
            return Value::Unknown;
        }
        match function.kind() {
            // Builtin `max(x, eps)`.
            "identifier" if text(function, self.src) == "max" => self.any_positive(&args.positional, depth),
            // `K.epsilon()` on an unresolved receiver still names Keras' epsilon by convention.
            "identifier" | "attribute" if method_name(function, self.src) == Some("epsilon") => Value::Positive,
            "attribute" => {
                let name = method_name(function, self.src).unwrap_or("");
                if let Some(clip) = apis::CLIP_METHODS.iter().find(|c| c.name == name) {
                    return self.bound_value(args.get(clip.position, clip.keywords, self.src), depth);
                }
                match name {
                    "exp" if args.positional.is_empty() => Value::Positive,
                    "softmax" => Value::Probability(Provenance { kind: "softmax", assigned: None, name: None }),
                    "sigmoid" => Value::Probability(Provenance { kind: "sigmoid", assigned: None, name: None }),
                    _ => Value::Unknown,
                }
            }
            _ => Value::Unknown,
        }
    }

    /// A clip is a guard when its lower bound is positive.
    fn bound_value(&self, bound: Option<Node<'a>>, depth: u32) -> Value {
        match bound {
            Some(b) if self.value_at(b, depth + 1) == Value::Positive => Value::Positive,
            _ => Value::Unknown,
        }
    }

    fn any_positive(&self, args: &[Node<'a>], depth: u32) -> Value {
        if args.iter().any(|a| self.value_at(*a, depth + 1) == Value::Positive) {
            Value::Positive
        } else {
            Value::Unknown
        }
    }

    /// `where(x > 0, x, 1.0)`: positive when both branches are, or when the condition tests the
    /// chosen branch against 0 (the inner half of the double-`where` trick).
    fn where_value(&self, args: &Args<'a>, depth: u32) -> Value {
        let [cond, chosen, other] = match args.positional.as_slice() {
            [c, a, b] => [*c, *a, *b],
            _ => return Value::Unknown,
        };
        if self.value_at(other, depth + 1) != Value::Positive {
            return Value::Unknown;
        }
        if self.value_at(chosen, depth + 1) == Value::Positive || tests_positive(cond, chosen, self.src) {
            return Value::Positive;
        }
        Value::Unknown
    }

    /// The value of the last assignment to `name` before it is used, in the same scope.
    fn reaching_value(&self, name: Node<'a>, depth: u32) -> Value {
        let wanted = text(name, self.src);
        let scope = enclosing_scope(self.tree.root_node(), name);
        let Some(rhs) = self.scope_index(scope).last_before(wanted, name.start_byte()) else {
            return Value::Unknown;
        };
        match rhs {
            Binding::Value(rhs) => match self.value_at(rhs, depth + 1) {
                Value::Probability(p) => Value::Probability(Provenance {
                    assigned: Some(crate::smell::Span::of(rhs.parent().unwrap_or(rhs))),
                    name: Some(wanted.to_string()),
                    ..p
                }),
                other => other,
            },
            Binding::Guard(bound) => self.bound_value(Some(bound), depth),
        }
    }
}

/// Positional and keyword arguments of a call.
pub struct Args<'t> {
    pub positional: Vec<Node<'t>>,
    pub keyword: Vec<(Node<'t>, Node<'t>)>,
}

impl<'t> Args<'t> {
    pub fn of(call: Node<'t>) -> Args<'t> {
        let mut args = Args { positional: Vec::new(), keyword: Vec::new() };
        let Some(list) = call.child_by_field_name("arguments") else {
            return args;
        };
        let mut cursor = list.walk();
        for arg in list.named_children(&mut cursor) {
            match arg.kind() {
                "keyword_argument" => {
                    if let (Some(k), Some(v)) = (arg.child_by_field_name("name"), arg.child_by_field_name("value")) {
                        args.keyword.push((k, v));
                    }
                }
                "comment" | "list_splat" | "dictionary_splat" => {}
                _ => args.positional.push(arg),
            }
        }
        args
    }

    /// The argument at `position`, or passed by one of the keyword names.
    pub fn get(&self, position: usize, keywords: &[&str], src: &str) -> Option<Node<'t>> {
        self.positional
            .get(position)
            .copied()
            .or_else(|| self.keyword.iter().find(|(k, _)| keywords.contains(&text(*k, src))).map(|(_, v)| *v))
    }
}

/// `eps`, `epsilon`, `EPS`, `self.eps`, `_eps`, `eps_val`, `layer_norm_eps`, `tiny`, `smooth`.
pub fn epsilon_like(name: &str) -> bool {
    name.to_ascii_lowercase().split('_').any(|part| matches!(part, "eps" | "epsilon" | "tiny" | "smooth" | "smoothing"))
}

fn positive_literal(literal: &str) -> bool {
    let cleaned: String = literal.chars().filter(|c| *c != '_').collect();
    let lower = cleaned.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x") {
        return u128::from_str_radix(hex, 16).is_ok_and(|v| v > 0);
    }
    if lower.ends_with('j') {
        return false; // imaginary
    }
    lower.parse::<f64>().is_ok_and(|v| v > 0.0)
}

fn method_name<'s>(function: Node, src: &'s str) -> Option<&'s str> {
    match function.kind() {
        "attribute" => function.child_by_field_name("attribute").map(|a| text(a, src)),
        "identifier" => Some(text(function, src)),
        _ => None,
    }
}

/// `x > 0`, `x > 0.0`, `0 < x`, `x >= eps`: the condition only picks `chosen` where it is positive.
fn tests_positive(cond: Node, chosen: Node, src: &str) -> bool {
    if cond.kind() != "comparison_operator" || cond.named_child_count() != 2 {
        return false;
    }
    let (Some(a), Some(b)) = (cond.named_child(0), cond.named_child(1)) else {
        return false;
    };
    let mut cursor = cond.walk();
    let ops: Vec<&str> = cond.children_by_field_name("operators", &mut cursor).map(|o| o.kind()).collect();
    let chosen = text(chosen, src);
    let non_negative =
        |n: Node| matches!(n.kind(), "integer" | "float") && text(n, src).parse::<f64>().is_ok_and(|v| v >= 0.0);
    match ops.as_slice() {
        [">"] | [">="] => text(a, src) == chosen && (non_negative(b) || epsilon_like(text(b, src))),
        ["<"] | ["<="] => text(b, src) == chosen && (non_negative(a) || epsilon_like(text(a, src))),
        _ => false,
    }
}

/// The function that scopes a name, else the module (`root`).
///
/// One descent from the root: tree-sitter nodes do not store their parent, so each
/// `Node::parent` call descends from the root itself, and walking up would cost that once
/// per level.
fn enclosing_scope<'t>(root: Node<'t>, node: Node<'t>) -> Node<'t> {
    let mut scope = root;
    let mut at = root;
    while let Some(child) = at.child_with_descendant(node) {
        if child == node || child == at {
            break;
        }
        if child.kind() == "function_definition" {
            scope = child;
        }
        at = child;
    }
    scope
}

#[derive(Clone, Copy)]
enum Binding<'t> {
    /// `name = value`
    Value(Node<'t>),
    /// `name.clamp_(min=bound)` / `name += eps`: a guard applied in place.
    Guard(Node<'t>),
}

/// Every binding in one scope (not in nested functions and classes), by name, in source order:
/// built once per scope and analysis, so looking up many names stays linear.
pub struct ScopeIndex<'t> {
    by_name: HashMap<&'t str, Vec<Entry<'t>>>,
}

struct Entry<'t> {
    start: usize,
    end: usize,
    binding: Binding<'t>,
}

impl<'t> ScopeIndex<'t> {
    /// Iterative walk; only statements are entered.
    pub fn build(scope: Node<'t>, src: &'t str) -> Self {
        let mut by_name: HashMap<&'t str, Vec<Entry<'t>>> = HashMap::new();
        let mut add = |name: &'t str, node: Node<'t>, binding| {
            by_name.entry(name).or_default().push(Entry { start: node.start_byte(), end: node.end_byte(), binding });
        };
        let mut stack = vec![scope];
        while let Some(node) = stack.pop() {
            let kind = node.kind();
            if node != scope && matches!(kind, "function_definition" | "class_definition" | "lambda") {
                continue;
            }
            match kind {
                "assignment" => {
                    for (name, value) in assigned_names(node, src) {
                        add(name, node, Binding::Value(value));
                    }
                }
                "augmented_assignment" => {
                    let target = node.child_by_field_name("left").filter(|l| l.kind() == "identifier");
                    let op = node.child_by_field_name("operator").map(|o| o.kind());
                    if let (Some(t), Some("+="), Some(right)) = (target, op, node.child_by_field_name("right")) {
                        add(text(t, src), node, Binding::Guard(right));
                    }
                }
                "call" => {
                    if let Some((name, bound)) = in_place_clip(node, src) {
                        add(name, node, Binding::Guard(bound));
                    }
                }
                _ => {}
            }
            // Assignments and calls hold expressions, not statements: nothing more to find inside.
            if matches!(kind, "assignment" | "augmented_assignment" | "call") {
                continue;
            }
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                if is_statement_like(child.kind()) {
                    stack.push(child);
                }
            }
        }
        for entries in by_name.values_mut() {
            entries.sort_by_key(|e| e.start);
        }
        ScopeIndex { by_name }
    }

    /// The last binding of `name` that ends before `before`.
    fn last_before(&self, name: &str, before: usize) -> Option<Binding<'t>> {
        let entries = self.by_name.get(name)?;
        let candidates = &entries[..entries.partition_point(|e| e.start < before)];
        candidates.iter().rev().find(|e| e.end <= before).map(|e| e.binding)
    }
}

fn is_statement_like(kind: &str) -> bool {
    kind.ends_with("_statement")
        || kind.ends_with("_clause")
        || matches!(
            kind,
            "block"
                | "assignment"
                | "augmented_assignment"
                | "call"
                | "function_definition"
                | "class_definition"
                | "decorated_definition"
        )
}

/// The names an assignment binds and the value each gets: `a = value`, `a: T = value`, and
/// every name of a chain `a = b = value`.
fn assigned_names<'t>(assignment: Node<'t>, src: &'t str) -> Vec<(&'t str, Node<'t>)> {
    let mut names = Vec::new();
    let mut node = assignment;
    loop {
        let (Some(left), Some(right)) = (node.child_by_field_name("left"), node.child_by_field_name("right")) else {
            return Vec::new();
        };
        if left.kind() == "identifier" {
            names.push(text(left, src));
        }
        if right.kind() == "assignment" {
            node = right;
            continue;
        }
        return names.into_iter().map(|n| (n, right)).collect();
    }
}

/// `name.clamp_(min=eps)` / `name.clip_(eps, 1)`: the name and the lower bound applied in place.
fn in_place_clip<'t>(call: Node<'t>, src: &'t str) -> Option<(&'t str, Node<'t>)> {
    let function = call.child_by_field_name("function")?;
    if function.kind() != "attribute" {
        return None;
    }
    let object = function.child_by_field_name("object")?;
    let method = text(function.child_by_field_name("attribute")?, src);
    if object.kind() != "identifier" || !method.ends_with('_') {
        return None;
    }
    let clip = apis::CLIP_METHODS.iter().find(|c| c.name == method)?;
    Some((text(object, src), Args::of(call).get(clip.position, clip.keywords, src)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Context, parse};

    /// The value of the first argument of the last call to a function whose name ends in `log`.
    fn value(src: &str) -> Value {
        let tree = parse(src);
        let cx = Context::new(src, &tree);
        let mut found = None;
        let mut stack = vec![tree.root_node()];
        while let Some(n) = stack.pop() {
            if n.kind() == "call"
                && text(n.child_by_field_name("function").unwrap(), src).ends_with("log")
                && found.is_none_or(|f: Node| n.start_byte() > f.start_byte())
            {
                found = Some(n);
            }
            let mut c = n.walk();
            stack.extend(n.named_children(&mut c));
        }
        let call = found.expect("a log call");
        cx.value_of(Args::of(call).positional[0])
    }

    fn positive(body: &str) -> bool {
        value(&format!("import tensorflow as tf\nimport torch\nimport numpy as np\nimport keras.backend as K\n{body}"))
            == Value::Positive
    }

    #[test]
    fn guards_are_recognised() {
        for body in [
            "tf.log(2.0)",
            "tf.log(1_000)",
            "tf.log(x + 1e-7)",
            "tf.log(1e-7 + x)",
            "tf.log(x + eps)",
            "tf.log(x + self.eps)",
            "tf.log(x + self.layer_norm_eps)",
            "tf.log(x + K.epsilon())",
            "tf.log(x + np.finfo(np.float32).eps)",
            "tf.log(x + torch.finfo(x.dtype).tiny)",
            "tf.log(tf.clip_by_value(p, 1e-10, 1.0))",
            "tf.log(tf.clip_by_value(p, clip_value_min=1e-10, clip_value_max=1.0))",
            "tf.log(tf.maximum(x, 1e-12))",
            "torch.log(torch.clamp(p, min=1e-7))",
            "torch.log(p.clamp(min=1e-7))",
            "torch.log(p.clamp_min(1e-7))",
            "np.log(np.clip(p, 1e-7, 1))",
            "np.log(p.clip(1e-7, 1))",
            "np.log(np.fmax(x, eps))",
            "np.log(max(x, 1e-9))",
            "tf.log(tf.exp(z))",
            "torch.log(z.exp())",
            "tf.log(tf.where(x > 0, x, 1.0))",
            "tf.log(tf.where(0 < x, x, tf.ones_like(x) * 1.0))",
            "y = tf.clip_by_value(y, 1e-7, 1.0)\ntf.log(y)",
            "def f(p):\n    p = torch.clamp(p, min=1e-7)\n    return torch.log(p)",
            "def f(p):\n    p.clamp_(min=1e-7)\n    return torch.log(p)",
            "def f(p):\n    p += 1e-7\n    return torch.log(p)",
            "def f(p):\n    if cond:\n        q = p + eps\n    return torch.log(q)",
        ] {
            assert!(positive(body), "should be guarded: {body}");
        }
    }

    #[test]
    fn unguarded_values() {
        for body in [
            "tf.log(x)",
            "tf.log(-1e-7 + 0)",
            "tf.log(x - eps)",
            "tf.log(x * 1e-7)",
            "tf.log(tf.clip_by_value(p, 0.0, 1.0))",
            "tf.log(tf.where(x > 0, y, 1.0))",
            "tf.log(tf.where(x > 0, x, 0.0))",
            "np.log(max(x, 0))",
            "torch.log(p.clamp(max=1.0))",
            // The guard is assigned after the use, or in another function.
            "torch.log(p)\np = torch.clamp(p, min=1e-7)",
            "def g():\n    p = torch.clamp(p, min=1e-7)\ndef f(p):\n    return torch.log(p)",
            // The last assignment wins.
            "p = torch.clamp(p, min=1e-7)\np = p - 1\ntorch.log(p)",
        ] {
            assert!(!positive(body), "should not be guarded: {body}");
        }
    }

    #[test]
    fn provenance_of_probabilities() {
        let src = "import tensorflow as tf\nlogits = f(x)\ny_conv = tf.nn.softmax(logits)\nloss = tf.log(y_conv)\n";
        assert_eq!(
            value(src),
            Value::Probability(Provenance {
                kind: "softmax",
                assigned: Some(crate::smell::Span {
                    start_byte: 38,
                    end_byte: 68,
                    start: crate::smell::Point { row: 2, column: 0 },
                    end: crate::smell::Point { row: 2, column: 30 },
                }),
                name: Some("y_conv".into())
            })
        );
        let src = "import torch\np = torch.sigmoid(z)\nloss = torch.log(1 - p)\n";
        assert!(matches!(value(src), Value::Probability(Provenance { kind: "sigmoid", .. })));
        let src = "import torch.nn.functional as F\nimport torch\nloss = torch.log(F.softmax(z, dim=-1))\n";
        assert!(matches!(value(src), Value::Probability(Provenance { kind: "softmax", assigned: None, .. })));
        // Softmax is not a guard.
        assert!(!positive("p = tf.nn.softmax(z)\ntf.log(p)"));
    }

    #[test]
    fn epsilon_names() {
        for n in ["eps", "EPS", "epsilon", "_eps", "eps_val", "layer_norm_eps", "tiny", "smooth"] {
            assert!(epsilon_like(n), "{n}");
        }
        for n in ["x", "steps", "reps", "depsilon", "keps"] {
            assert!(!epsilon_like(n), "{n}");
        }
    }
}
