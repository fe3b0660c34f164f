; NL203 exp-overflow: `exp` of a value with no upper bound, normalized, summed or inverted by
; hand: a written-out softmax, log-sum-exp, cosh (or tanh) and sigmoid.
;
; Sources: `exp` of TensorFlow (`tf.math.exp`, `tf.exp`), Keras 3 (`keras.ops.exp`,
; `keras.backend.exp`), PyTorch (`torch.exp`, `Tensor.exp`), NumPy and `jax.numpy`; the logs as
; in NL101's query. The library functions that do this safely: `softmax`, `log_softmax`,
; `logsumexp` (`tf.math.reduce_logsumexp`), `sigmoid` (`scipy.special.expit`).

; `exp(x) / sum(exp(x))`: any division; the check asks the model whether it is a softmax
; written out (the numerator an `exp`, the denominator its sum, through names too), and reads a
; sigmoid written out in the denominator, `a / (1 + exp(z))`, `a / (exp(z) + 1)` or
; `a / (1 + z.exp())` (in Rust, not as patterns here: tree-sitter analyzes each nested pattern
; when the query is compiled, and those three took a sixth of that time for all the rules).
((binary_operator
  left: (_) @num
  operator: "/"
  right: (_) @den) @smell)

; `log(sum(exp(x)))`
((call
  function: (_) @_callee
  arguments: (argument_list
    .
    (_) @arg)) @smell
  (#api? @_callee
    "tensorflow.math.log"
    "keras.ops.log" "keras.backend.log"
    "torch.log"
    "numpy.log"
    "jax.numpy.log"))

; `x.sum().log()`
((call
  function: (attribute
    object: (_) @arg) @_callee) @smell
  (#method? @_callee "log"))

; `exp(x) + exp(-x)`: cosh, and the denominator of tanh, written out.
((binary_operator
  left: (call
    function: (_) @_exp1
    arguments: (argument_list
      .
      (_) @left))
  operator: "+"
  right: (call
    function: (_) @_exp2
    arguments: (argument_list
      .
      (_) @right))) @smell
  (#api? @_exp1
    "tensorflow.math.exp" "keras.ops.exp" "keras.backend.exp" "torch.exp" "numpy.exp" "jax.numpy.exp")
  (#api? @_exp2
    "tensorflow.math.exp" "keras.ops.exp" "keras.backend.exp" "torch.exp" "numpy.exp" "jax.numpy.exp"))

; `x.exp() + (-x).exp()`
((binary_operator
  left: (call
    function: (attribute
      object: (_) @left) @_exp1)
  operator: "+"
  right: (call
    function: (attribute
      object: (_) @right) @_exp2)) @smell
  (#method? @_exp1 "exp")
  (#method? @_exp2 "exp"))
