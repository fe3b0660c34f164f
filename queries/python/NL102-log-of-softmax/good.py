"""NL102 fixtures: nothing here may be reported."""
import math

import numpy as np
import tensorflow as tf
import torch
import torch.nn.functional as F


def log_softmax_already(z):
    return F.log_softmax(z, dim=-1), tf.nn.log_softmax(z)


def guarded(z, eps=1e-8):
    a = torch.log(torch.softmax(z, -1) + eps)
    b = tf.math.log(tf.clip_by_value(tf.nn.softmax(z), 1e-7, 1.0))
    c = torch.log(torch.softmax(z, -1).clamp(min=1e-6))
    return a, b, c


def not_a_softmax(x):
    # exp(x) + 1 is above 1: neither a softmax nor a zero.
    p = np.exp(x) + 1.0
    return np.log(p), math.log(2.0)


def suppressed(z):
    return torch.log(torch.softmax(z, -1))  # noqa: NL102


def entropy_nan_skipped(z):
    # The log meets only its own zeros, in p * log(p), whose NaN nansum skips (see NL106).
    p = torch.softmax(z, -1)
    logp = torch.log(p)
    return -(p * torch.log(p)).nansum(-1), -(p * logp).nansum(-1)


def cosine_scores_over_a_temperature(z, prototypes):
    # Cosine similarities over 0.1 lie within [-10, 10]: the smallest softmax element is at
    # least e^-20 / K, far above float32's smallest subnormal.
    z = F.normalize(z, dim=1)
    w = F.normalize(prototypes, dim=1)
    return torch.log(F.softmax(z @ w.T / 0.1, dim=1))


def shadowed_by_a_parameter(x, F):
    # `F` is the caller's backend here, not torch.nn.functional: its softmax is unknown.
    return torch.log(F.softmax(x, -1))


def shadowed_by_a_local(x):
    np = make_backend()
    return np.log(np.softmax(x))


def unpacked_from_a_tuple_into_another_name(z):
    # `p` is `z`, not the softmax.
    q, p = torch.softmax(z, dim=-1), z
    return torch.log(p), q


def a_name_unpacked_twice(z):
    # The last target wins: `p` is `z`.
    p, p = torch.softmax(z, dim=-1), z
    return torch.log(p)
