//! NL303 logits-into-probability-loss: raw logits into a loss that expects probabilities or
//! log-probabilities (`nn.NLLLoss`, `nn.BCELoss`, `nn.KLDivLoss`, Keras losses without
//! `from_logits=True`), and probabilities into one that expects log-probabilities. Reported at
//! the loss function's call, at the loss object's constructor, or at `model.compile`.

use tree_sitter::Node;

use crate::rules::contracts::{display_loss, mismatch};
use crate::rules::{Anchor, Captures, Checker, Finding, FixAvailability, Rule, fixes};
use crate::semantic::flows::{LossCall, Prediction, Source};
use crate::semantic::losses::{self, Expects};
use crate::semantic::value::Op;
use crate::semantic::{Callee, Model, apis};
use crate::smell::{Applicability, Edit, Fix, Related};
use crate::syntax::{Args, FIELD, KindName, Span, has_comment, short};

pub const RULE: Rule = Rule {
    code: "NL303",
    name: "logits-into-probability-loss",
    dir: "NL303-logits-into-probability-loss",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &[],
    anchors: &[Anchor::Word("compile")],
    fix: FixAvailability::Sometimes,
    fixes: "the loss that takes logits, or `from_logits=True`, or `log_softmax` for `softmax` (all unsafe)",
    check,
    // Preview: few of its findings on real code held up (benches/README.md, "Precision").
    preview: true,
};

fn check<'a>(cx: &Checker<'_, 'a>, captures: &Captures<'a>) -> Vec<Finding> {
    let Some(node) = captures.get("smell") else { return Vec::new() };
    let model = cx.model;
    // A loss function called here, or `model.compile(loss=...)`.
    if let Some(l) = model.loss_call(node)
        && (l.compile || losses::by_name(&l.loss).is_none_or(|spec| !spec.object))
    {
        return called(model, &l).into_iter().collect();
    }
    // A loss object built here: where it is called.
    match model.callee(node) {
        Some(Callee::Api(api)) if losses::by_name(&api).is_some_and(|l| l.object) => constructed(model, node),
        _ => Vec::new(),
    }
}

/// A loss function's call (or a compile) whose prediction breaks its contract.
fn called<'a>(model: &Model<'a>, l: &LossCall<'a>) -> Option<Finding> {
    let expects = l.expects?;
    let p = model.loss_prediction(l);
    let what = mismatch(expects, p.op)?;
    let message = format!(
        "`{}` {} but gets {}: {}",
        l.display,
        expects_text(expects),
        what_is(what),
        prediction_text(model, l, &p)
    );
    let related = p
        .producer
        .filter(|n| *n != l.call)
        .map(|n| Related { span: Span::of(n), message: format!("{} here", capitalized(&producer_text(p.op))) });
    let mut fixes = Vec::new();
    fixes.extend(function_fix(model, l, p.op));
    fixes.extend(log_softmax_fix(model, &p, expects));
    Some(Finding { span: Some(Span::of(l.call)), message, fixes, related })
}

/// A loss object built at `ctor`: its calls in this scope, or elsewhere through the attribute or
/// module-level name that holds it.
fn constructed<'a>(model: &Model<'a>, ctor: Node<'a>) -> Vec<Finding> {
    let scope = model.scope_of(ctor);
    for l in model.loss_calls_in(scope).iter() {
        if l.loss_node != Some(ctor) {
            continue;
        }
        let Some(expects) = l.expects else { continue };
        let p = model.loss_prediction(l);
        let Some(what) = mismatch(expects, p.op) else { continue };
        let message = format!(
            "`{}` {} but gets {}: {}",
            l.display,
            expects_text(expects),
            what_is(what),
            prediction_text(model, l, &p)
        );
        let related = Some(Related { span: Span::of(l.call), message: format!("the loss is computed here on {what}") });
        let mut fixes = Vec::new();
        fixes.extend(class_fix(model, ctor, p.op));
        fixes.extend(log_softmax_fix(model, &p, expects));
        return vec![Finding { span: None, message, fixes, related }];
    }
    let Some(holder) = model.holder_of(ctor) else { return Vec::new() };
    for flow in model.flows_into(&holder) {
        let Some(expects) = flow.expects else { continue };
        let Some(what) = mismatch(expects, flow.op) else { continue };
        let source = match &flow.source {
            Some(s) => format!(": the output of {}", source_text(s)),
            None => String::new(),
        };
        let holder_text = match &holder {
            Source::Attribute { attr, .. } => format!("`self.{attr}`"),
            other => other.describe(),
        };
        let unit = if flow.unit.is_empty() { String::new() } else { format!(" in `{}`", flow.unit) };
        let message = format!(
            "`{}` {} but {holder_text} gets {}{unit}{source}",
            display_loss(&flow.loss),
            expects_text(expects),
            what_is(what)
        );
        return vec![Finding {
            span: None,
            message,
            fixes: class_fix(model, ctor, flow.op).into_iter().collect(),
            related: None,
        }];
    }
    Vec::new()
}

fn expects_text(expects: Expects) -> &'static str {
    match expects {
        Expects::Probabilities(_) => "expects probabilities",
        Expects::LogProbabilities => "expects log-probabilities",
        Expects::Logits(_) => "expects logits",
    }
}

fn what_is(what: &str) -> &str {
    match what {
        "probabilities" => "probabilities (not their log)",
        other => other,
    }
}

fn source_text(s: &Source) -> String {
    match s {
        Source::Class(c) => format!("`{c}`"),
        Source::Function(f) => format!("`{f}`"),
        Source::Attribute { attr, .. } => format!("`self.{attr}`"),
        Source::Global(g) => format!("`{g}`"),
    }
}

fn producer_text(op: Option<Op>) -> String {
    match op {
        Some(Op::Logits) => "logits (a layer without activation) come from".to_string(),
        Some(op) => format!("{} comes from", op.describe()),
        None => "the prediction comes from".to_string(),
    }
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// How the message names the prediction: `` `out` ``, `` `model`'s output ``.
fn prediction_text(model: &Model, l: &LossCall, p: &Prediction) -> String {
    if l.compile {
        let receiver = l.input.map(|r| short(model.text(r))).unwrap_or_default();
        return format!("the outputs of `{receiver}`");
    }
    match (l.input, &p.source) {
        (Some(input), Some(s)) if !matches!(s, Source::Global(_)) => {
            format!("`{}`, the output of {}", short(model.text(input)), source_text(s))
        }
        (Some(input), _) => format!("`{}`", short(model.text(input))),
        (None, _) => "its input".to_string(),
    }
}

/// The loss function that takes logits instead: `F.nll_loss` → `F.cross_entropy`,
/// `F.binary_cross_entropy` → `F.binary_cross_entropy_with_logits`; Keras functions get
/// `from_logits=True`; a compile with a string loss gets the loss class with `from_logits=True`.
fn function_fix<'a>(model: &Model<'a>, l: &LossCall<'a>, op: Option<Op>) -> Option<Fix> {
    if op != Some(Op::Logits) || has_comment(l.call) {
        return None;
    }
    let spec = losses::by_name(&l.loss);
    if l.compile {
        return compile_fix(model, l);
    }
    let spec = spec?;
    if spec.from_logits.is_some() {
        return add_keyword(model, l.call, "from_logits=True", "Pass `from_logits=True`: the input is logits");
    }
    let target = match spec.name {
        "torch.nn.functional.nll_loss" => "torch.nn.functional.cross_entropy",
        "torch.nn.functional.binary_cross_entropy" => "torch.nn.functional.binary_cross_entropy_with_logits",
        _ => return None,
    };
    rename(model, l.call, target)
}

/// `nn.NLLLoss()` → `nn.CrossEntropyLoss()`, `nn.BCELoss()` → `nn.BCEWithLogitsLoss()`; Keras
/// loss classes get `from_logits=True`.
fn class_fix<'a>(model: &Model<'a>, ctor: Node<'a>, op: Option<Op>) -> Option<Fix> {
    if op != Some(Op::Logits) || has_comment(ctor) {
        return None;
    }
    let api = ctor.child_by_field_id(FIELD.function).and_then(|f| model.api(f))?;
    let spec = losses::by_name(&api)?;
    if spec.from_logits.is_some() {
        return add_keyword(model, ctor, "from_logits=True", "Pass `from_logits=True`: the input is logits");
    }
    let target = match spec.name {
        "torch.nn.NLLLoss" => "torch.nn.CrossEntropyLoss",
        "torch.nn.BCELoss" => "torch.nn.BCEWithLogitsLoss",
        _ => return None,
    };
    rename(model, ctor, target)
}

/// Calls `target` instead: the last name of the callee changes (`F.nll_loss` → `F.cross_entropy`),
/// or the whole callee when it is a plain name.
fn rename<'a>(model: &Model<'a>, call: Node<'a>, target: &str) -> Option<Fix> {
    let function = call.child_by_field_id(FIELD.function)?;
    let leaf = apis::leaf(target);
    let title = format!("Use `{leaf}`, which takes logits");
    let (node, content, import) = match function.kind_name() {
        "attribute" => {
            let attr = function.child_by_field_id(FIELD.attribute)?;
            // `F.nll_loss` → `F.cross_entropy` only where `F.cross_entropy` resolves to the target.
            let object = function.child_by_field_id(FIELD.object)?;
            let module = model.api(object).map(|m| apis::canonical(&format!("{m}.{leaf}")));
            if module.as_deref() != Some(target) {
                return None;
            }
            (attr, leaf.to_string(), None)
        }
        _ => {
            let (spelled, import) = fixes::spell(model, function, target, None)?;
            (function, spelled, import)
        }
    };
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.push(Edit { start: node.start_byte(), end: node.end_byte(), content });
    Some(Fix { title, applicability: Applicability::Unsafe, edits, whole: false })
}

/// Adds a keyword argument at the end of a call's arguments, unless it is passed already.
fn add_keyword(model: &Model, call: Node, keyword: &str, title: &str) -> Option<Fix> {
    let name = keyword.split('=').next()?;
    if Args::of(call).keyword(&[name], model.src).is_some() {
        return None;
    }
    fixes::add_keyword(model.src, call, keyword, title.to_string())
}

/// `model.compile(loss="categorical_crossentropy")` → the Keras class with `from_logits=True`.
fn compile_fix<'a>(model: &Model<'a>, l: &LossCall<'a>) -> Option<Fix> {
    let loss = l.loss_node?;
    if loss.kind_name() == "call" {
        return add_keyword(model, loss, "from_logits=True", "Pass `from_logits=True`: the model outputs logits");
    }
    let class = match l.loss.as_str() {
        "categorical_crossentropy" => "CategoricalCrossentropy",
        "sparse_categorical_crossentropy" => "SparseCategoricalCrossentropy",
        "binary_crossentropy" => "BinaryCrossentropy",
        _ => return None,
    };
    let (spelled, import) = keras_spelling(model, loss, &format!("keras.losses.{class}"))?;
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.push(Edit {
        start: loss.start_byte(),
        end: loss.end_byte(),
        content: format!("{spelled}(from_logits=True)"),
    });
    Some(Fix {
        title: format!("Use `{class}(from_logits=True)`: the model outputs logits"),
        applicability: Applicability::Unsafe,
        edits,
        whole: false,
    })
}

/// A Keras name spelled with the file's imports; through `tf.keras` in a TensorFlow file that does
/// not import Keras itself.
fn keras_spelling<'a>(model: &Model<'a>, site: Node<'a>, target: &str) -> Option<(String, Option<Edit>)> {
    let spelled = fixes::spell(model, site, target, None);
    if let Some((_, None)) = spelled {
        return spelled;
    }
    for (local, path) in model.imports.bindings() {
        if path == "tensorflow" && model.alias_reaches(local, path, site) {
            return Some((format!("{local}.{target}"), None));
        }
    }
    spelled
}

/// `softmax` → `log_softmax` where a loss expecting log-probabilities is given a softmax output
/// computed in the same function.
fn log_softmax_fix<'a>(model: &Model<'a>, p: &Prediction<'a>, expects: Expects) -> Option<Fix> {
    if expects != Expects::LogProbabilities || p.op != Some(Op::Softmax) {
        return None;
    }
    let producer = p.producer?;
    let function = producer.child_by_field_id(FIELD.function)?;
    if function.kind_name() != "attribute" || has_comment(producer) {
        return None;
    }
    let attr = function.child_by_field_id(FIELD.attribute)?;
    if model.text(attr) != "softmax" {
        return None;
    }
    if let Some(object) = function.child_by_field_id(FIELD.object)
        && let Some(m) = model.api(object)
        && apis::leaf(&apis::canonical(&format!("{m}.log_softmax"))) != "log_softmax"
    {
        return None;
    }
    Some(Fix {
        title: "Use `log_softmax`: the loss expects log-probabilities".to_string(),
        applicability: Applicability::Unsafe,
        edits: vec![Edit { start: attr.start_byte(), end: attr.end_byte(), content: "log_softmax".to_string() }],
        whole: false,
    })
}
