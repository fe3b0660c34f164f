//! NL202 sqrt-or-power-at-zero: `sqrt`, `x ** p` (0 < p < 1) and the norms whose gradient at 0
//! is NaN (JAX's and TensorFlow's), of a value that can be exactly 0, in differentiated code; and
//! the two fixes (`+ eps` under the root, a floor of eps before it).

use tree_sitter::Node;

use crate::rules::edits;
use crate::rules::{Anchor, Captures, Checker, Finding, FixAvailability, Rule};
use crate::semantic::reductions::Reduce;
use crate::semantic::value::{Library, Op, Origin, Value};
use crate::semantic::{Callee, Model, apis};
use crate::smell::{Applicability, Edit, Fix, Related};
use crate::syntax::{Args, FIELD, KindName, has_comment, short, unparenthesized};

pub const RULE: Rule = Rule {
    code: "NL202",
    name: "sqrt-or-power-at-zero",
    dir: "NL202-sqrt-or-power-at-zero",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &["arg", "exponent"],
    anchors: &[Anchor::Token("**")],
    fix: FixAvailability::Sometimes,
    fixes: "`+ eps` under the root, or a floor of eps before it (both unsafe)",
    check,
    // Stable for a root of a value clipped at 0; the other evidence (sums of squares, variances,
    // spreads, norms) only in preview: few of those findings on real code held up
    // (benches/README.md, "Precision").
    preview: false,
};

const SQRTS: &[&str] =
    &["torch.sqrt", "tensorflow.math.sqrt", "keras.ops.sqrt", "keras.backend.sqrt", "jax.numpy.sqrt"];
const POWERS: &[&str] =
    &["torch.pow", "tensorflow.math.pow", "keras.ops.power", "keras.backend.pow", "jax.numpy.power"];
/// Norms whose gradient at the zero vector is NaN (PyTorch's is defined as 0).
const NORMS: &[&str] = &["tensorflow.linalg.norm", "tensorflow.math.reduce_euclidean_norm", "jax.numpy.linalg.norm"];

/// What the call computes.
enum Form {
    /// `sqrt(x)`, `x.sqrt()`
    Sqrt,
    /// `x ** p`, `pow(x, p)`, `x.pow(p)` with 0 < p < 1.
    Power,
    /// A norm of `x`.
    Norm,
}

fn check<'a>(cx: &Checker<'_, 'a>, captures: &Captures<'a>) -> Vec<Finding> {
    let (Some(smell), Some(arg)) = (captures.get("smell"), captures.get("arg")) else { return Vec::new() };
    let model = cx.model;
    if arg.kind_name() == "comment" || arg.kind_name() == "keyword_argument" {
        return Vec::new();
    }
    let exponent = captures.get("exponent");
    // The exponent first: most `**` are squares.
    let power = |e: Option<Node<'a>>| e.and_then(|e| model.constant(e)).filter(|p| *p > 0.0 && *p < 1.0);
    let form = match smell.kind_name() {
        "binary_operator" => match power(exponent) {
            Some(_) => Form::Power,
            None => return Vec::new(),
        },
        _ => match model.callee(smell) {
            Some(Callee::Api(api)) if SQRTS.contains(&api.as_str()) => Form::Sqrt,
            Some(Callee::Api(api)) if NORMS.contains(&api.as_str()) => Form::Norm,
            Some(Callee::Api(api)) if POWERS.contains(&api.as_str()) => match power(exponent) {
                Some(_) => Form::Power,
                None => return Vec::new(),
            },
            Some(Callee::Method { name, .. }) if name.starts_with("sqrt") && Args::of(smell).is_empty() => Form::Sqrt,
            Some(Callee::Method { name, .. }) if name.starts_with("pow") => match power(exponent) {
                Some(_) if Args::of(smell).positional.len() == 1 => Form::Power,
                _ => return Vec::new(),
            },
            _ => return Vec::new(),
        },
    };
    let value = model.refine(arg, model.value(arg));
    let library = model.array_library(smell);
    let evidence = match form {
        Form::Norm => norm_evidence(model, arg, &value, library),
        // `maximum(x, 0)` written in place: the model reads a name in a maximum as a floor its
        // author chose (`maximum(x, self.floor)`), but beside a literal 0 the name is the value.
        _ => evidence(&value, library).or_else(|| {
            (value.origin != Origin::Config && zero_bound(model, arg).is_some()).then_some(Evidence::Producer(Op::Clip))
        }),
    };
    let Some(evidence) = evidence else { return Vec::new() };
    if !cx.settings.preview && !clipped_at_zero(&form, &evidence) {
        return Vec::new();
    }
    // `x.clamp(min=0).detach().sqrt()`: no gradient reaches `x` through the root.
    if !model.is_differentiated(smell) || !model.in_training_code(smell) || model.is_gradient_stop(arg) {
        return Vec::new();
    }
    let callee = match (&form, smell.kind_name()) {
        (Form::Power, "binary_operator") => format!("`** {}`", model.text(exponent.unwrap_or(smell))),
        _ => match (model.callee(smell), smell.child_by_field_id(FIELD.function)) {
            (Some(Callee::Method { name, .. }), _) => format!("`.{name}()`"),
            (_, Some(f)) => format!("`{}`", model.text(f)),
            _ => "the root".to_string(),
        },
    };
    let name = short(model.text(unparenthesized(arg)));
    let why = match evidence {
        Evidence::Producer(op) => match op {
            Op::SumOfSquares => "a sum or mean of squares, 0 where every term is (equal points, a perfect fit)",
            Op::Clip => "a clipped value whose floor is 0",
            Op::Relu => "a ReLU output, 0 for every negative input",
            Op::Var => "a variance, 0 for constant input",
            Op::Std => "a standard deviation, 0 for constant input",
            Op::Norm => "a norm, 0 for a zero vector",
            Op::Spread => "`max - min`, 0 for constant input",
            _ => "a value that reaches 0",
        },
        Evidence::Difference => "a difference, 0 where the two sides are equal",
    };
    let root = match form {
        Form::Sqrt => "sqrt".to_string(),
        Form::Power => format!("x ** {}", short(model.text(exponent.unwrap_or(smell)))),
        Form::Norm => String::new(),
    };
    let consequence = match form {
        Form::Norm => "its gradient at the zero vector is NaN".to_string(),
        _ => format!("the gradient of {root} at 0 is inf{}", passed_on(model, arg, &value, &evidence, library)),
    };
    let message = match &value.via {
        Some(via) if via.name != name => {
            format!("{callee} of `{name}`, which can be 0 (`{}` is {why}): {consequence}", via.name)
        }
        _ => format!("{callee} of `{name}`, {why}: {consequence}"),
    };
    let related = value
        .via
        .as_ref()
        .map(|via| Related { span: via.assigned, message: format!("`{}` is assigned here", via.name) });
    let fixes = match form {
        Form::Norm => norm_fix(cx, smell, arg).into_iter().collect(),
        _ => root_fixes(cx, smell, arg),
    };
    vec![Finding { span: None, message, fixes, related }]
}

/// What the root's infinite gradient at 0 becomes at the input of what produced the 0, as
/// measured with the libraries (tests/numeric/test_range_numerics.py, `test_nl202_gradients`):
/// a clip at 0 passes it at exactly 0 (PyTorch's `clamp` did until its subgradient at the bound
/// became 0; JAX's `maximum` and `clip` give NaN below the floor, TensorFlow's 0); TensorFlow's
/// ReLU gives NaN at 0 and below; squares, variances, spreads and norms are NaN at their 0.
fn passed_on<'a>(
    model: &Model<'a>,
    arg: Node<'a>,
    value: &Value<'a>,
    evidence: &Evidence,
    library: Option<Library>,
) -> String {
    let op = match evidence {
        Evidence::Producer(op) => *op,
        Evidence::Difference => return ", and NaN once multiplied by 0".to_string(),
    };
    let what = match op {
        Op::SumOfSquares => "the squares",
        Op::Var => "the variance",
        Op::Std => "the standard deviation",
        Op::Spread => "`max - min`",
        Op::Norm => "the norm",
        Op::Clip | Op::Relu => "",
        _ => return ", and NaN once multiplied by 0".to_string(),
    };
    if !what.is_empty() {
        return format!(", and NaN at the inputs of {what}");
    }
    // The clip: the value's producer, or the `maximum(x, 0)` written in place.
    let clip = value
        .producer
        .filter(|p| p.op == op)
        .map(|p| p.node)
        .or_else(|| zero_bound(model, arg).map(|_| unparenthesized(arg)));
    let Some((name, shown)) = clip.and_then(|c| match model.callee(c)? {
        Callee::Method { name, .. } => Some((name.to_string(), format!("`.{name}()`"))),
        Callee::Api(api) => {
            Some((apis::leaf(&api).to_string(), format!("`{}`", model.text(c.child_by_field_id(FIELD.function)?))))
        }
        _ => None,
    }) else {
        return ", and NaN once multiplied by 0".to_string();
    };
    // Not `keras.ops`, whose backend may be JAX (NaN below the floor) or PyTorch.
    let tensorflow = matches!(library, Some(Library::TensorFlow | Library::KerasBackend));
    let torch = library == Some(Library::Torch);
    match name.as_str() {
        "clamp" | "clamp_" | "clip" | "clip_" | "clamp_min" | "clamp_min_" if torch => format!(
            "; {shown} passes it on at exactly 0 where clamp's subgradient at the bound is 1 (PyTorch before \
             mid-2026; 2.15 gives 0), NaN once multiplied by 0"
        ),
        "maximum" | "clip" if library == Some(Library::Jax) => {
            format!("; through {shown} the input's gradient is inf at exactly 0 and NaN below the floor")
        }
        "maximum" | "clip_by_value" if torch || tensorflow => format!(
            "; through {shown} the input's gradient is inf at exactly 0 (0 below the floor), NaN once multiplied by 0"
        ),
        "relu" if tensorflow => format!("; through {shown} the input's gradient is NaN at 0 and below"),
        _ => ", and NaN once multiplied by 0".to_string(),
    }
}

/// The form reported outside preview mode: a root of a value clipped at 0 on purpose
/// (`.clamp(0)`, `maximum(x, 0)`, a TensorFlow ReLU), whose zeros are certain.
fn clipped_at_zero(form: &Form, evidence: &Evidence) -> bool {
    !matches!(form, Form::Norm) && matches!(evidence, Evidence::Producer(Op::Clip | Op::Relu))
}

/// Why the value under a root can be exactly 0.
enum Evidence {
    Producer(Op),
    /// `norm(a - b)`: a distance, 0 for equal points.
    Difference,
}

/// A training-time value that reaches exactly 0, from an operation whose gradient flows back:
/// a sum of squares (a distance, an RMSE), a clamp at 0, a variance or spread, and in
/// TensorFlow a ReLU (whose gradient at 0 times the root's inf is NaN; PyTorch's and JAX's ReLU
/// select 0 there). Counts and masks carry no gradient, so a root of them is no hazard here.
fn evidence(value: &Value, library: Option<Library>) -> Option<Evidence> {
    if value.origin == Origin::Config || !(value.range.lo.value == 0.0 && value.range.lo.closed) {
        return None;
    }
    let tensorflow = matches!(library, Some(Library::TensorFlow | Library::KerasOps | Library::KerasBackend));
    match value.op()? {
        op @ (Op::SumOfSquares | Op::Clip | Op::Var | Op::Spread) => Some(Evidence::Producer(op)),
        Op::Relu if tensorflow => Some(Evidence::Producer(Op::Relu)),
        _ => None,
    }
}

/// A norm's argument that can be the zero vector: a difference of two values (a distance), or a
/// value with the evidence above.
fn norm_evidence<'a>(
    model: &Model<'a>,
    arg: Node<'a>,
    value: &Value<'a>,
    library: Option<Library>,
) -> Option<Evidence> {
    if value.origin == Origin::Config {
        return None;
    }
    if let Some(e) = evidence(value, library) {
        return Some(e);
    }
    let bare = unparenthesized(arg);
    let difference = |n: Node| {
        n.kind_name() == "binary_operator" && n.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "-")
    };
    if difference(bare) {
        return Some(Evidence::Difference);
    }
    // Through a name assigned a difference in the same function.
    if bare.kind_name() == "identifier"
        && let Some(via) = &value.via
        && let Some(assigned) =
            model.tree.root_node().descendant_for_byte_range(via.assigned.start_byte, via.assigned.end_byte)
        && assigned.kind_name() == "assignment"
        && assigned.child_by_field_id(FIELD.right).map(unparenthesized).is_some_and(difference)
    {
        return Some(Evidence::Difference);
    }
    None
}

/// `+ eps` under the root, and a floor of eps before it; the floor first when the argument is a
/// clamp at 0 written in place (`x.clamp(0)` becomes `x.clamp(1e-7)`).
fn root_fixes<'a>(cx: &Checker<'_, 'a>, smell: Node<'a>, arg: Node<'a>) -> Vec<Fix> {
    let model = cx.model;
    let eps = cx.settings.epsilon_literal();
    let name = short(model.text(unparenthesized(arg)));
    let in_call_args = arg.parent().is_some_and(|p| p.kind_name() == "argument_list");
    let plus = if in_call_args {
        format!("{} + {eps}", model.text(unparenthesized(arg)))
    } else {
        edits::plus_eps(model, arg, &eps)
    };
    let plus_fix = edits::replace(arg, plus, None, format!("Add {eps} under the root"), Applicability::Unsafe);
    let library = model.array_library(smell);
    let floor_fix = match zero_bound(model, arg) {
        Some(bound) => Some(Fix {
            title: format!("Clamp `{name}` to at least {eps} instead of 0"),
            applicability: Applicability::Unsafe,
            edits: vec![Edit { start: bound.start_byte(), end: bound.end_byte(), content: eps.clone() }],
            whole: false,
        }),
        None => {
            let prefer = edits::alias_in(model, smell);
            edits::floored(model, arg, library.filter(|l| *l != Library::NumPy), &eps, prefer)
                .filter(|_| library.is_some())
                .map(|(content, import)| {
                    edits::replace(
                        arg,
                        content,
                        import,
                        format!("Clamp `{name}` to at least {eps}"),
                        Applicability::Unsafe,
                    )
                })
        }
    };
    match (floor_fix, zero_bound(model, arg).is_some()) {
        (Some(floor), true) => vec![floor, plus_fix],
        (Some(floor), false) => vec![plus_fix, floor],
        (None, _) => vec![plus_fix],
    }
}

/// The literal 0 lower bound of a clamp written as the argument itself: `x.clamp(0)`,
/// `x.clamp(min=0)`, `torch.clamp(x, min=0.0)`, `tf.maximum(x, 0.0)`, `jnp.maximum(x, 0)`.
fn zero_bound<'a>(model: &Model<'a>, arg: Node<'a>) -> Option<Node<'a>> {
    let call = unparenthesized(arg);
    if call.kind_name() != "call" || has_comment(call) {
        return None;
    }
    let args = Args::of(call);
    let bound = match model.callee(call)? {
        Callee::Method { name: "clamp" | "clamp_" | "clip" | "clamp_min", .. } => args.get(0, &["min"], model.src),
        Callee::Api(api) if matches!(api.as_str(), "torch.clamp" | "torch.clamp_min") => {
            args.get(1, &["min"], model.src)
        }
        Callee::Api(api) if matches!(apis::leaf(&api), "maximum") => {
            args.positional.iter().copied().find(|a| model.constant(*a) == Some(0.0))
        }
        Callee::Api(api) if matches!(api.as_str(), "tensorflow.clip_by_value" | "jax.numpy.clip") => {
            args.get(1, &["clip_value_min", "min", "a_min"], model.src)
        }
        _ => None,
    }?;
    (matches!(bound.kind_name(), "integer" | "float") && model.constant(bound) == Some(0.0)).then_some(bound)
}

/// `jnp.linalg.norm(x)` / `tf.norm(x)` (a 2-norm) → `sqrt(sum(square(x)) + eps)` over the same
/// axis.
fn norm_fix<'a>(cx: &Checker<'_, 'a>, smell: Node<'a>, arg: Node<'a>) -> Option<Fix> {
    let model = cx.model;
    if has_comment(smell) {
        return None;
    }
    let norm = model.reduction(smell);
    let (axis, keepdims, library) = match norm {
        Some(r) if r.reduce == Reduce::Norm && !r.other => {
            if let Some(order) = r.order {
                let text = model.text(order).trim_matches(|c| c == '"' || c == '\'');
                if model.constant(order) != Some(2.0) && text != "euclidean" {
                    return None;
                }
                // `ord=2` over two axes is the spectral norm, the largest singular value, not
                // the root of the sum of squares: JAX's over a matrix without `axis` (TensorFlow
                // reads every element as one vector there), and both over an `axis` pair. A
                // vector's 2-norm needs one integer axis, or TensorFlow's none.
                let vector = match r.axis {
                    Some(a) => model.constant(a).is_some_and(|v| v.fract() == 0.0),
                    None => r.library == Some(Library::TensorFlow),
                };
                if model.constant(order) == Some(2.0) && !vector {
                    return None;
                }
            }
            (r.axis, r.keepdims, r.library?)
        }
        // `tf.math.reduce_euclidean_norm(x, axis, keepdims)`
        _ => {
            let args = Args::of(smell);
            if args.positional.len() + args.keyword.len() > 3 {
                return None;
            }
            let keep = args.get(2, &["keepdims"], model.src);
            (args.get(1, &["axis"], model.src), keep.is_some_and(|k| model.text(k) == "True"), Library::TensorFlow)
        }
    };
    let (sqrt, sum, square) = match library {
        Library::Jax => ("jax.numpy.sqrt", "jax.numpy.sum", "jax.numpy.square"),
        Library::TensorFlow => ("tensorflow.math.sqrt", "tensorflow.math.reduce_sum", "tensorflow.math.square"),
        _ => return None,
    };
    let prefer = smell.child_by_field_id(FIELD.function).and_then(|f| crate::rules::fixes::root_name(model, f));
    let spell = |t: &str| crate::rules::fixes::spell(model, smell, t, prefer);
    let (sqrt, import) = spell(sqrt)?;
    let (sum, _) = spell(sum)?;
    let (square, _) = spell(square)?;
    let eps = cx.settings.epsilon_literal();
    let mut reduce_args = format!("{square}({})", model.text(unparenthesized(arg)));
    if let Some(axis) = axis {
        reduce_args.push_str(&format!(", axis={}", model.text(axis)));
    }
    if keepdims {
        reduce_args.push_str(", keepdims=True");
    }
    let content = format!("{sqrt}({sum}({reduce_args}) + {eps})");
    Some(edits::replace(smell, content.clone(), import, format!("Use `{}`", short(&content)), Applicability::Unsafe))
}
