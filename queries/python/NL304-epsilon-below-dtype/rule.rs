//! NL304 epsilon-below-dtype: a small positive constant that rounds to 0 in the dtype of the
//! array it meets (`x.half() + 1e-10`, Adam's `eps=1e-8` on float16 parameters, `F.normalize`'s
//! `eps=1e-12` on a float16 tensor), or that is absorbed by the constant it is added to before it
//! meets the array (`1 + 1e-10 - p` in float32).

use tree_sitter::Node;

use crate::rules::{Anchor, Captures, Checker, Finding, FixAvailability, Rule, SMALL_FLOAT, fixes};
use crate::semantic::dtype::{DtypeAt, absorbed, round_to, rounds_to_zero};
use crate::semantic::value::{Dtype, Library};
use crate::semantic::{Callee, Model, apis};
use crate::smell::{Applicability, Edit, Fix};
use crate::syntax::{Args, FIELD, KindName, short, unparenthesized};

pub const RULE: Rule = Rule {
    code: "NL304",
    name: "epsilon-below-dtype",
    dir: "NL304-epsilon-below-dtype",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &[],
    anchors: &[Anchor::SmallFloat],
    fix: FixAvailability::Sometimes,
    fixes: "an epsilon the dtype represents, or the epsilon added after the subtraction (unsafe)",
    check,
    preview: false,
};

/// PyTorch optimizers with an `eps`: its default and position.
const OPTIMIZERS: &[(&str, f64, usize)] = &[
    ("torch.optim.Adam", 1e-8, 3),
    ("torch.optim.AdamW", 1e-8, 3),
    ("torch.optim.Adamax", 1e-8, 3),
    ("torch.optim.NAdam", 1e-8, 3),
    ("torch.optim.RAdam", 1e-8, 3),
    ("torch.optim.SparseAdam", 1e-8, 3),
    ("torch.optim.RMSprop", 1e-8, 3),
    ("torch.optim.Adagrad", 1e-10, 5),
];

/// Normalizations with an epsilon floor: name, keyword, position, default.
const NORMALIZE: &[(&str, &str, usize, f64)] = &[
    ("torch.nn.functional.normalize", "eps", 3, 1e-12),
    ("tensorflow.math.l2_normalize", "epsilon", 2, 1e-12),
    ("tensorflow.linalg.l2_normalize", "epsilon", 2, 1e-12),
];

/// Clips and their (input, lower, upper) positions and keywords.
struct Clip {
    name: &'static str,
    method: bool,
    input: (usize, &'static [&'static str]),
    lower: (usize, &'static [&'static str]),
    upper: (usize, &'static [&'static str]),
}

const CLIPS: &[Clip] = &[
    Clip { name: "torch.clamp", method: false, input: (0, &["input"]), lower: (1, &["min"]), upper: (2, &["max"]) },
    Clip {
        name: "torch.clamp_min",
        method: false,
        input: (0, &["input"]),
        lower: (1, &["min"]),
        upper: (usize::MAX, &[]),
    },
    Clip {
        name: "numpy.clip",
        method: false,
        input: (0, &["a"]),
        lower: (1, &["a_min", "min"]),
        upper: (2, &["a_max", "max"]),
    },
    Clip {
        name: "jax.numpy.clip",
        method: false,
        input: (0, &["a", "x"]),
        lower: (1, &["a_min", "min"]),
        upper: (2, &["a_max", "max"]),
    },
    Clip {
        name: "tensorflow.clip_by_value",
        method: false,
        input: (0, &["t"]),
        lower: (1, &["clip_value_min"]),
        upper: (2, &["clip_value_max"]),
    },
    Clip { name: "keras.ops.clip", method: false, input: (0, &["x"]), lower: (1, &["x_min"]), upper: (2, &["x_max"]) },
    Clip {
        name: "keras.backend.clip",
        method: false,
        input: (0, &["x"]),
        lower: (1, &["min_value"]),
        upper: (2, &["max_value"]),
    },
    Clip { name: "numpy.maximum", method: false, input: (0, &[]), lower: (1, &[]), upper: (usize::MAX, &[]) },
    Clip { name: "torch.maximum", method: false, input: (0, &[]), lower: (1, &[]), upper: (usize::MAX, &[]) },
    Clip { name: "tensorflow.math.maximum", method: false, input: (0, &[]), lower: (1, &[]), upper: (usize::MAX, &[]) },
    Clip { name: "jax.numpy.maximum", method: false, input: (0, &[]), lower: (1, &[]), upper: (usize::MAX, &[]) },
    Clip { name: "clamp", method: true, input: (usize::MAX, &[]), lower: (0, &["min"]), upper: (1, &["max"]) },
    Clip {
        name: "clip",
        method: true,
        input: (usize::MAX, &[]),
        lower: (0, &["min", "a_min"]),
        upper: (1, &["max", "a_max"]),
    },
    Clip { name: "clamp_min", method: true, input: (usize::MAX, &[]), lower: (0, &["min"]), upper: (usize::MAX, &[]) },
];

fn check<'a>(cx: &Checker<'_, 'a>, captures: &Captures<'a>) -> Vec<Finding> {
    let Some(node) = captures.get("smell") else { return Vec::new() };
    let model = cx.model;
    let found = match node.kind_name() {
        "float" => literal(model, node, cx.settings.preview),
        "call" => match model.callee(node) {
            Some(Callee::Api(api)) => {
                if let Some((name, default, position)) = OPTIMIZERS.iter().find(|o| o.0 == api) {
                    optimizer_default(model, node, name, *default, *position)
                } else if let Some((name, keyword, position, default)) = NORMALIZE.iter().find(|n| n.0 == api) {
                    normalize_default(model, node, name, keyword, *position, *default)
                } else {
                    None
                }
            }
            _ => None,
        },
        _ => None,
    };
    found.into_iter().collect()
}

/// The literal's meeting with an array: an optimizer's or a normalization's epsilon, a clip
/// bound, a term of a sum with an array, or a term of a constant sum that then meets one.
fn literal<'a>(model: &Model<'a>, lit: Node<'a>, preview: bool) -> Option<Finding> {
    let v = model.constant(lit)?;
    if !(v > 0.0 && v < SMALL_FLOAT) {
        return None;
    }
    let mut node = lit;
    while let Some(p) = node.parent().filter(|p| p.kind_name() == "parenthesized_expression") {
        node = p;
    }
    let parent = node.parent()?;
    match parent.kind_name() {
        "keyword_argument" | "argument_list" => {
            let list = if parent.kind_name() == "keyword_argument" { parent.parent()? } else { parent };
            let call = list.parent().filter(|c| c.kind_name() == "call")?;
            argument(model, lit, v, call)
        }
        "binary_operator" => {
            let op = parent.child_by_field_id(FIELD.operator)?.kind_name();
            if !matches!(op, "+" | "-") {
                return None;
            }
            let (l, r) = (parent.child_by_field_id(FIELD.left)?, parent.child_by_field_id(FIELD.right)?);
            let other = if l == node { r } else { l };
            if model.constant(other).is_some() {
                return absorbed_in_sum(model, lit, v, parent, other, preview);
            }
            let d = model.dtype_of(other)?;
            if !rounds_to_zero(v, d.dtype) {
                return None;
            }
            Some(underflow(model, lit, v, &d, &format!("`{}`", short(model.text(other)))))
        }
        _ => None,
    }
}

/// The literal is an argument of `call`.
fn argument<'a>(model: &Model<'a>, lit: Node<'a>, v: f64, call: Node<'a>) -> Option<Finding> {
    let args = Args::of(call);
    let is = |position: usize, keywords: &[&str]| {
        args.get(position, keywords, model.src).is_some_and(|a| unparenthesized(a) == lit || contains(a, lit))
    };
    match model.callee(call)? {
        Callee::Api(api) => {
            if let Some((name, _, position)) = OPTIMIZERS.iter().find(|o| o.0 == api) {
                if !is(*position, &["eps"]) {
                    return None;
                }
                let (d, module) = parameters_dtype(model, call)?;
                if !rounds_to_zero(v, d.dtype) || fused(model, &args) {
                    return None;
                }
                let message = format!(
                    "`eps={}` rounds to 0 in {}, the dtype of `{}`'s parameters ({}): `{}` divides by sqrt(v) + eps, which is 0 wherever a gradient has been 0",
                    model.text(lit),
                    d.dtype.name(),
                    short(model.text(module)),
                    d.why,
                    apis::leaf(name)
                );
                return Some(with_replacement(model, lit, d.dtype, message));
            }
            if let Some((name, keyword, position, _)) = NORMALIZE.iter().find(|n| n.0 == api) {
                if !is(*position, &[keyword]) {
                    return None;
                }
                let input = args.get(0, &["input", "x"], model.src)?;
                let d = model.dtype_of(input).filter(|d| d.stated)?;
                if !rounds_to_zero(v, d.dtype) || model.in_autocast(call) {
                    return None;
                }
                let message = format!(
                    "`{keyword}={}` rounds to 0 in {} ({}): `{}` of a zero vector is 0 / 0 = NaN",
                    model.text(lit),
                    d.dtype.name(),
                    d.why,
                    apis::leaf(name)
                );
                return Some(with_replacement(model, lit, d.dtype, message));
            }
            let clip = CLIPS.iter().find(|c| !c.method && c.name == api)?;
            clip_bound(model, lit, v, call, &args, clip, None)
        }
        Callee::Method { name, receiver } => {
            let clip = CLIPS.iter().find(|c| c.method && c.name == name)?;
            clip_bound(model, lit, v, call, &args, clip, Some(receiver))
        }
        _ => None,
    }
}

/// A lower bound of a clip that rounds to 0 in the input's dtype.
fn clip_bound<'a>(
    model: &Model<'a>,
    lit: Node<'a>,
    v: f64,
    call: Node<'a>,
    args: &Args<'a>,
    clip: &Clip,
    receiver: Option<Node<'a>>,
) -> Option<Finding> {
    let lower = args.get(clip.lower.0, clip.lower.1, model.src)?;
    if unparenthesized(lower) != lit {
        return None;
    }
    let input = match receiver {
        Some(r) => r,
        None => args.get(clip.input.0, clip.input.1, model.src)?,
    };
    let d = model.dtype_of(input)?;
    if !rounds_to_zero(v, d.dtype) {
        return None;
    }
    let _ = call;
    Some(underflow(model, lit, v, &d, &format!("`{}`", short(model.text(input)))))
}

/// `x + 1e-10` where `x` is float16: the constant is 0 there.
fn underflow(model: &Model, lit: Node, v: f64, d: &DtypeAt, meets: &str) -> Finding {
    let message = format!(
        "`{}` rounds to 0 in {}, the dtype of {meets} ({}): the smallest positive {} is {:.3e}, so this guard adds nothing",
        model.text(lit),
        d.dtype.name(),
        d.why,
        d.dtype.name(),
        smallest(d.dtype)
    );
    let _ = v;
    with_replacement(model, lit, d.dtype, message)
}

fn smallest(d: Dtype) -> f64 {
    match d {
        Dtype::F16 => 2f64.powi(-24),
        Dtype::BF16 => 2f64.powi(-133),
        Dtype::F32 => 2f64.powi(-149),
        _ => 5e-324,
    }
}

/// A finding whose fix replaces the literal with one the dtype represents as a normal number.
fn with_replacement(model: &Model, lit: Node, dtype: Dtype, message: String) -> Finding {
    let replacement = match dtype {
        Dtype::F16 => Some("1e-4"),
        _ => None,
    };
    let fixes = replacement
        .map(|r| Fix {
            title: format!("Use `{r}`, a normal {} number", dtype.name()),
            applicability: Applicability::Unsafe,
            edits: vec![Edit { start: lit.start_byte(), end: lit.end_byte(), content: r.to_string() }],
            whole: false,
        })
        .into_iter()
        .collect();
    let _ = model;
    Finding { span: None, message, fixes, related: None }
}

/// `A + 1e-10` (a constant sum) that then meets an array: in the array's dtype the sum is `A`.
fn absorbed_in_sum<'a>(
    model: &Model<'a>,
    lit: Node<'a>,
    v: f64,
    sum: Node<'a>,
    other: Node<'a>,
    preview: bool,
) -> Option<Finding> {
    let a = model.constant(other)?;
    let op = sum.child_by_field_id(FIELD.operator)?.kind_name();
    let lit_right = sum.child_by_field_id(FIELD.right).is_some_and(|r| unparenthesized(r) == lit);
    let b = if op == "-" && lit_right { -v } else { v };
    if op == "-" && !lit_right {
        // `1e-10 - 1`: not a guard.
        return None;
    }
    let mut up = sum;
    while let Some(p) = up.parent().filter(|p| p.kind_name() == "parenthesized_expression") {
        up = p;
    }
    let outer = up.parent()?;
    let sum_text = model.text(sum).to_string();
    match outer.kind_name() {
        "binary_operator" if matches!(outer.child_by_field_id(FIELD.operator)?.kind_name(), "+" | "-") => {
            let (l, r) = (outer.child_by_field_id(FIELD.left)?, outer.child_by_field_id(FIELD.right)?);
            if l != up {
                return None;
            }
            let array = r;
            let d = array_dtype(model, array, outer)?;
            if !absorbed(a, b, d.dtype) {
                return None;
            }
            let outer_op = outer.child_by_field_id(FIELD.operator)?.kind_name();
            let message = format!(
                "`{}` is absorbed: `{sum_text}` rounds to {} in {} ({}), so `{}` gets no guard from it",
                model.text(lit),
                crate::rules::message_number(round_to(a + b, d.dtype)),
                d.dtype.name(),
                d.why,
                short(model.text(outer))
            );
            // `1 + 1e-10 - p` → `1 - p + 1e-10`.
            let sign = if b < 0.0 { "-" } else { "+" };
            let content = format!("{} {outer_op} {} {sign} {}", model.text(other), model.text(array), model.text(lit));
            let fix = (!crate::syntax::has_comment(outer)).then(|| Fix {
                title: format!(
                    "Add `{}` after the {}: `{}`",
                    model.text(lit),
                    if outer_op == "-" { "subtraction" } else { "sum" },
                    short(&content)
                ),
                applicability: Applicability::Unsafe,
                edits: vec![Edit { start: outer.start_byte(), end: outer.end_byte(), content }],
                whole: false,
            });
            Some(Finding { span: None, message, fixes: fix.into_iter().collect(), related: None })
        }
        "argument_list" | "keyword_argument" => {
            // An upper clip bound: `clip(p, 1e-10, 1 - 1e-10)`.
            let list = if outer.kind_name() == "keyword_argument" { outer.parent()? } else { outer };
            let call = list.parent().filter(|c| c.kind_name() == "call")?;
            let args = Args::of(call);
            let (clip, receiver) = match model.callee(call)? {
                Callee::Api(api) => (CLIPS.iter().find(|c| !c.method && c.name == api)?, None),
                Callee::Method { name, receiver } => {
                    (CLIPS.iter().find(|c| c.method && c.name == name)?, Some(receiver))
                }
                _ => return None,
            };
            let upper = args.get(clip.upper.0, clip.upper.1, model.src)?;
            if unparenthesized(upper) != sum {
                return None;
            }
            let input = match receiver {
                Some(r) => r,
                None => args.get(clip.input.0, clip.input.1, model.src)?,
            };
            let d = array_dtype(model, input, call)?;
            if !absorbed(a, b, d.dtype) {
                return None;
            }
            // Preview only: a bound below 1 that nothing needs, the clipped value's complement
            // taken nowhere the function shows.
            if !preview && a == 1.0 && !complement_taken(model, call) {
                return None;
            }
            let message = format!(
                "`{sum_text}` rounds to {} in {} ({}): the clip does not keep `{}` below {}",
                crate::rules::message_number(round_to(a + b, d.dtype)),
                d.dtype.name(),
                d.why,
                short(model.text(input)),
                crate::rules::message_number(a)
            );
            let survives = match d.dtype {
                Dtype::F32 => "1e-7",
                Dtype::F16 => "1e-3",
                Dtype::BF16 => "1e-2",
                _ => return Some(Finding { span: None, message, fixes: Vec::new(), related: None }),
            };
            let fix = Fix {
                title: format!("Use `{survives}`, which `{}` keeps in {}", model.text(other), d.dtype.name()),
                applicability: Applicability::Unsafe,
                edits: vec![Edit { start: lit.start_byte(), end: lit.end_byte(), content: survives.to_string() }],
                whole: false,
            };
            Some(Finding { span: None, message, fixes: vec![fix], related: None })
        }
        _ => None,
    }
}

/// Whether the code takes the complement of the value `clip` returns, which the bound below 1
/// was to keep above 0: `1 - v` (so `log(1 - v)`, `v / (1 - v)`) or `log1p(-v)`, of the call
/// itself or of the name it is assigned to, where that assignment reaches.
fn complement_taken<'a>(model: &Model<'a>, clip: Node<'a>) -> bool {
    let mut node = clip;
    while let Some(p) = model.parent(node).filter(|p| p.kind_name() == "parenthesized_expression") {
        node = p;
    }
    let uses = match model.parent(node) {
        Some(a) if a.kind_name() == "assignment" && a.child_by_field_id(FIELD.right) == Some(node) => {
            crate::rules::probs::reached_uses(model, a).unwrap_or_default()
        }
        _ => vec![node],
    };
    uses.into_iter().any(|u| {
        let mut u = u;
        while let Some(p) = model.parent(u).filter(|p| p.kind_name() == "parenthesized_expression") {
            u = p;
        }
        let Some(parent) = model.parent(u) else { return false };
        match parent.kind_name() {
            "binary_operator" => {
                parent.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "-")
                    && parent.child_by_field_id(FIELD.right) == Some(u)
                    && parent.child_by_field_id(FIELD.left).and_then(|l| model.constant(l)) == Some(1.0)
            }
            "unary_operator" => {
                parent.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "-")
                    && model
                        .parent(parent)
                        .filter(|l| l.kind_name() == "argument_list")
                        .and_then(|l| model.parent(l))
                        .and_then(|c| model.callee(c))
                        .is_some_and(|c| matches!(c, Callee::Api(api) if apis::leaf(&api) == "log1p"))
            }
            _ => false,
        }
    })
}

/// The dtype an array operand has; a PyTorch call or tensor method around `context` says the
/// operand is a PyTorch tensor (NumPy arrays have no `.log()`, and `torch.log` takes no NumPy
/// array), so float32 by default.
fn array_dtype<'a>(model: &Model<'a>, array: Node<'a>, context: Node<'a>) -> Option<DtypeAt> {
    if let Some(d) = model.dtype_of(array) {
        return Some(d);
    }
    let mut node = context;
    while let Some(p) = node.parent().filter(|p| p.kind_name() == "parenthesized_expression") {
        node = p;
    }
    let parent = node.parent()?;
    let torch = match parent.kind_name() {
        "argument_list" => parent.parent().is_some_and(|call| {
            matches!(model.callee(call), Some(Callee::Api(api)) if apis::library_of(&api) == Some(Library::Torch))
        }),
        "attribute" => {
            parent.child_by_field_id(FIELD.attribute).is_some_and(|a| {
                matches!(model.text(a), "log" | "log2" | "log10" | "clamp" | "clamp_min" | "sqrt" | "rsqrt" | "reciprocal")
            }) && parent.parent().is_some_and(|c| c.kind_name() == "call")
        }
        _ => false,
    };
    if !torch {
        return None;
    }
    let dtype = model.precision().torch_default.unwrap_or(Dtype::F32);
    Some(DtypeAt { dtype, stated: false, why: format!("{} by default in PyTorch", dtype.name()) })
}

fn contains(outer: Node, inner: Node) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}

/// `fused=True`: the fused kernels compute in float32 whatever the parameters' dtype.
fn fused(model: &Model, args: &Args) -> bool {
    args.keyword(&["fused"], model.src).is_some_and(|f| model.text(f) == "True")
}

/// The dtype of the parameters an optimizer is given (`model.parameters()`, directly or through
/// a name, a list or param groups), and the module they belong to.
fn parameters_dtype<'a>(model: &Model<'a>, call: Node<'a>) -> Option<(DtypeAt, Node<'a>)> {
    let params = Args::of(call).get(0, &["params"], model.src)?;
    let module = parameters_receiver(model, params, 0)?;
    let d = model.module_dtype(module, call)?;
    (d.dtype == Dtype::F16 || d.dtype == Dtype::BF16).then_some((d, module))
}

fn parameters_receiver<'a>(model: &Model<'a>, node: Node<'a>, depth: u32) -> Option<Node<'a>> {
    if depth > 3 {
        return None;
    }
    let node = unparenthesized(node);
    if node.kind_name() == "identifier" {
        return parameters_receiver(model, model.local_binding(node)?, depth + 1);
    }
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind_name() == "call"
            && let Some(f) = n.child_by_field_id(FIELD.function)
            && f.kind_name() == "attribute"
            && f.child_by_field_id(FIELD.attribute)
                .is_some_and(|a| matches!(model.text(a), "parameters" | "named_parameters"))
        {
            return f.child_by_field_id(FIELD.object);
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    None
}

/// An optimizer built without `eps` on float16 parameters: its default rounds to 0.
fn optimizer_default<'a>(
    model: &Model<'a>,
    call: Node<'a>,
    name: &str,
    default: f64,
    position: usize,
) -> Option<Finding> {
    let args = Args::of(call);
    if args.get(position, &["eps"], model.src).is_some() || args.splat || fused(model, &args) {
        return None;
    }
    let (d, module) = parameters_dtype(model, call)?;
    if !rounds_to_zero(default, d.dtype) {
        return None;
    }
    let leaf = apis::leaf(name);
    let message = format!(
        "`{leaf}`'s default `eps={default:e}` rounds to 0 in {}, the dtype of `{}`'s parameters ({}): it divides by sqrt(v) + eps, which is 0 wherever a gradient has been 0",
        d.dtype.name(),
        short(model.text(module)),
        d.why
    );
    let fixes =
        fixes::add_keyword(model.src, call, "eps=1e-4", format!("Pass `eps=1e-4`, a normal {} number", d.dtype.name()));
    Some(Finding { span: None, message, fixes: fixes.into_iter().collect(), related: None })
}

/// A normalization of a float16 tensor with its default epsilon.
fn normalize_default<'a>(
    model: &Model<'a>,
    call: Node<'a>,
    name: &str,
    keyword: &str,
    position: usize,
    default: f64,
) -> Option<Finding> {
    let args = Args::of(call);
    if args.get(position, &[keyword], model.src).is_some() || args.splat || model.in_autocast(call) {
        return None;
    }
    let input = args.get(0, &["input", "x"], model.src)?;
    let d = model.dtype_of(input).filter(|d| d.stated)?;
    if !rounds_to_zero(default, d.dtype) {
        return None;
    }
    let message = format!(
        "`{}`'s default `{keyword}={default:e}` rounds to 0 in {} ({}): a zero vector gives 0 / 0 = NaN",
        apis::leaf(name),
        d.dtype.name(),
        d.why
    );
    let fixes = fixes::add_keyword(
        model.src,
        call,
        &format!("{keyword}=1e-4"),
        format!("Pass `{keyword}=1e-4`, a normal {} number", d.dtype.name()),
    );
    Some(Finding { span: None, message, fixes: fixes.into_iter().collect(), related: None })
}
