; NL304 epsilon-below-dtype: a small positive constant that rounds to 0, or is absorbed, in the
; dtype of the array it meets.
;
; float16's smallest subnormal is 2^-24 (about 5.96e-8): anything below half of it rounds to 0.
; Next to 1, float32 absorbs anything below 2^-25 (1 + 1e-10 == 1). So only literals
; below 1e-7 matter, however they are written (`1e-10`, `1E-10`, `0.0000000001`): the rule's
; anchor is such a literal (`Anchor::SmallFloat`), found by its value.

; A float literal: `x.half() + 1e-10`, `eps=1e-8`, `clamp(min=1e-12)`, `1 + 1e-10 - p`.
((float) @smell)

; An optimizer whose default `eps` meets the parameters' dtype (PyTorch `torch.optim`: Adam,
; AdamW, Adamax, NAdam, RAdam, SparseAdam and RMSprop default to 1e-8, Adagrad to 1e-10).
((call
  function: (_) @_callee) @smell
  (#api? @_callee
    "torch.optim.Adam" "torch.optim.AdamW" "torch.optim.Adamax" "torch.optim.NAdam"
    "torch.optim.RAdam" "torch.optim.SparseAdam" "torch.optim.RMSprop" "torch.optim.Adagrad"))

; A normalization whose default epsilon (1e-12) meets its input's dtype:
; `torch.nn.functional.normalize(input, p=2.0, dim=1, eps=1e-12)`,
; `tf.math.l2_normalize(x, axis=None, epsilon=1e-12)` (also `tf.nn.l2_normalize`,
; `tf.linalg.l2_normalize`).
((call
  function: (_) @_callee) @smell
  (#api? @_callee
    "torch.nn.functional.normalize" "tensorflow.math.l2_normalize" "tensorflow.linalg.l2_normalize"))
