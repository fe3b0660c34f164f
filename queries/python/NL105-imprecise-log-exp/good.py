"""NL105 fixtures: nothing here may be reported."""
import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy.special import logsumexp


def precise(x):
    return np.log1p(x), torch.expm1(x), logsumexp(x, axis=-1), F.softplus(x)


def nothing_to_gain(x, n_steps: int, temperature=1.0):
    # Constants and configuration: computed once, nothing small to keep.
    a = np.log(1 + 2.0)
    b = np.log(1 + temperature)
    c = np.log(1 + np.arange(n_steps))
    d = math.log(1 + n_steps)
    # Integers: 1 + n is exact.
    e = torch.log(1 + torch.floor(x / 8))
    return a, b, c, d, e


def float64_numpy(x):
    # NumPy's float64 keeps 16 digits of 1 + x (its log-sum-exp written out is in NL203's bad.py:
    # precise, but it overflows past 709).
    return np.log(1 + x), np.exp(x) - 1


def defines_the_precise_form(lax):
    # JAX's jet rules compose log1p from log: the formula is the definition here.
    return {"log1p": lambda x: lax.log(1 + x), "expm1": lambda x: lax.exp(x) - 1}


def already_stable(x):
    # Shifted by the maximum: exp cannot overflow, one term is 1.
    m = x.max(axis=-1, keepdims=True)
    a = np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True)) + m
    # exp(-|x|) <= 1 cannot overflow.
    b = np.log(1 + np.exp(-np.abs(x))) + np.maximum(x, 0)
    return a, b


def suppressed(x):
    return np.log(1 + x)  # noqa: NL105
