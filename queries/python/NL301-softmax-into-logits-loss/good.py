import tensorflow as tf
import torch.nn as nn
import torch.nn.functional as F
from tensorflow import keras


def log_softmax_is_fine(z, y):
    # CE(log_softmax(z)) == CE(z): log_softmax is shift-invariant.
    return F.cross_entropy(F.log_softmax(z, dim=1), y)


def probabilities_for_reporting(z, y):
    probs = F.softmax(z, dim=1)
    loss = F.cross_entropy(z, y)
    return loss, probs


def soft_targets(student, teacher, y):
    # A softmax as the target is what the loss wants.
    return F.cross_entropy(student, F.softmax(teacher, dim=1))


def distillation(student, teacher, temperature):
    soft = tf.nn.softmax(teacher / temperature)
    return tf.nn.softmax_cross_entropy_with_logits(labels=soft, logits=student / temperature)


def keras_probabilities():
    model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy())
    return model


def keras_logits():
    model = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10)])
    model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    return model


def configured(y_true, z, logits):
    # `from_logits` from a setting: not known here.
    p = keras.activations.softmax(z)
    return keras.losses.categorical_crossentropy(y_true, p, from_logits=logits)


def not_the_library(z, y, helpers):
    return F.cross_entropy(helpers.softmax(z), y)


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc(x)

    def predict(self, x):
        return F.softmax(self(x), dim=1)


criterion = nn.CrossEntropyLoss()


def train(x, y):
    return criterion(Classifier()(x), y)


def silenced(z, y):
    p = F.softmax(z, dim=1)  # noqa: NL301
    return F.cross_entropy(p, y)


# The network of a TensorFlow tutorial: probabilities for evaluation only, logits to the loss.
def conv_net(x, n_classes, is_training):
    out = tf.compat.v1.layers.dense(x, n_classes)
    out = tf.nn.softmax(out) if not is_training else out
    return out


logits_train = conv_net(tf.zeros([8, 4]), 10, is_training=True)
loss_op = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(logits=logits_train, labels=[0] * 8))


class EvalSoftmax(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        z = self.fc(x)
        if self.training:
            return z
        return F.softmax(z, dim=1)


def train_eval_softmax(x, y):
    return F.cross_entropy(EvalSoftmax()(x), y)


def probabilities_on_request(z, y, flag):
    if flag:
        p = F.softmax(z, dim=1)
    else:
        p = z
    return F.cross_entropy(p, y)
