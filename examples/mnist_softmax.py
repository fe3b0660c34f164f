"""A small MNIST softmax classifier in the TensorFlow 1 style.

The loss below is the classic hand-written cross-entropy: once a softmax output reaches
exactly 0, tf.log returns -inf, 0 * -inf is NaN, and every weight becomes NaN.
Run `nanlint check examples/` to see it reported, with its fixes.
"""
import numpy as np
import tensorflow.compat.v1 as tf

tf.disable_v2_behavior()


def weight_variable(shape):
    return tf.Variable(tf.truncated_normal(shape, stddev=0.1))


def bias_variable(shape):
    return tf.Variable(tf.constant(0.1, shape=shape))


def build_model():
    x = tf.placeholder(tf.float32, [None, 784])
    y_ = tf.placeholder(tf.float32, [None, 10])
    W1 = weight_variable([784, 128])
    b1 = bias_variable([128])
    h1 = tf.nn.relu(tf.matmul(x, W1) + b1)
    W2 = weight_variable([128, 10])
    b2 = bias_variable([10])
    y_conv = tf.nn.softmax(tf.matmul(h1, W2) + b2)

    cross_entropy = -tf.reduce_sum(y_ * tf.log(y_conv))
    train_step = tf.train.AdamOptimizer(1e-4).minimize(cross_entropy)
    correct = tf.equal(tf.argmax(y_conv, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct, tf.float32))
    return x, y_, train_step, accuracy


def batches(images, labels, size=50):
    order = np.random.permutation(len(images))
    for start in range(0, len(images), size):
        idx = order[start : start + size]
        yield images[idx], labels[idx]


def train(images, labels, steps=20000):
    x, y_, train_step, accuracy = build_model()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        step = 0
        while step < steps:
            for bx, by in batches(images, labels):
                sess.run(train_step, feed_dict={x: bx, y_: by})
                step += 1
        return sess.run(accuracy, feed_dict={x: images, y_: labels})
