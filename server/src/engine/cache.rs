//! Findings per function, reused across edits of a document.
//!
//! A function's findings depend on its own text (and indentation, and the class it sits in),
//! the file's imports, the rules' trigger words, the settings, and the facts the model consulted
//! while analyzing it: module-level names, attributes set on `self`, other functions' summaries
//! (see `semantic::facts`). Each cached function keeps the facts it used with their hashes; it
//! is reused, moved to where it now stands, while its text is unchanged and every one of those
//! facts still hashes the same. Module-level statements and class bodies are analyzed every time.
//! The facts themselves are kept too ([`PriorFacts`]): checking whether a cached function still
//! holds then costs hashing the definitions its facts come from, not computing them again.
//! The incremental property test (`tests/incremental.rs`) checks that this always equals a fresh
//! analysis.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use tree_sitter::{Node, Tree};

use super::{Piece, RuleSet, Target, Triggers, finish, pieces, run_rules};
use crate::semantic::imports::Imports;
use crate::semantic::{Dependency, FactKey, Model, PriorFacts};
use crate::settings::Settings;
use crate::smell::Smell;
use crate::syntax::FIELD;

#[derive(Default)]
pub struct UnitCache {
    imports: Option<Arc<Imports>>,
    triggers: Triggers,
    settings: Option<Settings>,
    /// Functions with identical text (boilerplate methods) share a key, so each key holds a list.
    units: HashMap<UnitKey, Vec<CachedUnit>>,
    /// The facts the last analysis of module-level code and class bodies used.
    loose_dependencies: Vec<Dependency>,
    /// The facts the last analyses computed, for the next to reuse where they still hold.
    prior: Arc<PriorFacts>,
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
    dependencies: Vec<Dependency>,
}

/// Below this many functions to analyze, one thread does it: handing work to a second core costs
/// more than a few functions (about 10 to 50 µs each).
const PARALLEL_UNITS: usize = 64;

impl UnitCache {
    /// The same findings as `analyze(src, tree, settings)`, reusing unchanged functions.
    pub fn analyze(&mut self, src: &str, tree: &Tree, settings: &Settings) -> Vec<Smell> {
        let rules = RuleSet::all();
        let imports = Arc::new(Imports::collect(tree.root_node(), src));
        let triggers = rules.triggers(&imports, src);
        if self.imports.as_deref() != Some(&*imports)
            || self.settings.as_ref() != Some(settings)
            || self.triggers != triggers
        {
            self.units.clear();
            self.prior = Arc::default();
            self.imports = Some(imports.clone());
            self.triggers = triggers.clone();
            self.settings = Some(settings.clone());
        }
        let model = Model::new(src, tree, imports.clone()).with_prior(self.prior.clone());
        let mut all = Vec::new();
        pieces(tree.root_node(), &mut all);
        let mut loose = Vec::new();
        // Per function, in order: its key, its cached findings (or none yet) and whether they are
        // final.
        let mut slots: Vec<(UnitKey, CachedUnit, bool)> = Vec::new();
        let mut misses = Vec::new();
        for piece in all {
            let unit = match piece {
                Piece::Loose(target) => {
                    loose.push(target);
                    continue;
                }
                // A function with a syntax error in it is parsed according to its surroundings
                // (error recovery), so its text alone does not determine its findings.
                Piece::Unit(unit) if unit.has_error() => {
                    loose.push(Target { node: unit, range: None });
                    continue;
                }
                Piece::Unit(unit) => unit,
            };
            // The class whose method this is, as the analysis sees it. Not the last class header
            // before it: a nested class (`class C:` inside the body) ends before its outer class's
            // later methods do.
            let def = if unit.kind() == "decorated_definition" {
                unit.child_by_field_id(FIELD.definition)
            } else {
                Some(unit)
            };
            let class = def
                .and_then(|d| model.class_of_method(d))
                .and_then(|c| c.child_by_field_id(FIELD.name))
                .map(|n| model.text(n).to_string());
            let text = &src[unit.byte_range()];
            let key = UnitKey { hash: hash_text(text), len: text.len(), column: unit.start_position().column, class };
            let (start_byte, start_row) = (unit.start_byte(), unit.start_position().row);
            let reused = self.take_valid(&key, &model);
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
                None if !triggers.mentioned_in(text) => {
                    (CachedUnit { start_byte, start_row, smells: Vec::new(), dependencies: Vec::new() }, true)
                }
                None => {
                    misses.push(unit);
                    (CachedUnit { start_byte, start_row, smells: Vec::new(), dependencies: Vec::new() }, false)
                }
            };
            slots.push((key, cached, analyzed));
        }
        let (found, mut prior) = analyze_units(rules, &model, settings, &misses, &triggers, &self.prior);
        let mut found = found.into_iter();
        let mut smells = Vec::new();
        let mut fresh_units: HashMap<UnitKey, Vec<CachedUnit>> = HashMap::with_capacity(self.units.len());
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
        prior.extend(model.take_prior());
        self.prior = Arc::new(prior);
        finish(src, &mut smells);
        smells
    }

    /// A cached function with this key whose dependencies still hold.
    fn take_valid(&mut self, key: &UnitKey, model: &Model) -> Option<CachedUnit> {
        let list = self.units.get_mut(key)?;
        let at = list.iter().position(|c| model.still_holds(&c.dependencies))?;
        Some(list.swap_remove(at))
    }
}

/// One function's findings and the facts its analysis used.
type UnitFindings = (Vec<Smell>, Vec<Dependency>);

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
        let smells = run_rules(rules, model, settings, &[Target { node: *unit, range: None }], triggers);
        let mut deps = model.take_dependencies();
        deps.sort_by(|a, b| format!("{:?}", a.key).cmp(&format!("{:?}", b.key)));
        deps.dedup();
        (smells, deps)
    };
    if units.len() < PARALLEL_UNITS || rayon::current_num_threads() < 2 {
        return (units.iter().map(|u| one(model, u)).collect(), PriorFacts::default());
    }
    use rayon::prelude::*;
    let chunk = units.len().div_ceil(rayon::current_num_threads() * 4).max(PARALLEL_UNITS / 4);
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
/// edit in the old text ([`unit_around`] on the old tree, before `Tree::edit`); `unit_imports`
/// says whether its old text mentioned `import`.
#[derive(Clone, Debug)]
pub struct EditSite {
    pub start: usize,
    pub old_end: usize,
    pub new_end: usize,
    pub rows: isize,
    pub unit: Range<usize>,
    pub unit_imports: bool,
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
        let def =
            if child.kind() == "decorated_definition" { child.child_by_field_id(FIELD.definition)? } else { child };
        match def.kind() {
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
    /// The findings after an edit inside one function, from `previous` (the findings before it)
    /// and a fresh analysis of that function alone; `None` when the shortcut does not apply and
    /// [`UnitCache::analyze`] must run. It applies when the edit lies inside the function that
    /// was at `site.unit` before it, that function still starts there and ends where the edit
    /// moved its end, the reparse changed the tree nowhere else (`old_tree` is the edited old
    /// tree), the imports, triggers and settings are those of the last analysis, and the facts
    /// the edited function contributes (its summary, the attributes it sets on `self`) hash as
    /// before wherever another function used them. Everything else kept its text, so the other
    /// findings only move.
    pub fn reanalyze_edit(
        &mut self,
        src: &str,
        old_tree: &Tree,
        tree: &Tree,
        settings: &Settings,
        previous: &[Smell],
        site: &EditSite,
    ) -> Option<Vec<Smell>> {
        let old_unit = site.unit.clone();
        if self.settings.as_ref() != Some(settings) {
            return None;
        }
        let delta = site.new_end as isize - site.old_end as isize;
        let unit = unit_node_around(tree.root_node(), site.start, site.new_end)?;
        if unit.start_byte() != old_unit.start || unit.end_byte() as isize != old_unit.end as isize + delta {
            return None;
        }
        // Where either tree has a syntax error, an incremental reparse may recover differently
        // elsewhere; without errors the text outside the function, unchanged, parses the same.
        let erroneous = old_tree.root_node().has_error() || tree.root_node().has_error();
        if erroneous
            && old_tree.changed_ranges(tree).any(|r| r.start_byte < unit.start_byte() || r.end_byte > unit.end_byte())
        {
            return None;
        }
        // Imports are collected at module level and in bodies that mention `import`: unless the
        // function does (before or after the edit), the table is the last analysis's.
        let imports = self.imports.clone()?;
        if site.unit_imports || src[unit.byte_range()].contains("import") || old_unit.start < imports.insert_at() {
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
        let model = Model::new(src, tree, imports.clone()).with_prior(self.prior.clone());
        // Facts the edited function contributes must hash as before wherever they were used:
        // its summary, and the attributes of its class. An edit of its name changes which facts
        // those are: not handled here.
        let def = if unit.kind() == "decorated_definition" { unit.child_by_field_id(FIELD.definition)? } else { unit };
        let name = def.child_by_field_id(FIELD.name)?;
        if name.end_byte() >= site.start && name.start_byte() <= site.new_end {
            return None;
        }
        let qualified = model.qualified_name(def);
        let class = model.class_of_method(def).and_then(|c| c.child_by_field_id(FIELD.name)).map(|n| model.text(n));
        let contributes = |key: &FactKey| match key {
            FactKey::Function(q) => Some(q) == qualified.as_ref(),
            FactKey::Attribute { class: c, .. } => Some(c.as_str()) == class,
            FactKey::Global(_) => false,
            // API contracts (issue 10): the function's own loss calls; the module classes (a
            // forward's signature) and the precision settings (any function may set them) are
            // cheap to recompute; the file's flows are the union of the `Flows` facts, each
            // recorded beside it.
            FactKey::Flows(q) => Some(q) == qualified.as_ref(),
            FactKey::ModuleClasses
            | FactKey::Precision
            | FactKey::LossHolders
            | FactKey::LogitsLossWords
            | FactKey::FreshName(_) => true,
            FactKey::FileFlows => false,
        };
        let used =
            self.units.values().flatten().flat_map(|c| c.dependencies.iter()).chain(self.loose_dependencies.iter());
        let mut file_flows = false;
        let mut own_flows = false;
        for d in used {
            if contributes(&d.key) && model.fact_hash(&d.key) != d.hash {
                return None;
            }
            file_flows |= d.key == FactKey::FileFlows;
            own_flows |= matches!(&d.key, FactKey::Flows(q) if Some(q) == qualified.as_ref());
        }
        // The file's flows ask a function only when its text mentions a loss: one that starts to
        // is a new part of them.
        if file_flows && !own_flows && model.mentions_a_loss(&src[unit.byte_range()]) {
            return None;
        }
        let triggers = self.triggers.clone();
        model.take_dependencies();
        let mut fresh = if triggers.mentioned_in(&src[unit.byte_range()]) {
            run_rules(rules, &model, settings, &[Target { node: unit, range: None }], &triggers)
        } else {
            Vec::new()
        };
        // The edited function's own cache entry is refreshed by the next full analysis; its
        // dependencies now are these.
        let _ = model.take_dependencies();
        finish(src, &mut fresh);
        // A finding after the edit on the line the edit ends on (a statement after the function
        // on its last line, in broken code) moved along that line: its column changed too.
        let edit_line = crate::text::line_start(src, site.new_end);
        let recolumn = |span: &mut crate::syntax::Span| {
            if span.start_byte >= site.new_end && crate::text::line_start(src, span.start_byte) == edit_line {
                span.start.column = span.start_byte - edit_line;
            }
            if span.end_byte >= site.new_end && crate::text::line_start(src, span.end_byte) == edit_line {
                span.end.column = span.end_byte - edit_line;
            }
        };
        let moved = |s: &Smell| {
            let mut s = s.clone();
            s.move_from(site.old_end, delta, site.rows);
            recolumn(&mut s.span);
            if let Some(r) = s.related.as_mut() {
                recolumn(&mut r.span);
            }
            s
        };
        let before = previous.partition_point(|s| s.span.start_byte < old_unit.start);
        let after = previous.partition_point(|s| s.span.start_byte < old_unit.end);
        let mut smells = Vec::with_capacity(previous.len() + fresh.len());
        smells.extend(previous[..before].iter().map(moved));
        smells.append(&mut fresh);
        smells.extend(previous[after..].iter().map(moved));
        Some(smells)
    }
}

fn hash_text(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}
