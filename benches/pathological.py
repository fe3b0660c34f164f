"""Writes pathological inputs for `nanlint check` (issue 14) into a folder, one file each.

    python3 benches/pathological.py OUT_DIR KIND SIZE

KIND and SIZE (each file holds at least one real finding):
- `nest N`: `np.log(np.log(...np.log(p)...))`, N calls nested in one expression.
- `line N`: one line holding N calls `np.log(p)` in a tuple (11 bytes each).
- `plus N`: one expression of N log terms joined by `+`.
- `div N`: N divisions chained, `s / n / n / ...` with `n` a mask count.
- `parens N`, `list N`, `minus N`, `not N`, `attr N`, `sub N`, `lambda N`, `ifexpr N`,
  `power N`, `divnest N`: other nestings N deep around or inside a finding (`(((np.log(0))))`,
  `[[[...]]]`, `- - -x`, `not not x`, `a.b.b.b`, `x[x[x[...]]]`, `lambda: lambda: ...`,
  `a if c else (a if c else ...)`, `x ** x ** ...`, `1 / (1 / (... / n))`).
- `lines N`: N functions of four lines, each with one finding (about 100 bytes a function).
- `mb N`: as `lines`, as many functions as fit in N megabytes (1,000,000 bytes).
- `modules N`: N modules whose `forward` returns a softmax, each followed by a loss function
  that gives a softmax to `nn.CrossEntropyLoss` (NL301; about 300 bytes a pair). Every use of
  the file's loss flows depends on all N modules and losses.

Prints the path of the file it wrote.
"""

import os
import sys

HEADER = "import numpy as np\n\np = np.random.rand(3)\nmask = np.random.rand(3) > 0.5\nn = mask.sum()\n"


def function(i):
    return f"def f{i}(z):\n    q = np.exp(z) / np.exp(z).sum()\n    return np.log(q)\n\n\n"


def module_and_loss(i):
    return (
        f"class Net{i}(nn.Module):\n    def forward(self, x):\n        return F.softmax(self.fc(x), dim=-1)\n\n\n"
        f"def loss{i}(logits, y):\n    crit = nn.CrossEntropyLoss()\n"
        f"    return crit(torch.softmax(logits, dim=1), y)\n\n\n"
    )


def source(kind, size):
    if kind == "modules":
        header = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
        return header + "".join(module_and_loss(i) for i in range(size))
    if kind == "nest":
        return HEADER + "x = " + "np.log(" * size + "p" + ")" * size + "\n"
    if kind == "line":
        return HEADER + "x = (" + "np.log(p), " * size + ")\n"
    if kind == "plus":
        return HEADER + "x = " + " + ".join(["np.log(p)"] * size) + "\n"
    if kind == "div":
        return HEADER + "x = p.sum()" + " / n" * size + "\n"
    deep = {
        "parens": "(" * size + "np.log(0)" + ")" * size,
        "list": "[" * size + "np.log(0)" + "]" * size,
        "minus": "- " * size + "np.log(0)",
        "not": "not " * size + "np.log(0)",
        "attr": "np.log(0)" + ".T" * size,
        "sub": "p[" * size + "np.log(0)" + "]" * size,
        "lambda": "lambda: " * size + "np.log(0)",
        "ifexpr": "np.log(0) if p else (" * size + "p" + ")" * size,
        "power": "p ** " * size + "np.log(0)",
        "divnest": "1 / (" * size + "p.sum() / n" + ")" * size,
    }
    if kind in deep:
        return HEADER + "x = " + deep[kind] + "\n"
    if kind == "lines":
        return HEADER + "".join(function(i) for i in range(size))
    if kind == "mb":
        parts, total, i = [HEADER], len(HEADER), 0
        while True:
            f = function(i)
            if total + len(f) > size * 1_000_000:
                break
            parts.append(f)
            total += len(f)
            i += 1
        return "".join(parts)
    raise SystemExit(f"unknown kind {kind!r}; see the docstring")


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    out, kind, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, f"{kind}-{size}.py")
    with open(path, "w", newline="\n") as f:
        f.write(source(kind, size))
    print(path)


if __name__ == "__main__":
    main()
