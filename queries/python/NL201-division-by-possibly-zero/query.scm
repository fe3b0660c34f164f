; NL201 division-by-possibly-zero: a division whose denominator can be exactly 0.
;
; `@num` is the numerator (absent for `reciprocal`), `@den` the denominator. The operator
; patterns carry no `#api?` predicate: the rule declares `Anchor::Token("/")` (which `/=` holds
; too), and its check returns at once when the denominator has no evidence of zeros.
; Sources: Python's `/` and `/=`; TensorFlow `tf.math.divide` (`tf.divide`, `tf.truediv`,
; `tf.realdiv`) and `tf.math.reciprocal`; Keras 3 `keras.ops.divide`, `keras.ops.true_divide`,
; `keras.ops.reciprocal`; PyTorch `torch.div` (`torch.divide`, `torch.true_divide`),
; `torch.reciprocal` and `Tensor.div|div_|divide|true_divide|reciprocal|reciprocal_`; NumPy and
; `jax.numpy` `divide` (`true_divide`) and `reciprocal`.

; `a / d`
((binary_operator
  left: (_) @num
  operator: "/"
  right: (_) @den) @smell)

; `a /= d`
((augmented_assignment
  left: (_) @num
  operator: "/="
  right: (_) @den) @smell)

; `divide(a, d)`. A comment may stand first (`divide(  # why`); the check drops the match that
; captures it as an operand.
((call
  function: (_) @_callee
  arguments: [
    (argument_list
      .
      (_) @num
      .
      (_) @den)
    (argument_list
      .
      (comment)
      .
      (_) @num
      .
      (_) @den)
  ]) @smell
  (#api? @_callee
    "tensorflow.math.divide"
    "keras.ops.divide" "keras.ops.true_divide"
    "torch.div"
    "numpy.divide"
    "jax.numpy.divide"))

; `reciprocal(d)`
((call
  function: (_) @_callee
  arguments: [
    (argument_list
      .
      (_) @den)
    (argument_list
      .
      (comment)
      .
      (_) @den)
  ]) @smell
  (#api? @_callee
    "tensorflow.math.reciprocal"
    "keras.ops.reciprocal"
    "torch.reciprocal"
    "numpy.reciprocal"
    "jax.numpy.reciprocal"))

; `a.div(d)`: a tensor method.
((call
  function: (attribute
    object: (_) @num) @_callee
  arguments: (argument_list
    .
    (_) @den)) @smell
  (#method? @_callee "div" "div_" "divide" "true_divide"))

; `d.reciprocal()`
((call
  function: (attribute
    object: (_) @den) @_callee) @smell
  (#method? @_callee "reciprocal" "reciprocal_"))
