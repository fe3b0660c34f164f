import tensorflow as tf
import torch
import torch.nn as nn
import torch.nn.functional as F
from tensorflow import keras


def logits_into_the_loss(z, y):
    return F.binary_cross_entropy_with_logits(z, y)


def probabilities_for_reporting(z, y):
    probs = torch.sigmoid(z)
    return F.binary_cross_entropy_with_logits(z, y), probs


def sigmoid_targets(z, teacher):
    # A sigmoid as the target is what the loss wants.
    return F.binary_cross_entropy_with_logits(z, torch.sigmoid(teacher))


def tf_labels(logits, teacher):
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.sigmoid(teacher), logits=logits)


def keras_probabilities():
    model = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy())
    return model


def gate(z, x, y):
    # A sigmoid gate inside the model, then a linear head: the loss gets logits.
    h = torch.sigmoid(z) * x
    return F.binary_cross_entropy_with_logits(h.sum(-1), y)


def silenced(z, y):
    p = torch.sigmoid(z)  # noqa: NL302
    return F.binary_cross_entropy_with_logits(p, y)


def scores(z, training):
    # Probabilities for evaluation only; the training call gets the logits.
    return torch.sigmoid(z) if not training else z


def train_scores(z, y):
    return F.binary_cross_entropy_with_logits(scores(z, training=True), y)


class ForwardOnOnePath(nn.Module):
    # The forward returns the probabilities on one path only: no evidence that the loss gets them.
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 1)
        self.bce = nn.BCEWithLogitsLoss()

    def probabilities(self, x):
        return torch.sigmoid(self.fc(x))

    def forward(self, x, calibrated=False):
        if calibrated:
            return self.probabilities(x)
        return self.fc(x)

    def calculate_loss(self, x, label):
        return self.bce(self.forward(x), label)


def written_out_probabilities(x, w, y):
    # A sigmoid written out into a loss on probabilities.
    out = 1.0 / (1.0 + torch.exp(-(x @ w)))
    return F.binary_cross_entropy(out, y)


def no_sigmoid_written_out(z, y):
    # 1 / (1 + expm1(-z)) is exp(z); an exponential reduced or cast before the sum is no
    # sigmoid's denominator either (a reviewer's cases: the fix took the cast for the logits).
    a = 1 / (1 + torch.expm1(-z))
    b = 1 / (1 + torch.exp(-z).mean())
    c = 1 / (1 + torch.exp(-z).float())
    loss = F.binary_cross_entropy_with_logits(a, y) + F.binary_cross_entropy_with_logits(b, y)
    return loss + F.binary_cross_entropy_with_logits(c, y)
