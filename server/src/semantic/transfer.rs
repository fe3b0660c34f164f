//! Transfer functions as data: for each library function (by canonical name) and each tensor
//! method (by name), how its result's interval, producer and kind follow from its arguments.
//! A function the table does not know yields an unknown value, which is always sound.
//!
//! Each row cites the API documentation its range comes from. Ranges are those of exact
//! arithmetic, except that softmax and sigmoid outputs reach 0 and 1 (they do in float32; see
//! `value.rs`).

use std::collections::HashMap;
use std::sync::OnceLock;

use super::value::{Bound, Interval, Op};

/// Where a call passes one argument: at `position` (`usize::MAX`: keyword only), or by one of
/// the `keywords`; [`RECEIVER`] for the object a method is called on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arg {
    pub position: usize,
    pub keywords: &'static [&'static str],
}

pub const fn arg(position: usize, keywords: &'static [&'static str]) -> Arg {
    Arg { position, keywords }
}

/// The object a method is called on (`x` in `x.clamp(min=0)`).
pub const RECEIVER: Arg = Arg { position: usize::MAX - 1, keywords: &[] };

const X: Arg = arg(0, &["x", "input", "a", "features", "logits", "tensor"]);

/// How a result follows from the arguments.
#[derive(Clone, Copy, Debug)]
pub enum Transfer {
    /// The result lies in a fixed interval, whatever the input (softmax: [0, 1]).
    Fixed(Interval, Op),
    /// An element-wise function of `input`'s interval (exp, sqrt, abs, square...).
    Map(fn(Interval) -> Interval, Op, Arg),
    /// The result has `input`'s elements (casts, reshapes, conversions, copies).
    Same(Arg),
    /// Some of `input`'s elements, picked by indices or a mask (`gather`, `take_along_dim`,
    /// `tf.gather`, `take`): their range and producer, as for a subscript `x[idx]`, but no
    /// property of the whole array (unit rows, orthonormal columns).
    Select(Arg),
    /// At least `lower` and at most `upper` (clip, clamp).
    Clip { input: Arg, lower: Option<Arg>, upper: Option<Arg> },
    /// The element-wise maximum of two arrays (either may be the floor).
    Maximum,
    /// A sum of `input`'s elements: positive when they are, and 0 when they all can be.
    Sum(Arg),
    /// A mean, maximum or minimum of `input`'s elements: within their interval.
    Within(Arg, Op),
    /// A count of non-zero elements, or a sum of a mask: an integer >= 0 that is 0 for an empty mask.
    Count,
    /// A norm, standard deviation or variance: >= 0, and 0 for constant or zero input.
    NonNegative(Op),
    /// `where(cond, a, b)`: one of the two branches.
    Where,
    /// A uniform draw in [low, high) with the given defaults; `float64`: NumPy's draws, doubles,
    /// which are exactly `low` with probability 2^-53 (float32 draws: 2^-23 or 2^-24, which a
    /// training run of millions of draws meets).
    Uniform { low: Arg, high: Arg, default: (f64, f64), float64: bool },
    /// `arange(start, stop, step)` / `arange(stop)`.
    Arange,
    /// Arrays filled with the value of `fill`.
    Fill(Arg),
    /// Arrays of a constant (ones: 1, zeros: 0).
    Filled(f64),
    /// A boolean or one-hot mask: {0, 1}.
    Mask,
    /// A Python builtin or library scalar function of one number (`float`, `math.sqrt`).
    Scalar(fn(Interval) -> Interval),
    /// `input` divided by its `order`-norm along `axis` (`default_axis` when not given; `None`:
    /// every axis): elements in [-1, 1], and unit vectors along the last axis where the norm is
    /// an L2 norm or smaller (order at most 2) taken along axis 1 or -1 (the feature axis of a
    /// batch of vectors, `[n, d]`) or along every axis.
    Normalize { input: Arg, order: Option<Arg>, axis: Arg, default_axis: Option<f64> },
    /// The diagonal of a matrix: of an invertible triangular factor ([`Op::Invertible`]), no
    /// element is 0; of anything else nothing is known (`np.diag` of a vector builds a matrix
    /// whose other elements are 0).
    Diagonal(Arg),
}

/// One row of the table: the functions it covers, spelled `module.leaf` for each module and
/// leaf, and the API documentation it comes from.
struct Row {
    modules: &'static [&'static str],
    leaves: &'static [&'static str],
    transfer: Transfer,
    #[allow(dead_code)]
    source: &'static str,
}

const TORCH: &str = "torch";
const TORCH_F: &str = "torch.nn.functional";
const NP: &str = "numpy";
const JNP: &str = "jax.numpy";
const JAX_NN: &str = "jax.nn";
const TF: &str = "tensorflow";
const TF_MATH: &str = "tensorflow.math";
const TF_NN: &str = "tensorflow.nn";
const KOPS: &str = "keras.ops";
const KB: &str = "keras.backend";
const SP: &str = "scipy.special";

const ELEMENTWISE: &[&str] = &[TORCH, NP, JNP, TF_MATH, KOPS, KB];

fn exp(x: Interval) -> Interval {
    x.exp()
}
fn sqrt(x: Interval) -> Interval {
    x.sqrt()
}
fn abs(x: Interval) -> Interval {
    x.abs()
}
fn square(x: Interval) -> Interval {
    x.square()
}
fn relu(x: Interval) -> Interval {
    x.clamp_below(Interval::point(0.0))
}
fn softplus(x: Interval) -> Interval {
    // log(1 + exp(x)) > 0 for every finite x.
    x.exp().plus(Interval::point(1.0)).log().meet(Interval::POSITIVE)
}
fn log(x: Interval) -> Interval {
    x.log()
}
fn cosh(x: Interval) -> Interval {
    // cosh(x) >= 1, = 1 only at 0.
    let a = x.abs();
    Interval::new(
        super::value::Bound { value: a.lo.value.cosh(), closed: a.lo.closed },
        super::value::Bound { value: a.hi.value.cosh(), closed: a.hi.closed },
    )
}
fn expm1(x: Interval) -> Interval {
    x.map_increasing(f64::exp_m1)
}
/// `sigmoid` in float32: 0 below about -88 (exp(88.7) is float32's largest finite value, and
/// the result is subnormal, then 0, below it), 1 above about 16.6 (1 - 2^-24 rounds to 1); in
/// between, the exact values. An unknown input reaches both ends.
fn sigmoid(x: Interval) -> Interval {
    let f = |v: f64| 1.0 / (1.0 + (-v).exp());
    let lo = if x.lo.value < -88.0 { Bound::closed(0.0) } else { Bound { value: f(x.lo.value), ..x.lo } };
    let hi = if x.hi.value > 16.6 { Bound::closed(1.0) } else { Bound { value: f(x.hi.value), ..x.hi } };
    Interval::new(lo, hi)
}
/// `tanh`, increasing, in float32: -1 below about -9.01 and 1 above (1 - 2^-24 rounds to 1 once
/// 2 exp(-2x) < 2^-24); in between, the exact values.
fn tanh(x: Interval) -> Interval {
    let lo = if x.lo.value < -9.0 { Bound::closed(-1.0) } else { Bound { value: x.lo.value.tanh(), ..x.lo } };
    let hi = if x.hi.value > 9.0 { Bound::closed(1.0) } else { Bound { value: x.hi.value.tanh(), ..x.hi } };
    Interval::new(lo, hi)
}
/// `sin`, `cos`, `erf`: within [-1, 1] whatever the argument.
fn unit_bounded(_: Interval) -> Interval {
    Interval::closed(-1.0, 1.0)
}
fn log1p(x: Interval) -> Interval {
    if x.lo.value > -1.0 { x.map_increasing(f64::ln_1p) } else { Interval::ANY }
}

const ROWS: &[Row] = &[
    // Probabilities.
    Row {
        modules: &[TORCH, TF_NN, JAX_NN, KOPS, SP],
        leaves: &["softmax"],
        transfer: Transfer::Fixed(Interval::UNIT, Op::Softmax),
        source: "torch.softmax, tf.nn.softmax, jax.nn.softmax, keras.ops.softmax, scipy.special.softmax: values in [0, 1] summing to 1",
    },
    Row {
        modules: &[TORCH, TF_MATH, JAX_NN, KOPS, SP],
        leaves: &["sigmoid", "expit"],
        transfer: Transfer::Map(sigmoid, Op::Sigmoid, X),
        source: "torch.sigmoid, tf.math.sigmoid, jax.nn.sigmoid, keras.ops.sigmoid, scipy.special.expit: 1 / (1 + exp(-x))",
    },
    Row {
        modules: &[TORCH, TF_NN, JAX_NN, KOPS, SP],
        leaves: &["log_softmax"],
        transfer: Transfer::Fixed(
            Interval { lo: super::value::Bound::open(f64::NEG_INFINITY), hi: super::value::Bound::closed(0.0) },
            Op::LogSoftmax,
        ),
        source: "torch.log_softmax, tf.nn.log_softmax, jax.nn.log_softmax: log-probabilities, <= 0",
    },
    Row {
        modules: &[TF_MATH, JAX_NN, KOPS, SP, TORCH_F],
        leaves: &["log_sigmoid", "log_expit", "logsigmoid"],
        transfer: Transfer::Fixed(
            Interval { lo: super::value::Bound::open(f64::NEG_INFINITY), hi: super::value::Bound::open(0.0) },
            Op::LogSigmoid,
        ),
        source: "tf.math.log_sigmoid, jax.nn.log_sigmoid, scipy.special.log_expit, torch.nn.functional.logsigmoid: < 0",
    },
    // Element-wise functions.
    Row {
        modules: ELEMENTWISE,
        leaves: &["exp"],
        transfer: Transfer::Map(exp, Op::Exp, X),
        source: "exp: (0, inf) in exact arithmetic",
    },
    Row {
        modules: &[TORCH, NP, JNP, TF_MATH, KOPS],
        leaves: &["exp2"],
        transfer: Transfer::Map(exp, Op::Exp, X),
        source: "exp2: (0, inf)",
    },
    Row {
        modules: ELEMENTWISE,
        leaves: &["sqrt"],
        transfer: Transfer::Map(sqrt, Op::Sqrt, X),
        source: "sqrt: [0, inf) on [0, inf)",
    },
    Row { modules: ELEMENTWISE, leaves: &["abs"], transfer: Transfer::Map(abs, Op::Abs, X), source: "abs: [0, inf)" },
    Row {
        modules: ELEMENTWISE,
        leaves: &["square"],
        transfer: Transfer::Map(square, Op::Square, X),
        source: "square: [0, inf)",
    },
    Row {
        modules: &[TORCH, TF_NN, JAX_NN, KOPS, KB],
        leaves: &["relu"],
        transfer: Transfer::Map(relu, Op::Relu, X),
        source: "relu: max(x, 0)",
    },
    Row {
        modules: &[TORCH_F, TF_MATH, JAX_NN, KOPS, KB],
        leaves: &["softplus"],
        transfer: Transfer::Map(softplus, Op::Softplus, X),
        source: "softplus: log(1 + exp(x)) > 0",
    },
    Row {
        modules: ELEMENTWISE,
        leaves: &["cosh"],
        transfer: Transfer::Map(cosh, Op::Constant, X),
        source: "cosh: >= 1",
    },
    Row {
        modules: &[TORCH, NP, JNP, TF_MATH, KOPS, KB, "keras.activations"],
        leaves: &["tanh"],
        transfer: Transfer::Map(tanh, Op::Bounded, X),
        source: "tanh: increasing, in (-1, 1), saturating to -1 and 1 in float32 (torch.tanh and its alias torch.nn.functional.tanh, numpy.tanh, tf.math.tanh and tf.nn.tanh, keras.ops.tanh, keras.activations.tanh)",
    },
    Row {
        modules: &[TORCH, NP, JNP, TF_MATH, KOPS, KB],
        leaves: &["sin", "cos"],
        transfer: Transfer::Map(unit_bounded, Op::Bounded, X),
        source: "sin, cos: within [-1, 1]",
    },
    Row {
        modules: &[TORCH, "torch.special", TF_MATH, KOPS, SP, "jax.scipy.special", "jax.lax"],
        leaves: &["erf"],
        transfer: Transfer::Map(unit_bounded, Op::Bounded, X),
        source: "erf: within [-1, 1] (torch.erf, torch.special.erf, tf.math.erf, keras.ops.erf, scipy.special.erf, jax.scipy.special.erf, jax.lax.erf)",
    },
    Row {
        modules: ELEMENTWISE,
        leaves: &["expm1"],
        transfer: Transfer::Map(expm1, Op::Exp, X),
        source: "expm1: exp(x) - 1, increasing",
    },
    Row {
        modules: &[TORCH, NP, JNP, TF_MATH, KOPS, KB],
        leaves: &["log", "log2", "log10"],
        transfer: Transfer::Map(log, Op::Log, X),
        source: "log: increasing on [0, inf), log(0) = -inf",
    },
    Row {
        modules: ELEMENTWISE,
        leaves: &["log1p"],
        transfer: Transfer::Map(log1p, Op::Log, X),
        source: "log1p: log(1 + x), increasing on (-1, inf)",
    },
    // Conversions, reshapes and copies keep the elements.
    Row {
        modules: &[TORCH],
        leaves: &[
            "tensor",
            "as_tensor",
            "from_numpy",
            "squeeze",
            "unsqueeze",
            "reshape",
            "flatten",
            "stack",
            "cat",
            "concat",
            "broadcast_to",
            "detach",
        ],
        transfer: Transfer::Same(arg(0, &["data", "input", "tensors", "ndarray"])),
        source: "torch.tensor / reshapes: same elements",
    },
    Row {
        modules: &[NP, JNP],
        leaves: &[
            "array",
            "asarray",
            "float32",
            "float64",
            "float16",
            "squeeze",
            "expand_dims",
            "reshape",
            "ravel",
            "stack",
            "concatenate",
            "broadcast_to",
            "atleast_1d",
            "atleast_2d",
        ],
        transfer: Transfer::Same(arg(0, &["object", "a", "arrays"])),
        source: "numpy.array / reshapes: same elements",
    },
    Row {
        modules: &[TF, KOPS, KB],
        leaves: &[
            "constant",
            "convert_to_tensor",
            "cast",
            "reshape",
            "squeeze",
            "expand_dims",
            "stop_gradient",
            "identity",
            "stack",
            "concat",
            "broadcast_to",
        ],
        transfer: Transfer::Same(arg(0, &["value", "x", "values", "tensor", "input"])),
        source: "tf.constant / tf.cast / reshapes: same elements",
    },
    Row {
        modules: &["jax.lax"],
        leaves: &["stop_gradient"],
        transfer: Transfer::Same(arg(0, &["x"])),
        source: "jax.lax.stop_gradient: identity in the forward pass",
    },
    // Selections: the elements picked keep their values.
    Row {
        modules: &[TORCH],
        leaves: &["gather", "take_along_dim", "index_select", "masked_select", "take"],
        transfer: Transfer::Select(arg(0, &["input"])),
        source: "torch.gather / torch.take_along_dim / torch.index_select / torch.masked_select / torch.take: elements of input",
    },
    Row {
        modules: &[TF, "tensorflow.experimental.numpy"],
        leaves: &["gather", "gather_nd", "boolean_mask", "take_along_axis"],
        transfer: Transfer::Select(arg(0, &["params", "tensor", "arr", "a"])),
        source: "tf.gather / tf.gather_nd / tf.boolean_mask: elements of params (tensor)",
    },
    Row {
        modules: &[NP, JNP, KOPS],
        leaves: &["take", "take_along_axis"],
        transfer: Transfer::Select(arg(0, &["a", "arr", "x"])),
        source: "numpy.take / numpy.take_along_axis, keras.ops.take / take_along_axis: elements of a (arr)",
    },
    // Clips.
    Row {
        modules: &[TF],
        leaves: &["clip_by_value"],
        transfer: Transfer::Clip {
            input: arg(0, &["t"]),
            lower: Some(arg(1, &["clip_value_min"])),
            upper: Some(arg(2, &["clip_value_max"])),
        },
        source: "tf.clip_by_value(t, clip_value_min, clip_value_max)",
    },
    Row {
        modules: &[NP, JNP],
        leaves: &["clip"],
        transfer: Transfer::Clip {
            input: arg(0, &["a", "x", "arr"]),
            lower: Some(arg(1, &["a_min", "min"])),
            upper: Some(arg(2, &["a_max", "max"])),
        },
        source: "numpy.clip(a, a_min, a_max), jax.numpy.clip(arr, min, max)",
    },
    Row {
        modules: &[TORCH],
        leaves: &["clamp"],
        transfer: Transfer::Clip {
            input: arg(0, &["input"]),
            lower: Some(arg(1, &["min"])),
            upper: Some(arg(2, &["max"])),
        },
        source: "torch.clamp(input, min=None, max=None)",
    },
    Row {
        modules: &[TORCH],
        leaves: &["clamp_min"],
        transfer: Transfer::Clip { input: arg(0, &["input"]), lower: Some(arg(1, &["min"])), upper: None },
        source: "torch.clamp_min(input, min)",
    },
    Row {
        modules: &[KOPS],
        leaves: &["clip"],
        transfer: Transfer::Clip {
            input: arg(0, &["x"]),
            lower: Some(arg(1, &["x_min"])),
            upper: Some(arg(2, &["x_max"])),
        },
        source: "keras.ops.clip(x, x_min, x_max)",
    },
    Row {
        modules: &[KB],
        leaves: &["clip"],
        transfer: Transfer::Clip {
            input: arg(0, &["x"]),
            lower: Some(arg(1, &["min_value"])),
            upper: Some(arg(2, &["max_value"])),
        },
        source: "keras.backend.clip(x, min_value, max_value)",
    },
    Row {
        modules: &["jax.lax"],
        leaves: &["clamp"],
        transfer: Transfer::Clip {
            input: arg(1, &["x"]),
            lower: Some(arg(0, &["min"])),
            upper: Some(arg(2, &["max"])),
        },
        source: "jax.lax.clamp(min, x, max)",
    },
    Row {
        modules: &[TF_MATH, NP, JNP, TORCH, KOPS, KB],
        leaves: &["maximum", "fmax"],
        transfer: Transfer::Maximum,
        source: "maximum(a, b): element-wise larger",
    },
    // Reductions.
    Row {
        modules: &[TORCH, NP, JNP, KOPS, KB],
        leaves: &["sum", "nansum"],
        transfer: Transfer::Sum(arg(0, &["input", "a", "x"])),
        source: "sum",
    },
    Row {
        modules: &[TF_MATH],
        leaves: &["reduce_sum"],
        transfer: Transfer::Sum(arg(0, &["input_tensor"])),
        source: "tf.math.reduce_sum",
    },
    Row {
        modules: &[TORCH, NP, JNP, KOPS, KB],
        leaves: &["mean", "nanmean", "average"],
        transfer: Transfer::Within(arg(0, &["input", "a", "x"]), Op::Mean),
        source: "mean: within the elements' range",
    },
    Row {
        modules: &[TF_MATH],
        leaves: &["reduce_mean", "reduce_max", "reduce_min"],
        transfer: Transfer::Within(arg(0, &["input_tensor"]), Op::Mean),
        source: "tf.math.reduce_mean/max/min",
    },
    Row {
        modules: &[NP, JNP, KOPS, KB],
        leaves: &["max", "min"],
        transfer: Transfer::Within(arg(0, &["a", "x"]), Op::Mean),
        source: "max/min reductions",
    },
    Row {
        modules: &[TORCH, NP, JNP, TF_MATH, KOPS],
        leaves: &["count_nonzero"],
        transfer: Transfer::Count,
        source: "count_nonzero: an integer in [0, n]",
    },
    Row {
        modules: &[TORCH, NP, JNP, TF_MATH],
        leaves: &["bincount"],
        transfer: Transfer::Count,
        source: "bincount: each value's number of occurrences, 0 for one that never occurs",
    },
    Row {
        modules: &["torch.linalg", "numpy.linalg", "jax.numpy.linalg", "tensorflow.linalg", KOPS, TORCH],
        leaves: &["norm", "vector_norm", "matrix_norm"],
        transfer: Transfer::NonNegative(Op::Norm),
        source: "norms: >= 0, = 0 for a zero vector",
    },
    Row {
        modules: &[TORCH, NP, JNP, KOPS, KB],
        leaves: &["std", "nanstd"],
        transfer: Transfer::NonNegative(Op::Std),
        source: "std: >= 0, = 0 for constant input",
    },
    Row {
        modules: &[TORCH, NP, JNP, KOPS, KB],
        leaves: &["var", "nanvar"],
        transfer: Transfer::NonNegative(Op::Var),
        source: "var: >= 0, = 0 for constant input",
    },
    Row {
        modules: &[TF_MATH],
        leaves: &["reduce_std"],
        transfer: Transfer::NonNegative(Op::Std),
        source: "tf.math.reduce_std",
    },
    Row {
        modules: &[TF_MATH],
        leaves: &["reduce_variance"],
        transfer: Transfer::NonNegative(Op::Var),
        source: "tf.math.reduce_variance",
    },
    // Selection.
    Row {
        modules: &[TF, NP, JNP, TORCH, KOPS],
        leaves: &["where"],
        transfer: Transfer::Where,
        source: "where(condition, x, y)",
    },
    // Random draws.
    Row {
        modules: &[TORCH],
        leaves: &["rand", "rand_like"],
        transfer: Transfer::Uniform {
            low: arg(usize::MAX, &[]),
            high: arg(usize::MAX, &[]),
            default: (0.0, 1.0),
            float64: false,
        },
        source: "torch.rand: uniform on [0, 1)",
    },
    Row {
        modules: &["numpy.random"],
        leaves: &["rand", "random", "random_sample", "sample", "ranf"],
        transfer: Transfer::Uniform {
            low: arg(usize::MAX, &[]),
            high: arg(usize::MAX, &[]),
            default: (0.0, 1.0),
            float64: true,
        },
        source: "numpy.random.rand / random: uniform on [0, 1)",
    },
    Row {
        modules: &["numpy.random"],
        leaves: &["uniform"],
        transfer: Transfer::Uniform {
            low: arg(0, &["low"]),
            high: arg(1, &["high"]),
            default: (0.0, 1.0),
            float64: true,
        },
        source: "numpy.random.uniform(low=0.0, high=1.0): [low, high)",
    },
    Row {
        modules: &["tensorflow.random", "keras.random"],
        leaves: &["uniform"],
        transfer: Transfer::Uniform {
            low: arg(1, &["minval"]),
            high: arg(2, &["maxval"]),
            default: (0.0, 1.0),
            float64: false,
        },
        source: "tf.random.uniform(shape, minval=0, maxval=None): [minval, maxval), [0, 1) by default",
    },
    Row {
        modules: &["jax.random"],
        leaves: &["uniform"],
        transfer: Transfer::Uniform {
            low: arg(3, &["minval"]),
            high: arg(4, &["maxval"]),
            default: (0.0, 1.0),
            float64: false,
        },
        source: "jax.random.uniform(key, shape=(), dtype, minval=0.0, maxval=1.0): [minval, maxval)",
    },
    Row {
        modules: &[TORCH, NP, JNP, TF, KOPS],
        leaves: &["arange", "range"],
        transfer: Transfer::Arange,
        source: "arange(start=0, stop, step=1)",
    },
    // Constructors of filled arrays.
    Row {
        modules: &[TORCH, NP, JNP, KOPS],
        leaves: &["full", "full_like"],
        transfer: Transfer::Fill(arg(1, &["fill_value"])),
        source: "full(shape, fill_value)",
    },
    Row {
        modules: &[TF],
        leaves: &["fill"],
        transfer: Transfer::Fill(arg(1, &["value"])),
        source: "tf.fill(dims, value)",
    },
    Row {
        modules: &[TORCH, NP, JNP, TF, KOPS, KB],
        leaves: &["ones", "ones_like"],
        transfer: Transfer::Filled(1.0),
        source: "ones",
    },
    Row {
        modules: &[TORCH, NP, JNP, TF, KOPS, KB],
        leaves: &["zeros", "zeros_like"],
        transfer: Transfer::Filled(0.0),
        source: "zeros",
    },
    Row {
        modules: &[TORCH_F, TF, JAX_NN, KOPS],
        leaves: &["one_hot"],
        transfer: Transfer::Mask,
        source: "one_hot: {0, 1}",
    },
    Row {
        modules: &[TORCH, NP, JNP, TF_MATH, KOPS],
        leaves: &[
            "isnan",
            "isinf",
            "isfinite",
            "greater",
            "less",
            "equal",
            "not_equal",
            "logical_and",
            "logical_or",
            "logical_not",
            "is_nan",
            "is_finite",
        ],
        transfer: Transfer::Mask,
        source: "comparisons: booleans",
    },
    // Normalized vectors.
    Row {
        modules: &[TORCH_F],
        leaves: &["normalize"],
        transfer: Transfer::Normalize {
            input: arg(0, &["input"]),
            order: Some(arg(1, &["p"])),
            axis: arg(2, &["dim"]),
            default_axis: Some(1.0),
        },
        source: "torch.nn.functional.normalize(input, p=2.0, dim=1, eps=1e-12): v / max(||v||_p, eps) along dim",
    },
    Row {
        modules: &[TF_MATH, "tensorflow.linalg"],
        leaves: &["l2_normalize"],
        transfer: Transfer::Normalize {
            input: arg(0, &["x"]),
            order: None,
            axis: arg(1, &["axis", "dim"]),
            default_axis: None,
        },
        source: "tf.math.l2_normalize(x, axis=None, epsilon=1e-12): x / sqrt(max(sum(x ** 2, axis), epsilon)); aliases tf.nn.l2_normalize, tf.linalg.l2_normalize",
    },
    Row {
        modules: &[KOPS],
        leaves: &["normalize"],
        transfer: Transfer::Normalize {
            input: arg(0, &["x"]),
            order: Some(arg(2, &["order"])),
            axis: arg(1, &["axis"]),
            default_axis: Some(-1.0),
        },
        source: "keras.ops.normalize(x, axis=-1, order=2, epsilon=None): x / its order-norm along axis",
    },
    // Diagonals.
    Row {
        modules: &[NP, JNP, TORCH],
        leaves: &["diag", "diagonal"],
        transfer: Transfer::Diagonal(arg(0, &["v", "a", "input"])),
        source: "numpy.diag(v, k=0), numpy.diagonal(a), torch.diag(input), torch.diagonal(input): the diagonal of a matrix",
    },
    Row {
        modules: &["tensorflow.linalg"],
        leaves: &["diag_part"],
        transfer: Transfer::Diagonal(arg(0, &["input"])),
        source: "tf.linalg.diag_part(input, k=0): the diagonal of a matrix",
    },
    // Scalars.
    Row { modules: &["math", NP, JNP], leaves: &["sqrt"], transfer: Transfer::Scalar(sqrt), source: "math.sqrt" },
    Row { modules: &["math"], leaves: &["exp"], transfer: Transfer::Scalar(exp), source: "math.exp" },
    Row { modules: &["math"], leaves: &["fabs"], transfer: Transfer::Scalar(abs), source: "math.fabs" },
    Row {
        modules: &[KB, "keras.config"],
        leaves: &["epsilon"],
        transfer: Transfer::Fixed(
            Interval { lo: super::value::Bound::open(0.0), hi: super::value::Bound::closed(1.0) },
            Op::Constant,
        ),
        source: "keras.backend.epsilon(): the fuzz factor, 1e-7 by default",
    },
    // Range family (issue 9)
    Row {
        modules: &[TORCH_F, "keras.losses", "keras.metrics", "optax"],
        leaves: &["mse_loss", "mean_squared_error", "squared_error", "l2_loss"],
        transfer: Transfer::NonNegative(Op::SumOfSquares),
        source: "torch.nn.functional.mse_loss, keras.losses.mean_squared_error, optax.squared_error / l2_loss: means (or halves) of squared differences, 0 where prediction equals target",
    },
    Row {
        modules: &[TF_MATH],
        leaves: &["squared_difference"],
        transfer: Transfer::NonNegative(Op::Square),
        source: "tf.math.squared_difference(x, y): (x - y) ** 2",
    },
    Row {
        modules: &[TF_MATH],
        leaves: &["reduce_euclidean_norm"],
        transfer: Transfer::NonNegative(Op::Norm),
        source: "tf.math.reduce_euclidean_norm: sqrt(sum(x ** 2)), 0 for a zero vector",
    },
    Row {
        modules: &[TORCH],
        leaves: &["dist", "cdist"],
        transfer: Transfer::NonNegative(Op::Norm),
        source: "torch.dist(input, other, p), torch.cdist(x1, x2, p): p-norm distances, 0 between equal points",
    },
];

/// Method names with a transfer on their receiver (PyTorch `Tensor`, NumPy `ndarray`, JAX
/// arrays). They apply only where the receiver is known or plausibly an array.
const METHODS: &[(&[&str], Transfer)] = &[
    (&["exp", "exp_"], Transfer::Map(exp, Op::Exp, RECEIVER)),
    (&["sqrt", "sqrt_"], Transfer::Map(sqrt, Op::Sqrt, RECEIVER)),
    (&["abs", "abs_", "absolute"], Transfer::Map(abs, Op::Abs, RECEIVER)),
    (&["square", "square_"], Transfer::Map(square, Op::Square, RECEIVER)),
    (&["relu", "relu_"], Transfer::Map(relu, Op::Relu, RECEIVER)),
    (&["cosh"], Transfer::Map(cosh, Op::Constant, RECEIVER)),
    (&["expm1"], Transfer::Map(expm1, Op::Exp, RECEIVER)),
    (&["tanh", "tanh_"], Transfer::Map(tanh, Op::Bounded, RECEIVER)),
    (&["sin", "sin_", "cos", "cos_", "erf", "erf_"], Transfer::Map(unit_bounded, Op::Bounded, RECEIVER)),
    (&["log1p"], Transfer::Map(log1p, Op::Log, RECEIVER)),
    (&["softmax"], Transfer::Fixed(Interval::UNIT, Op::Softmax)),
    (&["sigmoid", "sigmoid_"], Transfer::Map(sigmoid, Op::Sigmoid, RECEIVER)),
    (
        &["log_softmax"],
        Transfer::Fixed(
            Interval { lo: super::value::Bound::open(f64::NEG_INFINITY), hi: super::value::Bound::closed(0.0) },
            Op::LogSoftmax,
        ),
    ),
    (
        &["clamp", "clamp_", "clip", "clip_"],
        Transfer::Clip {
            input: RECEIVER,
            lower: Some(arg(0, &["min", "a_min"])),
            upper: Some(arg(1, &["max", "a_max"])),
        },
    ),
    (&["clamp_min", "clamp_min_"], Transfer::Clip { input: RECEIVER, lower: Some(arg(0, &["min"])), upper: None }),
    (&["sum", "nansum"], Transfer::Sum(RECEIVER)),
    (&["mean", "max", "min", "amax", "amin", "nanmean"], Transfer::Within(RECEIVER, Op::Mean)),
    (&["count_nonzero", "bincount"], Transfer::Count),
    (&["norm"], Transfer::NonNegative(Op::Norm)),
    (&["std"], Transfer::NonNegative(Op::Std)),
    (&["var"], Transfer::NonNegative(Op::Var)),
    (
        &[
            "float",
            "double",
            "half",
            "bfloat16",
            "to",
            "type",
            "type_as",
            "astype",
            "cpu",
            "cuda",
            "detach",
            "clone",
            "contiguous",
            "expand",
            "expand_as",
            "reshape",
            "view",
            "view_as",
            "repeat",
            "unsqueeze",
            "squeeze",
            "flatten",
            "transpose",
            "permute",
            "broadcast_to",
            "numpy",
            "copy",
            "item",
            "tolist",
            "t",
            "ravel",
            "reshape_as",
            "squeeze_",
            "unsqueeze_",
            "requires_grad_",
            "data",
        ],
        Transfer::Same(RECEIVER),
    ),
    (
        &["uniform_"],
        Transfer::Uniform {
            low: arg(0, &["a", "from"]),
            high: arg(1, &["b", "to"]),
            default: (0.0, 1.0),
            float64: false,
        },
    ),
    (&["gather", "take_along_dim", "index_select", "masked_select", "take"], Transfer::Select(RECEIVER)),
    (&["bool", "eq", "ne", "gt", "lt", "ge", "le", "isnan", "isinf", "isfinite", "logical_not"], Transfer::Mask),
    (&["zero_"], Transfer::Filled(0.0)),
    (&["diagonal", "diag"], Transfer::Diagonal(RECEIVER)),
];

/// The transfer of a library function, by canonical name.
pub fn of_api(canonical: &str) -> Option<Transfer> {
    static TABLE: OnceLock<HashMap<String, Transfer>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            let mut table = HashMap::new();
            for row in ROWS {
                for module in row.modules {
                    for leaf in row.leaves {
                        table.entry(format!("{module}.{leaf}")).or_insert(row.transfer);
                    }
                }
            }
            table
        })
        .get(canonical)
        .copied()
}

/// The transfer of a tensor method, by name.
pub fn of_method(name: &str) -> Option<Transfer> {
    METHODS.iter().find(|(names, _)| names.contains(&name)).map(|(_, t)| *t)
}

/// Every canonical name the table covers (for the test that they are canonical).
pub fn api_names() -> Vec<String> {
    ROWS.iter()
        .flat_map(|row| row.modules.iter().flat_map(move |m| row.leaves.iter().map(move |l| format!("{m}.{l}"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantic::apis;

    #[test]
    fn table_names_are_canonical_or_unreachable_aliases() {
        // A name that canonicalizes elsewhere is dead: calls arrive canonicalized.
        let dead: Vec<String> = api_names().into_iter().filter(|n| !apis::is_canonical(n)).collect();
        let allowed = ["tensorflow.exp"];
        let dead: Vec<&String> = dead.iter().filter(|n| !allowed.contains(&n.as_str())).collect();
        assert!(dead.is_empty(), "not canonical (use the canonical spelling): {dead:?}");
    }

    #[test]
    fn lookups() {
        assert!(matches!(of_api("torch.softmax"), Some(Transfer::Fixed(_, Op::Softmax))));
        assert!(matches!(of_api("tensorflow.math.reduce_sum"), Some(Transfer::Sum(_))));
        assert!(matches!(of_method("clamp"), Some(Transfer::Clip { .. })));
        assert!(of_api("torch.nn.Linear").is_none());
    }
}
