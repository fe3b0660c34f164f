//! Conditions that guard a point of the code, read as constraints on expressions:
//! `np.log(x) if x > 0 else 0.0`, `if (p > 0).all(): ...`, `x > 0 and np.log(x)`,
//! `[np.log(v) for v in vs if v > 0]`, early exits (`if n == 0: return`), `assert`, and named
//! conditions (`ok = x > 0; where(ok, x, 1)`).

use std::cell::OnceCell;
use std::rc::Rc;

use archery::RcK;
use foldhash::HashMap;
use foldhash::fast::FixedState;
use rpds::{HashTrieMap, List};
use tree_sitter::Node;

use super::Model;
use super::scope::Binding;
use super::value::{Bound, Interval, Kind, Value};
use crate::syntax::{Args, FIELD, KindName, same_expression, squashed, text, unparenthesized};

/// `subject` lies in `range` where the condition holds.
#[derive(Clone, Copy, Debug)]
pub struct Constraint<'a> {
    pub subject: Node<'a>,
    pub range: Interval,
}

/// Guarding statements of a block: (the byte after which it holds, the condition, its truth).
pub type Exits<'a> = Rc<Vec<(usize, Node<'a>, bool)>>;

/// The lists of conditions of the statements of a block after its guarding statements
/// ([`Exits`]): `lists[k]` is the block's list (`base`) with the first `k` exits' conditions
/// added, in order, and holds for a statement after them that ends before `held_until[k]`
/// (where a name one of them reads first changes). A block of `n` early exits (`if c == i:
/// return`) gave each statement a list of its own with every earlier exit: `n²` conditions,
/// each read for its constraints.
pub struct ExitChain<'a> {
    base: Rc<Conditions<'a>>,
    exits: Exits<'a>,
    lists: Vec<Rc<Conditions<'a>>>,
    held_until: Vec<usize>,
}

/// The `if c: name = ...` statements without `else` of a block, by the name they rebind on
/// every path and `not c` constrains: (the statement's start, its end, the range), in order
/// ([`refine_bypassed`]).
pub type Bypasses<'a> = Rc<HashMap<&'a str, Vec<(usize, usize, Interval)>>>;

/// The conditions known to hold at a node, innermost first, sharing its parent's
/// ([`Model::conditions_at`]).
pub enum Conditions<'a> {
    None,
    /// A condition (with its truth), then those of the levels above, and, once read, the
    /// constraints of this list that constrain something.
    Then((Node<'a>, bool), Rc<Conditions<'a>>, OnceCell<Constrained<'a>>),
}

/// The constraints a list of conditions puts on expressions, by subject: its kind and its text
/// (as [`same_expression`] compares them) give the ranges the list's conditions hold it in,
/// innermost first. Each list's map is that of the list further out with its innermost
/// condition's constraints added, sharing the rest: a value looks up its own constraints, not
/// those of every earlier `elif` test about other names. Conditions that constrain nothing add
/// nothing (the tests `c == 1`, `c == 2`, ... of earlier `elif` branches, false, say nothing),
/// and a list none of whose conditions constrain has no map.
type Constrained<'a> = Option<BySubject<'a>>;

type BySubject<'a> = HashTrieMap<(&'a str, String), List<Interval>, RcK, FixedState>;

/// `x != 0` (what a true number is): a pinhole the interval cannot hold; it still excludes 0
/// from a range that starts or ends there (a count, a norm).
const NONZERO: Interval = Interval { lo: Bound::open(0.0), hi: Bound::open(0.0) };
/// How deep conditions are read (`not`, `and`, `all(...)` each count one level).
const MAX_NESTING: u32 = 32;
/// What following a named condition (`ok = x > 0`) counts against [`MAX_NESTING`].
const NAMED_COST: u32 = 8;
/// The floating dtypes a count can be cast to and keep its zeros (`n.to(torch.float32)`).
const FLOAT_DTYPES: [&str; 7] = ["float16", "float32", "float64", "half", "float", "double", "bfloat16"];
/// How many copies deep [`Model::is_or_copies`] follows (`n.float().detach()` is two).
const MAX_COPIES: usize = 6;

impl<'a> Model<'a> {
    /// `node` and `subject` hold the same zeros: one is the other, or both copy one expression
    /// ([`Model::exact_copy_of`], repeated, and names bound to a copy:
    /// `m = n.float(); where(m > 0, s / n, 0)`). A condition on one then holds of the other.
    pub fn is_or_copies(&self, node: Node<'a>, subject: Node<'a>) -> bool {
        let (ours, theirs) = (self.copies(node), self.copies(subject));
        ours.iter().any(|a| theirs.iter().any(|b| same_expression(*a, *b, self.src)))
    }

    /// `node`, what it copies, what that copies, ...: a few steps.
    fn copies(&self, node: Node<'a>) -> Vec<Node<'a>> {
        let mut out = vec![node];
        while out.len() < MAX_COPIES
            && let Some(next) = self.copied_by(out[out.len() - 1])
        {
            out.push(next);
        }
        out
    }

    /// The expression `node` copies, read where `node` stands: the receiver of an exact copy,
    /// or, for a name whose one binding is a copy or another name (`m = n.float()`, `m = n`),
    /// what that binding copies when it still holds the same value at `node`.
    fn copied_by(&self, node: Node<'a>) -> Option<Node<'a>> {
        if let Some(copied) = self.exact_copy_of(node) {
            return Some(copied);
        }
        let (assignment, mut rhs) = self.assigned_value(unparenthesized(node))?;
        let mut steps = 0;
        while rhs.kind_name() == "call" && steps < MAX_COPIES {
            rhs = unparenthesized(self.exact_copy_of(rhs)?);
            steps += 1;
        }
        let copied = matches!(rhs.kind_name(), "identifier" | "attribute") && self.same_value_at(rhs, node);
        (copied && !self.rebound_in_a_loop(rhs, assignment, node)).then_some(rhs)
    }

    /// A name `expr` reads is bound in a loop that holds `at` and not `assignment`: on the loop's
    /// next pass it holds another value at `at` than the copy taken before the loop.
    pub fn rebound_in_a_loop(&self, expr: Node<'a>, assignment: Node<'a>, at: Node<'a>) -> bool {
        let index = self.scope_index(self.scope_of(at));
        let mut names = Vec::new();
        let mut stack = vec![expr];
        while let Some(n) = stack.pop() {
            match n.kind_name() {
                "identifier" => names.push(self.text(n)),
                // `self.n`: the object is the name; the attribute is set by assignments the
                // scope index does not hold, so any loop around `at` is enough doubt.
                "attribute" => return self.ancestry(at).iter().any(|a| is_loop(*a) && !contains(*a, assignment)),
                _ => {
                    let mut cursor = n.walk();
                    stack.extend(n.named_children(&mut cursor));
                }
            }
        }
        self.ancestry(at)
            .iter()
            .filter(|a| is_loop(**a) && !contains(**a, assignment))
            .any(|l| names.iter().any(|name| index.binds_within(name, l.byte_range())))
    }

    /// What `node` copies with its zeros and only them: the receiver of `n.detach()`, `n.item()`,
    /// `n.cpu()`, ..., and, when `n` is a count (an integer, exact in floating point and 0 only
    /// where it is 0), of `n.float()`, `n.double()` and `n.to(...)` to a device or a floating
    /// dtype. A condition on `n` then holds of `node` (`where(n > 0, s / n.float(), 1)`).
    pub fn exact_copy_of(&self, node: Node<'a>) -> Option<Node<'a>> {
        let call = unparenthesized(node);
        let Some(super::Callee::Method { name, receiver }) = self.callee(call) else { return None };
        let count = || self.value(receiver).op() == Some(super::value::Op::Count);
        match name {
            _ if COPY_METHODS.contains(&name) => Some(receiver),
            _ if COUNT_CASTS.contains(&name) && count() => Some(receiver),
            // To a device or a floating dtype only: a narrow integer wraps (a count of 256 is 0
            // as `torch.uint8`, `torch.byte`), and a dtype not spelled out may be one.
            "to" if count() && self.to_device_or_float(call) => Some(receiver),
            _ => None,
        }
    }

    /// `x.to(...)` to a device (`"cuda"`, `device`, `x.device`, `torch.device(...)`) or a
    /// floating dtype, each argument spelled out.
    fn to_device_or_float(&self, call: Node<'a>) -> bool {
        let args = Args::of(call);
        let dtype = args.keyword(&["dtype"], self.src);
        args.positional.iter().copied().chain(dtype).all(|a| {
            let t = text(a, self.src);
            let leaf = t.rsplit('.').next().unwrap_or(t);
            t.starts_with(['"', '\''])
                || leaf.contains("device")
                || t.starts_with("torch.device(")
                || FLOAT_DTYPES.contains(&leaf)
        })
    }

    /// `value` (of `expr`) narrowed by the conditions that hold where `expr` is evaluated.
    pub fn refine(&self, expr: Node<'a>, mut value: Value<'a>) -> Value<'a> {
        let list = self.condition_list(expr);
        let expr = unparenthesized(expr);
        let ranges = self
            .constrained(&list)
            .and_then(|by_subject| by_subject.get(&(expr.kind_name(), squashed(expr, self.src))));
        self.count_index_work(1 + ranges.map_or(0, List::len));
        // Outermost first, each condition's in their order, as `constraints_at` lists them:
        // `narrow` gives up on an empty meet, so the order can matter.
        let found: Vec<Interval> = ranges.into_iter().flatten().copied().collect();
        for range in found.into_iter().rev() {
            value.range = narrow(value.range, range);
        }
        value
    }

    /// The constraints of `list` by subject ([`Constrained`]), read once per list: down to the
    /// first list whose are known, then up again, each adding to those further out.
    fn constrained<'l>(&self, list: &'l Rc<Conditions<'a>>) -> Option<&'l BySubject<'a>> {
        let mut pending = Vec::new();
        let mut at = list;
        while let Conditions::Then(_, rest, cell) = &**at {
            if cell.get().is_some() {
                break;
            }
            pending.push(at);
            at = rest;
        }
        let mut below = match &**at {
            Conditions::Then(_, _, cell) => cell.get().cloned().flatten(),
            Conditions::None => None,
        };
        let mut out = Vec::new();
        for list in pending.into_iter().rev() {
            let Conditions::Then((cond, truth), _, cell) = &**list else { continue };
            out.clear();
            self.constraints_of(*cond, *truth, 0, &mut out);
            self.count_index_work(1 + out.len());
            if !out.is_empty() {
                let mut by_subject =
                    below.unwrap_or_else(|| HashTrieMap::new_with_hasher_and_ptr_kind(FixedState::default()));
                for c in out.drain(..) {
                    // `n.item() == 0`, `n.detach() > 0`: the same holds of `n`.
                    let mut subject = Some(unparenthesized(c.subject));
                    let mut steps = 0;
                    while let Some(at) = subject
                        && steps < MAX_COPIES
                    {
                        let key = (at.kind_name(), squashed(at, self.src));
                        let ranges = by_subject.get(&key).cloned().unwrap_or_default().push_front(c.range);
                        by_subject.insert_mut(key, ranges);
                        subject = plain_copy_of(at, self.src).map(unparenthesized);
                        steps += 1;
                    }
                }
                below = Some(by_subject);
            }
            let _ = cell.set(below.clone());
        }
        match &**list {
            Conditions::Then(_, _, cell) => cell.get().and_then(Option::as_ref),
            Conditions::None => None,
        }
    }

    /// The ranges that the `if` statements [`refine_bypassed`] reads put on the name
    /// `node`, with the start of each statement, in source order: those starting at or after
    /// byte `from` and ending before `node`, in the blocks holding `node` in its function. Each
    /// block's are read once ([`Model::bypasses`]): a name with many bindings reaching it, each
    /// past many such statements (`if c == i: p = p * 2`, n times), scanned the block once per
    /// binding and per use.
    pub(super) fn bypassing(&self, node: Node<'a>, from: usize) -> Vec<(usize, Interval)> {
        let name = self.text(node);
        let chain = self.ancestry(node);
        let start = chain
            .iter()
            .rposition(|n| matches!(n.kind_name(), "function_definition" | "lambda" | "class_definition"))
            .unwrap_or(0);
        let mut found = Vec::new();
        // Outermost block first: its statements before `node` come before those of a block
        // inside it.
        for block in chain[start..].iter().filter(|b| matches!(b.kind_name(), "block" | "module")) {
            let bypasses = self.bypasses(*block);
            let Some(statements) = bypasses.get(name) else { continue };
            let lo = statements.partition_point(|&(start, _, _)| start < from);
            let hi = statements.partition_point(|&(_, end, _)| end <= node.start_byte()).max(lo);
            self.count_index_work(1 + hi - lo);
            found.extend(statements[lo..hi].iter().map(|&(start, _, range)| (start, range)));
        }
        found
    }

    /// The `if` statements of `block` without `else` whose consequence rebinds, on every path, a
    /// name their condition constrains, by that name ([`Bypasses`]).
    fn bypasses(&self, block: Node<'a>) -> Bypasses<'a> {
        if let Some(found) = self.bypasses.borrow().get(&block.id()) {
            return found.clone();
        }
        let mut by_name: HashMap<&'a str, Vec<(usize, usize, Interval)>> = HashMap::default();
        let mut out = Vec::new();
        let mut cursor = block.walk();
        let mut statements = 0;
        for stmt in block.named_children(&mut cursor) {
            statements += 1;
            if stmt.kind_name() != "if_statement" || stmt.child_by_field_id(FIELD.alternative).is_some() {
                continue;
            }
            let (Some(consequence), Some(cond)) =
                (stmt.child_by_field_id(FIELD.consequence), stmt.child_by_field_id(FIELD.condition))
            else {
                continue;
            };
            out.clear();
            self.constraints_of(cond, false, 0, &mut out);
            for c in &out {
                let subject = unparenthesized(c.subject);
                if subject.kind_name() != "identifier" {
                    continue;
                }
                let name = self.text(subject);
                if self.always_rebinds(consequence, name) {
                    by_name.entry(name).or_default().push((stmt.start_byte(), stmt.end_byte(), c.range));
                }
            }
        }
        self.count_index_work(statements);
        let found = Rc::new(by_name);
        self.bypasses.borrow_mut().insert(block.id(), found.clone());
        found
    }

    /// Every path through `block` that runs to its end assigns `name` (`name = ...` or
    /// `name op= ...` among its statements), or it leaves (`return`, `raise`, `continue`, `break`).
    fn always_rebinds(&self, block: Node<'a>, name: &str) -> bool {
        let mut cursor = block.walk();
        block.named_children(&mut cursor).any(|stmt| match stmt.kind_name() {
            "return_statement" | "raise_statement" | "continue_statement" | "break_statement" => true,
            "expression_statement" => stmt.named_child(0).is_some_and(|e| {
                matches!(e.kind_name(), "assignment" | "augmented_assignment")
                    && e.child_by_field_id(FIELD.left)
                        .is_some_and(|l| l.kind_name() == "identifier" && self.text(l) == name)
            }),
            _ => false,
        })
    }

    /// The constraints known to hold where `node` is evaluated, innermost condition last.
    pub fn constraints_at(&self, node: Node<'a>) -> Vec<Constraint<'a>> {
        let mut out = Vec::new();
        for (cond, truth) in self.conditions_at(node) {
            self.constraints_of(cond, truth, 0, &mut out);
        }
        out
    }

    /// The conditions known to hold (with their truth) where `node` is evaluated, innermost
    /// last: for the comparisons that constrain no single expression (`if hi == lo: return`).
    pub fn conditions_at(&self, node: Node<'a>) -> Vec<(Node<'a>, bool)> {
        let mut out = Vec::new();
        let mut list = &self.condition_list(node);
        while let Conditions::Then(condition, rest, _) = &**list {
            out.push(*condition);
            list = rest;
        }
        out.reverse();
        out
    }

    /// [`Model::conditions_at`] as a list shared with the node's parent, innermost first:
    /// up through the parents to the innermost function or lambda (conditions outside it do not
    /// hold when it runs) or to a node whose list is known, then down again, each node's list
    /// its parent's with what the step adds. Each node's is found once: a node of an expression
    /// thousands of levels deep is as many steps from its function, and the values of many of
    /// its nodes ask for their conditions.
    fn condition_list(&self, node: Node<'a>) -> Rc<Conditions<'a>> {
        let mut path = Vec::new();
        let mut at = node;
        let mut list = loop {
            if let Some(list) = self.condition_lists.borrow().get(&at.id()) {
                break list.clone();
            }
            if matches!(at.kind_name(), "function_definition" | "lambda") {
                break Rc::new(Conditions::None);
            }
            match self.parent(at) {
                Some(parent) => {
                    path.push(at);
                    at = parent;
                }
                None => break Rc::new(Conditions::None),
            }
        };
        let mut lists = self.condition_lists.borrow_mut();
        lists.insert(at.id(), list.clone());
        let mut step = Vec::new();
        for &child in path.iter().rev() {
            if let Some(alternatives) = self.alternatives_lists(at, child, &list) {
                for (alternative, its) in alternatives {
                    lists.insert(alternative.id(), its);
                }
                if let Some(its) = lists.get(&child.id()) {
                    list = its.clone();
                    at = child;
                    continue;
                }
            }
            if matches!(at.kind_name(), "block" | "module")
                && !unshared()
                && let Some(shared) = self.after_exits(at, child, &list)
            {
                list = shared;
                lists.insert(child.id(), list.clone());
                at = child;
                continue;
            }
            step.clear();
            self.conditions_of_step(at, child, &mut step);
            self.count_index_work(step.len());
            for condition in step.drain(..) {
                list = Rc::new(Conditions::Then(condition, list, OnceCell::new()));
            }
            lists.insert(child.id(), list.clone());
            at = child;
        }
        list
    }

    /// When `child` is an `elif` or `else` of the `if` statement `parent` (whose list is
    /// `list`): the lists of all its alternatives, in one pass, each its predecessor's with the
    /// predecessor's test false (the `if`'s own for the first). Built one by one, the `k`-th
    /// held its `k` earlier tests afresh: `n` branches, `n²` conditions.
    fn alternatives_lists(
        &self,
        parent: Node<'a>,
        child: Node<'a>,
        list: &Rc<Conditions<'a>>,
    ) -> Option<Vec<(Node<'a>, Rc<Conditions<'a>>)>> {
        if parent.kind_name() != "if_statement" || !matches!(child.kind_name(), "elif_clause" | "else_clause") {
            return None;
        }
        let mut cursor = parent.walk();
        let alternatives: Vec<Node<'a>> = parent.children_by_field_name("alternative", &mut cursor).collect();
        if !alternatives.contains(&child) {
            return None;
        }
        let mut out = Vec::with_capacity(alternatives.len());
        let Some(cond) = parent.child_by_field_id(FIELD.condition) else {
            // No test (broken code): nothing is known in any branch.
            return Some(alternatives.into_iter().map(|a| (a, list.clone())).collect());
        };
        let mut test = Some(cond);
        let mut list = list.clone();
        for alternative in alternatives {
            if let Some(test) = test {
                self.count_index_work(1);
                list = Rc::new(Conditions::Then((test, false), list, OnceCell::new()));
            }
            out.push((alternative, list.clone()));
            test = alternative.child_by_field_id(FIELD.condition);
        }
        Some(out)
    }

    /// The conditions (with their truth) known to hold in `child` beyond those in `parent`.
    fn conditions_of_step(&self, parent: Node<'a>, child: Node<'a>, out: &mut Vec<(Node<'a>, bool)>) {
        match parent.kind_name() {
            "conditional_expression" => {
                let (a, cond, b) = (parent.named_child(0), parent.named_child(1), parent.named_child(2));
                if let Some(cond) = cond {
                    if Some(child) == a {
                        out.push((cond, true));
                    } else if Some(child) == b {
                        out.push((cond, false));
                    }
                }
            }
            "if_statement" => {
                let Some(cond) = parent.child_by_field_id(FIELD.condition) else { return };
                if Some(child) == parent.child_by_field_id(FIELD.consequence) {
                    out.push((cond, true));
                } else if matches!(child.kind_name(), "elif_clause" | "else_clause") {
                    // Every earlier condition was false.
                    out.push((cond, false));
                    let mut cursor = parent.walk();
                    for alt in parent.children_by_field_name("alternative", &mut cursor) {
                        if alt == child {
                            break;
                        }
                        if let Some(c) = alt.child_by_field_id(FIELD.condition) {
                            out.push((c, false));
                        }
                    }
                }
            }
            "elif_clause" | "while_statement" => {
                let body = parent.child_by_field_id(FIELD.consequence).or_else(|| parent.child_by_field_id(FIELD.body));
                if Some(child) == body
                    && let Some(cond) = parent.child_by_field_id(FIELD.condition)
                {
                    out.push((cond, true));
                }
            }
            "boolean_operator" => {
                if Some(child) == parent.child_by_field_id(FIELD.right)
                    && let (Some(left), Some(op)) =
                        (parent.child_by_field_id(FIELD.left), parent.child_by_field_id(FIELD.operator))
                {
                    out.push((left, op.kind_name() == "and"));
                }
            }
            "list_comprehension" | "set_comprehension" | "generator_expression" | "dictionary_comprehension"
                if Some(child) == parent.named_child(0) =>
            {
                let mut cursor = parent.walk();
                for clause in parent.named_children(&mut cursor).filter(|c| c.kind_name() == "if_clause") {
                    if let Some(cond) = clause.named_child(0) {
                        out.push((cond, true));
                    }
                }
            }
            "block" | "module" => {
                for (at, cond, truth) in self.exits(parent).iter() {
                    if *at < child.start_byte() && !self.changed_after(*cond, *at, child.end_byte()) {
                        out.push((*cond, *truth));
                    }
                }
            }
            _ => {}
        }
    }

    /// The list of `child`, a statement of `block` (whose list is `list`), when it is `list`
    /// with every guarding statement of `block` before `child` ([`Model::exits`]) added, none
    /// undone by a change of a name it reads before `child` ends: one of the lists of
    /// [`ExitChain`], shared by the statements after those exits. `None` when a change undid
    /// one (the list is then built for `child` alone, without the undone ones).
    fn after_exits(&self, block: Node<'a>, child: Node<'a>, list: &Rc<Conditions<'a>>) -> Option<Rc<Conditions<'a>>> {
        let known = self.exit_chains.borrow().get(&block.id()).filter(|c| Rc::ptr_eq(&c.base, list)).cloned();
        let chain = match known {
            Some(chain) => chain,
            None => {
                let exits = self.exits(block);
                self.count_index_work(1 + exits.len());
                let mut lists = vec![list.clone()];
                let mut held_until = vec![usize::MAX];
                for &(at, cond, truth) in exits.iter() {
                    let last = lists.last().cloned().unwrap_or_else(|| list.clone());
                    lists.push(Rc::new(Conditions::Then((cond, truth), last, OnceCell::new())));
                    let until = held_until.last().copied().unwrap_or(usize::MAX);
                    held_until.push(until.min(self.first_change(cond, at)));
                }
                let chain = Rc::new(ExitChain { base: list.clone(), exits, lists, held_until });
                self.exit_chains.borrow_mut().insert(block.id(), chain.clone());
                chain
            }
        };
        self.count_index_work(1);
        let k = chain.exits.partition_point(|&(at, _, _)| at < child.start_byte());
        (chain.held_until[k] >= child.end_byte()).then(|| chain.lists[k].clone())
    }

    /// Where a name `cond` reads first changes at or after byte `from` (the start of the
    /// occurrence), or `usize::MAX`: what the condition said of it at `from` holds until there
    /// (`if not n: return`, `n = mask.sum(1)`, `x / n`). A change is an occurrence that may
    /// change what the name holds ([`Model::changing_occurrences`]: rebound, written through,
    /// deleted), but a rebinding to an exact copy of the name's own value
    /// ([`Model::rebound_to_its_copy`]: `n = n.float()`). Of a walrus, its name is read, not
    /// its value's names. Names inside a lambda or comprehension of `cond` are looked up in
    /// `cond`'s scope: at worst a guard too many is dropped.
    fn first_change(&self, cond: Node<'a>, from: usize) -> usize {
        let scope = self.scope_of(cond);
        let mut first = usize::MAX;
        let mut stack = vec![cond];
        while let Some(node) = stack.pop() {
            if node.kind_name() == "identifier" {
                let name = text(node, self.src);
                // `int(n)`, `bool(n)`, `float(n)` name the builtins: a later call of one (`if not
                // bool(k)`) changes no value the condition tested.
                if matches!(name, "int" | "bool" | "float")
                    && self
                        .parent(node)
                        .is_some_and(|p| p.kind_name() == "call" && p.child_by_field_id(FIELD.function) == Some(node))
                {
                    continue;
                }
                if let Some(c) = self.first_change_of(scope, name, from, |c| self.rebound_to_its_copy(c)) {
                    first = first.min(c.start_byte());
                }
                continue;
            }
            // A walrus's name holds what its value gave then (`while (n := mask.sum()) == 0:`
            // says nothing of `mask` afterwards).
            if node.kind_name() == "named_expression" {
                stack.extend(node.child_by_field_id(FIELD.name));
                continue;
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
        first
    }

    /// A name `cond` reads may change between bytes `from` and `to` of its scope
    /// ([`Model::first_change`]).
    fn changed_after(&self, cond: Node<'a>, from: usize, to: usize) -> bool {
        self.first_change(cond, from) < to
    }

    /// `name`, an occurrence of a name, is the whole target of `name = value` where `value`
    /// copies what the name held before with its zeros and only them (`n = n.float()`, `n =
    /// n.to(device).detach()`, `n = n.item()`, `n = float(n)`, `n = n.type_as(x)`), read from the
    /// syntax alone: these are asked while a block's conditions are read, when no value may be
    /// asked. A cast to a floating dtype is taken to keep the zeros, as it does for a count (the
    /// value a guard on `n == 0` tests); a float64 below float32's least subnormal would become
    /// 0. `int(n)` is no copy: it truncates 0.5 to 0.
    fn rebound_to_its_copy(&self, name: Node<'a>) -> bool {
        let Some(assignment) = self.parent(name).filter(|p| p.kind_name() == "assignment") else { return false };
        if assignment.child_by_field_id(FIELD.left) != Some(name) {
            return false;
        }
        let Some(mut value) = assignment.child_by_field_id(FIELD.right).map(unparenthesized) else { return false };
        let mut steps = 0;
        while value.kind_name() == "call" && steps < MAX_COPIES {
            // `float(n)`: exact for an integer, and 0 only where `n` is.
            if let Some(arg) = builtin_argument(value, "float", self.src) {
                value = unparenthesized(arg);
                steps += 1;
                continue;
            }
            let cast = value.child_by_field_id(FIELD.function).filter(|f| f.kind_name() == "attribute").and_then(|f| {
                let method = text(f.child_by_field_id(FIELD.attribute)?, self.src);
                let no_args = Args::of(value).is_empty();
                let copies = match method {
                    "to" => self.to_device_or_float(value),
                    // `n.type_as(x)`: to `x`'s dtype, which the syntax does not show. Taken to
                    // keep the zeros: the cast is almost always to the floating dtype of what
                    // the count divides or weighs (`loss`, `logits`). An integer `x` keeps them
                    // too, but a narrow one wraps (a count of 256 as `torch.uint8` is 0): that
                    // rare case is missed, rather than every guarded count cast this way reported.
                    "type_as" => Args::of(value).positional.len() == 1 && Args::of(value).keyword.is_empty(),
                    _ => COUNT_CASTS.contains(&method) && no_args,
                };
                copies.then(|| f.child_by_field_id(FIELD.object)).flatten()
            });
            let Some(copied) = plain_copy_of(value, self.src).or(cast) else { return false };
            value = unparenthesized(copied);
            steps += 1;
        }
        steps > 0 && value.kind_name() == "identifier" && self.text(value) == self.text(name)
    }

    /// Statements of `block` after which a condition holds for the rest of it: `assert c`,
    /// `if c:` whose block leaves ([`leaves`]: then `not c`), `if c: ... else:` whose one
    /// branch leaves and whose other does not change what `c` reads (then `c` or `not c`), and
    /// `while c:` without `break` or `else` (then `not c`), by position.
    fn exits(&self, block: Node<'a>) -> Exits<'a> {
        if let Some(found) = self.exits.borrow().get(&block.id()) {
            return found.clone();
        }
        let mut found = Vec::new();
        let mut cursor = block.walk();
        for stmt in block.named_children(&mut cursor) {
            match stmt.kind_name() {
                "assert_statement" => {
                    if let Some(cond) = stmt.named_child(0) {
                        found.push((stmt.end_byte(), cond, true));
                    }
                }
                "if_statement" => {
                    let Some(cond) = stmt.child_by_field_id(FIELD.condition) else { continue };
                    let consequence = stmt.child_by_field_id(FIELD.consequence);
                    let then_leaves = consequence.is_some_and(|b| leaves(b, 0));
                    let mut alternatives = Vec::new();
                    let mut inner = stmt.walk();
                    alternatives.extend(
                        stmt.named_children(&mut inner)
                            .filter(|c| matches!(c.kind_name(), "elif_clause" | "else_clause")),
                    );
                    match alternatives.as_slice() {
                        [] if then_leaves => found.push((stmt.end_byte(), cond, false)),
                        // One branch leaves, the other runs on past the statement: what the
                        // condition said must still hold after that branch.
                        [other] if other.kind_name() == "else_clause" => {
                            let body = other.child_by_field_id(FIELD.body);
                            let (through, truth) = match (then_leaves, body.is_some_and(|b| leaves(b, 0))) {
                                (true, false) => (body, false),
                                (false, true) => (consequence, true),
                                _ => continue,
                            };
                            if let Some(through) = through
                                && !self.changed_after(cond, through.start_byte(), through.end_byte())
                            {
                                found.push((stmt.end_byte(), cond, truth));
                            }
                        }
                        _ => {}
                    }
                }
                // A loop left only through its condition: false after it (`while (n :=
                // mask.sum()) == 0: mask = mask + 1`, then `n != 0`). Its last test reads what
                // the body left.
                "while_statement"
                    if stmt.child_by_field_id(FIELD.alternative).is_none()
                        && stmt.child_by_field_id(FIELD.body).is_some_and(|b| !breaks_out(b)) =>
                {
                    if let Some(cond) = stmt.child_by_field_id(FIELD.condition) {
                        found.push((stmt.end_byte(), cond, false));
                    }
                }
                _ => {}
            }
        }
        let found = Rc::new(found);
        self.exits.borrow_mut().insert(block.id(), found.clone());
        found
    }

    /// The constraints `cond` being `truth` puts on expressions.
    pub fn constraints_of(&self, cond: Node<'a>, truth: bool, depth: u32, out: &mut Vec<Constraint<'a>>) {
        // Conditions nested deeper than this add nothing more (and cannot exhaust the stack).
        if depth > MAX_NESTING {
            return;
        }
        let cond = unparenthesized(cond);
        match cond.kind_name() {
            "not_operator" => {
                if let Some(arg) = cond.child_by_field_id(FIELD.argument) {
                    self.constraints_of(arg, !truth, depth + 1, out);
                }
            }
            "boolean_operator" => {
                let op = cond.child_by_field_id(FIELD.operator).map(|o| o.kind_name());
                let both = (op == Some("and") && truth) || (op == Some("or") && !truth);
                if both {
                    for side in
                        [cond.child_by_field_id(FIELD.left), cond.child_by_field_id(FIELD.right)].into_iter().flatten()
                    {
                        self.constraints_of(side, truth, depth + 1, out);
                    }
                }
            }
            "comparison_operator" => {
                // `bool(n) is False`, `bool(n) == True`: the test of `n` itself.
                if let Some((test, holds)) = comparison_parts(cond).and_then(|(a, op, b)| bool_test(a, op, b, self.src))
                {
                    self.constraints_of(test, truth == holds, depth + 1, out);
                } else {
                    self.comparison(cond, truth, out);
                }
            }
            // Range family (issue 9): element-wise `a & b`, `a | b` and `~a` of array conditions,
            // as `and`, `or` and `not` of scalar ones.
            "binary_operator" => {
                let op = cond.child_by_field_id(FIELD.operator).map(|o| o.kind_name());
                if (op == Some("&") && truth) || (op == Some("|") && !truth) {
                    for side in
                        [cond.child_by_field_id(FIELD.left), cond.child_by_field_id(FIELD.right)].into_iter().flatten()
                    {
                        self.constraints_of(side, truth, depth, out);
                    }
                }
            }
            "unary_operator" if cond.child_by_field_id(FIELD.operator).is_some_and(|o| o.kind_name() == "~") => {
                if let Some(arg) = cond.child_by_field_id(FIELD.argument) {
                    self.constraints_of(arg, !truth, depth, out);
                }
            }
            // `bool(n)` is as true as `n` (`if not bool(n): return`).
            "call" if builtin_argument(cond, "bool", self.src).is_some() => {
                if let Some(arg) = builtin_argument(cond, "bool", self.src) {
                    self.constraints_of(arg, truth, depth + 1, out);
                }
            }
            // `tf.equal(x, 0.0)`, `torch.gt(x, 0)`, `x.ne(0)`: comparisons as calls.
            "call" if self.comparison_call(cond).is_some() => {
                if let Some((subject, op, other)) = self.comparison_call(cond) {
                    self.compare(subject, op, other, truth, out);
                }
            }
            // `(x > 0).detach()`, `mask.float()`: the same condition.
            "call"
                if cond.child_by_field_id(FIELD.function).is_some_and(|f| {
                    f.kind_name() == "attribute"
                        && matches!(
                            crate::syntax::callee_name(f, self.src),
                            Some("detach" | "float" | "bool" | "to" | "cpu" | "cuda" | "clone" | "type" | "item")
                        )
                }) =>
            {
                if let Some(receiver) =
                    cond.child_by_field_id(FIELD.function).and_then(|f| f.child_by_field_id(FIELD.object))
                {
                    self.constraints_of(receiver, truth, depth + 1, out);
                }
            }
            "call" if truth => {
                // `np.all(x > 0)`, `torch.all(x > 0)`, `(x > 0).all()`, `tf.reduce_all(x > 0)`
                let Some(function) = cond.child_by_field_id(FIELD.function) else { return };
                let name = crate::syntax::callee_name(function, self.src);
                let inner = match (self.api(function), name) {
                    (Some(api), _) if matches!(super::apis::leaf(&api), "all" | "reduce_all") => {
                        Args::of(cond).positional.first().copied()
                    }
                    (None, Some("all")) if function.kind_name() == "attribute" && Args::of(cond).is_empty() => {
                        function.child_by_field_id(FIELD.object)
                    }
                    _ => None,
                };
                if let Some(inner) = inner {
                    self.constraints_of(inner, true, depth + 1, out);
                } else if self.is_number(cond) {
                    // A number that is true is not 0 (`if not mask.sum(): return`), and neither
                    // is what `int` truncated to one (`if not int(n): return`).
                    out.push(Constraint { subject: cond, range: NONZERO });
                    if let Some(arg) = builtin_argument(cond, "int", self.src) {
                        out.push(Constraint { subject: unparenthesized(arg), range: NONZERO });
                    }
                }
            }
            "call" => {
                // False: `np.any(x == 0)`, `torch.any(x == 0)`, `(x == 0).any()`,
                // `tf.reduce_any(x == 0)`; no element meets the condition (`if (n == 0).any(): raise`).
                let Some(function) = cond.child_by_field_id(FIELD.function) else { return };
                let name = crate::syntax::callee_name(function, self.src);
                let inner = match (self.api(function), name) {
                    (Some(api), _) if matches!(super::apis::leaf(&api), "any" | "reduce_any") => {
                        Args::of(cond).positional.first().copied()
                    }
                    (None, Some("any")) if function.kind_name() == "attribute" && Args::of(cond).is_empty() => {
                        function.child_by_field_id(FIELD.object)
                    }
                    _ => None,
                };
                if let Some(inner) = inner {
                    self.constraints_of(inner, false, depth + 1, out);
                }
            }
            // `if not (n := mask.sum()): return`: the walrus's value is the condition, and
            // the name holds it.
            "named_expression" => {
                if let (Some(name), Some(value)) =
                    (cond.child_by_field_id(FIELD.name), cond.child_by_field_id(FIELD.value))
                {
                    if truth && self.is_number(value) {
                        out.push(Constraint { subject: name, range: NONZERO });
                        out.push(Constraint { subject: unparenthesized(value), range: NONZERO });
                    }
                    self.constraints_of(value, truth, depth + 1, out);
                }
            }
            "identifier" => {
                // A number that is true is not 0 (`if not n: return`).
                if truth && self.is_number(cond) {
                    out.push(Constraint { subject: cond, range: NONZERO });
                }
                // A named condition: `ok = x > 0`.
                let scope = self.scope_of(cond);
                let reaching = self.scope_index(scope).reaching(text(cond, self.src), cond.start_byte());
                if let ([entry], false) = (reaching.entries.as_slice(), reaching.outer)
                    && let Binding::Value(rhs) = entry.binding
                {
                    self.constraints_of(rhs, truth, depth + NAMED_COST, out);
                }
            }
            _ => {}
        }
    }

    /// `expr` is a number or an array, whose truth is that it is not 0: a Python number, an
    /// array (`bool()` of one with more than one element raises), or what an operation on
    /// numbers made (`mask.sum()` of a `mask` the model does not know). A true list, tuple,
    /// string or `None` is only one that is not empty or not `None`: its elements can still be 0.
    fn is_number(&self, expr: Node<'a>) -> bool {
        let value = self.value(expr);
        match value.kind {
            Kind::Scalar | Kind::Array(_) => true,
            Kind::Unknown => value.producer.is_some(),
            Kind::NotArray | Kind::Object(_) | Kind::Instance(_) | Kind::Module => false,
        }
    }

    /// `(a, op, b)` of a comparison written as a call: `tf.equal(a, b)`, `torch.gt(a, b)`, `a.ne(b)`.
    fn comparison_call(&self, call: Node<'a>) -> Option<(Node<'a>, &'static str, Node<'a>)> {
        let function = call.child_by_field_id(FIELD.function)?;
        let args = Args::of(call);
        let (name, a, b) = match self.api(function) {
            Some(api) => (super::apis::leaf(&api).to_string(), *args.positional.first()?, *args.positional.get(1)?),
            None if function.kind_name() == "attribute" => {
                let name = crate::syntax::callee_name(function, self.src)?.to_string();
                (name, function.child_by_field_id(FIELD.object)?, *args.positional.first()?)
            }
            None => return None,
        };
        let op = match name.as_str() {
            "equal" | "eq" => "==",
            "not_equal" | "ne" => "!=",
            "greater" | "gt" => ">",
            "greater_equal" | "ge" => ">=",
            "less" | "lt" => "<",
            "less_equal" | "le" => "<=",
            _ => return None,
        };
        Some((a, op, b))
    }

    /// `subject OP constant` or `constant OP subject`, one operator.
    fn comparison(&self, cond: Node<'a>, truth: bool, out: &mut Vec<Constraint<'a>>) {
        if let Some((a, op, b)) = comparison_parts(cond) {
            self.compare(a, op, b, truth, out);
        }
    }

    /// The constraint `a OP b` (one side a constant) puts on the other side when it is `truth`.
    fn compare(&self, a: Node<'a>, op: &str, b: Node<'a>, truth: bool, out: &mut Vec<Constraint<'a>>) {
        let (subject, op, c) = match (self.constant(b), self.constant(a)) {
            (Some(c), _) => (a, op, c),
            (None, Some(c)) => (b, flip(op), c),
            _ => return,
        };
        let op = if truth { Some(op) } else { negate(op) };
        let range = match op {
            Some(">") => Interval::above(c),
            Some(">=") => Interval::at_least(c),
            Some("<") => Interval::new(Bound::open(f64::NEG_INFINITY), Bound::open(c)),
            Some("<=") => Interval::new(Bound::open(f64::NEG_INFINITY), Bound::closed(c)),
            Some("==") => Interval::point(c),
            // `x != 0`: a pinhole the interval cannot hold; it still excludes 0 from a range
            // that starts or ends there (a count, a norm).
            Some("!=") if c == 0.0 => NONZERO,
            _ => return,
        };
        let mut subject = unparenthesized(subject);
        // `(m := mask.sum()) == 0`: the name the walrus binds, and its value.
        if subject.kind_name() == "named_expression"
            && let (Some(name), Some(value)) =
                (subject.child_by_field_id(FIELD.name), subject.child_by_field_id(FIELD.value))
        {
            out.push(Constraint { subject: name, range });
            subject = unparenthesized(value);
        }
        out.push(Constraint { subject, range });
        // `int(n) != 0`, `int(n) > 0`: what the truncation's range says of `n`.
        if let Some(arg) = builtin_argument(subject, "int", self.src)
            && let Some(range) = truncated_from(range)
        {
            out.push(Constraint { subject: unparenthesized(arg), range });
        }
        // `x.min() > 0`, `np.min(x) > 0`: every element of x. (`x.min() != 0` too: the pinhole
        // opens only a closed 0 at the bottom of x's range, where the minimum is.)
        if (matches!(op, Some(">") | Some(">=")) || (op == Some("!=") && c == 0.0)) && subject.kind_name() == "call" {
            let function = subject.child_by_field_id(FIELD.function);
            let of = match function.map(|f| (self.api(f), f)) {
                Some((Some(api), _)) if matches!(super::apis::leaf(&api), "min" | "amin" | "reduce_min") => {
                    Args::of(subject).positional.first().copied()
                }
                Some((None, f))
                    if f.kind_name() == "attribute" && crate::syntax::callee_name(f, self.src) == Some("min") =>
                {
                    f.child_by_field_id(FIELD.object)
                }
                _ => None,
            };
            if let Some(of) = of {
                out.push(Constraint { subject: unparenthesized(of), range });
            }
        }
    }
}

/// `value`, which a binding of a name made at or before byte `after` gives a use of it, narrowed
/// by the conditions that are false on every path it takes to the use: an `if c: name = ...`
/// without `else` that stands after the binding in a block holding the use rebinds the name
/// whenever `c` holds, so the binding reaches past it only where `c` is false
/// (`n = mask.sum(1); if (n == 0).any(): n = n.clamp(min=1)`: the first `n` is nonzero wherever
/// it reaches a use below). `bypassing` is [`Model::bypassing`] of the use.
pub(super) fn refine_bypassed<'a>(bypassing: &[(usize, Interval)], after: usize, mut value: Value<'a>) -> Value<'a> {
    let from = bypassing.partition_point(|&(start, _)| start < after);
    for &(_, range) in &bypassing[from..] {
        value.range = narrow(value.range, range);
    }
    value
}

/// The operands and the operator of a comparison with one operator (`a > b`; not `a < b < c`).
pub(super) fn comparison_parts<'t>(cond: Node<'t>) -> Option<(Node<'t>, &'t str, Node<'t>)> {
    if cond.kind_name() != "comparison_operator" || cond.named_child_count() != 2 {
        return None;
    }
    let (a, b) = (cond.named_child(0)?, cond.named_child(1)?);
    let mut cursor = cond.walk();
    let ops: Vec<&'t str> = cond.children_by_field_name("operators", &mut cursor).map(|o| o.kind_name()).collect();
    let [op] = ops.as_slice() else { return None };
    Some((a, op, b))
}

/// The range of `x` where `int(x)` lies in `range`, when `range` excludes 0; else `None`.
/// `int` truncates toward 0: `int(x)` is 0 exactly where `|x| < 1`, at least `k >= 1` exactly
/// where `x >= k`, and at most `-k` exactly where `x <= -k`. So `int(n) != 0` says `n != 0`
/// (indeed `|n| >= 1`, which the pinhole cannot hold), and `int(n) > 0` says `n >= 1`; a range
/// holding 0 says nothing of the sign of `n` (`int(n) < 1` holds of 0.5 as of 0, and `int(n)
/// >= 0` of -0.5), and is dropped. (`int` of a NaN or an infinity raises: no value gets past.)
fn truncated_from(range: Interval) -> Option<Interval> {
    let (lo, hi) = (range.lo, range.hi);
    if lo.value == 0.0 && hi.value == 0.0 && !lo.closed && !hi.closed {
        return Some(NONZERO);
    }
    if range.is_positive() {
        // The least integer of the range that is at least 1.
        let k = if lo.closed { lo.value.ceil() } else { lo.value.floor() + 1.0 }.max(1.0);
        return k.is_finite().then(|| Interval::at_least(k));
    }
    if hi.value < 0.0 || (hi.value == 0.0 && !hi.closed) {
        let k = if hi.closed { hi.value.floor() } else { hi.value.ceil() - 1.0 }.min(-1.0);
        return k.is_finite().then(|| Interval::new(Bound::open(f64::NEG_INFINITY), Bound::closed(k)));
    }
    None
}

/// `a op b` tests a Python truth against a literal `True` or `False` (`==`, `!=`, `is`, `is
/// not`): the test and whether the comparison holds where it is true (`bool(n) is False`: `n`,
/// false). Only of a genuine `bool` (`bool(...)`, `not ...`): `t is False` is false for any
/// tensor `t`, and `(t > 0) is False` for a tensor comparison, so they say nothing of `t`.
fn bool_test<'t>(a: Node<'t>, op: &str, b: Node<'t>, src: &str) -> Option<(Node<'t>, bool)> {
    let literal = |n: Node<'t>| match unparenthesized(n).kind_name() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    };
    let (test, value) = match (literal(a), literal(b)) {
        (None, Some(v)) => (unparenthesized(a), v),
        (Some(v), None) => (unparenthesized(b), v),
        _ => return None,
    };
    let genuine = test.kind_name() == "not_operator" || builtin_argument(test, "bool", src).is_some();
    let equal = match op {
        "==" | "is" => true,
        "!=" | "is not" => false,
        _ => return None,
    };
    genuine.then_some((test, value == equal))
}

/// The one argument of a call of the builtin `name` (`int(n)`, `bool(n)`), with no keyword or
/// splat, read from the syntax: a name that shadows the builtin is not looked for (as the
/// values of `float(n)` and `int(n)` are read).
fn builtin_argument<'t>(call: Node<'t>, name: &str, src: &str) -> Option<Node<'t>> {
    let call = unparenthesized(call);
    if call.kind_name() != "call" {
        return None;
    }
    let function = call.child_by_field_id(FIELD.function)?;
    if function.kind_name() != "identifier" || text(function, src) != name {
        return None;
    }
    if call.child_by_field_id(FIELD.arguments)?.kind_name() != "argument_list" {
        return None;
    }
    let args = Args::of(call);
    match (args.positional.as_slice(), args.keyword.is_empty(), args.splat) {
        ([arg], true, false) => Some(*arg),
        _ => None,
    }
}

/// Narrows `range` by a constraint. The "not 0" pinhole (an empty-looking open point at 0)
/// opens an end of `range` that is a closed 0.
pub(super) fn narrow(range: Interval, by: Interval) -> Interval {
    if by.lo.value == 0.0 && by.hi.value == 0.0 && !by.lo.closed && !by.hi.closed {
        let mut r = range;
        if r.lo.value == 0.0 {
            r.lo.closed = false;
        }
        if r.hi.value == 0.0 {
            r.hi.closed = false;
        }
        return r;
    }
    range.meet(by)
}

/// Methods whose result is their receiver value for value, whatever it holds: a condition on
/// `n` holds of `n.item()`, `n.detach()`, ...
const COPY_METHODS: &[&str] = &["detach", "clone", "cpu", "cuda", "contiguous", "item"];

/// Casts that keep a count's value (an integer, exact in floating point): `n.float()`,
/// `n.double()`.
const COUNT_CASTS: &[&str] = &["float", "double"];

/// The receiver of a call that copies it value for value, whatever it holds, read from the
/// syntax alone (no value asked while conditions are read): a [`COPY_METHODS`] call with no
/// argument (`n.item()`, `n.detach()`).
fn plain_copy_of<'t>(node: Node<'t>, src: &str) -> Option<Node<'t>> {
    let function = node.child_by_field_id(FIELD.function).filter(|f| f.kind_name() == "attribute")?;
    let arguments = node.child_by_field_id(FIELD.arguments)?;
    if arguments.kind_name() != "argument_list" || arguments.named_child_count() != 0 {
        return None;
    }
    let name = function.child_by_field_id(FIELD.attribute)?;
    COPY_METHODS.contains(&text(name, src)).then(|| function.child_by_field_id(FIELD.object)).flatten()
}

/// Every path through `block` leaves it (and its function or loop): its last statement is a
/// `return`, `raise`, `continue` or `break`, or an `if` with an `else` each of whose branches
/// leaves (`if strict: raise ValueError(...)` / `else: return None`).
fn leaves(block: Node, depth: u32) -> bool {
    if depth > MAX_NESTING {
        return false;
    }
    let mut cursor = block.walk();
    let Some(last) = block.named_children(&mut cursor).filter(|c| c.kind_name() != "comment").last() else {
        return false;
    };
    match last.kind_name() {
        "return_statement" | "raise_statement" | "continue_statement" | "break_statement" => true,
        "if_statement" => {
            let mut inner = last.walk();
            let branches: Vec<Node> = last
                .named_children(&mut inner)
                .filter(|c| matches!(c.kind_name(), "elif_clause" | "else_clause"))
                .collect();
            branches.last().is_some_and(|b| b.kind_name() == "else_clause")
                && last.child_by_field_id(FIELD.consequence).is_some_and(|b| leaves(b, depth + 1))
                && branches.iter().all(|b| {
                    b.child_by_field_id(FIELD.consequence)
                        .or_else(|| b.child_by_field_id(FIELD.body))
                        .is_some_and(|b| leaves(b, depth + 1))
                })
        }
        _ => false,
    }
}

/// A `break` in the loop body `body` leaves that loop (one in a loop or a definition inside it
/// leaves another).
fn breaks_out(body: Node) -> bool {
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match n.kind_name() {
            "break_statement" => return true,
            "for_statement" | "while_statement" => {
                // Only their `else` belongs to the outer loop.
                stack.extend(n.child_by_field_id(FIELD.alternative));
            }
            "function_definition" | "class_definition" | "lambda" => {}
            _ => {
                let mut cursor = n.walk();
                stack.extend(n.named_children(&mut cursor));
            }
        }
    }
    false
}

fn is_loop(node: Node) -> bool {
    matches!(node.kind_name(), "for_statement" | "while_statement")
}

fn contains(outer: Node, inner: Node) -> bool {
    outer.start_byte() <= inner.start_byte() && inner.end_byte() <= outer.end_byte()
}

fn flip(op: &str) -> &str {
    match op {
        ">" => "<",
        "<" => ">",
        ">=" => "<=",
        "<=" => ">=",
        other => other,
    }
}

fn negate(op: &str) -> Option<&'static str> {
    Some(match op {
        ">" => "<=",
        "<=" => ">",
        "<" => ">=",
        ">=" => "<",
        "==" => "!=",
        "!=" => "==",
        _ => return None,
    })
}

/// Whether a test asks for lists of conditions built for each statement alone.
#[cfg(test)]
fn unshared() -> bool {
    tests::UNSHARED.with(std::cell::Cell::get)
}

#[cfg(not(test))]
fn unshared() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use crate::semantic::Model;
    use crate::syntax::{KindName, parse, tests::field_sources};

    thread_local! {
        /// Lists of conditions built for each statement alone, as before [`super::ExitChain`].
        pub(super) static UNSHARED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    fn flat<'a>(model: &Model<'a>, node: tree_sitter::Node<'a>, unshared: bool) -> Vec<(tree_sitter::Node<'a>, bool)> {
        UNSHARED.with(|u| u.set(unshared));
        let mut list = model.condition_list(node);
        UNSHARED.with(|u| u.set(false));
        let mut out = Vec::new();
        while let super::Conditions::Then(c, rest, _) = &*list {
            out.push(*c);
            let rest = rest.clone();
            list = rest;
        }
        out
    }

    /// The conditions at every identifier of the field cases and of shapes with early exits
    /// (some undone by a change of the name they test) are those of the lists built for each
    /// statement alone, in the same order.
    #[test]
    fn lists_after_shared_exits_are_those_built_alone() {
        let shapes = [
            "def f(c, n):\n    while True:\n        if c == 0:\n            return\n        USE(c)\n        if n <= 0:\n            break\n        n = n - 1\n        USE(n, c)\n        assert n > 1\n        USE(n)\n".to_string(),
            "def f(x):\n    if x <= 0:\n        return 0\n    y = USE(x)\n    x = g(x)\n    return USE(x) + y\n".to_string(),
        ];
        let mut asked = 0;
        for src in shapes.into_iter().chain(field_sources()) {
            let tree = parse(&src);
            let (shared, alone) = (Model::of(&src, &tree), Model::of(&src, &tree));
            let mut stack = vec![tree.root_node()];
            while let Some(node) = stack.pop() {
                if node.kind_name() == "identifier" {
                    assert_eq!(flat(&shared, node, false), flat(&alone, node, true), "{src}");
                    asked += 1;
                }
                let mut cursor = node.walk();
                stack.extend(node.children(&mut cursor));
            }
        }
        assert!(asked > 10_000, "{asked}");
    }

    /// The interval the conditions at `USE(x)` give `x`.
    fn at_use(src: &str) -> super::Interval {
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let at = src.rfind("USE(").unwrap() + 4;
        let x = tree.root_node().descendant_for_byte_range(at, at + 1).unwrap();
        model.refine(x, crate::semantic::value::Value::unknown()).range
    }

    #[test]
    fn conditions_narrow_the_value() {
        assert!(at_use("import numpy as np\ndef f(x):\n    return USE(x) if x > 0 else 0\n").is_positive());
        assert!(!at_use("import numpy as np\ndef f(x):\n    return 0 if x > 0 else USE(x)\n").is_positive());
        assert!(at_use("def f(x):\n    if x <= 0:\n        return 0\n    return USE(x)\n").is_positive());
        assert!(at_use("def f(x):\n    assert x > 0\n    return USE(x)\n").is_positive());
        assert!(at_use("def f(x):\n    ok = x > 0\n    if ok:\n        USE(x)\n").is_positive());
        assert!(at_use("def f(x):\n    if not (x <= 0):\n        USE(x)\n").is_positive());
        assert!(at_use("def f(x, y):\n    if x > 0 and y:\n        USE(x)\n").is_positive());
        assert!(!at_use("def f(x, y):\n    if x > 0 or y:\n        USE(x)\n").is_positive());
    }

    #[test]
    fn long_boolean_chains_stop_without_exhausting_the_stack() {
        let chain = vec!["x > 0"; 20_000].join(" and ");
        let src = format!("def f(x):\n    if {chain}:\n        USE(x)\n");
        let run = move || {
            let _ = at_use(&src);
        };
        std::thread::Builder::new().stack_size(512 * 1024).spawn(run).unwrap().join().unwrap();
    }

    /// Whether the value of the last `d` in `src` can be 0.
    fn last_d_reaches_zero(src: &str) -> bool {
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let at = src.rfind(" d").unwrap() + 1;
        let node = tree.root_node().descendant_for_byte_range(at, at + 1).unwrap();
        model.value(node).range.contains_zero()
    }

    /// Whether `cond` being `truth` keeps `d` away from 0.
    fn excludes_zero(cond: &str, truth: bool) -> bool {
        let src = format!("{cond}\n");
        let tree = parse(&src);
        let model = Model::of(&src, &tree);
        let expr = tree.root_node().named_child(0).unwrap().named_child(0).unwrap();
        let mut found = Vec::new();
        model.constraints_of(expr, truth, 0, &mut found);
        found.iter().any(|c| model.text(c.subject) == "d" && !c.range.contains_zero())
    }

    #[test]
    fn element_wise_conditions_constrain_like_boolean_ones() {
        assert!(excludes_zero("(d < 1) | (a < 0)", false));
        assert!(!excludes_zero("(d < 1) | (a < 0)", true));
        assert!(excludes_zero("(d > 0) & (a > 0)", true));
        assert!(!excludes_zero("(d > 0) & (a > 0)", false));
        assert!(excludes_zero("~(d <= 0)", true));
        assert!(excludes_zero("d > 0", true));
    }

    #[test]
    fn a_minimum_other_than_zero_keeps_a_count_above_it() {
        let src = "import numpy as np\ndef f(m):\n    d = np.count_nonzero(m, axis=0)\n    if d.min() == 0:\n        raise ValueError\n    return d\n";
        assert!(!last_d_reaches_zero(src));
    }

    #[test]
    fn a_true_count_and_a_loop_left_through_its_condition_exclude_zero() {
        let f = |body: &str| last_d_reaches_zero(&format!("import torch\ndef f(mask, t):\n{body}    return d\n"));
        assert!(f("    d = mask.sum()\n"));
        assert!(!f("    d = mask.sum()\n    if not d:\n        return 0\n"));
        assert!(!f("    if not (d := mask.sum()):\n        return 0\n"));
        assert!(!f("    d = mask.sum()\n    if not d:\n        d = 1\n"));
        assert!(!f("    while (d := mask.sum()) == 0:\n        mask = mask + 1\n"));
        assert!(!f("    while not (d := mask.sum()):\n        mask = mask + 1\n"));
        assert!(!f(
            "    d = mask.sum()\n    while d == 0:\n        for _ in t:\n            break\n        d = mask.sum()\n"
        ));
        // A true list is one that is not empty.
        assert!(f("    d = [0.0, 0.5]\n    if not d:\n        return 0\n"));
        // A false count is not known to be 0 (a `None` is false too), but nothing excludes it.
        assert!(f("    d = mask.sum()\n    if d:\n        return 0\n"));
        // Left by a `break` where the condition holds, or followed by an `else`.
        assert!(f("    while (d := mask.sum()) == 0:\n        if t:\n            break\n        mask = mask + 1\n"));
        assert!(f("    while (d := mask.sum()) == 0:\n        mask = mask + 1\n    else:\n        d = mask.sum(0)\n"));
        assert!(f(
            "    while (d := mask.sum()) == 0:\n        for _ in t:\n            pass\n        else:\n            break\n"
        ));
    }

    #[test]
    fn where_with_a_zero_test_replaces_the_zeros() {
        let src = "import torch\ndef f(mask):\n    d = mask.sum(-1)\n    d = torch.where(d == 0, 1, d)\n    return d\n";
        assert!(!last_d_reaches_zero(src));
    }
}
