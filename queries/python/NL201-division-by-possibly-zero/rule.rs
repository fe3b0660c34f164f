//! NL201 division-by-possibly-zero: a division by a value with evidence that it can be exactly
//! 0 (a count of a mask, a `bincount`, a norm, a standard deviation or variance, `max - min`, a literal 0),
//! and its fixes (`divide_no_nan`, a floor, `+ eps`, `normalize`).

use tree_sitter::Node;

use crate::rules::edits::{self, alias_in};
use crate::rules::fixes::{self, Function};
use crate::rules::{Anchor, Captures, Checker, Finding, FixAvailability, Rule};
use crate::semantic::reductions::Reduce;
use crate::semantic::value::{Kind, Library, Op, Origin, Value};
use crate::semantic::{Callee, Model, apis};
use crate::smell::{Applicability, Related};
use crate::syntax::{Args, FIELD, KindName, has_comment, same_expression, short, unparenthesized};

pub const RULE: Rule = Rule {
    code: "NL201",
    name: "division-by-possibly-zero",
    dir: "NL201-division-by-possibly-zero",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &["num", "den"],
    anchors: &[Anchor::Token("/")],
    fix: FixAvailability::Sometimes,
    fixes: "`divide_no_nan` (TensorFlow, Keras); a floor of 1 under a count (then eps under a mask known only by its name), of eps under other values; `+ eps` under a standard deviation; `normalize` for `x / norm(x)` (all unsafe)",
    check,
    // Stable for a masked mean (`sum(x * mask) / sum(mask)`) in training code; every other
    // count, norm, spread or deviation only in preview: few of those findings on real code held
    // up (benches/README.md, "Precision").
    preview: false,
};

fn check<'a>(cx: &Checker<'_, 'a>, captures: &Captures<'a>) -> Vec<Finding> {
    let (Some(smell), Some(den)) = (captures.get("smell"), captures.get("den")) else { return Vec::new() };
    let model = cx.model;
    let num = captures.get("num");
    if den.kind_name() == "comment"
        || num.is_some_and(|n| n.kind_name() == "comment")
        || den.kind_name() == "keyword_argument"
    {
        return Vec::new();
    }
    // Most divisions divide by a literal: nothing to evaluate.
    let bare = unparenthesized(den);
    if matches!(bare.kind_name(), "integer" | "float") && model.constant(bare).is_some_and(|c| c != 0.0) {
        return Vec::new();
    }
    if !is_division(model, smell) {
        return Vec::new();
    }
    let value = model.refine(den, model.value(den));
    let Some(evidence) = evidence(model, &value) else { return Vec::new() };
    // Outside preview mode, only a masked mean.
    let stable = || evidence == Op::Count && masked_mean(model, smell, num, &value);
    if !cx.settings.preview && !stable() {
        return Vec::new();
    }
    // `x[x > 0] / x.sum()`: where the total is 0 no element is selected, so nothing is divided.
    let selected =
        smell.kind_name() == "binary_operator" && num.is_some_and(|n| model.selection_over_its_total(n, den));
    if selected || discarded(model, smell, den) || errors_handled(model, smell) || spread_compared(model, smell, &value)
    {
        return Vec::new();
    }
    let name = short(model.text(den));
    let what = match evidence {
        Op::Count if bins(model, &value) => "a `bincount`, 0 for a bin no value falls in",
        Op::Count => "a count that is 0 when nothing is counted (an empty mask)",
        Op::Norm => "a norm, 0 for an all-zero vector",
        Op::Std => "a standard deviation, 0 for constant input",
        Op::Var => "a variance, 0 for constant input",
        Op::Spread => "`max - min`, 0 for constant input",
        _ => "which can be 0",
    };
    let message = match &value.via {
        Some(via) if via.name != model.text(bare) => {
            format!("Division by `{name}`, which can be 0 (`{}` is {what}): x / 0 = inf and 0 / 0 = NaN", via.name)
        }
        _ if matches!(bare.kind_name(), "integer" | "float") => {
            format!("Division by `{name}`: x / 0 = inf and 0 / 0 = NaN")
        }
        _ => format!("Division by `{name}`, {what}: x / 0 = inf and 0 / 0 = NaN"),
    };
    let related = value.via.as_ref().map(|via| Related {
        span: via.assigned,
        message: format!("`{}` is assigned {} here", via.name, evidence.describe()),
    });
    let fixes = fixes_for(cx, smell, num, den, &value, evidence);
    vec![Finding { span: None, message, fixes, related }]
}

/// The query's method patterns match any `x.div(y)`; keep tensors' (the `#method?` predicate
/// checked the receiver), and `reciprocal()` without arguments.
fn is_division<'a>(model: &Model<'a>, smell: Node<'a>) -> bool {
    if smell.kind_name() != "call" {
        return true;
    }
    match model.callee(smell) {
        Some(Callee::Method { name, .. }) if name.starts_with("reciprocal") => Args::of(smell).is_empty(),
        Some(Callee::Method { .. }) => Args::of(smell).positional.len() == 1,
        _ => true,
    }
}

/// The evidence that a denominator's value can be exactly 0: its producer.
fn evidence<'a>(model: &Model<'a>, value: &Value<'a>) -> Option<Op> {
    if !value.range.contains_zero() {
        return None;
    }
    let op = value.op()?;
    if matches!(op, Op::Constant | Op::Zeros) {
        return (value.range.as_point() == Some(0.0)).then_some(op);
    }
    // A count, norm or spread of configuration (constants, shapes, `arange`) is a fixed number
    // its author sees at once; training-time values are the ones that reach 0 unseen.
    if value.origin == Origin::Config {
        return None;
    }
    // The norm of a value that excludes 0 (`norm(x + 1)` with `x >= 0`) is positive.
    if op == Op::Norm
        && let Some(r) = value.producer.and_then(|p| model.reduction(p.node))
        && !model.value(r.operand).range.contains_zero()
    {
        return None;
    }
    match op {
        Op::Count => {
            // A sum of a mask or of counts (`mask.sum()`, `(x * mask).sum()`); not a sum of
            // probabilities (1) or of clipped weights (interpolation weights, positive where
            // they are used).
            let summed = value.producer.and_then(|p| model.reduction(p.node)).map(|r| model.value(r.operand).op());
            match summed {
                Some(Some(Op::Mask | Op::Count)) | None => Some(Op::Count),
                Some(_) => None,
            }
        }
        Op::Norm | Op::Std | Op::Var | Op::Spread => Some(op),
        _ => None,
    }
}

/// The count is a `bincount`'s: one count per bin, not the size of a mask.
fn bins<'a>(model: &Model<'a>, value: &Value<'a>) -> bool {
    value.producer.as_ref().and_then(|p| model.callee(p.node)).is_some_and(|c| c.leaf() == Some("bincount"))
}

/// The quotient is thrown away where the denominator is 0: a branch of a `where` whose
/// condition excludes it (`where(n > 0, s / n, 0)`, whose gradient is another rule's matter), a
/// `divide(a, d, where=d != 0)`, or `nan_to_num(a / d)`.
fn discarded<'a>(model: &Model<'a>, smell: Node<'a>, den: Node<'a>) -> bool {
    let excludes_zero = |cond: Node<'a>, truth: bool| {
        let mut found = Vec::new();
        model.constraints_of(cond, truth, 0, &mut found);
        found.iter().any(|c| model.is_or_copies(den, c.subject) && !c.range.contains_zero())
    };
    if smell.kind_name() == "call"
        && let Some(cond) = Args::of(smell).keyword(&["where"], model.src)
        && excludes_zero(cond, true)
    {
        return true;
    }
    let mut node = smell;
    loop {
        let Some(parent) = node.parent() else { return false };
        match parent.kind_name() {
            "parenthesized_expression" | "binary_operator" | "unary_operator" => node = parent,
            "argument_list" => {
                let Some(call) = parent.parent() else { return false };
                let leaf = match model.callee(call) {
                    Some(Callee::Api(api)) => apis::leaf(&api).to_string(),
                    _ => return false,
                };
                if leaf == "nan_to_num" {
                    return true;
                }
                if leaf != "where" {
                    return false;
                }
                let args = Args::of(call);
                let [cond, a, b] = args.positional.as_slice() else { return false };
                return (*a == node && excludes_zero(*cond, true)) || (*b == node && excludes_zero(*cond, false));
            }
            _ => return false,
        }
    }
}

/// `hi - lo` where a condition at the division says `hi != lo` (`if hi == lo: return`, `if hi >
/// lo:`).
fn spread_compared<'a>(model: &Model<'a>, smell: Node<'a>, value: &Value<'a>) -> bool {
    let Some(producer) = value.producer.filter(|p| p.op == Op::Spread) else { return false };
    let (Some(hi), Some(lo)) =
        (producer.node.child_by_field_id(FIELD.left), producer.node.child_by_field_id(FIELD.right))
    else {
        return false;
    };
    model.conditions_at(smell).into_iter().any(|(cond, truth)| {
        let cond = unparenthesized(cond);
        if cond.kind_name() != "comparison_operator" || cond.named_child_count() != 2 {
            return false;
        }
        let (Some(a), Some(b)) = (cond.named_child(0), cond.named_child(1)) else { return false };
        let same = |x: Node, y: Node| same_expression(x, y, model.src);
        if !((same(a, hi) && same(b, lo)) || (same(a, lo) && same(b, hi))) {
            return false;
        }
        let mut cursor = cond.walk();
        let op = cond.children_by_field_name("operators", &mut cursor).next().map(|o| o.kind_name());
        matches!((op, truth), (Some("=="), false) | (Some("!=" | ">" | "<"), true))
    })
}

/// The division runs where its author handles a zero denominator: inside `np.errstate(divide=...)`
/// or `np.errstate(invalid=...)`, or a `try` that catches `ZeroDivisionError`.
fn errors_handled<'a>(model: &Model<'a>, smell: Node<'a>) -> bool {
    let chain = model.ancestry(smell);
    let start = chain.iter().rposition(|n| matches!(n.kind_name(), "function_definition" | "lambda")).unwrap_or(0);
    chain[start..].windows(2).any(|pair| {
        let (parent, child) = (pair[0], pair[1]);
        match parent.kind_name() {
            "with_statement" if Some(child) == parent.child_by_field_id(FIELD.body) => {
                let header = &model.src[parent.start_byte()..child.start_byte()];
                header.contains("errstate") && (header.contains("divide") || header.contains("invalid"))
            }
            "try_statement" if Some(child) == parent.child_by_field_id(FIELD.body) => {
                let mut cursor = parent.walk();
                parent.named_children(&mut cursor).filter(|c| c.kind_name() == "except_clause").any(|c| {
                    let header = model.text(c).lines().next().unwrap_or("");
                    ["ZeroDivisionError", "ArithmeticError", "FloatingPointError"].iter().any(|e| header.contains(e))
                })
            }
            _ => false,
        }
    })
}

/// The fixes, preferred first, for the division's library.
/// Reductions that NumPy arrays and PyTorch tensors have as methods and TensorFlow's tensors
/// do not (TensorFlow reduces with functions, `tf.reduce_min`: the `tf.Tensor` API reference
/// lists no `min`, `max`, `sum`, `mean`, `std`, `var` or `prod` method).
const NOT_TENSORFLOW_METHODS: &[&str] = &["min", "max", "sum", "mean", "std", "var", "prod", "amin", "amax"];

/// Whether `node` holds a call of a method TensorFlow's tensors lack ([`NOT_TENSORFLOW_METHODS`]).
fn calls_a_method_tensorflow_lacks<'a>(model: &Model<'a>, node: Node<'a>) -> bool {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind_name() == "call"
            && matches!(model.callee(n), Some(Callee::Method { name, .. }) if NOT_TENSORFLOW_METHODS.contains(&name))
        {
            return true;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    false
}

fn fixes_for<'a>(
    cx: &Checker<'_, 'a>,
    smell: Node<'a>,
    num: Option<Node<'a>>,
    den: Node<'a>,
    value: &Value<'a>,
    evidence: Op,
) -> Vec<crate::smell::Fix> {
    let model = cx.model;
    let eps = cx.settings.epsilon_literal();
    let mut out = Vec::new();
    if matches!(evidence, Op::Constant | Op::Zeros) {
        // A division by a literal 0 is a bug to read, not to patch.
        return out;
    }
    // A Python number: `float(n)`, `n.item()`.
    let scalar = value.kind == Kind::Scalar
        || matches!(model.callee(unparenthesized(den)), Some(Callee::Method { name: "item" | "tolist", .. }));
    let library = match model.callee(smell) {
        Some(Callee::Api(api)) => apis::library_of(&api),
        _ if scalar => None,
        _ => model
            .array_library(smell)
            .or_else(|| model.array_library(den))
            .or_else(|| num.and_then(|n| model.array_library(n)))
            // The file's framework is not the operands': `(x - x.min()) / (x.max() - x.min())`
            // in a file that imports TensorFlow divides NumPy arrays or PyTorch tensors, which
            // a TensorFlow or Keras fix would turn into a `tf.Tensor`.
            .filter(|lib| {
                !matches!(lib, Library::TensorFlow | Library::KerasOps | Library::KerasBackend)
                    || ![Some(den), num].into_iter().flatten().any(|n| calls_a_method_tensorflow_lacks(model, n))
            }),
    };
    // Only the file's imports name the library, and the file imports NumPy too: the operands may
    // be NumPy arrays, on which a PyTorch `.clamp` fails (a newcomer's trial), or tensors,
    // which `np.maximum` turns into arrays. No library's fix then.
    let from_the_code = [Some(smell), Some(den), num].into_iter().flatten().any(|n| model.code_library(n).is_some());
    let library = library.filter(|lib| {
        from_the_code
            || *lib == Library::NumPy
            || !model.imports.bindings().any(|(_, path)| path.split('.').next() == Some("numpy"))
    });
    let prefer = alias_in(model, den).or_else(|| num.and_then(|n| alias_in(model, n)));
    let name = short(model.text(unparenthesized(den)));

    // `x / x.norm(dim=d, keepdim=True)`: the library's normalize over the same axis.
    if evidence == Op::Norm
        && let Some(fix) = normalize(cx, smell, num, den, library, prefer)
    {
        out.push(fix);
    }
    // `divide_no_nan(a, d)`: TensorFlow and Keras.
    if let Some(lib) = library
        && let Some(target) = fixes::function(lib, Function::DivideNoNan)
        && !has_comment(smell)
        && let Some((spelled, import)) = fixes::spell(model, smell, target, prefer)
    {
        let numerator = num.map(|n| model.text(unparenthesized(n)).to_string()).unwrap_or_else(|| "1.0".to_string());
        let call = format!("{spelled}({numerator}, {})", model.text(unparenthesized(den)));
        let (node, content) = match smell.kind_name() {
            "augmented_assignment" => (smell, format!("{numerator} = {call}")),
            _ => (smell, call),
        };
        out.push(edits::replace(
            node,
            content,
            import,
            format!("Use `{}`: 0 where `{name}` is 0", short(&spelled)),
            Applicability::Unsafe,
        ));
    }
    // `+ eps` under a standard deviation or variance.
    if matches!(evidence, Op::Std | Op::Var) {
        out.push(edits::replace(
            den,
            edits::plus_eps(model, den, &eps),
            None,
            format!("Add {eps} to `{name}`"),
            Applicability::Unsafe,
        ));
    }
    // A floor: 1 under a count of a mask, eps under real values.
    let floor = if evidence == Op::Count && counts_a_mask(model, value) { "1".to_string() } else { eps.clone() };
    let floor_library = if scalar { None } else { library };
    // JAX's norm has a NaN gradient at 0 (x / |x| = 0 / 0), which a floor after the norm still
    // multiplies by 0: no floor for it (checked with `jax.grad` in tests/numeric).
    let nan_gradient_norm = evidence == Op::Norm && library == Some(Library::Jax);
    // A mask known by its name alone may hold weights between 0 and 1, whose count a floor of 1
    // would change: eps too, as an alternative, where an integer count takes a float floor
    // (PyTorch, NumPy and JAX promote it; TensorFlow's `maximum` refuses mixed dtypes).
    let mut floors = vec![floor.clone()];
    let promotes = matches!(floor_library, None | Some(Library::Torch | Library::NumPy | Library::Jax));
    if floor == "1" && promotes && mask_by_name(model, value) {
        floors.push(eps.clone());
    }
    for floor in floors {
        if (scalar || library.is_some())
            && !nan_gradient_norm
            && let Some((content, import)) = edits::floored(model, den, floor_library, &floor, prefer)
        {
            out.push(edits::replace(
                den,
                content,
                import,
                format!("Raise `{name}` to at least {floor}"),
                Applicability::Unsafe,
            ));
        }
    }
    out
}

/// The count is of a mask known only by its parameter's name (`mask`, `attention_mask`):
/// nothing says its values are 0 and 1 rather than weights between them (a soft mask), whose
/// count can be above 0 and below 1.
fn mask_by_name<'a>(model: &Model<'a>, value: &Value<'a>) -> bool {
    let Some(producer) = value.producer else { return false };
    let Some(reduction) = model.reduction(producer.node).filter(|r| r.reduce == Reduce::Sum) else { return false };
    model.value(reduction.operand).producer.is_some_and(|p| {
        p.op == Op::Mask
            && (p.node.parent().is_some_and(|n| n.kind_name() == "parameters")
                || p.node.kind_name().ends_with("_parameter"))
    })
}

/// `sum(x * mask) / sum(mask)` in training code (a forward pass or a loss): a mean over the
/// elements a mask selects, 0 / 0 where it selects none. The mask is named one, and is not an
/// attention or padding mask, which by construction keeps at least one token of each sequence.
fn masked_mean<'a>(model: &Model<'a>, smell: Node<'a>, num: Option<Node<'a>>, den: &Value<'a>) -> bool {
    // Summed over some axes (a mean per sample or per row): a sum over the whole batch is 0
    // only when no sample selects anything.
    let mask_of = |reduced: Node<'a>| {
        let r = model.reduction(reduced)?;
        let operand = unparenthesized(r.operand);
        (r.axis.is_some() && (operand.kind_name() == "identifier" || operand.kind_name() == "attribute"))
            .then_some(operand)
    };
    let Some(mask) = den.producer.and_then(|p| mask_of(p.node)) else { return false };
    let mask_value = model.value(mask);
    if mask_value.op() != Some(Op::Mask) {
        return false;
    }
    let name = model.text(mask).to_ascii_lowercase();
    let leaf = name.rsplit('.').next().unwrap_or(&name);
    // Named so, or made from one (`pool_mask = pixel_attention_mask[..., None]`).
    let made_from = mask_value.producer.map(|p| model.text(p.node).to_ascii_lowercase()).unwrap_or_default();
    let sequence_mask = |text: &str| ["attention", "attn", "pad"].iter().any(|w| text.contains(w));
    if !leaf.contains("mask") || sequence_mask(leaf) || sequence_mask(&made_from) {
        return false;
    }
    // The numerator is a reduction of a product with the same mask, written in place or assigned
    // to the name reduced.
    let Some(num) = num else { return false };
    let reduced = model.value(num).producer.and_then(|p| model.reduction(p.node)).map(|r| r.operand);
    let Some(operand) = reduced else { return false };
    let weighted = model.value(operand).producer.map_or(operand, |p| p.node);
    let mask_text = model.text(mask);
    let mentions = |text: &str| {
        text.match_indices(mask_text).any(|(at, _)| {
            let before = text[..at].chars().next_back();
            let after = text[at + mask_text.len()..].chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
        })
    };
    (mentions(model.text(operand)) || mentions(model.text(weighted))) && model.in_training_code(smell)
}

/// A count of a mask, of indicator values or of each value's occurrences (`mask.sum()`,
/// `count_nonzero`, `bincount`): its non-zero values are at least 1, so a floor of 1 changes
/// nothing else.
fn counts_a_mask<'a>(model: &Model<'a>, value: &Value<'a>) -> bool {
    let Some(producer) = value.producer else { return false };
    match model.reduction(producer.node) {
        Some(r) => model.value(r.operand).op() == Some(Op::Mask),
        None => model.callee(producer.node).is_some_and(|c| matches!(c.leaf(), Some("count_nonzero" | "bincount"))),
    }
}

/// `x / x.norm(dim=d, keepdim=True)` (a 2-norm over one axis, kept): `F.normalize(x, dim=d)`,
/// `tf.math.l2_normalize(x, axis=d)`, `keras.ops.normalize(x, axis=d)`.
fn normalize<'a>(
    cx: &Checker<'_, 'a>,
    smell: Node<'a>,
    num: Option<Node<'a>>,
    den: Node<'a>,
    library: Option<Library>,
    prefer: Option<&str>,
) -> Option<crate::smell::Fix> {
    let model = cx.model;
    if smell.kind_name() != "binary_operator" || has_comment(smell) {
        return None;
    }
    let num = num?;
    let norm = model.reduction(den)?;
    if norm.reduce != Reduce::Norm || !norm.keepdims || norm.other || !same_expression(norm.operand, num, model.src) {
        return None;
    }
    let axis = norm.axis?;
    // One axis, an integer.
    model.constant(axis).filter(|a| a.fract() == 0.0)?;
    if let Some(order) = norm.order
        && model.constant(order) != Some(2.0)
    {
        return None;
    }
    // `torch.linalg.norm` with an `ord` is a matrix norm only over two axes; with one axis and
    // no order every listed norm is the 2-norm.
    let lib = library.or(norm.library)?;
    let target = fixes::function(lib, Function::Normalize)?;
    let (spelled, import) = fixes::spell(model, smell, target, prefer)?;
    let keyword = if lib == Library::Torch { "dim" } else { "axis" };
    let content = format!("{spelled}({}, {keyword}={})", model.text(unparenthesized(num)), model.text(axis));
    Some(edits::replace(smell, content.clone(), import, format!("Use `{}`", short(&content)), Applicability::Unsafe))
}
