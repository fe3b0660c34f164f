"""Helper run in a fresh interpreter by the log family's numeric tests (not a test module).

Reads JSON from stdin: {"jobs": [job, ...]}, each job {"module": path, "func": name, "kind":
"jax"|"torch"|"tensorflow", "grad": index, "inputs": [[arg, ...], ...]} where each arg is a list
of floats (or a list of lists, for a matrix). For each job in order: imports the module and
converts each arg to a float32 array of `kind`. Prints one JSON line: per job, for each input
set, the flattened gradient of `sum(func(*args))` with respect to argument `grad`. As in
evaluate_module.py, only the first job's module is imported in a fresh interpreter.
"""

from __future__ import annotations

import json
import sys
import warnings

from evaluate_module import load, to_floats


def main() -> None:
    request = json.loads(sys.stdin.read())
    warnings.simplefilter("ignore")
    import numpy as np

    np.seterr(all="ignore")
    print(json.dumps([gradients(job, number) for number, job in enumerate(request["jobs"])]))


def gradients(job: dict, number: int) -> list[list[float]]:
    import numpy as np

    func = getattr(load(job["module"], number), job["func"])
    kind, at = job["kind"], job["grad"]
    out = []
    for args in job["inputs"]:
        arrays = [np.asarray(a, dtype=np.float32) for a in args]
        if kind == "torch":
            import torch

            xs = [torch.from_numpy(a) for a in arrays]
            xs[at].requires_grad_(True)
            func(*xs).sum().backward()
            out.append(to_floats(xs[at].grad))
        elif kind == "tensorflow":
            import tensorflow as tf

            xs = [tf.constant(a) for a in arrays]
            with tf.GradientTape() as tape:
                tape.watch(xs[at])
                y = tf.reduce_sum(func(*xs))
            out.append(to_floats(tape.gradient(y, xs[at])))
        elif kind == "jax":
            import jax
            import jax.numpy as jnp

            xs = [jnp.asarray(a) for a in arrays]

            def total(x):
                return jnp.sum(func(*xs[:at], x, *xs[at + 1:]))

            out.append(to_floats(jax.grad(total)(xs[at])))
        else:
            raise ValueError(f"no gradients for {kind!r}")
    return out


if __name__ == "__main__":
    main()
