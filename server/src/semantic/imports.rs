//! The import table of one file: which local names stand for which modules and functions.
//!
//! Every callee is resolved through it to a canonical dotted name before a rule sees it, so
//! `tf.log`, `tf.math.log` and `tf_log` (after `from tensorflow.math import log as tf_log`) are one
//! API, and a `tf` that was never imported is just a name.

use std::ops::Range;

use foldhash::HashMap;

use tree_sitter::Node;

use super::apis;
use crate::syntax::{FIELD, KindName, text};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Imports {
    /// Local name → the dotted path it is bound to (`tf` → `tensorflow.compat.v1`).
    bindings: HashMap<String, String>,
    /// Where a new top-level import may be inserted (byte offset at the start of a line).
    insert_at: usize,
    /// The line ending of the line before `insert_at` (or of the first line): a new import uses it.
    newline: &'static str,
    /// The line at `insert_at` starts a `def` or a `class` (or the comments right above one): a
    /// new import there takes the two blank lines PEP 8 wants before a top-level definition.
    before_definition: bool,
    /// Each `from M import a, b` of the leading block of imports (before `insert_at`): M and the
    /// offset after its last name. A new name from M extends the last of them (`, c` after `b`)
    /// rather than taking a line of its own.
    from_ends: Vec<(String, usize)>,
    /// The packages (`torch`, `scipy`) a statement directly in the module imports from,
    /// sorted: a new import of one of them at the top adds no dependency the module lacked.
    plain: Vec<String>,
    /// The other imports of a library outside functions (in a `try`, under an `if`, in a class
    /// body): the statement's byte range, where a statement beside it goes
    /// ([`Imports::beside`]) and a package it imports from, in source order. A new import of a
    /// package the module imports only so goes beside one of them, not at the top, where it
    /// would run where the module's own import of the package does not (a `try` whose handler
    /// covers a missing library).
    nested: Vec<(usize, usize, (usize, bool), String)>,
    /// The packages only functions import, sorted (their statements are found in the function
    /// a fix is made in: they move with it).
    in_functions: Vec<String>,
    /// The names two import statements outside functions bind (or one twice), sorted: a new
    /// import beside one of them may not run where the name holds the other's.
    repeated: Vec<String>,
    /// The names the file's own `def`s bind, sorted: a new import must not take one (`from
    /// scipy.special import logsumexp` in a file that defines `logsumexp` would make the fixed
    /// function call itself).
    defined: Vec<String>,
    /// Module → the local names bound to it, as written or canonically (`tf` under both
    /// `tensorflow.compat.v1` and `tensorflow`), shortest first, then alphabetical
    /// ([`Imports::names_of_module`]).
    by_module: HashMap<String, Vec<String>>,
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
        // Each node with whether it is in a function.
        let mut stack = vec![(root, false)];
        let mut plain = Vec::new();
        let mut in_functions = Vec::new();
        let mut bound_outside: foldhash::HashSet<String> = Default::default();
        while let Some((node, in_function)) = stack.pop() {
            match node.kind_name() {
                kind @ ("import_statement" | "import_from_statement") => {
                    if kind == "import_statement" {
                        imports.add_import(node, src);
                    } else {
                        imports.add_from_import(node, src);
                    }
                    if !in_function {
                        for (name, _) in Imports::bound_names(node, src) {
                            if !bound_outside.insert(name.clone()) {
                                imports.repeated.push(name);
                            }
                        }
                    }
                    for package in packages(node, src) {
                        if node.parent() == Some(root) && root.kind_name() == "module" {
                            plain.push(package);
                        } else if in_function {
                            in_functions.push(package);
                        } else {
                            let beside = Imports::beside(node, src);
                            imports.nested.push((node.start_byte(), node.end_byte(), beside, package));
                        }
                    }
                }
                "future_import_statement" => {}
                // Most functions and classes import nothing; a text search is cheaper than a walk.
                "function_definition" | "class_definition" | "decorated_definition"
                    if !text(node, src).contains("import") => {}
                kind if holds_statements(kind) => {
                    let in_function = in_function || kind == "function_definition";
                    let mut cursor = node.walk();
                    stack.extend(node.named_children(&mut cursor).map(|c| (c, in_function)));
                }
                _ => {}
            }
        }
        imports.nested.sort();
        plain.sort();
        plain.dedup();
        in_functions.sort();
        in_functions.dedup();
        in_functions.retain(|p| plain.binary_search(p).is_err());
        imports.plain = plain;
        imports.in_functions = in_functions;
        imports.repeated.sort();
        imports.repeated.dedup();
        imports.insert_at = insertion_point(root, src);
        imports.newline = line_ending(src, imports.insert_at);
        imports.before_definition = starts_definition(root, src, imports.insert_at);
        imports.from_ends = from_imports_before(root, src, imports.insert_at);
        imports.defined = crate::syntax::defined_names(src);
        imports.defined.sort();
        imports.defined.dedup();
        for (local, path) in &imports.bindings {
            let canonical = apis::canonical(&format!("{path}.")).trim_end_matches('.').to_string();
            if canonical != *path {
                imports.by_module.entry(canonical).or_default().push(local.clone());
            }
            imports.by_module.entry(path.clone()).or_default().push(local.clone());
        }
        for names in imports.by_module.values_mut() {
            names.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
        }
        imports
    }

    /// Binds `local` to `path`.
    fn bind(&mut self, local: String, path: String) {
        self.bindings.insert(local, path);
    }

    fn add_import(&mut self, node: Node, src: &str) {
        let mut cursor = node.walk();
        for name in node.children_by_field_name("name", &mut cursor) {
            match name.kind_name() {
                // `import a.b.c` binds `a`.
                "dotted_name" => {
                    let path = text(name, src);
                    let root = path.split('.').next().unwrap_or(path).to_string();
                    self.bind(root.clone(), root);
                }
                // `import a.b as x` binds `x` to `a.b`.
                "aliased_import" => {
                    if let (Some(path), Some(alias)) =
                        (name.child_by_field_id(FIELD.name), name.child_by_field_id(FIELD.alias))
                    {
                        self.bind(text(alias, src).to_string(), compact(text(path, src)));
                    }
                }
                _ => {}
            }
        }
    }

    fn add_from_import(&mut self, node: Node, src: &str) {
        let Some(module) = node.child_by_field_id(FIELD.module_name) else {
            return;
        };
        if module.kind_name() != "dotted_name" {
            // Relative imports name this project's modules, not a library: the names they bind
            // resolve to paths starting with `.`, which no library has.
            let module = compact(text(module, src));
            let mut cursor = node.walk();
            for name in node.children_by_field_name("name", &mut cursor) {
                let (path, local) = match name.kind_name() {
                    "dotted_name" => (text(name, src), text(name, src)),
                    "aliased_import" => match (name.child_by_field_id(FIELD.name), name.child_by_field_id(FIELD.alias))
                    {
                        (Some(p), Some(a)) => (text(p, src), text(a, src)),
                        _ => continue,
                    },
                    _ => continue,
                };
                let module = module.trim_end_matches('.');
                self.bind(local.to_string(), format!(".{}.{}", module.trim_start_matches('.'), compact(path)));
            }
            return;
        }
        let module = compact(text(module, src));
        let mut cursor = node.walk();
        for name in node.children_by_field_name("name", &mut cursor) {
            match name.kind_name() {
                "dotted_name" => {
                    let n = text(name, src);
                    self.bind(n.to_string(), format!("{module}.{n}"));
                }
                "aliased_import" => {
                    if let (Some(path), Some(alias)) =
                        (name.child_by_field_id(FIELD.name), name.child_by_field_id(FIELD.alias))
                    {
                        self.bind(text(alias, src).to_string(), format!("{module}.{}", compact(text(path, src))));
                    }
                }
                _ => {}
            }
        }
    }

    /// The dotted path the import statement `statement` binds `name` to, if it binds it.
    pub fn bound_by(statement: Node, src: &str, name: &str) -> Option<String> {
        let mut one = Imports::default();
        match statement.kind_name() {
            "import_statement" => one.add_import(statement, src),
            "import_from_statement" => one.add_from_import(statement, src),
            _ => return None,
        }
        one.bindings.remove(name)
    }

    /// Where a statement beside the import statement `statement` goes: the start of the line
    /// after it, with `true`, where it has its line to itself (but for a comment after it), or
    /// right after it, with `false`, on the same logical line after a `;` (`try: import torch`,
    /// `import torch; x = 1`, or the file's last line without a terminator).
    pub fn beside(statement: Node, src: &str) -> (usize, bool) {
        let line_start = crate::text::line_start(src, statement.start_byte());
        let indent = &src[line_start..statement.start_byte()];
        let line_end = crate::text::line_end(src, statement.end_byte());
        let after = src[statement.end_byte()..line_end].trim_start();
        let own_line = indent.chars().all(|c| c == ' ' || c == '\t') && (after.is_empty() || after.starts_with('#'));
        if own_line && line_end < src.len() {
            (line_end + crate::text::line_ending(src, line_end).len(), true)
        } else {
            (statement.end_byte(), false)
        }
    }

    /// The names the import statement `statement` binds, each with its dotted path, sorted.
    pub fn bound_names(statement: Node, src: &str) -> Vec<(String, String)> {
        let mut one = Imports::default();
        match statement.kind_name() {
            "import_statement" => one.add_import(statement, src),
            "import_from_statement" => one.add_from_import(statement, src),
            _ => {}
        }
        let mut names: Vec<(String, String)> = one.bindings.into_iter().collect();
        names.sort();
        names
    }

    /// The import statements of `package` in `block` (a function's body), in source order,
    /// not those of the functions and classes it defines (their own scopes).
    pub fn of_package_in<'t>(block: Node<'t>, src: &str, package: &str) -> Vec<Node<'t>> {
        let mut found = Vec::new();
        let mut stack = vec![block];
        while let Some(node) = stack.pop() {
            match node.kind_name() {
                "import_statement" | "import_from_statement" => {
                    found.extend(packages(node, src).iter().any(|p| p == package).then_some(node));
                }
                "function_definition" | "class_definition" | "decorated_definition" => {}
                kind if holds_statements(kind) => {
                    let mut cursor = node.walk();
                    stack.extend(node.named_children(&mut cursor));
                }
                _ => {}
            }
        }
        found.sort_by_key(|n| n.start_byte());
        found
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

    /// A new import must not bind `name`: an import or one of the file's `def`s binds it.
    pub fn is_taken(&self, name: &str) -> bool {
        self.bindings.contains_key(name) || self.defined.binary_search_by(|d| d.as_str().cmp(name)).is_ok()
    }

    /// The names the file's own `def`s bind, sorted and without repeats.
    pub fn defined(&self) -> &[String] {
        &self.defined
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
        // A loop down the chain, not a recursion: a chain of 35,000 attributes inside a call a
        // rule reads overflowed the stack. No module path is longer than `MAX_PATH` names, and
        // the model asks this of every link of a chain: stopping there keeps it linear.
        const MAX_PATH: usize = 32;
        let mut attrs = Vec::new();
        let mut root = node;
        while root.kind_name() == "attribute" {
            if attrs.len() == MAX_PATH {
                return None;
            }
            attrs.push(root.child_by_field_id(FIELD.attribute)?);
            root = root.child_by_field_id(FIELD.object)?;
        }
        if root.kind_name() != "identifier" {
            return None;
        }
        // A relative import names this project's code, never a library.
        let mut path = self.binding(text(root, src)).filter(|p| !p.starts_with('.'))?.to_string();
        for attr in attrs.iter().rev() {
            path.push('.');
            path.push_str(text(*attr, src));
        }
        Some(path)
    }

    /// Resolves and canonicalizes a callee (`tf.log` → `tensorflow.math.log`).
    pub fn api(&self, node: Node, src: &str) -> Option<String> {
        self.resolve(node, src).map(|p| apis::canonical(&p))
    }

    /// The local names bound to `module` (`torch.nn.functional`), by the path an import wrote
    /// or its canonical spelling ([`apis::canonical`]), shortest first, then alphabetical.
    pub fn names_of_module(&self, module: &str) -> &[String] {
        self.by_module.get(module).map_or(&[], Vec::as_slice)
    }

    /// Every import binding: (local name, dotted path).
    pub fn bindings(&self) -> impl Iterator<Item = (&str, &str)> {
        self.bindings.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Where a new name imported from `module` goes when the leading block of imports has a
    /// `from module import ...`: after its last name.
    pub fn from_import_end(&self, module: &str) -> Option<usize> {
        self.from_ends.iter().rev().find(|(m, _)| m == module).map(|&(_, at)| at)
    }

    /// New imports go where they went in `other`: the same insertion point, the same `from`
    /// statements to extend at the same offsets.
    pub fn inserts_as(&self, other: &Imports) -> bool {
        self.insert_at == other.insert_at
            && self.before_definition == other.before_definition
            && self.from_ends == other.from_ends
            && self.plain == other.plain
            && self.nested == other.nested
            && self.in_functions == other.in_functions
            && self.repeated == other.repeated
    }

    /// Whether the module imports `package` only where a statement of its own cannot stand for
    /// every path: no statement directly in the module imports from it, and one in a block (a
    /// `try`, an `if`, a class body) or a function does.
    pub fn imports_only_conditionally(&self, package: &str) -> bool {
        self.plain.binary_search_by(|p| p.as_str().cmp(package)).is_err()
            && (self.nested.iter().any(|(_, _, _, p)| p == package)
                || self.in_functions.binary_search_by(|p| p.as_str().cmp(package)).is_ok())
    }

    /// The byte ranges of the imports of `package` outside functions that are not directly in
    /// the module (in source order).
    pub fn nested_imports<'s>(&'s self, package: &'s str) -> impl Iterator<Item = Range<usize>> + 's {
        self.nested.iter().filter(move |(_, _, _, p)| p == package).map(|(start, end, _, _)| *start..*end)
    }

    /// Whether an import outside functions but not directly in the module (of a library)
    /// starts at or after `at`: an edit before it moves it.
    pub fn nested_from(&self, at: usize) -> bool {
        self.nested.iter().any(|(start, _, _, _)| *start >= at)
    }

    /// Whether two imports outside functions bind `name` (or one binds it twice).
    pub fn is_repeated(&self, name: &str) -> bool {
        self.repeated.binary_search_by(|n| n.as_str().cmp(name)).is_ok()
    }

    /// Whether the line where a new top-level import goes starts a `def` or a `class` (or the
    /// comments right above one): the import then takes two blank lines after it (PEP 8).
    pub fn before_definition(&self) -> bool {
        self.before_definition
    }

    /// The line ending a new import line uses.
    pub fn newline(&self) -> &'static str {
        self.newline
    }

    /// `src` still has the line ending this table took for new imports (that of the line
    /// before the insertion point, or of the first line: an edit of a function at the top of
    /// the file can change it without changing any import).
    pub fn newline_holds(&self, src: &str) -> bool {
        line_ending(src, self.insert_at) == self.newline
    }
}

/// After the module docstring, `from __future__` imports and the leading block of imports.
fn insertion_point(root: Node, src: &str) -> usize {
    let mut at = 0;
    let mut cursor = root.walk();
    // The docstring is the first statement, after any comments (a licence header, a shebang).
    let mut first = true;
    for stmt in root.named_children(&mut cursor) {
        if stmt.kind_name() == "comment" {
            continue;
        }
        let is_docstring = first
            && stmt.kind_name() == "expression_statement"
            && stmt.named_child(0).is_some_and(|c| c.kind_name() == "string");
        first = false;
        let is_import =
            matches!(stmt.kind_name(), "import_statement" | "import_from_statement" | "future_import_statement");
        if is_docstring || is_import {
            at = stmt.end_byte();
        } else {
            break;
        }
    }
    if at == 0 {
        return 0;
    }
    // Move to the start of the next line.
    let end = crate::text::line_end(src, at);
    (end + crate::text::line_ending(src, end).len()).min(src.len())
}

/// Whether the module statement at or after `at` (a line start) is a function or class
/// definition with nothing but comment lines between `at` and it (no blank line).
fn starts_definition(root: Node, src: &str, at: usize) -> bool {
    let mut cursor = root.walk();
    let Some(next) = root.named_children(&mut cursor).find(|s| s.start_byte() >= at && s.kind_name() != "comment")
    else {
        return false;
    };
    matches!(next.kind_name(), "function_definition" | "class_definition" | "decorated_definition")
        && src[at..next.start_byte()].lines().all(|l| l.trim_start().starts_with('#'))
}

/// The `from M import ...` statements among the module's statements before `end` (the leading
/// block): M and the offset after the last name. Wildcard, relative and broken ones are left out.
fn from_imports_before(root: Node, src: &str, end: usize) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let mut cursor = root.walk();
    for stmt in root.named_children(&mut cursor) {
        if stmt.start_byte() >= end {
            break;
        }
        if stmt.kind_name() != "import_from_statement" || stmt.has_error() {
            continue;
        }
        let Some(module) = stmt.child_by_field_id(FIELD.module_name).filter(|m| m.kind_name() == "dotted_name") else {
            continue;
        };
        let mut names = stmt.walk();
        if let Some(last) = stmt.children_by_field_name("name", &mut names).last() {
            found.push((compact(text(module, src)), last.end_byte()));
        }
    }
    found
}

/// The terminator (`\n`, `\r\n` or a lone `\r`) of the line that ends at `at` (or, at 0, of the
/// first line); `\n` for a line without one.
fn line_ending(src: &str, at: usize) -> &'static str {
    crate::text::line_ending(src, at.saturating_sub(1))
}

/// The numeric libraries ([`apis::LIBRARY_ROOTS`]) an import statement imports from: `torch`
/// for `import torch.nn as nn` and `from torch import log`; none for a relative import.
fn packages(statement: Node, src: &str) -> Vec<String> {
    let mut dotted = Vec::new();
    if statement.kind_name() == "import_from_statement" {
        dotted.extend(statement.child_by_field_id(FIELD.module_name).filter(|m| m.kind_name() == "dotted_name"));
    } else {
        let mut cursor = statement.walk();
        for name in statement.children_by_field_name("name", &mut cursor) {
            match name.kind_name() {
                "dotted_name" => dotted.push(name),
                "aliased_import" => dotted.extend(name.child_by_field_id(FIELD.name)),
                _ => {}
            }
        }
    }
    let mut found: Vec<String> = dotted
        .into_iter()
        .map(|d| compact(text(d, src)))
        .filter_map(|d| {
            let root = d.split('.').next().unwrap_or(&d);
            apis::LIBRARY_ROOTS.contains(&root).then(|| root.to_string())
        })
        .collect();
    found.dedup();
    found
}

/// `a . b` → `a.b` (dotted names may contain spaces and comments).
pub(crate) fn compact(dotted: &str) -> String {
    dotted.chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn api_of_first_call(src: &str) -> Option<String> {
        let tree = parse(src);
        let imports = Imports::collect(tree.root_node(), src);
        let call = find(tree.root_node(), "call").expect("a call");
        imports.api(call.child_by_field_id(FIELD.function).unwrap(), src)
    }

    fn find<'t>(node: Node<'t>, kind: &str) -> Option<Node<'t>> {
        if node.kind_name() == kind {
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
}
