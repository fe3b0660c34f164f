//! NL301 softmax-into-logits-loss: a softmax output fed to a loss that applies log_softmax
//! itself (`nn.CrossEntropyLoss`, `tf.nn.softmax_cross_entropy_with_logits`, Keras losses with
//! `from_logits=True`, optax), in the same function or through the file's functions, classes and
//! held layers.

use crate::rules::contracts::double_activation;
use crate::rules::{Anchor, Captures, Checker, Finding, FixAvailability, Rule};
use crate::semantic::value::Prob;

pub const RULE: Rule = Rule {
    code: "NL301",
    name: "softmax-into-logits-loss",
    dir: "NL301-softmax-into-logits-loss",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &[],
    anchors: &[Anchor::Word("softmax"), Anchor::Word("Softmax"), Anchor::Word("compile")],
    fix: FixAvailability::Sometimes,
    fixes: "drop the softmax (unsafe); `from_logits=False` where the softmax is out of reach (unsafe)",
    check,
    preview: false,
};

fn check<'a>(cx: &Checker<'_, 'a>, captures: &Captures<'a>) -> Vec<Finding> {
    match captures.get("smell") {
        Some(node) => double_activation(cx, node, Prob::Softmax),
        None => Vec::new(),
    }
}
