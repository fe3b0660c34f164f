"""NL202 fixtures: nothing here may be reported."""
import math

import jax
import jax.numpy as jnp
import numpy as np
import tensorflow as tf
import torch
import torch.nn.functional as F

EPS = 1e-8


def guarded_distance(a, b, x, v):
    d2 = ((a - b) ** 2).sum(-1)
    p = torch.sqrt(d2 + 1e-7)
    q = (x.clamp(1e-7)).sqrt()
    r = torch.sqrt(torch.clamp(d2, min=EPS))
    s = torch.sqrt(v.var(-1) + 1e-5)
    t = tf.sqrt(tf.maximum(tf.reduce_sum(tf.square(a - b)), 1e-12))
    return p, q, r, s, t


def numpy_distance(a, b):
    return np.sqrt(((a - b) ** 2).sum(-1)), np.linalg.norm(a - b)


def no_gradient_distance(a, b):
    with torch.no_grad():
        d = torch.sqrt(((a - b) ** 2).sum(-1))
    e = torch.sqrt(((a - b) ** 2).sum(-1)).detach()
    f = jax.lax.stop_gradient(jnp.sqrt(jnp.sum((a - b) ** 2)))
    return d, e, f


def detached_distance(d, x, y):
    # The root's argument is detached: no gradient reaches what was clipped.
    a = d.clamp(min=0).detach().sqrt()
    b = torch.sqrt(d.clamp(0).detach())
    c = tf.sqrt(tf.stop_gradient(tf.nn.relu(x)))
    e = jnp.sqrt(jax.lax.stop_gradient(jnp.maximum(y, 0.0)))
    # A name bound only to a detached value, and what is computed from detached values and
    # constants alone.
    r = d.clamp(min=0).detach()
    f = r.sqrt()
    g = torch.sqrt(d.clamp(0).detach()) ** 0.5
    h = (d.clamp(min=0).detach() * 2).sqrt()
    # Moved to a device, cast or reshaped after the cut: no gradient reaches a device, a dtype
    # or a shape.
    k = d.clamp(min=0).detach().to("cuda").sqrt()
    m = torch.sqrt(d.clamp(0).detach().to(x.device).float().view(-1, x.shape[-1]))
    return a, b, c, e, f, g, h, k, m


@torch.no_grad()
def evaluate_rmse(pred, target):
    return torch.sqrt(F.mse_loss(pred, target))


@torch.inference_mode()
def infer_rmse(pred, target):
    return torch.sqrt(F.mse_loss(pred, target))


def torch_norm_distances(a, b):
    return torch.norm(a - b, dim=-1), torch.linalg.vector_norm(a - b), torch.dist(a, b)


def no_evidence_loss(x, mask, d_model, scores):
    a = torch.sqrt(x)
    b = x ** 0.5
    c = scores / math.sqrt(d_model)
    d = torch.sqrt(mask.sum(-1))
    e = torch.sqrt(torch.tensor(d_model, dtype=torch.float32))
    return a, b, c, d, e


def statistics(a, b):
    # Not a forward pass nor a loss: tensor code no gradient is known to pass through.
    return torch.sqrt(((a - b) ** 2).sum(-1))


class AudioFeatureExtractor:
    def forward(self, waveform):
        return waveform.square().mean(-1).sqrt()


class DistanceTest:
    def test_distance(self, a, b):
        return torch.sqrt(((a - b) ** 2).sum(-1))


def relu_root_loss(x):
    # PyTorch's and JAX's ReLU select a 0 gradient where the input is not positive.
    return F.relu(x) ** 0.5, jnp.sqrt(jax.nn.relu(x))


def other_powers_loss(x):
    return F.relu(x) ** 2, F.relu(x) ** 1.5, x.clamp(0) ** 1


def suppressed_distance(a, b):
    return torch.sqrt(((a - b) ** 2).sum(-1))  # noqa: NL202
