"""NL201 fixtures: nothing here may be reported."""
import numpy as np
import tensorflow as tf
import torch
import torch.nn.functional as F

EPS = 1e-8


def constants_and_sizes(x, images, batch):
    a = images / 255.0
    b = x / len(batch)
    c = x / x.shape[0]
    d = x.sum() / x.numel()
    e = x / 2
    return a, b, c, d, e


def unknown_names(a, b, total, steps):
    # No evidence: a division by a name is not a hazard by itself.
    return a / b, total / steps, a / a.sum()


def guarded(x, mask, v):
    n = mask.sum(1)
    a = x.sum(1) / n.clamp(min=1)
    b = x.sum(1) / torch.clamp(n, min=1e-9)
    c = x.sum(1) / (n + 1e-6)
    d = x.sum(1) / torch.where(n > 0, n, torch.ones_like(n))
    e = x / (x.norm(dim=-1, keepdim=True) + EPS)
    f = (x - x.mean()) / (x.std() + 1e-5)
    g = v / np.maximum(np.linalg.norm(v), 1e-12)
    h = x / max(mask.sum().item(), 1)
    return a, b, c, d, e, f, g, h


def conditions(x, mask):
    n = mask.sum()
    if n == 0:
        return torch.zeros(())
    return x.sum() / n


def conditions_on_a_walrus(x, mask):
    # The count bound in the condition that returns where it is 0.
    if (n := mask.sum()) == 0:
        return torch.zeros(())
    return x.sum() / n


def a_count_that_is_true(x, mask):
    # A number that is true is not 0: each returns where the count is 0.
    n = mask.sum()
    if not n:
        return torch.zeros(())
    if not (m := mask.sum(0)):
        return torch.zeros(())
    return x.sum() / n, x.sum() / m


def a_count_tested_true(x, mask):
    n = mask.sum()
    return x.sum() / n if n else x.sum() * 0, x.sum() / m if (m := mask.sum(0)) else x.sum() * 0


def loops_left_where_the_count_is_not_0(x, mask):
    # A loop left only through its condition: the condition is false after it.
    while (n := mask.sum()) == 0:
        mask = mask + 1
    m = mask.sum(0)
    while m == 0:
        for _ in range(3):
            break  # leaves the inner loop
        mask = mask + 1
        m = mask.sum(0)
    while not (k := mask.sum(1)):
        mask = mask + 1
    return x.sum() / n, x.sum() / m, x.sum() / k


def conditional_expression(s, mask):
    n = mask.sum()
    return s / n if n > 0 else s * 0


def discarded(s, mask, a, b):
    n = mask.sum(-1)
    kept = torch.where(n > 0, s / n, torch.zeros_like(s))
    q = np.divide(a, np.count_nonzero(b), out=np.zeros_like(a), where=np.count_nonzero(b) != 0)
    r = np.nan_to_num(a / np.count_nonzero(b))
    # The condition is on the count, the division by its float copy (exact for integers).
    hist = torch.bincount(b.flatten(), minlength=4)
    dice = torch.where(hist > 0, a / hist.float(), torch.ones_like(a))
    # ... and the other way round, on a device copy, or on a name bound to a copy.
    moved = torch.where(hist.float() > 0, a / hist, 0.0)
    on_device = torch.where(hist.to(a.device) > 0, a / hist, 0.0)
    counted = hist.float()
    named = torch.where(counted > 0, a / hist, 0.0)
    return kept, q, r, dice, moved, on_device, named


def handled(a, b):
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = a / np.count_nonzero(b)
    try:
        share = a / np.count_nonzero(b)
    except ZeroDivisionError:
        share = 0.0
    return ratio, share


def library_helpers(x, y, labels):
    mask = tf.cast(tf.not_equal(labels, 0), tf.float32)
    a = tf.math.divide_no_nan(tf.reduce_sum(x * mask), tf.reduce_sum(mask))
    b = F.normalize(y, dim=-1)
    c = tf.math.l2_normalize(x, axis=-1)
    return a, b, c


def probabilities(z):
    p = torch.softmax(z, dim=-1)
    return p / p.sum(-1, keepdim=True)


def paths(root):
    from pathlib import Path

    return Path(root) / "data" / "train.csv"


def replaced_zeros(x, valid_mask):
    n = valid_mask.float().sum(-1)
    n = torch.where(n == 0, 1, n)
    return x.sum(-1) / n


def spread_checked(data):
    hi = torch.max(data)
    lo = torch.min(data)
    if hi == lo:
        return data
    return (data - lo) / (hi - lo)


def configuration():
    # The spread of a fixed table is a number its author sees.
    table = torch.sin(torch.arange(0, 64) * 0.1)
    grad = np.array([50.0, 100.0])
    return table / table.std(), grad / np.linalg.norm(grad)


def bitwise_conditions(y0, f0):
    d0 = np.linalg.norm(y0)
    d1 = np.linalg.norm(f0)
    return np.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / d1)


def filled_by_slices(frames, weight, stride, total):
    sum_weight = torch.zeros(total)
    offset = 0
    for frame in frames:
        sum_weight[offset : offset + frame.shape[-1]] += weight
        offset += stride
    if sum_weight.min() == 0:
        raise ValueError("every sample needs a frame")
    return frames[0] / sum_weight


class EmptyMaskRefused(torch.nn.Module):
    # `if any(count == 0): raise` leaves every count nonzero below it.
    def forward(self, x, mask):
        mask = mask.float()
        count = mask.sum(1, keepdim=True)
        if (count == 0).any():
            raise ValueError("every sample needs a token")
        per_sample = (x * mask.unsqueeze(-1)).sum(1) / count
        total = torch.sum(mask, 1)
        if torch.any(total == 0):
            raise ValueError("every sample needs a token")
        return per_sample, (x * mask).sum(1) / total


def empty_mask_refused_loss(loss, mask):
    mask = tf.cast(mask, tf.float32)
    count = tf.reduce_sum(mask, axis=1)
    if tf.reduce_any(tf.equal(count, 0.0)):
        raise ValueError("every sample needs a token")
    return tf.reduce_sum(loss * mask, axis=1) / count


def weighted_bins(labels, weights, totals):
    # Each bin sums its weights: no count (a floor of 1 would change every bin below 1), and a
    # sum of values nanlint cannot see is no evidence of 0.
    return totals / torch.bincount(labels, weights=weights), totals / labels.bincount(weights)


def suppressed(x, mask):
    return x / mask.sum()  # noqa: NL201


def selected_over_its_total(labels):
    # Where the total is 0 every count is, and no element is selected: nothing is divided.
    counts = np.bincount(labels)
    return counts[counts > 0] / counts.sum(), counts[np.nonzero(counts)] / np.sum(counts)


def empty_mask_floored_loss(x, mask):
    # Where the `if` is not taken no count is 0; where it is, the count is floored at 1.
    n = mask.sum(1, keepdim=True)
    if (n == 0).any():
        n = n.clamp(min=1)
    total = mask.sum()
    if total == 0:
        total = 1
    return x.sum(1) / n, x.sum() / total


def guarded_through_int_or_bool(s, mask, masks):
    # `int` truncates toward 0: `int(n) != 0` says `|n| >= 1`, `int(n) > 0` says `n >= 1`; and
    # `bool(n)` is as true as `n`.
    n = mask.sum()
    if int(n) == 0:
        return torch.zeros(())
    a = s / n
    m = mask.sum(0)
    if not bool(m):
        raise ValueError("empty mask")
    k = mask.sum(1)
    if bool(k) is False:
        return torch.zeros(())
    j = mask.sum(2)
    assert int(j) > 0
    i = mask.sum(3)
    if not int(i):
        return torch.zeros(())
    h = mask.sum(4)
    if int(h) <= 0:
        return torch.zeros(())
    out = []
    for each in masks:
        c = each.sum()
        if int(c) < 1:
            continue
        out.append(s / c)
    return a, s / m, s / k, s / j, s / i, s / h, out


def guarded_through_int_in_branches(s, mask, flag):
    n = mask.sum()
    if flag:
        return s
    elif int(n) == 0:
        return torch.zeros(())
    if int(n) != 0:
        return s / n if int(n) > 0 else s / n.abs()
    return torch.zeros(())


def a_guard_on_the_sum_expression(loss, mask):
    # The condition is on the expression itself, and on a name bound to it after the guard.
    if mask.sum() == 0:
        return torch.zeros(())
    denom = mask.sum()
    if not mask.sum(0):
        return torch.zeros(())
    assert mask.sum(1) > 0
    per_row = mask.sum(1)
    return loss.sum() / mask.sum(), loss.sum() / denom, loss.sum() / mask.sum(0), loss.sum(1) / per_row


def a_guarded_count_cast(s, x, mask):
    # `float(n)` of a count and `n.type_as(x)` (to the dtype of what it divides) keep its zeros.
    n = mask.sum()
    if n == 0:
        return torch.zeros(())
    n = n.type_as(x)
    m = mask.sum(0)
    if m == 0:
        return torch.zeros(())
    m = float(m)
    return s / n, s / float(mask.sum(1)) if mask.sum(1) > 0 else s, s / m
