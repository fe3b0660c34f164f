//! Arbitrary bytes as a Jupyter notebook (`.ipynb` JSON): checked, rendered, fixed, and fixed
//! again without change.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nanlint_fuzz::check_and_render("fuzz.ipynb", data);
    nanlint_fuzz::fix_invariants("fuzz.ipynb", data);
});
