import tensorflow as tf
import torch.nn as nn
import torch.nn.functional as F
from tensorflow import keras
from torch.nn.functional import nll_loss


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)
        self.head = nn.Linear(16, 1)
        self.criterion = nn.BCELoss()  # error: [NL303]

    def forward(self, x):
        return self.fc(x)

    def nll(self, x, y):
        return F.nll_loss(self.fc(x), y)  # error: [NL303]

    def imported(self, x, y):
        logits = self.fc(x)
        return nll_loss(  # error: [NL303]
            logits,
            y,
        )

    def local_object(self, x, y):
        loss_fn = nn.NLLLoss()  # error: [NL303]
        return loss_fn(self.fc(x), y)

    def bce(self, x, y):
        return F.binary_cross_entropy(self.head(x).squeeze(-1), y)  # error: [NL303]

    def held(self, x, y):
        return self.criterion(self.head(x), y)


kl = nn.KLDivLoss(reduction="batchmean")  # error: [NL303]


def distill(student, teacher):
    return kl(F.softmax(student, dim=1), F.softmax(teacher, dim=1))


def kl_functional(student, teacher):
    return F.kl_div(F.softmax(student, dim=-1), teacher, reduction="batchmean")  # error: [NL303]


def from_a_model(x, y):
    return F.nll_loss(Classifier()(x), y)  # error: [NL303]


def keras_string():
    model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")  # error: [NL303]
    return model


def keras_object(x, y_true):
    dense = keras.layers.Dense(1)
    loss_fn = tf.keras.losses.BinaryCrossentropy()  # error: [NL303]
    return loss_fn(y_true, dense(x))


def keras_function(x, y_true):
    dense = keras.layers.Dense(10, activation=None)
    return keras.losses.categorical_crossentropy(y_true, dense(x))  # error: [NL303]
