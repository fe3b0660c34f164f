import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(x)


def half_model_representable_eps():
    model = Net().half()
    return optim.Adam(model.parameters(), lr=1e-3, eps=1e-4)


def float32_model():
    model = Net()
    return optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)


def fused_kernels():
    # The fused kernels compute in float32.
    model = Net().half()
    return optim.Adam(model.parameters(), lr=1e-3, fused=True)


def bfloat16_keeps_float32_range(x):
    return x.bfloat16() + 1e-10


def float32_guard(x):
    y = torch.zeros(3) + x
    return y / (y.norm() + 1e-10)


def representable(x):
    return x.half() + 1e-4


def guard_after_the_subtraction(z):
    q = torch.sigmoid(z)
    return torch.log(1 - q + 1e-10)


def float64_numpy(z):
    p = 1.0 / (1.0 + np.exp(-z))
    return np.log(1 + 1e-10 - p)


def under_autocast(x):
    with torch.autocast("cuda", dtype=torch.float16):
        h = x.half()
        return h / (torch.norm(h) + 1e-12)


def normalize_with_eps(h):
    return F.normalize(h.half(), dim=-1, eps=1e-4)


def silenced(x):
    return x.half() + 1e-10  # noqa: NL304
