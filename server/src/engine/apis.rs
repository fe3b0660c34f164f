//! What the engine knows about the numeric libraries: one canonical dotted name per function,
//! whatever alias or compatibility module the code used to reach it.
//!
//! Sources for the alias lists: the TensorFlow 2 API docs (`tf.math.log` is exported as `tf.log` in
//! TF1 and `tf.compat.v1.log`), Keras 3 (`keras.ops`, `keras.backend`), PyTorch's `torch.special`
//! and `torch.nn.functional` aliases, NumPy, `jax.numpy`/`jax.nn`/`jax.lax`, SciPy's `special`.

/// Module prefixes that are another spelling of a canonical module.
const PREFIXES: &[(&str, &str)] = &[
    ("tensorflow.compat.v1.", "tensorflow."),
    ("tensorflow.compat.v2.", "tensorflow."),
    ("tensorflow.keras.", "keras."),
    ("tf_keras.", "keras."),
    ("keras.api.", "keras."),
    ("keras.src.ops.", "keras.ops."),
];

/// Functions re-exported under other names; the right side is canonical.
const ALIASES: &[(&str, &str)] = &[
    ("tensorflow.log", "tensorflow.math.log"),
    ("tensorflow.log1p", "tensorflow.math.log1p"),
    ("tensorflow.exp", "tensorflow.math.exp"),
    ("tensorflow.sqrt", "tensorflow.math.sqrt"),
    ("tensorflow.maximum", "tensorflow.math.maximum"),
    ("tensorflow.minimum", "tensorflow.math.minimum"),
    ("tensorflow.sigmoid", "tensorflow.math.sigmoid"),
    ("tensorflow.nn.sigmoid", "tensorflow.math.sigmoid"),
    ("tensorflow.math.softmax", "tensorflow.nn.softmax"),
    ("tensorflow.xlogy", "tensorflow.math.xlogy"),
    ("tensorflow.where_v2", "tensorflow.where"),
    ("torch.special.log", "torch.log"),
    ("torch.special.expit", "torch.sigmoid"),
    ("torch.nn.functional.sigmoid", "torch.sigmoid"),
    ("torch.special.softmax", "torch.softmax"),
    ("torch.nn.functional.softmax", "torch.softmax"),
    ("torch.special.xlogy", "torch.xlogy"),
    ("torch.clip", "torch.clamp"),
    ("torch.special.exp2", "torch.exp2"),
    ("jax.lax.log", "jax.numpy.log"),
    ("jax.lax.exp", "jax.numpy.exp"),
    ("jax.lax.max", "jax.numpy.maximum"),
    ("jax.lax.clamp", "jax.lax.clamp"),
    ("jax.scipy.special.expit", "jax.nn.sigmoid"),
    ("jax.nn.softmax", "jax.nn.softmax"),
    ("keras.activations.softmax", "keras.ops.softmax"),
    ("keras.activations.sigmoid", "keras.ops.sigmoid"),
    ("keras.backend.softmax", "keras.ops.softmax"),
    ("keras.backend.sigmoid", "keras.ops.sigmoid"),
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
    match ALIASES.iter().find(|(from, _)| *from == name) {
        Some((_, to)) => (*to).to_string(),
        None => name,
    }
}

/// Every spelling in the alias table that canonicalizes to `canonical` (not prefix variants).
pub fn aliases_of(canonical: &str) -> impl Iterator<Item = &'static str> + '_ {
    ALIASES.iter().filter(move |(_, to)| *to == canonical).map(|(from, _)| *from)
}

/// True when `name` is already in canonical form (what rule queries must use).
pub fn is_canonical(name: &str) -> bool {
    canonical(name) == name
}

/// The last segment of a dotted name.
pub fn leaf(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// Libraries whose functions the engine reasons about, by top-level module.
pub const LIBRARY_ROOTS: &[&str] = &["tensorflow", "keras", "tf_keras", "torch", "numpy", "jax", "scipy"];

/// The numeric family a canonical name belongs to; decides which functions a fix may call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Library {
    TensorFlow,
    KerasOps,
    KerasBackend,
    Torch,
    NumPy,
    JaxNumpy,
}

pub fn library_of(canonical: &str) -> Option<Library> {
    let lib = if canonical.starts_with("tensorflow.") {
        Library::TensorFlow
    } else if canonical.starts_with("keras.ops.") {
        Library::KerasOps
    } else if canonical.starts_with("keras.backend.") {
        Library::KerasBackend
    } else if canonical.starts_with("torch.") {
        Library::Torch
    } else if canonical.starts_with("numpy.") {
        Library::NumPy
    } else if canonical.starts_with("jax.numpy.") {
        Library::JaxNumpy
    } else {
        return None;
    };
    Some(lib)
}

/// Softmax-like outputs: probabilities that reach exactly 0 (and 1) in float32.
pub const SOFTMAX: &[&str] =
    &["tensorflow.nn.softmax", "torch.softmax", "jax.nn.softmax", "keras.ops.softmax", "scipy.special.softmax"];

pub const SIGMOID: &[&str] =
    &["tensorflow.math.sigmoid", "torch.sigmoid", "jax.nn.sigmoid", "keras.ops.sigmoid", "scipy.special.expit"];

/// `exp(x)`: positive (it underflows only below about -87 in float32).
pub const EXP: &[&str] =
    &["tensorflow.math.exp", "torch.exp", "numpy.exp", "jax.numpy.exp", "keras.ops.exp", "keras.backend.exp"];

/// Arrays of ones.
pub const ONES: &[&str] = &[
    "tensorflow.ones",
    "tensorflow.ones_like",
    "torch.ones",
    "torch.ones_like",
    "numpy.ones",
    "numpy.ones_like",
    "jax.numpy.ones",
    "jax.numpy.ones_like",
    "keras.ops.ones",
    "keras.ops.ones_like",
];

/// Where a call passes one argument: at `position`, or by one of the `keywords`.
#[derive(Clone, Copy)]
pub struct Arg {
    pub position: usize,
    pub keywords: &'static [&'static str],
}

const fn arg(position: usize, keywords: &'static [&'static str]) -> Arg {
    Arg { position, keywords }
}

/// A clipping function or method: its result is at least its `lower` argument and, when it has
/// one, at most its `upper` argument.
pub struct Clip {
    pub name: &'static str,
    pub lower: Arg,
    pub upper: Option<Arg>,
}

const fn clip(name: &'static str, lower: Arg, upper: Option<Arg>) -> Clip {
    Clip { name, lower, upper }
}

/// Clipping functions, by canonical name.
pub const CLIPS: &[Clip] = &[
    clip("tensorflow.clip_by_value", arg(1, &["clip_value_min"]), Some(arg(2, &["clip_value_max"]))),
    clip("numpy.clip", arg(1, &["a_min", "min"]), Some(arg(2, &["a_max", "max"]))),
    clip("jax.numpy.clip", arg(1, &["a_min", "min"]), Some(arg(2, &["a_max", "max"]))),
    clip("torch.clamp", arg(1, &["min"]), Some(arg(2, &["max"]))),
    clip("torch.clamp_min", arg(1, &["min"]), None),
    clip("keras.ops.clip", arg(1, &["x_min"]), Some(arg(2, &["x_max"]))),
    clip("keras.backend.clip", arg(1, &["min_value"]), Some(arg(2, &["max_value"]))),
    clip("jax.lax.clamp", arg(0, &["min"]), Some(arg(2, &["max"]))),
];

/// Method spellings of clipping (`p.clamp(min=1e-7)`, `a.clip(1e-7, 1)`), on any receiver.
pub const CLIP_METHODS: &[Clip] = &[
    clip("clamp", arg(0, &["min"]), Some(arg(1, &["max"]))),
    clip("clamp_", arg(0, &["min"]), Some(arg(1, &["max"]))),
    clip("clip", arg(0, &["min", "a_min"]), Some(arg(1, &["max", "a_max"]))),
    clip("clip_", arg(0, &["min"]), Some(arg(1, &["max"]))),
    clip("clamp_min", arg(0, &["min"]), None),
    clip("clamp_min_", arg(0, &["min"]), None),
];

/// Element-wise maximum: positive when any argument is.
pub const MAXIMUMS: &[&str] = &[
    "tensorflow.math.maximum",
    "numpy.maximum",
    "numpy.fmax",
    "jax.numpy.maximum",
    "jax.numpy.fmax",
    "torch.maximum",
    "torch.fmax",
    "keras.ops.maximum",
    "keras.backend.maximum",
];

/// Functions that make an array holding their value argument: `torch.tensor(10.0)` is as
/// positive as `10.0`.
pub const CONSTRUCTORS: &[(&str, Arg)] = &[
    ("tensorflow.constant", arg(0, &["value"])),
    ("tensorflow.convert_to_tensor", arg(0, &["value"])),
    ("tensorflow.cast", arg(0, &["x"])),
    ("tensorflow.fill", arg(1, &["value"])),
    ("torch.tensor", arg(0, &["data"])),
    ("torch.as_tensor", arg(0, &["data"])),
    ("torch.full", arg(1, &["fill_value"])),
    ("torch.full_like", arg(1, &["fill_value"])),
    ("numpy.array", arg(0, &["object"])),
    ("numpy.asarray", arg(0, &["a"])),
    ("numpy.float32", arg(0, &[])),
    ("numpy.float64", arg(0, &[])),
    ("numpy.full", arg(1, &["fill_value"])),
    ("numpy.full_like", arg(1, &["fill_value"])),
    ("jax.numpy.array", arg(0, &["object"])),
    ("jax.numpy.asarray", arg(0, &["a"])),
    ("jax.numpy.full", arg(1, &["fill_value"])),
    ("jax.numpy.full_like", arg(1, &["fill_value"])),
    ("keras.ops.convert_to_tensor", arg(0, &["x"])),
    ("keras.ops.cast", arg(0, &["x"])),
    ("keras.ops.full", arg(1, &["fill_value"])),
];

/// `arange(start, stop, step)`: positive when `start` and `step` are.
pub const RANGES: &[&str] =
    &["torch.arange", "numpy.arange", "jax.numpy.arange", "tensorflow.range", "keras.ops.arange"];

/// `where(cond, a, b)` selectors.
pub const WHERES: &[&str] = &["tensorflow.where", "numpy.where", "jax.numpy.where", "torch.where", "keras.ops.where"];

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
        assert_eq!(canonical("tensorflow.keras.backend.log"), "keras.backend.log");
        assert_eq!(canonical("tensorflow.compat.v1.keras.backend.log"), "keras.backend.log");
        assert_eq!(canonical("torch.nn.functional.softmax"), "torch.softmax");
        assert_eq!(canonical("numpy.log"), "numpy.log");
        assert!(!is_canonical("tensorflow.log"));
        assert!(is_canonical("torch.log"));
    }

    #[test]
    fn every_listed_name_is_canonical() {
        let lists = [SOFTMAX, SIGMOID, EXP, ONES, MAXIMUMS, WHERES, RANGES];
        for name in lists.iter().flat_map(|l| l.iter()) {
            assert!(is_canonical(name), "{name}");
        }
        for name in CLIPS.iter().map(|c| c.name).chain(CONSTRUCTORS.iter().map(|(n, _)| *n)) {
            assert!(is_canonical(name), "{name}");
        }
    }

    #[test]
    fn libraries() {
        assert_eq!(library_of("tensorflow.math.log"), Some(Library::TensorFlow));
        assert_eq!(library_of("keras.backend.log"), Some(Library::KerasBackend));
        assert_eq!(library_of("jax.numpy.log"), Some(Library::JaxNumpy));
        assert_eq!(library_of("math.log"), None);
    }
}
