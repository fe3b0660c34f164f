//! Findings per function, reused across edits of a document.
//!
//! A function's findings depend on its own text (and indentation, and the class it sits in),
//! the file's imports, the rules' trigger words, the settings, and the facts the model consulted
//! while analyzing it: module-level names, attributes set on `self`, other functions' summaries
//! (see `semantic::facts`). Each cached function keeps the facts it used with their hashes; it
//! is reused, moved to where it now stands, while its text is unchanged and every one of those
//! facts still hashes the same. Module-level statements and class bodies are analyzed every time.
//! Two edits skip the check of every cached function: one inside a function
//! ([`UnitCache::reanalyze_edit`], which analyzes that function and the few that used a fact it
//! changed) and one outside functions that binds, calls and imports nothing
//! ([`UnitCache::reanalyze_loose_edit`]). The functions analyzed that way since the last whole
//! analysis are kept apart with the facts they used then ([`EditedUnit`]): their cache entries
//! are for their text before.
//! The facts themselves are kept too ([`PriorFacts`]): checking whether a cached function still
//! holds then costs hashing the definitions its facts come from, not computing them again.
//! An edit of the import table that keeps its modules (an alias typed or renamed, an import line
//! moved) keeps the functions that name none of the names it changed ([`Renamed`]); the facts
//! are computed again then, and any other change of the table drops every function.
//! The incremental property test (`tests/incremental.rs`) checks that this always equals a fresh
//! analysis.

use std::cell::RefCell;
use std::collections::BTreeSet;

use foldhash::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use tree_sitter::{Node, Tree};

use super::{Piece, RuleSet, Target, Triggers, finish, pieces, run_rules, settle};
use crate::rules::fixes;
use crate::semantic::facts::{TextFacts, unit_contribution};
use crate::semantic::imports::Imports;
use crate::semantic::{Dependencies, Dependency, FactKey, Model, PriorFacts, each_once};
use crate::settings::Settings;
use crate::smell::{Edit, Smell};
use crate::syntax::{FIELD, KindName, Words};

#[derive(Default)]
pub struct UnitCache {
    imports: Option<Arc<Imports>>,
    triggers: Triggers,
    settings: Option<Settings>,
    /// Functions with identical text (boilerplate methods) share a key, so each key holds a list.
    units: HashMap<UnitKey, Vec<CachedUnit>>,
    /// The facts the last analysis of module-level code and class bodies used.
    loose_dependencies: Dependencies,
    /// The facts the last analyses computed, for the next to reuse where they still hold.
    prior: Arc<PriorFacts>,
    /// How many functions the last [`UnitCache::analyze`] analyzed (not reused).
    analyzed: usize,
    /// The index work ([`Model::index_work`]) of the last [`UnitCache::analyze`] on its own
    /// model: the checks of the cached functions' facts and what it analyzed there.
    index_work: usize,
    /// The functions analyzed alone since the last [`UnitCache::analyze`], with the facts they
    /// used then.
    edited: Vec<EditedUnit>,
    /// The facts read from the text alone that the last analysis computed, for the text it
    /// analyzed (of `text_len` bytes): an edit inside a function keeps those its text
    /// contributes to as before ([`crate::semantic::facts::unit_contribution`]).
    text_facts: TextFacts,
    text_len: usize,
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct UnitKey {
    hash: u64,
    len: usize,
    column: usize,
    /// The class whose body holds the function (`self` means an instance of it).
    class: Option<String>,
}

struct CachedUnit {
    start_byte: usize,
    start_row: usize,
    smells: Vec<Smell>,
    dependencies: Dependencies,
}

/// Below this many functions to analyze, one thread does it: handing work to a second core costs
/// more than a few functions (about 10 to 50 µs each).
const PARALLEL_UNITS: usize = 64;

/// At most this many chunks share the functions of one analysis (four per thread on two
/// threads). Each chunk's model computes the file-wide facts it reads once, the cache keeps them,
/// and the models of the chunks that run at once are alive together: with four chunks per thread
/// and no bound, 32 threads kept 128 copies (benches/README.md, "Chunks").
const MAX_CHUNKS: usize = 8;

impl UnitCache {
    /// How many recorded facts this cache keeps, for its functions, its code outside functions
    /// and the facts kept for reuse, a list shared by several counted once: what its memory
    /// grows with.
    pub fn facts_held(&self) -> usize {
        let lists = self.units.values().flatten().map(|c| &c.dependencies);
        let lists = lists.chain(self.edited.iter().map(|e| &e.dependencies)).chain([&self.loose_dependencies]);
        let mut seen: HashSet<*const Dependency> = HashSet::default();
        let prior = self.prior.used_lists().filter(|l| seen.insert(l.as_ptr())).map(|l| l.len()).sum::<usize>();
        // A list the prior facts keep and a function shares is counted twice: a bound, not a tally.
        each_once(lists).count() + prior
    }

    /// The same findings as `analyze(src, tree, settings)`, reusing unchanged functions.
    pub fn analyze(&mut self, src: &str, tree: &Tree, settings: &Settings) -> Vec<Smell> {
        let rules = RuleSet::all();
        let imports = Arc::new(Imports::collect(tree.root_node(), src));
        let triggers = rules.triggers(&imports);
        // After an edit of the import table that leaves its modules as they were (an alias
        // renamed, an import line moved or retyped), the cached functions that mention none of
        // the names it changed are kept; any other change of the table, the settings or the
        // triggers drops them all, and the facts with them; after a rename, the facts are kept
        // but for those computed from a definition that names a changed name.
        let mut renamed = None;
        let settings_same = self.settings.as_ref() == Some(settings);
        if !settings_same || self.imports.as_deref() != Some(&*imports) || self.triggers != triggers {
            renamed = match &self.imports {
                Some(old) if settings_same => Renamed::between(old, &imports, &self.triggers, &triggers),
                _ => None,
            };
            match &renamed {
                Some(r) => Arc::make_mut(&mut self.prior).rebound(&r.changed),
                None => {
                    self.units.clear();
                    self.prior = Arc::default();
                }
            }
            self.imports = Some(imports.clone());
            self.triggers = triggers.clone();
            self.settings = Some(settings.clone());
        }
        let model = Model::new(src, tree, imports.clone()).with_prior(self.prior.clone());
        // Every function is looked up by its text again: those analyzed alone since are in it.
        self.edited.clear();
        let mut all = Vec::new();
        pieces(tree.root_node(), &mut all);
        let mut loose = Vec::new();
        // Per function, in order: its key, its cached findings (or none yet) and whether they are
        // final.
        let mut slots: Vec<(UnitKey, CachedUnit, bool)> = Vec::new();
        let mut misses = Vec::new();
        for piece in all {
            let (unit, class) = match piece {
                Piece::Loose(target) => {
                    loose.push(target);
                    continue;
                }
                // A function with a syntax error in it is parsed according to its surroundings
                // (error recovery), so its text alone does not determine its findings.
                Piece::Unit(unit, _) if unit.has_error() => {
                    loose.push(Target { node: unit, range: None });
                    continue;
                }
                Piece::Unit(unit, class) => (unit, class),
            };
            // The class whose method this is, as the analysis sees it ([`Model::class_of_method`],
            // which `pieces` found on its way down). Not the last class header before it: a nested
            // class (`class C:` inside the body) ends before its outer class's later methods do.
            let class = class.and_then(|c| c.child_by_field_id(FIELD.name)).map(|n| model.text(n).to_string());
            let text = &src[unit.byte_range()];
            let key = UnitKey { hash: hash_text(text), len: text.len(), column: unit.start_position().column, class };
            let (start_byte, start_row) = (unit.start_byte(), unit.start_position().row);
            let reused = self.take_valid(&key, &model).filter(|c| renamed.as_ref().is_none_or(|r| r.keeps(text, c)));
            let (cached, analyzed) = match reused {
                Some(c) => {
                    let (db, dr) =
                        (start_byte as isize - c.start_byte as isize, start_row as isize - c.start_row as isize);
                    let smells = c
                        .smells
                        .into_iter()
                        .map(|mut s| {
                            s.move_from(c.start_byte, db, dr);
                            s
                        })
                        .collect();
                    (CachedUnit { start_byte, start_row, smells, dependencies: c.dependencies }, true)
                }
                None if !triggers.mentioned_in(text) => (
                    CachedUnit { start_byte, start_row, smells: Vec::new(), dependencies: Dependencies::default() },
                    true,
                ),
                None => {
                    misses.push(unit);
                    (
                        CachedUnit { start_byte, start_row, smells: Vec::new(), dependencies: Dependencies::default() },
                        false,
                    )
                }
            };
            slots.push((key, cached, analyzed));
        }
        self.analyzed = misses.len();
        let (found, mut prior) = analyze_units(rules, &model, settings, &misses, &triggers, &self.prior);
        let mut found = found.into_iter();
        let mut smells = Vec::new();
        let mut fresh_units: HashMap<UnitKey, Vec<CachedUnit>> =
            HashMap::with_capacity_and_hasher(self.units.len(), Default::default());
        for (key, mut cached, analyzed) in slots {
            if !analyzed {
                let (s, deps) = found.next().unwrap_or_default();
                cached.smells = s;
                cached.dependencies = deps;
            }
            smells.extend(cached.smells.iter().cloned());
            fresh_units.entry(key).or_default().push(cached);
        }
        self.units = fresh_units;
        loose.retain(|t| {
            let range = t.range.clone().unwrap_or(t.node.byte_range());
            triggers.mentioned_in(&src[range])
        });
        model.take_dependencies();
        smells.extend(run_rules(rules, &model, settings, &loose, &triggers));
        self.loose_dependencies = model.take_dependencies();
        self.text_facts = model.text_facts();
        self.text_len = src.len();
        prior.extend(model.take_prior());
        self.prior = Arc::new(prior);
        self.index_work = model.index_work();
        finish(src, tree.root_node(), &mut smells);
        smells
    }

    /// A cached function with this key whose dependencies still hold, and whose findings point
    /// nowhere outside it ([`CachedUnit::self_contained`]).
    fn take_valid(&mut self, key: &UnitKey, model: &Model) -> Option<CachedUnit> {
        let list = self.units.get_mut(key)?;
        let at = list.iter().position(|c| c.self_contained(key.len) && model.still_holds(&c.dependencies))?;
        Some(list.swap_remove(at))
    }
}

impl CachedUnit {
    /// Every related location of the findings of this function (`len` bytes long) lies inside
    /// it. A reused function's findings are moved by the function's own shift, which is not that
    /// of a place in another function (the line where a summary's callee logs its parameter):
    /// an edit between the two moved one and not the other.
    fn self_contained(&self, len: usize) -> bool {
        let (start, end) = (self.start_byte, self.start_byte + len);
        self.smells
            .iter()
            .all(|s| s.related.as_ref().is_none_or(|r| start <= r.span.start_byte && r.span.end_byte <= end))
    }
}

/// What an edit of the import table changed, when it left the table's modules as they were.
struct Renamed {
    /// The names whose binding changed (bound before or after, to another module or to none).
    changed: Words,
    /// Every name bound, before or after, into a package one of the changed names is bound
    /// into: a fix spelled with one of them may be spelled otherwise now (`np.clip` after
    /// `np` became `npx`, `torch.nn.functional.softmax` after `F` came to stand for it).
    related: Words,
    /// A fix that adds an import may no longer hold: the point where imports are added moved, or
    /// a changed name is one a new import would take (`np`), so a fresh one may differ.
    imports_moved: bool,
}

impl Renamed {
    /// `None` unless `old` and `new` bind the same modules (only names differ) with the same
    /// line ending, and the triggers differ only in those names.
    fn between(old: &Imports, new: &Imports, old_triggers: &Triggers, new_triggers: &Triggers) -> Option<Renamed> {
        let modules = |i: &Imports| i.bindings().map(|(_, path)| path.to_string()).collect::<BTreeSet<_>>();
        if old.newline() != new.newline()
            || modules(old) != modules(new)
            || old_triggers.tokens != new_triggers.tokens
            || old_triggers.small_floats != new_triggers.small_floats
        {
            return None;
        }
        let both = || old.bindings().chain(new.bindings());
        let changed: BTreeSet<&str> =
            both().filter(|(n, _)| old.binding(n) != new.binding(n)).map(|(n, _)| n).collect();
        let (a, b) = (&old_triggers.words, &new_triggers.words);
        if a.iter()
            .filter(|w| !b.contains(w))
            .chain(b.iter().filter(|w| !a.contains(w)))
            .any(|w| !changed.contains(w.as_str()))
        {
            return None;
        }
        let package = |path: &str| path.split('.').next().unwrap_or(path).to_string();
        let packages: BTreeSet<String> = both().filter(|(n, _)| changed.contains(n)).map(|(_, p)| package(p)).collect();
        let related: BTreeSet<&str> = both().filter(|(_, p)| packages.contains(&package(p))).map(|(n, _)| n).collect();
        let imports_moved = !old.inserts_as(new) || changed.iter().any(|n| fixes::CONVENTIONAL_ALIASES.contains(n));
        Some(Renamed { changed: Words::new(changed), related: Words::new(related), imports_moved })
    }

    /// A cached function (`text`, the same before and after) still holds: its text names none
    /// of the changed names, its findings spell none of the related ones, and none adds an
    /// import (an edit outside the function, where imports are added) that may now be added
    /// elsewhere or under another name ([`Renamed::imports_moved`], or a changed name in it).
    fn keeps(&self, text: &str, cached: &CachedUnit) -> bool {
        let inside = |e: &Edit| cached.start_byte <= e.start && e.end <= cached.start_byte + text.len();
        let spells = |s: &str| self.related.in_text(s);
        let holds =
            |e: &Edit| !spells(&e.content) && (inside(e) || !(self.imports_moved || self.changed.in_text(&e.content)));
        !self.changed.in_text(text)
            && cached.smells.iter().all(|smell| {
                !spells(&smell.message)
                    && smell.related.as_ref().is_none_or(|r| !spells(&r.message))
                    && smell.fixes.iter().all(|f| !spells(&f.title) && f.edits.iter().all(holds))
            })
    }
}

/// One function's findings and the facts its analysis used.
type UnitFindings = (Vec<Smell>, Dependencies);

/// The findings of each function in `units`, in order, with the facts each used. Many at once
/// (opening a file, or an edit that changed its imports) are shared among rayon's threads, each
/// with a model of its own (reusing `prior`), whose facts are returned.
fn analyze_units<'a>(
    rules: &'static RuleSet,
    model: &Model<'a>,
    settings: &Settings,
    units: &[Node<'a>],
    triggers: &Triggers,
    prior: &Arc<PriorFacts>,
) -> (Vec<UnitFindings>, PriorFacts) {
    let one = |model: &Model<'a>, unit: &Node<'a>| {
        model.take_dependencies();
        let mut smells = run_rules(rules, model, settings, &[Target { node: *unit, range: None }], triggers);
        settle(&mut smells);
        (smells, model.take_dependencies())
    };
    if units.len() < PARALLEL_UNITS || rayon::current_num_threads() < 2 {
        return (units.iter().map(|u| one(model, u)).collect(), PriorFacts::default());
    }
    use rayon::prelude::*;
    let chunk = units.len().div_ceil((rayon::current_num_threads() * 4).min(MAX_CHUNKS)).max(PARALLEL_UNITS / 4);
    let (src, tree, imports) = (model.src, model.tree, model.imports.clone());
    let chunks: Vec<_> = units
        .par_chunks(chunk)
        .map(|chunk| {
            let local = Model::new(src, tree, imports.clone()).with_prior(prior.clone());
            let found = chunk.iter().map(|u| one(&local, u)).collect::<Vec<_>>();
            (found, local.take_prior())
        })
        .collect();
    let mut facts = PriorFacts::default();
    let mut all = Vec::with_capacity(units.len());
    for (found, local) in chunks {
        all.extend(found);
        facts.extend(local);
    }
    (all, facts)
}

/// One edit as the server applied it: `start..old_end` of the old text became `start..new_end`,
/// the text from `old_end` on moved by `rows` lines, and `unit` is the function that held the
/// edit in the old text ([`unit_around`] on the old tree, before `Tree::edit`), if one did;
/// `unit_imports` says whether its old text mentioned `import`. Outside a function, `plain`
/// says that neither the text replaced nor the text typed holds `#`, a quote or a backslash.
#[derive(Clone, Debug)]
pub struct EditSite {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
    pub rows: isize,
    pub unit: Option<Range<usize>>,
    pub unit_imports: bool,
    pub plain: bool,
    /// The text the edit replaced (`start..old_end` of the text before it).
    pub replaced: String,
}

/// The function whose findings the cache keeps (a definition at module level or directly in a
/// class body, with its decorators) that holds `start..end` after its first byte, if any.
pub fn unit_around(tree: &Tree, start: usize, end: usize) -> Option<Range<usize>> {
    unit_node_around(tree.root_node(), start, end).map(|n| n.byte_range())
}

fn unit_node_around(root: Node, start: usize, end: usize) -> Option<Node> {
    let mut parent = root;
    loop {
        // The first child that ends at or after `start`: the one holding it, or that `start`
        // extends (typing at the end of a function's last line).
        let child = parent.first_child_for_byte(start.checked_sub(1)?)?;
        if child.start_byte() >= start || child.end_byte() < end {
            return None;
        }
        let def = if child.kind_name() == "decorated_definition" {
            child.child_by_field_id(FIELD.definition)?
        } else {
            child
        };
        match def.kind_name() {
            "function_definition" => return Some(child),
            "class_definition" => {
                let body = def.child_by_field_id(FIELD.body)?;
                if start <= body.start_byte() {
                    return None;
                }
                parent = body;
            }
            _ => return None,
        }
    }
}

impl UnitCache {
    /// Turns `previous` (the findings before an edit inside one function) into the findings
    /// after it, with a fresh analysis of that function and of the functions that used a fact
    /// it contributes (its summary, the attributes it sets on `self`) that hashes otherwise now;
    /// `None`, with `previous` as it was, when the shortcut does not apply and
    /// [`UnitCache::analyze`] must run. It applies when the edit lies inside the function that
    /// was at `site.unit` before it, that function still starts there and ends where the edit
    /// moved its end, the reparse changed the tree nowhere else (`old_tree` is the edited old
    /// tree), the imports, triggers and settings are those of the last analysis, no code outside
    /// functions used a changed fact and at most [`MAX_DEPENDENTS`] functions did. Everything
    /// else kept its text and its facts, so the other findings only move.
    pub fn reanalyze_edit(
        &mut self,
        src: &str,
        old_tree: &Tree,
        tree: &Tree,
        settings: &Settings,
        previous: &mut Vec<Smell>,
        site: &EditSite,
    ) -> Option<()> {
        let old_unit = site.unit.clone()?;
        if self.settings.as_ref() != Some(settings) {
            return None;
        }
        let delta = site.new_end as isize - site.old_end as isize;
        let unit = unit_node_around(tree.root_node(), site.start, site.new_end)?;
        if unit.start_byte() != old_unit.start || unit.end_byte() as isize != old_unit.end as isize + delta {
            return None;
        }
        // A line the function shares with other code holds findings outside it whose `# noqa`
        // the edit may change.
        if !on_own_lines(src, unit) {
            return None;
        }
        // Where either tree has a syntax error, an incremental reparse may recover differently
        // elsewhere; without errors the text outside the function, unchanged, parses the same.
        // Where every error of both trees lies inside the function (the usual half-typed line),
        // the text outside, unchanged and parsed without error in both, parses the same; else
        // the trees are compared (`changed_ranges`, a tenth of such a keystroke on a
        // 5,000-line file).
        let erroneous = old_tree.root_node().has_error() || tree.root_node().has_error();
        if erroneous {
            let old_node = unit_node_around(old_tree.root_node(), site.start, site.new_end);
            let confined = old_node
                .is_some_and(|o| o.byte_range() == unit.byte_range() && errors_only_inside(old_tree.root_node(), o))
                && errors_only_inside(tree.root_node(), unit);
            if !confined
                && old_tree
                    .changed_ranges(tree)
                    .any(|r| r.start_byte < unit.start_byte() || r.end_byte > unit.end_byte())
            {
                return None;
            }
        }
        // Imports are collected at module level and in bodies that mention `import`: unless the
        // function does (before or after the edit), the table is the last analysis's, but for the
        // offsets it keeps: where new imports go, and the imports in blocks after the function
        // (a fix's import goes beside one), which the edit moves.
        let imports = self.imports.clone()?;
        if site.unit_imports
            || src[unit.byte_range()].contains("import")
            || old_unit.start < imports.insert_at()
            || imports.nested_from(old_unit.start)
            || !imports.newline_holds(src)
        {
            return None;
        }
        let rules = RuleSet::all();
        // The names of the file's functions are triggers (rules anchored on local calls). The
        // edit left the function's name and everything outside it as they were, so only a def
        // it adds inside can add one; a def it removes leaves an extra trigger word, which
        // widens where the queries look and changes no finding. (Collecting every name of the
        // file again was a fifth of each keystroke's time.)
        if rules.compiled.local_calls
            && crate::syntax::defined_names(&src[unit.byte_range()])
                .iter()
                .any(|n| self.triggers.words.binary_search(n).is_err())
        {
            return None;
        }
        // The facts read from the text that the function's text contributes to as before hold.
        let old_text =
            [&src[unit.start_byte()..site.start], &site.replaced, &src[site.new_end..unit.end_byte()]].concat();
        let new_text = &src[unit.byte_range()];
        let mut carried = std::mem::take(&mut self.text_facts);
        if self.text_len as isize + delta != src.len() as isize {
            carried.clear();
        }
        carried.retain(|(key, _, _)| {
            let before = unit_contribution(key, &old_text);
            before.is_some() && before == unit_contribution(key, new_text)
        });
        let model = Model::new(src, tree, imports.clone()).with_prior(self.prior.clone()).with_text_facts(carried);
        // Facts the edited function contributes must hash as before wherever they were used:
        // its summary, and the attributes of its class. An edit of its name changes which facts
        // those are: not handled here.
        let def = crate::syntax::definition(unit);
        let name = def.child_by_field_id(FIELD.name)?;
        if name.end_byte() >= site.start && name.start_byte() <= site.new_end {
            return None;
        }
        // Nor where the reparse gave it another name: in `def s\rafe(self):` the name was `afe`
        // (`s` an error); a character typed into `afe` made `s` the name, away from the edit.
        let old_def = unit_node_around(old_tree.root_node(), site.start, site.new_end).map(crate::syntax::definition);
        let old_name = old_def.and_then(|d| d.child_by_field_id(FIELD.name));
        if old_name.map(|n| n.byte_range()) != Some(name.byte_range()) {
            return None;
        }
        let own = Contributor::of(&model, def);
        // Where the function was analyzed alone before, its facts are those of its text before
        // the edit; the others analyzed alone since stand before or after it. (If the shortcut
        // does not apply, the whole analysis clears the list.)
        self.edited.retain(|e| e.range != old_unit);
        shift_edited(&mut self.edited, old_unit.end, delta);
        let mut file_flows = false;
        let mut own_flows = false;
        let lists = self.units.values().flatten().map(|c| &c.dependencies);
        let lists = lists.chain([&self.loose_dependencies]).chain(self.edited.iter().map(|e| &e.dependencies));
        for d in each_once(lists) {
            file_flows |= d.key == FactKey::FileFlows;
            own_flows |= matches!(&d.key, FactKey::Flows(q) if Some(&**q) == own.qualified.as_deref());
        }
        // The file's flows ask a function only when its text mentions a loss: one that starts to
        // is a new part of them.
        if file_flows && !own_flows && model.mentions_a_loss(&src[unit.byte_range()]) {
            return None;
        }
        // Facts the edited function contributes (its summary, the attributes of its class) may
        // hash otherwise now: the functions that used one are analyzed again with it. Code
        // outside functions that used one, or too many functions, and the whole file is
        // analyzed.
        let dependents = self.dependents(&model, unit, &own)?;
        if !dependents.iter().all(|d| on_own_lines(src, d.node)) {
            return None;
        }
        let triggers = self.triggers.clone();
        let mut targets = vec![unit];
        targets.extend(dependents.iter().map(|d| d.node));
        let mentions: Vec<bool> = targets.iter().map(|t| triggers.mentioned_in(&src[t.byte_range()])).collect();
        let mentioned: Vec<Node> = targets.iter().zip(&mentions).filter(|(_, m)| **m).map(|(t, _)| *t).collect();
        let (found, _) = analyze_units(rules, &model, settings, &mentioned, &triggers, &self.prior);
        let mut found = found.into_iter();
        let mut results: Vec<UnitFindings> = mentions
            .iter()
            .map(|m| if *m { found.next().unwrap_or_default() } else { UnitFindings::default() })
            .collect();
        let (mut fresh, own_dependencies) = results.remove(0);
        self.edited.push(EditedUnit { range: unit.byte_range(), dependencies: own_dependencies });
        // The dependents' cache entries now hold what they found; a list of functions with one
        // text is refilled with every function that has it now.
        for (dependent, (smells, dependencies)) in dependents.iter().zip(&results) {
            if let Some(key) = &dependent.key {
                self.units.entry(key.clone()).or_default().push(CachedUnit {
                    start_byte: dependent.node.start_byte(),
                    start_row: dependent.node.start_position().row,
                    smells: smells.clone(),
                    dependencies: dependencies.clone(),
                });
            }
            if let Some(e) = self.edited.iter_mut().find(|e| e.range == dependent.node.byte_range()) {
                e.dependencies = dependencies.clone();
            }
        }
        // A finding after the edit on the line the edit ends on (a statement after the function
        // on its last line, in broken code) moved along that line: its column changed too.
        let mover = Mover::new(src, site);
        let move_one = |s: &mut Smell| mover.move_one(s);
        // The other findings are moved where they lie, not cloned (cloning every finding with
        // its fixes was a tenth of a keystroke's time).
        let before = previous.partition_point(|s| s.span.start_byte < old_unit.start);
        let after = previous.partition_point(|s| s.span.start_byte < old_unit.end);
        let (head, tail) = previous.split_at_mut(after);
        head[..before].iter_mut().chain(tail).for_each(move_one);
        self.text_facts = model.text_facts();
        self.text_len = src.len();
        if dependents.is_empty() {
            finish(src, tree.root_node(), &mut fresh);
            previous.splice(before..after, fresh);
            return Some(());
        }
        previous.drain(before..after);
        let ranges: Vec<Range<usize>> = dependents.iter().map(|d| d.node.byte_range()).collect();
        previous.retain(|s| !ranges.iter().any(|r| r.contains(&s.span.start_byte)));
        fresh.extend(results.into_iter().flat_map(|(smells, _)| smells));
        finish(src, tree.root_node(), &mut fresh);
        previous.extend(fresh);
        previous.sort_by(|a, b| (a.span, &a.code).cmp(&(b.span, &b.code)));
        Some(())
    }

    /// The functions to analyze again after an edit of `unit` alone (not `unit` itself): those
    /// whose recorded facts, among the ones `unit` contributes, hash otherwise now. (A fact
    /// records the facts it was computed from among its user's: a summary that returns the
    /// attribute changed is found through the attribute.) Each is found in the current tree: a
    /// cached function by its key (every function with that text is taken, and the cache's list
    /// for the key emptied, to be refilled), one analyzed alone since the last whole analysis by
    /// its place in [`UnitCache::edited`]. `None` when code outside functions used a changed fact, when more
    /// than [`MAX_DEPENDENTS`] functions did, or when one cannot be found or has a syntax error.
    fn dependents<'a>(&mut self, model: &Model<'a>, unit: Node<'a>, own: &Contributor) -> Option<Vec<Dependent<'a>>> {
        // The facts a contributed fact is computed from now. A user that recorded it without one
        // of them is stale though the fact hashes as before: `floor` returned `0.0`, now
        // `self.eps * 0` (both 0), and `forward`, reading `self.floor()`, must record `self.eps`
        // for an edit of `__init__` to reach it.
        let sources: RefCell<HashMap<FactKey, Vec<Dependency>>> = RefCell::default();
        // Whether `deps` records every fact `key` is computed from now.
        let sources_in = |key: &FactKey, deps: &Dependencies| -> bool {
            let recorded = |found: &[Dependency]| found.iter().all(|s| deps.any(|r| r.key == s.key));
            if let Some(found) = sources.borrow().get(key) {
                return recorded(found);
            }
            model.take_dependencies();
            model.fact_hash(key);
            let found: Vec<Dependency> = model.take_dependencies().iter().cloned().collect();
            let answer = recorded(&found);
            sources.borrow_mut().insert(key.clone(), found);
            answer
        };
        let stale = |deps: &Dependencies| {
            deps.any(|d| own.contributes(&d.key) && (model.current_hash(&d.key) != d.hash || !sources_in(&d.key, deps)))
        };
        if stale(&self.loose_dependencies) {
            return None;
        }
        let keys: Vec<UnitKey> = self
            .units
            .iter()
            .filter(|(_, list)| list.iter().any(|c| stale(&c.dependencies)))
            .map(|(key, _)| key.clone())
            .collect();
        let ranges: Vec<Range<usize>> =
            self.edited.iter().filter(|e| stale(&e.dependencies)).map(|e| e.range.clone()).collect();
        let mut found: Vec<Dependent<'a>> = Vec::new();
        if keys.is_empty() && ranges.is_empty() {
            return Some(found);
        }
        let mut all = Vec::new();
        pieces(model.tree.root_node(), &mut all);
        let current: Vec<(Node<'a>, Option<Node<'a>>)> = all
            .into_iter()
            .filter_map(|p| match p {
                Piece::Unit(node, class) => Some((node, class)),
                Piece::Loose(_) => None,
            })
            .collect();
        for range in ranges {
            let (node, _) = current.iter().find(|(n, _)| n.byte_range() == range)?;
            found.push(Dependent { node: *node, key: None });
        }
        for key in keys {
            for &(node, class) in &current {
                let text = &model.src[node.byte_range()];
                if node == unit
                    || text.len() != key.len
                    || node.start_position().column != key.column
                    || found.iter().any(|d| d.node == node)
                {
                    continue;
                }
                let class = class.and_then(|c| c.child_by_field_id(FIELD.name)).map(|n| model.text(n));
                if hash_text(text) != key.hash || class != key.class.as_deref() {
                    continue;
                }
                if node.has_error() {
                    return None;
                }
                found.push(Dependent { node, key: Some(key.clone()) });
            }
            self.units.remove(&key);
        }
        (found.len() <= MAX_DEPENDENTS).then_some(found)
    }
}

/// Beyond this many functions to analyze again after an edit of one (those that used a fact it
/// contributes that changed), the whole file is analyzed.
const MAX_DEPENDENTS: usize = 16;

/// A function analyzed again because a fact it used changed, and its cache key (`None` for one
/// analyzed alone since the last whole analysis, found in [`UnitCache::edited`]).
struct Dependent<'a> {
    node: Node<'a>,
    key: Option<UnitKey>,
}

/// A function analyzed alone since the last whole analysis ([`UnitCache::reanalyze_edit`]),
/// where it stands now, with the facts it used: its cache entry is for its text before the
/// edit, so these are what an edit elsewhere is checked against.
struct EditedUnit {
    range: Range<usize>,
    dependencies: Dependencies,
}

/// Moves the functions in `edited` that start at or after `from` by `delta` bytes (an edit
/// ended at `from`, before them).
fn shift_edited(edited: &mut [EditedUnit], from: usize, delta: isize) {
    for e in edited.iter_mut().filter(|e| e.range.start >= from) {
        e.range = e.range.start.saturating_add_signed(delta)..e.range.end.saturating_add_signed(delta);
    }
}

/// The facts a function contributes to others: its summary and loss calls (by its qualified
/// name, `f` or `C.m`), the attributes its class's methods set, and the file-wide ones any
/// function may change.
struct Contributor {
    qualified: Option<String>,
    class: Option<String>,
}

impl Contributor {
    fn of<'a>(model: &Model<'a>, def: Node<'a>) -> Contributor {
        let class = model.class_of_method(def).and_then(|c| c.child_by_field_id(FIELD.name));
        Contributor { qualified: model.qualified_name(def), class: class.map(|n| model.text(n).to_string()) }
    }

    fn contributes(&self, key: &FactKey) -> bool {
        match key {
            FactKey::Function(q) => Some(&**q) == self.qualified.as_deref(),
            FactKey::Attribute { class: c, .. } => Some(&**c) == self.class.as_deref(),
            // The module scope's bindings: its statements, which enter no function (a
            // definition binds its name, which the edit left as it was).
            FactKey::Global(_) | FactKey::Rebound(_) | FactKey::ModuleBinding(_) => false,
            // API contracts (issue 10): the function's own loss calls; the module classes (a
            // forward's signature) and the precision settings (any function may set them) are
            // cheap to recompute; the file's flows are the union of the `Flows` facts, each
            // recorded beside it.
            FactKey::Flows(q) | FactKey::Calls(q) | FactKey::InPlaceWrites(q) => {
                Some(&**q) == self.qualified.as_deref()
            }
            FactKey::ModuleClasses
            | FactKey::Precision
            | FactKey::LossHolders
            | FactKey::LogitsLossWords
            | FactKey::Differentiated
            | FactKey::FreshName(_) => true,
            // Computed again and compared (they keep no sources: `FactKey::recomputed`).
            FactKey::FlowsFrom(_) | FactKey::FlowsInto(_) | FactKey::FlowsThrough(_) => true,
            FactKey::FileFlows | FactKey::FileCalls => false,
        }
    }
}

/// Every syntax error (`ERROR` or missing node) under `root` lies inside `unit`: none is an
/// ancestor of it or outside it. Only the nodes holding an error are entered.
fn errors_only_inside(root: Node, unit: Node) -> bool {
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if !node.has_error() {
            continue;
        }
        let within = unit.start_byte() <= node.start_byte() && node.end_byte() <= unit.end_byte();
        // A node with the unit's range that is not the unit holds it (a descendant is shorter).
        let holds = node.byte_range() == unit.byte_range() && node != unit;
        if node == unit || (within && !holds) {
            continue;
        }
        if node.is_error() || node.is_missing() {
            return false;
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor).filter(|c| c.has_error()));
    }
    true
}

/// Whether `node` shares none of its lines with other code (recovered from broken code: `p *
/// log(p) def f(x):  # noqa`), whose findings and `# noqa` an edit of it could change. (A
/// function may end between the `\r` and `\n` of a line ending: its line ends before.)
fn on_own_lines(src: &str, node: Node) -> bool {
    let first_line = crate::text::line_start(src, node.start_byte());
    let last_line_end = crate::text::line_end(src, node.end_byte());
    let blank = |range: Range<usize>| src.get(range).is_none_or(|t| t.trim().is_empty());
    blank(first_line..node.start_byte()) && blank(node.end_byte()..last_line_end)
}

impl UnitCache {
    /// Turns `previous` into the findings after an edit outside every function that leaves
    /// every binding, call and import of the file as it was: the statements it touched (module
    /// level or in a class body), before and after, are expressions of names, attributes,
    /// subscripts, numbers and operators (`x`, `self.scale * 2`), or there are none (blank
    /// space), the edit is plain ([`EditSite::plain`]), after the imports, and neither tree has a
    /// syntax error nor differs from the other outside those statements. Then no function's
    /// findings can change but through the file-wide facts read from its text (a fresh name a
    /// fix takes, the losses named): those are checked. The functions' findings are moved; the
    /// code outside functions is analyzed again (its findings may read a name's later uses,
    /// which such a statement adds). `None`, with `previous` as it was, when it does not apply.
    pub fn reanalyze_loose_edit(
        &mut self,
        src: &str,
        old_tree: &Tree,
        tree: &Tree,
        settings: &Settings,
        previous: &mut Vec<Smell>,
        site: &EditSite,
    ) -> Option<()> {
        if !site.plain || self.settings.as_ref() != Some(settings) {
            return None;
        }
        if old_tree.root_node().has_error() || tree.root_node().has_error() {
            return None;
        }
        // The import table as it was, where fixes add imports included (a statement deleted
        // between two imports moves it).
        let imports = self.imports.clone()?;
        if site.start <= imports.insert_at() {
            return None;
        }
        // The edited old tree is in the new text's offsets, as is `site.start..site.new_end`.
        let (before, class_before) = touched_statements(old_tree.root_node(), site.start, site.new_end)?;
        let (after, class_after) = touched_statements(tree.root_node(), site.start, site.new_end)?;
        if class_before.map(|c| c.byte_range()) != class_after.map(|c| c.byte_range())
            || !before.iter().chain(&after).all(|s| inert(*s))
        {
            return None;
        }
        // Last, as the costliest test (a walk of the module's statements): on its failure the
        // whole analysis collects the table again.
        if *imports != Imports::collect(tree.root_node(), src) {
            return None;
        }
        let lo = before.iter().chain(&after).map(|s| s.start_byte()).min().unwrap_or(site.start);
        let hi = before.iter().chain(&after).map(|s| s.end_byte()).max().unwrap_or(site.new_end);
        if old_tree.changed_ranges(tree).any(|r| r.start_byte < lo || r.end_byte > hi) {
            return None;
        }
        let rules = RuleSet::all();
        let model = Model::new(src, tree, imports).with_prior(self.prior.clone());
        // Facts read from the file's text, and the attributes of the class edited (whose text
        // is their origin), must hash as before wherever a function used them.
        let class = class_after.and_then(|c| c.child_by_field_id(FIELD.name)).map(|n| model.text(n));
        let may_change = |key: &FactKey| match key {
            FactKey::Attribute { class: c, .. } => Some(&**c) == class,
            FactKey::Flows(q) | FactKey::Calls(q) => q.is_empty(),
            FactKey::Global(_) | FactKey::Function(_) | FactKey::InPlaceWrites(_) => false,
            FactKey::ModuleClasses
            | FactKey::Precision
            | FactKey::LossHolders
            | FactKey::LogitsLossWords
            | FactKey::Differentiated
            | FactKey::FreshName(_)
            | FactKey::Rebound(_)
            | FactKey::ModuleBinding(_)
            | FactKey::FileFlows
            | FactKey::FileCalls
            | FactKey::FlowsFrom(_)
            | FactKey::FlowsInto(_)
            | FactKey::FlowsThrough(_) => true,
        };
        let lists = self.units.values().flatten().map(|c| &c.dependencies);
        let used = each_once(lists.chain(self.edited.iter().map(|e| &e.dependencies)));
        if used.filter(|d| may_change(&d.key)).any(|d| model.fact_hash(&d.key) != d.hash) {
            return None;
        }
        // The functions analyzed alone since the last whole analysis stand after or before the
        // edit, which is outside every function.
        let delta = site.new_end as isize - site.old_end as isize;
        if self.edited.iter().any(|e| e.range.start < site.old_end && e.range.end > site.start) {
            return None;
        }
        let mut all = Vec::new();
        pieces(tree.root_node(), &mut all);
        let mut units = Vec::new();
        let mut loose = Vec::new();
        for piece in all {
            match piece {
                Piece::Unit(unit, _) => units.push(unit.byte_range()),
                Piece::Loose(target) => {
                    let range = target.range.clone().unwrap_or(target.node.byte_range());
                    if self.triggers.mentioned_in(&src[range]) {
                        loose.push(target);
                    }
                }
            }
        }
        model.take_dependencies();
        let mut fresh = run_rules(rules, &model, settings, &loose, &self.triggers);
        self.loose_dependencies = model.take_dependencies();
        self.text_facts = model.text_facts();
        self.text_len = src.len();
        let mut prior = PriorFacts::clone(&self.prior);
        prior.extend(model.take_prior());
        self.prior = Arc::new(prior);
        finish(src, tree.root_node(), &mut fresh);
        // The functions' findings, moved; the rest were findings of the code outside functions.
        let in_unit = |at: usize| {
            let i = units.partition_point(|u| u.end <= at);
            units.get(i).is_some_and(|u| u.start <= at)
        };
        let mover = Mover::new(src, site);
        previous.retain_mut(|s| {
            mover.move_one(s);
            in_unit(s.span.start_byte)
        });
        previous.append(&mut fresh);
        previous.sort_by(|a, b| (a.span, &a.code).cmp(&(b.span, &b.code)));
        shift_edited(&mut self.edited, site.old_end, delta);
        Some(())
    }
}

/// Moves findings of the text before `site`'s edit to where they stand after it: by the bytes
/// and lines the edit added, and, on the line the edit ends on, to their new column (a finding
/// after the edit on that line: a statement after a function on its last line in broken code,
/// a one-line `def` after a form feed typed before it). That line is found once per edit, not
/// searched for from each finding.
struct Mover<'e> {
    site: &'e EditSite,
    /// Where the line holding `site.new_end` starts, and its last byte (its terminator's).
    line: (usize, usize),
}

impl<'e> Mover<'e> {
    fn new(src: &str, site: &'e EditSite) -> Self {
        let start = crate::text::line_start(src, site.new_end);
        let end = crate::text::line_end(src, site.new_end);
        // Between the `\r` and `\n` of a line ending is still the line before it.
        let last = if src[end..].starts_with("\r\n") { end + 1 } else { end };
        Mover { site, line: (start, last) }
    }

    fn move_one(&self, smell: &mut Smell) {
        let site = self.site;
        smell.move_from(site.old_end, site.new_end as isize - site.old_end as isize, site.rows);
        let (start, last) = self.line;
        let on_line = |at: usize| at >= site.new_end && at <= last;
        let recolumn = |span: &mut crate::syntax::Span| {
            if on_line(span.start_byte) {
                span.start.column = span.start_byte - start;
            }
            if on_line(span.end_byte) {
                span.end.column = span.end_byte - start;
            }
        };
        recolumn(&mut smell.span);
        if let Some(r) = smell.related.as_mut() {
            recolumn(&mut r.span);
        }
    }
}

/// The statements directly in the module or in one class body (the class, if any) that
/// `start..end` touches: those it overlaps, the one ending at `start` (text typed at its end
/// changes it, and tree-sitter reports no change of structure when a name grows) and the one
/// starting there; `None` when it touches a function or a class's header.
fn touched_statements(root: Node, start: usize, end: usize) -> Option<(Vec<Node>, Option<Node>)> {
    let mut parent = root;
    let mut class = None;
    loop {
        let mut cursor = parent.walk();
        let touched: Vec<Node> = parent
            .children(&mut cursor)
            .filter(|c| c.end_byte() >= start && (c.start_byte() < end || c.start_byte() == start))
            .collect();
        let [only] = touched.as_slice() else { return Some((touched, class)) };
        if only.kind_name() != "class_definition" {
            return Some((touched, class));
        }
        let body = only.child_by_field_id(FIELD.body)?;
        if start <= body.start_byte() {
            return None;
        }
        class = Some(*only);
        parent = body;
    }
}

/// An expression statement that binds, calls and imports nothing, holds no string, comment or
/// lambda: names, attributes, subscripts, numbers, constants and operators.
fn inert(statement: Node) -> bool {
    const INERT: &[&str] = &[
        "expression_statement",
        "identifier",
        "attribute",
        "subscript",
        "slice",
        "integer",
        "float",
        "true",
        "false",
        "none",
        "ellipsis",
        "binary_operator",
        "unary_operator",
        "boolean_operator",
        "not_operator",
        "comparison_operator",
        "parenthesized_expression",
        "tuple",
        "list",
    ];
    if statement.kind_name() != "expression_statement" {
        return false;
    }
    let mut stack = vec![statement];
    while let Some(node) = stack.pop() {
        if node.is_named() && !INERT.contains(&node.kind_name()) {
            return false;
        }
        let mut cursor = node.walk();
        stack.extend(node.children(&mut cursor));
    }
    true
}

fn hash_text(text: &str) -> u64 {
    crate::semantic::facts::stable_hash(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantic::facts::Fact;
    use crate::syntax::parse;

    /// `n` functions, every third using `np` (a log of a softmax written out, with a clip fix
    /// spelled `np.clip`), the others PyTorch only, and `head` before the imports.
    fn file(head: &str, alias: &str, n: usize) -> String {
        let mut src = format!("{head}import numpy as {alias}\nimport torch\n\n");
        for i in 0..n {
            let body = match i % 3 {
                0 => format!("    p = {alias}.exp(x) / {alias}.exp(x).sum()\n    return -(y * {alias}.log(p)).sum()\n"),
                1 => "    p = torch.softmax(x, dim=-1)\n    return -(y * torch.log(p)).sum()\n".to_string(),
                _ => format!("    return x.sum() * {i}\n"),
            };
            src.push_str(&format!("def f{i}(x, y):\n{body}\n\n"));
        }
        src
    }

    /// The cache's findings for `src` after `before`, with how many functions it analyzed,
    /// checked against a fresh analysis.
    fn after(before: &str, src: &str) -> (Vec<Smell>, usize) {
        let settings = Settings::default();
        let mut cache = UnitCache::default();
        cache.analyze(before, &parse(before), &settings);
        let tree = parse(src);
        let smells = cache.analyze(src, &tree, &settings);
        assert_eq!(smells, super::super::analyze(src, &tree, &settings), "the cache differs from a fresh analysis");
        (smells, cache.analyzed)
    }

    /// `typed` put in place of `before[start..old_end]` outside every function, as the server
    /// does it: the cache's findings after [`UnitCache::reanalyze_loose_edit`] (`None` when it
    /// does not apply), checked against a fresh analysis of the new text.
    fn loose_edit(before: &str, start: usize, old_end: usize, typed: &str) -> Option<Vec<Smell>> {
        let settings = Settings::default();
        let mut cache = UnitCache::default();
        let mut old_tree = parse(before);
        let mut smells = cache.analyze(before, &old_tree, &settings);
        let src = format!("{}{typed}{}", &before[..start], &before[old_end..]);
        let new_end = start + typed.len();
        let point = |text: &str, at: usize| {
            let row = text[..at].matches('\n').count();
            tree_sitter::Point { row, column: at - text[..at].rfind('\n').map_or(0, |i| i + 1) }
        };
        old_tree.edit(&tree_sitter::InputEdit {
            start_byte: start,
            old_end_byte: old_end,
            new_end_byte: new_end,
            start_position: point(before, start),
            old_end_position: point(before, old_end),
            new_end_position: point(&src, new_end),
        });
        let tree = crate::syntax::reparse(&src, Some(&old_tree));
        let plain = |t: &str| !t.contains(['#', '\'', '"', '\\']);
        let site = EditSite {
            start,
            old_end,
            new_end,
            rows: point(&src, new_end).row as isize - point(before, old_end).row as isize,
            unit: None,
            unit_imports: false,
            plain: plain(typed) && plain(&before[start..old_end]),
            replaced: before[start..old_end].to_string(),
        };
        cache.reanalyze_loose_edit(&src, &old_tree, &tree, &settings, &mut smells, &site)?;
        assert_eq!(smells, super::super::analyze(&src, &tree, &settings), "the shortcut differs from a fresh analysis");
        Some(smells)
    }

    /// Where the errors of a tree lie: inside the function (a half-typed line), in another
    /// function, or around it.
    #[test]
    fn errors_are_told_inside_the_function_or_not() {
        fn unit_at<'t>(src: &str, tree: &'t Tree, needle: &str) -> Node<'t> {
            let at = src.find(needle).unwrap();
            unit_node_around(tree.root_node(), at, at + needle.len()).unwrap()
        }
        let src = "class M:\n    def f(self, x):\n        h = g(x))x\n        return h\n\n    def k(self):\n        return 1\n";
        let tree = parse(src);
        assert!(tree.root_node().has_error());
        assert!(errors_only_inside(tree.root_node(), unit_at(src, &tree, "h = g")));
        assert!(!errors_only_inside(tree.root_node(), unit_at(src, &tree, "return 1")));
        // An unclosed bracket swallows what follows: the error is no longer the function's.
        let src = "def f(x):\n    h = g(x\n    return h\n\n\ndef k():\n    return 1\n";
        let tree = parse(src);
        assert!(!errors_only_inside(tree.root_node(), unit_at(src, &tree, "return 1")));
        let src = "def f(x):\n    return x\n";
        let tree = parse(src);
        assert!(errors_only_inside(tree.root_node(), unit_at(src, &tree, "return x")));
    }

    /// `n` module classes, each with `k` attributes set in `__init__` and a `forward` that
    /// calls `self.proj` (a fact: the class defines no method `proj`) and logs a softmax.
    fn classes(n: usize, k: usize) -> String {
        let mut src = String::from("import torch\nimport torch.nn as nn\n\n");
        for i in 0..n {
            src.push_str(&format!(
                "class Block{i}(nn.Module):\n    def __init__(self, dim):\n        super().__init__()\n"
            ));
            src.push_str("        self.proj = nn.Linear(dim, dim)\n");
            for a in 0..k {
                src.push_str(&format!("        self.a{a} = {a}.0\n"));
            }
            src.push_str("\n    def forward(self, x):\n        p = torch.softmax(self.proj(x), dim=-1)\n");
            src.push_str("        return torch.log(p)\n\n\n");
        }
        src
    }

    /// A keystroke in one class's header checks that the other classes' cached `forward`s still
    /// call no method `proj`: a lookup among each class's methods, which reads none of their
    /// bodies. It built each class's index of attribute assignments, walking every method (a
    /// class-header keystroke in the latency bench spent 38 % of its instructions there).
    #[test]
    fn a_class_header_keystroke_reads_no_other_class_body() {
        let work = |k: usize| {
            let before = classes(40, k);
            let src = before.replacen("class Block0(nn.Module):", "class Block0x(nn.Module):", 1);
            let settings = Settings::default();
            let mut cache = UnitCache::default();
            cache.analyze(&before, &parse(&before), &settings);
            let tree = parse(&src);
            let smells = cache.analyze(&src, &tree, &settings);
            assert_eq!(smells, super::super::analyze(&src, &tree, &settings));
            assert_eq!(smells.len(), 40, "{smells:#?}");
            assert_eq!(cache.analyzed, 2, "only the edited class's methods are analyzed again");
            cache.index_work
        };
        let (small, large) = (work(10), work(40));
        assert!(small > 0);
        // The edited class's own 30 more attributes are read again: 221 and 251 when measured.
        assert!(large <= small + 4 * 30, "index work {small} with 10 attributes a class, {large} with 40");
    }

    /// A function's findings are cached settled: an `NL101` under the `NL102` that supersedes it
    /// is not kept, to be copied and dropped again on every keystroke.
    #[test]
    fn the_cache_keeps_each_functions_findings_settled() {
        let src = "import torch\n\n\ndef f(x):\n    return torch.log(torch.softmax(x, dim=-1))\n";
        let settings = Settings::default();
        let mut cache = UnitCache::default();
        let tree = parse(src);
        let smells = cache.analyze(src, &tree, &settings);
        assert_eq!(smells, super::super::analyze(src, &tree, &settings));
        let codes = |list: &[Smell]| list.iter().map(|s| s.code.to_string()).collect::<Vec<_>>();
        assert!(codes(&smells).iter().any(|c| c == "NL102"), "{:?}", codes(&smells));
        let cached: Vec<Smell> = cache.units.values().flatten().flat_map(|c| c.smells.clone()).collect();
        assert_eq!(cached.len(), smells.len(), "cached {:?}, reported {:?}", codes(&cached), codes(&smells));
        assert!(!codes(&cached).iter().any(|c| c == "NL101"), "{:?}", codes(&cached));
    }

    #[test]
    fn an_expression_typed_outside_functions_moves_their_findings() {
        // Findings in functions, in methods and at module level.
        let before = format!(
            "{}class M:\n    def f(self, y):\n        return torch.log(torch.sigmoid(y))\n\n    def g(self):\n        pass\n\n\
             r = torch.log(torch.exp(z) / torch.exp(z).sum())\n",
            file("", "np", 6)
        );
        let fresh = super::super::analyze(&before, &parse(&before), &Settings::default());
        assert!(fresh.iter().any(|s| s.span.start_byte > before.find("\nr = ").unwrap()), "{fresh:#?}");
        let at = |needle: &str| before.find(needle).unwrap();
        // At module level, between two functions, on a new line: typed, then deleted.
        let blank = at("def f3");
        let typed = loose_edit(&before, blank, blank, "x.y[0] + 1 > z\n").expect("an inert statement");
        assert_eq!(typed.len(), fresh.len());
        let after = format!("{}x.y[0] + 1 > z\n{}", &before[..blank], &before[blank..]);
        assert!(loose_edit(&after, blank, blank + 14, "").is_some(), "deleted again");
        // The line deleted with it: the next function then starts where the edit is.
        assert!(loose_edit(&after, blank, blank + 15, "").is_none());
        // In a class body, between two methods, indented.
        let method = at("    def g(self)");
        assert!(loose_edit(&before, method, method, "    scale\n").is_some());
        // A blank typed in the blank space between two functions.
        assert!(loose_edit(&before, blank - 1, blank - 1, " ").is_some());
    }

    #[test]
    fn whitespace_typed_before_a_one_line_def_moves_its_findings_column() {
        // Regression (review): a form feed before `def` leaves its indentation at 0 and the
        // trees alike, and the finding on that line moved by a byte kept its column.
        let before = "import torch\n\n\ndef f(y): return torch.log(torch.sigmoid(y))\n";
        let def = before.find("def").unwrap();
        let after = loose_edit(before, def, def, "\x0c").expect("the shortcut applies");
        assert_eq!(after[0].span.start.column, after[0].span.start_byte - def);
    }

    #[test]
    fn a_statement_deleted_between_two_imports_is_analyzed_as_a_whole() {
        // Regression (review): imports are added after the first block of them; once the `x`
        // between two is gone, the block ends after `import torch`.
        let before = "import numpy as np\n\nx\nimport torch\n\n\ndef f(p):\n    return -(p * np.log(p)).sum()\n";
        let x = before.find("x\n").unwrap();
        assert!(loose_edit(before, x, x + 1, "").is_none());
    }

    #[test]
    fn a_name_typed_outside_functions_leaves_the_fresh_name_of_a_functions_fix() {
        // The log-softmax fix binds the softmax's logits to a fresh name: `logits`, which a
        // `logits` typed outside the function leaves free (the function reads no such name).
        let before =
            "import torch\n\n\ndef f(h, w):\n    p = torch.softmax(h @ w, dim=-1)\n    return torch.log(p)\n\n\n";
        let fix_text = |smells: &[Smell]| {
            smells.iter().flat_map(|s| &s.fixes).flat_map(|f| &f.edits).map(|e| e.content.clone()).collect::<Vec<_>>()
        };
        let fresh = super::super::analyze(before, &parse(before), &Settings::default());
        assert!(fix_text(&fresh).iter().any(|c| c.contains("logits = h @ w")), "{:#?}", fix_text(&fresh));
        let end = before.len();
        if let Some(after) = loose_edit(before, end, end, "logits\n") {
            assert!(fix_text(&after).iter().any(|c| c.contains("logits = h @ w")), "{:#?}", fix_text(&after));
        }
    }

    #[test]
    fn a_binding_call_string_or_comment_outside_functions_is_analyzed_as_a_whole() {
        let before = file("", "np", 6);
        let blank = before.find("def f3").unwrap();
        for typed in ["x = 1\n", "f0(x)\n", "import math\n", "'doc'\n", "x  # noqa\n", "lambda: 0\n", "def h(): pass\n"]
        {
            assert!(loose_edit(&before, blank, blank, typed).is_none(), "{typed:?}");
        }
        // A statement that splits a class: its later methods leave it.
        let class = format!("{before}class M:\n    def f(self):\n        pass\n\n    def g(self):\n        pass\n");
        let method = class.find("\n    def g").unwrap() + 1;
        assert!(loose_edit(&class, method, method, "x\n").is_none());
        // Before the imports end (a fix adding an import would land after the text typed).
        assert!(loose_edit(&before, 0, 0, "x\n").is_none());
    }

    #[test]
    fn renaming_an_alias_no_function_uses_keeps_every_function() {
        // `import math as m` retyped as `... as mm`: the same modules, no function names either
        // alias, no fix spells a name of that package, and the import, after the functions,
        // moves no point where a fix adds one.
        let before = format!("{}import math as m\n", file("", "np", 30));
        let src = before.replace("import math as m\n", "import math as mm\n");
        let (smells, analyzed) = after(&before, &src);
        assert!(!smells.is_empty());
        assert_eq!(analyzed, 0);
    }

    #[test]
    fn renaming_an_alias_analyzes_the_functions_that_name_it() {
        let before = file("", "np", 30);
        let src = before.replace("import numpy as np\n", "import numpy as npx\n");
        // `np` now names nothing: the ten NumPy functions are analyzed again (their findings
        // go); the twenty others are kept.
        let (smells, analyzed) = after(&before, &src);
        assert_eq!(analyzed, 10);
        assert!(smells.iter().all(|s| !s.message.contains("np.")), "{smells:#?}");
        // And back: the ten come again, with fixes spelled `np`.
        let (smells, analyzed) = after(&src, &before);
        assert_eq!(analyzed, 10);
        assert!(
            smells.iter().any(|s| s.fixes.iter().any(|f| f.edits.iter().any(|e| e.content.starts_with("np.clip("))))
        );
    }

    #[test]
    fn an_edit_before_the_imports_analyzes_the_functions_whose_fixes_add_one() {
        // The xlogy fix of a NumPy cross-entropy adds `from scipy.special import xlogy` where the
        // imports end; a longer docstring moves that point, so those functions are analyzed
        // again (their cached edit would land a byte early), the others kept.
        let before = file("\"\"\"Doc.\"\"\"\n", "np", 30);
        let src = before.replacen("Doc.", "Docs.", 1);
        let tree = parse(&before);
        let smells = super::super::analyze(&before, &tree, &Settings::default());
        let first = before.find("def f0").unwrap();
        let outside = smells.iter().filter(|s| s.fixes.iter().any(|f| f.edits.iter().any(|e| e.start < first)));
        assert_eq!(outside.count(), 10, "the fixture's NumPy findings add an import");
        let (_, analyzed) = after(&before, &src);
        assert_eq!(analyzed, 10);
    }

    /// The xlogy fix joins `from scipy.special import expit`; swapping it with the line after
    /// it keeps the modules and the insertion point, but moves where `, xlogy` goes: the
    /// function is analyzed again (its cached edit would land inside `from scipy`).
    #[test]
    fn moving_the_from_import_a_fix_joins_analyzes_the_function_again() {
        let body = "\n\ndef f(x, y):\n    p = np.exp(x) / np.exp(x).sum()\n    return -(y * np.log(p)).sum()\n";
        let before = format!("from scipy.special import expit\nimport numpy as np\n{body}");
        let before = before.as_str();
        let joins = |smells: &[Smell], content: &str| {
            smells.iter().any(|s| s.fixes.iter().any(|f| f.edits.iter().any(|e| e.content == content)))
        };
        let tree = parse(before);
        assert!(joins(&super::super::analyze(before, &tree, &Settings::default()), ", xlogy"));
        let src = format!("import numpy as np\nfrom scipy.special import expit\n{body}");
        let (smells, analyzed) = after(before, &src);
        assert_eq!(analyzed, 1);
        let at = src.find("expit").unwrap() + "expit".len();
        assert!(smells.iter().any(|s| s.fixes.iter().any(|f| f.edits.iter().any(|e| e.start == at))), "{smells:#?}");
    }

    /// A fix whose import goes beside a module-level `try`'s import of torch (torch imported
    /// nowhere else) holds where a fresh analysis puts it: after an edit in a function before
    /// that import (which moves it), and after one on its line that makes it share the line
    /// (the import then follows it after a `;`).
    #[test]
    fn edits_moving_the_conditional_import_a_fix_goes_beside_keep_the_fix_right() {
        let src = "def b(x):\n    return x + 1\n\n\ntry:\n    from torch import log, softmax  # c\nexcept ImportError:\n    pass\n\n\ndef a(z):\n    return log(softmax(z, -1))\n";
        let adds = |doc: &Doc, content: &str| {
            doc.smells.iter().any(|s| s.fixes.iter().any(|f| f.edits.iter().any(|e| e.content == content)))
        };
        let mut doc = Doc::new(src);
        assert!(adds(&doc, "    import torch\n"));
        assert!(!doc.replace("x + 1", "x + 12"), "the import after the function moved: no shortcut");
        assert!(adds(&doc, "    import torch\n"));
        doc.replace("  # c", "; y=2");
        assert!(adds(&doc, "; import torch"), "{:#?}", doc.smells);
        doc.replace("; y=2", "  # c");
        assert!(adds(&doc, "    import torch\n"));
    }

    /// A method or an attribute a class inherits from a base class of the file: an edit inside
    /// the base's method (the server's shortcut for one function) reaches the findings of the
    /// subclass's methods that read it.
    #[test]
    fn an_edit_in_a_base_class_reaches_what_its_subclasses_inherit() {
        let src = "import torch\nimport torch.nn as nn\n\n\nclass Head(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.eps = 1e-6\n\n    def probs(self, x):\n        return torch.softmax(x, -1)\n\n\nclass Tail(Head):\n    def forward(self, x):\n        return torch.log(self.probs(x)) + torch.log(x.abs() + self.eps)\n";
        let count = |doc: &Doc| doc.smells.iter().filter(|s| s.code.starts_with("NL1")).count();
        let mut doc = Doc::new(src);
        assert_eq!(count(&doc), 1, "{:#?}", doc.smells);
        assert!(doc.replace("softmax(x, -1)", "softmax(x, -1).clamp(min=1e-7)"), "a shortcut");
        assert_eq!(count(&doc), 0, "{:#?}", doc.smells);
        assert!(doc.replace("self.eps = 1e-6", "self.eps = 0.0"), "a shortcut");
        assert_eq!(count(&doc), 1, "{:#?}", doc.smells);
        doc.replace("self.eps = 0.0", "self.eps = 1e-6");
        doc.replace(".clamp(min=1e-7)", "");
        assert_eq!(count(&doc), 1, "{:#?}", doc.smells);
    }

    /// A document edited as the server edits it: the shortcut for an edit inside one function
    /// or outside every function when it applies, a whole analysis (reusing the cache) when not;
    /// the findings checked against a fresh analysis after every edit.
    struct Doc {
        cache: UnitCache,
        text: String,
        tree: Tree,
        smells: Vec<Smell>,
    }

    impl Doc {
        fn new(text: &str) -> Doc {
            let mut cache = UnitCache::default();
            let tree = parse(text);
            let smells = cache.analyze(text, &tree, &Settings::default());
            Doc { cache, text: text.to_string(), tree, smells }
        }

        /// `typed` in place of the one occurrence of `old`: whether a shortcut applied.
        fn replace(&mut self, old: &str, typed: &str) -> bool {
            assert_eq!(self.text.matches(old).count(), 1, "{old:?}");
            let start = self.text.find(old).unwrap();
            self.edit(start, start + old.len(), typed)
        }

        fn edit(&mut self, start: usize, old_end: usize, typed: &str) -> bool {
            let settings = Settings::default();
            let before = std::mem::take(&mut self.text);
            let src = format!("{}{typed}{}", &before[..start], &before[old_end..]);
            let new_end = start + typed.len();
            let point = |text: &str, at: usize| {
                let row = text[..at].matches('\n').count();
                tree_sitter::Point { row, column: at - text[..at].rfind('\n').map_or(0, |i| i + 1) }
            };
            let unit = unit_around(&self.tree, start, old_end);
            let plain = |t: &str| !t.contains(['#', '\'', '"', '\\']);
            let site = EditSite {
                start,
                old_end,
                new_end,
                rows: point(&src, new_end).row as isize - point(&before, old_end).row as isize,
                unit_imports: unit.clone().is_some_and(|u| before[u].contains("import")),
                unit,
                plain: plain(typed) && plain(&before[start..old_end]),
                replaced: before[start..old_end].to_string(),
            };
            let mut old_tree = self.tree.clone();
            old_tree.edit(&tree_sitter::InputEdit {
                start_byte: start,
                old_end_byte: old_end,
                new_end_byte: new_end,
                start_position: point(&before, start),
                old_end_position: point(&before, old_end),
                new_end_position: point(&src, new_end),
            });
            let tree = crate::syntax::reparse(&src, Some(&old_tree));
            let cache = &mut self.cache;
            let done = match site.unit {
                Some(_) => cache.reanalyze_edit(&src, &old_tree, &tree, &settings, &mut self.smells, &site),
                None => cache.reanalyze_loose_edit(&src, &old_tree, &tree, &settings, &mut self.smells, &site),
            };
            if done.is_none() {
                self.smells = cache.analyze(&src, &tree, &settings);
            }
            assert_eq!(
                self.smells,
                super::super::analyze(&src, &tree, &settings),
                "differs from a fresh analysis:\n{src}"
            );
            self.text = src;
            self.tree = tree;
            done.is_some()
        }
    }

    /// An edit inside one function that changes a fact another function used (an attribute of
    /// its class) analyzes the two, not the file; so does the next, after an edit outside every
    /// function moved the first (then found where it stands now, not by its text).
    #[test]
    fn an_attribute_set_in_one_method_analyzes_the_methods_that_read_it() {
        let head = "class Head:\n    def __init__(self):\n        self.eps = 1e-6\n\n    def forward(self, x):\n        \
                    return torch.log(torch.softmax(x, dim=-1) + self.eps)\n\n\n";
        let mut doc = Doc::new(&format!("{}{head}", file("", "np", 6)));
        let count = doc.smells.len();
        assert!(doc.replace("self.eps = 1e-6", "self.eps = 0.0"), "a shortcut");
        assert_eq!(doc.smells.len(), count + 1, "forward reads eps = 0");
        // Typed into, a syntax error (`1e-6x`), and deleted.
        assert!(doc.replace("self.eps = 0.0", "self.eps = 1e-6x"));
        assert!(doc.replace("self.eps = 1e-6x", "self.eps = 1e-6"));
        assert_eq!(doc.smells.len(), count);
        // `forward` edited alone, then moved by an edit at module level, then read again.
        assert!(doc.replace("+ self.eps)", "+ self.eps * 1)"));
        let blank = doc.text.find("\ndef f2").unwrap();
        assert!(doc.edit(blank, blank, "z\n"), "an inert statement");
        assert!(doc.replace("self.eps = 1e-6", "self.eps = 0.0"));
        assert_eq!(doc.smells.len(), count + 1);
        // Read by more functions than the shortcut takes: the whole file.
        let many: String = (0..MAX_DEPENDENTS)
            .map(|i| format!("    def m{i}(self, x):\n        return torch.log(x + self.eps)\n\n"))
            .collect();
        let mut doc = Doc::new(
            &format!("{}{head}", file("", "np", 3)).replace("    def forward", &format!("{many}    def forward")),
        );
        assert!(!doc.replace("self.eps = 1e-6", "self.eps = 0.0"));
        assert!(!doc.replace("self.eps = 0.0", "self.eps = 1e-6"));
    }

    /// A method whose sigmoid reaches a loss through another method that returns its result
    /// (`forward` returns `self.inter_forward(x)`): editing that other method so it no longer
    /// passes the result on re-analyzes the first (its finding goes), and back.
    #[test]
    fn a_method_that_stops_returning_another_s_result_analyzes_that_one() {
        let class = concat!(
            "class Fism(torch.nn.Module):\n",
            "    def __init__(self):\n",
            "        super().__init__()\n",
            "        self.fc = torch.nn.Linear(4, 1)\n",
            "        self.bce = torch.nn.BCEWithLogitsLoss()\n\n",
            "    def inter_forward(self, x):\n",
            "        return torch.sigmoid(self.fc(x))\n\n",
            "    def forward(self, x):\n",
            "        return self.inter_forward(x)\n\n",
            "    def loss(self, x, y):\n",
            "        return self.bce(self.forward(x), y)\n",
        );
        let mut doc = Doc::new(&format!("{}{class}", file("", "np", 3)));
        let double = |doc: &Doc| doc.smells.iter().filter(|s| s.code == "NL302").count();
        assert_eq!(double(&doc), 1);
        assert!(doc.replace("return self.inter_forward(x)", "return self.fc(x)"), "a shortcut");
        assert_eq!(double(&doc), 0);
        assert!(doc.replace("return self.fc(x)", "return self.inter_forward(x)"));
        assert_eq!(double(&doc), 1);
    }

    /// A character typed into a function's name can give it another name away from the edit:
    /// in `def s\rafe(x):` tree-sitter names it `afe` (`s` an error), and `af🔥e` makes `s` the
    /// name, which then binds `s` between the softmax and the log at module level (so its
    /// `log_softmax(logits, s)` fix no longer holds). Regression: the function was analyzed
    /// alone and the module's finding kept its fix (found by `tests/incremental.rs`).
    #[test]
    fn an_edit_that_renames_a_function_away_from_it_is_no_edit_inside_it() {
        let text = concat!(
            "import tensorflow as tf\n\n",
            "p = tf.nn.softmax(logits, s)\n\n\n",
            "def s\rafe(x):\n    return x\n\n\n",
            "r = tf.math.log(p)\n",
        );
        let mut doc = Doc::new(text);
        let fixes = |doc: &Doc| doc.smells.iter().map(|s| s.fixes.len()).collect::<Vec<_>>();
        let before = fixes(&doc);
        let shortcut = doc.replace("afe", "af\u{1F525}e");
        assert_ne!(fixes(&doc), before, "the name `s` binds between the softmax and the log now");
        assert!(!shortcut, "the function was analyzed alone");
    }

    /// The fix that drops an activation names the other functions that get logits then: an
    /// edit of one of them alone (it stops calling the forward, and starts again) changes the
    /// title of the finding in another function.
    #[test]
    fn a_caller_edited_alone_changes_the_title_of_a_fix_elsewhere() {
        let class = concat!(
            "class Fism(torch.nn.Module):\n",
            "    def __init__(self):\n",
            "        super().__init__()\n",
            "        self.fc = torch.nn.Linear(4, 1)\n",
            "        self.bce = torch.nn.BCEWithLogitsLoss()\n\n",
            "    def forward(self, x):\n",
            "        return torch.sigmoid(self.fc(x))\n\n",
            "    def loss(self, x, y):\n",
            "        return self.bce(self.forward(x), y)\n\n",
            "    def predict(self, x):\n",
            "        return self.forward(x)\n",
        );
        let mut doc = Doc::new(&format!("{}{class}", file("", "np", 3)));
        let titles = |doc: &Doc| -> Vec<String> {
            let fixes = doc.smells.iter().filter(|s| s.code == "NL302").flat_map(|s| s.fixes.iter());
            fixes.map(|f| f.title.clone()).collect()
        };
        let named = ["Drop the sigmoid: pass logits to the loss (and to `Fism.predict`)"];
        assert_eq!(titles(&doc), named);
        assert!(doc.replace("return self.forward(x)", "return self.fc(x)"), "a shortcut");
        assert_eq!(titles(&doc), ["Drop the sigmoid: pass logits to the loss"]);
        assert!(doc.replace("return self.fc(x)", "return self.forward(x)"));
        assert_eq!(titles(&doc), named);
    }

    /// The fresh name a function's fix binds (`logits`) is its own text's: a name typed at
    /// module level leaves it, one typed in the function takes it.
    #[test]
    fn a_fresh_name_follows_the_functions_text_not_the_modules() {
        let mut doc = Doc::new(&format!("{}def entropy(z):\n    return z\n", file("", "np", 3)));
        let written = "p = torch.softmax(z * 2.0, dim=-1)\n    return -(p * torch.log(p)).sum()";
        assert!(doc.replace("return z", written));
        let bound = |doc: &Doc| -> Vec<String> {
            let edits = doc.smells.iter().flat_map(|s| s.fixes.iter().flat_map(|f| f.edits.iter()));
            edits.filter_map(|e| e.content.trim_start().split_once(" = ").map(|(n, _)| n.to_string())).collect()
        };
        assert_eq!(bound(&doc), ["logits"]);
        let blank = doc.text.find("\ndef f2").unwrap();
        doc.edit(blank, blank, "logits\n");
        assert_eq!(bound(&doc), ["logits"]);
        assert!(doc.replace("    return -(p", "    logits = 0\n    return -(p"));
        assert_eq!(bound(&doc), ["logits_2"]);
    }

    /// The facts read from the text alone are kept across an edit inside a function whose text
    /// contributes to them as before (not computed again: the same allocation), and computed
    /// again after one that names a loss word, sets the precision or calls a transform.
    #[test]
    fn an_edit_inside_a_function_keeps_the_text_facts_it_contributes_to_as_before() {
        let src = "import torch\nimport torch.nn.functional as F\n\n\ndef loss_of(x, y):\n    \
                   p = torch.softmax(x, dim=-1)\n    return F.cross_entropy(p, y)\n\n\n\
                   def scale(x):\n    p = torch.softmax(x, dim=-1)\n    return torch.log(p + 1e-10)\n";
        let mut doc = Doc::new(src);
        let fact = |doc: &Doc, key: &FactKey| {
            doc.cache.text_facts.iter().find(|(k, _, _)| k == key).map(|(_, fact, _)| fact.clone())
        };
        let words = fact(&doc, &FactKey::LogitsLossWords).expect("the loss words were read");
        assert_eq!(*words, Fact::Names(vec!["cross_entropy".to_string()]));
        let precision = fact(&doc, &FactKey::Precision).expect("the precision was read");
        assert!(doc.replace("p + 1e-10)", "p + 2e-10)"), "a shortcut");
        assert!(Arc::ptr_eq(&words, &fact(&doc, &FactKey::LogitsLossWords).unwrap()), "kept");
        assert!(Arc::ptr_eq(&precision, &fact(&doc, &FactKey::Precision).unwrap()), "kept");
        // A loss word typed (and deleted), the precision set: read again.
        assert!(doc.replace("p + 2e-10)", "p + from_logits)"));
        let now = fact(&doc, &FactKey::LogitsLossWords).unwrap();
        assert_eq!(*now, Fact::Names(vec!["cross_entropy".to_string(), "from_logits".to_string()]));
        assert!(doc.replace("p + from_logits)", "p + 2e-10)"));
        assert_eq!(fact(&doc, &FactKey::LogitsLossWords).unwrap(), words);
        assert!(doc.replace(
            "return torch.log(p + 2e-10)",
            "torch.set_default_dtype(torch.float16)\n    return torch.log(p + 1e-10)"
        ));
        assert!(!Arc::ptr_eq(&precision, &fact(&doc, &FactKey::Precision).unwrap()), "read again");
        // Each step's findings were those of a fresh analysis ([`Doc::edit`]).
    }

    /// `n` modules whose forward returns a softmax, each followed by a loss that gives a softmax
    /// to `nn.CrossEntropyLoss` (`benches/pathological.py modules`): every forward reads the
    /// file's loss flows.
    fn modules(n: usize) -> String {
        let mut src = String::from("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n");
        for i in 0..n {
            src.push_str(&format!(
                "class Net{i}(nn.Module):\n    def forward(self, x):\n        return F.softmax(self.fc(x), dim=-1)\n\n\n\
                 def loss{i}(logits, y):\n    crit = nn.CrossEntropyLoss()\n    \
                 return crit(torch.softmax(logits, dim=1), y)\n\n\n"
            ));
        }
        src
    }

    /// A keystroke inside one loss of a file where more functions than the shortcut takes read
    /// the file's loss flows analyzes that loss alone: each reader used its slice of the flows,
    /// which is the same (it analyzed the whole file while each used all the flows).
    #[test]
    fn a_keystroke_in_one_loss_leaves_the_readers_of_other_flows() {
        let mut doc = Doc::new(&modules(MAX_DEPENDENTS + 4));
        let count = doc.smells.len();
        let loss = doc.text.find("def loss5(").unwrap();
        let at = loss + doc.text[loss..].find("crit = ").unwrap() + "crit = ".len();
        assert!(doc.edit(at, at, "x"), "a shortcut");
        assert!(doc.edit(at, at + 1, ""), "a shortcut");
        assert_eq!(doc.smells.len(), count);
    }

    /// A loss edited so its flow from a module changes: the module's forward, which read that
    /// flow, is analyzed again with it (its finding goes, and comes back).
    #[test]
    fn a_changed_flow_reaches_the_function_that_read_it() {
        let src = "import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n\
                   class Net(nn.Module):\n    def forward(self, x):\n        return F.softmax(self.fc(x), dim=-1)\n\n\n\
                   def step(x, y):\n    net = Net()\n    crit = nn.CrossEntropyLoss()\n    return crit(net(x), y)\n";
        let mut doc = Doc::new(src);
        let at_forward = |doc: &Doc| {
            let forward = doc.text.find("def forward").unwrap()..doc.text.find("def step").unwrap();
            doc.smells.iter().filter(|s| forward.contains(&s.span.start_byte)).map(|s| s.code).collect::<Vec<_>>()
        };
        let found = at_forward(&doc);
        assert!(!found.is_empty(), "a softmax given to CrossEntropyLoss: {:#?}", doc.smells);
        assert!(doc.replace("return crit(net(x), y)", "return crit(torch.randn(3), y)"), "a shortcut");
        assert!(at_forward(&doc).is_empty(), "{:#?}", doc.smells);
        assert!(doc.replace("return crit(torch.randn(3), y)", "return crit(net(x), y)"));
        assert_eq!(at_forward(&doc), found);
    }
}
