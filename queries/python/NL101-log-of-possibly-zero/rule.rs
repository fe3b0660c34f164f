//! NL101 log-of-possibly-zero: a logarithm of a value with evidence that it can be 0 (or
//! below), and its two fixes (clip, xlogy).

use tree_sitter::Node;

use crate::rules::fixes::{self, Function};
use crate::rules::probs::{
    half_precision, kept_from_underflow, minus_inf_discarded, narrowed, natural_log, only_picked_from, product_of,
    softmax_reduced_above_zero, xlogy, xlogy_of_ratio,
};
use crate::rules::{Captures, Checker, Finding, FixAvailability, Rule};
use crate::semantic::eval::reaches_zero_op;
use crate::semantic::value::{Library, Op, Origin, Value};
use crate::semantic::{Callee, Model, apis};
use crate::smell::{Applicability, Fix, Related};
use crate::syntax::{Args, FIELD, KindName, Span, has_comment, same_expression, short, unparenthesized};

pub const RULE: Rule = Rule {
    code: "NL101",
    name: "log-of-possibly-zero",
    dir: "NL101-log-of-possibly-zero",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &["arg"],
    anchors: &[],
    fix: FixAvailability::Sometimes,
    fixes: "clip, or xlogy for `a * log(b)` (both unsafe); select before the log (safe)",
    check,
    preview: false,
};

/// The logarithms, by canonical name.
const LOGS: &[&str] = &[
    "tensorflow.math.log",
    "keras.ops.log",
    "keras.ops.log2",
    "keras.ops.log10",
    "keras.backend.log",
    "torch.log",
    "torch.log2",
    "torch.log10",
    "numpy.log",
    "numpy.log2",
    "numpy.log10",
    "jax.numpy.log",
    "jax.numpy.log2",
    "jax.numpy.log10",
];

/// Log methods of tensors and arrays.
const LOG_METHODS: &[&str] = &["log", "log2", "log10", "log_"];

fn check<'a>(cx: &Checker<'_, 'a>, captures: &Captures<'a>) -> Vec<Finding> {
    let Some(call) = captures.get("smell") else { return Vec::new() };
    let arg = captures.get("arg");
    match (cx.model.callee(call), arg) {
        (Some(Callee::Api(api)), Some(arg)) if LOGS.contains(&api.as_str()) => {
            log_call(cx, call, arg, &api, apis::library_of(&api))
        }
        (Some(Callee::Method { name, receiver }), Some(arg)) if LOG_METHODS.contains(&name) && receiver == arg => {
            // `Tensor.log()` takes no argument; `logger.log(msg)` is not a logarithm.
            if !Args::of(call).is_empty() {
                return Vec::new();
            }
            let library = match cx.model.value(receiver).kind {
                crate::semantic::value::Kind::Array(lib) => Some(lib),
                _ => file_library(cx.model),
            };
            log_call(cx, call, arg, name, library)
        }
        (Some(Callee::Local(def)), None) => helper_call(cx, call, def),
        _ => Vec::new(),
    }
}

/// Why the argument of a log can be 0, if there is evidence.
enum Evidence {
    /// Its producer reaches 0 (softmax, a count, a ReLU...).
    Producer(Op),
    /// A training-time value nothing keeps away from 0.
    Data,
    /// `x * log(x)`: the value multiplies its own log, the entropy form whose 0 is expected.
    OwnFactor,
    /// `log(a)[a > 0]`: the log is taken before selecting the elements where it is defined.
    SelectedAfter,
}

fn log_call<'a>(
    cx: &Checker<'_, 'a>,
    call: Node<'a>,
    arg: Node<'a>,
    callee: &str,
    library: Option<Library>,
) -> Vec<Finding> {
    let model = cx.model;
    let mut value = model.refine(arg, model.value(arg));
    // `np.log(p, where=p > 0, out=...)` computes only where the condition holds.
    if let Some(cond) = Args::of(call).keyword(&["where"], model.src) {
        value = narrowed(model, cond, true, arg, value);
    }
    if value.is_positive()
        || minus_inf_discarded(model, call, arg)
        || only_picked_from(model, call)
        // `log(abs(det(W)))` of an invertible flow's weight: 0 only for a matrix exactly
        // singular, which the log-determinant in the likelihood repels.
        || abs_of_determinant(model, &value)
        // `log(p.sum(-1))` of a softmax over its own axis: 1 in every row; its maximum, 1/K or more.
        || total_of_softmax(model, arg)
        || gumbel_noise(model, call, &value)
    {
        return Vec::new();
    }
    let evidence = if selected_after(model, call, arg) {
        Evidence::SelectedAfter
    } else if value.range.contains_zero()
        && value.op().is_some_and(reaches_zero_op)
        && !constant_nonzero(&value)
        // An absolute value reaches 0 where its operand does: known for training-time values;
        // of an argument (`log(abs(start))` in a `geomspace`), 0 is the caller's invalid input.
        && (value.op() != Some(Op::Abs) || value.origin == Origin::Data)
        // Preview only: a norm (of weights or features, 0 only for an all-zero vector) and a 0/1
        // mask (whose log is the additive -inf mask idiom, `scores + mask.log()`).
        && (cx.settings.preview || !matches!(value.op(), Some(Op::Norm | Op::Mask)))
    {
        Evidence::Producer(value.op().unwrap_or(Op::Constant))
    } else if value.origin != Origin::Config && own_factor(model, call, arg) {
        Evidence::OwnFactor
    } else if value.origin == Origin::Data && !value.range.is_positive() && cx.settings.preview {
        // Preview only: of ten such findings in the training corpus, none held up (values
        // positive by arithmetic the intervals do not follow, guards out of reach).
        Evidence::Data
    } else {
        return Vec::new();
    };
    let product = product_of(model, call).filter(|(_, other)| model.constant(*other).is_none_or(|v| v == 0.0));
    // Preview only: a probability that its losses keep away from 0 (see `kept_from_underflow`).
    // A product (`y * log(p)`) stays: its 0 * -inf is the cross-entropy's hazard.
    if let Evidence::Producer(op) = evidence
        && !cx.settings.preview
        && product.is_none()
        && kept_from_underflow(model, call, arg, &value, op)
    {
        return Vec::new();
    }
    // Preview only: a probability's log in NumPy, no factor of a product (see
    // `without_gradients`).
    if let Evidence::Producer(op) = evidence
        && !cx.settings.preview
        && product.is_none()
        && library == Some(Library::NumPy)
        && without_gradients(model, arg, &value, op)
    {
        return Vec::new();
    }
    let name = short(model.text(arg));
    // `w * p`, `p / q`: the zeros are a factor's.
    let factor_node = value.producer.and_then(|p| model.zero_factor(p.node));
    let factor = factor_node.map(|f| short(model.text(f)));
    // `p / q` with `q` a probability too: where both underflow, the quotient is 0 / 0 = NaN
    // before the log, which no fix of the log mends.
    let both = factor_node.and_then(|f| zero_denominator(model, f)).map(|q| short(model.text(q)));
    // A literal 0, or a name bound to one: said as it is.
    let zero = matches!(evidence, Evidence::Producer(Op::Constant | Op::Zeros)) && value.range.as_point() == Some(0.0);
    let describe = |op: Op| producer_words(model, &value, op);
    let what = match (&evidence, &value.via, &factor) {
        _ if zero && model.constant(arg) == Some(0.0) && value.via.is_none() => "0".to_string(),
        _ if zero => format!("`{name}`, which is 0"),
        (Evidence::Producer(op), _, Some(f)) => match &both {
            Some(q) => {
                format!("`{name}`, which is 0 where `{f}`, {}, is, and 0 / 0 = NaN where `{q}` is 0 too", describe(*op))
            }
            None => format!("`{name}`, which is 0 where `{f}`, {}, is", describe(*op)),
        },
        (Evidence::Producer(op), Some(via), None) if via.name == model.text(arg) => {
            format!("`{name}`, {} that can reach 0", describe(*op))
        }
        (Evidence::Producer(op), Some(via), None) => {
            format!("`{name}`, which can reach 0 (`{}` is {})", via.name, describe(*op))
        }
        (Evidence::Producer(op), None, None) => format!("{}, which can reach 0", describe(*op)),
        (Evidence::Data, ..) => format!("`{name}`, a training-time value that nothing keeps above 0"),
        (Evidence::OwnFactor, ..) => format!("`{name}`, which also multiplies this log, so its zeros matter"),
        (Evidence::SelectedAfter, ..) => format!("`{name}` before its positive elements are selected"),
    };
    let related = match (&evidence, &value.via) {
        (Evidence::Producer(_), Some(via)) if factor.is_some() => {
            Some(Related { span: via.assigned, message: format!("`{}` is assigned here", via.name) })
        }
        (Evidence::Producer(_), Some(via)) if zero => {
            Some(Related { span: via.assigned, message: format!("`{}` is assigned 0 here", via.name) })
        }
        (Evidence::Producer(op), Some(via)) => {
            Some(Related { span: via.assigned, message: format!("`{}` is assigned {} here", via.name, describe(*op)) })
        }
        _ => None,
    };
    let consequence = if product.is_some() || matches!(evidence, Evidence::OwnFactor) {
        "log(0) = -inf and 0 * -inf = NaN"
    } else {
        "log(0) = -inf"
    };
    let callee_text = match (model.callee(call), call.child_by_field_id(FIELD.function)) {
        (Some(Callee::Method { name, .. }), _) => format!(".{name}()"),
        (_, Some(f)) => model.text(f).to_string(),
        (_, None) => callee.to_string(),
    };
    let message = format!("`{callee_text}` of {what}: {consequence}");

    let mut fixes = Vec::new();
    if let Evidence::SelectedAfter = evidence
        && let Some(fix) = select_first(model, call, arg)
    {
        fixes.push(fix);
    }
    if let Some(library) = library {
        // Clipped into [eps, 1] for a probability (softmax, sigmoid), or a factor of a product
        // (`x * log(x)`, `y * log(p)`) whose interval ends at 1. A factor not known to be at most
        // 1 (a parameter, a ReLU output) has only its lower bound raised: clipping it at 1 would
        // drop `5 * log(5)` from an entropy-like sum.
        // Not a probability either: any value known to be at least 0 with no upper bound at 1
        // (`maximum(x, 0)`), and a probability scaled by a factor of unknown range (`w * p`,
        // `p / q`): its zeros are the probability's, its values can exceed 1.
        let unbounded = value.producer.as_ref().is_some_and(|p| {
            matches!(p.op, Op::Relu | Op::Abs | Op::Norm | Op::Std | Op::Var | Op::Count | Op::Arange)
        }) || (value.range.lo.value >= 0.0 && value.range.hi.value > 1.0)
            || (value.probability().is_some() && value.range.hi.value > 1.0);
        let at_most_one = value.range.lo.value >= 0.0 && value.range.hi.value <= 1.0;
        let probability = !unbounded && (value.probability().is_some() || (product.is_some() && at_most_one));
        let alias = call.child_by_field_id(FIELD.function).and_then(|f| fixes::root_name(model, f));
        let alias = if matches!(model.callee(call), Some(Callee::Method { .. })) { None } else { alias };
        let natural = matches!(apis::leaf(callee), "log" | "log_");
        let product = product.filter(|(product, _)| natural && !has_comment(*product));
        // First for a KL divergence's `p * log(p / q)`: the only fix that mends its 0 / 0.
        let ratio = product.and_then(|(product, other)| xlogy_of_ratio(model, product, other, arg, library, alias));
        let xlogy_first = ratio.is_some();
        fixes.extend(ratio);
        fixes.extend(clip(cx, arg, library, probability, alias));
        if !xlogy_first
            && let Some((product, other)) = product
            && let Some(fix) = xlogy(model, product, other, arg, library, alias)
        {
            // Second, also for `x * log(x)`: `xlogy(x, x)` is exact in value, but its gradient
            // is NaN where x is 0 (x / x in the derivative); the floor's is finite.
            fixes.push(fix);
        }
    }
    vec![Finding { span: None, message, fixes, related }]
}

/// A call of a function of this file that passes a parameter unchanged to a log: reported at the
/// call when the argument given there can reach 0.
fn helper_call<'a>(cx: &Checker<'_, 'a>, call: Node<'a>, def: Node<'a>) -> Vec<Finding> {
    let model = cx.model;
    let Some(summary) = model.summary_of(def) else { return Vec::new() };
    let args = Args::of(call);
    let is_method = model.class_of_method(def).is_some()
        && call.child_by_field_id(FIELD.function).is_some_and(|f| f.kind_name() == "attribute");
    let mut out = Vec::new();
    for flow in &summary.flows {
        let logs = LOGS.contains(&flow.into.as_str())
            || (flow.is_receiver() && LOG_METHODS.iter().any(|m| flow.into == format!(".{m}")));
        if !logs {
            continue;
        }
        let position = if is_method { flow.param.checked_sub(1) } else { Some(flow.param) };
        let Some(position) = position else { continue };
        let param = &summary.params[flow.param];
        let Some(given) = args.get(position, &[param.as_str()], model.src) else { continue };
        let value = model.value(given);
        let Some(prob) =
            value.op().filter(|op| reaches_zero_op(*op) && value.range.contains_zero() && !value.is_positive())
        else {
            continue;
        };
        if constant_nonzero(&value) {
            continue;
        }
        // Preview only, as in `kept_from_underflow`: a sigmoid output of float32 or wider is 0
        // only below a logit of about -88.7.
        if prob == Op::Sigmoid && !cx.settings.preview && !half_precision(model, given, &value) {
            continue;
        }
        // Preview only, as in `without_gradients`: the helper's log is NumPy's (a product with
        // the probability there is the helper's own finding).
        if flow.into.starts_with("numpy.") && !cx.settings.preview && without_gradients(model, given, &value, prob) {
            continue;
        }
        let function = model.text(def.child_by_field_id(FIELD.name).unwrap_or(def));
        let message = format!(
            "`{function}` takes the log of its parameter `{param}`, and `{}` here is {} that can reach 0: log(0) = -inf",
            short(model.text(given)),
            prob.describe()
        );
        out.push(Finding {
            span: Some(Span::of(given)),
            message,
            fixes: Vec::new(),
            related: Some(Related {
                span: Span::of(def.child_by_field_id(FIELD.name).unwrap_or(def)),
                message: format!("`{function}` logs `{param}` without a guard"),
            }),
        });
    }
    out
}

/// A probability (softmax or sigmoid output, or one minus one) whose log NumPy takes: NumPy has
/// no gradients, and where the probability underflowed to 0 its log is -inf, the right value of
/// log 0, which sums, maxima and sorting keep (a beam search ranks it last); NaN comes only
/// from 0 * -inf, a product, which stays reported. Not a float16 value, 0 far sooner.
fn without_gradients<'a>(model: &Model<'a>, arg: Node<'a>, value: &Value<'a>, op: Op) -> bool {
    op.probability().is_some() && !half_precision(model, arg, value)
}

/// `a.log()[a > 0]` → `a[a > 0].log()`, `np.log(a)[a > 0]` → `np.log(a[a > 0])` (the function
/// kept: a NumPy or JAX array has no `.log()` method): the same elements, without the log of the
/// others (whose gradient, 0 * inf, is NaN).
fn select_first<'a>(model: &Model<'a>, call: Node<'a>, arg: Node<'a>) -> Option<Fix> {
    let subscript = model.parent(call).filter(|p| p.kind_name() == "subscript")?;
    let index = subscript.child_by_field_id(FIELD.subscript)?;
    let function = call.child_by_field_id(FIELD.function)?;
    if has_comment(subscript) {
        return None;
    }
    // `p + q` is selected as `(p + q)[m]`.
    let arg = unparenthesized(arg);
    let selected = match arg.kind_name() {
        "identifier" | "attribute" | "subscript" | "call" => format!("{}[{}]", model.text(arg), model.text(index)),
        _ => format!("({})[{}]", model.text(arg), model.text(index)),
    };
    let args = Args::of(call);
    let content = match model.callee(call) {
        Some(Callee::Method { name, receiver }) if unparenthesized(receiver) == arg && args.is_empty() => {
            format!("{selected}.{name}()")
        }
        Some(Callee::Api(_))
            if args.positional.len() == 1
                && args.keyword.is_empty()
                && !args.splat
                && unparenthesized(args.positional[0]) == arg =>
        {
            format!("{}({selected})", model.text(function))
        }
        _ => return None,
    };
    Some(Fix {
        title: format!("Select before taking the log: `{}`", short(&content)),
        applicability: Applicability::Safe,
        edits: vec![crate::smell::Edit { start: subscript.start_byte(), end: subscript.end_byte(), content }],
        whole: false,
    })
}

/// `a.log()[a > 0]`: the log's result is indexed by a condition on its own argument.
fn selected_after<'a>(model: &Model<'a>, call: Node<'a>, arg: Node<'a>) -> bool {
    let Some(parent) = model.parent(call) else { return false };
    if parent.kind_name() != "subscript" || parent.child_by_field_id(FIELD.value) != Some(call) {
        return false;
    }
    let Some(index) = parent.child_by_field_id(FIELD.subscript) else { return false };
    let mut found = Vec::new();
    model.constraints_of(index, true, 0, &mut found);
    found.iter().any(|c| same_expression(c.subject, arg, model.src) && !c.range.contains_zero())
}

/// `x * log(x)` or `x * (log(x) - y)`: the argument is also the other factor of a product the
/// log is a term of.
fn own_factor<'a>(model: &Model<'a>, call: Node<'a>, arg: Node<'a>) -> bool {
    let mut node = call;
    while let Some(parent) = model.parent(node) {
        match parent.kind_name() {
            "parenthesized_expression" => node = parent,
            "binary_operator" => {
                let op = parent.child_by_field_id(FIELD.operator).map(|o| o.kind_name());
                match op {
                    Some("+") | Some("-") => node = parent,
                    Some("*") => {
                        let (l, r) = (parent.child_by_field_id(FIELD.left), parent.child_by_field_id(FIELD.right));
                        let other = if l == Some(node) { r } else { l };
                        return other.is_some_and(|o| same_expression(o, arg, model.src));
                    }
                    _ => return false,
                }
            }
            _ => return false,
        }
    }
    false
}

/// How a message names the producer `op` of `value`: a sum of probabilities is no count.
fn producer_words<'a>(model: &Model<'a>, value: &Value<'a>, op: Op) -> String {
    let summed = value
        .producer
        .filter(|_| op == Op::Count)
        .and_then(|p| model.reduction(p.node))
        .and_then(|r| model.value(r.operand).op());
    match summed {
        Some(Op::Softmax) => "a sum of softmax probabilities".to_string(),
        Some(Op::Sigmoid) => "a sum of sigmoid probabilities".to_string(),
        Some(Op::Complement(_)) => "a sum of complements of probabilities".to_string(),
        Some(Op::Relu) => "a sum of ReLU outputs".to_string(),
        _ => op.describe().to_string(),
    }
}

/// `arg` is (or names) a softmax summed, averaged or maximized over its own axis or over every
/// element.
fn total_of_softmax<'a>(model: &Model<'a>, arg: Node<'a>) -> bool {
    let arg = unparenthesized(arg);
    let reduced = match arg.kind_name() {
        "identifier" => match model.bound_value(arg) {
            Some((_, value)) => value,
            None => return false,
        },
        _ => arg,
    };
    softmax_reduced_above_zero(model, reduced)
}

/// A constant that is not 0 (a log of `-1.0` is NaN, but that is no zero to guard).
fn constant_nonzero(value: &Value) -> bool {
    value.range.as_point().is_some_and(|c| c != 0.0)
}

/// The tensor library a method call most likely belongs to: the file's only one.
fn file_library(model: &Model) -> Option<Library> {
    let mut found = None;
    for (_, path) in model.imports.bindings() {
        let lib = apis::library_of(&apis::canonical(path));
        if let Some(lib) = lib {
            if found.is_some_and(|f| f != lib) {
                return None;
            }
            found = Some(lib);
        }
    }
    found
}

/// The clip fix: into `[eps, 1]` for a probability, else only the lower bound is raised.
fn clip<'a>(
    cx: &Checker<'_, 'a>,
    arg: Node<'a>,
    library: Library,
    probability: bool,
    alias: Option<&str>,
) -> Option<Fix> {
    let eps = cx.settings.epsilon_literal();
    let x = cx.model.text(arg);
    let (function, call_args) = match (library, probability) {
        (Library::Torch, false) => ("torch.clamp", format!("{x}, min={eps}")),
        (lib, true) => (fixes::function(lib, Function::Clip)?, format!("{x}, {eps}, 1.0")),
        (lib, false) => (fixes::function(lib, Function::Maximum)?, format!("{x}, {eps}")),
    };
    let title = if probability {
        format!("Clip `{}` into [{eps}, 1]", short(x))
    } else {
        format!("Raise `{}` to at least {eps}", short(x))
    };
    fixes::replace_with_call(cx.model, arg, function, alias, &call_args, title, Applicability::Unsafe)
}

/// `value` is the absolute value of a determinant: `abs(det(w))`, `det(w).abs()`,
/// `torch.linalg.det(w).abs()`.
fn abs_of_determinant<'a>(model: &Model<'a>, value: &Value<'a>) -> bool {
    let Some(abs) = value.producer.filter(|p| p.op == Op::Abs).map(|p| p.node) else { return false };
    let operand = match model.callee(abs) {
        Some(Callee::Method { receiver, .. }) => Some(receiver),
        _ => Args::of(abs).positional.first().copied(),
    };
    let Some(operand) = operand.map(crate::syntax::unparenthesized).filter(|o| o.kind_name() == "call") else {
        return false;
    };
    model.callee(operand).is_some_and(|c| c.leaf() == Some("det"))
}

/// The denominator of the quotient whose numerator is `factor` (`q` in `p / q`), when it can be
/// 0 too as a probability (a softmax or sigmoid output, or one minus one).
fn zero_denominator<'a>(model: &Model<'a>, factor: Node<'a>) -> Option<Node<'a>> {
    let mut quotient = factor.parent()?;
    while quotient.kind_name() == "parenthesized_expression" {
        quotient = quotient.parent()?;
    }
    if quotient.kind_name() != "binary_operator" || quotient.child_by_field_id(FIELD.operator)?.kind_name() != "/" {
        return None;
    }
    let left = crate::syntax::unparenthesized(quotient.child_by_field_id(FIELD.left)?);
    let right = quotient.child_by_field_id(FIELD.right)?;
    let q = model.value(right);
    // `(1 - p) / p`, `p / (1 - p)`: a probability and its complement are never 0 together.
    let one_minus = |a: Node<'a>, b: Node<'a>| {
        let a = crate::syntax::unparenthesized(a);
        a.kind_name() == "binary_operator"
            && a.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "-")
            && a.child_by_field_id(FIELD.left).is_some_and(|one| model.constant(one) == Some(1.0))
            && a.child_by_field_id(FIELD.right).is_some_and(|x| same_expression(x, b, model.src))
    };
    if one_minus(left, right) || one_minus(right, left) {
        return None;
    }
    (left == factor && q.probability().is_some() && q.range.contains_zero()).then_some(right)
}

/// The inner log of Gumbel noise, `-log(-log(u))` of a uniform draw `u`: where `u` is 0 the
/// noise is -inf, the distribution's own limit (a candidate never picked, a probability of 0
/// after a softmax), not a NaN.
fn gumbel_noise<'a>(model: &Model<'a>, call: Node<'a>, value: &Value<'a>) -> bool {
    if value.op() != Some(Op::Uniform) {
        return false;
    }
    let outer = |mut node: Node<'a>| {
        while let Some(parent) = model.parent(node).filter(|p| p.kind_name() == "parenthesized_expression") {
            node = parent;
        }
        model.parent(node).map(|p| (node, p))
    };
    let Some((_, negation)) = outer(call) else { return false };
    if negation.kind_name() != "unary_operator"
        || negation.child_by_field_id(FIELD.operator).is_none_or(|o| o.kind_name() != "-")
    {
        return false;
    }
    let Some((_, list)) = outer(negation) else { return false };
    let Some(log) = model.parent(list).filter(|c| list.kind_name() == "argument_list" && c.kind_name() == "call")
    else {
        return false;
    };
    natural_log(model, log).is_some_and(|(arg, _)| unparenthesized(arg) == negation)
}
