//! NL203 exp-overflow: `exp` of a value with no upper bound (or one past the overflow
//! threshold) whose result is normalized, summed or inverted by hand (a softmax, log-sum-exp,
//! cosh or sigmoid written out), and the library functions that compute the same without
//! overflowing.

use tree_sitter::Node;

use crate::rules::fixes::{self, Function};
use crate::rules::{Anchor, Captures, Checker, Finding, FixAvailability, Rule, query};
use crate::semantic::reductions::{Reduce, Reduction, names_every_element};
use crate::semantic::value::{Dtype, Library, Op, Value};
use crate::semantic::{Callee, Model, apis};
use crate::smell::{Applicability, Edit, Fix, Related};
use crate::syntax::{Args, FIELD, KindName, has_comment, same_expression, short, unparenthesized};

pub const RULE: Rule = Rule {
    code: "NL203",
    name: "exp-overflow",
    dir: "NL203-exp-overflow",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &["num", "den", "arg", "left", "right"],
    anchors: &[Anchor::Token("/")],
    fix: FixAvailability::Sometimes,
    fixes: "the library's `softmax`, `logsumexp` or `sigmoid` over the same axis (safe)",
    check,
    // Stable for cosh written out; the softmax, log-sum-exp and sigmoid written out only in
    // preview: few of those findings on real code held up (benches/README.md, "Precision").
    preview: false,
};

const EXPS: &[&str] =
    &["tensorflow.math.exp", "keras.ops.exp", "keras.backend.exp", "torch.exp", "numpy.exp", "jax.numpy.exp"];

fn check<'a>(cx: &Checker<'_, 'a>, captures: &Captures<'a>) -> Vec<Finding> {
    let Some(smell) = captures.get("smell") else { return Vec::new() };
    if let (Some(left), Some(right)) = (captures.get("left"), captures.get("right")) {
        return cosh(cx, smell, left, right);
    }
    if !cx.settings.preview {
        return Vec::new();
    }
    if let (Some(num), Some(den)) = (captures.get("num"), captures.get("den")) {
        let mut found = softmax(cx, smell, num, den);
        for (one, z) in sigmoid_denominator(cx.model, den) {
            found.extend(sigmoid(cx, smell, num, one, z));
        }
        return found;
    }
    if let Some(arg) = captures.get("arg") {
        return log_sum_exp(cx, smell, arg);
    }
    Vec::new()
}

/// The exp call a value comes from (`exp(x)`, `x.exp()`, directly or through a name), and its
/// argument.
fn exp_call<'a>(model: &Model<'a>, value: &Value<'a>) -> Option<(Node<'a>, Node<'a>)> {
    let producer = value.producer.filter(|p| p.op == Op::Exp)?;
    let call = producer.node;
    match model.callee(call)? {
        Callee::Api(api) if EXPS.contains(&api.as_str()) => Some((call, *Args::of(call).positional.first()?)),
        Callee::Method { name: "exp", receiver } if Args::of(call).is_empty() => Some((call, receiver)),
        _ => None,
    }
}

/// `exp`'s argument can exceed the overflow threshold: no upper bound, unless it is a
/// non-positive value scaled by a configured factor (`(x - max(x)) / temperature`).
fn unbounded<'a>(model: &Model<'a>, arg: Node<'a>) -> bool {
    let value = model.value(arg);
    if value.range.hi.value < 88.0 {
        return false;
    }
    let bare = unparenthesized(arg);
    if bare.kind_name() == "binary_operator"
        && let (Some(l), Some(op), Some(r)) = (
            bare.child_by_field_id(FIELD.left),
            bare.child_by_field_id(FIELD.operator),
            bare.child_by_field_id(FIELD.right),
        )
        && matches!(op.kind_name(), "*" | "/")
    {
        let at_most_zero = |n: Node<'a>| model.value(n).range.hi.value <= 0.0;
        // A configured factor (`temperature`), or one that is never negative (`2 * sigma ** 2`).
        let scale = |n: Node<'a>| {
            let v = model.value(n);
            v.origin == crate::semantic::value::Origin::Config || v.range.is_non_negative()
        };
        if (at_most_zero(l) && scale(r)) || (op.kind_name() == "*" && at_most_zero(r) && scale(l)) {
            return false;
        }
    }
    true
}

/// What is known of the argument's upper end, for the message: a finite bound past the overflow
/// threshold (`cos / 0.01` reaches 100) is named, not called absent.
fn upper_bound(value: &Value) -> String {
    let hi = value.range.hi.value;
    if !hi.is_finite() {
        return "which has no upper bound".to_string();
    }
    format!("which can reach {}", crate::rules::message_number(hi))
}

/// Where float32 (or the value's float16) overflows.
fn threshold(value: &Value) -> &'static str {
    match value.dtype {
        Some(Dtype::F16) => "~11.1 in float16",
        _ => "~88.7 in float32 (~11.1 in float16)",
    }
}

/// The library a call belongs to, through its API or, for a method, the file's framework.
fn library_of<'a>(model: &Model<'a>, call: Node<'a>) -> Option<Library> {
    match model.callee(call)? {
        Callee::Api(api) => apis::library_of(&api),
        _ => model.array_library(call),
    }
}

/// `exp(x) / sum(exp(x))`.
fn softmax<'a>(cx: &Checker<'_, 'a>, smell: Node<'a>, num: Node<'a>, den: Node<'a>) -> Vec<Finding> {
    let model = cx.model;
    // Cheap exits: the numerator must be a call or a name, the denominator a reduction.
    let (n, d) = (unparenthesized(num), unparenthesized(den));
    if !matches!(n.kind_name(), "call" | "identifier") || !matches!(d.kind_name(), "call" | "identifier" | "subscript")
    {
        return Vec::new();
    }
    let numerator = model.value(num);
    let Some((exp, x)) = exp_call(model, &numerator) else { return Vec::new() };
    let whole = model.value(smell);
    if whole.op() != Some(Op::Softmax) || whole.producer.is_some_and(|p| p.node != smell) {
        return Vec::new();
    }
    if !unbounded(model, x) {
        return Vec::new();
    }
    let sum = model.reduction_through(den).filter(|r| r.reduce == Reduce::Sum);
    let message = format!(
        "Softmax written out as `exp / sum(exp)`: `exp` of `{}`, {}, overflows to inf above {}, and inf / inf = NaN",
        short(model.text(x)),
        upper_bound(&model.value(x)),
        threshold(&numerator)
    );
    let related = numerator
        .via
        .as_ref()
        .map(|via| Related { span: via.assigned, message: format!("`{}` is assigned the exponential here", via.name) });
    let fixes = sum.and_then(|s| softmax_fix(cx, smell, exp, x, num, &s)).into_iter().collect();
    vec![Finding { span: None, message, fixes, related }]
}

/// `softmax(x, axis)` for `exp(x) / exp(x).sum(axis, keepdims=True)`, when the axis is one
/// integer kept (or the leading one), or every axis in NumPy and JAX (`axis=None`).
fn softmax_fix<'a>(
    cx: &Checker<'_, 'a>,
    smell: Node<'a>,
    exp: Node<'a>,
    x: Node<'a>,
    num: Node<'a>,
    sum: &Reduction<'a>,
) -> Option<Fix> {
    let model = cx.model;
    if has_comment(smell) || sum.other {
        return None;
    }
    // The numerator and the sum's operand are the exponential itself (not `exp(x).T`).
    if !is_the_exp(model, num, exp) || !is_the_exp(model, sum.operand, exp) {
        return None;
    }
    if !same_meaning_at(model, x, exp, smell) {
        return None;
    }
    let library = library_of(model, exp)?;
    let axis = match sum.axis {
        Some(a) => {
            let value = model.constant(a).filter(|v| v.fract() == 0.0)?;
            if !sum.keepdims && value != 0.0 {
                return None;
            }
            Some(model.text(a))
        }
        None if matches!(library, Library::NumPy | Library::Jax) => None,
        None => return None,
    };
    let target = fixes::function(library, Function::Softmax)?;
    let prefer = exp.child_by_field_id(FIELD.function).and_then(|f| fixes::root_name(model, f));
    let (spelled, import) = fixes::spell(model, smell, target, prefer)?;
    let keyword = if library == Library::Torch { "dim" } else { "axis" };
    let content = format!("{spelled}({}, {keyword}={})", model.text(unparenthesized(x)), axis.unwrap_or("None"));
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.push(Edit { start: smell.start_byte(), end: smell.end_byte(), content: content.clone() });
    Some(Fix { title: format!("Use `{}`", short(&content)), applicability: Applicability::Safe, edits, whole: false })
}

/// `node` is the exp call, the same call written again in the same expression
/// (`np.exp(x) / np.sum(np.exp(x))`), or a name bound to it alone: `e = exp(x)`, not
/// `e = exp(x).T`.
fn is_the_exp<'a>(model: &Model<'a>, node: Node<'a>, exp: Node<'a>) -> bool {
    let node = unparenthesized(node);
    if node == exp || (node.kind_name() == "call" && same_expression(node, exp, model.src)) {
        return true;
    }
    if node.kind_name() != "identifier" {
        return false;
    }
    let reaching = model.scope_index(model.scope_of(node)).reaching(model.text(node), node.start_byte());
    match (reaching.entries.as_slice(), reaching.outer) {
        ([entry], false) => {
            matches!(entry.binding, crate::semantic::scope::Binding::Value(rhs) if unparenthesized(rhs) == exp)
        }
        _ => false,
    }
}

/// Every name in `x` (read at `at`, the exp call) has the same bindings at `there`: the fix can
/// write `x` at `there`.
fn same_meaning_at<'a>(model: &Model<'a>, x: Node<'a>, at: Node<'a>, there: Node<'a>) -> bool {
    let scope = model.scope_of(there);
    if model.scope_of(at) != scope {
        return false;
    }
    let index = model.scope_index(scope);
    // The exp bound to a name before (`e = exp(x)` ... `e / e.sum()`): what the reaching
    // bindings miss (a loop's next pass, `:=` in a condition, `del`) is checked too.
    let apart = !(there.start_byte() <= at.start_byte() && at.end_byte() <= there.end_byte());
    let mut statement = at;
    while let Some(parent) = statement.parent().filter(|p| !matches!(p.kind_name(), "block" | "module")) {
        statement = parent;
    }
    let mut stack = vec![x];
    while let Some(n) = stack.pop() {
        if n.kind_name() == "identifier" {
            let name = model.text(n);
            let (a, b) = (index.reaching(name, at.start_byte()), index.reaching(name, there.start_byte()));
            let ids = |r: &crate::semantic::scope::Reaching| r.entries.iter().map(|e| e.node.id()).collect::<Vec<_>>();
            if ids(&a) != ids(&b) || a.outer != b.outer {
                return false;
            }
            if apart && !crate::rules::contracts::name_unchanged_at(model, n, at.end_byte(), statement, there) {
                return false;
            }
            continue;
        }
        if n.kind_name() == "attribute" {
            // `self.w`, `np.pi`: the object's name.
            if let Some(object) = n.child_by_field_id(FIELD.object) {
                stack.push(object);
            }
            continue;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    true
}

/// `log(sum(exp(x)))` (and `log(mean(exp(x)))`).
fn log_sum_exp<'a>(cx: &Checker<'_, 'a>, smell: Node<'a>, arg: Node<'a>) -> Vec<Finding> {
    let model = cx.model;
    if arg.kind_name() == "comment" || !matches!(unparenthesized(arg).kind_name(), "call" | "identifier") {
        return Vec::new();
    }
    if let Some(Callee::Method { .. }) = model.callee(smell)
        && !Args::of(smell).is_empty()
    {
        return Vec::new();
    }
    let Some(reduction) = model.reduction_through(arg).filter(|r| matches!(r.reduce, Reduce::Sum | Reduce::Mean))
    else {
        return Vec::new();
    };
    let operand = model.value(reduction.operand);
    let Some((exp, x)) = exp_call(model, &operand) else { return Vec::new() };
    if !unbounded(model, x) {
        return Vec::new();
    }
    let what = if reduction.reduce == Reduce::Sum { "log(sum(exp(x)))" } else { "log(mean(exp(x)))" };
    let message = format!(
        "`{what}` written out: `exp` of `{}`, {}, overflows to inf above {}, and the log of inf is inf",
        short(model.text(x)),
        upper_bound(&model.value(x)),
        threshold(&operand)
    );
    let fixes = if reduction.reduce == Reduce::Sum {
        logsumexp_fix(cx, smell, exp, x, &reduction).into_iter().collect()
    } else {
        Vec::new()
    };
    vec![Finding { span: None, message, fixes, related: None }]
}

/// `logsumexp(x, axis, keepdims)` for `log(sum(exp(x), axis, keepdims))`.
fn logsumexp_fix<'a>(
    cx: &Checker<'_, 'a>,
    smell: Node<'a>,
    exp: Node<'a>,
    x: Node<'a>,
    sum: &Reduction<'a>,
) -> Option<Fix> {
    let model = cx.model;
    if has_comment(smell) || sum.other || !same_meaning_at(model, x, exp, smell) {
        return None;
    }
    // The sum is of the exponential itself.
    if !is_the_exp(model, sum.operand, exp) {
        return None;
    }
    let library = library_of(model, exp)?;
    let torch = library == Library::Torch;
    if torch && sum.axis.is_none_or(|axis| names_every_element(axis, true)) {
        // `torch.logsumexp` needs `dim` (NL105 flattens a sum over every element).
        return None;
    }
    let target = fixes::function(library, Function::LogSumExp)?;
    let prefer = exp.child_by_field_id(FIELD.function).and_then(|f| fixes::root_name(model, f));
    let (spelled, import) = fixes::spell(model, smell, target, prefer)?;
    let mut args = model.text(unparenthesized(x)).to_string();
    if let Some(axis) = sum.axis {
        args.push_str(&format!(", {}={}", if torch { "dim" } else { "axis" }, model.text(axis)));
    }
    if sum.keepdims {
        args.push_str(&format!(", {}=True", if torch { "keepdim" } else { "keepdims" }));
    }
    let content = format!("{spelled}({args})");
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.push(Edit { start: smell.start_byte(), end: smell.end_byte(), content: content.clone() });
    Some(Fix { title: format!("Use `{}`", short(&content)), applicability: Applicability::Safe, edits, whole: false })
}

/// `exp(x) + exp(-x)`.
fn cosh<'a>(cx: &Checker<'_, 'a>, smell: Node<'a>, left: Node<'a>, right: Node<'a>) -> Vec<Finding> {
    let model = cx.model;
    let negated = |a: Node<'a>, b: Node<'a>| {
        let b = unparenthesized(b);
        b.kind_name() == "unary_operator"
            && b.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "-")
            && b.child_by_field_id(FIELD.argument).is_some_and(|inner| same_expression(inner, a, model.src))
    };
    let x = if negated(left, right) {
        left
    } else if negated(right, left) {
        right
    } else {
        return Vec::new();
    };
    let range = model.value(x).range;
    if range.hi.value < 88.0 && range.lo.value > -88.0 {
        return Vec::new();
    }
    let message = format!(
        "`exp(x) + exp(-x)` (cosh written out) of `{}`: one of the two overflows to inf once |x| exceeds {}, and its gradient turns NaN; for log(cosh(x)) use `x + softplus(-2 * x) - log(2)`",
        short(model.text(unparenthesized(x))),
        threshold(&model.value(x))
    );
    let _ = smell;
    vec![Finding::new(message)]
}

/// The parts of a division's denominator written as a sigmoid's, `(1 + exp(z))`,
/// `(exp(z) + 1)` or `(1 + z.exp())`: the term beside the exponential (`1`, checked by the
/// caller) and `z`, once for each way the sum reads (`(exp(a) + exp(b))` reads two ways).
fn sigmoid_denominator<'a>(model: &Model<'a>, den: Node<'a>) -> Vec<(Node<'a>, Node<'a>)> {
    // `exp(z)`'s first argument, or `z` of `z.exp()` (the method only on the right, as written).
    let exp_argument = |call: Node<'a>, method: bool| -> Option<Node<'a>> {
        let function = call.child_by_field_id(FIELD.function).filter(|_| call.kind_name() == "call")?;
        if method {
            let receiver = function.child_by_field_id(FIELD.object).filter(|_| function.kind_name() == "attribute");
            return receiver.filter(|_| query::is_method(model, function, "exp"));
        }
        let arguments = call.child_by_field_id(FIELD.arguments).filter(|a| a.kind_name() == "argument_list")?;
        // The first argument, past comments (the patterns this replaced took a comment for `z`
        // and named it in the message); none while it is being typed (`exp(-)`, an ERROR).
        let mut cursor = arguments.walk();
        let first =
            arguments.named_children(&mut cursor).find(|a| a.kind_name() != "comment").filter(|a| !a.is_error())?;
        model.api(function).is_some_and(|api| EXPS.contains(&api.as_str())).then_some(first)
    };
    let mut found = Vec::new();
    if den.kind_name() != "parenthesized_expression" {
        return found;
    }
    let mut cursor = den.walk();
    for sum in den.named_children(&mut cursor).filter(|n| n.kind_name() == "binary_operator") {
        let (Some(left), Some(operator), Some(right)) = (
            sum.child_by_field_id(FIELD.left),
            sum.child_by_field_id(FIELD.operator),
            sum.child_by_field_id(FIELD.right),
        ) else {
            continue;
        };
        if operator.kind_name() != "+" {
            continue;
        }
        found.extend(exp_argument(right, false).map(|z| (left, z)));
        found.extend(exp_argument(left, false).map(|z| (right, z)));
        found.extend(exp_argument(right, true).map(|z| (left, z)));
    }
    found
}

/// `a / (1 + exp(z))`: a sigmoid of `-z` written out. The value is right where `exp` overflows
/// (`a / inf = 0`) unless `a` is the same exponential (`inf / inf`); the gradient is NaN there
/// in differentiated code.
fn sigmoid<'a>(cx: &Checker<'_, 'a>, smell: Node<'a>, num: Node<'a>, one: Node<'a>, z: Node<'a>) -> Vec<Finding> {
    let model = cx.model;
    if model.constant(one) != Some(1.0) || !unbounded(model, z) {
        return Vec::new();
    }
    // `z` is the call's first argument (its parent is the argument list) or the receiver of
    // `.exp()` (its parent is the attribute): either way the call is the grandparent.
    let Some(exp) = z.parent().and_then(|p| p.parent()).filter(|e| e.kind_name() == "call") else { return Vec::new() };
    // `exp(z) / (1 + exp(z))`: inf / inf in the value itself, in every library.
    let own = exp_call(model, &model.value(num)).is_some_and(|(_, n)| same_expression(n, z, model.src));
    // Otherwise the value is right and the gradient is NaN: reported where gradients reach
    // trained parameters (a forward pass or a loss; `1 / (1 + exp(-x))` in a kernel's lowering
    // or a plotting helper is no hazard).
    if !(own || (model.is_differentiated(exp) && model.in_training_code(smell))) {
        return Vec::new();
    }
    let constant_one = model.constant(num) == Some(1.0);
    let message = if own {
        format!(
            "Sigmoid written out as `exp(z) / (1 + exp(z))`: `exp({})` overflows to inf above {}, and inf / inf = NaN",
            short(model.text(z)),
            threshold(&model.value(z))
        )
    } else {
        format!(
            "Sigmoid written out as `1 / (1 + exp(z))`: `exp({})` overflows to inf above {}, and the gradient there is inf / inf = NaN",
            short(model.text(z)),
            threshold(&model.value(z))
        )
    };
    let mut fixes = Vec::new();
    if (constant_one || own)
        && !has_comment(smell)
        && let Some(library) = library_of(model, exp)
        && let Some(target) = fixes::function(library, Function::Sigmoid)
        && let prefer = exp.child_by_field_id(FIELD.function).and_then(|f| fixes::root_name(model, f))
        && let Some((spelled, import)) = fixes::spell(model, smell, target, prefer)
    {
        // 1 / (1 + exp(z)) = sigmoid(-z); exp(z) / (1 + exp(z)) = sigmoid(z).
        let bare = unparenthesized(z);
        let argument = if own {
            model.text(bare).to_string()
        } else if bare.kind_name() == "unary_operator"
            && bare.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "-")
        {
            bare.child_by_field_id(FIELD.argument).map(|a| model.text(a).to_string()).unwrap_or_default()
        } else if matches!(
            bare.kind_name(),
            "identifier" | "call" | "attribute" | "subscript" | "parenthesized_expression"
        ) {
            format!("-{}", model.text(bare))
        } else {
            format!("-({})", model.text(bare))
        };
        let content = format!("{spelled}({argument})");
        let mut edits: Vec<Edit> = import.into_iter().collect();
        edits.push(Edit { start: smell.start_byte(), end: smell.end_byte(), content: content.clone() });
        fixes.push(Fix {
            title: format!("Use `{}`", short(&content)),
            applicability: Applicability::Safe,
            edits,
            whole: false,
        });
    }
    vec![Finding { span: None, message, fixes, related: None }]
}

#[cfg(test)]
mod tests {
    use tree_sitter::{QueryCursor, StreamingIterator};

    use super::*;
    use crate::rules::query::{RuleQuery, compile_from};
    use crate::syntax::parse;
    use crate::syntax::tests::{all_nodes, broken_variants, field_sources};

    /// The three patterns `sigmoid_denominator` replaced, as they were in `query.scm`.
    const PATTERNS: &str = r#"
((binary_operator left: (_) @num operator: "/"
  right: (parenthesized_expression (binary_operator left: (_) @one operator: "+"
    right: (call function: (_) @_exp arguments: (argument_list . (_) @arg))))) @smell
  (#api? @_exp "tensorflow.math.exp" "keras.ops.exp" "keras.backend.exp" "torch.exp" "numpy.exp" "jax.numpy.exp"))
((binary_operator left: (_) @num operator: "/"
  right: (parenthesized_expression (binary_operator
    left: (call function: (_) @_exp arguments: (argument_list . (_) @arg)) operator: "+" right: (_) @one))) @smell
  (#api? @_exp "tensorflow.math.exp" "keras.ops.exp" "keras.backend.exp" "torch.exp" "numpy.exp" "jax.numpy.exp"))
((binary_operator left: (_) @num operator: "/"
  right: (parenthesized_expression (binary_operator left: (_) @one operator: "+"
    right: (call function: (attribute object: (_) @arg) @_exp)))) @smell
  (#method? @_exp "exp"))
"#;

    /// Divisions whose denominators are sigmoids written in ways the patterns' anchors, fields
    /// and predicates tell apart: comments, keywords and generators as the first argument, the
    /// method on either side, other operators, names that are not `exp`.
    const SHAPES: &str = "import numpy as np\nimport torch\nfrom jax.numpy import exp as jexp\n\
        a = 1 / (1 + np.exp(-z))\nb = x / (np.exp(z) + 1)\nc = 1 / (1 + z.exp())\nd = 1 / (z.exp() + 1)\n\
        e = 1 / (np.exp(a) + np.exp(b))\nf = 1 / (1 + np.exp(  # why\n    z))\ng = 1 / (1 + np.exp(x=z))\n\
        h = 1 / (1 + np.exp(v for v in z))\ni = 1 / (1 - np.exp(z))\nj = 1 / (1 + np.log(z))\n\
        k = 1 / (1 + jexp(z))\nl = 1 / (1 + torch.exp(z) + 1)\nm = 1 / ((1 + torch.exp(z)))\n\
        n = 1 / (1 + 'a'.exp())\no = 1 / (  # c\n 1 + torch.exp(z))\np = 1 / (1 + np.exp())\n\
        q = 1 / (1 + z.exp(2))\nr = 1 // (1 + np.exp(z))\ns = 1 / (1 + exp(z))\n\
        t = 1 / (1 + np.exp(-))\nu = 1 / (1 + np.exp(, z))\nv = 1 / (1 + (-).exp())\n\
        w = 1 / (1 + np.exp(  # a\n  # b\n  z))\ny = 1 / (1 + np.exp(  # a\n  -))\n";

    /// `sigmoid_denominator` reads a division's denominator as the three patterns it replaced
    /// matched it: the same `@one` and `@arg`, for every division of the field cases, the
    /// fixtures and the shapes above, whole and broken; except that where the patterns took a
    /// comment for `@arg` (`exp(  # why\n z)`), it reads the first argument after the comments.
    #[test]
    fn sigmoid_denominator_reads_what_the_patterns_matched() {
        let rule = RuleQuery {
            code: "NL203",
            name: "exp-overflow",
            query: PATTERNS,
            captures: &["num", "one", "arg"],
            anchors: &[],
        };
        let compiled = compile_from(&[rule]).expect("the old patterns compile");
        let capture = |name: &str| compiled.query.capture_index_for_name(name).expect("a capture");
        let (smell, one, arg) = (capture("smell"), capture("one"), capture("arg"));
        let (mut divisions, mut sigmoids) = (0, 0);
        for text in field_sources().into_iter().chain([SHAPES.to_string()]) {
            for src in std::iter::once(text.clone()).chain(broken_variants(&text)) {
                let tree = parse(&src);
                let model = Model::of(&src, &tree);
                let mut expected = Vec::new();
                let mut cursor = QueryCursor::new();
                let mut matches = cursor.matches(&compiled.query, tree.root_node(), src.as_bytes());
                while let Some(m) = matches.next() {
                    if compiled.shared[m.pattern_index].iter().any(|&p| compiled.predicates_hold(&model, m, p)) {
                        let first = |c: u32| m.nodes_for_capture_index(c).next().expect("captured");
                        let read = |n: Node<'_>| ((n.start_byte(), n.end_byte()), model.text(n));
                        let mut z = Some(first(arg));
                        while let Some(comment) = z.filter(|n| n.kind_name() == "comment") {
                            z = comment.next_named_sibling();
                        }
                        if let Some(z) = z.filter(|n| !n.is_error()) {
                            expected.push((read(first(smell)), read(first(one)), read(z)));
                        }
                    }
                }
                let mut found = Vec::new();
                for division in all_nodes(&tree).into_iter().filter(|n| n.kind_name() == "binary_operator") {
                    let (Some(operator), Some(den)) =
                        (division.child_by_field_id(FIELD.operator), division.child_by_field_id(FIELD.right))
                    else {
                        continue;
                    };
                    if operator.kind_name() != "/" || division.child_by_field_id(FIELD.left).is_none() {
                        continue;
                    }
                    divisions += 1;
                    let read = |n: Node<'_>| ((n.start_byte(), n.end_byte()), model.text(n));
                    found.extend(
                        sigmoid_denominator(&model, den).into_iter().map(|(o, z)| (read(division), read(o), read(z))),
                    );
                }
                expected.sort_unstable_by_key(|(d, o, z)| (d.0, o.0, z.0));
                found.sort_unstable_by_key(|(d, o, z)| (d.0, o.0, z.0));
                sigmoids += found.len();
                assert_eq!(found, expected, "in a source of {} bytes", src.len());
            }
        }
        assert!(divisions > 1_000 && sigmoids > 100, "{divisions} divisions, {sigmoids} sigmoids");
    }

    /// A comment before the exponent's argument is not taken for it: the message names `-h`
    /// (it named the comment, `exp(# logits)`, when three patterns read the denominator).
    #[test]
    fn a_comment_before_the_exponent_is_not_named_as_it() {
        let src = "import torch\nimport torch.nn as nn\n\n\nclass Gate(nn.Module):\n    def forward(self, h):\n        \
                   return 1 / (1 + torch.exp(  # logits\n            -h))\n";
        let settings = crate::settings::Settings { preview: true, ..Default::default() };
        let smells = crate::engine::check_source(src, &settings);
        let messages: Vec<&str> = smells.iter().filter(|s| s.code == "NL203").map(|s| s.message.as_str()).collect();
        assert_eq!(messages.len(), 1, "{smells:?}");
        assert!(messages[0].contains("`exp(-h)` overflows"), "{}", messages[0]);
    }
}
