//! Value facts: what the engine can prove about an expression without running it.
//!
//! The questions rules ask are "can this be 0?" and "is this a probability from softmax/sigmoid?".
//! Answers come from the expression itself and, for a plain name, from its reaching assignment:
//! the last assignment to that name earlier in the same function (or module), outside nested
//! functions and classes. That is a deliberate approximation of data flow: a guard assigned in one
//! branch of an `if` counts, which errs toward silence rather than false alarms.

use std::collections::HashMap;
use std::ops::Range;
use std::rc::Rc;

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
        if is_constant_kind(node.kind())
            && let Some(v) = constant(node, src, &self.imports)
        {
            return if v > 0.0 { Value::Positive } else { Value::Unknown };
        }
        match node.kind() {
            "parenthesized_expression" => match node.named_child(0) {
                Some(inner) => self.value_at(inner, depth + 1),
                None => Value::Unknown,
            },
            "identifier" => {
                let name = text(node, src);
                if positive_by_name(name) {
                    return Value::Positive;
                }
                match self.reaching_value(node, depth) {
                    Some(Value::Probability(mut p)) if p.name.is_none() => {
                        p.name = Some(name.to_string());
                        Value::Probability(p)
                    }
                    Some(other) => other,
                    // Not bound in its own scope: a parameter with a positive default
                    // (`k_init: float = 0.75`), a module-level constant, or unknown.
                    None if self.positive_default(node) || self.imports.is_positive_constant(name) => Value::Positive,
                    None => Value::Unknown,
                }
            }
            // `self.eps`, `np.finfo(np.float32).eps`, `torch.finfo(x.dtype).tiny`, `cfg.stride`
            "attribute" => match node.child_by_field_name("attribute") {
                Some(attr) if positive_by_name(text(attr, src)) => Value::Positive,
                // `np.finfo(dtype).max`, `torch.iinfo(torch.int32).max`
                Some(attr)
                    if matches!(text(attr, src), "max" | "smallest_normal" | "resolution")
                        && node
                            .child_by_field_name("object")
                            .filter(|o| o.kind() == "call")
                            .and_then(|o| o.child_by_field_name("function"))
                            .and_then(|f| method_name(f, src))
                            .is_some_and(|f| matches!(f, "finfo" | "iinfo")) =>
                {
                    Value::Positive
                }
                _ => Value::Unknown,
            },
            // `-torch.expm1(-dt)` = 1 - exp(-dt): positive where `dt` is.
            "unary_operator" => {
                let negated_expm1 = node
                    .child_by_field_name("operator")
                    .filter(|o| o.kind() == "-")
                    .and(node.child_by_field_name("argument"))
                    .filter(|call| matches!(self.callee(*call), Some(Callee::Api(api)) if apis::leaf(&api) == "expm1"))
                    .and_then(|call| Args::of(call).positional.first().copied())
                    .filter(|arg| arg.kind() == "unary_operator")
                    .filter(|arg| arg.child_by_field_name("operator").is_some_and(|o| o.kind() == "-"))
                    .and_then(|arg| arg.child_by_field_name("argument"));
                match negated_expm1 {
                    Some(inner) if self.value_at(inner, depth + 1) == Value::Positive => Value::Positive,
                    _ => Value::Unknown,
                }
            }
            "binary_operator" => self.binary_value(node, depth),
            "call" => self.call_value(node, depth),
            // Elements of a positive array are positive: `A[None, :]`, `x[mask]`.
            "subscript" => match node.child_by_field_name("value") {
                Some(array) if self.value_at(array, depth + 1) == Value::Positive => Value::Positive,
                _ => Value::Unknown,
            },
            _ => Value::Unknown,
        }
    }

    /// The function a call resolves to through the imports, else the name of the method it calls.
    fn callee(&self, node: Node<'a>) -> Option<Callee<'a>> {
        let function = node.child_by_field_name("function").filter(|_| node.kind() == "call")?;
        match self.imports.api(function, self.src) {
            Some(api) => Some(Callee::Api(api)),
            None => method_name(function, self.src).map(Callee::Method),
        }
    }

    /// `exp(x)` in any library, or `x.exp()`.
    fn is_exp(&self, node: Node<'a>) -> bool {
        match self.callee(node) {
            Some(Callee::Api(api)) => apis::EXP.contains(&api.as_str()),
            Some(Callee::Method(name)) => name == "exp",
            None => false,
        }
    }

    /// A sum, in any library or as a method (`jnp.sum(e)`, `tf.reduce_sum(e)`, `e.sum(-1)`).
    fn is_sum(&self, node: Node<'a>) -> bool {
        match self.callee(node) {
            Some(Callee::Api(api)) => matches!(apis::leaf(&api), "sum" | "reduce_sum"),
            Some(Callee::Method(name)) => name == "sum",
            None => false,
        }
    }

    /// `node` is provably less than `c`: a constant below it, or a clip whose upper bound is
    /// (`1.0 - eps` for `c` = 1), directly or through the last assignment.
    fn below(&self, node: Node<'a>, c: f64, depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        if let Some(v) = self.constant_value(node) {
            return v < c;
        }
        match node.kind() {
            "parenthesized_expression" => node.named_child(0).is_some_and(|inner| self.below(inner, c, depth + 1)),
            "identifier" => {
                let scope = enclosing_scope(self.tree.root_node(), node);
                match self.scope_index(scope).last_before(text(node, self.src), node.start_byte()) {
                    Some(Binding::Value(rhs)) => self.below(rhs, c, depth + 1),
                    _ => false,
                }
            }
            // The upper bound `c' - positive` with `c' <= c`.
            "call" => self.upper_bound(node).is_some_and(|upper| {
                self.constant_value(upper).is_some_and(|v| v < c)
                    || (upper.kind() == "binary_operator"
                        && upper.child_by_field_name("operator").is_some_and(|o| o.kind() == "-")
                        && upper
                            .child_by_field_name("left")
                            .and_then(|l| self.constant_value(l))
                            .is_some_and(|v| v <= c)
                        && upper
                            .child_by_field_name("right")
                            .is_some_and(|r| self.value_at(r, depth + 1) == Value::Positive))
            }),
            _ => false,
        }
    }

    /// The upper-bound argument of a clip call (`np.clip(x, lo, hi)`, `p.clamp(max=hi)`).
    fn upper_bound(&self, call: Node<'a>) -> Option<Node<'a>> {
        let function = call.child_by_field_name("function")?;
        let args = Args::of(call);
        let upper = match self.imports.api(function, self.src) {
            Some(api) => apis::CLIPS.iter().find(|c| c.name == api)?.upper?,
            None => {
                let name = method_name(function, self.src)?;
                apis::CLIP_METHODS.iter().find(|c| c.name == name)?.upper?
            }
        };
        args.arg(upper, self.src)
    }

    /// `name` is a parameter of its function whose default is a positive constant: the function
    /// is meant to be called with values like it.
    fn positive_default(&self, name: Node<'a>) -> bool {
        let Some(params) = self.enclosing_function(name).and_then(|f| f.child_by_field_name("parameters")) else {
            return false;
        };
        let wanted = text(name, self.src);
        let mut cursor = params.walk();
        params.named_children(&mut cursor).any(|p| {
            matches!(p.kind(), "default_parameter" | "typed_default_parameter")
                && p.child_by_field_name("name").is_some_and(|n| text(n, self.src) == wanted)
                && p.child_by_field_name("value").and_then(|v| self.constant_value(v)).is_some_and(|v| v > 0.0)
        })
    }

    /// The innermost function definition holding `node`, if any.
    pub fn enclosing_function(&self, node: Node<'a>) -> Option<Node<'a>> {
        Some(enclosing_scope(self.tree.root_node(), node)).filter(|s| s.kind() == "function_definition")
    }

    /// The value of `node` when it is a constant expression: literals, `math.pi`-like constants,
    /// arithmetic on them (`(1 - 0.01) / 0.01`, `2 ** 10`, `2.0 * np.pi`).
    pub fn constant_value(&self, node: Node<'a>) -> Option<f64> {
        constant(node, self.src, &self.imports)
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
            // `1 - x` where `x` was clipped below 1 (`np.clip(x, eps, 1 - eps)`).
            "-" if self.constant_value(left).is_some_and(|c| c > 0.0 && self.below(right, c, depth + 1)) => {
                Value::Positive
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
            // `exp(x) / sum(exp(x))` is a softmax written out, and as able to reach 0.
            "/" if self.is_exp(left) && self.is_sum(right) => {
                Value::Probability(Provenance { kind: "softmax", assigned: None, name: None })
            }
            "*" | "/" | "**" => {
                let l = self.value_at(left, depth + 1);
                let r = self.value_at(right, depth + 1);
                let positive = match op.kind() {
                    // A positive base stays positive whatever the exponent.
                    "**" => l == Value::Positive,
                    // `1 / temperature`: a positive constant over a finite value is never 0.
                    "/" => l == Value::Positive && (r == Value::Positive || self.constant_value(left).is_some()),
                    _ => l == Value::Positive && r == Value::Positive,
                };
                if positive { Value::Positive } else { Value::Unknown }
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
                return self.bound_value(args.arg(clip.lower, self.src), depth);
            }
            if apis::MAXIMUMS.contains(&api) {
                // `np.maximum(x, self.mel_floor)`: a named bound counts as in a clip, but only in
                // second place, where a floor goes (`maximum(a, b)` of two arrays is no guard).
                let named =
                    args.positional.get(1).is_some_and(|b| self.named_bound(*b) && bound_like(text(*b, self.src)));
                return if named { Value::Positive } else { self.any_positive(&args.positional, depth) };
            }
            if apis::WHERES.contains(&api) {
                return self.where_value(&args, depth);
            }
            // `torch.tensor(10.0)`, `tf.constant(2, x.dtype)`, `torch.full((), 1e4)`
            if let Some((_, value)) = apis::CONSTRUCTORS.iter().find(|(name, _)| *name == api) {
                return match args.arg(*value, self.src) {
                    Some(value) => self.value_at(value, depth + 1),
                    None => Value::Unknown,
                };
            }
            // `torch.arange(1, n + 1)`: every element is at least a positive start.
            if apis::RANGES.contains(&api) {
                let start = if args.positional.len() >= 2 { args.positional.first().copied() } else { None };
                let start = start.or_else(|| args.get(usize::MAX, &["start"], self.src));
                let step = args.get(2, &["step", "delta"], self.src);
                let positive = |n: Option<Node<'a>>| n.is_some_and(|n| self.value_at(n, depth + 1) == Value::Positive);
                return if positive(start) && (step.is_none() || positive(step)) {
                    Value::Positive
                } else {
                    Value::Unknown
                };
            }
            // `sqrt` and `expm1` of a positive value are positive, and so are the sum, mean and
            // maximum of a positive array (`np.log(np.sum(np.exp(x)))`).
            if matches!(
                apis::leaf(api),
                "sqrt" | "expm1" | "sum" | "mean" | "max" | "amax" | "reduce_sum" | "reduce_mean" | "reduce_max"
            ) {
                return match args.positional.first() {
                    Some(x) if self.value_at(*x, depth + 1) == Value::Positive => Value::Positive,
                    _ => Value::Unknown,
                };
            }
            return Value::Unknown;
        }
        match function.kind() {
            // Builtin `max(x, eps)`.
            "identifier" if text(function, self.src) == "max" => self.any_positive(&args.positional, depth),
            // Builtin `float(x)` keeps the value.
            "identifier" if text(function, self.src) == "float" => match args.positional.as_slice() {
                [x] => self.value_at(*x, depth + 1),
                _ => Value::Unknown,
            },
            // `K.epsilon()` on an unresolved receiver still names Keras' epsilon by convention.
            "identifier" | "attribute" if method_name(function, self.src) == Some("epsilon") => Value::Positive,
            "attribute" => {
                let name = method_name(function, self.src).unwrap_or("");
                if let Some(clip) = apis::CLIP_METHODS.iter().find(|c| c.name == name) {
                    return self.bound_value(args.arg(clip.lower, self.src), depth);
                }
                match name {
                    "exp" if args.positional.is_empty() => Value::Positive,
                    // Conversions and reshapes keep every element: `n.float()`, `x.to(device)`,
                    // `a.astype(np.float32)`, `A.expand(n, -1).contiguous()`; reductions of a
                    // positive array are positive: `np.exp(x).sum(axis=1)`.
                    "sum" | "mean" | "max" | "amax" | "float" | "double" | "half" | "to" | "type" | "astype"
                    | "cpu" | "cuda" | "detach" | "clone" | "contiguous" | "expand" | "expand_as" | "reshape"
                    | "view" | "repeat" | "unsqueeze" | "squeeze" | "flatten" | "transpose" | "permute"
                    | "broadcast_to" => match function.child_by_field_name("object") {
                        Some(receiver) => self.value_at(receiver, depth + 1),
                        None => Value::Unknown,
                    },
                    "softmax" => Value::Probability(Provenance { kind: "softmax", assigned: None, name: None }),
                    "sigmoid" => Value::Probability(Provenance { kind: "sigmoid", assigned: None, name: None }),
                    _ => Value::Unknown,
                }
            }
            _ => Value::Unknown,
        }
    }

    /// A clip is a guard when its lower bound is positive, or is a named bound (`min=threshold`,
    /// `self.mel_floor`) rather than a constant: whoever wrote a lower bound chose it to keep the
    /// value away from 0, and nanlint does not second-guess a bound it cannot see.
    fn bound_value(&self, bound: Option<Node<'a>>, depth: u32) -> Value {
        match bound {
            Some(b) if self.value_at(b, depth + 1) == Value::Positive || self.named_bound(b) => Value::Positive,
            _ => Value::Unknown,
        }
    }

    /// A name or attribute that is not a constant (`threshold`, `self.min_value`, `cfg.floor`).
    fn named_bound(&self, node: Node<'a>) -> bool {
        matches!(node.kind(), "identifier" | "attribute") && self.constant_value(node).is_none()
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

    /// The value of the last assignment to `name` before it is used, in the same scope; `None`
    /// when the scope does not bind it there.
    fn reaching_value(&self, name: Node<'a>, depth: u32) -> Option<Value> {
        let wanted = text(name, self.src);
        let scope = enclosing_scope(self.tree.root_node(), name);
        let rhs = self.scope_index(scope).last_before(wanted, name.start_byte())?;
        Some(match rhs {
            Binding::Value(rhs) => match self.value_at(rhs, depth + 1) {
                Value::Probability(p) => Value::Probability(Provenance {
                    assigned: Some(crate::smell::Span::of(rhs.parent().unwrap_or(rhs))),
                    name: Some(wanted.to_string()),
                    ..p
                }),
                other => other,
            },
            Binding::Guard(bound) => self.bound_value(Some(bound), depth),
            Binding::Offset(added) => match self.value_at(added, depth + 1) {
                Value::Positive => Value::Positive,
                _ => Value::Unknown,
            },
        })
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

    /// The argument `arg` describes.
    pub fn arg(&self, arg: apis::Arg, src: &str) -> Option<Node<'t>> {
        self.get(arg.position, arg.keywords, src)
    }

    /// The argument at `position`, or passed by one of the keyword names.
    pub fn get(&self, position: usize, keywords: &[&str], src: &str) -> Option<Node<'t>> {
        self.positional
            .get(position)
            .copied()
            .or_else(|| self.keyword.iter().find(|(k, _)| keywords.contains(&text(*k, src))).map(|(_, v)| *v))
    }
}

/// `eps`, `epsilon`, `EPS`, `self.eps`, `_eps`, `eps_val`, `layer_norm_eps`, `tiny`, `smooth`,
/// `mel_floor`, `LOG_ZERO_GUARD`: names of small positive guards.
pub fn epsilon_like(name: &str) -> bool {
    name.to_ascii_lowercase()
        .split('_')
        .any(|part| matches!(part, "eps" | "epsilon" | "tiny" | "smooth" | "smoothing" | "floor" | "guard"))
}

/// Names that are positive by convention: guards, and structural sizes (`stride`,
/// `window_length`, `group_size`, `max_timescale`). Counts (`num_positives`) are not: they are 0
/// often enough.
fn positive_by_name(name: &str) -> bool {
    epsilon_like(name)
        || name
            .to_ascii_lowercase()
            .rsplit('_')
            .next()
            .is_some_and(|part| matches!(part, "stride" | "size" | "length" | "timescale" | "dim" | "width" | "height"))
}

/// Names that read as a lower bound: `min_value`, `threshold`, `mel_floor`, `EPS`.
fn bound_like(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let last = lower.rsplit('.').next().unwrap_or(&lower);
    epsilon_like(last) || last.split('_').any(|p| matches!(p, "min" | "minimum" | "threshold" | "lower" | "low"))
}

/// The value of a numeric literal (`1e-7`, `0x10`, `1_000`); `None` for imaginary ones.
fn literal_value(literal: &str) -> Option<f64> {
    let cleaned: String = literal.chars().filter(|c| *c != '_').collect();
    let lower = cleaned.to_ascii_lowercase();
    if let Some(hex) = lower.strip_prefix("0x") {
        return u128::from_str_radix(hex, 16).ok().map(|v| v as f64);
    }
    if let Some(oct) = lower.strip_prefix("0o") {
        return u128::from_str_radix(oct, 8).ok().map(|v| v as f64);
    }
    if let Some(bin) = lower.strip_prefix("0b") {
        return u128::from_str_radix(bin, 2).ok().map(|v| v as f64);
    }
    if lower.ends_with('j') {
        return None; // imaginary
    }
    lower.trim_end_matches('l').parse::<f64>().ok()
}

/// Kinds that may hold a constant expression (see [`constant`]).
fn is_constant_kind(kind: &str) -> bool {
    matches!(
        kind,
        "integer" | "float" | "unary_operator" | "binary_operator" | "parenthesized_expression" | "attribute" | "call"
    )
}

/// The value of a constant expression: numeric literals, `pi` and `e` of `math`, NumPy, PyTorch
/// and `jax.numpy` (through `imports`), `float(...)`, `sqrt(...)`, and `+ - * / // **` on them.
/// `None` for anything else, or a result that is not finite.
pub fn constant(node: Node, src: &str, imports: &super::imports::Imports) -> Option<f64> {
    constant_at(node, src, imports, 0)
}

fn constant_at(node: Node, src: &str, imports: &super::imports::Imports, depth: u32) -> Option<f64> {
    if depth > 2 * MAX_DEPTH {
        return None;
    }
    let inner = |n: Option<Node>| constant_at(n?, src, imports, depth + 1);
    let value = match node.kind() {
        "integer" | "float" => literal_value(text(node, src))?,
        "parenthesized_expression" => inner(node.named_child(0))?,
        "unary_operator" => {
            let x = inner(node.child_by_field_name("argument"))?;
            match node.child_by_field_name("operator")?.kind() {
                "-" => -x,
                "+" => x,
                _ => return None,
            }
        }
        "binary_operator" => {
            let l = inner(node.child_by_field_name("left"))?;
            let r = inner(node.child_by_field_name("right"))?;
            match node.child_by_field_name("operator")?.kind() {
                "+" => l + r,
                "-" => l - r,
                "*" => l * r,
                "/" if r != 0.0 => l / r,
                "//" if r != 0.0 => (l / r).floor(),
                "**" => l.powf(r),
                _ => return None,
            }
        }
        "attribute" => {
            let path = imports.resolve(node, src)?;
            match path.as_str() {
                "math.pi" | "numpy.pi" | "torch.pi" | "jax.numpy.pi" | "scipy.constants.pi" => std::f64::consts::PI,
                "math.e" | "numpy.e" | "torch.e" | "jax.numpy.e" => std::f64::consts::E,
                "math.tau" => std::f64::consts::TAU,
                _ => return None,
            }
        }
        "call" => {
            let function = node.child_by_field_name("function")?;
            let args = Args::of(node);
            let [x] = args.positional.as_slice() else { return None };
            let x = inner(Some(*x))?;
            let name = match function.kind() {
                "identifier" if text(function, src) == "float" => return Some(x),
                _ => imports.resolve(function, src)?,
            };
            match name.as_str() {
                "math.sqrt" | "numpy.sqrt" | "jax.numpy.sqrt" if x >= 0.0 => x.sqrt(),
                _ => return None,
            }
        }
        _ => return None,
    };
    value.is_finite().then_some(value)
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

/// What a call calls: a library function (canonical name) or a method on an unresolved receiver.
enum Callee<'s> {
    Api(String),
    Method(&'s str),
}

#[derive(Clone, Copy)]
enum Binding<'t> {
    /// `name = value`
    Value(Node<'t>),
    /// `name.clamp_(min=bound)` / `name += eps`: a guard applied in place.
    Guard(Node<'t>),
    /// `name += value`: positive when `value` is (the `+ eps` guard, in place).
    Offset(Node<'t>),
}

/// Every binding in one scope (not in nested functions and classes), by name, in source order:
/// built once per scope and analysis, so looking up many names stays linear.
pub struct ScopeIndex<'t> {
    by_name: HashMap<&'t str, Vec<Entry<'t>>>,
}

/// The `if` branches a binding sits in: (the `if` statement, the branch), as byte ranges.
type Branches = Rc<[(Range<usize>, Range<usize>)]>;

struct Entry<'t> {
    start: usize,
    end: usize,
    binding: Binding<'t>,
    branches: Branches,
}

impl Entry<'_> {
    /// The binding sits in one branch of an `if` and `at` in another: it cannot reach there.
    fn excludes(&self, at: usize) -> bool {
        self.branches.iter().any(|(statement, branch)| statement.contains(&at) && !branch.contains(&at))
    }
}

impl<'t> ScopeIndex<'t> {
    /// Iterative walk; only statements are entered.
    pub fn build(scope: Node<'t>, src: &'t str) -> Self {
        let mut by_name: HashMap<&'t str, Vec<Entry<'t>>> = HashMap::new();
        let mut add = |name: &'t str, node: Node<'t>, binding, branches: &Branches| {
            by_name.entry(name).or_default().push(Entry {
                start: node.start_byte(),
                end: node.end_byte(),
                binding,
                branches: branches.clone(),
            });
        };
        let mut stack: Vec<(Node<'t>, Branches)> = vec![(scope, Rc::from([]))];
        while let Some((node, branches)) = stack.pop() {
            let kind = node.kind();
            if node != scope && matches!(kind, "function_definition" | "class_definition" | "lambda") {
                continue;
            }
            match kind {
                "assignment" => {
                    for (name, value) in assigned_names(node, src) {
                        add(name, node, Binding::Value(value), &branches);
                    }
                }
                "augmented_assignment" => {
                    let target = node.child_by_field_name("left").filter(|l| l.kind() == "identifier");
                    let op = node.child_by_field_name("operator").map(|o| o.kind());
                    if let (Some(t), Some("+="), Some(right)) = (target, op, node.child_by_field_name("right")) {
                        add(text(t, src), node, Binding::Offset(right), &branches);
                    }
                }
                "call" => {
                    if let Some((name, bound)) = in_place_clip(node, src) {
                        add(name, node, Binding::Guard(bound), &branches);
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
                if !is_statement_like(child.kind()) {
                    continue;
                }
                // The body of an `if` and each `elif`/`else` are branches of it.
                let branch = kind == "if_statement"
                    && (matches!(child.kind(), "elif_clause" | "else_clause")
                        || node.child_by_field_name("consequence") == Some(child));
                // Past 64 nested branches the rest are not recorded (bounded memory on
                // pathological nesting; an unrecorded branch only lets more bindings reach).
                let inner = if branch && branches.len() < 64 {
                    let mut nested = branches.to_vec();
                    nested.push((node.byte_range(), child.byte_range()));
                    Rc::from(nested)
                } else {
                    branches.clone()
                };
                stack.push((child, inner));
            }
        }
        for entries in by_name.values_mut() {
            entries.sort_by_key(|e| e.start);
        }
        ScopeIndex { by_name }
    }

    /// The last binding of `name` that ends before `before`, outside the `if` branches that
    /// `before` is not in.
    fn last_before(&self, name: &str, before: usize) -> Option<Binding<'t>> {
        let entries = self.by_name.get(name)?;
        let candidates = &entries[..entries.partition_point(|e| e.start < before)];
        candidates.iter().rev().find(|e| e.end <= before && !e.excludes(before)).map(|e| e.binding)
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
    Some((text(object, src), Args::of(call).arg(clip.lower, src)?))
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

#[cfg(test)]
mod constant_tests {
    use crate::engine::{Context, parse};

    /// The constant value of the right side of the last line `x = ...`.
    fn folded(expr: &str) -> Option<f64> {
        let src = format!("import math\nimport numpy as np\nimport torch\nx = {expr}\n");
        let tree = parse(&src);
        let cx = Context::new(&src, &tree);
        let stmt = tree.root_node().named_child(3).unwrap();
        let right = stmt.named_child(0).unwrap().child_by_field_name("right").unwrap();
        cx.constant_value(right)
    }

    #[test]
    fn constant_expressions_fold() {
        assert_eq!(folded("(1 - 0.01) / 0.01").map(|v| v.round()), Some(99.0));
        assert_eq!(folded("2 ** 10"), Some(1024.0));
        assert_eq!(folded("-3 // 2"), Some(-2.0));
        assert_eq!(folded("0x10 + 0o10 + 0b10 + 1_000"), Some(1026.0));
        assert_eq!(folded("2.0 * np.pi"), Some(2.0 * std::f64::consts::PI));
        assert_eq!(folded("math.sqrt(4.0) * float(3)"), Some(6.0));
        assert_eq!(folded("1 - 0.5 * 2"), Some(0.0));
        // Not constants, or not finite.
        assert_eq!(folded("1 / 0"), None);
        assert_eq!(folded("10.0 ** 400"), None);
        assert_eq!(folded("2 * n"), None);
        assert_eq!(folded("1j"), None);
        assert_eq!(folded("pi"), None, "an un-imported `pi` is just a name");
        assert_eq!(folded("np.sqrt(-1.0)"), None);
    }

    #[test]
    fn deep_constant_expressions_give_up_without_overflow() {
        let deep = format!("{}1{}", "(".repeat(3000), ")".repeat(3000));
        assert_eq!(folded(&deep), None);
        let long = vec!["1"; 3000].join(" + ");
        assert_eq!(folded(&long), None);
        assert_eq!(folded("1 + 1 + 1"), Some(3.0));
    }
}
