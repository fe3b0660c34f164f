//! Expression edits the fixes of several rules share: an operand in parentheses where it needs
//! them, a floor under a value in its library's spelling, a call spelled with the file's aliases
//! (adding its import).

use tree_sitter::Node;

use super::fixes::{self, Function};
use crate::semantic::Model;
use crate::semantic::value::Library;
use crate::smell::{Applicability, Edit, Fix};
use crate::syntax::{FIELD, KindName, unparenthesized};

/// The text of `node` as the receiver of a method or an operand of `+`: parenthesized unless it
/// is a primary expression (a name, call, attribute, subscript, literal or parenthesized).
pub fn operand(model: &Model, node: Node) -> String {
    let text = model.text(node);
    match node.kind_name() {
        "identifier"
        | "call"
        | "attribute"
        | "subscript"
        | "parenthesized_expression"
        | "integer"
        | "float"
        | "list"
        | "tuple" => text.to_string(),
        _ => format!("({text})"),
    }
}

/// `node` with `+ eps` added, as an operand: `(s + 1e-07)`.
pub fn plus_eps(model: &Model, node: Node, eps: &str) -> String {
    format!("({} + {eps})", model.text(unparenthesized(node)))
}

/// `node` raised to at least `floor` in `library`'s spelling: `d.clamp(min=1)` for a PyTorch
/// tensor, `tf.maximum(d, 1)`, `np.maximum(d, 1)`, and `max(d, 1)` for a Python number
/// (`library` `None`). The text and the import it needs.
pub fn floored<'a>(
    model: &Model<'a>,
    node: Node<'a>,
    library: Option<Library>,
    floor: &str,
    prefer: Option<&str>,
) -> Option<(String, Option<Edit>)> {
    match library {
        None => Some((format!("max({}, {floor})", model.text(unparenthesized(node))), None)),
        Some(Library::Torch) => Some((format!("{}.clamp(min={floor})", operand(model, node)), None)),
        Some(lib) => {
            let (spelled, import) = fixes::spell(model, node, fixes::function(lib, Function::Maximum)?, prefer)?;
            Some((format!("{spelled}({}, {floor})", model.text(unparenthesized(node))), import))
        }
    }
}

/// A fix replacing `node` with `content`, plus the import `content` needs.
pub fn replace(node: Node, content: String, import: Option<Edit>, title: String, applicability: Applicability) -> Fix {
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.push(Edit { start: node.start_byte(), end: node.end_byte(), content });
    Fix { title, applicability, edits, whole: false }
}

/// The local name the first library call in `node` starts from (`th` in `th.sum(m)`), so a fix
/// reuses the alias the expression itself used.
pub fn alias_in<'s>(model: &Model<'s>, node: Node<'s>) -> Option<&'s str> {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind_name() == "call"
            && let Some(f) = n.child_by_field_id(FIELD.function)
            && model.api(f).is_some()
        {
            return fixes::root_name(model, f);
        }
        let mut cursor = n.walk();
        let children: Vec<Node> = n.named_children(&mut cursor).collect();
        stack.extend(children.into_iter().rev());
    }
    None
}
