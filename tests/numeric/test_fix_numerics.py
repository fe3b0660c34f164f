"""Numeric truth tests of NL101 (log-of-possibly-zero) fixes, run with the real libraries.

For every case: nanlint must report the hazard once; every alternative fix it offers is
applied here (edits back to front), and the original and fixed modules are evaluated in
fresh interpreters:
  * on inputs with exact zeros the original is NaN/inf and every fixed module is finite;
  * away from zero (log arguments >= 1e-3) fixed and original agree (rtol 1e-5);
  * the clip fix equals the original evaluated with the zeros of the log argument raised
    to epsilon (1e-7 by default, `[tool.nanlint] epsilon` when configured);
  * the xlogy alternative is offered exactly for natural-log factors of a product, never
    for log2/log10 (xlogy is a natural log) nor for a bare log.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from numeric_support import apply_edits, evaluate, require_libs, run_check, run_module, src

DEFAULT_EPSILON = 1e-7
RTOL = 1e-5
ATOL = 1e-7


@dataclass(frozen=True, eq=False)  # hashed by identity: cases key memoized runs
class Case:
    id: str
    libs: tuple[str, ...]
    kind: str  # array type the function receives: numpy | jax | torch | tensorflow
    source: str
    log_call: str  # text of the flagged call, used to locate its row
    # Input sets where every fix must turn a NaN/inf result into a finite one. Each log
    # argument that is 0 has a 0 coefficient, so that xlogy(0, 0) = 0 applies as well.
    zero_inputs: list[list[list[float]]]
    # Input sets whose log arguments are all >= 1e-3: fixes must not change the result.
    away_inputs: list[list[list[float]]]
    # True: a natural-log factor of a product, the xlogy alternative must be offered.
    # False: it must not be. None: not specified for this API (only checked numerically).
    xlogy: bool | None
    # Index of the argument that reaches the log unchanged (None when it is transformed,
    # e.g. by softmax). Enables the exact epsilon checks of the clip fix.
    log_arg: int | None = None
    # Extra input sets for the clip fix only: a 0 log argument with a non-zero coefficient.
    clip_zero_inputs: list[list[list[float]]] = field(default_factory=list)
    func: str = "f"


# Cross-entropy style inputs: y is a distribution, p a probability vector.
XENT_ZERO = [[[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]]
XENT_CLIP_ZERO = [[[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]]]
XENT_AWAY = [[[0.2, 0.5, 0.3], [0.3, 0.4, 0.3]], [[1.0, 0.0, 0.0], [0.998, 0.001, 0.001]]]
# Softmax inputs: in float32, softmax([-1000, 0, -1000]) is exactly [0, 1, 0].
SOFTMAX_ZERO = [[[0.0, 1.0, 0.0], [-1000.0, 0.0, -1000.0]]]
SOFTMAX_CLIP_ZERO = [[[0.5, 0.5, 0.0], [-1000.0, 0.0, -1000.0]]]
SOFTMAX_AWAY = [[[0.2, 0.5, 0.3], [0.1, 0.5, -0.2]], [[0.0, 1.0, 0.0], [2.0, 1.0, 0.0]]]
# A bare log of a non-probability: values above 1 must survive the fix unchanged.
PLAIN_ZERO = [[[0.0, 1.0, 2.0]]]
PLAIN_AWAY = [[[1e-3, 0.5, 1.0, 2.0, 50.0]]]


def xent_case(id, libs, kind, source, log_call, xlogy):
    return Case(id, libs, kind, src(source), log_call, XENT_ZERO, XENT_AWAY, xlogy,
                log_arg=1, clip_zero_inputs=XENT_CLIP_ZERO)


def softmax_case(id, libs, kind, source, log_call, xlogy):
    return Case(id, libs, kind, src(source), log_call, SOFTMAX_ZERO, SOFTMAX_AWAY, xlogy,
                clip_zero_inputs=SOFTMAX_CLIP_ZERO)


def plain_case(id, libs, kind, source, log_call):
    return Case(id, libs, kind, src(source), log_call, PLAIN_ZERO, PLAIN_AWAY, False, log_arg=0)


# NL101 reports a log only with evidence that its argument can be 0 (an array annotation is not
# evidence). Cases whose log argument is an input take it in a model's forward pass (`forward` for
# PyTorch, `call` for Keras and TensorFlow, `__call__` for NumPy and JAX): a training-time value
# that nothing keeps above 0. The evaluated function `f` is the bound method or the instance, so
# the inputs reach the log unchanged. The others compute it with a softmax or a sigmoid.
CASES = [
    # ---- NumPy (xlogy fix: scipy.special.xlogy, imported as `from scipy.special import xlogy`)
    xent_case("numpy-product", ("numpy", "scipy"), "numpy", """
        import numpy as np


        class Loss:
            def __call__(self, y, p):
                return -np.sum(y * np.log(p))


        f = Loss()
        """, "np.log(p)", True),
    xent_case("numpy-product-log-left", ("numpy", "scipy"), "numpy", """
        import numpy as np


        class Loss:
            def __call__(self, y, p):
                return -np.sum(np.log(p) * y)


        f = Loss()
        """, "np.log(p)", True),
    xent_case("numpy-product-log2", ("numpy",), "numpy", """
        import numpy as np


        class Loss:
            def __call__(self, y, p):
                return -np.sum(y * np.log2(p))


        f = Loss()
        """, "np.log2(p)", False),
    xent_case("numpy-product-log10", ("numpy",), "numpy", """
        import numpy as np


        class Loss:
            def __call__(self, y, p):
                return -np.sum(y * np.log10(p))


        f = Loss()
        """, "np.log10(p)", False),
    # Non-ASCII text before and inside the edited span on the same line: columns are
    # counted in characters (code points), not bytes or UTF-16 units.
    xent_case("numpy-product-unicode-columns", ("numpy", "scipy"), "numpy", """
        import numpy as np


        class Loss:
            def __call__(self, y, p):
                ŷ = p; tag = "🔥é"; return -np.sum(y * np.log(ŷ))


        f = Loss()
        """, "np.log(ŷ)", True),
    plain_case("numpy-plain", ("numpy",), "numpy", """
        import numpy as np


        class Loss:
            def __call__(self, x):
                return np.log(x)


        f = Loss()
        """, "np.log(x)"),
    # ---- TensorFlow
    xent_case("tf-product", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        class Loss:
            def call(self, y, p):
                return -tf.reduce_sum(y * tf.math.log(p))


        f = Loss().call
        """, "tf.math.log(p)", True),
    softmax_case("tf-softmax", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        def f(y, z):
            p = tf.nn.softmax(z)
            return -tf.reduce_sum(y * tf.math.log(p))
        """, "tf.math.log(p)", True),
    plain_case("tf-plain", ("tensorflow",), "tensorflow", """
        import tensorflow as tf


        class Loss:
            def call(self, x):
                return tf.math.log(x)


        f = Loss().call
        """, "tf.math.log(x)"),
    # ---- Keras 3 ops (the fix spelling for Keras is not specified; only numerics checked)
    Case("keras-product", ("keras",), "tensorflow", src("""
        import keras


        class Loss:
            def call(self, y, p):
                return -keras.ops.sum(y * keras.ops.log(p))


        f = Loss().call
        """), "keras.ops.log(p)", XENT_ZERO, XENT_AWAY, None, log_arg=1,
         clip_zero_inputs=XENT_CLIP_ZERO),
    # ---- PyTorch
    xent_case("torch-product", ("torch",), "torch", """
        import torch


        class Loss(torch.nn.Module):
            def forward(self, y, p):
                return -torch.sum(y * torch.log(p))


        f = Loss()
        """, "torch.log(p)", True),
    softmax_case("torch-softmax", ("torch",), "torch", """
        import torch


        def f(y, z):
            p = torch.softmax(z, dim=-1)
            return -torch.sum(y * torch.log(p))
        """, "torch.log(p)", True),
    xent_case("torch-product-log2", ("torch",), "torch", """
        import torch


        class Loss(torch.nn.Module):
            def forward(self, y, p):
                return -torch.sum(y * torch.log2(p))


        f = Loss()
        """, "torch.log2(p)", False),
    plain_case("torch-plain", ("torch",), "torch", """
        import torch


        class Loss(torch.nn.Module):
            def forward(self, x):
                return torch.log(x)


        f = Loss()
        """, "torch.log(x)"),
    # ---- JAX
    softmax_case("jax-softmax", ("jax",), "jax", """
        import jax
        import jax.numpy as jnp


        def f(y, z):
            p = jax.nn.softmax(z)
            return -jnp.sum(y * jnp.log(p))
        """, "jnp.log(p)", True),
    # Only `jnp` is bound: the xlogy fix (jax.scipy.special.xlogy) must make `jax` available.
    xent_case("jax-product-jnp-only", ("jax",), "jax", """
        import jax.numpy as jnp


        class Loss:
            def __call__(self, y, p):
                return -jnp.sum(y * jnp.log(p))


        f = Loss()
        """, "jnp.log(p)", True),
    xent_case("jax-product-log10", ("jax",), "jax", """
        import jax.numpy as jnp


        class Loss:
            def __call__(self, y, p):
                return -jnp.sum(y * jnp.log10(p))


        f = Loss()
        """, "jnp.log10(p)", False),
    plain_case("jax-plain", ("jax",), "jax", """
        import jax.numpy as jnp


        class Loss:
            def __call__(self, x):
                return jnp.log(x)


        f = Loss()
        """, "jnp.log(x)"),
    # A softmax output scaled by weights above 1: the clip must not cap `w * p` at 1 (values
    # away from zero exceed it); it raises the lower bound only.
    Case("torch-scaled-softmax", ("torch",), "torch", src("""
        import torch


        def f(z, w):
            p = torch.softmax(z, -1)
            return -(p * torch.log(w * p)).sum()
        """), "torch.log(w * p)", [[[-1000.0, 0.0, -1000.0], [4.0, 4.0, 4.0]]],
        [[[0.2, 0.5, 0.3], [4.0, 4.0, 4.0]], [[0.0, 1.0, 0.0], [2.0, 3.0, 5.0]]], True),
    # A KL divergence of two softmax outputs: `p / q` is 0 where `p` underflows (q does not
    # here; where both do, 0 / 0 is NaN before any log, which no fix of the log can mend).
    Case("torch-kl-divergence", ("torch",), "torch", src("""
        import torch


        def f(a, b):
            p = torch.softmax(a, -1)
            q = torch.softmax(b, -1)
            return (p * torch.log(p / q)).sum()
        """), "torch.log(p / q)", [[[-1000.0, 0.0, -1000.0], [0.2, 0.5, 0.3]]],
        [[[0.2, 0.5, 0.3], [0.1, 0.5, -0.2]], [[0.0, 1.0, 0.0], [2.0, 1.0, 0.0]]], True),
    Case("numpy-kl-divergence", ("numpy", "scipy"), "numpy", src("""
        import numpy as np
        from scipy.special import softmax


        def f(a, b):
            p = softmax(a, axis=-1).astype(np.float32)
            q = softmax(b, axis=-1).astype(np.float32)
            return np.sum(p * np.log(p / q))
        """), "np.log(p / q)", [[[-1000.0, 0.0, -1000.0], [0.2, 0.5, 0.3]]],
        [[[0.2, 0.5, 0.3], [0.1, 0.5, -0.2]], [[0.0, 1.0, 0.0], [2.0, 1.0, 0.0]]], True),
]

CASE_IDS = [c.id for c in CASES]
PLAIN_CASES = [c for c in CASES if c.id.endswith("-plain")]


# --------------------------------------------------------------------------- helpers


class Workspace:
    """Writes case sources into per-case directories and memoizes nanlint runs and
    evaluations (several tests look at the same run)."""

    def __init__(self, root: Path):
        self.root = root

    @functools.cache
    def case_dir(self, case_id: str, variant: str) -> Path:
        d = self.root / case_id / variant
        d.mkdir(parents=True)
        return d

    def check(self, case: Case, variant: str = "default", pyproject: str | None = None):
        return self._check(case, variant, pyproject)

    @functools.cache
    def _check(self, case: Case, variant: str, pyproject: str | None):
        d = self.case_dir(case.id, variant)
        if pyproject is not None:
            (d / "pyproject.toml").write_text(pyproject, encoding="utf-8")
        path = d / "subject.py"
        path.write_text(case.source, encoding="utf-8")
        return path, run_check(path, cwd=d)

    def fixed_path(self, case: Case, variant: str, fix_index: int, pyproject: str | None = None):
        """The module with fix number `fix_index` of the case's single finding applied."""
        return self._fixed_path(case, variant, fix_index, pyproject)

    @functools.cache
    def _fixed_path(self, case: Case, variant: str, fix_index: int, pyproject: str | None):
        path, diagnostics = self.check(case, variant, pyproject)
        (diag,) = nl101(diagnostics)
        fix = diag["fixes"][fix_index]
        fixed_source = apply_edits(case.source, fix["edits"])
        out_dir = self.case_dir(case.id, f"{variant}-fix{fix_index}")
        if pyproject is not None:
            (out_dir / "pyproject.toml").write_text(pyproject, encoding="utf-8")
        out = out_dir / "subject.py"
        out.write_text(fixed_source, encoding="utf-8")
        return out

    def evaluate(self, path: Path, case: Case, which: str) -> list[list[float]]:
        return self._evaluate_all(path, case)[which]

    @functools.cache
    def _evaluate_all(self, path: Path, case: Case) -> dict[str, list[list[float]]]:
        """One fresh interpreter per module file evaluates every input group."""
        groups = {
            "zero": case.zero_inputs,
            "clip_zero": case.clip_zero_inputs,
            "away": case.away_inputs,
        }
        if case.log_arg is not None:
            groups["zero_to_default_eps"] = raise_zeros(case, DEFAULT_EPSILON)
            groups["zero_to_1e-4"] = raise_zeros(case, 1e-4)
        flat = [args for inputs in groups.values() for args in inputs]
        results = iter(evaluate(path, case.func, case.kind, flat))
        return {name: [next(results) for _ in inputs] for name, inputs in groups.items()}


@pytest.fixture(scope="session")
def workspace(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("nanlint-numeric"))


def raise_zeros(case: Case, eps: float) -> list:
    """zero_inputs + clip_zero_inputs with the zeros of the log argument replaced by eps."""
    out = []
    for args in case.zero_inputs + case.clip_zero_inputs:
        args = [list(a) for a in args]
        args[case.log_arg] = [eps if v == 0.0 else v for v in args[case.log_arg]]
        out.append(args)
    return out


# A cross-entropy written out on a softmax or sigmoid output is one NL104 finding; NL101's clip
# and xlogy fixes for its log are among NL104's alternatives (engine::SUPERSEDES).
REPORTING = ("NL101", "NL104")


def nl101(diagnostics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in diagnostics if d.get("code") in REPORTING]


def fix_kind(fix: dict[str, Any]) -> str:
    title = fix.get("message") or ""
    if "on the logits" in title:
        return "with-logits"
    if "log_softmax" in title or "logsigmoid" in title or "log_sigmoid" in title:
        return "log-space"
    if "xlogy" in title:
        return "xlogy"
    # The clip family: "Clip `p` into [eps, 1]" for a probability, "Raise `x` to at least eps"
    # (maximum / clamp(min=)) for any other value.
    lowered = title.lower()
    if "clip" in lowered or ("raise" in lowered and "at least" in lowered):
        return "clip"
    return f"unknown ({title!r})"


def fix_index(workspace: Workspace, case: Case, kind: str, variant="default", pyproject=None):
    _, diagnostics = workspace.check(case, variant, pyproject)
    found = nl101(diagnostics)
    assert len(found) == 1, f"expected one NL101 finding, got:\n{json.dumps(diagnostics, indent=1)}"
    indices = [i for i, f in enumerate(found[0].get("fixes") or []) if fix_kind(f) == kind]
    assert len(indices) == 1, (
        f"expected exactly one {kind} fix, titles: "
        f"{[f.get('message') for f in found[0].get('fixes') or []]}"
    )
    return indices[0]


def dump(values) -> str:
    return json.dumps(values)


def assert_nonfinite_somewhere(results, what):
    for r in results:
        assert any(not math.isfinite(v) for v in r), f"{what}: expected NaN/inf, got {dump(r)}"


def assert_all_finite(results, what, source):
    for r in results:
        assert all(math.isfinite(v) for v in r), (
            f"{what}: expected finite values, got {dump(r)}\n--- fixed source ---\n{source}"
        )


def assert_close(got, want, what, source):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert len(g) == len(w), f"{what}: shape changed {dump(g)} vs {dump(w)}"
        for a, b in zip(g, w):
            ok = math.isfinite(a) and math.isfinite(b) and abs(a - b) <= ATOL + RTOL * abs(b)
            assert ok, f"{what}: fixed {dump(g)} != expected {dump(w)}\n--- fixed source ---\n{source}"


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_finding_and_fix_alternatives(workspace, case):
    # Needs only the nanlint binary: the source is analysed, not run.
    path, diagnostics = workspace.check(case)
    found = nl101(diagnostics)
    assert len(found) == 1, (
        f"expected exactly one NL101 finding for\n{case.source}\ngot:\n"
        f"{json.dumps(diagnostics, indent=1)}"
    )
    d = found[0]
    for key in ("code", "message", "filename", "location", "end_location", "fix", "url", "fixes"):
        assert key in d, f"missing key {key!r} in {json.dumps(d, indent=1)}"
    assert (path.parent / d["filename"]).resolve() == path.resolve(), d["filename"]
    log_row = next(i for i, line in enumerate(case.source.splitlines(), 1) if case.log_call in line)
    assert d["location"]["row"] <= log_row <= d["end_location"]["row"], json.dumps(d, indent=1)

    fixes = d["fixes"]
    assert isinstance(fixes, list) and fixes, f"no fixes offered: {json.dumps(d, indent=1)}"
    assert d["fix"] == fixes[0], "`fix` must be the first (preferred) entry of `fixes`"
    for f in fixes:
        assert f.get("applicability") in ("safe", "unsafe", "display-only"), f
        assert f.get("edits"), f"fix without edits: {f}"
        for e in f["edits"]:
            assert set(e) >= {"content", "location", "end_location"}, e
    kinds = [fix_kind(f) for f in fixes]
    assert kinds.count("clip") == 1, f"expected one clip fix, titles: {[f['message'] for f in fixes]}"
    assert all(k in ("clip", "xlogy", "with-logits", "log-space") for k in kinds), f"unexpected fix titles: {kinds}"
    if d["code"] == "NL104":
        # The loss on logits first where it keeps the axis and reductions, then xlogy, then clip.
        order = [k for k in kinds if k in ("with-logits", "xlogy", "clip")]
        assert order == sorted(order, key=["with-logits", "xlogy", "clip"].index), kinds
    if case.xlogy is True:
        assert kinds.count("xlogy") == 1, f"expected an xlogy alternative, titles: {kinds}"
    elif case.xlogy is False:
        assert "xlogy" not in kinds, f"xlogy offered for {case.log_call}: {kinds}"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_original_is_nonfinite_at_zero(workspace, case):
    """Guards the other tests: the zero inputs really produce NaN/inf before any fix."""
    require_libs(*case.libs[:1])
    path, _ = workspace.check(case)
    assert_nonfinite_somewhere(workspace.evaluate(path, case, "zero"), f"{case.id} original")
    if case.clip_zero_inputs:
        assert_nonfinite_somewhere(workspace.evaluate(path, case, "clip_zero"), f"{case.id} original")


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_clip_fix_numerics(workspace, case):
    require_libs(*case.libs[:1])
    path, _ = workspace.check(case)
    fixed = workspace.fixed_path(case, "default", fix_index(workspace, case, "clip"))
    fixed_src = fixed.read_text(encoding="utf-8")
    compile(fixed_src, str(fixed), "exec")

    assert_all_finite(workspace.evaluate(fixed, case, "zero"), f"{case.id} clip fix at zero", fixed_src)
    if case.clip_zero_inputs:
        assert_all_finite(
            workspace.evaluate(fixed, case, "clip_zero"), f"{case.id} clip fix at zero", fixed_src
        )
    assert_close(
        workspace.evaluate(fixed, case, "away"),
        workspace.evaluate(path, case, "away"),
        f"{case.id} clip fix away from zero",
        fixed_src,
    )
    if case.log_arg is not None:
        # Clipping at epsilon == evaluating the original with the zeros raised to epsilon.
        assert_close(
            workspace.evaluate(fixed, case, "zero")
            + (workspace.evaluate(fixed, case, "clip_zero") if case.clip_zero_inputs else []),
            workspace.evaluate(path, case, "zero_to_default_eps"),
            f"{case.id} clip fix must use epsilon {DEFAULT_EPSILON}",
            fixed_src,
        )


@pytest.mark.parametrize("case", [c for c in CASES if c.xlogy is not False],
                         ids=[c.id for c in CASES if c.xlogy is not False])
def test_xlogy_fix_numerics(workspace, case):
    require_libs(*case.libs)
    path, diagnostics = workspace.check(case)
    if case.xlogy is None:
        (d,) = nl101(diagnostics)
        if not any(fix_kind(f) == "xlogy" for f in d["fixes"]):
            pytest.skip(f"no xlogy alternative offered for {case.log_call} (not specified)")
    fixed = workspace.fixed_path(case, "default", fix_index(workspace, case, "xlogy"))
    fixed_src = fixed.read_text(encoding="utf-8")
    compile(fixed_src, str(fixed), "exec")
    assert "xlogy" in fixed_src
    assert case.log_call not in fixed_src, "the log call should be replaced by xlogy"

    assert_all_finite(workspace.evaluate(fixed, case, "zero"), f"{case.id} xlogy fix at zero", fixed_src)
    assert_close(
        workspace.evaluate(fixed, case, "away"),
        workspace.evaluate(path, case, "away"),
        f"{case.id} xlogy fix away from zero",
        fixed_src,
    )


def test_kl_divergence_where_both_underflow(workspace):
    """Where `p` and `q` both underflow, `p / q` is 0 / 0 = NaN: the message says so, the clip
    does not mend it, the xlogy difference `xlogy(p, p) - xlogy(p, q)` (offered first) does in
    value but not in gradient (NL101's page says both), and the log-probability form the page
    gives does, with finite gradients."""
    require_libs("torch")
    case = next(c for c in CASES if c.id == "torch-kl-divergence")
    path, diagnostics = workspace.check(case)
    (d,) = nl101(diagnostics)
    assert "0 / 0 = NaN where `q` is 0 too" in d["message"], d["message"]
    assert [fix_kind(f) for f in d["fixes"]][:2] == ["xlogy", "clip"], d["fixes"]
    # p[0] and q[0] underflow; p[2] underflows where q[2] does not.
    both = [[[-1000.0, 0.0, -1000.0], [-1000.0, 0.0, 0.0]]]
    assert_nonfinite_somewhere(evaluate(path, case.func, case.kind, both), "original where both underflow")
    clipped = workspace.fixed_path(case, "default", fix_index(workspace, case, "clip"))
    assert_nonfinite_somewhere(evaluate(clipped, case.func, case.kind, both), "clip fix where both underflow")
    difference = workspace.fixed_path(case, "default", fix_index(workspace, case, "xlogy"))
    difference_src = difference.read_text(encoding="utf-8")
    assert "torch.xlogy(p, p) - torch.xlogy(p, q)" in difference_src, difference_src
    # p = [0, 1, 0] and q = [0, 0.5, 0.5]: the terms are 0 (0 / 0), log(2) and 0 (p = 0).
    assert_close(evaluate(difference, case.func, case.kind, both), [[math.log(2.0)]],
                 "xlogy fix where both underflow", difference_src)
    assert_close(evaluate(difference, case.func, case.kind, case.away_inputs),
                 workspace.evaluate(path, case, "away"), "xlogy fix away from zero", difference_src)
    grads = run_module(difference, """
        import torch
        a = torch.tensor([-1000.0, 0.0, -1000.0], requires_grad=True)
        b = torch.tensor([-1000.0, 0.0, 0.0], requires_grad=True)
        m.f(a, b).backward()
        print(json.dumps([str(g) for g in a.grad.tolist() + b.grad.tolist()]))
    """)
    # xlogy's derivative in its second argument is p / q: 0 / 0 where both underflow.
    assert "nan" in grads, grads
    log_space = workspace.case_dir(case.id, "log-space") / "subject.py"
    log_space.write_text(src("""
        import torch


        def f(a, b):
            lp = torch.log_softmax(a, -1)
            lq = torch.log_softmax(b, -1)
            return (lp.exp() * (lp - lq)).sum()
        """), encoding="utf-8")
    source = log_space.read_text(encoding="utf-8")
    assert_all_finite(evaluate(log_space, "f", "torch", both), "log-probabilities where both underflow", source)
    assert_close(
        evaluate(log_space, "f", "torch", case.away_inputs),
        workspace.evaluate(path, case, "away"),
        "log-probabilities away from zero",
        source,
    )
    grads = run_module(log_space, """
        import torch
        a = torch.tensor([-1000.0, 0.0, -1000.0], requires_grad=True)
        b = torch.tensor([-1000.0, 0.0, 0.0], requires_grad=True)
        m.f(a, b).backward()
        print(json.dumps(a.grad.tolist() + b.grad.tolist()))
    """)
    assert all(math.isfinite(g) for g in grads), grads


CLEAN_PARAMS = [(c, k) for c in CASES for k in ("clip", "xlogy") if k == "clip" or c.xlogy is True]


@pytest.mark.parametrize(("case", "kind"), CLEAN_PARAMS, ids=[f"{c.id}-{k}" for c, k in CLEAN_PARAMS])
def test_fixed_module_is_clean(workspace, case, kind):
    """After a fix is applied, nanlint no longer reports the hazard."""
    fixed = workspace.fixed_path(case, "default", fix_index(workspace, case, kind))
    remaining = nl101(run_check(fixed, cwd=fixed.parent))
    assert not remaining, (
        f"{kind} fix still reported:\n--- fixed source ---\n{fixed.read_text(encoding='utf-8')}\n"
        f"{json.dumps(remaining, indent=1)}"
    )


def test_numpy_xlogy_import_not_duplicated(workspace):
    require_libs("numpy", "scipy")
    case = Case("numpy-product-import-present", ("numpy", "scipy"), "numpy", src("""
        import numpy as np
        from scipy.special import xlogy


        class Loss:
            def __call__(self, y, p):
                return -np.sum(y * np.log(p))


        f = Loss()
        """), "np.log(p)", XENT_ZERO, XENT_AWAY, True, log_arg=1)
    path, _ = workspace.check(case)
    fixed = workspace.fixed_path(case, "default", fix_index(workspace, case, "xlogy"))
    fixed_src = fixed.read_text(encoding="utf-8")
    assert fixed_src.count("from scipy.special import xlogy") == 1, fixed_src
    assert_all_finite(workspace.evaluate(fixed, case, "zero"), "xlogy fix at zero", fixed_src)
    assert_close(workspace.evaluate(fixed, case, "away"), workspace.evaluate(path, case, "away"),
                 "xlogy fix away from zero", fixed_src)


def test_numpy_xlogy_joins_the_files_scipy_special_import(workspace):
    # The file already imports from scipy.special: the fix adds `xlogy` to that statement,
    # and the fixed module imports and runs.
    require_libs("numpy", "scipy")
    case = Case("numpy-product-joins-import", ("numpy", "scipy"), "numpy", src("""
        import numpy as np
        from scipy.special import expit


        class Loss:
            def __call__(self, y, p):
                return -np.sum(y * np.log(p))


        f = Loss()
        """), "np.log(p)", XENT_ZERO, XENT_AWAY, True, log_arg=1)
    path, _ = workspace.check(case)
    fixed = workspace.fixed_path(case, "default", fix_index(workspace, case, "xlogy"))
    fixed_src = fixed.read_text(encoding="utf-8")
    assert "from scipy.special import expit, xlogy\n" in fixed_src, fixed_src
    assert fixed_src.count("from scipy.special import") == 1, fixed_src
    assert_all_finite(workspace.evaluate(fixed, case, "zero"), "xlogy fix at zero", fixed_src)
    assert_close(workspace.evaluate(fixed, case, "away"), workspace.evaluate(path, case, "away"),
                 "xlogy fix away from zero", fixed_src)


EPSILON_PYPROJECT = "[tool.nanlint]\nepsilon = 1e-4\n"


@pytest.mark.parametrize("case", PLAIN_CASES + [c for c in CASES if c.id == "numpy-product"],
                         ids=[c.id for c in PLAIN_CASES] + ["numpy-product"])
def test_epsilon_from_pyproject(workspace, case):
    """`[tool.nanlint] epsilon = 1e-4` in a pyproject.toml next to the file: the clip fix
    raises zeros to 1e-4 (and not to the default 1e-7)."""
    require_libs(*case.libs[:1])
    variant = "epsilon-1e-4"
    path, _ = workspace.check(case, variant, EPSILON_PYPROJECT)
    fixed = workspace.fixed_path(
        case, variant, fix_index(workspace, case, "clip", variant, EPSILON_PYPROJECT), EPSILON_PYPROJECT
    )
    fixed_src = fixed.read_text(encoding="utf-8")
    got = workspace.evaluate(fixed, case, "zero") + (
        workspace.evaluate(fixed, case, "clip_zero") if case.clip_zero_inputs else []
    )
    assert_close(got, workspace.evaluate(path, case, "zero_to_1e-4"),
                 f"{case.id} clip fix with epsilon = 1e-4", fixed_src)
    assert_close(workspace.evaluate(fixed, case, "away"), workspace.evaluate(path, case, "away"),
                 f"{case.id} clip fix (epsilon 1e-4) away from zero", fixed_src)


# ---- Several findings in one expression: binary cross-entropy of a sigmoid output.
# In float32, sigmoid(200) is exactly 1 (so log(1 - p) = -inf) and sigmoid(-200) exactly 0.
BCE_ZERO = [[[1.0, 0.0], [200.0, -200.0]]]  # each zero log argument has a zero coefficient
BCE_CLIP_ZERO = [[[0.5, 0.5], [200.0, -200.0]]]
BCE_AWAY = [[[0.3, 0.7], [0.5, -1.0]], [[1.0, 0.0], [6.0, -6.0]]]

BCE_CASES = [
    Case("torch-bce", ("torch",), "torch", src("""
        import torch


        def f(y, z):
            p = torch.sigmoid(z)
            return -torch.sum(y * torch.log(p) + (1 - y) * torch.log(1 - p))
        """), "torch.log(p)", BCE_ZERO, BCE_AWAY, True, clip_zero_inputs=BCE_CLIP_ZERO),
    Case("tf-bce", ("tensorflow",), "tensorflow", src("""
        import tensorflow as tf


        def f(y, z):
            p = tf.math.sigmoid(z)
            return -tf.reduce_sum(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))
        """), "tf.math.log(p)", BCE_ZERO, BCE_AWAY, True, clip_zero_inputs=BCE_CLIP_ZERO),
    Case("jax-bce", ("jax",), "jax", src("""
        import jax
        import jax.numpy as jnp


        def f(y, z):
            p = jax.nn.sigmoid(z)
            return -jnp.sum(y * jnp.log(p) + (1 - y) * jnp.log(1 - p))
        """), "jnp.log(p)", BCE_ZERO, BCE_AWAY, True, clip_zero_inputs=BCE_CLIP_ZERO),
]


def apply_all_fixes(source: str, diagnostics: list[dict[str, Any]], kind: str) -> str:
    """Applies the `kind` fix of every diagnostic at once; identical edits (such as the same
    import added by two fixes) are applied once, as ruff does."""
    edits: list[dict[str, Any]] = []
    for d in diagnostics:
        (fix,) = [f for f in d["fixes"] if fix_kind(f) == kind]
        for e in fix["edits"]:
            if e not in edits:
                edits.append(e)
    return apply_edits(source, edits)


@pytest.mark.parametrize("kind", ["with-logits", "xlogy"])
@pytest.mark.parametrize("case", BCE_CASES, ids=[c.id for c in BCE_CASES])
def test_two_findings_fixed_together(workspace, case, kind):
    """`y * log(p) + (1 - y) * log(1 - p)` with p = sigmoid(z): one NL104 finding for both logs,
    with the loss on logits and xlogy of both terms; each makes the loss finite."""
    require_libs(*case.libs)
    path, diagnostics = workspace.check(case)
    found = nl101(diagnostics)
    assert [d["code"] for d in found] == ["NL104"], f"expected one NL104:\n{json.dumps(diagnostics, indent=1)}"
    kinds = [fix_kind(f) for f in found[0]["fixes"]]
    assert kinds == ["with-logits", "xlogy"], f"titles: {[f['message'] for f in found[0]['fixes']]}"
    fixed_src = apply_all_fixes(case.source, found, kind)
    fixed = workspace.case_dir(case.id, f"all-{kind}") / "subject.py"
    fixed.write_text(fixed_src, encoding="utf-8")
    compile(fixed_src, str(fixed), "exec")

    assert_nonfinite_somewhere(workspace.evaluate(path, case, "zero"), f"{case.id} original")
    assert_all_finite(workspace.evaluate(fixed, case, "zero"), f"{case.id} {kind} fixes at zero", fixed_src)
    if kind == "with-logits":
        assert_nonfinite_somewhere(workspace.evaluate(path, case, "clip_zero"), f"{case.id} original")
        assert_all_finite(
            workspace.evaluate(fixed, case, "clip_zero"), f"{case.id} loss on logits at zero", fixed_src
        )
    assert_close(workspace.evaluate(fixed, case, "away"), workspace.evaluate(path, case, "away"),
                 f"{case.id} {kind} fixes away from zero", fixed_src)
    remaining = nl101(run_check(fixed, cwd=fixed.parent))
    assert not remaining, (
        f"still reported after the {kind} fixes:\n{fixed_src}\n{json.dumps(remaining, indent=1)}"
    )


# ---- `x * log(x)` of a value not known to be at most 1 (a newcomer's trial): the preferred fix
# clipped x into [1e-7, 1], dropping 5 * log(5). The first fix must be exact: x * log(x) where
# x > 0 and 0 where x = 0.
OWN_FACTOR_CASES = [
    ("numpy-own-factor", ("numpy", "scipy"), "numpy", src("""
        import numpy as np


        def f(x):
            return x * np.log(x)
        """)),
    ("torch-own-factor", ("torch",), "torch", src("""
        import torch


        def f(x):
            return x * torch.log(x)
        """)),
]


@pytest.mark.parametrize("case", OWN_FACTOR_CASES, ids=[c[0] for c in OWN_FACTOR_CASES])
def test_first_fix_of_own_factor_is_exact(tmp_path, case):
    name, libs, kind, source = case
    require_libs(*libs)
    path = tmp_path / "subject.py"
    path.write_text(source, encoding="utf-8")
    found = nl101(run_check(path, cwd=tmp_path))
    assert len(found) == 1, f"expected one NL101 finding, got:\n{json.dumps(found, indent=1)}"
    first = found[0]["fixes"][0]
    fixed_src = apply_edits(source, first["edits"])
    fixed = tmp_path / "fixed.py"
    fixed.write_text(fixed_src, encoding="utf-8")
    xs = [0.0, 0.5, 5.0]
    (got,) = evaluate(fixed, "f", kind, [[xs]])
    want = [x * math.log(x) if x > 0 else 0.0 for x in xs]
    assert_close([got], [want], f"{name}: first fix {first['message']!r}", fixed_src)
