//! The semantic model of one Python file: what names refer to, what each expression's value
//! can be, and what the file's own functions and classes return. It knows the numeric
//! libraries' APIs but nothing of the rules: rules ask it questions.
//!
//! - `imports` and `apis`: every callee resolved to one canonical API name.
//! - `scope`: bindings and reaching definitions per function (and the module).
//! - `value` and `transfer`: abstract values (interval, origin, kind, dtype, producer) and the
//!   table of how each API maps argument values to a result.
//! - `eval`: the evaluator, lazy and memoized per expression.
//! - `guards`: conditions that hold at a point (`if x > 0`, `a if x > 0 else b`, early exits).
//! - `facts`: what other parts of the file contribute: module-level names, attributes set on
//!   `self`, function summaries. A use of a fact is recorded ([`Model::dependencies`]) so that a
//!   cached analysis of one function can tell when facts it relied on changed.
//! - `losses`, `flows` and `dtype` (API contracts): what each loss expects, where predictions
//!   come from and which losses receive them across the file, and dtypes with the rounding of
//!   constants that meet them.
//! - `reductions`: sums, means, maxima, `logsumexp` and norms: what they reduce, over which axis.
//! - `gradients`: whether gradients flow through an expression (tensor code outside `no_grad`
//!   and `stop_gradient`).
//!
//! One file at a time; nothing crosses files.

pub mod apis;
pub mod bindings;
pub mod constant;
pub mod eval;
pub mod facts;
pub mod gradients;
pub mod guards;
pub mod imports;
pub mod reductions;
pub mod scope;
pub mod transfer;
pub mod value;
pub mod writes;

/// Helpers the semantic modules' unit tests share.
#[cfg(test)]
pub(crate) mod test_support {
    use super::Model;
    use super::value::{Interval, Op};
    use crate::syntax::{KindName, parse};

    /// The operation and interval of the right side of the last assignment to `name` in `src`.
    pub fn assigned(src: &str, name: &str) -> (Option<Op>, Interval) {
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let at = src.rfind(&format!("{name} = ")).unwrap() + name.len() + 3;
        let mut node = tree.root_node().descendant_for_byte_range(at, at).unwrap();
        while node.parent().is_some_and(|p| p.kind_name() != "assignment") {
            node = node.parent().unwrap();
        }
        let v = model.value(node);
        (v.op(), v.range)
    }
}
// API contracts (issue 10)
pub mod dtype;
pub mod flows;
pub mod losses;

use std::cell::{Cell, RefCell};
// The model's memos are keyed by node ids and names and looked up millions of times a
// keystroke's analysis; foldhash, not SipHash (no untrusted keys here).
use foldhash::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::Arc;

use tree_sitter::{Node, Tree};

use crate::syntax::{self, FIELD, KindName, text};
pub use facts::{Dependencies, Dependency, FactKey, PriorFacts, Sources, each_once};
use imports::Imports;
use scope::ScopeIndex;
use value::{Kind, Value};

/// A scope's identifiers by name, each list in source order ([`Model::identifiers`]).
pub type Identifiers<'a> = HashMap<&'a str, Vec<Node<'a>>>;

/// Some occurrences of a name in a scope, in source order ([`Model::changing_occurrences`]).
pub type Occurrences<'a> = Rc<Vec<Node<'a>>>;

/// The reads of a name in a scope that each of its bindings reaches, by the binding's node id
/// (as [`scope::Entry::node`]), each list in source order ([`Model::reads_reached`]).
pub type ReadsReached<'a> = HashMap<usize, Vec<Node<'a>>>;

/// Parameter lists at most this long are searched where a name is asked about; longer ones are
/// indexed by name once ([`Model::parameter`]): a function of `n` parameters, each used, read
/// them all per use.
const MAX_SCANNED_PARAMETERS: usize = 16;

/// The model of one file, built lazily as rules ask.
pub struct Model<'a> {
    pub src: &'a str,
    pub tree: &'a Tree,
    pub imports: Arc<Imports>,
    scopes: RefCell<HashMap<usize, Rc<ScopeIndex<'a>>>>,
    /// Per scope, its identifiers by name ([`Model::identifiers`]).
    identifiers: RefCell<HashMap<usize, Rc<Identifiers<'a>>>>,
    /// Per scope and name, the reads each binding reaches ([`Model::reads_reached`]).
    reads_reached: RefCell<HashMap<(usize, &'a str), Rc<ReadsReached<'a>>>>,
    /// Per scope, the nodes that may write into an array in place, in source order
    /// ([`Model::may_write_in_place_in`]).
    in_place_candidates: RefCell<HashMap<usize, Rc<Vec<Node<'a>>>>>,
    /// Per scope and name, the occurrences of the name that may change it
    /// ([`Model::changing_occurrences`]).
    changing_occurrences: RefCell<HashMap<(usize, &'a str), Occurrences<'a>>>,
    /// Per scope, the names its nested functions, lambdas and classes mention
    /// ([`Model::nested_names`]).
    nested_names: RefCell<HashMap<usize, Rc<HashSet<&'a str>>>>,
    /// Per scope, its statements converting a module's dtype (`Model::conversion_statements`).
    pub(crate) conversions: RefCell<HashMap<usize, Rc<Vec<Node<'a>>>>>,
    values: RefCell<HashMap<usize, Value<'a>>>,
    /// Expressions being evaluated (a cycle reads as unknown).
    active: RefCell<HashSet<usize>>,
    depth: Cell<u32>,
    /// Values and facts being computed, of either kind (see [`Model::leave`]).
    open: Cell<u32>,
    /// Whether the computation in progress met a cut: a cycle, or the depth limit. Its answer
    /// then depends on where the question was first asked (inside a cycle, the member asked
    /// first is the one read as unknown), so it is kept only until the outermost question is
    /// answered: in [`Model::provisional`], not in the memo. Every finding is then the same
    /// whatever order the rules ask in, which the server's per-function cache relies on.
    tainted: Cell<bool>,
    provisional: RefCell<HashMap<usize, (Value<'a>, Dependencies)>>,
    facts: RefCell<facts::Facts>,
    /// Guarding statements per block (see `guards`).
    exits: RefCell<HashMap<usize, guards::Exits<'a>>>,
    /// Per block, its `if` statements without `else` that rebind a name their condition
    /// constrains ([`guards::Bypasses`]).
    bypasses: RefCell<HashMap<usize, guards::Bypasses<'a>>>,
    /// [`Model::conditions_at`] of the nodes asked about and of those between them and their
    /// function, by node id; cleared with `parents`.
    condition_lists: RefCell<HashMap<usize, Rc<guards::Conditions<'a>>>>,
    /// The lists of conditions after each block's guarding statements ([`guards::ExitChain`]),
    /// by the block's id; cleared with `condition_lists`.
    exit_chains: RefCell<HashMap<usize, Rc<guards::ExitChain<'a>>>>,
    /// The parameters of the long parameter lists asked about, by name, by the list's node id
    /// ([`Model::parameter`]).
    parameter_lists: RefCell<HashMap<usize, Rc<HashMap<&'a str, Node<'a>>>>>,
    /// Facts used since the last [`Model::take_dependencies`].
    dependencies: RefCell<Dependencies>,
    /// Whether facts used are recorded: only a cache that checks them later needs them, and
    /// one model over a whole file, recording, kept every use of a file-wide fact with all the
    /// facts it was computed from (a file of 2,000 classes and 2,000 losses held 1 GB).
    records: bool,
    /// The facts each memoized value's computation used, replayed when the memo answers (so a
    /// fact computed after the value still records them).
    value_dependencies: RefCell<HashMap<usize, Dependencies>>,
    /// Whether each shared list of facts [`Model::still_holds`] checked still holds, by the
    /// list's address (the list kept alive here, so no other takes its address): the cached
    /// functions of a file share the lists of the file-wide facts they used, each checked once.
    lists_checked: RefCell<HashMap<usize, (Sources, bool)>>,
    /// Loss calls per scope (see `flows`).
    loss_calls: RefCell<HashMap<usize, Rc<Vec<flows::LossCall<'a>>>>>,
    /// The loss calls per scope and operation, by the nodes that may produce what each
    /// receives ([`Model::losses_by_producer`]).
    losses_by_producer: RefCell<HashMap<(usize, value::Op), Rc<flows::LossesByProducer<'a>>>>,
    /// Values computed so far (see [`Model::evaluations`]).
    evaluations: Cell<usize>,
    /// Facts recorded as used (see [`Model::recorded`]).
    recorded: Cell<usize>,
    /// Nodes walked building per-scope indexes, entries examined from them ([`Model::index_work`]).
    index_work: Cell<usize>,
    /// Facts of an earlier analysis of the file, reused where they still hold.
    prior: Option<Arc<facts::PriorFacts>>,
    /// [`Model::module_definition`] by name: each fact of a class or function looks its
    /// definition up, and a keystroke's check of the cached functions asks for thousands.
    module_definitions: RefCell<HashMap<String, Option<Node<'a>>>>,
    /// `Model::unit_definition` by qualified name (`f`, `Class.method`): checking a keystroke's
    /// cached functions asks it twice for every summary they used, each a walk of the class.
    unit_definitions: RefCell<HashMap<String, Option<Node<'a>>>>,
    /// The hash of a definition's text by its start byte (see `Model::fact_origin`): a class's
    /// attributes and methods share it.
    definition_hashes: RefCell<HashMap<usize, u64>>,
    /// The root's children, to find a node's parent without a walk through them (`Model::parent`).
    top_level: std::cell::OnceCell<syntax::TopLevel<'a>>,
    /// Each node's parent by node id, for the nodes of the function being analyzed
    /// ([`Model::index_parents`]) and of every chain found by a descent from the root since.
    /// tree-sitter nodes do not store their parent: every `parent` or ancestry asked of it
    /// descends from the root through each level's children in turn, some 600 instructions a
    /// level, and the rules ask it of the same few nodes of a function again and again (a
    /// fifth of a file's analysis).
    parents: RefCell<HashMap<usize, Node<'a>>>,
    /// [`Model::binder_of`] of the nodes it was asked of and of the nodes between them and their
    /// binder, by node id; cleared with `parents`. A node of an expression thousands of levels
    /// deep (a sum of as many terms) is as many steps from its function, and the rules ask the
    /// scope of many nodes of one expression.
    binders: RefCell<HashMap<usize, Option<Node<'a>>>>,
    /// [`facts::ClassIndex`] of each class by its node id.
    class_indexes: RefCell<HashMap<usize, Rc<facts::ClassIndex<'a>>>>,
    /// [`Model::class_and_bases`] of each class by its node id: a keystroke's check of the cached
    /// functions asks it of each class once for every attribute and missing method they read.
    class_chains: RefCell<HashMap<usize, Rc<[Node<'a>]>>>,
    /// The import edits fixes made that no fix holding them may apply as safe, each with why:
    /// an import at the top of a package the module imports only conditionally
    /// (`rules::fixes::spell`). The engine takes them after each rule ([`Model::take_import_caveats`]).
    import_caveats: RefCell<Vec<(crate::smell::Edit, String)>>,
}

/// What a call calls.
#[derive(Clone, Debug, PartialEq)]
pub enum Callee<'a> {
    /// A library function or class, by canonical name.
    Api(String),
    /// A method on a receiver that is not an import (`p.log()`, `self.fc(x)` is not one: see
    /// [`Callee::Value`]).
    Method { name: &'a str, receiver: Node<'a> },
    /// A function defined in this file, by its definition.
    Local(Node<'a>),
    /// A class defined in this file (a constructor call).
    Class(Node<'a>),
    /// Anything else: an object called (`criterion(out, y)`, `self.fc(x)`), a builtin.
    Value(Node<'a>),
}

impl Callee<'_> {
    /// The function's own name, whoever provides it: `bincount` for `torch.bincount(x)` and for
    /// `x.bincount()`. None for a local function, a class or an object called.
    pub fn leaf(&self) -> Option<&str> {
        match self {
            Callee::Api(api) => Some(apis::leaf(api)),
            Callee::Method { name, .. } => Some(name),
            _ => None,
        }
    }
}

impl<'a> Model<'a> {
    pub fn new(src: &'a str, tree: &'a Tree, imports: Arc<Imports>) -> Model<'a> {
        Model {
            src,
            tree,
            imports,
            scopes: RefCell::default(),
            identifiers: RefCell::default(),
            reads_reached: RefCell::default(),
            in_place_candidates: RefCell::default(),
            changing_occurrences: RefCell::default(),
            nested_names: RefCell::default(),
            conversions: RefCell::default(),
            values: RefCell::default(),
            active: RefCell::default(),
            depth: Cell::new(0),
            open: Cell::new(0),
            tainted: Cell::new(false),
            provisional: RefCell::default(),
            facts: RefCell::default(),
            exits: RefCell::default(),
            bypasses: RefCell::default(),
            condition_lists: RefCell::default(),
            exit_chains: RefCell::default(),
            parameter_lists: RefCell::default(),
            dependencies: RefCell::default(),
            records: true,
            value_dependencies: RefCell::default(),
            lists_checked: RefCell::default(),
            loss_calls: RefCell::default(),
            losses_by_producer: RefCell::default(),
            evaluations: Cell::new(0),
            recorded: Cell::new(0),
            index_work: Cell::new(0),
            prior: None,
            module_definitions: RefCell::default(),
            unit_definitions: RefCell::default(),
            definition_hashes: RefCell::default(),
            top_level: std::cell::OnceCell::new(),
            parents: RefCell::default(),
            binders: RefCell::default(),
            class_indexes: RefCell::default(),
            class_chains: RefCell::default(),
            import_caveats: RefCell::default(),
        }
    }

    /// Records that a fix's import edit `edit` is not sound, and why ([`Model::take_import_caveats`]).
    pub fn add_import_caveat(&self, edit: crate::smell::Edit, why: String) {
        self.import_caveats.borrow_mut().push((edit, why));
    }

    /// The import edits recorded since the last call that are not sound (an import at the top of
    /// a package the module imports only conditionally), each with why: the engine takes them
    /// after each rule's check and makes the fixes holding one unsafe, adding why to their
    /// titles. An edit adding one import is the same whichever rule made it in one file, so a
    /// fix holding one is unsound whichever rule made it.
    pub fn take_import_caveats(&self) -> Vec<(crate::smell::Edit, String)> {
        std::mem::take(&mut self.import_caveats.borrow_mut())
    }

    /// This model, recording no fact as used: for an analysis whose findings no cache keeps
    /// ([`Model::take_dependencies`] then returns nothing).
    pub fn without_dependencies(mut self) -> Self {
        self.records = false;
        self
    }

    /// Records `key`, which hashes as `hash`, and the facts it was computed from as used.
    fn record(&self, key: &FactKey, hash: u64, used: &Sources) {
        if self.records {
            let mut deps = self.dependencies.borrow_mut();
            deps.push(Dependency { key: key.clone(), hash });
            deps.push_shared(used);
            self.recorded.set(self.recorded.get() + 1 + used.len());
        }
    }

    /// Records the facts a memoized value's computation used as used again.
    fn record_all(&self, used: &Dependencies) {
        if self.records {
            self.dependencies.borrow_mut().extend(used);
            self.recorded.set(self.recorded.get() + used.len());
        }
    }

    /// This model, reusing the facts of an earlier analysis of the same file (same imports,
    /// settings and rules) where they still hold (see [`facts::PriorFacts`]).
    pub fn with_prior(mut self, prior: Arc<facts::PriorFacts>) -> Self {
        self.prior = Some(prior);
        self
    }

    /// This model, taking `facts` (known to hold for its text: see [`facts::TextFacts`]) as
    /// computed: they used no other fact, so a use records them alone, as a computation would.
    pub fn with_text_facts(self, facts: facts::TextFacts) -> Self {
        {
            let mut cache = self.facts.borrow_mut();
            for (key, fact, hash) in facts {
                debug_assert!(key.reads_text_only());
                debug_assert_eq!(facts::hash(&fact), hash);
                cache.seed(key, fact, hash);
            }
        }
        self
    }

    /// The facts read from the text alone ([`facts::FactKey::reads_text_only`]) this model
    /// computed or was given, for a later analysis of an edit of the same text.
    pub fn text_facts(&self) -> facts::TextFacts {
        self.facts.borrow().text_facts()
    }

    /// The facts this model computed or reused that a later analysis can reuse; the model
    /// forgets them.
    pub fn take_prior(&self) -> facts::PriorFacts {
        self.facts.borrow_mut().take_prior()
    }

    /// How many values this model computed (answers from its memo not counted): the work
    /// tests hold to a multiple of the input's size.
    pub fn evaluations(&self) -> usize {
        self.evaluations.get()
    }

    /// Syntax nodes walked building per-scope indexes ([`Model::identifiers`], the dtype
    /// conversions) plus the entries examined from them ([`Model::count_index_work`]): work
    /// tests hold to a multiple of the input's size.
    pub fn index_work(&self) -> usize {
        self.index_work.get()
    }

    /// How many times a fact was recorded as used, the facts it was computed from included:
    /// what the model's list of used facts held, in all.
    pub fn recorded(&self) -> usize {
        self.recorded.get()
    }

    /// Counts `n` nodes walked or index entries examined, for [`Model::index_work`].
    pub fn count_index_work(&self, n: usize) {
        self.index_work.set(self.index_work.get() + n);
    }

    /// A model with the file's own import table.
    pub fn of(src: &'a str, tree: &'a Tree) -> Model<'a> {
        Model::new(src, tree, Arc::new(Imports::collect(tree.root_node(), src)))
    }

    pub fn text(&self, node: Node) -> &'a str {
        text(node, self.src)
    }

    /// The canonical API an identifier or attribute chain names through the imports.
    pub fn api(&self, node: Node<'a>) -> Option<String> {
        let api = self.imports.api(node, self.src)?;
        // `def f(x, F): F.softmax(x)` or `for F in backends:`: a local binding of the import's
        // name holds something else there.
        let mut root = node;
        while root.kind_name() == "attribute" {
            root = root.child_by_field_id(FIELD.object)?;
        }
        (!self.shadows_locally(self.text(root), node)).then_some(api)
    }

    /// The constant value of an expression, if it is one.
    pub fn constant(&self, node: Node<'a>) -> Option<f64> {
        constant::constant(node, self.src, &self.imports)
    }

    /// What `call` calls.
    pub fn callee(&self, call: Node<'a>) -> Option<Callee<'a>> {
        let function = syntax::call_function(call)?;
        if let Some(api) = self.api(function) {
            return Some(Callee::Api(api));
        }
        match function.kind_name() {
            "identifier" => match self.local_definition(function) {
                Some(def) if def.kind_name() == "function_definition" => Some(Callee::Local(def)),
                Some(def) if def.kind_name() == "class_definition" => Some(Callee::Class(def)),
                _ => Some(Callee::Value(function)),
            },
            "attribute" => {
                let receiver = function.child_by_field_id(FIELD.object)?;
                let name = self.text(function.child_by_field_id(FIELD.attribute)?);
                // `self.helper(x)`: a method of this file's class.
                if let Some(method) = self.method_of_self(receiver, name) {
                    return Some(Callee::Local(method));
                }
                // `self.fc(x)`: an attribute holding a layer is called, not a method.
                let held = self.value(function);
                if matches!(held.kind, Kind::Object(_) | Kind::Instance(_)) {
                    return Some(Callee::Value(function));
                }
                Some(Callee::Method { name, receiver })
            }
            _ => Some(Callee::Value(function)),
        }
    }

    /// The function of this file `call` calls (`Some` exactly when [`Model::callee`] is
    /// `Callee::Local`), without computing the value of an attribute it calls: deciding that
    /// `self.fc(x)` calls no method took the value of `self.fc`, some 80,000 instructions, for
    /// every call a pattern on local calls matched.
    pub fn local_callee(&self, call: Node<'a>) -> Option<Node<'a>> {
        let function = syntax::call_function(call)?;
        if self.api(function).is_some() {
            return None;
        }
        match function.kind_name() {
            "identifier" => self.local_definition(function).filter(|def| def.kind_name() == "function_definition"),
            "attribute" => {
                let receiver = function.child_by_field_id(FIELD.object)?;
                self.method_of_self(receiver, self.text(function.child_by_field_id(FIELD.attribute)?))
            }
            _ => None,
        }
    }

    /// The bindings of a function or the module, indexed on first use (the module's from the
    /// root's children [`Model::parent`] keeps).
    pub fn scope_index(&self, scope: Node<'a>) -> Rc<ScopeIndex<'a>> {
        self.scopes
            .borrow_mut()
            .entry(scope.id())
            .or_insert_with(|| {
                Rc::new(if scope == self.tree.root_node() {
                    ScopeIndex::build_module(scope, self.top_level().children(), self.src)
                } else {
                    ScopeIndex::build(scope, self.src)
                })
            })
            .clone()
    }

    /// Every identifier of `scope` (a function, lambda or the module), outside the functions,
    /// lambdas and classes nested in it, by name, each list in source order; built once per scope.
    /// A rule asking for a name's later uses at each of n findings in one function walked the
    /// function each time: n² (800 logs in one function took 3.5 s).
    pub fn identifiers(&self, scope: Node<'a>) -> Rc<Identifiers<'a>> {
        if let Some(found) = self.identifiers.borrow().get(&scope.id()) {
            return found.clone();
        }
        let mut by_name: Identifiers<'a> = HashMap::default();
        let mut stack = vec![scope];
        while let Some(n) = stack.pop() {
            self.count_index_work(1);
            if n.kind_name() == "identifier" {
                by_name.entry(self.text(n)).or_default().push(n);
            }
            let mut cursor = n.walk();
            for child in n.named_children(&mut cursor) {
                if !matches!(child.kind_name(), "function_definition" | "lambda" | "class_definition") {
                    stack.push(child);
                }
            }
        }
        for uses in by_name.values_mut() {
            uses.sort_by_key(|n| n.start_byte());
        }
        let by_name = Rc::new(by_name);
        self.identifiers.borrow_mut().insert(scope.id(), by_name.clone());
        by_name
    }

    /// The identifiers of `name` in `scope` ([`Model::identifiers`]) that are not the target
    /// of an assignment (`name = ...`), by the bindings that may reach them (the scope index's
    /// reaching definitions): each read asked once per scope and name. Asked per binding, the
    /// reads after each were each asked again: `n` branches `elif ...: w = log(x)` before one
    /// `return w` walked the later branches' targets and every branch for what reaches
    /// `return w`, for each of the `n` logs.
    pub fn reads_reached(&self, scope: Node<'a>, name: &'a str) -> Rc<ReadsReached<'a>> {
        if let Some(found) = self.reads_reached.borrow().get(&(scope.id(), name)) {
            return found.clone();
        }
        let identifiers = self.identifiers(scope);
        let index = self.scope_index(scope);
        let mut reached: ReadsReached<'a> = HashMap::default();
        for &u in identifiers.get(name).map_or(&[][..], Vec::as_slice) {
            self.count_index_work(1);
            let target = self
                .parent(u)
                .is_some_and(|p| p.kind_name() == "assignment" && p.child_by_field_id(FIELD.left) == Some(u));
            if target {
                continue;
            }
            for entry in index.reaching(name, u.start_byte()).entries {
                self.count_index_work(1);
                let reads = reached.entry(entry.node.id()).or_default();
                if reads.last() != Some(&u) {
                    reads.push(u);
                }
            }
        }
        let reached = Rc::new(reached);
        self.reads_reached.borrow_mut().insert((scope.id(), name), reached.clone());
        reached
    }

    /// Every name an identifier spells inside the functions, lambdas and classes nested in
    /// `scope` (at any depth): the names a closure may read or write, which
    /// [`Model::identifiers`] leaves out. Built once per scope: asking per name walked the
    /// scope each time.
    pub fn nested_names(&self, scope: Node<'a>) -> Rc<HashSet<&'a str>> {
        if let Some(found) = self.nested_names.borrow().get(&scope.id()) {
            return found.clone();
        }
        let mut names = HashSet::default();
        crate::syntax::visit(scope, |n| {
            self.count_index_work(1);
            if n != scope && matches!(n.kind_name(), "function_definition" | "lambda" | "class_definition") {
                crate::syntax::visit(n, |m| {
                    self.count_index_work(1);
                    if m.kind_name() == "identifier" {
                        names.insert(self.text(m));
                    }
                    true
                });
                return false;
            }
            true
        });
        let names = Rc::new(names);
        self.nested_names.borrow_mut().insert(scope.id(), names.clone());
        names
    }

    /// `node.parent()`, found without tree-sitter's walk through the module's statements
    /// ([`syntax::TopLevel`]).
    pub fn parent(&self, node: Node<'a>) -> Option<Node<'a>> {
        if let Some(parent) = self.parents.borrow().get(&node.id()) {
            syntax::count_steps_up(1);
            return Some(*parent);
        }
        let chain = self.ancestry(node);
        (chain.len() >= 2).then(|| chain[chain.len() - 2])
    }

    /// The chain from the root down to `node`, both included ([`syntax::ancestry`]): up through
    /// the parents known, then down from the root to the first node whose parent is not, whose
    /// chain is then known too.
    pub fn ancestry(&self, node: Node<'a>) -> Vec<Node<'a>> {
        let root = self.tree.root_node();
        let mut up = vec![node];
        {
            let parents = self.parents.borrow();
            let mut at = node;
            while let Some(parent) = parents.get(&at.id()) {
                up.push(*parent);
                at = *parent;
            }
            syntax::count_steps_up(up.len() - 1);
        }
        let top = up.pop().unwrap_or(node);
        let mut chain = if top == root { vec![root] } else { self.top_level().ancestry(top) };
        {
            let mut parents = self.parents.borrow_mut();
            for pair in chain.windows(2) {
                parents.insert(pair[1].id(), pair[0]);
            }
        }
        chain.extend(up.into_iter().rev());
        chain
    }

    /// Records the parent of every node inside `node`, however deep (one descent to a node below a
    /// limit cost as many steps as it is deep, for every such node asked about), in
    /// place of the parents recorded before, so that [`Model::parent`] and [`Model::ancestry`]
    /// find them without a descent from the root: one walk of a function before its analysis.
    pub fn index_parents(&self, node: Node<'a>) {
        let mut parents = self.parents.borrow_mut();
        // Only the last function's: a whole file's would hold a node per 2 bytes of source.
        parents.clear();
        self.binders.borrow_mut().clear();
        self.condition_lists.borrow_mut().clear();
        self.exit_chains.borrow_mut().clear();
        let mut cursor = node.walk();
        let mut stack = vec![node];
        'walk: loop {
            if cursor.goto_first_child() {
                let child = cursor.node();
                parents.insert(child.id(), stack[stack.len() - 1]);
                stack.push(child);
                continue;
            }
            while stack.len() > 1 {
                stack.pop();
                if cursor.goto_next_sibling() {
                    let sibling = cursor.node();
                    parents.insert(sibling.id(), stack[stack.len() - 1]);
                    stack.push(sibling);
                    continue 'walk;
                }
                cursor.goto_parent();
            }
            break;
        }
    }

    fn top_level(&self) -> &syntax::TopLevel<'a> {
        self.top_level.get_or_init(|| syntax::TopLevel::new(self.tree.root_node()))
    }

    /// The innermost function (or lambda) holding `node`, if any.
    pub fn enclosing_function(&self, node: Node<'a>) -> Option<Node<'a>> {
        self.ancestry(node)
            .into_iter()
            .rev()
            .skip(1)
            .find(|n| matches!(n.kind_name(), "function_definition" | "lambda"))
    }

    /// The innermost function definition holding `node` (not a lambda), else the module.
    pub fn scope_of(&self, node: Node<'a>) -> Node<'a> {
        let mut at = node;
        while let Some(binder) = self.binder_of(at) {
            if binder.kind_name() == "function_definition" {
                return binder;
            }
            at = binder;
        }
        self.tree.root_node()
    }

    /// The innermost node strictly above `node` that binds names of its own: a function, a
    /// lambda, a class or a comprehension. Up through the parents to one, or to a node whose
    /// binder is known: the nodes on the way have the same.
    pub fn binder_of(&self, node: Node<'a>) -> Option<Node<'a>> {
        let mut path = Vec::new();
        let mut at = node;
        let binder = loop {
            if let Some(binder) = self.binders.borrow().get(&at.id()) {
                break *binder;
            }
            path.push(at.id());
            match self.parent(at) {
                None => break None,
                Some(parent) if syntax::binds_names(parent) => break Some(parent),
                Some(parent) => at = parent,
            }
        };
        self.binders.borrow_mut().extend(path.into_iter().map(|id| (id, binder)));
        binder
    }

    /// `node` and the nodes that bind names above it ([`Model::binder_of`]), innermost first.
    pub fn binders_from(&self, node: Node<'a>) -> impl Iterator<Item = Node<'a>> + '_ {
        std::iter::successors(Some(node), move |n| self.binder_of(*n))
    }

    /// The module, or the root of a tree whose recovery from syntax errors made the root an
    /// `ERROR` node (then it holds the module's statements): where walks up the scopes stop.
    pub fn is_module_scope(&self, scope: Node<'a>) -> bool {
        scope.kind_name() == "module" || scope == self.tree.root_node()
    }

    /// The class whose method `function` is, if it is one.
    pub fn class_of_method(&self, function: Node<'a>) -> Option<Node<'a>> {
        let chain = self.ancestry(function);
        let mut up = chain.iter().rev().skip(1);
        let mut parent = up.next()?;
        if parent.kind_name() == "decorated_definition" {
            parent = up.next()?;
        }
        if parent.kind_name() != "block" {
            return None;
        }
        up.next().filter(|c| c.kind_name() == "class_definition").copied()
    }

    /// The definition a plain name refers to when it is a function or class defined in this
    /// file (in the enclosing function, or at module level).
    pub fn local_definition(&self, name: Node<'a>) -> Option<Node<'a>> {
        let wanted = self.text(name);
        let mut scope = self.scope_of(name);
        loop {
            let index = self.scope_index(scope);
            let reaching = index.reaching(wanted, name.start_byte());
            if let [entry] = reaching.entries.as_slice() {
                return match entry.binding {
                    scope::Binding::Definition(def) => Some(def),
                    _ => None,
                };
            }
            if !reaching.entries.is_empty() || !reaching.outer {
                return None;
            }
            if self.is_module_scope(scope) {
                return None;
            }
            // A parameter of that name shadows outer definitions.
            if self.parameter(scope, wanted).is_some() {
                return None;
            }
            let inner = scope;
            scope = self.scope_of(scope);
            if scope == inner {
                return None;
            }
            if self.is_module_scope(scope) {
                // Module-level definitions are visible from any function, whatever their place;
                // which ones exist is a fact of the module.
                self.fact(&FactKey::Global(wanted.into()));
                return self.module_definition(wanted);
            }
        }
    }

    /// A function or class defined at module level (possibly decorated, possibly inside an
    /// `if` or `try` at module level) with this name: the last one.
    pub fn module_definition(&self, name: &str) -> Option<Node<'a>> {
        if let Some(found) = self.module_definitions.borrow().get(name) {
            return *found;
        }
        let index = self.scope_index(self.tree.root_node());
        let reaching = index.reaching(name, self.src.len());
        let found = match reaching.entries.as_slice() {
            [entry] => match entry.binding {
                scope::Binding::Definition(def) => Some(def),
                _ => None,
            },
            _ => None,
        };
        self.module_definitions.borrow_mut().insert(name.to_string(), found);
        found
    }

    /// `self.name` inside a method: the method `name` of the same class, defined there or in a
    /// base class of the file ([`Model::method_of_class`]).
    fn method_of_self(&self, receiver: Node<'a>, name: &str) -> Option<Node<'a>> {
        let class = self.self_class(receiver)?;
        // Whether the class defines the method is a fact its other methods use.
        if let Some(class_name) = class.child_by_field_id(FIELD.name) {
            self.fact(&FactKey::Function(format!("{}.{name}", self.text(class_name)).into()));
        }
        self.count_index_work(1);
        self.method_of_class(class, name)
    }

    /// The class `receiver` is the instance of, when it is the first parameter of a method.
    pub fn self_class(&self, receiver: Node<'a>) -> Option<Node<'a>> {
        if receiver.kind_name() != "identifier" {
            return None;
        }
        let function = self.scope_of(receiver);
        if function.kind_name() != "function_definition" {
            return None;
        }
        let first = first_parameter(function, self.src)?;
        if first != self.text(receiver) || first == "cls" {
            return None;
        }
        // Not rebound in the method.
        if self.scope_index(function).binds(first) {
            return None;
        }
        self.class_of_method(function)
    }

    /// The parameter node of `function` named `name`.
    pub fn parameter(&self, function: Node<'a>, name: &str) -> Option<Node<'a>> {
        let params = function.child_by_field_id(FIELD.parameters)?;
        let count = params.named_child_count();
        if count > MAX_SCANNED_PARAMETERS {
            self.count_index_work(1);
            return self.parameters_by_name(params).get(name).copied();
        }
        self.count_index_work(count);
        // Asked for every library call's alias (is `F` a parameter here?): a parameter of that
        // name is spelled in the list's text, and a substring search is cheaper than a walk.
        if !self.src[params.byte_range()].contains(name) {
            return None;
        }
        let mut cursor = params.walk();
        params.named_children(&mut cursor).find(|p| parameter_name(*p, self.src) == Some(name))
    }

    /// The parameters of the list `params` by name (the first of each name), built once per list.
    fn parameters_by_name(&self, params: Node<'a>) -> Rc<HashMap<&'a str, Node<'a>>> {
        if let Some(found) = self.parameter_lists.borrow().get(&params.id()) {
            return found.clone();
        }
        let mut by_name = HashMap::default();
        let mut cursor = params.walk();
        for p in params.named_children(&mut cursor) {
            self.count_index_work(1);
            if let Some(name) = parameter_name(p, self.src) {
                by_name.entry(name).or_insert(p);
            }
        }
        let by_name = Rc::new(by_name);
        self.parameter_lists.borrow_mut().insert(params.id(), by_name.clone());
        by_name
    }

    /// The facts used since the last call, and forgets them.
    pub fn take_dependencies(&self) -> Dependencies {
        std::mem::take(&mut *self.dependencies.borrow_mut()).distinct()
    }

    /// The current hash of a fact, as [`Dependency::hash`] recorded it (recorded as used, as
    /// [`Model::fact`] records it).
    pub fn fact_hash(&self, key: &FactKey) -> u64 {
        {
            let facts = self.facts.borrow();
            if let Some((hash, used)) = facts.hashed(key) {
                self.record(key, hash, used);
                return hash;
            }
        }
        self.fact_and_hash(key).1
    }

    /// Whether each of `deps` still hashes as recorded; records nothing as used (a check of a
    /// cached analysis, not part of one).
    pub fn still_holds(&self, deps: &Dependencies) -> bool {
        deps.direct().iter().all(|d| self.current_hash(&d.key) == d.hash)
            && deps.shared().iter().all(|list| self.list_holds(list))
    }

    /// Whether each fact of `list` still hashes as recorded, checked once per list.
    fn list_holds(&self, list: &Sources) -> bool {
        let at = list.as_ptr() as usize;
        if let Some((_, held)) = self.lists_checked.borrow().get(&at) {
            return *held;
        }
        let held = list.iter().all(|d| self.current_hash(&d.key) == d.hash);
        self.lists_checked.borrow_mut().insert(at, (list.clone(), held));
        held
    }

    /// The current hash of a fact, recording nothing as used: a check of a cached analysis, not
    /// part of one. A fact this model has computed is looked up (most of a keystroke's checks:
    /// the cached functions of a file share their facts).
    pub fn current_hash(&self, key: &FactKey) -> u64 {
        if let Some((hash, _)) = self.facts.borrow().hashed(key) {
            return hash;
        }
        let mark = self.dependencies.borrow().mark();
        let hash = self.fact_and_hash(key).1;
        self.dependencies.borrow_mut().truncate(mark);
        hash
    }
}

/// The name a parameter node binds (`x`, `x=1`, `x: T`, `*args`, `**kw`).
pub fn parameter_name<'s>(param: Node, src: &'s str) -> Option<&'s str> {
    let name = match param.kind_name() {
        "identifier" => Some(param),
        "default_parameter" | "typed_default_parameter" => param.child_by_field_id(FIELD.name),
        "typed_parameter" => param.named_child(0),
        "list_splat_pattern" | "dictionary_splat_pattern" => param.named_child(0),
        _ => None,
    }?;
    (name.kind_name() == "identifier").then(|| text(name, src))
}

/// The first parameter's name (`self` of a method).
pub fn first_parameter<'s>(function: Node, src: &'s str) -> Option<&'s str> {
    let params = function.child_by_field_id(FIELD.parameters)?;
    let mut cursor = params.walk();
    let first = params.named_children(&mut cursor).find(|p| p.kind_name() != "comment")?;
    parameter_name(first, src)
}

#[cfg(test)]
mod tests {
    use super::{Callee, Model};
    use crate::syntax::tests::{all_nodes, broken_variants, field_sources};
    use crate::syntax::{KindName, ancestry, parse};

    /// [`Model::parent`] and [`Model::ancestry`] answer as tree-sitter does, from the parents
    /// recorded for the function indexed last, from chains found before, or by a descent from
    /// the root: over the field cases and the fixtures, whole and broken, with a function
    /// indexed every 97 nodes.
    #[test]
    fn parents_recorded_are_the_parents_tree_sitter_finds() {
        let mut indexed = 0;
        for text in field_sources() {
            for src in std::iter::once(text.clone()).chain(broken_variants(&text)) {
                let tree = parse(&src);
                let model = Model::of(&src, &tree);
                let nodes = all_nodes(&tree);
                let functions: Vec<_> = nodes.iter().filter(|n| n.kind_name() == "function_definition").collect();
                for (i, node) in nodes.iter().enumerate() {
                    if i % 97 == 0 && !functions.is_empty() {
                        model.index_parents(*functions[i / 97 % functions.len()]);
                        indexed += 1;
                    }
                    assert_eq!(model.parent(*node), node.parent(), "{node:?} in {src:?}");
                    assert_eq!(model.ancestry(*node), ancestry(tree.root_node(), *node), "{node:?} in {src:?}");
                }
            }
        }
        assert!(indexed > 1_000, "{indexed} functions indexed");
    }

    /// [`Model::local_callee`] names a function exactly when [`Model::callee`] says `Local`,
    /// the same one, for every call of the field cases and the fixtures.
    #[test]
    fn local_callee_is_callee_local() {
        let mut local = 0;
        for src in field_sources() {
            let tree = parse(&src);
            let model = Model::of(&src, &tree);
            for call in all_nodes(&tree).into_iter().filter(|n| n.kind_name() == "call") {
                let expected = match model.callee(call) {
                    Some(Callee::Local(def)) => Some(def),
                    _ => None,
                };
                assert_eq!(model.local_callee(call), expected, "{call:?} in {src:?}");
                local += usize::from(expected.is_some());
            }
        }
        assert!(local >= 10, "only {local} calls of local functions");
    }

    /// Regression: [`Model::api`] asked a module fact (the alias's last module-level binding) of
    /// every library call in a function, and a fact read is recorded in the dependencies of every
    /// value memoized meanwhile: the server's peak memory on the latency file grew by about 4 MB.
    /// The alias of a call in a function resolves, or not where a parameter shadows it, and no
    /// fact is recorded.
    #[test]
    fn api_of_a_call_in_a_function_records_no_fact() {
        let src = "import torch\nimport torch.nn.functional as F\n\n\ndef f(x, y):\n    return F.softmax(torch.exp(x), -1)\n\n\ndef g(x, F):\n    return F.softmax(x, -1)\n";
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let calls: Vec<_> = all_nodes(&tree).into_iter().filter(|n| n.kind_name() == "call").collect();
        let apis: Vec<_> = calls.iter().map(|c| model.api(c.child_by_field_name("function").unwrap())).collect();
        assert_eq!(apis, [Some("torch.softmax".to_string()), Some("torch.exp".to_string()), None], "{calls:?}");
        assert_eq!(model.recorded(), 0, "facts recorded by api");
    }
}
