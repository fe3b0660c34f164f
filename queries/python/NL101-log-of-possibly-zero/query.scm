; NL101 log-of-possibly-zero: a logarithm whose argument can be 0.
;
; Names are canonical (server/src/semantic/apis.rs folds aliases): `tf.log`, `tf.math.log`,
; `tf.compat.v1.log` and `from tensorflow.math import log as tf_log` are all
; "tensorflow.math.log"; `tf.keras.backend.log` is "keras.backend.log".
; Sources: TensorFlow `tf.math.log`; Keras 3 `keras.ops.log|log2|log10`, `keras.backend.log`;
; PyTorch `torch.log|log2|log10` and `Tensor.log|log2|log10|log_`; NumPy and `jax.numpy`
; `log|log2|log10`.

; A library call. `@arg` is the first argument; a comment may stand before it (tree-sitter's
; `.` anchor counts comments, and `(comment)*` between anchors does not match zero comments).
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
    "jax.numpy.log" "jax.numpy.log2" "jax.numpy.log10"))

; A tensor method: `p.log()`; `@arg` is the tensor.
((call
  function: (attribute
    object: (_) @arg) @_callee) @smell
  (#method? @_callee "log" "log2" "log10" "log_"))

; A call of one of this file's functions that logs a parameter it is given.
((call
  function: [
    (identifier)
    (attribute)
  ] @_callee) @smell
  (#local? @_callee))
