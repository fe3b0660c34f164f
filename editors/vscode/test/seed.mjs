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

// The notebook the VS Code test opens in the notebook editor: a markdown cell, then the seed
// bug spread over three code cells so that only the cells read as one program show it
// (NL104: the cross-entropy written out on a softmax output; the softmax is in the third cell,
// the log in the fourth, on the cell's second line). The fourth cell alone is clean.
export const NOTEBOOK_CELLS = [
  ['markdown', '# Loss\nNever write `np.log(softmax(z))`.'],
  ['code', 'import numpy as np\nfrom scipy.special import softmax'],
  ['code', 'p = softmax(logits, axis=-1)'],
  ['code', '\nloss = -np.sum(y * np.log(p))'],
];

/** An nbformat 4.5 notebook of `cells` ([kind, source] pairs), as Jupyter writes it. */
export function notebookJson(cells) {
  const nb = {
    cells: cells.map(([kind, source], i) => ({
      cell_type: kind,
      id: `cell-${i + 1}`,
      metadata: {},
      source: source.split(/(?<=\n)/),
      ...(kind === 'code' ? { execution_count: null, outputs: [] } : {}),
    })),
    metadata: {
      kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' },
      language_info: { name: 'python' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return `${JSON.stringify(nb, null, 1)}\n`;
}
