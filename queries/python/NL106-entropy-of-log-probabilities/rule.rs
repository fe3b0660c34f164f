//! NL106 entropy-of-log-probabilities: `exp(logp) * logp` with `logp` log-probabilities
//! (`log_softmax`), and `p * log(p)` with `p` a softmax output. Fixes: PyTorch's
//! `Categorical(logits=z).entropy()` where the sum is over the softmax's last axis, `logp`
//! raised to its dtype's least finite value (`exp(logp) * logp`), and `xlogy(p, p)`.

use tree_sitter::Node;

use crate::rules::probs::{self, Chain, Family, Reduce, Source, axis_value, climb, wrap};
use crate::rules::{Captures, Checker, Finding, FixAvailability, Rule, fixes};
use crate::semantic::value::{Library, Op, Prob};
use crate::semantic::{Callee, Model, apis};
use crate::smell::{Applicability, Edit, Fix, Related};
use crate::syntax::{Args, FIELD, KindName, Span, has_comment, same_expression, short};

pub const RULE: Rule = Rule {
    code: "NL106",
    name: "entropy-of-log-probabilities",
    dir: "NL106-entropy-of-log-probabilities",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &["arg"],
    anchors: &[],
    fix: FixAvailability::Sometimes,
    fixes: "PyTorch's `Categorical(logits=z).entropy()` where it keeps the axis, else `logp` raised to its dtype's least finite value or `xlogy(p, p)` (all unsafe)",
    check,
    preview: false,
};

/// Exponentials, by canonical name.
const EXPS: &[&str] =
    &["tensorflow.math.exp", "keras.ops.exp", "keras.backend.exp", "torch.exp", "numpy.exp", "jax.numpy.exp"];

fn check<'a>(cx: &Checker<'_, 'a>, captures: &Captures<'a>) -> Vec<Finding> {
    let model = cx.model;
    let Some(call) = captures.get("smell") else { return Vec::new() };
    let Some(arg) = captures.get("arg") else { return Vec::new() };
    if let Some((log_arg, library)) = probs::natural_log(model, call) {
        if log_arg != arg {
            return Vec::new();
        }
        return of_log(model, call, arg, library);
    }
    let library = match model.callee(call) {
        Some(Callee::Api(api)) if EXPS.contains(&api.as_str()) => {
            let args = Args::of(call);
            if args.positional.len() + args.keyword.len() != 1 || args.positional.first() != Some(&arg) {
                return Vec::new();
            }
            apis::library_of(&api)
        }
        Some(Callee::Method { name: "exp", receiver }) if receiver == arg && Args::of(call).is_empty() => {
            match model.value(receiver).kind {
                crate::semantic::value::Kind::Array(lib) => Some(lib),
                _ => None,
            }
        }
        _ => return Vec::new(),
    };
    of_exp(model, call, arg, library)
}

/// `p * log(p)` with `p` a softmax output.
fn of_log<'a>(model: &Model<'a>, log: Node<'a>, p: Node<'a>, library: Option<Library>) -> Vec<Finding> {
    let value = model.value(p);
    if value.op() != Some(Op::Softmax) || !value.range.contains_zero() {
        return Vec::new();
    }
    // The -inf is discarded or replaced after the log (see NL101).
    if probs::minus_inf_discarded(model, log, p) {
        return Vec::new();
    }
    let Some((product, other)) = probs::product_of(model, log) else { return Vec::new() };
    if !same_expression(other, p, model.src) || probs::nan_discarded(model, product) {
        return Vec::new();
    }
    let source = probs::source(model, p).filter(|s| s.prob == Prob::Softmax && !s.log);
    let message = format!(
        "Entropy written as `p * log(p)` of {}: softmax underflows to 0, and 0 * log(0) = 0 * -inf = NaN",
        match (&source, model.value(p).producer.and_then(|v| model.zero_factor(v.node))) {
            // `w * p * log(w * p)`: 0 where the softmax output is.
            (_, Some(f)) =>
                format!("`{}`, 0 where the softmax output `{}` is", short(model.text(p)), short(model.text(f))),
            (Some(s), None) if s.assignment.is_some() => format!("`{}`, a softmax output", short(model.text(p))),
            _ => "a softmax output".to_string(),
        }
    );
    let chain = climb(model, product);
    let mut fixes = Vec::new();
    if let Some(source) = &source
        && let Some(fix) = categorical_entropy(model, source, &chain)
    {
        fixes.push(fix);
    }
    let alias = match model.callee(log) {
        Some(Callee::Method { .. }) => None,
        _ => log.child_by_field_id(FIELD.function).and_then(|f| fixes::root_name(model, f)),
    };
    if let Some(library) = library.or_else(|| source.as_ref().map(|s| s.family.library()))
        && !has_comment(product)
        && let Some(fix) = probs::xlogy(model, product, other, p, library, alias)
    {
        fixes.push(fix);
    }
    let related = related(model, &source, p, "a softmax output");
    vec![Finding { span: Some(Span::of(chain.top)), message, fixes, related }]
}

/// `exp(logp) * logp` with `logp` log-probabilities.
fn of_exp<'a>(model: &Model<'a>, exp: Node<'a>, logp: Node<'a>, library: Option<Library>) -> Vec<Finding> {
    if model.value(logp).op() != Some(Op::LogSoftmax) {
        return Vec::new();
    }
    let source = probs::source(model, logp).filter(|s| s.prob == Prob::Softmax && s.log);
    let name = short(model.text(logp));
    // `exp(logp) * logp`, or `p = exp(logp)` ... `p * logp` (the product of the name).
    let (products, written) = match probs::product_of(model, exp) {
        Some((product, other)) if same_expression(other, logp, model.src) => {
            (vec![(product, exp)], format!("`exp({name}) * {name}`"))
        }
        Some(_) => return Vec::new(),
        None => {
            let found = products_of_name(model, exp, logp);
            let Some(&(_, p)) = found.first() else { return Vec::new() };
            let p = model.text(p);
            (found, format!("`{p} * {name}` with `{p} = exp({name})`"))
        }
    };
    let message = format!(
        "Entropy written as {written} of log-probabilities: where a probability underflows or is masked, the log-probability is -inf and 0 * -inf = NaN"
    );
    let related = related(model, &source, logp, "log-probabilities");
    let library = library.or_else(|| source.as_ref().map(|s| s.family.library()));
    let mut out = Vec::new();
    for (product, p) in products {
        if probs::nan_discarded(model, product) {
            continue;
        }
        let chain = climb(model, product);
        let mut fixes = Vec::new();
        if let Some(source) = &source
            && let Some(fix) = categorical_entropy(model, source, &chain)
        {
            fixes.push(fix);
        }
        // `p * max(logp, finfo.min)` with `p = exp(logp)`: 0 where the probability is 0, with
        // a finite gradient (xlogy's divides by the 0); else `xlogy(p, p)`.
        if let Some(library) = library
            && !has_comment(product)
        {
            let alias = match model.callee(exp) {
                Some(Callee::Method { .. }) => None,
                _ => exp.child_by_field_id(FIELD.function).and_then(|f| fixes::root_name(model, f)),
            };
            if let Some(fix) = clamped(model, product, p, library, alias) {
                fixes.push(fix);
            } else if let Some(function) = fixes::function(library, fixes::Function::Xlogy)
                && let Some((spelled, _)) = fixes::spell(model, product, function, alias)
            {
                let text = model.text(p);
                let args = format!("{text}, {text}");
                let title = format!("Use `{spelled}(p, p)` with `p = {}`", short(model.text(exp)));
                fixes.extend(fixes::replace_with_call(
                    model,
                    product,
                    function,
                    alias,
                    &args,
                    title,
                    Applicability::Unsafe,
                ));
            }
        }
        out.push(Finding {
            span: Some(Span::of(chain.top)),
            message: message.clone(),
            fixes,
            related: related.clone(),
        });
    }
    out
}

/// `p * logp` (`p = exp(logp)`, `logp` a name or attribute) with `logp` raised to its dtype's
/// least finite value: `torch.clamp(logp, torch.finfo(logp.dtype).min)`,
/// `tf.math.maximum(logp, logp.dtype.min)`, `np.maximum(logp, np.finfo(logp.dtype).min)`,
/// `jnp.maximum(logp, jnp.finfo(logp.dtype).min)`, as `Categorical.entropy` clamps its logits.
/// Only a `-inf` changes (to the least finite value), so the product is 0 there instead of NaN
/// and its gradient 0 too. `None` for Keras (no `finfo`) and a `logp` that is a call.
fn clamped<'a>(
    model: &Model<'a>,
    product: Node<'a>,
    p: Node<'a>,
    library: Library,
    alias: Option<&str>,
) -> Option<Fix> {
    let finfo = match library {
        Library::Torch => Some("torch.finfo"),
        Library::NumPy => Some("numpy.finfo"),
        Library::Jax => Some("jax.numpy.finfo"),
        Library::TensorFlow => None,
        Library::KerasOps | Library::KerasBackend => return None,
    };
    let maximum = fixes::function(library, fixes::Function::Maximum)?;
    let operand = [FIELD.left, FIELD.right]
        .into_iter()
        .filter_map(|f| product.child_by_field_id(f))
        .find(|o| o.byte_range() != p.byte_range())?;
    if !matches!(operand.kind_name(), "identifier" | "attribute") {
        return None;
    }
    let logp = model.text(operand);
    let (spelled, import) = fixes::spell(model, product, maximum, alias)?;
    let mut edits: Vec<Edit> = import.into_iter().collect();
    let least = match finfo {
        Some(finfo) => {
            let (finfo, import) = fixes::spell(model, product, finfo, alias)?;
            edits.extend(import.filter(|i| !edits.contains(i)));
            format!("{finfo}({logp}.dtype).min")
        }
        None => format!("{logp}.dtype.min"),
    };
    let title = format!("Raise `{}` to its dtype's least finite value: `{spelled}({}, ...)`", short(logp), short(logp));
    edits.push(Edit {
        start: operand.start_byte(),
        end: operand.end_byte(),
        content: format!("{spelled}({logp}, {least})"),
    });
    Some(Fix { title, applicability: Applicability::Unsafe, edits, whole: false })
}

/// `p = exp(logp)` ... `p * logp`: the products, in the scope of the assignment, of the name
/// bound to the exponential `exp` (where that binding alone reaches it) with `logp` read again
/// (the same bindings reach it), each with its use of the name.
fn products_of_name<'a>(model: &Model<'a>, exp: Node<'a>, logp: Node<'a>) -> Vec<(Node<'a>, Node<'a>)> {
    let Some(assignment) = model.parent(exp).filter(|a| a.kind_name() == "assignment") else { return Vec::new() };
    let Some(left) = assignment.child_by_field_id(FIELD.left).filter(|l| l.kind_name() == "identifier") else {
        return Vec::new();
    };
    if assignment.child_by_field_id(FIELD.right) != Some(exp) {
        return Vec::new();
    }
    let name = model.text(left);
    let scope = model.scope_of(exp);
    let mut found = Vec::new();
    crate::syntax::visit(scope, |node| {
        if node.kind_name() == "identifier"
            && node.start_byte() > assignment.end_byte()
            && model.text(node) == name
            && model.assigned_value(node).is_some_and(|(_, value)| value == exp)
            && let Some((product, other)) = probs::product_of(model, node)
            && same_expression(other, logp, model.src)
            && model.same_value_at(logp, other)
            // A loop around the product that binds `p` or `logp` again: on its next pass they
            // are no longer `exp(logp)` and `logp`.
            && !model.rebound_in_a_loop(node, assignment, product)
            && !model.rebound_in_a_loop(other, assignment, product)
        {
            found.push((product, node));
        }
        node == scope || !crate::syntax::is_scope(node.kind_name())
    });
    found
}

fn related<'a>(model: &Model<'a>, source: &Option<Source<'a>>, arg: Node<'a>, what: &str) -> Option<Related> {
    let assignment = source.as_ref()?.assignment?;
    Some(Related { span: Span::of(assignment), message: format!("`{}` is assigned {what} here", model.text(arg)) })
}

/// `-(p * log(p)).sum(-1)` (or of `exp(logp) * logp`) with the softmax over the last axis →
/// `torch.distributions.Categorical(logits=z).entropy()`, inside the reductions after it.
fn categorical_entropy<'a>(model: &Model<'a>, source: &Source<'a>, chain: &Chain<'a>) -> Option<Fix> {
    if source.family != Family::Torch || chain.negations % 2 != 1 || has_comment(chain.top) {
        return None;
    }
    let first = chain.reductions.first()?;
    if first.kind != Reduce::Sum || !first.plain || axis_value(model, first.axis?)? != -1 {
        return None;
    }
    if source.axis(model)? != Some(-1) {
        return None;
    }
    let logits = probs::logits_at(model, source, chain.top)?;
    let (spelled, import) = fixes::spell(model, chain.top, "torch.distributions.Categorical", None)?;
    let title = logits.fix_title(&format!("{spelled}(logits={}).entropy()", short(&logits.text)));
    let mut expr = format!("{spelled}(logits={}).entropy()", logits.text);
    for r in &chain.reductions[1..] {
        expr = wrap(model, expr, r);
    }
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.extend(logits.edits);
    edits.push(Edit { start: chain.top.start_byte(), end: chain.top.end_byte(), content: expr });
    edits.sort();
    Some(Fix { title, applicability: Applicability::Unsafe, edits, whole: true })
}
