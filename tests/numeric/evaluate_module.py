"""Helper run in a fresh interpreter by the numeric tests (not a test module).

Reads JSON from stdin: {"jobs": [job, ...]}, each job {"module": path, "func": name, "kind":
"numpy"|"jax"|"torch"|"tensorflow", "inputs": [[arg, ...], ...]} where each arg is a list of
floats. For each job in order: imports the module from its path, converts each arg to a float32
array of `kind` and calls the function once per input set. Prints one JSON line: per job, a list
(one entry per input set) of flattened float64 result lists. NaN and infinities are printed as
Python's json module writes them (NaN, Infinity, -Infinity).

Only the first job runs in a fresh interpreter: callers put the module whose imports are under
test (a fixed module) first, so that an import its fix forgot is not masked by a module an
earlier job loaded. Each later job saves the libraries' import time (seconds for torch or
TensorFlow on two cores).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import warnings


def to_array(kind: str, values: list[float]):
    import numpy as np

    arr = np.asarray(values, dtype=np.float32)
    if kind == "numpy":
        return arr
    if kind == "jax":
        import jax.numpy as jnp

        return jnp.asarray(arr)
    if kind == "torch":
        import torch

        return torch.from_numpy(arr)
    if kind == "tensorflow":
        import tensorflow as tf

        return tf.constant(arr)
    raise ValueError(f"unknown array kind {kind!r}")


def to_floats(result) -> list[float]:
    import numpy as np

    if hasattr(result, "detach"):  # torch
        result = result.detach().cpu().numpy()
    elif hasattr(result, "numpy") and not isinstance(result, np.ndarray):  # tensorflow
        result = result.numpy()
    return [float(v) for v in np.asarray(result, dtype=np.float64).ravel()]


def main() -> None:
    request = json.loads(sys.stdin.read())
    warnings.simplefilter("ignore")
    import numpy as np

    np.seterr(all="ignore")
    out = []
    for number, job in enumerate(request["jobs"]):
        module = load(job["module"], number)
        func = getattr(module, job["func"])
        out.append([to_floats(func(*(to_array(job["kind"], a) for a in args))) for args in job["inputs"]])
    print(json.dumps(out))


def load(path: str, number: int):
    """The module at `path`, imported under a name of its own (not put in sys.modules)."""
    spec = importlib.util.spec_from_file_location(f"nanlint_numeric_subject_{number}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    main()
