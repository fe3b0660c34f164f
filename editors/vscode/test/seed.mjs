// The seed program both VS Code tests open: the classic TF1 loss on line 9.
export const SEED = [
  'import tensorflow as tf',
  '',
  'x = tf.placeholder(tf.float32, [None, 784])',
  'y_ = tf.placeholder(tf.float32, [None, 10])',
  'W = tf.Variable(tf.zeros([784, 10]))',
  'b = tf.Variable(tf.zeros([10]))',
  'logits = tf.matmul(x, W) + b',
  'y_conv = tf.nn.softmax(logits)',
  'cross_entropy = -tf.reduce_sum(y_ * tf.log(y_conv))',
  '',
].join('\n');
