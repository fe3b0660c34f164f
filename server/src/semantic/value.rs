//! The abstract value of an expression: the interval its elements lie in, where it comes from
//! (training-time data or configuration), what kind of thing it is, its dtype when the code says
//! it, and the operation that produced it (softmax, a count of a mask, a norm...), so that a
//! message can say *why* a value can be 0 and a fix can rebuild the producing call.
//!
//! Intervals follow exact arithmetic, with one deliberate exception: outputs that reach a bound
//! only through float32 rounding are given that bound. `softmax` and `sigmoid` are in (0, 1)
//! mathematically but return exactly 0 (and 1) in float32 once logits differ by more than ~104,
//! so they are [0, 1] here. `exp` is (0, inf] (its float32 underflow below ~-103 is not modelled:
//! code that logs an `exp` is treated as guarded); a softmax written out, `exp(a) / sum(exp(b))`,
//! is [0, 1] like the library's, unless its exponents are bounded within [`SOFTMAX_SPREAD`].

use tree_sitter::Node;

use crate::syntax::Span;

/// One end of an interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bound {
    pub value: f64,
    /// The end itself belongs to the interval.
    pub closed: bool,
}

impl Bound {
    pub const fn closed(value: f64) -> Bound {
        Bound { value, closed: true }
    }
    pub const fn open(value: f64) -> Bound {
        Bound { value, closed: false }
    }
}

/// The set of values an expression's elements may take, `lo..hi` with open or closed ends.
/// Infinite ends are open. The empty interval does not occur: operations that would produce it
/// give the unbounded interval instead (an unknown value is always a sound answer).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub lo: Bound,
    pub hi: Bound,
}

impl Interval {
    pub const ANY: Interval = Interval { lo: Bound::open(f64::NEG_INFINITY), hi: Bound::open(f64::INFINITY) };
    /// [0, 1]: probabilities as float32 computes them.
    pub const UNIT: Interval = Interval { lo: Bound::closed(0.0), hi: Bound::closed(1.0) };
    /// [0, inf)
    pub const NON_NEGATIVE: Interval = Interval { lo: Bound::closed(0.0), hi: Bound::open(f64::INFINITY) };
    /// (0, inf)
    pub const POSITIVE: Interval = Interval { lo: Bound::open(0.0), hi: Bound::open(f64::INFINITY) };

    pub fn new(lo: Bound, hi: Bound) -> Interval {
        let fix = |b: Bound| if b.value.is_infinite() { Bound::open(b.value) } else { b };
        let (lo, hi) = (fix(lo), fix(hi));
        if lo.value.is_nan()
            || hi.value.is_nan()
            || lo.value > hi.value
            || (lo.value == hi.value && !(lo.closed && hi.closed))
        {
            return Interval::ANY;
        }
        Interval { lo, hi }
    }

    pub fn point(v: f64) -> Interval {
        if v.is_finite() { Interval { lo: Bound::closed(v), hi: Bound::closed(v) } } else { Interval::ANY }
    }

    /// [lo, hi]
    pub fn closed(lo: f64, hi: f64) -> Interval {
        Interval::new(Bound::closed(lo), Bound::closed(hi))
    }

    /// [lo, inf)
    pub fn at_least(lo: f64) -> Interval {
        Interval::new(Bound::closed(lo), Bound::open(f64::INFINITY))
    }

    /// (lo, inf)
    pub fn above(lo: f64) -> Interval {
        Interval::new(Bound::open(lo), Bound::open(f64::INFINITY))
    }

    pub fn is_any(&self) -> bool {
        self.lo.value == f64::NEG_INFINITY && self.hi.value == f64::INFINITY
    }

    pub fn contains(&self, v: f64) -> bool {
        let above = self.lo.value < v || (self.lo.value == v && self.lo.closed);
        let below = v < self.hi.value || (v == self.hi.value && self.hi.closed);
        above && below
    }

    pub fn contains_zero(&self) -> bool {
        self.contains(0.0)
    }

    /// Every element is > 0.
    pub fn is_positive(&self) -> bool {
        self.lo.value > 0.0 || (self.lo.value == 0.0 && !self.lo.closed)
    }

    /// Every element is >= 0.
    pub fn is_non_negative(&self) -> bool {
        self.lo.value >= 0.0
    }

    /// The constant this interval pins, if it is a single point.
    pub fn as_point(&self) -> Option<f64> {
        (self.lo.value == self.hi.value && self.lo.closed && self.hi.closed).then_some(self.lo.value)
    }

    /// The smallest interval holding both (the join at a merge of branches).
    pub fn hull(self, other: Interval) -> Interval {
        let lo = min_lo(self.lo, other.lo);
        let hi = max_hi(self.hi, other.hi);
        Interval { lo, hi }
    }

    /// Both constraints at once (a refinement by a condition). Disjoint constraints mean the
    /// code is unreachable under our reading; keep the first.
    pub fn meet(self, other: Interval) -> Interval {
        let lo = max_lo(self.lo, other.lo);
        let hi = min_hi(self.hi, other.hi);
        let met = Interval::new(lo, hi);
        if met.is_any() && !(self.is_any() && other.is_any()) { self } else { met }
    }

    pub fn negated(self) -> Interval {
        Interval::new(
            Bound { value: -self.hi.value, closed: self.hi.closed },
            Bound { value: -self.lo.value, closed: self.lo.closed },
        )
    }

    pub fn plus(self, other: Interval) -> Interval {
        Interval::new(
            Bound { value: self.lo.value + other.lo.value, closed: self.lo.closed && other.lo.closed },
            Bound { value: self.hi.value + other.hi.value, closed: self.hi.closed && other.hi.closed },
        )
    }

    pub fn minus(self, other: Interval) -> Interval {
        self.plus(other.negated())
    }

    pub fn times(self, other: Interval) -> Interval {
        // inf * 0 is undefined at the ends themselves; between them, two non-negative factors
        // give any product in [0, inf) (`x / sum(x)` of a positive `x`: (0, inf)); of other
        // factors an unbounded one with one that may be 0 gives ANY.
        let ends = [(self.lo, other.lo), (self.lo, other.hi), (self.hi, other.lo), (self.hi, other.hi)];
        let mut lo = Bound::open(f64::INFINITY);
        let mut hi = Bound::open(f64::NEG_INFINITY);
        let non_negative = self.is_non_negative() && other.is_non_negative();
        for (a, b) in ends {
            let v = a.value * b.value;
            if v.is_nan() {
                if !non_negative {
                    return Interval::ANY;
                }
                // The zero end is reached only where it is closed; infinity never is.
                let zero = if a.value == 0.0 { a } else { b };
                lo = min_lo(lo, Bound { value: 0.0, closed: zero.closed });
                hi = max_hi(hi, Bound::open(f64::INFINITY));
                continue;
            }
            let p = Bound {
                value: v,
                closed: a.closed && b.closed || v == 0.0 && (a.value == 0.0 && a.closed || b.value == 0.0 && b.closed),
            };
            lo = min_lo(lo, p);
            hi = max_hi(hi, p);
        }
        Interval::new(lo, hi)
    }

    /// `self / other`; unbounded when `other` may be 0.
    pub fn over(self, other: Interval) -> Interval {
        if other.contains_zero() {
            return Interval::ANY;
        }
        // 1 / [lo, hi] = [1 / hi, 1 / lo] on one side of 0; 1 / inf = 0 is approached, not reached.
        let inv = Interval::new(
            Bound { value: 1.0 / other.hi.value, closed: other.hi.closed },
            Bound { value: 1.0 / other.lo.value, closed: other.lo.closed },
        );
        self.times(inv)
    }

    /// A monotonically increasing function applied to every element.
    pub fn map_increasing(self, f: impl Fn(f64) -> f64) -> Interval {
        Interval::new(
            Bound { value: f(self.lo.value), closed: self.lo.closed },
            Bound { value: f(self.hi.value), closed: self.hi.closed },
        )
    }

    /// `exp`: (0, inf) for any argument; exact arithmetic.
    pub fn exp(self) -> Interval {
        let r = self.map_increasing(f64::exp);
        if r.lo.value == 0.0 { Interval { lo: Bound::open(0.0), ..r } } else { r }
    }

    /// `abs`: [0, ...]; 0 only when the argument may be 0.
    pub fn abs(self) -> Interval {
        if self.is_non_negative() {
            return self;
        }
        if self.hi.value <= 0.0 {
            return self.negated();
        }
        let hi = max_hi(Bound { value: -self.lo.value, closed: self.lo.closed }, self.hi);
        Interval::new(Bound::closed(0.0), hi)
    }

    /// `x ** 2` (and `square`).
    pub fn square(self) -> Interval {
        let a = self.abs();
        Interval::new(
            Bound { value: a.lo.value * a.lo.value, closed: a.lo.closed },
            Bound { value: a.hi.value * a.hi.value, closed: a.hi.closed },
        )
    }

    /// `sqrt`: defined on the non-negative part.
    pub fn sqrt(self) -> Interval {
        if !self.is_non_negative() {
            return Interval::NON_NEGATIVE;
        }
        self.map_increasing(f64::sqrt)
    }

    /// `log`: increasing on [0, inf) with log(0) = -inf; unbounded where the argument may be
    /// negative (NaN).
    pub fn log(self) -> Interval {
        if !self.is_non_negative() {
            return Interval::ANY;
        }
        self.map_increasing(f64::ln)
    }

    /// The lower end as `max(lo, x)` does (`maximum(x, c)`, `clamp(min=c)`).
    pub fn clamp_below(self, bound: Interval) -> Interval {
        let lo = max_lo(self.lo, bound.lo);
        let hi = max_hi(self.hi, bound.lo);
        Interval::new(lo, hi)
    }

    /// The element-wise maximum of a value in `self` and one in `other`: `maximum(a, b)`, where
    /// either may be the floor (unlike [`Interval::clamp_below`], whose bound is one number).
    pub fn max(self, other: Interval) -> Interval {
        Interval::new(max_lo(self.lo, other.lo), max_hi(self.hi, other.hi))
    }

    /// `min(hi, x)`.
    pub fn clamp_above(self, bound: Interval) -> Interval {
        let lo = min_lo(self.lo, bound.hi);
        let hi = min_hi(self.hi, bound.hi);
        Interval::new(lo, hi)
    }
}

fn min_lo(a: Bound, b: Bound) -> Bound {
    if a.value < b.value || (a.value == b.value && a.closed) { a } else { b }
}
fn max_lo(a: Bound, b: Bound) -> Bound {
    if a.value > b.value || (a.value == b.value && !a.closed) { a } else { b }
}
fn max_hi(a: Bound, b: Bound) -> Bound {
    if a.value > b.value || (a.value == b.value && a.closed) { a } else { b }
}
fn min_hi(a: Bound, b: Bound) -> Bound {
    if a.value < b.value || (a.value == b.value && !a.closed) { a } else { b }
}

/// The largest spread of exponents (`max(b) - min(a)`) at which a softmax written out,
/// `exp(a) / sum(exp(b))`, cannot underflow to 0 in float32: its smallest term is at least
/// e^-80 / n, above float32's smallest subnormal (2^-149, about 1.4e-45 or e^-103.3) for
/// n < 2^24 terms.
pub const SOFTMAX_SPREAD: f64 = 80.0;

/// The largest exponent at which a sum of up to 2^24 exponentials stays below float32's largest
/// finite value (about e^88.7).
pub const EXP_SUM_MAX: f64 = 72.0;

/// The temperature a cosine similarity is assumed to be divided by when the temperature is a
/// hyperparameter the file does not give (`cos / self.tau`, `tau = config["tau"]`): 1/40, so
/// that the exponents of `exp(cos / tau)` lie in [-40, 40] and their spread is within
/// [`SOFTMAX_SPREAD`]. Contrastive losses use 0.05 to 1 (SimCLR 0.1-0.5, MoCo and CLIP's
/// initial value 0.07, recbole's NCL 0.1 and SGL 0.5 by default).
pub const MIN_TEMPERATURE: f64 = 0.025;

/// Where a value comes from. Training-time values change from step to step (data, parameters,
/// model outputs) and reach the ends of their ranges sooner or later; configuration values
/// (literals, hyperparameters, attributes set from constructor arguments, shapes) are what the
/// user chose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Changes during training or inference.
    Data,
    /// Constants, hyperparameters, configuration.
    Config,
    Unknown,
}

impl Origin {
    /// The origin of a result computed from two operands.
    pub fn join(self, other: Origin) -> Origin {
        match (self, other) {
            (Origin::Data, _) | (_, Origin::Data) => Origin::Data,
            (Origin::Config, Origin::Config) => Origin::Config,
            _ => Origin::Unknown,
        }
    }
}

/// The numeric library whose arrays a value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Library {
    TensorFlow,
    /// Keras 3's backend-agnostic `keras.ops`.
    KerasOps,
    /// `keras.backend` (tf-keras 2.x, or Keras 3's `keras.backend` where it has the function).
    KerasBackend,
    Torch,
    NumPy,
    Jax,
}

/// What kind of thing a value is, as far as the file says.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An array or tensor of `Library`.
    Array(Library),
    /// A Python number.
    Scalar,
    /// A string, bytes, a container or `None`: never an array.
    NotArray,
    /// An instance of a library class (`torch.nn.CrossEntropyLoss()`), by canonical class name.
    Object(String),
    /// An instance of a class defined in this file, by class name.
    Instance(String),
    /// A module (an imported name for one).
    Module,
    Unknown,
}

/// The floating-point type of an array, where the code says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    F16,
    BF16,
    F32,
    F64,
    Int,
    Bool,
}

/// The operation that produced a value: the evidence rules cite and rebuild.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    Softmax,
    LogSoftmax,
    Sigmoid,
    LogSigmoid,
    /// `1 - p` of a softmax or sigmoid output.
    Complement(Prob),
    Exp,
    Log,
    /// A sum or count of a mask or of indicator values, or each value's occurrences (`mask.sum()`,
    /// `count_nonzero`, `bincount`).
    Count,
    Sum,
    Mean,
    /// A vector or matrix norm.
    Norm,
    Std,
    Var,
    Sqrt,
    Square,
    Abs,
    Relu,
    /// A clip, clamp or maximum (the bounds are in the interval).
    Clip,
    /// A draw from a uniform distribution.
    Uniform,
    Arange,
    /// Output of a trainable layer without activation (logits), or of a model.
    Logits,
    /// A mask: comparisons, boolean arrays, one-hot labels.
    Mask,
    Softplus,
    Where,
    Constant,
    /// A tensor filled with zeros.
    Zeros,
    /// A sum or mean of squares (`sum(d ** 2)`, `mean(square(e))`, `mse_loss`): 0 where every
    /// term is, the squared distance of two equal points.
    SumOfSquares,
    /// `max(x) - min(x)`: 0 for constant input.
    Spread,
    /// An L2-normalized batch of vectors (`F.normalize(x)`, `tf.math.l2_normalize(x, axis=-1)`):
    /// each vector along the last axis has norm at most 1, so its elements lie in [-1, 1].
    Normalized,
    /// A dot product of two normalized vectors (`(a * b).sum(-1)`, `a @ b.T`): in [-1, 1].
    Cosine,
    /// A matrix with orthonormal columns: the Q of a QR decomposition. It has full column rank.
    Orthogonal,
    /// The triangular U of the LU decomposition of a matrix of full column rank: invertible.
    Invertible,
    /// The diagonal of an invertible triangular matrix: no element is 0.
    NonZero,
    /// An output within [-1, 1]: tanh, sine, cosine, erf.
    Bounded,
}

/// The two probability producers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Prob {
    Softmax,
    Sigmoid,
}

impl Op {
    /// The producer's name in messages.
    pub fn describe(self) -> &'static str {
        match self {
            Op::Softmax => "a softmax output",
            Op::LogSoftmax => "log-probabilities (log_softmax)",
            Op::Sigmoid => "a sigmoid output",
            Op::LogSigmoid => "a log-sigmoid output",
            Op::Complement(Prob::Softmax) => "one minus a softmax output",
            Op::Complement(Prob::Sigmoid) => "one minus a sigmoid output",
            Op::Exp => "an exponential",
            Op::Log => "a logarithm",
            Op::Count => "a count",
            Op::Sum => "a sum",
            Op::Mean => "a mean",
            Op::Norm => "a norm",
            Op::Std => "a standard deviation",
            Op::Var => "a variance",
            Op::Sqrt => "a square root",
            Op::Square => "a square",
            Op::Abs => "an absolute value",
            Op::Relu => "a ReLU output",
            Op::Clip => "a clipped value",
            Op::Uniform => "a uniform draw",
            Op::Arange => "a range",
            Op::Logits => "logits",
            Op::Mask => "a mask",
            Op::Softplus => "a softplus output",
            Op::Where => "a selection",
            Op::Constant => "a constant",
            Op::Zeros => "zeros",
            Op::SumOfSquares => "a sum of squares",
            Op::Spread => "`max - min`",
            Op::Normalized => "an L2-normalized tensor",
            Op::Cosine => "a cosine similarity",
            Op::Orthogonal => "an orthogonal matrix",
            Op::Invertible => "an invertible triangular factor",
            Op::NonZero => "the diagonal of an invertible triangular factor",
            Op::Bounded => "an output of tanh, sin, cos or erf, within [-1, 1]",
        }
    }

    /// A property of the whole value (unit vectors, orthonormal columns, an invertible factor,
    /// no zero element) rather than the operation's output range: a reshape, a transpose or an
    /// index loses it, and a join keeps it only when every path has it.
    pub fn is_property(self) -> bool {
        matches!(self, Op::Normalized | Op::Orthogonal | Op::Invertible | Op::NonZero)
    }

    /// What a value is rather than evidence of its zeros: kept where the value reaches another
    /// function through a fact (an attribute set in another method, a function's return), with
    /// the use as its node. (The other producers stay where they are made: a rule's fix
    /// rebuilds their call.)
    pub fn kept_across_functions(self) -> bool {
        matches!(self, Op::Normalized)
    }

    /// A softmax or sigmoid output, or one minus one.
    pub fn probability(self) -> Option<Prob> {
        match self {
            Op::Softmax => Some(Prob::Softmax),
            Op::Sigmoid => Some(Prob::Sigmoid),
            Op::Complement(p) => Some(p),
            _ => None,
        }
    }
}

/// The producer of a value: the operation and the expression that applied it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Producer<'a> {
    pub op: Op,
    pub node: Node<'a>,
}

/// How a value reached a use through a name: the name and the assignment that bound it.
#[derive(Clone, Debug, PartialEq)]
pub struct Via {
    pub name: String,
    pub assigned: Span,
}

/// Everything the model knows about one expression.
#[derive(Clone, Debug, PartialEq)]
pub struct Value<'a> {
    pub range: Interval,
    pub origin: Origin,
    pub kind: Kind,
    pub dtype: Option<Dtype>,
    pub producer: Option<Producer<'a>>,
    /// The first name the value came through, if any.
    pub via: Option<Via>,
}

impl<'a> Value<'a> {
    pub fn unknown() -> Value<'a> {
        Value {
            range: Interval::ANY,
            origin: Origin::Unknown,
            kind: Kind::Unknown,
            dtype: None,
            producer: None,
            via: None,
        }
    }

    pub fn constant(v: f64) -> Value<'a> {
        Value { range: Interval::point(v), origin: Origin::Config, kind: Kind::Scalar, ..Value::unknown() }
    }

    pub fn with_range(mut self, range: Interval) -> Self {
        self.range = range;
        self
    }

    pub fn with_origin(mut self, origin: Origin) -> Self {
        self.origin = origin;
        self
    }

    pub fn with_kind(mut self, kind: Kind) -> Self {
        self.kind = kind;
        self
    }

    pub fn produced(mut self, op: Op, node: Node<'a>) -> Self {
        self.producer = Some(Producer { op, node });
        self
    }

    pub fn op(&self) -> Option<Op> {
        self.producer.map(|p| p.op)
    }

    /// The value without a producer that is a property ([`Op::is_property`]): what a reshape,
    /// a transpose or an index leaves of it.
    pub fn without_property(mut self) -> Self {
        if self.op().is_some_and(Op::is_property) {
            self.producer = None;
        }
        self
    }

    /// A softmax or sigmoid output (or one minus one).
    pub fn probability(&self) -> Option<Prob> {
        self.op().and_then(Op::probability)
    }

    pub fn is_positive(&self) -> bool {
        self.range.is_positive()
    }

    pub fn is_array(&self) -> bool {
        matches!(self.kind, Kind::Array(_))
    }

    /// The join at a merge of paths (reaching definitions from several branches).
    pub fn join(&self, other: &Value<'a>) -> Value<'a> {
        Value {
            range: self.range.hull(other.range),
            origin: self.origin.join(other.origin),
            kind: if self.kind == other.kind { self.kind.clone() } else { Kind::Unknown },
            dtype: if self.dtype == other.dtype { self.dtype } else { None },
            // A producer that may reach 0 on one path is evidence on the joined value; a
            // property (a normalized value) holds only if it holds on every path.
            producer: match (self.range.contains_zero(), other.range.contains_zero()) {
                _ if self.op() != other.op() && [self, other].iter().any(|v| v.op().is_some_and(Op::is_property)) => {
                    [self, other].into_iter().find(|v| !v.op().is_some_and(Op::is_property)).and_then(|v| v.producer)
                }
                (false, true) => other.producer,
                (true, false) => self.producer,
                _ => self.producer.or(other.producer),
            },
            via: self.via.clone().or_else(|| other.via.clone()),
        }
    }

    /// The node-free part of the value, as module facts keep it.
    pub fn summary(&self) -> ValueSummary {
        ValueSummary {
            lo: (self.range.lo.value.to_bits(), self.range.lo.closed),
            hi: (self.range.hi.value.to_bits(), self.range.hi.closed),
            origin: self.origin,
            kind: self.kind.clone(),
            dtype: self.dtype,
            op: self.op(),
        }
    }
}

/// A value without its nodes: what other functions and classes see of it, hashable so that a
/// cached analysis can tell whether a fact it used has changed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ValueSummary {
    lo: (u64, bool),
    hi: (u64, bool),
    pub origin: Origin,
    pub kind: Kind,
    pub dtype: Option<Dtype>,
    pub op: Option<Op>,
}

impl ValueSummary {
    pub fn range(&self) -> Interval {
        Interval {
            lo: Bound { value: f64::from_bits(self.lo.0), closed: self.lo.1 },
            hi: Bound { value: f64::from_bits(self.hi.0), closed: self.hi.1 },
        }
    }

    /// The value at a use elsewhere, `node`: the producers [`Op::kept_across_functions`] with
    /// `node` as theirs, no other (their node lies in another function). A softmax or sigmoid
    /// output whose every value lies in [0, 1] (every `return` of a function, not one of a
    /// softmax and logits) is kept too: `log(model(x))` of a module whose forward returns a
    /// softmax is the hazard `log(softmax(z))` is. Its node is the use, so a rule sees the
    /// probabilities but finds no softmax call there to rewrite.
    pub fn value_at<'a>(&self, node: Node<'a>) -> Value<'a> {
        let mut v = self.value();
        let unit = v.range.lo.value >= 0.0 && v.range.hi.value <= 1.0;
        let probabilities = |op: &Op| op.probability().is_some() && unit;
        if let Some(op) = self.op.filter(|op| op.kept_across_functions() || probabilities(op)) {
            v.producer = Some(Producer { op, node });
        }
        v
    }

    /// The value at a use elsewhere: no producer node (it lies in another function), so rules
    /// see the operation but cannot rewrite the producing call.
    pub fn value<'a>(&self) -> Value<'a> {
        Value {
            range: self.range(),
            origin: self.origin,
            kind: self.kind.clone(),
            dtype: self.dtype,
            producer: None,
            via: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_keeps_zero_where_it_belongs() {
        let unit = Interval::UNIT;
        assert!(unit.contains_zero());
        assert!(unit.plus(Interval::point(1e-7)).is_positive());
        // inf * 0 at the ends: the products between them, for non-negative factors.
        let shifted = Interval::new(Bound::closed(1e-6), Bound::open(f64::INFINITY));
        let positive = Interval::new(Bound::open(0.0), Bound::closed(1e6));
        assert_eq!(shifted.times(positive), Interval::POSITIVE);
        assert!(shifted.over(shifted).is_positive(), "x / sum(x) of a positive x");
        let with_zero = Interval::new(Bound::closed(0.0), Bound::open(f64::INFINITY));
        assert_eq!(with_zero.times(Interval::UNIT), with_zero);
        assert_eq!(Interval::ANY.times(positive), Interval::ANY);
        assert_eq!(with_zero.times(Interval::closed(-1.0, 0.0)), Interval::ANY);
        assert!(!unit.minus(Interval::point(1e-7)).is_positive());
        assert!(Interval::point(1.0).minus(unit).contains_zero());
        assert!(Interval::ANY.exp().is_positive());
        assert!(Interval::ANY.square().contains_zero());
        assert!(Interval::point(1.0).plus(Interval::ANY.square()).is_positive());
        assert!(Interval::ANY.exp().plus(Interval::ANY.exp()).is_positive());
        assert!(Interval::POSITIVE.over(Interval::point(2.0)).is_positive());
        assert!(Interval::point(1.0).over(Interval::UNIT).is_any());
        assert!(Interval::POSITIVE.times(Interval::UNIT).contains_zero());
        assert!(Interval::ANY.abs().is_non_negative());
        assert!(Interval::ANY.clamp_below(Interval::point(1e-7)).is_positive());
        assert!(!Interval::ANY.clamp_below(Interval::point(0.0)).is_positive());
        assert!(Interval::ANY.clamp_below(Interval::point(0.0)).contains_zero());
        // maximum(a, b) is symmetric: maximum(0, x) and maximum(x, 0) both reach 0.
        assert_eq!(Interval::point(0.0).max(Interval::ANY), Interval::ANY.max(Interval::point(0.0)));
        assert!(Interval::point(0.0).max(Interval::ANY).contains_zero());
        assert!(!Interval::point(0.0).max(Interval::ANY).is_positive());
        assert!(Interval::POSITIVE.max(Interval::point(0.0)).is_positive());
    }

    #[test]
    fn a_join_keeps_a_property_only_when_both_sides_have_it() {
        let tree = crate::syntax::parse("x\n");
        let node = tree.root_node();
        let unit = Value::unknown().with_range(Interval::closed(-1.0, 1.0));
        let normalized = unit.clone().produced(Op::Normalized, node);
        let orthogonal = unit.clone().produced(Op::Orthogonal, node);
        let softmax = Value::unknown().with_range(Interval::UNIT).produced(Op::Softmax, node);
        assert_eq!(normalized.join(&normalized).op(), Some(Op::Normalized));
        assert_eq!(normalized.join(&unit).op(), None);
        assert_eq!(unit.join(&normalized).op(), None);
        assert_eq!(normalized.join(&orthogonal).op(), None);
        assert_eq!(normalized.join(&softmax).op(), Some(Op::Softmax));
    }

    #[test]
    fn hull_and_meet() {
        let a = Interval::closed(1.0, 2.0);
        let b = Interval::closed(-1.0, 0.5);
        assert_eq!(a.hull(b), Interval::closed(-1.0, 2.0));
        assert_eq!(Interval::ANY.meet(Interval::above(0.0)), Interval::above(0.0));
        assert!(Interval::UNIT.meet(Interval::above(0.0)).is_positive());
        // Disjoint: the first is kept.
        assert_eq!(a.meet(b), a);
    }

    #[test]
    fn origins_join() {
        assert_eq!(Origin::Config.join(Origin::Data), Origin::Data);
        assert_eq!(Origin::Config.join(Origin::Config), Origin::Config);
        assert_eq!(Origin::Config.join(Origin::Unknown), Origin::Unknown);
    }
}
