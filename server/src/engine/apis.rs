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

/// How a function names an argument: positional index and keyword names. For clips, the lower
/// bound; the upper bound follows it, or is passed as one of `upper_keywords`.
pub struct LowerBound {
    pub name: &'static str,
    pub position: usize,
    pub keywords: &'static [&'static str],
    pub upper_position: usize,
    pub upper_keywords: &'static [&'static str],
}

/// `upper_position` of a function without an upper bound.
pub const NONE: usize = usize::MAX;

/// Functions whose result is at least their lower-bound argument.
pub const CLIPS: &[LowerBound] = &[
    LowerBound {
        name: "tensorflow.clip_by_value",
        position: 1,
        keywords: &["clip_value_min"],
        upper_position: 2,
        upper_keywords: &["clip_value_max"],
    },
    LowerBound {
        name: "numpy.clip",
        position: 1,
        keywords: &["a_min", "min"],
        upper_position: 2,
        upper_keywords: &["a_max", "max"],
    },
    LowerBound {
        name: "jax.numpy.clip",
        position: 1,
        keywords: &["a_min", "min"],
        upper_position: 2,
        upper_keywords: &["a_max", "max"],
    },
    LowerBound { name: "torch.clamp", position: 1, keywords: &["min"], upper_position: 2, upper_keywords: &["max"] },
    LowerBound { name: "torch.clamp_min", position: 1, keywords: &["min"], upper_position: NONE, upper_keywords: &[] },
    LowerBound {
        name: "keras.ops.clip",
        position: 1,
        keywords: &["x_min"],
        upper_position: 2,
        upper_keywords: &["x_max"],
    },
    LowerBound {
        name: "keras.backend.clip",
        position: 1,
        keywords: &["min_value"],
        upper_position: 2,
        upper_keywords: &["max_value"],
    },
    LowerBound { name: "jax.lax.clamp", position: 0, keywords: &["min"], upper_position: 2, upper_keywords: &["max"] },
];

/// Method spellings of clipping (`p.clamp(min=1e-7)`, `a.clip(1e-7, 1)`), on any receiver.
pub const CLIP_METHODS: &[LowerBound] = &[
    LowerBound { name: "clamp", position: 0, keywords: &["min"], upper_position: 1, upper_keywords: &["max"] },
    LowerBound { name: "clamp_", position: 0, keywords: &["min"], upper_position: 1, upper_keywords: &["max"] },
    LowerBound {
        name: "clip",
        position: 0,
        keywords: &["min", "a_min"],
        upper_position: 1,
        upper_keywords: &["max", "a_max"],
    },
    LowerBound { name: "clip_", position: 0, keywords: &["min"], upper_position: 1, upper_keywords: &["max"] },
    LowerBound { name: "clamp_min", position: 0, keywords: &["min"], upper_position: NONE, upper_keywords: &[] },
    LowerBound { name: "clamp_min_", position: 0, keywords: &["min"], upper_position: NONE, upper_keywords: &[] },
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

/// Functions that make an array holding their value argument (at `position` or one of
/// `keywords`): `torch.tensor(10.0)` is as positive as `10.0`.
pub const CONSTRUCTORS: &[LowerBound] = &[
    LowerBound {
        name: "tensorflow.constant",
        position: 0,
        keywords: &["value"],
        upper_position: 1,
        upper_keywords: &[],
    },
    LowerBound {
        name: "tensorflow.convert_to_tensor",
        position: 0,
        keywords: &["value"],
        upper_position: 1,
        upper_keywords: &[],
    },
    LowerBound { name: "tensorflow.cast", position: 0, keywords: &["x"], upper_position: 1, upper_keywords: &[] },
    LowerBound { name: "tensorflow.fill", position: 1, keywords: &["value"], upper_position: 2, upper_keywords: &[] },
    LowerBound { name: "torch.tensor", position: 0, keywords: &["data"], upper_position: 1, upper_keywords: &[] },
    LowerBound { name: "torch.as_tensor", position: 0, keywords: &["data"], upper_position: 1, upper_keywords: &[] },
    LowerBound { name: "torch.full", position: 1, keywords: &["fill_value"], upper_position: 2, upper_keywords: &[] },
    LowerBound {
        name: "torch.full_like",
        position: 1,
        keywords: &["fill_value"],
        upper_position: 2,
        upper_keywords: &[],
    },
    LowerBound { name: "numpy.array", position: 0, keywords: &["object"], upper_position: 1, upper_keywords: &[] },
    LowerBound { name: "numpy.asarray", position: 0, keywords: &["a"], upper_position: 1, upper_keywords: &[] },
    LowerBound { name: "numpy.float32", position: 0, keywords: &[], upper_position: 1, upper_keywords: &[] },
    LowerBound { name: "numpy.float64", position: 0, keywords: &[], upper_position: 1, upper_keywords: &[] },
    LowerBound { name: "numpy.full", position: 1, keywords: &["fill_value"], upper_position: 2, upper_keywords: &[] },
    LowerBound {
        name: "numpy.full_like",
        position: 1,
        keywords: &["fill_value"],
        upper_position: 2,
        upper_keywords: &[],
    },
    LowerBound { name: "jax.numpy.array", position: 0, keywords: &["object"], upper_position: 1, upper_keywords: &[] },
    LowerBound { name: "jax.numpy.asarray", position: 0, keywords: &["a"], upper_position: 1, upper_keywords: &[] },
    LowerBound {
        name: "jax.numpy.full",
        position: 1,
        keywords: &["fill_value"],
        upper_position: 2,
        upper_keywords: &[],
    },
    LowerBound {
        name: "jax.numpy.full_like",
        position: 1,
        keywords: &["fill_value"],
        upper_position: 2,
        upper_keywords: &[],
    },
    LowerBound {
        name: "keras.ops.convert_to_tensor",
        position: 0,
        keywords: &["x"],
        upper_position: 1,
        upper_keywords: &[],
    },
    LowerBound { name: "keras.ops.cast", position: 0, keywords: &["x"], upper_position: 1, upper_keywords: &[] },
    LowerBound {
        name: "keras.ops.full",
        position: 1,
        keywords: &["fill_value"],
        upper_position: 2,
        upper_keywords: &[],
    },
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
        for c in CLIPS.iter().chain(CONSTRUCTORS) {
            assert!(is_canonical(c.name), "{}", c.name);
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
