"""Numeric truth tests of the range family's fixes (NL2xx), run with the real libraries,
gradients included.

For every case: nanlint must report the hazard exactly once, with the case's code. Every fix it
offers is applied here (edits back to front) and the original and fixed modules are evaluated in
fresh interpreters (evaluate_module.py):
  * on the hazard inputs the original's value, or its gradient, is NaN/inf (the case says which),
    and every fixed module's value and gradient are finite;
  * on the other inputs every fixed module's value (and gradient) equals the original's
    (rtol 1e-5), unless the case says the fix changes values there by design (NL205: a NaN test
    that never held now does);
  * the fixes offered are the ones the case expects (by title), preferred first.

A case's source defines the function under test and, where the rule is about gradients, a
function returning the gradient of its sum with respect to its first argument, written with the
library's own autograd (torch.autograd, jax.grad, tf.GradientTape).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from numeric_support import apply_edits, evaluate_jobs, require_libs, run_check, src

RTOL = 1e-5
ATOL = 1e-7
GRAD_ATOL = 1e-6


# The gradient of sum(func(*args)) with respect to the first argument.
TORCH_GRAD = """

def grad(a, *rest):
    a = a.clone().requires_grad_(True)
    {func}(a, *rest).sum().backward()
    return a.grad
"""
# `__import__`, not `import`: an import statement anywhere in the file binds a name nanlint's
# fixes would take for a module-level one.
JAX_GRAD = """

def grad(a, *rest):
    return __import__("jax").grad(lambda v: {func}(v, *rest).sum())(a)
"""
TF_GRAD = """

def grad(a, *rest):
    tensorflow = __import__("tensorflow")
    v = tensorflow.Variable(a)
    with tensorflow.GradientTape() as tape:
        y = tensorflow.reduce_sum({func}(v, *rest))
    return tape.gradient(y, v)
"""
GRADS = {"torch": TORCH_GRAD, "jax": JAX_GRAD, "tensorflow": TF_GRAD}


@dataclass(frozen=True, eq=False)  # hashed by identity: cases key memoized runs
class Case:
    id: str
    code: str
    libs: tuple[str, ...]
    kind: str  # numpy | jax | torch | tensorflow
    body: str  # the module, without the gradient helper
    func: str
    # Inputs where the original is NaN/inf in its value or (with `gradient`) its gradient.
    hazard: list[list[list[float]]]
    # Inputs where every fix must leave value and gradient unchanged.
    away: list[list[list[float]]]
    # Substrings of the expected fix titles, preferred first.
    fixes: tuple[str, ...]
    # Whether the gradient is checked (rules about gradients, and fixes that must keep it finite).
    gradient: bool = True
    # The original's value is non-finite on the hazard inputs (else only its gradient is).
    value_hazard: bool = True
    # NL205: the value changes on the hazard inputs by design; compare with `expected` instead.
    expected_at_hazard: list[list[float]] | None = None

    @property
    def source(self) -> str:
        body = src(self.body)
        if self.gradient:
            body += GRADS[self.kind].format(func=self.func)
        return body


MASK_HAZARD = [[[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]]
MASK_AWAY = [[[1.0, 2.0, 3.0], [1.0, 0.0, 1.0]], [[0.5, -2.0, 4.0], [1.0, 1.0, 1.0]]]
VEC_HAZARD = [[[0.0, 0.0, 0.0]]]
VEC_AWAY = [[[1.0, -2.0, 0.5]], [[0.003, 0.002, -0.004]]]
CONST_HAZARD = [[[2.0, 2.0, 2.0, 2.0]]]
CONST_AWAY = [[[1.0, 2.0, 4.0, -3.0]]]

CASES = [
    # ---------------------------------------------------------------- NL201
    Case("nl201-torch-masked-mean", "NL201", ("torch",), "torch", """
        import torch


        def masked_mean(x, mask):
            return (x * mask).sum() / mask.sum()
        """, "masked_mean", MASK_HAZARD, MASK_AWAY, ("at least 1", "at least 1e-7")),
    Case("nl201-tf-masked-mean", "NL201", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def masked_mean(x, mask):
            n = tf.reduce_sum(tf.cast(tf.not_equal(mask, 0.0), tf.float32))
            return tf.reduce_sum(x * mask) / n
        """, "masked_mean", MASK_HAZARD, MASK_AWAY, ("divide_no_nan", "at least 1")),
    Case("nl201-numpy-count-nonzero", "NL201", ("numpy",), "numpy", """
        import numpy as np


        def nonzero_mean(x, mask):
            return np.sum(x * mask) / np.count_nonzero(mask)
        """, "nonzero_mean", MASK_HAZARD, MASK_AWAY, ("at least 1",), gradient=False),
    Case("nl201-torch-normalize", "NL201", ("torch",), "torch", """
        import torch


        def unit(x):
            return x / x.norm(dim=-1, keepdim=True)
        """, "unit", VEC_HAZARD, VEC_AWAY, ("normalize", "at least 1e-7")),
    Case("nl201-tf-l2-normalize", "NL201", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def unit(x):
            return x / tf.norm(x, axis=-1, keepdims=True)
        """, "unit", VEC_HAZARD, VEC_AWAY, ("l2_normalize", "divide_no_nan", "at least 1e-7")),
    # A floor after JAX's norm keeps the norm's NaN gradient at 0 (jax.grad): no fix is offered.
    Case("nl201-jax-norm", "NL201", ("jax",), "jax", """
        import jax.numpy as jnp


        def unit(x):
            return x / jnp.linalg.norm(x)
        """, "unit", VEC_HAZARD, VEC_AWAY, ()),
    Case("nl201-numpy-std", "NL201", ("numpy",), "numpy", """
        import numpy as np


        def standardize(x):
            return (x - x.mean()) / np.std(x)
        """, "standardize", CONST_HAZARD, CONST_AWAY, ("Add 1e-7", "at least 1e-7"), gradient=False),
    Case("nl201-torch-min-max", "NL201", ("torch",), "torch", """
        import torch


        def rescale(x):
            lo = torch.min(x)
            return (x - lo) / (torch.max(x) - lo)
        """, "rescale", CONST_HAZARD, CONST_AWAY, ("at least 1e-7",)),
    # ---------------------------------------------------------------- NL202
    # PyTorch's clamp selects a 0 gradient at its boundary since mid-2026 (pytorch#184572; 2.15
    # does), so the clip cases use JAX and TensorFlow, where a clip at 0 still passes inf.
    Case("nl202-jax-clip0-sqrt", "NL202", ("jax",), "jax", """
        import jax.numpy as jnp


        def gwd_distance(x):
            return jnp.sqrt(jnp.clip(x * x - 1.0, 0.0))
        """, "gwd_distance", [[[0.5, 1.0, -0.3]]], [[[1.5, 2.0, -3.0]]],
         ("instead of 0", "Add 1e-7"), value_hazard=False),
    Case("nl202-tf-maximum0-sqrt", "NL202", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def hinge_loss(x):
            return tf.sqrt(tf.maximum(x, 0.0))
        """, "hinge_loss", [[[0.0, -1.0, 2.0]]], [[[0.5, 1.0, 2.0]]],
         ("instead of 0", "Add 1e-7"), value_hazard=False),
    Case("nl202-tf-relu-power", "NL202", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def hinge_loss(x):
            return tf.nn.relu(x) ** 0.5
        """, "hinge_loss", [[[0.0, -1.0, 2.0]]], [[[0.5, 1.0, 2.0]]],
         ("Add 1e-7", "at least 1e-7"), value_hazard=False),
    Case("nl202-torch-pairwise-distance", "NL202", ("torch",), "torch", """
        import torch


        def pairwise_distance(a, b):
            d2 = ((a - b) ** 2).sum(-1)
            return torch.sqrt(d2)
        """, "pairwise_distance", [[[1.0, 2.0], [1.0, 2.0]]], [[[1.0, 2.0], [0.0, -1.0]]],
         ("Add 1e-7", "at least 1e-7"), value_hazard=False),
    Case("nl202-torch-rmse-loss", "NL202", ("torch",), "torch", """
        import torch
        import torch.nn.functional as F


        def rmse(pred, target):
            return torch.sqrt(F.mse_loss(pred, target))
        """, "rmse", [[[1.0, 2.0], [1.0, 2.0]]], [[[1.0, 2.0], [0.5, 2.5]]],
         ("Add 1e-7", "at least 1e-7"), value_hazard=False),
    Case("nl202-jax-norm-of-difference", "NL202", ("jax",), "jax", """
        import jax.numpy as jnp


        def distance_loss(a, b):
            return jnp.linalg.norm(a - b, axis=-1)
        """, "distance_loss", [[[1.0, 2.0], [1.0, 2.0]]], [[[1.0, 2.0], [0.0, -1.0]]],
         ("jnp.sqrt(jnp.sum(jnp.square",), value_hazard=False),
    Case("nl202-tf-norm-of-difference", "NL202", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def triplet_loss(u, v):
            return tf.norm(u - v, axis=-1)
        """, "triplet_loss", [[[1.0, 2.0], [1.0, 2.0]]], [[[1.0, 2.0], [0.0, -1.0]]],
         ("tf.math.sqrt(tf.math.reduce_sum",), value_hazard=False),
    Case("nl202-jax-rms", "NL202", ("jax",), "jax", """
        import jax.numpy as jnp


        def rmse(e):
            return jnp.sqrt(jnp.mean(jnp.square(e)))
        """, "rmse", [[[0.0, 0.0, 0.0]]], [[[1.0, -2.0, 0.5]]],
         ("Add 1e-7", "at least 1e-7"), value_hazard=False),
]

# ---------------------------------------------------------------- NL203
LOGITS_HAZARD = [[[100.0, 0.0, -1.0]], [[-1000.0, 0.0, 1000.0]]]
LOGITS_AWAY = [[[1.0, 2.0, 3.0]], [[-0.5, 0.25, 0.0]]]
ROWS_HAZARD = [[[[100.0, 0.0], [1.0, 2.0]]]]
ROWS_AWAY = [[[[1.0, 0.0], [1.0, 2.0]]]]
GATE_HAZARD = [[[-200.0, 0.0, 3.0]]]
GATE_AWAY = [[[0.5, -3.0, 2.0]]]

CASES += [
    Case("nl203-torch-softmax", "NL203", ("torch",), "torch", """
        import torch


        def probs(logits):
            e = torch.exp(logits)
            return e / e.sum(dim=-1, keepdim=True)
        """, "probs", LOGITS_HAZARD, LOGITS_AWAY, ("torch.softmax(logits, dim=-1)",)),
    Case("nl203-numpy-softmax", "NL203", ("numpy", "scipy"), "numpy", """
        import numpy as np


        def probs(x):
            return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
        """, "probs", ROWS_HAZARD, ROWS_AWAY, ("softmax(x, axis=-1)",), gradient=False),
    Case("nl203-tf-softmax", "NL203", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def probs(z):
            return tf.exp(z) / tf.reduce_sum(tf.exp(z), axis=-1, keepdims=True)
        """, "probs", ROWS_HAZARD, ROWS_AWAY, ("tf.nn.softmax(z, axis=-1)",)),
    Case("nl203-jax-softmax-all", "NL203", ("jax",), "jax", """
        import jax.numpy as jnp


        def probs(x):
            w = jnp.exp(x)
            return w / jnp.sum(w)
        """, "probs", ROWS_HAZARD, ROWS_AWAY, ("softmax(x, axis=None)",)),
    # Written out with an array library's float32 functions, the log-sum-exp is NL105's (its
    # `logsumexp` fix removes the overflow too; NL105 supersedes NL203, whose own `logsumexp`
    # fix, safe, comes first: safe fixes before unsafe ones); NumPy's stays NL203.
    Case("nl203-torch-logsumexp", "NL105", ("torch",), "torch", """
        import torch


        def lse(scores):
            return torch.log(torch.sum(torch.exp(scores), dim=1))
        """, "lse", ROWS_HAZARD, ROWS_AWAY, ("torch.logsumexp(scores, dim=1)", "torch.logsumexp(scores, 1)")),
    Case("nl203-tf-logsumexp", "NL105", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def lse(scores):
            return tf.math.log(tf.reduce_sum(tf.exp(scores), axis=-1, keepdims=True))
        """, "lse", ROWS_HAZARD, ROWS_AWAY, ("reduce_logsumexp(scores, axis=-", "reduce_logsumexp(scores, -1")),
    Case("nl203-jax-logsumexp", "NL105", ("jax",), "jax", """
        import jax.numpy as jnp


        def lse(scores):
            return jnp.log(jnp.sum(jnp.exp(scores), axis=0))
        """, "lse", ROWS_HAZARD, ROWS_AWAY, ("logsumexp(scores, axis=0)", "logsumexp(scores, 0)")),
    Case("nl203-numpy-logsumexp", "NL203", ("numpy", "scipy"), "numpy", """
        import numpy as np


        def lse(scores):
            return np.log(np.sum(np.exp(scores)))
        """, "lse", ROWS_HAZARD, ROWS_AWAY, ("logsumexp(scores)",), gradient=False),
    Case("nl203-torch-sigmoid", "NL203", ("torch",), "torch", """
        import torch


        def gate_loss(z):
            return 1 / (1 + torch.exp(-z))
        """, "gate_loss", GATE_HAZARD, GATE_AWAY, ("torch.sigmoid(z)",), value_hazard=False),
    Case("nl203-tf-sigmoid", "NL203", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def gate_loss(z):
            return 1.0 / (tf.exp(-z) + 1.0)
        """, "gate_loss", GATE_HAZARD, GATE_AWAY, ("sigmoid(z)",), value_hazard=False),
    Case("nl203-jax-sigmoid", "NL203", ("jax",), "jax", """
        import jax.numpy as jnp


        def gate_loss(z):
            return 1 / (1 + jnp.exp(-z))
        """, "gate_loss", GATE_HAZARD, GATE_AWAY, ("sigmoid(z)",), value_hazard=False),
    Case("nl203-numpy-logistic", "NL203", ("numpy", "scipy"), "numpy", """
        import numpy as np


        def logistic(x):
            return np.exp(x) / (1 + np.exp(x))
        """, "logistic", [[[1000.0, 0.0]]], GATE_AWAY, ("expit(x)",), gradient=False),
    Case("nl203-keras-cosh", "NL203", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def logcosh_loss(x):
            return tf.math.log((tf.exp(x) + tf.exp(-x)) / 2.0)
        """, "logcosh_loss", [[[100.0, -100.0]]], [[[1.0, -2.0]]], ()),
]

# ---------------------------------------------------------------- NL204
CASES += [
    Case("nl204-torch-entropy", "NL204", ("torch",), "torch", """
        import torch


        def entropy_loss(logits):
            p = torch.softmax(logits, dim=-1)
            return -torch.where(p > 0, p * torch.log(p), torch.zeros_like(p)).sum(-1)
        """, "entropy_loss", [[[-1000.0, 0.0, 0.0]]], [[[1.0, 2.0, 3.0]]], ("Select `p`",), value_hazard=False),
    Case("nl204-torch-masked-mean", "NL204", ("torch",), "torch", """
        import torch


        def masked_mean_loss(x, mask):
            total = (x * mask).sum(-1)
            n = mask.sum(-1)
            return torch.where(n > 0, total / n, torch.zeros_like(total))
        """, "masked_mean_loss", MASK_HAZARD, MASK_AWAY, ("Select `n`",), value_hazard=False),
    # The count made float: the guard on `n` holds of `n.float()`, and the fix selects it.
    Case("nl204-torch-masked-mean-float", "NL204", ("torch",), "torch", """
        import torch


        def masked_mean_loss(x, mask):
            total = (x * mask).sum(-1)
            n = mask.sum(-1)
            return torch.where(n > 0, total / n.float(), torch.zeros_like(total))
        """, "masked_mean_loss", MASK_HAZARD, MASK_AWAY, ("Select `n.float()`",), value_hazard=False),
    Case("nl204-jax-distance", "NL204", ("jax",), "jax", """
        import jax.numpy as jnp


        def distance(a, b):
            d2 = jnp.sum((a - b) ** 2, axis=-1)
            return jnp.where(d2 > 0, jnp.sqrt(d2), 0.0)
        """, "distance", [[[1.0, 2.0], [1.0, 2.0]]], [[[1.0, 2.0], [0.0, -1.0]]],
         # NL202's fixes of the root join as alternatives (SUPERSEDES).
         ("Select `d2`", "Add 1e-7", "at least 1e-7"), value_hazard=False),
    # Not named for a loss: differentiated because the module passes it to jax.grad, whose
    # gradient with respect to `x` is the NaN.
    Case("nl204-jax-grad-transform", "NL204", ("jax",), "jax", """
        import jax
        import jax.numpy as jnp


        def energy(x):
            return jnp.sum(jnp.where(x > 0, jnp.sqrt(x), 0.0))


        force = jax.grad(energy)
        """, "energy", [[[0.0, 1.0]]], [[[1.0, 4.0]]], ("Select `x`",), value_hazard=False),
    Case("nl204-tf-log-sigmoid", "NL204", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def log_q_loss(scores):
            q = tf.nn.sigmoid(scores)
            return tf.where(tf.equal(q, 0.0), tf.zeros_like(q), tf.math.log(q))
        """, "log_q_loss", [[[-200.0, 0.0]]], [[[1.0, -3.0]]], ("Select `q`",), value_hazard=False),
    Case("nl204-torch-log-one-minus", "NL204", ("torch",), "torch", """
        import torch


        def log_not_loss(z):
            p = torch.sigmoid(z)
            return torch.where(p < 1, torch.log(1 - p), torch.zeros_like(p))
        """, "log_not_loss", [[[200.0, 0.0]]], [[[1.0, -3.0]]],
         # NL101 and NL103 report the log too (NL101's where test knows `1 - p > 0` from `p < 1`
         # less than NL204 does); their clip and log_sigmoid join as alternatives (SUPERSEDES).
         ("Select `1 - p`", "Clip `1 - p`", "Use `torch.nn.functional.logsigmoid(-z)`"), value_hazard=False),
    Case("nl204-torch-softplus-overflow", "NL204", ("torch",), "torch", """
        import torch


        def forward(x):
            g = 2.0 * x
            return torch.where(g > 20.0, g, torch.log(1.0 + torch.exp(g)))
        """, "forward", [[[50.0, 0.0]]], [[[12.5, -3.0, 1.0]]],
         # NL105's softplus joins as an alternative (SUPERSEDES).
         ("Select `g`", "Use `torch.nn.functional.softplus(g)`"), value_hazard=False),
]

CASE_IDS = [c.id for c in CASES]


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
        found = [d for d in diagnostics if d.get("code") == case.code]
        assert len(found) == 1 and len(diagnostics) == 1, (
            f"expected exactly one {case.code} finding for\n{case.source}\ngot:\n{json.dumps(diagnostics, indent=1)}"
        )
        return found[0]

    @functools.cache
    def fixed(self, case: Case, index: int) -> Path:
        fix = self.finding(case)["fixes"][index]
        out_dir = self.root / case.id / f"fix{index}"
        out_dir.mkdir()
        out = out_dir / "subject.py"
        out.write_text(apply_edits(case.source, fix["edits"]), encoding="utf-8")
        return out

    def run(self, path: Path, case: Case, func: str) -> tuple[list[list[float]], list[list[float]]]:
        """(results on the hazard inputs, results on the other inputs) of `func`."""
        return self._run_all(path, case)[func]

    @functools.cache
    def _run_all(self, path: Path, case: Case) -> dict[str, tuple[list[list[float]], list[list[float]]]]:
        """The case's function and its `grad` (if any) on one module, in one fresh interpreter
        (one module: no import of another can mask one it lacks)."""
        funcs = [case.func] + (["grad"] if case.gradient else [])
        results = evaluate_jobs([(path, f, case.kind, case.hazard + case.away) for f in funcs])
        n = len(case.hazard)
        return {f: (r[:n], r[n:]) for f, r in zip(funcs, results)}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("nanlint-range-numeric"))


def finite(results) -> bool:
    return all(math.isfinite(v) for r in results for v in r)


def close(got, want, atol=ATOL) -> bool:
    return len(got) == len(want) and all(
        len(g) == len(w) and all(math.isfinite(a) and abs(a - b) <= atol + RTOL * abs(b) for a, b in zip(g, w))
        for g, w in zip(got, want)
    )


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_the_finding_offers_the_expected_fixes(workspace, case):
    d = workspace.finding(case)
    titles = [f["message"] for f in d["fixes"]]
    assert len(titles) == len(case.fixes), f"fixes {titles}, expected {case.fixes}"
    for title, want in zip(titles, case.fixes):
        assert want in title, f"fix titles {titles}, expected {case.fixes} in this order"
    assert d["fix"] == (d["fixes"][0] if d["fixes"] else None)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_the_original_is_not_finite_on_the_hazard(workspace, case):
    require_libs(*case.libs)
    path, _ = workspace.check(case)
    value, _ = workspace.run(path, case, case.func)
    if case.value_hazard:
        assert not finite(value), f"{case.id}: expected a NaN or inf value, got {value}"
    else:
        assert finite(value), f"{case.id}: the value itself should be finite, got {value}"
    if case.gradient:
        grad, _ = workspace.run(path, case, "grad")
        assert not finite(grad) or case.value_hazard, f"{case.id}: expected a NaN or inf gradient, got {grad}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_every_fix_is_finite_on_the_hazard_and_equal_elsewhere(workspace, case):
    require_libs(*case.libs)
    path, _ = workspace.check(case)
    _, value_away = workspace.run(path, case, case.func)
    grad_away = workspace.run(path, case, "grad")[1] if case.gradient else None
    for index in range(len(workspace.finding(case)["fixes"])):
        fixed = workspace.fixed(case, index)
        fixed_src = fixed.read_text(encoding="utf-8")
        what = f"{case.id} fix {index}\n--- fixed source ---\n{fixed_src}"
        compile(fixed_src, str(fixed), "exec")
        hazard, away = workspace.run(fixed, case, case.func)
        assert finite(hazard), f"{what}\nvalue on the hazard inputs: {hazard}"
        if case.expected_at_hazard is not None:
            assert hazard == case.expected_at_hazard, f"{what}\n{hazard} != {case.expected_at_hazard}"
        assert close(away, value_away), f"{what}\nvalue elsewhere: {away} != {value_away}"
        if case.gradient:
            grad_hazard, grad_elsewhere = workspace.run(fixed, case, "grad")
            assert finite(grad_hazard), f"{what}\ngradient on the hazard inputs: {grad_hazard}"
            # Gradients that are 0 in exact arithmetic (of a sum of softmax outputs) come out as
            # float32 rounding noise of either sign, about 1e-7.
            assert close(grad_elsewhere, grad_away, GRAD_ATOL), (
                f"{what}\ngradient elsewhere: {grad_elsewhere} != {grad_away}"
            )


# ---------------------------------------------------------------- NL202's gradient claims
# NL202's message says what the root's infinite gradient at 0 becomes at the input of the clip,
# ReLU or squares that produced the 0. Each claim below is a phrase of that message and the
# gradient (of the sum, with respect to x) it states; every case is checked against the library
# itself, so the message cannot drift from what the libraries compute. Clip inputs are
# x = [-1, 0, 1] (below the floor, at it, above it); the squares' inputs make them all 0.
CLIP_INPUT = [[[-1.0, 0.0, 1.0]]]
CLAIMS = {
    "the input's gradient is inf at exactly 0 and NaN below the floor": ("nan", "inf"),
    "the input's gradient is inf at exactly 0 (0 below the floor)": ("0", "inf"),
    "the input's gradient is NaN at 0 and below": ("nan", "nan"),
    # PyTorch's clamp: inf at the bound while its subgradient there is 1, 0 once it is 0.
    "where clamp's subgradient at the bound is 1 (PyTorch before mid-2026; 2.15 gives 0)": ("0", "clamp"),
    "NaN at the inputs of": ("nan", "nan"),
}


@dataclass(frozen=True, eq=False)
class GradientClaim:
    id: str
    kind: str
    body: str
    func: str
    inputs: list[list[list[float]]] = field(default_factory=lambda: CLIP_INPUT)
    # No finding: the library's gradient is finite everywhere (a PyTorch or JAX ReLU).
    reported: bool = True


GRADIENT_CLAIMS = [
    GradientClaim("torch-clamp-sqrt", "torch", """
        import torch


        def hinge_loss(x):
            return torch.sqrt(torch.clamp(x, min=0))
        """, "hinge_loss"),
    GradientClaim("torch-clamp-method-sqrt", "torch", """
        import torch


        def hinge_loss(x):
            return x.clamp(0).sqrt()
        """, "hinge_loss"),
    GradientClaim("torch-clamp-power", "torch", """
        import torch


        def hinge_loss(x):
            return torch.clamp(x, min=0.0) ** 0.5
        """, "hinge_loss"),
    GradientClaim("torch-relu-sqrt", "torch", """
        import torch


        def hinge_loss(x):
            return torch.sqrt(torch.relu(x))
        """, "hinge_loss", reported=False),
    GradientClaim("torch-sum-of-squares", "torch", """
        import torch


        def distance_loss(x):
            return torch.sqrt((x ** 2).sum(-1))
        """, "distance_loss", [[[0.0, 0.0, 0.0]]]),
    GradientClaim("torch-variance", "torch", """
        import torch


        def spread_loss(x):
            return torch.sqrt(x.var())
        """, "spread_loss", [[[2.0, 2.0, 2.0]]]),
    GradientClaim("jax-maximum-sqrt", "jax", """
        import jax.numpy as jnp


        def hinge_loss(x):
            return jnp.sqrt(jnp.maximum(x, 0.0))
        """, "hinge_loss"),
    GradientClaim("jax-clip-sqrt", "jax", """
        import jax.numpy as jnp


        def hinge_loss(x):
            return jnp.sqrt(jnp.clip(x, 0.0))
        """, "hinge_loss"),
    GradientClaim("jax-maximum-power", "jax", """
        import jax.numpy as jnp


        def hinge_loss(x):
            return jnp.maximum(x, 0.0) ** 0.5
        """, "hinge_loss"),
    GradientClaim("jax-relu-sqrt", "jax", """
        import jax
        import jax.numpy as jnp


        def hinge_loss(x):
            return jnp.sqrt(jax.nn.relu(x))
        """, "hinge_loss", reported=False),
    GradientClaim("jax-mean-of-squares", "jax", """
        import jax.numpy as jnp


        def rmse(x):
            return jnp.sqrt(jnp.mean(jnp.square(x)))
        """, "rmse", [[[0.0, 0.0, 0.0]]]),
    GradientClaim("tf-maximum-sqrt", "tensorflow", """
        import tensorflow as tf


        def hinge_loss(x):
            return tf.sqrt(tf.maximum(x, 0.0))
        """, "hinge_loss"),
    GradientClaim("tf-clip-by-value-sqrt", "tensorflow", """
        import tensorflow as tf


        def hinge_loss(x):
            return tf.sqrt(tf.clip_by_value(x, 0.0, 10.0))
        """, "hinge_loss"),
    GradientClaim("tf-relu-sqrt", "tensorflow", """
        import tensorflow as tf


        def hinge_loss(x):
            return tf.sqrt(tf.nn.relu(x))
        """, "hinge_loss"),
    GradientClaim("tf-relu-power", "tensorflow", """
        import tensorflow as tf


        def hinge_loss(x):
            return tf.nn.relu(x) ** 0.5
        """, "hinge_loss"),
    GradientClaim("tf-variance", "tensorflow", """
        import tensorflow as tf


        def spread_loss(x):
            return tf.sqrt(tf.math.reduce_variance(x))
        """, "spread_loss", [[[2.0, 2.0, 2.0]]]),
    # A root of a value cut from the graph: no gradient reaches the clip, so nothing is reported
    # and the input's gradient is the 1 of `x +` alone.
    GradientClaim("torch-detached-moved-sqrt", "torch", """
        import torch


        def hinge_loss(x):
            return x + x.clamp(0).detach().to(x.device).float().view(-1, 3).sqrt()
        """, "hinge_loss", reported=False),
    GradientClaim("jax-stop-gradient-sqrt", "jax", """
        import jax
        import jax.numpy as jnp


        def hinge_loss(x):
            return x + jnp.sqrt(jax.lax.stop_gradient(jnp.maximum(x, 0.0)))
        """, "hinge_loss", reported=False),
    GradientClaim("tf-stop-gradient-sqrt", "tensorflow", """
        import tensorflow as tf


        def hinge_loss(x):
            return x + tf.sqrt(tf.stop_gradient(tf.maximum(x, 0.0)))
        """, "hinge_loss", reported=False),
]

# PyTorch's clamp at its bound: the subgradient of `clamp(x, min=0)` at x = 0.
CLAMP_SUBGRADIENT = """
import torch


def subgradient(a):
    a = a.clone().requires_grad_(True)
    torch.clamp(a, min=0.0).sum().backward()
    return a.grad


def version(a):
    major, minor = (int(p) for p in torch.__version__.split(".")[:2])
    return torch.tensor([float(major), float(minor)])
"""


def matches(got: float, want: str) -> bool:
    return {"nan": math.isnan(got), "inf": math.isinf(got) and got > 0, "0": got == 0.0}[want]


@pytest.mark.parametrize("claim", GRADIENT_CLAIMS, ids=[c.id for c in GRADIENT_CLAIMS])
def test_nl202_gradients(tmp_path, claim):
    require_libs(claim.kind)
    path = tmp_path / "subject.py"
    path.write_text(src(claim.body) + GRADS[claim.kind].format(func=claim.func), encoding="utf-8")
    found = [d for d in run_check(path, cwd=tmp_path) if d.get("code") == "NL202"]
    grad = evaluate_jobs([(path, "grad", claim.kind, claim.inputs)])[0][0]
    if not claim.reported:
        assert not found, f"{claim.id}: no NL202 expected, got {found}"
        assert finite([grad]), f"{claim.id}: unreported, but the gradient is {grad}"
        return
    assert len(found) == 1, f"{claim.id}: expected one NL202, got {found}"
    message = found[0]["message"]
    stated = [want for phrase, want in CLAIMS.items() if phrase in message]
    assert len(stated) == 1, f"{claim.id}: the message states no known gradient claim: {message}"
    below, at = stated[0]
    if claim.inputs is not CLIP_INPUT:
        assert all(matches(g, "nan") for g in grad), f"{claim.id}: {message}\ngradient {grad}"
        return
    if at == "clamp":
        module = tmp_path / "clamp.py"
        module.write_text(CLAMP_SUBGRADIENT, encoding="utf-8")
        (subgradient,), (version,) = evaluate_jobs(
            [(module, "subgradient", "torch", [[[0.0]]]), (module, "version", "torch", [[[0.0]]])]
        )
        assert subgradient[0] in (0.0, 1.0), f"clamp's subgradient at its bound: {subgradient}"
        # The message says 2.15 gives 0 at the bound.
        assert version < [2.0, 15.0] or subgradient[0] == 0.0, f"PyTorch {version}: subgradient {subgradient}"
        at = "inf" if subgradient[0] == 1.0 else "0"
    assert matches(grad[0], below), f"{claim.id}: {message}\ngradient below the floor: {grad[0]}"
    assert matches(grad[1], at), f"{claim.id}: {message}\ngradient at 0: {grad[1]}"
    assert math.isfinite(grad[2]), f"{claim.id}: gradient above the floor: {grad[2]}"


# ---------------------------------------------------------------- NL201's floors under a mask
# A mask known only by its parameter's name gets a floor of 1 (exact for 0/1 values), then a
# floor of eps: a soft mask's count can be 0.5, where only the eps floor keeps the mean, and an
# integer mask's count must take the float floor (type promotion).
MASK_FLOORS = {
    "torch": ("import torch", "mask.long()"),
    "numpy": ("import numpy as np", "mask.astype(np.int64)"),
    "jax": ("import jax.numpy as jnp", "mask.astype(jnp.int32)"),
}


@pytest.mark.parametrize("kind", sorted(MASK_FLOORS))
def test_nl201_mask_floors_on_soft_and_integer_masks(tmp_path, kind):
    require_libs(kind)
    imports, integer = MASK_FLOORS[kind]
    source = src(f"""
        {imports}


        def masked_mean(x, mask):
            return (x * mask).sum() / mask.sum()


        def integer_masked_mean(x, mask):
            return masked_mean(x, {integer})
        """)
    path = tmp_path / "subject.py"
    path.write_text(source, encoding="utf-8")
    found = [d for d in run_check(path, cwd=tmp_path) if d.get("code") == "NL201"]
    assert len(found) == 1, found
    titles = [f["message"] for f in found[0]["fixes"]]
    assert [t.rsplit(" ", 1)[-1] for t in titles] == ["1", "1e-7"], titles
    soft = [[0.5, -2.0, 4.0], [0.2, 0.3, 0.0]]  # count 0.5: the mean is (0.1 - 0.6) / 0.5 = -1
    empty, ones = [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], [[1.0, 2.0, 3.0], [1.0, 0.0, 1.0]]
    jobs = []
    for index, fix in enumerate(found[0]["fixes"]):
        fixed = tmp_path / f"fix{index}" / "subject.py"
        fixed.parent.mkdir()
        fixed.write_text(apply_edits(source, fix["edits"]), encoding="utf-8")
        jobs += [(fixed, "masked_mean", kind, [soft]), (fixed, "integer_masked_mean", kind, [empty, ones])]
    (one_soft, one_integer, eps_soft, eps_integer) = evaluate_jobs(jobs)
    assert close(one_soft, [[-0.5]]), f"a floor of 1 under a count of 0.5: {one_soft}"
    assert close(eps_soft, [[-1.0]]), f"a floor of eps under a count of 0.5: {eps_soft}"
    for got in (one_integer, eps_integer):
        assert got == [[0.0], [2.0]], f"an integer mask, empty then two ones: {got}"
