"""NL104 fixtures: every marked line starts a cross-entropy written out on probabilities."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import tensorflow as tf
import tensorflow.compat.v1 as tf1
import torch
import torch.nn.functional as F
from keras import ops
from scipy.special import expit


def mnist_loss(x, W, b, y_):
    # The seed: the classic TF1 tutorial loss.
    y_conv = tf1.nn.softmax(tf1.matmul(x, W) + b)
    cross_entropy = -tf1.reduce_sum(y_ * tf1.log(y_conv))  # error: [NL104]
    return cross_entropy


def tutorial_mean(y, z):
    # Summed over axis 1 while the softmax is over -1: the same axis only for rank 2, which the
    # code does not say, so xlogy is the fix.
    p = tf.nn.softmax(z)
    return tf.reduce_mean(-tf.reduce_sum(y * tf.math.log(p), axis=[1]))  # error: [NL104]


def tf_per_example(y, z):
    p = tf.nn.softmax(z, axis=-1)
    return tf.reduce_mean(-tf.reduce_sum(y * tf.math.log(p), axis=-1))  # error: [NL104]


def keras_ops(y, z):
    p = ops.softmax(z)
    return -ops.sum(y * ops.log(p), axis=-1)  # error: [NL104]


def torch_classes_on_dim_1(y, z):
    p = F.softmax(z, dim=1)
    per_example = -(y * torch.log(p)).sum(dim=1)  # error: [NL104]
    total = -torch.sum(y * torch.log(p))  # error: [NL104]
    return per_example.mean(), total


def torch_last_dim(y, z):
    # `F.cross_entropy` takes classes on dim 1; the softmax here is over -1.
    p = torch.softmax(z, dim=-1)
    return -(y * torch.log(p)).sum(-1).mean()  # error: [NL104]


def jax_with_optax(y, z):
    p = jax.nn.softmax(z)
    return jnp.mean(-jnp.sum(y * jnp.log(p), axis=-1))  # error: [NL104]


def numpy_inline(y, z):
    return -np.sum(y * np.log(np.exp(z) / np.sum(np.exp(z))))  # error: [NL104]


def binary_torch(y, z):
    p = torch.sigmoid(z)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()  # error: [NL104]


def binary_tf(y, z):
    p = tf.sigmoid(z)
    return tf.reduce_mean(-(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p)))  # error: [NL104]


def binary_jax(y, z):
    p = jax.nn.sigmoid(z)
    return -jnp.mean(y * jnp.log(p) + (1 - y) * jnp.log(1 - p))  # error: [NL104]


def binary_numpy(y, z):
    p = expit(z)
    loss = -(  # error: [NL104]
        y * np.log(p)
        + (1 - y) * np.log(1 - p)
    )
    return loss.mean()


class SoftmaxClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(16, 4)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=-1)


def through_a_module_forward(x, y):
    # The module's every return is a softmax output: its caller's log is the same hazard (only
    # xlogy is offered here; the softmax to replace is in `forward`).
    model = SoftmaxClassifier()
    out = model(x)
    return -torch.sum(y * torch.log(out))  # error: [NL104]


def written_out_softmax(x):
    z = x - torch.max(x, dim=1, keepdim=True)[0]
    return torch.exp(z) / torch.sum(torch.exp(z), dim=1, keepdim=True)


def through_a_function(x, y):
    # Reduced from a continual-learning library's loss: its stable softmax still underflows.
    outputs = written_out_softmax(x)
    return -(y * outputs.log()).sum(1)  # error: [NL104]


def logistic_regression(w, x, y):
    # A sigmoid written out by hand: 1 - p rounds to 0 for x @ w above about 37 (float64).
    p = 1 / (1 + np.exp(-(x @ w)))
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))  # error: [NL104]


def written_sigmoid_of_a_name(z, y):
    # `z` is read again at the loss: the library's loss of `z` first.
    p = 1 / (1 + torch.exp(-z))
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()  # error: [NL104]


def written_sigmoid_logits_rebound(z, y):
    # `z` holds other values at the loss: xlogy only.
    p = 1 / (1 + torch.exp(-z))
    z = z * 2
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean() + z.sum()  # error: [NL104]


def half_precision_logistic(z, y):
    # In float16, exp(15) overflows and 1 + exp(-15) rounds to 1: the clip keeps neither end.
    z = z.half()
    p = 1 / (1 + torch.exp(-torch.clamp(z, -15, 15)))
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()  # error: [NL104]


def nested_log_inside_the_logits(x, y):
    # The fixed loss keeps its input, and the log of a ReLU in it.
    return -(y * torch.log(torch.softmax(torch.log(torch.relu(x)), -1))).sum(-1)  # error: [NL104, NL101]


def logits_written_through_an_alias(z, y):
    # Regression (a newcomer's trial): `w` is `z`, so `w *= 2` changes `z` after the softmax
    # read it: no fix reads `z` again at the loss.
    p = torch.softmax(z, -1)
    w = z
    w *= 2
    return -(y * torch.log(p)).sum(-1).mean()  # error: [NL104]


def one_hot_labels(z, labels):
    # `F.one_hot` gives int64: `cross_entropy` reads integer targets as class indices and
    # `binary_cross_entropy_with_logits` cannot cast its float result to them, so neither loss on
    # logits is offered (log_softmax and xlogy take them).
    y = F.one_hot(labels, 3)
    p = torch.softmax(z, 1)
    a = -torch.sum(y * torch.log(p), dim=1)  # error: [NL104]
    q = torch.sigmoid(z)
    t = torch.tensor([1, 0, 1])
    b = -(t * torch.log(q) + (1 - t) * torch.log(1 - q))  # error: [NL104]
    return a, b, -(y * torch.log(q) + (1 - y) * torch.log(1 - q))  # error: [NL104]
