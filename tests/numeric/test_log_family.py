"""Numeric truth tests of the log family's fixes (NL102-NL106), run with the real libraries.

For every case: nanlint reports the hazard once, with the case's code; the fix whose title
contains the case's `fix` text is applied here, and the original and fixed modules are evaluated
in fresh interpreters:
  * hazard inputs: the original is NaN/inf (or, for the precision cases of NL105, off from a
    float64 reference by more than 1e-3 relative) and the fixed module is finite (and within
    1e-5 of the reference);
  * ordinary inputs: fixed and original agree (rtol 1e-4);
  * gradients (PyTorch, TensorFlow, JAX), with respect to the logits: the fixed module's are
    finite at the hazard inputs, and agree with the original's on ordinary inputs. A case states
    where a fix leaves a NaN gradient (xlogy at an exact zero), and the test holds it to that.
After the fix the module is no longer reported for the case's code.
"""

from __future__ import annotations

import functools
import json
import math
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from numeric_support import apply_edits, evaluate_jobs, nanlint_bin, require_libs, run_check, run_jobs, run_module, src

HERE = Path(__file__).resolve().parent
RTOL = 1e-4
ATOL = 1e-5


@dataclass(frozen=True, eq=False)
class Case:
    id: str
    code: str
    libs: tuple[str, ...]
    kind: str  # numpy | jax | torch | tensorflow
    source: str
    fix: str  # text in the title of the fix under test
    hazard: list
    normal: list
    grad: int | None = None  # argument to differentiate with respect to
    # float64 reference of the function (precision cases): hazard values must match it.
    reference: Callable | None = None
    # The fix may keep a NaN gradient at the hazard inputs (xlogy; stated in the rule's doc).
    nan_gradient_at_hazard: bool = False
    func: str = "f"


# Logits whose softmax underflows to exactly 0 in float32, and ordinary ones.
Z_HAZARD = [[[[0.0, -200.0, 1.0], [3.0, 2.0, -150.0]]]]
Z_NORMAL = [[[[0.0, -2.0, 1.0], [0.5, 2.0, -1.5]]]]
# Sigmoid reaches 0 below about -103 and 1 above about 17.
S_HAZARD = [[[-120.0, 30.0, 0.5]]]
S_NORMAL = [[[-3.0, 2.0, 0.5]]]
# One-hot labels and logits, for cross-entropies: (y, z). Each probability that underflows to 0
# has label 0 (0 * log(0) = NaN), so that xlogy's 0 there applies too.
CE_HAZARD = [[[[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]], [[0.0, -200.0, 1.0], [3.0, 2.0, -150.0]]]]
CE_NORMAL = [[[[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]], [[0.0, -2.0, 1.0], [0.5, 2.0, -1.5]]]]
BCE_HAZARD = [[[0.0, 1.0, 1.0], [-120.0, 30.0, 0.5]]]
BCE_NORMAL = [[[1.0, 0.0, 0.3], [-3.0, 2.0, 0.5]]]
# Masked logits (-inf) for entropies.
ENT_HAZARD = [[[[0.0, 1.0, -math.inf], [2.0, -200.0, 0.5]]]]
ENT_NORMAL = [[[[0.0, 1.0, -1.0], [2.0, -2.0, 0.5]]]]


def softmax_case(id, libs, kind, source, fix="log_softmax", grad=0):
    return Case(id, "NL102", libs, kind, src(source), fix, Z_HAZARD, Z_NORMAL, grad)


def sigmoid_case(id, libs, kind, source, fix="log", grad=0):
    return Case(id, "NL103", libs, kind, src(source), fix, S_HAZARD, S_NORMAL, grad)


def ce_case(id, libs, kind, source, fix, grad=1, nan_gradient=False):
    return Case(id, "NL104", libs, kind, src(source), fix, CE_HAZARD, CE_NORMAL, grad,
                nan_gradient_at_hazard=nan_gradient)


def bce_case(id, libs, kind, source, fix, grad=1, nan_gradient=False):
    return Case(id, "NL104", libs, kind, src(source), fix, BCE_HAZARD, BCE_NORMAL, grad,
                nan_gradient_at_hazard=nan_gradient)


def entropy_case(id, libs, kind, source, fix, grad=0, nan_gradient=False):
    return Case(id, "NL106", libs, kind, src(source), fix, ENT_HAZARD, ENT_NORMAL, grad,
                nan_gradient_at_hazard=nan_gradient)


def log1p_ref(x):
    return np.log1p(np.asarray(x, dtype=np.float64))


def expm1_ref(x):
    return np.expm1(np.asarray(x, dtype=np.float64))


def lse_ref(x):
    return np.logaddexp.reduce(np.asarray(x, dtype=np.float64), axis=-1)


def lse_pair_ref(x, m):
    return np.logaddexp.reduce(np.ravel(np.asarray(x, dtype=np.float64) - np.asarray(m, dtype=np.float64)))


def softplus_ref(x):
    return np.logaddexp(0.0, np.asarray(x, dtype=np.float64))


SMALL = [[[1e-10, 3e-8, -2e-9]]]
SMALL_NORMAL = [[[0.5, 2.0, -0.25]]]
BIG = [[[[100.0, 99.0, -5.0], [-110.0, -120.0, -115.0]]]]
BIG_NORMAL = [[[[1.0, 0.5, -2.0], [0.0, 3.0, -1.0]]]]
# (x, m) pairs whose difference overflows exp in float32, and ordinary ones.
BIG_PAIR = [[[[100.0, 99.0, -5.0], [-110.0, -120.0, -115.0]], [[-1.0, 0.0, 1.0], [0.0, 0.5, 2.0]]]]
BIG_PAIR_NORMAL = [[[[1.0, 0.5, -2.0], [0.0, 3.0, -1.0]], [[0.5, 0.0, 1.0], [0.0, 0.5, 2.0]]]]
SP_BIG = [[[100.0, 95.0, -3.0]]]
SP_NORMAL = [[[1.0, -2.0, 0.5]]]


def precision_case(id, libs, kind, source, fix, hazard, normal, reference, grad=0):
    return Case(id, "NL105", libs, kind, src(source), fix, hazard, normal, grad, reference)


CASES = [
    # ---- NL102 log-of-softmax
    softmax_case("nl102-torch-F", ("torch",), "torch", """
        import torch
        import torch.nn.functional as F


        def f(z):
            return torch.log(F.softmax(z, dim=-1))
        """),
    softmax_case("nl102-torch-method", ("torch",), "torch", """
        import torch


        def f(z):
            return z.softmax(dim=1).log()
        """),
    softmax_case("nl102-torch-bind-logits", ("torch",), "torch", """
        import torch


        def f(z):
            p = torch.softmax(z * 2.0, dim=-1)
            return torch.log(p)
        """),
    softmax_case("nl102-tf", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def f(z):
            return tf.math.log(tf.nn.softmax(z, axis=1))
        """),
    softmax_case("nl102-tf-compat-v1", ("tensorflow",), "tensorflow", """
        import tensorflow.compat.v1 as tf


        def f(z):
            p = tf.nn.softmax(z)
            return tf.log(p)
        """),
    softmax_case("nl102-keras-ops", ("keras",), "tensorflow", """
        from keras import ops


        def f(z):
            return ops.log(ops.softmax(z, axis=-1))
        """),
    softmax_case("nl102-tf-keras-backend", ("tensorflow", "tf_keras"), "tensorflow", """
        from tf_keras import backend as K


        def f(z):
            return K.log(K.softmax(z))
        """),
    softmax_case("nl102-jax", ("jax",), "jax", """
        import jax
        import jax.numpy as jnp


        def f(z):
            return jnp.log(jax.nn.softmax(z))
        """),
    # The labelled class's probability, picked: the pick of log_softmax (the hazard rows pick
    # the class that underflows).
    softmax_case("nl102-torch-gather", ("torch",), "torch", """
        import torch
        import torch.nn.functional as F


        def f(z):
            p = F.softmax(z, dim=-1)
            return torch.log(p.gather(1, torch.tensor([[1], [2]])))
        """),
    softmax_case("nl102-torch-index", ("torch",), "torch", """
        import torch


        def f(z):
            p = torch.softmax(z, dim=1)
            return torch.log(p[torch.arange(2), torch.tensor([1, 2])])
        """),
    softmax_case("nl102-tf-gather", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def f(z):
            q = tf.nn.softmax(z)
            return tf.math.log(tf.gather(q, tf.constant([1, 2]), batch_dims=1))
        """),
    Case("nl102-numpy-scipy", "NL102", ("numpy", "scipy"), "numpy", src("""
        import numpy as np
        from scipy import special


        def f(z):
            return np.log(special.softmax(z, axis=-1))
        """), "log_softmax", Z_HAZARD, Z_NORMAL),
    # ---- NL103 log-of-sigmoid
    sigmoid_case("nl103-torch", ("torch",), "torch", """
        import torch


        def f(z):
            return torch.log(torch.sigmoid(z))
        """, fix="logsigmoid(z)"),
    sigmoid_case("nl103-torch-complement", ("torch",), "torch", """
        import torch


        def f(z):
            return torch.log(1 - torch.sigmoid(z))
        """, fix="logsigmoid(-z)"),
    sigmoid_case("nl103-tf", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def f(z):
            p = tf.sigmoid(z)
            return tf.math.log(1 - p)
        """, fix="log_sigmoid(-z)"),
    sigmoid_case("nl103-keras-ops", ("keras",), "tensorflow", """
        from keras import ops


        def f(z):
            return ops.log(ops.sigmoid(z))
        """),
    sigmoid_case("nl103-tf-keras-backend", ("tensorflow", "tf_keras"), "tensorflow", """
        from tf_keras import backend as K


        def f(z):
            return K.log(1 - K.sigmoid(z))
        """),
    sigmoid_case("nl103-jax", ("jax",), "jax", """
        import jax
        import jax.numpy as jnp


        def f(z):
            return jnp.log(jax.nn.sigmoid(z))
        """),
    Case("nl103-numpy-scipy", "NL103", ("numpy", "scipy"), "numpy", src("""
        import numpy as np
        from scipy.special import expit


        def f(z):
            return np.log(1 - expit(z))
        """), "log_expit", S_HAZARD, S_NORMAL),
    # ---- NL104 cross-entropy-on-probabilities
    ce_case("nl104-tf1-seed", ("tensorflow",), "tensorflow", """
        import tensorflow.compat.v1 as tf


        def f(y_, h):
            y_conv = tf.nn.softmax(h * 1.0 + 0.0)
            return -tf.reduce_sum(y_ * tf.log(y_conv))
        """, "softmax_cross_entropy_with_logits"),
    ce_case("nl104-tf1-seed-xlogy", ("tensorflow",), "tensorflow", """
        import tensorflow.compat.v1 as tf


        def f(y_, h):
            y_conv = tf.nn.softmax(h * 1.0 + 0.0)
            return -tf.reduce_sum(y_ * tf.log(y_conv))
        """, "xlogy", nan_gradient=True),
    ce_case("nl104-tf-per-example", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def f(y, z):
            p = tf.nn.softmax(z, axis=-1)
            return tf.reduce_mean(-tf.reduce_sum(y * tf.math.log(p), axis=-1))
        """, "softmax_cross_entropy_with_logits"),
    ce_case("nl104-keras-ops", ("keras",), "tensorflow", """
        from keras import ops


        def f(y, z):
            p = ops.softmax(z)
            return -ops.sum(y * ops.log(p), axis=-1)
        """, "categorical_crossentropy"),
    # A module whose forward returns the softmax; the log is taken by its caller. Only xlogy is
    # offered (the softmax is in forward). The module holds no weights, so both runs agree.
    ce_case("nl104-torch-module-forward-xlogy", ("torch",), "torch", """
        import torch
        import torch.nn.functional as F


        class Classifier(torch.nn.Module):
            def forward(self, z):
                return F.softmax(z * 1.0, dim=1)


        def f(y, z):
            model = Classifier()
            out = model(z)
            return -torch.sum(y * torch.log(out))
        """, "xlogy", nan_gradient=True),
    ce_case("nl104-torch-dim1", ("torch",), "torch", """
        import torch
        import torch.nn.functional as F


        def f(y, z):
            p = F.softmax(z, dim=1)
            return -(y * torch.log(p)).sum(dim=1).mean()
        """, "cross_entropy"),
    ce_case("nl104-torch-total", ("torch",), "torch", """
        import torch


        def f(y, z):
            p = torch.softmax(z, dim=1)
            return -torch.sum(y * torch.log(p))
        """, "cross_entropy"),
    ce_case("nl104-jax-optax", ("jax", "optax"), "jax", """
        import jax
        import jax.numpy as jnp
        import optax


        def f(y, z):
            p = jax.nn.softmax(z)
            return jnp.mean(-jnp.sum(y * jnp.log(p), axis=-1))
        """, "softmax_cross_entropy"),
    Case("nl104-numpy-xlogy", "NL104", ("numpy", "scipy"), "numpy", src("""
        import numpy as np
        from scipy.special import softmax


        def f(y, z):
            p = softmax(z, axis=-1)
            return -np.sum(y * np.log(p), axis=-1)
        """), "xlogy", CE_HAZARD, CE_NORMAL),
    bce_case("nl104-bce-torch", ("torch",), "torch", """
        import torch


        def f(y, z):
            p = torch.sigmoid(z)
            return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
        """, "binary_cross_entropy_with_logits"),
    # A sigmoid written out: the loss on the logits read from the exponent (xlogy alone leaves a
    # NaN gradient where the sigmoid saturates).
    bce_case("nl104-bce-torch-written-sigmoid", ("torch",), "torch", """
        import torch


        def f(y, z):
            p = 1 / (1 + torch.exp(-z))
            return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
        """, "binary_cross_entropy_with_logits"),
    bce_case("nl104-bce-torch-xlogy", ("torch",), "torch", """
        import torch


        def f(y, z):
            p = torch.sigmoid(z)
            return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()
        """, "xlogy", nan_gradient=True),
    bce_case("nl104-bce-tf", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def f(y, z):
            p = tf.sigmoid(z)
            return tf.reduce_mean(-(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p)))
        """, "sigmoid_cross_entropy_with_logits"),
    bce_case("nl104-bce-keras-ops", ("keras",), "tensorflow", """
        from keras import ops


        def f(y, z):
            p = ops.sigmoid(z)
            return -(y * ops.log(p) + (1 - y) * ops.log(1 - p))
        """, "binary_crossentropy"),
    bce_case("nl104-bce-jax-optax", ("jax", "optax"), "jax", """
        import jax
        import jax.numpy as jnp
        import optax


        def f(y, z):
            p = jax.nn.sigmoid(z)
            return -jnp.mean(y * jnp.log(p) + (1 - y) * jnp.log(1 - p))
        """, "sigmoid_binary_cross_entropy"),
    bce_case("nl104-bce-jax-logaddexp", ("jax",), "jax", """
        import jax
        import jax.numpy as jnp


        def f(y, z):
            p = jax.nn.sigmoid(z)
            return -jnp.mean(y * jnp.log(p) + (1 - y) * jnp.log(1 - p))
        """, "logaddexp"),
    Case("nl104-bce-numpy", "NL104", ("numpy", "scipy"), "numpy", src("""
        import numpy as np
        from scipy.special import expit


        def f(y, z):
            p = expit(z)
            return -(y * np.log(p) + (1 - y) * np.log(1 - p))
        """), "logaddexp", BCE_HAZARD, BCE_NORMAL),
    Case("nl104-bce-numpy-written-sigmoid-logaddexp", "NL104", ("numpy",), "numpy", src("""
        import numpy as np


        def f(y, z):
            p = 1 / (1 + np.exp(-z))
            return -(y * np.log(p) + (1 - y) * np.log(1 - p))
        """), "logaddexp", BCE_HAZARD, BCE_NORMAL),
    Case("nl104-bce-numpy-written-sigmoid", "NL104", ("numpy", "scipy"), "numpy", src("""
        import numpy as np


        def f(y, z):
            p = 1 / (1 + np.exp(-z))
            return -(y * np.log(p) + (1 - y) * np.log(1 - p))
        """), "xlogy", BCE_HAZARD, BCE_NORMAL),
    # ---- NL105 imprecise-log-exp
    precision_case("nl105-log1p-numpy", ("numpy",), "numpy", """
        import numpy as np


        def f(x):
            x = x.astype(np.float32)
            return np.log(1 + x)
        """, "log1p", SMALL, SMALL_NORMAL, log1p_ref, grad=None),
    precision_case("nl105-log1p-torch", ("torch",), "torch", """
        import torch


        def f(x):
            return torch.log(x + 1)
        """, "log1p", SMALL, SMALL_NORMAL, log1p_ref),
    precision_case("nl105-log1p-torch-method", ("torch",), "torch", """
        import torch


        def f(x):
            return (1 + x).log()
        """, "log1p", SMALL, SMALL_NORMAL, log1p_ref),
    precision_case("nl105-log1p-tf1", ("tensorflow",), "tensorflow", """
        import tensorflow.compat.v1 as tf


        def f(x):
            return tf.log(1.0 + x)
        """, "log1p", SMALL, SMALL_NORMAL, log1p_ref),
    precision_case("nl105-log1p-tf-keras", ("tensorflow", "tf_keras"), "tensorflow", """
        from tf_keras import backend as K


        def f(x):
            return K.log(1 + x)
        """, "log1p", SMALL, SMALL_NORMAL, log1p_ref),
    precision_case("nl105-log1p-jax", ("jax",), "jax", """
        import jax.numpy as jnp


        def f(x):
            return jnp.log(1 + x)
        """, "log1p", SMALL, SMALL_NORMAL, log1p_ref),
    precision_case("nl105-expm1-numpy", ("numpy",), "numpy", """
        import numpy as np


        def f(x):
            x = x.astype(np.float32)
            return np.exp(x) - 1
        """, "expm1", SMALL, SMALL_NORMAL, expm1_ref, grad=None),
    precision_case("nl105-expm1-tf", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def f(x):
            return tf.math.exp(x) - 1.0
        """, "expm1", SMALL, SMALL_NORMAL, expm1_ref),
    precision_case("nl105-expm1-keras-ops", ("keras",), "tensorflow", """
        from keras import ops


        def f(x):
            return ops.exp(x) - 1
        """, "expm1", SMALL, SMALL_NORMAL, expm1_ref),
    precision_case("nl105-logsumexp-torch", ("torch",), "torch", """
        import torch


        def f(x):
            return torch.log(torch.sum(torch.exp(x), dim=-1))
        """, "logsumexp", BIG, BIG_NORMAL, lse_ref),
    # A sum over every element: PyTorch's logsumexp needs a dim, so the fix flattens.
    precision_case("nl105-logsumexp-torch-every-element", ("torch",), "torch", """
        import torch


        def f(x, m):
            return torch.log(torch.sum(torch.exp(x - m)))
        """, "logsumexp((x - m).flatten(), 0)", BIG_PAIR, BIG_PAIR_NORMAL, lse_pair_ref),
    # `dim=None` and `dim=()` also sum every element; `torch.logsumexp` takes neither.
    precision_case("nl105-logsumexp-torch-dim-none", ("torch",), "torch", """
        import torch


        def f(x, m):
            return torch.log(torch.sum(torch.exp(x - m), dim=None))
        """, "logsumexp((x - m).flatten(), 0)", BIG_PAIR, BIG_PAIR_NORMAL, lse_pair_ref),
    precision_case("nl105-logsumexp-torch-dim-empty-tuple", ("torch",), "torch", """
        import torch


        def f(x, m):
            return torch.log(torch.exp(x - m).sum(dim=()))
        """, "logsumexp((x - m).flatten(), 0)", BIG_PAIR, BIG_PAIR_NORMAL, lse_pair_ref),
    precision_case("nl105-logsumexp-tf", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def f(x):
            return tf.math.log(tf.reduce_sum(tf.exp(x), axis=-1))
        """, "logsumexp", BIG, BIG_NORMAL, lse_ref),
    precision_case("nl105-logsumexp-numpy", ("numpy", "scipy"), "numpy", """
        import numpy as np


        def f(x):
            x = x.astype(np.float32)
            return np.log(np.sum(np.exp(x), axis=-1))
        """, "logsumexp", BIG, BIG_NORMAL, lse_ref, grad=None),
    precision_case("nl105-logsumexp-jax", ("jax",), "jax", """
        import jax.numpy as jnp


        def f(x):
            return jnp.log(jnp.exp(x).sum(axis=-1))
        """, "logsumexp", BIG, BIG_NORMAL, lse_ref),
    precision_case("nl105-softplus-torch", ("torch",), "torch", """
        import torch


        def f(x):
            return torch.log(1 + torch.exp(x))
        """, "softplus", SP_BIG, SP_NORMAL, softplus_ref),
    precision_case("nl105-softplus-numpy", ("numpy",), "numpy", """
        import numpy as np


        def f(x):
            x = x.astype(np.float32)
            return np.log(1 + np.exp(x))
        """, "logaddexp", SP_BIG, SP_NORMAL, softplus_ref, grad=None),
    precision_case("nl105-softplus-keras-ops", ("keras",), "tensorflow", """
        from keras import ops


        def f(x):
            return ops.log(1 + ops.exp(x))
        """, "softplus", SP_BIG, SP_NORMAL, softplus_ref),
    precision_case("nl105-softplus-jax", ("jax",), "jax", """
        import jax.numpy as jnp


        def f(x):
            return jnp.log(1 + jnp.exp(x))
        """, "softplus", SP_BIG, SP_NORMAL, softplus_ref),
    # ---- NL106 entropy-of-log-probabilities
    entropy_case("nl106-torch-categorical", ("torch",), "torch", """
        import torch
        import torch.nn.functional as F


        def f(logits):
            logp = F.log_softmax(logits, dim=-1)
            return -(torch.exp(logp) * logp).sum(-1)
        """, "Categorical"),
    entropy_case("nl106-torch-clamp", ("torch",), "torch", """
        import torch
        import torch.nn.functional as F


        def f(logits):
            logp = F.log_softmax(logits, dim=-1)
            return -(torch.exp(logp) * logp).sum(-1)
        """, "least finite value"),
    entropy_case("nl106-torch-named-categorical", ("torch",), "torch", """
        import torch
        import torch.nn.functional as F


        def f(logits):
            logp = F.log_softmax(logits, dim=-1)
            p = logp.exp()
            return -(p * logp).sum(-1)
        """, "Categorical"),
    entropy_case("nl106-torch-named-clamp", ("torch",), "torch", """
        import torch
        import torch.nn.functional as F


        def f(logits):
            logp = F.log_softmax(logits, dim=-1)
            p = logp.exp()
            return -(p * logp).sum(-1)
        """, "least finite value"),
    entropy_case("nl106-torch-p-log-p", ("torch",), "torch", """
        import torch


        def f(logits):
            p = logits.softmax(-1)
            return -(p * p.log()).sum(-1).mean()
        """, "Categorical"),
    entropy_case("nl106-tf-xlogy", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def f(z):
            p = tf.nn.softmax(z)
            return -tf.reduce_sum(p * tf.math.log(p), axis=-1)
        """, "xlogy", nan_gradient=True),
    entropy_case("nl106-jax-clamp", ("jax",), "jax", """
        import jax
        import jax.numpy as jnp


        def f(z):
            logq = jax.nn.log_softmax(z)
            return -jnp.sum(jnp.exp(logq) * logq, axis=-1)
        """, "least finite value"),
    entropy_case("nl106-tf-exp-clamp", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def f(z):
            logq = tf.nn.log_softmax(z)
            return -tf.reduce_sum(tf.exp(logq) * logq, axis=-1)
        """, "least finite value"),
    entropy_case("nl106-numpy-exp-clamp", ("numpy", "scipy"), "numpy", """
        import numpy as np
        from scipy import special


        def f(z):
            logq = special.log_softmax(z, axis=-1)
            q = np.exp(logq)
            return -np.sum(q * logq, axis=-1)
        """, "least finite value"),
    Case("nl106-numpy-xlogy", "NL106", ("numpy", "scipy"), "numpy", src("""
        import numpy as np
        from scipy import special


        def f(z):
            p = special.softmax(z, axis=-1)
            return -np.sum(p * np.log(p), axis=-1)
        """), "xlogy", ENT_HAZARD, ENT_NORMAL),
]

CASE_IDS = [c.id for c in CASES]


# --------------------------------------------------------------------------- helpers


class Workspace:
    def __init__(self, root: Path):
        self.root = root

    @functools.cache
    def check(self, case: Case):
        d = self.root / case.id
        d.mkdir(parents=True)
        path = d / "subject.py"
        path.write_text(case.source, encoding="utf-8")
        return path, run_check(path, cwd=d)

    def finding(self, case: Case) -> dict[str, Any]:
        _, diagnostics = self.check(case)
        found = [d for d in diagnostics if d["code"] == case.code]
        assert len(found) == 1, f"expected one {case.code}:\n{case.source}\n{json.dumps(diagnostics, indent=1)}"
        return found[0]

    @functools.cache
    def fixed(self, case: Case) -> Path:
        d = self.finding(case)
        chosen = [f for f in d["fixes"] if case.fix in f["message"]]
        assert chosen, f"no fix with {case.fix!r} in its title: {[f['message'] for f in d['fixes']]}"
        out = self.root / case.id / "fixed.py"
        out.write_text(apply_edits(case.source, chosen[0]["edits"]), encoding="utf-8")
        return out


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("log-family"))


def gradients(jobs: list[tuple[Path, Case, list]]) -> list[list[list[float]]]:
    """The gradients of each (module, case, inputs), in one interpreter (evaluate_gradient.py):
    the fixed module goes first (see [`run_jobs`])."""
    return run_jobs(HERE / "evaluate_gradient.py", [
        {"module": str(path), "func": case.func, "kind": case.kind, "grad": case.grad, "inputs": inputs}
        for path, case, inputs in jobs])


def finite(values) -> bool:
    return all(math.isfinite(v) for r in values for v in r)


def close(got, want, rtol=RTOL, atol=ATOL) -> bool:
    return len(got) == len(want) and all(
        len(g) == len(w) and all(math.isfinite(a) and math.isfinite(b) and abs(a - b) <= atol + rtol * abs(b)
                                 for a, b in zip(g, w))
        for g, w in zip(got, want))


def reference(case: Case, inputs) -> list[list[float]]:
    return [list(np.ravel(case.reference(*args)).astype(float)) for args in inputs]


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_reported_with_the_fix(workspace, case):
    d = workspace.finding(case)
    titles = [f["message"] for f in d["fixes"]]
    assert any(case.fix in t for t in titles), titles
    assert d["fix"] == d["fixes"][0]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_fix_values(workspace, case):
    require_libs(*case.libs)
    path, _ = workspace.check(case)
    fixed = workspace.fixed(case)
    fixed_src = fixed.read_text(encoding="utf-8")
    # One interpreter, the fixed module first (imported fresh: an import its fix forgot fails).
    fixed_all, original_all = evaluate_jobs([(fixed, case.func, case.kind, case.hazard + case.normal),
                                             (path, case.func, case.kind, case.hazard + case.normal)])
    hazards = len(case.hazard)
    fixed_hazard, got = fixed_all[:hazards], fixed_all[hazards:]
    original_hazard, original = original_all[:hazards], original_all[hazards:]
    if case.reference is None:
        assert not finite(original_hazard), f"{case.id}: the original is finite: {original_hazard}"
        assert finite(fixed_hazard), f"{case.id}: fixed {fixed_hazard}\n{fixed_src}"
    else:
        want = reference(case, case.hazard)
        assert not close(original_hazard, want, rtol=1e-3, atol=0.0), f"{case.id}: the original is precise"
        assert close(fixed_hazard, want, rtol=1e-5, atol=0.0), f"{case.id}: fixed {fixed_hazard} != {want}\n{fixed_src}"
    assert close(got, original), f"{case.id}: fixed {got} != original {original}\n{fixed_src}"


GRAD_CASES = [c for c in CASES if c.grad is not None and c.kind != "numpy"]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c.id for c in GRAD_CASES])
def test_fix_gradients(workspace, case):
    require_libs(*case.libs)
    path, _ = workspace.check(case)
    fixed = workspace.fixed(case)
    fixed_src = fixed.read_text(encoding="utf-8")
    # xlogy's gradient at an exact 0 is the library's own (NaN in PyTorch): not promised.
    # One interpreter, the fixed module first (imported fresh).
    hazard = [] if case.nan_gradient_at_hazard else case.hazard
    fixed_all, want = gradients([(fixed, case, hazard + case.normal), (path, case, case.normal)])
    at_hazard, got = fixed_all[:len(hazard)], fixed_all[len(hazard):]
    assert finite(at_hazard), f"{case.id}: fixed gradient {at_hazard}\n{fixed_src}"
    assert close(got, want), f"{case.id}: fixed gradient {got} != original {want}\n{fixed_src}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_fixed_module_is_clean(workspace, case):
    fixed = workspace.fixed(case)
    remaining = [d for d in run_check(fixed, cwd=fixed.parent) if d["code"] == case.code]
    assert not remaining, f"{fixed.read_text()}\n{json.dumps(remaining, indent=1)}"


# --------------------------------------------------------------------------- writes in between

# A write between the softmax and the log: a fix that reads the logits again at the log
# (log_softmax) is right only if the write cannot reach them. `offered` says whether the
# log_softmax fix is offered; every fix offered must give the original's values.
WRITE_CASES = [
    # `g`, a function of the file, writes into its closure's `z` after the softmax read it.
    (softmax_case("nl102-torch-closure-writes-the-logits", ("torch",), "torch", """
        import torch


        def f(z):
            z = z.clone()

            def g():
                z[0] = 5.0

            p = torch.softmax(z, dim=-1)
            g()
            return torch.log(p)
        """), False),
    # A module-level function scales its parameter in place.
    (softmax_case("nl102-torch-function-writes-its-parameter", ("torch",), "torch", """
        import torch


        def scale(x):
            x *= 2.0


        def f(z):
            z = z.clone()
            p = torch.softmax(z, dim=-1)
            scale(z)
            return torch.log(p)
        """), False),
    # Writes only into arrays made in the function: the logits are as the softmax read them.
    (softmax_case("nl102-torch-writes-into-arrays-made-here", ("torch",), "torch", """
        import torch


        def f(z):
            total = torch.zeros_like(z)
            p = torch.softmax(z, dim=-1)
            total += p
            w = torch.zeros(3)
            w[0] = 5.0
            return torch.log(p) + 0.0 * total + 0.0 * w.sum()
        """), True),
]


@pytest.mark.parametrize("case,offered", WRITE_CASES, ids=[c.id for c, _ in WRITE_CASES])
def test_fixes_across_a_write_in_between(workspace, case, offered):
    require_libs(*case.libs)
    d = workspace.finding(case)
    titles = [f["message"] for f in d["fixes"]]
    assert any(case.fix in t for t in titles) == offered, titles
    path, _ = workspace.check(case)
    jobs = []
    for i, fix in enumerate(d["fixes"]):
        fixed = path.parent / f"fixed_{i}.py"
        fixed.write_text(apply_edits(case.source, fix["edits"]), encoding="utf-8")
        jobs.append((fixed, case.func, case.kind, case.normal))
    results = evaluate_jobs(jobs + [(path, case.func, case.kind, case.normal)])
    original = results[-1]
    for (fixed, *_), got, title in zip(jobs, results, titles):
        assert close(got, original), f"{case.id}: {title}: {got} != original {original}\n{fixed.read_text()}"


# ------------------------------------------------- what NL101 leaves unreported, by the numbers
def default_check(path: Path) -> list[dict[str, Any]]:
    """`nanlint check` with the default settings (run_check turns preview on)."""
    proc = subprocess.run(
        [str(nanlint_bin()), "check", "--isolated", "--output-format", "json", str(path)],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


# Gumbel-softmax with the inner log of its noise taken where the draw is 0: the noise is -inf
# there, that entry's probability 0, and the value and the gradient with respect to the logits
# finite. The gradient is of the probabilities weighted by 1, 2, 3 (their plain sum is 1).
GUMBEL = {
    "torch": """
        import torch


        def relaxed(logits, u):
            return torch.softmax((logits - torch.log(-torch.log(u))) / 0.5, -1)


        def grad(logits, u):
            logits = logits.clone().requires_grad_(True)
            (relaxed(logits, u) * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
            return logits.grad
        """,
    "jax": """
        import jax
        import jax.numpy as jnp


        def relaxed(logits, u):
            return jax.nn.softmax((logits - jnp.log(-jnp.log(u))) / 0.5, -1)


        def grad(logits, u):
            return jax.grad(lambda v: (relaxed(v, u) * jnp.array([1.0, 2.0, 3.0])).sum())(logits)
        """,
    "tensorflow": """
        import tensorflow as tf


        def relaxed(logits, u):
            return tf.nn.softmax((logits - tf.math.log(-tf.math.log(u))) / 0.5, -1)


        def grad(logits, u):
            v = tf.Variable(logits)
            with tf.GradientTape() as tape:
                y = tf.reduce_sum(relaxed(v, u) * tf.constant([1.0, 2.0, 3.0]))
            return tape.gradient(y, v)
        """,
}


@pytest.mark.parametrize("kind", sorted(GUMBEL))
def test_nl101_gumbel_noise_is_finite_where_the_draw_is_0(tmp_path, kind):
    require_libs(kind)
    path = tmp_path / "subject.py"
    path.write_text(src(GUMBEL[kind]), encoding="utf-8")
    assert not [d for d in run_check(path, tmp_path) if d["code"] == "NL101"], "Gumbel noise reported"
    inputs = [[[1.0, 2.0, 3.0], [0.0, 0.5, 0.3]]]
    (value,), (gradient,) = evaluate_jobs([(path, "relaxed", kind, inputs), (path, "grad", kind, inputs)])
    assert finite([value]) and value[0] == 0.0, f"{kind}: probabilities {value}"
    assert finite([gradient]), f"{kind}: gradient {gradient}"


# The thresholds rule.md gives for a probability kept from 0 by its losses: float32 sigmoid is
# positive at a logit of -80 and 0 at -110; one minus it is 0 at 17 (positive at 15); there the
# saturating generator loss's gradient is NaN. Where the default reports and where it does not.
GAN = {
    "torch": """
        import torch


        def log_sigmoid_output(z):
            return torch.log(torch.sigmoid(z))


        def log_one_minus(z):
            return torch.log(1.0 - torch.sigmoid(z))


        def saturating_grad(z):
            z = z.clone().requires_grad_(True)
            g_loss = torch.mean(torch.log(1.0 - torch.sigmoid(z)))
            g_loss.backward()
            return z.grad


        def discriminate(logits):
            return torch.sigmoid(logits)


        def discriminator_loss(real_logits, fake_logits):
            d_real = discriminate(real_logits)
            d_fake = discriminate(fake_logits)
            d_loss = -torch.mean(torch.log(d_real) + torch.log(1.0 - d_fake))
            return d_loss


        def generator_losses(fake_logits):
            d_fake = discriminate(fake_logits)
            non_saturating_loss = -torch.mean(torch.log(d_fake))
            saturating_loss = torch.mean(torch.log(1.0 - d_fake))
            return non_saturating_loss, saturating_loss
        """,
}


def test_nl101_probability_thresholds_and_the_losses_that_keep_it_from_0(tmp_path):
    require_libs("torch")
    path = tmp_path / "subject.py"
    path.write_text(src(GAN["torch"]), encoding="utf-8")
    (below, above), (one_minus,), (grad,) = evaluate_jobs(
        [
            (path, "log_sigmoid_output", "torch", [[[-80.0]], [[-110.0]]]),
            (path, "log_one_minus", "torch", [[[15.0, 17.0]]]),
            (path, "saturating_grad", "torch", [[[17.0]]]),
        ]
    )
    assert math.isfinite(below[0]) and above[0] == -math.inf, f"log(sigmoid) at -80, -110: {below}, {above}"
    assert math.isfinite(one_minus[0]) and one_minus[1] == -math.inf, f"log(1 - sigmoid) at 15, 17: {one_minus}"
    assert math.isnan(grad[0]), f"the saturating loss's gradient at 17: {grad}"
    source = src(GAN["torch"]).splitlines()
    rows = {
        name: i
        for i, line in enumerate(source, 1)
        for name in ("d_loss =", "non_saturating", "saturating_loss =")
        if line.lstrip().startswith(name)
    }
    by_default = {d["location"]["row"] for d in default_check(path) if d["code"] == "NL101"}
    in_preview = {d["location"]["row"] for d in run_check(path, tmp_path) if d["code"] == "NL101"}
    assert by_default == {rows["saturating_loss ="]}, f"by default: rows {by_default}, {rows}"
    assert in_preview == set(rows.values()), f"in preview mode: rows {in_preview}, {rows}"


# A softmax in NumPy (float32) whose smallest entry underflows to 0 (a logit gap of 120): its log
# is -inf, which a beam search's sums keep and its ranking puts last; no NaN without a product,
# and NumPy has no gradient for the -inf to meet. A cross-entropy's product with a 0 label is
# 0 * -inf = NaN.
NUMPY_BEAM = """
    import numpy as np


    def softmax(z):
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)


    def beam_scores(logits, prefix):
        p = softmax(logits.astype(np.float32))
        scores = prefix + np.log(p)
        return scores


    def cross_entropy(logits, y):
        p = softmax(logits.astype(np.float32))
        return -(y * np.log(p)).sum()
    """


def test_nl101_a_probabilitys_log_in_numpy_is_minus_inf_not_nan(tmp_path):
    require_libs("numpy")
    path = tmp_path / "subject.py"
    path.write_text(src(NUMPY_BEAM), encoding="utf-8")
    got = run_module(
        path,
        "import numpy as np\n"
        "logits = np.array([0.0, 120.0, 118.0])\n"
        "s = m.beam_scores(logits, 1.5)\n"
        "ce = m.cross_entropy(logits, np.array([0.0, 1.0, 0.0]))\n"
        "print(json.dumps({'minus_inf': bool(s[0] == -np.inf), 'nan': bool(np.isnan(s).any()),\n"
        "    'ranked_last': int(np.argsort(-s)[-1]), 'total_nan': bool(np.isnan(s.sum())),\n"
        "    'ce_nan': bool(np.isnan(ce))}))\n",
    )
    assert got == {"minus_inf": True, "nan": False, "ranked_last": 0, "total_nan": False, "ce_nan": True}, got
    source = src(NUMPY_BEAM).splitlines()
    rows = {
        name: i for i, line in enumerate(source, 1) for name in ("scores =", "return -(y") if line.lstrip().startswith(name)
    }
    log_family = ("NL101", "NL104", "NL106")
    by_default = {d["location"]["row"] for d in default_check(path) if d["code"] in log_family}
    in_preview = {d["location"]["row"] for d in run_check(path, tmp_path) if d["code"] in log_family}
    assert by_default == {rows["return -(y"]}, f"by default: rows {by_default}, {rows}"
    assert in_preview == set(rows.values()), f"in preview mode: rows {in_preview}, {rows}"
