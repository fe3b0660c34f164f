//! Facts one part of a file contributes to another: the value of a module-level name, of an
//! attribute set on `self`, and what a function returns and where its parameters go.
//!
//! Facts are position-independent (no nodes, no byte offsets), so they can be compared between
//! two versions of a file: a cached analysis of a function records the facts it used
//! ([`Dependency`]) and stays valid while their hashes do.

// foldhash rather than std's SipHash for the maps keyed by facts: a keystroke's check of the
// cached functions looks facts up some 900 times, and SipHash was 9 % of its instructions.
use foldhash::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, LazyLock};

use tree_sitter::Node;

use super::Model;
use super::transfer::RECEIVER;
use super::value::{Kind, Origin, Value, ValueSummary};
use crate::syntax::{Args, FIELD, KindName, Words, call_function, is_scope, text, unparenthesized};

/// Names a fact.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FactKey {
    /// The value of a module-level name, as functions see it.
    Global(Name),
    /// The value of `self.<attr>` in methods of the module-level class `class`.
    Attribute { class: Name, attr: Name },
    /// The summary of a module-level function (`f`) or of a method (`Class.method`).
    Function(Name),
    // API contracts (issue 10)
    /// The loss calls of one function (`f`, `Class.method`) or of the module-level code (`""`).
    Flows(Name),
    /// The loss calls of every function that mentions a loss, and of the module-level code.
    FileFlows,
    /// The slice of [`FactKey::FileFlows`] whose prediction comes from the source.
    FlowsFrom(super::flows::Source),
    /// The slice of [`FactKey::FileFlows`] whose loss object is held in the source.
    FlowsInto(super::flows::Source),
    /// The slice of [`FactKey::FileFlows`] whose prediction is the result of the function
    /// (`f`, `C.m`) returned unchanged by others ([`Model::flows_passing_through`]).
    FlowsThrough(Name),
    /// What the calls of one function (`f`, `Class.method`, with the functions nested in it) or
    /// of the module-level code (`""`) call of the file: its classes, functions, held objects.
    Calls(Name),
    /// Which unit calls what, for every unit of the file (the union of the `Calls` facts).
    FileCalls,
    /// The file's module classes (`nn.Module`, `keras.Model`, ... subclasses).
    ModuleClasses,
    /// File-wide precision settings (a Keras policy, a default dtype, JAX x64).
    Precision,
    /// Names assigned a loss object anywhere in the file (`criterion`, `self.kl`: `kl`).
    LossHolders,
    /// The names of losses that take logits the file's text mentions, and `from_logits`.
    LogitsLossWords,
    /// The functions the file's text passes to a differentiation transform (`jax.grad(f)`).
    Differentiated,
    /// The name a fix that binds a new variable in module-level code gives it (`logits`, or
    /// `logits_2` when the file uses `logits`): it depends on the whole file's text, so code
    /// whose fix took it holds only while it is the same. (In a function only the function's
    /// text counts: [`Model::fresh_name`].)
    FreshName(Name),
    /// Whether module-level code binds the name last with something other than an import (`F
    /// = 3` after `import torch.nn.functional as F`): a fix in a function must not write it.
    Rebound(Name),
    /// What the module-level bindings of the name that reach the end of the module bind it to
    /// (an import's module, `tf = tf.compat.v1`, something else): a fix in a function may write
    /// an alias only when the module's bindings of it are imports of that module.
    ModuleBinding(Name),
    /// Whether the module-level function (`f`) or method (`Class.method`) may write into an
    /// array that exists when it is called (its parameters', its closure's, the module's): a
    /// fix reading the logits again after a call of it in between must not be offered.
    InPlaceWrites(Name),
}

/// A name in a [`FactKey`]: keys are cloned into every dependency list that records them
/// (thousands a keystroke), so a clone shares the text rather than copying it.
pub type Name = Arc<str>;

/// A fact's content.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Fact {
    Value(Option<ValueSummary>),
    Function(Option<Summary>),
    // API contracts (issue 10)
    Flows(Vec<super::flows::LossFlow>),
    ModuleClasses(Vec<super::flows::ModuleClass>),
    Precision(super::dtype::Precision),
    Names(Vec<String>),
    Sources(Vec<super::flows::Source>),
    /// A unit (`f`, `C.m`, `""`) and a source it calls, sorted.
    Callers(Vec<(String, super::flows::Source)>),
}

/// A fact an analysis used, and its hash then.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Dependency {
    pub key: FactKey,
    pub hash: u64,
}

/// The facts one fact was computed from, each once, as the fact keeps them: shared by every
/// analysis that uses the fact, not copied into each.
pub type Sources = Arc<[Dependency]>;

/// The facts an analysis used: each fact used directly, and for each fact used the facts it
/// was computed from, as the list that fact keeps (shared, not copied). A file-wide fact used
/// by each of n functions was computed from some 2n facts: copied into each user's list, the
/// cache held n² dependencies (a file of 4,000 classes and 4,000 losses held 1 GB).
///
/// The same fact may be listed more than once (in two shared lists, or directly and in one):
/// every question asked of the list (does each still hash as recorded, does one of them change)
/// answers the same for repeats.
#[derive(Clone, Debug, Default)]
pub struct Dependencies {
    direct: Vec<Dependency>,
    shared: Vec<Sources>,
}

/// A point in a [`Dependencies`] list ([`Dependencies::mark`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Mark {
    direct: usize,
    shared: usize,
}

impl Dependencies {
    /// Every fact listed, repeats included.
    pub fn iter(&self) -> impl Iterator<Item = &Dependency> + Clone + '_ {
        self.direct.iter().chain(self.shared.iter().flat_map(|s| s.iter()))
    }

    /// Whether `f` holds of one fact listed: [`Dependencies::iter`]`().any(f)`, a slice at a
    /// time (a chained iterator over the lists is several times slower).
    pub fn any(&self, mut f: impl FnMut(&Dependency) -> bool) -> bool {
        self.direct.iter().any(&mut f) || self.shared.iter().any(|s| s.iter().any(&mut f))
    }

    pub fn is_empty(&self) -> bool {
        self.direct.is_empty() && self.shared.iter().all(|s| s.is_empty())
    }

    /// How many facts are listed, repeats included.
    pub fn len(&self) -> usize {
        self.direct.len() + self.shared.iter().map(|s| s.len()).sum::<usize>()
    }

    pub(crate) fn push(&mut self, d: Dependency) {
        self.direct.push(d);
    }

    /// Lists the facts of `list`, sharing it.
    pub(crate) fn push_shared(&mut self, list: &Sources) {
        if !list.is_empty() {
            self.shared.push(list.clone());
        }
    }

    pub(crate) fn extend(&mut self, other: &Dependencies) {
        self.direct.extend_from_slice(&other.direct);
        self.shared.extend(other.shared.iter().cloned());
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark { direct: self.direct.len(), shared: self.shared.len() }
    }

    pub(crate) fn truncate(&mut self, mark: Mark) {
        self.direct.truncate(mark.direct);
        self.shared.truncate(mark.shared);
    }

    /// The facts listed since `mark`, which this list forgets.
    pub(crate) fn split_off(&mut self, mark: Mark) -> Dependencies {
        Dependencies {
            direct: self.direct.split_off(mark.direct.min(self.direct.len())),
            shared: self.shared.split_off(mark.shared.min(self.shared.len())),
        }
    }

    /// The facts listed since `mark`, without repeats of a direct fact or of a shared list.
    pub(crate) fn since(&self, mark: Mark) -> Dependencies {
        Dependencies {
            direct: self.direct.get(mark.direct..).map(<[_]>::to_vec).unwrap_or_default(),
            shared: self.shared.get(mark.shared..).map(<[_]>::to_vec).unwrap_or_default(),
        }
        .distinct()
    }

    /// This list without repeats of a direct fact or of a shared list (the same list shared
    /// twice), in first-use order.
    pub(crate) fn distinct(self) -> Dependencies {
        let direct = if self.direct.len() <= 1 { self.direct } else { distinct(self.direct) };
        let mut shared = self.shared;
        if shared.len() > 1 {
            // Most lists share a few; a scan beats hashing (and allocates nothing).
            if shared.len() <= 16 {
                let mut kept = 0;
                for i in 0..shared.len() {
                    if !shared[..kept].iter().any(|s| Arc::ptr_eq(s, &shared[i])) {
                        shared.swap(kept, i);
                        kept += 1;
                    }
                }
                shared.truncate(kept);
            } else {
                let mut seen: HashSet<*const Dependency> = HashSet::default();
                shared.retain(|s| seen.insert(s.as_ptr()));
            }
        }
        Dependencies { direct, shared }
    }

    /// Every fact listed, each once, in first-use order: a fact's own list.
    pub(crate) fn flatten(self) -> Sources {
        // Most facts use none or one other: their list is shared, not allocated.
        static NONE: LazyLock<Sources> = LazyLock::new(|| Arc::new([]));
        if self.direct.is_empty() && self.shared.len() <= 1 {
            return self.shared.into_iter().next().unwrap_or_else(|| NONE.clone());
        }
        let mut all = self.direct;
        for s in &self.shared {
            all.extend_from_slice(s);
        }
        distinct(all).into()
    }

    /// The shared lists (each kept by the fact it lists the sources of).
    pub(crate) fn shared(&self) -> &[Sources] {
        &self.shared
    }

    /// The facts listed directly.
    pub(crate) fn direct(&self) -> &[Dependency] {
        &self.direct
    }
}

/// Every fact listed in `lists`, a list shared by several visited once: the questions asked of
/// them (is one of them some fact, does one hash otherwise now) answer the same for repeats, and
/// the functions of a file share the lists of its file-wide facts.
pub fn each_once<'d>(lists: impl IntoIterator<Item = &'d Dependencies>) -> impl Iterator<Item = &'d Dependency> {
    let mut seen: HashSet<*const Dependency> = HashSet::default();
    let mut slices: Vec<&'d [Dependency]> = Vec::new();
    for deps in lists {
        slices.push(&deps.direct);
        slices.extend(deps.shared.iter().filter(|l| seen.insert(l.as_ptr())).map(|l| &l[..]));
    }
    slices.into_iter().flatten()
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Summary {
    /// Parameter names in order (`self` included for methods).
    pub params: Vec<String>,
    /// The join of its `return` values; `None` when it returns no value.
    pub returns: Option<ValueSummary>,
    /// Element by element, the join of its `return`ed tuples (`return centroids, labels`), when
    /// every `return` returns a tuple of the same length; empty otherwise. What `a, b = f(x)`
    /// binds and `f(x)[0]` is.
    pub elements: Vec<ValueSummary>,
    /// Parameters passed on unchanged to library functions or methods.
    pub flows: Vec<Flow>,
    /// The file's function (qualified, `C.m` or `f`) whose result every `return` returns
    /// unchanged: `inter_forward` of `def forward(self, x): return self.inter_forward(x)`.
    pub forwards_to: Option<String>,
}

/// Parameter `param` is passed, unchanged, as argument `arg` of `into`: a canonical API name, or
/// `.name` for a method called on it (then `arg` is [`RECEIVER`]'s position).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Flow {
    pub param: usize,
    pub into: String,
    pub arg: usize,
}

impl Flow {
    pub fn is_receiver(&self) -> bool {
        self.arg == RECEIVER.position
    }
}

#[derive(Default)]
pub struct Facts {
    /// A fact, its hash, and the facts its computation used (each once).
    cache: HashMap<FactKey, (Arc<Fact>, u64, Sources)>,
    /// The origin of each fact in `cache` that has one (see [`PriorFacts`]).
    origins: HashMap<FactKey, u64>,
    /// Facts whose computation met a cut (see `Model::tainted`), until the outermost question
    /// is answered.
    pub(super) provisional: HashMap<FactKey, (Arc<Fact>, u64, Sources)>,
    active: HashSet<FactKey>,
}

/// The facts an earlier analysis of the same file (same settings and rules) computed, each
/// with its *origin*: the hash of the text of the definition it was computed from (the class of
/// an attribute, the function of a summary or of loss flows). Everything else such a fact
/// depends on is a fact its computation used, recorded with it, or the import table, so an
/// earlier fact still holds while its origin hashes the same, each fact it used hashes as it
/// did, and its origin's text names none of the names the table now binds otherwise
/// ([`PriorFacts::rebound`]); the model then takes it instead of computing it again. A
/// keystroke at class or module level used to recompute every attribute and summary of the file
/// to check which cached functions still held (about half of such an edit's time on a
/// 5,000-line file).
#[derive(Clone, Default)]
pub struct PriorFacts {
    facts: HashMap<FactKey, PriorFact>,
    /// The names whose import binding changed since these facts were computed (an alias added,
    /// renamed or removed, the table's modules the same): a fact whose origin's text names one
    /// may have resolved it to another module.
    rebound: Words,
}

#[derive(Clone)]
struct PriorFact {
    origin: u64,
    /// Shared with the analyses that take it: checking that a cached function still holds
    /// asks for many facts and reads only their hashes.
    fact: Arc<Fact>,
    hash: u64,
    used: Sources,
}

impl PriorFacts {
    /// Adds `other`'s facts, replacing those of the same key.
    pub fn extend(&mut self, other: PriorFacts) {
        self.facts.extend(other.facts);
    }

    /// These facts, for an analysis whose import table binds `names` otherwise (and binds the
    /// same modules): those whose origin's text names none of them still hold.
    pub(crate) fn rebound(&mut self, names: &Words) {
        self.rebound = self.rebound.with(names);
    }

    /// The lists of facts each kept fact was computed from.
    pub(crate) fn used_lists(&self) -> impl Iterator<Item = &Sources> {
        self.facts.values().map(|f| &f.used)
    }
}

impl Facts {
    /// The hash of a fact already computed (not provisional), and the facts it used.
    pub(super) fn hashed(&self, key: &FactKey) -> Option<(u64, &Sources)> {
        self.cache.get(key).map(|(_, hash, used)| (*hash, used))
    }

    /// Takes `fact` as computed, having used no other fact.
    pub(super) fn seed(&mut self, key: FactKey, fact: Arc<Fact>, hash: u64) {
        self.cache.insert(key, (fact, hash, Sources::from([])));
    }

    /// The facts computed that read the text alone ([`FactKey::reads_text_only`]), each having
    /// used no other fact.
    pub(super) fn text_facts(&self) -> TextFacts {
        self.cache
            .iter()
            .filter(|(key, (_, _, used))| key.reads_text_only() && used.is_empty())
            .map(|(key, (fact, hash, _))| (key.clone(), fact.clone(), *hash))
            .collect()
    }

    /// The facts with an origin, to be reused by the next analysis of the file.
    pub(super) fn take_prior(&mut self) -> PriorFacts {
        let origins = std::mem::take(&mut self.origins);
        let cache = std::mem::take(&mut self.cache);
        let facts = cache
            .into_iter()
            .filter_map(|(key, (fact, hash, used))| {
                let origin = *origins.get(&key)?;
                Some((key, PriorFact { origin, fact, hash, used }))
            })
            .collect();
        PriorFacts { facts, rebound: Words::default() }
    }
}

/// File-wide facts read from the file's text alone ([`FactKey::reads_text_only`]), as computed
/// for one version of the text: their computation used no other fact. After an edit inside one
/// function they still hold when the function's text contributes to them, before and after the
/// edit, what it did ([`unit_contribution`]); a keystroke then does not scan the whole file again.
pub type TextFacts = Vec<(FactKey, Arc<Fact>, u64)>;

impl FactKey {
    /// Whether the fact keeps none of the facts it was computed from ([`Model::fact`]): a
    /// check of an analysis that used it computes it again and compares (an early cutoff:
    /// its users hold while it hashes the same, whatever changed among its sources). The
    /// slices of the file's loss flows a function reads: every loss of a file of N modules and
    /// losses reads them, and an edit of one loss changed the file's flows, so all N were
    /// analyzed again.
    pub fn recomputed(&self) -> bool {
        matches!(self, FactKey::FlowsFrom(_) | FactKey::FlowsInto(_) | FactKey::FlowsThrough(_))
    }

    /// Whether the fact is computed from the file's text (and tree) alone, with no other fact:
    /// the losses and loss holders it names, the precision settings, the functions passed to a
    /// differentiation transform.
    pub fn reads_text_only(&self) -> bool {
        matches!(self, FactKey::LogitsLossWords | FactKey::LossHolders | FactKey::Precision | FactKey::Differentiated)
    }
}

/// What the text of one function (a definition on lines of its own: nothing but blank space
/// shares its first and last lines) contributes to the text fact `key`
/// ([`FactKey::reads_text_only`]), such that the fact of a file is the same after an edit of
/// that function alone when the contribution is: the loss words and loss holders in it (each
/// fact is the union of what each stretch of the file holds, and no word crosses the blank
/// space around the function); for the precision settings and the differentiated functions,
/// nothing when the text holds none of the words they start from (their value then reads no
/// node in the function), `None` (unknown: compute the fact) when it does.
pub fn unit_contribution(key: &FactKey, unit: &str) -> Option<Vec<String>> {
    match key {
        FactKey::LogitsLossWords => Some(super::losses::logits_loss_words_in(unit)),
        FactKey::LossHolders => Some(super::flows::loss_holders(unit)),
        FactKey::Precision => (!super::dtype::names_a_precision_setting(unit)).then(Vec::new),
        FactKey::Differentiated => (!super::gradients::names_a_transform(unit)).then(Vec::new),
        _ => None,
    }
}

pub fn hash(fact: &Fact) -> u64 {
    stable_hash(fact)
}

/// A hash of `value` that stays the same for the life of the process, to tell whether a fact, a
/// definition or a function's text changed between two analyses. foldhash's quality variant with
/// a fixed seed: std's SipHash, whose resistance to chosen keys nothing here needs, was a twentieth
/// of a class-level keystroke (hashing the file's function texts and definitions).
pub fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    use std::hash::BuildHasher;
    foldhash::quality::FixedState::with_seed(0x006e_616e_6c69_6e74).hash_one(value)
}

/// `deps` without repeats, in first-use order. Every memoized value and fact keeps the list of
/// facts it used and hands it on at each use: with repeats, the lists of nested uses grew
/// exponentially (a 1,100-line file of JAX asked for gigabytes).
pub(crate) fn distinct(deps: Vec<Dependency>) -> Vec<Dependency> {
    let mut seen: HashSet<&Dependency> = HashSet::default();
    seen.reserve(deps.len());
    let first: Vec<bool> = deps.iter().map(|d| seen.insert(d)).collect();
    drop(seen);
    deps.into_iter().zip(first).filter_map(|(d, first)| first.then_some(d)).collect()
}

/// How many classes [`Model::class_and_bases`] reads: a chain of bases longer than this is not
/// followed to its end.
const MAX_BASES: usize = 16;

impl<'a> Model<'a> {
    /// The file's text names a loss that applies `prob` itself, or says `from_logits`: without
    /// one, no activation can reach such a loss (a cheap test before following values there).
    pub fn mentions_logits_loss(&self, prob: super::value::Prob) -> bool {
        match self.fact(&FactKey::LogitsLossWords) {
            Fact::Names(words) => words.iter().any(|w| w == "from_logits" || super::losses::takes_logits(w, prob)),
            _ => true,
        }
    }

    /// A fact, computed on first use and recorded as a dependency of the current analysis.
    pub fn fact(&self, key: &FactKey) -> Fact {
        Fact::clone(&self.fact_and_hash(key).0)
    }

    /// [`Model::fact`] and its hash, without copying the fact.
    pub(super) fn fact_and_hash(&self, key: &FactKey) -> (Arc<Fact>, u64) {
        if let Some((fact, fact_hash, used)) = self.facts.borrow().cache.get(key) {
            self.record(key, *fact_hash, used);
            return (fact.clone(), *fact_hash);
        }
        let provisional = || {
            let found = self.facts.borrow().provisional.get(key).cloned();
            if found.is_some() {
                self.tainted.set(true);
            }
            found
        };
        let (fact, fact_hash, used) = match provisional() {
            Some(found) => found,
            None => {
                if !self.facts.borrow_mut().active.insert(key.clone()) {
                    // A fact that depends on itself (recursion): nothing known.
                    self.tainted.set(true);
                    let fact = match key {
                        FactKey::Function(_) => Fact::Function(None),
                        FactKey::Flows(_)
                        | FactKey::FileFlows
                        | FactKey::FlowsFrom(_)
                        | FactKey::FlowsInto(_)
                        | FactKey::FlowsThrough(_) => Fact::Flows(Vec::new()),
                        FactKey::ModuleClasses => Fact::ModuleClasses(Vec::new()),
                        FactKey::Calls(_) => Fact::Sources(Vec::new()),
                        FactKey::FileCalls => Fact::Callers(Vec::new()),
                        FactKey::Precision => Fact::Precision(Default::default()),
                        FactKey::LossHolders
                        | FactKey::LogitsLossWords
                        | FactKey::Differentiated
                        | FactKey::FreshName(_)
                        | FactKey::Rebound(_)
                        | FactKey::ModuleBinding(_)
                        | FactKey::InPlaceWrites(_) => Fact::Names(Vec::new()),
                        _ => Fact::Value(None),
                    };
                    let fact_hash = hash(&fact);
                    return (Arc::new(fact), fact_hash);
                }
                // The facts this one's computation uses are dependencies of whoever uses it.
                let outer = self.enter();
                let mark = self.dependencies.borrow().mark();
                let origin = self.fact_origin(key);
                let (fact, fact_hash) = match origin.and_then(|o| self.prior_fact(key, o)) {
                    Some(prior) => prior,
                    None => {
                        let fact = self.compute_fact(key);
                        let fact_hash = hash(&fact);
                        (Arc::new(fact), fact_hash)
                    }
                };
                let used = self.dependencies.borrow_mut().split_off(mark).flatten();
                // A slice of the file's flows keeps no sources: its users hold while it hashes
                // the same, so an edit that changes flows elsewhere (each a source of the file's
                // flows) leaves them be. Every check of a user computes it again
                // ([`FactKey::recomputed`]).
                let used = if key.recomputed() { Sources::from([]) } else { used };
                {
                    let mut facts = self.facts.borrow_mut();
                    facts.active.remove(key);
                    if self.tainted.get() {
                        facts.provisional.insert(key.clone(), (fact.clone(), fact_hash, used.clone()));
                    } else {
                        facts.cache.insert(key.clone(), (fact.clone(), fact_hash, used.clone()));
                        if let Some(origin) = origin {
                            facts.origins.insert(key.clone(), origin);
                        }
                    }
                }
                self.leave(outer);
                (fact, fact_hash, used)
            }
        };
        self.record(key, fact_hash, &used);
        (fact, fact_hash)
    }

    /// The hash of the text of the definition `key` is computed from, for the facts that have
    /// one and whose definition parsed without error (see [`PriorFacts`]).
    fn fact_origin(&self, key: &FactKey) -> Option<u64> {
        // Only a model that keeps its facts for a later analysis needs origins.
        let prior = self.prior.as_ref()?;
        // An attribute's value is the class's, or a base class's of the file: the texts of all.
        let nodes = match key {
            FactKey::Attribute { class, .. } => self
                .class_and_bases(self.module_definition(class).filter(|c| c.kind_name() == "class_definition")?)
                .to_vec(),
            FactKey::Function(q) | FactKey::Flows(q) | FactKey::Calls(q) | FactKey::InPlaceWrites(q)
                if !q.is_empty() =>
            {
                vec![self.unit_definition(q)?]
            }
            _ => return None,
        };
        let mut hashes = Vec::with_capacity(nodes.len());
        for node in nodes {
            if node.has_error() {
                return None;
            }
            if let Some(hash) = self.definition_hashes.borrow().get(&node.start_byte()) {
                hashes.push(*hash);
                continue;
            }
            let definition = text(node, self.src);
            // A definition that names a name the import table binds otherwise now: no origin, so
            // neither an earlier fact nor a later analysis takes what is computed from it here.
            if prior.rebound.in_text(definition) {
                return None;
            }
            let hash = stable_hash(definition);
            self.definition_hashes.borrow_mut().insert(node.start_byte(), hash);
            hashes.push(hash);
        }
        match hashes.as_slice() {
            [one] => Some(*one),
            _ => Some(stable_hash(&hashes)),
        }
    }

    /// The earlier analysis's `key`, when its origin is `origin` and every fact it used hashes
    /// as it did then (asking for them records them as this computation's, as computing it
    /// would have).
    fn prior_fact(&self, key: &FactKey, origin: u64) -> Option<(Arc<Fact>, u64)> {
        let prior = self.prior.as_ref()?.facts.get(key)?;
        if prior.origin != origin {
            return None;
        }
        for d in prior.used.iter() {
            if self.fact_hash(&d.key) != d.hash {
                return None;
            }
        }
        debug_assert_eq!(hash(&prior.fact), prior.hash);
        Some((prior.fact.clone(), prior.hash))
    }

    fn compute_fact(&self, key: &FactKey) -> Fact {
        match key {
            FactKey::Global(name) => Fact::Value(self.global_value(name).map(|v| v.summary())),
            FactKey::Attribute { class, attr } => {
                // The class's own assignments, else what the first of its bases of the file that
                // has the attribute gives it (`self.eps` set in the base's `__init__`), read as
                // that class's fact: an edit of the base's methods reaches this one's users.
                let Some(c) = self.module_definition(class).filter(|c| c.kind_name() == "class_definition") else {
                    return Fact::Value(None);
                };
                if let Some(value) = self.attribute_value(c, attr) {
                    return Fact::Value(Some(value.summary()));
                }
                let bases = self.class_and_bases(c);
                let direct = c.child_by_field_id(FIELD.superclasses).map_or(Vec::new(), |list| {
                    let mut cursor = list.walk();
                    list.named_children(&mut cursor).filter(|b| b.kind_name() == "identifier").collect::<Vec<_>>()
                });
                let inherited = direct
                    .into_iter()
                    .filter(|b| self.module_definition(self.text(*b)).is_some_and(|d| bases.contains(&d)))
                    .find_map(|b| {
                        match self.fact(&FactKey::Attribute { class: self.text(b).into(), attr: attr.clone() }) {
                            Fact::Value(v) => v,
                            _ => None,
                        }
                    });
                Fact::Value(inherited)
            }
            FactKey::Function(qualified) => Fact::Function(self.unit_definition(qualified).map(|d| self.summarize(d))),
            FactKey::Flows(unit) => Fact::Flows(self.compute_flows(unit)),
            FactKey::FileFlows => Fact::Flows(self.compute_file_flows()),
            FactKey::FlowsFrom(source) => Fact::Flows(self.compute_flows_from(source)),
            FactKey::FlowsInto(holder) => Fact::Flows(self.compute_flows_into(holder)),
            FactKey::FlowsThrough(q) => Fact::Flows(self.compute_flows_passing_through(q)),
            FactKey::Calls(unit) => Fact::Sources(self.compute_calls(unit)),
            FactKey::FileCalls => Fact::Callers(self.compute_file_calls()),
            FactKey::ModuleClasses => Fact::ModuleClasses(self.compute_module_classes()),
            FactKey::Precision => Fact::Precision(self.compute_precision()),
            FactKey::LossHolders => Fact::Names(super::flows::loss_holders(self.src)),
            FactKey::LogitsLossWords => Fact::Names(super::losses::logits_loss_words_in(self.src)),
            FactKey::Differentiated => {
                Fact::Names(super::gradients::differentiated_names(self.src, self.tree.root_node()))
            }
            FactKey::FreshName(base) => Fact::Names(vec![self.compute_fresh_name(base, None)]),
            FactKey::Rebound(name) => {
                Fact::Names(if self.compute_rebound(name) { vec![name.to_string()] } else { Vec::new() })
            }
            FactKey::ModuleBinding(name) => Fact::Names(self.compute_module_binding(name)),
            FactKey::InPlaceWrites(qualified) => Fact::Names(
                self.unit_definition(qualified)
                    .filter(|def| self.compute_in_place_writes(*def))
                    .map(|_| vec![qualified.to_string()])
                    .unwrap_or_default(),
            ),
        }
    }

    /// The value of a module-level name at the end of the module (where functions, called
    /// later, find it): the join of the bindings that reach there.
    fn global_value(&self, name: &str) -> Option<Value<'a>> {
        let root = self.tree.root_node();
        let index = self.scope_index(root);
        if !index.binds(name) {
            return None;
        }
        let reaching = index.reaching(name, self.src.len());
        let mut joined: Option<Value<'a>> = None;
        for entry in &reaching.entries {
            let v = self.binding_value(name, *entry);
            joined = Some(match joined {
                Some(j) => j.join(&v),
                None => v,
            });
        }
        if reaching.outer {
            joined = joined.map(|j| j.join(&Value::unknown()));
        }
        joined.map(|mut v| {
            v.via = None;
            v.producer = v.producer.filter(|p| p.op.kept_across_functions());
            v
        })
    }

    /// The value `self.<attr>` has in the methods of `class`: the join of every assignment to
    /// it in the class's methods and of a class-level assignment, in the order of the class body.
    fn attribute_value(&self, class: Node<'a>, attr: &str) -> Option<Value<'a>> {
        let index = self.class_index(class)?;
        let mut joined: Option<Value<'a>> = None;
        let mut nones = 0;
        let mut add = |v: Value<'a>| {
            joined = Some(match joined.take() {
                Some(j) => j.join(&v),
                None => v,
            });
        };
        let (attributes, built) = index.attributes();
        if built {
            self.count_index_work(attributes.found.len());
        }
        let assignments = attributes.assignments(attr);
        self.count_index_work(1 + assignments.len() + attributes.within.len());
        for found in assignments {
            match found {
                // `self.x = None` in `__init__`, an array elsewhere: where the attribute is used
                // as an array it holds the array (None would raise), so the None is left out of
                // the join when another assignment gives a value.
                Found::InMethod(Assigned::Value(v)) if v.kind_name() == "none" => nones += 1,
                Found::InMethod(Assigned::Value(v)) | Found::InBody(v) => add(self.value(v)),
                // `self.c, self.n = self.cluster(x)`: that element of the tuple.
                Found::InMethod(Assigned::Element(rhs, position)) => add(self.unpacked_value(rhs, position)),
                Found::InMethod(Assigned::Unknown) => add(Value::unknown()),
            }
        }
        if joined.is_none() && nones > 0 {
            joined = Some(Value::unknown().with_origin(Origin::Config).with_kind(Kind::NotArray));
        }
        joined.map(|mut v| {
            v.via = None;
            v.producer = v.producer.filter(|p| p.op.kept_across_functions());
            v
        })
    }

    /// The [`ClassIndex`] of `class`, built once: a class of n methods reading n attributes
    /// walked every method for each attribute and each `self.method(...)` call (quadratic work).
    pub(super) fn class_index(&self, class: Node<'a>) -> Option<std::rc::Rc<ClassIndex<'a>>> {
        if let Some(index) = self.class_indexes.borrow().get(&class.id()) {
            return Some(index.clone());
        }
        let index = std::rc::Rc::new(ClassIndex::of(class, self.src)?);
        self.count_index_work(index.statements);
        self.class_indexes.borrow_mut().insert(class.id(), index.clone());
        Some(index)
    }

    /// The method `name` an instance of the file's class `class` has: the class's own, else the
    /// first one a base class of the file has ([`Model::class_and_bases`]).
    pub(super) fn method_of_class(&self, class: Node<'a>, name: &str) -> Option<Node<'a>> {
        if let Some(method) = self.class_index(class).and_then(|index| index.method(name)) {
            return Some(method);
        }
        self.class_and_bases(class).iter().skip(1).find_map(|c| self.class_index(*c)?.method(name))
    }

    /// `class`, then the base classes defined in the file (at module level) it inherits from,
    /// depth first and left to right (Python's method resolution order wherever no two bases
    /// share a base of the file), [`MAX_BASES`] classes at most. Bases from libraries
    /// (`nn.Module`) and expressions other than a name are not read.
    pub(super) fn class_and_bases(&self, class: Node<'a>) -> std::rc::Rc<[Node<'a>]> {
        if let Some(chain) = self.class_chains.borrow().get(&class.id()) {
            return chain.clone();
        }
        let mut stack = vec![class];
        let mut chain: Vec<Node<'a>> = Vec::new();
        while let Some(c) = stack.pop() {
            if chain.contains(&c) {
                continue;
            }
            if chain.len() == MAX_BASES {
                break;
            }
            chain.push(c);
            let Some(list) = c.child_by_field_id(FIELD.superclasses) else { continue };
            let mut cursor = list.walk();
            let bases: Vec<Node<'a>> = list
                .named_children(&mut cursor)
                .filter(|b| b.kind_name() == "identifier")
                .filter_map(|b| self.module_definition(self.text(b)))
                .filter(|d| d.kind_name() == "class_definition")
                .collect();
            self.count_index_work(1 + bases.len());
            stack.extend(bases.into_iter().rev());
        }
        let chain: std::rc::Rc<[Node<'a>]> = chain.into();
        self.class_chains.borrow_mut().insert(class.id(), chain.clone());
        chain
    }

    /// The summary of a function: its parameters, what it returns, where parameters go.
    pub fn summarize(&self, def: Node<'a>) -> Summary {
        let params = parameter_names(def, self.src);
        let mut returns: Option<Value<'a>> = None;
        // `Some(elements)` while every return so far returned a tuple of that many elements.
        let mut elements: Option<Vec<Value<'a>>> = None;
        let mut tuples = true;
        let mut flows = Vec::new();
        let index = self.scope_index(def);
        let Some(body) = def.child_by_field_id(FIELD.body) else {
            return Summary { params, returns: None, elements: Vec::new(), flows, forwards_to: None };
        };
        // `Some(q)` while every `return` so far returned a call of the file's function `q`.
        let mut forwards: Option<Option<String>> = None;
        let mut stack = vec![body];
        while let Some(node) = stack.pop() {
            match node.kind_name() {
                "return_statement" => {
                    let value = node.named_child(0);
                    let callee = value
                        .map(unparenthesized)
                        .filter(|v| v.kind_name() == "call")
                        .and_then(|call| self.local_callee(call))
                        .and_then(|def| self.qualified_name(def));
                    forwards = match forwards {
                        // A bare `return` gives no value a loss could take.
                        _ if value.is_none() => forwards,
                        None => Some(callee),
                        Some(so_far) => Some(so_far.filter(|q| callee.as_ref() == Some(q))),
                    };
                    if let Some(value) = value {
                        let v = self.value(value);
                        returns = Some(match returns {
                            Some(r) => r.join(&v),
                            None => v,
                        });
                    }
                    match value.and_then(|v| self.tuple_values(v)) {
                        Some(these) if tuples => {
                            elements = match elements.take() {
                                None => Some(these),
                                Some(so_far) if so_far.len() == these.len() => {
                                    Some(so_far.iter().zip(&these).map(|(a, b)| a.join(b)).collect())
                                }
                                Some(_) => {
                                    tuples = false;
                                    None
                                }
                            };
                        }
                        _ => tuples = false,
                    }
                }
                // Only a parameter passed on as it came in (an argument or the receiver) makes a
                // flow: resolving the callee of every call took 4 % of the instructions of a
                // check of flax/linen.
                "call" if passes_a_parameter(node, &params, self.src) => {
                    let args = Args::of(node);
                    let into = match self.callee(node) {
                        Some(super::Callee::Api(api)) => Some((api, None)),
                        Some(super::Callee::Method { name, receiver }) => Some((format!(".{name}"), Some(receiver))),
                        _ => None,
                    };
                    if let Some((into, receiver)) = into {
                        let passed = receiver
                            .map(|r| (RECEIVER.position, r))
                            .into_iter()
                            .chain(args.positional.iter().copied().enumerate());
                        for (arg, node) in passed {
                            if node.kind_name() != "identifier" {
                                continue;
                            }
                            let name = text(node, self.src);
                            let Some(param) = params.iter().position(|p| p == name) else { continue };
                            // Unchanged: no binding in the function reaches this use. A use
                            // its guards keep away from 0 (`if a > 0: return log(a)`) passes no
                            // zero on.
                            let reaching = index.reaching(name, node.start_byte());
                            if reaching.entries.is_empty()
                                && reaching.outer
                                && self.refine(node, Value::unknown()).range.contains_zero()
                            {
                                flows.push(Flow { param, into: into.clone(), arg });
                            }
                        }
                    }
                }
                _ => {}
            }
            let mut cursor = node.walk();
            for child in node.named_children(&mut cursor) {
                if !is_scope(child.kind_name()) {
                    stack.push(child);
                }
            }
        }
        flows.sort_by(|a, b| (a.param, &a.into, a.arg).cmp(&(b.param, &b.into, b.arg)));
        flows.dedup();
        let elements = if tuples { elements.unwrap_or_default() } else { Vec::new() };
        Summary {
            params,
            returns: returns.map(|r| r.summary()),
            elements: elements.iter().map(Value::summary).collect(),
            flows,
            forwards_to: forwards.flatten(),
        }
    }

    /// The value a binding gives `name`.
    pub fn binding_value(&self, name: &str, entry: super::scope::Entry<'a>) -> Value<'a> {
        self.entry_value(name, entry)
    }

    /// The summary of a function definition found by [`Model::callee`]: a fact for module-level
    /// functions and methods of module-level classes, computed in place for nested functions
    /// (they belong to the code being analyzed).
    pub fn summary_of(&self, def: Node<'a>) -> Option<Summary> {
        match self.qualified_name(def) {
            Some(q) => match self.fact(&FactKey::Function(q.into())) {
                Fact::Function(s) => s,
                _ => None,
            },
            None => Some(self.summarize(def)),
        }
    }

    /// `f` for a module-level function, `C.m` for a method of a module-level class, `None`
    /// for nested functions.
    pub fn qualified_name(&self, def: Node<'a>) -> Option<String> {
        let name = text(def.child_by_field_id(FIELD.name)?, self.src);
        let enclosing = self.enclosing_function(def);
        if enclosing.is_some() {
            return None;
        }
        match self.class_of_method(def) {
            Some(class) => {
                if self.enclosing_function(class).is_some() || self.class_of_method(class).is_some() {
                    return None;
                }
                let class_name = text(class.child_by_field_id(FIELD.name)?, self.src);
                (self.module_definition(class_name) == Some(class)).then(|| format!("{class_name}.{name}"))
            }
            None => (self.module_definition(name) == Some(def)).then(|| name.to_string()),
        }
    }
}

/// Parameter names of a function, in order.
pub fn parameter_names(def: Node, src: &str) -> Vec<String> {
    let Some(params) = def.child_by_field_id(FIELD.parameters) else { return Vec::new() };
    let mut cursor = params.walk();
    params.named_children(&mut cursor).filter_map(|p| super::parameter_name(p, src)).map(str::to_string).collect()
}

/// How a method assigns an attribute.
#[derive(Clone, Copy)]
pub(super) enum Assigned<'t> {
    /// `this.attr = value`
    Value(Node<'t>),
    /// `this.a, this.b = value`: the element at a position (unknown after a starred target).
    Element(Node<'t>, Option<usize>),
    /// `this.attr += value`, a chained assignment, a nested pattern: nothing known.
    Unknown,
}

/// Which attributes an entry of [`method_assignments`] is about.
#[derive(Clone, Copy)]
pub(super) enum AssignedTo<'t> {
    /// `this.<name>`.
    Attribute(&'t str),
    /// A nested pattern (`(a, [self.x, b]) = ...`) with this text: any attribute whose name
    /// the text contains may be assigned in it.
    Within(&'t str),
}

/// An assignment [`AttributeIndex::assignments`] finds.
#[derive(Clone, Copy)]
pub(super) enum Found<'t> {
    /// In a method, to an attribute of its first parameter.
    InMethod(Assigned<'t>),
    /// `attr = value` in the class body: the value.
    InBody(Node<'t>),
}

/// What a class body defines, read once: its methods by name and, on first need, the
/// assignments to attributes ([`AttributeIndex`]). Finding a method reads only the class body's
/// statements; the attributes' index walks every method body, which a check of which method a
/// name calls does not need.
pub(super) struct ClassIndex<'t> {
    body: Node<'t>,
    src: &'t str,
    /// The last definition of each name, as at run time (decorated ones included).
    methods: HashMap<&'t str, Node<'t>>,
    attributes: std::cell::OnceCell<AttributeIndex<'t>>,
    /// The statements of the class body (for [`Model::count_index_work`]).
    statements: usize,
}

/// The assignments to attributes of a class, in the order of the class body and, within a
/// method, of [`method_assignments`].
struct AttributeIndex<'t> {
    found: Vec<Found<'t>>,
    /// The positions in `found` of the assignments to each attribute name.
    by_name: HashMap<&'t str, Vec<usize>>,
    /// The positions of nested patterns (`AssignedTo::Within`), with their text: any attribute
    /// whose name the text contains may be assigned there.
    within: Vec<(&'t str, usize)>,
}

/// A statement of a class body, or the definition it decorates.
fn class_statement(stmt: Node) -> Option<Node> {
    if stmt.kind_name() == "decorated_definition" { stmt.child_by_field_id(FIELD.definition) } else { Some(stmt) }
}

impl<'t> ClassIndex<'t> {
    fn of(class: Node<'t>, src: &'t str) -> Option<Self> {
        let body = class.child_by_field_id(FIELD.body)?;
        let mut index =
            ClassIndex { body, src, methods: HashMap::default(), attributes: Default::default(), statements: 0 };
        let mut cursor = body.walk();
        for stmt in body.named_children(&mut cursor) {
            index.statements += 1;
            if let Some(def) = class_statement(stmt).filter(|d| d.kind_name() == "function_definition")
                && let Some(name) = def.child_by_field_id(FIELD.name)
            {
                index.methods.insert(text(name, src), def);
            }
        }
        Some(index)
    }

    /// The method of the class named `name`, if it defines one.
    pub(super) fn method(&self, name: &str) -> Option<Node<'t>> {
        self.methods.get(name).copied()
    }

    /// The index of the attributes' assignments, and whether this call built it.
    fn attributes(&self) -> (&AttributeIndex<'t>, bool) {
        let mut built = false;
        let index = self.attributes.get_or_init(|| {
            built = true;
            AttributeIndex::of(self.body, self.src)
        });
        (index, built)
    }
}

impl<'t> AttributeIndex<'t> {
    fn of(body: Node<'t>, src: &'t str) -> Self {
        let mut index = AttributeIndex { found: Vec::new(), by_name: HashMap::default(), within: Vec::new() };
        let mut cursor = body.walk();
        for stmt in body.named_children(&mut cursor) {
            let Some(def) = class_statement(stmt) else { continue };
            match def.kind_name() {
                "function_definition" => {
                    let Some(this) = super::first_parameter(def, src) else { continue };
                    for (to, assigned) in method_assignments(def, this, src) {
                        index.push(to, Found::InMethod(assigned));
                    }
                }
                "expression_statement" => {
                    if let Some(a) = def.named_child(0).filter(|a| a.kind_name() == "assignment")
                        && let (Some(l), Some(r)) = (a.child_by_field_id(FIELD.left), a.child_by_field_id(FIELD.right))
                        && l.kind_name() == "identifier"
                    {
                        index.push(AssignedTo::Attribute(text(l, src)), Found::InBody(r));
                    }
                }
                _ => {}
            }
        }
        index
    }

    fn push(&mut self, to: AssignedTo<'t>, found: Found<'t>) {
        let at = self.found.len();
        self.found.push(found);
        match to {
            AssignedTo::Attribute(name) => self.by_name.entry(name).or_default().push(at),
            AssignedTo::Within(text) => self.within.push((text, at)),
        }
    }

    /// The assignments that may give the attribute `attr` its value, in order.
    fn assignments(&self, attr: &str) -> Vec<Found<'t>> {
        let mut at: Vec<usize> = self.by_name.get(attr).cloned().unwrap_or_default();
        let before = at.len();
        at.extend(self.within.iter().filter(|(text, _)| text.contains(attr)).map(|&(_, i)| i));
        if at.len() > before {
            at.sort_unstable();
        }
        at.into_iter().map(|i| self.found[i]).collect()
    }
}

/// The assignments to attributes of `this` in a method body, outside nested scopes, in the
/// order of a depth-first walk (children pushed in order, the last first).
pub(super) fn method_assignments<'t>(def: Node<'t>, this: &str, src: &'t str) -> Vec<(AssignedTo<'t>, Assigned<'t>)> {
    assignments_entering(def, this, src, may_hold_statements)
}

/// [`method_assignments`], entering only the nodes `enter` accepts.
fn assignments_entering<'t>(
    def: Node<'t>,
    this: &str,
    src: &'t str,
    enter: fn(Node) -> bool,
) -> Vec<(AssignedTo<'t>, Assigned<'t>)> {
    let mut out = Vec::new();
    let Some(body) = def.child_by_field_id(FIELD.body) else { return out };
    // `this.<name>`: the name.
    let attribute_of_this = |n: Node<'t>| {
        if n.kind_name() != "attribute"
            || !n.child_by_field_id(FIELD.object).is_some_and(|o| o.kind_name() == "identifier" && text(o, src) == this)
        {
            return None;
        }
        n.child_by_field_id(FIELD.attribute).map(|a| AssignedTo::Attribute(text(a, src)))
    };
    let mut stack = vec![body];
    while let Some(node) = stack.pop() {
        match node.kind_name() {
            "assignment" => {
                let mut n = node;
                while let (Some(l), r) = (n.child_by_field_id(FIELD.left), n.child_by_field_id(FIELD.right)) {
                    let value = r.filter(|r| r.kind_name() != "assignment");
                    if let Some(to) = attribute_of_this(l) {
                        out.push((to, value.map_or(Assigned::Unknown, Assigned::Value)));
                    } else if matches!(
                        l.kind_name(),
                        "pattern_list" | "tuple_pattern" | "tuple" | "list_pattern" | "list"
                    ) {
                        let mut cursor = l.walk();
                        let elements: Vec<Node> =
                            l.named_children(&mut cursor).filter(|e| e.kind_name() != "comment").collect();
                        let starred =
                            elements.iter().any(|e| matches!(e.kind_name(), "list_splat_pattern" | "list_splat"));
                        for (i, e) in elements.iter().enumerate() {
                            if let Some(to) = attribute_of_this(*e) {
                                // After a starred target, positions are unknown.
                                let assigned =
                                    value.map_or(Assigned::Unknown, |v| Assigned::Element(v, (!starred).then_some(i)));
                                out.push((to, assigned));
                            } else if !matches!(e.kind_name(), "identifier" | "attribute" | "subscript") {
                                // A nested pattern that may hold it: nothing known.
                                out.push((AssignedTo::Within(text(*e, src)), Assigned::Unknown));
                            }
                        }
                    }
                    match r {
                        Some(r) if r.kind_name() == "assignment" => n = r,
                        _ => break,
                    }
                }
                continue;
            }
            "augmented_assignment" => {
                if let Some(to) = node.child_by_field_id(FIELD.left).and_then(attribute_of_this) {
                    out.push((to, Assigned::Unknown));
                }
                continue;
            }
            _ => {}
        }
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            if !is_scope(child.kind_name()) && enter(child) {
                stack.push(child);
            }
        }
    }
    out
}

/// Whether `node` can hold an assignment statement: a statement or a part of one that holds a
/// block (the walk for assignments enters no expression, nearly all of a method's nodes), or
/// broken code, where tree-sitter's recovery can put a statement anywhere.
fn may_hold_statements(node: Node) -> bool {
    STATEMENT_KINDS.contains(&node.kind_name()) || node.has_error()
}

/// Statements and the parts of statements that hold blocks.
const STATEMENT_KINDS: &[&str] = &[
    "block",
    "expression_statement",
    "assignment",
    "augmented_assignment",
    "if_statement",
    "elif_clause",
    "else_clause",
    "for_statement",
    "while_statement",
    "try_statement",
    "except_clause",
    "finally_clause",
    "with_statement",
    "match_statement",
    "case_clause",
];

/// Whether `call` passes one of `params` on as it came in: a positional argument that is the
/// parameter's name, or the receiver of a method (`x.sum()`), the uses [`Model::summarize`]
/// records as flows.
fn passes_a_parameter(call: Node, params: &[String], src: &str) -> bool {
    let is_param = |n: Node| n.kind_name() == "identifier" && params.iter().any(|p| p == text(n, src));
    let receiver =
        call_function(call).filter(|f| f.kind_name() == "attribute").and_then(|f| f.child_by_field_id(FIELD.object));
    receiver.is_some_and(is_param) || Args::of(call).positional.iter().any(|&a| is_param(a))
}

#[cfg(test)]
mod tests {
    use crate::semantic::Model;
    use crate::semantic::value::Interval;
    use crate::syntax::parse;

    /// The value of the expression `expr` where it first occurs in the last line of `src`.
    fn value_of(src: &str, expr: &str) -> Interval {
        let tree = parse(src);
        let model = Model::of(src, &tree);
        let last = src.trim_end().rfind('\n').unwrap();
        let at = last + src[last..].find(expr).unwrap();
        // `expr` may end in the character that follows it ("a " for the name `a`).
        let len = expr.trim_end().len();
        let mut node = tree.root_node().descendant_for_byte_range(at, at + len).unwrap();
        while node.byte_range() != (at..at + len) {
            node = node.parent().unwrap();
        }
        model.value(node).range
    }

    #[test]
    fn tuples_keep_their_elements_through_returns_unpacking_and_attributes() {
        let src = r#"import torch
class M:
    def __init__(self):
        self.c = None
        self.n = None
    def step(self, x):
        self.c, self.n = self.cluster(x)
    def cluster(self, x):
        c = torch.sigmoid(x)
        return c, torch.exp(x)
    def use(self):
        return self.c + self.n
    def other(self):
        return self.n + self.c
def pair(x):
    return torch.exp(x), x
def f(x, y):
    a, b = pair(x)
    c, d = y, torch.exp(y)
    return a + pair(y)[0] + d
"#;
        assert!(value_of(src, "a ").is_positive(), "unpacked from a function's tuple");
        assert!(value_of(src, "pair(y)[0]").is_positive(), "indexed");
        assert!(value_of(src, "d\n").is_positive(), "unpacked from a tuple written out");
        let class_end = src.find("def pair").unwrap();
        assert_eq!(value_of(&src[..class_end], "self.c"), Interval::UNIT, "the first element of a method's tuple");
        assert!(value_of(&src[..class_end], "self.n").is_positive());
        // Returns of different lengths, or a starred target: nothing known.
        let src = r#"import torch
def g(x):
    if x:
        return torch.exp(x), 1
    return torch.exp(x), 1, 2
def f(x):
    a, b = g(x)
    *c, d = torch.exp(x), torch.exp(x)
    return a + d
"#;
        assert!(value_of(src, "a ").is_any());
        assert!(value_of(src, "d\n").is_any());
    }

    /// What the methods assign to each attribute, read from one walk of each method: a nested
    /// pattern that may hold it, an augmented or chained assignment make it unknown; another
    /// object's attribute of the same name does not count.
    #[test]
    fn attributes_join_every_assignment_of_every_method() {
        let src = r#"import torch
class M:
    def __init__(self, x0, other):
        self.alpha = torch.exp(x0)
        self.beta = torch.exp(x0)
        (p, [self.beta, q]) = x0
        self.gamma = 1.0
        other.delta = -1.0
        self.first = self.second = 2.0
    def later(self, x0):
        self.gamma += 1
        self.delta = torch.exp(x0)
        self.omega = torch.exp(x0)
    def use(self):
        return self.alpha + self.beta + self.gamma + self.delta + self.first + self.second + self.omega
"#;
        assert!(value_of(src, "self.alpha").is_positive());
        assert!(value_of(src, "self.beta").is_any(), "assigned in a nested pattern");
        assert!(value_of(src, "self.gamma").is_any(), "augmented in another method");
        assert!(value_of(src, "self.delta").is_positive(), "`other.delta` is another object's");
        assert!(value_of(src, "self.first").is_any(), "the middle of a chained assignment");
        assert_eq!(value_of(src, "self.second"), Interval::point(2.0));
        assert!(value_of(src, "self.omega").is_positive(), "assigned in a later method only");
    }

    /// The walk that enters only statements finds what a walk of every node finds, in the same
    /// order: in every block a method can nest, beside expressions, in broken code.
    #[test]
    fn assignments_are_found_entering_statements_only() {
        use super::{AssignedTo, assignments_entering, may_hold_statements, method_assignments};
        let src = r#"class M:
    def __init__(self, x, items):
        self.a = x
        if x:
            self.b = 1
        elif items:
            self.c = [self.z for self.z in items]
        else:
            self.d, (self.e, y) = x, (1, 2)
        for i in items:
            self.f += i
        else:
            self.g = 2
        while x:
            with open(x) as f:
                self.h = f
        try:
            self.i = x
        except ValueError as e:
            self.j = e
        except* TypeError:
            self.k = 0
        else:
            self.l = 1
        finally:
            self.m = self.n = 3
        match x:
            case 1:
                self.o = 1
            case _:
                self.p = (lambda: 0)()
        def inner():
            self.q = 1
        print(self.r if x else (self.s := 1))
        self.t = x +
        self.u = 5
"#;
        let tree = parse(src);
        let mut defs = Vec::new();
        let mut stack = vec![tree.root_node()];
        while let Some(n) = stack.pop() {
            if n.kind() == "function_definition" {
                defs.push(n);
            }
            let mut cursor = n.walk();
            stack.extend(n.children(&mut cursor));
        }
        let names = |found: &[(AssignedTo, _)]| -> Vec<String> {
            found
                .iter()
                .map(|(to, _)| match to {
                    AssignedTo::Attribute(name) => name.to_string(),
                    AssignedTo::Within(text) => format!("within {text}"),
                })
                .collect()
        };
        let init = defs.iter().find(|d| src[d.byte_range()].starts_with("def __init__")).unwrap();
        let found = names(&method_assignments(*init, "self", src));
        assert!(found.len() >= 15 && found.contains(&"t".to_string()), "{found:?}");
        for def in defs {
            let all = assignments_entering(def, "self", src, |_| true);
            assert_eq!(names(&method_assignments(def, "self", src)), names(&all));
        }
        // Each kind entered is one of the grammar's.
        let language = crate::syntax::language();
        for kind in super::STATEMENT_KINDS {
            assert_ne!(language.id_for_node_kind(kind, true), 0, "{kind}");
        }
        assert!(!may_hold_statements(tree.root_node().child(0).unwrap().child(0).unwrap()));
    }
}
