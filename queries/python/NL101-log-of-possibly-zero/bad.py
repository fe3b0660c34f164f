"""NL101 fixtures: every marked line holds a log whose argument can reach 0.

Where a rule of the log family that supersedes NL101 reports the same log (log_softmax,
log_sigmoid, a cross-entropy or an entropy: NL102-NL106), the line carries that rule's code.
"""
import jax.numpy as jnp
import keras.backend as K
import numpy as np
import tensorflow as tf
import tensorflow.compat.v1 as tf1
import torch
import torch as th
import torch.nn as nn
import torch.nn.functional as F
from keras import ops
from tensorflow import math as tfm
from tensorflow.math import log as tf_log
from torch import log as tlog


def mnist_loss(x, W, b, y_):
    # The classic TF1 tutorial loss.
    y_conv = tf.nn.softmax(tf.matmul(x, W) + b)
    cross_entropy = -tf.reduce_sum(y_ * tf.log(y_conv))  # error: [NL104]
    return cross_entropy


def spellings(z):
    p = tf.nn.softmax(z)
    a = tf.math.log(p)  # error: [NL102]
    b = tf1.log(p)  # error: [NL102]
    c = tf.compat.v1.log(p)  # error: [NL102]
    d = tfm.log(tf.sigmoid(z))  # error: [NL103]
    e = tf_log(1 - tf.sigmoid(z))  # error: [NL103]
    f = K.log(K.softmax(z))  # error: [NL102]
    g = ops.log2(ops.softmax(z))  # error: [NL101]
    return a, b, c, d, e, f, g


def torch_losses(z, y):
    p = torch.softmax(z, dim=-1)
    nll = -(y * torch.log(p)).sum()  # error: [NL104]
    q = F.softmax(z, dim=-1)
    kl = (q * th.log(q)).sum()  # error: [NL106]
    bits = tlog(q)  # error: [NL102]
    return nll, kl, bits, torch.log10(F.relu(z))  # error: [NL101]


def tensor_methods(z):
    p = z.softmax(dim=-1)
    entropy = -(p * p.log()).sum(-1)  # error: [NL106]
    return entropy, p.log2()  # error: [NL101]


def binary_cross_entropy(logits, y):
    p = torch.sigmoid(logits)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()  # error: [NL104]


def jax_loss(logits, labels):
    # A softmax written out can reach 0 as well.
    probs = jnp.exp(logits) / jnp.sum(jnp.exp(logits))  # error: [NL203]
    return -jnp.mean(labels * jnp.log(probs))  # error: [NL104]


def entropy(counts):
    # `p * log(p)`: where p is 0, 0 * -inf is NaN.
    p = counts / counts.sum()
    return -np.sum(p * np.log(p))  # error: [NL101]


def kl_div(log_predictions, targets):
    return targets * (jnp.log(targets) - log_predictions)  # error: [NL101]


def guard_comes_too_late(z):
    p = torch.softmax(z, -1)
    loss = torch.log(p)  # error: [NL102]
    p = torch.clamp(p, min=1e-7)
    return loss


def zero_lower_bounds(p, x, n):
    a = tf.log(tf.clip_by_value(p, 0.0, 1.0))  # error: [NL101]
    b = torch.log(torch.clamp(x, min=0))  # error: [NL101]
    c = torch.log(torch.arange(n))  # error: [NL101]
    d = np.log(1 - 0.5 * 2)  # error: [NL101]
    # A maximum with 0 is a ReLU, whichever side the 0 is on.
    e = np.log(np.maximum(x, 0))  # error: [NL101]
    f = np.log(np.maximum(0.0, x))  # error: [NL101]
    # A literal 0 cast to a dtype is still 0.
    g = tf.log(tf.clip_by_value(p, tf.cast(0.0, tf.float32), 1.0))  # error: [NL101]
    return a, b, c, d, e, f, g


def counts_and_noise(mask, logits):
    empty = torch.log(mask.sum(dim=-1))  # error: [NL101]
    # A class that never occurs has a count of 0: log(0) = -inf.
    prior = np.log(np.bincount(mask.long().flatten().numpy()))  # error: [NL101]
    # Exponential noise: where the draw is 0 it is inf, and inf / inf = NaN.
    u = torch.rand(logits.shape)
    noise = -torch.log(u)  # error: [NL101]
    return empty, prior, noise / noise.sum(-1, keepdim=True)


def multiline(z):
    y_pred = tf.nn.softmax(z)
    return -tf.reduce_sum(
        tf.math.log(  # error: [NL102]
            y_pred
        )
    )


def other_branch(z, mode):
    x = torch.sigmoid(z)
    if mode == "safe":
        x = torch.clamp(x, 1e-7, 1.0)
    else:
        return torch.log(x)  # error: [NL103]
    return torch.log(1 - torch.clamp(x, 0.0, 1.0))  # error: [NL101]


def select_after(a):
    # The log is taken before the elements where it is defined are selected.
    return a.log()[a > 0].sum()  # error: [NL101]


class Head(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.eps = 0.0

    def forward(self, x, target):
        probs = torch.softmax(self.proj(x), dim=-1)
        # An epsilon of 0 guards nothing.
        loss = -(target * torch.log(probs + self.eps)).sum()  # error: [NL104]
        # Logits take every sign.
        rate = torch.log(self.proj(x))  # error: [NL101]
        return loss + rate + torch.log(x)  # error: [NL101]


def bce(p, y):
    # The helper logs its parameter: the hazard is where it is called with a probability.
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def discriminator_loss(d_real, ones):
    return bce(torch.sigmoid(d_real), ones)  # error: [NL101]


def log_or_floor_at_zero(a):
    # `a >= 0` lets 0 through to the log.
    if a >= 0:
        return torch.log(a)
    return -30.0


def floored_relu(h):
    return log_or_floor_at_zero(torch.relu(h))  # error: [NL101]


class LogMagnitude(nn.Module):
    def forward(self, x):
        return torch.log(torch.abs(x))  # error: [NL101]


def info_nce_of_raw_embeddings(a, b, tau):
    # Dot products of embeddings that are not normalized have no bound.
    pos = torch.exp(torch.sum(a * b, dim=1) / tau)
    ttl = torch.exp(torch.matmul(a, b.T) / tau).sum(dim=1)
    return -torch.log(pos / ttl).sum()  # error: [NL101, NL203]


def info_nce_too_cold(a, b):
    # A temperature of 0.01: exponents 200 apart, and e^-200 is 0 in float32.
    a = F.normalize(a, dim=-1)
    b = F.normalize(b, dim=-1)
    pos = torch.exp(torch.sum(a * b, dim=-1) / 0.01)
    ttl = torch.exp(a @ b.T / 0.01).sum(dim=-1)
    return -torch.log(pos / ttl).sum()  # error: [NL101, NL203]


def info_nce_over_the_batch_axis(a, b, tau):
    # Summed over the batch axis (dim 0), not over each vector's: no cosine.
    a = F.normalize(a, dim=1)
    b = F.normalize(b, dim=1)
    pos = torch.exp(torch.sum(a * b, dim=0) / tau)
    ttl = torch.exp(torch.matmul(a.T, b) / tau).sum(dim=1)
    return -torch.log(pos / ttl).sum()  # error: [NL101, NL203]


class LearnedTemperature(nn.Module):
    def __init__(self):
        super().__init__()
        # A trained temperature can shrink without bound.
        self.temperature = nn.Parameter(torch.tensor(0.07))

    def forward(self, a, b):
        a = F.normalize(a)
        b = F.normalize(b)
        pos = torch.exp((a * b).sum(dim=1) / self.temperature)
        ttl = torch.exp(a @ b.T / self.temperature).sum(dim=1)
        return -torch.log(pos / ttl).mean()  # error: [NL101, NL203]


class LogDeterminant(nn.Module):
    def forward(self, x):
        # The LU factors of a training-time matrix: U can be singular.
        p, l, u = torch.linalg.lu(x)
        return torch.log(torch.abs(torch.diagonal(u))).sum()  # error: [NL101]


class LogDeterminant2(nn.Module):
    def forward(self, x):
        q, r = torch.linalg.qr(x)
        p, l, u = torch.linalg.lu(q)
        # Off the main diagonal, U has zeros.
        return torch.log(torch.abs(torch.diagonal(u, offset=1))).sum()  # error: [NL101]


def larger_of_two_relus(x):
    # Element-wise maximum of two values that are both 0 wherever x <= 0.
    return torch.log(torch.max(torch.relu(x), torch.relu(2 * x)))  # error: [NL101]


def kl_divergence(z_p, z_q):
    # A KL divergence of two softmax outputs: where `p` underflows, p / q is 0 and 0 * -inf = NaN.
    p = F.softmax(z_p, dim=-1)
    q = F.softmax(z_q, dim=-1)
    return torch.sum(p * torch.log(p / q), dim=-1)  # error: [NL101]


def kl_divergence_plus_entropy(z_p, z_q, h):
    # The KL term inside a sum: its xlogy difference is parenthesized.
    p = tf.nn.softmax(z_p)
    q = tf.nn.softmax(z_q)
    return h + p * tf.math.log(p / q)  # error: [NL101]


def scaled_probabilities(logits, weights):
    p = tf.nn.softmax(logits)
    return tf.math.log(weights * p)  # error: [NL101]


def kl_divergence_where_q_is_positive(z_p, q):
    # The `where` keeps q's zeros out, not p's.
    p = F.softmax(z_p, dim=-1)
    return (p * torch.log(torch.where(q > 0, p / q, 1.0))).sum()  # error: [NL101, NL204]


def log_odds(z):
    # A probability and its complement are never 0 together: no 0 / 0 here, only log(0).
    p = torch.sigmoid(z)
    return torch.log((1 - p) / p)  # error: [NL101]


def where_ceiling(z, eps):
    # `where(p < eps, p, eps)` is the minimum: p where it is smallest, down to 0.
    p = torch.softmax(z, -1)
    return torch.log(torch.where(p < eps, p, eps))  # error: [NL101]


def summed_over_another_axis(z, mask):
    # Summed over the batch, over a slice or under a mask, a softmax's zeros stay: a class that
    # underflows in every row sums to 0.
    p = F.softmax(z, dim=-1)
    per_class = torch.log(p.sum(0))  # error: [NL101]
    first = torch.log(p[:, :3].sum(-1))  # error: [NL101]
    kept = torch.log((p * mask).sum(-1))  # error: [NL101]
    q = tf.nn.softmax(z)
    return per_class, first, kept, tf.math.log(tf.reduce_sum(q, axis=0))  # error: [NL101]


def bound_in_passing(z):
    # An assignment expression is the value it binds.
    return torch.log((p := F.softmax(z, dim=-1))), p  # error: [NL101]


class SoftmaxHead(nn.Module):
    def probs(self, x):
        return F.softmax(x, dim=-1)


class Tagger(SoftmaxHead):
    def forward(self, x):
        # `probs` is the base class's (the class of this file it inherits from).
        return torch.log(self.probs(x))  # error: [NL101]


class EpsHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.eps = 0.0


class EpsTagger(EpsHead):
    def forward(self, x):
        # `self.eps` is set by the base class's `__init__`, to 0.
        return torch.log(x.abs() + self.eps)  # error: [NL101]


def bound_in_a_condition(z, x):
    # A walrus in an `if`'s condition binds in the branches and past the statement (a softmax
    # bound so is NL102's, as one assigned).
    if (p := F.softmax(z, dim=-1)) is not None:
        a = torch.log(p)  # error: [NL102]
    if (q := F.softmax(x, dim=-1)).dim() > 1:
        pass
    return a, torch.log(q)  # error: [NL102]


def selected_but_not_by_its_own_zeros(labels, y, other):
    # Another array's mask, a condition that keeps 0, JAX's padded indices, torch's [n, ndim]
    # indices (rows of a matrix), and a mask of a count since rebound: zeros stay.
    counts = np.bincount(labels)
    a = np.log(counts[y > 0])  # error: [NL101]
    b = np.log(counts[counts > -1])  # error: [NL101]
    c = jnp.log(jnp.bincount(labels)[jnp.nonzero(jnp.bincount(labels), size=3)])  # error: [NL101]
    t = torch.bincount(labels)
    d = torch.log(t[torch.nonzero(t)])  # error: [NL101]
    ok = counts > 0
    counts = np.bincount(other)
    return a, b, c, d, np.log(counts[ok])  # error: [NL101]


def selected_over_another_total(labels, other):
    # The total of another count is no bound on the selected elements: it can be 0 alone.
    # (PyTorch: `torch.xlogy` needs no import, so the preferred fixes of this file apply in one
    # round; NL201's fix alone makes `p` positive.)
    counts = torch.bincount(labels)
    p = counts[counts > 0] / torch.bincount(other).sum()  # error: [NL201]
    return -(p * torch.log(p)).sum()  # error: [NL101]


def padded_or_not_the_counts(labels):
    # JAX pads the counts of `unique(..., size=n)`; with `return_inverse` the second element is the
    # inverse, not the counts.
    _, j = jnp.unique(labels, return_counts=True, size=8)
    j = j / j.sum()
    inverse = np.unique(labels, return_inverse=True, return_counts=True)[1]
    inverse = inverse / inverse.sum()
    return (j * jnp.log(j)).sum(), (inverse * np.log(inverse)).sum()  # error: [NL101, NL101]


def range_sliced_but_keeping_its_zero(n, k, y):
    # A slice from 0, from an unknown index or backwards, a range from below 0, and a product
    # sliced: the 0 can stay.
    a = np.log(np.arange(n + 1)[0:])  # error: [NL101]
    b = np.log(np.arange(n + 1)[k:])  # error: [NL101]
    c = np.log(np.arange(n + 1)[1::-1])  # error: [NL101]
    d = np.log(np.arange(-3, n)[1:])  # error: [NL101]
    return a, b, c, d, np.log((np.arange(n) * y)[1:])  # error: [NL101]


def entropy_of_a_value_not_known_to_be_at_most_one(x):
    # Regression (a newcomer's trial): `x * log(x)` of a parameter. `xlogy(x, x)` is exact and
    # comes first; the clip only raises x (clipping at 1 would drop 5 * log(5)).
    return (x * torch.log(x)).sum()  # error: [NL101]


def select_after_a_function(z, b):
    # The fix keeps the function and selects inside it: a NumPy or JAX array has no `.log()`;
    # a sum is selected in parentheses.
    p = np.maximum(z, 0)
    q = torch.relu(b)
    a = np.log(p)[p > 0]  # error: [NL101]
    c = jnp.log(jnp.maximum(z, 0))[jnp.maximum(z, 0) > 0]  # error: [NL101]
    return a, c, torch.log(q)[q > 0], (q + q).log()[q + q > 0]  # error: [NL101, NL101]


def a_true_list_is_one_not_empty():
    # Its elements can still be 0.
    probs = [0.0, 0.5]
    if probs:
        return np.log(probs)  # error: [NL101]


def a_softmax_bound_where_its_logits_are_written(z):
    # Regression (a newcomer's trial): the statement that binds the softmax also writes into
    # the logits, so `log_softmax(z)` would read other values; the clip is the fix.
    p, z[0] = torch.softmax(z, -1), 100.0
    q = z.data = torch.softmax(z, -1)
    return torch.log(p), torch.log(q)  # error: [NL101, NL101]


def softmax_maxima_over_another_axis(z):
    # Over the batch, the largest probability of a class can underflow in every row; a minimum
    # over the softmax's own axis can too.
    p = torch.softmax(z, -1)
    return torch.log(p.max(0)[0]), torch.log(p.amin(-1))  # error: [NL101, NL101]


def counts_changed_after_their_guard(mask, strict):
    # The branch that runs on rebinds the count to another value; an `if` one of whose paths
    # runs on does not leave.
    n = mask.sum()
    if n > 0:
        n = n - 1
    else:
        return None
    m = mask.sum(1)
    if m == 0:
        if strict:
            raise ValueError("empty mask")
    return torch.log(n), torch.log(m)  # error: [NL101, NL101]


def flax_reexports_of_jax_nn(x):
    # flax.linen and flax.nnx export jax.nn's relu (0 for every x <= 0) under their own names.
    import flax.linen as fnn
    from flax import nnx

    return jnp.log(fnn.relu(x)), jnp.log(nnx.relu(x))  # error: [NL101, NL101]
