"""NL101 fixtures: nothing here may be reported."""
import math

import keras.backend as K
import numpy as np
import tensorflow as tf
import torch
import torch.nn.functional as F

EPS = 1e-8


def clipped(y_, y_conv):
    y_conv = tf.clip_by_value(y_conv, 1e-10, 1.0)
    return -tf.reduce_sum(y_ * tf.log(y_conv))


def epsilon_added(x, eps=1e-6):
    return tf.math.log(x + eps), tf.math.log(x + EPS), np.log(x + 1e-9), K.log(x + K.epsilon())


def tiny_from_finfo(x):
    return np.log(x + np.finfo(np.float32).eps), torch.log(x + torch.finfo(x.dtype).tiny)


def clamped_methods(p):
    a = torch.log(p.clamp(min=1e-7))
    b = torch.log(torch.clamp(p, min=1e-7, max=1.0))
    p.clamp_(min=1e-6)
    return a, b, torch.log(p)


def maxima(x):
    return tf.math.log(tf.maximum(x, 1e-12)), np.log(np.maximum(x, 1e-12)), np.log(max(x, 1e-3))


def exponentials(z):
    return tf.math.log(tf.exp(z)), torch.log(z.exp()), np.log(2.0)


def double_where(x):
    safe = tf.where(x > 0, x, tf.ones_like(x))
    return tf.where(x > 0, tf.math.log(safe), tf.zeros_like(x))


class Layer:
    def __init__(self):
        self.eps = 1e-5

    def __call__(self, x):
        return torch.log(x + self.eps)


def not_numeric(msg, logger):
    # Loggers and the standard library are not numeric hazards.
    logger.log(msg)
    math.log(2)
    return F.log_softmax(msg, dim=-1)


def suppressed(p):
    return torch.log(p)  # noqa: NL101


def constants_and_constructors(x, n):
    a = np.log(2.0 * np.pi) + np.log((1 - 0.01) / 0.01) + np.log(np.sqrt(2 * math.pi)) + np.log(2**10)
    b = torch.log(torch.tensor(10.0)) + tf.math.log(tf.constant(10, x.dtype)) + torch.log(torch.full((), 1e4))
    c = torch.log(torch.arange(1, n + 1).float())
    return a, b, c


MIN_PROB = 1e-6
TWO_PI = 2 * np.pi


def module_constants(p):
    return torch.log(p + MIN_PROB), np.log(TWO_PI)


def named_bounds(probs, threshold, mel_spec, mel_floor, dt):
    # A lower bound someone wrote is a guard, whatever its value.
    a = torch.log(probs.clamp(min=threshold))
    b = np.log(np.maximum(mel_spec, mel_floor))
    # 1 - exp(-dt) > 0 where dt > 0.
    c = torch.log(-torch.expm1(-dt.clamp(min=1e-4)))
    A = torch.arange(1, 17, dtype=torch.float32)[None, :].expand(4, -1).contiguous()
    return a, b, c, torch.log(A)


def structural_sizes(stride, window_length):
    return np.log2(stride), np.log2(window_length)


def log(x, dtype=None):
    # A backend's own `log` passes its argument through; its callers are checked.
    return np.log(x, dtype=dtype)


def reductions_and_limits(x, max_x, temperature):
    lse = np.log(np.sum(np.exp(x))) + np.log(np.exp(x - max_x).sum(axis=1))
    return lse, np.log(np.finfo(np.float32).max), np.log(1 / temperature)


def clipped_on_both_sides(output, target):
    output = np.clip(output, K.epsilon(), 1.0 - K.epsilon())
    bce = target * np.log(output)
    bce += (1.0 - target) * np.log(1.0 - output)
    return bce + torch.log(1 - torch.clamp(output, max=0.5))


def branches(spectrogram, mode):
    spectrogram = np.maximum(1e-10, spectrogram)
    if mode == "log":
        spectrogram = np.log(spectrogram)
    elif mode == "log10":
        # The assignment in the branch above never reaches here; the maximum does.
        spectrogram = np.log10(spectrogram)
    return spectrogram


def parameter_defaults(k_init: float = 0.75, max_val=1.0):
    return torch.log(torch.tensor(k_init)), 20 * np.log10(max_val)
