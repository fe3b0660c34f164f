//! Applying fixes to a whole source: the loop `nanlint check --fix` and the server's
//! `source.fixAll` share.

use super::{check_source, parse};
use crate::settings::Settings;
use crate::smell::{Applicability, Edit, Fix, Smell, apply_edits};

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
        let (edits, count) = non_overlapping(&fixes);
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
pub fn non_overlapping(fixes: &[&Fix]) -> (Vec<Edit>, usize) {
    let mut chosen: Vec<Edit> = Vec::new();
    let mut count = 0;
    for fix in fixes {
        let fresh: Vec<&Edit> = fix.edits.iter().filter(|e| !chosen.contains(e)).collect();
        let overlaps = fresh.iter().any(|e| {
            chosen.iter().any(|c| {
                e.start < c.end && c.start < e.end || (e.start == c.start && (e.start == e.end || c.start == c.end))
            })
        });
        if overlaps {
            continue;
        }
        chosen.extend(fresh.into_iter().cloned());
        count += 1;
    }
    chosen.sort();
    (chosen, count)
}
