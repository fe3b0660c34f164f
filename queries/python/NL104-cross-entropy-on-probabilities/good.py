"""NL104 fixtures: nothing here may be reported."""
import optax
import tensorflow as tf
import torch
import torch.nn.functional as F


def library_losses(y, z):
    a = tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=z)
    b = F.cross_entropy(z, y)
    c = F.binary_cross_entropy_with_logits(z, y)
    d = optax.softmax_cross_entropy(z, y)
    return a, b, c, d


def log_space(y, z):
    return -(y * F.log_softmax(z, dim=-1)).sum(-1), -tf.reduce_sum(y * tf.nn.log_softmax(z))


def guarded(y, z):
    p = torch.softmax(z, dim=-1)
    return -(y * torch.log(p.clamp(min=1e-7))).sum(-1), -(y * torch.log(p + 1e-7)).sum(-1)


def suppressed(y, z):
    p = torch.softmax(z, dim=-1)
    return -(y * torch.log(p)).sum(-1)  # noqa: NL104


def probabilities_or_logits(z, as_probabilities):
    if as_probabilities:
        return F.softmax(z, dim=-1)
    return z


def a_function_that_may_return_logits(y, z):
    # One of its returns is not in [0, 1]: its output is not known to be probabilities.
    out = probabilities_or_logits(z, False)
    return -(y * torch.log(out)).sum(-1)
