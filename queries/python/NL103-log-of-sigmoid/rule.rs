//! NL103 log-of-sigmoid: `log(sigmoid(z))` and `log(1 - sigmoid(z))`, directly or through one
//! name; the fix is `log_sigmoid(z)` (or of `-z`) in the call's own library.

use tree_sitter::Node;

use crate::rules::probs::{self, Source};
use crate::rules::{Captures, Checker, Finding, FixAvailability, Rule, fixes};
use crate::semantic::Model;
use crate::semantic::value::{Op, Prob};
use crate::smell::{Applicability, Edit, Fix, Related};
use crate::syntax::{FIELD, KindName, Span, short, unparenthesized};

pub const RULE: Rule = Rule {
    code: "NL103",
    name: "log-of-sigmoid",
    dir: "NL103-log-of-sigmoid",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &["arg"],
    anchors: &[],
    fix: FixAvailability::Sometimes,
    fixes: "`log_sigmoid` of the logits, or of their negation for `1 - sigmoid` (unsafe)",
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
    let complement = match value.op() {
        Some(Op::Sigmoid) => false,
        Some(Op::Complement(Prob::Sigmoid)) => true,
        _ => return Vec::new(),
    };
    if !value.range.contains_zero() {
        return Vec::new();
    }
    // The -inf is discarded or replaced after the log (see NL101).
    if probs::minus_inf_discarded(model, call, arg) {
        return Vec::new();
    }
    // Preview only: a float32 sigmoid output whose every loss holds the log negated
    // (`-mean(log(sigmoid(s)))`): its own gradient raises it, away from the logit of about -88
    // that makes it 0 (16.6 for one minus it). Not a factor of a product (`y * log(p)`).
    let product = probs::product_of(model, call).filter(|(_, other)| model.constant(*other).is_none_or(|v| v == 0.0));
    if !cx.settings.preview
        && product.is_none()
        && !probs::half_precision(model, arg, &value)
        && probs::push_of_losses(model, call) == probs::Push::Raised
    {
        return Vec::new();
    }
    let Some((source, through)) = sigmoid_source(model, arg, complement) else { return Vec::new() };
    let callee = probs::callee_text(model, call);
    let what = match (through, complement) {
        (Some(_), false) => format!("`{}`, a sigmoid output", short(model.text(arg))),
        (Some(_), true) => format!("`{}`, one minus a sigmoid output", short(model.text(arg))),
        (None, false) => "a sigmoid output".to_string(),
        (None, true) => "one minus a sigmoid output".to_string(),
    };
    let (reach, instead) = if complement { ("1", "log_sigmoid(-z) does not") } else { ("0", "log_sigmoid does not") };
    let dtype = probs::dtype_name(model, arg);
    let message = format!("`{callee}` of {what}: sigmoid reaches {reach} in {dtype} and log(0) = -inf; {instead}");
    let related = through.map(|a| Related {
        span: Span::of(a),
        message: format!(
            "`{}` is assigned {} here",
            model.text(arg),
            if complement { "one minus a sigmoid output" } else { "a sigmoid output" }
        ),
    });
    let fixes = log_sigmoid_fix(model, &source, complement, call).into_iter().collect();
    vec![Finding { span: None, message, fixes, related }]
}

/// The sigmoid behind `arg` (`sigmoid(z)`, or the `sigmoid(z)` of `1 - sigmoid(z)`), and the
/// assignment the argument was read through, if any.
pub fn sigmoid_source<'a>(
    model: &Model<'a>,
    arg: Node<'a>,
    complement: bool,
) -> Option<(Source<'a>, Option<Node<'a>>)> {
    if !complement {
        let source = probs::source(model, arg).filter(|s| s.prob == Prob::Sigmoid)?;
        let through = source.assignment;
        return Some((source, through));
    }
    // `1 - X`, inline or through one name.
    let arg = unparenthesized(arg);
    let (difference, through) = match arg.kind_name() {
        "identifier" => {
            let (assignment, value) = model.assigned_value(arg)?;
            (value, Some(assignment))
        }
        _ => (arg, None),
    };
    if difference.kind_name() != "binary_operator"
        || difference.child_by_field_id(FIELD.operator).map(|o| o.kind_name()) != Some("-")
        || difference.child_by_field_id(FIELD.left).and_then(|l| model.constant(l)) != Some(1.0)
    {
        return None;
    }
    let mut source =
        probs::source(model, difference.child_by_field_id(FIELD.right)?).filter(|s| s.prob == Prob::Sigmoid)?;
    // Read through `q = 1 - sigmoid(z)`: the logits are read at the log, not where they stood.
    if through.is_some() {
        source.assignment = through;
    }
    Some((source, through))
}

/// `log(sigmoid(z))` → `log_sigmoid(z)`; `log(1 - sigmoid(z))` → `log_sigmoid(-z)`.
pub fn log_sigmoid_fix<'a>(model: &Model<'a>, source: &Source<'a>, complement: bool, call: Node<'a>) -> Option<Fix> {
    if !source.other_args(model).is_empty() {
        return None;
    }
    let logits = probs::logits_at(model, source, call)?;
    let x = match (complement, logits.edits.is_empty()) {
        (false, _) => logits.text.clone(),
        (true, true) => probs::negated(model, source.logits),
        (true, false) => format!("-{}", logits.text),
    };
    let target = probs::log_space_function(source)?;
    // `F.logsigmoid` over `torch.nn.functional.logsigmoid`: the longest module wins for PyTorch.
    let alias = if source.method || source.family == probs::Family::Torch { None } else { source.alias };
    let (spelled, import) = fixes::spell(model, call, &target, alias)?;
    let content = format!("{spelled}({x})");
    let title = logits.fix_title(&short(&content));
    let content = fixes::keeping_comments(model, call, content)?;
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.extend(logits.edits);
    edits.push(Edit { start: call.start_byte(), end: call.end_byte(), content });
    edits.sort();
    Some(Fix { title, applicability: Applicability::Unsafe, edits, whole: false })
}
