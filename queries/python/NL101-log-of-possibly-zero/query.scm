; NL101 log-of-possibly-zero: a logarithm whose argument is not provably away from 0.
;
; Names are canonical (server/src/engine/apis.rs folds aliases): `tf.log`, `tf.math.log`,
; `tf.compat.v1.log` and `from tensorflow.math import log as tf_log` are all
; "tensorflow.math.log"; `tf.keras.backend.log` is "keras.backend.log".
; Sources: TensorFlow `tf.math.log`; Keras 3 `keras.ops.log|log2|log10`, `keras.backend.log`;
; PyTorch `torch.log|log2|log10`; NumPy and `jax.numpy` `log|log2|log10`.
; `@arg` is the first argument; a comment may stand before it (tree-sitter's `.` anchor
; counts comments, and `(comment)*` between anchors does not match zero comments).
((call
  function: (_) @_callee
  arguments: [
    (argument_list
      .
      (expression) @arg)
    (argument_list
      .
      (comment)
      .
      (expression) @arg)
  ]) @smell
  (#api? @_callee
    "tensorflow.math.log"
    "keras.ops.log" "keras.ops.log2" "keras.ops.log10"
    "keras.backend.log"
    "torch.log" "torch.log2" "torch.log10"
    "numpy.log" "numpy.log2" "numpy.log10"
    "jax.numpy.log" "jax.numpy.log2" "jax.numpy.log10")
  (#unguarded? @arg))
