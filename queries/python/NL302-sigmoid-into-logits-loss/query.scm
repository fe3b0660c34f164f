; NL302 sigmoid-into-logits-loss: a sigmoid whose output reaches a loss that applies the
; sigmoid itself.
;
; Every call around the words `sigmoid`, `Sigmoid`, `expit` and `compile` (the rule's anchors):
; `torch.sigmoid(z)`, `z.sigmoid()`, `tf.nn.sigmoid(z)`, `jax.nn.sigmoid(z)`, `expit(z)`,
; `self.sigmoid(z)` (a held `nn.Sigmoid`), `nn.Sigmoid()`, `Dense(1, activation="sigmoid")`,
; and `model.compile(loss=...)`. `rule.rs` keeps the calls that apply or build a sigmoid, and
; the losses are those of `server/src/semantic/losses.rs` (PyTorch, TensorFlow, Keras, optax).
((call) @smell)

; A sigmoid written out, `1 / (1 + exp(-z))`, around the word `exp` (the model reads the
; division as a sigmoid output; `rule.rs` keeps those). The same text as NL203's division
; pattern, so that both are matched once.
((binary_operator
  left: (_) @num
  operator: "/"
  right: (_) @den) @smell)
