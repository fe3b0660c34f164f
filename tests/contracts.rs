//! The API-contract rules (NL301-NL304) on sources the fixtures do not cover: how a parameter
//! such as `model` is resolved to the file's module class, Keras configurations, dtypes stated
//! in one function and used in another, and files whose tree is mostly error recovery.

use nanlint::engine::check_source;
use nanlint::settings::Settings;

/// (one-based row, code) of every finding.
fn found(src: &str) -> Vec<(usize, String)> {
    check_source(src, &Settings::default()).iter().map(|s| (s.span.start.row + 1, s.code.to_string())).collect()
}

const MODULE: &str = "\
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def forward(self, x):
        return F.softmax(x, dim=1)


criterion = nn.CrossEntropyLoss()
";

#[test]
fn a_model_parameter_resolves_to_the_one_module_class_that_fits() {
    let step = "\n\ndef step(model, x, y):\n    return criterion(model(x), y)\n";
    assert_eq!(found(&format!("{MODULE}{step}")), [(7, "NL301".to_string())]);
    // Not named like a model: nothing says what it is.
    let other = "\n\ndef step(f, x, y):\n    return criterion(f(x), y)\n";
    assert_eq!(found(&format!("{MODULE}{other}")), []);
    // Called with two arguments: `MLP.forward` takes one.
    let two = "\n\ndef step(model, x, y):\n    return criterion(model(x, y), y)\n";
    assert_eq!(found(&format!("{MODULE}{two}")), []);
    // Two module classes fit: ambiguous, so not resolved.
    let second = "\n\nclass Other(nn.Module):\n    def forward(self, x):\n        return x\n";
    assert_eq!(found(&format!("{MODULE}{second}{step}")), []);
    // A Keras layer does not compete with a PyTorch module for a PyTorch loss.
    let keras = "\nfrom tensorflow import keras\n\n\nclass Layer(keras.layers.Layer):\n    def call(self, x):\n        return x\n";
    assert_eq!(found(&format!("{MODULE}{keras}{step}")), [(7, "NL301".to_string())]);
    // A subclass of the file's module class is a module class too (and makes it ambiguous).
    let sub = "\n\nclass Sub(MLP):\n    pass\n";
    assert_eq!(found(&format!("{MODULE}{sub}{step}")), []);
}

#[test]
fn outputs_reach_losses_through_names_reshapes_and_instances() {
    let src = format!(
        "{MODULE}\n\nnet = MLP()\n\n\ndef train(x, y):\n    out = net(x)\n    flat = out.view(-1, 3)\n    return criterion(flat, y)\n"
    );
    assert_eq!(found(&src), [(7, "NL301".to_string())]);
    // `log` of the softmax output is a log-probability, which CrossEntropyLoss may take.
    let src = format!("{MODULE}\n\ndef train(x, y):\n    return criterion(MLP()(x).log(), y)\n");
    assert_eq!(found(&src).iter().filter(|(_, c)| c == "NL301").count(), 0);
}

#[test]
fn keras_configurations() {
    let head = "from tensorflow import keras\n\n\n";
    // `classifier_activation=None` removes the softmax head.
    let src = format!(
        "{head}def f():\n    m = keras.applications.ResNet50(weights=None, classifier_activation=None)\n    m.compile(loss=keras.losses.CategoricalCrossentropy(from_logits=True))\n"
    );
    assert_eq!(found(&src), []);
    // Without a top there is no classifier at all.
    let src = format!(
        "{head}def f():\n    m = keras.applications.ResNet50(include_top=False)\n    m.compile(loss=keras.losses.CategoricalCrossentropy(from_logits=True))\n"
    );
    assert_eq!(found(&src), []);
    // A Keras model whose last layer is an `Activation("softmax")`.
    let src = format!(
        "{head}def f():\n    m = keras.Sequential([keras.layers.Dense(10), keras.layers.Activation(\"softmax\")])\n    m.compile(loss=keras.losses.CategoricalCrossentropy(from_logits=True))\n"
    );
    assert_eq!(found(&src), [(5, "NL301".to_string())]);
}

#[test]
fn dtypes_follow_names_and_defaults() {
    // float32 by default: 1e-10 is a fine guard there.
    assert_eq!(found("import torch\n\ndef f(x):\n    y = torch.zeros(3)\n    return y + 1e-10\n"), []);
    // `torch.set_default_dtype(torch.float16)` anywhere makes new tensors float16.
    let src = "import torch\n\ntorch.set_default_dtype(torch.float16)\n\n\ndef f(model):\n    return torch.optim.Adam(model.parameters())\n";
    assert_eq!(found(src), [(7, "NL304".to_string())]);
    // NumPy's float64: `1 + 1e-10` is not 1.
    assert_eq!(found("import numpy as np\n\ndef f(z):\n    p = np.exp(z)\n    return 1 + 1e-10 - p\n"), []);
    // JAX with x64 enabled computes in float64.
    let jax = "import jax\nimport jax.numpy as jnp\n\njax.config.update(\"jax_enable_x64\", True)\n\n\ndef f(z):\n    p = jax.nn.sigmoid(z)\n    return jnp.log(1 + 1e-10 - p)\n";
    assert_eq!(found(jax), []);
    assert_eq!(found(&jax.replace("True", "False")), [(9, "NL304".to_string())]);
}

/// Error recovery can make the root of the tree an `ERROR` node; walks up the scopes must stop
/// there (they used to loop forever).
#[test]
fn a_file_whose_root_is_an_error_node_is_checked() {
    let imports = "import jax\nimport optax\nimport tensorflow as tf\nimport tensorflow.compat.v1 as tf1\nimport torch\n\
                   import torch.nn as nn\nimport torch.nn.functional as F\nfrom tensorflow import keras\n\
                   from torch.nn.functional import softmax as sm\n";
    let src = format!(
        "{imports}def helper(x):\n    return x\n\n\nout = helper(F.softmax(z, dim=1)) + undefined(z)\n\n\n\
         def keras_sequential():\n    model = keras.Sequential(\n        [\n"
    );
    let src = src.as_str();
    assert_eq!(nanlint::engine::parse(src).root_node().kind(), "ERROR", "the case needs an ERROR root");
    let _ = found(src);
}
