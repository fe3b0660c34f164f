import jax
import optax
import tensorflow as tf
import tensorflow.compat.v1 as tf1
import torch
import torch.nn as nn
import torch.nn.functional as F
from tensorflow import keras
from torch.nn.functional import softmax as sm


def torch_functional(z, y):
    p = F.softmax(z, dim=1)  # error: [NL301]
    return F.cross_entropy(p, y)


def tensor_method(z, y):
    return F.cross_entropy(z.softmax(-1), y)  # error: [NL301]


def imported_name(z, y):
    loss = nn.CrossEntropyLoss()
    return loss(sm(z, dim=-1), y)  # error: [NL301]


def multi_line(z, y):
    probs = torch.softmax(  # error: [NL301]
        z,
        dim=-1,
    )
    flat = probs.view(-1, 10)
    return F.cross_entropy(flat, y.view(-1))


def tf2(x, labels):
    y = tf.nn.softmax(x)  # error: [NL301]
    return tf.nn.softmax_cross_entropy_with_logits(labels, y)


def tf1_graph(x, W, b, y_):
    y_conv = tf1.nn.softmax(tf1.matmul(x, W) + b)  # error: [NL301]
    return tf1.reduce_mean(tf1.nn.softmax_cross_entropy_with_logits_v2(labels=y_, logits=y_conv))


def tf1_losses(logits, onehot):
    return tf1.losses.softmax_cross_entropy(onehot, tf1.nn.softmax(logits))  # error: [NL301]


def sparse(x, labels):
    probs = tf.nn.softmax(x)  # error: [NL301]
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=probs)


def keras_function(y_true, z):
    p = keras.activations.softmax(z)  # error: [NL301]
    return keras.losses.categorical_crossentropy(y_true, p, from_logits=True)


def jax_optax(logits, labels):
    return optax.softmax_cross_entropy(jax.nn.softmax(logits), labels)  # error: [NL301]


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)
        self.criterion = nn.CrossEntropyLoss()
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        return self.softmax(self.fc(x))  # error: [NL301]

    def loss(self, x, y):
        return self.criterion(self(x), y)


class Stack(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(16, 4), nn.Softmax(dim=1))  # error: [NL301]

    def forward(self, x):
        return self.net(x)


criterion = nn.CrossEntropyLoss()


def train_stack(x, y):
    return criterion(Stack()(x), y)


class HeldStack(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))  # error: [NL301]

    def forward(self, x):
        return self.body(x)


held = HeldStack()


def nll_of_held(x, y):
    # Reads the probabilities: the fix's title names it.
    return F.nll_loss(torch.log(held(x)), y)  # error: [NL101]


def ce_of_held(x, y):
    return nn.CrossEntropyLoss()(held(x), y)


def probabilities_read_again(z, y):
    # The loss gets the logits; `p` keeps the probabilities for its other readers.
    p = F.softmax(z, dim=1)  # error: [NL301]
    loss = F.cross_entropy(p.view(-1, 10), y)
    return loss, p.max(1).values


def logits_rebound_before_the_loss(z, y):
    # `z` holds other values at the loss and `p` is read again: no fix.
    p = F.softmax(z, dim=1)  # error: [NL301]
    z = z * 2
    return F.cross_entropy(p, y), p.argmax(1), z


def keras_sequential():
    model = keras.Sequential(
        [
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),  # error: [NL301]
        ]
    )
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def keras_add():
    model = keras.Sequential()
    model.add(keras.layers.Dense(64, activation="relu"))
    model.add(keras.layers.Dense(10, activation=tf.nn.softmax))  # error: [NL301]
    model.compile(optimizer="adam", loss=tf.keras.losses.CategoricalCrossentropy(from_logits=True))
    return model


def keras_functional(inputs):
    outputs = keras.layers.Dense(10, activation="softmax")(inputs)  # error: [NL301]
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))
    return model


def keras_applications():
    base = keras.applications.ResNet50(weights=None, classes=10)
    base.compile(optimizer="adam", loss=keras.losses.CategoricalCrossentropy(from_logits=True))  # error: [NL301]
    return base


# Softmax on every path: both branches, and a name bound on each branch of an `if`.
def branches(x, wide):
    if wide:
        out = tf.nn.softmax(tf.compat.v1.layers.dense(x, 10))  # error: [NL301]
    else:
        out = tf.nn.softmax(tf.compat.v1.layers.dense(x, 4))  # error: [NL301]
    return out


branch_loss = tf.nn.softmax_cross_entropy_with_logits(labels=[0.0] * 10, logits=branches(tf.zeros([8, 4]), True))


# A `None` guard gives the loss no logits: the softmax is still applied twice.
class Guarded(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16, 4)

    def forward(self, x):
        if x is None:
            return None
        return F.softmax(self.fc(x), dim=1)  # error: [NL301]


def train_guarded(x, y):
    return F.cross_entropy(Guarded()(x), y)


def optional_probs(z, y):
    p = F.softmax(z, dim=1) if z is not None else None  # error: [NL301]
    return F.cross_entropy(p, y)


def both_branches(z, y, flag):
    return F.cross_entropy(F.softmax(z, dim=1) if flag else F.softmax(z * 2, dim=1), y)  # error: [NL301, NL301]


def distill_ce(teacher_logits, y):
    # A teacher's probabilities under no_grad: reported, but not fixed by dropping the softmax
    # (`t = teacher_logits` would carry their gradient into the loss).
    with torch.no_grad():
        t = F.softmax(teacher_logits, dim=-1)  # error: [NL301]
    return F.cross_entropy(t, y)


class RebindsItsLogits:
    def run(self, y):
        # `self.z` holds other values at the loss (a review): no fix.
        p = F.softmax(self.z, dim=1)  # error: [NL301]
        self.z = self.z * 2
        return F.cross_entropy(p, y), p.argmax(1)


def logits_rebound_by_a_walrus(z, y):
    p = F.softmax(z, dim=1)  # error: [NL301]
    if (z := z * 2) is not None:
        pass
    return F.cross_entropy(p, y), p.argmax(1)


def loss_in_a_loop_that_rebinds_the_logits(z, y, n):
    p = F.softmax(z, dim=1)  # error: [NL301]
    total = 0
    for _ in range(n):
        total = total + F.cross_entropy(p, y)
        z = z * 2
    return total, p.argmax(1)


def two_names(z, y):
    p = q = F.softmax(z, dim=1)  # error: [NL301]
    return F.cross_entropy(p, y), q


# A layer built and applied at once: one finding, at the application (a review: the layer
# `nn.Softmax(dim=1)` and its application were reported apart, two findings for one softmax).
def softmax_layer_applied_at_once(z, y):
    return F.cross_entropy(nn.Softmax(dim=1)(z), y)  # error: [NL301]


def softmax_layer_applied_at_once_into_a_held_loss(logits, y):
    loss_fn = nn.CrossEntropyLoss()
    return loss_fn(nn.Softmax(dim=1)(logits), y)  # error: [NL301]


def softmax_layer_applied_at_once_read_again(z, y):
    p = nn.Softmax(dim=1)(z)  # error: [NL301]
    return F.cross_entropy(p, y), p.argmax(1)


def keras_softmax_layer_applied_at_once(x, y):
    return keras.losses.categorical_crossentropy(y, keras.layers.Softmax()(x), from_logits=True)  # error: [NL301]


def keras_activation_layer_applied_at_once(x, y):
    return keras.losses.categorical_crossentropy(y, keras.layers.Activation("softmax")(x), from_logits=True)  # error: [NL301]


def logits_written_in_place_before_the_loss(z, y):
    # Regression (a newcomer's trial): `z.data.fill_(0)` changes the logits after the softmax
    # read them: the drop fix cannot give the loss `z`.
    p = torch.softmax(z, -1)  # error: [NL301]
    z.data.fill_(0)
    return F.cross_entropy(p, y), p
