"""Numeric truth of what NL101 leaves unreported because the model bounds it, with the real
libraries (rule.md of NL101 states each assumption):

  * a cosine similarity of two L2-normalized batches over a temperature the file does not give
    is assumed to have a temperature of at least 0.025: an InfoNCE loss written out as
    `-log(exp(pos / tau) / sum(exp(all / tau)))` is then finite, with its gradient, even for the
    worst vectors (a positive pair pointing away, every negative pointing along) in float32;
    the same loss with a literal temperature of 0.01 is reported, and is not finite there;
  * the diagonal of the U of an LU decomposition of the Q of a QR decomposition has no 0, so
    glow's `log(abs(diag(u)))` at initialization is finite.

Each case runs the real `nanlint` binary on the module (no NL101, or exactly one) and then the
module itself in a fresh interpreter.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from numeric_support import require_libs, run_check, run_module, src


def nl101(tmp_path: Path, name: str, source: str) -> tuple[Path, list[dict]]:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return path, [f for f in run_check(path, tmp_path) if f["code"] == "NL101"]


INFO_NCE = src(
    """
    import torch
    import torch.nn.functional as F


    def info_nce(a, b, tau):
        a = F.normalize(a, dim=1)
        b = F.normalize(b, dim=1)
        pos = (a * b).sum(dim=1)
        ttl = torch.matmul(a, b.transpose(0, 1))
        pos = torch.exp(pos / TEMPERATURE)
        ttl = torch.exp(ttl / TEMPERATURE).sum(dim=1)
        return -torch.log(pos / ttl).mean()
    """
)

# The worst case for a batch of n: row 0's positive points away from it (cosine -1) and every
# other column along it (cosine 1), so row 0's ratio is e^(-2/tau) / (e^(-1/tau) + (n-1) e^(1/tau)).
# Returns the loss and whether the loss and the gradient with respect to `a` are finite.
WORST_CASE = """
import torch
torch.manual_seed(0)
n, d = {n}, 16
a = torch.randn(n, d)
b = a.clone()
b[0] = -a[0]
b[1:] = a[0]
a = a.requires_grad_(True)
loss = m.info_nce(a, b, {tau})
loss.backward()
print(json.dumps({{"loss": float(loss), "finite": bool(torch.isfinite(loss)),
                   "grad_finite": bool(torch.isfinite(a.grad).all())}}))
"""


@pytest.mark.parametrize("n", [2, 256, 4096])
def test_a_cosine_over_an_unknown_temperature_is_finite_down_to_the_assumed_floor(tmp_path, n):
    require_libs("torch")
    path, found = nl101(tmp_path, "info_nce.py", INFO_NCE.replace("TEMPERATURE", "tau"))
    assert not found, f"reported although the cosines are bounded: {json.dumps(found, indent=1)}"
    # rule.md: a temperature the file does not give is assumed to be at least 0.025.
    result = run_module(path, WORST_CASE.format(n=n, tau=0.025))
    assert result["finite"] and result["grad_finite"], result


def test_a_cosine_over_a_literal_small_temperature_is_reported_and_overflows(tmp_path):
    require_libs("torch")
    path, found = nl101(tmp_path, "info_nce_cold.py", INFO_NCE.replace("TEMPERATURE", "0.01"))
    assert len(found) == 1, f"expected one NL101, got {json.dumps(found, indent=1)}"
    # e^(1/0.01) = e^100 is past float32's largest value (about e^88.7): inf / inf.
    result = run_module(path, WORST_CASE.format(n=256, tau="None"))
    assert not result["finite"], result


GLOW_INIT = src(
    """
    import numpy as np
    import scipy.linalg


    def log_abs_diag_u(channels, seed):
        w = np.random.RandomState(seed).randn(channels, channels)
        q = np.linalg.qr(w)[0]
        p, l, u = scipy.linalg.lu(q)
        return np.log(np.abs(np.diag(u)))
    """
)


def test_the_lu_diagonal_of_a_rotation_has_no_zero(tmp_path):
    require_libs("numpy", "scipy")
    path, found = nl101(tmp_path, "glow_init.py", GLOW_INIT)
    assert not found, f"reported although U is invertible: {json.dumps(found, indent=1)}"
    result = run_module(
        path,
        """
        worst = math.inf
        for channels in (1, 2, 3, 8, 48, 96):
            for seed in range(200):
                worst = min(worst, float(m.log_abs_diag_u(channels, seed).min()))
        print(json.dumps({"worst": worst}))
        """,
    )
    assert result["worst"] > -1e3, result
