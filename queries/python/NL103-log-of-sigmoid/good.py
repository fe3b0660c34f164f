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


def sigmoid_of_a_known_input():
    # sigmoid(1) = 0.73: an input known to stay between about -88 and 16.6 keeps float32's
    # sigmoid away from 0 and 1.
    factor = -torch.log(torch.sigmoid(torch.ones(1))).item()
    return factor, torch.log(1 - torch.sigmoid(torch.full((3,), 2.0)))


def shadowed_by_a_loop_variable(x, backends):
    for F in backends:
        x = torch.log(F.sigmoid(x))
    return x
