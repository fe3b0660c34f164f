; NL105 imprecise-log-exp: `log(1 + x)`, `exp(x) - 1`, `log(sum(exp(x)))` and `log(1 + exp(x))`,
; which lose precision or overflow where `log1p`, `expm1`, `logsumexp` and `softplus` do not.
; The query finds the `log` or the `exp`; the rule reads the expression around it.
;
; Names are canonical (server/src/semantic/apis.rs folds aliases). Sources: TensorFlow
; `tf.math.log`, `tf.math.exp`; Keras 3 `keras.ops.log|exp`, `keras.backend.log|exp`; PyTorch
; `torch.log|exp` and `Tensor.log|exp`; NumPy and `jax.numpy` `log|exp`.

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

; A tensor method: `x.exp()`, `(1 + x).log()`; `@arg` is the tensor.
((call
  function: (attribute
    object: (_) @arg) @_callee) @smell
  (#method? @_callee "exp" "log"))
