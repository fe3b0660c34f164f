//! NL102 log-of-softmax: `log(softmax(z))`, directly or through one name; the fix is
//! `log_softmax(z)` with the softmax's own arguments.

use crate::rules::probs::{self, Source};
use crate::rules::{Captures, Checker, Finding, FixAvailability, Rule, fixes};
use crate::semantic::Model;
use crate::semantic::value::{Op, Prob};
use crate::smell::{Applicability, Edit, Fix, Related};
use crate::syntax::{Span, short};

pub const RULE: Rule = Rule {
    code: "NL102",
    name: "log-of-softmax",
    dir: "NL102-log-of-softmax",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &["arg"],
    anchors: &[],
    fix: FixAvailability::Sometimes,
    fixes: "`log_softmax` of the logits with the softmax's axis (safe)",
    check,
    preview: false,
};

fn check<'a>(cx: &Checker<'_, 'a>, captures: &Captures<'a>) -> Vec<Finding> {
    let model = cx.model;
    let Some(call) = captures.get("smell") else { return Vec::new() };
    let Some((arg, _)) = probs::natural_log(model, call) else { return Vec::new() };
    if captures.get("arg") != Some(arg) {
        return Vec::new();
    }
    let value = model.value(arg);
    if value.op() != Some(Op::Softmax) || !value.range.contains_zero() {
        return Vec::new();
    }
    // The -inf is discarded or replaced after the log (see NL101).
    if probs::minus_inf_discarded(model, call, arg) {
        return Vec::new();
    }
    // `log(p.gather(1, y))`, `log(p[i])`: elements of a softmax output.
    let picked = probs::elements_of(model, arg);
    let probabilities = picked.map_or(arg, |(array, _)| array);
    let Some(source) = probs::source(model, probabilities).filter(|s| s.prob == Prob::Softmax && !s.log) else {
        return Vec::new();
    };
    let callee = probs::callee_text(model, call);
    let what = match (picked, source.assignment) {
        (Some(_), _) => format!("`{}`, elements of a softmax output", short(model.text(arg))),
        (None, Some(_)) => format!("`{}`, a softmax output", short(model.text(arg))),
        (None, None) => "a softmax output".to_string(),
    };
    let message = format!(
        "`{callee}` of {what}: softmax underflows to 0 in {} and log(0) = -inf; log_softmax does not",
        probs::dtype_name(model, arg)
    );
    let related = source.assignment.map(|a| Related {
        span: Span::of(a),
        message: format!("`{}` is assigned a softmax output here", model.text(probabilities)),
    });
    let fix = match picked {
        Some((array, selection)) => picked_log_softmax_fix(model, &source, call, selection, array),
        None => log_softmax_fix(model, &source, call),
    };
    let fixes = fix.into_iter().collect();
    vec![Finding { span: None, message, fixes, related }]
}

/// `log(softmax(z, axis))` → `log_softmax(z, axis)`, written where the log is.
pub fn log_softmax_fix<'a>(model: &Model<'a>, source: &Source<'a>, call: tree_sitter::Node<'a>) -> Option<Fix> {
    let (content, logits, import) = log_softmax_expr(model, source, call)?;
    replacing_log(model, call, content, logits, import)
}

/// `log(softmax(z, axis).gather(1, y))` → `log_softmax(z, axis).gather(1, y)`: the log of the
/// elements a selection picks is the selection of the log, so the selection is kept as written
/// with the log-probabilities in place of the probabilities (`array`, inside `selection`).
fn picked_log_softmax_fix<'a>(
    model: &Model<'a>,
    source: &Source<'a>,
    call: tree_sitter::Node<'a>,
    selection: tree_sitter::Node<'a>,
    array: tree_sitter::Node<'a>,
) -> Option<Fix> {
    let (log_probs, logits, import) = log_softmax_expr(model, source, call)?;
    let src = model.src;
    let content = format!(
        "{}{log_probs}{}",
        &src[selection.start_byte()..array.start_byte()],
        &src[array.end_byte()..selection.end_byte()]
    );
    replacing_log(model, call, content, logits, import)
}

/// The safe fix that writes `content` in place of the log `call`, with the edits that make the
/// logits readable there and the import the content needs; the comments inside the log's call
/// that `content` drops are moved into it ([`fixes::keeping_comments`]).
fn replacing_log(
    model: &Model,
    call: tree_sitter::Node,
    content: String,
    logits: probs::Logits,
    import: Option<Edit>,
) -> Option<Fix> {
    let title = logits.fix_title(&short(&content));
    let content = fixes::keeping_comments(model, call, content)?;
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.extend(logits.edits);
    edits.push(Edit { start: call.start_byte(), end: call.end_byte(), content });
    edits.sort();
    Some(Fix { title, applicability: Applicability::Safe, edits, whole: false })
}

/// `log_softmax(z, axis)` of `source`'s logits read at `at`: its text, the logits (with the
/// edits that make them readable there) and the import it needs.
fn log_softmax_expr<'a>(
    model: &Model<'a>,
    source: &Source<'a>,
    at: tree_sitter::Node<'a>,
) -> Option<(String, probs::Logits, Option<Edit>)> {
    let logits = probs::logits_at(model, source, at)?;
    let others: Vec<&str> = source.other_args(model).iter().map(|a| model.text(*a)).collect();
    let (content, import) = if source.method {
        (format!("{}.log_softmax({})", logits.text, others.join(", ")), None)
    } else {
        let target = probs::log_space_function(source)?;
        let (spelled, import) = fixes::spell(model, at, &target, source.alias)?;
        let args: Vec<&str> = std::iter::once(logits.text.as_str()).chain(others).collect();
        (format!("{spelled}({})", args.join(", ")), import)
    };
    Some((content, logits, import))
}
