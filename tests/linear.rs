//! Issue 14: the work of an analysis grows in proportion to the input, whatever its shape.
//!
//! Each test analyzes an input and the same input twice as large and compares the work counted
//! by `engine::analyze_counted` (nodes visited, query runs and the bytes they cover, matches,
//! values evaluated, ancestor steps): doubling the input may at most double each count, with
//! some slack. Never wall time. The shapes are those of `benches/pathological.py`, which was
//! quadratic or worse on each of them.

use nanlint::check;
use nanlint::engine::{self, RuleSet, Stats};
use nanlint::settings::Settings;

const HEADER: &str =
    "import numpy as np\n\np = np.maximum(np.random.randn(3), 0.0)\nmask = np.random.rand(3) > 0.5\nn = mask.sum()\n";

/// The stack the analyses run on: rayon's 2 MiB (what `nanlint check` gives each file) in a
/// release build; a debug build's frames are several times larger, and the recursion bounded by
/// `MAX_NESTING` overflows 2 MiB there. Recursion that followed 100,000 levels would overflow
/// either.
const STACK: usize = if cfg!(debug_assertions) { 8 << 20 } else { 2 << 20 };

fn counted(src: &str) -> (Vec<String>, Stats) {
    let src = src.to_string();
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let tree = engine::parse(&src);
            let (smells, stats) = engine::analyze_counted(RuleSet::all(), &src, &tree, &Settings::default());
            (smells.into_iter().map(|s| s.code.to_string()).collect(), stats)
        })
        .unwrap()
        .join()
        .expect("the analysis panicked")
}

/// The counts of `shape(2n)` are at most 2.2 times those of `shape(n)`, plus a little for the
/// header, and the input holds findings (the work is real).
fn doubles_at_most(shape: fn(usize) -> String, n: usize) {
    let (codes, small) = counted(&shape(n));
    let (_, large) = counted(&shape(2 * n));
    assert!(codes.iter().any(|c| c.starts_with("NL1") || c.starts_with("NL2")), "no finding: {codes:?}");
    let fields = |s: &Stats| {
        [
            ("nodes visited", s.nodes_visited),
            ("queries", s.queries),
            ("bytes queried", s.bytes_queried),
            ("matches", s.matches),
            ("values evaluated", s.values_evaluated),
            ("ancestor steps", s.ancestor_steps),
            ("index work", s.index_work),
            ("facts recorded", s.facts_recorded),
            ("nodes walked", s.nodes_walked),
            ("reaching steps", s.reaching_steps),
        ]
    };
    for ((what, a), (_, b)) in fields(&small).into_iter().zip(fields(&large)) {
        assert!(b * 10 <= a * 22 + 2_000, "{what}: {a} for n = {n}, {b} for n = {}\n{small:?}\n{large:?}", 2 * n);
    }
}

/// Past `MAX_NESTING` the nest itself is reported as NL003; the log of 0 before it is the finding
/// that shows the file is still analyzed.
fn nested_logs(n: usize) -> String {
    format!("{HEADER}y = np.log(0)\nx = {}p{}\n", "np.log(".repeat(n), ")".repeat(n))
}

fn one_line(n: usize) -> String {
    format!("{HEADER}x = ({})\n", "np.log(p), ".repeat(n))
}

fn plus_joined(n: usize) -> String {
    format!("{HEADER}x = {}\n", vec!["np.log(p)"; n].join(" + "))
}

fn chained_divisions(n: usize) -> String {
    format!("{HEADER}x = np.log(0)\ny = p.sum(){}\n", " / n".repeat(n))
}

fn functions(n: usize) -> String {
    let f = |i| format!("def f{i}(z):\n    q = torch.exp(z) / torch.exp(z).sum()\n    return torch.log(q)\n\n\n");
    format!("{HEADER}import torch\n\n\n{}", (0..n).map(f).collect::<String>())
}

/// Regression: logs of sigmoid outputs in one function, each in a loss NL101 follows to see
/// which way it pushes the probability. Each asked whether a function nested in the scope reads
/// the name by walking the whole scope: 2,000 (at module level, then followed too) took 22 s,
/// 4,000 85 s.
fn losses_in_one_function(n: usize) -> String {
    let f =
        |i| format!("    p{i} = torch.sigmoid(z)\n    a{i} = torch.log(1 - p{i})\n    d_loss{i} = -torch.mean(a{i})\n");
    format!("import torch\n{HEADER}y = np.log(0)\n\n\ndef step(z):\n{}", (0..n).map(f).collect::<String>())
}

#[test]
fn losses_in_one_function_cost_linear_work() {
    doubles_at_most(losses_in_one_function, 500);
}

#[test]
fn nested_calls_cost_linear_work() {
    doubles_at_most(nested_logs, 1_000);
}

#[test]
fn many_calls_on_one_line_cost_linear_work() {
    doubles_at_most(one_line, 5_000);
}

#[test]
fn a_long_sum_costs_linear_work() {
    doubles_at_most(plus_joined, 1_000);
}

#[test]
fn chained_divisions_cost_linear_work() {
    doubles_at_most(chained_divisions, 1_000);
}

#[test]
fn many_functions_cost_linear_work() {
    doubles_at_most(functions, 1_000);
}

/// Regression (a newcomer's run): modules whose `forward` returns a softmax and functions that
/// give a softmax to a loss taking logits. Each use of the file's loss flows recorded every
/// function's flows as used, and the one model of `nanlint check` kept them all: 2,000 of each
/// took 1 GB, 4,000 about 7 GB.
fn modules_and_losses(n: usize) -> String {
    let f = |i| {
        format!(
            "class Net{i}(nn.Module):\n    def forward(self, x):\n        return F.softmax(self.fc(x), dim=-1)\n\n\n\
             def loss{i}(logits, y):\n    crit = nn.CrossEntropyLoss()\n    return crit(torch.softmax(logits, dim=1), y)\n\n\n"
        )
    };
    let header = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n";
    format!("{header}{}def g(p):\n    return torch.log(torch.softmax(p, -1))\n", (0..n).map(f).collect::<String>())
}

#[test]
fn modules_and_losses_cost_linear_work() {
    doubles_at_most(modules_and_losses, 300);
}

/// Regression (a newcomer's run): each log assigned in one function walked the whole function
/// for its name's later uses; 800 took 3.5 s, 400 took 1.1 s.
fn logs_in_one_function(n: usize) -> String {
    let line = |i| format!("    a{i} = torch.log(torch.exp(z) / torch.exp(z).sum())\n");
    format!("{HEADER}import torch\n\n\ndef f(z):\n{}    return 0\n", (0..n).map(line).collect::<String>())
}

/// Regression: one name assigned a log again and again, each value used once. Each log's later
/// uses were every later use of the name, each asked for its reaching definitions: 2,000 took
/// 21.7 s, 1,000 took 4.9 s.
fn one_name_assigned_logs(n: usize) -> String {
    let line = "    a = torch.log(torch.exp(z) / torch.exp(z).sum())\n    b = a * 2\n";
    format!("{HEADER}import torch\n\n\ndef f(z):\n{}    return b\n", line.repeat(n))
}

#[test]
fn one_name_assigned_many_logs_costs_linear_work() {
    doubles_at_most(one_name_assigned_logs, 400);
}

/// Regression: a loss written as one sum of `n` named logs. The first terms sit `n` levels down
/// the sum, and each log's questions climbed from there: its reaching definitions descended
/// to the smallest node at the use, the walk to the losses climbed the whole sum, the scope and
/// the conditions of every use climbed to the function, and the parents of nodes more than 400
/// levels down were found by a descent from the root each time. 3,200 terms took 9 s, 1,600
/// took 1.3 s.
fn named_terms_of_one_sum(n: usize) -> String {
    let mut src = String::from("import torch\n\n\ndef f(z):\n");
    for i in 0..n {
        src.push_str(&format!("    a{i} = torch.log(torch.sigmoid(z))\n"));
    }
    let terms: Vec<String> = (0..n).map(|i| format!("a{i}.mean()")).collect();
    src.push_str(&format!("    loss = {}\n    loss.backward()\n", terms.join(" + ")));
    src
}

#[test]
fn a_loss_summing_many_named_logs_costs_linear_work() {
    doubles_at_most(named_terms_of_one_sum, 600);
}

/// Regression: softmaxes bound to names and logged in one call's arguments
/// (`g(torch.log(a0), torch.log(a1), ...)`). Each log's fix (NL102) checked that nothing
/// rebinds the name or writes in place between its binding and the log by walking the code
/// between them, past every later binding: 3,200 took 44 s, 1,600 took 11 s.
fn logs_of_named_softmaxes_in_one_call(n: usize) -> String {
    let mut src = String::from("import torch\n\n\ndef f(z):\n");
    for i in 0..n {
        src.push_str(&format!("    a{i} = torch.softmax(z, -1)\n"));
    }
    let logs: Vec<String> = (0..n).map(|i| format!("torch.log(a{i})")).collect();
    src.push_str(&format!("    return g({})\n", logs.join(", ")));
    src
}

#[test]
fn logs_of_named_softmaxes_in_one_call_cost_linear_work() {
    doubles_at_most(logs_of_named_softmaxes_in_one_call, 400);
}

/// Regression: a class of n layers and n methods, each calling its layer and reading two
/// attributes. Each attribute's value walked every method of the class, and each
/// `self.<name>(...)` call looked the method up statement by statement: 1,600 methods took 3.1 s,
/// 3,200 about four times as long.
fn methods_of_one_class(n: usize) -> String {
    let mut src = String::from(
        "import torch\nimport torch.nn as nn\n\n\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n",
    );
    for i in 0..n {
        src.push_str(&format!("        self.a{i} = nn.Linear(4, 4)\n"));
    }
    src.push_str("        self.eps = 0.0\n        self.d = (torch.rand(3) > 0.5).sum()\n");
    for i in 0..n {
        src.push_str(&format!(
            "    def m{i}(self, x):\n        p = torch.softmax(self.a{i}(x), -1)\n        return torch.log(p) / self.d + self.eps\n"
        ));
    }
    src
}

#[test]
fn a_class_of_many_methods_costs_linear_work() {
    doubles_at_most(methods_of_one_class, 200);
}

/// Regression: a loss summing `n` softmaxes bound to names, each passed to a loss of its own
/// (NL301). Each softmax asked every loss of the function whether it received it, following the
/// loss's input to its bindings each time, and walked the function after its assignment for
/// other reads of its name: 1,600 took 18 s, 800 took 4.4 s.
fn softmaxes_into_losses_of_one_sum(n: usize) -> String {
    let mut src = format!("{HEADER}y = np.log(0)\nimport torch\nimport torch.nn.functional as F\n\n\ndef f(z, y):\n");
    for i in 0..n {
        src.push_str(&format!("    s{i} = torch.softmax(z, dim=-1)\n"));
    }
    let terms: Vec<String> = (0..n).map(|i| format!("F.cross_entropy(s{i}, y)")).collect();
    src.push_str(&format!("    loss = {}\n    loss.backward()\n", terms.join(" + ")));
    src
}

#[test]
fn softmaxes_into_many_losses_of_one_sum_cost_linear_work() {
    doubles_at_most(softmaxes_into_losses_of_one_sum, 300);
}

/// Regression: each optimizer built on a module's parameters walked the scope before it for
/// `model.half()` statements; a notebook's module-level code (200 cells) took 0.23 s to check,
/// four times as many cells 2.3 s.
fn optimizers_at_module_level(n: usize) -> String {
    let line = |i| format!("print({i})\nopt{i} = torch.optim.Adam(model.parameters(), lr=1e-3)\n");
    format!(
        "{HEADER}import torch\nw = np.log(p)\nmodel = torch.nn.Linear(4, 4)\nmodel.half()\n{}",
        (0..n).map(line).collect::<String>()
    )
}

#[test]
fn many_optimizers_at_module_level_cost_linear_work() {
    doubles_at_most(optimizers_at_module_level, 400);
}

#[test]
fn many_findings_in_one_function_cost_linear_work() {
    doubles_at_most(logs_in_one_function, 400);
}

/// Regression (a review): the walk from a log to the losses that hold it (`probs::push_of_losses`)
/// followed every use of every name it reached, four names deep: names each used `n` times, each
/// use reaching `n` uses of the next, cost n^5 (`n = 20` took 17 s).
fn names_used_many_times(n: usize) -> String {
    let mut src = String::from("import torch\n\n\ndef f(z, c):\n    x0 = torch.log(1 - torch.sigmoid(z))\n");
    for i in 1..6 {
        src.push_str(&format!("    x{i} = x{}\n", i - 1));
        src.push_str(&format!("    if c:\n        x{i} = x{i} + x{}\n", i - 1).repeat(n));
    }
    src.push_str("    loss = x5.mean()\n    loss.backward()\n");
    src
}

#[test]
fn names_used_many_times_cost_linear_work() {
    doubles_at_most(names_used_many_times, 50);
}

/// Regression: an `if` with `n` branches `elif c == i:`. Each branch held every earlier test as
/// false, its own list of them (n² conditions in all), and each value in a branch read all of
/// its conditions for those about it; 1,600 branches took 1.2 s and 108 MB, 3,200 3.7 s and 371 MB.
fn elif_branches(n: usize) -> String {
    let mut src = String::from("import torch\n\n\ndef f(z, c):\n    if c == 0:\n        x = torch.log(z)\n");
    for i in 1..n {
        src.push_str(&format!("    elif c == {i}:\n        x = torch.log(z + {i})\n"));
    }
    src.push_str("    else:\n        x = torch.log(torch.sigmoid(z))\n    return torch.log(x)\n");
    src
}

#[test]
fn many_elif_branches_cost_linear_work() {
    doubles_at_most(elif_branches, 400);
}

/// Regression: the `elif` branches each assign a log to one name, used once after the `if`.
/// Besides the branches' conditions, each log's later uses scanned the name's later targets
/// (every later branch) and asked what reaches the use after the `if`, which read every
/// branch: 1,600 branches took 17.3 s, 800 3.6 s.
fn elif_branches_assigning_one_name(n: usize) -> String {
    let mut src =
        String::from("import torch\n\n\ndef f(z, c):\n    x = torch.sigmoid(z)\n    if c == 0:\n        w = z / c\n");
    for i in 1..n {
        src.push_str(&format!("    elif c == {i}:\n        w = z / x.sum() + torch.log(x)\n"));
    }
    src.push_str("    return w\n");
    src
}

#[test]
fn elif_branches_assigning_one_name_cost_linear_work() {
    doubles_at_most(elif_branches_assigning_one_name, 200);
}

/// Regression: the `elif` branches each test a different name and divide by it. The branches
/// share their conditions, but the constraints were not indexed by subject: each value in the
/// `k`-th branch read the constraints of all `k - 1` earlier tests to find those about it, and
/// each use of a name scanned the function's `n` parameters for it.
fn elif_branches_testing_each_a_name(n: usize) -> String {
    let params: Vec<String> = (0..n).map(|i| format!("a{i}")).collect();
    let mut src = format!("import torch\n\n\ndef f(z, {}):\n", params.join(", "));
    for i in 0..n {
        let keyword = if i == 0 { "if" } else { "elif" };
        src.push_str(&format!("    {keyword} a{i} > 0:\n        w = torch.log(torch.relu(z)) / a{i}\n"));
    }
    src.push_str("    else:\n        w = z\n    return w\n");
    src
}

#[test]
fn elif_branches_testing_each_a_name_cost_linear_work() {
    doubles_at_most(elif_branches_testing_each_a_name, 400);
}

/// Regression: `if c == i: p = p * 2`, `n` times, then a log of `p`. Each use of `p` is reached
/// by every earlier binding, and for each of them the bypassed `if` statements between it and the
/// use were found by scanning the function's statements and reading each one's condition: n³
/// steps in all; 400 of them took 45 s, 200 7.4 s.
fn ifs_each_rebinding_one_name(n: usize) -> String {
    let mut src = String::from("import torch\n\n\ndef f(z, c):\n    p = torch.softmax(z, -1)\n");
    for i in 0..n {
        src.push_str(&format!("    if c == {i}:\n        p = p * 2\n"));
    }
    src.push_str("    return torch.log(p)\n");
    src
}

#[test]
fn ifs_each_rebinding_one_name_cost_linear_work() {
    doubles_at_most(ifs_each_rebinding_one_name, 100);
}

/// Regression: a `while True:` loop whose `n` `if` branches rebind a name and leave (`break`,
/// `continue`, `return` its log), then a log of it. Each use of the name walked back through
/// every earlier `if` for its reaching bindings (n² statements read), and each statement after
/// an early exit had a list of its own of every earlier exit's condition (n² conditions, each
/// read for its constraints): 1,600 branches ending in `return` took 5.4 s and 171 MB.
fn loop_branches_rebinding_and_leaving(n: usize, exit: &str) -> String {
    let mut src = String::from("import torch\n\n\ndef f(z, c):\n    p = torch.softmax(z, -1)\n    while True:\n");
    for i in 0..n {
        src.push_str(&format!("        if c == {i}:\n            p = p * 2\n            {exit}\n"));
    }
    src.push_str("        p = p + 1\n    return torch.log(p)\n");
    src
}

#[test]
fn loop_branches_rebinding_and_leaving_cost_linear_work() {
    doubles_at_most(|n| loop_branches_rebinding_and_leaving(n, "break"), 100);
    doubles_at_most(|n| loop_branches_rebinding_and_leaving(n, "continue"), 100);
    doubles_at_most(|n| loop_branches_rebinding_and_leaving(n, "return torch.log(p)"), 100);
}

/// Regression: `n` aliases of one module (`import torch as t0` ... `import torch as tn`), each
/// used by a function whose fix spells a torch function. Each spelling asked of every alias of
/// the module whether it holds the import at the fix's site, then ranked those that do: n² such
/// questions; 1,600 aliases took 6.4 s, 800 1.8 s.
fn aliases_of_one_module(n: usize) -> String {
    let imports: String = (0..n).map(|i| format!("import torch as t{i}\n")).collect();
    let f = |i| format!("def f{i}(x):\n    p = t{i}.softmax(x, -1)\n    return t{i}.log(p)\n\n\n");
    format!("{imports}\n\n{}", (0..n).map(f).collect::<String>())
}

#[test]
fn aliases_of_one_module_cost_linear_work() {
    doubles_at_most(aliases_of_one_module, 200);
}

/// A notebook of `n` markdown cells and `n` code cells, each code cell a finding with a fix.
fn notebook_of_cells(n: usize) -> String {
    let cell = |i: usize| {
        let markdown = format!(r#"{{"cell_type": "markdown", "metadata": {{}}, "source": "Step {i}\nSome text."}}"#);
        let code = format!(
            r#"{{"cell_type": "code", "execution_count": null, "metadata": {{}}, "outputs": [], "source": "import torch\ndef f{i}(x):\n    p = torch.softmax(x, -1)\n    return torch.log(p)"}}"#
        );
        format!("{markdown},\n{code}")
    };
    let cells: Vec<String> = (0..n).map(cell).collect();
    format!("{{\"cells\": [\n{}\n], \"metadata\": {{}}, \"nbformat\": 4, \"nbformat_minor\": 5}}\n", cells.join(",\n"))
}

/// The lines of the notebook's program read to keep each fix inside its cell, and the findings.
fn notebook_lines_read(n: usize) -> (usize, usize) {
    let nb = notebook_of_cells(n);
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let before = check::notebook::lines_read();
            let options = check::Options::default();
            let report =
                check::check_bytes(std::path::Path::new("cells.ipynb"), nb.as_bytes(), &Settings::default(), &options);
            (check::notebook::lines_read() - before, report.smells.iter().filter(|s| !s.fixes.is_empty()).count())
        })
        .unwrap()
        .join()
        .expect("the check panicked")
}

/// Regression: a notebook of `n` code cells, each with a finding and its fix. Keeping each fix
/// inside its cell mapped the cells of the whole program, for each fix: n² lines read; 3,200
/// cells (1,600 findings) took 2.3 s, 1,600 0.7 s.
#[test]
fn notebook_cells_cost_linear_work() {
    let (small, found) = notebook_lines_read(200);
    let (large, _) = notebook_lines_read(400);
    assert_eq!(found, 200, "a fix per code cell");
    assert!(large * 10 <= small * 22 + 2_000, "{small} lines read for 200 cells, {large} for 400");
}

/// A named way to nest a log `n` levels deep.
type Nesting = (&'static str, fn(usize) -> String);

/// Deeper than `MAX_NESTING`, each shape gets one NL003 and no stack overflow, on a thread with
/// the 2 MiB stack of rayon's workers (which run `nanlint check`).
#[test]
fn a_hundred_thousand_levels_are_reported_not_followed() {
    let shapes: [Nesting; 12] = [
        ("calls", |n| format!("np.log({}p{})", "np.log(".repeat(n), ")".repeat(n))),
        ("parentheses", |n| format!("{}np.log(0){}", "(".repeat(n), ")".repeat(n))),
        ("lists", |n| format!("{}np.log(0){}", "[".repeat(n), "]".repeat(n))),
        ("negations", |n| format!("{}np.log(0)", "- ".repeat(n))),
        ("nots", |n| format!("{}np.log(0)", "not ".repeat(n))),
        ("attributes", |n| format!("np.log(0){}", ".T".repeat(n))),
        // Regression (a newcomer's run): a chain inside a call a rule reads was resolved
        // through the imports by a recursion, one frame per link; 35,000 overflowed the stack.
        ("attributes in a call", |n| format!("np.log(p{}) + np.log(0)", ".T".repeat(n))),
        ("module attributes in a call", |n| format!("np.log(np{}) + np.log(0)", ".T".repeat(n))),
        ("subscripts", |n| format!("{}np.log(0){}", "p[".repeat(n), "]".repeat(n))),
        ("lambdas", |n| format!("{}np.log(0)", "lambda: ".repeat(n))),
        ("powers", |n| format!("{}np.log(0)", "p ** ".repeat(n))),
        ("divisions", |n| format!("{}p.sum() / n{}", "1 / (".repeat(n), ")".repeat(n))),
    ];
    for (what, shape) in shapes {
        let src = format!("{HEADER}y = np.log(0)\nx = {}\n", shape(100_000));
        let codes = std::thread::Builder::new()
            .stack_size(STACK)
            .spawn(move || check::analyze(&src, &Settings::default()).into_iter().map(|s| s.code).collect::<Vec<_>>())
            .unwrap()
            .join()
            .unwrap_or_else(|_| panic!("{what}: the analysis panicked"));
        assert!(codes.contains(&"NL003"), "{what}: {codes:?}");
        // The statement before the deep one is checked as usual.
        assert!(codes.contains(&"NL101"), "{what}: {codes:?}");
    }
}

/// The depth limit leaves ordinary nesting alone: a log of 0 inside 60 calls is found.
#[test]
fn nesting_below_the_limit_is_checked() {
    let src = format!("{HEADER}x = {}np.log(0){}\n", "f(".repeat(60), ")".repeat(60));
    let (codes, _) = counted(&src);
    assert_eq!(codes, ["NL101"]);
}

/// `check::analyze` (syntax errors included) of `src` on a thread with [`STACK`]: each finding's
/// code, 1-based row and column (in bytes) and message.
fn checked(src: String) -> Vec<(String, usize, usize, String)> {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(move || {
            let smells = check::analyze(&src, &Settings::default());
            smells
                .into_iter()
                .map(|s| (s.code.to_string(), s.span.start.row + 1, s.span.start.column + 1, s.message))
                .collect()
        })
        .unwrap()
        .join()
        .expect("the check panicked (a stack overflow aborts the whole test binary)")
}

/// Regression (a newcomer's run): a statement of 100,000 opening brackets never closed was one
/// NL000 at the start of the file ("Cannot parse `import torch`"), where nothing is wrong. It is
/// reported where Python reports it, at the last bracket opened: `(` was never closed. (The
/// tree is flat, tree-sitter keeps the brackets side by side in one ERROR node, so no NL003.)
#[test]
fn brackets_never_closed_are_reported_at_the_last_one_opened() {
    for (open, n) in [("(", 100_000), ("[", 100_000), ("{", 100_000), ("(", 1)] {
        let src = format!("{HEADER}y = np.log(p + 1)\nx = {}\n", open.repeat(n));
        let found = checked(src);
        assert_eq!(found.len(), 1, "{open} x {n}: {found:?}");
        let (code, row, column, message) = &found[0];
        assert_eq!((code.as_str(), *row, *column), ("NL000", 7, 4 + n), "{open} x {n}: {message}");
        let more = match n {
            1 => String::new(),
            n => format!(" (nor were the {} brackets opened before it)", n - 1),
        };
        assert_eq!(*message, format!("Syntax error: `{open}` was never closed{more}"));
    }
    // Closed ones do not count, whatever their depth: the one left open is the first.
    let src = format!("{HEADER}y = np.log(p + 1)\nx = {}1{}\n", "(".repeat(3_000), ")".repeat(2_999));
    let found = checked(src);
    assert!(found.contains(&("NL000".into(), 7, 5, "Syntax error: `(` was never closed".into())), "{found:?}");
    let found = checked(format!("{HEADER}x = np.log(f(a, [b, c\n"));
    assert_eq!(
        found,
        [(
            "NL000".into(),
            6,
            17,
            "Syntax error: `[` was never closed (nor were the 2 brackets opened before it)".into()
        )]
    );
}

/// Regression (a newcomer's run): a statement nested 100,000 levels deep was reported only when
/// it held a word a rule looks for; around a literal it got no finding at all. Every statement
/// and function of an analyzed file is now looked at, in work that does not grow with the depth
/// of code that is not deep (see `a_deep_statement_without_a_trigger_costs_linear_work`).
#[test]
fn a_deep_statement_is_reported_whatever_it_holds() {
    for (open, close) in [("(", ")"), ("[", "]"), ("-", "")] {
        let src = format!("{HEADER}y = np.log(0)\nx = {}1{}\nz = 2\n", open.repeat(100_000), close.repeat(100_000));
        let found = checked(src);
        let codes: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(codes, ["NL101", "NL003"], "{open}: {found:?}");
        assert_eq!(found[1].1, 7, "{open}: {found:?}");
    }
    // With a syntax error at the bottom: NL003 for the depth and NL000 where the error is, on a
    // 2 MiB stack (finding the error once recursed once per level).
    let src = format!("{HEADER}y = np.log(0)\nx = {}1 +{}\n", "(".repeat(100_000), ")".repeat(100_000));
    let found = checked(src);
    let codes: Vec<&str> = found.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(codes, ["NL101", "NL003", "NL000"], "{found:?}");
    assert_eq!((found[2].1, found[2].2), (7, 4 + 100_000 + 3), "{found:?}");
}

fn deep_literal(n: usize) -> String {
    format!("{HEADER}y = np.log(0)\nx = {}1{}\n", "(".repeat(n), ")".repeat(n))
}

#[test]
fn a_deep_statement_without_a_trigger_costs_linear_work() {
    doubles_at_most(deep_literal, 1_000);
}

/// Looking at every statement for depth skips the subtrees too small to be that deep: on 1,000
/// functions, a small part of the tree is visited.
#[test]
fn the_depth_check_visits_a_small_part_of_a_shallow_file() {
    let src = functions(1_000);
    let nodes = engine::parse(&src).root_node().descendant_count();
    let (_, stats) = counted(&src);
    assert!(stats.nodes_visited * 10 < nodes, "{} of {nodes} nodes visited", stats.nodes_visited);
}

/// The facts the language server's cache keeps after opening `shape(n)`, analyzed by two
/// threads. The count depends on the threads: the functions are analyzed in chunks (up to four
/// per thread), and each chunk computes the file-wide facts it reads, with their lists of
/// sources, once (on 16 threads the 600-pair file keeps about 41,000; benches/README.md).
fn facts_held(shape: fn(usize) -> String, n: usize) -> usize {
    facts_held_on(shape, n, 2)
}

/// [`facts_held`] on a pool of `threads` threads.
fn facts_held_on(shape: fn(usize) -> String, n: usize, threads: usize) -> usize {
    let src = shape(n);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).stack_size(STACK).build().unwrap();
    pool.install(|| {
        let tree = engine::parse(&src);
        let mut cache = engine::UnitCache::default();
        let smells = cache.analyze(&src, &tree, &Settings::default());
        assert!(smells.iter().any(|s| s.code.starts_with("NL1")), "no finding");
        cache.facts_held()
    })
}

/// Regression (issue 14): the language server's cache kept, for each function, every fact it
/// used with the facts that one was computed from, copied: each loss reading the file's loss
/// flows copied all the modules' flows, and the modules-and-losses file of 4,000 pairs held
/// 934 MB once open. A fact's sources are now one list, shared by its users.
#[test]
fn the_servers_cache_keeps_facts_in_proportion_to_the_file() {
    let small = facts_held(modules_and_losses, 300);
    let large = facts_held(modules_and_losses, 600);
    assert!(small > 0, "no fact recorded: the test measures nothing");
    assert!(large * 10 <= small * 22 + 2_000, "{small} facts kept for 300 pairs, {large} for 600");
}

/// Regression (issue 14): the chunks the functions are shared in grew with the threads (four per
/// thread), each keeping its copy of the file-wide facts: 128 copies on 32 threads. They are
/// now at most 8 (`MAX_CHUNKS` in the engine's cache), as many as on two threads.
#[test]
fn the_facts_kept_stop_growing_with_the_threads() {
    let four = facts_held_on(modules_and_losses, 600, 4);
    let many = facts_held_on(modules_and_losses, 600, 32);
    assert!(four > 0, "no fact recorded: the test measures nothing");
    assert!(many * 10 <= four * 11, "{four} facts kept on 4 threads, {many} on 32");
}
