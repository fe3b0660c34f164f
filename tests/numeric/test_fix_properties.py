"""Property-based numeric truth of NL101's fixes: random inputs drawn by Hypothesis.

test_fix_numerics.py checks each case on a few hand-picked input sets. Here Hypothesis draws
batches of input sets (float32 values in the case's domain, exact zeros, subnormals and the
epsilon itself drawn often) for every case whose log argument is one of the function's inputs,
and each batch is evaluated with the real library, the fixed module and then the original in
one fresh interpreter (the fixed module imported first, so an import its fix forgot fails):

  * clip fix: finite on every input set, and equal to the original evaluated with the log
    argument raised to epsilon (`max(v, 1e-7)`), on every input set;
  * xlogy fix (natural-log products only): equal to the original wherever the original is
    finite, and finite wherever every zero of the log argument has a zero coefficient
    (`xlogy(0, 0) = 0`, where the original is `0 * log(0) = NaN`; a subnormal counts as a zero,
    as XLA on CPU may flush it to one).

Domains: a cross-entropy's `y` and `p` in [0, 1] (the clip fix clips into [eps, 1]); a bare
log's argument in [0, 3.4e38]. Draws are derandomized (the same on every run, so a red run
reproduces) and the example database is off (nothing written into the checkout).
NANLINT_NUMERIC_EXAMPLES sets the batches per case (default 2), NANLINT_NUMERIC_BATCH the input
sets per batch (default 100).
"""

from __future__ import annotations

import math
import os

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from numeric_support import evaluate_jobs, require_libs  # noqa: E402
from test_fix_numerics import ATOL, CASES, DEFAULT_EPSILON, RTOL, Workspace, fix_index  # noqa: E402

EXAMPLES = int(os.environ.get("NANLINT_NUMERIC_EXAMPLES", "2"))
BATCH = int(os.environ.get("NANLINT_NUMERIC_BATCH", "100"))
FLOAT32_MAX = 3.4028234663852886e38
SMALLEST_NORMAL = 1.1754943508222875e-38

# The values where a log argument goes wrong or a fix changes it: 0, the smallest subnormal,
# the smallest normal, just below and at epsilon, and 1.
EDGES = [0.0, 1.401298464324817e-45, SMALLEST_NORMAL, 1e-8, DEFAULT_EPSILON, 1.0]


def unit_interval():
    return st.one_of(st.sampled_from(EDGES), st.floats(0.0, 1.0, width=32))


def non_negative():
    return st.one_of(
        st.sampled_from(EDGES + [FLOAT32_MAX]),
        st.floats(0.0, 1.0, width=32),
        st.floats(0.0, FLOAT32_MAX, width=32),
    )


PROPERTY_CASES = [c for c in CASES if c.log_arg is not None]


def input_sets(case):
    """A batch of input sets shaped like the case's own (same argument count and lengths)."""
    shape = [len(a) for a in case.zero_inputs[0]]
    value = unit_interval() if len(shape) > 1 else non_negative()
    one = st.tuples(*[st.lists(value, min_size=n, max_size=n) for n in shape]).map(list)
    return st.lists(one, min_size=BATCH, max_size=BATCH)


def raised(case, args):
    args = [list(a) for a in args]
    args[case.log_arg] = [max(v, DEFAULT_EPSILON) for v in args[case.log_arg]]
    return args


def close(a: float, b: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and abs(a - b) <= ATOL + RTOL * abs(b)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("nanlint-numeric-properties"))


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.mark.parametrize("case", PROPERTY_CASES, ids=[c.id for c in PROPERTY_CASES])
def test_clip_fix_on_random_inputs(workspace, case):
    require_libs(*case.libs[:1])
    path, _ = workspace.check(case)
    fixed = workspace.fixed_path(case, "default", fix_index(workspace, case, "clip"))
    fixed_src = fixed.read_text(encoding="utf-8")

    @SETTINGS
    @given(input_sets(case))
    def holds(batch):
        # One interpreter, the fixed module first (imported fresh).
        got, want = evaluate_jobs([(fixed, case.func, case.kind, batch),
                                   (path, case.func, case.kind, [raised(case, args) for args in batch])])
        for args, g, w in zip(batch, got, want):
            assert all(math.isfinite(v) for v in g), f"clip fix not finite at {args}: {g}\n{fixed_src}"
            assert len(g) == len(w) and all(close(a, b) for a, b in zip(g, w)), (
                f"clip fix at {args}: {g}, the original with the log argument raised to "
                f"{DEFAULT_EPSILON}: {w}\n{fixed_src}"
            )

    holds()


XLOGY_CASES = [c for c in PROPERTY_CASES if c.xlogy is True]


@pytest.mark.parametrize("case", XLOGY_CASES, ids=[c.id for c in XLOGY_CASES])
def test_xlogy_fix_on_random_inputs(workspace, case):
    require_libs(*case.libs)
    path, _ = workspace.check(case)
    fixed = workspace.fixed_path(case, "default", fix_index(workspace, case, "xlogy"))
    fixed_src = fixed.read_text(encoding="utf-8")
    coefficient = 1 - case.log_arg  # the other factor of the two-argument product

    @SETTINGS
    @given(input_sets(case))
    def holds(batch):
        # One interpreter, the fixed module first (imported fresh).
        got, original = evaluate_jobs([(fixed, case.func, case.kind, batch), (path, case.func, case.kind, batch)])
        for args, g, o in zip(batch, got, original):
            if all(math.isfinite(v) for v in o):
                assert all(close(a, b) for a, b in zip(g, o)), f"xlogy fix at {args}: {g}, original {o}\n{fixed_src}"
            # XLA on CPU may flush subnormal inputs to zero: those count as zeros.
            zeros_covered = all(
                c == 0.0 for c, p in zip(args[coefficient], args[case.log_arg]) if p < SMALLEST_NORMAL
            )
            if zeros_covered:
                assert all(math.isfinite(v) for v in g), f"xlogy fix not finite at {args}: {g}\n{fixed_src}"

    holds()
