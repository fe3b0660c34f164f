//! Reductions: which calls reduce an array (sums, means, maxima, minima, `logsumexp`, vector
//! norms), the array they reduce, over which axis and whether they keep it. The evaluator bounds
//! `x - max(x)` with them, and rules rebuild a call over the same axis (`x / x.norm(dim=-1,
//! keepdim=True)` is `F.normalize(x, dim=-1)` only when both say `-1`).
//!
//! Signatures, from each library's API reference:
//! - PyTorch: `torch.sum|mean|amax|amin|logsumexp(input, dim, keepdim)`, `torch.max|min(input,
//!   dim, keepdim)` (a `(values, indices)` pair when `dim` is given), `torch.norm(input, p, dim,
//!   keepdim)`, `torch.linalg.norm(A, ord, dim, keepdim)`, `torch.linalg.vector_norm(x, ord, dim,
//!   keepdim)`; the methods take `(dim, keepdim)` (`Tensor.norm(p, dim, keepdim)`).
//! - TensorFlow: `tf.math.reduce_sum|mean|max|min|logsumexp(input_tensor, axis, keepdims)`,
//!   `tf.norm(tensor, ord, axis, keepdims)`.
//! - NumPy and `jax.numpy`: `sum|mean|max|min(a, axis, dtype|out, out, keepdims)`,
//!   `linalg.norm(x, ord, axis, keepdims)`; `jax.nn.logsumexp(a, axis, b, keepdims)`,
//!   `scipy.special.logsumexp(a, axis, b, keepdims)`.
//! - Keras: `keras.ops.sum|mean|max|min|logsumexp(x, axis, keepdims)`,
//!   `keras.backend.sum|mean|max|min(x, axis, keepdims)`.

use tree_sitter::Node;

use super::value::{Kind, Library};
use super::{Callee, Model, apis};
use crate::syntax::{Args, FIELD, KindName, unparenthesized};

/// What a reduction computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduce {
    Sum,
    Mean,
    Max,
    Min,
    LogSumExp,
    /// A vector norm (any order).
    Norm,
}

/// One reduction call.
#[derive(Clone, Copy, Debug)]
pub struct Reduction<'a> {
    pub reduce: Reduce,
    pub call: Node<'a>,
    /// The array reduced.
    pub operand: Node<'a>,
    /// The axis argument, where one is given.
    pub axis: Option<Node<'a>>,
    /// `keepdim=True` / `keepdims=True` (a positional `True` where the signature puts it).
    pub keepdims: bool,
    /// The norm's order argument (`p=`, `ord=`), where one is given.
    pub order: Option<Node<'a>>,
    /// Arguments besides these (`dtype=`, `out=`, `b=`, `where=`): a call rebuilt from the
    /// reduction would drop them.
    pub other: bool,
    /// `x.sum()` rather than `sum(x)`.
    pub method: bool,
    pub library: Option<Library>,
}

/// How wrappers are followed to a reduction: names, `[0]`, `.values`, `stop_gradient`.
const MAX_FOLLOW: u32 = 4;

impl<'a> Model<'a> {
    /// The reduction `node` calls, if it is one.
    pub fn reduction(&self, node: Node<'a>) -> Option<Reduction<'a>> {
        let call = unparenthesized(node);
        if call.kind_name() != "call" {
            return None;
        }
        let args = Args::of(call);
        match self.callee(call)? {
            Callee::Api(api) => {
                let (reduce, layout) = api_reduction(&api)?;
                let library = apis::library_of(&api);
                let operand = args.get(0, &["input", "input_tensor", "a", "x", "A", "tensor"], self.src)?;
                let (axis_at, keep_at, order_at) = layout;
                let axis = axis_at.and_then(|i| args.get(i, &["dim", "axis"], self.src));
                let keep = match keep_at {
                    Some(i) => args.get(i, &["keepdim", "keepdims"], self.src),
                    None => args.keyword(&["keepdim", "keepdims"], self.src),
                };
                let order = order_at.and_then(|i| args.get(i, &["p", "ord"], self.src));
                let known = 1 + [axis, keep, order].iter().filter(|a| a.is_some()).count();
                let given = args.positional.len() + args.keyword.len();
                Some(Reduction {
                    reduce,
                    call,
                    operand,
                    axis,
                    keepdims: keep.is_some_and(|k| self.text(k) == "True"),
                    order,
                    other: given > known || args.splat,
                    method: false,
                    library,
                })
            }
            Callee::Method { name, receiver } => {
                let reduce = match name {
                    "sum" => Reduce::Sum,
                    "mean" => Reduce::Mean,
                    "max" | "amax" => Reduce::Max,
                    "min" | "amin" => Reduce::Min,
                    "logsumexp" => Reduce::LogSumExp,
                    "norm" => Reduce::Norm,
                    _ => return None,
                };
                let receiver_value = self.value(receiver);
                if !matches!(receiver_value.kind, Kind::Array(_) | Kind::Unknown) {
                    return None;
                }
                // `Tensor.norm(p, dim, keepdim)`; the others `(dim, keepdim)`.
                let (axis_at, keep_at, order) =
                    if reduce == Reduce::Norm { (1, 2, args.get(0, &["p"], self.src)) } else { (0, 1, None) };
                let axis = args.get(axis_at, &["dim", "axis"], self.src);
                let keep = args.get(keep_at, &["keepdim", "keepdims"], self.src);
                let known = [axis, keep, order].iter().filter(|a| a.is_some()).count();
                let given = args.positional.len() + args.keyword.len();
                let library = match receiver_value.kind {
                    Kind::Array(lib) => Some(lib),
                    _ => None,
                };
                Some(Reduction {
                    reduce,
                    call,
                    operand: receiver,
                    axis,
                    keepdims: keep.is_some_and(|k| self.text(k) == "True"),
                    order,
                    other: given > known || args.splat,
                    method: true,
                    library,
                })
            }
            _ => None,
        }
    }

    /// The reduction whose result `node` holds: through a name bound once in its function,
    /// `[0]` and `.values` of PyTorch's `(values, indices)`, `stop_gradient` and `.detach()`.
    pub fn reduction_through(&self, node: Node<'a>) -> Option<Reduction<'a>> {
        self.reduction_through_at(node, 0)
    }

    fn reduction_through_at(&self, node: Node<'a>, depth: u32) -> Option<Reduction<'a>> {
        if depth > MAX_FOLLOW {
            return None;
        }
        let node = unparenthesized(node);
        match node.kind_name() {
            "call" => {
                if let Some(r) = self.reduction(node) {
                    return Some(r);
                }
                let args = Args::of(node);
                match self.callee(node)? {
                    Callee::Api(api) if matches!(apis::leaf(&api), "stop_gradient" | "expand_dims") => {
                        self.reduction_through_at(*args.positional.first()?, depth + 1)
                    }
                    Callee::Method { name: "detach", receiver } if args.is_empty() => {
                        self.reduction_through_at(receiver, depth + 1)
                    }
                    Callee::Method { name: "unsqueeze", receiver } => self.reduction_through_at(receiver, depth + 1),
                    _ => None,
                }
            }
            // `m[0]` of PyTorch's `(values, indices)`; `m[..., None]`, `m[:, None]`: new axes only.
            "subscript" => {
                let mut cursor = node.walk();
                let mut indices = node.children_by_field_name("subscript", &mut cursor);
                let first = indices.next()?;
                let only_axes = |n: Node<'a>| {
                    matches!(n.kind_name(), "ellipsis" | "none")
                        || (n.kind_name() == "slice" && n.named_child_count() == 0)
                        || (n.kind_name() == "attribute"
                            && n.child_by_field_id(FIELD.attribute).is_some_and(|a| self.text(a) == "newaxis"))
                };
                let rest: Vec<Node<'a>> = indices.collect();
                let follow = (rest.is_empty() && self.constant(first) == Some(0.0))
                    || (only_axes(first) && rest.iter().all(|n| only_axes(*n)));
                follow.then(|| self.reduction_through_at(node.child_by_field_id(FIELD.value)?, depth + 1)).flatten()
            }
            "attribute" => {
                let attr = node.child_by_field_id(FIELD.attribute)?;
                (self.text(attr) == "values")
                    .then(|| self.reduction_through_at(node.child_by_field_id(FIELD.object)?, depth + 1))
                    .flatten()
            }
            "identifier" => {
                let scope = self.scope_of(node);
                let reaching = self.scope_index(scope).reaching(self.text(node), node.start_byte());
                match (reaching.entries.as_slice(), reaching.outer) {
                    ([entry], false) => match entry.binding {
                        super::scope::Binding::Value(rhs) => self.reduction_through_at(rhs, depth + 1),
                        _ => None,
                    },
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// Whether the axis argument `axis` names no axis, so that the reduction covers every element:
/// `None` in every library, and in PyTorch also `()` and `[]` (`torch.sum(x, dim=())` sums every
/// element, where NumPy, TensorFlow, JAX and Keras reduce over no axis). `torch.logsumexp` takes
/// none of these (`None`: TypeError, `()`: RuntimeError), so a fix that moves the axis must know.
pub fn names_every_element(axis: Node, torch: bool) -> bool {
    let axis = unparenthesized(axis);
    match axis.kind_name() {
        "none" => true,
        "tuple" | "list" => torch && axis.named_child_count() == 0,
        _ => false,
    }
}

/// The reduction a canonical API computes, and where its axis, keepdims and order arguments
/// stand (positions).
type Layout = (Option<usize>, Option<usize>, Option<usize>);

fn api_reduction(api: &str) -> Option<(Reduce, Layout)> {
    const DIM_KEEP: Layout = (Some(1), Some(2), None);
    // NumPy-like: `(a, axis, dtype|out, out, keepdims)`; keepdims by keyword.
    const NUMPY: Layout = (Some(1), None, None);
    const NORM: Layout = (Some(2), Some(3), Some(1));
    let reduce = match api {
        "torch.sum" | "tensorflow.math.reduce_sum" | "keras.ops.sum" | "keras.backend.sum" => (Reduce::Sum, DIM_KEEP),
        "numpy.sum" | "jax.numpy.sum" => (Reduce::Sum, NUMPY),
        "torch.mean" | "tensorflow.math.reduce_mean" | "keras.ops.mean" | "keras.backend.mean" => {
            (Reduce::Mean, DIM_KEEP)
        }
        "numpy.mean" | "jax.numpy.mean" => (Reduce::Mean, NUMPY),
        "torch.max" | "torch.amax" | "tensorflow.math.reduce_max" | "keras.ops.max" | "keras.backend.max" => {
            (Reduce::Max, DIM_KEEP)
        }
        "numpy.max" | "jax.numpy.max" | "jax.numpy.amax" => (Reduce::Max, NUMPY),
        "torch.min" | "torch.amin" | "tensorflow.math.reduce_min" | "keras.ops.min" | "keras.backend.min" => {
            (Reduce::Min, DIM_KEEP)
        }
        "numpy.min" | "jax.numpy.min" | "jax.numpy.amin" => (Reduce::Min, NUMPY),
        "torch.logsumexp" | "tensorflow.math.reduce_logsumexp" | "keras.ops.logsumexp" => (Reduce::LogSumExp, DIM_KEEP),
        "jax.nn.logsumexp" | "scipy.special.logsumexp" => (Reduce::LogSumExp, (Some(1), None, None)),
        "torch.norm"
        | "torch.linalg.norm"
        | "torch.linalg.vector_norm"
        | "tensorflow.linalg.norm"
        | "numpy.linalg.norm"
        | "jax.numpy.linalg.norm" => (Reduce::Norm, NORM),
        _ => return None,
    };
    Some(reduce)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantic::test_support::assigned;
    use crate::syntax::parse;

    fn last_expression<'t>(tree: &'t tree_sitter::Tree) -> Node<'t> {
        let root = tree.root_node();
        let stmt = root.named_child(root.named_child_count() as u32 - 1).unwrap();
        let expr = stmt.named_child(0).unwrap();
        if expr.kind_name() == "assignment" { expr.child_by_field_id(FIELD.right).unwrap() } else { expr }
    }

    #[test]
    fn reductions_name_their_operand_axis_and_keepdims() {
        let src = "import torch\nx.norm(dim=-1, keepdim=True)\n";
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let r = model.reduction(last_expression(&tree)).unwrap();
        assert_eq!(r.reduce, Reduce::Norm);
        assert_eq!(model.text(r.operand), "x");
        assert_eq!(r.axis.map(|a| model.text(a)), Some("-1"));
        assert!(r.keepdims && r.method && !r.other && r.order.is_none());

        let src = "import tensorflow as tf\ntf.reduce_sum(tf.exp(z), axis=1, keepdims=True)\n";
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let r = model.reduction(last_expression(&tree)).unwrap();
        assert_eq!((r.reduce, model.text(r.operand)), (Reduce::Sum, "tf.exp(z)"));
        assert_eq!(r.library, Some(Library::TensorFlow));
        assert!(r.keepdims);

        let src = "import numpy as np\nnp.sum(x, axis=1, keepdims=True)\n";
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let r = model.reduction(last_expression(&tree)).unwrap();
        assert!(r.keepdims && !r.other);

        let src = "import numpy as np\nnp.sum(x, axis=0, dtype=np.float64)\n";
        let tree = parse(src);
        let model = Model::of(src, &tree);
        assert!(model.reduction(last_expression(&tree)).unwrap().other);
    }

    #[test]
    fn none_and_in_pytorch_an_empty_tuple_name_every_element() {
        let src = "torch.sum(x, dim=None)\ntorch.sum(x, dim=())\nx.sum(dim=[])\nx.sum(dim=(None))\nnp.sum(x, axis=())\nx.sum(dim=(0,))\n";
        let tree = parse(src);
        let axes: Vec<Node> = (0..tree.root_node().named_child_count() as u32)
            .map(|i| {
                let call = tree.root_node().named_child(i).unwrap().named_child(0).unwrap();
                Args::of(call).get(1, &["dim", "axis"], src).or_else(|| Args::of(call).keyword(&["dim"], src)).unwrap()
            })
            .collect();
        let torch: Vec<bool> = axes.iter().map(|a| names_every_element(*a, true)).collect();
        assert_eq!(torch, [true, true, true, true, true, false]);
        // NumPy, TensorFlow, JAX and Keras reduce over no axis for `()`.
        assert!(!names_every_element(axes[4], false));
        assert!(names_every_element(axes[0], false));
    }

    #[test]
    fn the_evaluator_bounds_differences_of_reductions_and_sees_squares() {
        use crate::semantic::value::{Interval, Op};
        let src = "import torch\nimport jax.numpy as jnp\ndef f(x, z):\n    a = x - x.max(-1, keepdim=True)[0]\n    m = jnp.max(z, axis=-1, keepdims=True)\n    b = z - m\n    c = x.max() - x.min()\n    d = ((x - 1) ** 2).sum(-1)\n    e = torch.mean(torch.square(x))\n    g = x[0] ** 2 + x[1] ** 2\n    h = x - x.mean()\n";
        assert_eq!(assigned(src, "a").1.hi.value, 0.0);
        assert_eq!(assigned(src, "b").1.hi.value, 0.0);
        assert_eq!(assigned(src, "c"), (Some(Op::Spread), Interval::NON_NEGATIVE));
        assert_eq!(assigned(src, "d").0, Some(Op::SumOfSquares));
        assert_eq!(assigned(src, "e").0, Some(Op::SumOfSquares));
        assert_eq!(assigned(src, "g").0, Some(Op::SumOfSquares));
        assert!(assigned(src, "h").1.is_any());
    }

    #[test]
    fn maxima_are_found_through_names_and_wrappers() {
        let src = "import torch\ndef f(x):\n    m = x.max(-1, keepdim=True)[0].detach()\n    return x - m\n";
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let at = src.rfind("m\n").unwrap();
        let m = tree.root_node().descendant_for_byte_range(at, at + 1).unwrap();
        let r = model.reduction_through(m).unwrap();
        assert_eq!((r.reduce, model.text(r.operand)), (Reduce::Max, "x"));
        for wrapped in ["m[..., None]", "m[:, None]", "m[None]", "m.unsqueeze(-1)", "jnp.expand_dims(m, -1)"] {
            let src = format!("import jax.numpy as jnp\ndef f(x):\n    m = x.max(axis=-1)\n    return x - {wrapped}\n");
            let tree = parse(&src);
            let model = Model::of(&src, &tree);
            let at = src.rfind(wrapped).unwrap();
            let mut node = tree.root_node().descendant_for_byte_range(at, at + wrapped.len()).unwrap();
            while node.byte_range() != (at..at + wrapped.len()) {
                node = node.parent().unwrap();
            }
            assert!(model.reduction_through(node).is_some_and(|r| r.reduce == Reduce::Max), "{wrapped}");
        }
        let src = "def f(x):\n    m = x.max(axis=-1)\n    return m[1]\n";
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let at = src.rfind("m[1]").unwrap();
        let node = tree.root_node().descendant_for_byte_range(at, at + 4).unwrap().parent().unwrap();
        assert!(model.reduction_through(node).is_none(), "{}", model.text(node));
        let src = "import numpy as np\nnp.exp(x)\n";
        let tree = parse(src);
        let model = Model::of(src, &tree);
        assert!(model.reduction(last_expression(&tree)).is_none());
    }
}
