"""NL204 fixtures: every marked line guards a singular operation with a single `where` in
differentiated code."""
import jax.numpy as jnp
import tensorflow as tf
import torch
from keras import ops


def entropy_loss(logits):
    p = torch.softmax(logits, dim=-1)
    return -torch.where(p > 0, p * torch.log(p), torch.zeros_like(p)).sum(-1)  # error: [NL204]


def masked_mean_loss(x, mask):
    total = (x * mask).sum(-1)
    n = mask.sum(-1)
    return torch.where(n > 0, total / n, torch.zeros_like(total))  # error: [NL204]


def softplus_by_hand_loss(net, x):
    g = net(x)
    # exp overflows in the branch the where discards above 20.
    return torch.where(g > 20.0, g, torch.log(1.0 + torch.exp(g)))  # error: [NL204]


def jax_distance(a, b):
    d2 = jnp.sum((a - b) ** 2, axis=-1)
    return jnp.where(d2 > 0, jnp.sqrt(d2), 0.0)  # error: [NL204]


def log_ratio_loss(scores, labels):
    q = tf.nn.sigmoid(scores)
    return tf.where(tf.equal(q, 0.0), tf.zeros_like(q), labels * tf.math.log(q))  # error: [NL204]


def keras_power_loss(h):
    r = ops.relu(h)
    return ops.where(r > 0, r ** 0.5, 0.0)  # error: [NL204]


class Head(torch.nn.Module):
    def forward(self, logits):
        p = logits.softmax(-1)
        ok = p > 0
        return torch.where(ok, p.log(), torch.zeros_like(p))  # error: [NL204]


def multi_line_loss(z):
    p = torch.sigmoid(z)
    return torch.where(  # error: [NL204]
        p < 1,
        torch.log(1 - p),
        torch.zeros_like(p),
    )


def masked_mean_loss(x, mask):
    # `n.float()` of a count: the guard on `n` guards it, for the value only.
    n = mask.sum()
    total = (x * mask).sum()
    return torch.where(n > 0, total / n.float(), torch.zeros_like(total))  # error: [NL204]


def kl_of_a_cast_output(logits):
    # A cast of a computed value carries its gradient.
    y_true = tf.cast(tf.nn.relu(logits), tf.float32)
    summand = tf.where(tf.equal(y_true, 0.0), tf.zeros_like(y_true), y_true * tf.math.log(y_true))  # error: [NL204]
    return tf.reduce_sum(summand)


class Scaled(torch.nn.Module):
    # A cast of a trained parameter carries its gradient (an attribute is no data).
    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(2))

    def forward(self, x):
        s = self.scale.to(x.dtype)
        return x * torch.where(s > 0, torch.log(s), 0.0)  # error: [NL204]


def energy(x):
    # Not named for a loss, but differentiated below: its first parameter receives the gradient.
    return torch.where(x > 0, torch.sqrt(x), 0.0).sum()  # error: [NL204]


force = torch.func.grad(energy)


def step(model, x, opt):
    # A `GradientTape` block is differentiated code whatever the function's name.
    with tf.GradientTape() as tape:
        p = tf.nn.softmax(model(x))
        loss = -tf.reduce_sum(tf.where(p > 0, p * tf.math.log(p), 0.0))  # error: [NL204]
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))


def update(model, x, opt):
    # The function calls `.backward()` on what it computes: that code is differentiated.
    p = torch.softmax(model(x), -1)
    ent = -torch.where(p > 0, p * torch.log(p), torch.zeros_like(p)).sum(-1).mean()  # error: [NL204]
    opt.zero_grad()
    ent.backward()
    opt.step()


def amp_update(model, x, scaler):
    d = model(x)
    total = torch.where(d > 0, torch.sqrt(d), torch.zeros_like(d)).sum()  # error: [NL204]
    scaler.scale(total).backward()


# A script: its module-level code calls `.backward()`, so module-level code is training code; a
# tensor made with `requires_grad=True` carries the gradient whatever its value.
leaf = torch.tensor([200.0, 0.0, -200.0], requires_grad=True)
q = torch.softmax(leaf, -1)
script_loss = -torch.where(q > 0, q * torch.log(q), torch.zeros_like(q)).sum()  # error: [NL204]
script_loss.backward()
