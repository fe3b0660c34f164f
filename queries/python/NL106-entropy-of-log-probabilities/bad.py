"""NL106 fixtures: every marked line starts an entropy of probabilities that can be 0."""
import jax
import jax.numpy as jnp
import numpy as np
import tensorflow as tf
import torch
import torch.nn.functional as F
from scipy import special


def token_entropy(logits):
    # Masked vocabulary entries are -inf: exp(-inf) * -inf = 0 * -inf = NaN.
    logp = F.log_softmax(logits, dim=-1)
    return -(torch.exp(logp) * logp).sum(-1)  # error: [NL106]


def method_forms(logits):
    logp = logits.log_softmax(-1)
    p = logits.softmax(-1)
    a = -(logp.exp() * logp).sum(-1).mean()  # error: [NL106]
    b = -(p * p.log()).sum(-1)  # error: [NL106]
    return a, b


def probabilities(z):
    p = tf.nn.softmax(z)
    return -tf.reduce_sum(p * tf.math.log(p), axis=-1)  # error: [NL106]


def numpy_and_jax(z):
    p = special.softmax(z, axis=-1)
    logq = jax.nn.log_softmax(z)
    a = -np.sum(p * np.log(p), axis=-1)  # error: [NL106]
    b = -jnp.sum(jnp.exp(logq) * logq, axis=-1)  # error: [NL106]
    return a, b


def weighted_entropy(z, w):
    # A softmax output scaled by weights is 0 where the softmax output is.
    q = w * torch.softmax(z, dim=-1)
    return -(q * torch.log(q)).sum(-1)  # error: [NL106]


def entropy_through_a_name(logits):
    # The probabilities bound to a name first (the newcomer's form).
    logp = F.log_softmax(logits, dim=-1)
    p = logp.exp()
    return -(p * logp).sum(-1)  # error: [NL106]


def entropy_kept_by_name(logits):
    # `h` is summed by `nansum` once, and by `sum` too: that NaN is not discarded.
    logp = F.log_softmax(logits, dim=-1)
    h = logp.exp() * logp  # error: [NL106]
    return -h.nansum(-1), -h.sum(-1)


def entropy_read_in_a_lambda(logits):
    # The lambda reads `h` too, with `sum`: not every use skips the NaN.
    logp = F.log_softmax(logits, dim=-1)
    h = logp.exp() * logp  # error: [NL106]
    return -h.nansum(-1), lambda: -h.sum(-1)


def entropy_in_a_loop(logits, n):
    # `total` reads the previous pass's `h` before it is bound again.
    total = 0.0
    for _ in range(n):
        if total:
            total = total + h.sum()
        logp = F.log_softmax(logits, dim=-1)
        h = logp.exp() * logp  # error: [NL106]
        total = total - h.nansum()
    return total
