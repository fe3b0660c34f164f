"""NL203 fixtures: nothing here may be reported."""
import jax
import jax.numpy as jnp
import numpy as np
import tensorflow as tf
import torch
import torch.nn.functional as F
from keras import backend as K
from keras import ops


def shifted(logits, x, z):
    e = torch.exp(logits - logits.max(dim=-1, keepdim=True).values)
    a = e / e.sum(dim=-1, keepdim=True)
    m = np.max(x, axis=1, keepdims=True)
    b = np.exp(x - m) / np.sum(np.exp(x - m), axis=1, keepdims=True)
    c = tf.exp(z - tf.reduce_max(z, axis=-1, keepdims=True))
    return a, b, c / tf.reduce_sum(c, axis=-1, keepdims=True)


def shifted_by_logsumexp(x):
    return jnp.exp(x - jax.nn.logsumexp(x, axis=-1, keepdims=True))


def shifted_with_new_axes(logits):
    m = logits.max(axis=-1)
    s = jnp.exp(logits - m[..., None])
    return s / s.sum(axis=-1)[..., None]


def gaussian(x, sigma):
    g = jnp.exp(-(x ** 2) / (2.0 * sigma ** 2))
    return g / jnp.sum(g)


def lowering(a):
    # Not a forward pass nor a loss: no gradient is known to pass here.
    return 1 / (1 + jnp.exp(-a))


def tempered(x, temperature):
    w = jnp.exp((x - jnp.max(x)) / temperature)
    return w / w.sum()


def log_probabilities(z):
    p = torch.exp(F.log_softmax(z, dim=-1))
    return p / p.sum(-1, keepdim=True)


def library_functions(x, z):
    return torch.softmax(x, -1), torch.logsumexp(x, 1), torch.sigmoid(z), tf.math.reduce_logsumexp(x)


def plain_exp(logvar, mu, eps):
    std = torch.exp(0.5 * logvar)
    return mu + eps * std


def bounded(x):
    w = np.exp(-x ** 2)
    return w / w.sum(), np.log(np.sum(np.exp(np.clip(x, -50.0, 50.0))))


def numpy_sigmoid(x):
    # The value is right (1 / inf = 0) and NumPy has no gradient.
    return 1 / (1 + np.exp(-x))


def no_grad_sigmoid(z):
    with torch.no_grad():
        return 1 / (1 + torch.exp(-z))


def logcosh(y_true, y_pred):
    def _logcosh(x):
        return x + K.softplus(-2.0 * x) - K.log(2.0)

    return K.mean(_logcosh(y_pred - y_true), axis=-1)


def transposed(similarity):
    e = torch.exp(similarity)
    t = e.T
    # Reported, but no fix: the numerator is not the exponential itself.
    return t / torch.sum(t, dim=0, keepdims=True)  # noqa: NL203


def suppressed(x):
    return np.exp(x) / np.sum(np.exp(x))  # noqa: NL203


def info_nce(a, b, ssl_tau):
    # Cosine similarities of L2-normalized embeddings over a temperature: the exponents lie in
    # [-1 / tau, 1 / tau], far below the overflow threshold for any temperature in use.
    a = F.normalize(a, dim=1)
    b = F.normalize(b, dim=1)
    pos = torch.exp(torch.sum(a * b, dim=1) / ssl_tau)
    ttl = torch.sum(torch.exp(a.matmul(b.T) / ssl_tau), dim=1)
    return -torch.sum(torch.log(pos / ttl))


def softmax_over_warm_cosines(a, b):
    # Cosines of unit vectors over 0.07 reach 1 / 0.07 = 14.3, far below exp's threshold.
    a = F.normalize(a, dim=1)
    b = F.normalize(b, dim=1)
    e = torch.exp(torch.matmul(a, b.transpose(0, 1)) / 0.07)
    return e / e.sum(dim=1, keepdim=True)


class BoundedExponents(torch.nn.Module):
    # tanh, sin, cos and erf lie in [-1, 1]: exp(x) and exp(-x) stay within [1/e, e].
    def __init__(self):
        super().__init__()
        self.act = torch.nn.Tanh()

    def forward(self, h, theta):
        a = torch.tanh(h)
        b = h.tanh()
        c = torch.cos(theta)
        d = torch.erf(h)
        e = self.act(h)
        f = torch.special.erf(theta).sin()
        return (
            torch.exp(a) + torch.exp(-a),
            torch.exp(b) + torch.exp(-b),
            torch.exp(c) + torch.exp(-c),
            torch.exp(d) + torch.exp(-d),
            torch.exp(e) + torch.exp(-e),
            torch.exp(f) + torch.exp(-f),
        )


def bounded_exponents_elsewhere(h):
    a = tf.math.tanh(h)
    b = np.sin(h)
    c = jnp.cos(h)
    d = ops.erf(h)
    return tf.exp(a) + tf.exp(-a), np.exp(b) + np.exp(-b), jnp.exp(c) + jnp.exp(-c), ops.exp(d) + ops.exp(-d)


class FactorIndependence(torch.nn.Module):
    # Cosines over a configured temperature, the positives on the diagonal (KGIN's mutual
    # information): the exponents are bounded by the configuration, not known to overflow.
    def __init__(self, temperature):
        super().__init__()
        self.temperature = temperature

    def forward(self, factors):
        f = F.normalize(factors, dim=1)
        scores = torch.exp(torch.mm(f, f.t()) / self.temperature)
        return -torch.sum(torch.log(scores.diag() / scores.sum(1)))
