//! Arbitrary bytes as a Python file through the path of `nanlint check`: decoding (PEP 263,
//! BOM, invalid UTF-8), parsing, analysis, then every output format. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    nanlint_fuzz::check_and_render("fuzz.py", data);
});
