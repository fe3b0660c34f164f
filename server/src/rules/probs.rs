//! What the log family's rules (NL101-NL106) share: where a probability came from (the softmax or
//! sigmoid call and its logits), how a fix reads those logits again at another place without
//! evaluating anything twice, each library's log-space functions, and the xlogy rewrite of a
//! product.

use std::cell::Cell;

use tree_sitter::Node;

use crate::rules::fixes::{self, Function};
use crate::semantic::reductions::{self, names_every_element};
use crate::semantic::transfer::{self, Transfer};
use crate::semantic::value::{Dtype, Library, Op, Prob, Value};
use crate::semantic::{Callee, Model, apis, flows};
use crate::smell::{Applicability, Edit, Fix};
use crate::syntax::{Args, FIELD, KindName, same_expression, short, unparenthesized};

/// Softmax functions, by canonical name.
pub const SOFTMAX: &[&str] =
    &["torch.softmax", "tensorflow.nn.softmax", "jax.nn.softmax", "keras.ops.softmax", "scipy.special.softmax"];
/// Sigmoid functions, by canonical name.
pub const SIGMOID: &[&str] =
    &["torch.sigmoid", "tensorflow.math.sigmoid", "jax.nn.sigmoid", "keras.ops.sigmoid", "scipy.special.expit"];
/// Log-softmax functions, by canonical name.
pub const LOG_SOFTMAX: &[&str] = &[
    "torch.log_softmax",
    "tensorflow.nn.log_softmax",
    "jax.nn.log_softmax",
    "keras.ops.log_softmax",
    "scipy.special.log_softmax",
];
/// Natural logarithms, by canonical name.
pub const NATURAL_LOGS: &[&str] =
    &["tensorflow.math.log", "keras.ops.log", "keras.backend.log", "torch.log", "numpy.log", "jax.numpy.log"];

/// Whose functions a fix writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// TensorFlow, and Keras 2 (`keras.backend`, `tf.keras`), whose tensors are TensorFlow's.
    TensorFlow,
    /// Keras 3's `keras.ops`.
    Keras,
    Torch,
    /// NumPy with SciPy.
    NumPy,
    Jax,
}

impl Family {
    /// The family of a dotted path as the code spelled it (before canonicalization, so that
    /// `K.softmax` of Keras 2 is told from `keras.ops.softmax`).
    pub fn of_path(path: &str) -> Option<Family> {
        let root = path.split('.').next().unwrap_or(path);
        Some(match root {
            "tensorflow" | "tf_keras" => Family::TensorFlow,
            "keras" if path.starts_with("keras.backend") || path.starts_with("keras.layers") => Family::TensorFlow,
            "keras" => Family::Keras,
            "torch" => Family::Torch,
            "numpy" | "scipy" => Family::NumPy,
            "jax" | "optax" | "flax" => Family::Jax,
            _ => return None,
        })
    }

    pub fn of_library(library: Library) -> Family {
        match library {
            Library::TensorFlow | Library::KerasBackend => Family::TensorFlow,
            Library::KerasOps => Family::Keras,
            Library::Torch => Family::Torch,
            Library::NumPy => Family::NumPy,
            Library::Jax => Family::Jax,
        }
    }

    pub fn library(self) -> Library {
        match self {
            Family::TensorFlow => Library::TensorFlow,
            Family::Keras => Library::KerasOps,
            Family::Torch => Library::Torch,
            Family::NumPy => Library::NumPy,
            Family::Jax => Library::Jax,
        }
    }
}

/// The softmax or sigmoid call a value is, directly or through one name.
#[derive(Clone, Debug)]
pub struct Source<'a> {
    pub prob: Prob,
    /// The call is the log-space form (`log_softmax`).
    pub log: bool,
    /// The call: `torch.softmax(z, -1)`, `z.softmax(-1)`, `tf.sigmoid(z)`.
    pub call: Node<'a>,
    /// The logits argument (the receiver of a method).
    pub logits: Node<'a>,
    /// The call is a tensor method on the logits.
    pub method: bool,
    /// The callee's dotted path as spelled (resolved through the imports), for API calls.
    pub path: Option<String>,
    /// The local name the callee starts from (`F` in `F.softmax`).
    pub alias: Option<&'a str>,
    pub family: Family,
    /// The assignment that bound the probability to the name it was read through.
    pub assignment: Option<Node<'a>>,
}

impl<'a> Source<'a> {
    /// The call's arguments other than the logits, as written (`dim=-1`, `axis=1`).
    pub fn other_args(&self, model: &Model<'a>) -> Vec<Node<'a>> {
        let Some(list) = self.call.child_by_field_id(FIELD.arguments) else { return Vec::new() };
        let mut cursor = list.walk();
        list.named_children(&mut cursor)
            .filter(|a| a.kind_name() != "comment" && *a != self.logits)
            .collect::<Vec<_>>()
            .into_iter()
            .filter(|a| {
                // `name=` of TensorFlow only names the op.
                !(a.kind_name() == "keyword_argument"
                    && a.child_by_field_id(FIELD.name).is_some_and(|n| model.text(n) == "name"))
            })
            .collect()
    }

    /// The axis the softmax normalizes over, as written, or the library's default: `Some(None)`
    /// is "every axis" (SciPy's default), `None` is unknown (PyTorch's implicit `dim`).
    pub fn axis(&self, model: &Model<'a>) -> Option<Option<i64>> {
        let args = Args::of(self.call);
        let (position, keywords): (usize, &[&str]) = if self.method { (0, &["dim"]) } else { (1, &["dim", "axis"]) };
        match args.get(position, keywords, model.src) {
            Some(node) => {
                let text = model.text(node);
                if text == "None" {
                    return match self.family {
                        Family::TensorFlow => Some(Some(-1)),
                        Family::NumPy => Some(None),
                        _ => None,
                    };
                }
                let v = model.constant(node)?;
                (v.fract() == 0.0).then_some(Some(v as i64))
            }
            None => match self.family {
                Family::TensorFlow | Family::Keras | Family::Jax => Some(Some(-1)),
                Family::NumPy => Some(None),
                Family::Torch => None,
            },
        }
    }
}

/// The softmax, log-softmax or sigmoid call `expr` is (inside parentheses), or holds through one
/// name bound to exactly that call in this function.
pub fn source<'a>(model: &Model<'a>, expr: Node<'a>) -> Option<Source<'a>> {
    let expr = unparenthesized(expr);
    let (call, assignment) = match expr.kind_name() {
        "call" => (expr, None),
        // `p = softmax(z)`, `p, q = softmax(z), z`, `(p := softmax(z))`.
        "identifier" => {
            let (assignment, value) = model.bound_value(expr)?;
            (value, Some(assignment))
        }
        _ => return None,
    };
    if call.kind_name() != "call" {
        return None;
    }
    let function = call.child_by_field_id(FIELD.function)?;
    let args = Args::of(call);
    if args.splat {
        return None;
    }
    match model.callee(call)? {
        Callee::Api(api) => {
            let (prob, log) = if SOFTMAX.contains(&api.as_str()) {
                (Prob::Softmax, false)
            } else if LOG_SOFTMAX.contains(&api.as_str()) {
                (Prob::Softmax, true)
            } else if SIGMOID.contains(&api.as_str()) {
                (Prob::Sigmoid, false)
            } else {
                return None;
            };
            let path = model.imports.resolve(function, model.src)?;
            let logits = args.get(0, &["input", "x", "logits", "features"], model.src)?;
            Some(Source {
                prob,
                log,
                call,
                logits,
                method: false,
                family: Family::of_path(&path)?,
                path: Some(path),
                alias: fixes::root_name(model, function),
                assignment,
            })
        }
        Callee::Method { name, receiver } => {
            let (prob, log) = match name {
                "softmax" => (Prob::Softmax, false),
                "log_softmax" => (Prob::Softmax, true),
                "sigmoid" if args.is_empty() => (Prob::Sigmoid, false),
                _ => return None,
            };
            // Tensor methods: PyTorch's.
            let family = match model.value(receiver).kind {
                crate::semantic::value::Kind::Array(Library::Torch) => Family::Torch,
                crate::semantic::value::Kind::Array(_) => return None,
                _ if imports_torch(model) => Family::Torch,
                _ => return None,
            };
            Some(Source {
                prob,
                log,
                call,
                logits: receiver,
                method: true,
                path: None,
                alias: None,
                family,
                assignment,
            })
        }
        _ => None,
    }
}

fn imports_torch(model: &Model) -> bool {
    model.imports.bindings().any(|(_, path)| path == "torch" || path.starts_with("torch."))
}

/// The array `node` picks elements of, and the selection (unparenthesized): `p[i]`,
/// `p.gather(1, y)`, `torch.take_along_dim(p, y, 1)`, `tf.gather(p, y)` (the library
/// functions and methods of [`Transfer::Select`]).
pub fn elements_of<'a>(model: &Model<'a>, node: Node<'a>) -> Option<(Node<'a>, Node<'a>)> {
    let node = unparenthesized(node);
    let array = match node.kind_name() {
        "subscript" => node.child_by_field_id(FIELD.value)?,
        "call" => match model.callee(node)? {
            Callee::Api(api) => match transfer::of_api(&api)? {
                Transfer::Select(a) => Args::of(node).get(a.position, a.keywords, model.src)?,
                _ => return None,
            },
            Callee::Method { name, receiver } => match transfer::of_method(name)? {
                Transfer::Select(_) => receiver,
                _ => return None,
            },
            _ => return None,
        },
        _ => return None,
    };
    Some((unparenthesized(array), node))
}

/// The floating-point dtype `node` is computed in, for messages: the one the code states or its
/// library's default (float64 for NumPy), float32 where nothing says.
pub fn dtype_name<'a>(model: &Model<'a>, node: Node<'a>) -> &'static str {
    model.dtype_of(node).map(|d| d.dtype).filter(|d| d.is_float()).map_or("float32", |d| d.name())
}

/// `p.sum(-1)` of a softmax `p` over its own axis (1 in every row: the softmax normalizes it
/// so), or over every element (the number of rows), as a sum, a mean or a maximum (the largest
/// of K probabilities summing to 1 is at least 1/K; `p.max(-1)[0]`, `p.amax(-1)`, `p.max()`):
/// no zero to fear. A slice, a masked product, a `where=` or another axis keeps the zeros of
/// the terms (`p.sum(0)` over the batch is 0 where a class underflows in every row; so is
/// `p.max(0)`), and so does a minimum.
pub fn softmax_reduced_above_zero<'a>(model: &Model<'a>, node: Node<'a>) -> bool {
    let Some(r) = model.reduction_through(node) else { return false };
    if !matches!(r.reduce, reductions::Reduce::Sum | reductions::Reduce::Mean | reductions::Reduce::Max) || r.other {
        return false;
    }
    let Some(source) = source(model, r.operand).filter(|s| s.prob == Prob::Softmax && !s.log) else {
        return false;
    };
    match r.axis {
        None => true,
        Some(axis) if names_every_element(axis, r.library == Some(Library::Torch)) => true,
        Some(axis) => matches!((source.axis(model), axis_value(model, axis)), (Some(Some(a)), Some(b)) if a == b),
    }
}

/// The logits of `source`, readable at `at`: their text, and the edits that make it readable
/// there (binding them to a new name before the probability's assignment, when they are an
/// expression). `None` when they cannot be read there without evaluating something twice.
pub struct Logits {
    pub text: String,
    pub edits: Vec<Edit>,
}

impl Logits {
    /// The title of a fix that writes `code` with these logits: `Use `code``, or, when the fix
    /// first binds them to a new name, says so (the name in `code` is not in the file yet).
    pub fn fix_title(&self, code: &str) -> String {
        if self.edits.is_empty() {
            format!("Use `{code}`")
        } else {
            format!("Bind the logits to `{}`, then use `{code}`", self.text)
        }
    }
}

pub fn logits_at<'a>(model: &Model<'a>, source: &Source<'a>, at: Node<'a>) -> Option<Logits> {
    let others_readable = || source.other_args(model).iter().all(|a| model.same_value_at(*a, at));
    let Some(assignment) = source.assignment else {
        // The call is right here: its logits are read where they stood.
        return Some(Logits { text: model.text(source.logits).to_string(), edits: Vec::new() });
    };
    // Read where the code runs after the softmax and stands before it (`log(p) if (p :=
    // softmax(z)) is not None else None`): what runs between is not in the text between.
    if !others_readable() || at.start_byte() < source.call.end_byte() {
        return None;
    }
    // `with torch.no_grad(): t = softmax(z)`, then `log(t)` outside: the log-space form at the
    // log would carry gradients into `z` that the probability never had, unless `z` was
    // computed with its gradient stopped too (`zt = teacher(x)` in the block; an expression,
    // bound to a new name just before the softmax, is).
    if model.gradient_stopped(source.call)
        && !model.gradient_stopped(at)
        && unparenthesized(source.logits).kind_name() == "identifier"
        && !bound_with_gradient_stopped(model, source.logits)
    {
        return None;
    }
    // A name holding the same value at both places is read again; a name rebound in between
    // is not, and nothing else is read twice (a matmul, a model's forward pass).
    if unparenthesized(source.logits).kind_name() == "identifier" {
        // The statement that binds the probabilities (that holds the walrus).
        let mut statement = assignment;
        while let Some(up) = model.parent(statement).filter(|up| !matches!(up.kind_name(), "block" | "module")) {
            statement = up;
        }
        if model.same_value_at(source.logits, at)
            && crate::rules::contracts::name_unchanged_at(
                model,
                unparenthesized(source.logits),
                source.call.end_byte(),
                statement,
                at,
            )
        {
            return Some(Logits { text: model.text(source.logits).to_string(), edits: Vec::new() });
        }
        return None;
    }
    // An in-place write in between (`z[0] = 5.0`, `w = z; w *= 2`, `self.step()`) may change the
    // logits after the activation read them (for a name, `name_unchanged_at` asks it).
    if !crate::rules::contracts::no_write_between(model, source.logits, source.call.end_byte(), at) {
        return None;
    }
    // `p = softmax(EXPR)`: bind `logits = EXPR` just before, and read `logits` at `at`.
    let statement = assignment.parent().filter(|s| s.kind_name() == "expression_statement")?;
    if !statement.parent().is_some_and(|b| matches!(b.kind_name(), "block" | "module")) {
        return None;
    }
    if assignment.child_by_field_id(FIELD.right).map(unparenthesized) != Some(source.call) {
        return None;
    }
    let line_start = crate::text::line_start(model.src, statement.start_byte());
    let indent = &model.src[line_start..statement.start_byte()];
    if !indent.chars().all(|c| c == ' ' || c == '\t') || crate::syntax::has_comment(source.logits) {
        return None;
    }
    let name = model.fresh_name("logits", model.scope_of(statement));
    let expr = model.text(source.logits);
    let expr = if expr.contains('\n') { format!("({expr})") } else { expr.to_string() };
    let newline = crate::text::line_ending(model.src, statement.start_byte());
    let edits = vec![
        Edit { start: line_start, end: line_start, content: format!("{indent}{name} = {expr}{newline}") },
        Edit { start: source.logits.start_byte(), end: source.logits.end_byte(), content: name.clone() },
    ];
    Some(Logits { text: name, edits })
}

/// Every binding of the name `name` that reaches it is an assignment in code whose gradient is
/// stopped (a parameter, or a name bound elsewhere, is not).
fn bound_with_gradient_stopped<'a>(model: &Model<'a>, name: Node<'a>) -> bool {
    let reaching = model.scope_index(model.scope_of(name)).reaching(model.text(name), name.start_byte());
    !reaching.entries.is_empty()
        && reaching.entries.iter().all(|e| match e.binding {
            crate::semantic::scope::Binding::Value(v) => model.gradient_stopped(v),
            _ => false,
        })
}

/// The log-space function a family computes `log(softmax(...))` (or `log(sigmoid(...))`) with,
/// by canonical-or-spelled dotted path: the softmax's own module where it has one, so the fix
/// keeps the call's alias (`F.softmax` → `F.log_softmax`).
pub fn log_space_function(source: &Source) -> Option<String> {
    let path = source.path.as_deref();
    let module = path.and_then(|p| p.rsplit_once('.')).map(|(m, _)| m);
    Some(match (source.prob, source.family) {
        (_, Family::TensorFlow) if path.is_some_and(keras_backend) => match source.prob {
            // Keras 2's backend has no log_softmax (nor does `tf.keras.backend`, Keras 3's
            // legacy one under TensorFlow): its tensors are TensorFlow's.
            Prob::Softmax => "tensorflow.nn.log_softmax".to_string(),
            Prob::Sigmoid => "tensorflow.math.log_sigmoid".to_string(),
        },
        (Prob::Softmax, Family::Torch) if source.method => return None,
        (Prob::Softmax, _) => format!("{}.log_softmax", module?),
        (Prob::Sigmoid, Family::TensorFlow) => "tensorflow.math.log_sigmoid".to_string(),
        (Prob::Sigmoid, Family::Keras) => "keras.ops.log_sigmoid".to_string(),
        (Prob::Sigmoid, Family::Torch) => "torch.nn.functional.logsigmoid".to_string(),
        (Prob::Sigmoid, Family::NumPy) => "scipy.special.log_expit".to_string(),
        (Prob::Sigmoid, Family::Jax) => "jax.nn.log_sigmoid".to_string(),
    })
}

/// A Keras backend's function of TensorFlow tensors, by the path the code spells: Keras 2's
/// (`keras.backend`, `tf_keras`), or `tf.keras.backend` (`tensorflow.keras.backend.log`,
/// `tensorflow.compat.v1.keras.backend.log`), which has `log`, `softmax` and `sigmoid` but no
/// `log_softmax`, `log1p` or `expm1`.
pub fn keras_backend(path: &str) -> bool {
    Family::of_path(path) == Some(Family::TensorFlow)
        && (!path.starts_with("tensorflow.") || path.contains(".keras.backend."))
}

/// `-x` as source text: `-z`, `-model(x)`, `-(a + b)`.
pub fn negated(model: &Model, node: Node) -> String {
    let node = unparenthesized(node);
    let text = model.text(node);
    match node.kind_name() {
        "identifier" | "call" | "attribute" | "subscript" | "integer" | "float" => format!("-{text}"),
        // `-(-z)` is `z`.
        "unary_operator" if node.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "-") => node
            .child_by_field_id(FIELD.argument)
            .map(|a| model.text(a).to_string())
            .unwrap_or_else(|| format!("-({text})")),
        _ => format!("-({text})"),
    }
}

/// When `call` is a factor of a product (`a * log(b)` or `log(b) * a`, parentheses allowed):
/// the product and the other factor.
pub fn product_of<'a>(model: &Model<'a>, call: Node<'a>) -> Option<(Node<'a>, Node<'a>)> {
    let mut node = call;
    let mut parent = model.parent(node)?;
    while parent.kind_name() == "parenthesized_expression" {
        node = parent;
        parent = model.parent(node)?;
    }
    if parent.kind_name() != "binary_operator" || parent.child_by_field_id(FIELD.operator)?.kind_name() != "*" {
        return None;
    }
    let (left, right) = (parent.child_by_field_id(FIELD.left)?, parent.child_by_field_id(FIELD.right)?);
    let other = if left == node { right } else { left };
    Some((parent, other))
}

/// The xlogy fix: `a * log(b)` → `xlogy(a, b)`.
pub fn xlogy<'a>(
    model: &Model<'a>,
    product: Node<'a>,
    other: Node<'a>,
    arg: Node<'a>,
    library: Library,
    alias: Option<&str>,
) -> Option<Fix> {
    let function = fixes::function(library, Function::Xlogy)?;
    let args = format!("{}, {}", model.text(unparenthesized(other)), model.text(arg));
    let (spelled, _) = fixes::spell(model, product, function, alias)?;
    let title = format!("Use `{}`", short(&format!("{spelled}({args})")));
    fixes::replace_with_call(model, product, function, alias, &args, title, Applicability::Unsafe)
}

/// The xlogy fix of a ratio whose numerator is the other factor, a KL divergence's term:
/// `p * log(p / q)` → `xlogy(p, p) - xlogy(p, q)`. Equal in value wherever the original is
/// defined, and 0 where `p` is, also where `q` is 0 too (the original's 0 / 0 = NaN; SciPy's
/// `rel_entr` is the same function). The gradient there stays NaN (`xlogy`'s derivative in `q`
/// is `p / q`). Parenthesized unless the product stands alone (an argument, the right side of an
/// assignment, a `return`).
pub fn xlogy_of_ratio<'a>(
    model: &Model<'a>,
    product: Node<'a>,
    other: Node<'a>,
    arg: Node<'a>,
    library: Library,
    alias: Option<&str>,
) -> Option<Fix> {
    let ratio = unparenthesized(arg);
    if ratio.kind_name() != "binary_operator" || ratio.child_by_field_id(FIELD.operator)?.kind_name() != "/" {
        return None;
    }
    let (numerator, denominator) =
        (unparenthesized(ratio.child_by_field_id(FIELD.left)?), unparenthesized(ratio.child_by_field_id(FIELD.right)?));
    let p = model.text(unparenthesized(other));
    if numerator.kind_name() != "identifier" || model.text(numerator) != p {
        return None;
    }
    let function = fixes::function(library, Function::Xlogy)?;
    let (spelled, import) = fixes::spell(model, product, function, alias)?;
    let q = model.text(denominator);
    let difference = format!("{spelled}({p}, {p}) - {spelled}({p}, {q})");
    let alone = model.parent(product).is_some_and(|parent| {
        matches!(
            parent.kind_name(),
            "argument_list" | "parenthesized_expression" | "assignment" | "return_statement" | "expression_statement"
        )
    });
    let content = if alone { difference.clone() } else { format!("({difference})") };
    let title = format!("Use `{}`", short(&difference));
    let mut edits: Vec<Edit> = import.into_iter().collect();
    edits.push(Edit { start: product.start_byte(), end: product.end_byte(), content });
    Some(Fix { title, applicability: Applicability::Unsafe, edits, whole: false })
}

/// The natural log a call computes, and its argument: `torch.log(x)`, `np.log(x)`, `x.log()`.
pub fn natural_log<'a>(model: &Model<'a>, call: Node<'a>) -> Option<(Node<'a>, Option<Library>)> {
    match model.callee(call)? {
        Callee::Api(api) if NATURAL_LOGS.contains(&api.as_str()) => {
            let args = Args::of(call);
            let arg = args.get(0, &["x", "input", "a"], model.src)?;
            if args.splat || args.positional.len() + args.keyword.len() != 1 {
                return None;
            }
            Some((arg, apis::library_of(&api)))
        }
        Callee::Method { name: "log", receiver } if Args::of(call).is_empty() => {
            let library = match model.value(receiver).kind {
                crate::semantic::value::Kind::Array(lib) => Some(lib),
                _ => None,
            };
            Some((receiver, library))
        }
        _ => None,
    }
}

/// The callee of a call as written, for messages: `tf.math.log`, `.log()`.
pub fn callee_text<'a>(model: &Model<'a>, call: Node<'a>) -> String {
    match (model.callee(call), call.child_by_field_id(FIELD.function)) {
        (Some(Callee::Method { name, .. }), _) => format!(".{name}()"),
        (_, Some(f)) => model.text(f).to_string(),
        _ => "log".to_string(),
    }
}

/// A reduction a cross-entropy or entropy term goes through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    Sum,
    Mean,
}

pub struct Reduction<'a> {
    pub kind: Reduce,
    pub call: Node<'a>,
    /// A method (`x.sum(1)`), not a function (`torch.sum(x, 1)`).
    pub method: bool,
    /// The function as written (`tf.reduce_sum`) or the method name.
    pub callee: &'a str,
    /// The axis argument, if given.
    pub axis: Option<Node<'a>>,
    /// Every argument but the reduced value, as written.
    pub rest: Vec<Node<'a>>,
    /// Only the value and the axis are given.
    pub plain: bool,
}

/// The expression a term climbs to through parentheses, negations and sum or mean reductions.
pub struct Chain<'a> {
    pub top: Node<'a>,
    pub negations: usize,
    /// The reductions from the inside out.
    pub reductions: Vec<Reduction<'a>>,
}

pub fn climb<'a>(model: &Model<'a>, inner: Node<'a>) -> Chain<'a> {
    let mut node = inner;
    let mut chain = Chain { top: inner, negations: 0, reductions: Vec::new() };
    while let Some(parent) = model.parent(node) {
        match parent.kind_name() {
            "parenthesized_expression" => node = parent,
            "unary_operator" if parent.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "-") => {
                chain.negations += 1;
                node = parent;
                chain.top = node;
            }
            "argument_list" => match reduction_function(model, parent, node) {
                Some(r) => {
                    node = r.call;
                    chain.top = node;
                    chain.reductions.push(r);
                }
                None => break,
            },
            "attribute" if parent.child_by_field_id(FIELD.object) == Some(node) => {
                match reduction_method(model, parent) {
                    Some(r) => {
                        node = r.call;
                        chain.top = node;
                        chain.reductions.push(r);
                    }
                    None => break,
                }
            }
            _ => break,
        }
    }
    chain
}

/// `torch.sum(node, dim)`, `tf.reduce_mean(node, axis=1)`.
fn reduction_function<'a>(model: &Model<'a>, list: Node<'a>, node: Node<'a>) -> Option<Reduction<'a>> {
    let call = model.parent(list).filter(|c| c.kind_name() == "call")?;
    let Some(Callee::Api(api)) = model.callee(call) else { return None };
    apis::library_of(&api)?;
    let kind = match apis::leaf(&api) {
        "sum" | "reduce_sum" => Reduce::Sum,
        "mean" | "reduce_mean" => Reduce::Mean,
        _ => return None,
    };
    let args = Args::of(call);
    if args.splat || args.positional.first() != Some(&node) {
        return None;
    }
    let axis = args.get(1, &["axis", "dim", "reduction_indices"], model.src);
    let rest: Vec<Node<'a>> = list_args(list).into_iter().filter(|a| *a != node).collect();
    let plain = rest.len() == usize::from(axis.is_some());
    let callee = model.text(call.child_by_field_id(FIELD.function)?);
    Some(Reduction { kind, call, method: false, callee, axis, rest, plain })
}

/// `node.sum(1)`, `node.mean()`.
fn reduction_method<'a>(model: &Model<'a>, attribute: Node<'a>) -> Option<Reduction<'a>> {
    let call = model
        .parent(attribute)
        .filter(|c| c.kind_name() == "call" && c.child_by_field_id(FIELD.function) == Some(attribute))?;
    let name = model.text(attribute.child_by_field_id(FIELD.attribute)?);
    let kind = match name {
        "sum" => Reduce::Sum,
        "mean" => Reduce::Mean,
        _ => return None,
    };
    let args = Args::of(call);
    if args.splat {
        return None;
    }
    let axis = args.get(0, &["axis", "dim"], model.src);
    let rest = call.child_by_field_id(FIELD.arguments).map(list_args).unwrap_or_default();
    let plain = rest.len() == usize::from(axis.is_some());
    Some(Reduction { kind, call, method: true, callee: name, axis, rest, plain })
}

fn list_args(list: Node) -> Vec<Node> {
    let mut cursor = list.walk();
    list.named_children(&mut cursor).filter(|a| a.kind_name() != "comment").collect()
}

/// A constant axis: `1`, `-1`, `[1]`, `(1,)`, `axis=1`.
pub fn axis_value<'a>(model: &Model<'a>, node: Node<'a>) -> Option<i64> {
    let node = unparenthesized(node);
    let node = match node.kind_name() {
        "list" | "tuple" if node.named_child_count() == 1 => node.named_child(0)?,
        _ => node,
    };
    let v = model.constant(node)?;
    (v.fract() == 0.0).then_some(v as i64)
}

/// Wraps `expr` in a reduction as the code wrote it.
pub fn wrap<'a>(model: &Model<'a>, expr: String, r: &Reduction<'a>) -> String {
    let rest: Vec<&str> = r.rest.iter().map(|a| model.text(*a)).collect();
    if r.method {
        let receiver = if expr.ends_with(')') && !expr.starts_with('(') { expr } else { format!("({expr})") };
        format!("{receiver}.{}({})", r.callee, rest.join(", "))
    } else {
        let args: Vec<&str> = std::iter::once(expr.as_str()).chain(rest).collect();
        format!("{}({})", r.callee, args.join(", "))
    }
}

// When the -inf of a log is discarded or replaced after it is taken (NL101's reading, shared by
// the rules that report the log of a probability).

/// The log's -inf is discarded by a `where`, replaced by `nan_to_num`, or every use of the value
/// holding it keeps only its finite elements.
pub fn minus_inf_discarded<'a>(model: &Model<'a>, call: Node<'a>, arg: Node<'a>) -> bool {
    discarded_by_where(model, call, arg)
        || discarded_later(model, call, arg)
        || replaced_by_nan_to_num(model, call)
        || entropy_nan_discarded(model, call, arg)
}

/// The log meets only its own argument's zeros, in `p * log(p)` (directly, or through the name
/// `logp = log(p)` at each of its uses) whose NaN is discarded ([`nan_discarded`]): where the
/// -inf is, the product is 0 * -inf = NaN, and its author skips it. NL106 leaves such an entropy
/// alone, and so do the rules about its log. (`nansum(y * log(p))` keeps the -inf: not this.)
fn entropy_nan_discarded<'a>(model: &Model<'a>, call: Node<'a>, arg: Node<'a>) -> bool {
    let own_entropy = |factor: Node<'a>| {
        let Some(product) = model.parent(factor).filter(|p| {
            p.kind_name() == "binary_operator"
                && p.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "*")
        }) else {
            return false;
        };
        let other = [product.child_by_field_id(FIELD.left), product.child_by_field_id(FIELD.right)]
            .into_iter()
            .flatten()
            .find(|side| *side != factor);
        other.is_some_and(|o| same_expression(o, arg, model.src)) && nan_discarded(model, product)
    };
    if own_entropy(call) {
        return true;
    }
    let assigned = model
        .parent(call)
        .is_some_and(|a| a.kind_name() == "assignment" && a.child_by_field_id(FIELD.right) == Some(call));
    assigned && every_use(model, call).is_some_and(|uses| uses.iter().all(|&u| own_entropy(u)))
}

/// `value` narrowed by `cond` being `truth`, for the constraints on `subject`.
pub fn narrowed<'a>(
    model: &Model<'a>,
    cond: Node<'a>,
    truth: bool,
    subject: Node<'a>,
    mut value: Value<'a>,
) -> Value<'a> {
    let mut found = Vec::new();
    model.constraints_of(cond, truth, 0, &mut found);
    for c in found {
        if same_expression(c.subject, subject, model.src) {
            value.range = value.range.meet(c.range);
        }
    }
    value
}

/// The log is a branch of a `where` whose condition excludes the argument's zeros there
/// (`where(t == 0, 0, log(t))`, `where(p > 0, log(p), 0)`): the -inf is discarded. Its gradient
/// is another matter (NaN in the untaken branch), which another rule reports.
pub fn discarded_by_where<'a>(model: &Model<'a>, call: Node<'a>, arg: Node<'a>) -> bool {
    let Some(list) = enclosing_argument_list(model, call) else { return false };
    let Some(where_call) = model.parent(list).filter(|p| p.kind_name() == "call") else { return false };
    let is_where = matches!(model.callee(where_call), Some(Callee::Api(api)) if apis::leaf(&api) == "where");
    if !is_where {
        return false;
    }
    let args = Args::of(where_call);
    let [cond, a, b] = args.positional.as_slice() else { return false };
    let truth = if contains(*a, call) {
        true
    } else if contains(*b, call) {
        false
    } else {
        return false;
    };
    let value = narrowed(model, *cond, truth, arg, Value::unknown().with_range(model.value(arg).range));
    !value.range.contains_zero() || {
        // `where(t == 0, 0, log(t))` leaves t != 0: the pinhole opens no end of an unknown range,
        // but it does say the zeros are discarded.
        let mut found = Vec::new();
        model.constraints_of(*cond, truth, 0, &mut found);
        found.iter().any(|c| same_expression(c.subject, arg, model.src) && !c.range.contains_zero())
    }
}

/// The assignment that holds `expr` (a log call) through arithmetic (`v = x * (1 - log(x))`),
/// and the uses of its name that this assignment reaches, metadata (`v.shape`) left out; `None`
/// when `expr` is not assigned so.
fn later_uses<'a>(model: &Model<'a>, expr: Node<'a>) -> Option<Vec<Node<'a>>> {
    let mut node = expr;
    let assignment = loop {
        let parent = model.parent(node)?;
        match parent.kind_name() {
            "parenthesized_expression" | "binary_operator" | "unary_operator" => node = parent,
            "assignment" if parent.child_by_field_id(FIELD.right) == Some(node) => break parent,
            _ => return None,
        }
    };
    reached_uses(model, assignment)
}

/// The uses of the name `assignment` binds that it reaches, after it, metadata (`v.shape`) left
/// out; `None` when its target is not a plain name.
pub fn reached_uses<'a>(model: &Model<'a>, assignment: Node<'a>) -> Option<Vec<Node<'a>>> {
    let target = assignment.child_by_field_id(FIELD.left).filter(|l| l.kind_name() == "identifier")?;
    let name = model.text(target);
    // The reads this assignment reaches, from those of every binding of the name, found once
    // per scope and name: not later targets, nor uses of a rebinding.
    let reached = model.reads_reached(model.scope_of(assignment), name);
    let reads = reached.get(&assignment.id()).map_or(&[][..], Vec::as_slice);
    let after = reads.partition_point(|n| n.start_byte() <= assignment.end_byte());
    let uses = reads[after..]
        .iter()
        .copied()
        .filter(|&u| {
            // `v.dtype`, `v.shape`: metadata, not the values.
            let metadata = model.parent(u).is_some_and(|p| {
                p.kind_name() == "attribute"
                    && p.child_by_field_id(FIELD.object) == Some(u)
                    && p.child_by_field_id(FIELD.attribute)
                        .is_some_and(|a| matches!(model.text(a), "dtype" | "shape" | "device" | "ndim"))
            });
            !metadata
        })
        .collect();
    Some(uses)
}

fn is_log_call<'a>(model: &Model<'a>, call: Node<'a>) -> bool {
    call.kind_name() == "call" && matches!(model.callee(call), Some(Callee::Api(api)) if apis::leaf(&api) == "log")
}

/// Functions that read their argument as unnormalized log-probabilities or scores and only pick
/// from them: an entry at -inf is never picked, one at +inf always (`argmax`, sampling from
/// logits). No gradient flows through them.
const PICKERS: &[&str] = &["argmax", "argmin", "categorical", "multinomial", "top_k"];

/// Whether `node` (an expression) only reaches a picker (`argmax(logits - log(-log(u)))`, the
/// Gumbel-max trick; `categorical(log(where(keep, p, 0)))`, a top-p mask), through `+`, `-`,
/// negation and a log of it.
fn picked_from<'a>(model: &Model<'a>, mut node: Node<'a>) -> bool {
    loop {
        let Some(parent) = model.parent(node) else { return false };
        match parent.kind_name() {
            "parenthesized_expression" | "unary_operator" => node = parent,
            "binary_operator"
                if parent.child_by_field_id(FIELD.operator).is_some_and(|o| matches!(o.kind_name(), "+" | "-")) =>
            {
                node = parent
            }
            "argument_list" => {
                let Some(call) = model.parent(parent) else { return false };
                if is_log_call(model, call) {
                    node = call;
                    continue;
                }
                return matches!(model.callee(call), Some(Callee::Api(api)) if PICKERS.contains(&apis::leaf(&api)));
            }
            // `(logits - log(-log(u))).argmax(-1)`
            "attribute" if parent.child_by_field_id(FIELD.object) == Some(node) => {
                return parent.child_by_field_id(FIELD.attribute).is_some_and(|a| model.text(a) == "argmax")
                    && model.parent(parent).is_some_and(|c| c.kind_name() == "call");
            }
            _ => return false,
        }
    }
}

/// The log's -inf only decides what a picker picks (see [`picked_from`]), directly or through
/// the one name it is assigned to: it is the intended value, not a hazard.
pub fn only_picked_from<'a>(model: &Model<'a>, call: Node<'a>) -> bool {
    if picked_from(model, call) {
        return true;
    }
    // The outermost log of `log(-log(u))` (Gumbel noise) is what gets assigned.
    let mut outer = call;
    let mut node = call;
    while let Some(parent) = model.parent(node) {
        match parent.kind_name() {
            "parenthesized_expression" | "unary_operator" => node = parent,
            "argument_list" if model.parent(parent).is_some_and(|c| is_log_call(model, c)) => {
                outer = model.parent(parent).unwrap_or(outer);
                node = outer;
            }
            _ => break,
        }
    }
    later_uses(model, outer).is_some_and(|uses| !uses.is_empty() && uses.iter().all(|u| picked_from(model, *u)))
}

/// `values = x * (1 - log(x))` whose every later use is `where(x == 0, 0, values)`: the -inf (or
/// NaN) the log makes where `x` is 0 is discarded by each use.
pub fn discarded_later<'a>(model: &Model<'a>, call: Node<'a>, arg: Node<'a>) -> bool {
    let Some(uses) = later_uses(model, call) else { return false };
    !uses.is_empty()
        && uses.iter().all(|u| {
            if finite_selected(model, *u) {
                return true;
            }
            let Some(list) = model.parent(*u).filter(|p| p.kind_name() == "argument_list") else { return false };
            let Some(where_call) = model.parent(list) else { return false };
            if !matches!(model.callee(where_call), Some(Callee::Api(api)) if apis::leaf(&api) == "where") {
                return false;
            }
            let args = Args::of(where_call);
            let [cond, a, b] = args.positional.as_slice() else { return false };
            let truth = if *a == *u {
                true
            } else if *b == *u {
                false
            } else {
                return false;
            };
            let mut found = Vec::new();
            model.constraints_of(*cond, truth, 0, &mut found);
            found.iter().any(|c| same_expression(c.subject, arg, model.src) && !c.range.contains_zero())
        })
}

/// `where(isfinite(v), v, fallback)`: the use `v` is kept only where it is finite (both uses of
/// `v` there count).
pub fn finite_selected<'a>(model: &Model<'a>, use_: Node<'a>) -> bool {
    let Some(mut where_call) = model.parent(use_).and_then(|l| model.parent(l)) else { return false };
    let mut branch = use_;
    if matches!(model.callee(where_call), Some(Callee::Api(api)) if matches!(apis::leaf(&api), "isfinite" | "is_finite"))
    {
        // The use inside the test: look at the `where` the test belongs to.
        let Some(outer) = model.parent(where_call).and_then(|l| model.parent(l)) else { return false };
        let Some(kept) = Args::of(outer).positional.get(1).copied() else { return false };
        if Args::of(outer).positional.first() != Some(&where_call) {
            return false;
        }
        branch = kept;
        where_call = outer;
    }
    if !matches!(model.callee(where_call), Some(Callee::Api(api)) if apis::leaf(&api) == "where") {
        return false;
    }
    let args = Args::of(where_call);
    let [cond, a, _] = args.positional.as_slice() else { return false };
    let test = unparenthesized(*cond);
    *a == branch
        && same_expression(branch, use_, model.src)
        && matches!(model.callee(test), Some(Callee::Api(api)) if matches!(apis::leaf(&api), "isfinite" | "is_finite"))
        && Args::of(test).positional.first().is_some_and(|v| same_expression(*v, branch, model.src))
}

/// `expr` is reduced by a reduction that skips NaN (`nansum`, `nanmean`, as a function or a
/// method) or replaced by `nan_to_num`, a few operators and calls up: its author discards the NaN
/// (`-(logp * p).nansum(-1)`, transformers' typical-p sampling). Also through the name it is
/// assigned to (`h = p * logp` ... `h.nansum(-1)`) where every use that assignment reaches does so.
pub fn nan_discarded<'a>(model: &Model<'a>, expr: Node<'a>) -> bool {
    nan_discarded_here(model, expr)
        || every_use(model, expr).is_some_and(|uses| uses.iter().all(|&u| nan_discarded_here(model, u)))
}

/// [`later_uses`] where they are every read of the value, and some: the assignment is in a
/// function, in no loop (a use before it in the loop reads the previous pass's value), and no
/// function or lambda nested in that function reads the name. `None` otherwise, or where `expr`
/// is not assigned to a name.
fn every_use<'a>(model: &Model<'a>, expr: Node<'a>) -> Option<Vec<Node<'a>>> {
    let uses = later_uses(model, expr)?;
    let name = model.text(*uses.first()?);
    let scope = model.scope_of(expr);
    if scope.kind_name() != "function_definition" {
        return None;
    }
    let mut node = expr;
    while let Some(parent) = model.parent(node).filter(|p| *p != scope) {
        if matches!(parent.kind_name(), "for_statement" | "while_statement") {
            return None;
        }
        node = parent;
    }
    (!model.nested_names(scope).contains(name)).then_some(uses)
}

fn nan_discarded_here<'a>(model: &Model<'a>, expr: Node<'a>) -> bool {
    let mut node = expr;
    for _ in 0..8 {
        let Some(parent) = model.parent(node) else { return false };
        match parent.kind_name() {
            "parenthesized_expression" | "unary_operator" | "binary_operator" | "argument_list" | "attribute" => {}
            "call" => {
                if model.callee(parent).is_some_and(|c| matches!(c.leaf(), Some("nansum" | "nanmean" | "nan_to_num"))) {
                    return true;
                }
            }
            _ => return false,
        }
        node = parent;
    }
    false
}

/// `nan_to_num(log(x), ...)`: the -inf is replaced.
pub fn replaced_by_nan_to_num<'a>(model: &Model<'a>, call: Node<'a>) -> bool {
    let Some(list) = enclosing_argument_list(model, call) else { return false };
    let Some(outer) = model.parent(list) else { return false };
    matches!(model.callee(outer), Some(Callee::Api(api)) if apis::leaf(&api) == "nan_to_num")
}

pub fn enclosing_argument_list<'a>(model: &Model<'a>, node: Node<'a>) -> Option<Node<'a>> {
    let mut n = node;
    loop {
        let p = model.parent(n)?;
        match p.kind_name() {
            "argument_list" => return Some(p),
            "parenthesized_expression" | "binary_operator" | "unary_operator" => n = p,
            _ => return None,
        }
    }
}

pub fn contains(outer: Node, inner: Node) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}

/// Which way minimizing the losses that hold `expr` (a log of a probability) moves the
/// probability, as far as the code says: a loss is minimized where it is a name with the word
/// `loss` or `cost` in it, the receiver of `.backward()`, the argument of an optimizer's
/// `minimize(...)`, or what a function named for a loss returns. `expr` reaches it through
/// negations, sums and means, `+`, `-` (the subtrahend changes sign) and positive constant
/// factors, directly or through names (`score = log(p); loss = -mean(score)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    /// Every loss reached holds `expr` negated (`d_loss = -tf.reduce_mean(tf.log(d_real) +
    /// tf.log(1. - d_fake))`, `loss = -torch.log(p).mean()`): its own gradient raises the
    /// probability, away from the 0 that breaks the log.
    Raised,
    /// A loss holds it with a positive sign (the saturating generator loss
    /// `mean(log(1 - D(G(z))))`): minimizing drives the probability to 0.
    Lowered,
    /// No loss found, or a step the sign is not known through.
    Unknown,
}

pub fn push_of_losses<'a>(model: &Model<'a>, expr: Node<'a>) -> Push {
    push_from(model, expr, false, 0, &Cell::new(USES_FOLLOWED))
}

/// How many uses of names one [`push_of_losses`] follows: each name reached can have many uses,
/// and following all of them four names deep grew as a power of the uses (a chain of names each
/// used 20 times took 17 s). Past it the push is unknown.
const USES_FOLLOWED: usize = 64;

/// Parts of a name (split at `_`, digits after them dropped) that say the value is minimized.
fn names_a_minimized_loss(name: &str) -> bool {
    name.to_ascii_lowercase()
        .split('_')
        .any(|part| matches!(part.trim_end_matches(|c: char| c.is_ascii_digit()), "loss" | "cost" | "losses"))
}

/// [`push_of_losses`] from `start`, whose sign in the expression climbed so far is `negative`;
/// `depth` counts the names followed, `budget` the uses that may still be.
fn push_from<'a>(model: &Model<'a>, start: Node<'a>, mut negative: bool, depth: usize, budget: &Cell<usize>) -> Push {
    let sink = |negative: bool| if negative { Push::Raised } else { Push::Lowered };
    if depth > 4 || budget.get() == 0 {
        return Push::Unknown;
    }
    budget.set(budget.get() - 1);
    let mut node = start;
    for _ in 0..LEVELS_CLIMBED {
        let Some(parent) = model.parent(node) else { return Push::Unknown };
        match parent.kind_name() {
            "parenthesized_expression" => {}
            "unary_operator" => match parent.child_by_field_id(FIELD.operator).map(|o| o.kind_name()) {
                Some("-") => negative = !negative,
                Some("+") => {}
                _ => return Push::Unknown,
            },
            "binary_operator" => {
                let left = parent.child_by_field_id(FIELD.left);
                let right = parent.child_by_field_id(FIELD.right);
                let other = if left == Some(node) { right } else { left };
                match parent.child_by_field_id(FIELD.operator).map(|o| o.kind_name()) {
                    Some("+") => {}
                    Some("-") if right == Some(node) => negative = !negative,
                    Some("-") => {}
                    // A constant factor, or a constant divisor (not `c / expr`).
                    Some("*") | Some("/")
                        if left == Some(node)
                            || parent.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "*") =>
                    {
                        match other.and_then(|o| model.constant(o)) {
                            Some(c) if c > 0.0 => {}
                            Some(c) if c < 0.0 => negative = !negative,
                            _ => return Push::Unknown,
                        }
                    }
                    _ => return Push::Unknown,
                }
            }
            "argument_list" => {
                if let Some(r) = reduction_function(model, parent, node) {
                    node = r.call;
                    continue;
                }
                let Some(call) = model.parent(parent).filter(|c| c.kind_name() == "call") else { return Push::Unknown };
                // An optimizer's `minimize(loss)`, a Keras layer's or model's `add_loss(loss)`.
                let minimize = call
                    .child_by_field_id(FIELD.function)
                    .filter(|f| f.kind_name() == "attribute")
                    .and_then(|f| f.child_by_field_id(FIELD.attribute))
                    .is_some_and(|a| matches!(model.text(a), "minimize" | "add_loss"));
                return if minimize && Args::of(call).get(0, &["loss", "losses"], model.src) == Some(node) {
                    sink(negative)
                } else {
                    Push::Unknown
                };
            }
            "attribute" if parent.child_by_field_id(FIELD.object) == Some(node) => {
                if let Some(r) = reduction_method(model, parent) {
                    node = r.call;
                    continue;
                }
                if let Some(call) = shape_method(model, parent) {
                    node = call;
                    continue;
                }
                let backward = parent.child_by_field_id(FIELD.attribute).is_some_and(|a| model.text(a) == "backward")
                    && model.parent(parent).is_some_and(|c| c.kind_name() == "call");
                return if backward { sink(negative) } else { Push::Unknown };
            }
            // `return loss, aux` (`jax.value_and_grad(loss_fn, has_aux=True)`): the first of a
            // loss function's results is its loss.
            "expression_list" | "tuple"
                if parent.named_child(0) == Some(node)
                    && model.parent(parent).is_some_and(|r| r.kind_name() == "return_statement") => {}
            "return_statement" => {
                let function = model.enclosing_function(parent);
                let named = function
                    .and_then(|f| f.child_by_field_id(FIELD.name))
                    .is_some_and(|n| names_a_minimized_loss(model.text(n)));
                // The forward pass of a loss module (`class NegativeSamplingLoss(nn.Module)`).
                let loss_module = function
                    .filter(|f| {
                        f.child_by_field_id(FIELD.name)
                            .is_some_and(|n| matches!(model.text(n), "forward" | "call" | "__call__"))
                    })
                    .and_then(|f| model.class_of_method(f))
                    .and_then(|c| c.child_by_field_id(FIELD.name))
                    .is_some_and(|n| model.text(n).to_ascii_lowercase().ends_with("loss"));
                return if named || loss_module { sink(negative) } else { Push::Unknown };
            }
            "assignment" if parent.child_by_field_id(FIELD.right) == Some(node) => {
                let Some(target) = parent.child_by_field_id(FIELD.left).filter(|l| l.kind_name() == "identifier")
                else {
                    return Push::Unknown;
                };
                return through_name(model, parent, target, negative, depth, budget);
            }
            // `loss += term`, `loss -= term` (the subtrahend changes sign), and the accumulator
            // itself going on (`loss += reg`, `loss *= -1.0` after `loss = ...`).
            "augmented_assignment" => {
                let Some(target) = parent.child_by_field_id(FIELD.left).filter(|l| l.kind_name() == "identifier")
                else {
                    return Push::Unknown;
                };
                let right = parent.child_by_field_id(FIELD.right);
                let operator = parent.child_by_field_id(FIELD.operator).map(|o| o.kind_name());
                match operator {
                    Some("-=") if right == Some(node) => negative = !negative,
                    Some("+=" | "-=") => {}
                    Some("*=" | "/=") if target == node => match right.and_then(|r| model.constant(r)) {
                        Some(c) if c > 0.0 => {}
                        Some(c) if c < 0.0 => negative = !negative,
                        _ => return Push::Unknown,
                    },
                    _ => return Push::Unknown,
                }
                return through_name(model, parent, target, negative, depth, budget);
            }
            _ => return Push::Unknown,
        }
        node = parent;
    }
    Push::Unknown
}

/// How many levels of one expression [`push_from`] climbs: a loss written as a sum of thousands
/// of terms holds its first ones as many levels down, and climbing from each cost time in
/// proportion to the terms squared (a sum of 3,200 logs took 9 s). Past it the push is unknown,
/// and the log is reported as where no loss is found.
const LEVELS_CLIMBED: usize = 64;

/// [`push_from`] on through the name `target` that `statement` (an assignment or augmented
/// assignment) binds, the value holding the log with the sign `negative`.
fn through_name<'a>(
    model: &Model<'a>,
    statement: Node<'a>,
    target: Node<'a>,
    negative: bool,
    depth: usize,
    budget: &Cell<usize>,
) -> Push {
    let uses = followed_uses(model, statement, target);
    if names_a_minimized_loss(model.text(target)) {
        // A name for a loss is the loss minimized, unless its uses say otherwise: a term that
        // later arithmetic turns into the loss (`out_loss = log(sigmoid(s)); return -(out_loss +
        // noise_loss).mean()`) counts with its sign there, and so does any other use that
        // minimizes it (`.backward()` beside a `neg_loss = -loss` kept for a log); a use that
        // says nothing (`print(loss)`, `losses.append(loss)`) does not count. Reads the uses miss
        // (a loop's earlier pass, a nested function) leave it unknown.
        // At module level the uses are not followed (`followed_uses`): the name is the loss
        // minimized.
        let Some(uses) = uses else {
            return if model.is_module_scope(model.scope_of(statement)) {
                if negative { Push::Raised } else { Push::Lowered }
            } else {
                Push::Unknown
            };
        };
        let pushes: Vec<Push> = uses
            .iter()
            .filter_map(|u| {
                let push = push_from(model, *u, negative, depth + 1, budget);
                (in_arithmetic(model, *u) || push != Push::Unknown).then_some(push)
            })
            .collect();
        if pushes.is_empty() {
            return if negative { Push::Raised } else { Push::Lowered };
        }
        return combined(pushes.into_iter());
    }
    combined(uses.iter().flatten().map(|u| push_from(model, *u, negative, depth + 1, budget)))
}

/// The call `attribute(...)` when it is a method that keeps its object's values
/// (`x.squeeze()`, `x.float()`; [`flows::KEEPING_METHODS`]).
fn shape_method<'a>(model: &Model<'a>, attribute: Node<'a>) -> Option<Node<'a>> {
    let name = model.text(attribute.child_by_field_id(FIELD.attribute)?);
    if !flows::KEEPING_METHODS.contains(&name) {
        return None;
    }
    model
        .parent(attribute)
        .filter(|c| c.kind_name() == "call" && c.child_by_field_id(FIELD.function) == Some(attribute))
}

/// The pushes of several uses together: lowered by one, raised by all, else unknown.
fn combined(pushes: impl Iterator<Item = Push>) -> Push {
    let pushes: Vec<Push> = pushes.collect();
    if pushes.contains(&Push::Lowered) {
        Push::Lowered
    } else if !pushes.is_empty() && pushes.iter().all(|p| *p == Push::Raised) {
        Push::Raised
    } else {
        Push::Unknown
    }
}

/// `use` is an operand of arithmetic or of a sum or mean, or reshaped into another name, not a
/// statement's own value, a call's argument or a method's receiver (`print(loss)`,
/// `loss.backward()`, `losses.append(loss)`).
fn in_arithmetic<'a>(model: &Model<'a>, use_: Node<'a>) -> bool {
    let mut node = use_;
    while let Some(parent) = model.parent(node) {
        match parent.kind_name() {
            "parenthesized_expression" => node = parent,
            "unary_operator" | "binary_operator" => return true,
            // `out_loss = out_loss.squeeze()`: the term goes on under the name.
            "assignment" => return parent.child_by_field_id(FIELD.right) == Some(node) && node != use_,
            "argument_list" => return reduction_function(model, parent, node).is_some(),
            "attribute" if parent.child_by_field_id(FIELD.object) == Some(node) => {
                if reduction_method(model, parent).is_some() {
                    return true;
                }
                match shape_method(model, parent) {
                    Some(call) => node = call,
                    None => return false,
                }
            }
            _ => return false,
        }
    }
    false
}

/// The uses `assignment` reaches of the name it binds (maybe none), where they are all its reads:
/// in a function, none before it in an enclosing loop (those read the previous pass's value),
/// and no function, lambda or class nested in it mentions the name. `None` at module level:
/// whether a function reads the name there is in the functions' text, which the language
/// server's cache does not analyze again with the module's code.
fn followed_uses<'a>(model: &Model<'a>, assignment: Node<'a>, target: Node<'a>) -> Option<Vec<Node<'a>>> {
    let scope = model.scope_of(assignment);
    if model.is_module_scope(scope) {
        return None;
    }
    let uses = reached_uses(model, assignment)?;
    if uses.is_empty() {
        return Some(uses);
    }
    let name = model.text(target);
    let mut node = assignment;
    while let Some(parent) = model.parent(node).filter(|p| *p != scope) {
        if matches!(parent.kind_name(), "for_statement" | "while_statement") {
            let identifiers = model.identifiers(scope);
            let before = identifiers.get(name).is_some_and(|all| {
                all.iter().any(|n| n.start_byte() >= parent.start_byte() && n.start_byte() < target.start_byte())
            });
            if before {
                return None;
            }
        }
        node = parent;
    }
    (!model.nested_names(scope).contains(name)).then_some(uses)
}

/// A probability in float32 or wider whose 0 needs a logit far out, where the losses that hold
/// the log do not drive it: a float32 sigmoid output is 0 only below a logit of about -88.7
/// (`exp(-z)` overflows; PyTorch, TensorFlow and JAX alike), a softmax output only about 104
/// below the largest logit (`exp` underflows past the subnormals), one minus a sigmoid output
/// above about 16.6 (float64: -745, 745 and 36.7). A sigmoid output is kept from 0 unless a
/// minimized loss holds its log with a positive sign ([`Push::Lowered`]: minimizing
/// `mean(log(sigmoid(z)))` drives `z` down with a gradient that does not vanish); a softmax
/// output and one minus a probability only where every loss holds the log negated
/// ([`Push::Raised`]: `-log(1 - D(G(z)))` in a discriminator's loss, whose own gradient raises
/// `1 - D(G(z))`). In float16 they are 0 at a logit of about -17.3, a gap of about 17, and 8.3.
pub fn kept_from_underflow<'a>(model: &Model<'a>, call: Node<'a>, arg: Node<'a>, value: &Value<'a>, op: Op) -> bool {
    if op.probability().is_none() || half_precision(model, arg, value) {
        return false;
    }
    match (op, push_of_losses(model, call)) {
        (_, Push::Lowered) => false,
        (Op::Sigmoid, _) | (_, Push::Raised) => true,
        (_, Push::Unknown) => false,
    }
}

/// The value is float16, by the code's word (`.half()`, `dtype=torch.float16`, a
/// `mixed_float16` policy).
pub fn half_precision<'a>(model: &Model<'a>, arg: Node<'a>, value: &Value<'a>) -> bool {
    value.dtype == Some(Dtype::F16) || model.dtype_of(arg).is_some_and(|d| d.dtype == Dtype::F16)
}
