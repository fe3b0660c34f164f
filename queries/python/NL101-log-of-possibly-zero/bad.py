"""NL101 fixtures: every marked line holds a log that can see 0."""
import jax.numpy as jnp
import keras.backend as K
import numpy as np
import numpy as onp
import tensorflow as tf
import tensorflow.compat.v1 as tf1
import torch
import torch as th
import torch.nn.functional as F
from keras import ops
from tensorflow import math as tfm
from tensorflow.math import log as tf_log
from torch import log as tlog


def mnist_loss(x, W, b, y_):
    # The classic TF1 tutorial loss.
    y_conv = tf.nn.softmax(tf.matmul(x, W) + b)
    cross_entropy = -tf.reduce_sum(y_ * tf.log(y_conv))  # error: [NL101]
    return cross_entropy


def spellings(x):
    a = tf.math.log(x)  # error: [NL101]
    b = tf1.log(x)  # error: [NL101]
    c = tf.compat.v1.log(x)  # error: [NL101]
    d = tfm.log(x)  # error: [NL101]
    e = tf_log(x)  # error: [NL101]
    f = K.log(x)  # error: [NL101]
    g = ops.log2(x)  # error: [NL101]
    return a, b, c, d, e, f, g


def torch_losses(z, y):
    p = torch.softmax(z, dim=-1)
    nll = -(y * torch.log(p)).sum()  # error: [NL101]
    q = F.softmax(z, dim=-1)
    kl = (q * th.log(q)).sum()  # error: [NL101]
    bits = tlog(q)  # error: [NL101]
    return nll, kl, bits, torch.log10(z)  # error: [NL101]


def binary_cross_entropy(logits, y):
    p = torch.sigmoid(logits)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()  # error: [NL101, NL101]


def numpy_entropy(counts):
    p = counts / counts.sum()
    return -np.sum(p * np.log(p)), onp.log10(counts)  # error: [NL101, NL101]


def jax_loss(logits, labels):
    probs = jnp.exp(logits) / jnp.sum(jnp.exp(logits))
    return -jnp.mean(labels * jnp.log(probs))  # error: [NL101]


def guard_comes_too_late(p):
    loss = torch.log(p)  # error: [NL101]
    p = torch.clamp(p, min=1e-7)
    return loss


def zero_lower_bound(p):
    return tf.log(tf.clip_by_value(p, 0.0, 1.0))  # error: [NL101]


def multiline(y_true, y_pred):
    return -tf.reduce_sum(
        y_true * tf.math.log(  # error: [NL101]
            y_pred
        )
    )


def look_like_guards_but_are_not(x, y, n, num_positives):
    a = torch.log(torch.arange(n))  # error: [NL101]
    b = np.log(np.maximum(x, y))  # error: [NL101]
    c = torch.log(torch.clamp(x, min=0))  # error: [NL101]
    d = np.log(num_positives)  # error: [NL101]
    e = np.log(1 - 0.5 * 2)  # error: [NL101]
    return a, b, c, d, e


def decibels(v):
    # A constant factor is not 0: no NaN from 0 * -inf, and v is no probability.
    return 20 * np.log10(v)  # error: [NL101]


def log10(x, base):
    # Named like the function, but the argument is not a parameter passed through.
    return np.log10(x - base)  # error: [NL101]


def other_branch(x, mode):
    if mode == "safe":
        x = np.maximum(x, 1e-7)
    else:
        return np.log(x)  # error: [NL101]
    return np.log(1 - np.clip(x, 0.0, 1.0))  # error: [NL101]


def parameter_defaults(x, shift=0.0, scale=None):
    return np.log(shift), np.log(scale), np.log(x)  # error: [NL101, NL101, NL101]
