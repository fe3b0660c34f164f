//! Bindings and reaching definitions within one scope (a function, or the module), built once
//! per scope and analysis.
//!
//! `reaching(name, at)` answers which bindings of `name` may supply its value at byte `at`:
//! the statements before `at` in its block are read backwards, an `if` with an `else` whose
//! every branch binds the name counts as a definite binding, a branch that may not run (an `if`
//! without `else`, a loop body, a `try` body, an `except` clause) adds its bindings to the join
//! and the search goes on above it, and branches that cannot precede `at` (the other branches of
//! the `if` that holds `at`) are skipped. Loop back edges are not followed: a use inside a loop
//! sees the bindings before it in the loop body and above the loop.

// foldhash, not SipHash: built for each scope an analysis reads (no untrusted keys here).
use foldhash::HashMap;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use tree_sitter::Node;

use crate::syntax::{FIELD, KindName, child_holding, is_scope, statements_holding, text};

/// How a statement binds a name.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Binding<'t> {
    /// `name = value`, `name: T = value`, each name of `a = b = value`.
    Value(Node<'t>),
    /// `a, b = value`: one element of `value`.
    Unpacked(Node<'t>),
    /// `name op= value`: the previous value combined with `value` (`op` is the operator node).
    Augmented { op: Node<'t>, value: Node<'t> },
    /// `name[index] = value`: elements of the previous value replaced.
    Element { index: Node<'t>, value: Node<'t> },
    /// `name.clamp_(...)`, `name.uniform_(...)`: an in-place method call on the previous value.
    InPlace(Node<'t>),
    /// `for name in iterable`: an element of `iterable`.
    Loop(Node<'t>),
    /// `def name` or `class name`.
    Definition(Node<'t>),
    /// `with ... as name`, `except ... as name`, `import`, `global`: nothing known.
    Opaque,
}

/// One binding: the node that performs it (the statement or call) and how.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'t> {
    pub node: Node<'t>,
    pub binding: Binding<'t>,
}

/// What may reach a use: bindings in this scope, and whether the name may also come from outside
/// it (a parameter, an enclosing function, the module, a builtin) on some path.
#[derive(Clone, Debug, Default)]
pub struct Reaching<'t> {
    pub entries: Vec<Entry<'t>>,
    pub outer: bool,
}

/// How deep compound statements are followed when looking for bindings.
const MAX_NESTING: u32 = 48;

pub struct ScopeIndex<'t> {
    scope: Node<'t>,
    by_name: HashMap<&'t str, Vec<Entry<'t>>>,
    /// Every child of the root, in order, when `scope` is the root and they were given: the
    /// statement of the module holding a binding is found by binary search in them. tree-sitter
    /// searches a module's some 300 statements one by one (`Node::child_with_descendant`), and a
    /// keystroke's check of the cached functions asks it of each class they read.
    root_children: Option<Vec<Node<'t>>>,
    /// The walks back through a block's statements that [`ScopeIndex::reaching`] starts, by the
    /// name's bindings (the address of their list), the block and the byte they start before:
    /// each statement's part of a walk is read once, and the walks from later statements of
    /// the block share it (`if c == i: p = p * 2`, n times: each use read every earlier `if`
    /// again, n² statements in all).
    walks: RefCell<HashMap<WalkKey, Option<Rc<Segment<'t>>>>>,
}

/// A walk back through a block: (the address of the name's bindings, the block's id, the byte
/// it starts before).
type WalkKey = (usize, usize, usize);

/// What one statement of a block binds that may reach past it, in a walk back through the
/// block's statements (see [`ScopeIndex::walk_back`]).
struct Segment<'t> {
    /// Its bindings that may reach its end, latest first.
    entries: Vec<Entry<'t>>,
    /// Whether it binds on every path: the walk ends here.
    definite: bool,
    /// The walk through the statements before it that bind the name (none: no such statement,
    /// or this one is definite).
    before: Option<Rc<Segment<'t>>>,
}

thread_local! {
    /// Statements read walking back through blocks for reaching bindings on this thread, for
    /// [`crate::engine::Stats`].
    static REACHING_STEPS: Cell<usize> = const { Cell::new(0) };
}

/// The statements [`ScopeIndex::reaching`] has read on this thread so far, walking back
/// through blocks for the bindings of a name (those of the compound statements it read
/// included).
pub fn reaching_steps() -> usize {
    REACHING_STEPS.with(Cell::get)
}

fn count_reaching_step() {
    REACHING_STEPS.with(|c| c.set(c.get() + 1));
}

impl<'t> ScopeIndex<'t> {
    /// Every binding in `scope` (a function definition or the module), outside nested scopes.
    /// Iterative: deep nesting cannot overflow the stack.
    pub fn build(scope: Node<'t>, src: &'t str) -> Self {
        Self::build_from(scope, None, src)
    }

    /// [`ScopeIndex::build`] of the tree's root, whose children (`root.children(..)`, in order,
    /// as [`crate::syntax::TopLevel`] keeps them) are given: the same index, without a second
    /// walk through them. A module's statements hang from a balanced tree of hidden nodes, so
    /// each step from one to the next costs some 600 instructions (a 5,000-line file's 300
    /// statements: the index built on every keystroke walked them again after `TopLevel` had),
    /// and only the statements outside definitions are searched for `:=` (the whole file's text
    /// was).
    pub fn build_module(root: Node<'t>, children: &[Node<'t>], src: &'t str) -> Self {
        Self::build_from(root, Some(children), src)
    }

    /// [`ScopeIndex::build`], with the children of the root when `scope` is the root and they
    /// are known.
    fn build_from(scope: Node<'t>, root_children: Option<&[Node<'t>]>, src: &'t str) -> Self {
        let mut by_name: HashMap<&'t str, Vec<Entry<'t>>> = HashMap::default();
        let mut add = |name: &'t str, node: Node<'t>, binding: Binding<'t>| {
            by_name.entry(name).or_default().push(Entry { node, binding });
        };
        let body = if is_module(scope) { Some(scope) } else { scope.child_by_field_id(FIELD.body) };
        // The root's named children, when given (a `module` or `ERROR` root, which the loop
        // below reads as a node whose children hold bindings): pushed as the loop would push
        // them after popping the root.
        let every_child = root_children
            .filter(|_| scope.parent().is_none() && matches!(scope.kind_name(), "module" | "ERROR"))
            .map(<[Node<'t>]>::to_vec);
        let root_children: Option<Vec<Node<'t>>> =
            every_child.as_ref().map(|children| children.iter().copied().filter(Node::is_named).collect());
        let mut stack: Vec<Node<'t>> = Vec::new();
        match &root_children {
            Some(children) => stack.extend(children.iter().copied().filter(|c| enters(c.kind_name()))),
            None => stack.extend(body),
        }
        while let Some(node) = stack.pop() {
            match node.kind_name() {
                "assignment" => {
                    bind_assignment(node, src, &mut add);
                    continue;
                }
                "augmented_assignment" => {
                    if let (Some(left), Some(op), Some(value)) = (
                        node.child_by_field_id(FIELD.left),
                        node.child_by_field_id(FIELD.operator),
                        node.child_by_field_id(FIELD.right),
                    ) && left.kind_name() == "identifier"
                    {
                        add(text(left, src), node, Binding::Augmented { op, value });
                    } else if let Some(array) =
                        node.child_by_field_id(FIELD.left).filter(|l| l.kind_name() == "subscript")
                        && let Some(array) =
                            array.child_by_field_id(FIELD.value).filter(|a| a.kind_name() == "identifier")
                    {
                        // Range family (issue 9): `w[i:j] += v` changes some elements of `w` by
                        // an unknown amount (`w = zeros(n)` is no longer all zeros).
                        add(text(array, src), node, Binding::Opaque);
                    }
                    continue;
                }
                "call" => {
                    if let Some(name) = in_place_target(node, src) {
                        add(name, node, Binding::InPlace(node));
                    } else if let Some(name) = mutated_argument(node, src) {
                        add(name, node, Binding::Opaque);
                    }
                    continue;
                }
                "function_definition" | "class_definition" => {
                    if let Some(name) = node.child_by_field_id(FIELD.name) {
                        add(text(name, src), node, Binding::Definition(node));
                    }
                    continue;
                }
                "for_statement" => {
                    if let (Some(left), Some(right)) =
                        (node.child_by_field_id(FIELD.left), node.child_by_field_id(FIELD.right))
                    {
                        for name in identifiers(left) {
                            let binding =
                                if left.kind_name() == "identifier" { Binding::Loop(right) } else { Binding::Opaque };
                            add(text(name, src), left, binding);
                        }
                    }
                }
                "as_pattern" | "except_clause" => {
                    if let Some(alias) = node.child_by_field_id(FIELD.alias) {
                        for name in identifiers(alias) {
                            add(text(name, src), alias, Binding::Opaque);
                        }
                    }
                }
                "case_clause" => {
                    // `case F:`, `case [a, *rest]`, `case P(x=c) as d`: the pattern's captures.
                    let mut cursor = node.walk();
                    for pattern in node.named_children(&mut cursor).filter(|c| c.kind_name() == "case_pattern") {
                        for name in captures(pattern) {
                            add(text(name, src), pattern, Binding::Opaque);
                        }
                    }
                }
                "global_statement" | "nonlocal_statement" | "import_statement" | "import_from_statement" => {
                    let mut cursor = node.walk();
                    for child in node.named_children(&mut cursor) {
                        let name = match child.kind_name() {
                            "aliased_import" => child.child_by_field_id(FIELD.alias),
                            "dotted_name" => child.named_child(0),
                            "identifier" => Some(child),
                            _ => None,
                        };
                        if node.child_by_field_id(FIELD.module_name) == Some(child) {
                            continue;
                        }
                        if let Some(name) = name {
                            add(text(name, src), node, Binding::Opaque);
                        }
                    }
                    continue;
                }
                _ => {}
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor).filter(|child| enters(child.kind_name())));
        }
        // `(F := x.shape[-1])` anywhere in the scope's expressions (a comprehension's included,
        // whose walrus binds in the enclosing scope) binds the name: Python makes it local to
        // the whole function. Most scopes have none; a text search is cheaper than a walk. (The
        // walk below enters no definition: a walrus it finds lies in a root child that is none.)
        let walrus = match &root_children {
            Some(children) => children.iter().any(|c| {
                !matches!(c.kind_name(), "function_definition" | "class_definition") && text(*c, src).contains(":=")
            }),
            None => body.is_some_and(|b| text(b, src).contains(":=")),
        };
        // A walrus that runs whenever its statement does binds its value (`if (p := softmax(z))
        // is not None:`, the condition of a conditional expression, the left operand of
        // `and`/`or`); one that may not run (the right operand of `and`/`or`, a branch of a
        // conditional expression, a comprehension) binds something unknown.
        if let Some(body) = body
            && walrus
        {
            let mut stack = vec![(body, false)];
            while let Some((node, conditional)) = stack.pop() {
                let test = runs_first(node);
                if node.kind_name() == "named_expression"
                    && let Some(name) = node.child_by_field_id(FIELD.name)
                {
                    let binding = match node.child_by_field_id(FIELD.value) {
                        Some(value) if !conditional => Binding::Value(value),
                        _ => Binding::Opaque,
                    };
                    add(text(name, src), node, binding);
                }
                let inside = conditional
                    || matches!(
                        node.kind_name(),
                        "boolean_operator"
                            | "conditional_expression"
                            | "list_comprehension"
                            | "set_comprehension"
                            | "dictionary_comprehension"
                            | "generator_expression"
                    );
                let mut cursor = node.walk();
                stack.extend(
                    node.named_children(&mut cursor)
                        .filter(|c| !matches!(c.kind_name(), "function_definition" | "class_definition" | "lambda"))
                        // The test (the left operand) runs whenever the expression does.
                        .map(|c| (c, if Some(c) == test { conditional } else { inside })),
                );
            }
        }
        for entries in by_name.values_mut() {
            entries.sort_by_key(|e| e.node.start_byte());
        }
        ScopeIndex { scope, by_name, root_children: every_child, walks: RefCell::default() }
    }

    pub fn scope(&self) -> Node<'t> {
        self.scope
    }

    /// Every binding of `name` in this scope, in source order.
    pub fn entries(&self, name: &str) -> &[Entry<'t>] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }

    /// Whether this scope binds `name` anywhere.
    pub fn binds(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Whether this scope binds `name` inside the byte range `within` (a loop's body, whose
    /// bindings reach its start again on the next pass, which [`ScopeIndex::reaching`] leaves out).
    pub fn binds_within(&self, name: &str, within: std::ops::Range<usize>) -> bool {
        self.by_name.get(name).is_some_and(|entries| {
            let i = entries.partition_point(|e| e.node.start_byte() < within.start);
            entries.get(i).is_some_and(|e| e.node.start_byte() < within.end)
        })
    }

    /// The bindings of `name` that may reach byte `at` (see the module documentation).
    pub fn reaching(&self, name: &str, at: usize) -> Reaching<'t> {
        let Some(entries) = self.by_name.get(name) else {
            return Reaching { entries: Vec::new(), outer: true };
        };
        let mut found = Vec::new();
        // At or past the end of the scope: every statement of it comes before.
        if at >= self.scope.end_byte() {
            let body = if is_module(self.scope) { Some(self.scope) } else { self.scope.child_by_field_id(FIELD.body) };
            let definite = body.is_some_and(|b| self.walk_back(entries, b, usize::MAX, usize::MAX, &mut found));
            return Reaching { entries: found, outer: !definite };
        }
        let chain = statements_holding(self.scope, at);
        if let Some(entry) = chain.last().and_then(|s| bound_by_a_test(entries, *s, at)) {
            return Reaching { entries: vec![entry], outer: false };
        }
        // Blocks holding `at`, innermost first, each with the statement of it that holds `at`.
        for i in (1..chain.len()).rev() {
            let block = chain[i];
            // An `ERROR` node holds statements in order, as a block does.
            if !matches!(block.kind_name(), "block" | "module" | "ERROR") {
                continue;
            }
            let Some(&holder) = chain.get(i + 1) else { continue };
            if self.walk_back(entries, block, holder.start_byte(), at, &mut found) {
                return Reaching { entries: found, outer: false };
            }
            // The header of the construct that owns the block binds before the block runs:
            // `for name in ...:`, `with ... as name:`, `except E as name:`.
            let owner = chain[i - 1];
            let lo = entries.partition_point(|e| e.node.start_byte() < owner.start_byte());
            let hi = entries.partition_point(|e| e.node.start_byte() < block.start_byte());
            if lo < hi && owner != self.scope {
                found.push(entries[hi - 1]);
                return Reaching { entries: found, outer: false };
            }
            // An `elif` or `else` branch runs after the `if`'s condition: a walrus there binds
            // before it (`if (n := len(x)) == 0: ... else: 1 / n`).
            if matches!(owner.kind_name(), "elif_clause" | "else_clause")
                && let Some(&statement) = i.checked_sub(2).and_then(|k| chain.get(k))
                && statement.kind_name() == "if_statement"
                && let Some(consequence) = statement.child_by_field_id(FIELD.consequence)
            {
                let lo = entries.partition_point(|e| e.node.start_byte() < statement.start_byte());
                let hi = entries.partition_point(|e| e.node.start_byte() < consequence.start_byte());
                if let Some(last) = entries[lo..hi].last() {
                    found.push(*last);
                    if matches!(last.binding, Binding::Value(_)) {
                        return Reaching { entries: found, outer: false };
                    }
                }
            }
            if Some(block) == self.scope.child_by_field_id(FIELD.body) {
                break;
            }
        }
        if is_module(self.scope) {
            let holder = chain.get(1).copied().unwrap_or(self.scope);
            if self.walk_back(entries, self.scope, holder.start_byte(), at, &mut found) {
                return Reaching { entries: found, outer: false };
            }
        }
        Reaching { entries: found, outer: true }
    }

    /// The bindings in the statements of `block` before `limit` (the start of one of them, or
    /// past its end; `at`, the use, is not before it), latest first, added to `found`:
    /// [`ScopeIndex::block_before`] of the statements, each read once per name and block and
    /// shared by the walks from the statements after it. True when one of them binds on every
    /// path.
    fn walk_back(
        &self,
        entries: &[Entry<'t>],
        block: Node<'t>,
        limit: usize,
        at: usize,
        found: &mut Vec<Entry<'t>>,
    ) -> bool {
        debug_assert!(at >= limit);
        #[cfg(test)]
        if tests::UNSHARED.with(Cell::get) {
            return self.block_before(entries, block, limit, at, found, 0);
        }
        let mut walk = self.segments_before(entries, block, limit);
        while let Some(segment) = walk {
            found.extend_from_slice(&segment.entries);
            if segment.definite {
                return true;
            }
            walk = segment.before.clone();
        }
        false
    }

    /// The walk back from `limit` through the statements of `block` binding a name whose
    /// bindings are `entries`: its latest segment. Built once for each statement; iterative (a
    /// block of 100,000 statements cannot overflow the stack).
    fn segments_before(&self, entries: &[Entry<'t>], block: Node<'t>, limit: usize) -> Option<Rc<Segment<'t>>> {
        let key = |limit: usize| (entries.as_ptr() as usize, block.id(), limit);
        let lo = entries.partition_point(|e| e.node.start_byte() < block.start_byte());
        // The statements read, latest first, each with the limit its walk starts from.
        let mut read: Vec<(usize, Vec<Entry<'t>>, bool)> = Vec::new();
        let mut limit = limit;
        let mut tail = loop {
            if let Some(walk) = self.walks.borrow().get(&key(limit)) {
                break walk.clone();
            }
            let hi = entries.partition_point(|e| e.node.start_byte() < limit).max(lo);
            let Some(&entry) = entries[lo..hi].last() else {
                self.walks.borrow_mut().insert(key(limit), None);
                break None;
            };
            count_reaching_step();
            // The statement of `block` that holds this binding (as `block_before` finds it).
            let statement = match &self.root_children {
                Some(children) if block == self.scope => child_holding(block, children, entry.node),
                _ => block.child_with_descendant(entry.node),
            }
            .unwrap_or(entry.node);
            let statement = if statement == block { entry.node } else { statement };
            let mut bound = Vec::new();
            let definite = self.statement_binds(entries, statement, &mut bound, 0);
            read.push((limit, bound, definite));
            if definite {
                break None;
            }
            limit = statement.start_byte();
        };
        while let Some((limit, entries_of, definite)) = read.pop() {
            let segment =
                Rc::new(Segment { entries: entries_of, definite, before: if definite { None } else { tail } });
            self.walks.borrow_mut().insert(key(limit), Some(segment.clone()));
            tail = Some(segment);
        }
        tail
    }

    /// The bindings in the statements of `block` that end before `limit` (and before `at`),
    /// latest first, added to `found`. True when one of them binds on every path.
    fn block_before(
        &self,
        entries: &[Entry<'t>],
        block: Node<'t>,
        limit: usize,
        at: usize,
        found: &mut Vec<Entry<'t>>,
        depth: u32,
    ) -> bool {
        // Statements nested deeper than this are read as binding something unknown.
        if depth > MAX_NESTING {
            found.push(Entry { node: block, binding: Binding::Opaque });
            return false;
        }
        let lo = entries.partition_point(|e| e.node.start_byte() < block.start_byte());
        let hi = entries.partition_point(|e| e.node.start_byte() < limit.min(at));
        let mut i = hi;
        while i > lo {
            let entry = entries[i - 1];
            // The statement of `block` that holds this binding.
            let statement = match &self.root_children {
                Some(children) if block == self.scope => child_holding(block, children, entry.node),
                _ => block.child_with_descendant(entry.node),
            }
            .unwrap_or(entry.node);
            let statement = if statement == block { entry.node } else { statement };
            if statement.end_byte() > at && statement.start_byte() < limit {
                // Holds `at` itself (`p = f(p)` at the use inside): not before it.
                i -= 1;
                continue;
            }
            count_reaching_step();
            let definite = self.statement_binds(entries, statement, found, depth);
            if definite {
                return true;
            }
            // Skip the other bindings inside this statement: already accounted for.
            i = entries[..i].partition_point(|e| e.node.start_byte() < statement.start_byte());
        }
        false
    }

    /// Adds the bindings that may reach the end of `statement`; true when it binds on every path.
    fn statement_binds(
        &self,
        entries: &[Entry<'t>],
        statement: Node<'t>,
        found: &mut Vec<Entry<'t>>,
        depth: u32,
    ) -> bool {
        let inside = |n: Node| {
            let lo = entries.partition_point(|e| e.node.start_byte() < n.start_byte());
            let hi = entries.partition_point(|e| e.node.start_byte() < n.end_byte());
            lo < hi
        };
        if !inside(statement) {
            return false;
        }
        // A walrus in the header (an `if`'s condition, a `match`'s subject) runs whenever the
        // statement does, before any branch: it reaches past the statement unless every branch
        // binds again.
        let header = |found: &mut Vec<Entry<'t>>| {
            let end = match statement.kind_name() {
                "if_statement" => statement.child_by_field_id(FIELD.consequence),
                "match_statement" => statement.child_by_field_id(FIELD.body),
                _ => None,
            }
            .map_or(statement.start_byte(), |b| b.start_byte());
            let lo = entries.partition_point(|e| e.node.start_byte() < statement.start_byte());
            let hi = entries.partition_point(|e| e.node.start_byte() < end);
            match entries[lo..hi].last() {
                Some(last) if last.node.kind_name() == "named_expression" => {
                    found.push(*last);
                    matches!(last.binding, Binding::Value(_))
                }
                _ => false,
            }
        };
        match statement.kind_name() {
            "if_statement" => {
                let mut all = true;
                let mut has_else = false;
                let mut cursor = statement.walk();
                let branches: Vec<Node> = std::iter::once(statement.child_by_field_id(FIELD.consequence))
                    .flatten()
                    .chain(statement.children_by_field_name("alternative", &mut cursor))
                    .collect();
                for branch in branches {
                    has_else |= branch.kind_name() == "else_clause";
                    let block = if branch.kind_name() == "block" {
                        Some(branch)
                    } else {
                        branch.child_by_field_id(FIELD.consequence).or_else(|| branch.child_by_field_id(FIELD.body))
                    };
                    let definite = match block {
                        Some(b) => self.block_before(entries, b, b.end_byte(), usize::MAX, found, depth + 1),
                        None => false,
                    };
                    all &= definite;
                }
                // Every branch binds: the header's binding is overwritten.
                if all && has_else {
                    return true;
                }
                header(found)
            }
            "for_statement" | "while_statement" => {
                // The loop target itself binds before the body runs; the body may not run.
                let body_start =
                    statement.child_by_field_id(FIELD.body).map_or(statement.end_byte(), |b| b.start_byte());
                let lo = entries.partition_point(|e| e.node.start_byte() < statement.start_byte());
                let hi = entries.partition_point(|e| e.node.start_byte() < body_start);
                found.extend_from_slice(&entries[lo..hi]);
                if let Some(body) = statement.child_by_field_id(FIELD.body) {
                    self.block_before(entries, body, body.end_byte(), usize::MAX, found, depth + 1);
                }
                if let Some(alt) =
                    statement.child_by_field_id(FIELD.alternative).and_then(|a| a.child_by_field_id(FIELD.body))
                {
                    self.block_before(entries, alt, alt.end_byte(), usize::MAX, found, depth + 1);
                }
                // A walrus in a `while`'s condition (among the bindings before the body, added
                // above) runs at least once.
                statement.kind_name() == "while_statement"
                    && entries[lo..hi].last().is_some_and(|e| {
                        e.node.kind_name() == "named_expression" && matches!(e.binding, Binding::Value(_))
                    })
            }
            "try_statement" => {
                let mut definite = false;
                let mut cursor = statement.walk();
                for child in statement.named_children(&mut cursor) {
                    let block = if child.kind_name() == "block" {
                        Some(child)
                    } else {
                        child.named_children(&mut child.walk()).find(|c| c.kind_name() == "block")
                    };
                    if let Some(b) = block {
                        let d = self.block_before(entries, b, b.end_byte(), usize::MAX, found, depth + 1);
                        definite |= d && child.kind_name() == "finally_clause";
                    }
                }
                definite
            }
            "with_statement" => {
                let mut definite = false;
                if let Some(body) = statement.child_by_field_id(FIELD.body) {
                    definite = self.block_before(entries, body, body.end_byte(), usize::MAX, found, depth + 1);
                }
                // `with ... as name` binds before the body.
                let lo = entries.partition_point(|e| e.node.start_byte() < statement.start_byte());
                let body_start =
                    statement.child_by_field_id(FIELD.body).map_or(statement.end_byte(), |b| b.start_byte());
                let hi = entries.partition_point(|e| e.node.start_byte() < body_start);
                if !definite && lo < hi {
                    found.push(entries[hi - 1]);
                    return true;
                }
                definite
            }
            "match_statement" | "decorated_definition" | "block" => {
                let mut cursor = statement.walk();
                let mut definite = false;
                for child in statement.named_children(&mut cursor) {
                    if child.kind_name() == "block" {
                        self.block_before(entries, child, child.end_byte(), usize::MAX, found, depth + 1);
                    }
                    if statement.kind_name() == "decorated_definition"
                        && matches!(child.kind_name(), "function_definition" | "class_definition")
                    {
                        definite |= self.statement_binds(entries, child, found, depth + 1);
                    }
                }
                if statement.kind_name() == "match_statement" {
                    // Each case is a branch that may not run.
                    let mut stack = vec![statement];
                    while let Some(n) = stack.pop() {
                        let mut c = n.walk();
                        for child in n.named_children(&mut c) {
                            if child.kind_name() == "block" {
                                self.block_before(entries, child, child.end_byte(), usize::MAX, found, depth + 1);
                            } else if !is_scope(child.kind_name()) {
                                stack.push(child);
                            }
                        }
                    }
                }
                definite || header(found)
            }
            _ => {
                // A simple statement: its bindings in order, the last one wins; an augmented or
                // in-place binding also depends on the previous value, which the evaluator asks for.
                let lo = entries.partition_point(|e| e.node.start_byte() < statement.start_byte());
                let hi = entries.partition_point(|e| e.node.start_byte() < statement.end_byte());
                match entries[lo..hi].last() {
                    Some(last) => {
                        found.push(*last);
                        true
                    }
                    None => false,
                }
            }
        }
    }
}

/// The binding of a name by a walrus in the test of a conditional expression that holds the
/// use at byte `at` in one of its branches, or in the left operand of an `and`/`or` that holds
/// it in its right one, inside `statement`: that operand runs first (`log(p) if (p :=
/// softmax(z)) is not None else None`, `None if (p := f()) is None else log(p)`, `(p := f())
/// is not None and log(p)`). None when the branch binds the name before the use too (the default reading then
/// stands: nothing of the statement reaches). Looked for only in a statement that holds a
/// walrus of the name.
fn bound_by_a_test<'t>(entries: &[Entry<'t>], statement: Node<'t>, at: usize) -> Option<Entry<'t>> {
    let within = |lo: usize, hi: usize| {
        let i = entries.partition_point(|e| e.node.start_byte() < lo);
        let j = entries.partition_point(|e| e.node.start_byte() < hi);
        &entries[i..j.max(i)]
    };
    if !within(statement.start_byte(), statement.end_byte()).iter().any(|e| e.node.kind_name() == "named_expression") {
        return None;
    }
    let mut child = statement.descendant_for_byte_range(at, at)?;
    while child != statement {
        let up = child.parent()?;
        if let Some(test) = runs_first(up).filter(|t| *t != child)
            && let Some(last) = within(test.start_byte(), test.end_byte()).last()
        {
            return within(child.start_byte(), at).is_empty().then_some(*last);
        }
        child = up;
    }
    None
}

/// The operand of `node` that runs first and whenever `node` does, while its other operands may
/// not run: the test of a conditional expression (`c` of `a if c else b`) and the left operand
/// of `and`/`or` (Python evaluates it, then the right one only if it does not settle the
/// result: The Python Language Reference, 6.11 Boolean operations, 6.12 Conditional
/// expressions). `None` for another node.
pub(crate) fn runs_first(node: Node) -> Option<Node> {
    match node.kind_name() {
        "conditional_expression" => {
            let mut cursor = node.walk();
            let mut children = node.children(&mut cursor).skip_while(|c| c.kind_name() != "if").skip(1);
            children.find(|c| c.is_named() && c.kind_name() != "comment")
        }
        "boolean_operator" => node.child_by_field_id(FIELD.left),
        _ => None,
    }
}

/// The module scope: the tree's root. A file tree-sitter cannot parse as a module (nesting past
/// its limit, some broken texts) has an `ERROR` root, which is still the module: its statements
/// bind names as the module's do.
pub fn is_module(scope: Node) -> bool {
    scope.kind_name() == "module" || scope.parent().is_none()
}

/// Whether [`ScopeIndex::build`] reads a child of this kind: a definition (it binds its name;
/// its body is another scope) or a node whose children may hold bindings of the same scope.
fn enters(kind: &str) -> bool {
    (is_scope(kind) && kind != "lambda") || holds_bindings(kind)
}

/// Kinds whose children may hold bindings of the same scope.
fn holds_bindings(kind: &str) -> bool {
    kind.ends_with("_statement")
        || kind.ends_with("_clause")
        || matches!(
            kind,
            "block"
                | "module"
                // Statements a syntax error leaves inside an `ERROR` node still bind.
                | "ERROR"
                | "expression_statement"
                | "assignment"
                | "augmented_assignment"
                | "call"
                | "decorated_definition"
                | "case_clause"
                | "with_clause"
                | "with_item"
                | "as_pattern"
        )
}

/// `name.clamp_(...)`: the name an in-place method (ending in `_`) is called on.
fn in_place_target<'t>(call: Node<'t>, src: &'t str) -> Option<&'t str> {
    let function = call.child_by_field_id(FIELD.function)?;
    if function.kind_name() != "attribute" {
        return None;
    }
    let object = function.child_by_field_id(FIELD.object)?;
    let method = text(function.child_by_field_id(FIELD.attribute)?, src);
    (object.kind_name() == "identifier" && method.ends_with('_') && !method.starts_with('_')).then(|| text(object, src))
}

/// `np.add.at(a, ...)`, `np.copyto(a, ...)`, `nn.init.uniform_(w, ...)`: a library function that
/// writes into its first argument, a plain name; `torch.div(a, b, out=c)`, `np.log(x, out=c)`:
/// one that writes into its `out=` array (NumPy ufuncs, PyTorch functions).
fn mutated_argument<'t>(call: Node<'t>, src: &'t str) -> Option<&'t str> {
    let arguments = call.child_by_field_id(FIELD.arguments)?;
    let mut cursor = arguments.walk();
    let out = arguments.named_children(&mut cursor).find_map(|a| {
        let value = a.child_by_field_id(FIELD.value)?;
        (a.kind_name() == "keyword_argument"
            && a.child_by_field_id(FIELD.name).is_some_and(|n| text(n, src) == "out")
            && value.kind_name() == "identifier")
            .then(|| text(value, src))
    });
    if out.is_some() {
        return out;
    }
    let function = call.child_by_field_id(FIELD.function)?;
    if function.kind_name() != "attribute" {
        return None;
    }
    let name = text(function.child_by_field_id(FIELD.attribute)?, src);
    let writes = name == "at"
        || (name.ends_with('_') && !name.starts_with('_'))
        || matches!(name, "copyto" | "put" | "place" | "putmask" | "fill_diagonal");
    let first = call.child_by_field_id(FIELD.arguments)?.named_child(0)?;
    (writes && first.kind_name() == "identifier").then(|| text(first, src))
}

/// The names an assignment binds, and how.
fn bind_assignment<'t>(assignment: Node<'t>, src: &'t str, add: &mut impl FnMut(&'t str, Node<'t>, Binding<'t>)) {
    let mut targets = Vec::new();
    let mut node = assignment;
    let value = loop {
        let (Some(left), right) = (node.child_by_field_id(FIELD.left), node.child_by_field_id(FIELD.right)) else {
            return;
        };
        targets.push(left);
        match right {
            Some(r) if r.kind_name() == "assignment" => node = r,
            Some(r) => break r,
            // `x: int` binds nothing.
            None => return,
        }
    };
    for target in targets {
        match target.kind_name() {
            "identifier" => add(text(target, src), assignment, Binding::Value(value)),
            "subscript" => {
                if let (Some(array), Some(index)) =
                    (target.child_by_field_id(FIELD.value), target.child_by_field_id(FIELD.subscript))
                    && array.kind_name() == "identifier"
                {
                    add(text(array, src), assignment, Binding::Element { index, value });
                }
            }
            "pattern_list" | "tuple_pattern" | "list_pattern" | "tuple" | "list" => {
                for name in identifiers(target) {
                    add(text(name, src), assignment, Binding::Unpacked(value));
                }
            }
            _ => {}
        }
    }
}

/// The identifiers a target pattern binds (`a, (b, *c)` → a, b, c), not those inside subscripts
/// or attributes.
pub(crate) fn identifiers(target: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut stack = vec![target];
    while let Some(n) = stack.pop() {
        match n.kind_name() {
            "identifier" => out.push(n),
            "pattern_list"
            | "tuple_pattern"
            | "list_pattern"
            | "tuple"
            | "list"
            | "list_splat_pattern"
            | "parenthesized_expression"
            // `with ... as f`, `except E as F`: the name after `as`.
            | "as_pattern_target" => {
                let mut cursor = n.walk();
                stack.extend(n.named_children(&mut cursor));
            }
            _ => {}
        }
    }
    out
}

/// The names a `case` pattern captures: a lone name (`case F:`, `P(x=F)`, `[F, *rest]`), a
/// `*rest` or `**rest`, the name after `as`. Not a class's name (`P(...)`), nor a dotted value
/// pattern (`Color.RED`), nor a keyword (`x=` in `P(x=F)`).
fn captures(pattern: Node) -> Vec<Node> {
    let mut out = Vec::new();
    let mut stack = vec![pattern];
    while let Some(n) = stack.pop() {
        let mut cursor = n.walk();
        for child in n.named_children(&mut cursor) {
            match child.kind_name() {
                "dotted_name" => {
                    if child.named_child_count() == 1 && n.kind_name() != "class_pattern" {
                        out.extend(child.named_child(0).filter(|c| c.kind_name() == "identifier"));
                    }
                }
                "identifier" => {
                    if matches!(n.kind_name(), "splat_pattern" | "as_pattern") {
                        out.push(child);
                    }
                }
                _ => stack.push(child),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{ancestry, parse};

    thread_local! {
        /// Walks back through blocks without sharing them: as `reaching` read them before.
        pub(super) static UNSHARED: Cell<bool> = const { Cell::new(false) };
    }

    /// The bindings reaching each identifier of the field cases and the fixtures, whole and
    /// broken, asked of one index (sharing the walks back through blocks, asked in source order,
    /// then again in reverse), are those the walks read afresh for each question (as before they
    /// were shared) find, in the same order.
    #[test]
    fn shared_walks_reach_what_fresh_ones_do() {
        use crate::syntax::TopLevel;
        use crate::syntax::tests::{broken_variants, field_sources};
        let mut shapes = vec![
            "def f(c):\n    p = 0\n    while True:\n        if c == 0:\n            p = p * 2\n            break\n        if c == 1:\n            p = p + 1\n            continue\n        elif c:\n            p = 3\n        else:\n            p = 4\n        g(p)\n    return p\n".to_string(),
        ];
        shapes.extend(field_sources());
        let (mut asked, mut entries) = (0, 0);
        for shape in shapes {
            for src in std::iter::once(shape.clone()).chain(broken_variants(&shape)) {
                let tree = parse(&src);
                let root = tree.root_node();
                let mut uses = Vec::new();
                let mut stack = vec![(root, root)];
                while let Some((node, scope)) = stack.pop() {
                    let scope = if node.kind_name() == "function_definition" { node } else { scope };
                    if node.kind_name() == "identifier" {
                        uses.push((scope, node));
                    }
                    let mut cursor = node.walk();
                    stack.extend(node.children(&mut cursor).map(|c| (c, scope)));
                }
                uses.sort_by_key(|(_, n)| n.start_byte());
                let mut shared: HashMap<usize, ScopeIndex> = HashMap::default();
                let mut fresh: HashMap<usize, ScopeIndex> = HashMap::default();
                let index = |scope| {
                    if scope == root {
                        ScopeIndex::build_module(root, TopLevel::new(root).children(), &src)
                    } else {
                        ScopeIndex::build(scope, &src)
                    }
                };
                let order: Vec<_> = uses.iter().chain(uses.iter().rev()).collect();
                for &(scope, node) in order {
                    let name = text(node, &src);
                    let s = shared.entry(scope.id()).or_insert_with(|| index(scope)).reaching(name, node.start_byte());
                    UNSHARED.with(|u| u.set(true));
                    let f = fresh.entry(scope.id()).or_insert_with(|| index(scope)).reaching(name, node.start_byte());
                    UNSHARED.with(|u| u.set(false));
                    assert_eq!((listed(&s.entries), s.outer), (listed(&f.entries), f.outer), "{name} in {src:?}");
                    asked += 1;
                    entries += s.entries.len();
                }
            }
        }
        assert!(asked > 100_000 && entries > 100_000, "{asked} questions, {entries} bindings");
    }

    /// The texts of the bindings of `name` reaching the last occurrence of `USE`.
    fn reaching(src: &str, name: &str) -> (Vec<String>, bool) {
        let tree = parse(src);
        let at = src.rfind("USE").expect("a USE marker");
        let root = tree.root_node();
        // The innermost function holding the use, else the module.
        let mut scope = root;
        for n in ancestry(root, root.descendant_for_byte_range(at, at).unwrap()) {
            if n.kind_name() == "function_definition" {
                scope = n;
            }
        }
        let index = ScopeIndex::build(scope, src);
        let r = index.reaching(name, at);
        let mut texts: Vec<String> =
            r.entries.iter().map(|e| text(e.node, src).lines().next().unwrap().trim().to_string()).collect();
        texts.sort();
        (texts, r.outer)
    }

    #[test]
    fn straight_line_code() {
        assert_eq!(reaching("p = 1\np = 2\nUSE(p)\n", "p"), (vec!["p = 2".into()], false));
        assert_eq!(reaching("USE(p)\np = 2\n", "p"), (vec![], true));
        assert_eq!(reaching("p = 1\np = f(p) + USE\n", "p"), (vec!["p = 1".into()], false));
    }

    #[test]
    fn branches_join() {
        let src = "p = 0\nif c:\n    p = 1\nUSE(p)\n";
        assert_eq!(reaching(src, "p"), (vec!["p = 0".into(), "p = 1".into()], false));
        let src = "p = 0\nif c:\n    p = 1\nelse:\n    p = 2\nUSE(p)\n";
        assert_eq!(reaching(src, "p"), (vec!["p = 1".into(), "p = 2".into()], false));
        let src = "p = 0\nif c:\n    p = 1\nelif d:\n    p = 2\nUSE(p)\n";
        assert_eq!(reaching(src, "p"), (vec!["p = 0".into(), "p = 1".into(), "p = 2".into()], false));
        let src = "if c:\n    p = 1\nUSE(p)\n";
        assert_eq!(reaching(src, "p"), (vec!["p = 1".into()], true));
    }

    #[test]
    fn other_branches_do_not_reach() {
        let src = "p = 0\nif c:\n    p = 1\nelse:\n    USE(p)\n";
        assert_eq!(reaching(src, "p"), (vec!["p = 0".into()], false));
        let src = "def f(p):\n    if c:\n        p = g(p)\n    else:\n        return USE(p)\n";
        assert_eq!(reaching(src, "p"), (vec![], true));
    }

    #[test]
    fn loops_and_try() {
        let src = "p = 0\nfor i in r:\n    p = i\nUSE(p)\n";
        assert_eq!(reaching(src, "p"), (vec!["p = 0".into(), "p = i".into()], false));
        let src = "for p in r:\n    USE(p)\n";
        assert_eq!(reaching(src, "p"), (vec!["p".into()], false));
        let src = "p = 0\ntry:\n    p = 1\nexcept E:\n    p = 2\nUSE(p)\n";
        assert_eq!(reaching(src, "p"), (vec!["p = 0".into(), "p = 1".into(), "p = 2".into()], false));
    }

    /// A walrus binds its value where it always runs with its statement, and something unknown
    /// where it may not (after `and`, in a comprehension); one in an `if`'s or a `while`'s
    /// condition reaches the branches and past the statement.
    #[test]
    fn walrus_bindings() {
        let kinds = |src: &str, name: &str| -> Vec<(String, bool)> {
            let tree = parse(src);
            let at = src.rfind("USE").expect("a USE marker");
            let index = ScopeIndex::build(tree.root_node(), src);
            let r = index.reaching(name, at);
            assert!(!r.outer, "{src}");
            r.entries.iter().map(|e| (text(e.node, src).to_string(), matches!(e.binding, Binding::Value(_)))).collect()
        };
        let value = |t: &str| vec![(t.to_string(), true)];
        assert_eq!(
            kinds(
                "p = 0
if (p := f(x)) is None:
    USE(p)
",
                "p"
            ),
            value("p := f(x)")
        );
        assert_eq!(
            kinds(
                "p = 0
if (p := f(x)) is None:
    pass
USE(p)
",
                "p"
            ),
            value("p := f(x)")
        );
        assert_eq!(
            kinds(
                "p = 0
if (p := f(x)) is None:
    pass
else:
    USE(p)
",
                "p"
            ),
            value("p := f(x)")
        );
        assert_eq!(
            kinds(
                "if (p := f(x)) is None:
    pass
elif c:
    USE(p)
",
                "p"
            ),
            value("p := f(x)")
        );
        assert_eq!(
            kinds(
                "p = 0
while (p := f(p)) > 1:
    pass
USE(p)
",
                "p"
            ),
            value("p := f(p)")
        );
        assert_eq!(
            kinds(
                "p = 0
match (p := f(x)):
    case 1:
        pass
USE(p)
",
                "p"
            ),
            value("p := f(x)")
        );
        assert_eq!(
            kinds(
                "p = 0
y = 2 * (p := f(x))
USE(p)
",
                "p"
            ),
            value("p := f(x)")
        );
        // Every branch binds again: the condition's binding does not reach.
        let src = "if (p := f(x)) is None:
    p = 1
else:
    p = 2
USE(p)
";
        assert_eq!(kinds(src, "p"), vec![("p = 1".into(), true), ("p = 2".into(), true)]);
        // After `and`, and in a comprehension, it may not run: nothing known, the earlier
        // binding still reaches.
        let src = "p = 0
if c and (p := f(x)):
    pass
USE(p)
";
        assert_eq!(kinds(src, "p"), vec![("p := f(x)".into(), false), ("p = 0".into(), true)]);
        let src = "p = 0
y = [q for q in r if (p := q)]
USE(p)
";
        assert_eq!(kinds(src, "p"), vec![("p := q".into(), false)]);
        // A conditional expression's test runs first, whenever the expression does: its walrus
        // reaches both branches, and past the statement; one in a branch may not run.
        let src = "p = 0
y = USE(p) if (p := f(x)) is not None else None
";
        assert_eq!(kinds(src, "p"), value("p := f(x)"));
        let src = "y = None if (p := f(x)) is None else USE(p)
";
        assert_eq!(kinds(src, "p"), value("p := f(x)"));
        let src = "y = 1 if (p := f(x)) else 2
USE(p)
";
        assert_eq!(kinds(src, "p"), value("p := f(x)"));
        let src = "p = 0
y = (p := g(x)) if c else 2
USE(p)
";
        assert_eq!(kinds(src, "p"), vec![("p := g(x)".into(), false)]);
        // A branch that binds again before the use: not the test's.
        let src = "p = 0
y = ((p := g(x)), USE(p)) if (p := f(x)) else 2
";
        assert!(!kinds(src, "p").contains(&("p := f(x)".into(), true)));
        // The left operand of `and`/`or` runs whenever the operator does: its walrus reaches
        // the right operand and past the statement; one in the right operand may not run.
        let src = "p = 0
if (p := f(x)) is not None and c:
    pass
USE(p)
";
        assert_eq!(kinds(src, "p"), value("p := f(x)"));
        let src = "p = 0
ok = (p := f(x)) is not None and USE(p) > 0
";
        assert_eq!(kinds(src, "p"), value("p := f(x)"));
        let src = "p = 0
ok = ((p := f(x)) or a) and b or USE(p)
";
        assert_eq!(kinds(src, "p"), value("p := f(x)"));
        let src = "p = 0
ok = (p := f(x)) or (p := g(x))
USE(p)
";
        assert_eq!(kinds(src, "p"), vec![("p := g(x)".into(), false)]);
    }

    #[test]
    fn element_and_in_place_bindings() {
        let src = "r = np.arange(n)\nr[0] = 1\nUSE(r)\n";
        assert_eq!(reaching(src, "r"), (vec!["r[0] = 1".into()], false));
        let src = "p = f()\np.clamp_(min=1e-7)\nUSE(p)\n";
        assert_eq!(reaching(src, "p"), (vec!["p.clamp_(min=1e-7)".into()], false));
        // An augmented assignment to some elements binds the array (to an unknown value).
        let src = "w = zeros(n)\nw[0:k] += v\nUSE(w)\n";
        assert_eq!(reaching(src, "w"), (vec!["w[0:k] += v".into()], false));
        // Regression (allennlp's PMI metric): `out=` writes the array.
        let src = "p = torch.zeros(n)\ntorch.div(c, t, out=p)\nUSE(p)\n";
        assert_eq!(reaching(src, "p"), (vec!["torch.div(c, t, out=p)".into()], false));
    }

    /// A walrus (in a comprehension too), `with ... as`, `except ... as` and a `case` pattern's
    /// captures bind in the function; a class pattern's class, a dotted value pattern and a
    /// keyword do not.
    #[test]
    fn walrus_as_targets_and_case_captures_bind() {
        let src = "def f(x, k):
    y = [v for v in x if (a := v)]
    with g() as (b, c):
        pass
    try:
        pass
    except E as d:
        pass
    match k:
        case P(key=e) | [*f1, 1] | {'k': g1, **h}:
            pass
        case Color.RED as i:
            pass
";
        let tree = parse(src);
        let def = tree.root_node().named_child(0).unwrap();
        let index = ScopeIndex::build(def, src);
        for name in ["a", "b", "c", "d", "e", "f1", "g1", "h", "i"] {
            assert_eq!(index.entries(name).len(), 1, "{name}");
        }
        for name in ["P", "key", "Color", "RED", "v", "E"] {
            assert!(index.entries(name).is_empty(), "{name}");
        }
    }

    /// The module's index built from the root's children is the one built by walking them,
    /// with every binding of every name in the same order, and reaches the same bindings at the
    /// end of the module, over the field cases and the fixtures, whole and broken (and with a
    /// walrus at module level or inside a definition, which the search for `:=` tells apart).
    #[test]
    fn the_module_index_from_the_roots_children_is_the_walked_one() {
        use crate::syntax::TopLevel;
        use crate::syntax::tests::{broken_variants, field_sources};
        let walrus = [
            "if (n := len(x)) > 1:\n    pass\ndef f():\n    return (m := 2)\n".to_string(),
            "@d(k := 1)\ndef f():\n    pass\nclass C:\n    y = (j := 3)\n".to_string(),
        ];
        let (mut modules, mut entries) = (0, 0);
        for text in field_sources().into_iter().chain(walrus) {
            for src in std::iter::once(text.clone()).chain(broken_variants(&text)) {
                let tree = parse(&src);
                let root = tree.root_node();
                let walked = ScopeIndex::build(root, &src);
                let given = ScopeIndex::build_module(root, TopLevel::new(root).children(), &src);
                let mut names: Vec<&str> = walked.by_name.keys().copied().collect();
                names.sort_unstable();
                let mut given_names: Vec<&str> = given.by_name.keys().copied().collect();
                given_names.sort_unstable();
                assert_eq!(names, given_names, "{src:?}");
                for name in names {
                    assert_eq!(listed(walked.entries(name)), listed(given.entries(name)), "{name} in {src:?}");
                    let (a, b) = (walked.reaching(name, src.len()), given.reaching(name, src.len()));
                    assert_eq!((listed(&a.entries), a.outer), (listed(&b.entries), b.outer), "{name} in {src:?}");
                    entries += walked.entries(name).len();
                }
                modules += 1;
            }
        }
        assert!(modules > 1_000 && entries > 10_000, "{modules} modules, {entries} bindings");
    }

    fn listed<'t>(entries: &[Entry<'t>]) -> Vec<(Node<'t>, Binding<'t>)> {
        entries.iter().map(|e| (e.node, e.binding)).collect()
    }

    #[test]
    fn nested_functions_are_other_scopes() {
        let src = "def f():\n    p = 1\n    def g():\n        p = 2\n    USE(p)\n";
        assert_eq!(reaching(src, "p"), (vec!["p = 1".into()], false));
    }

    #[test]
    fn deep_nesting_reads_as_unknown_without_exhausting_the_stack() {
        // A binding 400 `if`s deep (tree-sitter-python parses up to about 500 indentation
        // levels), used after them all, on a small stack.
        let run = || {
            let depth = 400;
            let mut src = String::from("def f(c):\n    p = 0\n");
            for i in 0..depth {
                src.push_str(&" ".repeat(4 * (i + 1)));
                src.push_str("if c:\n");
            }
            src.push_str(&" ".repeat(4 * (depth + 1)));
            src.push_str("p = 1\n    USE(p)\n");
            let (found, outer) = reaching(&src, "p");
            assert!(!outer);
            assert!(found.contains(&"p = 0".to_string()), "{found:?}");
        };
        std::thread::Builder::new().stack_size(512 * 1024).spawn(run).unwrap().join().unwrap();
    }
}
