//! What the loss-contract rules (NL301 softmax-into-logits-loss, NL302 sigmoid-into-logits-loss,
//! NL303 logits-into-probability-loss) share: finding the losses an activation reaches, and the
//! fixes that drop an activation or change what a loss expects.

use tree_sitter::Node;

use crate::rules::{Checker, Finding, fixes};
use crate::semantic::eval::FORWARD_METHODS;
use crate::semantic::flows::{LossCall, LossFlow, LossesByProducer, Source, applies, object_output, split_object};
use crate::semantic::losses::Expects;
use crate::semantic::scope::Binding;
use crate::semantic::value::{Kind, Op, Prob};
use crate::semantic::writes::{Written, names_no_value};
use crate::semantic::{Callee, Model, apis};
use crate::smell::{Applicability, Edit, Fix, Related};
use crate::syntax::{Args, FIELD, KindName, Span, short, unparenthesized};

/// A loss an activation reaches.
pub enum Reached<'a> {
    /// A loss call in the same function (or module-level code).
    Here(LossCall<'a>),
    /// A loss call elsewhere in the file, through `via` (a class, a function, a held object).
    Elsewhere { flow: LossFlow, via: Source },
}

/// The op of a probability.
pub fn prob_op(prob: Prob) -> Op {
    match prob {
        Prob::Softmax => Op::Softmax,
        Prob::Sigmoid => Op::Sigmoid,
    }
}

fn prob_name(prob: Prob) -> &'static str {
    match prob {
        Prob::Softmax => "softmax",
        Prob::Sigmoid => "sigmoid",
    }
}

/// NL301 and NL302: `node` applies `prob` (a call of softmax, a softmax module or a layer with
/// that activation) or builds a layer whose output it is; report it where it reaches a loss that
/// applies `prob` itself.
pub fn double_activation<'a>(cx: &Checker<'_, 'a>, node: Node<'a>, prob: Prob) -> Vec<Finding> {
    let model = cx.model;
    if !model.mentions_logits_loss(prob) {
        return Vec::new();
    }
    let op = prob_op(prob);
    let value = model.value(node);
    let applies_here = value.producer.is_some_and(|p| p.node == node && p.op == op) && !returns_it(model, node);
    // A layer built with the activation; a stack (`Sequential`, `Model`) is reported at its
    // last layer instead.
    let builds = matches!(&value.kind, Kind::Object(class)
        if object_output(class) == Some(op)
            && !matches!(apis::leaf(split_object(class).0), "Sequential" | "Model"));
    if let Some(compile) = compile_without_producer(model, node, prob) {
        return vec![compile];
    }
    if !applies_here && !builds {
        return Vec::new();
    }
    // A layer built and applied at once, `nn.Softmax(dim=1)(z)`: the application is the
    // activation's output and is reported itself (the call around this one), once.
    if builds && !applies_here && applied_at_once(model, node, op).is_some() {
        return Vec::new();
    }
    // A whole application (`keras.applications.ResNet50(...)`) has no activation to point at:
    // it is reported where it is compiled (`compile_without_producer`), once.
    if builds && matches!(model.callee(node), Some(Callee::Api(api)) if api.starts_with("keras.applications.")) {
        return Vec::new();
    }
    // `z.softmax(-1)` takes a dimension; `helpers.softmax(z)` is some other object's method.
    if let Some(Callee::Method { .. }) = model.callee(node)
        && Args::of(node).positional.iter().any(|a| model.constant(*a).is_none_or(|c| c.fract() != 0.0))
    {
        return Vec::new();
    }
    // `softmax(z) if not is_training else z`: applied on one branch only, as tutorials write a
    // network that returns logits to the training loss and probabilities to evaluation.
    if applies_here && on_one_branch_only(model, node, op) {
        return Vec::new();
    }
    let reached = reached(model, node, prob, applies_here, builds);
    let Some(first) = reached.first() else { return Vec::new() };
    let what = activation_text(model, node, prob);
    let (message, related) = match first {
        Reached::Here(l) => (
            format!(
                "{what} is passed to `{}`, {}: {} is applied twice",
                l.display,
                applies(Expects::Logits(prob)),
                prob_name(prob)
            ),
            Some(Related {
                span: Span::of(l.call),
                message: format!("`{}` applies {} to it again", l.display, prob_name(prob)),
            }),
        ),
        Reached::Elsewhere { flow, via } => (
            format!(
                "{what} reaches `{}`{} through {}, {}: {} is applied twice",
                display_loss(&flow.loss),
                if flow.unit.is_empty() { String::new() } else { format!(" in `{}`", flow.unit) },
                via_text(via),
                applies(Expects::Logits(prob)),
                prob_name(prob)
            ),
            None,
        ),
    };
    let others = other_callers(model, node, &reached, applies_here);
    let fixes = drop_activation(model, node, prob, &others, &reached).into_iter().collect();
    vec![Finding { span: Some(Span::of(node)), message, fixes, related }]
}

/// The call that applies the layer `ctor` builds where it is built (`nn.Softmax(dim=1)(z)` for
/// `nn.Softmax(dim=1)`), when that call applies `op` and is reported itself.
fn applied_at_once<'a>(model: &Model<'a>, ctor: Node<'a>, op: Op) -> Option<Node<'a>> {
    let outer =
        ctor.parent().filter(|p| p.kind_name() == "call" && p.child_by_field_id(FIELD.function) == Some(ctor))?;
    let applies = model.value(outer).producer.is_some_and(|p| p.node == outer && p.op == op);
    (applies && !returns_it(model, outer)).then_some(outer)
}

/// The file's units (`f`, `C.m`, `""`) that call the function returning the activation, or one
/// that returns its result on, other than the losses it reaches and those functions: dropping
/// the activation gives them logits too (`predict`, which calls the `forward` a loss calls).
/// A layer built with the activation (`applies_here` false) passes it on through the classes and
/// holders the losses are reached through: their other callers get logits too.
fn other_callers<'a>(model: &Model<'a>, node: Node<'a>, reached: &[Reached<'a>], applies_here: bool) -> Vec<String> {
    let mut chain = Vec::new();
    if applies_here {
        let Some(own) = model.source_of_function(model.scope_of(node)) else { return Vec::new() };
        chain.push(own);
    }
    let mut losses = Vec::new();
    for r in reached {
        if let Reached::Elsewhere { flow, via } = r {
            chain.push(via.clone());
            losses.push(flow.unit.as_str());
        }
    }
    if losses.is_empty() {
        return Vec::new();
    }
    chain.sort();
    chain.dedup();
    // The functions of the chain (a class's calls are those of its forward), whose calls of one
    // another pass the activation on.
    let functions: Vec<String> = chain
        .iter()
        .flat_map(|s| match s {
            Source::Class(c) => FORWARD_METHODS.iter().map(|m| format!("{c}.{m}")).collect(),
            Source::Function(f) => vec![f.clone()],
            _ => Vec::new(),
        })
        .collect();
    let mut out: Vec<String> = chain
        .iter()
        .flat_map(|s| model.callers_of(s))
        .filter(|u| !functions.contains(u) && !losses.contains(&u.as_str()))
        .collect();
    // Functions by name, then the module-level code.
    out.sort_by(|a, b| (a.is_empty(), a).cmp(&(b.is_empty(), b)));
    out.dedup();
    out
}

/// `` (and to `a`, `b` and 2 more)`` for a fix's title, or nothing.
fn and_to(others: &[String]) -> String {
    let name = |u: &String| if u.is_empty() { "the module-level code".to_string() } else { format!("`{u}`") };
    let names: Vec<String> = others.iter().take(2).map(name).collect();
    match others.len() {
        0 => String::new(),
        1 => format!(" (and to {})", names[0]),
        2 => format!(" (and to {} and {})", names[0], names[1]),
        n => format!(" (and to {}, {} and {} more)", names[0], names[1], n - 2),
    }
}

/// `node` calls a function, a method or a module of the file that returns the activation's
/// output: the activation is applied in there, and followed from there to the losses its
/// callers compute (reported once, at the activation, not again at each call).
fn returns_it<'a>(model: &Model<'a>, node: Node<'a>) -> bool {
    match model.callee(node) {
        Some(Callee::Local(_)) => true,
        Some(Callee::Method { name, .. }) => !matches!(name, "softmax" | "sigmoid"),
        Some(Callee::Value(f)) => matches!(model.value(f).kind, Kind::Instance(_)),
        _ => false,
    }
}

/// The losses `node`'s output reaches.
fn reached<'a>(model: &Model<'a>, node: Node<'a>, prob: Prob, applies_here: bool, builds: bool) -> Vec<Reached<'a>> {
    let wanted = Some(Expects::Logits(prob));
    let op = prob_op(prob);
    let mut out = Vec::new();
    let scope = model.scope_of(node);
    // The stack `node` ends, if it is the last layer of one.
    let stack = enclosing_stack(model, node);
    let losses = model.losses_by_producer(scope, op, || losses_by_producer(model, scope, prob));
    let mut hits: Vec<usize> = losses.by_producer.get(&node.id()).cloned().unwrap_or_default();
    if builds {
        for object in [Some(node), stack].into_iter().flatten() {
            hits.extend(losses.by_object.get(&object.id()).into_iter().flatten());
        }
    }
    hits.sort_unstable();
    hits.dedup();
    for i in hits {
        let (l, _, every_path) = &losses.losses[i];
        if builds || *every_path {
            out.push(Reached::Here(l.clone()));
        }
    }
    if !out.is_empty() {
        return out;
    }
    // Returned by a function or a forward: where the file passes its calls' results.
    if applies_here
        && scope.kind_name() == "function_definition"
        && returns(model, scope, node)
        && let Some(source) = model.source_of_function(scope)
    {
        for flow in model.flows_from(&source) {
            if flow.expects == wanted && flow.op == Some(op) {
                out.push(Reached::Elsewhere { flow, via: source.clone() });
            }
        }
        // Returned on by another function of the file: that function's callers.
        if let Some(q) = model.qualified_name(scope) {
            for flow in model.flows_passing_through(&q) {
                if flow.expects == wanted
                    && flow.op == Some(op)
                    && let Some(via) = flow.source.clone()
                {
                    out.push(Reached::Elsewhere { flow, via });
                }
            }
        }
    }
    // A layer, or the last layer of a stack, held in `self.<attr>` or a module-level name.
    if builds && let Some(holder) = model.holder_of(stack.unwrap_or(node)) {
        for flow in model.flows_from(&holder) {
            if flow.expects == wanted && flow.op == Some(op) {
                out.push(Reached::Elsewhere { flow, via: holder.clone() });
            }
        }
        // Held by a class whose forward returns that activation: the forward's callers. (A
        // layer held as `self.softmax` is reported where the forward calls it instead.)
        if let Source::Attribute { class, attr } = &holder
            && !attr.eq_ignore_ascii_case(prob_name(prob))
        {
            let source = Source::Class(class.clone());
            for flow in model.flows_from(&source) {
                if flow.expects == wanted && flow.op == Some(op) {
                    out.push(Reached::Elsewhere { flow, via: source.clone() });
                }
            }
        }
    }
    out
}

/// The loss calls of `scope` that expect the logits of `prob` and receive its output, indexed by
/// the nodes that may produce what they receive: the prediction's producer, and those of the
/// values the input can take ([`may_produce`]: the prediction's value keeps one producer of a
/// join, and `softmax(a) if c else softmax(b)` reaches the loss through both); by object, the
/// constructor of the object whose call gives the prediction. Each says whether every value its
/// input can take is the output ([`always_produced`]): a softmax under `if flag:` with `p = z`
/// on the other path gives the loss logits there, as a conditional expression does.
fn losses_by_producer<'a>(model: &Model<'a>, scope: Node<'a>, prob: Prob) -> LossesByProducer<'a> {
    let wanted = Some(Expects::Logits(prob));
    let op = prob_op(prob);
    let mut out = LossesByProducer::default();
    for l in model.loss_calls_in(scope).iter() {
        if l.expects != wanted {
            continue;
        }
        let p = model.loss_prediction(l);
        if p.op != Some(op) {
            continue;
        }
        let i = out.losses.len();
        let mut producers: Vec<Node<'a>> = p.producer.into_iter().collect();
        let mut every_path = l.compile || l.input.is_none();
        if let Some(input) = l.input
            && !l.compile
        {
            let (values, every) = values(model, input);
            producers.extend(model.value(input).producer.map(|pr| pr.node));
            producers.extend(values.iter().filter_map(|v| model.value(*v).producer.map(|pr| pr.node)));
            every_path = every && values.iter().all(|v| v.kind_name() == "none" || model.value(*v).op() == Some(op));
        }
        producers.sort_unstable_by_key(|n| n.id());
        producers.dedup();
        for producer in producers {
            out.by_producer.entry(producer.id()).or_default().push(i);
        }
        if let Some(object) = p.object {
            out.by_object.entry(object.id()).or_default().push(i);
        }
        out.losses.push((l.clone(), p, every_path));
    }
    out
}

/// `model.compile(loss=...(from_logits=True))` on a model whose output is `prob` but built where
/// nanlint cannot point at the activation (`keras.applications.*`): reported at the compile.
fn compile_without_producer<'a>(model: &Model<'a>, node: Node<'a>, prob: Prob) -> Option<Finding> {
    let l = model.loss_call(node).filter(|l| l.compile && l.expects == Some(Expects::Logits(prob)))?;
    let p = model.loss_prediction(&l);
    if p.op != Some(prob_op(prob)) || p.producer.is_some() || p.source.is_some() {
        return None;
    }
    let receiver = l.input?;
    let message = format!(
        "`{}` outputs {} probabilities and is compiled with `{}`, {}: {} is applied twice",
        short(model.text(receiver)),
        prob_name(prob),
        l.display,
        applies(Expects::Logits(prob)),
        prob_name(prob)
    );
    let fixes = from_logits_false(model, &l).into_iter().collect();
    Some(Finding { span: None, message, fixes, related: None })
}

/// The `nn.Sequential(...)` or `keras.Sequential([...])` call `node` is the last layer of.
fn enclosing_stack<'a>(model: &Model<'a>, node: Node<'a>) -> Option<Node<'a>> {
    let mut up = node.parent()?;
    if up.kind_name() == "list" {
        up = up.parent()?;
    }
    if up.kind_name() != "argument_list" {
        return None;
    }
    let call = up.parent()?;
    (model.sequential_last(call) == Some(node)).then_some(call)
}

/// A `return` of `function` (outside nested functions) returns the value `node` produced, and
/// every `return` of it returns an output of `node`'s operation on every path: a function
/// that returns the activation on one path only (`if self.training: return z` before
/// `return softmax(z)`, `out = softmax(out)` under an `if`) gives its callers logits on another.
fn returns<'a>(model: &Model<'a>, function: Node<'a>, node: Node<'a>) -> bool {
    let Some(body) = function.child_by_field_id(FIELD.body) else { return false };
    let Some(op) = model.value(node).op() else { return false };
    // A bare `return` (a guard such as `if x is None: return`) gives no logits.
    let values = return_values(body);
    values.iter().all(|v| always_produced(model, *v, op)) && values.iter().any(|v| may_produce(model, *v, node))
}

/// `expr` can be the output of `node`, on one of its [`values`]: the joined value of `out`
/// bound on both branches of an `if` keeps only one producer.
fn may_produce<'a>(model: &Model<'a>, expr: Node<'a>, node: Node<'a>) -> bool {
    let produces = |e: Node<'a>| model.value(e).producer.is_some_and(|p| p.node == node);
    produces(expr) || values(model, expr).0.into_iter().any(produces)
}

/// The expressions whose value `expr` can take: through conditional expressions and the
/// `name = value` bindings of a name that reach it, a few levels deep; and whether that is
/// every value (no level cut off, no binding from outside the scope or of another kind).
fn values<'a>(model: &Model<'a>, expr: Node<'a>) -> (Vec<Node<'a>>, bool) {
    let (mut out, mut every) = (Vec::new(), true);
    let mut pending = vec![(expr, 0)];
    while let Some((expr, depth)) = pending.pop() {
        let expr = unparenthesized(expr);
        match expr.kind_name() {
            _ if depth > 4 => every = false,
            "conditional_expression" => {
                for branch in [expr.named_child(0), expr.named_child(2)] {
                    match branch {
                        Some(b) => pending.push((b, depth + 1)),
                        None => every = false,
                    }
                }
            }
            "identifier" => {
                let scope = model.scope_of(expr);
                let reaching = model.scope_index(scope).reaching(model.text(expr), expr.start_byte());
                every &= !reaching.outer && !reaching.entries.is_empty();
                for e in &reaching.entries {
                    match e.binding {
                        Binding::Value(v) => pending.push((v, depth + 1)),
                        _ => every = false,
                    }
                }
            }
            _ => out.push(expr),
        }
    }
    (out, every)
}

/// `node` (a call applying `op`) is one branch of a conditional expression whose other branch
/// does not apply it (`softmax(z) if not is_training else z`).
fn on_one_branch_only<'a>(model: &Model<'a>, node: Node<'a>, op: Op) -> bool {
    let mut inner = node;
    while let Some(up) = inner.parent() {
        match up.kind_name() {
            "parenthesized_expression" => inner = up,
            "conditional_expression" => {
                let (a, b) = (up.named_child(0), up.named_child(2));
                let other = if a == Some(inner) {
                    b
                } else if b == Some(inner) {
                    a
                } else {
                    return false;
                };
                return other.is_none_or(|o| !always_produced(model, o, op));
            }
            _ => return false,
        }
    }
    false
}

/// Every value `expr` can have ([`values`]) is an output of `op` or `None` (`return None` as a
/// guard, `softmax(z) if z is not None else None`: no logits reach a loss).
fn always_produced<'a>(model: &Model<'a>, expr: Node<'a>, op: Op) -> bool {
    let (values, every) = values(model, expr);
    every && values.into_iter().all(|v| v.kind_name() == "none" || model.value(v).op() == Some(op))
}

fn via_text(via: &Source) -> String {
    match via {
        Source::Class(c) => format!("the output of `{c}`"),
        Source::Function(f) => format!("the result of `{f}`"),
        Source::Attribute { attr, .. } => format!("the calls of `self.{attr}`"),
        Source::Global(g) => format!("the calls of `{g}`"),
    }
}

/// How the message names a loss recorded in a flow.
pub fn display_loss(loss: &str) -> String {
    match crate::semantic::losses::by_name(loss) {
        Some(l) => l.display(),
        None => format!("\"{loss}\""),
    }
}

/// "The softmax output `F.softmax(z, dim=1)`", "The output of `nn.Softmax(dim=1)`": the start
/// of a message, capitalized as every rule's message is.
fn activation_text<'a>(model: &Model<'a>, node: Node<'a>, prob: Prob) -> String {
    let spelled = call_text(model, node);
    match model.value(node).kind {
        Kind::Object(_) => format!("The output of `{spelled}`"),
        _ => format!("The {} output `{spelled}`", prob_name(prob)),
    }
}

/// A call as messages show it: its text when short and on one line, else `callee(…)`.
pub fn call_text(model: &Model, call: Node) -> String {
    let full = model.text(call);
    if !full.contains('\n') && full.chars().count() <= 40 {
        return full.to_string();
    }
    match call.child_by_field_id(FIELD.function) {
        Some(f) if f.kind_name() != "call" => format!("{}(…)", short(model.text(f))),
        Some(f) => format!("{}(…)", call_text(model, f)),
        None => short(full),
    }
}

/// A sigmoid written out, `1 / (1 + exp(a))`, read as its logits.
pub struct WrittenSigmoid<'a> {
    /// The call of `exp`.
    pub exp: Node<'a>,
    /// The expression the logits are read from: `t` for `exp(-t)`, else `a`.
    pub read: Node<'a>,
    /// The logits as text: `t`, or `-a`.
    pub text: String,
}

/// The logits of a sigmoid written out, `1 / (1 + exp(a))` (either order of the sum): `-a`, as
/// `1 / (1 + exp(a)) = sigmoid(-a)`, written `t` for `a = -t` and parenthesized where `a` is no
/// single term. `exp(a)` is a function's call or `a.exp()`, with no other argument.
pub fn written_sigmoid<'a>(model: &Model<'a>, division: Node<'a>) -> Option<WrittenSigmoid<'a>> {
    if division.kind_name() != "binary_operator" || model.constant(division.child_by_field_id(FIELD.left)?) != Some(1.0)
    {
        return None;
    }
    // The call of `exp` itself (`Model::one_plus_exp`), no `out=` written to, no other argument.
    let exp = model.one_plus_exp(division.child_by_field_id(FIELD.right)?)?.producer?.node;
    if crate::syntax::has_comment(exp) {
        return None;
    }
    let callee = model.callee(exp)?;
    let args = Args::of(exp);
    if !args.keyword.is_empty() || args.splat {
        return None;
    }
    let exponent = match (callee, args.positional.as_slice()) {
        (Callee::Method { receiver, .. }, []) => receiver,
        (Callee::Api(_), [a]) => *a,
        _ => return None,
    };
    let exponent = unparenthesized(exponent);
    if exponent.kind_name() == "unary_operator"
        && exponent.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "-")
    {
        let read = exponent.child_by_field_id(FIELD.argument)?;
        return Some(WrittenSigmoid { exp, read, text: model.text(read).to_string() });
    }
    let single = matches!(
        exponent.kind_name(),
        "identifier" | "attribute" | "call" | "subscript" | "integer" | "float" | "parenthesized_expression"
    );
    let text = if single { format!("-{}", model.text(exponent)) } else { format!("-({})", model.text(exponent)) };
    Some(WrittenSigmoid { exp, read: exponent, text })
}

/// The fix that removes the activation: `F.softmax(z, dim=1)` → `z`, `z.softmax(1)` → `z`,
/// `self.softmax(z)` → `z`, `Dense(10, activation="softmax")` → `activation=None`,
/// `nn.Sequential(..., nn.Softmax(dim=1))` → `nn.Identity()` as the last layer.
/// `others`: the file's units that get logits too ([`other_callers`]), named in its title.
///
/// Where the activation's output is bound to a name that other code reads too (`p = softmax(z)`,
/// the loss of `p`, then `p.max(1)` or an entropy of `p`), the name keeps the probabilities and
/// the losses read the logits instead (`cross_entropy(z, y)`), if the logits can be read again
/// there; otherwise no fix: rebinding the name would hand logits to every reader.
fn drop_activation<'a>(
    model: &Model<'a>,
    node: Node<'a>,
    prob: Prob,
    others: &[String],
    reached: &[Reached<'a>],
) -> Option<Fix> {
    let title = format!("Drop the {}: pass logits to the loss{}", prob_name(prob), and_to(others));
    // Under `no_grad` (a teacher's probabilities), the logits in its place may carry a
    // gradient the activation's output never had: `t = teacher_logits` is an alias there.
    if crate::syntax::has_comment(node) || model.gradient_stopped(node) {
        return None;
    }
    let value = model.value(node);
    // A sigmoid written out: its logits in place of the division.
    if node.kind_name() == "binary_operator" {
        let written = written_sigmoid(model, node)?;
        if let Some(fix) = readers_keep_the_activation(model, node, written.read, reached, &title) {
            return fix;
        }
        let logits = written.text;
        return Some(Fix {
            title,
            applicability: Applicability::Unsafe,
            edits: vec![Edit { start: node.start_byte(), end: node.end_byte(), content: logits }],
            whole: false,
        });
    }
    // A call that applies the activation to its input.
    if value.producer.is_some_and(|p| p.node == node) {
        let function = node.child_by_field_id(FIELD.function)?;
        let input = match model.callee(node)? {
            Callee::Method { receiver, .. } if Args::of(node).positional.len() <= 1 => Some(receiver),
            Callee::Api(_) | Callee::Value(_) if function.kind_name() != "call" => {
                Args::of(node).get(0, &["input", "x", "logits", "features", "z"], model.src)
            }
            // `nn.Softmax(dim=1)(z)`, `keras.layers.Activation("softmax")(x)`: a layer that is the
            // activation, applied to its one input.
            Callee::Value(ctor) if ctor.kind_name() == "call" && is_the_activation(model, ctor) => {
                let args = Args::of(node);
                (args.positional.len() + args.keyword.len() == 1 && !args.splat)
                    .then(|| args.get(0, &["input", "inputs"], model.src))
                    .flatten()
            }
            // `Dense(10, activation="softmax")(x)`: the layer's activation.
            Callee::Value(ctor) if ctor.kind_name() == "call" => return activation_none(model, ctor, &title),
            _ => None,
        }?;
        if let Some(fix) = readers_keep_the_activation(model, node, input, reached, &title) {
            return fix;
        }
        return Some(Fix {
            title,
            applicability: Applicability::Unsafe,
            edits: vec![Edit {
                start: node.start_byte(),
                end: node.end_byte(),
                content: model.text(input).to_string(),
            }],
            whole: false,
        });
    }
    // A layer built with the activation.
    let api = node.child_by_field_id(FIELD.function).and_then(|f| model.api(f))?;
    match apis::leaf(&api) {
        "Softmax" | "Sigmoid" if api.starts_with("torch.nn.") => {
            let alias = node.child_by_field_id(FIELD.function).and_then(|f| fixes::root_name(model, f));
            fixes::replace_with_call(model, node, "torch.nn.Identity", alias, "", title, Applicability::Unsafe)
        }
        _ => activation_none(model, node, &title),
    }
}

/// Where the activation `node` is bound to a name other code reads too: `Some(fix)`, the fix
/// that gives the losses the logits `input` in its place (`Some(None)`: none can); `None` where
/// rebinding the name is the fix (no other reader).
fn readers_keep_the_activation<'a>(
    model: &Model<'a>,
    node: Node<'a>,
    input: Node<'a>,
    reached: &[Reached<'a>],
    title: &str,
) -> Option<Option<Fix>> {
    // Any other form of binding (`p = q = softmax(z)`, a `global`): no fix.
    let Some((assignment, name)) = bound_name(model, node) else {
        return node.parent().is_some_and(|p| p.kind_name() == "assignment").then_some(None);
    };
    let here = reached.iter().any(|r| matches!(r, Reached::Here(_)));
    // Returned to the file's callers: the `return`s read it, and are rewritten with it.
    let returned = !here;
    let readers: Vec<Node<'a>> = if returned {
        return_values(model.scope_of(node))
    } else {
        reached
            .iter()
            .filter_map(|r| match r {
                Reached::Here(l) => l.input,
                Reached::Elsewhere { .. } => None,
            })
            .collect()
    };
    let global = declared_global(model, node, name);
    if global || read_elsewhere(model, assignment, name, &readers) {
        return Some(if returned || global {
            None
        } else {
            logits_to_losses(model, input, assignment, name, &readers, title.to_string())
        });
    }
    None
}

/// `name` is declared `global` or `nonlocal` in the function holding `node` (the scope index
/// records the declaration as a binding).
fn declared_global<'a>(model: &Model<'a>, node: Node<'a>, name: &str) -> bool {
    let index = model.scope_index(model.scope_of(node));
    index.entries(name).iter().any(|e| matches!(e.node.kind_name(), "global_statement" | "nonlocal_statement"))
}

/// The name `logits` is bound nowhere in `scope` between byte `from` and byte `to` (no `:=`,
/// no `with ... as`, no loop target, no assignment or augmented assignment, no in-place method,
/// no `del`), and no loop holds `to` without holding `from` (a later pass could read a rebound
/// value). Conservative: any occurrence of the name other than a plain read refuses.
pub fn unchanged_between<'a>(model: &Model<'a>, logits: Node<'a>, from: usize, to: Node<'a>) -> bool {
    let scope = model.scope_of(to);
    if logits.kind_name() != "identifier" || model.scope_of(logits) != scope {
        return false;
    }
    // A loop around the use but not around the binding.
    let mut up = to.parent();
    while let Some(n) = up {
        if n == scope {
            break;
        }
        if matches!(n.kind_name(), "for_statement" | "while_statement" | "lambda" | "function_definition")
            && !(n.start_byte() <= from && from <= n.end_byte())
        {
            return false;
        }
        up = n.parent();
    }
    let name = model.text(logits);
    let mut stack = vec![scope];
    while let Some(n) = stack.pop() {
        if n.end_byte() <= from || n.start_byte() >= to.start_byte() {
            continue;
        }
        if n.kind_name() == "identifier" && model.text(n) == name && n.start_byte() >= from {
            if !model.plain_read(n) {
                return false;
            }
            continue;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    no_write_between(model, logits, from, to)
}

/// No statement of `to`'s scope that runs between byte `from` and `to` may write into an
/// existing array in place, so the logits `logits` (an expression read again at `to`, or bound
/// to a new name before `from`) still hold the values the activation saw. Conservative, since
/// names may alias (`w = z; w *= 2`, `logits = z[0]` a view of `z`, `w = z.detach()` sharing
/// its storage): any augmented assignment to anything but a name holding a Python number, any
/// assignment to an element or an attribute, any call of an in-place method (PyTorch's
/// trailing `_`, `.data`, NumPy's `copyto`/`put`/`place`/`putmask`/`fill_diagonal`,
/// `ufunc.at`, an `out=` argument, PyTorch's `inplace=True`), any call of one of the file's
/// functions that may write in place (`def g(): z[0] = 5.0` ... `g()`), refuses ([`Model::writes_in_place`]); and where the
/// logits read an attribute of an object (`self.logits`), so does any call of a method of that
/// object or any call it is passed to (`self.step()`). Spared: writes into an array a name of
/// the scope holds that the code made itself, after the logits were read or before with
/// nothing reading the name until they were (`loss = torch.zeros_like(z)` ... `loss += l`,
/// `pos_weights[i] = q`): [`Model::written_apart`].
pub fn no_write_between<'a>(model: &Model<'a>, logits: Node<'a>, from: usize, to: Node<'a>) -> bool {
    let scope = model.scope_of(to);
    let objects = attribute_roots(model, logits);
    // By `from` the activation has read the logits (`from` is its end, or the start of the
    // assignment holding it).
    let read_end = from.max(logits.end_byte());
    let spared = |w: Written<'a>| model.written_apart(w, logits, read_end);
    if objects.is_empty() {
        // The nodes the walk below would reach that may write, from the scope's list: each
        // between `from` and `to`, nonempty or before `to`, so each of its ancestors is too.
        let candidates = model.may_write_in_place_in(scope);
        let first = candidates.partition_point(|n| n.start_byte() < from);
        for &n in candidates[first..].iter().take_while(|n| n.start_byte() < to.start_byte()) {
            model.count_index_work(1);
            if n.end_byte() > from && n.end_byte() <= to.start_byte() && model.writes_in_place(n, &objects, &spared) {
                return false;
            }
        }
        return true;
    }
    let mut stack = vec![scope];
    while let Some(n) = stack.pop() {
        model.count_index_work(1);
        if n.end_byte() <= from || n.start_byte() >= to.start_byte() {
            continue;
        }
        if n != scope && crate::syntax::is_scope(n.kind_name()) {
            continue;
        }
        // Only what finishes before `to` is read runs between (`x[i] = log(p)` writes after).
        let before = n.start_byte() >= from && n.end_byte() <= to.start_byte();
        if before && model.writes_in_place(n, &objects, &spared) {
            return false;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    true
}

/// The names whose attributes `logits` reads, outside a call's callee: `self` in `self.logits`
/// and `self.out[0]`, none in `z`, `z[0]` or `self.fc(x)` (a new array).
fn attribute_roots<'a>(model: &Model<'a>, logits: Node<'a>) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut stack = vec![logits];
    while let Some(n) = stack.pop() {
        if n.kind_name() == "attribute" {
            let mut root = n;
            while let Some(inner) = match root.kind_name() {
                "attribute" => root.child_by_field_id(FIELD.object),
                "subscript" => root.child_by_field_id(FIELD.value),
                _ => None,
            } {
                root = inner;
            }
            if root.kind_name() == "identifier" {
                out.push(model.text(root));
            }
        }
        let mut cursor = n.walk();
        for child in n.named_children(&mut cursor) {
            let callee = n.kind_name() == "call" && n.child_by_field_id(FIELD.function) == Some(child);
            if !callee {
                stack.push(child);
            }
        }
    }
    out
}

/// `(assignment, name)` when `node` is the whole value of `name = node`.
fn bound_name<'a>(model: &Model<'a>, node: Node<'a>) -> Option<(Node<'a>, &'a str)> {
    let mut up = node.parent()?;
    let mut inner = node;
    while up.kind_name() == "parenthesized_expression" {
        inner = up;
        up = up.parent()?;
    }
    let left = up.child_by_field_id(FIELD.left)?;
    // `p = q = node`: two names.
    let chained = up.parent().is_some_and(|p| p.kind_name() == "assignment");
    (up.kind_name() == "assignment"
        && !chained
        && up.child_by_field_id(FIELD.right) == Some(inner)
        && left.kind_name() == "identifier")
        .then(|| (up, model.text(left)))
}

/// The values of the `return` statements of `function` (outside nested scopes).
fn return_values(function: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut stack = vec![function];
    while let Some(n) = stack.pop() {
        if n.kind_name() == "return_statement" {
            out.extend(n.named_child(0));
            continue;
        }
        let mut cursor = n.walk();
        for child in n.named_children(&mut cursor) {
            if !crate::syntax::is_scope(child.kind_name()) {
                stack.push(child);
            }
        }
    }
    out
}

/// `name`, bound by `assignment`, is read outside the expressions `readers`: a use in its scope
/// that the binding reaches, or any use of the name in a function nested in the scope.
fn read_elsewhere<'a>(model: &Model<'a>, assignment: Node<'a>, name: &str, readers: &[Node<'a>]) -> bool {
    let scope = model.scope_of(assignment);
    let index = model.scope_index(scope);
    let outside_readers =
        |n: Node<'a>| !readers.iter().any(|r| r.start_byte() <= n.start_byte() && n.end_byte() <= r.end_byte());
    // The scope's occurrences of the name, from its index, unless a function, lambda or class
    // nested in it spells the name too: walking the scope after the assignment, for each
    // activation bound to a name, cost time in proportion to the activations times the scope.
    if !model.nested_names(scope).contains(name) {
        let identifiers = model.identifiers(scope);
        let Some(uses) = identifiers.get(name) else { return false };
        let first = uses.partition_point(|n| n.start_byte() < assignment.end_byte());
        return uses[first..].iter().any(|&n| {
            model.count_index_work(1);
            outside_readers(n)
                && !names_no_value(n)
                && (model.scope_of(n) != scope
                    || index.reaching(name, n.start_byte()).entries.iter().any(|e| e.node == assignment))
        });
    }
    let mut stack = vec![scope];
    while let Some(n) = stack.pop() {
        model.count_index_work(1);
        if n.end_byte() <= assignment.end_byte() && n != scope {
            continue;
        }
        if !outside_readers(n) {
            continue;
        }
        if n.kind_name() == "identifier"
            && model.text(n) == name
            && n.start_byte() >= assignment.end_byte()
            && !names_no_value(n)
        {
            if model.scope_of(n) != scope
                || index.reaching(name, n.start_byte()).entries.iter().any(|e| e.node == assignment)
            {
                return true;
            }
            continue;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    false
}

/// The name `logits`, read by an activation whose call ends at byte `from` in the statement
/// `statement`, still holds that value where it is read again at `to`, for a log-space fix that
/// reads it there (`p = softmax(z)` ... `log(p)` → `log_softmax(z)`). Beyond the same reaching
/// bindings ([`Model::same_value_at`], which follows no loop back edge and reads no condition's
/// `:=`), conservative on what the scope index does not see:
/// - between the two, no occurrence of the name other than a plain read (`:=` in a condition,
///   `del`, a loop or `with` target) and no in-place write ([`no_write_between`]);
/// - no loop around `to` lets a later pass reach it with a rebound or rewritten name: a loop
///   around `to` but not around the activation (`p = softmax(z)`, then `for ...: log(p); z =
///   2 * z`), or around both where the activation's statement may be skipped on the way to
///   `to`, must have no such occurrence and no in-place write anywhere in it;
/// - the name is not declared `global` or `nonlocal` where it is read, nor `nonlocal` in a
///   function nested in that scope, nor `global` anywhere in a module-level script: a call may
///   rebind it.
pub fn name_unchanged_at<'a>(
    model: &Model<'a>,
    logits: Node<'a>,
    from: usize,
    statement: Node<'a>,
    to: Node<'a>,
) -> bool {
    let scope = model.scope_of(to);
    if logits.kind_name() != "identifier" || model.scope_of(logits) != scope {
        return false;
    }
    let name = model.text(logits);
    if declared_global(model, to, name) || declared_by_others(model, scope, name) {
        return false;
    }
    // Between the two: no rebinding, and no in-place write but into arrays the code made.
    if model.first_change_of(scope, name, from, |_| false).is_some_and(|c| c.start_byte() < to.start_byte())
        || !no_write_between(model, logits, from, to)
    {
        return false;
    }
    // The activation runs on every path to `to` within one pass of a loop that holds both
    // when its statement sits in a block that holds `to` (only loops inside that block can
    // skip it, and those hold `to` without holding `from`).
    let block = model.parent(statement);
    let dominates = block.is_some_and(|b| b.start_byte() <= to.start_byte() && to.end_byte() <= b.end_byte());
    let mut up = model.parent(to);
    while let Some(n) = up {
        if n == scope {
            break;
        }
        if matches!(n.kind_name(), "for_statement" | "while_statement") {
            let holds_from = n.start_byte() <= from && from <= n.end_byte();
            if !(holds_from && dominates) && changes_within(model, n, name, n.start_byte(), n.end_byte(), true) {
                return false;
            }
        }
        up = model.parent(n);
    }
    true
}

/// Some node of `root` within bytes `lo..hi` (nested scopes aside) rebinds `name`, or, with
/// `writes`, may write into an array in place: an occurrence of the name other than a plain
/// read, or a statement or call that [`Model::writes_in_place`] (sparing no array).
fn changes_within<'a>(model: &Model<'a>, root: Node<'a>, name: &str, lo: usize, hi: usize, writes: bool) -> bool {
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        model.count_index_work(1);
        if n.end_byte() <= lo || n.start_byte() >= hi {
            continue;
        }
        if n != root && crate::syntax::is_scope(n.kind_name()) {
            continue;
        }
        if n.kind_name() == "identifier" && model.text(n) == name && n.start_byte() >= lo {
            // `f(z=1)`, `self.z`: a keyword's or an attribute's name, no read of the variable.
            let other = n.parent().is_some_and(|p| matches!(p.kind_name(), "keyword_argument" | "attribute"))
                && names_no_value(n);
            if !other && !model.plain_read(n) {
                return true;
            }
            continue;
        }
        if writes && n.start_byte() >= lo && n.end_byte() <= hi && model.writes_in_place(n, &[], &|_| false) {
            return true;
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    false
}

/// A function nested in `scope` declares `nonlocal name`, or `scope` is the module and a
/// function of it declares `global name`: calling it may rebind the name.
fn declared_by_others<'a>(model: &Model<'a>, scope: Node<'a>, name: &str) -> bool {
    let module = crate::semantic::scope::is_module(scope);
    // Most scopes declare nothing: a text search first.
    let text = model.text(scope);
    if !(text.contains("nonlocal") || (module && text.contains("global"))) {
        return false;
    }
    let mut stack = vec![scope];
    while let Some(n) = stack.pop() {
        let kind = n.kind_name();
        if (kind == "nonlocal_statement" || (module && kind == "global_statement")) && model.scope_of(n) != scope {
            let mut cursor = n.walk();
            if n.named_children(&mut cursor).any(|c| c.kind_name() == "identifier" && model.text(c) == name) {
                return true;
            }
        }
        let mut cursor = n.walk();
        stack.extend(n.named_children(&mut cursor));
    }
    false
}

/// The drop fix that leaves `name = activation(logits)` to its other readers and gives each
/// loss in `losses` the logits where it reads `name`: `cross_entropy(p, y)` →
/// `cross_entropy(z, y)`. None when the logits cannot be read again at a loss (a call, a name
/// rebound in between).
fn logits_to_losses<'a>(
    model: &Model<'a>,
    logits: Node<'a>,
    assignment: Node<'a>,
    name: &str,
    losses: &[Node<'a>],
    title: String,
) -> Option<Fix> {
    let logits = unparenthesized(logits);
    let text = model.text(logits);
    let content = match logits.kind_name() {
        "identifier" | "attribute" | "subscript" => text.to_string(),
        _ => format!("({text})"),
    };
    let scope = model.scope_of(assignment);
    let index = model.scope_index(scope);
    let mut edits = Vec::new();
    for &loss in losses {
        let mut stack = vec![loss];
        while let Some(n) = stack.pop() {
            if n.kind_name() == "identifier" && model.text(n) == name && !names_no_value(n) {
                let from_here = model.scope_of(n) == scope
                    && index.reaching(name, n.start_byte()).entries.iter().any(|e| e.node == assignment);
                if !from_here
                    || !model.same_value_at(logits, n)
                    || !unchanged_between(model, logits, assignment.start_byte(), n)
                {
                    return None;
                }
                edits.push(Edit { start: n.start_byte(), end: n.end_byte(), content: content.clone() });
                continue;
            }
            let mut cursor = n.walk();
            stack.extend(n.named_children(&mut cursor));
        }
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|e| e.start);
    Some(Fix { title, applicability: Applicability::Unsafe, edits, whole: false })
}

/// `ctor` builds a layer that is only the activation: `nn.Softmax(dim=1)`, `nn.Sigmoid()`,
/// `keras.layers.Softmax()`, `keras.layers.Activation("softmax")`.
fn is_the_activation<'a>(model: &Model<'a>, ctor: Node<'a>) -> bool {
    ctor.child_by_field_id(FIELD.function)
        .and_then(|f| model.api(f))
        .is_some_and(|api| matches!(apis::leaf(&api), "Softmax" | "Sigmoid" | "Activation"))
}

/// `activation="softmax"` → `activation=None` (Dense, Conv*), `Activation("softmax")` →
/// `Activation("linear")`.
fn activation_none<'a>(model: &Model<'a>, ctor: Node<'a>, title: &str) -> Option<Fix> {
    let api = ctor.child_by_field_id(FIELD.function).and_then(|f| model.api(f))?;
    let args = Args::of(ctor);
    let (arg, content) = if api == "keras.layers.Activation" {
        let a = args.get(0, &["activation"], model.src)?;
        let quote = if model.text(a).starts_with('\'') { "'" } else { "\"" };
        (a, format!("{quote}linear{quote}"))
    } else {
        let position = if apis::leaf(&api) == "Dense" { 1 } else { usize::MAX };
        (args.get(position, &["activation"], model.src)?, "None".to_string())
    };
    Some(Fix {
        title: title.to_string(),
        applicability: Applicability::Unsafe,
        edits: vec![Edit { start: arg.start_byte(), end: arg.end_byte(), content }],
        whole: false,
    })
}

/// `from_logits=True` → `from_logits=False` in the loss a compile call was given, when the loss
/// object is built in the call.
fn from_logits_false(model: &Model, l: &LossCall) -> Option<Fix> {
    let loss = unparenthesized(l.loss_node?);
    if loss.kind_name() != "call" {
        return None;
    }
    let flag = Args::of(loss).keyword(&["from_logits"], model.src).filter(|f| model.text(*f) == "True")?;
    Some(Fix {
        title: "Set `from_logits=False`: the model outputs probabilities".to_string(),
        applicability: Applicability::Unsafe,
        edits: vec![Edit { start: flag.start_byte(), end: flag.end_byte(), content: "False".to_string() }],
        whole: false,
    })
}

/// NL303: what is wrong with a prediction `op` for a loss that `expects`, if anything.
pub fn mismatch(expects: Expects, op: Option<Op>) -> Option<&'static str> {
    match (expects, op?) {
        (Expects::Probabilities(_) | Expects::LogProbabilities, Op::Logits) => Some("raw logits"),
        (Expects::LogProbabilities, Op::Softmax | Op::Sigmoid) => Some("probabilities"),
        (Expects::Probabilities(_), Op::LogSoftmax | Op::LogSigmoid) => Some("log-probabilities"),
        _ => None,
    }
}
