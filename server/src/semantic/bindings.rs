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
}
