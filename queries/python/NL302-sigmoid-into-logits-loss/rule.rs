//! NL302 sigmoid-into-logits-loss: a sigmoid output fed to a loss that applies the sigmoid
//! itself (`nn.BCEWithLogitsLoss`, `tf.nn.sigmoid_cross_entropy_with_logits`, Keras losses with
//! `from_logits=True`, optax), in the same function or through the file's functions, classes and
//! held layers; also a sigmoid written out, `1 / (1 + exp(-z))`.

use crate::rules::contracts::double_activation;
use crate::rules::{Anchor, Captures, Checker, Finding, FixAvailability, Rule};
use crate::semantic::value::Prob;

pub const RULE: Rule = Rule {
    code: "NL302",
    name: "sigmoid-into-logits-loss",
    dir: "NL302-sigmoid-into-logits-loss",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &["num", "den"],
    anchors: &[
        Anchor::Word("sigmoid"),
        Anchor::Word("Sigmoid"),
        Anchor::Word("expit"),
        Anchor::Word("compile"),
        Anchor::Word("exp"),
    ],
    fix: FixAvailability::Sometimes,
    fixes: "drop the sigmoid (unsafe); `from_logits=False` where the sigmoid is out of reach (unsafe)",
    check,
    preview: false,
};

fn check<'a>(cx: &Checker<'_, 'a>, captures: &Captures<'a>) -> Vec<Finding> {
    match captures.get("smell") {
        Some(node) => double_activation(cx, node, Prob::Sigmoid),
        None => Vec::new(),
    }
}
