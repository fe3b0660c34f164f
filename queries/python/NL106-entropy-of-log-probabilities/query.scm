; NL106 entropy-of-log-probabilities: an entropy written as `exp(logp) * logp` of
; log-probabilities, or as `p * log(p)` of a softmax output. The query finds the `exp` or the
; `log`; the rule checks that it is a factor of a product with its own argument (or result).
;
; Names are canonical (server/src/semantic/apis.rs folds aliases). Sources: TensorFlow
; `tf.math.exp` and `tf.math.log`; Keras 3 `keras.ops.exp|log`, `keras.backend.exp|log`;
; PyTorch `torch.exp|log` and `Tensor.exp|log`; NumPy and `jax.numpy` `exp|log`.

; A library call; `@arg` is its first argument (a comment may stand before it).
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
    "tensorflow.math.exp" "tensorflow.math.log"
    "keras.ops.exp" "keras.ops.log"
    "keras.backend.exp" "keras.backend.log"
    "torch.exp" "torch.log"
    "numpy.exp" "numpy.log"
    "jax.numpy.exp" "jax.numpy.log"))

; A tensor method: `logp.exp()`, `p.log()`; `@arg` is the tensor.
((call
  function: (attribute
    object: (_) @arg) @_callee) @smell
  (#method? @_callee "exp" "log"))
