#!/usr/bin/env python3
"""Print the 5,018-line PyTorch file used to measure keystroke latency: 295 small `nn.Module`
classes, each with one unguarded `torch.log` of a softmax output (295 findings with NL101 alone).

  latency_file.py            # the file with findings
  latency_file.py --clean    # the same file with every log guarded (no findings)
  latency_file.py --lines N  # about N lines (the default is 5000)

Keystrokes in the measurement: at the end of a line drawn with random.Random(7) over all lines,
type one identifier character ("x"), then delete it; 300 edits; the next is sent after the previous
one's diagnostics arrive.
"""
import sys

BLOCK = """

class Block{i}(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.eps = 1e-6

    def forward(self, x, target):
        h = torch.relu(self.proj(x))
        probs = torch.softmax(h, dim=-1)
        loss = -(target * torch.log(probs)).sum(dim=-1).mean()
        safe = torch.log(probs.clamp(min=self.eps))
        norm = torch.sqrt((h * h).sum(dim=-1) + self.eps)
        scale = h / norm.unsqueeze(-1)
        # 注释: keep the scale finite
        return loss + safe.mean() + scale.mean()
"""


def synth_model(lines=5000, clean=False):
    block = BLOCK.replace("torch.log(probs))", "torch.log(probs + self.eps))") if clean else BLOCK
    head = "import torch\nimport torch.nn as nn\nimport numpy as np\n"
    per = block.count("\n")
    return head + "".join(block.format(i=i) for i in range(lines // per + 1))


if __name__ == "__main__":
    lines = int(sys.argv[sys.argv.index("--lines") + 1]) if "--lines" in sys.argv else 5000
    sys.stdout.write(synth_model(lines, clean="--clean" in sys.argv))
