//! What compiling the rules' query costs: every rule's `query.scm` compiled together, as the
//! CLI does once per run and the language server once per process, and each rule's share (the
//! time of all the rules without it, subtracted from the time of all). tree-sitter analyzes
//! every pattern when a query is compiled; for a small file this is most of `nanlint check`.
//!
//!   cargo bench --bench query_compile
//!
//! Each share is the median of 15 differences, the two compilations of a pair run back to back,
//! so that a machine whose speed drifts moves both. Prints milliseconds of wall time (one
//! thread) and asserts nothing about them.

use std::time::Instant;

use nanlint::rules::ALL;
use nanlint::rules::query::{RuleQuery, compile_from};

const RUNS: usize = 15;

/// Milliseconds to compile `rules` together.
fn compile_ms(rules: &[RuleQuery]) -> f64 {
    let start = Instant::now();
    let compiled = compile_from(rules).expect("the embedded queries compile");
    let ms = start.elapsed().as_secs_f64() * 1e3;
    std::hint::black_box(compiled);
    ms
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let all: Vec<RuleQuery> = ALL.iter().map(|r| RuleQuery::from(*r)).collect();
    let mut wholes = Vec::new();
    let mut rows = Vec::new();
    for rule in ALL {
        let rest: Vec<RuleQuery> = all.iter().copied().filter(|r| r.code != rule.code).collect();
        let mut shares = Vec::new();
        for _ in 0..RUNS {
            let whole = compile_ms(&all);
            shares.push(whole - compile_ms(&rest));
            wholes.push(whole);
        }
        let patterns = compile_from(&[RuleQuery::from(*rule)]).expect("compiles").pattern_rule.len();
        rows.push((rule.code, patterns, median(shares)));
    }
    println!("every rule's query compiled together: {:.2} ms (median of {})", median(wholes), RUNS * ALL.len());
    println!("{:<8} {:>10} {:>12}", "rule", "patterns", "share (ms)");
    for (code, patterns, share) in rows {
        println!("{code:<8} {patterns:>10} {share:>12.2}");
    }
}
