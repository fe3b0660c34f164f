//! Whether gradients flow through an expression: which array library computes it, and whether
//! the code around it stops gradients.
//!
//! Differentiated code is tensor code of PyTorch, TensorFlow (and Keras) or JAX that runs
//! outside `torch.no_grad()` and `torch.inference_mode()` (blocks and decorators) and
//! `torch.set_grad_enabled(False)`, and whose value is not passed through `tf.stop_gradient`,
//! `jax.lax.stop_gradient`, `keras.ops.stop_gradient`, `.detach()` or turned into a Python or
//! NumPy value (`.item()`, `.tolist()`, `.numpy()`). NumPy code is never differentiated.
//!
//! The library is the value's own where the model knows it; else a method only PyTorch tensors
//! have (`x.sqrt()`, `x.clamp(0)`, `x.pow(p)`: NumPy and JAX arrays and TensorFlow tensors have
//! no such methods); else the one tensor framework the enclosing function calls; else the one
//! the file imports.

use tree_sitter::Node;

use super::facts::{Fact, FactKey};
use super::scope::Binding;
use super::value::{Kind, Library};
use super::{Callee, Model, apis};
use crate::syntax::{Args, FIELD, KindName, callee_name};

/// Methods of `torch.Tensor` that NumPy arrays, JAX arrays and TensorFlow tensors lack.
const TORCH_ONLY_METHODS: &[&str] = &[
    "sqrt",
    "sqrt_",
    "pow",
    "pow_",
    "clamp",
    "clamp_",
    "clamp_min",
    "exp",
    "exp_",
    "log",
    "log_",
    "div",
    "div_",
    "reciprocal",
    "reciprocal_",
    "norm",
    "detach",
    "softmax",
    "sigmoid",
    "abs_",
    "square",
    "rsqrt",
    "float",
    "unsqueeze",
    "masked_fill",
    "masked_fill_",
    "permute",
    "contiguous",
    "type_as",
];

/// Parts of function names (split at `_`) that name a loss, distance or divergence.
const LOSS_WORDS: &[&str] = &[
    "loss",
    "losses",
    "dist",
    "dists",
    "distance",
    "distances",
    "cdist",
    "pdist",
    "rmse",
    "mse",
    "criterion",
    "objective",
    "penalty",
    "divergence",
    "wasserstein",
    "gwd",
    "chamfer",
    "triplet",
    "contrastive",
    "regularizer",
    "regularization",
    "elbo",
    "kl",
    "nll",
];

/// A part of a function name that names a loss: one of [`LOSS_WORDS`], with a number after it
/// (`loss1`, `kl2`), or `lossfn`, `lossfunc` (not `lossless`, `lossy`).
fn is_loss_word(part: &str) -> bool {
    let word = part.trim_end_matches(|c: char| c.is_ascii_digit());
    LOSS_WORDS.contains(&word) || matches!(part, "lossfn" | "lossfunc" | "lossfunction")
}

/// Calls whose result carries no gradient of their argument.
const STOP_GRADIENT: &[&str] = &["tensorflow.stop_gradient", "jax.lax.stop_gradient", "keras.ops.stop_gradient"];

/// Methods whose result carries no gradient of their receiver.
const STOP_METHODS: &[&str] = &["detach", "detach_", "item", "tolist", "numpy"];

/// Tensor methods whose arguments are a device, a dtype or a shape (or a tensor read only for
/// those, `type_as`, `view_as`, `expand_as`): no gradient reaches the arguments, so the result
/// carries a gradient only if the receiver does (`x.detach().to(device)`, `.view(-1, d)`). From
/// the PyTorch `torch.Tensor` reference (`Tensor.to`, `Tensor.view`, `Tensor.type_as`, ...).
const LAYOUT_METHODS: &[&str] = &[
    "to",
    "cuda",
    "cpu",
    "float",
    "double",
    "half",
    "bfloat16",
    "type",
    "type_as",
    "contiguous",
    "view",
    "view_as",
    "reshape",
    "reshape_as",
    "squeeze",
    "unsqueeze",
    "permute",
    "transpose",
    "flatten",
    "expand",
    "expand_as",
    "t",
];

/// How deep [`Model::is_gradient_stop`] follows names, operands and arguments.
const MAX_STOP_DEPTH: u32 = 12;

/// What the code says of a value's array library ([`Model::array_library`]).
enum Evidence {
    Found(Library),
    /// A number, a module, an object that is no tensor.
    NoArray,
    /// Nothing: the file's imports decide.
    None,
}

/// Transforms whose first argument is the function they differentiate: JAX's (`jax.grad`,
/// `jax.value_and_grad`, `jax.jacrev`, `jax.jacfwd`, `jax.hessian`, `jax.vjp`, `jax.jvp`),
/// `torch.func`'s (`grad`, `grad_and_value`, `jacrev`, `jacfwd`, `hessian`, `vjp`, `jvp`) and
/// `torch.autograd.functional`'s (`jacobian`, `hessian`, `vjp`, `jvp`).
const TRANSFORMS: &[&str] =
    &["grad", "value_and_grad", "grad_and_value", "jacrev", "jacfwd", "hessian", "jacobian", "vjp", "jvp"];

/// Whether `src` holds a [`TRANSFORMS`] name followed by `(` (a call of a transform as
/// [`differentiated_names`] finds them, whatever the tree says of it).
pub fn names_a_transform(src: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = src.as_bytes();
    src.match_indices('(').any(|(open, _)| {
        let start = (0..open).rev().take_while(|&i| word(bytes[i])).last().unwrap_or(open);
        TRANSFORMS.contains(&&src[start..open])
    })
}

/// The names of the functions `src` passes to a differentiation transform ([`TRANSFORMS`]) as
/// the function to differentiate, found in the text: `jax.grad(loss_fn)`, `value_and_grad(f,
/// has_aux=True)`, `torch.func.grad(self.energy)` (the last dotted part, `energy`), in calls
/// of the tree `root` (not in comments or strings); sorted. A
/// gradient of a tensor (`torch.autograd.grad(loss, params)`) names a tensor, no function.
pub fn differentiated_names(src: &str, root: Node) -> Vec<String> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = src.as_bytes();
    let mut names = Vec::new();
    for (open, _) in src.match_indices('(') {
        let start = (0..open).rev().take_while(|&i| word(bytes[i])).last().unwrap_or(open);
        if !TRANSFORMS.contains(&&src[start..open]) {
            continue;
        }
        // A call's argument list, not a comment or a string (`# jax.grad(f)`, a docstring).
        let paren = root.descendant_for_byte_range(open, open + 1);
        if paren.and_then(|p| p.parent()).is_none_or(|l| l.kind_name() != "argument_list") {
            continue;
        }
        let rest = &src[open + 1..];
        let arg = rest.trim_start();
        let len = arg.bytes().take_while(|&b| word(b) || b == b'.').count();
        let after = arg[len..].trim_start();
        if len == 0 || !(after.starts_with(',') || after.starts_with(')')) {
            continue;
        }
        let name = arg[..len].rsplit('.').next().unwrap_or_default();
        if !name.is_empty() && !name.as_bytes()[0].is_ascii_digit() {
            names.push(name.to_string());
        }
    }
    names.sort();
    names.dedup();
    names
}

/// Context managers and decorators under which PyTorch records no gradients.
const NO_GRAD: &[&str] =
    &["torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.grad_mode.no_grad"];

impl<'a> Model<'a> {
    /// Whether gradients flow through `node` when its code runs (see the module docs).
    pub fn is_differentiated(&self, node: Node<'a>) -> bool {
        match self.array_library(node) {
            Some(Library::Torch | Library::TensorFlow | Library::KerasOps | Library::KerasBackend | Library::Jax) => {}
            Some(Library::NumPy) | None => return false,
        }
        !self.gradient_stopped(node) && !self.runs_without_gradients(node)
    }

    /// `node` lies in code that computes a model's output or a loss, where gradients reach
    /// trained parameters: a `forward` or `call` method (`training_step`, `compute_loss`), or a
    /// function or method named for a loss, distance or divergence (`rmse`, `gwd_distance`,
    /// `kl_divergence`, `contrastive_loss`). Tensor code elsewhere is often preprocessing,
    /// metrics or optimizer internals that no gradient passes through.
    pub fn in_training_code(&self, node: Node<'a>) -> bool {
        let names = self.enclosing_names(node);
        // The innermost function names what it computes (a `_l2` helper inside an optimizer
        // named for distances is no loss); a forward pass holds its nested helpers.
        let loss = names.first().is_some_and(|(name, _)| name.to_ascii_lowercase().split('_').any(is_loss_word));
        loss || names.iter().any(|(name, _)| {
            matches!(*name, "forward" | "call" | "training_step" | "train_step" | "compute_loss" | "loss")
        }) || self.passed_to_a_transform(&names)
    }

    /// `node` lies in code whose gradient is taken, by its name ([`Model::in_training_code`]) or
    /// by what the code around it does: inside `with tf.GradientTape() as tape:` (whatever the
    /// function's name), in a function that calls `.backward()` on a value it computes
    /// (`loss.backward()`, `scaler.scale(loss).backward()`: the code computing that loss is
    /// differentiated), or in module-level code (a script, a notebook) when the module-level code
    /// of the file calls `.backward()` on such a value or opens a `GradientTape`. Whether
    /// gradients are stopped there (`torch.no_grad()`) is [`Model::is_differentiated`]'s
    /// question.
    pub fn in_differentiated_code(&self, node: Node<'a>) -> bool {
        if self.in_training_code(node) {
            return true;
        }
        let chain = self.ancestry(node);
        let innermost = chain.iter().rposition(|n| matches!(n.kind_name(), "function_definition" | "lambda"));
        // Innermost block first: `with tape.stop_recording():` inside a tape's block records
        // nothing.
        for i in (innermost.unwrap_or(0)..chain.len().saturating_sub(1)).rev() {
            if chain[i].kind_name() == "with_statement" && chain[i].child_by_field_id(FIELD.body) == Some(chain[i + 1])
            {
                if self.stops_recording(chain[i]) {
                    return false;
                }
                if self.opens_a_gradient_tape(chain[i]) {
                    return true;
                }
            }
        }
        let scope = match innermost {
            Some(i) if chain[i].kind_name() == "function_definition" => chain[i],
            Some(_) => return false,
            None if chain.iter().any(|n| n.kind_name() == "class_definition") => return false,
            None => self.tree.root_node(),
        };
        self.takes_gradients(scope, node.start_byte())
    }

    /// `with tape.stop_recording():`.
    fn stops_recording(&self, with: Node<'a>) -> bool {
        let Some(clause) = with.named_child(0).filter(|c| c.kind_name() == "with_clause") else { return false };
        let mut cursor = clause.walk();
        clause.named_children(&mut cursor).any(|item| {
            item.child_by_field_id(FIELD.value)
                .filter(|v| v.kind_name() == "call")
                .and_then(|call| call.child_by_field_id(FIELD.function))
                .filter(|f| f.kind_name() == "attribute")
                .and_then(|f| f.child_by_field_id(FIELD.attribute))
                .is_some_and(|a| self.text(a) == "stop_recording")
        })
    }

    /// `with tf.GradientTape() as tape:` (or `tf.GradientTape(persistent=True)`, or one item of
    /// several).
    fn opens_a_gradient_tape(&self, with: Node<'a>) -> bool {
        let Some(clause) = with.named_child(0).filter(|c| c.kind_name() == "with_clause") else { return false };
        let mut cursor = clause.walk();
        clause.named_children(&mut cursor).any(|item| {
            let mut value = item.child_by_field_id(FIELD.value);
            if let Some(pattern) = value.filter(|v| v.kind_name() == "as_pattern") {
                value = pattern.named_child(0);
            }
            value
                .filter(|v| v.kind_name() == "call")
                .and_then(|call| call.child_by_field_id(FIELD.function))
                .and_then(|f| self.api(f))
                .is_some_and(|api| api.starts_with("tensorflow.") && apis::leaf(&api) == "GradientTape")
        })
    }

    /// The code of `scope` (a function, or the module's code outside functions and classes)
    /// calls `.backward()` on a value it computes (a name it binds, or an expression such as
    /// `scaler.scale(loss)`; not a parameter or an attribute) after byte `after`: code that runs
    /// after the backward pass (a gradient norm of `p.grad`, a script's evaluation) computes no
    /// value it differentiates. At module level, opening a `GradientTape` after `after` counts.
    fn takes_gradients(&self, scope: Node<'a>, after: usize) -> bool {
        let text = self.text(scope);
        if !text.contains("backward") && !text.contains("GradientTape") {
            return false;
        }
        let module = self.is_module_scope(scope);
        let index = self.scope_index(scope);
        let mut stack = vec![if module { scope } else { scope.child_by_field_id(FIELD.body).unwrap_or(scope) }];
        while let Some(n) = stack.pop() {
            match n.kind_name() {
                "function_definition" | "class_definition" | "decorated_definition" | "lambda" => continue,
                // In a function, only the block's code is recorded (above).
                "with_statement" if module && n.start_byte() > after && self.opens_a_gradient_tape(n) => return true,
                "call" => {
                    if let Some(function) = n.child_by_field_id(FIELD.function).filter(|f| f.kind_name() == "attribute")
                        && function.child_by_field_id(FIELD.attribute).is_some_and(|a| self.text(a) == "backward")
                        && let Some(receiver) = function.child_by_field_id(FIELD.object)
                    {
                        let computed = match receiver.kind_name() {
                            "identifier" => {
                                !index.entries(self.text(receiver)).is_empty()
                                    && (module || self.parameter(scope, self.text(receiver)).is_none())
                            }
                            "attribute" => false,
                            _ => true,
                        };
                        if computed && self.api(function).is_none() && n.start_byte() > after {
                            return true;
                        }
                    }
                }
                _ => {}
            }
            let mut cursor = n.walk();
            stack.extend(n.named_children(&mut cursor));
        }
        false
    }

    /// `name` is the parameter a differentiation transform of the file differentiates: the
    /// first parameter (after `self`) of a function passed to one (`jax.grad(f)` differentiates
    /// `f` with respect to its first argument by default, `argnums=0`), not rebound before.
    pub fn differentiated_parameter(&self, name: Node<'a>) -> bool {
        let function = self.scope_of(name);
        if function.kind_name() != "function_definition" {
            return false;
        }
        let wanted = self.text(name);
        let reaching = self.scope_index(function).reaching(wanted, name.start_byte());
        if !reaching.entries.is_empty() || self.parameter(function, wanted).is_none() {
            return false;
        }
        let Some(function_name) = function.child_by_field_id(FIELD.name).map(|n| self.text(n)) else { return false };
        let method = self.class_of_method(function).is_some();
        let Some(params) = function.child_by_field_id(FIELD.parameters) else { return false };
        let mut cursor = params.walk();
        let first = params
            .named_children(&mut cursor)
            .filter(|p| p.kind_name() != "comment")
            .nth(usize::from(method))
            .and_then(|p| super::parameter_name(p, self.src));
        if first != Some(wanted) {
            return false;
        }
        matches!(self.fact(&FactKey::Differentiated), Fact::Names(found) if found.iter().any(|f| f == function_name))
    }

    /// One of the functions holding `node` is the function a differentiation transform of the
    /// file takes (`jax.grad(f)`, see [`differentiated_names`]), whatever its name.
    fn passed_to_a_transform(&self, names: &[(&'a str, Option<&'a str>)]) -> bool {
        if names.is_empty() {
            return false;
        }
        match self.fact(&FactKey::Differentiated) {
            Fact::Names(found) => names.iter().any(|(name, _)| found.iter().any(|f| f == name)),
            _ => false,
        }
    }

    /// Code that runs without gradients by convention: tests (`test_*` functions, classes named
    /// `*Test`, `*Tests`, `*TestCase`) and data preparation (methods of `*FeatureExtractor`,
    /// `*Processor`, `*ImageProcessor`, `*Tokenizer` classes).
    fn runs_without_gradients(&self, node: Node<'a>) -> bool {
        self.enclosing_names(node).iter().any(|(name, class)| {
            name.starts_with("test")
                || class.is_some_and(|c| {
                    c.ends_with("Test")
                        || c.ends_with("Tests")
                        || c.ends_with("TestCase")
                        || ["FeatureExtractor", "Processor", "Tokenizer"].iter().any(|k| c.contains(k))
                })
        })
    }

    /// The names of the functions holding `node`, innermost first, each with its class when it
    /// is a method.
    fn enclosing_names(&self, node: Node<'a>) -> Vec<(&'a str, Option<&'a str>)> {
        let chain = self.ancestry(node);
        chain
            .iter()
            .rev()
            .skip(1)
            .filter(|n| n.kind_name() == "function_definition")
            .filter_map(|def| {
                let name = self.text(def.child_by_field_id(FIELD.name)?);
                let class =
                    self.class_of_method(*def).and_then(|c| c.child_by_field_id(FIELD.name)).map(|n| self.text(n));
                Some((name, class))
            })
            .collect()
    }

    /// The array library `node` computes with, as far as the code says (see the module docs).
    pub fn array_library(&self, node: Node<'a>) -> Option<Library> {
        match self.library_evidence(node) {
            Evidence::Found(lib) => Some(lib),
            Evidence::NoArray => None,
            Evidence::None => self.file_framework(),
        }
    }

    /// The array library of `node` where the value or its function says it, not only the file's
    /// imports: `(x - x.min()) / (x.max() - x.min())` in a file importing NumPy and PyTorch
    /// has none (its `x` may be either).
    pub fn code_library(&self, node: Node<'a>) -> Option<Library> {
        match self.library_evidence(node) {
            Evidence::Found(lib) => Some(lib),
            _ => None,
        }
    }

    fn library_evidence(&self, node: Node<'a>) -> Evidence {
        let value = self.value(node);
        match value.kind {
            Kind::Array(lib) => return Evidence::Found(lib),
            Kind::Scalar | Kind::NotArray | Kind::Module | Kind::Instance(_) => return Evidence::NoArray,
            Kind::Object(ref class) if !class.ends_with("Tensor") => return Evidence::NoArray,
            _ => {}
        }
        if let Some(Callee::Method { name, .. }) = (node.kind_name() == "call").then(|| self.callee(node)).flatten()
            && TORCH_ONLY_METHODS.contains(&name)
        {
            return Evidence::Found(Library::Torch);
        }
        let function = self.scope_of(node);
        if function.kind_name() == "function_definition"
            && let Some(lib) = frameworks_in(self, function)
        {
            return Evidence::Found(lib);
        }
        Evidence::None
    }

    /// The one tensor framework (PyTorch, TensorFlow/Keras, JAX) the file imports, if one; NumPy
    /// when it imports none of them but NumPy.
    pub fn file_framework(&self) -> Option<Library> {
        let mut found = Frameworks::default();
        for (_, path) in self.imports.bindings() {
            // `import torch` binds `torch`: the module itself, no dot after it.
            if let Some(lib) = apis::library_of(&format!("{}.", apis::canonical(path))) {
                found.add(lib);
            }
        }
        found.single()
    }

    /// The code around `node` stops its gradient: a `no_grad` block or decorator, a
    /// `stop_gradient` or `.detach()` of an expression holding it.
    pub fn gradient_stopped(&self, node: Node<'a>) -> bool {
        let chain = self.ancestry(node);
        let innermost = chain.iter().rposition(|n| matches!(n.kind_name(), "function_definition" | "lambda"));
        // Decorators of the innermost function definition.
        if let Some(i) = innermost
            && i > 0
            && chain[i - 1].kind_name() == "decorated_definition"
        {
            let mut cursor = chain[i - 1].walk();
            for decorator in chain[i - 1].named_children(&mut cursor).filter(|d| d.kind_name() == "decorator") {
                let Some(expr) = decorator.named_child(0) else { continue };
                let callee =
                    if expr.kind_name() == "call" { expr.child_by_field_id(FIELD.function) } else { Some(expr) };
                if callee.and_then(|c| self.api(c)).is_some_and(|api| NO_GRAD.contains(&api.as_str())) {
                    return true;
                }
            }
        }
        let start = innermost.unwrap_or(0);
        for i in start..chain.len().saturating_sub(1) {
            let (parent, child) = (chain[i], chain[i + 1]);
            match parent.kind_name() {
                "with_statement"
                    if Some(child) == parent.child_by_field_id(FIELD.body) && self.stops_gradients(parent) =>
                {
                    return true;
                }
                "argument_list" => {
                    let Some(call) = parent.parent().filter(|c| c.kind_name() == "call") else { continue };
                    let function = call.child_by_field_id(FIELD.function);
                    if function.and_then(|f| self.api(f)).is_some_and(|api| STOP_GRADIENT.contains(&api.as_str())) {
                        return true;
                    }
                }
                // `x.detach()`: the attribute is the function of the call above it.
                "attribute" if i > 0 && Some(child) == parent.child_by_field_id(FIELD.object) => {
                    let called = chain[i - 1].kind_name() == "call"
                        && chain[i - 1].child_by_field_id(FIELD.function) == Some(parent);
                    let method = parent.child_by_field_id(FIELD.attribute).map(|a| self.text(a));
                    if called && method.is_some_and(|m| STOP_METHODS.contains(&m)) && self.api(parent).is_none() {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }

    /// `expr` carries no gradient of anything it is computed from, and some of it is a value cut
    /// from the graph: a call `tf.stop_gradient(x)`, `jax.lax.stop_gradient(x)`, `x.detach()`,
    /// `x.numpy()`; a name every reaching binding of which is such a value (`r = x.detach()`);
    /// or arithmetic, subscripts, tensor methods and array-library functions of such values and
    /// constants only (`torch.sqrt(x.detach()) ** 0.5`). Nothing computed from it directly
    /// (`x.detach().sqrt()`) is differentiated with respect to `x`. `x.detach() + y`, a
    /// parameter (nothing known of what callers pass) or a name rebound in a loop around `expr`
    /// does not qualify.
    pub fn is_gradient_stop(&self, expr: Node<'a>) -> bool {
        self.gradient_free(expr, 0) == Some(true)
    }

    /// `Some(true)`: `expr` carries no gradient and holds a value cut from the graph;
    /// `Some(false)`: a constant; `None`: it may carry a gradient (or is not known).
    fn gradient_free(&self, expr: Node<'a>, depth: u32) -> Option<bool> {
        if depth > MAX_STOP_DEPTH {
            return None;
        }
        let expr = crate::syntax::unparenthesized(expr);
        let both = |a: Option<Node<'a>>, b: Option<Node<'a>>| {
            let (a, b) = (self.gradient_free(a?, depth + 1)?, self.gradient_free(b?, depth + 1)?);
            Some(a || b)
        };
        match expr.kind_name() {
            "integer" | "float" | "true" | "false" | "none" | "string" => Some(false),
            "binary_operator" => both(expr.child_by_field_id(FIELD.left), expr.child_by_field_id(FIELD.right)),
            "unary_operator" => self.gradient_free(expr.child_by_field_id(FIELD.argument)?, depth + 1),
            // An index carries no gradient to what it selects.
            "subscript" => self.gradient_free(expr.child_by_field_id(FIELD.value)?, depth + 1),
            "identifier" => self.name_gradient_free(expr, depth),
            "call" => self.call_gradient_free(expr, depth),
            _ => self.constant(expr).map(|_| false),
        }
    }

    /// A name: every binding that reaches it is `name = value` with a gradient-free value, none
    /// comes from outside the scope, and no loop around the use rebinds it (a binding the next
    /// pass sees, which reaching bindings leave out).
    fn name_gradient_free(&self, name: Node<'a>, depth: u32) -> Option<bool> {
        if self.constant(name).is_some() {
            return Some(false);
        }
        let scope = self.scope_of(name);
        let index = self.scope_index(scope);
        let text = self.text(name);
        let reaching = index.reaching(text, name.start_byte());
        if reaching.outer || reaching.entries.is_empty() {
            return None;
        }
        let in_loop = self.ancestry(name).iter().any(|a| {
            matches!(a.kind_name(), "for_statement" | "while_statement") && index.binds_within(text, a.byte_range())
        });
        if in_loop {
            return None;
        }
        let mut stopped = false;
        for entry in &reaching.entries {
            let Binding::Value(rhs) = entry.binding else { return None };
            stopped |= self.gradient_free(rhs, depth + 1)?;
        }
        Some(stopped)
    }

    /// A call: a gradient stop itself, a method of a gradient-free receiver, or an array
    /// library's function, each with gradient-free arguments only ([`LAYOUT_METHODS`]: whatever
    /// the arguments, a device, a dtype or a shape). Methods and functions that
    /// start a graph again (`requires_grad_`, `nn.Parameter`, `tf.Variable`, `requires_grad=True`,
    /// `trainable=True`) and calls of anything else (a layer, a local function) do not qualify.
    fn call_gradient_free(&self, call: Node<'a>, depth: u32) -> Option<bool> {
        let function = call.child_by_field_id(FIELD.function)?;
        let api = self.api(function);
        if let Some(api) = &api
            && STOP_GRADIENT.contains(&api.as_str())
        {
            return Some(true);
        }
        let method = (api.is_none() && function.kind_name() == "attribute")
            .then(|| function.child_by_field_id(FIELD.attribute).map(|a| self.text(a)))
            .flatten();
        if method.is_some_and(|m| STOP_METHODS.contains(&m)) {
            return Some(true);
        }
        let args = Args::of(call);
        if args.splat || args.keyword.iter().any(|(k, _)| matches!(self.text(*k), "requires_grad" | "trainable")) {
            return None;
        }
        let mut stopped = match (&api, method) {
            (Some(api), _)
                if ["torch.", "numpy.", "jax.numpy.", "jax.nn.", "tensorflow."].iter().any(|p| api.starts_with(p))
                    && !matches!(apis::leaf(api), "Parameter" | "Variable") =>
            {
                false
            }
            (None, Some(m)) if LAYOUT_METHODS.contains(&m) => {
                return self.gradient_free(function.child_by_field_id(FIELD.object)?, depth + 1);
            }
            (None, Some(m)) if !m.starts_with("requires_grad") => {
                self.gradient_free(function.child_by_field_id(FIELD.object)?, depth + 1)?
            }
            _ => return None,
        };
        for a in args.positional.iter().chain(args.keyword.iter().map(|(_, v)| v)) {
            stopped |= self.gradient_free(*a, depth + 1)?;
        }
        Some(stopped)
    }

    /// `with torch.no_grad():`, `with torch.inference_mode():`, `with torch.set_grad_enabled(False):`.
    fn stops_gradients(&self, with: Node<'a>) -> bool {
        let mut stack = vec![with];
        while let Some(n) = stack.pop() {
            if n.kind_name() == "call" {
                let api = n.child_by_field_id(FIELD.function).and_then(|f| self.api(f));
                match api.as_deref() {
                    Some(a) if NO_GRAD.contains(&a) => return true,
                    Some("torch.set_grad_enabled" | "torch.autograd.set_grad_enabled") => {
                        let off = Args::of(n)
                            .positional
                            .first()
                            .is_some_and(|v| self.text(*v) == "False" || self.constant(*v) == Some(0.0));
                        if off {
                            return true;
                        }
                    }
                    _ => {}
                }
                continue;
            }
            if n.kind_name() == "block" {
                continue;
            }
            let mut cursor = n.walk();
            stack.extend(n.named_children(&mut cursor));
        }
        false
    }
}

/// The tensor frameworks seen, NumPy apart.
#[derive(Default)]
struct Frameworks {
    torch: bool,
    tensorflow: bool,
    jax: bool,
    numpy: bool,
}

impl Frameworks {
    fn add(&mut self, lib: Library) {
        match lib {
            Library::Torch => self.torch = true,
            Library::TensorFlow | Library::KerasOps | Library::KerasBackend => self.tensorflow = true,
            Library::Jax => self.jax = true,
            Library::NumPy => self.numpy = true,
        }
    }

    fn single(&self) -> Option<Library> {
        match (self.torch, self.tensorflow, self.jax) {
            (true, false, false) => Some(Library::Torch),
            (false, true, false) => Some(Library::TensorFlow),
            (false, false, true) => Some(Library::Jax),
            (false, false, false) if self.numpy => Some(Library::NumPy),
            _ => None,
        }
    }
}

/// The one tensor framework whose functions (or PyTorch-only methods) `function` calls (NumPy
/// when it calls only NumPy), outside nested functions.
fn frameworks_in<'a>(model: &Model<'a>, function: Node<'a>) -> Option<Library> {
    let mut found = Frameworks::default();
    let body = function.child_by_field_id(FIELD.body)?;
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        if n.kind_name() == "call"
            && let Some(f) = n.child_by_field_id(FIELD.function)
            && let Some(name) = callee_name(f, model.src)
        {
            match model.api(f) {
                Some(api) => {
                    if let Some(lib) = apis::library_of(&api) {
                        found.add(lib);
                    }
                }
                // `m.unsqueeze(-1).float()`: methods only PyTorch tensors have.
                None if f.kind_name() == "attribute" && TORCH_ONLY_METHODS.contains(&name) => found.add(Library::Torch),
                None => {}
            }
        }
        // `.sum(-1, dtype=torch.int16)`: a dtype is its library's.
        if n.kind_name() == "keyword_argument"
            && n.child_by_field_id(FIELD.name).is_some_and(|k| model.text(k) == "dtype")
            && let Some(lib) =
                n.child_by_field_id(FIELD.value).and_then(|v| model.api(v)).and_then(|a| apis::library_of(&a))
        {
            found.add(lib);
        }
        let mut cursor = n.walk();
        for child in n.named_children(&mut cursor) {
            if !matches!(child.kind_name(), "function_definition" | "lambda" | "class_definition") {
                stack.push(child);
            }
        }
    }
    found.single()
}

#[cfg(test)]
mod tests {
    use crate::semantic::Model;
    use crate::syntax::parse;

    /// The functions a transform takes, and not a tensor's gradient or another `grad(`.
    #[test]
    fn differentiated_names_are_the_transforms_first_arguments() {
        let src = "g = jax.grad(loss_fn)\nvg = jax.value_and_grad( f , has_aux=True)\n\
                   h = torch.func.grad_and_value(self.energy)(x)\nj = jacrev(lambda p: p)\n\
                   d = torch.autograd.grad(loss.sum(), params)\nopt.zero_grad()\nclip_grad(w, 1)\n";
        let tree = parse(src);
        assert_eq!(super::differentiated_names(src, tree.root_node()), ["energy", "f", "loss_fn"]);
        let quoted = "# g = jax.grad(loss_fn)\ns = 'jax.grad(f)'\n\"\"\"\n>>> jax.grad(energy)\n\"\"\"\n";
        assert!(super::differentiated_names(quoted, parse(quoted).root_node()).is_empty());
    }

    /// `is_differentiated` of the first occurrence of `needle` (an expression's text).
    fn differentiated(src: &str, needle: &str) -> bool {
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let at = src.find(needle).unwrap_or_else(|| panic!("{needle} not in source"));
        let mut node = tree.root_node().descendant_for_byte_range(at, at + needle.len()).unwrap();
        while node.byte_range() != (at..at + needle.len()) {
            node = node.parent().unwrap();
        }
        model.is_differentiated(node)
    }

    #[test]
    fn tensor_code_is_differentiated_unless_gradients_stop() {
        let torch = "import torch\nimport numpy as np\n\ndef f(x):\n    d = torch.relu(x)\n    return d.sqrt()\n";
        assert!(differentiated(torch, "d.sqrt()"));
        let numpy = "import numpy as np\n\ndef f(x):\n    return np.sqrt(np.maximum(x, 0))\n";
        assert!(!differentiated(numpy, "np.sqrt(np.maximum(x, 0))"));
        let no_grad = "import torch\n\ndef f(x):\n    with torch.no_grad():\n        y = torch.sqrt(x)\n    return y\n";
        assert!(!differentiated(no_grad, "torch.sqrt(x)"));
        let decorated = "import torch\n\n@torch.no_grad()\ndef f(x):\n    return torch.sqrt(x)\n";
        assert!(!differentiated(decorated, "torch.sqrt(x)"));
        let inference = "import torch\n\n@torch.inference_mode()\ndef f(x):\n    return torch.sqrt(x)\n";
        assert!(!differentiated(inference, "torch.sqrt(x)"));
        let disabled =
            "import torch\n\ndef f(x):\n    with torch.set_grad_enabled(False):\n        return torch.sqrt(x)\n";
        assert!(!differentiated(disabled, "torch.sqrt(x)"));
        let enabled =
            "import torch\n\ndef f(x):\n    with torch.set_grad_enabled(True):\n        return torch.sqrt(x)\n";
        assert!(differentiated(enabled, "torch.sqrt(x)"));
        let stopped = "import tensorflow as tf\n\ndef f(x):\n    return tf.stop_gradient(tf.sqrt(x) * 2)\n";
        assert!(!differentiated(stopped, "tf.sqrt(x)"));
        let jax = "import jax\nimport jax.numpy as jnp\n\ndef f(x):\n    return jax.lax.stop_gradient(jnp.sqrt(x)) + jnp.sqrt(x)\n";
        assert!(!differentiated(jax, "jnp.sqrt(x)"));
        let detached = "import torch\n\ndef f(x):\n    return torch.sqrt(x).detach()\n";
        assert!(!differentiated(detached, "torch.sqrt(x)"));
        let item = "import torch\n\ndef f(x):\n    return torch.sqrt(x).mean().item()\n";
        assert!(!differentiated(item, "torch.sqrt(x)"));
    }

    /// `in_training_code` of the first occurrence of `needle`.
    fn training(src: &str, needle: &str) -> bool {
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let at = src.find(needle).unwrap();
        let node = tree.root_node().descendant_for_byte_range(at, at + needle.len()).unwrap();
        model.in_training_code(node)
    }

    #[test]
    fn training_code_is_forward_passes_and_losses() {
        let src = "import torch\n\nclass Net(torch.nn.Module):\n    def forward(self, x):\n        return x.sqrt()\n\n    def stats(self, y):\n        return y.sqrt()\n\ndef gwd_distance(a, b):\n    return a.sqrt()\n\ndef preprocess(w):\n    return w.sqrt()\n";
        assert!(training(src, "x.sqrt()"));
        assert!(!training(src, "y.sqrt()"));
        assert!(training(src, "a.sqrt()"));
        assert!(!training(src, "w.sqrt()"));
        // Numbered and run-together loss names, an ELBO, a KL or NLL term; not a word that only
        // ends in one (`closs`) nor a generic helper.
        for name in ["loss1", "loss_2", "lossfn", "elbo", "kl_term", "compute_nll"] {
            assert!(training(&src.replace("gwd_distance", name), "a.sqrt()"), "{name}");
        }
        for name in ["closs", "masked_mean", "klass", "lossless_compress", "lossy"] {
            assert!(!training(&src.replace("gwd_distance", name), "a.sqrt()"), "{name}");
        }
    }

    #[test]
    fn tests_and_data_preparation_run_without_gradients() {
        let src =
            "import torch\n\nclass AudioFeatureExtractor:\n    def __call__(self, x):\n        return torch.sqrt(x)\n";
        assert!(!differentiated(src, "torch.sqrt(x)"));
        let src = "import torch\n\nclass LossTest:\n    def check(self, x):\n        return torch.sqrt(x)\n";
        assert!(!differentiated(src, "torch.sqrt(x)"));
        let src = "import torch\n\ndef test_rmse(x):\n    return torch.sqrt(x)\n";
        assert!(!differentiated(src, "torch.sqrt(x)"));
    }

    #[test]
    fn the_library_comes_from_the_function_then_the_file() {
        // A function that calls only JAX in a file that imports NumPy too.
        let src = "import numpy as np\nimport jax.numpy as jnp\n\ndef f(a, b):\n    d = jnp.sum((a - b) ** 2)\n    return d ** 0.5\n";
        assert!(differentiated(src, "d ** 0.5"));
        // The same in a function that calls only NumPy.
        let src = "import numpy as np\nimport jax.numpy as jnp\n\ndef f(a, b):\n    d = np.sum((a - b) ** 2)\n    return d ** 0.5\n";
        assert!(!differentiated(src, "d ** 0.5"));
        // Nothing called: the file's one framework.
        let src = "import torch\n\ndef f(a, b):\n    return (a * b) ** 0.5\n";
        assert!(differentiated(src, "(a * b) ** 0.5"));
        let src = "import torch\nimport tensorflow as tf\n\ndef f(a, b):\n    return (a * b) ** 0.5\n";
        assert!(!differentiated(src, "(a * b) ** 0.5"));
    }
}
