//! A generator of random valid Python ML programs, driven by a choice sequence.
//!
//! Every decision reads the next number of `choices` (0 once they run out) and takes it modulo
//! the number of options, and option 0 is always the simplest (stop adding statements, no
//! decorator, the first alias). proptest shrinks the sequence (shorter, smaller numbers), so a
//! failing program shrinks to a small one without a hand-written shrinker, as Hypothesis does.
//!
//! Programs hold imports under random aliases (`import numpy as onp`, `import torch as T`,
//! `from tensorflow import math as tm`), functions with decorators, classes with `forward`,
//! branches, loops, `with` blocks, comprehensions and lambdas, and expressions taken from the
//! rules' fixtures (`queries/python/*/bad.py` and `good.py`): each rule's trigger and guarded
//! look-alikes. No string spans lines and no line ends in `\`, so a blank line or a comment may
//! be added at any line boundary without changing the program.

/// Reads decisions from a choice sequence.
pub struct Choices<'c> {
    choices: &'c [u32],
    at: usize,
}

impl<'c> Choices<'c> {
    pub fn new(choices: &'c [u32]) -> Self {
        Choices { choices, at: 0 }
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        let c = self.choices.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        c as usize % n
    }

    pub fn pick<'a, T: ?Sized>(&mut self, options: &[&'a T]) -> &'a T {
        options[self.below(options.len())]
    }

    pub fn chance(&mut self, in_n: usize) -> bool {
        self.below(in_n) == in_n - 1
    }
}

/// A library module a template names with `$key`, and the imports that bind it, each with the
/// name it binds. The names of different keys never collide.
const MODULES: &[(&str, &[(&str, &str)])] = &[
    (
        "np",
        &[
            ("import numpy as np", "np"),
            ("import numpy as onp", "onp"),
            ("import numpy", "numpy"),
            ("import numpy as N", "N"),
        ],
    ),
    ("T", &[("import torch", "torch"), ("import torch as T", "T"), ("import torch as th", "th")]),
    ("F", &[("import torch.nn.functional as F", "F"), ("from torch.nn import functional as Fn", "Fn")]),
    ("nn", &[("import torch.nn as nn", "nn"), ("from torch import nn", "nn")]),
    ("optim", &[("import torch.optim as optim", "optim"), ("from torch import optim", "optim")]),
    ("tlog", &[("from torch import log as tlog", "tlog")]),
    ("tf", &[("import tensorflow as tf", "tf"), ("import tensorflow as tensorflow_", "tensorflow_")]),
    ("tm", &[("from tensorflow import math as tm", "tm"), ("import tensorflow.math as tmath", "tmath")]),
    ("tf1", &[("import tensorflow.compat.v1 as tf1", "tf1")]),
    (
        "jnp",
        &[("import jax.numpy as jnp", "jnp"), ("from jax import numpy as jnp", "jnp"), ("import jax.numpy as J", "J")],
    ),
    ("jax", &[("import jax", "jax")]),
    ("K", &[("import keras.backend as K", "K")]),
    ("ops", &[("from keras import ops", "ops")]),
    ("keras", &[("from tensorflow import keras", "keras"), ("import keras", "keras")]),
    ("special", &[("from scipy import special", "special"), ("import scipy.special as special", "special")]),
    ("expit", &[("from scipy.special import expit", "expit")]),
    ("math", &[("import math", "math")]),
];

/// Expressions: `$a` and `$b` are names in scope, other `$key`s modules ([`MODULES`]).
/// First the rules' triggers (by rule), then guarded forms and look-alikes that must stay quiet,
/// then plain code.
const EXPRESSIONS: &[&str] = &[
    // NL101 log of a value that reaches 0.
    "$np.log($np.maximum($a, 0))",
    "$T.log($T.clamp($a, min=0))",
    "$T.log(($a > 0).float().sum(-1))",
    "$T.log($T.rand(3))",
    "$np.log($np.arange(5))",
    "$tlog($F.relu($a))",
    "$tf.math.log($tf.clip_by_value($a, 0.0, 1.0))",
    "$a.clamp(min=0).log2()",
    "-$T.log(-$T.log($T.rand(4)))",
    // NL102, NL103 log of a softmax or sigmoid.
    "$T.log($T.softmax($a, dim=-1))",
    "$tf.math.log($tf.nn.softmax($a))",
    "$tm.log($tf.sigmoid($a))",
    "$np.log($special.softmax($a, axis=-1))",
    "$jnp.log($jax.nn.softmax($a))",
    "$a.softmax(dim=-1).log()",
    "$a.sigmoid().log()",
    "$T.log(1 - $T.sigmoid($a))",
    "$K.log($K.softmax($a))",
    "$ops.log($ops.softmax($a, axis=-1))",
    "$np.log($expit($a))",
    "$tf1.log($tf1.nn.softmax($a, axis=1))",
    // NL104 cross-entropy on probabilities; NL106 entropy.
    "-$tf.reduce_sum($b * $tf.log($tf.nn.softmax($a)))",
    "-($b * $T.log($F.softmax($a, dim=1))).sum()",
    "-($b * $T.log($T.sigmoid($a)) + (1 - $b) * $T.log(1 - $T.sigmoid($a))).mean()",
    "-$jnp.mean($b * $jnp.log($jax.nn.softmax($a)))",
    "($T.softmax($a, -1) * $T.log($T.softmax($a, -1))).sum(-1)",
    "($T.exp($F.log_softmax($a, -1)) * $F.log_softmax($a, -1)).sum(-1)",
    "-$np.sum($special.softmax($a) * $np.log($special.softmax($a)))",
    // NL105 imprecise log and exp.
    "$np.log(1 + $a)",
    "$T.log($a + 1)",
    "$T.exp($a) - 1",
    "(1 + $a).log()",
    "$np.log($np.sum($np.exp($a)))",
    "$T.log(1 + $T.exp($a))",
    // NL201 division by a value that reaches 0.
    "$a.sum() / ($b > 0).sum()",
    "($a * $b).sum(1) / $b.sum(1)",
    "$a / $a.norm(dim=-1, keepdim=True)",
    "($a - $a.mean()) / $a.std()",
    "$np.sum($a) / $np.count_nonzero($b)",
    "$a / $tf.norm($a, axis=-1, keepdims=True)",
    "$a / ($a.max() - $a.min())",
    "$a / 0",
    "$T.div($a, ($b != 0).sum())",
    "$tf.reduce_sum($a * $b, 1) / $tf.reduce_sum($b, 1)",
    // NL202 root or fractional power at 0.
    "$T.sqrt($T.clamp($a, min=0))",
    "$a.clamp(0).sqrt()",
    "$tf.sqrt($tf.reduce_mean($tf.square($a - $b)))",
    "$T.sqrt($F.mse_loss($a, $b))",
    "$jnp.linalg.norm($a - $b)",
    "$tf.nn.relu($a) ** 0.5",
    "$T.pow($T.clamp($a, min=0.0), 1.0 / 3)",
    "(($a - $b) ** 2).sum(-1).sqrt()",
    // NL203 exp overflow.
    "$T.exp($a) / $T.exp($a).sum(dim=-1, keepdim=True)",
    "$np.exp($a) / $np.sum($np.exp($a), axis=1, keepdims=True)",
    "($T.exp($a) + $T.exp(-$a)) / 2",
    "1 / (1 + $T.exp(-$a))",
    "$np.exp($a) / (1 + $np.exp($a))",
    "$np.log($np.mean($np.exp($a)))",
    // NL204 gradient of a where.
    "$T.where($a > 0, $T.log($a), $T.zeros_like($a))",
    "$jnp.where($a > 0, $jnp.sqrt($a), 0.0)",
    "$T.where($b > 0, $a / $b, $T.zeros_like($a))",
    "$tf.where($tf.equal($a, 0.0), $tf.zeros_like($a), $b * $tf.math.log($a))",
    // NL301, NL302, NL303 activations into losses.
    "$F.cross_entropy($T.softmax($a, dim=1), $b)",
    "$nn.CrossEntropyLoss()($F.softmax($a, dim=1), $b)",
    "$tf.nn.softmax_cross_entropy_with_logits($b, $tf.nn.softmax($a))",
    "$F.binary_cross_entropy_with_logits($a.sigmoid(), $b)",
    "$nn.BCEWithLogitsLoss()($T.sigmoid($a), $b)",
    "$tf.nn.sigmoid_cross_entropy_with_logits($b, $tf.sigmoid($a))",
    "$keras.losses.CategoricalCrossentropy(from_logits=True)($b, $tf.nn.softmax($a))",
    "$F.nll_loss($nn.Linear(4, 3)($a), $b)",
    "$F.kl_div($F.softmax($a, dim=-1), $b, reduction=\"batchmean\")",
    "$nn.BCELoss()($nn.Linear(4, 1)($a), $b)",
    // NL304 epsilon below the dtype.
    "$a.half() + 1e-10",
    "$T.log($a.half().clamp(min=1e-12))",
    "$F.normalize($a.half(), dim=-1)",
    "1 + 1e-10 - $T.sigmoid($a)",
    "$optim.Adam($a.half().parameters(), lr=1e-3)",
    "$np.maximum($a.astype($np.float16), 1e-8)",
    // Guarded forms and look-alikes.
    "$T.log($a + 1e-7)",
    "$np.log($np.clip($a, 1e-7, 1))",
    "$T.log($a.clamp(min=1e-6))",
    "$F.log_softmax($a, dim=-1)",
    "$np.log1p($a)",
    "$T.logsumexp($a, -1)",
    "$tf.math.divide_no_nan($a, $b)",
    "$np.log($np.maximum($a, 1e-7))",
    "$T.where($a > 0, $T.log($T.where($a > 0, $a, 1.0)), 0.0)",
    "$a / ($a.norm(dim=-1, keepdim=True) + 1e-8)",
    "$math.log($a)",
    "logger.log($a)",
    "$T.log($a + EPS)",
    "$tf.math.log($tf.nn.softmax($a) + 1e-8)",
    "$jnp.log($jnp.clip($a, 1e-7, 1.0))",
    "$a.log_softmax(-1)",
    // Plain code.
    "$a + $b",
    "$a @ $b",
    "$a[0]",
    "$a.shape[-1]",
    "len($a)",
    "$np.zeros(3)",
    "$T.tensor([1.0, 2.0])",
    "f\"{$a}\"",
    "-$a if $b else $a",
    "{\"loss\": $a, \"aux\": $b}",
    "($a, $b)",
    "not $a",
];

/// Boolean conditions, including guards.
const CONDITIONS: &[&str] = &[
    "$a > 0",
    "$a is not None",
    "$a.min() > 0",
    "($a > 0).all()",
    "not $a",
    "$a == 0",
    "isinstance($a, float)",
    "$a > 0 and $b > 0",
];

const FUNCTION_NAMES: &[&str] = &[
    "f",
    "loss",
    "forward",
    "entropy",
    "rmse",
    "triplet_loss",
    "step",
    "normalize",
    "call",
    "kl_divergence",
    "gwd_distance",
    "helper",
];
const PARAMETERS: &[&str] = &["x", "y", "z", "p", "logits", "labels", "mask", "w", "counts", "model"];
const LOCALS: &[&str] = &["p", "q", "h", "out", "probs", "d", "r", "s", "loss", "x"];
const DECORATORS: &[&str] =
    &["$T.no_grad()", "staticmethod", "$jax.jit", "functools.lru_cache(maxsize=None)", "$tf.function"];

/// A generated program.
pub struct Program {
    pub source: String,
}

struct Writer<'c, 'd> {
    c: &'d mut Choices<'c>,
    out: String,
    used: Vec<&'static str>,
    indent: &'static str,
    /// Statements written so far (bounds the size of a program).
    statements: usize,
}

impl Writer<'_, '_> {
    fn line(&mut self, depth: usize, text: &str) {
        for _ in 0..depth {
            self.out.push_str(self.indent);
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// Replaces `$a`, `$b` with names in scope and `$module` keys with the module's name (chosen
    /// once per program, recorded in `used`).
    fn fill(&mut self, template: &str, scope: &[&'static str]) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let len = after.find(|ch: char| !ch.is_ascii_alphanumeric() && ch != '_').unwrap_or(after.len());
            let key = &after[..len];
            match key {
                "a" | "b" => out.push_str(scope[self.c.below(scope.len())]),
                _ => {
                    let (k, _) = MODULES.iter().find(|(k, _)| *k == key).unwrap_or_else(|| panic!("no module {key}"));
                    if !self.used.contains(k) {
                        self.used.push(*k);
                    }
                    out.push_str(&format!("${k}$"));
                }
            }
            rest = &after[len..];
        }
        out.push_str(rest);
        out
    }

    fn expression(&mut self, scope: &[&'static str]) -> String {
        let e = self.c.pick(EXPRESSIONS);
        self.fill(e, scope)
    }

    /// A block of statements at `depth`; returns the names it assigned.
    fn block(&mut self, depth: usize, scope: &mut Vec<&'static str>, in_function: bool) {
        let count = 1 + self.c.below(4);
        for _ in 0..count {
            self.statement(depth, scope, in_function);
        }
    }

    fn statement(&mut self, depth: usize, scope: &mut Vec<&'static str>, in_function: bool) {
        self.statements += 1;
        let compound = depth < 3 && self.statements < 16;
        let kind = self.c.below(if compound { 14 } else { 6 });
        match kind {
            0..=2 => {
                let target = self.c.pick(LOCALS);
                let e = self.expression(scope);
                self.line(depth, &format!("{target} = {e}"));
                if !scope.contains(&target) {
                    scope.push(target);
                }
            }
            3 => {
                if in_function {
                    let e = self.expression(scope);
                    self.line(depth, &format!("return {e}"));
                } else {
                    let e = self.expression(scope);
                    self.line(depth, &format!("print({e})"));
                }
            }
            4 => {
                let target = scope[self.c.below(scope.len())];
                let op = self.c.pick(&["/=", "+=", "*=", "-="]);
                let e = self.expression(scope);
                self.line(depth, &format!("{target} {op} {e}"));
            }
            5 => {
                let target = self.c.pick(LOCALS);
                let form = self.c.below(4);
                let e = self.expression(&["v"]);
                let a = scope[self.c.below(scope.len())];
                let text = match form {
                    0 => format!("{target} = [{e} for v in {a}]"),
                    1 => format!("{target} = lambda v: {e}"),
                    2 => format!("{target} = {{k: {e} for k, v in {a}.items()}}"),
                    _ => format!("{target} = sum({e} for v in {a})"),
                };
                self.line(depth, &text);
                if !scope.contains(&target) {
                    scope.push(target);
                }
            }
            6 | 7 => {
                let cond = self.c.pick(CONDITIONS);
                let cond = self.fill(cond, scope);
                self.line(depth, &format!("if {cond}:"));
                self.block(depth + 1, scope, in_function);
                match self.c.below(3) {
                    0 => {}
                    1 => {
                        self.line(depth, "else:");
                        self.block(depth + 1, scope, in_function);
                    }
                    _ => {
                        let cond = self.c.pick(CONDITIONS);
                        let cond = self.fill(cond, scope);
                        self.line(depth, &format!("elif {cond}:"));
                        self.block(depth + 1, scope, in_function);
                    }
                }
            }
            8 => {
                let a = scope[self.c.below(scope.len())];
                self.line(depth, &format!("for v in {a}:"));
                scope.push("v");
                self.block(depth + 1, scope, in_function);
            }
            9 => {
                let what = self.c.pick(&[
                    "$T.no_grad()",
                    "$tf.GradientTape() as tape",
                    "open(\"log.txt\") as fh",
                    "$T.inference_mode()",
                ]);
                let what = self.fill(what, scope);
                self.line(depth, &format!("with {what}:"));
                self.block(depth + 1, scope, in_function);
            }
            10 => {
                self.line(depth, "try:");
                self.block(depth + 1, scope, in_function);
                self.line(depth, "except (ValueError, RuntimeError) as err:");
                self.block(depth + 1, scope, in_function);
            }
            11 => {
                let cond = self.c.pick(CONDITIONS);
                let cond = self.fill(cond, scope);
                self.line(depth, &format!("while {cond}:"));
                self.block(depth + 1, scope, in_function);
                self.line(depth + 1, "break");
            }
            12 => {
                // A nested function (a closure).
                let name = self.c.pick(FUNCTION_NAMES);
                self.line(depth, &format!("def {name}(v):"));
                let mut inner = scope.clone();
                inner.push("v");
                self.block(depth + 1, &mut inner, true);
            }
            _ => {
                let cond = self.c.pick(CONDITIONS);
                let cond = self.fill(cond, scope);
                let e = self.expression(scope);
                let target = self.c.pick(LOCALS);
                self.line(depth, &format!("assert {cond}, \"guard\""));
                self.line(depth, &format!("{target} = {e}  # keep"));
                if !scope.contains(&target) {
                    scope.push(target);
                }
            }
        }
    }

    fn decorators(&mut self, depth: usize) {
        for _ in 0..self.c.below(3).saturating_sub(1) {
            let d = self.c.pick(DECORATORS);
            let d = self.fill(d, &[]);
            self.line(depth, &format!("@{d}"));
        }
    }

    fn function(&mut self, depth: usize, method: bool) {
        self.decorators(depth);
        let name = self.c.pick(FUNCTION_NAMES);
        let mut scope: Vec<&'static str> = Vec::new();
        let mut params: Vec<String> = Vec::new();
        if method {
            params.push("self".into());
        }
        for _ in 0..1 + self.c.below(3) {
            let p = self.c.pick(PARAMETERS);
            if !scope.contains(&p) {
                scope.push(p);
                params.push(match self.c.below(4) {
                    0 | 1 => p.to_string(),
                    2 => format!("{p}: float"),
                    _ => format!("{p}=None"),
                });
            }
        }
        // Defaults must follow the parameters without one.
        params.sort_by_key(|p| p.contains('='));
        let head = if self.c.chance(6) { "async def" } else { "def" };
        self.line(depth, &format!("{head} {name}({}):", params.join(", ")));
        if self.c.chance(4) {
            self.line(depth + 1, "\"\"\"Computes it.\"\"\"");
        }
        self.block(depth + 1, &mut scope, true);
    }

    fn class(&mut self) {
        let base = self.c.pick(&["$nn.Module", "object", "$keras.layers.Layer", "$keras.Model"]);
        let base = self.fill(base, &[]);
        let name = self.c.pick(&["Net", "Model", "Head", "Loss"]);
        self.line(0, &format!("class {name}({base}):"));
        if self.c.chance(3) {
            self.line(1, "scale = 2.0");
        }
        if self.c.chance(2) {
            self.line(1, "def __init__(self):");
            self.line(2, "super().__init__()");
            let layer = self.c.pick(&["$nn.Linear(4, 3)", "$nn.Conv2d(3, 8, 3)", "$keras.layers.Dense(3)"]);
            let layer = self.fill(layer, &[]);
            self.line(2, &format!("self.fc = {layer}"));
        }
        for _ in 0..1 + self.c.below(2) {
            self.function(1, true);
        }
    }

    fn top_level_item(&mut self) {
        match self.c.below(6) {
            0..=2 => self.function(0, false),
            3 => self.class(),
            4 => {
                let mut scope = vec!["data", "EPS"];
                self.statement(0, &mut scope, false);
            }
            _ => {
                self.line(0, "if __name__ == \"__main__\":");
                let mut scope = vec!["data", "EPS"];
                self.block(1, &mut scope, false);
            }
        }
    }
}

/// A random program; `items` top-level functions, classes and statements at most.
pub fn program(c: &mut Choices, items: usize) -> Program {
    let indent = if c.chance(5) { "  " } else { "    " };
    let mut w = Writer { c, out: String::new(), used: Vec::new(), indent, statements: 0 };
    let n = 1 + w.c.below(items);
    for i in 0..n {
        if i > 0 {
            let blank = w.c.pick(&["\n\n", "\n", ""]);
            w.out.push_str(blank);
        }
        w.top_level_item();
    }
    let body = std::mem::take(&mut w.out);
    // The imports of the modules the code names, each in one of its forms, in a random order,
    // sometimes with an unused one.
    let mut header = String::new();
    if w.c.chance(4) {
        header.push_str("\"\"\"A training script.\"\"\"\n");
    }
    if w.c.chance(3) {
        let extra = MODULES[w.c.below(MODULES.len())].0;
        if !w.used.contains(&extra) {
            w.used.push(extra);
        }
    }
    let mut names: Vec<(&str, &str)> = Vec::new();
    let mut used = w.used.clone();
    while !used.is_empty() {
        let key = used.remove(w.c.below(used.len()));
        let forms = MODULES.iter().find(|(k, _)| *k == key).unwrap().1;
        let (import, name) = forms[w.c.below(forms.len())];
        header.push_str(import);
        header.push('\n');
        names.push((key, name));
    }
    header.push_str(
        "import functools\nimport logging\n\nlogger = logging.getLogger(__name__)\nEPS = 1e-7\ndata = None\n\n\n",
    );
    let mut source = header + &body;
    for (key, name) in names {
        source = source.replace(&format!("${key}$"), name);
    }
    Program { source }
}

/// IPython lines a notebook cell may hold.
pub const MAGICS: &[&str] =
    &["%matplotlib inline", "!pip install torch", "%time x = 1", "%load_ext autoreload", "?np.log"];

/// A notebook's code cells: the program's top-level pieces split into cells, with IPython lines
/// (and sometimes a whole cell magic) added between statements at the top level.
pub fn cells(c: &mut Choices, source: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    for line in source.split_inclusive('\n') {
        let top = !line.starts_with([' ', '\t', '\n']) && !line.starts_with("else") && !line.starts_with("elif");
        let previous = cells.last().unwrap().trim_end().rsplit('\n').next().unwrap_or("");
        let top = top && !line.starts_with("except") && !previous.ends_with(':') && !previous.starts_with('@');
        if top && !cells.last().unwrap().is_empty() && c.chance(3) {
            cells.push(String::new());
        }
        if top && c.chance(8) {
            let m = c.pick(MAGICS);
            cells.last_mut().unwrap().push_str(m);
            cells.last_mut().unwrap().push('\n');
        }
        cells.last_mut().unwrap().push_str(line);
    }
    if c.chance(4) {
        cells.push("%%bash\necho $HOME\n".to_string());
    }
    cells
}
