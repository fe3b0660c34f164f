// The seed program both VS Code tests open: the classic TF1 loss on line 9, of a ReLU output
// (evidence for NL101; on a softmax output the same line is NL104).
export const SEED = [
  'import tensorflow as tf',
  '',
  'x = tf.placeholder(tf.float32, [None, 784])',
  'y_ = tf.placeholder(tf.float32, [None, 10])',
  'W = tf.Variable(tf.zeros([784, 10]))',
  'b = tf.Variable(tf.zeros([10]))',
  'logits = tf.matmul(x, W) + b',
  'y_conv = tf.nn.relu(logits)',
  'cross_entropy = -tf.reduce_sum(y_ * tf.log(y_conv))',
  '',
].join('\n');
