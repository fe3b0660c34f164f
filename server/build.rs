//! Embeds every rule folder under `queries/python/` into the binary: its query and doc as strings,
//! its `rule.rs` as a module, all listed in `RULES` in code order.

use std::fmt::Write;
use std::path::Path;

fn main() {
    // Read when the script runs, not when it compiles: a checkout at another path that shares the
    // target folder (pre-commit's clone, CARGO_TARGET_DIR) reuses this compiled script.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("queries").join("python");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut dirs: Vec<_> = std::fs::read_dir(&root)
        .expect("queries/python exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let mut modules = String::new();
    let mut table = String::from("pub static RULES: &[Rule] = &[\n");
    for dir in &dirs {
        let (code, name) = dir.split_once('-').unwrap_or_else(|| panic!("rule folder {dir} is not named CODE-name"));
        let module = code.to_ascii_lowercase();
        let path = root.join(dir);
        for file in ["query.scm", "rule.md", "rule.rs", "bad.py", "good.py"] {
            assert!(path.join(file).is_file(), "rule folder {dir} lacks {file}");
        }
        let p = |f: &str| format!("{:?}", path.join(f).display().to_string());
        writeln!(modules, "#[path = {}]\npub mod {module};", p("rule.rs")).unwrap();
        writeln!(
            table,
            "    Rule {{ code: {code:?}, name: {name:?}, dir: {dir:?}, query: include_str!({}), doc: include_str!({}), captures: {module}::CAPTURES, fixes: {module}::FIXES, check: {module}::check }},",
            p("query.scm"),
            p("rule.md"),
        )
        .unwrap();
    }
    table.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("rules_gen.rs");
    std::fs::write(out, modules + &table).unwrap();
}
