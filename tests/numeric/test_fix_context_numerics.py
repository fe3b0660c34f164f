"""Numeric truth of fixes in contexts that once broke them, run with the real libraries.

Each case's module is fixed by the binary itself (`nanlint check --fix`, with `--unsafe-fixes`
where the case says so), then the original and the fixed module are evaluated in one fresh
interpreter (the fixed one first, so an import its fix forgot fails). The fixed module must
run, and equal the original (rtol 1e-5) on every input set where the original is finite:
  * select before the log, written with a NumPy or JAX function: the fix kept `.log()`, which a
    NumPy or JAX array does not have (AttributeError);
  * log_softmax after a loop that rebinds the logits: `p = softmax(z)` before the loop, `log(p)`
    in it, `z = z * 2` after the log: a later pass read the new logits;
  * a cross-entropy written out on `F.one_hot` labels (int64): `cross_entropy` and
    `binary_cross_entropy_with_logits` on the logits raise on integer targets;
  * `jnp.linalg.norm(a - b, ord=2)` of a matrix, its largest singular value: the `+ eps` fix
    wrote the root of the sum of squares (the Frobenius norm) in its place.
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from numeric_support import evaluate_jobs, nanlint_bin, require_libs, src, subprocess_env

RTOL = 1e-5
ATOL = 1e-6


@dataclass(frozen=True)
class Case:
    id: str
    lib: str
    kind: str
    source: str
    inputs: list[list[list[float]]]
    flags: tuple[str, ...] = ()
    func: str = "f"


CASES = [
    Case(
        "numpy-select-before-log",
        "numpy",
        "numpy",
        src("""
            import numpy as np

            def f(z):
                p = np.maximum(z, 0)
                return np.log(p)[p > 0]
        """),
        [[[0.2, 0.5, 0.3]], [[0.0, 0.5, 2.0]]],
    ),
    Case(
        "jax-select-before-log",
        "jax",
        "jax",
        src("""
            import jax.numpy as jnp

            def f(z):
                p = jnp.maximum(z, 0)
                return jnp.log(p)[p > 0]
        """),
        [[[0.2, 0.5, 0.3]]],
    ),
    Case(
        "torch-log-softmax-in-a-loop-rebinding-the-logits",
        "torch",
        "torch",
        src("""
            import torch
            import torch.nn.functional as F

            def f(z):
                p = F.softmax(z, dim=-1)
                out = []
                for _ in range(2):
                    out.append(torch.log(p))
                    z = z * 2
                return torch.stack(out)
        """),
        [[[0.0, 1.0, 2.0]], [[0.5, -1.0, 0.25]]],
    ),
    Case(
        "torch-cross-entropy-of-one-hot-labels",
        "torch",
        "torch",
        src("""
            import torch
            import torch.nn.functional as F

            def f(z):
                y = F.one_hot(torch.tensor([2, 0]), 3)
                p = F.softmax(z.reshape(2, 3), dim=1)
                q = torch.sigmoid(z.reshape(2, 3))
                a = -torch.sum(y * torch.log(p), dim=1)
                b = -(y * torch.log(q) + (1 - y) * torch.log(1 - q))
                return torch.cat([a, b.flatten()])
        """),
        [[[0.0, 1.0, 2.0, 1.0, 0.5, -1.0]]],
        flags=("--unsafe-fixes",),
    ),
    Case(
        "jax-spectral-norm",
        "jax",
        "jax",
        src("""
            import jax.numpy as jnp

            def distance(a, b):
                return jnp.linalg.norm(a - b, ord=2)

            def f(x):
                return distance(jnp.reshape(x, (2, 2)), jnp.zeros((2, 2)))
        """),
        # The identity: spectral norm 1, Frobenius norm sqrt(2).
        [[[1.0, 0.0, 0.0, 1.0]], [[3.0, 0.0, 0.0, 4.0]]],
        flags=("--unsafe-fixes", "--preview"),
    ),
]


def fixed_module(tmp_path: Path, case: Case) -> tuple[Path, Path]:
    original = tmp_path / f"{case.id.replace('-', '_')}.py"
    original.write_text(case.source, encoding="utf-8")
    fixed = tmp_path / f"{case.id.replace('-', '_')}_fixed.py"
    fixed.write_text(case.source, encoding="utf-8")
    subprocess.run(
        [str(nanlint_bin()), "check", "--isolated", "--fix", "--exit-zero", "--quiet", *case.flags, str(fixed)],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=60,
        check=True,
    )
    return original, fixed


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_fixed_module_equals_the_original_where_finite(tmp_path, case):
    require_libs(case.lib)
    original, fixed = fixed_module(tmp_path, case)
    fixed_src = fixed.read_text(encoding="utf-8")
    got, want = evaluate_jobs([(fixed, case.func, case.kind, case.inputs), (original, case.func, case.kind, case.inputs)])
    for args, g, w in zip(case.inputs, got, want):
        if not all(math.isfinite(v) for v in w):
            continue
        assert len(g) == len(w) and all(abs(a - b) <= ATOL + RTOL * abs(b) for a, b in zip(g, w)), (
            f"{case.id} at {args}: fixed {g}, original {w}\n{fixed_src}"
        )
