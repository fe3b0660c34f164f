import jax
import optax
import tensorflow as tf
import tensorflow.compat.v1 as tf1
import torch
import torch.nn as nn
import torch.nn.functional as F
from tensorflow import keras
from torch.special import expit


def torch_functional(z, y):
    p = torch.sigmoid(z)  # error: [NL302]
    return F.binary_cross_entropy_with_logits(p, y)


def tensor_method(z, y):
    return F.binary_cross_entropy_with_logits(z.sigmoid(), y)  # error: [NL302]


def loss_object(z, y):
    loss = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0]))
    return loss(F.sigmoid(z), y)  # error: [NL302]


def special_expit(z, y):
    probs = expit(  # error: [NL302]
        z
    )
    return F.binary_cross_entropy_with_logits(probs.squeeze(-1), y)


def tf2(x, labels):
    y = tf.sigmoid(x)  # error: [NL302]
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=y)


def tf1_losses(logits, labels):
    return tf1.losses.sigmoid_cross_entropy(labels, tf1.nn.sigmoid(logits))  # error: [NL302]


def weighted(x, labels):
    return tf.nn.weighted_cross_entropy_with_logits(labels, tf.math.sigmoid(x), 2.0)  # error: [NL302]


def keras_function(y_true, z):
    p = keras.activations.sigmoid(z)  # error: [NL302]
    return keras.losses.binary_crossentropy(y_true, p, from_logits=True)


def jax_optax(logits, labels):
    return optax.sigmoid_binary_cross_entropy(jax.nn.sigmoid(logits), labels)  # error: [NL302]


class Detector(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x):
        return self.sigmoid(self.fc(x))  # error: [NL302]


bce = nn.BCEWithLogitsLoss()


def train(x, y):
    return bce(Detector()(x), y)


def keras_sequential():
    model = keras.Sequential([keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1, activation="sigmoid")])  # error: [NL302]
    model.compile(optimizer="adam", loss=keras.losses.BinaryCrossentropy(from_logits=True))
    return model


class FactoredSimilarity(nn.Module):
    # The forward returns another method's result: its callers are that method's (recbole's FISM).
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 1)
        self.bce = nn.BCEWithLogitsLoss()

    def inter_forward(self, x):
        scores = torch.sigmoid(self.fc(x))  # error: [NL302]
        return scores

    def forward(self, x):
        if x is None:
            return
        return self.inter_forward(x)

    def calculate_loss(self, x, label):
        return self.bce(self.forward(x), label)

    def predict(self, x):
        # Gets logits too once the sigmoid is dropped: the fix's title names it.
        return torch.sigmoid(self.forward(x))


class ExplicitForward(nn.Module):
    # `self.forward(x)` is a call of the module, as `self(x)` is.
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 1)
        self.bce = nn.BCEWithLogitsLoss()

    def forward(self, x):
        return torch.sigmoid(self.fc(x))  # error: [NL302]

    def calculate_loss(self, x, label):
        return self.bce(self.forward(x), label)


def ranked(x):
    # Called by the loss below, and by a function defined under `if __name__ == "__main__":`,
    # which is module-level code: the fix's title names it.
    return torch.sigmoid(x)  # error: [NL302]


def ranking_loss(x, y):
    return F.binary_cross_entropy_with_logits(ranked(x), y)


if __name__ == "__main__":

    def show(x):
        print(ranked(x))


def scored(x):
    # Called by the loss below, by a class's body (run at import) and by a method of a class
    # nested in it, both code outside the file's functions: the fix's title names it.
    return torch.sigmoid(x)  # error: [NL302]


def scoring_loss(x, y):
    return F.binary_cross_entropy_with_logits(scored(x), y)


class Report:
    baseline = scored(torch.zeros(1))

    class Row:
        def value(self, x):
            return scored(x)


def logistic_regression(x, w, y):
    # A sigmoid written out (logistic regression from scratch): its logits are `x @ w`.
    out = 1.0 / (1.0 + torch.exp(-(x @ w)))  # error: [NL302]
    return F.binary_cross_entropy_with_logits(out, y)


def written_into_a_buffer(z, y, buf):
    # Reported; no fix: the exponential is written into `buf` too.
    out = 1 / (1 + torch.exp(-z, out=buf))  # error: [NL302]
    return F.binary_cross_entropy_with_logits(out, y)


def threshold_read_again(z, y):
    # The loss gets the logits; the threshold stays on the probabilities.
    p = torch.sigmoid(z)  # error: [NL302]
    loss = F.binary_cross_entropy_with_logits(p, y)
    return loss, p > 0.5


def written_sigmoid_read_again(z, y):
    # A review: the written-out sigmoid's readers keep it too.
    p = 1 / (1 + torch.exp(-z))  # error: [NL302]
    loss = F.binary_cross_entropy_with_logits(p, y)
    return loss, p > 0.5


def sigmoid_layer_applied_at_once(z, y):
    # One finding, at the application (not also at the layer `nn.Sigmoid()` it builds).
    return F.binary_cross_entropy_with_logits(nn.Sigmoid()(z), y)  # error: [NL302]
