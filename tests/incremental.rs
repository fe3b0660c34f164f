//! Property: after any sequence of incremental edits, the server's text equals the expected text
//! and its findings equal a fresh `check` of that text. This is what lets the server re-analyze
//! only edited functions on each keystroke.
//!
//! One caveat, from tree-sitter rather than from nanlint: while the text has syntax errors, an
//! incremental reparse may recover from them differently than a parse from scratch (both are
//! valid recoveries). In that state the findings must equal a fresh analysis of the server's own
//! tree, which still proves the per-function cache; once the text parses cleanly again, they must
//! equal a fresh parse and check.

use nanlint::engine;
use nanlint::lsp::session::Session;
use nanlint::settings::Settings;
use nanlint::smell::Smell;
use proptest::prelude::*;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

const BASE: &str = "\
import numpy as np
import tensorflow as tf
import torch

EPS = 1e-7


def softmax_loss(logits, y):
    p = tf.nn.softmax(logits)
    return -tf.reduce_sum(y * tf.log(p))


class Model:
    scale = 2.0

    def forward(self, x):
        q = torch.sigmoid(x)
        return torch.log(q) + torch.log(1 - q)

    def safe(self, x):
        return torch.log(x + EPS)


def entropy(c):
    p = c / c.sum()
    return -np.sum(p * np.log(p))


r = np.log(np.clip(v, 1e-7, 1))
";

/// Fragments that exercise what matters: new smells (each log has evidence that its argument
/// reaches 0 where it lands in the right function: a softmax or sigmoid name, a training-time
/// parameter, `x * log(x)`), guards, imports appearing and disappearing, scope changes, broken
/// syntax, multi-byte and astral characters, CRLF, lone CR, NUL.
const FRAGMENTS: &[&str] = &[
    "x",
    " ",
    "\n",
    "\r\n",
    // A lone `\r` ends a line (old Mac line endings), and a NUL byte must cost only itself.
    "\r",
    "p = tf.nn.softmax(z)\r",
    "\0",
    "    ",
    "(",
    ")",
    ":",
    "'",
    "é",
    "概率",
    "🔥",
    "tf.log(p)",
    "np.log(x + 1e-7)",
    "torch.log(q)",
    " + EPS",
    "import torch\n",
    "import jax.numpy as jnp\n",
    "from torch import log as tlog\n",
    "def g(z):\n    p = torch.softmax(z, -1)\n    return tlog(p)\n",
    "p = torch.clamp(p, min=1e-7)\n    ",
    "p = tf.nn.softmax(z)\n",
    "  # noqa",
    "  # noqa: NL101",
    "class C:\n    def call(self, v):\n        return jnp.log(v)\n",
    "torch.log(torch.softmax(x, -1))",
    "q = torch.sigmoid(x)\n        ",
    "p * np.log(p)",
    ".clamp(min=1e-7)",
    // API contracts (issue 10): losses, producers in other functions, dtypes.
    "import torch.nn as nn\n",
    "criterion = nn.CrossEntropyLoss()\n",
    "torch.softmax(x, dim=1)",
    "criterion(q, y)",
    "class N(nn.Module):\n    def forward(self, x):\n        return torch.softmax(x, 1)\n",
    "def step(model, x, y):\n    return criterion(model(x), y)\n",
    ".half()",
    " + 1e-10",
    // Epsilons no token spells (NL304's anchor is their value).
    " + 1E-10",
    "0.000000001",
    // Import edits that keep the table's modules (an alias added or renamed): the cache keeps
    // the functions that name none of the changed names.
    "import numpy as npx\n",
    " as nq",
    // Expressions outside functions that bind and call nothing (the server moves the
    // functions' findings and analyzes only the code outside them): a later use of a name,
    // the name a fix would take, an attribute of a class.
    "\nv\n",
    "x.y[0] + 1 > z\n",
    "logits",
    "\n    scale * 2\n",
];

/// Whole lines put at the start of a line: expressions that bind and call nothing (which the
/// server analyzes without checking the functions, `UnitCache::reanalyze_loose_edit`), at
/// module level, in a class body or (indented deeper) in a function, and some that bind or
/// call, for contrast.
const LINES: &[&str] = &[
    "x\n",
    "v\n",
    "p\n",
    "logits\n",
    "EPS * 2\n",
    "    scale\n",
    "    self.scale * 2 > EPS\n",
    "        q[0] + 1\n",
    "\n",
    // A form feed: Python resets the indentation count at it (a regression of the shortcut,
    // which kept the old column of a finding on a one-line `def` after it).
    "\x0c",
    "y = 1\n",
    "p = tf.nn.softmax(z)\n",
    "    eps = 1e-7\n",
];

#[derive(Clone, Debug)]
enum Op {
    Insert {
        at: usize,
        fragment: usize,
    },
    Delete {
        at: usize,
        len: usize,
    },
    /// [`LINES`]`[fragment]` put at the start of line `line` (modulo the lines there are).
    Line {
        line: usize,
        fragment: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<usize>(), 0..FRAGMENTS.len()).prop_map(|(at, fragment)| Op::Insert { at, fragment }),
        2 => (any::<usize>(), 1usize..12).prop_map(|(at, len)| Op::Delete { at, len }),
    ]
}

/// The LSP position (UTF-16 or UTF-8 units) of char index `at`, computed independently of the
/// server's own conversion module.
fn position(chars: &[char], at: usize, utf8: bool) -> Position {
    let mut line = 0u32;
    let mut character = 0u32;
    let mut i = 0;
    while i < at {
        match chars[i] {
            '\r' if chars.get(i + 1) == Some(&'\n') && i + 1 < at => {
                line += 1;
                character = 0;
                i += 1;
            }
            '\n' | '\r' => {
                line += 1;
                character = 0;
            }
            c => character += if utf8 { c.len_utf8() } else { c.len_utf16() } as u32,
        }
        i += 1;
    }
    Position { line, character }
}

/// Char ranges must not split a CRLF pair (LSP has no position between `\r` and `\n`).
fn snap(chars: &[char], at: usize) -> usize {
    if at > 0 && at < chars.len() && chars[at - 1] == '\r' && chars[at] == '\n' { at - 1 } else { at }
}

fn run(ops: &[Op], batch: usize) -> Result<(), TestCaseError> {
    let session = Session::default();
    let uri: Uri = "file:///virtual/model.py".parse().unwrap();
    session.open(uri.clone(), 1, BASE.to_string());
    let mut chars: Vec<char> = BASE.chars().collect();
    let mut version = 1;
    for group in ops.chunks(batch) {
        let mut changes = Vec::new();
        for op in group {
            let (start, end, text) = match op {
                Op::Insert { at, fragment } => {
                    let at = snap(&chars, at % (chars.len() + 1));
                    (at, at, FRAGMENTS[*fragment])
                }
                Op::Delete { at, len } => {
                    let start = snap(&chars, at % (chars.len() + 1));
                    let end = snap(&chars, (start + len).min(chars.len()));
                    (start, end, "")
                }
                Op::Line { line, fragment } => {
                    let starts: Vec<usize> = std::iter::once(0)
                        .chain((0..chars.len()).filter(|&i| chars[i] == '\n').map(|i| i + 1))
                        .collect();
                    (starts[line % starts.len()], starts[line % starts.len()], LINES[*fragment])
                }
            };
            changes.push(TextDocumentContentChangeEvent {
                range: Some(Range { start: position(&chars, start, false), end: position(&chars, end, false) }),
                range_length: None,
                text: text.to_string(),
            });
            chars.splice(start..end, text.chars());
        }
        version += 1;
        session.change(&uri, version, changes);
        let expected: String = chars.iter().collect();
        agrees(&session, &uri, version, &expected)?;
    }
    Ok(())
}

/// The session's text is `expected`, and its findings those of a fresh analysis of its own
/// tree, and of a fresh parse when neither has a syntax error.
fn agrees(session: &Session, uri: &Uri, version: i32, expected: &str) -> Result<(), TestCaseError> {
    {
        let text = session.text(uri).unwrap();
        prop_assert_eq!(&text, &expected);
        let (incremental, of_own_tree, broken) = session
            .with_doc(uri, |d| {
                let own = if engine::might_smell(&d.text) {
                    engine::analyze(&d.text, d.tree(), &Settings::default())
                } else {
                    Vec::new()
                };
                (d.smells.clone(), own, d.tree().root_node().has_error())
            })
            .unwrap();
        prop_assert_eq!(
            &incremental,
            &of_own_tree,
            "cache differs; after version {} the text is:\n{}",
            version,
            expected
        );
        let fresh_tree = engine::parse(expected);
        if !broken && !fresh_tree.root_node().has_error() {
            let fresh = engine::check_source(expected, &Settings::default());
            prop_assert_eq!(incremental, fresh, "after version {} the text is:\n{}", version, expected);
        }
    }
    Ok(())
}

proptest! {
    // The timeout (20 s, far above what a case takes; it runs the cases in a subprocess) turns a
    // hang into a failing, shrunk case.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("NANLINT_PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(1500),
        timeout: 20_000,
        max_shrink_time: 180_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn one_change_per_notification(ops in prop::collection::vec(op(), 1..25)) {
        run(&ops, 1)?;
    }

    /// Lines typed between statements, the characters of some deleted, `x` typed anywhere.
    #[test]
    fn lines_typed_between_statements(ops in prop::collection::vec(prop_oneof![
        3 => (any::<usize>(), 0..LINES.len()).prop_map(|(line, fragment)| Op::Line { line, fragment }),
        2 => (any::<usize>(), 1usize..3).prop_map(|(at, len)| Op::Delete { at, len }),
        1 => any::<usize>().prop_map(|at| Op::Insert { at, fragment: 0 }),
    ], 1..20)) {
        run(&ops, 1)?;
    }

    #[test]
    fn several_changes_per_notification(ops in prop::collection::vec(op(), 1..25), batch in 2usize..5) {
        run(&ops, batch)?;
    }

    /// Facts one function gives others (an attribute set in `__init__`, a method's or a
    /// function's summary) changed by edits inside functions, each a value put in one of
    /// [`SLOTS`]' places (and a class's bases, which decide the methods it inherits): the server
    /// analyzes the edited function and those that used a changed fact.
    #[test]
    fn facts_between_functions_follow_edits_inside_them(
        edits in prop::collection::vec((0..SLOTS.len(), any::<usize>()), 1..20)
    ) {
        slot_edits(&edits)?;
    }

    /// Import edits that bind the same modules under other names ([`RENAMED`]): aliases swapped
    /// between two import lines, or one taking an unused name. The server keeps the functions
    /// and facts that name none of the changed names.
    #[test]
    fn renames_follow_the_modules_names_stand_for(ops in prop::collection::vec((0usize..4, 0usize..5), 1..12)) {
        renames(&ops)?;
    }
}

/// A module whose functions read each other's facts (a class's methods its base's): `{N}` is
/// [`SLOTS`]`[N]`'s place.
const FACTS: &str = "\
import torch
import torch.nn as nn

EPS = 1e-6


class Head(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.eps = {0}
        self.scale = {1}

    def floor(self):
        return {2}

    def forward(self, x):
        p = torch.softmax(x, dim=-1)
        return torch.log(p + {3})

    def loss(self, x, y):
        return -(y * torch.log({4})).sum()


def helper(x):
    return {5}


def other(x):
    return torch.log(helper(x) + {6})


class Tail({7}):
    def forward(self, x):
        return torch.log(self.floor()) * x + torch.log(x.abs() + self.eps)
";

/// Per place: the text just before it, and the values it takes (the first is the initial one).
const SLOTS: &[(&str, &[&str])] = &[
    ("self.eps = ", &["1e-6", "0.0", "EPS", "dim", "1e-6x", "self.scale"]),
    ("self.scale = ", &["1.0", "0.0", "EPS * 0", "1e-3"]),
    ("def floor(self):\n        return ", &["self.eps", "self.scale", "0.0", "1e-6", "self.eps * 0", "self.floor()"]),
    ("torch.log(p + ", &["self.eps", "self.floor()", "0.0", "1e-6", "self.scale", "EPS"]),
    ("y * torch.log(", &["self.forward(x)", "torch.softmax(x, -1)", "x", "self.floor() + x", "helper(x)"]),
    ("def helper(x):\n    return ", &["x", "torch.softmax(x, -1)", "torch.sigmoid(x)", "x * 0", "torch.relu(x)"]),
    ("torch.log(helper(x) + ", &["1.0", "0.0", "EPS"]),
    // The methods `Tail` inherits: `floor` and `forward` from `Head`, or none.
    ("class Tail(", &["Head", "nn.Module", "nn.Module, Head", "Tail"]),
];

fn slot_edits(edits: &[(usize, usize)]) -> Result<(), TestCaseError> {
    let mut values: Vec<&str> = SLOTS.iter().map(|(_, v)| v[0]).collect();
    let mut text = FACTS.to_string();
    for (i, v) in values.iter().enumerate() {
        text = text.replace(&format!("{{{i}}}"), v);
    }
    let session = Session::default();
    let uri: Uri = "file:///virtual/facts.py".parse().unwrap();
    session.open(uri.clone(), 1, text.clone());
    agrees(&session, &uri, 1, &text)?;
    for (n, &(slot, pick)) in edits.iter().enumerate() {
        let (before, choices) = SLOTS[slot];
        let new = choices[pick % choices.len()];
        let start = text.find(before).expect("the place") + before.len();
        let end = start + values[slot].len();
        let chars: Vec<char> = text.chars().collect();
        let at = |byte: usize| position(&chars, text[..byte].chars().count(), false);
        let change = TextDocumentContentChangeEvent {
            range: Some(Range { start: at(start), end: at(end) }),
            range_length: None,
            text: new.to_string(),
        };
        let version = n as i32 + 2;
        session.change(&uri, version, vec![change]);
        text.replace_range(start..end, new);
        values[slot] = new;
        agrees(&session, &uri, version, &text)?;
    }
    Ok(())
}

/// A module whose classes and functions read values through the aliases of its four import
/// lines: `numpy`'s `np.zeros(1)` is an epsilon of 0, `torch.softmax` a softmax. What they
/// resolve to, and the findings, depend on which module each name stands for.
const RENAMED: &str = "
EPS = np.zeros(1)


class Head(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.eps = np.zeros(1)
        self.act = nn.Softmax(dim=-1)
        self.floor = F.relu(torch.zeros(1))

    def probs(self, x):
        return F.softmax(x, dim=-1)

    def forward(self, x):
        p = torch.softmax(x, dim=-1)
        return torch.log(p + self.eps)

    def other(self, x):
        return torch.log(self.probs(x) + self.floor)


def helper(x):
    return F.softmax(x, dim=-1)


def entropy(z):
    p = torch.softmax(z, -1)
    return torch.log(p + EPS)


def logp(x):
    return torch.log(helper(x))
";

/// The modules of [`RENAMED`]'s import lines, and the names they may be imported as.
const MODULES: [&str; 4] = ["numpy", "torch", "torch.nn", "torch.nn.functional"];
const ALIASES: [&str; 5] = ["np", "torch", "nn", "F", "th"];

/// Each op `(i, j)`: line `i` swaps its alias with line `j`, or takes the unused name (`j`
/// 4), the import lines replaced as one change.
fn renames(ops: &[(usize, usize)]) -> Result<(), TestCaseError> {
    let header = |aliases: &[&str; 4]| -> String {
        MODULES.iter().zip(aliases).map(|(m, a)| format!("import {m} as {a}\n")).collect()
    };
    let mut aliases = ["np", "torch", "nn", "F"];
    let mut text = format!("{}{RENAMED}", header(&aliases));
    let session = Session::default();
    let uri: Uri = "file:///virtual/renamed.py".parse().unwrap();
    session.open(uri.clone(), 1, text.clone());
    agrees(&session, &uri, 1, &text)?;
    prop_assert!(!session.with_doc(&uri, |d| d.smells.is_empty()).unwrap(), "the first text has findings to lose");
    for (n, &(i, j)) in ops.iter().enumerate() {
        let old = header(&aliases);
        match j {
            4 => aliases[i] = ALIASES.into_iter().find(|a| !aliases.contains(a)).unwrap(),
            j => aliases.swap(i, j),
        }
        let new = header(&aliases);
        let end = old.lines().count() as u32;
        let change = TextDocumentContentChangeEvent {
            range: Some(Range { start: Position { line: 0, character: 0 }, end: Position { line: end, character: 0 } }),
            range_length: None,
            text: new.clone(),
        };
        let version = n as i32 + 2;
        session.change(&uri, version, vec![change]);
        text.replace_range(..old.len(), &new);
        agrees(&session, &uri, version, &text)?;
    }
    Ok(())
}

/// Opens `src` in a session, inserts `text` at `at` (UTF-16 columns) as one change, and returns
/// the session's findings after it beside those of a whole-file analysis of its text and tree.
fn insert_once(name: &str, src: &str, at: Position, text: &str) -> (Vec<Smell>, Vec<Smell>) {
    let session = Session::default();
    let uri: Uri = format!("file:///virtual/{name}").parse().unwrap();
    session.open(uri.clone(), 1, src.to_string());
    let change = TextDocumentContentChangeEvent {
        range: Some(Range { start: at, end: at }),
        range_length: None,
        text: text.to_string(),
    };
    session.change(&uri, 2, vec![change]);
    session.with_doc(&uri, |d| (d.smells.clone(), engine::analyze(&d.text, d.tree(), &Settings::default()))).unwrap()
}

/// Regression (found by the property test): in broken code a statement can follow a function on
/// the function's last line; after an edit in the function, a finding in that statement kept its
/// column while its byte moved, so the editor underlined the wrong characters.
#[test]
fn a_finding_after_an_edit_on_the_same_line_moves_its_column() {
    let src = "import numpy as np\nimport torch\n\n\ndef entropy(c):  p = c / c.sutorch.softmax(x, dim=1)m()p * np.log(p)\n    return -np.sum(p * np.log(p))\n";
    let line = 4;
    let column = "def entropy(c):  p = c / c.sutor".len() as u32;
    let (incremental, own) = insert_once("same_line.py", src, Position { line, character: column }, "🔥");
    let on_the_line: Vec<_> = own.iter().filter(|s| s.span.start.row == line as usize).collect();
    assert!(!on_the_line.is_empty(), "the fixture has a finding after the edit on its line: {own:#?}");
    assert_eq!(incremental, own);
}

/// An epsilon typed into a function with no other trigger of any rule, written so that no token
/// spells it (`1E-10`): the function is analyzed again and NL304 found, as a fresh check finds it.
/// The function was kept with no findings while the triggers were tokens (`e-1`, `e-8`, ...).
#[test]
fn an_epsilon_typed_alone_in_a_function_is_found() {
    let src = "import torch\n\n\ndef guard(x):\n    h = x.half()\n    return h\n";
    for eps in [" + 1E-10", " + 0.0000000001"] {
        let at = Position { line: 5, character: "    return h".len() as u32 };
        let (incremental, own) = insert_once("eps_alone.py", src, at, eps);
        assert!(own.iter().any(|s| s.code == "NL304"), "{eps}: {own:#?}");
        assert_eq!(incremental, own);
    }
}

/// Regression (found by the property test): a file that starts with a function, its imports
/// further down. A new import goes at the top with the first line's ending (its two blank lines
/// before the `def` too); an edit inside that
/// function that made the line end in `\r\n` left the other functions' fixes adding
/// `from scipy.special import xlogy\n`, where a fresh check writes `\r\n`.
#[test]
fn an_edit_of_the_first_line_ending_reaches_the_fixes_that_add_imports() {
    let src = "def step(model, x):\n    return model(x)\n\n\nimport numpy as np\n\n\ndef entropy(c):\n    p = c / c.sum()\n    return -np.sum(p * np.log(p))\n";
    let at = Position { line: 0, character: "def step(model, x):".len() as u32 };
    let (incremental, own) = insert_once("first_line.py", src, at, "\r");
    let adds_import = |smells: &[Smell]| {
        smells
            .iter()
            .flat_map(|s| &s.fixes)
            .flat_map(|f| &f.edits)
            .any(|e| e.content == "from scipy.special import xlogy\r\n\r\n\r\n")
    };
    assert!(adds_import(&own), "the fixture has a fix that adds an import with the new line ending: {own:#?}");
    assert_eq!(incremental, own);
}

#[test]
fn the_position_reference_counts_utf16_units() {
    let chars: Vec<char> = "a🔥b\r\n概c".chars().collect();
    assert_eq!(position(&chars, 2, false), Position { line: 0, character: 3 });
    assert_eq!(position(&chars, 2, true), Position { line: 0, character: 5 });
    assert_eq!(position(&chars, 5, false), Position { line: 1, character: 0 });
    assert_eq!(position(&chars, 7, true), Position { line: 1, character: 4 });
}

#[test]
fn the_base_document_has_findings_to_lose_and_keep() {
    // The property is only meaningful if edits can change findings.
    assert_eq!(engine::check_source(BASE, &Settings::default()).len(), 4);
}

/// Opening a file, or an edit that changes its imports, analyzes every function again; with many
/// functions that work is shared among threads. The findings must be those of one whole-file
/// pass, in the same order, before and after such an edit and after an edit inside a function.
#[test]
fn many_functions_analyzed_on_several_threads_give_the_same_findings() {
    let mut src = String::from("import numpy as np\nimport torch\n\nEPS = 1e-7\n\n");
    for i in 0..300 {
        let body = match i % 5 {
            0 => "    p = torch.softmax(x, dim=-1)\n    return -(y * torch.log(p)).sum()\n".to_string(),
            1 => "    return np.log(x + 1e-7)\n".to_string(),
            2 => format!("    z = np.abs(x) * {i}\n    return np.log(z)  # noqa: NL101\n"),
            3 => "    q = torch.sigmoid(x)\n    return torch.log(q) + torch.log(1 - q)\n".to_string(),
            _ => format!("    return x.sum() * {i}\n"),
        };
        src.push_str(&format!("def f{i}(x, y):\n{body}\n\n"));
    }
    let whole = |text: &str| engine::check_source(text, &Settings::default());
    let session = Session::default();
    let uri: Uri = "file:///virtual/many.py".parse().unwrap();
    session.open(uri.clone(), 1, src.clone());
    let smells = |s: &Session| s.with_doc(&uri, |d| d.smells.clone()).unwrap();
    let expected = whole(&src);
    assert_eq!(expected.len(), 60 + 120, "softmax logs once, sigmoid logs twice per function");
    assert_eq!(smells(&session), expected);

    // An import edit: every function is analyzed again.
    let at = |line: u32, character: u32| Position { line, character };
    let edit = |start: Position, end: Position, text: &str| TextDocumentContentChangeEvent {
        range: Some(Range { start, end }),
        range_length: None,
        text: text.to_string(),
    };
    session.change(&uri, 2, vec![edit(at(0, 0), at(0, 0), "import math\n")]);
    let src = format!("import math\n{src}");
    assert_eq!(session.text(&uri).unwrap(), src);
    assert_eq!(smells(&session), whole(&src));

    // An edit inside one function guards its log; the others only move.
    let line = src.lines().position(|l| l == "    return -(y * torch.log(p)).sum()").unwrap() as u32;
    let column = "    return -(y * torch.log(".len() as u32;
    session.change(&uri, 3, vec![edit(at(line, column), at(line, column + 1), "p + EPS")]);
    let text = session.text(&uri).unwrap();
    assert!(text.contains("torch.log(p + EPS)"), "{}", &text[..400]);
    assert_eq!(smells(&session), whole(&text));
    assert_eq!(smells(&session).len(), expected.len() - 1);
}

/// Replaces the one occurrence of `old` in the document with `new`, as an editor would send it
/// (ASCII text: columns are bytes).
fn replace(session: &Session, uri: &Uri, version: i32, old: &str, new: &str) -> String {
    let text = session.text(uri).unwrap();
    assert_eq!(text.matches(old).count(), 1, "{old:?} must occur once");
    let start = text.find(old).unwrap();
    let at = |byte: usize| {
        let before = &text[..byte];
        let line = before.matches('\n').count() as u32;
        let character = (byte - before.rfind('\n').map_or(0, |i| i + 1)) as u32;
        Position { line, character }
    };
    let change = TextDocumentContentChangeEvent {
        range: Some(Range { start: at(start), end: at(start + old.len()) }),
        range_length: None,
        text: new.to_string(),
    };
    session.change(uri, version, vec![change]);
    let updated = session.text(uri).unwrap();
    assert_eq!(updated, text.replacen(old, new, 1));
    updated
}

/// API contracts (issue 10): a finding in one function whose evidence lies in another (the
/// softmax a module's `forward` returns, the loss a training step computes on its calls), and
/// dtypes a file-wide setting decides. Edits inside one function take the server's
/// single-function path; the findings must be those of a fresh check after every edit.
#[test]
fn findings_whose_evidence_is_in_another_function_follow_edits_there() {
    let src = "\
import torch.nn as nn
import torch.nn.functional as F
import tensorflow as tf
from tensorflow import keras


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)


criterion = nn.CrossEntropyLoss()


def step(model, x, y):
    return criterion(model(x), y)


def other(x):
    return x


class Embed(keras.layers.Layer):
    def call(self, inputs):
        return inputs / (tf.norm(inputs) + 1e-12)


def main():
    pass
";
    // NL303 is a preview rule: every rule runs here.
    let session = Session::default();
    assert!(session.set_client_settings(&serde_json::json!({"preview": true})).is_empty());
    let uri: Uri = "file:///virtual/flows.py".parse().unwrap();
    session.open(uri.clone(), 1, src.to_string());
    let codes = |s: &Session| -> Vec<String> {
        s.with_doc(&uri, |d| d.smells.iter().map(|x| x.code.to_string()).collect()).unwrap()
    };
    let check = |s: &Session, text: &str, expected: &[&str]| {
        let fresh = engine::check_source(text, &Settings { preview: true, ..Settings::default() });
        let cached = s.with_doc(&uri, |d| d.smells.clone()).unwrap();
        assert_eq!(cached, fresh, "cache differs from a fresh check of:\n{text}");
        assert_eq!(codes(s), expected, "{text}");
    };
    check(&session, src, &["NL301"]);
    // The training step stops computing a cross-entropy: the softmax in `forward` is fine.
    let text = replace(&session, &uri, 2, "criterion(model(x), y)", "(model(x) - y).abs().mean()");
    check(&session, &text, &[]);
    // Another function, which mentioned no loss, starts to compute one on the model's output.
    let text = replace(&session, &uri, 3, "    return x\n", "    return criterion(MLP()(x), x)\n");
    check(&session, &text, &["NL301"]);
    // ... and stops again.
    let text = replace(&session, &uri, 4, "criterion(MLP()(x), x)", "MLP()(x)");
    check(&session, &text, &[]);
    // Back in the step, a loss that expects log-probabilities: NL303 at its call.
    let text = replace(&session, &uri, 5, "(model(x) - y).abs().mean()", "F.nll_loss(model(x), y)");
    check(&session, &text, &["NL303"]);
    // `forward` returns log-probabilities: nothing to report.
    let text = replace(&session, &uri, 6, "F.softmax(self.fc(x), dim=1)", "F.log_softmax(self.fc(x), dim=1)");
    check(&session, &text, &[]);
    // A function sets a mixed-precision policy: the layer's epsilon now meets float16.
    let text = replace(
        &session,
        &uri,
        7,
        "def main():\n    pass\n",
        "def main():\n    keras.mixed_precision.set_global_policy(\"mixed_float16\")\n",
    );
    check(&session, &text, &["NL304"]);
    let text = replace(&session, &uri, 8, "\"mixed_float16\"", "\"float32\"");
    check(&session, &text, &[]);
}

/// A file that names no loss taking logits skips following its softmaxes; typing one into another
/// function must bring back the finding in the function already checked.
#[test]
fn a_loss_typed_into_another_function_reaches_a_checked_softmax() {
    let src = "\
import torch.nn as nn
import torch.nn.functional as F


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return F.softmax(self.fc(x), dim=1)


def other(x, y):
    return x
";
    let session = Session::default();
    let uri: Uri = "file:///virtual/typed_loss.py".parse().unwrap();
    session.open(uri.clone(), 1, src.to_string());
    let check = |s: &Session, text: &str, expected: &[&str]| {
        let fresh = engine::check_source(text, &Settings::default());
        let cached = s.with_doc(&uri, |d| d.smells.clone()).unwrap();
        assert_eq!(cached, fresh, "cache differs from a fresh check of:\n{text}");
        assert_eq!(cached.iter().map(|x| x.code).collect::<Vec<_>>(), expected, "{text}");
    };
    check(&session, src, &[]);
    let text = replace(&session, &uri, 2, "    return x\n", "    return nn.CrossEntropyLoss()(MLP()(x), y)\n");
    check(&session, &text, &["NL301"]);
}

/// A name whose value depends on itself (`p = clamp(p, ...)` with no other binding) makes a
/// cycle; the model reads the member it meets twice as unknown, so a value computed inside a
/// cycle depends on which member was asked first. The per-function cache analyzes functions in
/// another order than a whole-file pass (cached ones not at all): both must give the same
/// findings. Found by `one_change_per_notification` (the text below is its case, reduced line by
/// line): the broken `entropy`, analyzed with the module code after the functions, lost its
/// finding.
#[test]
fn findings_do_not_depend_on_the_order_functions_are_analyzed_in() {
    let src = "\
import numpy as np
import tensorflow as tf
import torch
EPS = 1ep é= torch.clamp(p, min=1e-7)
    p = tf.nn.softmap = torch.clamp(p, min=1e-7)
    re-tf.reduce_sum(y * tf.log(p))
    def forward(self, x):
        return torch.log(x + EPS)
def entropy(c):
    return -np.sum(p * np.log(p))(
";
    let tree = engine::parse(src);
    let whole = engine::analyze(src, &tree, &Settings::default());
    let mut cache = nanlint::engine::UnitCache::default();
    let per_function = cache.analyze(src, &tree, &Settings::default());
    assert_eq!(per_function, whole);
    // And again, now from the cache.
    assert_eq!(cache.analyze(src, &tree, &Settings::default()), whole);
}

/// The server keeps the facts of one analysis for the next (an attribute's value, a summary)
/// and reuses a fact while the definition it comes from is unchanged and the facts it used hash
/// as before. Here the class never changes, but the module-level name its attribute is set from
/// does, and edits at module and class level (syntax errors among them) take the whole-file
/// path: the findings must be those of a fresh check after every edit.
#[test]
fn facts_kept_between_analyses_follow_the_names_they_were_computed_from() {
    let src = "\
import torch
import torch.nn as nn

EPS = 1e-6


class Head(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Linear(dim, dim)
        self.eps = EPS

    def forward(self, x):
        probs = torch.softmax(self.proj(x), dim=-1)
        return torch.log(probs + self.eps)


class Tail(nn.Module):
    def forward(self, x):
        return x
";
    let (session, uri) = open("prior.py", src);
    let check = |text: &str, expected: usize| fresh_and_counted(&session, &uri, text, expected);
    check(src, 0);
    // A class-level line that is a syntax error, then removed: nothing changes.
    let text = replace(
        &session,
        &uri,
        2,
        "\n    def forward(self, x):\n        probs",
        "\nx\n    def forward(self, x):\n        probs",
    );
    check(&text, fresh_count(&text));
    let text = replace(
        &session,
        &uri,
        3,
        "\nx\n    def forward(self, x):\n        probs",
        "\n    def forward(self, x):\n        probs",
    );
    check(&text, 0);
    // The module-level epsilon becomes 0: `Head`'s text is unchanged, its attribute is not.
    let text = replace(&session, &uri, 4, "EPS = 1e-6", "EPS = 0.0");
    check(&text, 1);
    // A module-level edit elsewhere keeps the (now reused) facts.
    let text = replace(&session, &uri, 5, "        return x\n", "        return x * 2\n");
    check(&text, 1);
    // Back to a positive epsilon, through a class-level edit in `Head` (a class attribute).
    let text = replace(&session, &uri, 6, "EPS = 0.0", "EPS = 1e-6");
    check(&text, 0);
    let text = replace(&session, &uri, 7, "class Head(nn.Module):\n", "class Head(nn.Module):\n    scale = 2\n");
    check(&text, 0);
    let text = replace(&session, &uri, 8, "        self.eps = EPS\n", "        self.eps = EPS * 0\n");
    check(&text, 1);
}

/// An import edit that binds the same modules under other names keeps the facts of the last
/// analysis but those computed from a definition that names a changed name: here `np` comes to
/// stand for `torch.nn`, so `Head`'s epsilon is no longer `numpy.zeros(1)`, though `Head`'s text
/// and the facts its attribute used are as they were (and `forward`, which names neither
/// alias, is a cached function the rename keeps).
#[test]
fn facts_kept_across_a_rename_follow_the_names_it_binds_otherwise() {
    let src = "\
import torch
import torch.nn as nn
import numpy as np


class Head(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.eps = np.zeros(1)

    def forward(self, x):
        p = torch.softmax(x, dim=-1)
        return torch.log(p + self.eps)


def entropy(c):
    return -(c * torch.log(c + 1e-7)).sum()
";
    let (session, uri) = open("rebound.py", src);
    let check = |text: &str, expected: usize| fresh_and_counted(&session, &uri, text, expected);
    check(src, 1);
    let swapped = "import torch.nn as np\nimport numpy as nn\n";
    let text = replace(&session, &uri, 2, "import torch.nn as nn\nimport numpy as np\n", swapped);
    check(&text, 0);
    let text = replace(&session, &uri, 3, swapped, "import torch.nn as nn\nimport numpy as np\n");
    check(&text, 1);
    // A rename no definition names: every fact is kept.
    let text = replace(&session, &uri, 4, "import torch\n", "import torch\nimport numpy as npx\n");
    check(&text, 1);
}

/// A finding of a cached function whose related location is in another function (where a
/// summary's callee logs its parameter) follows edits between the two: the cached function was
/// moved by its own shift, its related location with it or not at all (found by a review's
/// differential test of import renames; the related location kept its old bytes and row).
#[test]
fn a_related_location_in_another_function_follows_edits_between_them() {
    let body = "

def mylog(t):
    return torch.log(t)


def entropy_loss(x):
    p = torch.softmax(x, dim=-1)
    return mylog(p)
";
    let src = format!("import torch\nimport numpy as np\nEPS = 1\n{body}");
    let (session, uri) = open("related.py", &src);
    let check = |text: &str| fresh_and_counted(&session, &uri, text, 1);
    let smells = engine::check_source(&src, &Settings::default());
    let callee = src.find("def mylog").unwrap()..src.find("def entropy_loss").unwrap();
    assert!(
        smells.iter().any(|s| s.related.as_ref().is_some_and(|r| callee.contains(&r.span.start_byte))),
        "the finding's related location is in `mylog`: {smells:#?}"
    );
    check(&src);
    let text = replace(&session, &uri, 2, "import numpy as np\n", "import numpy as npx\n");
    check(&text);
    let text = replace(&session, &uri, 3, "EPS = 1\n", "EPS = 10\n");
    check(&text);
    let text = replace(&session, &uri, 4, "import torch\n", "# a comment\nimport torch\n");
    check(&text);
    // The callee below the caller, a module-level line between them.
    let below = "import torch\n\n\ndef entropy_loss(x):\n    p = torch.softmax(x, dim=-1)\n    return mylog(p)\n\nEPS = 1\n\ndef mylog(t):\n    return torch.log(t)\n";
    let (session, uri) = open("related_below.py", below);
    fresh_and_counted(&session, &uri, below, 1);
    let text = replace(&session, &uri, 2, "EPS = 1\n", "EPS = 10\n");
    fresh_and_counted(&session, &uri, &text, 1);
}

/// A session with `src` open as `name`.
fn open(name: &str, src: &str) -> (Session, Uri) {
    let session = Session::default();
    let uri: Uri = format!("file:///virtual/{name}").parse().unwrap();
    session.open(uri.clone(), 1, src.to_string());
    (session, uri)
}

/// The session's findings for `text` are those of a fresh check, and there are `expected`.
fn fresh_and_counted(session: &Session, uri: &Uri, text: &str, expected: usize) {
    let fresh = engine::check_source(text, &Settings::default());
    let cached = session.with_doc(uri, |d| d.smells.clone()).unwrap();
    assert_eq!(cached, fresh, "cache differs from a fresh check of:\n{text}");
    assert_eq!(cached.len(), expected, "{text}");
}

fn fresh_count(text: &str) -> usize {
    engine::check_source(text, &Settings::default()).len()
}

/// A fix that binds a new variable in a function names it `logits`, or `logits_2` when the
/// function already spells `logits`: other functions' names and module-level ones leave it be (a
/// function that never spells a name reads it from nowhere). Edits inside the function, in
/// another function and at module level: the cached fixes are those of a fresh check after each.
/// (Regression, a newcomer's trial: another function's `logits` parameter made it `logits_2`.)
#[test]
fn a_fresh_name_in_a_cached_fix_follows_its_own_functions_text() {
    let src = "\
import numpy as np
import tensorflow as tf


def head(logits):
    return logits


def entropy(z):
    p = tf.nn.softmax(z * 2.0)
    return -np.sum(p * np.log(p))
";
    let session = Session::default();
    let uri: Uri = "file:///virtual/fresh.py".parse().unwrap();
    session.open(uri.clone(), 1, src.to_string());
    // The variable each fix binds (`name = ...` inserted before the softmax).
    let bound = || -> Vec<String> {
        let edits = |s: &nanlint::smell::Smell| -> Vec<String> {
            s.fixes.iter().flat_map(|f| f.edits.iter().map(|e| e.content.clone())).collect()
        };
        let all: Vec<String> = session.with_doc(&uri, |d| d.smells.iter().flat_map(edits).collect()).unwrap();
        all.iter().filter_map(|c| c.trim_start().split_once(" = ").map(|(n, _)| n.to_string())).collect()
    };
    let check = |text: &str| {
        let fresh = engine::check_source(text, &Settings::default());
        let cached = session.with_doc(&uri, |d| d.smells.clone()).unwrap();
        assert_eq!(cached, fresh, "cache differs from a fresh check of:\n{text}");
    };
    check(src);
    assert_eq!(bound(), ["logits"]);
    // The function itself spells the name.
    let text = replace(&session, &uri, 2, "    return -np.sum(p", "    logits = None\n    return -np.sum(p");
    check(&text);
    assert_eq!(bound(), ["logits_2"]);
    let text = replace(&session, &uri, 3, "    logits = None\n", "");
    check(&text);
    assert_eq!(bound(), ["logits"]);
    // Module-level code and another function spell it.
    let text = replace(&session, &uri, 4, "import tensorflow as tf\n", "import tensorflow as tf\nlogits = None\n");
    check(&text);
    let text = replace(&session, &uri, 5, "def head(logits):\n    return logits", "def head(h):\n    return logits");
    check(&text);
    assert_eq!(bound(), ["logits"]);
}

/// A fix in a function writes an alias only where the module binds it to its import (an
/// alias only another function imports is a NameError there): a cached function's fix must
/// follow a module-level edit that adds, rebinds or removes the module's import, though the
/// import table (the name's module) stays the same throughout.
#[test]
fn an_alias_in_a_cached_fix_follows_the_modules_bindings_of_it() {
    let src = "\
import torch


def helper():
    import torch.nn.functional as F
    return F


def entropy(x):
    return torch.log(torch.sigmoid(x))

y = 1
";
    let (session, uri) = open("alias.py", src);
    let written = || -> Vec<String> {
        let all: Vec<String> = session
            .with_doc(&uri, |d| {
                d.smells.iter().flat_map(|s| &s.fixes).flat_map(|f| f.edits.iter().map(|e| e.content.clone())).collect()
            })
            .unwrap();
        all.into_iter().filter(|c| c.contains("logsigmoid")).collect()
    };
    let check = |text: &str, want: &str| {
        fresh_and_counted(&session, &uri, text, 1);
        assert_eq!(written(), [want], "{text}");
    };
    check(src, "torch.nn.functional.logsigmoid(x)");
    let text = replace(&session, &uri, 2, "\ny = 1\n", "\nimport torch.nn.functional as F\n");
    check(&text, "F.logsigmoid(x)");
    let text =
        replace(&session, &uri, 3, "\nimport torch.nn.functional as F\n", "\nimport torch.nn.functional as F\nF = 2\n");
    check(&text, "torch.nn.functional.logsigmoid(x)");
    let text = replace(&session, &uri, 4, "F = 2\n", "y = 2\n");
    check(&text, "F.logsigmoid(x)");
    let text = replace(&session, &uri, 5, "\nimport torch.nn.functional as F\ny = 2\n", "\ny = 2\n");
    check(&text, "torch.nn.functional.logsigmoid(x)");
}

/// A fix that reads the logits again after a call of one of the file's functions is offered
/// only while that function writes into no array that exists when it is called: a cached
/// caller's fixes must follow an edit inside the callee alone that adds or removes such a
/// write (a fact of the callee, [`nanlint::semantic::FactKey::InPlaceWrites`]).
#[test]
fn a_cached_fix_follows_the_in_place_writes_of_a_function_it_calls() {
    let src = "\
import torch


def scale(x):
    return x * 2


def head(z):
    p = torch.softmax(z, -1)
    scale(z)
    return torch.log(p)
";
    let (session, uri) = open("writes.py", src);
    let offered = || -> bool {
        session
            .with_doc(&uri, |d| d.smells.iter().flat_map(|s| &s.fixes).any(|f| f.title.contains("log_softmax")))
            .unwrap()
    };
    fresh_and_counted(&session, &uri, src, 1);
    assert!(offered());
    let text = replace(&session, &uri, 2, "    return x * 2\n", "    x *= 2\n");
    fresh_and_counted(&session, &uri, &text, 1);
    assert!(!offered(), "{text}");
    let text = replace(&session, &uri, 3, "    x *= 2\n", "    y = x * 2\n    y *= 2\n");
    fresh_and_counted(&session, &uri, &text, 1);
    assert!(offered(), "{text}");
}

/// An edit inside one function is analyzed with that function alone, and the facts it
/// contributes (an attribute it sets on `self`, its summary) are checked where other functions
/// used them: those functions are analyzed again with it. A function edited that way must count
/// among them with the facts it reads since its edit, not those of its text before: here
/// `forward` starts to read `self.eps` (then `self.floor()`, whose summary returns it) in one
/// edit, and `__init__` sets it to 0 in the next. The finding in `forward` went missing
/// (`forward`'s facts were those of `return x`).
#[test]
fn a_function_edited_alone_follows_the_facts_it_reads_since() {
    let src = "\
import torch
import torch.nn as nn


class Head(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.eps = 1e-6

    def floor(self):
        return self.eps

    def forward(self, x):
        return x


def other(x):
    return torch.log(x + 1.0)
";
    let (session, uri) = open("edited.py", src);
    let check = |text: &str, expected: usize| fresh_and_counted(&session, &uri, text, expected);
    check(src, 0);
    let text = replace(&session, &uri, 2, "return x", "return torch.log(torch.softmax(x, dim=-1) + self.eps)");
    check(&text, 0);
    let text = replace(&session, &uri, 3, "self.eps = 1e-6", "self.eps = 0.0");
    check(&text, 1);
    // Typed into, as a syntax error, and back.
    let text = replace(&session, &uri, 4, "self.eps = 0.0", "self.eps = 0.0x");
    check(&text, fresh_count(&text));
    let text = replace(&session, &uri, 5, "self.eps = 0.0x", "self.eps = 1e-6");
    check(&text, 0);
    // Through a method's summary.
    let text = replace(&session, &uri, 6, "+ self.eps)", "+ self.floor())");
    check(&text, 0);
    let text = replace(&session, &uri, 7, "self.eps = 1e-6", "self.eps = 0.0");
    check(&text, 1);
    let text = replace(&session, &uri, 8, "self.eps = 0.0", "self.eps = 1e-6");
    check(&text, 0);
    // The summary itself edited, then the attribute again.
    let text = replace(&session, &uri, 9, "return self.eps", "return self.eps * 0");
    check(&text, 1);
    let text = replace(&session, &uri, 10, "return self.eps * 0", "return self.eps");
    check(&text, 0);
    let text = replace(&session, &uri, 11, "self.eps = 1e-6", "self.eps = 0.0");
    check(&text, 1);
}

/// A function passed to a differentiation transform (`jax.grad(f)`) is differentiated code
/// whatever its name, and its first parameter carries the gradient (NL204): the transform is
/// written at module level, away from the function, so the cached analysis of the function must
/// follow that edit and its undoing.
#[test]
fn a_transform_typed_at_module_level_reaches_the_function_it_differentiates() {
    let src = "\
import jax
import jax.numpy as jnp


def energy(x):
    return jnp.sum(jnp.where(x > 0, jnp.sqrt(x), 0.0))


steps = 10
";
    let (session, uri) = open("transform.py", src);
    fresh_and_counted(&session, &uri, src, 0);
    let text = replace(&session, &uri, 2, "steps = 10\n", "force = jax.grad(energy)\n");
    fresh_and_counted(&session, &uri, &text, 1);
    let text = replace(&session, &uri, 3, "force = jax.grad(energy)\n", "force = jax.grad(other)\n");
    fresh_and_counted(&session, &uri, &text, 0);
}

/// The losses NL101 and NL103 follow a log of a probability into (`probs::push_of_losses`): an edit inside
/// a function that changes the loss's sign, and an edit of another function that starts to
/// mention a module-level name, give the findings of a fresh check (default settings, where the
/// narrowing applies).
#[test]
fn the_losses_a_log_is_followed_into_follow_edits() {
    let src = "\
import torch

p = torch.sigmoid(torch.randn(3))
a = torch.log(1 - p)
d_loss = -torch.mean(a)


def other():
    return 0


def step(z):
    q = torch.sigmoid(z)
    b = torch.log(1 - q)
    g_loss = -torch.mean(b)
    return g_loss
";
    let session = Session::default();
    let uri: Uri = "file:///virtual/losses.py".parse().unwrap();
    session.open(uri.clone(), 1, src.to_string());
    let rows = |s: &Session| -> Vec<u32> {
        s.with_doc(&uri, |d| {
            d.smells.iter().filter(|x| matches!(x.code, "NL101" | "NL103")).map(|x| x.span.start.row as u32).collect()
        })
        .unwrap()
    };
    let check = |s: &Session, text: &str, expected: &[u32]| {
        let fresh = engine::check_source(text, &Settings::default());
        let cached = s.with_doc(&uri, |d| d.smells.clone()).unwrap();
        assert_eq!(cached, fresh, "cache differs from a fresh check of:\n{text}");
        assert_eq!(rows(s), expected, "{text}");
    };
    // Module level: the uses of `a` are not followed (the functions' text decides them).
    check(&session, src, &[3]);
    let text = replace(&session, &uri, 2, "    return 0\n", "    return a\n");
    check(&session, &text, &[3]);
    let text = replace(&session, &uri, 3, "    return a\n", "    return 0\n");
    check(&session, &text, &[3]);
    // In a function: the loss raises `1 - q`; made to lower it, the log is reported.
    let text = replace(&session, &uri, 4, "g_loss = -torch.mean(b)", "g_loss = torch.mean(b)");
    check(&session, &text, &[3, 13]);
    let text = replace(&session, &uri, 5, "g_loss = torch.mean(b)", "g_loss = -torch.mean(b)");
    check(&session, &text, &[3]);
    // A nested function that mentions `b`: its uses are no longer all known.
    let text = replace(&session, &uri, 6, "    return g_loss\n", "    return g_loss, lambda: b\n");
    check(&session, &text, &[3, 13]);
}
