"""NL102 fixtures: every marked line takes the natural log of a softmax output."""
import jax
import jax.numpy as jnp
import keras.backend as K
import numpy as np
import tensorflow as tf
import tensorflow.compat.v1 as tf1
import torch
import torch.nn.functional as F
from keras import ops
from scipy import special


def tensorflow_spellings(z):
    a = tf.math.log(tf.nn.softmax(z))  # error: [NL102]
    b = tf1.log(tf1.nn.softmax(z, axis=1))  # error: [NL102]
    c = tf.compat.v1.log(tf.math.softmax(z))  # error: [NL102]
    return a, b, c


def keras_spellings(z):
    # Keras 2's backend has no log_softmax: the fix is TensorFlow's.
    a = K.log(K.softmax(z))  # error: [NL102]
    b = ops.log(ops.softmax(z, axis=-1))  # error: [NL102]
    return a, b


def torch_spellings(z):
    a = torch.log(F.softmax(z, dim=-1))  # error: [NL102]
    b = torch.log(torch.softmax(z, 1))  # error: [NL102]
    c = z.softmax(dim=-1).log()  # error: [NL102]
    return a, b, c


def numpy_and_jax(z):
    a = np.log(special.softmax(z, axis=-1))  # error: [NL102]
    b = jnp.log(jax.nn.softmax(z))  # error: [NL102]
    return a, b


def through_a_name(z):
    # `z` holds the same value at both places: `log_softmax(z, dim=-1)`.
    p = torch.softmax(z, dim=-1)
    return torch.log(p)  # error: [NL102]


def logits_bound_first(h, w):
    # The logits are an expression: the fix binds them to a name before the softmax.
    p = torch.softmax(h @ w, dim=-1)
    return torch.log(p)  # error: [NL102]


def logits_changed(z):
    # `z` is rebound between the softmax and the log: no fix reads it again.
    p = torch.softmax(z, dim=-1)
    z = z * 2
    return torch.log(p), z  # error: [NL102]


def logits_written_in_place_in_between(z):
    # Regression (a newcomer's trial): an in-place write between the softmax and the log may
    # reach the logits through a view or an alias, so no fix reads them again at the log:
    # `logits = z[0]` is a view of `z`; `w` is `z`; `.data` is `z`'s storage.
    p = torch.softmax(z[0], -1)
    z[0] = 5.0
    a = torch.log(p)  # error: [NL102]
    p = torch.softmax(z, -1)
    w = z
    w *= 2
    b = torch.log(p)  # error: [NL102]
    p = torch.softmax(z, -1)
    z.data.fill_(0)
    c = torch.log(p)  # error: [NL102]
    return a, b, c


class Head:
    def scores(self):
        # `self.step()` may change `self.logits` in place.
        p = torch.softmax(self.logits, -1)
        self.step()
        return torch.log(p)  # error: [NL102]

    def kept(self, x):
        # A plain assignment of a new name in between changes nothing: the fix is offered.
        p = torch.softmax(self.logits, -1)
        n = x.shape[0]
        return torch.log(p) / n  # error: [NL102]


def multiline(z):
    return tf.math.log(  # error: [NL102]
        tf.nn.softmax(z)
    )


def entropy_nan_skipped_and_more(z):
    # `logp` is read again outside the entropy: its -inf is not discarded there.
    p = torch.softmax(z, -1)
    logp = torch.log(p)  # error: [NL102]
    return -(p * logp).nansum(-1), logp.max(-1)


def distill(student_logits, teacher_logits):
    # The teacher's softmax under no_grad, its log outside: log_softmax there would carry
    # gradients into the teacher's logits. Reported with the clip only.
    with torch.no_grad():
        t = F.softmax(teacher_logits, dim=-1)
    s = F.softmax(student_logits, dim=-1)
    return (t * (torch.log(t) - torch.log(s))).sum(-1).mean()  # error: [NL102, NL102]


def distill_logits_in_the_block(teacher, x, s):
    # The teacher's logits computed under no_grad too: their log_softmax outside carries no
    # gradient, and the fix is offered.
    with torch.no_grad():
        zt = teacher(x)
        t = F.softmax(zt, dim=-1)
    return (t * (torch.log(t) - s)).sum(-1).mean()  # error: [NL102]


def gathered_probabilities(z, y):
    # The probability of the labelled class, picked by gather, take, tf.gather or an index: 0
    # where it underflows (a monai transformer's log-likelihood, `log(gather(p, 1, target))`).
    # The log of the picked elements is the same pick of log_softmax.
    p = F.softmax(z, dim=-1)
    a = torch.log(p.gather(1, y[:, None]))  # error: [NL102]
    b = torch.log(torch.take_along_dim(p, y[:, None], dim=1))  # error: [NL102]
    c = torch.log(p.gather(1, z.argmax(-1, keepdim=True)))  # error: [NL102]
    q = tf.nn.softmax(z)
    d = tf.math.log(tf.gather(q, y, batch_dims=1))  # error: [NL102]
    e = torch.log(p[torch.arange(len(y)), y])  # error: [NL102]
    return a, b, c, d, e


def cosine_scores_over_a_small_temperature(z, prototypes):
    # Over 0.01 the band is 200 wide, and in float16 even 20 is too wide (e^-20 < 2^-24).
    z = F.normalize(z, dim=1)
    w = F.normalize(prototypes, dim=1)
    cold = torch.log(F.softmax(z @ w.T / 0.01, dim=1))  # error: [NL102]
    half = torch.log(F.softmax((z @ w.T).half() / 0.1, dim=1))  # error: [NL102]
    return cold, half


def picked_at_indices_drawn_elsewhere(z):
    # Indices drawn from another softmax (rebound in between), or along another axis, prove
    # nothing about the elements picked.
    p = F.softmax(z, dim=-1)
    i = torch.multinomial(p, 1)
    j = torch.argmax(p, dim=0, keepdim=True)
    k = p.argmax(-1, keepdim=True)
    across = torch.log(p.gather(1, j))  # error: [NL102]
    down = torch.log(p.gather(0, k))  # error: [NL102]
    p = F.softmax(z * 100, dim=-1)
    return across, down, torch.log(p.gather(1, i))  # error: [NL102]


def per_class_with_a_comprehension_variable_named_like_an_alias(z, classes):
    # Regression (a newcomer's trial): the fix wrote `F.log_softmax(...)[:, F]`, `F` a class
    # index in the comprehension.
    p = F.softmax(z, dim=-1)
    return [torch.log(p)[:, F] for F in classes]  # error: [NL102]


def parameter_named_like_an_alias(z, F):
    p = torch.softmax(z, dim=-1)
    return torch.log(p)[:, F]  # error: [NL102]


def nested_log_inside_the_logits(x):
    # Regression (a newcomer's trial): the inner log of a ReLU stays in the argument the
    # log_softmax fix keeps; its NL101 was absorbed by the outer NL102 and appeared only after
    # the fix. The outer log's own NL101 is the NL102.
    return torch.log(torch.softmax(torch.log(torch.relu(x)), -1))  # error: [NL102, NL101]


def softmax_call_split_over_lines(z):
    # The fix rewrites the whole log call: it must not drop the comment between the arguments.
    return torch.log(torch.softmax(  # error: [NL102]
        z,  # logits of the classes
        dim=-1,
    ))


def arrays_made_here_written_in_between(z, x, y):
    # Writes into arrays the code made itself (nothing else can hold them) leave the logits as
    # the softmax read them: the log_softmax fix is offered. `total` is made before the softmax
    # and not read until after it; `w`, `acc` and `q` after it.
    total = torch.zeros_like(x)
    p = torch.softmax(z, -1)
    total += x
    w = torch.zeros(3)
    w[0] = 5.0
    acc = x + y
    acc *= 2
    q = p.pow(2).to(torch.float64)
    q[0] = 1.0
    return torch.log(p), total, w, acc, q  # error: [NL102]


def views_and_aliases_written_in_between(z, zs):
    # Each written array may be the logits' storage: no fix reads them again at the log.
    # `detach()` and `view()` share `z`'s storage; `t` is made here, but the logits are a view
    # of it; `u`, a loop variable, may be `z`.
    p = torch.softmax(z, -1)
    w = z.detach()
    w *= 2
    a = torch.log(p)  # error: [NL102]
    p = torch.softmax(z, -1)
    v = z.view(-1)
    v[0] = 5.0
    b = torch.log(p)  # error: [NL102]
    t = z.clone()
    logits = t[:3]
    p = torch.softmax(logits, -1)
    t += 1
    c = torch.log(p)  # error: [NL102]
    for u in zs:
        p = torch.softmax(z, -1)
        u += 1
        d = torch.log(p)  # error: [NL102]
    return a, b, c, d


def scale_in_place(x):
    x *= 2


def tally(x):
    counts = torch.zeros(3)
    counts += x
    return counts


def written_by_the_files_functions_in_between(z):
    # A call of the file's function that writes into an existing array (`g` into its closure's
    # `z`, `scale_in_place` into its parameter) may change the logits: no fix reads them again.
    # `tally` writes only into an array it makes: the fix is offered.
    def g():
        z[0] = 5.0

    p = torch.softmax(z, -1)
    g()
    a = torch.log(p)  # error: [NL102]
    p = torch.softmax(z, -1)
    scale_in_place(z)
    b = torch.log(p)  # error: [NL102]
    p = torch.softmax(z, -1)
    tally(z)
    c = torch.log(p)  # error: [NL102]
    return a, b, c


class Scorer:
    def scores(self, z):
        # `self.clip(z)` clamps `z` in place.
        p = torch.softmax(z, -1)
        self.clip(z)
        return torch.log(p)  # error: [NL102]

    def clip(self, t):
        t.clamp_(-10.0, 10.0)


def tf_keras_backend(z):
    # `tf.keras.backend` has `log` and `softmax` but no `log_softmax`: the fix writes
    # TensorFlow's, as for Keras 2's backend.
    import tensorflow.keras.backend as KB

    return KB.log(KB.softmax(z))  # error: [NL102]


def logits_rebound_where_the_bindings_do_not_show_it(z, h):
    # The logits change between the softmax and the log in ways the reaching bindings miss, so
    # no fix reads them again at the log: a loop's next pass (the log in a loop, the softmax
    # before it), `:=` in a condition, `del`, `inplace=True`, a nested function's `nonlocal`.
    p = torch.softmax(z, -1)
    out = []
    for _ in range(2):
        out.append(torch.log(p))  # error: [NL102]
        z = z * 2
    p = torch.softmax(z, -1)
    if (z := z * 4).sum() > 0:
        pass
    a = torch.log(p)  # error: [NL102]
    p = torch.softmax(h, -1)
    del h
    b = torch.log(p)  # error: [NL102]
    p = torch.softmax(z, -1)
    F.relu(z, inplace=True)
    c = torch.log(p)  # error: [NL102]

    def step():
        nonlocal z
        z = z * 2

    p = torch.softmax(z, -1)
    step()
    return out, a, b, c, torch.log(p)  # error: [NL102]


def two_softmaxes_of_expressions(h, w1, w2):
    # Each fix binds its logits to a new name first; fixed together, the second takes another
    # name (`logits_2`) rather than rebinding the first's under its log.
    p = F.softmax(h @ w1, dim=1)
    q = F.softmax(h @ w2, dim=1)
    return torch.log(p) + torch.log(q)  # error: [NL102, NL102]


def logits_rebound_in_the_loop_after_the_log(z):
    # The softmax runs again in every pass before the log: the fix stays.
    for _ in range(2):
        p = torch.softmax(z, -1)
        a = torch.log(p)  # error: [NL102]
        z = z * 2
    return a, z


def bound_by_an_assignment_expression(z):
    # The walrus in the condition runs before the branch: `p` is the softmax there.
    if (p := torch.softmax(z, dim=-1)) is not None:
        return torch.log(p)  # error: [NL102]


def unpacked_from_a_tuple(z):
    p, q = torch.softmax(z, dim=-1), z
    return torch.log(p), q  # error: [NL102]


def logits_rebound_after_an_assignment_expression(z):
    # `z` is rebound before the log: no log_softmax fix.
    if (p := torch.softmax(z, dim=-1)) is not None:
        z = z + 1
        return torch.log(p), z  # error: [NL102]


def logits_rebound_by_the_unpacking(z):
    # The tuple is built before its names are bound: the softmax read the old `z`, which the
    # log would not.
    p, z = torch.softmax(z, dim=-1), z * 2
    return torch.log(p), z  # error: [NL102]


def bound_in_the_test_of_a_conditional_expression(z):
    # The test runs before either branch. The log stands before the softmax it reads, and gets
    # no log_softmax fix; the one after it does.
    a = torch.log(p) if (p := torch.softmax(z, dim=-1)) is not None else None  # error: [NL102]
    b = None if (q := torch.softmax(z, dim=-1)) is None else torch.log(q)  # error: [NL102]
    return a, b


def bound_in_the_left_operand_of_and(z, ok):
    # The left operand of `and` runs whenever the condition does; the right one might not
    # (`ok and (p := ...)` binds nothing known).
    if (p := torch.softmax(z, dim=-1)) is not None and ok:
        return torch.log(p)  # error: [NL102]
    return (q := torch.softmax(z, dim=-1)).sum() > 0 and torch.log(q)  # error: [NL102]


def flax_reexports_of_jax_nn(z):
    # flax.linen and flax.nnx export jax.nn's softmax and log_softmax under their own names.
    import flax.linen as nn
    from flax import nnx

    a = jnp.log(nn.softmax(z))  # error: [NL102]
    b = jnp.log(nnx.softmax(z, axis=-1))  # error: [NL102]
    return a, b
