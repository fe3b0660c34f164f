//! NL105 imprecise-log-exp: `log(1 + x)` → `log1p(x)`, `exp(x) - 1` → `expm1(x)`,
//! `log(sum(exp(x), axis))` → `logsumexp(x, axis)`, `log(1 + exp(x))` → `softplus(x)`.

use tree_sitter::Node;

use crate::rules::probs::{self, Family};
use crate::rules::{Captures, Checker, Finding, FixAvailability, Rule, fixes};
use crate::semantic::reductions::names_every_element;
use crate::semantic::value::{Dtype, Kind, Library, Op, Origin};
use crate::semantic::{Callee, Model, apis};
use crate::smell::{Applicability, Edit, Fix};
use crate::syntax::{Args, FIELD, KindName, has_comment, short, unparenthesized};

pub const RULE: Rule = Rule {
    code: "NL105",
    name: "imprecise-log-exp",
    dir: "NL105-imprecise-log-exp",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &["arg"],
    anchors: &[],
    fix: FixAvailability::Sometimes,
    fixes: "`log1p`, `expm1` (safe); `logsumexp`, `softplus` (unsafe)",
    check,
    // Preview: few of its findings on real code held up (benches/README.md, "Precision").
    preview: true,
};

/// Exponentials, by canonical name.
const EXPS: &[&str] =
    &["tensorflow.math.exp", "keras.ops.exp", "keras.backend.exp", "torch.exp", "numpy.exp", "jax.numpy.exp"];

/// How the call was written: a library function (its dotted path as spelled, and the alias it
/// starts from) or a tensor method.
struct Written<'a> {
    path: Option<String>,
    alias: Option<&'a str>,
    method: bool,
}

fn check<'a>(cx: &Checker<'_, 'a>, captures: &Captures<'a>) -> Vec<Finding> {
    let model = cx.model;
    let (Some(call), Some(arg)) = (captures.get("smell"), captures.get("arg")) else { return Vec::new() };
    let Some(written) = written(model, call, arg) else { return Vec::new() };
    let Some(callee) = model.callee(call) else { return Vec::new() };
    match callee.leaf().unwrap_or_default() {
        "log" => log_of(model, call, arg, &written),
        "exp" => exp_minus_one(model, call, arg, &written),
        _ => Vec::new(),
    }
}

fn written<'a>(model: &Model<'a>, call: Node<'a>, arg: Node<'a>) -> Option<Written<'a>> {
    let function = call.child_by_field_id(FIELD.function)?;
    match model.callee(call)? {
        Callee::Api(api) if probs::NATURAL_LOGS.contains(&api.as_str()) || EXPS.contains(&api.as_str()) => {
            let args = Args::of(call);
            if args.splat
                || args.positional.len() + args.keyword.len() != 1
                || args.get(0, &["x", "input", "a"], model.src) != Some(arg)
            {
                return None;
            }
            Some(Written {
                path: model.imports.resolve(function, model.src),
                alias: fixes::root_name(model, function),
                method: false,
            })
        }
        Callee::Method { name: "log" | "exp", receiver } if receiver == arg && Args::of(call).is_empty() => {
            // Tensor methods: PyTorch's (NumPy arrays have no `.log()`).
            match model.value(receiver).kind {
                Kind::Array(Library::Torch) | Kind::Unknown => Some(Written { path: None, alias: None, method: true }),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The function `leaf` next to the one written (`tf.log` → `tensorflow.log1p`), in the same
/// module; Keras 2's backend and `tf.keras.backend` lack these, and their tensors are
/// TensorFlow's.
fn sibling(written: &Written, leaf: &str) -> Option<String> {
    let path = written.path.as_deref()?;
    let (module, _) = path.rsplit_once('.')?;
    if crate::rules::probs::keras_backend(path) {
        return Some(format!("tensorflow.math.{leaf}"));
    }
    Some(format!("{module}.{leaf}"))
}

/// A value worth the precise form: data or an array of unknown origin, not a constant, a
/// configuration scalar, an integer (a count, a range, a floor), nor a NumPy array of unknown
/// dtype (NumPy computes in float64, where `1 + x` keeps 16 digits and `exp` overflows only past
/// 709).
fn plausible<'a>(model: &Model<'a>, x: Node<'a>, written: &Written<'a>) -> bool {
    let v = model.value(x);
    if v.range.as_point().is_some() || v.origin == Origin::Config {
        return false;
    }
    if matches!(v.kind, Kind::Scalar | Kind::NotArray | Kind::Module | Kind::Object(_) | Kind::Instance(_)) {
        return false;
    }
    if matches!(v.op(), Some(Op::Count | Op::Arange | Op::Mask | Op::Constant | Op::Zeros)) || integral(model, x) {
        return false;
    }
    let numpy = written.path.as_deref().is_some_and(|p| p.starts_with("numpy."));
    !numpy || matches!(v.dtype, Some(Dtype::F32 | Dtype::F16 | Dtype::BF16))
}

/// `floor(...)`, `round(...)`, `a // b`: integer values, for which `1 + x` is exact.
fn integral<'a>(model: &Model<'a>, x: Node<'a>) -> bool {
    let x = unparenthesized(x);
    let x = model.assigned_value(x).map_or(x, |(_, value)| value);
    match x.kind_name() {
        "binary_operator" => x.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "//"),
        "call" => model.callee(x).is_some_and(|c| {
            matches!(c.leaf(), Some("floor" | "ceil" | "round" | "trunc" | "rint" | "floor_divide" | "fix"))
        }),
        _ => false,
    }
}

/// The statement (the right side of an assignment) holding `node` names the precise function
/// itself: the code defines or tests it (`def_comp(lax.log1p_p, lambda x: lax.log(1 + x))`).
fn names_the_precise_form<'a>(model: &Model<'a>, node: Node<'a>, precise: &str) -> bool {
    let mut statement = node;
    while let Some(parent) = statement.parent() {
        if matches!(parent.kind_name(), "block" | "module") {
            break;
        }
        statement = parent;
    }
    let held = statement
        .named_child(0)
        .filter(|a| a.kind_name() == "assignment")
        .and_then(|a| a.child_by_field_id(FIELD.right))
        .unwrap_or(statement);
    model.text(held).contains(precise)
}

/// `x` of `1 + x` or `x + 1`.
fn one_plus<'a>(model: &Model<'a>, node: Node<'a>) -> Option<Node<'a>> {
    let node = unparenthesized(node);
    if node.kind_name() != "binary_operator" || node.child_by_field_id(FIELD.operator)?.kind_name() != "+" {
        return None;
    }
    let (l, r) = (node.child_by_field_id(FIELD.left)?, node.child_by_field_id(FIELD.right)?);
    match (model.constant(l), model.constant(r)) {
        (Some(1.0), None) => Some(r),
        (None, Some(1.0)) => Some(l),
        _ => None,
    }
}

/// The exponential's argument when `node` is `exp(x)` (or `x.exp()`).
fn exp_of<'a>(model: &Model<'a>, node: Node<'a>) -> Option<(Node<'a>, Node<'a>)> {
    let node = unparenthesized(node);
    if node.kind_name() != "call" {
        return None;
    }
    match model.callee(node)? {
        Callee::Api(api) if EXPS.contains(&api.as_str()) => {
            let args = Args::of(node);
            if args.positional.len() + args.keyword.len() != 1 {
                return None;
            }
            Some((node, args.get(0, &["x", "input", "a"], model.src)?))
        }
        Callee::Method { name: "exp", receiver } if Args::of(node).is_empty() => Some((node, receiver)),
        _ => None,
    }
}

fn log_of<'a>(model: &Model<'a>, log: Node<'a>, arg: Node<'a>, written: &Written<'a>) -> Vec<Finding> {
    if let Some(x) = one_plus(model, arg) {
        if let Some((_, y)) = exp_of(model, x) {
            return softplus(model, log, y, written);
        }
        if !plausible(model, x, written)
            || model.value(x).op() == Some(Op::Exp)
            || names_the_precise_form(model, log, "log1p")
        {
            return Vec::new();
        }
        let message = format!(
            "`log(1 + {})` loses the digits of a small value (in float32 1 + 1e-8 == 1): log1p keeps them",
            short(model.text(x))
        );
        let fix = simple_fix(model, log, x, written, "log1p", "Use `log1p`");
        return vec![Finding { span: None, message, fixes: fix.into_iter().collect(), related: None }];
    }
    logsumexp(model, log, arg, written)
}

/// `log(1 + exp(x))` → `softplus(x)` (NumPy: `logaddexp(0, x)`).
fn softplus<'a>(model: &Model<'a>, log: Node<'a>, x: Node<'a>, written: &Written<'a>) -> Vec<Finding> {
    let v = model.value(x);
    // `exp(-abs(x))` cannot overflow: the stable form's own term.
    if !plausible(model, x, written) || v.range.hi.value <= 0.0 || names_the_precise_form(model, log, "softplus") {
        return Vec::new();
    }
    let message = format!(
        "`log(1 + exp({}))` overflows to inf once the argument passes 88.7 in float32 (11.1 in float16): softplus does not",
        short(model.text(x))
    );
    let family = match (&written.path, written.method) {
        (Some(p), _) => Family::of_path(p),
        (None, true) => Some(Family::Torch),
        _ => None,
    };
    let (target, args) = match family {
        Some(Family::TensorFlow) => ("tensorflow.math.softplus", model.text(x).to_string()),
        Some(Family::Keras) => ("keras.ops.softplus", model.text(x).to_string()),
        Some(Family::Torch) => ("torch.nn.functional.softplus", model.text(x).to_string()),
        Some(Family::Jax) => ("jax.nn.softplus", model.text(x).to_string()),
        Some(Family::NumPy) => ("numpy.logaddexp", format!("0, {}", model.text(x))),
        None => return vec![Finding::new(message)],
    };
    let prefer = if target.starts_with("torch.") || target.starts_with("jax.nn") { None } else { written.alias };
    let mut fixes = Vec::new();
    if !has_comment(log)
        && let Some((spelled, _)) = fixes::spell(model, log, target, prefer)
    {
        fixes.extend(fixes::replace_with_call(
            model,
            log,
            target,
            prefer,
            &args,
            format!("Use `{}`", short(&format!("{spelled}({args})"))),
            Applicability::Unsafe,
        ));
    }
    vec![Finding { span: None, message, fixes, related: None }]
}

/// `log(sum(exp(x), axis))` → `logsumexp(x, axis)`.
fn logsumexp<'a>(model: &Model<'a>, log: Node<'a>, arg: Node<'a>, written: &Written<'a>) -> Vec<Finding> {
    let sum = unparenthesized(arg);
    if sum.kind_name() != "call" {
        return Vec::new();
    }
    let args = Args::of(sum);
    // The summed value, the axis and keepdims, and whether anything else is passed.
    let (input, axis, keepdims, others) = match model.callee(sum) {
        Some(Callee::Api(api))
            if matches!(apis::leaf(&api), "sum" | "reduce_sum") && apis::library_of(&api).is_some() =>
        {
            let Some(input) = args.get(0, &["input", "input_tensor", "a", "x"], model.src) else { return Vec::new() };
            let axis = args.get(1, &["axis", "dim", "reduction_indices"], model.src);
            let keepdims = args.get(usize::MAX, &["keepdims", "keepdim", "keep_dims"], model.src);
            let known = 1 + usize::from(axis.is_some()) + usize::from(keepdims.is_some());
            (input, axis, keepdims, args.positional.len() + args.keyword.len() > known)
        }
        Some(Callee::Method { name: "sum", receiver }) => {
            let axis = args.get(0, &["axis", "dim"], model.src);
            let keepdims = args.get(1, &["keepdims", "keepdim"], model.src);
            let known = usize::from(axis.is_some()) + usize::from(keepdims.is_some());
            (receiver, axis, keepdims, args.positional.len() + args.keyword.len() > known)
        }
        _ => return Vec::new(),
    };
    if args.splat {
        return Vec::new();
    }
    let Some((_, x)) = exp_of(model, input) else { return Vec::new() };
    if !plausible(model, x, written) || shifted_by_max(model, x) || names_the_precise_form(model, log, "logsumexp") {
        return Vec::new();
    }
    let message = format!(
        "`log(sum(exp({})))` overflows to inf once an element passes 88.7 in float32, and is -inf when every element is below -103: logsumexp shifts by the maximum",
        short(model.text(x))
    );
    let family = match (&written.path, written.method) {
        (Some(p), _) => Family::of_path(p),
        (None, true) => Some(Family::Torch),
        _ => None,
    };
    let fix = match family {
        _ if others || has_comment(log) => None,
        Some(family) => logsumexp_fix(model, log, x, axis, keepdims, family, written),
        None => None,
    };
    vec![Finding { span: None, message, fixes: fix.into_iter().collect(), related: None }]
}

fn logsumexp_fix<'a>(
    model: &Model<'a>,
    log: Node<'a>,
    x: Node<'a>,
    axis: Option<Node<'a>>,
    keepdims: Option<Node<'a>>,
    family: Family,
    written: &Written<'a>,
) -> Option<Fix> {
    let (target, keep) = match family {
        Family::TensorFlow => ("tensorflow.math.reduce_logsumexp", "keepdims"),
        Family::Keras => ("keras.ops.logsumexp", "keepdims"),
        // `torch.logsumexp` requires `dim`: a sum over every element (`torch.sum(e)`, a 0-d
        // tensor) is the logsumexp of the flattened tensor along dim 0, also 0-d.
        Family::Torch => ("torch.logsumexp", "keepdim"),
        Family::NumPy => ("scipy.special.logsumexp", "keepdims"),
        Family::Jax => ("jax.nn.logsumexp", "keepdims"),
    };
    let mut args = vec![model.text(x).to_string()];
    // `torch.sum(e, dim=None)` and `dim=()` are the sum without a `dim`.
    let axis = axis.filter(|a| !names_every_element(*a, family == Family::Torch));
    match axis {
        Some(axis) => args.push(model.text(axis).to_string()),
        None if family == Family::Torch => {
            // `keepdim` needs a `dim` in `torch.sum`; without one the call is not PyTorch's.
            if keepdims.is_some() {
                return None;
            }
            let primary =
                matches!(x.kind_name(), "identifier" | "attribute" | "call" | "subscript" | "parenthesized_expression");
            args[0] = if primary { format!("{}.flatten()", args[0]) } else { format!("({}).flatten()", args[0]) };
            args.push("0".to_string());
        }
        None => {}
    }
    if let Some(k) = keepdims {
        args.push(format!("{keep}={}", model.text(k)));
    }
    let prefer =
        if matches!(family, Family::TensorFlow | Family::Keras | Family::Torch) { written.alias } else { None };
    let args = args.join(", ");
    let (spelled, _) = fixes::spell(model, log, target, prefer)?;
    fixes::replace_with_call(
        model,
        log,
        target,
        prefer,
        &args,
        format!("Use `{}`", short(&format!("{spelled}({args})"))),
        Applicability::Unsafe,
    )
}

/// `exp(x - max(x))`: already shifted, as logsumexp would.
fn shifted_by_max<'a>(model: &Model<'a>, x: Node<'a>) -> bool {
    let x = unparenthesized(x);
    // `shifted = x - m` then `exp(shifted)`.
    let x = model.assigned_value(x).map_or(x, |(_, value)| value);
    if x.kind_name() != "binary_operator" || x.child_by_field_id(FIELD.operator).is_none_or(|o| o.kind_name() != "-") {
        return false;
    }
    let Some(right) = x.child_by_field_id(FIELD.right).map(unparenthesized) else { return false };
    // `m = x.max(-1, keepdims=True)` then `exp(x - m)`.
    let shift = model.assigned_value(right).map_or(right, |(_, value)| value);
    model.text(shift).contains("max")
}

/// `exp(x) - 1` → `expm1(x)`.
fn exp_minus_one<'a>(model: &Model<'a>, exp: Node<'a>, x: Node<'a>, written: &Written<'a>) -> Vec<Finding> {
    let mut node = exp;
    let mut parent = match node.parent() {
        Some(p) => p,
        None => return Vec::new(),
    };
    while parent.kind_name() == "parenthesized_expression" {
        node = parent;
        parent = match node.parent() {
            Some(p) => p,
            None => return Vec::new(),
        };
    }
    let minus_one = parent.kind_name() == "binary_operator"
        && parent.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "-")
        && parent.child_by_field_id(FIELD.left) == Some(node)
        && parent.child_by_field_id(FIELD.right).and_then(|r| model.constant(r)) == Some(1.0);
    if !minus_one || !plausible(model, x, written) || names_the_precise_form(model, parent, "expm1") {
        return Vec::new();
    }
    let message = format!(
        "`exp({}) - 1` cancels the digits of a small argument (in float32 exp(1e-8) - 1 == 0): expm1 keeps them",
        short(model.text(x))
    );
    let fix = simple_fix(model, parent, x, written, "expm1", "Use `expm1`");
    vec![Finding {
        span: Some(crate::syntax::Span::of(parent)),
        message,
        fixes: fix.into_iter().collect(),
        related: None,
    }]
}

/// `node` → `leaf(x)` next to the written function (or `x.leaf()` for a method); safe: the
/// same value in exact arithmetic, and the function takes what the written one takes.
fn simple_fix<'a>(
    model: &Model<'a>,
    node: Node<'a>,
    x: Node<'a>,
    written: &Written<'a>,
    leaf: &str,
    title: &str,
) -> Option<Fix> {
    if has_comment(node) {
        return None;
    }
    if written.method {
        let x_text = model.text(x);
        let receiver = match unparenthesized(x).kind_name() {
            "identifier" | "call" | "attribute" | "subscript" => x_text.to_string(),
            _ => format!("({x_text})"),
        };
        let content = format!("{receiver}.{leaf}()");
        return Some(Fix {
            title: format!("{title}: `{}`", short(&content)),
            applicability: Applicability::Safe,
            edits: vec![Edit { start: node.start_byte(), end: node.end_byte(), content }],
            whole: false,
        });
    }
    let target = sibling(written, leaf)?;
    let (spelled, _) = fixes::spell(model, node, &target, written.alias)?;
    let args = model.text(unparenthesized(x)).to_string();
    fixes::replace_with_call(
        model,
        node,
        &target,
        written.alias,
        &args,
        format!("{title}: `{}`", short(&format!("{spelled}({args})"))),
        Applicability::Safe,
    )
}
