//! Arbitrary bytes as a Python file, fixed with `--fix` and `--fix --unsafe-fixes`: the edits of
//! a round are disjoint and in range, a fix adds no syntax error, and a second fix-all changes
//! nothing (the invariants `tests/fuzz.rs` checks on generated programs).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nanlint_fuzz::fix_invariants("fuzz.py", data);
});
