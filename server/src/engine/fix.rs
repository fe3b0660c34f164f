//! Applying fixes to a whole source: the loop `nanlint check --fix` and the server's
//! `source.fixAll` share.

use std::collections::BTreeMap;

use super::{check_source, parse};
use crate::settings::Settings;
use crate::smell::{Applicability, Edit, Fix, Smell, apply_edits};
use crate::syntax::KindName;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FixMode {
    #[default]
    Off,
    Safe,
    Unsafe,
}

impl FixMode {
    pub fn allows(self, applicability: Applicability) -> bool {
        match self {
            FixMode::Off => false,
            FixMode::Safe => applicability == Applicability::Safe,
            FixMode::Unsafe => true,
        }
    }
}

pub struct FixOutcome {
    pub source: String,
    pub fixed: usize,
    pub remaining: Vec<Smell>,
    /// Why some fix was not applied, if one was refused.
    pub refused: Option<String>,
}

/// Applies the preferred allowed fix of every smell, re-checking after each round (fixes can
/// overlap, and an import added once serves the next). A round that would add a syntax error is
/// refused and stops fixing.
pub fn fix_source(source: &str, settings: &Settings, mode: FixMode) -> FixOutcome {
    fix_source_with(source, settings, mode, &|s: &Smell| s.fixes.first())
}

/// [`fix_source`] with `choose` picking each smell's fix among its alternatives (the command
/// line's `--fix-choice`); the fix it picks is applied if `mode` allows it.
pub fn fix_source_with(
    source: &str,
    settings: &Settings,
    mode: FixMode,
    choose: &dyn for<'s> Fn(&'s Smell) -> Option<&'s Fix>,
) -> FixOutcome {
    fix_source_in(source, settings, mode, &|_: &str, s: &Smell| choose(s))
}

/// [`fix_source_with`] with `choose` also given the source the smell was found in (each round's
/// text), so it can refuse fixes by where their edits land (a notebook's cell boundaries).
pub fn fix_source_in(
    source: &str,
    settings: &Settings,
    mode: FixMode,
    choose: &dyn for<'s> Fn(&str, &'s Smell) -> Option<&'s Fix>,
) -> FixOutcome {
    const MAX_ROUNDS: usize = 10;
    let mut current = source.to_string();
    let mut fixed = 0;
    let mut refused = None;
    let mut had_errors = parse(&current).root_node().has_error();
    for _ in 0..MAX_ROUNDS {
        let smells = check_source(&current, settings);
        let fixes: Vec<&Fix> =
            smells.iter().filter_map(|s| choose(&current, s)).filter(|f| mode.allows(f.applicability)).collect();
        // A fix that binds a new name: the scope it lands in, read from this round's text.
        let tree = fixes.iter().flat_map(|f| &f.edits).any(|e| inserted_binding(e).is_some()).then(|| parse(&current));
        let scope_at = |at: usize| tree.as_ref().map_or(0, |t| scope_start(t, at));
        let (edits, count) = non_overlapping_in(&fixes, &scope_at);
        if count == 0 {
            break;
        }
        let next = apply_edits(&current, &edits);
        let has_errors = parse(&next).root_node().has_error();
        if has_errors && !had_errors {
            refused = Some("a fix would introduce a syntax error; not applied".to_string());
            break;
        }
        had_errors = has_errors;
        current = next;
        fixed += count;
    }
    let remaining = check_source(&current, settings);
    FixOutcome { source: current, fixed, remaining, refused }
}

/// The edits of as many fixes as fit without overlapping (one round of [`fix_source_in`]), sorted
/// by start, and how many fixes they come from; identical insertions (the same import added by two
/// fixes) are kept once. Public so that `tests/fuzz.rs` can check that no two of them overlap.
///
/// The chosen edits are disjoint and kept by start, so a new edit can only overlap the chosen
/// edit starting at or before it and the next one: two lookups per edit. (Comparing every pair
/// took most of `--fix` on a file with 280,000 fixes.)
///
/// A fix that binds a new name first (`logits = h @ w1` inserted before `p = softmax(logits)`)
/// picked that name on the text before the round, so a second fix binding the same name in the
/// same scope (`logits = h @ w2`) would rebind it under the first one's readers: it is left for
/// a later round, where the name is taken and it picks another (`logits_2`). The same insertion
/// made by two fixes (two findings reading one softmax) is one binding, kept once. Here every
/// binding counts as in one scope; [`non_overlapping_in`] tells scopes apart.
pub fn non_overlapping(fixes: &[&Fix]) -> (Vec<Edit>, usize) {
    non_overlapping_in(fixes, &|_| 0)
}

/// [`non_overlapping`], with `scope_at` giving the start of the scope (function, class, lambda or
/// module) that holds a byte of the text: bindings of one name in different scopes do not clash.
pub fn non_overlapping_in(fixes: &[&Fix], scope_at: &dyn Fn(usize) -> usize) -> (Vec<Edit>, usize) {
    let mut chosen: BTreeMap<usize, Edit> = BTreeMap::new();
    let mut bound: Vec<(usize, String)> = Vec::new();
    let mut count = 0;
    for fix in fixes {
        let fresh: Vec<&Edit> = fix.edits.iter().filter(|e| chosen.get(&e.start) != Some(*e)).collect();
        if fresh.iter().any(|e| overlaps_chosen(&chosen, e)) {
            continue;
        }
        let binds: Vec<(usize, &str)> =
            fresh.iter().filter_map(|e| inserted_binding(e).map(|name| (scope_at(e.start), name))).collect();
        if binds.iter().any(|(scope, name)| bound.iter().any(|(s, b)| s == scope && b == name)) {
            continue;
        }
        bound.extend(binds.into_iter().map(|(scope, name)| (scope, name.to_string())));
        for e in fresh {
            chosen.insert(e.start, e.clone());
        }
        count += 1;
    }
    (chosen.into_values().collect(), count)
}

/// The start of the innermost function, class or lambda of `tree` holding byte `at` (0, the
/// module's, outside any).
fn scope_start(tree: &tree_sitter::Tree, at: usize) -> usize {
    let mut node = tree.root_node().descendant_for_byte_range(at, at);
    while let Some(n) = node {
        if crate::syntax::is_scope(n.kind_name()) {
            return n.start_byte();
        }
        node = n.parent();
    }
    0
}

/// The name an inserted statement binds: `name` for `    name = value\n` inserted (an edit
/// that replaces nothing), as the log-space fixes bind an expression's logits first.
fn inserted_binding(e: &Edit) -> Option<&str> {
    if e.start != e.end {
        return None;
    }
    let text = e.content.trim_start_matches([' ', '\t']);
    let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    let (name, rest) = text.split_at(end);
    (!name.is_empty() && rest.starts_with(" = ")).then_some(name)
}

/// `e` overlaps an edit of `chosen` (disjoint edits by start), or is a second insertion where
/// one starts.
fn overlaps_chosen(chosen: &BTreeMap<usize, Edit>, e: &Edit) -> bool {
    let clash =
        |c: &Edit| e.start < c.end && c.start < e.end || (e.start == c.start && (e.start == e.end || c.start == c.end));
    chosen.range(..=e.start).next_back().is_some_and(|(_, c)| clash(c))
        || chosen.range(e.start + 1..).next().is_some_and(|(_, c)| clash(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(edits: &[(usize, usize, &str)]) -> Fix {
        Fix {
            title: "t".into(),
            applicability: Applicability::Safe,
            edits: edits.iter().map(|&(start, end, c)| Edit { start, end, content: c.into() }).collect(),
            whole: false,
        }
    }

    #[test]
    fn overlapping_fixes_are_left_for_a_later_round() {
        let import = (0, 0, "import torch\n");
        let fixes = [
            fix(&[import, (10, 20, "a")]),
            fix(&[(15, 25, "b")]),            // overlaps the first
            fix(&[import, (20, 30, "c")]),    // touches it only; shares its import
            fix(&[(0, 0, "import numpy\n")]), // a second insertion where one is
            fix(&[(5, 12, "d")]),             // ends inside the first
            fix(&[(30, 30, "e")]),            // an insertion where the third ends
            fix(&[(40, 45, "f"), (46, 50, "g")]),
        ];
        let refs: Vec<&Fix> = fixes.iter().collect();
        let (edits, count) = non_overlapping(&refs);
        assert_eq!(count, 4);
        let spans: Vec<(usize, usize)> = edits.iter().map(|e| (e.start, e.end)).collect();
        assert_eq!(spans, [(0, 0), (10, 20), (20, 30), (30, 30), (40, 45), (46, 50)]);
    }

    /// Regression (a helper's review): two softmaxes of expressions, each bound to a new name
    /// before it by a log-space fix that picked `logits` on the same text; applied in one round,
    /// the second binding took the first's place under its log: `log_softmax(h @ w2)` twice.
    #[test]
    fn two_fixes_binding_the_same_new_name_take_two_rounds() {
        let src = "import torch\nimport torch.nn.functional as F\n\n\ndef f(h, w1, w2):\n    p = F.softmax(h @ w1, dim=1)\n    q = F.softmax(h @ w2, dim=1)\n    return torch.log(p) + torch.log(q)\n";
        let out = fix_source(src, &Settings::default(), FixMode::Safe);
        assert_eq!(out.fixed, 2, "{}", out.source);
        assert!(
            out.source.contains("    logits = h @ w1\n    p = F.softmax(logits, dim=1)\n")
                && out.source.contains("    logits_2 = h @ w2\n    q = F.softmax(logits_2, dim=1)\n")
                && out.source.contains("return F.log_softmax(logits, dim=1) + F.log_softmax(logits_2, dim=1)\n"),
            "{}",
            out.source
        );
    }

    #[test]
    fn one_insertion_two_fixes_share_is_one_binding() {
        let bind = (0, 0, "    logits = h @ w\n");
        let fixes = [fix(&[bind, (10, 20, "a")]), fix(&[bind, (30, 40, "b")]), fix(&[(5, 5, "    logits = x\n")])];
        let refs: Vec<&Fix> = fixes.iter().collect();
        let (edits, count) = non_overlapping(&refs);
        assert_eq!(count, 2);
        assert_eq!(edits.len(), 3);
    }

    /// Regression (the fuzz campaign, a mutated fixture): the keywords of a call broken by a
    /// typo sat in an ERROR node, NL304 saw no `eps=`, and each round appended `eps=1e-4`, ten
    /// in one `--fix`. A finding whose code holds a syntax error is reported without fixes; the
    /// same call written correctly is fixed once.
    #[test]
    fn a_finding_holding_a_syntax_error_is_not_fixed() {
        let head =
            "import torch.nn as nn\nfrom torch import optim\n\n\ndef f(model: nn.Module):\n    model = model.half()\n";
        let broken = format!("{head}    return optim.Adam(model.parameters()[ lr=1e-3)\n");
        let out = fix_source(&broken, &Settings::default(), FixMode::Unsafe);
        assert_eq!((out.source.as_str(), out.fixed), (broken.as_str(), 0));
        let nl304: Vec<_> = out.remaining.iter().filter(|s| s.code == "NL304").collect();
        assert!(nl304.len() == 1 && nl304[0].fixes.is_empty(), "{nl304:?}");
        let good = format!("{head}    return optim.Adam(model.parameters(), lr=1e-3)\n");
        let out = fix_source(&good, &Settings::default(), FixMode::Unsafe);
        assert_eq!(out.fixed, 1);
        assert!(out.source.ends_with("lr=1e-3, eps=1e-4)\n"), "{}", out.source);
        assert_eq!(fix_source(&out.source, &Settings::default(), FixMode::Unsafe).fixed, 0);
    }
}
