//! NL104 cross-entropy-on-probabilities: `-sum(y * log(p))` with `p` a softmax output, and
//! `-(y * log(p) + (1 - y) * log(1 - p))` with `p` a sigmoid output. Fixes: the library's loss on
//! logits where the axis and the reductions are kept, then xlogy.

use tree_sitter::Node;

use crate::rules::probs::{self, Chain, Family, Reduce, Source, axis_value, climb, wrap};
use crate::rules::{Captures, Checker, Finding, FixAvailability, Rule, fixes};
use crate::semantic::value::{Library, Op, Prob};
use crate::semantic::{Callee, Model, apis};
use crate::smell::{Applicability, Edit, Fix, Related};
use crate::syntax::{FIELD, KindName, Span, has_comment, same_expression, short, unparenthesized};

pub const RULE: Rule = Rule {
    code: "NL104",
    name: "cross-entropy-on-probabilities",
    dir: "NL104-cross-entropy-on-probabilities",
    query: include_str!("query.scm"),
    doc: include_str!("rule.md"),
    captures: &["arg"],
    anchors: &[],
    fix: FixAvailability::Sometimes,
    fixes: "the library's loss on logits where the axis and reductions are kept, else xlogy (both unsafe)",
    check,
    preview: false,
};

fn check<'a>(cx: &Checker<'_, 'a>, captures: &Captures<'a>) -> Vec<Finding> {
    let model = cx.model;
    let Some(call) = captures.get("smell") else { return Vec::new() };
    let Some((arg, library)) = probs::natural_log(model, call) else { return Vec::new() };
    if captures.get("arg") != Some(arg) {
        return Vec::new();
    }
    let value = model.value(arg);
    if !value.range.contains_zero() {
        return Vec::new();
    }
    // The -inf is discarded or replaced after the log (see NL101).
    if probs::minus_inf_discarded(model, call, arg) {
        return Vec::new();
    }
    // A multiple or quotient of probabilities (`w * p`, the KL divergence's `p / q`) is no
    // probability a loss on logits takes: NL101 reports its log.
    if value.producer.is_some_and(|p| model.zero_factor(p.node).is_some()) {
        return Vec::new();
    }
    let library = library.or_else(|| file_library(model));
    match value.op() {
        Some(Op::Softmax) => categorical(model, call, arg, library),
        // The binary form is found from its `log(p)`; its `log(1 - p)` is the same finding.
        Some(Op::Sigmoid) => binary(model, call, arg, library),
        _ => Vec::new(),
    }
}

/// `y * log(p)` with `p` a softmax output, and the sums and negations around it.
fn categorical<'a>(model: &Model<'a>, log: Node<'a>, arg: Node<'a>, library: Option<Library>) -> Vec<Finding> {
    let Some((product, other)) = probs::product_of(model, log) else { return Vec::new() };
    // `p * log(p)` is an entropy (NL106); a constant factor is no label.
    if same_expression(other, arg, model.src) || model.constant(other).is_some() || is_exp(model, other) {
        return Vec::new();
    }
    let (labels, negated) = labels_of(other);
    let chain = climb(model, product);
    let top = chain.top;
    let source = probs::source(model, arg).filter(|s| s.prob == Prob::Softmax && !s.log);
    let assignment = assignment(model, &source, arg);
    let what = match assignment {
        Some(_) => format!("`{}`, a softmax output", short(model.text(arg))),
        None => "a softmax output".to_string(),
    };
    let message = format!(
        "Cross-entropy written out on {what}: softmax underflows to 0, log(0) = -inf and 0 * -inf = NaN; compute it from the logits"
    );
    let mut fixes = Vec::new();
    if let Some(source) = &source
        && (chain.negations + usize::from(negated)) % 2 == 1
        && let Some(fix) = categorical_with_logits(model, source, labels, &chain)
    {
        fixes.push(fix);
    }
    let alias = log_alias(model, log);
    if let Some(library) = library
        && !has_comment(product)
        && let Some(fix) = probs::xlogy(model, product, other, arg, library, alias)
    {
        fixes.push(fix);
    }
    vec![Finding {
        span: Some(Span::of(top)),
        message,
        fixes,
        related: related(model, assignment, arg, "a softmax output"),
    }]
}

/// `y * log(p) + (1 - y) * log(1 - p)` with `p` a sigmoid output (either order of terms and
/// factors), and the negations and reductions around it.
fn binary<'a>(model: &Model<'a>, log: Node<'a>, arg: Node<'a>, library: Option<Library>) -> Vec<Finding> {
    let Some((product, labels)) = probs::product_of(model, log) else { return Vec::new() };
    let Some((sum, other_term)) = term_of(product) else { return Vec::new() };
    // The other term: `(1 - y) * log(1 - p)`.
    let Some((complement_log, complement_labels)) = factors_with_log(model, other_term) else { return Vec::new() };
    let Some((complement_arg, _)) = probs::natural_log(model, complement_log) else { return Vec::new() };
    if !is_one_minus(model, complement_labels, labels) || !is_one_minus(model, complement_arg, arg) {
        return Vec::new();
    }
    if model.value(complement_arg).op() != Some(Op::Complement(Prob::Sigmoid)) {
        return Vec::new();
    }
    let chain = climb(model, sum);
    let source = probs::source(model, arg).filter(|s| s.prob == Prob::Sigmoid);
    let assignment = assignment(model, &source, arg);
    let what = match assignment {
        Some(_) => format!("`{}`, a sigmoid output", short(model.text(arg))),
        None => "a sigmoid output".to_string(),
    };
    let message = format!(
        "Binary cross-entropy written out on {what}: sigmoid reaches 0 and 1, log(0) = -inf and 0 * -inf = NaN; compute it from the logits"
    );
    let mut fixes = Vec::new();
    if let Some(source) = &source
        && chain.negations % 2 == 1
        && let Some(fix) = binary_with_logits(model, source, unparenthesized(labels), &chain)
    {
        fixes.push(fix);
    }
    if source.is_none()
        && chain.negations % 2 == 1
        && let Some(library) = library
        && let Some(fix) = written_binary_with_logits(model, arg, unparenthesized(labels), &chain, library)
    {
        fixes.push(fix);
    }
    let alias = log_alias(model, log);
    if let Some(library) = library
        && !has_comment(sum)
        && let Some(a) = probs::xlogy(model, product, labels, arg, library, alias)
        && let Some(b) =
            probs::xlogy(model, unparenthesized(other_term), complement_labels, complement_arg, library, alias)
    {
        let mut edits: Vec<Edit> = a.edits.into_iter().chain(b.edits).collect();
        edits.sort();
        edits.dedup();
        fixes.push(Fix {
            title: "Use `xlogy` for both terms".to_string(),
            applicability: Applicability::Unsafe,
            edits,
            whole: false,
        });
    }
    vec![Finding {
        span: Some(Span::of(chain.top)),
        message,
        fixes,
        related: related(model, assignment, arg, "a sigmoid output"),
    }]
}

/// Where the name `arg` is given the probabilities: the assignment of the softmax or sigmoid
/// call (`source`), or else the one the value came through (`out = model(x)` of a module whose
/// `forward` returns them).
fn assignment<'a>(model: &Model<'a>, source: &Option<Source<'a>>, arg: Node<'a>) -> Option<Span> {
    if let Some(source) = source {
        return source.assignment.map(Span::of);
    }
    let via = model.value(arg).via?;
    (arg.kind_name() == "identifier" && via.name == model.text(arg)).then_some(via.assigned)
}

fn related<'a>(model: &Model<'a>, assignment: Option<Span>, arg: Node<'a>, what: &str) -> Option<Related> {
    let assignment = assignment?;
    Some(Related { span: assignment, message: format!("`{}` is assigned {what} here", model.text(arg)) })
}

/// The alias the log call used (`th` in `th.log`), as NL101's xlogy fix takes it, so the two
/// fixes are one.
fn log_alias<'a>(model: &Model<'a>, log: Node<'a>) -> Option<&'a str> {
    match model.callee(log) {
        Some(Callee::Method { .. }) => None,
        _ => log.child_by_field_id(FIELD.function).and_then(|f| fixes::root_name(model, f)),
    }
}

/// The tensor library a method call most likely belongs to: the file's only one.
fn file_library(model: &Model) -> Option<Library> {
    let mut found = None;
    for (_, path) in model.imports.bindings() {
        if let Some(lib) = apis::library_of(&apis::canonical(path)) {
            if found.is_some_and(|f| f != lib) {
                return None;
            }
            found = Some(lib);
        }
    }
    found
}

/// `exp(...)` (an entropy of log-probabilities, NL106).
fn is_exp<'a>(model: &Model<'a>, node: Node<'a>) -> bool {
    model.value(node).op() == Some(Op::Exp)
}

/// The labels of a factor: `y`, or `y` of `-y` (negated).
fn labels_of(factor: Node) -> (Node, bool) {
    let f = unparenthesized(factor);
    if f.kind_name() == "unary_operator"
        && f.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "-")
        && let Some(inner) = f.child_by_field_id(FIELD.argument)
    {
        return (unparenthesized(inner), true);
    }
    (f, false)
}

/// The `+` a product is a term of (through parentheses), and the other term.
fn term_of(product: Node) -> Option<(Node, Node)> {
    let mut node = product;
    let mut parent = node.parent()?;
    while parent.kind_name() == "parenthesized_expression" {
        node = parent;
        parent = node.parent()?;
    }
    if parent.kind_name() != "binary_operator" || parent.child_by_field_id(FIELD.operator)?.kind_name() != "+" {
        return None;
    }
    let (left, right) = (parent.child_by_field_id(FIELD.left)?, parent.child_by_field_id(FIELD.right)?);
    Some((parent, if left == node { right } else { left }))
}

/// A term `a * log(b)` (or `log(b) * a`): the log call and `a`.
fn factors_with_log<'a>(model: &Model<'a>, term: Node<'a>) -> Option<(Node<'a>, Node<'a>)> {
    let term = unparenthesized(term);
    if term.kind_name() != "binary_operator" || term.child_by_field_id(FIELD.operator)?.kind_name() != "*" {
        return None;
    }
    let (left, right) = (term.child_by_field_id(FIELD.left)?, term.child_by_field_id(FIELD.right)?);
    for (log, other) in [(right, left), (left, right)] {
        let log = unparenthesized(log);
        if log.kind_name() == "call" && probs::natural_log(model, log).is_some() {
            return Some((log, other));
        }
    }
    None
}

/// `node` is `1 - of` (spelled so, parentheses aside).
fn is_one_minus<'a>(model: &Model<'a>, node: Node<'a>, of: Node<'a>) -> bool {
    let node = unparenthesized(node);
    node.kind_name() == "binary_operator"
        && node.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "-")
        && node.child_by_field_id(FIELD.left).and_then(|l| model.constant(l)) == Some(1.0)
        && node.child_by_field_id(FIELD.right).is_some_and(|r| same_expression(r, of, model.src))
}

/// `-sum(y * log(softmax(z, axis=k)), axis=k)` (or summed over everything) → the library's
/// per-example cross-entropy on `z`, inside the reductions the code applies after.
fn categorical_with_logits<'a>(
    model: &Model<'a>,
    source: &Source<'a>,
    labels: Node<'a>,
    chain: &Chain<'a>,
) -> Option<Fix> {
    let first = chain.reductions.first()?;
    if first.kind != Reduce::Sum || !first.plain || has_comment(chain.top) {
        return None;
    }
    let Some(Some(softmax_axis)) = source.axis(model) else { return None };
    // Summed over the class axis (consumed by the loss), or over everything (kept around it).
    let consumed = match first.axis {
        Some(axis) => {
            if axis_value(model, axis)? != softmax_axis {
                return None;
            }
            1
        }
        None => 0,
    };
    let logits = probs::logits_at(model, source, chain.top)?;
    let y = model.text(labels);
    let z = logits.text.as_str();
    let (target, args) = match source.family {
        Family::TensorFlow => {
            let v1 = source.path.as_deref().is_some_and(|p| p.starts_with("tensorflow.compat.v1."));
            let target = if v1 {
                // TF1's own function stops the gradient into the labels; `_v2` does not.
                "tensorflow.nn.softmax_cross_entropy_with_logits_v2"
            } else {
                "tensorflow.nn.softmax_cross_entropy_with_logits"
            };
            let axis = if softmax_axis == -1 { String::new() } else { format!(", axis={softmax_axis}") };
            (target, format!("labels={y}, logits={z}{axis}"))
        }
        Family::Keras => {
            let axis = if softmax_axis == -1 { String::new() } else { format!(", axis={softmax_axis}") };
            ("keras.ops.categorical_crossentropy", format!("{y}, {z}, from_logits=True{axis}"))
        }
        // Class probabilities on dim 1: `cross_entropy` with probability targets (float ones:
        // integer targets are class indices, `F.one_hot`'s raise).
        Family::Torch if softmax_axis == 1 && !integer_labels(model, labels) => {
            ("torch.nn.functional.cross_entropy", format!("{z}, {y}, reduction=\"none\""))
        }
        Family::Jax if softmax_axis == -1 && imports_optax(model) => {
            ("optax.softmax_cross_entropy", format!("{z}, {y}"))
        }
        _ => return None,
    };
    // `F.cross_entropy` over `torch.nn.functional.cross_entropy`: the longest module wins.
    let prefer = if target.starts_with("torch.") { None } else { source.alias };
    let (spelled, import) = fixes::spell(model, chain.top, target, prefer)?;
    let mut expr = format!("{spelled}({args})");
    for r in &chain.reductions[consumed..] {
        expr = wrap(model, expr, r);
    }
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.extend(logits.edits);
    edits.push(Edit { start: chain.top.start_byte(), end: chain.top.end_byte(), content: expr });
    edits.sort();
    Some(Fix {
        title: format!("Use `{}` on the logits", apis::leaf(&spelled)),
        applicability: Applicability::Unsafe,
        edits,
        whole: true,
    })
}

/// `-(y * log(p) + (1 - y) * log(1 - p))` with `p = sigmoid(z)` → the library's binary
/// cross-entropy on `z`, element-wise, inside the reductions the code applies.
fn binary_with_logits<'a>(model: &Model<'a>, source: &Source<'a>, labels: Node<'a>, chain: &Chain<'a>) -> Option<Fix> {
    if has_comment(chain.top) || !source.other_args(model).is_empty() {
        return None;
    }
    let logits = probs::logits_at(model, source, chain.top)?;
    binary_loss_on_logits(model, source.family, source.alias, &logits.text, logits.edits, labels, chain)
}

/// `-(y * log(p) + (1 - y) * log(1 - p))` with `p = 1 / (1 + exp(-z))`, a sigmoid written out
/// (here or in the one binding of `p` that reaches the loss): the library's binary cross-entropy
/// on `z`, where `z` can be read again at the loss. xlogy alone leaves a NaN gradient where the
/// sigmoid saturates (`torch.xlogy`'s gradient in its second argument at 0).
fn written_binary_with_logits<'a>(
    model: &Model<'a>,
    arg: Node<'a>,
    labels: Node<'a>,
    chain: &Chain<'a>,
    library: Library,
) -> Option<Fix> {
    if has_comment(chain.top) {
        return None;
    }
    let arg = unparenthesized(arg);
    let division = match arg.kind_name() {
        "identifier" => model.assigned_value(arg)?.1,
        _ => arg,
    };
    let written = crate::rules::contracts::written_sigmoid(model, division)?;
    // Bound to a name: only a name is read again at the loss (a matmul is not computed twice).
    if division != arg
        && (unparenthesized(written.read).kind_name() != "identifier"
            || !model.same_value_at(written.read, chain.top)
            || !crate::rules::contracts::unchanged_between(
                model,
                unparenthesized(written.read),
                division.end_byte(),
                chain.top,
            ))
    {
        return None;
    }
    // As `probs::logits_at`: no log-space form across a stopped gradient.
    if model.gradient_stopped(division) != model.gradient_stopped(chain.top) {
        return None;
    }
    // `exp(-(x @ w))`: the logits `x @ w`, parenthesized again where the loss's form needs it.
    let text = match written.read.kind_name() {
        "parenthesized_expression" if written.text == model.text(written.read) => {
            model.text(unparenthesized(written.read)).to_string()
        }
        _ => written.text,
    };
    binary_loss_on_logits(model, Family::of_library(library), None, &text, Vec::new(), labels, chain)
}

/// The library's binary cross-entropy on the logits `z`, element-wise, inside the reductions
/// of `chain`, in place of its top.
fn binary_loss_on_logits<'a>(
    model: &Model<'a>,
    family: Family,
    alias: Option<&'a str>,
    z: &str,
    logit_edits: Vec<Edit>,
    labels: Node<'a>,
    chain: &Chain<'a>,
) -> Option<Fix> {
    let y = model.text(labels);
    let (target, args, form) = match family {
        Family::TensorFlow => ("tensorflow.nn.sigmoid_cross_entropy_with_logits", format!("labels={y}, logits={z}"), 0),
        Family::Keras => ("keras.ops.binary_crossentropy", format!("{y}, {z}, from_logits=True"), 0),
        // Float labels only: an integer tensor raises there (`result type Float can't be cast`).
        Family::Torch if integer_labels(model, labels) => return None,
        Family::Torch => {
            ("torch.nn.functional.binary_cross_entropy_with_logits", format!("{z}, {y}, reduction=\"none\""), 0)
        }
        Family::Jax if imports_optax(model) => ("optax.sigmoid_binary_cross_entropy", format!("{z}, {y}"), 0),
        // softplus(z) - y * z, exactly the loss, with the library's logaddexp.
        Family::Jax => ("jax.numpy.logaddexp", format!("0, {z}"), 1),
        Family::NumPy => ("numpy.logaddexp", format!("0, {z}"), 1),
    };
    // `F.cross_entropy` over `torch.nn.functional.cross_entropy`: the longest module wins.
    let prefer = if target.starts_with("torch.") { None } else { alias };
    let (spelled, import) = fixes::spell(model, chain.top, target, prefer)?;
    let mut expr = match form {
        0 => format!("{spelled}({args})"),
        _ => format!("({spelled}({args}) - {} * {})", atom(model, labels), atom_text(z)),
    };
    for r in &chain.reductions {
        expr = wrap(model, expr, r);
    }
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.extend(logit_edits);
    edits.push(Edit { start: chain.top.start_byte(), end: chain.top.end_byte(), content: expr });
    edits.sort();
    Some(Fix {
        title: format!("Use `{}` on the logits", apis::leaf(&spelled)),
        applicability: Applicability::Unsafe,
        edits,
        whole: true,
    })
}

/// PyTorch labels known to be integers, which its losses on logits do not take as
/// probabilities: `F.one_hot(y, k)` (int64), directly or through the one name bound to it, or an
/// array the model knows is an integer or bool one (`torch.tensor([1, 0, 1])`).
fn integer_labels<'a>(model: &Model<'a>, labels: Node<'a>) -> bool {
    let labels = unparenthesized(labels);
    if model.dtype_of(labels).is_some_and(|d| !d.dtype.is_float()) {
        return true;
    }
    let value = model.assigned_value(labels).map_or(labels, |(_, value)| value);
    if value.kind_name() != "call" {
        return false;
    }
    match model.callee(value) {
        Some(Callee::Api(api)) if api == "torch.nn.functional.one_hot" => true,
        // `torch.tensor([1, 0, 1])`: integers and no `dtype=`.
        Some(Callee::Api(api)) if api == "torch.tensor" => {
            let args = crate::syntax::Args::of(value);
            args.keyword.is_empty() && args.positional.len() == 1 && integer_literals(args.positional[0])
        }
        _ => false,
    }
}

/// A list or tuple, possibly nested, of integer literals only.
fn integer_literals(node: Node) -> bool {
    let mut cursor = node.walk();
    match node.kind_name() {
        "integer" => true,
        "list" | "tuple" => {
            let items: Vec<Node> = node.named_children(&mut cursor).collect();
            !items.is_empty() && items.into_iter().all(integer_literals)
        }
        _ => false,
    }
}

/// An operand of `*` as text: parenthesized unless it is an atom.
fn atom<'a>(model: &Model<'a>, node: Node<'a>) -> String {
    match node.kind_name() {
        "identifier" | "call" | "attribute" | "subscript" | "integer" | "float" | "parenthesized_expression" => {
            model.text(node).to_string()
        }
        _ => format!("({})", model.text(node)),
    }
}

fn atom_text(text: &str) -> String {
    if text.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '.') {
        text.to_string()
    } else {
        format!("({text})")
    }
}

fn imports_optax(model: &Model) -> bool {
    model.imports.bindings().any(|(_, path)| path == "optax" || path.starts_with("optax."))
}
