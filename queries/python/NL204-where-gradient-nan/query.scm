; NL204 where-gradient-nan: `where(cond, f(x), y)` in differentiated code, where `f` is singular
; (log, division, square root, fractional power) at the values of `x` that `cond` excludes.
;
; `@cond` is the condition, `@then` and `@otherwise` the branches. NumPy's `where` is never
; differentiated and is not listed.
; Sources: `tf.where` (= `tf.compat.v1.where_v2`), `torch.where`, `jnp.where`, `keras.ops.where`;
; the NaN gradient of the untaken branch: pytorch#52248, jax#347 (and #1052), the JAX FAQ ("gradients
; contain NaN where using where"), tensorflow#38349.
; A comment may stand first (`where(  # why`); the check drops the match that captures it.
((call
  function: (_) @_callee
  arguments: [
    (argument_list
      .
      (_) @cond
      .
      (_) @then
      .
      (_) @otherwise)
    (argument_list
      .
      (comment)
      .
      (_) @cond
      .
      (_) @then
      .
      (_) @otherwise)
  ]) @smell
  (#api? @_callee "tensorflow.where" "torch.where" "jax.numpy.where" "keras.ops.where"))
