; NL202 sqrt-or-power-at-zero: a square root, a fractional power or a norm whose gradient at 0
; is infinite (or NaN), of a value that can be exactly 0, in differentiated code.
;
; `@arg` is the value under the root, `@exponent` the power where one is written. NumPy is never
; differentiated, so its functions are not listed.
; Sources: PyTorch `torch.sqrt`, `torch.pow`, `Tensor.sqrt|sqrt_|pow|pow_`; TensorFlow
; `tf.math.sqrt`, `tf.math.pow`, `tf.norm` (= `tf.linalg.norm`, whose gradient at 0 is NaN),
; `tf.math.reduce_euclidean_norm`; Keras 3 `keras.ops.sqrt`, `keras.ops.power`,
; `keras.backend.sqrt`, `keras.backend.pow`; JAX `jnp.sqrt` (= `jax.lax.sqrt`), `jnp.power`,
; `jnp.linalg.norm` (gradient NaN at 0). PyTorch's `norm`, `linalg.vector_norm` and `dist`
; define their gradient at 0 as 0 and are not listed.

; `sqrt(x)` and the norms: one argument matters. A comment may stand first (see NL101's query).
((call
  function: (_) @_callee
  arguments: [
    (argument_list
      .
      (_) @arg)
    (argument_list
      .
      (comment)
      .
      (_) @arg)
  ]) @smell
  (#api? @_callee
    "torch.sqrt"
    "tensorflow.math.sqrt"
    "keras.ops.sqrt" "keras.backend.sqrt"
    "jax.numpy.sqrt"
    "tensorflow.linalg.norm" "tensorflow.math.reduce_euclidean_norm"
    "jax.numpy.linalg.norm"))

; `pow(x, p)`
((call
  function: (_) @_callee
  arguments: (argument_list
    .
    (_) @arg
    .
    (_) @exponent)) @smell
  (#api? @_callee
    "torch.pow"
    "tensorflow.math.pow"
    "keras.ops.power" "keras.backend.pow"
    "jax.numpy.power"))

; `x.sqrt()`
((call
  function: (attribute
    object: (_) @arg) @_callee) @smell
  (#method? @_callee "sqrt" "sqrt_"))

; `x.pow(p)`
((call
  function: (attribute
    object: (_) @arg) @_callee
  arguments: (argument_list
    .
    (_) @exponent)) @smell
  (#method? @_callee "pow" "pow_"))

; `x ** p`
((binary_operator
  left: (_) @arg
  operator: "**"
  right: (_) @exponent) @smell)
