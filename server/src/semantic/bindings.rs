//! Questions about names that rewrites ask: which single expression a name holds at a use, whether
//! an expression read at another place would give the same value, and a name no code uses yet.
//!
//! A rewrite that moves an expression (`p = softmax(z)` ... `log(p)` → `log_softmax(z)`) may only
//! read `z` again where `z` still holds what it held at the softmax: the same bindings reach both
//! places. Calls are never read again (a model's forward pass, a random draw).

use tree_sitter::Node;

use super::Model;
use super::scope::Binding;
use crate::syntax::{FIELD, KindName, unparenthesized};

impl<'a> Model<'a> {
    /// `(assignment, value)` when the name `name` holds exactly `value` at this use: one
    /// `name = value` reaches it and nothing from outside the scope does.
    pub fn assigned_value(&self, name: Node<'a>) -> Option<(Node<'a>, Node<'a>)> {
        if name.kind_name() != "identifier" {
            return None;
        }
        let scope = self.scope_of(name);
        let reaching = self.scope_index(scope).reaching(self.text(name), name.start_byte());
        match (reaching.entries.as_slice(), reaching.outer) {
            ([entry], false) => match entry.binding {
                Binding::Value(rhs) => Some((entry.node, unparenthesized(rhs))),
                _ => None,
            },
            _ => None,
        }
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

    /// `base` if no identifier of the file spells it and no import binds it, else `base_2`,
    /// `base_3`...: a name a new binding can take without shadowing anything.
    pub fn fresh_name(&self, base: &str) -> String {
        match self.fact(&super::FactKey::FreshName(base.into())) {
            super::facts::Fact::Names(names) if !names.is_empty() => names[0].clone(),
            _ => self.compute_fresh_name(base),
        }
    }

    /// [`Model::fresh_name`], computed from the file's text.
    pub(super) fn compute_fresh_name(&self, base: &str) -> String {
        let used = |name: &str| {
            self.imports.binding(name).is_some()
                || self.src.match_indices(name).any(|(i, _)| {
                    let bytes = self.src.as_bytes();
                    let before = i.checked_sub(1).map(|j| bytes[j]);
                    let after = bytes.get(i + name.len()).copied();
                    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || !b.is_ascii();
                    !before.is_some_and(ident) && !after.is_some_and(ident)
                })
        };
        if !used(base) {
            return base.to_string();
        }
        (2..).map(|n| format!("{base}_{n}")).find(|n| !used(n)).unwrap_or_else(|| base.to_string())
    }

    /// Whether something other than an import binds `name` where code at `site` reads it, so
    /// that a fix writing `name.f(...)` there would call an attribute of that value: a
    /// parameter (of the enclosing functions or lambdas), a variable of a comprehension holding
    /// `site`, any assignment, loop variable, `with ... as` or definition of `name` in an
    /// enclosing function (Python makes it local to the whole function), or at module level a
    /// binding after which no import binds it again (for code in a function, the last binding in
    /// the file; for module-level code, one that may reach `site`). Class bodies do not count:
    /// their names are not visible inside their methods; nor does `tf = tf.compat.v1`, which
    /// keeps a module of the same library under the name.
    pub fn shadows(&self, name: &str, site: Node<'a>) -> bool {
        let chain = self.ancestry(site);
        let mut in_function = false;
        for node in chain.iter().rev().skip(1) {
            match node.kind_name() {
                "list_comprehension" | "set_comprehension" | "dictionary_comprehension" | "generator_expression" => {
                    let mut cursor = node.walk();
                    for clause in node.named_children(&mut cursor).filter(|c| c.kind_name() == "for_in_clause") {
                        if let Some(left) = clause.child_by_field_id(FIELD.left)
                            && super::scope::identifiers(left).iter().any(|n| self.text(*n) == name)
                        {
                            return true;
                        }
                    }
                }
                "lambda" if self.parameter(*node, name).is_some() => return true,
                "function_definition" => {
                    in_function = true;
                    if self.parameter(*node, name).is_some() {
                        return true;
                    }
                    let index = self.scope_index(*node);
                    let entries = index.entries(name);
                    if entries.iter().any(|e| !self.keeps_the_import(name, e)) {
                        return true;
                    }
                    if !entries.is_empty() {
                        // The function imports the name itself.
                        return false;
                    }
                }
                _ => {}
            }
        }
        if in_function {
            // A fact of the module: a function's cached findings hold while it is the same.
            return matches!(self.fact(&super::FactKey::Rebound(name.into())), super::facts::Fact::Names(n) if !n.is_empty());
        }
        let index = self.scope_index(self.tree.root_node());
        index.reaching(name, site.start_byte()).entries.iter().any(|e| !self.keeps_the_import(name, e))
    }

    /// [`super::FactKey::Rebound`]: the last module-level binding of `name` is no import.
    pub(super) fn compute_rebound(&self, name: &str) -> bool {
        let index = self.scope_index(self.tree.root_node());
        index.entries(name).last().is_some_and(|e| !self.keeps_the_import(name, e))
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
