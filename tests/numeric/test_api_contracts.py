"""Numeric truth of the API-contract rules (NL301-NL304) and their fixes, with the real libraries.

Each case runs the real `nanlint` binary on a small module, applies the preferred fix it
offers, and evaluates the original and the fixed module in fresh interpreters:
  * NL301/NL302: the double softmax (sigmoid) shows in the loss: the original cannot go below
    its floor (log(e + C - 1) - 1 for C classes), the fixed module equals the library's loss
    of the logits;
  * NL303: logits into NLL, BCE or KL: the original is negative, raises, or is not the
    divergence; the fixed module equals a reference computed independently;
  * NL304: which literals nanlint says round to 0 in float16 (or are absorbed next to 1 in
    float32) is exactly which ones NumPy and PyTorch round so; the original turns NaN or -inf
    where the fixed module stays finite.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from numeric_support import apply_edits, require_libs, run_check, run_module, src


def check(tmp_path: Path, source: str, name: str = "subject.py") -> list[dict]:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return run_check(path, tmp_path)


def only(findings: list[dict], code: str) -> dict:
    mine = [f for f in findings if f["code"] == code]
    assert len(mine) == 1, f"expected one {code}, got {json.dumps(findings, indent=1)}"
    return mine[0]


def preferred_fix(source: str, finding: dict) -> str:
    assert finding["fixes"], f"no fix offered: {finding}"
    return apply_edits(source, finding["fixes"][0]["edits"])


def write(tmp_path: Path, name: str, source: str) -> Path:
    path = tmp_path / name
    path.write_text(source, encoding="utf-8")
    return path


# Logits: confident rows (one logit far ahead) and mild ones; C = 3 classes.
LOGITS = [[20.0, 0.0, 0.0], [0.0, 15.0, -3.0], [0.3, -0.2, 0.1], [1.0, 2.0, 3.0]]
LABELS = [0, 1, 2, 2]
C = 3
FLOOR = math.log(math.e + C - 1) - 1  # the least a cross-entropy of softmax outputs can be


# ----------------------------------------------------------------------------- NL301, NL302


def test_double_softmax_torch(tmp_path):
    require_libs("torch")
    source = src("""
        import torch.nn.functional as F


        def f(z, y):
            p = F.softmax(z, dim=1)
            return F.cross_entropy(p, y, reduction="none")
        """)
    finding = only(check(tmp_path, source), "NL301")
    assert finding["location"]["row"] == 5
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    assert not [f for f in check(tmp_path, fixed.read_text(), "fixed.py") if f["code"].startswith("NL3")]
    body = f"""
        import torch
        import torch.nn.functional as F
        z = torch.tensor({LOGITS})
        y = torch.tensor({LABELS})
        print(json.dumps([m.f(z, y).tolist(), F.cross_entropy(z, y, reduction="none").tolist()]))
        """
    original, reference = run_module(write(tmp_path, "original.py", source), body)
    fixed_values, _ = run_module(fixed, body)
    assert fixed_values == pytest.approx(reference, rel=1e-6, abs=1e-7)
    # The double softmax cannot go below its floor; confident rows show it.
    assert all(v >= FLOOR - 1e-6 for v in original)
    assert original[0] > fixed_values[0] + 0.5


def test_double_softmax_whose_probabilities_are_read_again(tmp_path):
    # The fix gives the loss the logits and leaves `p` the probabilities its other readers (a
    # confidence, an entropy) take; rebinding `p = z` would hand them logits.
    require_libs("torch")
    source = src("""
        import torch
        import torch.nn.functional as F


        def f(z, y):
            p = F.softmax(z, dim=1)
            loss = F.cross_entropy(p, y, reduction="none")
            return loss, p.max(1).values, -(p * torch.log(p)).sum(1)
        """)
    finding = only(check(tmp_path, source), "NL301")
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    assert "p = F.softmax(z, dim=1)" in fixed.read_text()
    body = f"""
        import torch
        import torch.nn.functional as F
        z = torch.tensor({LOGITS})
        y = torch.tensor({LABELS})
        loss, conf, ent = m.f(z, y)
        print(json.dumps([[loss.tolist(), conf.tolist(), ent.tolist()],
                          F.cross_entropy(z, y, reduction="none").tolist()]))
        """
    (loss, conf, ent), reference = run_module(write(tmp_path, "original.py", source), body)
    (fixed_loss, fixed_conf, fixed_ent), _ = run_module(fixed, body)
    assert fixed_loss == pytest.approx(reference, rel=1e-6, abs=1e-7)
    assert all(v >= FLOOR - 1e-6 for v in loss)
    # The other readers still get probabilities: the same confidences and entropies.
    assert fixed_conf == pytest.approx(conf, rel=1e-6) and fixed_ent == pytest.approx(ent, rel=1e-6, abs=1e-7)
    assert all(0 < c <= 1 for c in fixed_conf)


def test_double_softmax_tensorflow(tmp_path):
    require_libs("tensorflow")
    source = src("""
        import tensorflow as tf


        def f(labels, x):
            y = tf.nn.softmax(x)
            return tf.nn.softmax_cross_entropy_with_logits(labels, y)
        """)
    finding = only(check(tmp_path, source), "NL301")
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    body = f"""
        import tensorflow as tf
        x = tf.constant({LOGITS})
        labels = tf.one_hot({LABELS}, {C})
        print(json.dumps([m.f(labels, x).numpy().tolist(),
                          tf.nn.softmax_cross_entropy_with_logits(labels, x).numpy().tolist()]))
        """
    original, reference = run_module(write(tmp_path, "original.py", source), body)
    fixed_values, _ = run_module(fixed, body)
    assert fixed_values == pytest.approx(reference, rel=1e-5, abs=1e-6)
    assert all(v >= FLOOR - 1e-5 for v in original)
    assert original[0] > fixed_values[0] + 0.5


def test_double_softmax_through_a_module_forward(tmp_path):
    require_libs("torch")
    source = src("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F


        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                torch.manual_seed(0)
                self.fc = nn.Linear(4, 3)

            def forward(self, x):
                return F.softmax(self.fc(x) * 10, dim=1)


        criterion = nn.CrossEntropyLoss(reduction="none")


        def step(model, x, y):
            return criterion(model(x), y)


        def f(x, y):
            return step(MLP(), x, y)
        """)
    finding = only(check(tmp_path, source), "NL301")
    assert finding["location"]["row"] == 13
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    body = """
        import torch
        import torch.nn.functional as F
        torch.manual_seed(1)
        x = torch.randn(64, 4)
        y = torch.randint(0, 3, (64,))
        model = m.MLP()
        logits = model.fc(x) * 10
        print(json.dumps([m.f(x, y).tolist(), F.cross_entropy(logits, y, reduction="none").tolist()]))
        """
    original, reference = run_module(write(tmp_path, "original.py", source), body)
    fixed_values, _ = run_module(fixed, body)
    assert fixed_values == pytest.approx(reference, rel=1e-5, abs=1e-6)
    assert min(original) >= FLOOR - 1e-6
    assert min(fixed_values) < FLOOR  # the logits' loss goes where the double softmax cannot


def test_double_sigmoid_torch(tmp_path):
    require_libs("torch")
    source = src("""
        import torch
        import torch.nn.functional as F


        def f(z, y):
            p = torch.sigmoid(z)
            return F.binary_cross_entropy_with_logits(p, y, reduction="none")
        """)
    finding = only(check(tmp_path, source), "NL302")
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    body = """
        import torch
        import torch.nn.functional as F
        z = torch.tensor([20.0, -20.0, 0.5, -1.0])
        y = torch.tensor([1.0, 0.0, 1.0, 0.0])
        print(json.dumps([m.f(z, y).tolist(), F.binary_cross_entropy_with_logits(z, y, reduction="none").tolist()]))
        """
    original, reference = run_module(write(tmp_path, "original.py", source), body)
    fixed_values, _ = run_module(fixed, body)
    assert fixed_values == pytest.approx(reference, rel=1e-6, abs=1e-7)
    # sigmoid(sigmoid(z)) lies in (0.5, 0.73): the loss of a certain positive stays above
    # log(1 + e^-1), of a certain negative above log(2).
    assert original[0] >= math.log1p(math.exp(-1)) - 1e-6 and original[1] >= math.log(2) - 1e-6
    assert fixed_values[0] < 1e-6


@pytest.mark.parametrize(
    "written",
    [
        "1 / (1 + torch.exp(-z))",
        "1.0 / (torch.exp(-z) + 1.0)",
        "1 / (1 + (-z).exp())",
        "1 / (1 + torch.exp(-(z * 1.0)))",
        "1 / (1 + torch.exp(z * -1.0))",
    ],
)
def test_double_sigmoid_written_out_torch(tmp_path, written):
    # A sigmoid written out (the newcomer trial's logistic regression from scratch) into a loss
    # on logits: the fix puts the exponent's negation, the logits, in its place.
    require_libs("torch")
    source = src(f"""
        import torch
        import torch.nn.functional as F


        def f(z, y):
            p = {written}
            return F.binary_cross_entropy_with_logits(p, y, reduction="none")
        """)
    finding = only(check(tmp_path, source), "NL302")
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    assert not [f for f in check(tmp_path, fixed.read_text(), "fixed.py") if f["code"].startswith("NL3")]
    body = """
        import torch
        import torch.nn.functional as F
        z = torch.tensor([20.0, -20.0, 0.5, -1.0], requires_grad=True)
        y = torch.tensor([1.0, 0.0, 1.0, 0.0])
        loss = m.f(z, y)
        (grad,) = torch.autograd.grad(loss.sum(), z)
        reference = F.binary_cross_entropy_with_logits(z, y, reduction="none")
        (reference_grad,) = torch.autograd.grad(reference.sum(), z)
        print(json.dumps([loss.tolist() + grad.tolist(), reference.tolist() + reference_grad.tolist()]))
        """
    original, reference = run_module(write(tmp_path, "original.py", source), body)
    fixed_values, _ = run_module(fixed, body)
    assert fixed_values == pytest.approx(reference, rel=1e-6, abs=1e-7)
    # The double sigmoid's loss of a certain positive stays above log(1 + e^-1).
    assert original[0] >= math.log1p(math.exp(-1)) - 1e-6
    assert fixed_values[0] < 1e-6


# ----------------------------------------------------------------------------- NL303


def test_logits_into_nll_loss(tmp_path):
    require_libs("torch")
    source = src("""
        import torch.nn as nn
        import torch.nn.functional as F


        def f(x, y):
            fc = nn.Linear(3, 3, bias=False)
            nn.init.eye_(fc.weight)
            return F.nll_loss(fc(x), y, reduction="none")
        """)
    finding = only(check(tmp_path, source), "NL303")
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    assert "F.cross_entropy(" in fixed.read_text()
    body = f"""
        import torch
        import torch.nn.functional as F
        x = torch.tensor({LOGITS})
        y = torch.tensor({LABELS})
        with torch.no_grad():
            print(json.dumps([m.f(x, y).tolist(), F.nll_loss(F.log_softmax(x, dim=1), y, reduction="none").tolist()]))
        """
    original, reference = run_module(write(tmp_path, "original.py", source), body)
    fixed_values, _ = run_module(fixed, body)
    assert fixed_values == pytest.approx(reference, rel=1e-6, abs=1e-7)
    # NLL of logits is minus the label's logit: negative, unbounded below.
    assert original[0] == pytest.approx(-20.0) and min(original) < 0


def test_logits_into_bce(tmp_path):
    require_libs("torch")
    source = src("""
        import torch.nn.functional as F


        def f(head, x, y):
            return F.binary_cross_entropy(head(x), y, reduction="none")
        """)
    # `head` is a parameter: nothing says it is a linear layer, so nothing is reported ...
    assert not [f for f in check(tmp_path, source) if f["code"] == "NL303"]
    source = src("""
        import torch.nn as nn
        import torch.nn.functional as F


        def f(x, y):
            head = nn.Linear(1, 1, bias=False)
            nn.init.ones_(head.weight)
            return F.binary_cross_entropy(head(x).squeeze(-1), y, reduction="none")
        """)
    finding = only(check(tmp_path, source), "NL303")
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    body = """
        import torch
        import torch.nn.functional as F
        x = torch.tensor([[3.0], [-2.0], [0.5]])
        y = torch.tensor([1.0, 0.0, 1.0])
        with torch.no_grad():
            try:
                out = m.f(x, y).tolist()
            except RuntimeError as e:
                out = str(e)
            print(json.dumps([out, F.binary_cross_entropy(torch.sigmoid(x.squeeze(-1)), y, reduction="none").tolist()]))
        """
    original, reference = run_module(write(tmp_path, "original.py", source), body)
    fixed_values, _ = run_module(fixed, body)
    # ... while logits outside [0, 1] make BCELoss raise.
    assert isinstance(original, str) and "between 0 and 1" in original
    assert fixed_values == pytest.approx(reference, rel=1e-5, abs=1e-6)


def test_probabilities_into_kl_div(tmp_path):
    require_libs("torch")
    source = src("""
        import torch.nn.functional as F


        def f(student, teacher):
            return F.kl_div(F.softmax(student, dim=-1), teacher, reduction="sum")
        """)
    finding = only(check(tmp_path, source), "NL303")
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    body = """
        import numpy as np
        import torch
        s = torch.tensor([[1.0, 2.0, 0.5]])
        t = torch.tensor([[0.2, 0.5, 0.3]])
        q = np.exp(s.numpy()) / np.exp(s.numpy()).sum()
        kl = float((t.numpy() * (np.log(t.numpy()) - np.log(q))).sum())
        print(json.dumps([float(m.f(s, t)), kl]))
        """
    original, reference = run_module(write(tmp_path, "original.py", source), body)
    fixed_value, _ = run_module(fixed, body)
    assert fixed_value == pytest.approx(reference, rel=1e-5)
    assert abs(original - reference) > 0.1


# ----------------------------------------------------------------------------- NL304

# Literals next to float16's smallest subnormal (2^-24 = 5.9604644775390625e-08) and half of it.
HALF_LITERALS = [
    "1e-10",
    "1e-12",
    "1e-8",
    "2.9e-8",
    "2.98e-8",
    "2.9802322387695312e-8",
    "2.99e-8",
    "3e-8",
    "5.9e-8",
    "5.9604645e-8",
    "6e-08",
    "9e-8",
    "1e-9",
    "3e-20",
]


def test_float16_underflow_matches_numpy_and_torch(tmp_path):
    require_libs("torch")
    funcs = "\n\n".join(f"def f{i}(x):\n    return x.half() + {lit}\n" for i, lit in enumerate(HALF_LITERALS))
    source = "import torch\n\n\n" + funcs
    findings = check(tmp_path, source)
    flagged = {f["location"]["row"] for f in findings if f["code"] == "NL304"}
    rows = [5 + 4 * i for i in range(len(HALF_LITERALS))]
    truth = run_module(
        write(tmp_path, "probe.py", "x = 1\n"),
        f"""
        import numpy as np
        import torch
        lits = {[float(x) for x in HALF_LITERALS]!r}
        print(json.dumps([[bool(np.float16(v) == 0), bool(torch.tensor(v, dtype=torch.float16) == 0)] for v in lits]))
        """,
    )
    for lit, row, (numpy_zero, torch_zero) in zip(HALF_LITERALS, rows, truth):
        assert numpy_zero == torch_zero, lit
        assert (row in flagged) == numpy_zero, f"{lit}: flagged {row in flagged}, rounds to 0 {numpy_zero}"


ABSORBED_LITERALS = ["1e-10", "1e-8", "3e-8", "5.96e-8", "5.97e-8", "6e-08", "9e-8"]


def test_float32_absorption_matches_numpy(tmp_path):
    require_libs("torch")
    funcs = "\n\n".join(
        f"def f{i}(z):\n    return torch.log(1 + {lit} - torch.sigmoid(z))\n" for i, lit in enumerate(ABSORBED_LITERALS)
    )
    source = "import torch\n\n\n" + funcs
    findings = check(tmp_path, source)
    flagged = {f["location"]["row"] for f in findings if f["code"] == "NL304"}
    truth = run_module(
        write(tmp_path, "probe.py", "x = 1\n"),
        f"""
        import numpy as np
        import torch
        lits = {[float(x) for x in ABSORBED_LITERALS]!r}
        print(json.dumps([[bool(np.float32(1 + v) == 1), bool(torch.tensor(1 + v, dtype=torch.float32) == 1)] for v in lits]))
        """,
    )
    for i, (lit, (numpy_one, torch_one)) in enumerate(zip(ABSORBED_LITERALS, truth)):
        assert numpy_one == torch_one, lit
        assert ((5 + 4 * i) in flagged) == numpy_one, lit


def test_absorbed_guard_and_its_fix(tmp_path):
    require_libs("torch")
    source = src("""
        import torch


        def f(z):
            q = torch.sigmoid(z)
            return torch.log(1 + 1e-10 - q)
        """)
    finding = only(check(tmp_path, source), "NL304")
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    assert "1 - q + 1e-10" in fixed.read_text()
    body = """
        import torch
        z = torch.tensor([100.0, 0.0, -3.0])
        print(json.dumps([[float(v) for v in m.f(z)], [float(v) for v in torch.log(1 - torch.sigmoid(z.double()))]]))
        """
    original, exact = run_module(write(tmp_path, "original.py", source), body)
    fixed_values, _ = run_module(fixed, body)
    assert original[0] == -math.inf
    assert math.isfinite(fixed_values[0]) and fixed_values[0] == pytest.approx(math.log(1e-10), rel=1e-4)
    assert fixed_values[1:] == pytest.approx(exact[1:], rel=1e-5)


def test_absorbed_clip_bound_and_its_fix(tmp_path):
    require_libs("tensorflow")
    source = src("""
        import tensorflow as tf


        def f(z):
            p = tf.nn.sigmoid(z)
            p = tf.clip_by_value(p, 1e-10, 1.0 - 1e-10)
            return tf.math.log(1.0 - p)
        """)
    finding = only(check(tmp_path, source), "NL304")
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    body = """
        import tensorflow as tf
        print(json.dumps([float(v) for v in m.f(tf.constant([100.0, 0.0])).numpy()]))
        """
    original = run_module(write(tmp_path, "original.py", source), body)
    fixed_values = run_module(fixed, body)
    assert original[0] == -math.inf
    assert math.isfinite(fixed_values[0])
    assert fixed_values[1] == pytest.approx(original[1])


def test_adam_eps_on_half_parameters(tmp_path):
    require_libs("torch")
    source = src("""
        import torch


        def f():
            torch.manual_seed(0)
            model = torch.nn.Linear(3, 2).half()
            return model, torch.optim.Adam(model.parameters(), lr=1e-3)
        """)
    finding = only(check(tmp_path, source), "NL304")
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    assert "eps=1e-4" in fixed.read_text()
    body = """
        import torch
        model, opt = m.f()
        before = [p.detach().clone() for p in model.parameters()]
        # A gradient that is 0 for the weights and not for the bias.
        model.weight.grad = torch.zeros_like(model.weight)
        model.bias.grad = torch.full_like(model.bias, 0.5)
        opt.step()
        after = list(model.parameters())
        print(json.dumps({
            "finite": [bool(torch.isfinite(p).all()) for p in after],
            "weight_unchanged": bool(torch.equal(after[0], before[0])),
            "bias_step": (before[1] - after[1]).float().tolist(),
        }))
        """
    original = run_module(write(tmp_path, "original.py", source), body)
    fixed_values = run_module(fixed, body)
    # eps=1e-8 is 0 in float16: 0 / (sqrt(0) + 0) = NaN for the weights.
    assert original["finite"][0] is False
    assert fixed_values["finite"] == [True, True] and fixed_values["weight_unchanged"]
    # Where the gradient is not 0 the step is lr (Adam's first step), as before.
    # (float16 rounds the updated bias: its spacing there is up to 2^-11 * |bias|.)
    assert fixed_values["bias_step"] == pytest.approx([1e-3, 1e-3], abs=1e-4)


def test_normalize_default_eps_on_half(tmp_path):
    require_libs("torch")
    source = src("""
        import torch.nn.functional as F


        def f(h):
            return F.normalize(h.half(), dim=-1)
        """)
    finding = only(check(tmp_path, source), "NL304")
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    body = """
        import torch
        h = torch.tensor([[0.0, 0.0, 0.0], [3.0, 4.0, 0.0]])
        print(json.dumps(m.f(h).float().tolist()))
        """
    original = run_module(write(tmp_path, "original.py", source), body)
    fixed_values = run_module(fixed, body)
    assert all(math.isnan(v) for v in original[0])
    assert fixed_values[0] == [0.0, 0.0, 0.0]
    assert fixed_values[1] == pytest.approx([0.6, 0.8, 0.0], abs=1e-3) == original[1]


def test_half_division_guard(tmp_path):
    require_libs("torch")
    source = src("""
        def f(x):
            h = x.half()
            return h / (h.norm(dim=-1, keepdim=True) + 1e-10)
        """)
    source = "import torch\n\n\n" + source
    finding = only(check(tmp_path, source), "NL304")
    fixed = write(tmp_path, "fixed.py", preferred_fix(source, finding))
    body = """
        import torch
        x = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
        print(json.dumps(m.f(x).float().tolist()))
        """
    original = run_module(write(tmp_path, "original.py", source), body)
    fixed_values = run_module(fixed, body)
    assert all(math.isnan(v) for v in original[0])
    assert fixed_values[0] == [0.0, 0.0]
    assert fixed_values[1] == pytest.approx(original[1], abs=1e-3)


def test_float32_and_bfloat16_keep_the_guard(tmp_path):
    require_libs("torch")
    source = src("""
        import torch


        def f32(x):
            return x / (x.norm(dim=-1, keepdim=True) + 1e-10)


        def bf16(x):
            h = x.bfloat16()
            return h / (h.norm(dim=-1, keepdim=True) + 1e-10)


        def f(x):
            return [f32(torch.zeros(2, 2)), bf16(x)]
        """)
    assert not [f for f in check(tmp_path, source) if f["code"] == "NL304"]
    body = """
        import torch
        print(json.dumps([t.float().tolist() for t in m.f(torch.zeros(2, 2))]))
        """
    values = run_module(write(tmp_path, "original.py", source), body)
    assert values == [[[0.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]]
