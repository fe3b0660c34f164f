//! Questions about names that rewrites ask: which single expression a name holds at a use, whether
//! an expression read at another place would give the same value, and a name no code uses yet.
//!
//! A rewrite that moves an expression (`p = softmax(z)` ... `log(p)` → `log_softmax(z)`) may only
//! read `z` again where `z` still holds what it held at the softmax: the same bindings reach both
//! places. Calls are never read again (a model's forward pass, a random draw).

use tree_sitter::Node;

use super::Model;
use super::scope::{Binding, Entry};
use crate::syntax::{FIELD, KindName, unparenthesized};

/// In a [`super::FactKey::ModuleBinding`] fact: `tf = tf.compat.v1`, a module of the same
/// library kept under the name.
const KEEPS: &str = "=";

/// In a [`super::FactKey::ModuleBinding`] fact: some path through the module binds the name
/// nowhere (`if HAVE_TORCH: import torch.nn.functional as F`, `try: import ... except: pass`).
const MAY_BE_UNBOUND: &str = "?";

/// In a [`super::FactKey::ModuleBinding`] fact: `name = None`, a fallback for a missing
/// library (`except ImportError: softmax = None`).
const NONE: &str = "None";

impl<'a> Model<'a> {
    /// `(assignment, value)` when the name `name` holds exactly `value` at this use: one
    /// `name = value` reaches it and nothing from outside the scope does.
    pub fn assigned_value(&self, name: Node<'a>) -> Option<(Node<'a>, Node<'a>)> {
        match self.sole_binding(name)? {
            // An assignment statement (a walrus binds inside an expression: a fix writes no
            // statement beside it).
            Entry { node, binding: Binding::Value(rhs) } if node.kind_name() == "assignment" => {
                Some((node, unparenthesized(rhs)))
            }
            _ => None,
        }
    }

    /// `(binder, value)` when the name `name` holds exactly `value` at this use, as
    /// [`Model::assigned_value`], and also when the one binding that reaches it is an element of
    /// a tuple written out (`p, q = softmax(z), z`: `value` is `softmax(z)`, `binder` the
    /// assignment) or an assignment expression that runs whenever its statement does
    /// (`if (p := softmax(z)) is not None:`: `binder` is the `named_expression`). For questions
    /// about the value a name holds, not for fixes that write a statement beside its binding.
    pub fn bound_value(&self, name: Node<'a>) -> Option<(Node<'a>, Node<'a>)> {
        let entry = self.sole_binding(name)?;
        match entry.binding {
            Binding::Value(rhs) if matches!(entry.node.kind_name(), "assignment" | "named_expression") => {
                Some((entry.node, unparenthesized(rhs)))
            }
            Binding::Unpacked(rhs) => {
                let position = super::eval::unpacked_position(entry.node, self.text(name), self.src)?;
                Some((entry.node, unparenthesized(written_element(entry.node, rhs, position)?)))
            }
            _ => None,
        }
    }

    /// The one binding of the name `name` that reaches this use, when nothing from outside the
    /// scope does on any path, and, for an assignment statement, when the statement writes into
    /// no object besides names: `p, z[0] = softmax(z), 100.0` and `p = z.data = softmax(z)`
    /// change what the value's operands hold at once, so the value is not read.
    fn sole_binding(&self, name: Node<'a>) -> Option<Entry<'a>> {
        if name.kind_name() != "identifier" {
            return None;
        }
        let scope = self.scope_of(name);
        let reaching = self.scope_index(scope).reaching(self.text(name), name.start_byte());
        let ([entry], false) = (reaching.entries.as_slice(), reaching.outer) else { return None };
        if entry.node.kind_name() == "assignment" && !writes_names_only(entry.node) {
            return None;
        }
        Some(*entry)
    }

    /// `expr`, read again at `at` (in the same function), gives the value it gives where it
    /// stands: it is built from constants and names (attributes and subscripts of them, arithmetic)
    /// and every name has the same reaching bindings at both places. Calls never qualify.
    pub fn same_value_at(&self, expr: Node<'a>, at: Node<'a>) -> bool {
        if self.scope_of(expr) != self.scope_of(at) {
            return false;
        }
        let mut stack = vec![expr];
        let mut budget = 64;
        while let Some(node) = stack.pop() {
            budget -= 1;
            if budget == 0 {
                return false;
            }
            match node.kind_name() {
                "integer" | "float" | "string" | "true" | "false" | "none" | "ellipsis" | "comment" => {}
                "identifier" => {
                    if !self.same_bindings(node, at) {
                        return false;
                    }
                }
                "attribute" => {
                    // `self.dim`: the object is read; the attribute name is no binding.
                    match node.child_by_field_id(FIELD.object) {
                        Some(object) => stack.push(object),
                        None => return false,
                    }
                }
                "keyword_argument" => match node.child_by_field_id(FIELD.value) {
                    Some(v) => stack.push(v),
                    None => return false,
                },
                "parenthesized_expression"
                | "unary_operator"
                | "binary_operator"
                | "tuple"
                | "list"
                | "subscript"
                | "slice"
                | "expression_list" => {
                    let mut cursor = node.walk();
                    stack.extend(node.named_children(&mut cursor));
                }
                _ => return false,
            }
        }
        true
    }

    /// The name `name` has the same reaching bindings at `at` as where it stands.
    fn same_bindings(&self, name: Node<'a>, at: Node<'a>) -> bool {
        let index = self.scope_index(self.scope_of(name));
        let text = self.text(name);
        let here = index.reaching(text, name.start_byte());
        let there = index.reaching(text, at.start_byte());
        let ids = |r: &super::scope::Reaching<'a>| {
            let mut v: Vec<usize> = r.entries.iter().map(|e| e.node.id()).collect();
            v.sort_unstable();
            v
        };
        here.outer == there.outer && ids(&here) == ids(&there)
    }

    /// The name a new binding in `scope` (a function, a class body or the module) can take
    /// without shadowing anything: `base` if no identifier of the scope spells it, else `base_2`,
    /// `base_3`... A word in a comment or a string is no identifier (`# the logits` leaves
    /// `logits` free). In a function (or a class body) only its own text counts, nested
    /// functions included: a name the function never spells is one it reads from nowhere, so a
    /// local of that name changes nothing else (another function's `logits` parameter, or an
    /// import of `logits` the function does not use, leaves `logits` free). At module level the
    /// whole file's text counts, and the import table.
    pub fn fresh_name(&self, base: &str, scope: Node<'a>) -> String {
        if !super::scope::is_module(scope) {
            return self.compute_fresh_name(base, Some(scope));
        }
        match self.fact(&super::FactKey::FreshName(base.into())) {
            super::facts::Fact::Names(names) if !names.is_empty() => names[0].clone(),
            _ => self.compute_fresh_name(base, None),
        }
    }

    /// [`Model::fresh_name`], computed from the text of `within` (else of the file, with the
    /// import table): each whole-word occurrence of a name is looked up in the tree, and counts
    /// unless it is in a comment or a string's text.
    pub(super) fn compute_fresh_name(&self, base: &str, within: Option<Node<'a>>) -> String {
        let root = self.tree.root_node();
        let range = within.map_or(0..self.src.len(), |w| w.byte_range());
        let text = &self.src[range.clone()];
        let used = |name: &str| {
            (within.is_none() && self.imports.binding(name).is_some())
                || text.match_indices(name).any(|(i, _)| {
                    let i = range.start + i;
                    let bytes = self.src.as_bytes();
                    let before = i.checked_sub(1).map(|j| bytes[j]);
                    let after = bytes.get(i + name.len()).copied();
                    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || !b.is_ascii();
                    !before.is_some_and(ident)
                        && !after.is_some_and(ident)
                        && !root.descendant_for_byte_range(i, i + name.len()).is_some_and(|n| {
                            matches!(n.kind_name(), "comment" | "string_content" | "string" | "string_start")
                        })
                })
        };
        if !used(base) {
            return base.to_string();
        }
        (2..).map(|n| format!("{base}_{n}")).find(|n| !used(n)).unwrap_or_else(|| base.to_string())
    }

    /// A `for` clause of the comprehension `node` binds `name` (`[F(x) for F in fs]`).
    fn comprehension_binds(&self, node: Node<'a>, name: &str) -> bool {
        let mut cursor = node.walk();
        node.named_children(&mut cursor).filter(|c| c.kind_name() == "for_in_clause").any(|clause| {
            clause
                .child_by_field_id(FIELD.left)
                .is_some_and(|left| super::scope::identifiers(left).iter().any(|n| self.text(*n) == name))
        })
    }

    /// Whether something other than an import binds `name` where code at `site` reads it, so
    /// that a fix writing `name.f(...)` there would call an attribute of that value: a
    /// parameter (of the enclosing functions or lambdas), a variable of a comprehension holding
    /// `site`, any assignment, loop variable, `with ... as` or definition of `name` in an
    /// enclosing function (Python makes it local to the whole function), or at module level a
    /// binding after which no import binds it again (for code in a function, the last binding in
    /// the file, a module-level `del`, or a function's `global` declaration with a binding; for
    /// module-level code, one that may reach `site`). A class body counts for code right in it
    /// (`torch = "cpu"` then `table = log(softmax(z))`), not for its methods or lambdas, which do
    /// not see its names; `tf = tf.compat.v1`, which keeps a module of the same library under
    /// the name, never counts. Asked by a fix ([`Model::shadows`]), a function's type parameter
    /// (`def f[F](x)`) and a `del F` in a function that binds `F` nowhere else count too.
    pub fn shadows(&self, name: &str, site: Node<'a>) -> bool {
        self.shadows_where(name, site, true)
    }

    /// [`Model::shadows`] for code in a function, without the module-level bindings made after
    /// the import (`F = 3` at module level after `import ... as F`): what [`Model::api`] asks of
    /// every library call's alias. The module's last binding is a fact of the module, and a
    /// fact read is recorded in the dependencies of every value memoized while it is read;
    /// asked at every call, that grew the server's peak memory on the 5,018-line latency file
    /// by about 4 MB. A fix, made once on request, asks [`Model::shadows`].
    pub fn shadows_locally(&self, name: &str, site: Node<'a>) -> bool {
        self.shadows_where(name, site, false)
    }

    fn shadows_where(&self, name: &str, site: Node<'a>, module_rebinding: bool) -> bool {
        let mut in_function = false;
        // A class body's names are visible to its own code, not to its methods or lambdas.
        let mut class_visible = true;
        for node in self.binders_from(site).skip(1) {
            match node.kind_name() {
                "list_comprehension" | "set_comprehension" | "dictionary_comprehension" | "generator_expression"
                    if self.comprehension_binds(node, name) =>
                {
                    return true;
                }
                "lambda" => {
                    if self.parameter(node, name).is_some() {
                        return true;
                    }
                    class_visible = false;
                }
                "function_definition" => {
                    in_function = true;
                    class_visible = false;
                    if self.parameter(node, name).is_some() {
                        return true;
                    }
                    // Asked by a fix only (not at every call): a type parameter (`def f[F](x)`)
                    // or a `del F` with no other binding (`F` is then the function's own, unbound).
                    if module_rebinding && self.type_parameter(node, name) {
                        return true;
                    }
                    let index = self.scope_index(node);
                    let entries = index.entries(name);
                    if entries.iter().any(|e| !self.keeps_the_import(name, e)) {
                        return true;
                    }
                    if !entries.is_empty() {
                        // The function imports the name itself.
                        return false;
                    }
                    if module_rebinding && self.deletes(node, name) {
                        return true;
                    }
                }
                // Code right in a class body reads the class's names first (`torch = None` there).
                "class_definition" if module_rebinding && class_visible => {
                    let index = self.scope_index(node);
                    if index.entries(name).iter().any(|e| !self.keeps_the_import(name, e)) {
                        return true;
                    }
                }
                _ => {}
            }
        }
        if in_function {
            if !module_rebinding {
                return false;
            }
            // A fact of the module: a function's cached findings hold while it is the same.
            return matches!(self.fact(&super::FactKey::Rebound(name.into())), super::facts::Fact::Names(n) if !n.is_empty());
        }
        let index = self.scope_index(self.tree.root_node());
        index.reaching(name, site.start_byte()).entries.iter().any(|e| !self.keeps_the_import(name, e))
    }

    /// `name` is a type parameter of `function` (`def f[F](x)`, PEP 695): its code reads that.
    fn type_parameter(&self, function: Node<'a>, name: &str) -> bool {
        let Some(list) = function.child_by_field_name("type_parameters") else { return false };
        let mut cursor = list.walk();
        list.named_children(&mut cursor).any(|t| {
            let mut stack = vec![t];
            while let Some(n) = stack.pop() {
                if n.kind_name() == "identifier" {
                    return self.text(n) == name;
                }
                let mut cursor = n.walk();
                let children: Vec<Node<'a>> = n.named_children(&mut cursor).collect();
                stack.extend(children.into_iter().rev());
            }
            false
        })
    }

    /// The code of `scope` (a function, or the module), outside nested functions, classes and
    /// lambdas, holds `del name` (`del F`, `del a, F`, `del (F,)`): Python makes the name local
    /// to a function that deletes it, and at module level it is unbound after the statement.
    pub(super) fn deletes(&self, scope: Node<'a>, name: &str) -> bool {
        let body = if super::scope::is_module(scope) { Some(scope) } else { scope.child_by_field_id(FIELD.body) };
        let Some(body) = body else { return false };
        // Most code deletes nothing: the word `del` first.
        let text = self.text(body).as_bytes();
        let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || !b.is_ascii();
        let word = (0..text.len().saturating_sub(2)).any(|i| {
            &text[i..i + 3] == b"del"
                && !i.checked_sub(1).is_some_and(|j| ident(text[j]))
                && !text.get(i + 3).is_some_and(|b| ident(*b))
        });
        if !word {
            return false;
        }
        let mut stack = vec![body];
        while let Some(node) = stack.pop() {
            match node.kind_name() {
                "function_definition" | "class_definition" | "lambda" => continue,
                "delete_statement" => {
                    let mut targets = vec![node];
                    while let Some(t) = targets.pop() {
                        match t.kind_name() {
                            "identifier" if self.text(t) == name => return true,
                            "delete_statement" | "expression_list" | "tuple" | "list" | "parenthesized_expression" => {
                                let mut cursor = t.walk();
                                targets.extend(t.named_children(&mut cursor));
                            }
                            _ => {}
                        }
                    }
                    continue;
                }
                _ => {}
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
        false
    }

    /// Whether the import binding `name` to the module `path` is what code at `site` reads
    /// under `name`, so that a fix may write `name.f(...)` there: read through the scopes
    /// enclosing `site` (comprehensions, lambdas, functions, a class body holding it directly,
    /// then the module), the first scope that binds `name` binds it only with imports of
    /// `path` (or `tf = tf.compat.v1`, which keeps a module of the same library under the
    /// name). Not when something else binds it there (a parameter, an assignment, a walrus,
    /// `except ... as`, a `case` capture, an import of another module under the name), nor
    /// when only another function imports it (a NameError), nor when the innermost function
    /// importing it does so only after `site`. For code in a function the module's bindings
    /// are those that reach the end of the module (the function runs later), a fact
    /// ([`super::FactKey::ModuleBinding`]); for module-level code, those that reach `site`, or
    /// when none does, every module-level binding of it. Where the scope binds it on some
    /// paths only (`if HAVE_TORCH: import torch.nn.functional as F`, an import in a `try`
    /// whose handler binds nothing, `if TYPE_CHECKING: import torch`), the name may be unbound
    /// at `site`: only where the code at `site` already reads it ([`Model::site_reads`]: its
    /// statement, or its function's body), so a fix adds no NameError.
    ///
    /// [`Model::shadows`] answers another question, the names a new import may not take.
    pub fn alias_reaches(&self, name: &str, path: &str, site: Node<'a>) -> bool {
        self.reaches(name, path, site, false)
    }

    /// [`Model::alias_reaches`], where a `name = None` binding (`except ImportError: softmax =
    /// None`, the fallback for a missing library) counts as a path binding the name nowhere:
    /// code at `site` that reads the name is written for the module where the import ran, and
    /// fails where the fallback ran (calling `None`) just as it would with the name unbound. A
    /// new import placed beside that import holds there ([`crate::rules::fixes::spell`]);
    /// `name` itself is not written through this (the fallback runs without the library).
    pub fn import_holds(&self, name: &str, path: &str, site: Node<'a>) -> bool {
        self.reaches(name, path, site, true)
    }

    fn reaches(&self, name: &str, path: &str, site: Node<'a>, none_unbinds: bool) -> bool {
        let chain = self.ancestry(site);
        let mut in_function = false;
        // Crossed a lambda or a comprehension: a class body around it is not (or, for a
        // comprehension's first iterable, is) what the code reads; one binding the name is
        // not trusted either way.
        let mut in_expression_scope = false;
        let mut innermost = true;
        for node in chain.iter().rev().skip(1) {
            let scope = match node.kind_name() {
                "list_comprehension" | "set_comprehension" | "dictionary_comprehension" | "generator_expression" => {
                    if self.comprehension_binds(*node, name) {
                        return false;
                    }
                    in_expression_scope = true;
                    continue;
                }
                "lambda" => {
                    if self.parameter(*node, name).is_some() {
                        return false;
                    }
                    in_expression_scope = true;
                    continue;
                }
                "function_definition" => {
                    if self.parameter(*node, name).is_some() || self.type_parameter(*node, name) {
                        return false;
                    }
                    in_function = true;
                    *node
                }
                // A class body's names are not visible in its methods, only in its own code.
                "class_definition" if !in_function && !in_expression_scope => *node,
                "class_definition" if !in_function => {
                    if self.scope_index(*node).binds(name) {
                        return false;
                    }
                    continue;
                }
                _ => continue,
            };
            let index = self.scope_index(scope);
            let entries = index.entries(name);
            // `del F` in a function that binds it nowhere else: the name is the function's own,
            // unbound wherever it is read.
            if entries.is_empty() && scope.kind_name() == "function_definition" && self.deletes(scope, name) {
                return false;
            }
            let declared =
                |e: &super::scope::Entry| matches!(e.node.kind_name(), "global_statement" | "nonlocal_statement");
            let fallback = |e: &super::scope::Entry<'a>| none_unbinds && self.binds_none(e);
            if entries.iter().filter(|e| !declared(e)).any(|e| !self.imports_path(name, path, e) && !fallback(e)) {
                return false;
            }
            if entries.iter().any(declared) {
                // `global F`: the name is the module's (or, `nonlocal`, an enclosing function's).
                innermost = false;
                continue;
            }
            if !entries.is_empty() {
                // Local to the scope: imported before `site` on some path, or any time before
                // a nested function holding `site` runs. Imported on some paths only (under an
                // `if`, in a `try`): the name may be unbound there.
                let reaching = if innermost {
                    index.reaching(name, site.start_byte())
                } else {
                    index.reaching(name, scope.end_byte())
                };
                let unbound = reaching.outer || reaching.entries.iter().any(fallback);
                return reaching.entries.iter().any(|e| self.imports_path(name, path, e))
                    && (!unbound || self.site_reads(name, site));
            }
            innermost = false;
        }
        if in_function {
            // A fact of the module: a function's cached findings hold while it is the same.
            let super::facts::Fact::Names(bound) = self.fact(&super::FactKey::ModuleBinding(name.into())) else {
                return false;
            };
            let unbound = |b: &String| b == MAY_BE_UNBOUND || (none_unbinds && b == NONE);
            return bound.iter().any(|b| b == path || b == KEEPS)
                && bound.iter().all(|b| b == path || b == KEEPS || unbound(b))
                && (!bound.iter().any(unbound) || self.site_reads(name, site));
        }
        let fallback = |e: &super::scope::Entry<'a>| none_unbinds && self.binds_none(e);
        let index = self.scope_index(self.tree.root_node());
        let reaching = index.reaching(name, site.start_byte());
        if reaching.entries.is_empty() {
            // Module-level code before the module's import of the name (a notebook's cells run
            // out of order, `y = torch.log(p); import torch`) reads it as the module binds it,
            // where the module binds it on every path.
            let entries = index.entries(name);
            let everywhere = !index.reaching(name, self.src.len()).outer;
            return entries.iter().any(|e| self.imports_path(name, path, e))
                && entries.iter().all(|e| self.imports_path(name, path, e) || fallback(e))
                && ((everywhere && !entries.iter().any(fallback)) || self.site_reads(name, site));
        }
        let unbound = reaching.outer || reaching.entries.iter().any(fallback);
        reaching.entries.iter().any(|e| self.imports_path(name, path, e))
            && reaching.entries.iter().all(|e| self.imports_path(name, path, e) || fallback(e))
            && (!unbound || self.site_reads(name, site))
    }

    /// The code at `site` already reads the name `name`, so that were it unbound there, the
    /// code would already raise the NameError a fix writing `name` there could: the simple
    /// statement holding `site` (an expression, an assignment, a `return`) reads it wherever
    /// it runs (not in a branch of a conditional expression, an operand `and`/`or` may skip, a
    /// lambda or a comprehension), or the body of the function holding `site` reads it
    /// anywhere outside annotations (`if is_torch_available(): import torch` and a method that
    /// calls `torch.arange`: the function is written for a module where the import ran;
    /// `torch.Tensor` in an annotation under `if TYPE_CHECKING:` is no such use).
    fn site_reads(&self, name: &str, site: Node<'a>) -> bool {
        let reads_value = |n: Node<'a>| {
            let Some(parent) = self.parent(n) else { return false };
            let field = |f| parent.child_by_field_id(f) == Some(n);
            !match parent.kind_name() {
                "attribute" => field(FIELD.attribute),
                "keyword_argument" => field(FIELD.name),
                "assignment" | "augmented_assignment" => field(FIELD.left),
                // `import torch.nn.functional as F`, `global F`: binds or declares, reads nothing.
                "aliased_import" | "dotted_name" | "global_statement" | "nonlocal_statement" => true,
                _ => false,
            }
        };
        let chain = self.ancestry(site);
        if let Some(i) = chain.iter().rposition(|n| matches!(n.kind_name(), "block" | "module"))
            && let Some(&statement) = chain.get(i + 1)
            && matches!(
                statement.kind_name(),
                "expression_statement" | "return_statement" | "assert_statement" | "delete_statement"
            )
        {
            let mut stack = vec![statement];
            while let Some(n) = stack.pop() {
                match n.kind_name() {
                    "conditional_expression"
                    | "boolean_operator"
                    | "lambda"
                    | "list_comprehension"
                    | "set_comprehension"
                    | "dictionary_comprehension"
                    | "generator_expression" => continue,
                    "identifier" if self.text(n) == name && reads_value(n) => return true,
                    _ => {}
                }
                let mut cursor = n.walk();
                stack.extend(n.named_children(&mut cursor));
            }
        }
        let Some(&function) = chain.iter().rev().find(|n| n.kind_name() == "function_definition") else {
            return false;
        };
        let Some(body) = function.child_by_field_id(FIELD.body) else { return false };
        let in_annotation = |n: Node<'a>| {
            let mut up = self.parent(n);
            while let Some(p) = up.filter(|p| *p != function) {
                if p.kind_name() == "type" {
                    return true;
                }
                up = self.parent(p);
            }
            false
        };
        self.identifiers(function).get(name).is_some_and(|uses| {
            uses.iter().any(|&u| {
                body.start_byte() <= u.start_byte()
                    && u.end_byte() <= body.end_byte()
                    && reads_value(u)
                    && !in_annotation(u)
            })
        })
    }

    /// [`super::FactKey::ModuleBinding`]: for each module-level binding of `name` that reaches
    /// the end of the module, the module an import binds it to, [`KEEPS`] for `tf =
    /// tf.compat.v1`, or `""` for anything else; and [`MAY_BE_UNBOUND`] when some path
    /// through the module binds it nowhere.
    pub(super) fn compute_module_binding(&self, name: &str) -> Vec<String> {
        let index = self.scope_index(self.tree.root_node());
        let reaching = index.reaching(name, self.src.len());
        let mut bound: Vec<String> = reaching
            .entries
            .iter()
            .map(|e| match e.node.kind_name() {
                "import_statement" | "import_from_statement" => {
                    super::imports::Imports::bound_by(e.node, self.src, name).unwrap_or_default()
                }
                _ if self.keeps_the_import(name, e) => KEEPS.to_string(),
                _ if self.binds_none(e) => NONE.to_string(),
                _ => String::new(),
            })
            .collect();
        if !bound.is_empty() && reaching.outer {
            bound.push(MAY_BE_UNBOUND.to_string());
        }
        // `del F` at module level: unbound after it, whatever reaches the end; `global F` and a
        // binding in a function: something else once it ran.
        if !bound.is_empty() && (self.deletes(self.tree.root_node(), name) || self.rebound_by_global(name)) {
            bound.push(String::new());
        }
        bound.sort();
        bound.dedup();
        bound
    }

    /// The binding `e` of `name` is an import of `path`, or `tf = tf.compat.v1`.
    fn imports_path(&self, name: &str, path: &str, e: &super::scope::Entry<'a>) -> bool {
        match e.node.kind_name() {
            "import_statement" | "import_from_statement" => {
                super::imports::Imports::bound_by(e.node, self.src, name).as_deref() == Some(path)
            }
            _ => self.keeps_the_import(name, e),
        }
    }

    /// [`super::FactKey::Rebound`]: the last module-level binding of `name` is no import, or
    /// the module deletes it (`del F`), or a function declares it `global` and binds it.
    pub(super) fn compute_rebound(&self, name: &str) -> bool {
        let index = self.scope_index(self.tree.root_node());
        index.entries(name).last().is_some_and(|e| !self.keeps_the_import(name, e))
            || self.deletes(self.tree.root_node(), name)
            || self.rebound_by_global(name)
    }

    /// A function (or a class body) of the file declares `global name` and binds or deletes
    /// the name (`global F` / `F = 3`): once it runs, the module's `name` is that.
    fn rebound_by_global(&self, name: &str) -> bool {
        let root = self.tree.root_node();
        let bytes = self.src.as_bytes();
        let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || !b.is_ascii();
        self.src.match_indices("global").any(|(i, _)| {
            if i.checked_sub(1).is_some_and(|j| ident(bytes[j])) || bytes.get(i + 6).is_some_and(|b| ident(*b)) {
                return false;
            }
            let Some(statement) = root
                .descendant_for_byte_range(i, i + 6)
                .and_then(|n| if n.kind_name() == "global_statement" { Some(n) } else { n.parent() })
                .filter(|n| n.kind_name() == "global_statement")
            else {
                return false;
            };
            let mut cursor = statement.walk();
            if !statement.named_children(&mut cursor).any(|n| n.kind_name() == "identifier" && self.text(n) == name) {
                return false;
            }
            let Some(scope) = self
                .binders_from(statement)
                .skip(1)
                .find(|n| matches!(n.kind_name(), "function_definition" | "class_definition"))
            else {
                return false;
            };
            self.scope_index(scope).entries(name).iter().any(|e| {
                !matches!(e.node.kind_name(), "global_statement" | "nonlocal_statement")
                    && !self.keeps_the_import(name, e)
            }) || self.deletes(scope, name)
        })
    }

    /// The binding `e` is `name = None` (`log = softmax = None`).
    fn binds_none(&self, e: &super::scope::Entry<'a>) -> bool {
        matches!(e.binding, Binding::Value(value) if unparenthesized(value).kind_name() == "none")
    }

    /// An import, or `tf = tf.compat.v1`: a module of the same library under the same name.
    fn keeps_the_import(&self, name: &str, e: &super::scope::Entry<'a>) -> bool {
        matches!(e.node.kind_name(), "import_statement" | "import_from_statement")
            || matches!(e.binding, Binding::Value(value) if {
                let value = unparenthesized(value);
                let mut root = value;
                while let Some(object) =
                    root.child_by_field_id(FIELD.object).filter(|_| root.kind_name() == "attribute")
                {
                    root = object;
                }
                root != value && root.kind_name() == "identifier" && self.text(root) == name
            })
    }
}

/// Element `position` of the tuple `rhs` written out (`softmax(z), z`, `(a, b)`, `[a, b]`) that
/// the targets of `assignment` unpack: when it has as many elements as each target list of the
/// assignment (else Python raises `ValueError` and binds nothing) and none is starred.
fn written_element<'a>(assignment: Node<'a>, rhs: Node<'a>, position: usize) -> Option<Node<'a>> {
    let elements = |list: Node<'a>| -> Vec<Node<'a>> {
        let mut cursor = list.walk();
        list.named_children(&mut cursor).filter(|e| e.kind_name() != "comment").collect()
    };
    let rhs = unparenthesized(rhs);
    if !matches!(rhs.kind_name(), "tuple" | "list" | "expression_list") {
        return None;
    }
    let values = elements(rhs);
    if values.iter().any(|e| matches!(e.kind_name(), "list_splat" | "parenthesized_list_splat")) {
        return None;
    }
    // `a, b = c, d = x, y`: each target list unpacks the same tuple; a name, an attribute or an
    // element (`p, q = r = x, y`) takes it whole.
    let mut node = assignment;
    loop {
        let left = node.child_by_field_id(FIELD.left)?;
        match left.kind_name() {
            "identifier" | "attribute" | "subscript" => {}
            "pattern_list" | "tuple_pattern" | "list_pattern" | "tuple" | "list" => {
                if elements(left).len() != values.len() {
                    return None;
                }
            }
            _ => return None,
        }
        match node.child_by_field_id(FIELD.right) {
            Some(r) if r.kind_name() == "assignment" => node = r,
            _ => break,
        }
    }
    values.get(position).copied()
}

/// Every target of `assignment` and of the assignments chained to it (`p = q = v`) is a name,
/// or a tuple or list of names: it writes into no object (`z[0]`, `z.data`).
fn writes_names_only(assignment: Node) -> bool {
    let mut node = Some(assignment);
    while let Some(a) = node.filter(|n| n.kind_name() == "assignment") {
        let Some(left) = a.child_by_field_id(FIELD.left) else { return false };
        let mut stack = vec![left];
        while let Some(t) = stack.pop() {
            match t.kind_name() {
                "identifier" => {}
                "pattern_list" | "tuple_pattern" | "list_pattern" | "parenthesized_expression" | "tuple" | "list" => {
                    let mut cursor = t.walk();
                    stack.extend(t.named_children(&mut cursor));
                }
                _ => return false,
            }
        }
        node = a.child_by_field_id(FIELD.right);
    }
    true
}

#[cfg(test)]
mod tests {
    use crate::semantic::Model;
    use crate::syntax::{KindName, parse};

    /// The text of the value `bound_value` gives the last `name` read in `src`, and the kind of
    /// its binder.
    fn bound(src: &str, name: &str) -> Option<(String, String)> {
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let at = src.rfind(&format!("({name})")).unwrap() + 1;
        let node = tree.root_node().descendant_for_byte_range(at, at + name.len()).unwrap();
        let (binder, value) = model.bound_value(node)?;
        Some((model.text(value).to_string(), binder.kind_name().to_string()))
    }

    #[test]
    fn a_name_is_bound_by_an_element_of_a_tuple_or_an_assignment_expression() {
        let f = |body: &str| bound(&format!("def f(z, w):\n{body}    return g(p)\n"), "p");
        let element = |v: &str| Some((v.to_string(), "assignment".to_string()));
        assert_eq!(f("    p = s(z)\n"), element("s(z)"));
        assert_eq!(f("    p, q = s(z), z\n"), element("s(z)"));
        assert_eq!(f("    q, (p) = [z, s(z)]\n"), None, "a parenthesized target is no flat name");
        assert_eq!(f("    (q, p) = [z, s(z)]\n"), element("s(z)"));
        assert_eq!(f("    p, q = r = s(z), z\n"), element("s(z)"));
        assert_eq!(f("    r, p = q, w = s(z), z\n"), element("z"));
        assert_eq!(
            f("    if (p := s(z)) is not None:\n        pass\n"),
            Some(("s(z)".into(), "named_expression".into()))
        );
        // Python binds nothing (a `ValueError`), the last of two, or an element unknown.
        assert_eq!(f("    p, q = s(z), z, w\n"), None);
        assert_eq!(f("    p, p = s(z), z\n"), None);
        assert_eq!(f("    p, q = r, p = s(z), z\n"), None);
        assert_eq!(f("    p, q = *w, z\n"), None);
        assert_eq!(f("    p, q = w\n"), None);
        assert_eq!(f("    p, *q = s(z), z, w\n"), None);
        // A walrus that may not run binds something unknown.
        assert_eq!(f("    if w and (p := s(z)):\n        pass\n"), None);
    }

    #[test]
    fn a_statement_that_also_writes_into_an_object_assigns_no_value_to_read() {
        let assigned = |body: &str| {
            let src = format!("def f(z, w):\n{body}    return g(p)\n");
            let tree = parse(&src);
            let model = Model::of(&src, &tree);
            let at = src.rfind("(p)").unwrap() + 1;
            let node = tree.root_node().descendant_for_byte_range(at, at + 1).unwrap();
            model.assigned_value(node).map(|(_, value)| model.text(value).to_string())
        };
        assert_eq!(assigned("    p = s(z)\n"), Some("s(z)".to_string()));
        assert_eq!(assigned("    p = q = s(z)\n"), Some("s(z)".to_string()));
        // `z` holds the sigmoid's values afterwards: `log_sigmoid(z)` would read them.
        assert_eq!(assigned("    p = z.data = s(z)\n"), None);
        assert_eq!(assigned("    p = z[0] = s(z)\n"), None);
    }
}
