; NL303 logits-into-probability-loss: raw logits (a linear layer without activation) into a
; loss that expects probabilities or log-probabilities, and probabilities into one that expects
; log-probabilities.
;
; Losses and what they expect: `server/src/semantic/losses.rs`, from the PyTorch `torch.nn` loss
; pages (`NLLLoss` and `KLDivLoss`: log-probabilities; `BCELoss`: probabilities), TF1's
; `tf.compat.v1.losses.log_loss`, Keras 3 `keras.losses` (`from_logits=False` by default:
; probabilities), `keras.backend`, `keras.ops` and optax's `kl_divergence` (log-predictions).

; A loss function called, or a loss class built (its calls are found from the constructor).
((call
  function: (_) @_callee) @smell
  (#api? @_callee
    "torch.nn.functional.nll_loss" "torch.nn.functional.kl_div"
    "torch.nn.functional.binary_cross_entropy"
    "torch.nn.NLLLoss" "torch.nn.KLDivLoss" "torch.nn.BCELoss"
    "tensorflow.losses.log_loss"
    "keras.losses.CategoricalCrossentropy" "keras.losses.SparseCategoricalCrossentropy"
    "keras.losses.CategoricalFocalCrossentropy"
    "keras.losses.BinaryCrossentropy" "keras.losses.BinaryFocalCrossentropy"
    "keras.losses.categorical_crossentropy" "keras.losses.sparse_categorical_crossentropy"
    "keras.losses.categorical_focal_crossentropy"
    "keras.losses.binary_crossentropy" "keras.losses.binary_focal_crossentropy"
    "keras.losses.KLDivergence" "keras.losses.kl_divergence"
    "keras.metrics.categorical_crossentropy" "keras.metrics.sparse_categorical_crossentropy"
    "keras.metrics.binary_crossentropy"
    "tensorflow.losses.CategoricalCrossentropy" "tensorflow.losses.SparseCategoricalCrossentropy"
    "tensorflow.losses.BinaryCrossentropy"
    "tensorflow.losses.categorical_crossentropy" "tensorflow.losses.sparse_categorical_crossentropy"
    "tensorflow.losses.binary_crossentropy"
    "keras.backend.categorical_crossentropy" "keras.backend.sparse_categorical_crossentropy"
    "keras.backend.binary_crossentropy"
    "keras.ops.categorical_crossentropy" "keras.ops.sparse_categorical_crossentropy"
    "keras.ops.binary_crossentropy"
    "optax.kl_divergence" "optax.losses.kl_divergence"))

; `model.compile(loss="categorical_crossentropy")`: anchored on the word `compile`.
((call
  function: (attribute
    attribute: (identifier) @_method)) @smell
  (#eq? @_method "compile"))
