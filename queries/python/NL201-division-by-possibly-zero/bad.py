"""NL201 fixtures: every marked line divides by a value that can be exactly 0."""
import jax.numpy as jnp
import numpy as np
import tensorflow as tf
import torch
import torch as th
import torch.nn.functional as F
from keras import ops


def masked_mse(pred, target, masks):
    # The field case: an empty mask gives 0 / 0.
    loss = F.mse_loss(pred, target, reduction="none") * masks
    return loss.sum([1, 2, 3]) / masks.sum([1, 2, 3])  # error: [NL201]


def mean_pooling(hidden, attention_mask):
    m = attention_mask.unsqueeze(-1).float()
    summed = (hidden * m).sum(1)
    counts = m.sum(1)
    return summed / counts  # error: [NL201]


def token_accuracy(logits, labels, pad_id):
    mask = tf.cast(tf.not_equal(labels, pad_id), tf.float32)
    hits = tf.cast(tf.equal(tf.argmax(logits, -1), labels), tf.float32) * mask
    n = tf.reduce_sum(mask)
    return tf.reduce_sum(hits) / n  # error: [NL201]


def nonzero_mean(x):
    return np.sum(x) / np.count_nonzero(x)  # error: [NL201]


def unit(x):
    return x / x.norm(dim=-1, keepdim=True)  # error: [NL201]


def unit_tf(v):
    return v / tf.norm(v, axis=-1, keepdims=True)  # error: [NL201]


def unit_jax(v):
    return v / jnp.linalg.norm(v)  # error: [NL201]


def standardize(x):
    return (x - x.mean()) / x.std()  # error: [NL201]


def standardize_np(a):
    return (a - a.mean(0)) / np.std(a, axis=0)  # error: [NL201]


def min_max(img):
    return (img - img.min()) / (img.max() - img.min())  # error: [NL201]


def calls(scores, mask, z):
    n = mask.sum(-1)
    a = torch.div(scores.sum(-1), n)  # error: [NL201]
    b = th.true_divide(scores.sum(-1), n)  # error: [NL201]
    c = scores.sum(-1).div(n)  # error: [NL201]
    d = n.reciprocal()  # error: [NL201]
    e = tf.math.divide(tf.reduce_sum(z), tf.math.count_nonzero(z, dtype=tf.float32))  # error: [NL201]
    f = ops.divide(  # error: [NL201]
        ops.sum(z),
        ops.sum(mask),
    )
    return a, b, c, d, e, f


def in_place(total, mask):
    total /= mask.sum()  # error: [NL201]
    return total


def as_python_number(correct, mask):
    seen = mask.sum().item()
    return correct / seen  # error: [NL201]


def guard_comes_too_late(x, mask):
    n = mask.sum()
    y = x / n  # error: [NL201]
    n = n.clamp(min=1)
    return y, x / n


def literal_zero(x):
    return x / 0.0  # error: [NL201]


def class_weights(labels, num_classes):
    # A class absent from the batch has count 0.
    counts = torch.bincount(labels, minlength=num_classes)
    return counts.sum() / counts  # error: [NL201]


def condition_on_an_older_count(s, labels, other):
    n = torch.bincount(labels)
    m = n.float()
    n = torch.bincount(other)
    # `m > 0` says nothing of the new `n`.
    return torch.where(m > 0, s / n, 0.0)  # error: [NL201]


def count_bound_in_a_condition(x, mask):
    # A walrus in the condition binds the count; the condition does not exclude 0.
    if (n := mask.sum()) is not None:
        return x.sum() / n  # error: [NL201]


def loop_left_by_a_break_while_the_count_is_0(x, mask, tries):
    # The `break` leaves the loop where its condition still holds.
    while (n := mask.sum()) == 0:
        if tries == 0:
            break
        mask = mask + 1
    return x.sum() / n  # error: [NL201]


def loop_with_an_else(x, mask):
    # Its `else` runs after the last test, and could rebind the count.
    while (n := mask.sum()) == 0:
        mask = mask + 1
    else:
        n = mask.sum(0)
    return x.sum() / n  # error: [NL201]


def condition_on_a_narrow_integer_copy(s, mask):
    n = mask.sum()
    # A count of 256 is 0 as a byte: the condition does not exclude n == 0.
    return torch.where(n.to(torch.byte) > 0, s / n, 0.0)  # error: [NL201]


def copy_taken_before_the_loop(s, masks):
    n = masks[0].sum()
    m = n.float()
    for mask in masks:
        # On the next pass `n` is another mask's count; `m` is still the first one's.
        out = torch.where(m > 0, s / n, 0.0)  # error: [NL201]
        n = mask.sum()
    return out


def selected_by_another_mask(labels, other, keep):
    # Elements chosen by another array's mask can all be 0 with their total; a total of another
    # count is 0 on its own.
    counts = np.bincount(labels)
    total = np.bincount(other)
    p = counts[keep > 0] / counts.sum()  # error: [NL201]
    return p, counts[counts > 0] / total.sum()  # error: [NL201]


def empty_mask_not_floored(x, mask, flag):
    # The `if` rebinds `n` on another condition, does not rebind it, or a later binding holds.
    n = mask.sum(1, keepdim=True)
    if flag:
        n = n.clamp(min=1)
    m = mask.sum(1, keepdim=True)
    if (m == 0).any():
        print("empty")
    k = mask.sum(1, keepdim=True)
    if (k == 0).all():
        k = k.clamp(min=1)
    return x.sum(1) / n, x.sum(1) / m, x.sum(1) / k  # error: [NL201, NL201, NL201]


def a_guard_before_the_count_is_rebound(x, masks):
    # Regression (a newcomer's trial): the exit said the total is not 0, then `n` became
    # the count of each row, which can be 0.
    n = masks.sum()
    if not n:
        return None
    n = masks.sum(1)
    m = masks.sum()
    if m == 0:
        return None
    m = masks.sum(0)
    if not (k := masks.sum()):
        return None
    k = masks[0].sum()
    return x.sum(1) / n, x.sum(0) / m, x / k  # error: [NL201, NL201, NL201]


def conditions_that_leave_a_zero(s, mask):
    # `int(n) >= 0` and `int(n) < 1` hold of 0; `bool(n) is True` returns where `n` is not 0;
    # a tensor comparison is never the object `False`.
    n = mask.sum()
    if int(n) < 0:
        return s
    m = mask.sum(0)
    if bool(m) is True:
        return s
    k = mask.sum(1)
    if (k > 0) is False:
        return s
    j = mask.sum(2)
    if int(j) >= 1:
        return s
    return s / n, s / m, s / k, s / j  # error: [NL201, NL201, NL201, NL201]

