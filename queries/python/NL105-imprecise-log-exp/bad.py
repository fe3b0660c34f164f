"""NL105 fixtures: every marked line loses precision or overflows where a library function does not."""
import jax.numpy as jnp
import keras.backend as K
import numpy as np
import tensorflow as tf
import tensorflow.compat.v1 as tf1
import torch
from keras import ops


def log_one_plus(x):
    # NumPy computes in float64 unless told; here it is told.
    a = np.log(1 + x.astype(np.float32))  # error: [NL105]
    b = torch.log(x + 1)  # error: [NL105]
    c = tf1.log(1.0 + x)  # error: [NL105]
    d = (1 + x).log()  # error: [NL105]
    e = K.log(1 + x)  # error: [NL105]
    return a, b, c, d, e


def exp_minus_one(x):
    a = np.exp(x.astype(np.float32)) - 1  # error: [NL105]
    b = tf.math.exp(x) - 1.0  # error: [NL105]
    c = x.exp() - 1  # error: [NL105]
    return a, b, c


def log_sum_exp(x):
    a = torch.log(torch.sum(torch.exp(x), dim=-1))  # error: [NL105]
    b = tf.math.log(tf.reduce_sum(tf.exp(x), axis=1, keepdims=True))  # error: [NL105]
    c = np.log(np.sum(np.exp(x.astype(np.float16)), axis=0))  # error: [NL105]
    d = jnp.log(jnp.exp(x).sum(axis=-1))  # error: [NL105]
    # `torch.logsumexp` requires `dim`: the fix flattens and takes dim 0.
    e = torch.log(torch.exp(x).sum())  # error: [NL105]
    # `dim=None` and `dim=()` sum every element too, and `torch.logsumexp` takes neither.
    f = torch.log(torch.sum(torch.exp(x), dim=None))  # error: [NL105]
    g = torch.log(torch.exp(x).sum(dim=()))  # error: [NL105]
    # Every element with `keepdim=True` keeps each axis as 1: reported, no fix.
    h = torch.log(torch.sum(torch.exp(x), dim=None, keepdim=True))  # error: [NL105]
    return a, b, c, d, e, f, g, h


def softplus_written_out(x):
    x32 = np.asarray(x, dtype=np.float32)
    a = np.log(1 + np.exp(x32))  # error: [NL105]
    b = torch.log(1 + torch.exp(x))  # error: [NL105]
    c = ops.log(1 + ops.exp(x))  # error: [NL105]
    return a, b, c


def imports_its_own_alias(x):
    # `F` exists only in this function: the other functions' fixes must not write `F.softplus`.
    import torch.nn.functional as F

    return F.relu(x)


c_softplus = torch.log(1 + torch.exp(torch.randn(3)))  # error: [NL105]


def tf_keras_backend(x):
    # `tf.keras.backend` has `log` and `exp` but no `log1p` or `expm1`: the fix writes
    # TensorFlow's, as for Keras 2's backend.
    import tensorflow.keras.backend as KB

    return KB.log(1 + x), KB.exp(x) - 1  # error: [NL105, NL105]
