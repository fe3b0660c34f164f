; NL102 log-of-softmax: the natural log of a softmax output, where log_softmax of the logits
; computes the same without the underflow.
;
; Names are canonical (server/src/semantic/apis.rs folds aliases): `tf.log`, `tf.math.log` and
; `tf.compat.v1.log` are all "tensorflow.math.log". Sources: TensorFlow `tf.math.log`; Keras 3
; `keras.ops.log`, `keras.backend.log`; PyTorch `torch.log` and `Tensor.log`; NumPy and
; `jax.numpy` `log`. Whether the argument is a softmax output, directly or through one name, the
; rule asks the semantic model.

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
    "tensorflow.math.log"
    "keras.ops.log"
    "keras.backend.log"
    "torch.log"
    "numpy.log"
    "jax.numpy.log"))

; A tensor method: `p.log()`; `@arg` is the tensor.
((call
  function: (attribute
    object: (_) @arg) @_callee) @smell
  (#method? @_callee "log"))
