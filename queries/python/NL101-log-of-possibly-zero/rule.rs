//! NL101 log-of-possibly-zero: a logarithm of a value with evidence that it can be 0 (or
//! below), and its two fixes (clip, xlogy).

use tree_sitter::Node;

use crate::rules::fixes::{self, Function};
use crate::rules::{Captures, Checker, Finding, FixAvailability, Rule};
use crate::semantic::eval::reaches_zero_op;
use crate::semantic::value::{Library, Op, Origin, Value};
use crate::semantic::{Callee, Model, apis};
use crate::smell::{Applicability, Fix, Related};
use crate::syntax::{Args, Span, has_comment, same_expression, short, unparenthesized};

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
    let mut value = model.value(arg);
    // `np.log(p, where=p > 0, out=...)` computes only where the condition holds.
    if let Some(cond) = Args::of(call).keyword(&["where"], model.src) {
        value = narrowed(model, cond, true, arg, value);
    }
    if value.is_positive()
        || discarded_by_where(model, call, arg)
        || discarded_later(model, call, arg)
        || replaced_by_nan_to_num(model, call)
    {
        return Vec::new();
    }
    let evidence = if selected_after(model, call, arg) {
        Evidence::SelectedAfter
    } else if value.range.contains_zero() && value.op().is_some_and(reaches_zero_op) && !constant_nonzero(&value) {
        Evidence::Producer(value.op().unwrap_or(Op::Constant))
    } else if value.origin != Origin::Config && own_factor(model, call, arg) {
        Evidence::OwnFactor
    } else if value.origin == Origin::Data && !value.range.is_positive() {
        Evidence::Data
    } else {
        return Vec::new();
    };
    let product = product_of(call).filter(|(_, other)| model.constant(*other).is_none_or(|v| v == 0.0));
    let name = short(model.text(arg));
    let what = match (&evidence, &value.via) {
        (Evidence::Producer(op), Some(via)) if via.name == model.text(arg) => {
            format!("`{name}`, {} that can reach 0", op.describe())
        }
        (Evidence::Producer(op), Some(via)) => {
            format!("`{name}`, which can reach 0 (`{}` is {})", via.name, op.describe())
        }
        (Evidence::Producer(op), None) => format!("{}, which can reach 0", op.describe()),
        (Evidence::Data, _) => format!("`{name}`, a training-time value that nothing keeps above 0"),
        (Evidence::OwnFactor, _) => format!("`{name}`, which also multiplies this log, so its zeros matter"),
        (Evidence::SelectedAfter, _) => format!("`{name}` before its positive elements are selected"),
    };
    let related = match (&evidence, &value.via) {
        (Evidence::Producer(op), Some(via)) => {
            Some(Related { span: via.assigned, message: format!("`{}` is assigned {} here", via.name, op.describe()) })
        }
        _ => None,
    };
    let consequence = if product.is_some() || matches!(evidence, Evidence::OwnFactor) {
        "log(0) = -inf and 0 * -inf = NaN"
    } else {
        "log(0) = -inf"
    };
    let callee_text = match (model.callee(call), call.child_by_field_name("function")) {
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
        let probability = value.probability().is_some() || product.is_some();
        let alias = call.child_by_field_name("function").and_then(|f| fixes::root_name(model, f));
        let alias = if matches!(model.callee(call), Some(Callee::Method { .. })) { None } else { alias };
        fixes.extend(clip(cx, arg, library, probability, alias));
        let natural = matches!(apis::leaf(callee), "log" | "log_");
        if let Some((product, other)) = product
            && natural
            && !has_comment(product)
            && let Some(fix) = xlogy(model, product, other, arg, library, alias)
        {
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
        && call.child_by_field_name("function").is_some_and(|f| f.kind() == "attribute");
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
        let function = model.text(def.child_by_field_name("name").unwrap_or(def));
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
                span: Span::of(def.child_by_field_name("name").unwrap_or(def)),
                message: format!("`{function}` logs `{param}` without a guard"),
            }),
        });
    }
    out
}

/// `value` narrowed by `cond` being `truth`, for the constraints on `subject`.
fn narrowed<'a>(model: &Model<'a>, cond: Node<'a>, truth: bool, subject: Node<'a>, mut value: Value<'a>) -> Value<'a> {
    let mut found = Vec::new();
    model.constraints_of(cond, truth, 0, &mut found);
    for c in found {
        if same_expression(c.subject, subject, model.src) {
            value.range = value.range.meet(c.range);
        }
    }
    value
}

/// The log is a branch of a `where` whose condition excludes the argument's zeros there
/// (`where(t == 0, 0, log(t))`, `where(p > 0, log(p), 0)`): the -inf is discarded. Its gradient
/// is another matter (NaN in the untaken branch), which another rule reports.
fn discarded_by_where<'a>(model: &Model<'a>, call: Node<'a>, arg: Node<'a>) -> bool {
    let Some(list) = enclosing_argument_list(call) else { return false };
    let Some(where_call) = list.parent().filter(|p| p.kind() == "call") else { return false };
    let is_where = matches!(model.callee(where_call), Some(Callee::Api(api)) if apis::leaf(&api) == "where");
    if !is_where {
        return false;
    }
    let args = Args::of(where_call);
    let [cond, a, b] = args.positional.as_slice() else { return false };
    let truth = if contains(*a, call) {
        true
    } else if contains(*b, call) {
        false
    } else {
        return false;
    };
    let value = narrowed(model, *cond, truth, arg, Value::unknown().with_range(model.value(arg).range));
    !value.range.contains_zero() || {
        // `where(t == 0, 0, log(t))` leaves t != 0: the pinhole opens no end of an unknown range,
        // but it does say the zeros are discarded.
        let mut found = Vec::new();
        model.constraints_of(*cond, truth, 0, &mut found);
        found.iter().any(|c| same_expression(c.subject, arg, model.src) && !c.range.contains_zero())
    }
}

/// `a.log()[a > 0]` → `a[a > 0].log()`: the same elements, without the log of the others (whose
/// gradient, 0 * inf, is NaN).
fn select_first(model: &Model, call: Node, arg: Node) -> Option<Fix> {
    let subscript = call.parent().filter(|p| p.kind() == "subscript")?;
    let index = subscript.child_by_field_name("subscript")?;
    let method = call.child_by_field_name("function")?.child_by_field_name("attribute")?;
    if has_comment(subscript) {
        return None;
    }
    let content = format!("{}[{}].{}()", model.text(arg), model.text(index), model.text(method));
    Some(Fix {
        title: format!("Select before taking the log: `{}`", short(&content)),
        applicability: Applicability::Safe,
        edits: vec![crate::smell::Edit { start: subscript.start_byte(), end: subscript.end_byte(), content }],
    })
}

/// `values = x * (1 - log(x))` whose every later use is `where(x == 0, 0, values)`: the -inf (or
/// NaN) the log makes where `x` is 0 is discarded by each use.
fn discarded_later<'a>(model: &Model<'a>, call: Node<'a>, arg: Node<'a>) -> bool {
    // The assignment whose value holds the log through arithmetic.
    let mut node = call;
    let assignment = loop {
        let Some(parent) = node.parent() else { return false };
        match parent.kind() {
            "parenthesized_expression" | "binary_operator" | "unary_operator" => node = parent,
            "assignment" if parent.child_by_field_name("right") == Some(node) => break parent,
            _ => return false,
        }
    };
    let Some(target) = assignment.child_by_field_name("left").filter(|l| l.kind() == "identifier") else {
        return false;
    };
    let name = model.text(target);
    let scope = model.scope_of(assignment);
    let mut uses = Vec::new();
    let mut stack = vec![scope];
    while let Some(n) = stack.pop() {
        if n.kind() == "identifier" && n.start_byte() > assignment.end_byte() && model.text(n) == name {
            uses.push(n);
        }
        let mut cursor = n.walk();
        for child in n.named_children(&mut cursor) {
            if child.end_byte() > assignment.end_byte()
                && !(child != scope && matches!(child.kind(), "function_definition" | "lambda" | "class_definition"))
            {
                stack.push(child);
            }
        }
    }
    // Only the uses this assignment reaches, not later targets or uses of a rebinding.
    let index = model.scope_index(scope);
    uses.retain(|u| {
        let target = u.parent().is_some_and(|p| p.kind() == "assignment" && p.child_by_field_name("left") == Some(*u));
        // `v.dtype`, `v.shape`: metadata, not the values.
        let metadata = u.parent().is_some_and(|p| {
            p.kind() == "attribute"
                && p.child_by_field_name("object") == Some(*u)
                && p.child_by_field_name("attribute")
                    .is_some_and(|a| matches!(model.text(a), "dtype" | "shape" | "device" | "ndim"))
        });
        !target && !metadata && index.reaching(name, u.start_byte()).entries.iter().any(|e| e.node == assignment)
    });
    !uses.is_empty()
        && uses.iter().all(|u| {
            if finite_selected(model, *u) {
                return true;
            }
            let Some(list) = u.parent().filter(|p| p.kind() == "argument_list") else { return false };
            let Some(where_call) = list.parent() else { return false };
            if !matches!(model.callee(where_call), Some(Callee::Api(api)) if apis::leaf(&api) == "where") {
                return false;
            }
            let args = Args::of(where_call);
            let [cond, a, b] = args.positional.as_slice() else { return false };
            let truth = if *a == *u {
                true
            } else if *b == *u {
                false
            } else {
                return false;
            };
            let mut found = Vec::new();
            model.constraints_of(*cond, truth, 0, &mut found);
            found.iter().any(|c| same_expression(c.subject, arg, model.src) && !c.range.contains_zero())
        })
}

/// `where(isfinite(v), v, fallback)`: the use `v` is kept only where it is finite (both uses of
/// `v` there count).
fn finite_selected<'a>(model: &Model<'a>, use_: Node<'a>) -> bool {
    let Some(mut where_call) = use_.parent().and_then(|l| l.parent()) else { return false };
    let mut branch = use_;
    if matches!(model.callee(where_call), Some(Callee::Api(api)) if matches!(apis::leaf(&api), "isfinite" | "is_finite"))
    {
        // The use inside the test: look at the `where` the test belongs to.
        let Some(outer) = where_call.parent().and_then(|l| l.parent()) else { return false };
        let Some(kept) = Args::of(outer).positional.get(1).copied() else { return false };
        if Args::of(outer).positional.first() != Some(&where_call) {
            return false;
        }
        branch = kept;
        where_call = outer;
    }
    if !matches!(model.callee(where_call), Some(Callee::Api(api)) if apis::leaf(&api) == "where") {
        return false;
    }
    let args = Args::of(where_call);
    let [cond, a, _] = args.positional.as_slice() else { return false };
    let test = unparenthesized(*cond);
    *a == branch
        && same_expression(branch, use_, model.src)
        && matches!(model.callee(test), Some(Callee::Api(api)) if matches!(apis::leaf(&api), "isfinite" | "is_finite"))
        && Args::of(test).positional.first().is_some_and(|v| same_expression(*v, branch, model.src))
}

/// `nan_to_num(log(x), ...)`: the -inf is replaced.
fn replaced_by_nan_to_num<'a>(model: &Model<'a>, call: Node<'a>) -> bool {
    let Some(list) = enclosing_argument_list(call) else { return false };
    let Some(outer) = list.parent() else { return false };
    matches!(model.callee(outer), Some(Callee::Api(api)) if apis::leaf(&api) == "nan_to_num")
}

/// `a.log()[a > 0]`: the log's result is indexed by a condition on its own argument.
fn selected_after<'a>(model: &Model<'a>, call: Node<'a>, arg: Node<'a>) -> bool {
    let Some(parent) = call.parent() else { return false };
    if parent.kind() != "subscript" || parent.child_by_field_name("value") != Some(call) {
        return false;
    }
    let Some(index) = parent.child_by_field_name("subscript") else { return false };
    let mut found = Vec::new();
    model.constraints_of(index, true, 0, &mut found);
    found.iter().any(|c| same_expression(c.subject, arg, model.src) && !c.range.contains_zero())
}

/// `x * log(x)` or `x * (log(x) - y)`: the argument is also the other factor of a product the
/// log is a term of.
fn own_factor<'a>(model: &Model<'a>, call: Node<'a>, arg: Node<'a>) -> bool {
    let mut node = call;
    while let Some(parent) = node.parent() {
        match parent.kind() {
            "parenthesized_expression" => node = parent,
            "binary_operator" => {
                let op = parent.child_by_field_name("operator").map(|o| o.kind());
                match op {
                    Some("+") | Some("-") => node = parent,
                    Some("*") => {
                        let (l, r) = (parent.child_by_field_name("left"), parent.child_by_field_name("right"));
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

/// A constant that is not 0 (a log of `-1.0` is NaN, but that is no zero to guard).
fn constant_nonzero(value: &Value) -> bool {
    value.range.as_point().is_some_and(|c| c != 0.0)
}

fn enclosing_argument_list(node: Node) -> Option<Node> {
    let mut n = node;
    loop {
        let p = n.parent()?;
        match p.kind() {
            "argument_list" => return Some(p),
            "parenthesized_expression" | "binary_operator" | "unary_operator" => n = p,
            _ => return None,
        }
    }
}

fn contains(outer: Node, inner: Node) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
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
fn clip(cx: &Checker, arg: Node, library: Library, probability: bool, alias: Option<&str>) -> Option<Fix> {
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
    Some(fixes::replace_with_call(&cx.model.imports, arg, function, alias, &call_args, title, Applicability::Unsafe))
}

/// The xlogy fix: `a * log(b)` → `xlogy(a, b)`.
fn xlogy(model: &Model, product: Node, other: Node, arg: Node, library: Library, alias: Option<&str>) -> Option<Fix> {
    let function = fixes::function(library, Function::Xlogy)?;
    let args = format!("{}, {}", model.text(unparenthesized(other)), model.text(arg));
    let (spelled, _) = fixes::spell(&model.imports, function, alias);
    let title = format!("Use `{}`", short(&format!("{spelled}({args})")));
    Some(fixes::replace_with_call(&model.imports, product, function, alias, &args, title, Applicability::Unsafe))
}

/// When `call` is a factor of a product (`a * log(b)` or `log(b) * a`, parentheses allowed):
/// the product and the other factor.
fn product_of(call: Node) -> Option<(Node, Node)> {
    let mut node = call;
    let mut parent = node.parent()?;
    while parent.kind() == "parenthesized_expression" {
        node = parent;
        parent = node.parent()?;
    }
    if parent.kind() != "binary_operator" || parent.child_by_field_name("operator")?.kind() != "*" {
        return None;
    }
    let (left, right) = (parent.child_by_field_name("left")?, parent.child_by_field_name("right")?);
    let other = if left == node { right } else { left };
    Some((parent, other))
}
