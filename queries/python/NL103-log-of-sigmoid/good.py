"""NL103 fixtures: nothing here may be reported."""
import math

import tensorflow as tf
import torch
import torch.nn.functional as F

EPS = 1e-7


def log_sigmoid_already(z):
    return F.logsigmoid(z), tf.math.log_sigmoid(-z)


def guarded(z):
    a = torch.log(torch.sigmoid(z) + EPS)
    b = torch.log(torch.clamp(1 - torch.sigmoid(z), min=EPS))
    return a, b, math.log(0.5)


def suppressed(z):
    return torch.log(torch.sigmoid(z))  # noqa: NL103
