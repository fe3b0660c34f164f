//! NL101 log-of-possibly-zero: the message and the two fixes (clip, xlogy).

use tree_sitter::Node;

use crate::engine::Context;
use crate::engine::apis::{self, Library};
use crate::engine::facts::{Provenance, Value};
use crate::engine::query::Captures;
use crate::rules::Finding;
use crate::settings::Settings;
use crate::smell::{Applicability, Edit, Fix, Related};

/// `@arg`: the logarithm's argument.
pub const CAPTURES: &[&str] = &["arg"];

pub const FIXES: &str = "clip, or xlogy for `a * log(b)` (both unsafe)";

pub fn check<'a>(cx: &Context<'a>, captures: &Captures<'a>, settings: &Settings) -> Option<Finding> {
    let call = captures.get("smell")?;
    let arg = captures.get("arg")?;
    let callee = call.child_by_field_name("function")?;
    let api = cx.imports.api(callee, cx.src)?;
    let library = apis::library_of(&api)?;
    if is_wrapper(cx, call, arg, apis::leaf(&api)) {
        return None;
    }
    let value = cx.value_of(arg);
    // `20 * log10(v)`: a factor that is a non-zero constant cannot make `0 * -inf`.
    let product = product_of(call).filter(|(_, other)| cx.constant_value(*other).is_none_or(|v| v == 0.0));

    let what = match &value {
        Value::Probability(p) => match &p.name {
            Some(name) if cx.text(arg) == name => format!("`{name}`, a {} output that can reach 0", p.kind),
            Some(name) => format!("`{}`, which can reach 0 (`{name}` is a {} output)", short(cx.text(arg)), p.kind),
            None => format!("a {} output, which can reach 0", p.kind),
        },
        _ => "a value that is not kept away from 0".to_string(),
    };
    let related = match &value {
        Value::Probability(Provenance { assigned: Some(span), name: Some(name), kind }) => {
            Some(Related { span: *span, message: format!("`{name}` is assigned a {kind} output here") })
        }
        _ => None,
    };
    let consequence = if product.is_some() { "log(0) = -inf and 0 * -inf = NaN" } else { "log(0) = -inf" };
    let message = format!("`{}` of {what}: {consequence}", cx.text(callee));

    let probability = matches!(value, Value::Probability(_)) || product.is_some();
    let alias = root_name(cx, callee);
    let mut fixes = vec![clip(cx, arg, library, probability, settings, alias)];
    if let Some((product, other)) = product
        && apis::leaf(&api) == "log"
        && !has_comment(product)
        && let Some(fix) = xlogy(cx, product, other, arg, library, alias)
    {
        fixes.push(fix);
    }
    Some(Finding { message, fixes, related })
}

/// The clip fix: into `[eps, 1]` for a probability, else only the lower bound is raised.
fn clip(cx: &Context, arg: Node, library: Library, probability: bool, settings: &Settings, alias: Option<&str>) -> Fix {
    let eps = settings.epsilon_literal();
    let x = cx.text(arg);
    let (function, call_args) = match (library, probability) {
        (Library::TensorFlow, true) => ("tensorflow.clip_by_value", format!("{x}, {eps}, 1.0")),
        (Library::TensorFlow, false) => ("tensorflow.maximum", format!("{x}, {eps}")),
        (Library::KerasOps, true) => ("keras.ops.clip", format!("{x}, {eps}, 1.0")),
        (Library::KerasOps, false) => ("keras.ops.maximum", format!("{x}, {eps}")),
        (Library::KerasBackend, true) => ("keras.backend.clip", format!("{x}, {eps}, 1.0")),
        (Library::KerasBackend, false) => ("keras.backend.maximum", format!("{x}, {eps}")),
        (Library::Torch, true) => ("torch.clamp", format!("{x}, {eps}, 1.0")),
        (Library::Torch, false) => ("torch.clamp", format!("{x}, min={eps}")),
        (Library::NumPy, true) => ("numpy.clip", format!("{x}, {eps}, 1.0")),
        (Library::NumPy, false) => ("numpy.maximum", format!("{x}, {eps}")),
        (Library::JaxNumpy, true) => ("jax.numpy.clip", format!("{x}, {eps}, 1.0")),
        (Library::JaxNumpy, false) => ("jax.numpy.maximum", format!("{x}, {eps}")),
    };
    let (spelled, import) = cx.imports.spell(function, alias);
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.push(Edit { start: arg.start_byte(), end: arg.end_byte(), content: format!("{spelled}({call_args})") });
    let title = if probability {
        format!("Clip `{}` into [{eps}, 1]", short(x))
    } else {
        format!("Raise `{}` to at least {eps}", short(x))
    };
    Fix { title, applicability: Applicability::Unsafe, edits }
}

/// The xlogy fix: `a * log(b)` → `xlogy(a, b)`.
fn xlogy(cx: &Context, product: Node, other: Node, arg: Node, library: Library, alias: Option<&str>) -> Option<Fix> {
    let function = match library {
        Library::TensorFlow => "tensorflow.math.xlogy",
        Library::Torch => "torch.xlogy",
        Library::NumPy => "scipy.special.xlogy",
        Library::JaxNumpy => "jax.scipy.special.xlogy",
        Library::KerasOps | Library::KerasBackend => return None,
    };
    let (spelled, import) = cx.imports.spell(function, alias);
    let replacement = format!("{spelled}({}, {})", cx.text(unparenthesized(other)), cx.text(arg));
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.push(Edit { start: product.start_byte(), end: product.end_byte(), content: replacement.clone() });
    Some(Fix { title: format!("Use `{}`", short(&replacement)), applicability: Applicability::Unsafe, edits })
}

/// `def log(x): return np.log(x)`: a backend's own `log` passes its parameter through; the
/// hazard, if any, is at its callers.
fn is_wrapper<'a>(cx: &Context<'a>, call: Node<'a>, arg: Node<'a>, leaf: &str) -> bool {
    let Some(function) = cx.enclosing_function(call) else { return false };
    let named_alike = function.child_by_field_name("name").is_some_and(|n| cx.text(n) == leaf);
    let parameter = arg.kind() == "identifier"
        && function.child_by_field_name("parameters").is_some_and(|params| {
            let mut cursor = params.walk();
            params.named_children(&mut cursor).any(|p| {
                let name = if p.kind() == "identifier" { Some(p) } else { p.child_by_field_name("name").or(p.named_child(0)) };
                name.is_some_and(|n| n.kind() == "identifier" && cx.text(n) == cx.text(arg))
            })
        });
    named_alike && parameter
}

/// The local name a callee starts from (`th` in `th.log`), so fixes reuse the same alias.
fn root_name<'s>(cx: &Context<'s>, callee: Node) -> Option<&'s str> {
    let mut node = callee;
    while node.kind() == "attribute" {
        node = node.child_by_field_name("object")?;
    }
    (node.kind() == "identifier").then(|| cx.text(node))
}

/// A rewrite of the whole product would drop comments inside it; such products get no xlogy fix.
fn has_comment(node: Node) -> bool {
    let mut stack = vec![node];
    while let Some(n) = stack.pop() {
        if n.kind() == "comment" {
            return true;
        }
        let mut cursor = n.walk();
        stack.extend(n.children(&mut cursor));
    }
    false
}

/// When `call` is a factor of a product (`a * log(b)` or `log(b) * a`, parentheses allowed):
/// the product and the other factor.
fn product_of(call: Node) -> Option<(Node, Node)> {
    let mut node = call;
    let mut parent = node.parent()?;
    while parent.kind() == "parenthesized_expression" {
        node = parent;
        parent = node.parent()?;
    }
    if parent.kind() != "binary_operator" || parent.child_by_field_name("operator")?.kind() != "*" {
        return None;
    }
    let (left, right) = (parent.child_by_field_name("left")?, parent.child_by_field_name("right")?);
    let other = if left == node { right } else { left };
    Some((parent, other))
}

fn unparenthesized(mut node: Node) -> Node {
    while node.kind() == "parenthesized_expression" {
        match node.named_child(0) {
            Some(inner) if node.named_child_count() == 1 => node = inner,
            _ => break,
        }
    }
    node
}

/// Source text for a title: one line, at most 40 characters.
fn short(text: &str) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= 40 { flat } else { format!("{}…", flat.chars().take(39).collect::<String>()) }
}
