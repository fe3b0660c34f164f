"""NL101 fixtures: nothing here may be reported."""
import logging
import math

import jax.numpy as jnp
import keras.backend as K
import numpy as np
import scipy
import tensorflow as tf
import torch
import torch.nn as nn
import torch.nn.functional as F

from .config import _EPSILON, _FLOATX

EPS = 1e-8
LOG_ZERO_GUARD = 1e-12
logger = logging.getLogger(__name__)


def guarded(p, z, x, y):
    a = tf.log(p + 1e-7)
    b = tf.math.log(tf.clip_by_value(tf.nn.softmax(z), 1e-10, 1.0))
    c = torch.log(torch.clamp(torch.softmax(z, -1), min=1e-7))
    d = torch.log(torch.softmax(z, -1).clamp(min=EPS))
    e = np.log(np.maximum(x, 1e-12))
    f = np.log(np.clip(y, a_min=EPS, a_max=None))
    g = K.log(K.softmax(z) + K.epsilon())
    h = torch.log(torch.exp(z))
    i = jnp.log(jnp.sqrt(x ** 2 + 1.0))
    j = torch.log(torch.sigmoid(z) + LOG_ZERO_GUARD)
    return a, b, c, d, e, f, g, h, i, j


def log_softmax_instead(z):
    return F.log_softmax(z, dim=-1), tf.nn.log_softmax(z)


def conditions(x, p):
    a = np.log(x) if x > 0 else 0.0
    q = p[p > 0]
    b = np.log(q)
    c = np.log(p, where=p > 0, out=np.zeros_like(p))
    ok = x > 0
    safe_x = np.where(ok, x, np.ones_like(x))
    d = np.log(safe_x)
    if (p > 0).all():
        e = np.log(p)
    else:
        e = None
    return a, b, c, d, e


def early_exit(counts):
    total = counts.sum()
    if total == 0:
        return 0.0
    return np.log(total)


def double_where(x):
    # The double-`where` trick: the inner where keeps log's argument away from 0.
    safe = tf.where(x > 0, x, tf.ones_like(x))
    return tf.where(x > 0, tf.math.log(safe), tf.zeros_like(x))


def discarded_by_where(targets, log_predictions):
    # The -inf at targets == 0 is discarded by the where (its gradient is another rule's matter).
    return targets * (jnp.where(targets == 0, 0, jnp.log(targets)) - log_predictions)


def discarded_later(x):
    values = x * (1.0 - tf.math.log(x))
    return tf.where(tf.equal(x, 0.0), tf.zeros_like(x), values)


def replaced_when_infinite(scores):
    probs = torch.softmax(scores, dim=-1)
    log_probs = torch.log(probs)
    log_probs = torch.where(torch.isfinite(log_probs), log_probs, torch.finfo(log_probs.dtype).min)
    return log_probs, torch.nan_to_num(torch.log(probs), neginf=-1e9)


def configuration(jitter, t_mul, min_depth):
    # Hyperparameters and configuration scalars: no evidence they can be 0.
    a = np.log(jitter)
    b = torch.log(torch.tensor(min_depth))
    c = math.log(t_mul)
    return a, b, c


def positive_by_construction(n):
    A = torch.empty(n).uniform_(0.01, 16)
    a_log = torch.log(A)
    rank = np.arange(n)
    rank[0] = 1
    weights = np.log(rank)
    cosh = np.log(np.cosh(np.arange(n)))
    shifted = torch.log(torch.arange(n) + 1)
    return a_log, weights, cosh, shifted


def look_alikes(x):
    logger.log(logging.INFO, "not a logarithm")
    return math.log(2.0), logging.log


class Trainer(nn.Module):
    def __init__(self, dim, eps=1e-6):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.eps = eps

    def log(self, name, value):
        logger.info("%s=%s", name, value)

    def forward(self, x, target):
        probs = torch.softmax(self.proj(x), dim=-1)
        loss = -(target * torch.log(probs + self.eps)).sum()
        self.log("loss", loss)
        scale = torch.log(F.softplus(self.proj(x)))
        return loss + scale.mean()


def suppressed(z):
    p = torch.softmax(z, -1)
    return torch.log(p)  # noqa: NL101


def geomspace(start, stop, num=50):
    # 0 is invalid input here (NumPy raises), not a value that training reaches.
    log_start = np.log10(np.abs(start))
    log_stop = np.log10(np.abs(stop))
    return np.logspace(log_start, log_stop, num)


def metropolis_step(x, log_ratio):
    # NumPy draws float64: exactly 0 once in 2^53 draws (float32 draws of torch and TF: 2^-24).
    accept = np.log(np.random.uniform(low=0, high=1.0, size=np.shape(x)[0])) < log_ratio
    return np.where(accept, x, -x), np.log(np.random.rand(3))


def entropy_of_shifted(x, prob, machine_eps=1e-8):
    # `x += EPS` guards as `x = x + EPS` does, and a positive value over its positive sum stays
    # positive.
    x += EPS
    x /= jnp.sum(x)
    prob += machine_eps
    return -jnp.sum(x * jnp.log(x)), -tf.reduce_sum(prob * tf.math.log(prob))


def gumbel_max(logits, probs, keep):
    # An entry at -inf is never picked, one at +inf always: argmax and sampling from logits take
    # the log's infinities as they are meant, and no gradient flows through them.
    u = torch.rand_like(logits)
    action = torch.argmax(logits - torch.log(-torch.log(u)), dim=-1)
    noisy = logits - torch.log(-torch.log(torch.rand_like(logits)))
    one_hot = F.one_hot(torch.argmax(noisy, dim=-1), num_classes=noisy.shape[-1])
    best = (logits - torch.log(-torch.log(torch.rand_like(logits)))).argmax(-1)
    top_p = tf.random.categorical(tf.math.log(tf.where(keep, probs, tf.zeros_like(probs))), 1)
    return action, one_hot, best, top_p


def gumbel_noise(logits):
    # Gumbel noise `-log(-log(u))` is -inf where the draw is 0: the distribution's own limit.
    # Added to logits it makes that entry's probability 0 after a softmax, value and gradient
    # finite (Gumbel-softmax differentiates only through the logits).
    u = torch.rand(logits.shape)
    gumbel = -torch.log(-torch.log(u))
    relaxed = torch.softmax((logits - torch.log(-torch.log(torch.rand_like(logits)))) / 0.5, -1)
    return logits + gumbel, relaxed


def clipped_by_an_imported_epsilon(y_pred, y_true):
    # A lower bound imported from a configuration module (`_EPSILON = 1e-10` there), cast to the
    # float type: a floor its author chose, as a named bound is.
    y_pred = tf.clip_by_value(y_pred, tf.cast(_EPSILON, dtype=_FLOATX), tf.cast(1.0 - _EPSILON, dtype=_FLOATX))
    return -tf.reduce_sum(y_true * tf.math.log(y_pred))


class ContrastiveLoss(nn.Module):
    # InfoNCE written out over L2-normalized embeddings (recbole's NCL and SGL): a dot product
    # of unit vectors is a cosine in [-1, 1], so over a temperature of at least 0.025 the
    # exponents differ by at most 80 and no term of the softmax underflows in float32.
    def __init__(self, config):
        super().__init__()
        self.ssl_temp = config["ssl_temp"]
        self.centroids = None
        self.labels = None

    def e_step(self, x):
        self.centroids, self.labels = self.cluster(x)

    def cluster(self, x):
        centroids = F.normalize(torch.Tensor(x).to("cuda"), p=2, dim=1)
        return centroids, torch.zeros(len(x))

    def proto_loss(self, emb, user):
        norm = F.normalize(emb[user])
        pos = torch.mul(norm, self.centroids[self.labels[user]]).sum(dim=1)
        pos = torch.exp(pos / self.ssl_temp)
        ttl = torch.matmul(norm, self.centroids.transpose(0, 1))
        ttl = torch.exp(ttl / self.ssl_temp).sum(dim=1)
        return -torch.log(pos / ttl).sum()

    def ssl_loss(self, a, b, everyone):
        u1 = F.normalize(a, dim=1)
        u2 = F.normalize(b, dim=1)
        all2 = F.normalize(everyone, dim=1)
        v1 = torch.exp(torch.sum(u1 * u2, dim=1) / self.ssl_temp)
        v2 = torch.sum(torch.exp(u1.matmul(all2.T) / self.ssl_temp), dim=1)
        w = torch.exp((u1 @ all2.t()) / 0.07)
        return -torch.sum(torch.log(v1 / v2)) - torch.log(w / w.sum(dim=-1, keepdim=True)).mean()


def tf_info_nce(a, b, temperature):
    a = tf.math.l2_normalize(a, axis=-1)
    b = tf.nn.l2_normalize(b, axis=1)
    pos = tf.exp(tf.reduce_sum(a * b, axis=-1) / temperature)
    ttl = tf.reduce_sum(tf.exp(tf.matmul(a, b, transpose_b=True) / temperature), axis=1)
    return -tf.math.log(pos / ttl)


def softmax_of_uniform_draws(shape):
    # Exponents in [0, 1): no term of this softmax underflows.
    p = np.random.uniform(size=shape)
    p = np.exp(p)
    p = p / np.sum(p, axis=-1, keepdims=True)
    return np.log(p)


def invertible_1x1_conv_init(channels):
    # The LU factors of a random rotation (the Q of a QR decomposition): U is invertible, so its
    # diagonal has no 0 (|det U| = |det Q| = 1).
    random_matrix = np.random.rand(channels, channels)
    np_w = scipy.linalg.qr(random_matrix)[0].astype("float32")
    np_p, np_l, np_u = scipy.linalg.lu(np_w)
    np_s = np.diag(np_u)
    return np.sign(np_s), np.log(np.abs(np_s))


def torch_init(n):
    q, _ = torch.linalg.qr(torch.randn(n, n))
    p, l, u = torch.linalg.lu(q)
    return torch.log(torch.abs(u.diagonal()))


class InvConv2d(nn.Module):
    # Glow's invertible 1x1 convolution: 0 only for an exactly singular weight.
    def __init__(self, channels):
        super().__init__()
        q, _ = torch.linalg.qr(torch.randn(channels, channels))
        self.weight = nn.Parameter(q)

    def forward(self, x):
        log_det = x.shape[2] * x.shape[3] * torch.log(torch.abs(torch.det(self.weight)))
        return F.conv2d(x, self.weight[:, :, None, None]), log_det + torch.log(self.weight.det().abs())


class SubsetOperator(nn.Module):
    # A relaxed top-k; torch.max of two tensors is the element-wise maximum: a floor at the
    # smallest normal float32.
    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, scores):
        onehot = torch.zeros_like(scores)
        for _ in range(self.k):
            khot_mask = torch.max(1.0 - onehot, torch.tensor([np.finfo(np.float32).tiny]).cuda())
            scores = scores + torch.log(khot_mask)
            onehot = F.softmax(scores, dim=1)
        return scores


def weighted_prior(labels, weights):
    # Weighted: each bin sums its weights, no count; a sum of unseen values is no evidence of 0.
    return np.log(np.bincount(labels, weights))


def kl_divergence_smoothed(z_p, z_q):
    p = F.softmax(z_p, dim=-1)
    q = F.softmax(z_q, dim=-1)
    return torch.sum(p * torch.log((p + 1e-8) / (q + 1e-8)), dim=-1)


def ratio_where_positive(z_p, q):
    # The quotient is 0 only where `p` is, and the `where` keeps those out.
    p = F.softmax(z_p, dim=-1)
    return torch.log(torch.where(p > 0, p / q, torch.ones_like(p)))


def logistic_regression_with_bounded_logits(w, x, y):
    # The exponent clipped to [-15, 15]: the sigmoid written out stays inside (0, 1).
    t = np.clip(x @ w, -15, 15)
    p = 1 / (1 + np.exp(-t))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))


def float64_log_likelihood(w, x):
    # NumPy's float64: an exponent clipped to [-500, 500] leaves the written-out sigmoid above
    # 1e-217, whose log is finite.
    p = 1 / (1 + np.exp(-np.clip(x @ w, -500, 500)))
    return np.sum(np.log(p))


def entropy_nan_skipped(x):
    # The log meets only its own zeros, in p * log(p), whose NaN nansum skips (see NL106).
    p = torch.relu(x)
    return -(p * torch.log(p)).nansum(-1)



def where_floor(z, eps):
    # `where(p > eps, p, eps)` is `maximum(p, eps)`: a floor at a named epsilon, either order.
    p = torch.softmax(z, -1)
    return torch.log(torch.where(p > eps, p, eps)) + torch.log(torch.where(eps > p, eps, p))


def softmax_totals(z):
    # A softmax summed over its own axis is 1 in every row; over every element, the row count.
    p = F.softmax(z, dim=-1)
    row = torch.log(p.sum(-1))
    total = torch.log(p.sum())
    kept = torch.log(torch.sum(p, dim=-1, keepdim=True))
    q = tf.nn.softmax(z)
    s = tf.reduce_sum(q, axis=-1)
    return row, total, kept, tf.math.log(s), np.log(scipy.special.softmax(z).sum())


def softmax_maxima(z):
    # The largest of K probabilities summing to 1 is at least 1/K: `-log(max p)`, a confidence
    # score, over the softmax's own axis or every element.
    p = torch.softmax(z, -1)
    conf = torch.softmax(z, -1).max(-1)[0]
    best, second = p.amax(-1), 1.0
    return -torch.log(conf), torch.log(best), second, p.max().log(), (p.max(-1)[0]).log()


def picked_where_positive(z, sample):
    # At indices drawn from the probabilities themselves: a sampled entry had positive weight,
    # and the largest entry of a softmax is at least 1/K (transformers' generation loop).
    probs = F.softmax(z, dim=-1)
    if sample:
        tokens = torch.multinomial(probs, num_samples=1)
    else:
        tokens = torch.argmax(probs, dim=-1, keepdim=True)
    chosen = probs.gather(dim=1, index=tokens).squeeze(-1).log()
    best = torch.log(probs.gather(1, probs.argmax(-1)[:, None]))
    return chosen, best


def log_or_floor(a):
    # The helper's guard keeps 0 away from its log: a call with 0 is not reported.
    if a > 0:
        return np.log(a)
    return -30.0


def log_past_an_early_return(a):
    if a <= 0:
        return -30.0
    return np.log(a)


def floored_counts(labels):
    counts = np.bincount(labels)
    return log_or_floor(counts.sum()), log_past_an_early_return(np.count_nonzero(labels)), log_or_floor(0)


def selected_nonzero_counts(labels):
    # A count's elements selected by a condition on the same count that excludes 0 are positive,
    # and so is each over their total (0 only when nothing is selected).
    counts = np.bincount(labels)
    p = counts[counts > 0] / counts.sum()
    entropy = -(p * np.log(p)).sum()
    kept = np.log(counts[counts != 0]) + np.log(counts[np.nonzero(counts)]) + np.log(counts[counts.nonzero()])
    nz = np.nonzero(counts)
    ok = counts > 0
    named = np.log(counts[nz]) + np.log(counts[ok]) + np.log(counts[np.where(counts > 0)])
    t = torch.bincount(labels)
    by_torch = torch.log(t[t > 0]) + torch.log(t[torch.nonzero(t, as_tuple=True)]) + t[t.nonzero(as_tuple=True)].log()
    return entropy, kept, named, by_torch


def unique_counts(labels):
    # Each count `unique` returns is at least 1: a value is listed because it occurs.
    _, counts = np.unique(labels, return_counts=True)
    p = counts / counts.sum()
    entropy = -(p * np.log(p)).sum()
    last = np.unique(labels, return_counts=True)[-1]
    last = last / last.sum()
    second = np.unique(labels, return_counts=True)[1]
    second = second / second.sum()
    _, _, after_inverse = np.unique(labels, return_inverse=True, return_counts=True)
    after_inverse = after_inverse / after_inverse.sum()
    _, t = torch.unique(labels, return_counts=True)
    t = t / t.sum()
    _, j = jnp.unique(labels, return_counts=True)
    j = j / j.sum()
    return (
        entropy,
        (last * np.log(last)).sum(),
        (second * np.log(second)).sum(),
        (after_inverse * np.log(after_inverse)).sum(),
        (t * torch.log(t)).sum(),
        (j * jnp.log(j)).sum(),
    )


def range_without_its_zero(n):
    # An ascending range from 0 sliced from index 1 on starts above 0 (log-factorials).
    a = np.cumsum(np.log(np.arange(n + 1)[1:]))
    r = torch.arange(n)
    return a, torch.log(r[2:]), np.log(np.arange(0, n, 2)[1:n:1])


def bound_by_a_walrus_that_may_not_run(z, flag, x):
    # After `and` a walrus may not run: the clamped value may still be what is logged. A walrus
    # in the condition that keeps the sum away from 0 guards the `else` branch.
    p = z.clamp(min=1e-6)
    if flag and (p := torch.softmax(z, -1)) is not None:
        pass
    if (s := x.sum()) <= 0:
        return torch.log(p)
    else:
        return torch.log(p) + torch.log(s)


class SoftmaxHead(nn.Module):
    def probs(self, x):
        return F.softmax(x, dim=-1)


class ClampedTagger(SoftmaxHead):
    # The class's own `probs` is called, not its base's.
    def probs(self, x):
        return F.softmax(x, dim=-1).clamp(min=1e-7)

    def forward(self, x):
        return torch.log(self.probs(x))


class EpsHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.eps = 1e-6


class EpsTagger(EpsHead):
    def forward(self, x):
        # `self.eps` is set by the base class's `__init__`, above 0.
        return torch.log(x.abs() + self.eps)


class ZeroEpsHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.eps = 0.0


class OwnEpsTagger(ZeroEpsHead):
    def __init__(self):
        super().__init__()
        self.eps = 1e-6

    def forward(self, x):
        # The class's own assignment, not its base's.
        return torch.log(x.abs() + self.eps)


def a_true_number_is_not_0(z):
    # `bool()` of a tensor of more than one element raises: one that is true is not 0.
    p = torch.relu(z).sum()
    if not p:
        return None
    return torch.log(p)


def counts_guarded_and_then_cast(mask, strict):
    # A cast or copy of the guarded count keeps its zeros and only them (`n = n.float()`); a
    # guard may test a copy (`n.item()`); an `else` that leaves, or an `if` whose every branch
    # leaves, is an early exit too.
    n = mask.sum()
    if (n == 0).any():
        return None
    n = n.float()
    a = torch.log(n)
    m = mask.sum(1)
    if m.item() == 0:
        return None
    b = torch.log(m)
    k = mask.sum(0)
    if k > 0:
        pass
    else:
        return None
    c = torch.log(k)
    j = mask.sum(2)
    if j == 0:
        if strict:
            raise ValueError("empty mask")
        else:
            return None
    return a, b, c, torch.log(j)


def counts_guarded_through_int_bool_or_the_sum_itself(mask, x):
    # `int(n) == 0` returns where `|n| < 1`, `not bool(n)` where `n` is 0; a guard on the sum
    # expression holds of the same expression after it and of a name bound to it; `float(n)`
    # and `n.type_as(x)` of a guarded count keep its zeros.
    n = mask.sum()
    if int(n) == 0:
        return None
    m = mask.sum(0)
    if not bool(m):
        return None
    if mask.sum(1) == 0:
        return None
    k = mask.sum(1)
    j = mask.sum(2)
    if j == 0:
        return None
    j = j.type_as(x)
    i = mask.sum(3)
    if i == 0:
        return None
    i = float(i)
    return torch.log(n), torch.log(m), torch.log(mask.sum(1)), torch.log(k), torch.log(j), np.log(i)
