//! Dtypes: where the code says them (`.half()`, `.bfloat16()`, `dtype=`, `astype`, `tf.cast`,
//! `.to(torch.float16)`, `model.half()`, a Keras `mixed_float16` policy, `set_default_dtype`),
//! each library's default otherwise (PyTorch, TensorFlow, Keras and JAX: float32, or float64
//! with `jax_enable_x64`; NumPy: float64), PyTorch autocast (which runs `log`, `exp`, `pow`,
//! `sum`, `norm`, `normalize`, `softmax` and the losses in float32), and how a Python float
//! rounds when it meets an array of a dtype.
//!
//! The file-wide settings are one fact ([`FactKey::Precision`]): any function may set them, so
//! `engine::cache` recomputes it (a text search) after every edit that relies on it.

use tree_sitter::Node;

use super::eval::dtype_named;
use super::facts::{Fact, FactKey};
use super::value::{Dtype, Kind, Library};
use super::{Callee, Model, apis};
use crate::syntax::{Args, FIELD, KindName, ancestry, callee_name, text, unparenthesized};

/// File-wide precision settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Precision {
    /// The compute dtype of a global Keras policy (`set_global_policy("mixed_float16")`).
    pub keras_policy: Option<Dtype>,
    /// `torch.set_default_dtype(torch.float16)`.
    pub torch_default: Option<Dtype>,
    /// `jax.config.update("jax_enable_x64", True)`.
    pub jax_x64: bool,
}

/// A dtype and how the model knows it.
#[derive(Clone, Debug, PartialEq)]
pub struct DtypeAt {
    pub dtype: Dtype,
    /// Said by the code (`.half()`, `dtype=`, a policy), not a library default.
    pub stated: bool,
    /// For messages: "`x.half()`", "the `mixed_float16` policy", "float32 by default".
    pub why: String,
}

impl Dtype {
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F16 => "float16",
            Dtype::BF16 => "bfloat16",
            Dtype::F32 => "float32",
            Dtype::F64 => "float64",
            Dtype::Int => "an integer dtype",
            Dtype::Bool => "bool",
        }
    }

    /// A floating-point dtype.
    pub fn is_float(self) -> bool {
        matches!(self, Dtype::F16 | Dtype::BF16 | Dtype::F32 | Dtype::F64)
    }

    /// The smallest positive normal number.
    pub fn tiny(self) -> f64 {
        match self {
            Dtype::F16 => 6.103515625e-5,
            Dtype::BF16 | Dtype::F32 => f32::MIN_POSITIVE as f64,
            _ => f64::MIN_POSITIVE,
        }
    }

    /// Rank in type promotion of two floating arrays (float16 with bfloat16 gives float32).
    fn width(self) -> u8 {
        match self {
            Dtype::F16 | Dtype::BF16 => 1,
            Dtype::F32 => 2,
            Dtype::F64 => 3,
            _ => 0,
        }
    }
}

/// `v` rounded to the nearest value of `dtype` (ties to even), as a library converts a Python
/// float that meets an array of that dtype; overflow gives an infinity.
pub fn round_to(v: f64, dtype: Dtype) -> f64 {
    match dtype {
        Dtype::F16 => round_binary(v, 11, -14, 65504.0),
        Dtype::BF16 => round_binary(v, 8, -126, 3.3895313892515355e38),
        Dtype::F32 => v as f32 as f64,
        _ => v,
    }
}

/// Rounds to a binary format with `p` significand bits, smallest normal exponent `emin` and
/// largest finite value `max`.
fn round_binary(v: f64, p: i32, emin: i32, max: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let a = v.abs();
    let mut e = a.log2().floor() as i32;
    // log2 may be off by one next to a power of two.
    if 2f64.powi(e) > a {
        e -= 1;
    } else if 2f64.powi(e + 1) <= a {
        e += 1;
    }
    let ulp = 2f64.powi(e.max(emin) - (p - 1));
    let q = a / ulp;
    let f = q.floor();
    let rounded = match q - f {
        d if d > 0.5 => f + 1.0,
        d if d < 0.5 => f,
        _ if f % 2.0 == 0.0 => f,
        _ => f + 1.0,
    } * ulp;
    // Beyond the largest finite value by half an ulp or more: infinity.
    let r = if rounded > max { f64::INFINITY } else { rounded };
    r.copysign(v)
}

/// A positive Python float that becomes 0 in `dtype`.
pub fn rounds_to_zero(v: f64, dtype: Dtype) -> bool {
    v > 0.0 && round_to(v, dtype) == 0.0
}

/// `a + b` computed in Python (float64), then converted to `dtype`, equals `a` converted: the
/// `b` is absorbed.
pub fn absorbed(a: f64, b: f64, dtype: Dtype) -> bool {
    b != 0.0 && round_to(a + b, dtype) == round_to(a, dtype)
}

/// Autocast runs these in float32 whatever their inputs (PyTorch's "CUDA Ops that can autocast
/// to float32" list, and the losses).
const AUTOCAST_FLOAT32: &[&str] = &[
    "log",
    "log2",
    "log10",
    "log1p",
    "exp",
    "expm1",
    "pow",
    "sum",
    "prod",
    "cumsum",
    "cumprod",
    "norm",
    "normalize",
    "softmax",
    "log_softmax",
    "softmin",
    "softplus",
    "rsqrt",
    "reciprocal",
    "layer_norm",
    "group_norm",
    "cosine_similarity",
    "dist",
    "cdist",
    "pdist",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy_with_logits",
    "kl_div",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
];

/// Functions and methods whose result has their (first) input's dtype.
const KEEPS_DTYPE: &[&str] = &[
    "abs",
    "clamp",
    "clamp_min",
    "clip",
    "maximum",
    "minimum",
    "exp",
    "log",
    "log1p",
    "sqrt",
    "square",
    "sum",
    "mean",
    "norm",
    "vector_norm",
    "reduce_sum",
    "reduce_mean",
    "reduce_max",
    "softmax",
    "sigmoid",
    "log_softmax",
    "relu",
    "tanh",
    "reshape",
    "view",
    "squeeze",
    "unsqueeze",
    "flatten",
    "transpose",
    "permute",
    "contiguous",
    "detach",
    "clone",
    "cuda",
    "cpu",
    "expand_dims",
    "matmul",
    "mm",
    "bmm",
    "einsum",
    "pow",
    "square",
    "std",
    "var",
];

/// The words the precision settings [`Model::compute_precision`] reads are spelled with, in the
/// order of its `MIXED_F16`, `MIXED_BF16`, `TORCH_DEFAULT` and `JAX_X64`.
const PRECISION_WORDS: [&str; 4] = ["mixed_float16", "mixed_bfloat16", "set_default_dtype", "jax_enable_x64"];

/// Whether `src` holds a word a precision setting is spelled with ([`PRECISION_WORDS`]): text
/// without one sets no precision.
pub fn names_a_precision_setting(src: &str) -> bool {
    PRECISION_WORDS.iter().any(|w| src.contains(w))
}

impl<'a> Model<'a> {
    /// The file-wide precision settings (a fact: see [`FactKey::Precision`]).
    pub fn precision(&self) -> Precision {
        match self.fact(&FactKey::Precision) {
            Fact::Precision(p) => p,
            _ => Precision::default(),
        }
    }

    pub(super) fn compute_precision(&self) -> Precision {
        // Recomputed on every keystroke in a function (any function may set the precision):
        // one SIMD substring search per word (four `str::match_indices` scans of a 160 KB file
        // were a ninth of such a keystroke's instructions; one Aho-Corasick pass, whose rare-byte
        // prefilter stops often in Python, still 7 %).
        static FINDERS: std::sync::OnceLock<[memchr::memmem::Finder<'static>; 4]> = std::sync::OnceLock::new();
        const MIXED_F16: usize = 0;
        const MIXED_BF16: usize = 1;
        const TORCH_DEFAULT: usize = 2;
        const JAX_X64: usize = 3;
        let finders =
            FINDERS.get_or_init(|| PRECISION_WORDS.map(|w| memchr::memmem::Finder::new(w.as_bytes()).into_owned()));
        let found: [Vec<(usize, usize)>; 4] = std::array::from_fn(|i| {
            let len = finders[i].needle().len();
            finders[i].find_iter(self.src.as_bytes()).map(|at| (at, at + len)).collect()
        });
        let mut p = Precision::default();
        let root = self.tree.root_node();
        for (word, dtype) in [(MIXED_F16, Dtype::F16), (MIXED_BF16, Dtype::BF16)] {
            for &(at, end) in &found[word] {
                let Some(string) = root.descendant_for_byte_range(at, end) else { continue };
                // The string, possibly inside `Policy("mixed_float16")`, given to a setter.
                let chain = ancestry(root, string);
                let setter = chain.iter().rev().take(6).any(|n| {
                    n.kind_name() == "call"
                        && n.child_by_field_id(FIELD.function)
                            .and_then(|f| callee_name(f, self.src))
                            .is_some_and(|c| matches!(c, "set_global_policy" | "set_policy" | "set_dtype_policy"))
                });
                if setter {
                    p.keras_policy = Some(dtype);
                }
            }
        }
        for &(at, end) in &found[TORCH_DEFAULT] {
            let Some(name) = root.descendant_for_byte_range(at, end) else { continue };
            let call = ancestry(root, name).into_iter().rev().find(|n| n.kind_name() == "call");
            if let Some(call) = call
                && let Some(first) = Args::of(call).positional.first()
                && let Some(d) = dtype_named(self.text(*first))
            {
                p.torch_default = Some(d);
            }
        }
        for &(at, end) in &found[JAX_X64] {
            let Some(node) = root.descendant_for_byte_range(at, end) else { continue };
            let call = ancestry(root, node).into_iter().rev().find(|n| n.kind_name() == "call");
            if let Some(call) = call
                && Args::of(call).positional.iter().any(|a| matches!(self.text(*a), "True" | "1"))
            {
                p.jax_x64 = true;
            }
        }
        p
    }

    /// The dtype of the array expression `node`, where known.
    pub fn dtype_of(&self, node: Node<'a>) -> Option<DtypeAt> {
        self.dtype_at(node, 0)
    }

    fn dtype_at(&self, node: Node<'a>, depth: u32) -> Option<DtypeAt> {
        if depth > 12 {
            return None;
        }
        let node = unparenthesized(node);
        let stated = |dtype: Dtype, why: String| Some(DtypeAt { dtype, stated: true, why });
        if let Some(d) = self.value(node).dtype.filter(|d| d.is_float()) {
            // A dtype the evaluator saw said (`dtype=`, `.half()`): find the words for it below.
            if let Some(found) = self.stated_dtype(node, depth).filter(|f| f.dtype == d) {
                return Some(found);
            }
            return stated(d, format!("`{}` is {}", crate::syntax::short(self.text(node)), d.name()));
        }
        if let Some(found) = self.stated_dtype(node, depth) {
            return Some(found);
        }
        self.default_dtype(node)
    }

    /// A dtype the code states for `node` (through names, arithmetic, and functions that keep
    /// their input's dtype).
    fn stated_dtype(&self, node: Node<'a>, depth: u32) -> Option<DtypeAt> {
        let node = unparenthesized(node);
        match node.kind_name() {
            "identifier" => {
                if let Some(rhs) = self.local_binding(node) {
                    return self.dtype_at(rhs, depth + 1);
                }
                self.policy_dtype(node)
            }
            "subscript" => self.stated_dtype(node.child_by_field_id(FIELD.value)?, depth + 1),
            "binary_operator" => {
                let l = node.child_by_field_id(FIELD.left).and_then(|l| self.dtype_at(l, depth + 1));
                let r = node.child_by_field_id(FIELD.right).and_then(|r| self.dtype_at(r, depth + 1));
                match (l, r) {
                    (Some(a), Some(b)) => Some(if a.dtype.width() >= b.dtype.width() { a } else { b }),
                    (Some(a), None) | (None, Some(a)) => Some(a),
                    (None, None) => None,
                }
                .filter(|d| d.stated)
            }
            "call" => {
                let args = Args::of(node);
                if let Some(autocast) = self.autocast_float32(node) {
                    return Some(autocast);
                }
                if let Some(d) = args.keyword(&["dtype"], self.src).and_then(|d| dtype_named(self.text(d))) {
                    return Some(DtypeAt {
                        dtype: d,
                        stated: true,
                        why: format!("`dtype={}`", self.text(args.keyword(&["dtype"], self.src)?)),
                    });
                }
                match self.callee(node)? {
                    Callee::Method { name, receiver } => {
                        let converted = match name {
                            "half" => Some(Dtype::F16),
                            "bfloat16" => Some(Dtype::BF16),
                            "float" => Some(Dtype::F32),
                            "double" => Some(Dtype::F64),
                            "to" | "type" | "astype" => args.positional.iter().find_map(|a| dtype_named(self.text(*a))),
                            _ => None,
                        };
                        if let Some(d) = converted {
                            return Some(DtypeAt {
                                dtype: d,
                                stated: true,
                                why: format!("`.{name}({})` makes it {}", args_text(self, &args), d.name()),
                            });
                        }
                        if KEEPS_DTYPE.contains(&name.trim_end_matches('_')) {
                            return self.stated_dtype(receiver, depth + 1);
                        }
                        None
                    }
                    Callee::Api(api) => {
                        let leaf = apis::leaf(&api);
                        if matches!(leaf, "cast" | "astype") {
                            let d = args.get(1, &["dtype"], self.src).and_then(|d| dtype_named(self.text(d)))?;
                            return Some(DtypeAt { dtype: d, stated: true, why: format!("`{leaf}` to {}", d.name()) });
                        }
                        if let Some(d) = dtype_named(leaf).filter(|_| api.starts_with("numpy.")) {
                            return Some(DtypeAt { dtype: d, stated: true, why: format!("`{}`", self.text(node)) });
                        }
                        if KEEPS_DTYPE.contains(&leaf) {
                            return self.stated_dtype(*args.positional.first()?, depth + 1);
                        }
                        None
                    }
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// A library's default float dtype for an array of that library.
    fn default_dtype(&self, node: Node<'a>) -> Option<DtypeAt> {
        let Kind::Array(lib) = self.value(node).kind else { return None };
        let precision = self.precision();
        let (dtype, library) = match lib {
            Library::NumPy => (Dtype::F64, "NumPy"),
            Library::Jax if precision.jax_x64 => (Dtype::F64, "JAX with x64"),
            Library::Jax => (Dtype::F32, "JAX"),
            Library::Torch => (precision.torch_default.unwrap_or(Dtype::F32), "PyTorch"),
            Library::TensorFlow | Library::KerasOps | Library::KerasBackend => (Dtype::F32, "TensorFlow and Keras"),
        };
        Some(DtypeAt { dtype, stated: false, why: format!("{} by default in {library}", dtype.name()) })
    }

    /// An input of a Keras layer's `call` when the file sets a mixed global policy: Keras casts
    /// layer inputs to the policy's compute dtype.
    fn policy_dtype(&self, name: Node<'a>) -> Option<DtypeAt> {
        let function = self.scope_of(name);
        if function.kind_name() != "function_definition"
            || function.child_by_field_id(FIELD.name).map(|n| self.text(n)) != Some("call")
            || self.class_of_method(function).is_none()
        {
            return None;
        }
        let wanted = self.text(name);
        let reaching = self.scope_index(function).reaching(wanted, name.start_byte());
        let params = super::facts::parameter_names(function, self.src);
        if !reaching.entries.is_empty() || params.get(1).map(String::as_str) != Some(wanted) {
            return None;
        }
        let dtype = self.precision().keras_policy?;
        let policy = if dtype == Dtype::F16 { "mixed_float16" } else { "mixed_bfloat16" };
        Some(DtypeAt { dtype, stated: true, why: format!("the `{policy}` policy makes layer inputs {}", dtype.name()) })
    }

    /// A call PyTorch autocast runs in float32, inside an enabled `autocast` block.
    fn autocast_float32(&self, call: Node<'a>) -> Option<DtypeAt> {
        let name = call.child_by_field_id(FIELD.function).and_then(|f| callee_name(f, self.src))?;
        if !AUTOCAST_FLOAT32.contains(&name) || !self.in_autocast(call) {
            return None;
        }
        Some(DtypeAt { dtype: Dtype::F32, stated: true, why: "autocast runs it in float32".to_string() })
    }

    /// `node` lies in `with torch.autocast(...)`, `with torch.cuda.amp.autocast():` (not
    /// `enabled=False`), in the same function.
    pub fn in_autocast(&self, node: Node<'a>) -> bool {
        let chain = self.ancestry(node);
        for n in chain.iter().rev() {
            if matches!(n.kind_name(), "function_definition" | "lambda" | "class_definition") {
                return false;
            }
            if n.kind_name() != "with_statement" {
                continue;
            }
            let Some(clause) = n.named_child(0).filter(|c| c.kind_name() == "with_clause") else { continue };
            let mut cursor = clause.walk();
            for item in clause.named_children(&mut cursor) {
                let mut value = item.child_by_field_id(FIELD.value).unwrap_or(item);
                if value.kind_name() == "as_pattern" {
                    value = value.named_child(0).unwrap_or(value);
                }
                if value.kind_name() != "call" {
                    continue;
                }
                let autocast = value
                    .child_by_field_id(FIELD.function)
                    .and_then(|f| self.api(f))
                    .is_some_and(|a| a.starts_with("torch.") && apis::leaf(&a) == "autocast");
                let disabled = Args::of(value).keyword(&["enabled"], self.src).is_some_and(|e| self.text(e) == "False");
                if autocast && !disabled {
                    return true;
                }
            }
        }
        false
    }

    /// The dtype of a module's parameters (`model` in `model.parameters()`): from `.half()`,
    /// `.bfloat16()`, `.to(torch.float16)` on the value it was built from or called on it as a
    /// statement before `at`, in the same scope; else the default dtype.
    pub fn module_dtype(&self, module: Node<'a>, at: Node<'a>) -> Option<DtypeAt> {
        let module = unparenthesized(module);
        let mut found = None;
        if module.kind_name() == "identifier"
            && let Some(rhs) = self.local_binding(module)
        {
            found = self.converted_module(rhs);
        }
        // `model.half()` as a statement, before `at`, in the same scope: the last one.
        let spelled = self.text(module);
        let conversions = self.conversion_statements(self.scope_of(at));
        let before = conversions.partition_point(|s| s.start_byte() < at.start_byte());
        let mut examined = 0;
        let last = conversions[..before].iter().rev().find_map(|s| {
            examined += 1;
            self.conversion_of(s.named_child(0)?, spelled)
        });
        self.count_index_work(examined);
        if let Some(d) = last {
            found = Some(d);
        }
        found.or_else(|| {
            self.precision().torch_default.map(|d| DtypeAt {
                dtype: d,
                stated: true,
                why: format!("`torch.set_default_dtype` makes parameters {}", d.name()),
            })
        })
    }

    /// The expression statements of `scope` (outside the scopes nested in it) that convert a
    /// dtype (`x.half()`, on any receiver), in source order; found once per scope. Each
    /// `Adam(model.parameters())` walked the scope for them: quadratic in a notebook's
    /// module-level code.
    fn conversion_statements(&self, scope: Node<'a>) -> std::rc::Rc<Vec<Node<'a>>> {
        if let Some(found) = self.conversions.borrow().get(&scope.id()) {
            return found.clone();
        }
        let body = if self.is_module_scope(scope) { Some(scope) } else { scope.child_by_field_id(FIELD.body) };
        let mut stack: Vec<Node<'a>> = body.into_iter().collect();
        let mut found = Vec::new();
        while let Some(node) = stack.pop() {
            self.count_index_work(1);
            if node.kind_name() == "expression_statement"
                && let Some(call) = node.named_child(0).filter(|c| c.kind_name() == "call")
                && self.conversion_of(call, "").is_some()
            {
                found.push(node);
                continue;
            }
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                if !crate::syntax::is_scope(child.kind_name()) {
                    stack.push(child);
                }
            }
        }
        found.sort_by_key(|n| n.start_byte());
        let found = std::rc::Rc::new(found);
        self.conversions.borrow_mut().insert(scope.id(), found.clone());
        found
    }

    /// `x.half()`, `x.to(torch.float16)`, `x.cuda().half()` (calls on the text `spelled`, or on
    /// anything when `spelled` is empty): the dtype it converts to.
    fn conversion_of(&self, call: Node<'a>, spelled: &str) -> Option<DtypeAt> {
        let function = call.child_by_field_id(FIELD.function).filter(|f| f.kind_name() == "attribute")?;
        let name = text(function.child_by_field_id(FIELD.attribute)?, self.src);
        let receiver = function.child_by_field_id(FIELD.object)?;
        let args = Args::of(call);
        let d = match name {
            "half" => Some(Dtype::F16),
            "bfloat16" => Some(Dtype::BF16),
            "float" => Some(Dtype::F32),
            "double" => Some(Dtype::F64),
            "to" | "type" => args
                .positional
                .iter()
                .copied()
                .chain(args.keyword(&["dtype"], self.src))
                .find_map(|a| dtype_named(self.text(a))),
            _ => None,
        };
        match d {
            Some(d)
                if spelled.is_empty()
                    || self.text(receiver) == spelled
                    || self.conversion_of_receiver(receiver, spelled) =>
            {
                Some(DtypeAt {
                    dtype: d,
                    stated: true,
                    why: format!("`{}` makes its parameters {}", crate::syntax::short(self.text(call)), d.name()),
                })
            }
            Some(_) => None,
            // `model.cuda().half()`: look through moves.
            None if matches!(name, "cuda" | "cpu" | "to" | "eval" | "train") && receiver.kind_name() == "call" => {
                self.conversion_of(receiver, spelled)
            }
            None => None,
        }
    }

    fn conversion_of_receiver(&self, receiver: Node<'a>, spelled: &str) -> bool {
        receiver.kind_name() == "call"
            && receiver
                .child_by_field_id(FIELD.function)
                .and_then(|f| f.child_by_field_id(FIELD.object))
                .is_some_and(|o| self.text(o) == spelled || self.conversion_of_receiver(o, spelled))
    }

    /// The dtype a module built by `rhs` has (`Net().half()`, `model.to(torch.float16)`).
    fn converted_module(&self, rhs: Node<'a>) -> Option<DtypeAt> {
        let rhs = unparenthesized(rhs);
        if rhs.kind_name() != "call" {
            return None;
        }
        self.conversion_of(rhs, "")
    }
}

fn args_text(model: &Model, args: &Args) -> String {
    let mut parts: Vec<String> = args.positional.iter().map(|a| model.text(*a).to_string()).collect();
    parts.extend(args.keyword.iter().map(|(k, v)| format!("{}={}", model.text(*k), model.text(*v))));
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_matches_ieee_half_and_bfloat16() {
        // float16: smallest subnormal 2^-24 ≈ 5.96e-8; half of it rounds to 0 (ties to even).
        assert_eq!(round_to(2f64.powi(-24), Dtype::F16), 2f64.powi(-24));
        assert_eq!(round_to(2f64.powi(-25), Dtype::F16), 0.0);
        assert!(rounds_to_zero(1e-8, Dtype::F16));
        assert!(!rounds_to_zero(1e-7, Dtype::F16));
        assert!(!rounds_to_zero(1e-4, Dtype::F16));
        assert_eq!(round_to(65504.0, Dtype::F16), 65504.0);
        assert_eq!(round_to(70000.0, Dtype::F16), f64::INFINITY);
        assert_eq!(round_to(1.0 / 3.0, Dtype::F16), 0.333251953125);
        // bfloat16 keeps float32's range: 1e-12 survives; its epsilon is 2^-7.
        assert!(!rounds_to_zero(1e-12, Dtype::BF16));
        assert!(absorbed(1.0, 1e-3, Dtype::BF16));
        // float32: 1 + 1e-10 == 1, but not in float64.
        assert!(absorbed(1.0, 1e-10, Dtype::F32));
        assert!(absorbed(1.0, -1e-8, Dtype::F32));
        assert!(!absorbed(1.0, -1e-7, Dtype::F32));
        assert!(!absorbed(1.0, 1e-10, Dtype::F64));
        assert!(rounds_to_zero(1e-50, Dtype::F32));
    }
}
