//! Where predictions meet losses: which loss a call computes and what it expects of its
//! prediction (see `losses`), what a prediction is (a softmax, a sigmoid, logits, log-softmax)
//! and where it comes from, and the file-wide facts that connect a producer in one function to
//! the loss that consumes it in another.
//!
//! Objects remember how they were configured in their kind, after the class name:
//! `keras.losses.CategoricalCrossentropy[from_logits]`, `keras.layers.Dense[out=softmax]`,
//! `torch.nn.Sequential[out=logits]` (the output of the last module), so that a loss object or a
//! layer held in `self.criterion` or a module-level name keeps its contract in the attribute and
//! global facts.
//!
//! File-wide, position-independent facts (see `facts`):
//! - [`FactKey::Flows`]: the loss calls of one function (or of the module-level code): the loss,
//!   what it expects, where its object is held, and where its prediction comes from (calls of a
//!   class or function of this file, or an object held in an attribute or a global) with the
//!   producer it has there.
//! - [`FactKey::FileFlows`]: all of them. Only functions whose text mentions a loss
//!   ([`Model::mentions_a_loss`]: a loss word, or a name the file assigns a loss object to) are
//!   asked, so a function's `Flows` is a dependency exactly when it mentions one;
//!   `engine::cache` relies on this to validate an edit of one function.
//! - [`FactKey::LossHolders`]: the names the file assigns loss objects to, found in its text.
//! - [`FactKey::ModuleClasses`]: the file's module classes (subclasses of `nn.Module`,
//!   `keras.Model`, `keras.layers.Layer`, `flax.linen.Module`) and how many arguments their
//!   forward takes, to resolve a parameter such as `model` called in a training step.

use std::rc::Rc;

use foldhash::HashMap;

use tree_sitter::Node;

use super::facts::{Fact, FactKey};
use super::losses::{self, Expects, KERAS_STRINGS, Loss};
use super::scope::Binding;
use super::transfer::Arg;
use super::value::{Kind, Op, Prob};
use super::{Callee, Model, apis};
use crate::syntax::{Args, FIELD, KindName, callee_name, contains_word, definition, is_scope, text, unparenthesized};

/// How many functions that return another's result [`Model::flows_passing_through`] follows.
const MAX_FORWARDS: usize = 4;

/// Where a prediction comes from, or where a loss object is held, named without positions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// Calls of an instance of this file's class (its `forward`, `call` or `__call__`).
    Class(String),
    /// Calls of this file's function `f` or method `C.m`.
    Function(String),
    /// Calls of the object held in `self.<attr>` by class `class`.
    Attribute { class: String, attr: String },
    /// Calls of the object held in a module-level name.
    Global(String),
}

impl Source {
    /// How messages name it.
    pub fn describe(&self) -> String {
        match self {
            Source::Class(c) => format!("`{c}`"),
            Source::Function(f) => format!("`{f}`"),
            Source::Attribute { attr, .. } => format!("`self.{attr}`"),
            Source::Global(g) => format!("`{g}`"),
        }
    }
}

/// One loss call of a function, as other functions see it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LossFlow {
    /// The function holding the call (`step`, `Trainer.fit`), or `""` for module-level code.
    pub unit: String,
    /// The loss: its canonical name, or a Keras string (`"categorical_crossentropy"`).
    pub loss: String,
    /// What the loss expects; `None` when `from_logits` is not a literal.
    pub expects: Option<Expects>,
    /// Where the loss object is held, when it is an object held in an attribute or a global.
    pub holder: Option<Source>,
    /// Where the prediction comes from, when from a class, function, attribute or global.
    pub source: Option<Source>,
    /// What the prediction is (softmax, sigmoid, logits, log-softmax), where known.
    pub op: Option<Op>,
}

/// A module class of this file and the positional arguments its forward accepts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ModuleClass {
    pub name: String,
    /// The framework of its base: `torch`, `keras` or `flax`.
    pub framework: &'static str,
    pub min_args: usize,
    /// `usize::MAX` with `*args`.
    pub max_args: usize,
}

/// A loss call, where it is.
#[derive(Clone, Debug)]
pub struct LossCall<'a> {
    pub call: Node<'a>,
    /// The canonical name, or the Keras string.
    pub loss: String,
    /// How messages name the loss.
    pub display: String,
    pub expects: Option<Expects>,
    /// The prediction argument (for `compile`, the model it is called on).
    pub input: Option<Node<'a>>,
    /// `model.compile(loss=...)`: the prediction is the model's output.
    pub compile: bool,
    /// The loss argument of `compile`, or the loss object's constructor when it is built in the
    /// same scope (`loss_fct = nn.NLLLoss()`, `nn.NLLLoss()(x, y)`), or the called function.
    pub loss_node: Option<Node<'a>>,
    pub holder: Option<Source>,
}

/// What a prediction is and where it comes from.
#[derive(Clone, Debug, Default)]
pub struct Prediction<'a> {
    pub op: Option<Op>,
    /// The node that applied `op`, in the same scope.
    pub producer: Option<Node<'a>>,
    pub source: Option<Source>,
    /// The constructor of the object (a layer stack, a layer) whose call gave the prediction,
    /// when it is built in the same scope.
    pub object: Option<Node<'a>>,
}

/// The loss calls of a scope whose prediction may be the output of an operation, each with what
/// it receives, indexed by the nodes whose output may reach it ([`Model::losses_by_producer`]).
#[derive(Default)]
pub struct LossesByProducer<'a> {
    /// The loss calls, in source order, each with its prediction and whether it receives the
    /// operation's output on every path.
    pub losses: Vec<(LossCall<'a>, Prediction<'a>, bool)>,
    /// By a node's id, the losses (indices into `losses`, ascending) that may receive its output.
    pub by_producer: HashMap<usize, Vec<usize>>,
    /// By a constructor's id, the losses whose prediction is the output of the object it builds.
    pub by_object: HashMap<usize, Vec<usize>>,
}

/// Operations a loss contract is about.
pub fn contract_op(op: Op) -> bool {
    matches!(op, Op::Softmax | Op::Sigmoid | Op::LogSoftmax | Op::LogSigmoid | Op::Logits)
}

/// `class[config]` → `(class, Some(config))`.
pub fn split_object(class: &str) -> (&str, Option<&str>) {
    match class.strip_suffix(']').and_then(|c| c.split_once('[')) {
        Some((base, config)) => (base, Some(config)),
        None => (class, None),
    }
}

/// The output a configured object's calls produce: `Some(Some(op))`, or `Some(None)` when its
/// output is configured but none of the contract operations (`activation="relu"`, unknown).
pub fn configured_output(class: &str) -> Option<Option<Op>> {
    let (_, config) = split_object(class);
    let out = config?.split(',').find_map(|c| c.strip_prefix("out="))?;
    Some(match out {
        "softmax" => Some(Op::Softmax),
        "sigmoid" => Some(Op::Sigmoid),
        "log_softmax" => Some(Op::LogSoftmax),
        "logits" => Some(Op::Logits),
        _ => None,
    })
}

/// `from_logits` of a configured loss object: `Some(true)`, `Some(false)` (absent), or `None`
/// (not a literal).
pub fn configured_from_logits(class: &str) -> Option<bool> {
    match split_object(class).1 {
        Some(c) if c.split(',').any(|p| p == "from_logits") => Some(true),
        Some(c) if c.split(',').any(|p| p == "from_logits=?") => None,
        _ => Some(false),
    }
}

/// The output of calling an object of this (possibly configured) class.
pub fn object_output(class: &str) -> Option<Op> {
    if let Some(out) = configured_output(class) {
        return out;
    }
    let (base, _) = split_object(class);
    match apis::leaf(base) {
        "Softmax" | "Softmax2d" => Some(Op::Softmax),
        "Sigmoid" => Some(Op::Sigmoid),
        "LogSoftmax" => Some(Op::LogSoftmax),
        "LogSigmoid" => Some(Op::LogSigmoid),
        "Linear" | "Conv1d" | "Conv2d" | "Conv3d" | "Bilinear" | "LazyLinear" if base.starts_with("torch.") => {
            Some(Op::Logits)
        }
        _ => None,
    }
}

/// Keras layers with an `activation` argument (Dense takes it second).
const ACTIVATED_LAYERS: &[&str] = &[
    "Dense",
    "EinsumDense",
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "SeparableConv1D",
    "SeparableConv2D",
    "DepthwiseConv2D",
];

/// Parameter names that hold a model in training code (`model`, `net`, `student_model`).
fn model_name(name: &str) -> bool {
    const WORDS: &[&str] =
        &["model", "net", "network", "classifier", "module", "clf", "encoder", "decoder", "discriminator", "generator"];
    name.to_ascii_lowercase().split('_').any(|p| WORDS.contains(&p))
}

/// Methods that keep a tensor's values (and so its contract and sign): reshapes, transposes,
/// casts, moves between devices.
pub const KEEPING_METHODS: &[&str] = &[
    "view",
    "reshape",
    "squeeze",
    "unsqueeze",
    "flatten",
    "permute",
    "transpose",
    "t",
    "contiguous",
    "float",
    "double",
    "half",
    "to",
    "type",
    "cuda",
    "cpu",
    "view_as",
    "reshape_as",
];

/// Library functions that keep values.
const KEEPING_FUNCTIONS: &[&str] = &[
    "tensorflow.reshape",
    "tensorflow.squeeze",
    "tensorflow.cast",
    "tensorflow.expand_dims",
    "torch.reshape",
    "torch.squeeze",
    "torch.flatten",
    "jax.numpy.reshape",
    "jax.numpy.squeeze",
    "keras.ops.reshape",
    "keras.ops.squeeze",
    "keras.ops.cast",
];

impl<'a> Model<'a> {
    /// The class string of an object a library class constructor makes: the canonical class,
    /// with its configuration when it matters to a loss contract.
    pub fn object_kind(&self, api: &str, args: &Args<'a>) -> String {
        if let Some(l) = losses::by_name(api)
            && l.object
            && let Some(flag) = l.from_logits
        {
            return match self.literal_flag(args, flag) {
                Some(true) => format!("{api}[from_logits]"),
                Some(false) => api.to_string(),
                None => format!("{api}[from_logits=?]"),
            };
        }
        let leaf = apis::leaf(api);
        let out = if api.starts_with("keras.layers.") && ACTIVATED_LAYERS.contains(&leaf) {
            let position = if leaf == "Dense" { 1 } else { usize::MAX };
            Some(match args.get(position, &["activation"], self.src) {
                None => "logits",
                Some(a) => self.activation_name(a),
            })
        } else if api == "keras.layers.Activation" {
            args.get(0, &["activation"], self.src).map(|a| self.activation_name(a))
        } else if api == "torch.nn.Sequential" {
            Some(args.positional.last().map_or("?", |last| self.element_output(*last)))
        } else if matches!(api, "keras.Sequential" | "keras.models.Sequential") {
            let layers = args.get(0, &["layers"], self.src).map(unparenthesized);
            Some(match layers {
                Some(list) if list.kind_name() == "list" => {
                    let mut cursor = list.walk();
                    let last = list.named_children(&mut cursor).filter(|c| c.kind_name() != "comment").last();
                    last.map_or("?", |l| self.element_output(l))
                }
                _ => "?",
            })
        } else if api.starts_with("keras.applications.") && leaf.chars().next().is_some_and(char::is_uppercase) {
            // `keras.applications.ResNet50(...)`: a classifier head with a softmax by default.
            let top = args.keyword(&["include_top"], self.src).is_none_or(|t| self.text(t) != "False");
            top.then(|| match args.keyword(&["classifier_activation"], self.src) {
                Some(a) => self.activation_name(a),
                None => "softmax",
            })
        } else if matches!(api, "keras.Model" | "keras.models.Model") {
            args.get(1, &["outputs"], self.src).map(|o| match self.value(o).op() {
                Some(Op::Softmax) => "softmax",
                Some(Op::Sigmoid) => "sigmoid",
                Some(Op::LogSoftmax) => "log_softmax",
                Some(Op::Logits) => "logits",
                _ => "?",
            })
        } else {
            None
        };
        match out {
            Some(out) => format!("{api}[out={out}]"),
            None => api.to_string(),
        }
    }

    /// `True`/`False` passed for `flag` (absent: `False`); `None` when it is not a literal.
    fn literal_flag(&self, args: &Args<'a>, flag: Arg) -> Option<bool> {
        match args.get(flag.position, flag.keywords, self.src).map(|n| self.text(unparenthesized(n))) {
            None | Some("False") => Some(false),
            Some("True") => Some(true),
            Some(_) => None,
        }
    }

    /// A Keras activation argument: `"softmax"`, `tf.nn.softmax`, `None`.
    fn activation_name(&self, node: Node<'a>) -> &'static str {
        let node = unparenthesized(node);
        let name = match node.kind_name() {
            "none" => return "logits",
            "string" => self.text(node).trim_matches(|c| c == '"' || c == '\''),
            "identifier" | "attribute" => match self.api(node) {
                Some(api) => match apis::leaf(&api) {
                    "softmax" => "softmax",
                    "sigmoid" => "sigmoid",
                    "log_softmax" => "log_softmax",
                    "linear" => "logits",
                    _ => "?",
                },
                None => return "?",
            },
            _ => return "?",
        };
        match name {
            "softmax" => "softmax",
            "sigmoid" => "sigmoid",
            "log_softmax" => "log_softmax",
            "linear" => "logits",
            _ => "?",
        }
    }

    /// What calling the layer `element` (the last of a stack) outputs, as a config word.
    fn element_output(&self, element: Node<'a>) -> &'static str {
        match self.value(element).kind {
            Kind::Object(class) => match object_output(&class) {
                Some(Op::Softmax) => "softmax",
                Some(Op::Sigmoid) => "sigmoid",
                Some(Op::LogSoftmax) => "log_softmax",
                Some(Op::Logits) => "logits",
                _ => "?",
            },
            _ => "?",
        }
    }

    /// The loss `call` computes, if it is one.
    pub fn loss_call(&self, call: Node<'a>) -> Option<LossCall<'a>> {
        let args = Args::of(call);
        let resolve = |l: &Loss, from_logits: Option<bool>| -> Option<Expects> {
            match (l.expects, from_logits) {
                (Expects::Probabilities(p), Some(true)) if l.from_logits.is_some() => Some(Expects::Logits(p)),
                (e, Some(_)) => Some(e),
                (_, None) => None,
            }
        };
        match self.callee(call)? {
            Callee::Api(name) => {
                let l = losses::by_name(&name).filter(|l| !l.object)?;
                let flag = match l.from_logits {
                    Some(f) => self.literal_flag(&args, f),
                    None => Some(false),
                };
                Some(LossCall {
                    call,
                    loss: l.name.to_string(),
                    display: l.display(),
                    expects: resolve(l, flag),
                    input: args.get(l.input.position, l.input.keywords, self.src),
                    compile: false,
                    loss_node: call.child_by_field_id(FIELD.function),
                    holder: None,
                })
            }
            Callee::Value(function) => {
                let Kind::Object(class) = self.value(function).kind else { return None };
                let l = losses::by_name(split_object(&class).0).filter(|l| l.object)?;
                let flag = if l.from_logits.is_some() { configured_from_logits(&class) } else { Some(false) };
                let (holder, constructor) = self.object_holder(function);
                Some(LossCall {
                    call,
                    loss: l.name.to_string(),
                    display: l.display(),
                    expects: resolve(l, flag),
                    input: args.get(l.input.position, l.input.keywords, self.src),
                    compile: false,
                    loss_node: constructor,
                    holder,
                })
            }
            Callee::Method { name: "compile", receiver } => {
                let given = args.get(1, &["loss"], self.src)?;
                let node = unparenthesized(given);
                let (loss, display, expects) = if node.kind_name() == "string" {
                    let s = self.text(node).trim_matches(|c| c == '"' || c == '\'');
                    let (name, e) = KERAS_STRINGS.iter().find(|(n, _)| *n == s)?;
                    (name.to_string(), format!("\"{name}\""), Some(*e))
                } else if let Kind::Object(class) = self.value(node).kind {
                    let l = losses::by_name(split_object(&class).0).filter(|l| l.object)?;
                    let flag = if l.from_logits.is_some() { configured_from_logits(&class) } else { Some(false) };
                    (l.name.to_string(), l.display(), resolve(l, flag))
                } else {
                    let l = self.api(node).and_then(|a| losses::by_name(&a)).filter(|l| !l.object)?;
                    (l.name.to_string(), l.display(), Some(l.expects))
                };
                Some(LossCall {
                    call,
                    loss,
                    display,
                    expects,
                    input: Some(receiver),
                    compile: true,
                    loss_node: Some(node),
                    holder: None,
                })
            }
            _ => None,
        }
    }

    /// Where the object called through `function` is held (an attribute of `self`, a
    /// module-level name), and its constructor when it is built in the same scope or inline.
    fn object_holder(&self, function: Node<'a>) -> (Option<Source>, Option<Node<'a>>) {
        let function = unparenthesized(function);
        match function.kind_name() {
            "call" => (None, Some(function)),
            "attribute" => {
                let (Some(object), Some(attr)) =
                    (function.child_by_field_id(FIELD.object), function.child_by_field_id(FIELD.attribute))
                else {
                    return (None, None);
                };
                match self.self_class(object).and_then(|c| c.child_by_field_id(FIELD.name)) {
                    Some(class) => (
                        Some(Source::Attribute {
                            class: self.text(class).to_string(),
                            attr: self.text(attr).to_string(),
                        }),
                        None,
                    ),
                    None => (None, None),
                }
            }
            "identifier" => match self.local_binding(function) {
                Some(rhs) => (None, Some(unparenthesized(rhs))),
                None if self.is_module_name(function) => (Some(Source::Global(self.text(function).to_string())), None),
                None => (None, None),
            },
            _ => (None, None),
        }
    }

    /// The right-hand side of the one assignment that binds `name` where it is used, in its own
    /// scope.
    pub fn local_binding(&self, name: Node<'a>) -> Option<Node<'a>> {
        let scope = self.scope_of(name);
        let reaching = self.scope_index(scope).reaching(self.text(name), name.start_byte());
        match (reaching.entries.as_slice(), reaching.outer) {
            ([entry], false) => match entry.binding {
                Binding::Value(rhs) => Some(rhs),
                _ => None,
            },
            _ => None,
        }
    }

    /// A name used in a function that is not bound there and names a module-level binding.
    fn is_module_name(&self, name: Node<'a>) -> bool {
        let scope = self.scope_of(name);
        if scope.kind_name() != "function_definition" {
            return false;
        }
        let wanted = self.text(name);
        let reaching = self.scope_index(scope).reaching(wanted, name.start_byte());
        reaching.entries.is_empty()
            && reaching.outer
            && self.parameter(scope, wanted).is_none()
            && self.enclosing_function(scope).is_none()
            && self.scope_index(self.tree.root_node()).binds(wanted)
    }

    /// What the prediction `node` is and where it comes from.
    pub fn prediction(&self, node: Node<'a>) -> Prediction<'a> {
        self.prediction_for(node, None)
    }

    /// [`Model::prediction`] for a loss of `framework` (`torch`, `keras`, `flax`): a parameter
    /// named like a model resolves only to a module class of that framework.
    fn prediction_for(&self, node: Node<'a>, framework: Option<&str>) -> Prediction<'a> {
        let mut p = Prediction::default();
        let value = self.value(node);
        if let Some(producer) = value.producer.filter(|pr| contract_op(pr.op)) {
            p.op = Some(producer.op);
            p.producer = Some(producer.node);
        }
        if let Some(call) = self.traced_call(node, 0) {
            let (source, op, object) = self.call_source(call, framework);
            p.source = source;
            p.object = object;
            if p.op.is_none() {
                p.op = op;
            }
        }
        p
    }

    /// The output of the model `model.compile(...)` is called on.
    pub fn model_output(&self, receiver: Node<'a>) -> Prediction<'a> {
        let mut p = Prediction::default();
        let value = self.value(receiver);
        match &value.kind {
            Kind::Instance(class) => {
                p.source = Some(Source::Class(class.clone()));
                p.op = self.class_output(class);
                return p;
            }
            Kind::Object(class) => p.op = object_output(class),
            _ => {}
        }
        let (holder, constructor) = self.object_holder(receiver);
        p.source = holder;
        // A stack built here: its last layer (`Sequential([...])`, then `model.add(...)`).
        if let Some(ctor) = constructor
            && receiver.kind_name() == "identifier"
        {
            p.object = Some(ctor);
            // `keras.Model(inputs, outputs)`: what its outputs are.
            let api = ctor.child_by_field_id(FIELD.function).and_then(|f| self.api(f));
            if matches!(api.as_deref(), Some("keras.Model" | "keras.models.Model"))
                && let Some(outputs) = Args::of(ctor).get(1, &["outputs"], self.src)
            {
                let out = self.prediction(outputs);
                p.op = out.op;
                p.producer = out.producer;
                return p;
            }
            let mut last = self.sequential_last(ctor);
            for add in self.adds_to(receiver) {
                last = Some(add);
            }
            if let Some(last) = last {
                if let Kind::Object(class) = self.value(last).kind {
                    p.op = object_output(&class);
                }
                p.producer = Some(last);
            }
        }
        p
    }

    /// The last layer of a Keras `Sequential([...])` or `nn.Sequential(...)` call.
    pub fn sequential_last(&self, ctor: Node<'a>) -> Option<Node<'a>> {
        let api = ctor.child_by_field_id(FIELD.function).and_then(|f| self.api(f))?;
        let args = Args::of(ctor);
        match api.as_str() {
            "torch.nn.Sequential" => args.positional.last().copied(),
            "keras.Sequential" | "keras.models.Sequential" => {
                let list = unparenthesized(args.get(0, &["layers"], self.src)?);
                if list.kind_name() != "list" {
                    return None;
                }
                let mut cursor = list.walk();
                list.named_children(&mut cursor).filter(|c| c.kind_name() != "comment").last()
            }
            _ => None,
        }
    }

    /// The layers `model.add(layer)` adds to the name `model` before its use `at`, in order.
    fn adds_to(&self, at: Node<'a>) -> Vec<Node<'a>> {
        let name = self.text(at);
        let scope = self.scope_of(at);
        let body = if self.is_module_scope(scope) { Some(scope) } else { scope.child_by_field_id(FIELD.body) };
        let mut out = Vec::new();
        let mut stack: Vec<Node<'a>> = body.into_iter().collect();
        while let Some(node) = stack.pop() {
            if node.start_byte() >= at.start_byte() {
                continue;
            }
            if node.kind_name() == "call"
                && let Some(f) = node.child_by_field_id(FIELD.function)
                && f.kind_name() == "attribute"
                && callee_name(f, self.src) == Some("add")
                && f.child_by_field_id(FIELD.object)
                    .is_some_and(|o| o.kind_name() == "identifier" && self.text(o) == name)
                && let Some(layer) = Args::of(node).positional.first()
            {
                out.push((node.start_byte(), *layer));
                continue;
            }
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                if !is_scope(child.kind_name()) {
                    stack.push(child);
                }
            }
        }
        out.sort_by_key(|(at, _)| *at);
        out.into_iter().map(|(_, l)| l).collect()
    }

    /// The call a prediction comes from, through names bound once in the same scope, subscripts
    /// and value-keeping reshapes and casts.
    fn traced_call(&self, node: Node<'a>, depth: u32) -> Option<Node<'a>> {
        if depth > 8 {
            return None;
        }
        let node = unparenthesized(node);
        match node.kind_name() {
            "identifier" => self.traced_call(self.local_binding(node)?, depth + 1),
            "subscript" => self.traced_call(node.child_by_field_id(FIELD.value)?, depth + 1),
            "call" => {
                match self.callee(node) {
                    Some(Callee::Method { name, receiver }) if KEEPING_METHODS.contains(&name) => {
                        return self.traced_call(receiver, depth + 1);
                    }
                    Some(Callee::Api(api)) if KEEPING_FUNCTIONS.contains(&api.as_str()) => {
                        let first = *Args::of(node).positional.first()?;
                        return self.traced_call(first, depth + 1);
                    }
                    _ => {}
                }
                Some(node)
            }
            _ => None,
        }
    }

    /// Where the result of `call` comes from: the file's class, function, or a held object; what
    /// it is there; and the object's constructor when built in the same scope.
    fn call_source(&self, call: Node<'a>, framework: Option<&str>) -> (Option<Source>, Option<Op>, Option<Node<'a>>) {
        match self.callee(call) {
            // `self.forward(x)` calls what `self(x)` does: the class (`source_of_function`).
            Some(Callee::Local(def)) => match self.source_of_function(def) {
                Some(Source::Class(class)) => {
                    let op = self.class_output(&class);
                    (Some(Source::Class(class)), op, None)
                }
                Some(Source::Function(q)) => {
                    let op = self.function_output(&q);
                    (Some(Source::Function(q)), op, None)
                }
                _ => (None, None, None),
            },
            Some(Callee::Value(function)) => {
                let held = self.value(function);
                match held.kind {
                    Kind::Instance(class) => {
                        let op = self.class_output(&class);
                        (Some(Source::Class(class)), op, None)
                    }
                    Kind::Object(class) => {
                        let (holder, constructor) = self.object_holder(function);
                        (holder, object_output(&class), constructor)
                    }
                    _ => match self.parameter_class(function, &Args::of(call), framework) {
                        Some(class) => {
                            let op = self.class_output(&class);
                            (Some(Source::Class(class)), op, None)
                        }
                        None => (None, None, None),
                    },
                }
            }
            Some(Callee::Method { name, receiver }) => {
                let class = match self.value(receiver).kind {
                    Kind::Instance(c) => Some(c),
                    _ => None,
                };
                match class {
                    Some(c) if matches!(name, "forward" | "call" | "__call__") => {
                        let op = self.class_output(&c);
                        (Some(Source::Class(c)), op, None)
                    }
                    Some(c) => {
                        let q = format!("{c}.{name}");
                        let op = self.function_output(&q);
                        (Some(Source::Function(q)), op, None)
                    }
                    None => (None, None, None),
                }
            }
            _ => (None, None, None),
        }
    }

    /// What the file's function or method `q` returns, if a contract operation.
    fn function_output(&self, q: &str) -> Option<Op> {
        match self.fact(&FactKey::Function(q.into())) {
            Fact::Function(Some(s)) => s.returns.and_then(|r| r.op).filter(|op| contract_op(*op)),
            _ => None,
        }
    }

    /// What calling an instance of the file's class returns, if a contract operation.
    fn class_output(&self, class: &str) -> Option<Op> {
        for method in ["forward", "call", "__call__"] {
            if let Fact::Function(Some(s)) = self.fact(&FactKey::Function(format!("{class}.{method}").into())) {
                return s.returns.and_then(|r| r.op).filter(|op| contract_op(*op));
            }
        }
        None
    }

    /// A parameter named like a model (`model`, `net`), called with `args`: the file's one
    /// module class whose forward takes that many arguments.
    fn parameter_class(&self, function: Node<'a>, args: &Args<'a>, framework: Option<&str>) -> Option<String> {
        let function = unparenthesized(function);
        if function.kind_name() != "identifier" || !model_name(self.text(function)) {
            return None;
        }
        let scope = self.scope_of(function);
        if scope.kind_name() != "function_definition" {
            return None;
        }
        let name = self.text(function);
        let reaching = self.scope_index(scope).reaching(name, function.start_byte());
        if !reaching.entries.is_empty() || self.parameter(scope, name).is_none() {
            return None;
        }
        let Fact::ModuleClasses(classes) = self.fact(&FactKey::ModuleClasses) else { return None };
        let n = args.positional.len();
        let fits: Vec<&ModuleClass> = classes
            .iter()
            .filter(|c| framework.is_none_or(|f| c.framework == f))
            .filter(|c| args.splat || (c.min_args <= n && n <= c.max_args))
            .collect();
        match fits.as_slice() {
            [one] => Some(one.name.clone()),
            _ => None,
        }
    }

    /// The loss calls inside `scope` (a function, with what it nests; or the module-level code
    /// outside functions and classes), memoized per scope.
    pub fn loss_calls_in(&self, scope: Node<'a>) -> Rc<Vec<LossCall<'a>>> {
        if let Some(found) = self.loss_calls.borrow().get(&scope.id()) {
            return found.clone();
        }
        let mut out = Vec::new();
        let mut stack = vec![scope];
        while let Some(node) = stack.pop() {
            if node.kind_name() == "call"
                && let Some(l) = self.loss_call(node)
            {
                out.push(l);
            }
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                let nested =
                    matches!(child.kind_name(), "function_definition" | "class_definition" | "decorated_definition");
                if !(self.is_module_scope(scope) && nested) {
                    stack.push(child);
                }
            }
        }
        out.sort_by_key(|l| l.call.start_byte());
        let out = Rc::new(out);
        self.loss_calls.borrow_mut().insert(scope.id(), out.clone());
        out
    }

    /// The loss calls of `scope` that may receive `op`'s output, indexed by the nodes that may
    /// produce it: `build` makes it once per scope and operation. Each activation of a scope asks
    /// which of its losses it reaches; asking each loss in turn cost time in proportion to the
    /// activations times the losses (a function binding 1,600 softmaxes to names and passing
    /// each to a loss of its own took 18 s). No facts are recorded again when it is found here:
    /// the activations of a scope are analysed as one unit, the one that built it.
    pub fn losses_by_producer(
        &self,
        scope: Node<'a>,
        op: Op,
        build: impl FnOnce() -> LossesByProducer<'a>,
    ) -> Rc<LossesByProducer<'a>> {
        if let Some(found) = self.losses_by_producer.borrow().get(&(scope.id(), op)) {
            return found.clone();
        }
        let built = Rc::new(build());
        self.losses_by_producer.borrow_mut().insert((scope.id(), op), built.clone());
        built
    }

    /// The prediction a loss call receives.
    pub fn loss_prediction(&self, l: &LossCall<'a>) -> Prediction<'a> {
        match (l.compile, l.input) {
            (true, Some(receiver)) => self.model_output(receiver),
            (false, Some(input)) => self.prediction_for(input, framework_of(&l.loss)),
            _ => Prediction::default(),
        }
    }

    /// The flows of one unit, as a fact: `""` is the module-level code.
    pub(super) fn compute_flows(&self, unit: &str) -> Vec<LossFlow> {
        let (node, display) = if unit.is_empty() {
            (Some(self.tree.root_node()), String::new())
        } else {
            (self.unit_definition(unit), unit.to_string())
        };
        let Some(node) = node else { return Vec::new() };
        let mut flows: Vec<LossFlow> = self
            .loss_calls_in(node)
            .iter()
            .filter_map(|l| {
                let p = self.loss_prediction(l);
                (l.holder.is_some() || p.source.is_some()).then(|| LossFlow {
                    unit: display.clone(),
                    loss: l.loss.clone(),
                    expects: l.expects,
                    holder: l.holder.clone(),
                    source: p.source,
                    op: p.op,
                })
            })
            .collect();
        flows.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        flows.dedup();
        flows
    }

    /// Every unit's flows: module-level functions, methods of module-level classes and the
    /// module-level code, each asked only when its text mentions a loss.
    pub(super) fn compute_file_flows(&self) -> Vec<LossFlow> {
        let mut out = Vec::new();
        let mut ask = |q: String| {
            if let Fact::Flows(f) = self.fact(&FactKey::Flows(q.into())) {
                out.extend(f);
            }
        };
        for (statement, def) in self.file_units() {
            if let Some(q) = self.qualified_name(def)
                && self.mentions_a_loss(text(statement, self.src))
            {
                ask(q);
            }
        }
        let root = self.tree.root_node();
        let mut cursor = root.walk();
        let loose = root.named_children(&mut cursor).any(|child| {
            !matches!(definition(child).kind_name(), "function_definition" | "class_definition")
                && self.mentions_a_loss(text(child, self.src))
        });
        if loose {
            ask(String::new());
        }
        out
    }

    /// The module-level functions and the methods of module-level classes, in order, each as
    /// its statement (with its decorators) and its definition: the file's units besides its
    /// module-level code.
    fn file_units(&self) -> Vec<(Node<'a>, Node<'a>)> {
        let mut units = Vec::new();
        let root = self.tree.root_node();
        let mut cursor = root.walk();
        for child in root.named_children(&mut cursor) {
            let def = definition(child);
            match def.kind_name() {
                "function_definition" => units.push((child, def)),
                "class_definition" => {
                    let Some(body) = def.child_by_field_id(FIELD.body) else { continue };
                    let mut c = body.walk();
                    for stmt in body.named_children(&mut c) {
                        let method = definition(stmt);
                        if method.kind_name() == "function_definition" {
                            units.push((stmt, method));
                        }
                    }
                }
                _ => {}
            }
        }
        units
    }

    /// What the calls of the unit `unit` (`f`, `C.m`, or `""`: the module-level code, outside the
    /// units' definitions) call of the file ([`FactKey::Calls`]), sorted.
    pub(super) fn compute_calls(&self, unit: &str) -> Vec<Source> {
        let root = self.tree.root_node();
        let node = if unit.is_empty() { Some(root) } else { self.unit_definition(unit) };
        let Some(node) = node else { return Vec::new() };
        // The units the module-level code stops at.
        let units: Vec<Node<'a>> =
            if unit.is_empty() { self.file_units().into_iter().map(|(_, def)| def).collect() } else { Vec::new() };
        let mut out = Vec::new();
        crate::syntax::visit(node, |n| {
            if n.kind_name() == "call"
                && let (Some(source), _, _) = self.call_source(n, None)
            {
                out.push(source);
            }
            // The module-level code stops at the units only: it holds the bodies of the module's
            // classes (run at import), and the calls of a function that is no unit (defined
            // under `if __name__ == "__main__":` or `try:`, a class's nested class's method).
            !units.contains(&n)
        });
        out.sort();
        out.dedup();
        out
    }

    /// Every unit of the file with what it calls of the file ([`FactKey::FileCalls`]): the
    /// module-level functions, the methods of module-level classes and the module-level code.
    pub(super) fn compute_file_calls(&self) -> Vec<(String, Source)> {
        let mut units = vec![String::new()];
        units.extend(self.file_units().into_iter().filter_map(|(_, def)| self.qualified_name(def)));
        let mut out = Vec::new();
        for unit in units {
            if let Fact::Sources(sources) = self.fact(&FactKey::Calls(unit.as_str().into())) {
                out.extend(sources.into_iter().map(|s| (unit.clone(), s)));
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The units of the file (`f`, `C.m`, `""` for the module-level code) that call `source`.
    pub fn callers_of(&self, source: &Source) -> Vec<String> {
        match self.fact(&FactKey::FileCalls) {
            Fact::Callers(all) => all.into_iter().filter(|(_, s)| s == source).map(|(u, _)| u).collect(),
            _ => Vec::new(),
        }
    }

    /// Code that may call a loss: it mentions a loss word, or a name the file assigns a loss
    /// object to (uses [`FactKey::LossHolders`]).
    pub fn mentions_a_loss(&self, code: &str) -> bool {
        if losses::mentions_a_loss(code) {
            return true;
        }
        match self.fact(&FactKey::LossHolders) {
            Fact::Names(names) => names.iter().any(|n| contains_word(code, n)),
            _ => false,
        }
    }

    /// The definition of the unit `f` or `C.m`.
    pub(super) fn unit_definition(&self, qualified: &str) -> Option<Node<'a>> {
        if let Some(found) = self.unit_definitions.borrow().get(qualified) {
            return *found;
        }
        let found = match qualified.split_once('.') {
            Some((class, method)) => self
                .module_definition(class)
                .filter(|c| c.kind_name() == "class_definition")
                .and_then(|c| self.method_of_class(c, method)),
            None => self.module_definition(qualified).filter(|d| d.kind_name() == "function_definition"),
        };
        self.unit_definitions.borrow_mut().insert(qualified.to_string(), found);
        found
    }

    /// The file's module classes.
    pub(super) fn compute_module_classes(&self) -> Vec<ModuleClass> {
        const BASES: &[&str] = &[
            "torch.nn.Module",
            "torch.nn.modules.module.Module",
            "keras.Model",
            "keras.models.Model",
            "keras.layers.Layer",
            "flax.linen.Module",
        ];
        let root = self.tree.root_node();
        let mut classes: Vec<(String, Node<'a>, Vec<String>)> = Vec::new();
        let mut cursor = root.walk();
        for child in root.named_children(&mut cursor) {
            let def = definition(child);
            if def.kind_name() != "class_definition" {
                continue;
            }
            let Some(name) = def.child_by_field_id(FIELD.name) else { continue };
            let mut bases = Vec::new();
            if let Some(list) = def.child_by_field_id(FIELD.superclasses) {
                let mut c = list.walk();
                for base in list.named_children(&mut c) {
                    match self.api(base) {
                        Some(api) => bases.push(api),
                        None => bases.push(self.text(base).to_string()),
                    }
                }
            }
            classes.push((self.text(name).to_string(), def, bases));
        }
        // A class is a module class when a base is a library module class or, transitively, one
        // of the file's module classes; it has that class's framework.
        let mut module: Vec<Option<&'static str>> = classes
            .iter()
            .map(|(_, _, b)| b.iter().find(|b| BASES.contains(&b.as_str())).and_then(|b| framework_of(b)))
            .collect();
        loop {
            let mut changed = false;
            for i in 0..classes.len() {
                if module[i].is_some() {
                    continue;
                }
                let inherited = classes[i]
                    .2
                    .iter()
                    .find_map(|b| classes.iter().zip(&module).find(|((n, _, _), m)| m.is_some() && n == b))
                    .and_then(|(_, m)| *m);
                if inherited.is_some() {
                    module[i] = inherited;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let mut out: Vec<ModuleClass> = classes
            .iter()
            .zip(&module)
            .filter_map(|(c, m)| m.map(|m| (c, m)))
            .map(|((name, def, _), framework)| {
                let forward = ["forward", "call", "__call__"].iter().find_map(|m| self.method_of_class(*def, m));
                let (min_args, max_args) = forward.map_or((0, usize::MAX), |f| arity(f, self.src));
                ModuleClass { name: name.clone(), framework, min_args, max_args }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out.dedup_by(|a, b| a.name == b.name);
        out
    }

    /// The flows recorded in the file whose prediction comes from `source` (see
    /// [`FactKey::FileFlows`]).
    pub fn flows_from(&self, source: &Source) -> Vec<LossFlow> {
        match self.fact(&FactKey::FlowsFrom(source.clone())) {
            Fact::Flows(flows) => flows,
            _ => Vec::new(),
        }
    }

    pub(super) fn compute_flows_from(&self, source: &Source) -> Vec<LossFlow> {
        match self.fact(&FactKey::FileFlows) {
            Fact::Flows(all) => all.into_iter().filter(|f| f.source.as_ref() == Some(source)).collect(),
            _ => Vec::new(),
        }
    }

    /// The flows whose prediction is the result of the file's function `q` (qualified) returned
    /// unchanged by other functions of the file, up to [`MAX_FORWARDS`] deep: `def forward(self,
    /// x): return self.inter_forward(x)` makes the callers of the class those of
    /// `inter_forward`. Each comes with the function its callers call.
    pub fn flows_passing_through(&self, q: &str) -> Vec<LossFlow> {
        match self.fact(&FactKey::FlowsThrough(q.into())) {
            Fact::Flows(flows) => flows,
            _ => Vec::new(),
        }
    }

    pub(super) fn compute_flows_passing_through(&self, q: &str) -> Vec<LossFlow> {
        let Fact::Flows(all) = self.fact(&FactKey::FileFlows) else { return Vec::new() };
        all.into_iter()
            .filter(|flow| {
                let mut names: Vec<String> = match &flow.source {
                    Some(Source::Function(f)) => vec![f.clone()],
                    Some(Source::Class(c)) => {
                        ["forward", "call", "__call__"].iter().map(|m| format!("{c}.{m}")).collect()
                    }
                    _ => return false,
                };
                for _ in 0..MAX_FORWARDS {
                    names = names
                        .iter()
                        .filter_map(|n| match self.fact(&FactKey::Function(n.as_str().into())) {
                            Fact::Function(Some(s)) => s.forwards_to,
                            _ => None,
                        })
                        .collect();
                    if names.is_empty() {
                        return false;
                    }
                    if names.iter().any(|n| n == q) {
                        return true;
                    }
                }
                false
            })
            .collect()
    }

    /// The flows recorded in the file whose loss object is held in `holder`.
    pub fn flows_into(&self, holder: &Source) -> Vec<LossFlow> {
        match self.fact(&FactKey::FlowsInto(holder.clone())) {
            Fact::Flows(flows) => flows,
            _ => Vec::new(),
        }
    }

    pub(super) fn compute_flows_into(&self, holder: &Source) -> Vec<LossFlow> {
        match self.fact(&FactKey::FileFlows) {
            Fact::Flows(all) => all.into_iter().filter(|f| f.holder.as_ref() == Some(holder)).collect(),
            _ => Vec::new(),
        }
    }

    /// How the calls of the function holding `node` are known elsewhere: `C` for the forward
    /// of a class, `C.m` for another method, `f` for a module-level function.
    pub fn source_of_function(&self, function: Node<'a>) -> Option<Source> {
        let q = self.qualified_name(function)?;
        match q.split_once('.') {
            Some((class, "forward" | "call" | "__call__")) => Some(Source::Class(class.to_string())),
            _ => Some(Source::Function(q)),
        }
    }

    /// Where the object built by `ctor` is held, when it is assigned to `self.<attr>` in a
    /// method of a module-level class or to a module-level name.
    pub fn holder_of(&self, ctor: Node<'a>) -> Option<Source> {
        let mut node = ctor;
        while let Some(parent) = node.parent() {
            if parent.kind_name() == "parenthesized_expression" {
                node = parent;
                continue;
            }
            if parent.kind_name() != "assignment" || parent.child_by_field_id(FIELD.right) != Some(node) {
                return None;
            }
            let left = parent.child_by_field_id(FIELD.left)?;
            return match left.kind_name() {
                "attribute" => {
                    let object = left.child_by_field_id(FIELD.object)?;
                    let attr = left.child_by_field_id(FIELD.attribute)?;
                    let class = self.self_class(object)?;
                    let name = class.child_by_field_id(FIELD.name)?;
                    (self.module_definition(self.text(name)) == Some(class)).then(|| Source::Attribute {
                        class: self.text(name).to_string(),
                        attr: self.text(attr).to_string(),
                    })
                }
                "identifier" if self.is_module_scope(self.scope_of(parent)) => {
                    Some(Source::Global(self.text(left).to_string()))
                }
                _ => None,
            };
        }
        None
    }
}

/// The names `src` assigns a loss object to: `criterion = nn.CrossEntropyLoss()`,
/// `self.kl = nn.KLDivLoss(...)` (`kl`), found in the text (the last name before `=` on the
/// line of a loss class's call), sorted.
pub fn loss_holders(src: &str) -> Vec<String> {
    let mut names = Vec::new();
    for ending in ["Loss(", "Crossentropy(", "Divergence("] {
        for (at, _) in src.match_indices(ending) {
            let line_start = crate::text::line_start(src, at);
            let line = &src[line_start..at];
            let Some(eq) = line.find('=') else { continue };
            if line[eq + 1..].starts_with('=') || line[..eq].ends_with(['!', '<', '>', '=']) {
                continue;
            }
            let target = line[..eq].trim();
            let name = target.rsplit('.').next().unwrap_or(target);
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                names.push(name.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The framework whose module classes a library's losses are computed on: `torch`, `keras`
/// (TensorFlow and Keras), `flax` (optax and JAX).
fn framework_of(name: &str) -> Option<&'static str> {
    match name.split('.').next()? {
        "torch" | "torchvision" => Some("torch"),
        "tensorflow" | "keras" | "tf_keras" => Some("keras"),
        "flax" | "optax" | "jax" => Some("flax"),
        _ => None,
    }
}

/// How many positional arguments a method accepts after `self`: (required, at most).
fn arity(function: Node, src: &str) -> (usize, usize) {
    let Some(params) = function.child_by_field_id(FIELD.parameters) else { return (0, usize::MAX) };
    let mut cursor = params.walk();
    let mut required = 0;
    let mut total = 0;
    let mut star = false;
    for (i, p) in params.named_children(&mut cursor).filter(|p| p.kind_name() != "comment").enumerate() {
        if i == 0 {
            continue;
        }
        match p.kind_name() {
            "identifier" | "typed_parameter" => {
                required += 1;
                total += 1;
            }
            "default_parameter" | "typed_default_parameter" => total += 1,
            "list_splat_pattern" => star = true,
            "keyword_separator" | "dictionary_splat_pattern" => break,
            _ => {}
        }
    }
    let _ = src;
    (required, if star { usize::MAX } else { total })
}

/// The loss and what it expects, for messages: `nn.CrossEntropyLoss`, which applies
/// log_softmax itself.
pub fn applies(expects: Expects) -> &'static str {
    match expects {
        Expects::Logits(Prob::Softmax) => "which applies log_softmax itself",
        Expects::Logits(Prob::Sigmoid) => "which applies the sigmoid itself",
        Expects::Probabilities(_) => "which expects probabilities",
        Expects::LogProbabilities => "which expects log-probabilities",
    }
}
