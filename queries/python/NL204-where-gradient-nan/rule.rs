//! NL204 where-gradient-nan: `where(cond, f(x), y)` in differentiated code where `f` is singular
//! (log, division, square root, fractional power) at the values of `x` that `cond` excludes: the
//! value is right, the gradient of the untaken branch is `0 * inf = NaN`. The fix is the double
//! `where`: `f(where(cond, x, 1))`.

use tree_sitter::Node;

use crate::rules::fixes::{self, Function};
use crate::rules::{Captures, Checker, Finding, FixAvailability, Rule};
use crate::semantic::scope::Binding;
use crate::semantic::value::{Interval, Library, Op, Origin};
use crate::semantic::{Callee, Model, apis};
use crate::smell::{Applicability, Edit, Fix};
use crate::syntax::{Args, FIELD, KindName, has_comment, short, unparenthesized};

pub const RULE: Rule = Rule {
    code: "NL204",
    name: "where-gradient-nan",
    dir: "NL204-where-gradient-nan",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &["cond", "then", "otherwise"],
    anchors: &[],
    fix: FixAvailability::Always,
    fixes: "the double `where`: the singular operand selected too (safe)",
    check,
    preview: false,
};

/// A singular operation inside a branch: its name for messages and the operand whose excluded
/// values make it singular.
struct Singular<'a> {
    what: &'static str,
    /// Singular at 0 (log, division, root), or where it overflows (`exp` above ~88.7).
    overflow: bool,
    /// The operand the condition keeps away from the singular point.
    operand: Node<'a>,
    /// For a division, the numerator: its gradient is `1 / operand`.
    numerator: Option<Node<'a>>,
}

fn check<'a>(cx: &Checker<'_, 'a>, captures: &Captures<'a>) -> Vec<Finding> {
    let (Some(smell), Some(cond), Some(then), Some(otherwise)) =
        (captures.get("smell"), captures.get("cond"), captures.get("then"), captures.get("otherwise"))
    else {
        return Vec::new();
    };
    let model = cx.model;
    if [cond, then, otherwise].iter().any(|n| matches!(n.kind_name(), "comment" | "keyword_argument")) {
        return Vec::new();
    }
    let mut found = Vec::new();
    for (branch, truth) in [(then, true), (otherwise, false)] {
        for s in singular_parts(model, branch) {
            // Preview only: an `exp` is singular only where it overflows, far above the
            // condition's bound (`g > 20` of a softplus; float32 overflows above 88.7).
            if s.overflow && !cx.settings.preview {
                continue;
            }
            if excludes_singular_point(model, cond, truth, &s) && carries_gradient(model, &s) {
                found.push((s, truth));
            }
        }
    }
    // Where gradients reach trained parameters: a forward pass or a loss. A `where` in an
    // optimizer's update (`trust_ratio = where(g_norm > 0, w_norm / g_norm, 1)`) or a kernel
    // is never differentiated.
    if found.is_empty() || !model.is_differentiated(smell) || !model.in_differentiated_code(smell) {
        return Vec::new();
    }
    let (first, in_then) = &found[0];
    // The branch is discarded where the condition does not select it.
    let discarded_where = if *in_then { "fails" } else { "holds" };
    let operand = short(model.text(unparenthesized(first.operand)));
    // `a division by n`, `a log of p`.
    let preposition = if first.what == "a division" { "by" } else { "of" };
    let condition = short(model.text(unparenthesized(cond)));
    let message = if first.overflow {
        // The gradient of `log(1 + exp(g))` is `exp(g) / (1 + exp(g))`: about 1 above the
        // bound, inf / inf = NaN only where `exp` overflows.
        format!(
            "`where` discards {} {preposition} `{operand}` where `{condition}` {discarded_where}, but the gradient of the discarded branch is still computed there: where `{operand}` exceeds 88.7, `exp` overflows in float32 and the gradient is NaN",
            first.what,
        )
    } else {
        format!(
            "`where` discards {} {preposition} `{operand}` where `{condition}` {discarded_where}, but the gradient of the discarded branch is still computed there: 0 * inf = NaN",
            first.what,
        )
    };
    let fixes = double_where(model, smell, cond, &found).into_iter().collect();
    vec![Finding { span: None, message, fixes, related: None }]
}

const LOGS: &[&str] = &["log", "log2", "log10"];

/// The singular operations in `branch` (not inside nested functions): logs, divisions, square
/// roots and fractional powers.
fn singular_parts<'a>(model: &Model<'a>, branch: Node<'a>) -> Vec<Singular<'a>> {
    let mut out = Vec::new();
    let mut stack = vec![branch];
    while let Some(n) = stack.pop() {
        match n.kind_name() {
            "lambda" | "function_definition" => continue,
            "call" => {
                let args = Args::of(n);
                match model.callee(n) {
                    Some(Callee::Api(api)) if apis::library_of(&api) != Some(Library::NumPy) => {
                        let leaf = apis::leaf(&api);
                        let first = args.positional.first().copied();
                        let singular = if LOGS.contains(&leaf) {
                            first.map(|o| ("a log", o, None))
                        } else if matches!(leaf, "sqrt" | "rsqrt") {
                            first.map(|o| ("a square root", o, None))
                        } else if matches!(leaf, "divide" | "div" | "true_divide") {
                            args.positional.get(1).map(|d| ("a division", *d, first))
                        } else if matches!(leaf, "exp" | "expm1") {
                            first.map(|o| ("an exp", o, None))
                        } else if leaf == "reciprocal" {
                            first.map(|o| ("a reciprocal", o, None))
                        } else if matches!(leaf, "pow" | "power")
                            && args.positional.get(1).and_then(|p| model.constant(*p)).is_some_and(|p| p < 1.0)
                        {
                            first.map(|o| ("a fractional power", o, None))
                        } else {
                            None
                        };
                        if let Some((what, operand, numerator)) = singular {
                            out.push(Singular { what, overflow: what == "an exp", operand, numerator });
                        }
                    }
                    Some(Callee::Method { name, receiver }) => {
                        let singular = match name {
                            "log" | "log2" | "log10" | "log_" if args.is_empty() => Some("a log"),
                            "sqrt" | "sqrt_" | "rsqrt" if args.is_empty() => Some("a square root"),
                            "reciprocal" if args.is_empty() => Some("a reciprocal"),
                            "exp" | "expm1" if args.is_empty() => Some("an exp"),
                            "pow"
                                if args
                                    .positional
                                    .first()
                                    .and_then(|p| model.constant(*p))
                                    .is_some_and(|p| p < 1.0) =>
                            {
                                Some("a fractional power")
                            }
                            _ => None,
                        };
                        if let Some(what) = singular {
                            out.push(Singular { what, overflow: what == "an exp", operand: receiver, numerator: None });
                        }
                    }
                    _ => {}
                }
            }
            "binary_operator" => {
                let op = n.child_by_field_id(FIELD.operator).map(|o| o.kind_name());
                let (l, r) = (n.child_by_field_id(FIELD.left), n.child_by_field_id(FIELD.right));
                match (op, l, r) {
                    (Some("/"), Some(l), Some(r)) => {
                        out.push(Singular { what: "a division", overflow: false, operand: r, numerator: Some(l) })
                    }
                    (Some("**"), Some(l), Some(r)) if model.constant(r).is_some_and(|p| p < 1.0) => {
                        out.push(Singular { what: "a fractional power", overflow: false, operand: l, numerator: None })
                    }
                    _ => {}
                }
            }
            _ => {}
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    out
}

/// `cond` being `truth` keeps `operand` away from 0 (`where(p > 0, log(p), 0)`,
/// `where(n == 0, 0, s / n)`): the where is the author's guard against the singular point.
/// For an `exp`: `cond` bounds the operand below the overflow where the branch is taken
/// (`where(g > 20, g, log(1 + exp(g)))`), and nothing else does.
fn excludes_singular_point<'a>(model: &Model<'a>, cond: Node<'a>, truth: bool, s: &Singular<'a>) -> bool {
    let mut found = Vec::new();
    model.constraints_of(cond, truth, 0, &mut found);
    match constrained(model, &found, s.operand, 0) {
        Some(r) if s.overflow => r.hi.value < OVERFLOW && model.value(s.operand).range.hi.value >= OVERFLOW,
        // ... and the operand reaches 0 without it: `(squared + 1.0).sqrt()` with `squared = d ** 2`
        // is never singular, whatever the condition (kornia's Charbonnier loss).
        Some(r) => !r.contains_zero() && model.value(s.operand).range.contains_zero(),
        None => false,
    }
}

/// Where float32's `exp` overflows.
const OVERFLOW: f64 = 88.7;

/// The range the constraints give `node`: a constraint on `node` itself, or one on `x` in
/// `c - x`, `x - c`, `x + c` (`where(p < 1, log(1 - p), 0)`).
fn constrained<'a>(
    model: &Model<'a>,
    found: &[crate::semantic::guards::Constraint<'a>],
    node: Node<'a>,
    depth: u32,
) -> Option<Interval> {
    let node = unparenthesized(node);
    // `n.float()` of a count `n`, `n.detach()`: what holds of `n` holds of it.
    if let Some(c) = found.iter().find(|c| model.is_or_copies(node, c.subject)) {
        return Some(c.range);
    }
    if depth > 2 {
        return None;
    }
    if node.kind_name() != "binary_operator" {
        return None;
    }
    let (l, op, r) = (
        node.child_by_field_id(FIELD.left)?,
        node.child_by_field_id(FIELD.operator)?,
        node.child_by_field_id(FIELD.right)?,
    );
    let (lc, rc) = (model.constant(l), model.constant(r));
    match (op.kind_name(), lc, rc) {
        ("-", Some(c), None) => Some(Interval::point(c).minus(constrained(model, found, r, depth + 1)?)),
        ("-", None, Some(c)) => Some(constrained(model, found, l, depth + 1)?.minus(Interval::point(c))),
        ("+", Some(c), None) => Some(Interval::point(c).plus(constrained(model, found, r, depth + 1)?)),
        ("+", None, Some(c)) => Some(constrained(model, found, l, depth + 1)?.plus(Interval::point(c))),
        _ => None,
    }
}

/// The singular operation's gradient reaches something computed in the function: the operand
/// (for a division, the operand or the numerator) is a value this function computes, not a bare
/// parameter (data: `where(targets == 0, 0, log(targets))` with `targets` given is clean), a
/// constant, or a mask or count (which carry no gradient).
fn carries_gradient<'a>(model: &Model<'a>, s: &Singular<'a>) -> bool {
    computed(model, s.operand) || s.numerator.is_some_and(|n| computed(model, n))
}

fn computed<'a>(model: &Model<'a>, node: Node<'a>) -> bool {
    let node = unparenthesized(node);
    match node.kind_name() {
        "identifier" => {
            let reaching = model.scope_index(model.scope_of(node)).reaching(model.text(node), node.start_byte());
            if reaching.entries.is_empty() && model.differentiated_parameter(node) {
                // `x` of `f` in `jax.grad(f)`: the variable differentiated.
                return true;
            }
            if reaching.entries.is_empty() || reaching.entries.iter().any(|e| !matches!(e.binding, Binding::Value(_))) {
                // A parameter, a name from outside, a loop variable: data.
                return false;
            }
            // `y_true = tf.cast(y_true, tf.float32)`.
            if reaching.entries.iter().all(|e| matches!(e.binding, Binding::Value(v) if cast_of_data(model, v))) {
                return false;
            }
        }
        "call" if cast_of_data(model, node) => return false,
        "call" | "binary_operator" | "unary_operator" | "subscript" => {}
        _ => return false,
    }
    // `x = torch.tensor([...], requires_grad=True)`, and values computed from it: a leaf the
    // gradient is taken of, whatever its value.
    if from_a_leaf(model, node, 4) {
        return true;
    }
    let value = model.value(node);
    if value.origin == Origin::Config {
        return false;
    }
    match value.op() {
        // A mask or a count of one is 0/1 or a whole number; `x * mask` and `(x * mask).sum()`
        // share the producer but not the range, and carry the gradient of `x`.
        Some(Op::Mask | Op::Count) => !value.range.is_non_negative(),
        Some(Op::Arange | Op::Uniform | Op::Zeros | Op::Constant) => false,
        _ => true,
    }
}

/// `node` is, or is computed (through at most `depth` names) from, a tensor made with
/// `requires_grad=True` (`torch.tensor(v, requires_grad=True)`, `torch.zeros(n,
/// requires_grad=True)`): `p = torch.softmax(logits, -1)` of such `logits`.
fn from_a_leaf<'a>(model: &Model<'a>, node: Node<'a>, depth: u32) -> bool {
    let node = unparenthesized(node);
    match node.kind_name() {
        "identifier" if depth > 0 => {
            let reaching = model.scope_index(model.scope_of(node)).reaching(model.text(node), node.start_byte());
            reaching.entries.iter().any(|e| matches!(e.binding, Binding::Value(v) if from_a_leaf(model, v, depth - 1)))
        }
        "call" if Args::of(node).keyword(&["requires_grad"], model.src).is_some_and(|v| model.text(v) == "True") => {
            true
        }
        "call" => Args::of(node).positional.iter().any(|a| from_a_leaf(model, *a, depth)),
        "binary_operator" | "unary_operator" | "parenthesized_expression" => {
            let mut cursor = node.walk();
            node.named_children(&mut cursor).any(|c| from_a_leaf(model, c, depth))
        }
        _ => false,
    }
}

/// A cast or copy of a name that is data is data (`tf.cast(y_true, tf.float32)`, `p.float()`);
/// not of an attribute: `self.scale.to(x.dtype)` of a trained parameter carries its gradient.
fn cast_of_data<'a>(model: &Model<'a>, node: Node<'a>) -> bool {
    model
        .converted(unparenthesized(node))
        .is_some_and(|inner| unparenthesized(inner).kind_name() == "identifier" && !computed(model, inner))
}

/// The double `where`: each singular operand `x` becomes `where(cond, x, 1)` (or `where(cond,
/// 1, x)` in the false branch), so the untaken branch computes `f(1)`, finite with a finite
/// gradient, and the taken one is unchanged.
fn double_where<'a>(model: &Model<'a>, smell: Node<'a>, cond: Node<'a>, found: &[(Singular<'a>, bool)]) -> Option<Fix> {
    if has_comment(smell) {
        return None;
    }
    let function = smell.child_by_field_id(FIELD.function)?;
    let Some(Callee::Api(api)) = model.callee(smell) else { return None };
    let library = apis::library_of(&api)?;
    let prefer = fixes::root_name(model, function);
    let where_ = model.text(function);
    let cond_text = model.text(unparenthesized(cond));
    let mut edits: Vec<Edit> = Vec::new();
    for (s, truth) in found {
        let operand = unparenthesized(s.operand);
        let x = model.text(operand);
        // TensorFlow's and Keras' `where` want both branches of one dtype: `ones_like(x)`.
        let one = match library {
            Library::TensorFlow | Library::KerasOps | Library::KerasBackend => {
                let target = fixes::function(library, Function::OnesLike)?;
                let (spelled, import) = fixes::spell(model, function, target, prefer)?;
                if import.is_some() {
                    return None;
                }
                format!("{spelled}({x})")
            }
            _ => "1.0".to_string(),
        };
        let inner = if *truth {
            format!("{where_}({cond_text}, {x}, {one})")
        } else {
            format!("{where_}({cond_text}, {one}, {x})")
        };
        let node = s.operand;
        if edits.iter().any(|e| e.start < node.end_byte() && node.start_byte() < e.end) {
            return None;
        }
        // An operand that is a receiver (`p.log()`) keeps its place before the dot: the where
        // call is a primary expression, so no parentheses are needed.
        edits.push(Edit { start: node.start_byte(), end: node.end_byte(), content: inner });
    }
    edits.sort_by_key(|e| e.start);
    let first = &found[0].0;
    Some(Fix {
        title: format!(
            "Select `{}` in the `where` before {} too",
            short(model.text(unparenthesized(first.operand))),
            first.what
        ),
        applicability: Applicability::Safe,
        edits,
        whole: false,
    })
}
