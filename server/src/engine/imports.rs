//! The import table of one file: which local names stand for which modules and functions.
//!
//! Every callee is resolved through it to a canonical dotted name before a rule sees it, so
//! `tf.log`, `tf.math.log` and `tf_log` (after `from tensorflow.math import log as tf_log`) are one
//! API, and a `tf` that was never imported is just a name.

use std::collections::{BTreeSet, HashMap};

use tree_sitter::Node;

use super::apis;
use crate::smell::Edit;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imports {
    /// Local name → the dotted path it is bound to (`tf` → `tensorflow.compat.v1`).
    bindings: HashMap<String, String>,
    /// Where a new top-level import may be inserted (byte offset at the start of a line).
    insert_at: usize,
    /// The line ending of the line before `insert_at` (or of the first line): a new import uses it.
    newline: &'static str,
    /// Module-level names every module-level assignment of which is a positive constant
    /// (`MIN_PROB = 1e-8`, `TWO_PI = 2 * np.pi`): functions read them as guards.
    constants: BTreeSet<String>,
}

/// Statement kinds that may contain import statements in their bodies. `ERROR` is where
/// tree-sitter puts statements it could not place (the whole file, after a stray `else:`).
fn holds_statements(kind: &str) -> bool {
    matches!(
        kind,
        "module"
            | "ERROR"
            | "block"
            | "function_definition"
            | "class_definition"
            | "decorated_definition"
            | "if_statement"
            | "elif_clause"
            | "else_clause"
            | "try_statement"
            | "except_clause"
            | "except_group_clause"
            | "finally_clause"
            | "with_statement"
            | "for_statement"
            | "while_statement"
    )
}

impl Imports {
    /// Collects every import in the file (module level and nested), without descending into
    /// expressions, iteratively so deep nesting cannot overflow the stack.
    pub fn collect(root: Node, src: &str) -> Imports {
        let mut imports = Imports::default();
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            match node.kind() {
                "import_statement" => imports.add_import(node, src),
                "import_from_statement" => imports.add_from_import(node, src),
                "future_import_statement" => {}
                // Most functions and classes import nothing; a text search is cheaper than a walk.
                "function_definition" | "class_definition" | "decorated_definition"
                    if !text(node, src).contains("import") => {}
                kind if holds_statements(kind) => {
                    let mut cursor = node.walk();
                    stack.extend(node.named_children(&mut cursor));
                }
                _ => {}
            }
        }
        imports.insert_at = insertion_point(root, src);
        imports.newline = line_ending(src, imports.insert_at);
        imports.constants = imports.module_constants(root, src);
        imports
    }

    fn module_constants(&self, root: Node, src: &str) -> BTreeSet<String> {
        let mut positive = BTreeSet::new();
        let mut other = BTreeSet::new();
        let mut cursor = root.walk();
        for stmt in root.named_children(&mut cursor) {
            let Some(assignment) =
                stmt.named_child(0).filter(|a| stmt.kind() == "expression_statement" && a.kind() == "assignment")
            else {
                continue;
            };
            let (Some(left), Some(right)) =
                (assignment.child_by_field_name("left"), assignment.child_by_field_name("right"))
            else {
                continue;
            };
            if left.kind() != "identifier" {
                continue;
            }
            let name = text(left, src).to_string();
            if super::facts::constant(right, src, self).is_some_and(|v| v > 0.0) {
                positive.insert(name);
            } else {
                other.insert(name);
            }
        }
        positive.difference(&other).cloned().collect()
    }

    /// True when `name` is a module-level positive constant (see `constants`).
    pub fn is_positive_constant(&self, name: &str) -> bool {
        self.constants.contains(name)
    }

    fn add_import(&mut self, node: Node, src: &str) {
        let mut cursor = node.walk();
        for name in node.children_by_field_name("name", &mut cursor) {
            match name.kind() {
                // `import a.b.c` binds `a`.
                "dotted_name" => {
                    let path = text(name, src);
                    let root = path.split('.').next().unwrap_or(path).to_string();
                    self.bindings.insert(root.clone(), root);
                }
                // `import a.b as x` binds `x` to `a.b`.
                "aliased_import" => {
                    if let (Some(path), Some(alias)) =
                        (name.child_by_field_name("name"), name.child_by_field_name("alias"))
                    {
                        self.bindings.insert(text(alias, src).to_string(), compact(text(path, src)));
                    }
                }
                _ => {}
            }
        }
    }

    fn add_from_import(&mut self, node: Node, src: &str) {
        let Some(module) = node.child_by_field_name("module_name") else {
            return;
        };
        if module.kind() != "dotted_name" {
            return; // relative imports name this project's modules, not a library
        }
        let module = compact(text(module, src));
        let mut cursor = node.walk();
        for name in node.children_by_field_name("name", &mut cursor) {
            match name.kind() {
                "dotted_name" => {
                    let n = text(name, src);
                    self.bindings.insert(n.to_string(), format!("{module}.{n}"));
                }
                "aliased_import" => {
                    if let (Some(path), Some(alias)) =
                        (name.child_by_field_name("name"), name.child_by_field_name("alias"))
                    {
                        self.bindings
                            .insert(text(alias, src).to_string(), format!("{module}.{}", compact(text(path, src))));
                    }
                }
                _ => {}
            }
        }
    }

    /// Local names bound to a function whose canonical name satisfies `wanted`.
    pub fn names_reaching(&self, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        self.bindings
            .iter()
            .filter(|(_, path)| wanted(&apis::canonical(path)))
            .map(|(local, _)| local.clone())
            .collect()
    }

    /// The dotted path a local name is bound to by an import.
    pub fn binding(&self, name: &str) -> Option<&str> {
        self.bindings.get(name).map(String::as_str)
    }

    /// Where a new top-level import would be inserted.
    pub fn insert_at(&self) -> usize {
        self.insert_at
    }

    /// True when the file imports anything from the numeric libraries.
    pub fn has_library(&self) -> bool {
        self.bindings.values().any(|p| apis::LIBRARY_ROOTS.contains(&p.split('.').next().unwrap_or(p)))
    }

    /// Resolves an identifier or attribute chain to the dotted path it names, through the imports.
    /// `None` when its root is not an imported name (a local variable, `self`, a call result...).
    pub fn resolve(&self, node: Node, src: &str) -> Option<String> {
        match node.kind() {
            "identifier" => self.binding(text(node, src)).map(str::to_string),
            "attribute" => {
                let object = node.child_by_field_name("object")?;
                let attr = node.child_by_field_name("attribute")?;
                let base = self.resolve(object, src)?;
                Some(format!("{base}.{}", text(attr, src)))
            }
            _ => None,
        }
    }

    /// Resolves and canonicalizes a callee (`tf.log` → `tensorflow.math.log`).
    pub fn api(&self, node: Node, src: &str) -> Option<String> {
        self.resolve(node, src).map(|p| apis::canonical(&p))
    }

    /// Spells the canonical function `target` with this file's own names: `tensorflow.clip_by_value`
    /// becomes `tf.clip_by_value` after `import tensorflow.compat.v1 as tf`. `prefer` is the local
    /// name the surrounding code used (`th` in `th.log(p)`): when it reaches the target it wins,
    /// so one expression never mixes two aliases of a library. When no imported name reaches the
    /// target, returns the spelling under a new import and the edit that adds that import.
    pub fn spell(&self, target: &str, prefer: Option<&str>) -> (String, Option<Edit>) {
        // Ranking: the preferred name, then the longest module (`F.softmax` over
        // `torch.nn.functional.softmax`), then the shorter spelling, then alphabetical.
        type Rank = (bool, usize, std::cmp::Reverse<usize>);
        let mut best: Option<(Rank, String)> = None;
        for (local, path) in &self.bindings {
            // The module this binding stands for, and its canonical spelling.
            for module in [path.clone(), apis::canonical(&format!("{path}.")).trim_end_matches('.').to_string()] {
                let rest = if target == module {
                    Some(String::new())
                } else {
                    target.strip_prefix(&format!("{module}.")).map(|r| format!(".{r}"))
                };
                if let Some(rest) = rest {
                    let spelled = format!("{local}{rest}");
                    let rank = (prefer == Some(local.as_str()), module.len(), std::cmp::Reverse(spelled.len()));
                    let better = match &best {
                        None => true,
                        Some((r, s)) => rank > *r || (rank == *r && spelled < *s),
                    };
                    if better {
                        best = Some((rank, spelled));
                    }
                }
            }
        }
        if let Some((_, spelled)) = best {
            return (spelled, None);
        }
        let (statement, spelled) = new_import(target, |name| self.bindings.contains_key(name));
        let edit = Edit { start: self.insert_at, end: self.insert_at, content: format!("{statement}{}", self.newline) };
        (spelled, Some(edit))
    }
}

/// The conventional import for a function's library, and the function's spelling under it.
fn new_import(target: &str, taken: impl Fn(&str) -> bool) -> (String, String) {
    const CONVENTIONS: &[(&str, &str)] =
        &[("jax.numpy", "jnp"), ("tensorflow", "tf"), ("numpy", "np"), ("torch", "torch"), ("keras", "keras")];
    // Functions from a `special` module read best imported by name: `xlogy(a, b)`.
    if let Some((module, func)) = target.rsplit_once('.')
        && module.ends_with(".special")
        && !taken(func)
    {
        return (format!("from {module} import {func}"), func.to_string());
    }
    for (module, alias) in CONVENTIONS {
        if let Some(rest) = target.strip_prefix(&format!("{module}.")) {
            if taken(alias) {
                break;
            }
            let statement =
                if module == alias { format!("import {module}") } else { format!("import {module} as {alias}") };
            return (statement, format!("{alias}.{rest}"));
        }
    }
    let root = target.split('.').next().unwrap_or(target);
    let module = target.rsplit_once('.').map_or(root, |(m, _)| m);
    (format!("import {module}"), target.to_string())
}

/// After the module docstring, `from __future__` imports and the leading block of imports.
fn insertion_point(root: Node, src: &str) -> usize {
    let mut at = 0;
    let mut cursor = root.walk();
    for (i, stmt) in root.named_children(&mut cursor).enumerate() {
        let is_docstring = i == 0
            && stmt.kind() == "expression_statement"
            && stmt.named_child(0).is_some_and(|c| c.kind() == "string");
        let is_import = matches!(stmt.kind(), "import_statement" | "import_from_statement" | "future_import_statement");
        if is_docstring || is_import {
            at = stmt.end_byte();
        } else if stmt.kind() != "comment" {
            break;
        }
    }
    if at == 0 {
        return 0;
    }
    // Move to the start of the next line.
    match src[at..].find('\n') {
        Some(nl) => at + nl + 1,
        None => src.len(),
    }
}

/// `\r\n` when the line that ends at `at` (or, at 0, the first line) ends so; else `\n`.
fn line_ending(src: &str, at: usize) -> &'static str {
    let crlf =
        if at > 0 { src[..at].ends_with("\r\n") } else { src.find('\n').is_some_and(|i| src[..i].ends_with('\r')) };
    if crlf { "\r\n" } else { "\n" }
}

pub fn text<'s>(node: Node, src: &'s str) -> &'s str {
    src.get(node.byte_range()).unwrap_or("")
}

/// `a . b` → `a.b` (dotted names may contain spaces and comments).
fn compact(dotted: &str) -> String {
    dotted.chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::parse;

    fn api_of_first_call(src: &str) -> Option<String> {
        let tree = parse(src);
        let imports = Imports::collect(tree.root_node(), src);
        let call = find(tree.root_node(), "call").expect("a call");
        imports.api(call.child_by_field_name("function").unwrap(), src)
    }

    fn find<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
        if node.kind() == kind {
            return Some(node);
        }
        let mut cursor = node.walk();
        node.named_children(&mut cursor).find_map(|c| find(c, kind))
    }

    #[test]
    fn resolves_the_spellings_of_log() {
        let cases = [
            ("import tensorflow as tf\ntf.log(x)", "tensorflow.math.log"),
            ("import tensorflow.compat.v1 as tf\ntf.log(x)", "tensorflow.math.log"),
            ("import tensorflow as tf\ntf.compat.v1.log(x)", "tensorflow.math.log"),
            ("import tensorflow\ntensorflow.log(x)", "tensorflow.math.log"),
            ("import tensorflow.compat.v1\ntensorflow.compat.v1.math.log(x)", "tensorflow.math.log"),
            ("from tensorflow import math as tfm\ntfm.log(x)", "tensorflow.math.log"),
            ("from tensorflow.math import log as tf_log\ntf_log(x)", "tensorflow.math.log"),
            ("import keras.backend as K\nK.log(x)", "keras.backend.log"),
            ("from tensorflow.keras import backend as K\nK.log(x)", "keras.backend.log"),
            ("from keras import ops\nops.log(x)", "keras.ops.log"),
            ("import torch as th\nth.log(x)", "torch.log"),
            ("from torch import log as tlog\ntlog(x)", "torch.log"),
            ("import torch.nn.functional as F\nF.softmax(x)", "torch.softmax"),
            ("import numpy as np\nnp.log(x)", "numpy.log"),
            ("import numpy as onp\nonp.log(x)", "numpy.log"),
            ("import jax.numpy as jnp\njnp.log(x)", "jax.numpy.log"),
            ("from scipy import special\nspecial.xlogy(a, b)", "scipy.special.xlogy"),
            ("def f():\n    import numpy as np\n    return np.log(x)", "numpy.log"),
        ];
        for (src, want) in cases {
            assert_eq!(api_of_first_call(src).as_deref(), Some(want), "{src}");
        }
    }

    #[test]
    fn unimported_names_are_just_names() {
        assert_eq!(api_of_first_call("tf = Logger()\ntf.log('x')"), None);
        assert_eq!(api_of_first_call("self.log(x)"), None);
        assert_eq!(api_of_first_call("from .tf import log\nlog(x)"), None);
    }

    fn spell(src: &str, target: &str) -> (String, Option<String>) {
        let tree = parse(src);
        let imports = Imports::collect(tree.root_node(), src);
        let (spelled, edit) = imports.spell(target, None);
        (spelled, edit.map(|e| crate::smell::apply_edits(src, &[e])))
    }

    #[test]
    fn spells_with_the_files_own_aliases() {
        assert_eq!(spell("import torch as th\n", "torch.clamp").0, "th.clamp");
        // The alias the call itself used wins over a shorter one.
        let src = "import torch\nimport torch as th\n";
        let tree = parse(src);
        let imports = Imports::collect(tree.root_node(), src);
        assert_eq!(imports.spell("torch.clamp", None).0, "th.clamp");
        assert_eq!(imports.spell("torch.clamp", Some("torch")).0, "torch.clamp");
        assert_eq!(imports.spell("torch.clamp", Some("F")).0, "th.clamp");
        assert_eq!(spell("import tensorflow.compat.v1 as tf\n", "tensorflow.clip_by_value").0, "tf.clip_by_value");
        assert_eq!(
            spell("from tensorflow import math as tfm\nimport tensorflow as tf\n", "tensorflow.math.xlogy").0,
            "tfm.xlogy"
        );
        assert_eq!(spell("import keras.backend as K\n", "keras.backend.clip").0, "K.clip");
        assert_eq!(
            spell("import jax.numpy as jnp\nimport jax\n", "jax.scipy.special.xlogy").0,
            "jax.scipy.special.xlogy"
        );
    }

    #[test]
    fn adds_an_import_when_nothing_reaches_the_function() {
        let (spelled, fixed) = spell("\"\"\"Doc.\"\"\"\nimport numpy as np\n\nx = 1\n", "scipy.special.xlogy");
        assert_eq!(spelled, "xlogy");
        assert_eq!(fixed.unwrap(), "\"\"\"Doc.\"\"\"\nimport numpy as np\nfrom scipy.special import xlogy\n\nx = 1\n");
        let (spelled, fixed) =
            spell("from tensorflow.math import log as tf_log\ny = tf_log(x)\n", "tensorflow.clip_by_value");
        assert_eq!(spelled, "tf.clip_by_value");
        assert_eq!(
            fixed.unwrap(),
            "from tensorflow.math import log as tf_log\nimport tensorflow as tf\ny = tf_log(x)\n"
        );
        // `tf` is taken by something else: spell it in full.
        let (spelled, fixed) =
            spell("from foo import tf\nfrom tensorflow.math import log\n", "tensorflow.clip_by_value");
        assert_eq!(spelled, "tensorflow.clip_by_value");
        assert!(fixed.unwrap().contains("\nimport tensorflow\n"));
    }
}
