"""NL202 fixtures: every marked line takes a root of a value that can be exactly 0, in
differentiated code that computes a model's output or a loss."""
import jax.numpy as jnp
import tensorflow as tf
import torch
import torch.nn as nn
import torch.nn.functional as F
from keras import layers, ops


def gwd_distance(sigma_p, sigma_t):
    # The field case: clamp(0), then sqrt.
    return (sigma_p.det() * sigma_t.det()).clamp(0).sqrt()  # error: [NL202]


def pairwise_distance(a, b):
    d2 = ((a[:, None] - b[None]) ** 2).sum(-1)
    return torch.sqrt(d2)  # error: [NL202]


def rmse(pred, target):
    return torch.sqrt(F.mse_loss(pred, target))  # error: [NL202]


def rmse_tf(y_true, y_pred):
    return tf.sqrt(tf.reduce_mean(tf.square(y_pred - y_true)))  # error: [NL202]


def hinge_loss(x):
    # TensorFlow's ReLU gradient at 0 times the root's inf is NaN.
    return tf.nn.relu(x) ** 0.5  # error: [NL202]


def clipped_distance(x):
    return jnp.sqrt(jnp.clip(x, 0.0))  # error: [NL202]


def tf_hinge_loss(x):
    return tf.sqrt(tf.maximum(x, 0.0))  # error: [NL202]


class Net(nn.Module):
    def forward(self, x, h):
        cube = torch.pow(torch.clamp(x, min=0.0), 1.0 / 3)  # error: [NL202]
        v = h.var(dim=-1)
        scale = v.pow(0.5)  # error: [NL202]
        rms = torch.mean(h ** 2, dim=-1, keepdim=True) ** 0.5  # error: [NL202]
        return cube, scale, rms


class Distance(layers.Layer):
    def call(self, a, b):
        return ops.sqrt(ops.sum(ops.square(a - b), axis=-1))  # error: [NL202]


def jax_distance_loss(a, b):
    return jnp.linalg.norm(a - b, axis=-1).mean()  # error: [NL202]


def jax_dx_dy_distance(p, q):
    dx = p[..., 0] - q[..., 0]
    dy = p[..., 1] - q[..., 1]
    return jnp.sqrt(dx ** 2 + dy ** 2)  # error: [NL202]


def tf_triplet_loss(u, v):
    diff = u - v
    return tf.norm(diff, axis=1)  # error: [NL202]


def multi_line_distance(a, b):
    return torch.sqrt(  # error: [NL202]
        (a - b).pow(2).sum(dim=-1)
    )


def jax_spectral_distance(a, b):
    # `ord=2` of a matrix is its largest singular value, not the root of its sum of squares
    # (the Frobenius norm): no fix rewrites it as one; with one integer axis it is a vector's.
    s = jnp.linalg.norm(a - b, ord=2)  # error: [NL202]
    t = jnp.linalg.norm(a - b, ord=2, axis=(-2, -1))  # error: [NL202]
    return s + t + jnp.linalg.norm(a - b, ord=2, axis=-1).sum()  # error: [NL202]


def tf_spectral_distance(a, b):
    return tf.norm(a - b, ord=2, axis=[-2, -1]) + tf.norm(a - b, ord=2)  # error: [NL202, NL202]


def detached_on_one_path_loss(d, y):
    # `s` is detached only when the `if` is taken; `q` starts a graph of its own again.
    s = d.clamp(min=0)
    if y.sum() > 0:
        s = s.detach()
    q = d.clamp(min=0).detach().requires_grad_()
    return s.sqrt(), q.sqrt()  # error: [NL202, NL202]


def cast_like_a_detached_tensor_loss(d, x):
    # Only `x` is detached: `type_as` reads its dtype, the root's argument still carries d's
    # gradient.
    return d.clamp(min=0).type_as(x.detach()).sqrt()  # error: [NL202]
