"""NL204 fixtures: nothing here may be reported."""
import jax
import jax.numpy as jnp
import numpy as np
import tensorflow as tf
import torch


def kl_div(log_predictions, targets):
    # The field case: `targets` is data, no gradient flows into its log.
    loss = targets * (jnp.where(targets == 0, 0, jnp.log(targets)) - log_predictions)
    return jnp.sum(loss, axis=-1)


def double_where_loss(logits):
    p = torch.softmax(logits, dim=-1)
    return torch.where(p > 0, p * torch.log(torch.where(p > 0, p, 1.0)), torch.zeros_like(p))


def numpy_loss(x):
    p = np.clip(x, 0.0, 1.0)
    return np.where(p > 0, np.log(p), 0.0)


def no_grad_loss(logits):
    p = torch.softmax(logits, dim=-1)
    with torch.no_grad():
        return torch.where(p > 0, torch.log(p), torch.zeros_like(p))


def stopped_loss(x):
    d = jnp.sum(x ** 2)
    return jax.lax.stop_gradient(jnp.where(d > 0, jnp.sqrt(d), 0.0))


def condition_unrelated_loss(logits, keep):
    p = torch.softmax(logits, dim=-1)
    # The condition does not exclude p's zeros: a plain log of a softmax, NL101's matter.
    return torch.where(keep, torch.log(p + 1e-7), torch.zeros_like(p))


def count_loss(mask, n_total):
    n = mask.sum(-1)
    return torch.where(n > 0, torch.log(n), torch.zeros_like(n))


def selection_loss(x):
    y = torch.relu(x)
    return torch.where(y > 0, y * 2.0, torch.zeros_like(y)), tf.where(x > 0, x, tf.zeros_like(x))


def lamb_trust_ratio(w_norm, update):
    # An optimizer's update: no gradient passes through it.
    g_norm = tf.norm(update, ord=2)
    return tf.where(tf.greater(g_norm, 0), w_norm / g_norm, 1.0)


def suppressed_loss(logits):
    p = torch.softmax(logits, dim=-1)
    return torch.where(p > 0, torch.log(p), torch.zeros_like(p))  # noqa: NL204


def charbonnier_loss(img1, img2):
    # Regression (kornia): the discarded branch is never singular, `squared + 1.0` is at least 1.
    squared = (img1 - img2) ** 2
    small = squared < 1.0
    small_squared = torch.where(small, squared, 0.0)
    return torch.where(small, small_squared / ((small_squared + 1.0).sqrt() + 1.0), (squared + 1.0).sqrt() - 1.0)


def kl_divergence(y_true, y_pred):
    # A cast of a parameter is still data (edward's criticism): no gradient reaches its log.
    y_true = tf.cast(y_true, tf.float32)
    y_pred = tf.cast(y_pred, tf.float32)
    summand = tf.where(tf.equal(y_true, 0.0), tf.zeros_like(y_true), y_true * (tf.math.log(y_true) - tf.math.log(y_pred)))
    return tf.reduce_sum(summand) + tf.reduce_sum(tf.where(y_pred > 0, tf.math.log(tf.cast(y_pred, tf.float64)), 0.0))


def weighted_root(w, x):
    # jax.grad differentiates the first argument only (argnums=0): `x` is data here, and the
    # `where`'s discarded branch gets no gradient.
    return jnp.sum(w * jnp.where(x > 0, jnp.sqrt(x), 0.0))


grad_w = jax.grad(weighted_root)


def potential(x):
    # Named only in a comment and a string, `jax.grad(potential)` differentiates nothing.
    return jnp.sum(jnp.where(x > 0, jnp.sqrt(x), 0.0))


USAGE = "force = jax.grad(potential)"


def entropy_metric(model, x):
    # No loss name, no tape, no `.backward()`: an entropy reported as a metric.
    p = tf.nn.softmax(model(x))
    return -tf.reduce_sum(tf.where(p > 0, p * tf.math.log(p), 0.0))


def predictive_entropy(logits):
    # `entropy` is no loss word: entropies are as often uncertainty scores and metrics.
    p = torch.softmax(logits, dim=-1)
    return -torch.where(p > 0, p * torch.log(p), torch.zeros_like(p)).sum(-1)


def after_the_tape(model, x):
    # Only the code inside the `GradientTape` block is recorded.
    with tf.GradientTape() as tape:
        y = model(x)
    p = tf.nn.softmax(y)
    return tape, -tf.reduce_sum(tf.where(p > 0, p * tf.math.log(p), 0.0))


def update_then_evaluate(model, x, opt):
    loss = model(x).sum()
    loss.backward()
    opt.step()
    with torch.no_grad():
        p = torch.softmax(model(x), -1)
        return -torch.where(p > 0, p * torch.log(p), torch.zeros_like(p)).sum(-1)


def backward_of_a_value_given(model, x, loss):
    # `.backward()` of a parameter: nothing says this function computes what is differentiated.
    p = torch.softmax(model(x), -1)
    ent = -torch.where(p > 0, p * torch.log(p), torch.zeros_like(p)).sum(-1)
    loss.backward()
    return ent


# Module-level code of a file whose module-level code takes no gradient.
scores = torch.softmax(torch.randn(4, 3) @ torch.randn(3, 3), -1)
script_entropy = -torch.where(scores > 0, scores * torch.log(scores), torch.zeros_like(scores)).sum()


def gradient_norm_after_backward(model, x):
    # Code after the backward pass differentiates nothing (a review).
    out = model(x)
    out.sum().backward()
    n = sum(p.grad.norm() for p in model.parameters())
    return torch.where(n > 0, 1.0 / n, torch.zeros_like(n))


def tape_that_stops_recording(model, x):
    with tf.GradientTape() as tape:
        y = model(x)
        loss = tf.reduce_sum(y)
        with tape.stop_recording():
            p = tf.nn.softmax(y)
            ent = -tf.reduce_sum(tf.where(p > 0, p * tf.math.log(p), 0.0))
    return tape.gradient(loss, model.trainable_variables), ent
