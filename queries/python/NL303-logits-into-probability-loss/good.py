import torch
import torch.nn as nn
import torch.nn.functional as F
from tensorflow import keras


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)
        self.criterion = nn.NLLLoss()

    def forward(self, x):
        return F.log_softmax(self.fc(x), dim=1)

    def loss(self, x, y):
        return self.criterion(self(x), y)

    def cross_entropy(self, x, y):
        return F.cross_entropy(self.fc(x), y)

    def bce(self, x, y):
        return F.binary_cross_entropy(torch.sigmoid(self.fc(x)), y)


def distill(student, teacher):
    return F.kl_div(F.log_softmax(student, dim=1), F.softmax(teacher, dim=1), reduction="batchmean")


def keras_probabilities():
    model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    return model


def keras_logits(x, y_true):
    dense = keras.layers.Dense(1)
    loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)
    return loss_fn(y_true, dense(x))


def unknown_inputs(probs, y):
    # Nothing says what `probs` is.
    return F.nll_loss(probs, y)


def silenced(x, y):
    fc = nn.Linear(16, 4)
    return F.nll_loss(fc(x), y)  # noqa: NL303
