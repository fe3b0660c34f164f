"""NL203 fixtures: every marked line normalizes, sums or inverts an exp that can overflow."""
import jax.numpy as jnp
import numpy as np
import tensorflow as tf
import torch
import torch.nn.functional as F
from keras import backend as K
from keras import ops


def softmax_torch(logits):
    e = torch.exp(logits)
    return e / e.sum(dim=-1, keepdim=True)  # error: [NL203]


def softmax_numpy(x):
    return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)  # error: [NL203]


def softmax_tf(z):
    return tf.exp(z) / tf.reduce_sum(tf.exp(z), axis=-1, keepdims=True)  # error: [NL203]


def softmax_jax_all(x, temperature):
    scaled = x / temperature
    weights = jnp.exp(scaled)
    return weights / jnp.sum(weights)  # error: [NL203]


def softmax_method(scores):
    w = scores.exp()
    return w / w.sum(1, keepdim=True)  # error: [NL203]


def softmax_over_cold_cosines(a, b):
    # Cosines of unit vectors are in [-1, 1]; over 0.01 they reach 100, past exp's threshold.
    a = F.normalize(a, dim=1)
    b = F.normalize(b, dim=1)
    sims = torch.matmul(a, b.transpose(0, 1)) / 0.01
    e = torch.exp(sims)
    return e / e.sum(dim=1, keepdim=True)  # error: [NL203]


def log_sum_exp(scores):
    return torch.log(torch.sum(torch.exp(scores), dim=1))  # error: [NL105]


def log_sum_exp_tf(scores):
    return tf.math.log(tf.reduce_sum(tf.exp(scores), axis=-1, keepdims=True))  # error: [NL105]


def log_mean_exp(x):
    return np.log(np.mean(np.exp(x)))  # error: [NL203]


def logcosh(y_true, y_pred):
    def cosh(x):
        return (K.exp(x) + K.exp(-x)) / 2  # error: [NL203]

    return K.mean(K.log(cosh(y_pred - y_true)), axis=-1)


def tanh_by_hand(x):
    return (ops.exp(x) - ops.exp(-x)) / (ops.exp(x) + ops.exp(-x))  # error: [NL203]


def gate_loss(z):
    return 1 / (1 + torch.exp(-z))  # error: [NL203]


def gate_tf_loss(z):
    return 1.0 / (tf.exp(-z) + 1.0)  # error: [NL203]


def gate_method_loss(z):
    return 1 / (1 + (-z).exp())  # error: [NL203]


def numpy_logistic(x):
    # inf / inf in the value itself.
    return np.exp(x) / (1 + np.exp(x))  # error: [NL203]


def float64_log_sum_exp(x):
    # Precise in float64 (not NL105's), yet exp overflows past 709.
    return np.log(np.sum(np.exp(x), axis=-1))  # error: [NL203]


def scaled_or_unbounded_exponents(h):
    # A bounded output scaled past the threshold, and functions with no bound (sinh, atanh).
    a = torch.tanh(h) * 100
    b = torch.sinh(h)
    c = torch.atanh(h)
    d = torch.exp(a) + torch.exp(-a)  # error: [NL203]
    return d, torch.exp(b) + torch.exp(-b), torch.exp(c) + torch.exp(-c)  # error: [NL203, NL203]


def softmax_across_a_loop(logits):
    # `e` holds exp of the first pass's logits; a later pass divides it after `logits` changed:
    # `softmax(logits)` there would read the new ones, so no fix is offered. Within one pass,
    # the exp and the division together, it stays.
    e = torch.exp(logits)
    out = []
    for _ in range(2):
        out.append(e / e.sum(dim=-1, keepdim=True))  # error: [NL203]
        logits = logits * 2
        f = torch.exp(logits)
        out.append(f / f.sum(dim=-1, keepdim=True))  # error: [NL203]
    return out


def info_nce_diagonal_over_cold_cosines(a, b):
    # The positives are the diagonal of the same exponentials: inf / inf once a cosine over 0.01
    # passes 88.7.
    a = F.normalize(a, dim=-1)
    b = F.normalize(b, dim=-1)
    e = torch.exp(a @ b.T / 0.01)
    return -torch.log(e.diag() / e.sum(-1)).mean()  # error: [NL101, NL203]
