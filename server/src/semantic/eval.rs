//! The evaluator: the abstract value of any expression, computed on demand and memoized per
//! node, so that every expression of a file is evaluated at most once per analysis.
//!
//! Names follow their reaching definitions (joined over branches) and the conditions that guard
//! the use; `self.x` reads the class's attribute fact; calls go through the transfer table, the
//! file's own function summaries, layers (logits) and constructors; arithmetic is interval
//! arithmetic. An expression nested deeper than [`MAX_DEPTH`] evaluations is unknown.

use tree_sitter::Node;

use super::apis;
use super::constant;
use super::facts::{Fact, FactKey};
use super::guards::{Constraint, refine_bypassed};
use super::reductions::Reduce;
use super::scope::{Binding, Entry};
use super::transfer::{self, Arg, RECEIVER, Transfer};
use super::value::{
    Bound, Dtype, EXP_SUM_MAX, Interval, Kind, Library, MIN_TEMPERATURE, Op, Origin, Prob, SOFTMAX_SPREAD, Value, Via,
};
use super::{Callee, Model};
use crate::syntax::{Args, FIELD, KindName, Span, callee_name, same_expression, text, unparenthesized};

/// How many nested evaluations one question may take before the answer is "unknown".
const MAX_DEPTH: u32 = 96;

/// Methods named like this are where a module or layer computes its output.
pub const FORWARD_METHODS: &[&str] = &["forward", "call", "__call__"];

impl<'a> Model<'a> {
    /// What is known about the value of `node`.
    pub fn value(&self, node: Node<'a>) -> Value<'a> {
        if let Some(v) = self.values.borrow().get(&node.id()) {
            // The facts its computation used are used again (API contracts, issue 10).
            if let Some(used) = self.value_dependencies.borrow().get(&node.id()) {
                self.record_all(used);
            }
            return v.clone();
        }
        if let Some((v, used)) = self.provisional.borrow().get(&node.id()) {
            self.record_all(used);
            // Its answer came from a cut: so does every answer built on it.
            self.tainted.set(true);
            return v.clone();
        }
        if self.depth.get() >= MAX_DEPTH || !self.active.borrow_mut().insert(node.id()) {
            self.tainted.set(true);
            return Value::unknown();
        }
        self.depth.set(self.depth.get() + 1);
        let outer = self.enter();
        let mark = self.dependencies.borrow().mark();
        let value = self.compute(node);
        let used = self.dependencies.borrow().since(mark);
        self.depth.set(self.depth.get() - 1);
        self.active.borrow_mut().remove(&node.id());
        if self.tainted.get() {
            self.provisional.borrow_mut().insert(node.id(), (value.clone(), used));
        } else {
            if !used.is_empty() {
                self.value_dependencies.borrow_mut().insert(node.id(), used);
            }
            self.values.borrow_mut().insert(node.id(), value.clone());
        }
        self.leave(outer);
        value
    }

    /// Starts a computation of a value or a fact: returns whether the one around it met a cut
    /// so far, and starts this one clean.
    pub(super) fn enter(&self) -> bool {
        self.open.set(self.open.get() + 1);
        self.tainted.replace(false)
    }

    /// Ends the computation [`Model::enter`] started: a cut it met taints the one around it too.
    /// When the outermost question is answered, the answers kept provisionally are dropped.
    pub(super) fn leave(&self, outer: bool) {
        self.tainted.set(outer || self.tainted.get());
        self.open.set(self.open.get() - 1);
        if self.open.get() == 0 {
            self.tainted.set(false);
            self.provisional.borrow_mut().clear();
            self.facts.borrow_mut().provisional.clear();
        }
    }

    fn compute(&self, node: Node<'a>) -> Value<'a> {
        self.evaluations.set(self.evaluations.get() + 1);
        if constant::is_constant_kind(node.kind_name())
            && let Some(v) = self.constant(node)
        {
            return Value::constant(v).produced(Op::Constant, node);
        }
        match node.kind_name() {
            "integer" | "float" => match constant::literal_value(self.text(node)) {
                Some(v) => Value::constant(v).produced(Op::Constant, node),
                None => Value::unknown().with_origin(Origin::Config).with_kind(Kind::Scalar),
            },
            "true" => Value::constant(1.0).with_kind(Kind::Scalar),
            "false" => Value::constant(0.0).with_kind(Kind::Scalar),
            "string" | "concatenated_string" | "none" | "dictionary" | "set" | "lambda" => {
                Value::unknown().with_origin(Origin::Config).with_kind(Kind::NotArray)
            }
            "list" | "tuple" => self.sequence_value(node),
            "parenthesized_expression" => match node.named_child(0) {
                Some(inner) if node.named_child_count() == 1 => self.value(inner),
                _ => Value::unknown(),
            },
            // `(n := mask.sum())` is the value it binds.
            "named_expression" => match node.child_by_field_id(FIELD.value) {
                Some(value) => Value { via: None, ..self.value(value) },
                None => Value::unknown(),
            },
            "identifier" => self.name_value(node),
            "attribute" => self.attribute_value_at(node),
            "call" => self.call_value(node),
            "binary_operator" => self.binary_value(node),
            "unary_operator" => self.unary_value(node),
            "subscript" => self.subscript_value(node),
            "conditional_expression" => {
                let (a, b) = (node.named_child(0), node.named_child(2));
                match (a, b) {
                    (Some(a), Some(b)) => self.value(a).join(&self.value(b)),
                    _ => Value::unknown(),
                }
            }
            "comparison_operator" | "not_operator" => {
                let origin = self.operands_origin(node);
                Value::unknown().with_range(Interval::UNIT).with_origin(origin).produced(Op::Mask, node)
            }
            "list_comprehension" | "generator_expression" | "set_comprehension" => {
                let body = node.named_child(0).map(|b| self.value(b)).unwrap_or_else(Value::unknown);
                Value { kind: Kind::NotArray, producer: None, via: None, ..body }
            }
            _ => Value::unknown(),
        }
    }

    /// The origin of a comparison or boolean expression: that of its operands.
    fn operands_origin(&self, node: Node<'a>) -> Origin {
        let mut origin = Origin::Config;
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            origin = origin.join(self.value(child).origin);
        }
        origin
    }

    /// A list or tuple literal: the hull of its elements (for `torch.tensor([1.0, 2.0])`).
    fn sequence_value(&self, node: Node<'a>) -> Value<'a> {
        let mut cursor = node.walk();
        let mut joined: Option<Value<'a>> = None;
        for child in node.named_children(&mut cursor) {
            if child.kind_name() == "comment" {
                continue;
            }
            let v = self.value(child);
            joined = Some(match joined {
                Some(j) => j.join(&v),
                None => v,
            });
        }
        let v = joined.unwrap_or_else(|| Value::unknown().with_origin(Origin::Config));
        Value { kind: Kind::NotArray, producer: v.producer.filter(|p| p.op == Op::Constant), via: None, ..v }
    }

    /// A plain name: its reaching bindings in its scope (joined), else a parameter, an enclosing
    /// function's binding, a module-level name, or an import; narrowed by guarding conditions.
    fn name_value(&self, node: Node<'a>) -> Value<'a> {
        let name = self.text(node);
        if let Some(path) = self.imports.binding(name) {
            let kind = if apis::leaf(path).chars().next().is_some_and(char::is_uppercase) {
                Kind::Unknown
            } else {
                Kind::Module
            };
            return Value::unknown().with_origin(Origin::Config).with_kind(kind);
        }
        // A comprehension variable: an element of what it iterates.
        if let Some(iterable) = self.comprehension_source(node) {
            let of = self.value(iterable);
            return self.refine(node, Value { via: None, kind: element_kind(&of.kind), ..of });
        }
        let scope = self.scope_of(node);
        let index = self.scope_index(scope);
        let reaching = index.reaching(name, node.start_byte());
        let values: Vec<Value<'a>> = reaching.entries.iter().map(|entry| self.entry_value(name, *entry)).collect();
        // `acc = zeros(n)`, then `acc[i] += p` in a loop: the loop may run zero times, but an
        // accumulator is made to be filled; its initial zeros are no evidence after the loop.
        // (Asked only when zeros reach: the ancestor walk stays off the common path.)
        let zeros =
            |entry: &Entry<'a>, v: &Value<'a>| matches!(entry.binding, Binding::Value(_)) && v.op() == Some(Op::Zeros);
        let filled =
            reaching.entries.iter().zip(&values).any(|(e, v)| zeros(e, v)) && filled_in_a_loop(&reaching.entries, node);
        let mut joined: Option<Value<'a>> = None;
        // More than one binding reaches: some may reach only past an `if c: name = ...`.
        let bypass = reaching.entries.len() + usize::from(reaching.outer) > 1;
        let bypassing = if bypass {
            let ends = reaching.entries.iter().map(|e| e.node.end_byte());
            let from = ends.chain(reaching.outer.then(|| scope.start_byte())).min().unwrap_or(0);
            self.bypassing(node, from)
        } else {
            Vec::new()
        };
        for (entry, v) in reaching.entries.iter().zip(values) {
            if filled && zeros(entry, &v) {
                continue;
            }
            let v = if bypass { refine_bypassed(&bypassing, entry.node.end_byte(), v) } else { v };
            joined = Some(match joined {
                Some(j) => j.join(&v),
                None => v,
            });
        }
        if reaching.outer {
            let outer = self.outer_value(node, scope);
            let outer = if bypass { refine_bypassed(&bypassing, scope.start_byte(), outer) } else { outer };
            joined = Some(match joined {
                Some(j) => j.join(&outer),
                None => outer,
            });
        }
        let mut value = joined.unwrap_or_else(Value::unknown);
        // The name and assignment the value came through, for messages.
        if let ([entry], false) = (reaching.entries.as_slice(), reaching.outer)
            && let Binding::Value(_) = entry.binding
            && value.via.is_none()
        {
            value.via = Some(Via { name: name.to_string(), assigned: Span::of(entry.node) });
        }
        self.refine(node, value)
    }

    /// The iterable a comprehension variable `node` ranges over, if `node` is one.
    fn comprehension_source(&self, node: Node<'a>) -> Option<Node<'a>> {
        let name = self.text(node);
        for n in self.binders_from(node) {
            if matches!(n.kind_name(), "function_definition" | "lambda" | "class_definition") {
                return None;
            }
            if matches!(
                n.kind_name(),
                "list_comprehension" | "generator_expression" | "set_comprehension" | "dictionary_comprehension"
            ) {
                let mut cursor = n.walk();
                for clause in n.named_children(&mut cursor).filter(|c| c.kind_name() == "for_in_clause") {
                    let left = clause.child_by_field_id(FIELD.left);
                    if left.is_some_and(|l| l.kind_name() == "identifier" && self.text(l) == name)
                        && !left.is_some_and(|l| l == node)
                    {
                        return clause.child_by_field_id(FIELD.right);
                    }
                }
            }
        }
        None
    }

    /// The value one binding gives `name`.
    pub(super) fn entry_value(&self, name: &str, entry: Entry<'a>) -> Value<'a> {
        match entry.binding {
            // `if mask.sum() == 0: return`, then `d = mask.sum()`: the conditions where a call is
            // evaluated hold of its value (names, attributes and subscripts narrow their own).
            Binding::Value(rhs) if unparenthesized(rhs).kind_name() == "call" => self.refine(rhs, self.value(rhs)),
            Binding::Value(rhs) => self.value(rhs),
            Binding::Unpacked(rhs) => self.unpacked_value(rhs, unpacked_position(entry.node, name, self.src)),
            Binding::Augmented { op, value } => {
                let previous = self.value_before(name, entry.node);
                let operand = self.value(value);
                // `p += eps` guards as `p = p + eps` does.
                if op.kind_name() == "+="
                    && let Some(v) = self.guarded_sum(value, &operand, &previous)
                {
                    return v;
                }
                arithmetic(op.kind_name().trim_end_matches('='), &previous, &operand, entry.node)
            }
            Binding::Element { index, value } => {
                let previous = self.value_before(name, entry.node);
                let new = self.value(value);
                // `rank = arange(n); rank[0] = 1`: the only 0 of an ascending range from 0 is
                // its first element.
                if let Some(p) = previous.producer
                    && p.op == Op::Arange
                    && previous.range.lo.value == 0.0
                    && self.constant(index) == Some(0.0)
                    && new.range.is_positive()
                {
                    let lo = Bound::closed(new.range.lo.value.min(1.0));
                    return Value { range: Interval::new(lo, previous.range.hi), ..previous };
                }
                // Elements overwritten: the old producer's zeros (`zeros(n)` then filled) are no
                // evidence any more.
                let producer = new.producer.filter(|p| reaches_zero_op(p.op) && new.range.contains_zero());
                Value { range: previous.range.hull(new.range), producer, ..previous }
            }
            Binding::InPlace(call) => {
                let previous = self.value_before(name, entry.node);
                let method =
                    call.child_by_field_id(FIELD.function).and_then(|f| callee_name(f, self.src)).unwrap_or("");
                let base = method.trim_end_matches('_');
                match transfer::of_method(method).or_else(|| transfer::of_method(base)) {
                    Some(t) => self
                        .apply(t, call, &Args::of(call), Some(previous.clone()), method)
                        .with_origin(previous.origin),
                    None if matches!(base, "add" | "mul" | "div" | "sub") => {
                        let args = Args::of(call);
                        let operand = args.positional.first().map(|a| self.value(*a)).unwrap_or_else(Value::unknown);
                        let op = match base {
                            "add" => "+",
                            "mul" => "*",
                            "div" => "/",
                            _ => "-",
                        };
                        arithmetic(op, &previous, &operand, call)
                    }
                    None => Value { range: Interval::ANY, producer: None, ..previous },
                }
            }
            Binding::Loop(iterable) => {
                let of = self.value(iterable);
                Value { via: None, kind: element_kind(&of.kind), ..of }
            }
            Binding::Definition(def) => {
                // A function or class object, not an array.
                let _ = def;
                Value::unknown().with_origin(Origin::Config).with_kind(Kind::NotArray)
            }
            Binding::Opaque => Value::unknown(),
        }
    }

    /// The value of `name` just before `node` (for bindings that update a previous value).
    fn value_before(&self, name: &str, node: Node<'a>) -> Value<'a> {
        let scope = self.scope_of(node);
        let reaching = self.scope_index(scope).reaching(name, node.start_byte());
        let mut joined: Option<Value<'a>> = None;
        for entry in &reaching.entries {
            if entry.node == node {
                continue;
            }
            let v = self.entry_value(name, *entry);
            joined = Some(match joined {
                Some(j) => j.join(&v),
                None => v,
            });
        }
        if reaching.outer {
            let ident = Value::unknown();
            let outer = match scope.kind_name() {
                "function_definition" => match self.parameter(scope, name) {
                    Some(p) => self.parameter_value(scope, p),
                    None => ident,
                },
                _ => ident,
            };
            joined = Some(match joined {
                Some(j) => j.join(&outer),
                None => outer,
            });
        }
        joined.unwrap_or_else(Value::unknown)
    }

    /// A name not bound in its own scope on some path: a parameter, a binding of an enclosing
    /// function, or a module-level name.
    fn outer_value(&self, node: Node<'a>, scope: Node<'a>) -> Value<'a> {
        let name = self.text(node);
        let mut scope = scope;
        loop {
            if self.is_module_scope(scope) {
                return match self.fact(&FactKey::Global(name.into())) {
                    Fact::Value(Some(v)) => v.value_at(node),
                    _ => Value::unknown(),
                };
            }
            if let Some(p) = self.parameter(scope, name) {
                return self.parameter_value(scope, p);
            }
            let def = scope;
            scope = self.scope_of(def);
            if scope == def {
                // No enclosing scope found (a damaged tree): nothing known.
                return Value::unknown();
            }
            if self.is_module_scope(scope) {
                continue;
            }
            // A closure: the enclosing function's binding before the nested definition.
            let reaching = self.scope_index(scope).reaching(name, def.start_byte());
            if !reaching.entries.is_empty() {
                let mut joined: Option<Value<'a>> = None;
                for entry in &reaching.entries {
                    let v = self.entry_value(name, *entry);
                    joined = Some(match joined {
                        Some(j) => j.join(&v),
                        None => v,
                    });
                }
                return joined.unwrap_or_else(Value::unknown);
            }
        }
    }

    /// What a parameter holds. `self` is the instance; parameters of a layer's forward method
    /// and tensor-annotated ones are training-time data; `__init__` parameters and parameters
    /// with a number as default are configuration. Ranges are unknown: callers pass anything.
    fn parameter_value(&self, function: Node<'a>, param: Node<'a>) -> Value<'a> {
        let name = super::parameter_name(param, self.src).unwrap_or("");
        let fname = function.child_by_field_id(FIELD.name).map(|n| self.text(n)).unwrap_or("");
        let class = self.class_of_method(function);
        if class.is_some() && super::first_parameter(function, self.src) == Some(name) && !is_static(function, self.src)
        {
            let class_name = class
                .and_then(|c| c.child_by_field_id(FIELD.name))
                .map(|n| self.text(n).to_string())
                .unwrap_or_default();
            return Value::unknown().with_origin(Origin::Config).with_kind(Kind::Instance(class_name));
        }
        if matches!(param.kind_name(), "list_splat_pattern" | "dictionary_splat_pattern") {
            return Value::unknown().with_kind(Kind::NotArray);
        }
        // `mask`, `attention_mask`, `masks`: 0/1 values by name; their sums are counts.
        if mask_name(name) {
            return Value::unknown().with_origin(Origin::Data).with_range(Interval::UNIT).produced(Op::Mask, param);
        }
        let annotation = param.child_by_field_id(FIELD.type_).map(|t| self.text(t)).unwrap_or("");
        let default = param.child_by_field_id(FIELD.value);
        if let Some(d) = default
            && let Some(c) = self.constant(d)
        {
            // A hyperparameter; callers are meant to pass values like its default
            // (`eps=1e-6`, `k_init=0.75`), so a positive default reads as positive.
            let range = if c > 0.0 { Interval::POSITIVE } else { Interval::ANY };
            return Value::unknown().with_origin(Origin::Config).with_kind(Kind::Scalar).with_range(range);
        }
        let forward_pass = class.is_some() && FORWARD_METHODS.contains(&fname);
        if annotation_is_array(annotation) {
            // An array, but not necessarily a training-time one (`freq: np.ndarray`) ...
            let array = Value::unknown().with_kind(Kind::Unknown);
            // ... unless a forward pass receives it (`def forward(self, x: Tensor)`): the
            // annotation says what it is, not that it is any less training-time data.
            return if forward_pass { array.with_origin(Origin::Data) } else { array };
        }
        if matches!(annotation, "int" | "float" | "bool" | "str") || fname == "__init__" || hyperparameter_name(name) {
            return Value::unknown().with_origin(Origin::Config);
        }
        if forward_pass {
            return Value::unknown().with_origin(Origin::Data);
        }
        Value::unknown()
    }

    /// `a.b`: `self.x` reads the class's attribute fact; constants fold; attributes of
    /// training-time values are training-time; other objects' attributes are configuration.
    fn attribute_value_at(&self, node: Node<'a>) -> Value<'a> {
        let (Some(object), Some(attr)) =
            (node.child_by_field_id(FIELD.object), node.child_by_field_id(FIELD.attribute))
        else {
            return Value::unknown();
        };
        let attr_name = self.text(attr);
        if let Some(path) = self.imports.resolve(node, self.src) {
            let canonical = apis::canonical(&path);
            let kind = if apis::leaf(&canonical).chars().next().is_some_and(char::is_uppercase) {
                Kind::Unknown
            } else {
                Kind::Module
            };
            // `np.pi` folded above; `np.inf`, `torch.float16`...
            return match attr_name {
                "inf" | "infty" | "Inf" => Value::constant(f64::INFINITY)
                    .with_range(Interval::new(Bound::closed(f64::MAX), Bound::open(f64::INFINITY))),
                "nan" | "NaN" | "NAN" => Value::unknown().with_origin(Origin::Config).with_kind(Kind::Scalar),
                _ => Value::unknown().with_origin(Origin::Config).with_kind(kind),
            };
        }
        if let Some(class) = self.self_class(object) {
            let class_name = class.child_by_field_id(FIELD.name).map(|n| self.text(n).to_string()).unwrap_or_default();
            let key = FactKey::Attribute { class: class_name.into(), attr: attr_name.into() };
            let value = match self.fact(&key) {
                Fact::Value(Some(v)) => v.value_at(node),
                _ => Value::unknown().with_origin(Origin::Config),
            };
            return self.refine(node, value);
        }
        let of = self.value(object);
        let value = match attr_name {
            // `x.T`, `x.data`, `x.real`: the same elements (a transpose's vectors are not the
            // rows that were normalized).
            "T" | "mT" => Value { via: None, ..of.clone() }.without_property(),
            "data" | "real" => Value { via: None, ..of.clone() },
            "shape" | "ndim" | "size" | "dtype" | "device" => {
                Value::unknown().with_origin(Origin::Config).with_kind(Kind::NotArray)
            }
            // `np.finfo(x).eps`, `torch.finfo(d).tiny`
            "eps" | "tiny" | "smallest_normal" | "resolution" | "max" if self.is_finfo(object) => {
                Value::unknown().with_origin(Origin::Config).with_kind(Kind::Scalar).with_range(Interval::above(0.0))
            }
            "grad" => Value::unknown().with_origin(Origin::Data),
            _ => match of.origin {
                Origin::Data => Value::unknown().with_origin(Origin::Data),
                _ => Value::unknown().with_origin(Origin::Config),
            },
        };
        self.refine(node, value)
    }

    fn is_finfo(&self, node: Node<'a>) -> bool {
        node.kind_name() == "call"
            && node
                .child_by_field_id(FIELD.function)
                .and_then(|f| callee_name(f, self.src))
                .is_some_and(|n| matches!(n, "finfo" | "iinfo"))
    }

    fn call_value(&self, call: Node<'a>) -> Value<'a> {
        if let Some(v) = self.cosine_similarity(call) {
            return v;
        }
        let args = Args::of(call);
        match self.callee(call) {
            Some(Callee::Api(api)) => self.api_value(&api, call, &args),
            Some(Callee::Method { name, receiver }) => self.method_value(name, receiver, call, &args),
            Some(Callee::Local(def)) => match self.summary_of(def).and_then(|s| s.returns) {
                Some(returns) => returns.value_at(call),
                None => Value::unknown(),
            },
            Some(Callee::Class(class)) => {
                let name = class.child_by_field_id(FIELD.name).map(|n| self.text(n).to_string()).unwrap_or_default();
                Value::unknown().with_origin(Origin::Config).with_kind(Kind::Instance(name))
            }
            Some(Callee::Value(function)) => self.called_object(function, call, &args),
            None => Value::unknown(),
        }
    }

    /// A library function or class.
    fn api_value(&self, api: &str, call: Node<'a>, args: &Args<'a>) -> Value<'a> {
        let library = apis::library_of(api);
        // `torch.max(input, other)` with a tensor as its second argument is the element-wise
        // maximum (`torch.maximum`), not a reduction along a dimension (torch.max's docs).
        let elementwise_max = api == "torch.max"
            && args.positional.len() == 2
            && args.keyword.is_empty()
            && !args.splat
            && self.constant(args.positional[1]).is_none();
        if let Some(t) = if elementwise_max { Some(Transfer::Maximum) } else { transfer::of_api(api) } {
            let v = self.apply(t, call, args, None, api);
            return match library {
                Some(lib) if !matches!(v.kind, Kind::Array(_)) && !matches!(t, Transfer::Scalar(_)) => {
                    v.with_kind(Kind::Array(lib))
                }
                _ => v,
            };
        }
        let leaf = apis::leaf(api);
        if leaf.chars().next().is_some_and(char::is_uppercase) {
            // A class: `nn.Parameter(...)` and `tf.Variable(...)` are trained; other instances
            // (layers, losses) are objects their calls reach.
            if matches!(api, "torch.nn.Parameter" | "tensorflow.Variable" | "torch.nn.parameter.Parameter") {
                return Value::unknown()
                    .with_origin(Origin::Data)
                    .with_kind(Kind::Array(library.unwrap_or(Library::Torch)));
            }
            return Value::unknown().with_origin(Origin::Config).with_kind(Kind::Object(self.object_kind(api, args)));
        }
        let origin = self.args_origin(args);
        // Gaussian noise changes every step and takes every sign.
        let random = matches!(leaf, "randn" | "randn_like" | "normal" | "standard_normal" | "truncated_normal");
        let origin = if random { Origin::Data } else { origin };
        let kind = match library {
            Some(lib) => Kind::Array(lib),
            None => Kind::Unknown,
        };
        Value::unknown().with_origin(origin).with_kind(kind)
    }

    /// The join of the arguments' origins (configuration when there are none).
    /// The logits `x` lie in a band so narrow that no element of their softmax underflows:
    /// [`SOFTMAX_GAP`] wide, or [`SOFTMAX_GAP_F16`] in float16 (the value's dtype, a Keras
    /// `mixed_float16` policy or PyTorch's default dtype).
    fn no_softmax_underflow(&self, x: &Value<'a>) -> bool {
        let width = x.range.hi.value - x.range.lo.value;
        if !x.range.lo.value.is_finite() || width > SOFTMAX_GAP {
            return false;
        }
        let precision = self.precision();
        let half = x.dtype == Some(Dtype::F16)
            || precision.keras_policy == Some(Dtype::F16)
            || precision.torch_default == Some(Dtype::F16);
        !half || width <= SOFTMAX_GAP_F16
    }

    /// How the indices `index` were drawn from `array` for a pick along `axis`: its argmax along
    /// that axis (1 and -1 taken as the same, the class axis of a batch of rows), or a sample with its entries as weights (`multinomial`, whose indices run along
    /// the last axis, so the pick's is 1 or -1). Through names bound on every path, reshapes and
    /// subscripts (`idx[:, None]`); the array the draw read must hold the same value as the one
    /// picked from (the same name, with the same reaching bindings).
    fn drawn_from(&self, index: Node<'a>, array: Node<'a>, axis: i64, depth: u32) -> Option<Draw> {
        if depth > 6 {
            return None;
        }
        let index = unparenthesized(index);
        match index.kind_name() {
            "identifier" => {
                let scope = self.scope_of(index);
                let reaching = self.scope_index(scope).reaching(self.text(index), index.start_byte());
                if reaching.outer || reaching.entries.is_empty() {
                    return None;
                }
                let mut draws = Vec::new();
                for entry in &reaching.entries {
                    let Binding::Value(rhs) = entry.binding else { return None };
                    draws.push(self.drawn_from(rhs, array, axis, depth + 1)?);
                }
                draws.into_iter().min()
            }
            "subscript" => self.drawn_from(index.child_by_field_id(FIELD.value)?, array, axis, depth + 1),
            "call" => {
                let args = Args::of(index);
                let (name, operand, method) = match self.callee(index)? {
                    Callee::Method { name, receiver } => (name.to_string(), Some(receiver), true),
                    Callee::Api(api) => (apis::leaf(&api).to_string(), args.positional.first().copied(), false),
                    _ => return None,
                };
                let operand = operand?;
                let same = || {
                    same_expression(operand, array, self.src)
                        && unparenthesized(array).kind_name() == "identifier"
                        && self.same_value_at(operand, array)
                };
                match name.as_str() {
                    "argmax" => {
                        let dim = args.get(usize::from(!method), &["dim", "axis"], self.src)?;
                        // 1 and -1 name the same axis of a batch of rows, `[n, K]`.
                        let along = self
                            .constant(dim)
                            .is_some_and(|d| d == axis as f64 || (matches!(axis, 1 | -1) && (d == 1.0 || d == -1.0)));
                        (along && same()).then_some(Draw::Argmax)
                    }
                    "multinomial" => (matches!(axis, 1 | -1) && same()).then_some(Draw::Sampled),
                    "squeeze" | "unsqueeze" | "reshape" | "view" | "view_as" | "expand" | "expand_as"
                    | "expand_dims" | "flatten" | "long" | "int" | "to" => {
                        self.drawn_from(operand, array, axis, depth + 1)
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// The constant axis a pick runs along, where its signature has one: `gather(dim, index)`
    /// and `take_along_dim(indices, dim)` (methods), `torch.gather(input, dim, index)`,
    /// `torch.take_along_dim(input, indices, dim)`, `take_along_axis(arr, indices, axis)`.
    fn pick_axis(&self, api: &str, method: bool, args: &Args<'a>) -> Option<i64> {
        let leaf = api.rsplit('.').next().unwrap_or(api);
        let at = match (leaf, method) {
            ("gather", true) => args.get(0, &["dim"], self.src),
            ("take_along_dim", true) => args.get(1, &["dim"], self.src),
            ("gather", false) if api.starts_with("torch.") => args.get(1, &["dim"], self.src),
            ("take_along_dim", false) => args.get(2, &["dim"], self.src),
            ("take_along_axis", false) => args.get(2, &["axis"], self.src),
            _ => None,
        }?;
        let v = self.constant(at)?;
        (v.fract() == 0.0).then_some(v as i64)
    }

    fn args_origin(&self, args: &Args<'a>) -> Origin {
        let mut origin = Origin::Config;
        for a in args.positional.iter().chain(args.keyword.iter().map(|(_, v)| v)) {
            origin = origin.join(self.value(*a).origin);
        }
        origin
    }

    /// `receiver.name(...)` on a receiver that is not an import.
    fn method_value(&self, name: &str, receiver: Node<'a>, call: Node<'a>, args: &Args<'a>) -> Value<'a> {
        let of = self.value(receiver);
        match &of.kind {
            Kind::NotArray | Kind::Scalar | Kind::Module => {
                return Value::unknown().with_origin(if of.origin == Origin::Data {
                    Origin::Data
                } else {
                    Origin::Unknown
                });
            }
            Kind::Instance(class) => {
                // `model.forward(x)` or another method of this file's class.
                let key = FactKey::Function(format!("{class}.{name}").into());
                return match self.fact(&key) {
                    Fact::Function(Some(s)) => s.returns.map(|r| r.value_at(call)).unwrap_or_else(Value::unknown),
                    _ => Value::unknown(),
                };
            }
            _ => {}
        }
        // `x.add(eps)`, `x.mul_(0.5)`, `x.neg_()`, `x.sub(1)`: arithmetic as methods.
        let base_name = name.strip_suffix('_').unwrap_or(name);
        let operator = match base_name {
            "add" => Some("+"),
            "sub" | "subtract" => Some("-"),
            "mul" | "multiply" => Some("*"),
            "div" | "divide" | "true_divide" => Some("/"),
            "pow" => Some("**"),
            _ => None,
        };
        if let Some(op) = operator
            && let [operand] = args.positional.as_slice()
        {
            return arithmetic(op, &of, &self.value(*operand), call);
        }
        if base_name == "neg" && args.is_empty() {
            return Value { range: of.range.negated(), producer: None, via: None, ..of };
        }
        match name {
            "size" | "dim" | "numel" | "nelement" => {
                return Value::unknown().with_origin(Origin::Config).with_kind(Kind::Scalar);
            }
            "log" | "log2" | "log10" | "log_" if args.is_empty() => {
                return Value { range: of.range.log(), producer: None, via: None, ..of }.produced(Op::Log, call);
            }
            // Range family (issue 9): `.item()` is a Python number with the tensor's value.
            "item" if args.is_empty() && matches!(of.kind, Kind::Array(_) | Kind::Unknown) => {
                return Value { kind: Kind::Scalar, via: None, ..of };
            }
            _ => {}
        }
        match transfer::of_method(name) {
            Some(t) => {
                let v = self.apply(t, call, args, Some(of.clone()), name);
                let origin = of.origin.join(v.origin);
                let kind = if matches!(v.kind, Kind::Unknown) { of.kind.clone() } else { v.kind.clone() };
                let dtype = method_dtype(name, self.text_args(args)).or(v.dtype).or(of.dtype);
                Value { origin, kind, dtype, ..v }
            }
            None => Value::unknown().with_origin(of.origin).with_kind(match of.kind {
                Kind::Array(lib) => Kind::Array(lib),
                _ => Kind::Unknown,
            }),
        }
    }

    fn text_args(&self, args: &Args<'a>) -> Vec<&'a str> {
        args.positional.iter().map(|a| self.text(*a)).chain(args.keyword.iter().map(|(_, v)| self.text(*v))).collect()
    }

    /// An object called: a layer (its output is logits), an activation module, this file's
    /// module class (its forward's return), a loss, or a builtin.
    fn called_object(&self, function: Node<'a>, call: Node<'a>, args: &Args<'a>) -> Value<'a> {
        if function.kind_name() == "identifier" {
            let builtin = self.text(function);
            let first = args.positional.first().map(|a| self.value(*a));
            match (builtin, first) {
                // `s / float(mask.sum()) if mask.sum() > 0 else s`: the conditions where the
                // argument is evaluated hold of it.
                ("float", Some(v)) => {
                    let arg = args.positional[0];
                    return Value { kind: Kind::Scalar, ..self.refine(arg, v) };
                }
                ("int" | "round", Some(v)) => return Value { kind: Kind::Scalar, ..v },
                ("abs", Some(v)) => return Value { range: v.range.abs(), producer: None, ..v }.produced(Op::Abs, call),
                ("len", _) => {
                    return Value::unknown()
                        .with_origin(Origin::Config)
                        .with_kind(Kind::Scalar)
                        .with_range(Interval::NON_NEGATIVE);
                }
                ("max" | "min", Some(_)) if args.positional.len() >= 2 => {
                    let values: Vec<Value<'a>> = args.positional.iter().map(|a| self.value(*a)).collect();
                    let mut range = values[0].range;
                    for v in &values[1..] {
                        range = if builtin == "max" { range.clamp_below(v.range) } else { range.clamp_above(v.range) };
                    }
                    let origin = values.iter().fold(Origin::Config, |o, v| o.join(v.origin));
                    return Value::unknown()
                        .with_range(range)
                        .with_origin(origin)
                        .with_kind(Kind::Scalar)
                        .produced(Op::Clip, call);
                }
                ("sum", Some(v)) => return self.sum_of(v, call),
                _ => {}
            }
        }
        let held = self.value(function);
        match held.kind {
            Kind::Object(class) => {
                let lib = apis::library_of(&class).unwrap_or(Library::Torch);
                let data = Value::unknown().with_origin(Origin::Data).with_kind(Kind::Array(lib));
                // A configured layer or stack: its output (API contracts, issue 10).
                if let Some(out) = super::flows::configured_output(&class) {
                    return match out {
                        Some(Op::Softmax) => data.with_range(Interval::UNIT).produced(Op::Softmax, call),
                        Some(Op::Sigmoid) => data.with_range(Interval::UNIT).produced(Op::Sigmoid, call),
                        Some(Op::LogSoftmax) => data
                            .with_range(Interval::new(Bound::open(f64::NEG_INFINITY), Bound::closed(0.0)))
                            .produced(Op::LogSoftmax, call),
                        Some(Op::Logits) => data.produced(Op::Logits, call),
                        _ => data,
                    };
                }
                let class = super::flows::split_object(&class).0;
                let leaf = apis::leaf(class);
                // Range family (issue 9): a mean squared error is a mean of squares.
                if matches!(leaf, "MSELoss" | "MeanSquaredError") {
                    return data.with_range(Interval::NON_NEGATIVE).produced(Op::SumOfSquares, call);
                }
                match leaf {
                    "Softmax" | "Softmax2d" => data.with_range(Interval::UNIT).produced(Op::Softmax, call),
                    "Sigmoid" => data.with_range(Interval::UNIT).produced(Op::Sigmoid, call),
                    "LogSoftmax" => data
                        .with_range(Interval::new(Bound::open(f64::NEG_INFINITY), Bound::closed(0.0)))
                        .produced(Op::LogSoftmax, call),
                    "ReLU" | "ReLU6" => data.with_range(Interval::NON_NEGATIVE).produced(Op::Relu, call),
                    "Softplus" => data.with_range(Interval::POSITIVE).produced(Op::Softplus, call),
                    "Tanh" => data.with_range(Interval::closed(-1.0, 1.0)).produced(Op::Bounded, call),
                    "Linear" | "Dense" | "Conv1d" | "Conv2d" | "Conv3d" | "Conv1D" | "Conv2D" | "Conv3D"
                    | "Bilinear" | "LazyLinear" | "EinsumDense" => data.produced(Op::Logits, call),
                    _ if leaf.ends_with("Loss") || class.starts_with("keras.losses.") => {
                        data.with_range(Interval::NON_NEGATIVE)
                    }
                    _ => data,
                }
            }
            Kind::Instance(class) => {
                // Calling a module instance runs its forward (PyTorch), call (Keras) or __call__.
                for method in FORWARD_METHODS {
                    if let Fact::Function(Some(s)) = self.fact(&FactKey::Function(format!("{class}.{method}").into())) {
                        return s.returns.map(|r| r.value_at(call)).unwrap_or_else(Value::unknown);
                    }
                }
                Value::unknown().with_origin(Origin::Data)
            }
            _ => {
                let origin = self.args_origin(args);
                Value::unknown().with_origin(if origin == Origin::Data { Origin::Data } else { Origin::Unknown })
            }
        }
    }

    /// Applies a transfer. `receiver` is the value of the object a method is called on; `api` is
    /// the function's canonical name, or the method's name.
    fn apply(&self, t: Transfer, call: Node<'a>, args: &Args<'a>, receiver: Option<Value<'a>>, api: &str) -> Value<'a> {
        let input = |a: Arg| -> Option<Value<'a>> {
            if a == RECEIVER {
                return receiver.clone();
            }
            args.get(a.position, a.keywords, self.src).map(|n| self.value(n))
        };
        let origin = receiver.as_ref().map_or(Origin::Config, |r| r.origin).join(self.args_origin(args));
        let base = Value::unknown().with_origin(origin);
        let dtype = self.dtype_argument(args).or_else(|| receiver.as_ref().and_then(|r| r.dtype));
        let v = match t {
            // A softmax of logits within a band narrower than `SOFTMAX_GAP` (cosine scores over a
            // temperature above 0.025) has no element that underflows.
            Transfer::Fixed(range, Op::Softmax)
                if receiver
                    .as_ref()
                    .or(args.positional.first().map(|n| self.value(*n)).as_ref())
                    .is_some_and(|x| self.no_softmax_underflow(x)) =>
            {
                let lo = Bound::open(0.0);
                base.with_range(Interval::new(lo, range.hi)).produced(Op::Softmax, call)
            }
            Transfer::Fixed(range, op) => base.with_range(range).produced(op, call),
            Transfer::Map(f, op, a) => match input(a) {
                Some(x) => {
                    let v = Value { range: f(x.range), producer: None, via: None, ..x.clone() }.with_origin(origin);
                    // `abs` and `square` of a value with no 0 (a pivot of an LU decomposition)
                    // are positive.
                    if matches!(op, Op::Abs | Op::Square) && x.op() == Some(Op::NonZero) {
                        return Value { range: v.range.meet(Interval::POSITIVE), ..v }.produced(op, call);
                    }
                    // `abs`, `square` and `sqrt` are 0 only where their input is: they carry the
                    // input's evidence of zeros, and have none of their own.
                    if matches!(op, Op::Abs | Op::Square | Op::Sqrt) {
                        match x.op().filter(|o| reaches_zero_op(*o) && x.range.contains_zero()) {
                            Some(inner) => v.produced(inner, call),
                            None => v.produced(op, call),
                        }
                    } else {
                        v.produced(op, call)
                    }
                }
                None => base.with_range(f(Interval::ANY)).produced(op, call),
            },
            Transfer::Same(a) => match input(a) {
                // A reshape, stack or transpose no longer has the normalized vectors along its
                // last axis (nor orthonormal columns); a cast or a copy does.
                Some(x) if x.op().is_some_and(Op::is_property) && !self.keeps_layout(call) => {
                    Value { via: None, origin: x.origin, ..x }.without_property()
                }
                Some(x) => Value { via: None, origin: x.origin, ..x },
                None => base,
            },
            // As a subscript: the picked elements' range and producer; the origin is the
            // indices' too (data-dependent indices pick data-dependent elements).
            Transfer::Select(a) => match input(a) {
                Some(x) => {
                    let mut v = Value { via: None, ..x };
                    if v.op().is_some_and(Op::is_property) {
                        v = v.without_property();
                    }
                    let array =
                        if a == RECEIVER { receiver_node(call) } else { args.get(a.position, a.keywords, self.src) };
                    if let Some(array) = array
                        && let Some(axis) = self.pick_axis(api, a == RECEIVER, args)
                    {
                        let indices = args.positional.iter().chain(args.keyword.iter().map(|(_, n)| n));
                        let draws =
                            indices.filter(|n| **n != array).filter_map(|n| self.drawn_from(*n, array, axis, 0));
                        if let Some(draw) = draws.max() {
                            // A sampled entry had positive weight; the largest of a softmax is
                            // at least 1/K.
                            if draw == Draw::Sampled || v.op() == Some(Op::Softmax) {
                                v.range = v.range.meet(Interval::POSITIVE);
                            }
                        }
                    }
                    v.with_origin(origin)
                }
                None => base,
            },
            Transfer::Clip { input: a, lower, upper } => {
                let x = input(a).unwrap_or_else(Value::unknown);
                let mut range = x.range;
                if let Some(lo) = lower.and_then(|l| self.bound(args, l, receiver.is_some())) {
                    range = range.clamp_below(lo);
                }
                if let Some(hi) = upper.and_then(|u| self.bound(args, u, receiver.is_some())) {
                    range = range.clamp_above(hi);
                }
                Value { range, producer: None, via: None, ..x }.with_origin(origin).produced(Op::Clip, call)
            }
            Transfer::Maximum => match (args.positional.first().copied(), args.positional.get(1).copied()) {
                (Some(a), Some(b)) => self.maximum_of(a, b, base, call),
                _ => base,
            },
            Transfer::Sum(a) => match input(a) {
                Some(x) => self.sum_of(x, call).with_origin(origin),
                None => base,
            },
            Transfer::Within(a, op) => match input(a) {
                // Range family (issue 9): a mean of squares (`mean((y - t) ** 2)`) is one.
                Some(x) if x.op().is_some_and(|o| matches!(o, Op::Square | Op::SumOfSquares)) => {
                    Value { producer: None, via: None, ..x }.with_origin(origin).produced(Op::SumOfSquares, call)
                }
                Some(x) => {
                    let keep = x.producer.filter(|p| {
                        p.op.probability().is_some() || matches!(p.op, Op::Mask | Op::Relu | Op::Clip | Op::Exp)
                    });
                    Value {
                        producer: keep.map(|p| super::value::Producer {
                            op: if p.op == Op::Mask { op } else { p.op },
                            node: call,
                        }),
                        via: None,
                        ..x
                    }
                    .with_origin(origin)
                }
                None => base,
            },
            // A weighted `bincount` sums each bin's weights (`bincount(x, weights)`, the method's
            // first argument): 0 for an empty bin, but no count (weights may be below 1 or
            // negative, and a floor of 1 would change every bin).
            Transfer::Count
                if apis::leaf(api) == "bincount"
                    && args
                        .get(usize::from(receiver.is_none()), &["weights"], self.src)
                        .is_some_and(|w| crate::syntax::text(w, self.src) != "None") =>
            {
                base
            }
            Transfer::Count => {
                base.with_range(Interval::NON_NEGATIVE).with_kind(Kind::Unknown).produced(Op::Count, call)
            }
            Transfer::NonNegative(op) => base.with_range(Interval::NON_NEGATIVE).produced(op, call),
            Transfer::Where => {
                let (c, a, b) = (args.positional.first(), args.positional.get(1), args.positional.get(2));
                match (c, a, b) {
                    // `where(p > eps, p, eps)`: the maximum of `p` and `eps`.
                    (Some(c), Some(a), Some(b)) if self.selects_the_larger(*c, *a, *b) => {
                        self.maximum_of(*a, *b, base, call)
                    }
                    (Some(c), Some(a), Some(b)) => {
                        let mut va = self.value(*a);
                        let mut vb = self.value(*b);
                        let mut ca = Vec::new();
                        self.constraints_of(*c, true, 0, &mut ca);
                        let mut cb = Vec::new();
                        self.constraints_of(*c, false, 0, &mut cb);
                        // `narrow`, not `meet`: `where(n == 0, 1, n)` leaves `n != 0`, a pinhole
                        // that opens the closed 0 of a count.
                        for (branch, v, found) in [(*a, &mut va, &ca), (*b, &mut vb, &cb)] {
                            // `where(p > 0, p / q, 1)`: the quotient is 0 only where `p` is.
                            let factor = v.producer.and_then(|p| self.zero_factor(p.node));
                            for k in found {
                                if self.is_or_copies(branch, k.subject) {
                                    v.range = super::guards::narrow(v.range, k.range);
                                } else if factor.is_some_and(|f| self.is_or_copies(f, k.subject))
                                    && !k.range.contains_zero()
                                {
                                    v.producer = None;
                                }
                            }
                        }
                        // Evidence of zeros comes from a branch that reaches 0.
                        let zero = [&va, &vb]
                            .into_iter()
                            .find(|v| v.range.contains_zero() && v.op().is_some_and(reaches_zero_op))
                            .and_then(|v| v.op());
                        let joined = va.join(&vb);
                        let v = Value { producer: None, via: None, ..joined }.with_origin(origin);
                        match zero {
                            Some(op) => v.produced(op, call),
                            None => v,
                        }
                    }
                    _ => base,
                }
            }
            Transfer::Uniform { low, high, default, float64 } => {
                // Keywords first: `init.uniform_(w, a=1.0, b=16.0)` and `w.uniform_(1.0, 16.0)`.
                let given = |a: Arg| {
                    if a.position == usize::MAX {
                        None
                    } else {
                        args.keyword(a.keywords, self.src)
                            .or_else(|| args.positional.get(a.position).copied())
                            .map(|n| self.value(n))
                    }
                };
                let (lo, hi) = (given(low), given(high));
                // Constant or default bounds draw fresh training-time noise; bounds from the
                // configuration are an initialization in the configured range.
                let configured = [&lo, &hi].into_iter().flatten().any(|v| v.range.as_point().is_none());
                let origin = if configured { Origin::Config } else { Origin::Data };
                let mut lo_b = lo.map(|v| v.range.lo).unwrap_or(Bound::closed(default.0));
                // A float64 draw is exactly its lower bound once in 2^53 draws: not a value
                // training meets (NumPy's `uniform()` in a Metropolis test, a data augmentation).
                if float64 {
                    lo_b.closed = false;
                }
                let hi_b = hi.map(|v| Bound::open(v.range.hi.value)).unwrap_or(Bound::open(default.1));
                let produced = base.with_origin(origin).with_range(Interval::new(lo_b, hi_b));
                // Evidence of zeros only where the lower bound is known: `rand()` is [0, 1).
                if produced.range.lo.value.is_finite() && produced.range.contains_zero() {
                    produced.produced(Op::Uniform, call)
                } else {
                    produced
                }
            }
            Transfer::Arange => {
                let values: Vec<Value<'a>> = args.positional.iter().map(|n| self.value(*n)).collect();
                let (start, step) = match values.len() {
                    0 => (
                        args.keyword(&["start"], self.src)
                            .map(|n| self.value(n))
                            .map(|v| v.range)
                            .unwrap_or(Interval::point(0.0)),
                        Interval::point(1.0),
                    ),
                    1 => (Interval::point(0.0), Interval::point(1.0)),
                    2 => (values[0].range, Interval::point(1.0)),
                    _ => (values[0].range, values[2].range),
                };
                let step = args.keyword(&["step", "delta"], self.src).map(|n| self.value(n).range).unwrap_or(step);
                let range = if step.is_positive() {
                    Interval::new(start.lo, Bound::open(f64::INFINITY))
                } else {
                    Interval::ANY
                };
                base.with_range(range).produced(Op::Arange, call)
            }
            Transfer::Fill(a) => match input(a) {
                Some(x) => Value { via: None, ..x }.with_origin(origin),
                None => base,
            },
            Transfer::Filled(v) => {
                let op = if v == 0.0 { Op::Zeros } else { Op::Constant };
                base.with_range(Interval::point(v)).produced(op, call)
            }
            Transfer::Mask => base.with_range(Interval::UNIT).produced(Op::Mask, call),
            Transfer::Normalize { input: a, order, axis, default_axis } => {
                let x = input(a).unwrap_or_else(Value::unknown);
                let v =
                    Value { range: Interval::closed(-1.0, 1.0), producer: None, via: None, ..x }.with_origin(origin);
                // Unit vectors along the last axis: an L2 norm (or a larger one: order <= 2)
                // along axis 1 or -1 (the feature axis of a batch of vectors), or every axis.
                let order = order.and_then(|o| args.get(o.position, o.keywords, self.src)).map(|o| self.constant(o));
                let unit_order = match order {
                    None => true,
                    Some(p) => p.is_some_and(|p| p > 0.0 && p <= 2.0),
                };
                let axis = match args.get(axis.position, axis.keywords, self.src) {
                    Some(n) if self.text(n) == "None" => None,
                    Some(n) => Some(self.constant(n)),
                    None => default_axis.map(Some),
                };
                let unit_axis = match axis {
                    None => true,
                    Some(a) => a.is_some_and(|a| a == 1.0 || a == -1.0),
                };
                if unit_order && unit_axis { v.produced(Op::Normalized, call) } else { v }
            }
            Transfer::Diagonal(a) => match input(a) {
                // The main diagonal only: no offset (`k=`, `offset=`, `diagonal=`) nor axes.
                Some(x)
                    if x.op() == Some(Op::Invertible)
                        && args.positional.len() + args.keyword.len() == usize::from(a != RECEIVER) =>
                {
                    Value { producer: None, via: None, ..x }.with_origin(origin).produced(Op::NonZero, call)
                }
                // Of an exponential: elements of it, which overflow with it (`e.diag() / e.sum(-1)`,
                // InfoNCE written out). Read as a selection: `diag` of a vector, a matrix with
                // zeros off its diagonal, is not told apart (no rank is known here).
                Some(x)
                    if x.op() == Some(Op::Exp)
                        && args.positional.len() + args.keyword.len() == usize::from(a != RECEIVER) =>
                {
                    Value { via: None, ..x }
                }
                _ => base,
            },
            Transfer::Scalar(f) => match args.positional.first().map(|n| self.value(*n)) {
                Some(x) => Value { range: f(x.range), producer: None, via: None, ..x },
                None => base,
            },
        };
        Value { dtype: v.dtype.or(dtype), ..v }
    }

    /// A clip bound's interval. A named bound that is not a constant (`min=self.floor`,
    /// `threshold`) counts as positive: whoever wrote a lower bound chose it to keep the value
    /// away from 0, and nanlint does not second-guess a bound it cannot see.
    fn bound(&self, args: &Args<'a>, a: Arg, method: bool) -> Option<Interval> {
        let _ = method;
        let node = args.get(a.position, a.keywords, self.src)?;
        if self.text(node) == "None" {
            return None;
        }
        let v = self.value(node);
        if v.range.is_any() && self.named_floor(node) {
            return Some(Interval::POSITIVE);
        }
        Some(v.range)
    }

    /// A name or attribute that is not a constant: `threshold`, `self.min_value`, `cfg.floor`,
    /// also converted to a dtype or a tensor (`tf.cast(_EPSILON, dtype=_FLOATX)` with
    /// `_EPSILON` imported from a configuration module, `eps.to(x)`, `np.float32(floor)`).
    fn named_floor(&self, node: Node<'a>) -> bool {
        let mut node = unparenthesized(node);
        for _ in 0..4 {
            if node.kind_name() != "call" {
                break;
            }
            match self.converted(node) {
                Some(inner) => node = unparenthesized(inner),
                None => return false,
            }
        }
        matches!(node.kind_name(), "identifier" | "attribute") && self.constant(node).is_none()
    }

    /// The value a conversion call converts: the input of a library function whose elements
    /// are its input's (`tf.cast`, `torch.tensor`, `np.float32`: [`Transfer::Same`]), or the
    /// receiver of a dtype or device method (`.to(...)`, `.float()`, `.astype(...)`).
    pub fn converted(&self, call: Node<'a>) -> Option<Node<'a>> {
        match self.callee(call)? {
            Callee::Api(api) => match transfer::of_api(&api)? {
                Transfer::Same(a) => Args::of(call).get(a.position, a.keywords, self.src),
                _ => None,
            },
            Callee::Method { name, receiver } => {
                matches!(name, "to" | "type" | "astype" | "float" | "double" | "half" | "bfloat16").then_some(receiver)
            }
            _ => None,
        }
    }

    /// `dtype=` in a call (`torch.zeros(3, dtype=torch.float16)`).
    fn dtype_argument(&self, args: &Args<'a>) -> Option<Dtype> {
        args.keyword(&["dtype"], self.src).and_then(|d| dtype_named(self.text(d)))
    }

    /// `maximum(a, b)`: the larger range, where a named bound is a floor its author chose
    /// (`maximum(x, self.floor)`, `np.maximum(mel_floor, spectrogram)`). Not when the other
    /// operand is a number: in `maximum(x, 0)` the number is the floor and `x` the value.
    fn maximum_of(&self, a: Node<'a>, b: Node<'a>, base: Value<'a>, call: Node<'a>) -> Value<'a> {
        let range = |n: Node<'a>, v: &Value<'a>, other: Node<'a>| {
            if self.named_floor(n) && self.constant(other).is_none() && v.range.is_any() && v.origin != Origin::Data {
                Interval::POSITIVE
            } else {
                v.range
            }
        };
        let (va, vb) = (self.value(a), self.value(b));
        base.with_range(range(a, &va, b).max(range(b, &vb, a))).produced(Op::Clip, call)
    }

    /// `where(cond, a, b)` is `maximum(a, b)`: `cond` compares `a` and `b` (as written) and holds
    /// where `a` is the larger (`a > b`, `b < a`, `a >= b`, `b <= a`).
    fn selects_the_larger(&self, cond: Node<'a>, a: Node<'a>, b: Node<'a>) -> bool {
        let Some((left, op, right)) = super::guards::comparison_parts(unparenthesized(cond)) else { return false };
        let same = |x: Node<'a>, y: Node<'a>| {
            crate::syntax::text(unparenthesized(x), self.src) == crate::syntax::text(unparenthesized(y), self.src)
        };
        match op {
            ">" | ">=" => same(left, a) && same(right, b),
            "<" | "<=" => same(right, a) && same(left, b),
            _ => false,
        }
    }

    /// The sum of an array with elements in `x`'s interval: positive when they are; a sum of a
    /// mask or of values that reach 0 is a count that can be 0.
    fn sum_of(&self, x: Value<'a>, call: Node<'a>) -> Value<'a> {
        let range = if x.range.is_positive() {
            Interval::POSITIVE
        } else if x.range.is_non_negative() {
            Interval::NON_NEGATIVE
        } else {
            Interval::ANY
        };
        let op = match x.op() {
            Some(Op::Mask) => Op::Count,
            // A sum of magnitudes is an L1 norm (0 for a zero row: evidence as a norm's, in
            // preview), not a count; a sum of draws, of an `arange` or of spreads is 0 only
            // where every term is. (A sum of probabilities stays evidence: over a subset of
            // classes or a mask it is 0 where they underflow, though a softmax summed over its
            // own axis is 1.)
            Some(Op::Abs | Op::Norm) => Op::Norm,
            Some(Op::Uniform | Op::Arange | Op::Std | Op::Var) => Op::Sum,
            Some(op) if reaches_zero_op(op) && x.range.is_non_negative() => Op::Count,
            // Range family (issue 9): a sum of squares is 0 where every term is.
            Some(Op::Square | Op::SumOfSquares) => Op::SumOfSquares,
            _ => Op::Sum,
        };
        Value { range, via: None, producer: None, ..x }.produced(op, call)
    }

    fn unary_value(&self, node: Node<'a>) -> Value<'a> {
        let Some(arg) = node.child_by_field_id(FIELD.argument) else { return Value::unknown() };
        let v = self.value(arg);
        match node.child_by_field_id(FIELD.operator).map(|o| o.kind_name()) {
            Some("-") => {
                // `-expm1(-x)` = 1 - exp(-x).
                let keep = v.producer.filter(|p| p.op == Op::Constant);
                Value { range: v.range.negated(), producer: keep, via: None, ..v }
            }
            Some("+") => v,
            _ => Value { range: Interval::ANY, producer: None, via: None, ..v },
        }
    }

    /// `x + eps`, `x + 1`, `x += eps`: the conventional guard. Its author reads `x` as
    /// non-negative. A known non-negative `x` plus a known positive term needs no reading: plain
    /// arithmetic is exact and keeps the upper bound (`None`).
    fn guarded_sum(&self, guard_node: Node<'a>, guard: &Value<'a>, other: &Value<'a>) -> Option<Value<'a>> {
        let reads = other.range.is_any() || (other.range.is_non_negative() && !guard.range.is_positive());
        if !reads || guard.range.hi.value.is_sign_negative() || !self.guard_term(guard_node, guard) {
            return None;
        }
        let lo = if guard.range.is_positive() { guard.range.lo } else { Bound::open(0.0) };
        let lo = if other.range.is_any() { lo } else { Bound { value: lo.value + other.range.lo.value, ..lo } };
        let range = Interval::new(lo, Bound::open(f64::INFINITY));
        Some(Value { range, producer: None, via: None, ..other.clone() }.with_origin(other.origin.join(guard.origin)))
    }

    /// The value of `exp(x)` in `1 + exp(x)` (either order, parenthesized or not): a call of
    /// `exp` itself (`torch.exp(x)`, `x.exp()`), not `expm1`, `exp2`, nor an exponential cast,
    /// reshaped or reduced after the call (`exp(x).mean()`), which are no sigmoid's.
    pub fn one_plus_exp(&self, node: Node<'a>) -> Option<Value<'a>> {
        let node = unparenthesized(node);
        if node.kind_name() != "binary_operator" || node.child_by_field_id(FIELD.operator)?.kind_name() != "+" {
            return None;
        }
        let (left, right) = (node.child_by_field_id(FIELD.left)?, node.child_by_field_id(FIELD.right)?);
        let exp_call = |side: Node<'a>| {
            let side = unparenthesized(side);
            let value = self.value(side);
            let own = value.op() == Some(Op::Exp)
                && value.producer.is_some_and(|p| p.node == side)
                && self.callee(side).is_some_and(|c| c.leaf() == Some("exp"));
            own.then_some(value)
        };
        match (self.value(left).range.as_point(), self.value(right).range.as_point()) {
            (Some(1.0), _) => exp_call(right),
            (_, Some(1.0)) => exp_call(left),
            _ => None,
        }
    }

    fn binary_value(&self, node: Node<'a>) -> Value<'a> {
        let (Some(left), Some(op), Some(right)) = (
            node.child_by_field_id(FIELD.left),
            node.child_by_field_id(FIELD.operator),
            node.child_by_field_id(FIELD.right),
        ) else {
            return Value::unknown();
        };
        if op.kind_name() == "@"
            && let Some(v) = self.cosine_similarity(node)
        {
            return v;
        }
        let l = self.value(left);
        let r = self.value(right);
        // `exp(x) / sum(exp(x))` is a softmax written out, able to reach 0 as one, unless its
        // exponents are bounded closely enough that no term underflows (`exp(cos / tau)`).
        if op.kind_name() == "/"
            && l.op() == Some(Op::Exp)
            && matches!(r.op(), Some(Op::Sum) | Some(Op::Count))
            && r.range.is_positive()
        {
            let range = if self.exponents_within_spread(&l, right) {
                Interval::new(Bound::open(0.0), Bound::closed(1.0))
            } else {
                Interval::UNIT
            };
            return Value::unknown()
                .with_origin(l.origin.join(r.origin))
                .with_kind(l.kind.clone())
                .with_range(range)
                .produced(Op::Softmax, node);
        }
        // `1 / (1 + exp(-z))` is a sigmoid written out, able to reach 0 and 1 as one: `exp(-z)`
        // overflows to inf for z below about -88 in float32, and 1 + exp(-z) rounds to 1 for z
        // above about 17. An exponent kept within bounds (`clamp(-x, -50, 50)`) keeps it from
        // either end (`sigmoid_exponents`: exp(80) = 5.5e34 leaves 1 / (1 + exp) above the
        // smallest normal float32, and 1 + exp(-15) stays above 1).
        if op.kind_name() == "/"
            && l.range.as_point() == Some(1.0)
            && let Some(e) = self.one_plus_exp(right)
        {
            let (max_exponent, min_exponent) = sigmoid_exponents(&e);
            let lo = if e.range.hi.value <= max_exponent.exp() { Bound::open(0.0) } else { Bound::closed(0.0) };
            let hi = if e.range.lo.value >= min_exponent.exp() { Bound::open(1.0) } else { Bound::closed(1.0) };
            return Value::unknown()
                .with_origin(l.origin.join(r.origin))
                .with_kind(r.kind.clone())
                .with_range(Interval::new(lo, hi))
                .produced(Op::Sigmoid, node);
        }
        // `x[x > 0] / x.sum()` of a non-negative `x`: the total is at least each element kept,
        // so it is positive wherever there is an element to divide, and the quotient is in (0, 1].
        if op.kind_name() == "/" && self.selection_over_its_total(left, right) {
            return Value::unknown()
                .with_origin(l.origin.join(r.origin))
                .with_kind(l.kind.clone())
                .with_range(Interval::new(Bound::open(0.0), Bound::closed(1.0)));
        }
        // A cosine similarity over a temperature the file does not give (`cos / self.tau`, a
        // name or attribute that is not trained): a hyperparameter, taken to be at least
        // MIN_TEMPERATURE. A temperature known to be smaller (a literal 0.01) keeps its own
        // bounds, and a trained one (`nn.Parameter`) has none.
        if op.kind_name() == "/"
            && l.op() == Some(Op::Cosine)
            && r.origin != Origin::Data
            && matches!(unparenthesized(right).kind_name(), "identifier" | "attribute")
            && r.range.lo.value <= 0.0
            && r.range.hi.value > MIN_TEMPERATURE
        {
            let assumed = r.clone().with_range(r.range.meet(Interval::at_least(MIN_TEMPERATURE)));
            return arithmetic("/", &l, &assumed, node);
        }
        if op.kind_name() == "+" {
            for (guard_node, guard, other) in [(right, &r, &l), (left, &l, &r)] {
                if let Some(v) = self.guarded_sum(guard_node, guard, other) {
                    return v;
                }
            }
        }
        // Range family (issue 9): `x - max(x)` and `x - logsumexp(x)` are at most 0 (the shift
        // that keeps `exp` from overflowing); `max(x) - min(x)` is a spread, 0 for constant input.
        if op.kind_name() == "-"
            && let Some(v) = self.difference_of_reductions(left, right, &l, &r, node)
        {
            return v;
        }
        arithmetic(op.kind_name(), &l, &r, node)
    }

    /// `left` selects positive elements of an array `x` that is non-negative (`x[x > 0]`), and `right`
    /// sums all of `x`, the same binding, over every axis (`x.sum()`, `np.sum(x)`): the total is
    /// 0 only when every element is, and then nothing is selected.
    pub fn selection_over_its_total(&self, left: Node<'a>, right: Node<'a>) -> bool {
        let (left, right) = (unparenthesized(left), unparenthesized(right));
        let Some(array) = left.child_by_field_id(FIELD.value).filter(|_| left.kind_name() == "subscript") else {
            return false;
        };
        if right.kind_name() != "call"
            || !self.value(left).range.is_positive()
            || !self.value(array).range.is_non_negative()
        {
            return false;
        }
        let args = Args::of(right);
        let summed = match self.callee(right) {
            Some(Callee::Method { name: "sum" | "nansum", receiver }) if args.is_empty() => receiver,
            Some(Callee::Api(api))
                if matches!(apis::leaf(&api), "sum" | "nansum")
                    && matches!(apis::library_of(&api), Some(Library::NumPy | Library::Torch | Library::Jax))
                    && args.keyword.is_empty()
                    && !args.splat
                    && args.positional.len() == 1 =>
            {
                args.positional[0]
            }
            _ => return false,
        };
        same_expression(summed, array, self.src) && self.same_value_at(summed, array)
    }

    /// `x - max(x)`, `x - logsumexp(x)` (at most 0) and `max(x) - min(x)` (a spread).
    fn difference_of_reductions(
        &self,
        left: Node<'a>,
        right: Node<'a>,
        l: &Value<'a>,
        r: &Value<'a>,
        node: Node<'a>,
    ) -> Option<Value<'a>> {
        if !matches!(unparenthesized(right).kind_name(), "call" | "subscript" | "attribute" | "identifier") {
            return None;
        }
        let subtracted = self.reduction_through(right)?;
        let base = arithmetic("-", l, r, node);
        match subtracted.reduce {
            Reduce::Max | Reduce::LogSumExp if same_expression(subtracted.operand, left, self.src) => {
                let at_most_zero = Interval::new(Bound::open(f64::NEG_INFINITY), Bound::closed(0.0));
                Some(Value { range: at_most_zero, ..base })
            }
            Reduce::Min => {
                let from = self.reduction_through(left)?;
                (from.reduce == Reduce::Max && same_expression(from.operand, subtracted.operand, self.src))
                    .then(|| base.with_range(Interval::NON_NEGATIVE).produced(Op::Spread, node))
            }
            _ => None,
        }
    }

    /// A positive guard term: a positive constant, or a name read as an epsilon (`eps`,
    /// `self.mel_floor`, `K.epsilon()`) whatever its value is known to be.
    fn guard_term(&self, node: Node<'a>, value: &Value<'a>) -> bool {
        if let Some(c) = value.range.as_point() {
            return c > 0.0;
        }
        let node = unparenthesized(node);
        let name = match node.kind_name() {
            "identifier" => self.text(node),
            "attribute" => node.child_by_field_id(FIELD.attribute).map(|a| self.text(a)).unwrap_or(""),
            "call" => node.child_by_field_id(FIELD.function).and_then(|f| callee_name(f, self.src)).unwrap_or(""),
            _ => "",
        };
        // A configured offset (`x + self.log_domain_offset`, `x + cfg.shift`) is a guard its
        // author chose too.
        let configured = matches!(node.kind_name(), "identifier" | "attribute")
            && value.origin == Origin::Config
            && value.range.is_any();
        value.range.is_positive() && value.origin != Origin::Data || epsilon_name(name) || configured
    }

    /// A cast, copy or device move, which keeps an array's layout (`.to(device)`, `.float()`,
    /// `tf.cast`, `.detach()`), as opposed to a reshape, stack or transpose.
    fn keeps_layout(&self, call: Node<'a>) -> bool {
        let name = call.child_by_field_id(FIELD.function).and_then(|f| callee_name(f, self.src)).unwrap_or("");
        matches!(
            name,
            "to" | "type"
                | "type_as"
                | "astype"
                | "float"
                | "double"
                | "half"
                | "bfloat16"
                | "cpu"
                | "cuda"
                | "detach"
                | "clone"
                | "contiguous"
                | "copy"
                | "numpy"
                | "requires_grad_"
                | "cast"
                | "convert_to_tensor"
                | "constant"
                | "identity"
                | "stop_gradient"
                | "tensor"
                | "as_tensor"
                | "from_numpy"
                | "array"
                | "asarray"
                | "float16"
                | "float32"
                | "float64"
        )
    }

    /// A dot product of two L2-normalized batches of vectors along their last axis, which is in
    /// [-1, 1] (Cauchy-Schwarz): `(a * b).sum(dim=1)`, `torch.mul(a, b).sum(-1)`,
    /// `tf.reduce_sum(a * b, axis=-1)`, and `a @ b.T`, `torch.matmul(a, b.transpose(0, 1))`,
    /// `a.mm(b.t())`, `tf.matmul(a, b, transpose_b=True)`. The axis of the sum is read as the
    /// normalized one when it is 1 or -1 (a batch of vectors, `[n, d]`).
    fn cosine_similarity(&self, node: Node<'a>) -> Option<Value<'a>> {
        let unit = |n: Node<'a>| {
            let v = self.value(n);
            (v.op() == Some(Op::Normalized)).then_some(v)
        };
        let (a, b) = match node.kind_name() {
            "binary_operator" => {
                let op = node.child_by_field_id(FIELD.operator)?;
                if op.kind_name() != "@" {
                    return None;
                }
                let a = unit(node.child_by_field_id(FIELD.left)?)?;
                let b = unit(self.transposed(node.child_by_field_id(FIELD.right)?)?)?;
                (a, b)
            }
            "call" => {
                let function = node.child_by_field_id(FIELD.function)?;
                let name = callee_name(function, self.src)?;
                if !matches!(name, "sum" | "reduce_sum" | "matmul" | "mm" | "dot") {
                    return None;
                }
                let args = Args::of(node);
                if matches!(name, "sum" | "reduce_sum") {
                    let r = self.reduction(node).filter(|r| r.reduce == Reduce::Sum)?;
                    let axis = self.constant(r.axis?)?;
                    if axis != 1.0 && axis != -1.0 {
                        return None;
                    }
                    let (x, y) = self.product_operands(r.operand)?;
                    (unit(x)?, unit(y)?)
                } else {
                    let (x, y) = match self.callee(node)? {
                        Callee::Api(api)
                            if matches!(
                                api.as_str(),
                                "torch.matmul"
                                    | "torch.mm"
                                    | "tensorflow.matmul"
                                    | "tensorflow.linalg.matmul"
                                    | "numpy.matmul"
                                    | "numpy.dot"
                                    | "jax.numpy.matmul"
                                    | "jax.numpy.dot"
                                    | "keras.ops.matmul"
                            ) =>
                        {
                            (*args.positional.first()?, *args.positional.get(1)?)
                        }
                        Callee::Method { receiver, .. } if args.positional.len() == 1 && args.keyword.is_empty() => {
                            (receiver, args.positional[0])
                        }
                        _ => return None,
                    };
                    let transpose_b = args.keyword(&["transpose_b"], self.src).is_some_and(|t| self.text(t) == "True");
                    let y = if transpose_b { y } else { self.transposed(y)? };
                    if args.keyword(&["transpose_a", "adjoint_a", "adjoint_b"], self.src).is_some() {
                        return None;
                    }
                    (unit(x)?, unit(y)?)
                }
            }
            _ => return None,
        };
        let kind = if matches!(a.kind, Kind::Array(_)) { a.kind.clone() } else { b.kind.clone() };
        Some(
            Value::unknown()
                .with_range(Interval::closed(-1.0, 1.0))
                .with_origin(a.origin.join(b.origin))
                .with_kind(kind)
                .produced(Op::Cosine, node),
        )
    }

    /// `a * b`, `torch.mul(a, b)`, `tf.multiply(a, b)`, `a.mul(b)`: the two factors.
    fn product_operands(&self, node: Node<'a>) -> Option<(Node<'a>, Node<'a>)> {
        let node = unparenthesized(node);
        match node.kind_name() {
            "binary_operator" => (node.child_by_field_id(FIELD.operator)?.kind_name() == "*")
                .then(|| Some((node.child_by_field_id(FIELD.left)?, node.child_by_field_id(FIELD.right)?)))
                .flatten(),
            "call" => {
                let args = Args::of(node);
                match self.callee(node)? {
                    Callee::Api(api)
                        if matches!(
                            api.as_str(),
                            "torch.mul"
                                | "torch.multiply"
                                | "tensorflow.math.multiply"
                                | "numpy.multiply"
                                | "jax.numpy.multiply"
                                | "keras.ops.multiply"
                        ) && args.positional.len() == 2 =>
                    {
                        Some((args.positional[0], args.positional[1]))
                    }
                    Callee::Method { name: "mul" | "multiply", receiver } if args.positional.len() == 1 => {
                        Some((receiver, args.positional[0]))
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `x.T`, `x.t()`, `x.transpose(0, 1)` (also `(1, 0)`, `(-1, -2)`, `(-2, -1)`),
    /// `torch.transpose(x, 0, 1)`, `tf.transpose(x)`: the matrix transposed, `x`.
    fn transposed(&self, node: Node<'a>) -> Option<Node<'a>> {
        let node = unparenthesized(node);
        let swaps_last_two = |args: &[Node<'a>]| match args {
            [i, j] => {
                let (i, j) = (self.constant(*i), self.constant(*j));
                matches!(
                    (i, j),
                    (Some(0.0), Some(1.0))
                        | (Some(1.0), Some(0.0))
                        | (Some(-1.0), Some(-2.0))
                        | (Some(-2.0), Some(-1.0))
                )
            }
            _ => false,
        };
        match node.kind_name() {
            "attribute" => {
                let attr = node.child_by_field_id(FIELD.attribute)?;
                matches!(self.text(attr), "T" | "mT").then(|| node.child_by_field_id(FIELD.object)).flatten()
            }
            "call" => {
                let args = Args::of(node);
                if !args.keyword.is_empty() {
                    return None;
                }
                match self.callee(node)? {
                    Callee::Method { name: "t", receiver } if args.positional.is_empty() => Some(receiver),
                    Callee::Method { name: "transpose" | "swapaxes", receiver } if swaps_last_two(&args.positional) => {
                        Some(receiver)
                    }
                    Callee::Api(api)
                        if api == "torch.transpose" && swaps_last_two(args.positional.get(1..).unwrap_or(&[])) =>
                    {
                        args.positional.first().copied()
                    }
                    Callee::Api(api)
                        if matches!(
                            api.as_str(),
                            "tensorflow.transpose" | "numpy.transpose" | "jax.numpy.transpose"
                        ) && args.positional.len() == 1 =>
                    {
                        args.positional.first().copied()
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// `exp(a) / sum(exp(b))` (`l` the numerator's value, `den` the denominator) whose exponents
    /// are bounded with `max(b) - min(a)` within [`SOFTMAX_SPREAD`] and `max(b)` within
    /// [`EXP_SUM_MAX`]: no term underflows to 0, and the sum does not overflow, in float32.
    fn exponents_within_spread(&self, l: &Value<'a>, den: Node<'a>) -> bool {
        let Some(sum) = self.reduction_through(den).filter(|r| r.reduce == Reduce::Sum) else { return false };
        let terms = self.value(sum.operand).range;
        let lowest = l.range.lo.value.ln();
        let highest = terms.hi.value.max(l.range.hi.value).ln();
        // ln(exp(x)) is x to within a few ulps.
        const SLACK: f64 = 1e-9;
        terms.is_positive()
            && lowest.is_finite()
            && highest.is_finite()
            && highest - lowest <= SOFTMAX_SPREAD + SLACK
            && highest <= EXP_SUM_MAX + SLACK
    }

    /// Element `index` of the tuple a library's matrix decomposition returns, where it is known:
    /// the Q of a QR decomposition has orthonormal columns, and the U of the LU decomposition
    /// of such a matrix is invertible (it has full column rank, and so does U).
    ///
    /// `numpy.linalg.qr(a, mode="reduced")`, `scipy.linalg.qr(a, mode="full", pivoting=False)`,
    /// `torch.linalg.qr(A, mode="reduced")`, `tf.linalg.qr(input, full_matrices=False)`: `(Q, R)`
    /// (`mode="r"` and `"raw"` return no Q); `scipy.linalg.lu(a, permute_l=False)`,
    /// `jax.scipy.linalg.lu(a)`, `torch.linalg.lu(A)`: `(P, L, U)`, `(PL, U)` with `permute_l`.
    fn api_element(&self, api: &str, call: Node<'a>, index: usize) -> Option<Value<'a>> {
        let args = Args::of(call);
        let input = *args.positional.first()?;
        let library = apis::library_of(api).unwrap_or(Library::NumPy);
        let base = Value::unknown().with_origin(self.value(input).origin).with_kind(Kind::Array(library));
        match api {
            "numpy.linalg.qr"
            | "scipy.linalg.qr"
            | "jax.numpy.linalg.qr"
            | "jax.scipy.linalg.qr"
            | "torch.linalg.qr"
            | "torch.qr"
            | "tensorflow.linalg.qr"
            | "tensorflow.qr" => {
                let mode =
                    args.keyword(&["mode"], self.src).map(|m| self.text(m).trim_matches(|c| c == '"' || c == '\''));
                let q = mode.is_none_or(|m| matches!(m, "reduced" | "complete" | "full" | "economic"));
                (index == 0 && q && args.positional.len() == 1)
                    .then(|| base.with_range(Interval::closed(-1.0, 1.0)).produced(Op::Orthogonal, call))
            }
            "scipy.linalg.lu" | "jax.scipy.linalg.lu" | "torch.linalg.lu" => {
                let permute_l = args.keyword(&["permute_l"], self.src).map(|p| self.text(p));
                let u = match permute_l {
                    None | Some("False") => 2,
                    Some("True") => 1,
                    Some(_) => return None,
                };
                (index == u && args.positional.len() == 1 && self.value(input).op() == Some(Op::Orthogonal))
                    .then(|| base.produced(Op::Invertible, call))
            }
            "numpy.unique" | "jax.numpy.unique" | "torch.unique" | "torch.unique_consecutive" => {
                let (counts, _) = self.unique_counts(api, &args)?;
                (index == counts).then(|| Value { dtype: Some(Dtype::Int), ..base.with_range(Interval::at_least(1.0)) })
            }
            _ => None,
        }
    }

    /// Where the counts are in the tuple `unique(..., return_counts=True)` returns, and the
    /// tuple's length: after the unique values and, when asked, the first indices and the
    /// inverse. Each count is at least 1 (a value is unique because it occurs). `numpy.unique(ar,
    /// return_index=False, return_inverse=False, return_counts=False, axis=None)`,
    /// `jax.numpy.unique` (not with `size=`: it pads the counts), `torch.unique(input,
    /// sorted=True, return_inverse=False, return_counts=False, dim=None)`,
    /// `torch.unique_consecutive(input, return_inverse=False, return_counts=False, dim=None)`.
    /// Flags given positionally or by an expression are not read.
    fn unique_counts(&self, api: &str, args: &Args<'a>) -> Option<(usize, usize)> {
        if args.positional.len() != 1 || args.splat || args.keyword(&["size"], self.src).is_some() {
            return None;
        }
        let flag = |name: &str| match args.keyword(&[name], self.src).map(|v| self.text(v)) {
            None | Some("False") => Some(false),
            Some("True") => Some(true),
            Some(_) => None,
        };
        if !flag("return_counts")? {
            return None;
        }
        let index = !api.starts_with("torch.") && flag("return_index")?;
        let counts = 1 + usize::from(index) + usize::from(flag("return_inverse")?);
        Some((counts, counts + 1))
    }

    /// What a target at `position` of `a, b = rhs` receives: the element, where it is known
    /// (`a, b = x, y`, `c, n = self.cluster(x)`), else an element of `rhs` with its origin and
    /// nothing else.
    pub(super) fn unpacked_value(&self, rhs: Node<'a>, position: Option<usize>) -> Value<'a> {
        if let Some(v) = position.and_then(|i| self.element_value(rhs, i)) {
            return Value { via: None, ..v };
        }
        let of = self.value(rhs);
        Value { range: Interval::ANY, producer: None, via: None, kind: element_kind(&of.kind), ..of }
    }

    /// The values of the elements of a tuple or list written out (`x, y`, `(x, y)`, `[x, y]`);
    /// `None` for anything else, or when an element is starred.
    pub(super) fn tuple_values(&self, node: Node<'a>) -> Option<Vec<Value<'a>>> {
        let node = unparenthesized(node);
        if !matches!(node.kind_name(), "tuple" | "list" | "expression_list") {
            return None;
        }
        let mut cursor = node.walk();
        let elements: Vec<Node<'a>> = node.named_children(&mut cursor).filter(|e| e.kind_name() != "comment").collect();
        if elements.iter().any(|e| matches!(e.kind_name(), "list_splat" | "parenthesized_list_splat")) {
            return None;
        }
        Some(elements.into_iter().map(|e| self.value(e)).collect())
    }

    /// Element `index` of the tuple `node` evaluates to: of a tuple written out, or of the tuples
    /// one of the file's functions or methods returns (its summary's elements).
    pub(super) fn element_value(&self, node: Node<'a>, index: usize) -> Option<Value<'a>> {
        let node = unparenthesized(node);
        if node.kind_name() != "call" {
            return self.tuple_values(node)?.into_iter().nth(index);
        }
        let summary = match self.callee(node)? {
            Callee::Api(api) => return self.api_element(&api, node, index),
            Callee::Local(def) => self.summary_of(def)?,
            Callee::Method { name, receiver } => match self.value(receiver).kind {
                Kind::Instance(class) => match self.fact(&FactKey::Function(format!("{class}.{name}").into())) {
                    Fact::Function(Some(s)) => s,
                    _ => return None,
                },
                _ => return None,
            },
            _ => return None,
        };
        summary.elements.get(index).map(|e| e.value_at(node))
    }

    /// The length of the tuple a call returns, where it is known (`unique(..., return_counts=True)`):
    /// what a negative index counts from.
    fn tuple_length(&self, call: Node<'a>) -> Option<usize> {
        let call = unparenthesized(call);
        match self.callee(call)? {
            Callee::Api(api) if matches!(apis::leaf(&api), "unique" | "unique_consecutive") => {
                self.unique_counts(&api, &Args::of(call)).map(|(_, len)| len)
            }
            _ => None,
        }
    }

    fn subscript_value(&self, node: Node<'a>) -> Value<'a> {
        let Some(array) = node.child_by_field_id(FIELD.value) else { return Value::unknown() };
        // `f(x)[0]` of a function that returns a tuple: that element.
        if unparenthesized(array).kind_name() == "call"
            && let Some(index) = single_index(node)
            && let Some(i) = self.constant(index).filter(|c| c.fract() == 0.0 && c.abs() < 64.0)
            && let Some(i) = if i >= 0.0 {
                Some(i as usize)
            } else {
                self.tuple_length(array).and_then(|n| n.checked_sub(-i as usize))
            }
            && let Some(v) = self.element_value(array, i)
        {
            return self.refine(node, Value { via: None, ..v });
        }
        let of = self.value(array);
        let mut v = Value { via: None, ..of.clone() };
        // `x[idx]` gathers rows, normalized as they were; `x[:, k]` and `x[i, j]` do not keep
        // the normalized vectors, nor does any index keep another property.
        let rows = single_index(node).is_some_and(|i| !matches!(i.kind_name(), "slice" | "ellipsis"));
        if v.op().is_some_and(Op::is_property) && !(v.op() == Some(Op::Normalized) && rows) {
            v = v.without_property();
        }
        // `p[p > 0]`, `x[x != 0]`, `x[np.nonzero(x)]`: a selection by a condition on the array
        // itself keeps the elements where the condition holds. A condition written elsewhere
        // (`ok = x > 0; x[ok]`) must have read the same binding of the array.
        if let Some(index) = node.child_by_field_id(FIELD.subscript) {
            let mut found = Vec::new();
            self.selection_constraints(index, 0, &mut found);
            for c in found {
                let inline = index.start_byte() <= c.subject.start_byte() && c.subject.end_byte() <= index.end_byte();
                if same_expression(c.subject, array, self.src) && (inline || self.same_value_at(c.subject, array)) {
                    v.range = super::guards::narrow(v.range, c.range);
                }
            }
        }
        // `arange(n + 1)[1:]`: an ascending range from 0 or above without its first element.
        if self.drops_the_first_of_a_range(node, array, &of) {
            v.range = v.range.meet(Interval::POSITIVE);
        }
        if matches!(of.kind, Kind::NotArray) && !matches!(array.kind_name(), "list" | "tuple") {
            // An element of a container: nothing known of it but its origin.
            v = Value::unknown().with_origin(of.origin);
        }
        self.refine(node, v)
    }

    /// `node` is `array[k:]` (any stop, no step or a positive one) with a literal `k >= 1`, and
    /// `array` an `arange` with a positive step from 0 or above (the call, or a name bound once to
    /// it): every element left is above the first, so above 0.
    fn drops_the_first_of_a_range(&self, node: Node<'a>, array: Node<'a>, of: &Value<'a>) -> bool {
        if of.op() != Some(Op::Arange) || of.range.is_any() || of.range.lo.value < 0.0 {
            return false;
        }
        let source = match unparenthesized(array).kind_name() {
            "call" => unparenthesized(array),
            "identifier" => match self.assigned_value(array) {
                Some((_, value)) => value,
                None => return false,
            },
            _ => return false,
        };
        let arange = |api: &str| matches!(transfer::of_api(api), Some(Transfer::Arange));
        if source.kind_name() != "call" || !matches!(self.callee(source), Some(Callee::Api(api)) if arange(&api)) {
            return false;
        }
        let Some(slice) = single_index(node).filter(|i| i.kind_name() == "slice") else { return false };
        // The parts of `start:stop:step`, by the colons between them.
        let mut parts: [Option<Node<'a>>; 3] = [None; 3];
        let mut at = 0;
        let mut cursor = slice.walk();
        for child in slice.children(&mut cursor) {
            match child.kind_name() {
                ":" => at += 1,
                "comment" => {}
                _ if at < 3 => parts[at] = Some(child),
                _ => return false,
            }
        }
        let start = parts[0].filter(|s| s.kind_name() == "integer").and_then(|s| self.constant(s));
        let step = parts[2].map(|s| self.constant(s));
        start.is_some_and(|k| k >= 1.0) && step.is_none_or(|s| s.is_some_and(|s| s > 0.0))
    }

    /// What a selection `x[index]` says of the elements it keeps: the constraints of a boolean
    /// mask (`x > 0`, `ok` bound to one), or, for the indices of an array's non-zero elements
    /// ([`Model::nonzero_of`]), that array is not 0 there (the pinhole [`super::guards::narrow`]
    /// reads) and the condition it is holds. Through names bound once.
    fn selection_constraints(&self, index: Node<'a>, depth: u32, out: &mut Vec<Constraint<'a>>) {
        let index = unparenthesized(index);
        if depth < 4
            && index.kind_name() == "identifier"
            && let Some((_, rhs)) = self.assigned_value(index)
        {
            return self.selection_constraints(rhs, depth + 1, out);
        }
        match self.nonzero_of(index) {
            Some(of) => {
                self.constraints_of(of, true, 0, out);
                let not_zero = Interval { lo: Bound::open(0.0), hi: Bound::open(0.0) };
                out.push(Constraint { subject: unparenthesized(of), range: not_zero });
            }
            None => self.constraints_of(index, true, 0, out),
        }
    }

    /// The array whose non-zero elements `call` gives the indices of, as a tuple of index arrays
    /// that selects exactly those elements (`x[np.nonzero(x)]`): `np.nonzero(a)`, `a.nonzero()`
    /// of a NumPy or JAX array, `np.where(cond)` with one argument, `torch.nonzero(x,
    /// as_tuple=True)` and `torch.where(cond)` (numpy.nonzero, torch.nonzero and torch.where
    /// docs). Not `torch.nonzero(x)` without `as_tuple`, an `[n, ndim]` tensor that indexes rows
    /// of a matrix; nor JAX's with `size=`, padded with `fill_value` (index 0 by default).
    fn nonzero_of(&self, call: Node<'a>) -> Option<Node<'a>> {
        if call.kind_name() != "call" {
            return None;
        }
        let args = Args::of(call);
        if args.splat {
            return None;
        }
        let as_tuple = args.keyword(&["as_tuple"], self.src).is_some_and(|t| self.text(t) == "True");
        match self.callee(call)? {
            Callee::Api(api) => {
                let [of] = args.positional.as_slice() else { return None };
                let only = |kw: &[&str]| args.keyword.iter().all(|(k, _)| kw.contains(&self.text(*k)));
                match api.as_str() {
                    "numpy.nonzero" | "numpy.where" | "jax.numpy.nonzero" | "jax.numpy.where" | "torch.where"
                        if args.keyword.is_empty() =>
                    {
                        Some(*of)
                    }
                    "torch.nonzero" if as_tuple && only(&["as_tuple"]) => Some(*of),
                    _ => None,
                }
            }
            Callee::Method { name: "nonzero", receiver } => {
                let numpy = matches!(self.value(receiver).kind, Kind::Array(Library::NumPy | Library::Jax));
                let plain = args.is_empty() && numpy;
                let tuple = as_tuple && args.positional.is_empty() && args.keyword.len() == 1;
                (plain || tuple).then_some(receiver)
            }
            _ => None,
        }
    }
}

impl<'a> Model<'a> {
    /// The operand whose zeros a product or quotient carries, through nested ones and the
    /// branches of a `where`: `p` of `w * p`, of `p / q` and of `where(q > 0, p / q, 1)` with `p`
    /// a softmax output. Where it is not 0, neither is `node`.
    /// None when `node` applies its producer itself (`softmax(z)`, `exp(x) / sum(exp(x))`).
    pub fn zero_factor(&self, node: Node<'a>) -> Option<Node<'a>> {
        let mut at = unparenthesized(node);
        let op = self.value(at).op()?;
        let carries = |n: Node<'a>| {
            let v = self.value(n);
            v.op() == Some(op) && v.range.contains_zero()
        };
        let mut found = None;
        for _ in 0..MAX_FACTOR_DEPTH {
            // `where(q > 0, p / q, 1)`: the branch that carries them.
            if at.kind_name() == "call"
                && matches!(self.callee(at), Some(Callee::Api(api)) if apis::leaf(&api) == "where")
                && let [_, a, b] = Args::of(at).positional.as_slice()
                && let Some(branch) = [*a, *b].into_iter().find(|n| carries(*n))
                // A product or quotient in the branch; a name or a constant is no factor.
                && matches!(unparenthesized(branch).kind_name(), "binary_operator" | "call")
            {
                at = unparenthesized(branch);
                found = Some(at);
                continue;
            }
            if at.kind_name() != "binary_operator" {
                break;
            }
            let (Some(l), Some(o), Some(r)) = (
                at.child_by_field_id(FIELD.left),
                at.child_by_field_id(FIELD.operator),
                at.child_by_field_id(FIELD.right),
            ) else {
                break;
            };
            let next = match o.kind_name() {
                "/" => Some(l).filter(|l| carries(*l)),
                "*" => [l, r].into_iter().find(|n| carries(*n)),
                _ => None,
            };
            let Some(next) = next else { break };
            at = unparenthesized(next);
            found = Some(at);
        }
        found
    }
}

/// The exponents `x` between which `1 / (1 + exp(x))` stays inside (0, 1) in the format of
/// `exp(x)`'s value: above the largest, `exp(x)` overflows (or leaves the quotient subnormal), and
/// below the smallest, `1 + exp(x)` rounds to 1 (half an ulp of 1 is 2^-24 in float32, 2^-53 in
/// float64, 2^-11 in float16, 2^-8 in bfloat16). NumPy's default is float64, the others' float32.
fn sigmoid_exponents(e: &Value) -> (f64, f64) {
    use super::value::{Dtype, Library};
    match e.dtype {
        Some(Dtype::F16) => (11.0, -7.0),
        Some(Dtype::BF16) => (80.0, -5.0),
        Some(Dtype::F64) => (700.0, -36.0),
        None if matches!(e.kind, Kind::Array(Library::NumPy)) => (700.0, -36.0),
        _ => (80.0, -15.0),
    }
}

/// How many nested products and quotients [`Model::zero_factor`] follows.
const MAX_FACTOR_DEPTH: usize = 16;

/// Interval arithmetic with producers: `1 - p` of a probability is its complement; a product
/// with a factor that reaches 0 reaches 0; `x ** 2` is a square.
pub fn arithmetic<'a>(op: &str, l: &Value<'a>, r: &Value<'a>, node: Node<'a>) -> Value<'a> {
    let origin = l.origin.join(r.origin);
    let kind = match (&l.kind, &r.kind) {
        (Kind::Array(lib), _) | (_, Kind::Array(lib)) => Kind::Array(*lib),
        (Kind::Scalar, Kind::Scalar) => Kind::Scalar,
        _ => Kind::Unknown,
    };
    let dtype = l.dtype.or(r.dtype);
    let base = Value { range: Interval::ANY, origin, kind, dtype, producer: None, via: None };
    match op {
        "+" if l.range.as_point() == Some(0.0) => Value { via: None, ..r.clone() },
        "+" if r.range.as_point() == Some(0.0) => Value { via: None, ..l.clone() },
        "+" => {
            let mut range = l.range.plus(r.range);
            // `-log(u + 1e-9) + 1e-9`: exactly positive, but the log of a value near 1 is off by
            // an ulp of 1 (~1e-16), which can leave the float lower bound a hair below 0.
            let constant_guard = [l, r].into_iter().any(|v| v.range.as_point().is_some_and(|c| c >= 1e-12));
            if constant_guard && range.lo.value <= 0.0 && range.lo.value > -1e-15 {
                range.lo = Bound::open(0.0);
            }
            // Two non-negative terms that both reach 0 reach 0 together.
            let zero = [l, r].into_iter().all(|v| v.range.is_non_negative() && v.op().is_some_and(reaches_zero_op));
            // Range family (issue 9): `dx ** 2 + dy ** 2` is a sum of squares.
            let squares =
                [l, r].into_iter().all(|v| v.op().is_some_and(|o| matches!(o, Op::Square | Op::SumOfSquares)));
            let v = base.with_range(range);
            if zero {
                v.produced(Op::Count, node)
            } else if squares {
                v.produced(Op::SumOfSquares, node)
            } else {
                v
            }
        }
        "-" => {
            let range = l.range.minus(r.range);
            let v = base.with_range(range);
            match (l.range.as_point(), r.probability()) {
                (Some(c), Some(p))
                    if c == 1.0
                        && r.op().is_some_and(|o| o.probability().is_some() && !matches!(o, Op::Complement(_))) =>
                {
                    v.with_range(range.meet(Interval::UNIT)).produced(Op::Complement(p), node)
                }
                (Some(1.0), Some(Prob::Softmax | Prob::Sigmoid)) => {
                    // 1 - (1 - p) is p again; keep it a probability.
                    v.with_range(Interval::UNIT)
                        .produced(if r.probability() == Some(Prob::Softmax) { Op::Softmax } else { Op::Sigmoid }, node)
                }
                // `1 - clip(x, 0, 1)`: a value that reaches its upper bound c leaves c - x at 0.
                (Some(c), _)
                    if r.range.hi.value == c
                        && r.range.hi.closed
                        && r.op().is_some_and(|o| matches!(o, Op::Clip | Op::Mask)) =>
                {
                    v.produced(Op::Clip, node)
                }
                _ => v,
            }
        }
        "*" => {
            let range = l.range.times(r.range);
            let v = base.with_range(range);
            let zero = [l, r].into_iter().find(|v| v.range.contains_zero() && v.op().is_some_and(reaches_zero_op));
            match zero {
                Some(z) if range.contains_zero() => v.produced(z.op().unwrap_or(Op::Mask), node),
                _ => v,
            }
        }
        // `p / q` of a probability is 0 where `p` is (the KL divergence's `log(p / q)`). Other
        // numerators are left: a norm or a mask over a scale is most often normalized.
        "/" => {
            let v = base.with_range(l.range.over(r.range));
            match l.op().filter(|o| o.probability().is_some() && l.range.contains_zero()) {
                Some(op) if v.range.contains_zero() => v.produced(op, node),
                _ => v,
            }
        }
        "**" => match r.range.as_point() {
            Some(2.0) => {
                let v = base.with_range(l.range.square());
                match l.op().filter(|o| reaches_zero_op(*o) && l.range.contains_zero()) {
                    Some(inner) => v.produced(inner, node),
                    None => v.produced(Op::Square, node),
                }
            }
            Some(p) if p > 0.0 && l.range.is_non_negative() => base.with_range(l.range.map_increasing(|x| x.powf(p))),
            _ if l.range.is_positive() => base.with_range(Interval::POSITIVE),
            _ => base,
        },
        "//" | "%" => base,
        _ => base,
    }
}

/// Operations whose outputs reach exactly 0 in practice (in float32, or by construction).
pub fn reaches_zero_op(op: Op) -> bool {
    matches!(
        op,
        Op::Softmax
            | Op::Sigmoid
            | Op::Complement(_)
            | Op::Count
            | Op::Relu
            | Op::Abs
            | Op::Norm
            | Op::Std
            | Op::Var
            | Op::Uniform
            | Op::Mask
            | Op::Zeros
            | Op::Clip
            | Op::Where
            | Op::Arange
            | Op::Constant
    )
}

/// The kind of an element drawn from a value of `kind` (by iteration or unpacking).
fn element_kind(kind: &Kind) -> Kind {
    match kind {
        Kind::Array(lib) => Kind::Array(*lib),
        _ => Kind::Unknown,
    }
}

/// `eps`, `epsilon`, `EPS`, `_eps`, `eps_val`, `layer_norm_eps`, `tiny`, `smooth`, `mel_floor`,
/// `LOG_ZERO_GUARD`: names of small positive guards.
pub fn epsilon_name(name: &str) -> bool {
    name.to_ascii_lowercase()
        .split('_')
        .any(|part| matches!(part, "eps" | "epsilon" | "tiny" | "smooth" | "smoothing" | "floor" | "guard" | "delta"))
}

/// Names of masks: `mask`, `masks`, `attention_mask`, `mask_2d`.
fn mask_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.split('_').any(|p| matches!(p, "mask" | "masks"))
}

/// Parameter names that hold hyperparameters or sizes, not data (`smoothing`, `temperature`,
/// `num_heads`, `max_len`).
fn hyperparameter_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    let parts: Vec<&str> = lower.split('_').collect();
    const WORDS: &[&str] = &[
        "smoothing",
        "temperature",
        "temp",
        "alpha",
        "beta",
        "gamma",
        "lambda",
        "lam",
        "rate",
        "dropout",
        "lr",
        "momentum",
        "decay",
        "eps",
        "epsilon",
        "margin",
        "scale",
        "factor",
        "coef",
        "coeff",
        "threshold",
        "size",
        "dim",
        "dims",
        "len",
        "length",
        "num",
        "steps",
        "step",
        "epoch",
        "epochs",
        "stride",
        "width",
        "height",
        "base",
        "order",
        "degree",
        "power",
        "bins",
        "buckets",
        "heads",
        "layers",
        "depth",
        "seed",
    ];
    parts.first().is_some_and(|p| matches!(*p, "num" | "n" | "max" | "min")) || parts.iter().any(|p| WORDS.contains(p))
}

/// Parameter annotations that say "array".
fn annotation_is_array(annotation: &str) -> bool {
    ["Tensor", "ndarray", "Array", "ArrayLike"]
        .iter()
        .any(|t| annotation.rsplit('.').next().is_some_and(|last| last.starts_with(t)))
}

fn is_static(function: Node, src: &str) -> bool {
    let _ = (function, src);
    false
}

/// A dtype by the name code spells it with (`torch.float16`, `np.float32`, `"float16"`, `tf.half`).
pub fn dtype_named(spelled: &str) -> Option<Dtype> {
    let last = spelled.trim_matches(|c| c == '"' || c == '\'').rsplit('.').next()?;
    Some(match last {
        "float16" | "half" | "f16" => Dtype::F16,
        "bfloat16" | "bf16" => Dtype::BF16,
        "float32" | "float" | "single" | "f32" => Dtype::F32,
        "float64" | "double" | "f64" => Dtype::F64,
        "int8" | "int16" | "int32" | "int64" | "long" | "int" | "uint8" => Dtype::Int,
        "bool" => Dtype::Bool,
        _ => return None,
    })
}

/// The dtype a conversion method gives: `.half()`, `.to(torch.float16)`, `.astype(np.float32)`.
fn method_dtype(name: &str, args: Vec<&str>) -> Option<Dtype> {
    match name {
        "half" => Some(Dtype::F16),
        "bfloat16" => Some(Dtype::BF16),
        "float" => Some(Dtype::F32),
        "double" => Some(Dtype::F64),
        "to" | "type" | "astype" => args.iter().find_map(|a| dtype_named(a)),
        _ => None,
    }
}

#[allow(dead_code)]
fn _unused(_: &str) -> Option<()> {
    let _ = text;
    None
}

/// The subscript of `x[i]` when there is exactly one (not `x[i, j]`).
fn single_index(subscript: Node<'_>) -> Option<Node<'_>> {
    let mut cursor = subscript.walk();
    let mut indices = subscript.children_by_field_name("subscript", &mut cursor);
    let first = indices.next()?;
    indices.next().is_none().then_some(first)
}

/// The position of `name` among the targets of `a, b = value` (a flat pattern, no starred
/// target), in any of the assignment's targets (`a, b = c, d = value`); none when the targets
/// spell `name` more than once (`p, p = a, b` binds `b`, the last).
pub(super) fn unpacked_position(assignment: Node<'_>, name: &str, src: &str) -> Option<usize> {
    let mut node = assignment;
    let mut position = None;
    let mut spelled = 0;
    loop {
        let left = node.child_by_field_id(FIELD.left)?;
        spelled += super::scope::identifiers(left).iter().filter(|t| text(**t, src) == name).count();
        if matches!(left.kind_name(), "pattern_list" | "tuple_pattern" | "list_pattern" | "tuple" | "list") {
            let mut cursor = left.walk();
            let elements: Vec<Node<'_>> =
                left.named_children(&mut cursor).filter(|e| e.kind_name() != "comment").collect();
            if !elements.iter().any(|e| matches!(e.kind_name(), "list_splat_pattern" | "list_splat")) {
                position = position
                    .or_else(|| elements.iter().position(|e| e.kind_name() == "identifier" && text(*e, src) == name));
            }
        }
        match node.child_by_field_id(FIELD.right) {
            Some(r) if r.kind_name() == "assignment" => node = r,
            _ => break,
        }
    }
    position.filter(|_| spelled == 1)
}

/// Whether one of `entries` updates the array in place (an element assigned or augmented, an
/// in-place method, an `out=` argument) inside a loop that `use_` is not in: the array is filled
/// by the time the loop is left.
fn filled_in_a_loop(entries: &[Entry<'_>], use_: Node<'_>) -> bool {
    entries.iter().any(|entry| {
        matches!(entry.binding, Binding::Element { .. } | Binding::InPlace(_) | Binding::Opaque)
            && std::iter::successors(entry.node.parent(), |n| n.parent())
                .take_while(|n| !matches!(n.kind_name(), "function_definition" | "class_definition" | "module"))
                .any(|n| {
                    matches!(n.kind_name(), "for_statement" | "while_statement")
                        && !(n.start_byte() <= use_.start_byte() && use_.end_byte() <= n.end_byte())
                })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantic::test_support::assigned;

    #[test]
    fn dot_products_of_normalized_vectors_are_cosines() {
        let unit = Interval::closed(-1.0, 1.0);
        let src = r#"import torch
import torch.nn.functional as F
import tensorflow as tf
def f(x, y, z, tau):
    a = F.normalize(x)
    b = F.normalize(y, p=2, dim=-1).cuda()
    c1 = (a * b).sum(dim=1)
    c2 = torch.mul(a, b[z]).sum(-1)
    c3 = a @ b.T
    c4 = torch.matmul(a, b.transpose(0, 1))
    c5 = a.mm(b.t())
    t1 = tf.math.l2_normalize(x, axis=1)
    c6 = tf.matmul(t1, tf.nn.l2_normalize(y, -1), transpose_b=True)
    c7 = tf.reduce_sum(t1 * t1, axis=-1)
    s = c1 / tau
    s2 = c1 / 0.01
"#;
        for name in ["c1", "c2", "c3", "c4", "c5", "c6", "c7"] {
            assert_eq!(assigned(src, name), (Some(Op::Cosine), unit), "{name}");
        }
        assert_eq!(assigned(src, "a"), (Some(Op::Normalized), unit));
        // Over a temperature the file does not give: at least MIN_TEMPERATURE.
        assert_eq!(assigned(src, "s").1, Interval::closed(-1.0 / MIN_TEMPERATURE, 1.0 / MIN_TEMPERATURE));
        assert_eq!(assigned(src, "s2").1, Interval::closed(-100.0, 100.0));
        // Not cosines: another axis, an operand not normalized, no transpose, a column, a
        // reshape, an L-inf normalization.
        let src = r#"import torch
import torch.nn.functional as F
def f(x, y, k):
    a = F.normalize(x)
    b = F.normalize(y)
    d1 = (a * b).sum(dim=0)
    d2 = (a * y).sum(dim=1)
    d3 = a @ b
    d4 = (a[:, k] * b[:, k]).sum(1)
    d5 = (a.view(-1, 4) * b.view(-1, 4)).sum(1)
    d6 = (F.normalize(x, p=float("inf")) * b).sum(1)
    d7 = a.T @ b.T.T
    e = F.normalize(x) if k else x
    d8 = (e * b).sum(1)
"#;
        for name in ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8"] {
            assert_ne!(assigned(src, name).0, Some(Op::Cosine), "{name}");
        }
    }

    #[test]
    fn a_softmax_written_out_is_positive_only_with_exponents_close_enough() {
        let src = r#"import numpy as np
import torch
def f(x, shape):
    u = np.exp(np.random.uniform(size=shape))
    p = u / np.sum(u, axis=-1, keepdims=True)
    e = torch.exp(x)
    q = e / e.sum(-1, keepdim=True)
    w = torch.exp(torch.clamp(x, -50, 50))
    r = w / w.sum(-1, keepdim=True)
"#;
        let (op, range) = assigned(src, "p");
        assert!(op == Some(Op::Softmax) && range.is_positive(), "exponents in [0, 1)");
        assert_eq!(assigned(src, "q"), (Some(Op::Softmax), Interval::UNIT));
        // Exponents in [-50, 50]: 100 apart, past SOFTMAX_SPREAD.
        assert!(assigned(src, "r").1.contains_zero());
    }
}

/// The widest band of logits whose softmax has no element that underflows to 0 in float32: the
/// smallest element is at least exp(-gap) / K, and exp(-80) / 2^24 is about 1e-42, above the
/// smallest subnormal (1.4e-45).
const SOFTMAX_GAP: f64 = 80.0;
/// The same in float16, whose smallest subnormal is 2^-24 (about 6e-8, e^-16.6): exp(-10) / K
/// stays above it for K up to about 370 classes.
const SOFTMAX_GAP_F16: f64 = 10.0;

/// How selection indices were drawn from the array they select from (see `drawn_from`), from
/// the weaker claim to the stronger.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Draw {
    /// Its argmax: the largest entry.
    Argmax,
    /// A sample weighted by its entries: an entry of positive weight.
    Sampled,
}

/// The object a method call is called on (`x` in `x.gather(1, i)`).
fn receiver_node(call: Node) -> Option<Node> {
    let function = call.child_by_field_id(FIELD.function)?;
    (function.kind_name() == "attribute").then(|| function.child_by_field_id(FIELD.object)).flatten()
}
