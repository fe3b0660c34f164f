"""NL103 fixtures: every marked line takes the log of a sigmoid output, or of one minus one."""
import jax
import jax.numpy as jnp
import keras.backend as K
import numpy as np
import tensorflow as tf
import tensorflow.compat.v1 as tf1
import torch
import torch.nn.functional as F
from keras import ops
from scipy.special import expit


def tensorflow_spellings(z):
    a = tf.math.log(tf.sigmoid(z))  # error: [NL103]
    b = tf1.log(tf1.nn.sigmoid(z))  # error: [NL103]
    c = tf.math.log(1 - tf.math.sigmoid(z))  # error: [NL103]
    return a, b, c


def keras_spellings(z):
    a = K.log(K.sigmoid(z))  # error: [NL103]
    b = ops.log(1 - ops.sigmoid(z))  # error: [NL103]
    return a, b


def torch_spellings(z, w):
    a = torch.log(torch.sigmoid(z))  # error: [NL103]
    b = torch.log(1 - F.sigmoid(z @ w))  # error: [NL103]
    c = z.sigmoid().log()  # error: [NL103]
    return a, b, c


def numpy_and_jax(z):
    a = np.log(expit(z))  # error: [NL103]
    b = jnp.log(1 - jax.nn.sigmoid(z))  # error: [NL103]
    return a, b


def through_names(z):
    p = torch.sigmoid(z)
    q = 1 - torch.sigmoid(z)
    return torch.log(p), torch.log(q)  # error: [NL103, NL103]


def logits_bound_first(h, w):
    # The fix binds the logits to a new name: "logits" in a comment or a string uses no name.
    p = tf.sigmoid(tf.matmul(h, w))
    return tf.math.log(1 - p)  # error: [NL103]


def sigmoid_of_a_saturating_input():
    # Past about -88 float32's sigmoid is 0 (subnormal, then 0); past about 16.6 it is 1.
    low = torch.log(torch.sigmoid(torch.full((3,), -100.0)))  # error: [NL103]
    high = torch.log(1 - torch.sigmoid(torch.full((3,), 20.0)))  # error: [NL103]
    return low, high


def sigmoid_in_other_dtypes(z):
    # The message names the dtype: float64's sigmoid is 0 past about -745, float16's past -17.
    wide = torch.log(torch.sigmoid(z.double()))  # error: [NL103]
    half = torch.log(torch.sigmoid(z.half()))  # error: [NL103]
    return wide, half


def local_named_like_an_alias(x):
    # Regression (a newcomer's trial): the fix wrote `F.logsigmoid(x) * F` with `F` the number
    # of features here, an int: it must spell the function through an alias that reaches it.
    F = x.shape[-1]  # number of features
    return torch.log(torch.sigmoid(x)) * F  # error: [NL103]


def parameter_named_like_an_alias(x, F):
    return torch.log(torch.sigmoid(x)) * F  # error: [NL103]


def comprehension_variable_named_like_an_alias(xs):
    return [torch.log(torch.sigmoid(x)) * F for F, x in enumerate(xs)]  # error: [NL103]


class ClassAttributeNamedLikeAnAlias:
    F = 3  # not visible in the methods: `F` there is the module's

    def forward(self, x):
        return torch.log(torch.sigmoid(x))  # error: [NL103]


def walrus_named_like_an_alias(x):
    # `F` is the number of features (Python makes a walrus target local to the whole function):
    # the fix must not write `F.logsigmoid`.
    scale = (F := x.shape[-1]) ** 0.5
    return torch.log(torch.sigmoid(x)) * F / scale  # error: [NL103]


def exception_named_like_an_alias(x):
    try:
        y = x.float()
    except RuntimeError as F:
        raise ValueError("not a tensor") from F
    return torch.log(torch.sigmoid(y))  # error: [NL103]


def match_capture_named_like_an_alias(x, spec):
    match spec:
        case {"features": F}:
            return torch.log(torch.sigmoid(x)) * F  # error: [NL103]
    return x


def another_module_imported_under_the_alias(x):
    import numpy as F  # `F.logsigmoid` would be NumPy's: an AttributeError

    return torch.log(torch.sigmoid(x)) + F.float32(0)  # error: [NL103]


def sigmoid_call_split_over_lines(z):
    # The fix rewrites the whole log call: it must not drop the comment inside it.
    return torch.log(torch.sigmoid(  # error: [NL103]
        z  # logits
    ))


def focal_weights_written_in_between(outputs, index, quality):
    # Reduced from transformers' LW-DETR loss: the weights are arrays made here (a zeros_like,
    # a power of the probabilities), so writing into them leaves the logits as the sigmoid
    # read them: the logsigmoid fixes are offered.
    source_logits = outputs["logits"]
    prob = source_logits.sigmoid()
    pos_weights = torch.zeros_like(source_logits)
    neg_weights = prob.pow(2).to(source_logits.dtype)
    pos_weights[index] = quality
    neg_weights[index] = 1 - quality
    return -pos_weights * prob.log() - neg_weights * (1 - prob).log()  # error: [NL103, NL103]


if HAVE_LOGSIGMOID:
    from torch.nn.functional import logsigmoid


def alias_imported_under_an_if(z):
    # `logsigmoid` is imported only under a module-level `if`, and this function reads it
    # nowhere: it may be unbound here (a NameError), so the fix writes `F.logsigmoid`.
    return torch.log(torch.sigmoid(z))  # error: [NL103]


def alias_imported_under_an_if_read_here(z, y):
    # This function reads `logsigmoid` already: the fix may write it.
    a = torch.log(torch.sigmoid(z))  # error: [NL103]
    return a + logsigmoid(y)


def negative_sampling_loss(pos, neg):
    # Preview only: the loss raises both sigmoid outputs (rule.md, "Preview").
    out_loss = torch.log(torch.sigmoid(pos)).squeeze()  # error: [NL103]
    noise_loss = torch.log(torch.sigmoid(-neg)).sum(1)  # error: [NL103]
    return -(out_loss + noise_loss).mean()


def flax_reexports_of_jax_nn(z):
    # flax.nnx exports jax.nn's sigmoid: `import jax` above spells the fix.
    from flax import nnx

    return jnp.log(nnx.sigmoid(z))  # error: [NL103]
