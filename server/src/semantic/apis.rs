//! What the model knows about the numeric libraries' names: one canonical dotted name per
//! function, whatever alias or compatibility module the code used to reach it.
//!
//! Sources for the alias lists: the TensorFlow 2 API docs (each page lists a function's aliases:
//! `tf.math.log` is also `tf.log` in TF1 and `tf.compat.v1.log`), Keras 3 (`keras.ops`,
//! `keras.backend`), PyTorch's `torch.special` and `torch.nn.functional` pages, NumPy,
//! `jax.numpy`/`jax.nn`/`jax.lax`, SciPy's `special`.

use super::value::Library;

/// Module prefixes that are another spelling of a canonical module.
const PREFIXES: &[(&str, &str)] = &[
    ("tensorflow.compat.v1.", "tensorflow."),
    ("tensorflow.compat.v2.", "tensorflow."),
    ("tensorflow.keras.", "keras."),
    ("tensorflow.python.keras.", "keras."),
    ("tf_keras.", "keras."),
    ("keras.api.", "keras."),
    ("keras.src.ops.", "keras.ops."),
    ("keras.src.backend.", "keras.backend."),
    ("keras.src.losses.", "keras.losses."),
    ("jax.example_libraries.", "jax."),
    // flax re-exports jax.nn's activations: flax/linen/activation.py and
    // flax/nnx/nn/activations.py import them `from jax.nn`, and `flax.linen` and `flax.nnx`
    // export those names (flax 0.12).
    ("flax.linen.activation.", "flax.linen."),
    ("flax.nnx.nn.activations.", "flax.nnx."),
];

/// `tf.math` functions TensorFlow also exports at top level (`tf.log`, `tf.reduce_sum`): the
/// `tf.math` name is canonical. From the "Aliases" lines of the `tf.math.*` pages.
const TF_MATH_TOP_LEVEL: &[&str] = &[
    "abs",
    "add",
    "cos",
    "cosh",
    "count_nonzero",
    "cumsum",
    "divide",
    "divide_no_nan",
    "equal",
    "erf",
    "exp",
    "expm1",
    "greater",
    "is_nan",
    "is_finite",
    "less",
    "log",
    "log1p",
    "logical_not",
    "maximum",
    "minimum",
    "multiply",
    "negative",
    "not_equal",
    "pow",
    "reciprocal",
    "reduce_logsumexp",
    "reduce_max",
    "reduce_mean",
    "reduce_min",
    "reduce_prod",
    "reduce_std",
    "reduce_sum",
    "reduce_variance",
    "rsqrt",
    "sigmoid",
    "sign",
    "sin",
    "sqrt",
    "square",
    "squared_difference",
    "subtract",
    "tanh",
    "truediv",
    "xlogy",
];

/// Functions re-exported under other names; the right side is canonical.
const ALIASES: &[(&str, &str)] = &[
    // TensorFlow
    ("tensorflow.nn.sigmoid", "tensorflow.math.sigmoid"),
    ("tensorflow.nn.tanh", "tensorflow.math.tanh"),
    ("tensorflow.nn.softplus", "tensorflow.math.softplus"),
    ("tensorflow.math.softmax", "tensorflow.nn.softmax"),
    ("tensorflow.math.log_softmax", "tensorflow.nn.log_softmax"),
    ("tensorflow.log_sigmoid", "tensorflow.math.log_sigmoid"),
    ("tensorflow.where_v2", "tensorflow.where"),
    ("tensorflow.div", "tensorflow.math.divide"),
    ("tensorflow.realdiv", "tensorflow.math.divide"),
    ("tensorflow.math.truediv", "tensorflow.math.divide"),
    ("tensorflow.div_no_nan", "tensorflow.math.divide_no_nan"),
    ("tensorflow.norm", "tensorflow.linalg.norm"),
    ("tensorflow.random_uniform", "tensorflow.random.uniform"),
    ("tensorflow.nn.softmax_cross_entropy_with_logits_v2", "tensorflow.nn.softmax_cross_entropy_with_logits"),
    ("tensorflow.nn.l2_normalize", "tensorflow.math.l2_normalize"),
    ("tensorflow.math.is_nan", "tensorflow.math.is_nan"),
    ("tensorflow.is_nan", "tensorflow.math.is_nan"),
    // PyTorch
    ("torch.special.log", "torch.log"),
    ("torch.special.expit", "torch.sigmoid"),
    ("torch.nn.functional.sigmoid", "torch.sigmoid"),
    ("torch.special.softmax", "torch.softmax"),
    ("torch.nn.functional.softmax", "torch.softmax"),
    ("torch.special.log_softmax", "torch.log_softmax"),
    ("torch.nn.functional.log_softmax", "torch.log_softmax"),
    ("torch.special.xlogy", "torch.xlogy"),
    ("torch.special.log1p", "torch.log1p"),
    ("torch.special.expm1", "torch.expm1"),
    ("torch.special.logsumexp", "torch.logsumexp"),
    ("torch.special.exp2", "torch.exp2"),
    ("torch.nn.functional.relu", "torch.relu"),
    ("torch.nn.functional.tanh", "torch.tanh"),
    ("torch.clip", "torch.clamp"),
    ("torch.absolute", "torch.abs"),
    ("torch.divide", "torch.div"),
    ("torch.true_divide", "torch.div"),
    ("torch.special.entr", "torch.special.entr"),
    // JAX
    ("jax.lax.log", "jax.numpy.log"),
    ("jax.lax.exp", "jax.numpy.exp"),
    ("jax.lax.sqrt", "jax.numpy.sqrt"),
    ("jax.lax.max", "jax.numpy.maximum"),
    ("jax.lax.abs", "jax.numpy.abs"),
    ("jax.numpy.absolute", "jax.numpy.abs"),
    ("jax.lax.div", "jax.numpy.divide"),
    ("jax.numpy.true_divide", "jax.numpy.divide"),
    ("jax.scipy.special.expit", "jax.nn.sigmoid"),
    ("jax.nn.log_softmax", "jax.nn.log_softmax"),
    ("jax.scipy.special.logsumexp", "jax.nn.logsumexp"),
    // flax.linen.X and flax.nnx.X: every function the two modules re-export from jax.nn (see
    // PREFIXES), linen's `normalize = standardize`, and `tanh` from jax.numpy.
    ("flax.linen.celu", "jax.nn.celu"),
    ("flax.linen.elu", "jax.nn.elu"),
    ("flax.linen.gelu", "jax.nn.gelu"),
    ("flax.linen.glu", "jax.nn.glu"),
    ("flax.linen.hard_sigmoid", "jax.nn.hard_sigmoid"),
    ("flax.linen.hard_silu", "jax.nn.hard_silu"),
    ("flax.linen.hard_swish", "jax.nn.hard_swish"),
    ("flax.linen.hard_tanh", "jax.nn.hard_tanh"),
    ("flax.linen.leaky_relu", "jax.nn.leaky_relu"),
    ("flax.linen.log_sigmoid", "jax.nn.log_sigmoid"),
    ("flax.linen.log_softmax", "jax.nn.log_softmax"),
    ("flax.linen.logsumexp", "jax.nn.logsumexp"),
    ("flax.linen.one_hot", "jax.nn.one_hot"),
    ("flax.linen.relu", "jax.nn.relu"),
    ("flax.linen.relu6", "jax.nn.relu6"),
    ("flax.linen.selu", "jax.nn.selu"),
    ("flax.linen.sigmoid", "jax.nn.sigmoid"),
    ("flax.linen.silu", "jax.nn.silu"),
    ("flax.linen.soft_sign", "jax.nn.soft_sign"),
    ("flax.linen.softmax", "jax.nn.softmax"),
    ("flax.linen.softplus", "jax.nn.softplus"),
    ("flax.linen.standardize", "jax.nn.standardize"),
    ("flax.linen.swish", "jax.nn.swish"),
    ("flax.nnx.celu", "jax.nn.celu"),
    ("flax.nnx.elu", "jax.nn.elu"),
    ("flax.nnx.gelu", "jax.nn.gelu"),
    ("flax.nnx.glu", "jax.nn.glu"),
    ("flax.nnx.hard_sigmoid", "jax.nn.hard_sigmoid"),
    ("flax.nnx.hard_silu", "jax.nn.hard_silu"),
    ("flax.nnx.hard_swish", "jax.nn.hard_swish"),
    ("flax.nnx.hard_tanh", "jax.nn.hard_tanh"),
    ("flax.nnx.leaky_relu", "jax.nn.leaky_relu"),
    ("flax.nnx.log_sigmoid", "jax.nn.log_sigmoid"),
    ("flax.nnx.log_softmax", "jax.nn.log_softmax"),
    ("flax.nnx.logsumexp", "jax.nn.logsumexp"),
    ("flax.nnx.one_hot", "jax.nn.one_hot"),
    ("flax.nnx.relu", "jax.nn.relu"),
    ("flax.nnx.relu6", "jax.nn.relu6"),
    ("flax.nnx.selu", "jax.nn.selu"),
    ("flax.nnx.sigmoid", "jax.nn.sigmoid"),
    ("flax.nnx.silu", "jax.nn.silu"),
    ("flax.nnx.soft_sign", "jax.nn.soft_sign"),
    ("flax.nnx.softmax", "jax.nn.softmax"),
    ("flax.nnx.softplus", "jax.nn.softplus"),
    ("flax.nnx.standardize", "jax.nn.standardize"),
    ("flax.nnx.swish", "jax.nn.swish"),
    ("flax.nnx.identity", "jax.nn.identity"),
    ("flax.linen.normalize", "jax.nn.standardize"),
    ("flax.linen.tanh", "jax.numpy.tanh"),
    ("flax.nnx.tanh", "jax.numpy.tanh"),
    // NumPy
    ("numpy.absolute", "numpy.abs"),
    ("numpy.true_divide", "numpy.divide"),
    ("numpy.amax", "numpy.max"),
    ("numpy.amin", "numpy.min"),
    // Keras
    ("keras.activations.softmax", "keras.ops.softmax"),
    ("keras.activations.sigmoid", "keras.ops.sigmoid"),
    ("keras.activations.log_softmax", "keras.ops.log_softmax"),
    ("keras.activations.softplus", "keras.ops.softplus"),
    ("keras.activations.relu", "keras.ops.relu"),
    ("keras.ops.nn.softmax", "keras.ops.softmax"),
    ("keras.ops.nn.sigmoid", "keras.ops.sigmoid"),
    ("keras.ops.numpy.log", "keras.ops.log"),
    ("keras.ops.numpy.exp", "keras.ops.exp"),
    ("keras.backend.softmax", "keras.ops.softmax"),
    ("keras.backend.sigmoid", "keras.ops.sigmoid"),
    // SciPy
    ("scipy.special.expit", "scipy.special.expit"),
];

/// The canonical name of a resolved dotted path (`tf.compat.v1.log` → `tensorflow.math.log`).
pub fn canonical(path: &str) -> String {
    let mut name = path.to_string();
    // Each prefix rewrite shortens or moves the name toward a canonical module; a few rounds
    // reach a fixed point (`tensorflow.compat.v1.keras.` → `tensorflow.keras.` → `keras.`).
    for _ in 0..4 {
        let mut changed = false;
        for (from, to) in PREFIXES {
            if let Some(rest) = name.strip_prefix(from) {
                name = format!("{to}{rest}");
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    if let Some(leaf) = name.strip_prefix("tensorflow.")
        && TF_MATH_TOP_LEVEL.contains(&leaf)
    {
        name = format!("tensorflow.math.{leaf}");
    }
    match ALIASES.iter().find(|(from, _)| *from == name) {
        Some((_, to)) => (*to).to_string(),
        None => name,
    }
}

/// Every spelling in the alias tables that canonicalizes to `canonical` (not prefix variants).
pub fn aliases_of(canonical: &str) -> impl Iterator<Item = String> + '_ {
    let top_level = canonical
        .strip_prefix("tensorflow.math.")
        .filter(|leaf| TF_MATH_TOP_LEVEL.contains(leaf))
        .map(|leaf| format!("tensorflow.{leaf}"));
    ALIASES.iter().filter(move |(_, to)| *to == canonical).map(|(from, _)| from.to_string()).chain(top_level)
}

/// True when `name` is already in canonical form (what rule queries and tables must use).
pub fn is_canonical(name: &str) -> bool {
    canonical(name) == name
}

/// The last segment of a dotted name.
pub fn leaf(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// Libraries whose functions the model reasons about, by top-level module.
pub const LIBRARY_ROOTS: &[&str] =
    &["tensorflow", "keras", "tf_keras", "torch", "numpy", "jax", "scipy", "optax", "flax"];

/// The numeric library a canonical name belongs to; decides which functions a fix may call.
pub fn library_of(canonical: &str) -> Option<Library> {
    let lib = if canonical.starts_with("tensorflow.") {
        Library::TensorFlow
    } else if canonical.starts_with("keras.backend.") {
        Library::KerasBackend
    } else if canonical.starts_with("keras.") {
        Library::KerasOps
    } else if canonical.starts_with("torch.") {
        Library::Torch
    } else if canonical.starts_with("numpy.") || canonical.starts_with("scipy.") {
        Library::NumPy
    } else if canonical.starts_with("jax.") || canonical.starts_with("optax.") || canonical.starts_with("flax.") {
        Library::Jax
    } else {
        return None;
    };
    Some(lib)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_reach_one_name() {
        for spelling in [
            "tensorflow.log",
            "tensorflow.math.log",
            "tensorflow.compat.v1.log",
            "tensorflow.compat.v1.math.log",
            "tensorflow.compat.v2.math.log",
        ] {
            assert_eq!(canonical(spelling), "tensorflow.math.log", "{spelling}");
        }
        assert_eq!(canonical("tensorflow.reduce_sum"), "tensorflow.math.reduce_sum");
        assert_eq!(canonical("tensorflow.compat.v1.div_no_nan"), "tensorflow.math.divide_no_nan");
        assert_eq!(canonical("tensorflow.keras.backend.log"), "keras.backend.log");
        assert_eq!(canonical("tensorflow.compat.v1.keras.backend.log"), "keras.backend.log");
        assert_eq!(canonical("torch.nn.functional.softmax"), "torch.softmax");
        assert_eq!(canonical("numpy.log"), "numpy.log");
        assert!(!is_canonical("tensorflow.log"));
        assert!(is_canonical("torch.log"));
        let spellings: Vec<String> = aliases_of("tensorflow.math.log").collect();
        assert!(spellings.contains(&"tensorflow.log".to_string()), "{spellings:?}");
    }

    #[test]
    fn flax_activations_are_jax_nn() {
        assert_eq!(canonical("flax.linen.log_softmax"), "jax.nn.log_softmax");
        assert_eq!(canonical("flax.linen.activation.sigmoid"), "jax.nn.sigmoid");
        assert_eq!(canonical("flax.nnx.softmax"), "jax.nn.softmax");
        assert_eq!(canonical("flax.nnx.nn.activations.log_sigmoid"), "jax.nn.log_sigmoid");
        assert_eq!(canonical("flax.linen.relu"), "jax.nn.relu");
        assert_eq!(canonical("flax.linen.normalize"), "jax.nn.standardize");
        assert_eq!(canonical("flax.nnx.tanh"), "jax.numpy.tanh");
        // A layer keeps its name: only the functions re-exported from jax.nn move.
        assert_eq!(canonical("flax.linen.Dense"), "flax.linen.Dense");
        assert_eq!(canonical("flax.linen.activation.PReLU"), "flax.linen.PReLU");
    }

    #[test]
    fn every_alias_target_is_canonical() {
        for (_, to) in ALIASES {
            assert!(is_canonical(to), "{to}");
        }
    }

    #[test]
    fn libraries() {
        assert_eq!(library_of("tensorflow.math.log"), Some(Library::TensorFlow));
        assert_eq!(library_of("keras.backend.log"), Some(Library::KerasBackend));
        assert_eq!(library_of("keras.ops.log"), Some(Library::KerasOps));
        assert_eq!(library_of("jax.numpy.log"), Some(Library::Jax));
        assert_eq!(library_of("math.log"), None);
    }
}
