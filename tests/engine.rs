//! The engine on sources the fixtures do not cover: names that are not imports, unusual imports,
//! broken and deeply nested code, `# noqa`, settings, line endings.

use nanlint::engine::check_source;
use nanlint::engine::fix::{FixMode, fix_source};
use nanlint::settings::Settings;
use nanlint::smell::Smell;

const NONE: [usize; 0] = [];

fn check(src: &str) -> Vec<Smell> {
    check_source(src, &Settings::default())
}

/// One-based rows where smells start, with the preview forms (NL101's training-time values).
fn rows_preview(src: &str) -> Vec<usize> {
    check_source(src, &Settings { preview: true, ..Settings::default() }).iter().map(|s| s.span.start.row + 1).collect()
}

/// One-based rows where smells start.
fn rows(src: &str) -> Vec<usize> {
    check(src).iter().map(|s| s.span.start.row + 1).collect()
}

fn with(select: &[&str], ignore: &[&str]) -> Settings {
    Settings {
        select: select.iter().map(|s| s.to_string()).collect(),
        ignore: ignore.iter().map(|s| s.to_string()).collect(),
        ..Settings::default()
    }
}

/// The control for the negative cases: the same shapes with a real import are found.
#[test]
fn imported_names_are_found() {
    assert_eq!(rows("import tensorflow as tf\ntf.log(0)\n"), [2]);
    assert_eq!(
        rows_preview("import numpy as np\n\nclass A:\n    def forward(self, x):\n        return np.log(x)\n"),
        [5]
    );
}

/// A forward pass's parameters are training-time data with or without an array annotation; an
/// annotation alone (outside a forward pass) is no evidence that a value reaches 0. (A
/// training-time value alone is NL101 evidence in preview mode.)
#[test]
fn annotated_forward_parameters_are_training_time_data() {
    let forward =
        |sig: &str| format!("import torch\n\nclass M(torch.nn.Module):\n    def {sig}:\n        return torch.log(x)\n");
    assert_eq!(rows_preview(&forward("forward(self, x)")), [5]);
    assert_eq!(rows_preview(&forward("forward(self, x: torch.Tensor)")), [5]);
    assert_eq!(rows_preview(&forward("call(self, x: torch.Tensor) -> torch.Tensor")), [5]);
    assert_eq!(rows_preview(&forward("__call__(self, x: Tensor)")), [5]);
    assert_eq!(rows_preview("import torch\n\ndef f(x: torch.Tensor):\n    return torch.log(x)\n"), NONE);
    assert_eq!(
        rows_preview("import torch\n\nclass M:\n    def scale(self, x: torch.Tensor):\n        return torch.log(x)\n"),
        NONE
    );
}

/// The query runs only around the words a callee can spell (the functions' names and the local
/// names imports bind to them); every way of reaching a log must still be found, once.
#[test]
fn every_spelling_of_a_callee_is_found_once() {
    // Preview mode: the outer log of `log(log(rand))` has a training-time value as evidence.
    let preview = Settings { preview: true, ..Settings::default() };
    let cols = |src: &str| -> Vec<(usize, usize)> {
        check_source(src, &preview).iter().map(|s| (s.span.start.row + 1, s.span.start.column)).collect()
    };
    // Nested: the outer call spans both occurrences of `log` but is reported once.
    assert_eq!(
        cols(
            "import torch
y = torch.log(torch.log(torch.rand(3)))
"
        ),
        [(2, 4), (2, 14)]
    );
    // A local alias of the function, with no `log` at the call.
    assert_eq!(
        cols(
            "from torch import log as ln

def f(p):
    return ln(max(p, 0))
"
        ),
        [(4, 11)]
    );
    // An alias whose last segment is another word (`tf.compat.v1.log`) and a module alias.
    assert_eq!(
        cols(
            "import tensorflow as tf
z = tf.compat.v1.log(tf.nn.softmax(p))
"
        ),
        [(2, 4)]
    );
    assert_eq!(
        cols(
            "from tensorflow import math as m
z = m.log(m.sigmoid(p))
"
        ),
        [(2, 4)]
    );
    // `log` inside a string or a longer name starts nothing, though the arguments can be 0.
    assert_eq!(
        cols(
            "import numpy as np
z = np.logaddexp(max(p, 0), max(q, 0)) + f('log') + catalog(max(p, 0))
"
        ),
        []
    );
}

#[test]
fn names_that_are_not_imports_are_not_libraries() {
    // Each argument can be 0 (`imported_names_are_found` is the control): only the callee is
    // not a library's log.
    assert_eq!(rows("tf = Logger()\ntf.log(0)\n"), NONE);
    // A local that shadows nothing but shares a library's conventional alias.
    assert_eq!(rows("import numpy\ntf = Logger()\ntf.log(0)\n"), NONE);
    assert_eq!(rows("import torch\n\nclass M:\n    def forward(self, x):\n        return self.log(x)\n"), NONE);
    assert_eq!(rows("import numpy as np\nlogger.log(max(x, 0))\nmath.log(max(x, 0))\nlog(max(x, 0))\n"), NONE);
}

#[test]
fn star_and_relative_imports_do_not_crash() {
    // A star import binds names we cannot see; nothing is claimed about `log`.
    assert_eq!(rows("from numpy import *\nlog(max(x, 0))\n"), NONE);
    assert_eq!(rows("from numpy import *\nimport numpy as np\nnp.log(max(x, 0))\n"), [3]);
    // Relative imports name this project's modules, not a library.
    assert_eq!(rows("from . import numpy as np\nnp.log(max(x, 0))\n"), NONE);
    assert_eq!(rows("from .tf import log\nfrom .. import torch\nlog(max(x, 0))\ntorch.log(max(x, 0))\n"), NONE);
    assert_eq!(rows("from .tf import *\nimport torch\ntorch.log(max(x, 0))\n"), [3]);
    // Odd but legal import shapes.
    assert_eq!(rows("import torch, numpy as np\nnp.log(max(x, 0))\n"), [2]);
    assert_eq!(rows("from torch import (\n    log as tlog,\n    exp,\n)\ntlog(max(x, 0))\n"), [5]);
    assert_eq!(rows("from __future__ import annotations\nimport torch\ntorch.log(max(x, 0))\n"), [3]);
}

#[test]
fn a_file_with_syntax_errors_is_still_checked() {
    let src = "import numpy as np\n\ndef broken(:\n    return )\n\nloss = np.log(max(p, 0))\n";
    assert_eq!(rows(src), [6]);
    let src = "import torch\nx = [1, 2,\ny = torch.log(max(p, 0))\n";
    assert!(!check(src).is_empty(), "a smell after an unclosed bracket was lost");
    // A stray `else:` puts the imports themselves under an ERROR node.
    assert_eq!(rows("import torch\nelse:\n    y = torch.log(max(p, 0))\n"), [3]);
    // Names assigned under that ERROR node still carry their evidence, and their guards.
    assert_eq!(rows("import torch\nelse:\n    p = torch.relu(z)\n    y = torch.log(p)\n"), [4]);
    assert_eq!(
        rows("import torch\nelse:\n    p = torch.relu(z)\n    p = torch.clamp(p, min=1e-7)\n    y = torch.log(p)\n"),
        NONE
    );
    // A half-typed call (what an editor sees while typing) must not crash.
    for src in
        ["import torch\ntorch.log(", "import torch\ntorch.log(p", "import torch\ntorch.log(p,", "import torch\ntorch."]
    {
        let _ = check(src);
    }
}

/// Some broken texts parse to a tree whose root is an ERROR node rather than a module (the
/// property test in `tests/incremental.rs` types its way into them; so does nesting past
/// tree-sitter's limit, below).
#[test]
fn a_file_whose_root_is_an_error_node_is_still_checked() {
    // Regression: `Model::outer_value` and `Model::local_definition` climbed scopes until they met
    // a `module` node; with an ERROR root `scope_of(root)` was the root again, forever.
    assert_eq!(within(60, || rows("import jax f.log()l'v):")), NONE);
}

#[test]
fn deep_parentheses_do_not_overflow_the_stack() {
    let depth = 5_000;
    // The evidence (`abs`) is outside the parentheses: values nested deeper than the engine's
    // evaluation limit are unknown.
    let src = format!("import numpy as np\ny = np.log(max({}x{}, 0))\n", "(".repeat(depth), ")".repeat(depth));
    let smells = check(&src);
    // The log, and the nesting past `MAX_NESTING` inside it (NL003), which is not followed.
    let codes: Vec<&str> = smells.iter().map(|s| s.code).collect();
    assert_eq!(codes, ["NL101", "NL003"]);
    // The preferred fix also walks the expression.
    let fixed = fix_source(&src, &Settings::default(), FixMode::Unsafe);
    assert_eq!(fixed.fixed, 1);
    assert_eq!(fixed.remaining.iter().map(|s| s.code).collect::<Vec<_>>(), ["NL003"]);
    // And a guard under many parentheses.
    let src = format!("import numpy as np\ny = np.log({}max(x, 0) + 1e-7{})\n", "(".repeat(depth), ")".repeat(depth));
    let _ = check(&src);
}

/// `def f(z):` with `p = torch.relu(z)` (which reaches 0) holding `depth` nested `if z:` blocks
/// (one space per level) around a log of `p`. Past tree-sitter's nesting limit the root is an
/// ERROR node, and the evidence through the name `p` must survive that.
fn nested_ifs(depth: usize, guard: &str) -> String {
    let mut src = format!("import torch\n\ndef f(z):\n p = torch.relu(z); {guard}\n");
    for i in 0..depth {
        src.push_str(&" ".repeat(i + 1));
        src.push_str("if z:\n");
    }
    src.push_str(&" ".repeat(depth + 1));
    src.push_str("q = torch.log(p)\n");
    src
}

#[test]
fn deeply_nested_blocks_do_not_overflow_the_stack() {
    // Within `MAX_NESTING` (400 tree levels; each `if` adds two) the evidence through `p` holds.
    assert_eq!(rows(&nested_ifs(150, "pass")), [155]);
    assert_eq!(rows(&nested_ifs(150, "p = torch.clamp(p, min=1e-7)")), NONE);
    // Deeper, the first place past the limit is reported (NL003) and what is below it is not
    // followed, guarded or not.
    let codes = |src: &str| check(src).iter().map(|s| (s.code.to_string(), s.span.start.row + 1)).collect::<Vec<_>>();
    assert_eq!(codes(&nested_ifs(400, "pass")), [("NL003".to_string(), 204)]);
    assert_eq!(codes(&nested_ifs(400, "p = torch.clamp(p, min=1e-7)")), [("NL003".to_string(), 204)]);
    // Beyond tree-sitter-python's limit of about 500 indentation levels the file's root is an
    // ERROR node, and still checked. (Any depth from about 514 looped forever before the fix
    // above; `within` turns a hang into a failure.)
    let deep = within(120, || check(&nested_ifs(3_000, "pass")));
    assert!(deep.iter().any(|s| s.code == "NL003"), "{deep:?}");
    assert!(!deep.iter().any(|s| s.code == "NL101"), "{deep:?}");
}

/// `f()` on another thread, failing if it has not returned within `seconds` (a hang would stop
/// the whole test binary).
fn within<T: Send + 'static>(seconds: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(seconds)) {
        Ok(value) => value,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("no result within {seconds} s"),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("the check panicked"),
    }
}

#[test]
fn deep_binary_expressions_do_not_overflow_the_stack() {
    let terms = vec!["x"; 5_000].join(" + ");
    // The evidence (`abs`) is outside the sum: values nested deeper than the engine's evaluation
    // limit are unknown.
    let src = format!(
        "import numpy as np\n\ndef f(x: np.ndarray):\n    y = np.log(max({terms}, 0))\n    z = np.log(max({terms}, 0) + 1e-7)\n"
    );
    // The first log, and the sum nested past `MAX_NESTING` inside it (NL003); the second log's
    // `+ 1e-7` keeps it clean.
    let codes: Vec<(String, usize)> = check(&src).iter().map(|s| (s.code.to_string(), s.span.start.row + 1)).collect();
    assert_eq!(codes, [("NL101".to_string(), 4), ("NL003".to_string(), 4)]);
}

#[test]
fn noqa_comments() {
    let src = "import torch\n\
               p = torch.softmax(z, dim=-1)\n\
               a = torch.log(p)  # noqa\n\
               b = torch.log(p)  # noqa: NL101\n\
               c = torch.log(p)  # noqa: NL999\n\
               d = torch.log(p)  # NOQA:NL101,NL999\n\
               e = torch.log(p)  # type: ignore  # noqa: NL101\n\
               f = torch.log(p)  # noqa: NL1\n\
               g = torch.log(p)\n\
               # noqa\n";
    // A code that is not this smell's does not suppress it; neither does a prefix or a noqa on
    // another line.
    assert_eq!(rows(src), [5, 8, 9]);
}

#[test]
fn noqa_applies_where_the_smell_starts() {
    let src = "import torch\np = torch.softmax(w, dim=-1)\n\
               y = torch.log(  # noqa: NL101\n    p\n)\nz = torch.log(\n    p  # noqa: NL101\n)\n";
    assert_eq!(rows(src), [6]);
}

#[test]
fn select_and_ignore() {
    let src = "import torch\np = torch.relu(z)\ny = torch.log(p)\n";
    let found = |s: Settings| check_source(src, &s).len();
    assert_eq!(found(with(&[], &[])), 1);
    assert_eq!(found(with(&["NL101"], &[])), 1);
    assert_eq!(found(with(&["NL"], &[])), 1);
    assert_eq!(found(with(&["NL2"], &[])), 0);
    assert_eq!(found(with(&[], &["NL101"])), 0);
    assert_eq!(found(with(&[], &["NL1"])), 0);
    assert_eq!(found(with(&["NL101"], &["NL1"])), 1, "the more specific select wins");
    assert_eq!(found(with(&["NL1"], &["NL101"])), 0, "the more specific ignore wins");
}

/// A `# noqa` naming any code of a precedence chain silences the chain; turning the outer rule
/// off instead lets the next rule of the chain report the line (the README says both).
#[test]
fn noqa_silences_a_finding_and_what_it_holds_and_ignore_hands_the_line_down() {
    let src = "import tensorflow as tf\n\
               def loss(y_, logits):\n    y_conv = tf.nn.softmax(logits)\n\
               \x20   return -tf.reduce_sum(y_ * tf.log(y_conv))\n";
    let codes = |src: &str, ignore: &[&str]| -> Vec<String> {
        check_source(src, &with(&[], ignore)).into_iter().map(|s| s.code.to_string()).collect()
    };
    assert_eq!(codes(src, &[]), ["NL104"]);
    assert_eq!(codes(src, &["NL104"]), ["NL102"]);
    assert_eq!(codes(src, &["NL104", "NL102"]), ["NL101"]);
    let silenced = src.replace("(y_conv))\n", "(y_conv))  # noqa: NL104\n");
    assert_eq!(codes(&silenced, &[]), Vec::<String>::new());
    assert_eq!(codes(&silenced.replace("NL104", "NL101"), &[]), Vec::<String>::new());

    // Only the finding's own chain: NL101 and NL202 both sit under NL204, but neither holds the
    // other, so a `# noqa: NL101` left on a line does not hide a root at 0 (it did).
    let root = "import torch
def forward(x):
    return x.clamp(0).sqrt()  # noqa: NL101
";
    assert_eq!(codes(root, &[]), ["NL202"]);
    let softmax = "import torch
def f(z):
    p = torch.softmax(z, -1)
    return torch.log(p)  # noqa: NL201
";
    assert_eq!(codes(softmax, &[]), ["NL102"]);

    // An outer code silences nothing else: a ReLU output's log is no log of a softmax, and a
    // `# noqa: NL102` on its line (or for another finding of the line) leaves it reported.
    let relu = "import torch
def f(x):
    return torch.log(torch.relu(x))  # noqa: NL102
";
    assert_eq!(codes(relu, &[]), ["NL101"]);
    assert_eq!(codes(&relu.replace("NL102", "NL204"), &[]), ["NL101"]);
    let two = "import torch
def f(x, z):
    return torch.log(torch.relu(x)) + torch.log(torch.softmax(z, -1))  # noqa: NL102
";
    assert_eq!(codes(two, &[]), ["NL101"]);
    assert_eq!(codes(&two.replace("NL102", "NL101, NL102"), &[]), Vec::<String>::new());
    let clamped = "import torch
def forward(x):
    return x.clamp(min=0).sqrt()  # noqa: NL201
";
    assert_eq!(codes(clamped, &[]), ["NL202"]);
}

/// Regression (a review of 68cbe95): a `# noqa` code silenced every finding whose rule could hold
/// that code, though the finding took no such finding's place: `# noqa: NL101` hid an NL204 on
/// a division, a root or a guarded log of a softmax output, where no NL101 was found. A code
/// silences an outer finding only where it absorbed one of that code (`Smell::absorbed`),
/// through a chain too: an NL104 that took the place of an NL102, which had taken an NL101's.
#[test]
fn noqa_silences_an_outer_finding_only_for_the_codes_it_absorbed() {
    let codes = |src: &str| -> Vec<String> { check(src).into_iter().map(|s| s.code.to_string()).collect() };
    let wheres = "import torch
import jax.numpy as jnp


def masked_mean_loss(x, mask):
    total = (x * mask).sum(-1)
    n = mask.sum(-1)
    return torch.where(n > 0, total / n, torch.zeros_like(total))  # noqa: NL101


def jax_distance(a, b):
    d2 = jnp.sum((a - b) ** 2, axis=-1)
    return jnp.where(d2 > 0, jnp.sqrt(d2), 0.0)  # noqa: NL101


def entropy_loss(logits):
    p = torch.softmax(logits, dim=-1)
    return -torch.where(p > 0, p * torch.log(p), torch.zeros_like(p)).sum(-1)  # noqa: NL101
";
    assert_eq!(codes(wheres), ["NL204", "NL204", "NL204"]);
    assert_eq!(rows(wheres), [8, 13, 18]);
    assert_eq!(codes(&wheres.replace("NL101", "NL102")), ["NL204", "NL204", "NL204"]);
    assert_eq!(codes(&wheres.replace("NL101", "NL201, NL202")), ["NL204", "NL204", "NL204"]);
    // The wheres guard what they discard, so NL204 took no finding's place; its own code and a
    // bare `# noqa` still silence it.
    assert_eq!(codes(&wheres.replace("NL101", "NL204")), Vec::<String>::new());
    assert_eq!(codes(&wheres.replace(": NL101", "")), Vec::<String>::new());

    // NL104 took the place of an NL102 and an NL101 on the same log: either code silences it,
    // NL103 (which it could hold, on a sigmoid) does not.
    let ce = "import torch


def cross_entropy(y, z):
    p = torch.softmax(z, -1)
    return -(y * torch.log(p)).sum(-1).mean()  # noqa: NL101
";
    assert_eq!(codes(ce), Vec::<String>::new());
    assert_eq!(codes(&ce.replace("NL101", "NL102")), Vec::<String>::new());
    assert_eq!(codes(&ce.replace("NL101", "NL103")), ["NL104"]);

    // The log starts where the product does: NL102 takes NL101's place first, then NL104 takes
    // NL102's, and NL102 hands NL101 on.
    let chained = "import torch


def cross_entropy(y, z):
    p = torch.softmax(z, -1)
    ce = torch.log(p) * y  # noqa: NL101
    return ce
";
    assert_eq!(codes(chained), Vec::<String>::new());
    assert_eq!(codes(&chained.replace("NL101", "NL102")), Vec::<String>::new());
    assert_eq!(codes(&chained.replace("NL101", "NL106")), ["NL104"]);

    // A binary cross-entropy's two logs of a sigmoid output: NL103 and NL101, no NL102.
    let bce = "import torch


def bce(y, z):
    p = torch.sigmoid(z)
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()  # noqa: NL103
";
    assert_eq!(codes(bce), Vec::<String>::new());
    assert_eq!(codes(&bce.replace("NL103", "NL102")), ["NL104"]);
}

#[test]
fn epsilon_is_written_by_the_fixes() {
    let src = "import torch\np = torch.relu(x)\ny = torch.log(p)\nz = torch.log(torch.rand(3))\n";
    let settings = Settings { epsilon: 1e-4, ..Settings::default() };
    let smells = check_source(src, &settings);
    assert_eq!(smells.len(), 2);
    assert_eq!(smells[0].fixes[0].edits.last().unwrap().content, "torch.clamp(p, min=1e-4)");
    assert_eq!(smells[0].fixes[0].title, "Raise `p` to at least 1e-4");
    assert_eq!(smells[1].fixes[0].title, "Raise `torch.rand(3)` to at least 1e-4");
    let fixed = fix_source(src, &settings, FixMode::Unsafe).source;
    assert_eq!(
        fixed,
        "import torch\np = torch.relu(x)\ny = torch.log(torch.clamp(p, min=1e-4))\n\
         z = torch.log(torch.clamp(torch.rand(3), min=1e-4))\n"
    );
    // A guard at the configured epsilon counts as a guard.
    assert!(check_source(&fixed, &settings).is_empty());
}

#[test]
fn fixes_use_the_files_own_aliases() {
    let fixed = |src: &str| fix_source(src, &Settings::default(), FixMode::Unsafe).source;
    assert_eq!(
        fixed("import torch as th\np = th.relu(z)\ny = th.log(p)\n"),
        "import torch as th\np = th.relu(z)\ny = th.log(th.clamp(p, min=1e-7))\n"
    );
    assert_eq!(
        fixed("import tensorflow.compat.v1 as tf1\np = tf1.nn.relu(z)\ny = tf1.log(p)\n"),
        "import tensorflow.compat.v1 as tf1\np = tf1.nn.relu(z)\ny = tf1.log(tf1.math.maximum(p, 1e-7))\n"
    );
    // Only `log` itself was imported: the fix adds the library's conventional import.
    assert_eq!(
        fixed("\"\"\"Doc.\"\"\"\nfrom torch import log\n\ny = log(max(p, 0))\n"),
        "\"\"\"Doc.\"\"\"\nfrom torch import log\nimport torch\n\ny = log(torch.clamp(max(p, 0), min=1e-7))\n"
    );
}

#[test]
fn crlf_files() {
    let src = "import numpy as np\r\n\r\np = np.maximum(x, 0)\r\ny = np.log(p)\r\nz = p * np.log(p)  # noqa: NL101\r\n\
               w = p * np.log(p)\r\n";
    let smells = check(src);
    assert_eq!(smells.iter().map(|s| s.span.start.row + 1).collect::<Vec<_>>(), [4, 6]);
    let fixed = fix_source(src, &Settings::default(), FixMode::Unsafe).source;
    assert_eq!(
        fixed,
        "import numpy as np\r\n\r\np = np.maximum(x, 0)\r\ny = np.log(np.maximum(p, 1e-7))\r\nz = p * np.log(p)  # noqa: NL101\r\n\
         w = p * np.log(np.maximum(p, 1e-7))\r\n"
    );
    // The xlogy alternative adds its import with the file's line ending.
    let xlogy = smells[1].fixes.last().unwrap();
    let added = nanlint::smell::apply_edits(src, &xlogy.edits);
    assert!(added.starts_with("import numpy as np\r\nfrom scipy.special import xlogy\r\n"), "{added:?}");
    assert!(!added.replace("\r\n", "").contains('\n'), "a bare LF was written into a CRLF file: {added:?}");
}

#[test]
fn non_ascii_source() {
    let src = "import torch\np = torch.rand(3)\ns = \"日本語😀\"; y = torch.log(p)  # é\n";
    let smells = check(src);
    assert_eq!(smells.len(), 1);
    assert_eq!(&src[smells[0].span.start_byte..smells[0].span.end_byte], "torch.log(p)");
}

#[test]
fn empty_and_library_free_files() {
    assert!(check("").is_empty());
    assert!(check("\n\n").is_empty());
    assert!(check("log(x)\n").is_empty());
    assert!(check("import logging\nlogging.log(1, 'x')\n").is_empty());
}

/// Regression: every memoized value handed on the facts it used with repeats, so a chain of names
/// each used twice doubled the list at each step (a 1,100-line JAX file asked for gigabytes).
#[test]
fn facts_used_by_a_long_chain_of_names_stay_few() {
    let mut src = String::from("import numpy as np\nscale = 2.0\ndef f(x):\n    a0 = x * scale\n");
    for i in 1..=60 {
        src.push_str(&format!("    a{i} = a{} + a{} * scale\n", i - 1, i - 1));
    }
    src.push_str("    return np.log(np.maximum(a60, 0))\n");
    assert_eq!(within(60, move || rows(&src)), [65]);
}

/// Regression: in `y * log(p)` the clip fix bounded `p` by 1 whatever its range, so a ReLU
/// output's loss changed wherever it exceeded 1.
#[test]
fn only_values_at_most_one_are_clipped_at_one() {
    let fixes = |src: &str| check(src).into_iter().flat_map(|s| s.fixes).map(|f| f.title).collect::<Vec<_>>();
    let relu = "import torch\ndef f(z, y):\n    p = torch.relu(z)\n    return -(y * torch.log(p)).sum()\n";
    assert_eq!(fixes(relu), ["Raise `p` to at least 1e-7", "Use `torch.xlogy(y, p)`"]);
    let uniform = "import torch\ndef f(y):\n    p = torch.rand(3)\n    return -(y * torch.log(p)).sum()\n";
    assert_eq!(fixes(uniform), ["Clip `p` into [1e-7, 1]", "Use `torch.xlogy(y, p)`"]);
    // Any value at least 0 with no upper bound at 1, not only the listed producers (a clip at 0
    // was clipped at 1 too).
    let floored = "import torch\ndef f(z, y):\n    p = torch.clamp(z, min=0)\n    return -(y * torch.log(p)).sum()\n";
    assert_eq!(fixes(floored)[0], "Raise `p` to at least 1e-7");
    let np_floored = "import numpy as np\np = np.maximum(x, 0)\nw = p * np.log(p)\n";
    assert_eq!(fixes(np_floored)[0], "Raise `p` to at least 1e-7");
}

/// Regression (a newcomer's trial): in a file that imports TensorFlow and NumPy, a min-max
/// normalization of a parameter (`x.max() - x.min()`, methods `tf.Tensor` lacks) was offered
/// `tf.math.divide_no_nan`, which would turn the NumPy result into a `tf.Tensor`. A TensorFlow
/// count beside it keeps its fixes.
#[test]
fn a_division_of_arrays_with_numpy_methods_gets_no_tensorflow_fix() {
    let src = "import numpy as np\nimport tensorflow as tf\n\n\ndef minmax(x):\n    return (x - x.min()) / (x.max() - x.min())\n\n\n\
               def masked_mean(x, mask):\n    m = tf.cast(mask, tf.float32)\n    return tf.reduce_sum(x * m) / tf.reduce_sum(m)\n";
    let smells = nanlint::engine::check_source(src, &Settings { preview: true, ..Settings::default() });
    let titles: Vec<Vec<&str>> = smells.iter().map(|s| s.fixes.iter().map(|f| f.title.as_str()).collect()).collect();
    assert_eq!(smells.len(), 2, "{titles:?}");
    assert!(titles[0].iter().all(|t| !t.contains("tf.") && !t.contains("divide_no_nan")), "{titles:?}");
    assert_eq!(
        titles[1],
        ["Use `tf.math.divide_no_nan`: 0 where `tf.reduce_sum(m)` is 0", "Raise `tf.reduce_sum(m)` to at least 1"]
    );
}

/// Regression (found by a newcomer run): behind a comment (a licence header, a shebang), the
/// docstring was not taken for one, so a fix's import went on line 1, before the docstring and
/// `from __future__`, where Python refuses it.
#[test]
fn an_import_a_fix_adds_goes_after_a_commented_docstring_and_future_imports() {
    // The function imports `softmax` itself: the fix adds a line (a `from scipy.special
    // import` in the leading block would be joined instead). SciPy is imported at module level
    // too (`stats`): with SciPy imported in the function only, the import would join the
    // function's.
    let src = "# Copyright\n\"\"\"Utilities.\"\"\"\nfrom __future__ import annotations\n\nimport numpy as np\nfrom scipy import stats\n\n\ndef f(z):\n    from scipy.special import softmax\n    return np.log(softmax(z, axis=1)) + stats.norm.pdf(z)\n";
    let out = fix_source(src, &Settings::default(), FixMode::Safe).source;
    assert_ne!(out, src, "the safe fix was applied");
    let future = out.find("from __future__").unwrap();
    let added = out.find("from scipy.special import log_softmax").expect("the import the fix needs");
    assert!(added > future, "the import went before `from __future__`:\n{out}");
    assert!(out.starts_with("# Copyright\n\"\"\"Utilities.\"\"\"\n"), "{out}");
}

/// An epsilon below float16's range is found however it is written, also with no other trigger
/// of any rule in its function: NL304's anchor is a small float literal found by its value, not
/// a set of tokens (`e-8`, `e-1`, ... held neither `1E-10` nor `0.0000000001`, so those were
/// found only when a trigger of another rule within 1,024 bytes put them in a merged range).
#[test]
fn an_epsilon_is_found_however_it_is_written() {
    for eps in ["1E-10", "0.0000000001", "1e-10", "0.000_000_000_1", "1e-050", "5E-60", ".00000001", "1.0e-8"] {
        // Beside a trigger of another rule (the `/` of a division), and alone.
        // After a no-break space, which tree-sitter skips as a space (a review found the
        // literal scanner taking it into a name).
        for body in
            [format!("h / (h.norm(dim=-1, keepdim=True) + {eps}) / 2"), format!("h + {eps}"), format!("h +\u{a0}{eps}")]
        {
            let src = format!("import torch\n\n\ndef tensor_guard(x):\n    h = x.half()\n    return {body}\n");
            let found = check(&src);
            assert!(found.iter().any(|s| s.code == "NL304" && s.span.start.row == 5), "{body}: {found:?}");
        }
    }
    // Not below float16's range, or no number: nothing.
    for eps in ["1e-7", "6e-8", "1e-0", "x1e-10", "0x1e-10"] {
        let src = format!("import torch\n\n\ndef tensor_guard(x):\n    h = x.half()\n    return h + {eps}\n");
        assert!(check(&src).iter().all(|s| s.code != "NL304"), "{eps}");
    }
}

/// A newcomer's trial: in a file that imports NumPy and PyTorch, `(x - x.min()) / (x.max() -
/// x.min())` of an `x` nothing types got PyTorch's `.clamp`, which fails on the NumPy array the
/// script passed. A floor is offered only where the code names the library (or the file has no
/// other).
#[test]
fn a_floor_is_written_in_the_library_the_code_names() {
    let settings = Settings { preview: true, ..Settings::default() };
    let floors = |src: &str| -> Vec<String> {
        let smells = check_source(src, &settings);
        assert_eq!(smells.iter().map(|s| s.code).collect::<Vec<_>>(), ["NL201"], "{src}");
        smells[0].fixes.iter().flat_map(|f| f.edits.iter().map(|e| e.content.clone())).collect()
    };
    let body = "def minmax(x):\n    return (x - x.min()) / (x.max() - x.min())\n";
    assert_eq!(floors(&format!("import numpy as np\nimport torch\n\n{body}")), Vec::<String>::new());
    assert_eq!(floors(&format!("import torch\n\n{body}")), ["(x.max() - x.min()).clamp(min=1e-7)"]);
    assert_eq!(floors(&format!("import numpy as np\n\n{body}")), ["np.maximum(x.max() - x.min(), 1e-7)"]);
    let typed = body.replace("(x):\n", "(x):\n    x = torch.as_tensor(x)\n");
    assert_eq!(
        floors(&format!("import numpy as np\nimport torch\n\n{typed}")),
        ["(x.max() - x.min()).clamp(min=1e-7)"]
    );
    // A dtype names the library too (SAM's stability score in transformers).
    let dtype = "def score(m):\n    return (m > 1).sum(-1) / (m > 0).sum(-1, dtype=torch.int32)\n";
    let fixes = floors(&format!("import numpy as np\nimport torch\n\n{dtype}"));
    assert!(fixes.iter().any(|f| f.ends_with(".clamp(min=1)")), "{fixes:?}");
    assert_eq!(
        floors(&format!("import numpy as np\nimport torch\n\n{}", dtype.replace(", dtype=torch.int32", ""))),
        Vec::<String>::new()
    );
}
