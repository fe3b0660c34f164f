import numpy as np
import tensorflow as tf
import torch
import torch.nn as nn
import torch.nn.functional as F
from tensorflow import keras
from torch import optim

keras.mixed_precision.set_global_policy("mixed_float16")


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(x)


def half_model():
    model = Net()
    model.half()
    return optim.Adam(model.parameters(), lr=1e-3)  # error: [NL304]


def half_model_eps():
    model = Net().cuda().half()
    return torch.optim.AdamW(model.parameters(), lr=1e-3, eps=1e-8)  # error: [NL304]


def to_float16(net):
    net = net.to(torch.float16)
    params = [p for p in net.parameters() if p.requires_grad]
    return torch.optim.RMSprop(params, lr=1e-4)  # error: [NL304]


def tensor_guard(x):
    h = x.half()
    return h / (h.norm(dim=-1, keepdim=True) + 1e-10)  # error: [NL304]


def dtype_argument(n):
    counts = torch.zeros(n, dtype=torch.float16)
    return torch.log(counts.clamp(min=1e-12))  # error: [NL304]


def numpy_float16(a):
    b = a.astype(np.float16)
    return np.maximum(b, 1e-8)  # error: [NL304]


def tf_cast(x):
    y = tf.cast(x, tf.float16)
    return y + 1e-9  # error: [NL304]


def normalize_default(h):
    return F.normalize(h.half(), dim=-1)  # error: [NL304]


class Embed(keras.layers.Layer):
    def call(self, inputs):
        norm = tf.norm(inputs, axis=-1, keepdims=True)
        return inputs / (
            norm + 1e-12  # error: [NL304]
        )


class Normalize(keras.layers.Layer):
    def call(self, inputs):
        return tf.math.l2_normalize(inputs, axis=-1)  # error: [NL304]


def absorbed(z):
    q = torch.sigmoid(z)
    return torch.log(1 + 1e-10 - q)  # error: [NL304]


def absorbed_clip(z):
    p = tf.nn.sigmoid(z)
    p = tf.clip_by_value(p, 1e-10, 1.0 - 1e-10)  # error: [NL304]
    return tf.math.log(1.0 - p)


def bound_nothing_needs(z):
    # Preview only: nothing takes `1 - p`, so the bound guards nothing.
    p = tf.nn.sigmoid(z)
    p = tf.clip_by_value(p, 1e-10, 1.0 - 1e-10)  # error: [NL304]
    return tf.math.log(p)
