"""Helper run in a fresh interpreter by the numeric tests (not a test module).

Reads JSON from stdin: {"module": path, "func": name, "kind": "numpy"|"jax"|"torch"|"tensorflow",
"inputs": [[arg, ...], ...]} where each arg is a list of floats. Imports the module from its
path, converts each arg to a float32 array of `kind`, calls the function once per input set and
prints one JSON line: a list (one entry per input set) of flattened float64 result lists. NaN
and infinities are printed as Python's json module writes them (NaN, Infinity, -Infinity).
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
    spec = importlib.util.spec_from_file_location("nanlint_numeric_subject", request["module"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    func = getattr(module, request["func"])
    out = []
    for args in request["inputs"]:
        out.append(to_floats(func(*(to_array(request["kind"], a) for a in args))))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
