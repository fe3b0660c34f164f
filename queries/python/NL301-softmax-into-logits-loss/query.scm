; NL301 softmax-into-logits-loss: a softmax whose output reaches a loss that applies
; log_softmax itself.
;
; Every call around the words `softmax`, `Softmax` and `compile` (the rule's anchors):
; `F.softmax(z, dim=1)`, `z.softmax(-1)`, `tf.nn.softmax(z)`, `jax.nn.softmax(z)`,
; `self.softmax(z)` (a held `nn.Softmax`), `nn.Softmax(dim=1)`, `Dense(10, activation="softmax")`,
; and `model.compile(loss=...)`. `rule.rs` keeps the calls that apply or build a softmax, and
; the losses are those of `server/src/semantic/losses.rs` (PyTorch, TensorFlow, Keras, optax).
((call) @smell)
