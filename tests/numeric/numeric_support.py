"""Helpers for the numeric truth tests of nanlint's fixes (tests/numeric).

The tests run the real `nanlint` binary on small Python modules that contain a
log-of-possibly-zero hazard, apply each offered fix themselves, and evaluate the
original and the fixed module with the real numeric libraries.

Environment:
  NANLINT_BIN           path of the nanlint binary (default: <repo>/target/debug/nanlint,
                        or $CARGO_TARGET_DIR/debug/nanlint when that is set).
  NANLINT_REQUIRE_LIBS  "1": numpy, scipy and jax must be importable, and the binary must
                        exist (a missing one fails instead of skipping). "all": torch,
                        tensorflow and keras are required too.

Interpreter: the venv made by tests/python-env.sh (its last stdout line is the path):
  PY="$(bash tests/python-env.sh | tail -n 1)"
  NANLINT_BIN=target/debug/nanlint "$PY" -m pytest tests/numeric -q
Each module under test is evaluated in a fresh interpreter (evaluate_module.py), so an import
that a fix forgets is not masked by modules an earlier evaluation loaded.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
EVALUATOR = HERE / "evaluate_module.py"

# Libraries whose absence fails the run when NANLINT_REQUIRE_LIBS is "1" (or "all").
CORE_LIBS = {"numpy", "scipy", "jax"}
# Additionally required when NANLINT_REQUIRE_LIBS is "all".
EXTRA_LIBS = {"torch", "tensorflow", "keras", "tf_keras", "optax"}

# A library counts as available only if it imports *and* computes in a fresh interpreter:
# e.g. a torch wheel without its CUDA runtime wheels is found by importlib but fails to import.
_PROBES = {
    "numpy": "import numpy as np; np.log(np.float32(1.0))",
    "scipy": "import scipy.special; scipy.special.xlogy(1.0, 1.0)",
    "jax": "import jax, jax.numpy as jnp; float(jnp.log(1.0))",
    "torch": "import torch; torch.log(torch.tensor([1.0]))",
    "tensorflow": "import tensorflow as tf; tf.math.log(tf.constant([1.0])).numpy()",
    "keras": "import keras; keras.ops.convert_to_numpy(keras.ops.log(1.0))",
    # Keras 2 (`K.log`, `K.softmax`): Keras 3's `keras.backend` has neither.
    "tf_keras": "from tf_keras import backend as K; K.log(K.constant([1.0])).numpy()",
    "optax": "import optax; optax.softmax_cross_entropy",
}


def _require_mode() -> str:
    return os.environ.get("NANLINT_REQUIRE_LIBS", "").strip().lower()


def _is_required(lib: str) -> bool:
    mode = _require_mode()
    if mode in ("1", "true", "yes"):
        return lib in CORE_LIBS
    if mode == "all":
        return lib in CORE_LIBS | EXTRA_LIBS
    return False


def subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("JAX_PLATFORMS", "cpu")
    return env


@functools.cache
def _probe(lib: str) -> str | None:
    """None when `lib` works in a fresh interpreter, else the error text."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBES[lib]],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
    )
    if proc.returncode == 0:
        return None
    tail = proc.stderr.strip().splitlines()[-1:] or ["(no stderr)"]
    return tail[0]


def require_libs(*libs: str) -> None:
    """Skip the calling test when a library is unusable; fail instead when it is required."""
    for lib in libs:
        err = _probe(lib)
        if err is None:
            continue
        msg = f"{lib} is not usable with {sys.executable}: {err}"
        if _is_required(lib):
            pytest.fail(f"{msg} (required because NANLINT_REQUIRE_LIBS={_require_mode()})")
        pytest.skip(f"{msg} (run tests/python-env.sh and use its venv)")


def nanlint_bin() -> Path:
    explicit = os.environ.get("NANLINT_BIN")
    if explicit:
        path = Path(explicit).resolve()  # nanlint runs with the case's folder as cwd
        if not path.is_file():
            pytest.fail(f"NANLINT_BIN={explicit} does not exist")
        return path
    target = Path(os.environ.get("CARGO_TARGET_DIR") or REPO_ROOT / "target")
    if not target.is_absolute():
        target = REPO_ROOT / target
    path = target / "debug" / "nanlint"
    if not path.is_file():
        msg = f"nanlint binary not found at {path}; run `cargo build` or set NANLINT_BIN"
        if _require_mode() in ("1", "true", "yes", "all"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


# --------------------------------------------------------------------------- nanlint


def run_check(path: Path, cwd: Path) -> list[dict[str, Any]]:
    """`nanlint check --output-format json PATH`; returns the parsed diagnostics list."""
    cmd = [str(nanlint_bin()), "check", "--preview", "--output-format", "json", str(path)]
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    context = (
        f"command: {' '.join(cmd)} (cwd {cwd})\nexit: {proc.returncode}\n"
        f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    )
    assert proc.returncode in (0, 1), f"nanlint check failed\n{context}"
    try:
        diagnostics = json.loads(proc.stdout)
    except json.JSONDecodeError as err:
        raise AssertionError(f"nanlint printed invalid JSON ({err})\n{context}") from None
    assert isinstance(diagnostics, list), f"JSON output is not a list\n{context}"
    if proc.returncode == 1:
        assert diagnostics, f"exit code 1 but no diagnostics\n{context}"
    else:
        assert not diagnostics, f"exit code 0 but diagnostics were printed\n{context}"
    return diagnostics


# --------------------------------------------------------------------------- edits


_LINE_END = re.compile(r"\r\n|\r|\n")


def _line_starts(source: str) -> list[int]:
    starts = [0]
    starts.extend(m.end() for m in _LINE_END.finditer(source))
    return starts


def location_to_offset(source: str, location: dict[str, int]) -> int:
    """Character offset of a 1-based {row, column} (column counted in characters)."""
    row, column = location["row"], location["column"]
    if not (isinstance(row, int) and isinstance(column, int) and row >= 1 and column >= 1):
        raise ValueError(f"invalid location {location!r}")
    starts = _line_starts(source)
    if row == len(starts) + 1 and column == 1 and (source == "" or _LINE_END.search(source[-1:])):
        # One past the last line of a file that ends with a newline.
        return len(source)
    if row > len(starts):
        raise ValueError(f"row {row} is past the end of the source ({len(starts)} lines)")
    start = starts[row - 1]
    end = starts[row] if row < len(starts) else len(source)
    line = source[start:end]
    content_len = len(_LINE_END.sub("", line))
    if column - 1 > content_len:
        raise ValueError(
            f"column {column} is past the end of row {row} ({content_len} characters: {line!r})"
        )
    return start + column - 1


def apply_edits(source: str, edits: list[dict[str, Any]]) -> str:
    """Applies ruff-style edits ({content, location, end_location}) back to front."""
    spans = []
    for edit in edits:
        start = location_to_offset(source, edit["location"])
        end = location_to_offset(source, edit["end_location"])
        if end < start:
            raise ValueError(f"edit ends before it starts: {edit!r}")
        spans.append((start, end, edit["content"]))
    # Stable sort: insertions at one point keep their listed order.
    spans.sort(key=lambda s: (s[0], s[1]))
    for (_, e1, _), (s2, _, _) in zip(spans, spans[1:]):
        if s2 < e1:
            raise ValueError(f"overlapping edits: {edits!r}")
    out = source
    for start, end, content in reversed(spans):
        out = out[:start] + content + out[end:]
    return out


# --------------------------------------------------------------------------- evaluation


def evaluate(module_path: Path, func: str, kind: str, inputs: list[list[list[float]]]) -> list[list[float]]:
    """Imports `module_path` in a fresh interpreter (so imports a fix forgot are not masked
    by modules loaded earlier), converts each argument to a float32 array of `kind`, calls
    `func(*args)` for each input set and returns the flattened float results."""
    return evaluate_jobs([(module_path, func, kind, inputs)])[0]


def evaluate_jobs(jobs: list[tuple[Path, str, str, list[list[list[float]]]]]) -> list[list[list[float]]]:
    """[`evaluate`] of each (module_path, func, kind, inputs) in one interpreter, in order (see
    [`run_jobs`])."""
    return run_jobs(EVALUATOR, [{"module": str(p), "func": f, "kind": k, "inputs": i} for p, f, k, i in jobs])


def run_jobs(script: Path, jobs: list[dict[str, Any]]) -> list[Any]:
    """The results of `script` (evaluate_module.py, evaluate_gradient.py) on `jobs`, each a dict
    with its "module" path, one result per job, in one interpreter, in order: only the first
    module is imported in a fresh one, so it must be the one whose imports are under test (the
    fixed module; the original's imports are the subject's own). A failure shows each module's
    source and the interpreter's stderr."""
    proc = subprocess.run(
        [sys.executable, str(script)],
        input=json.dumps({"jobs": jobs}),
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
    )
    paths = [Path(job["module"]) for job in jobs]
    if proc.returncode != 0:
        sources = "".join(f"--- {p.name} ---\n{p.read_text(encoding='utf-8')}\n" for p in paths)
        raise AssertionError(
            f"{script.name} on {', '.join(p.name for p in paths)} failed (exit {proc.returncode}):\n"
            f"{sources}--- stderr ---\n{proc.stderr[-4000:]}"
        )
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(results) == len(jobs), f"{len(jobs)} jobs, {len(results)} results: {proc.stdout[-2000:]}"
    return results


def src(text: str) -> str:
    """A test's Python source written indented in a triple-quoted string, dedented."""
    return textwrap.dedent(text).lstrip("\n")


def run_module(path: Path, body: str) -> Any:
    """Imports the module at `path` as `m` in a fresh interpreter, runs `body`, which must print
    one JSON line, and returns it parsed."""
    code = (
        "import importlib.util, json, math, warnings\n"
        "warnings.simplefilter('ignore')\n"
        f"spec = importlib.util.spec_from_file_location('subject', {str(path)!r})\n"
        "m = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(m)\n" + textwrap.dedent(body)
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=subprocess_env(), timeout=300
    )
    assert proc.returncode == 0, f"--- module ---\n{path.read_text()}\n--- stderr ---\n{proc.stderr[-3000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])
