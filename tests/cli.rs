//! The `nanlint` binary end to end, in temporary folders: exit codes, output formats, fixes,
//! configuration, file discovery.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const SMELLY: &str = "import torch\np = torch.relu(x)\ny = torch.log(p)\n";
const CLEAN: &str = "import torch\np = torch.relu(x)\ny = torch.log(p + 1e-7)\n";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn nanlint(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_nanlint"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("the nanlint binary runs");
    Run {
        code: out.status.code().expect("nanlint exited normally, not by a signal"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// A temporary folder holding `files` (path, contents).
fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, contents) in files {
        write(dir.path(), path, contents.as_bytes());
    }
    dir
}

fn write(dir: &Path, path: &str, contents: &[u8]) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap()
}

fn json(run: &Run) -> Vec<Value> {
    serde_json::from_str::<Value>(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", run.stdout))
        .as_array()
        .expect("a JSON array")
        .clone()
}

/// Asserts a usage or configuration error: exit 2, nothing on stdout, one line on stderr
/// containing `needle`.
fn assert_usage_error(run: &Run, needle: &str) {
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(run.stderr.lines().count(), 1, "expected one line on stderr, got:\n{}", run.stderr);
    assert!(run.stderr.starts_with("nanlint: error: "), "{}", run.stderr);
    assert!(run.stderr.contains(needle), "{needle:?} not in {}", run.stderr);
}

#[test]
fn exit_codes_clean_and_findings() {
    let dir = project(&[("clean.py", CLEAN), ("smelly.py", SMELLY)]);
    let clean = nanlint(dir.path(), &["check", "clean.py"]);
    assert_eq!((clean.code, clean.stdout.as_str(), clean.stderr.as_str()), (0, "All checks passed!\n", ""));
    let smelly = nanlint(dir.path(), &["check", "smelly.py"]);
    assert_eq!(smelly.code, 1, "{}", smelly.stderr);
    assert_eq!(smelly.stderr, "");
    // The default path is the current folder.
    assert_eq!(nanlint(dir.path(), &["check"]).code, 1);
}

#[test]
fn usage_and_configuration_errors_exit_2_with_one_line() {
    let dir = project(&[("a.py", SMELLY)]);
    assert_usage_error(&nanlint(dir.path(), &["check", "missing.py"]), "missing.py: no such file or directory");
    // A missing path among good ones still fails before anything is checked.
    assert_usage_error(&nanlint(dir.path(), &["check", "a.py", "missing/"]), "missing");
    assert_usage_error(
        &nanlint(dir.path(), &["check", "a.py", "--epsilon", "2"]),
        "epsilon must be a number in (0, 1)",
    );
    assert_usage_error(&nanlint(dir.path(), &["check", "a.py", "--epsilon=0"]), "epsilon");
    assert_usage_error(&nanlint(dir.path(), &["check", "a.py", "--select", "NL-1"]), "invalid rule selector");

    let broken = project(&[("a.py", SMELLY), ("pyproject.toml", "[tool.nanlint\nselect = [\"NL\"]\n")]);
    assert_usage_error(&nanlint(broken.path(), &["check", "a.py"]), "pyproject.toml");
    let unknown = project(&[("a.py", SMELLY), ("pyproject.toml", "[tool.nanlint]\nepsilom = 1e-4\n")]);
    assert_usage_error(&nanlint(unknown.path(), &["check", "a.py"]), "unknown field `epsilom`");
    let bad_value = project(&[("a.py", SMELLY), ("pyproject.toml", "[tool.nanlint]\nepsilon = \"small\"\n")]);
    assert_usage_error(&nanlint(bad_value.path(), &["check", "a.py"]), "[tool.nanlint]");
}

#[test]
fn unparsable_flags_exit_2() {
    let dir = project(&[("a.py", SMELLY)]);
    assert_usage_error(&nanlint(dir.path(), &["check", "a.py", "--epsilon", "abc"]), "--epsilon");
    assert_usage_error(&nanlint(dir.path(), &["check", "--output-format", "xml", "a.py"]), "xml");
    assert_usage_error(&nanlint(dir.path(), &["chekc"]), "chekc");
    // Help and version are not errors.
    let help = nanlint(dir.path(), &["check", "--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("--unsafe-fixes"), "{}", help.stdout);
}

#[test]
fn concise_output() {
    let dir = project(&[
        ("b.py", "import numpy as np\nz = np.log(np.abs(q))\n"),
        (
            "a.py",
            "import torch\np = torch.softmax(z, dim=-1)\ny = torch.log(p)\nw = torch.log(p + 1e-7)  # fine\nv = torch.log10(p)\n",
        ),
    ]);
    let run = nanlint(dir.path(), &["check", "--output-format", "concise", "b.py", "a.py"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "a.py:3:5: NL101 `torch.log` of `p`, a softmax output that can reach 0: log(0) = -inf\n\
         a.py:5:5: NL101 `torch.log10` of `p`, a softmax output that can reach 0: log(0) = -inf\n\
         b.py:2:5: NL101 `np.log` of an absolute value, which can reach 0: log(0) = -inf\n\
         Found 3 smells.\n\
         3 fixes available with `--unsafe-fixes`.\n"
    );
}

#[test]
fn full_output() {
    let dir = project(&[("a.py", SMELLY)]);
    let run = nanlint(dir.path(), &["check", "a.py"]);
    assert_eq!(
        run.stdout,
        "a.py:3:5: NL101 `torch.log` of `p`, a ReLU output that can reach 0: log(0) = -inf\n  |\n\
         3 | y = torch.log(p)\n  |     ^^^^^^^^^^^^ NL101\n  |\n\
         \x20 = note: line 2: `p` is assigned a ReLU output here\n\
         \x20 = help: Raise `p` to at least 1e-7 (unsafe)\n\nFound 1 smell.\n1 fix available with `--unsafe-fixes`.\n"
    );
}

fn location(v: &Value) -> (u64, u64) {
    (v["row"].as_u64().expect("row is a number"), v["column"].as_u64().expect("column is a number"))
}

#[test]
fn json_schema() {
    let dir = project(&[("a.py", "import numpy as np\n\ndef f(p):\n    return -np.sum(p * np.log(p))\n")]);
    let run = nanlint(dir.path(), &["check", "--output-format", "json", "a.py"]);
    assert_eq!(run.code, 1);
    let entries = json(&run);
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    let mut keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        ["cell", "code", "end_location", "filename", "fix", "fixes", "location", "message", "noqa_row", "url"]
    );
    assert_eq!(e["code"], "NL101");
    assert!(e["message"].as_str().unwrap().starts_with("`np.log` of "));
    let filename = PathBuf::from(e["filename"].as_str().unwrap());
    assert!(filename.is_absolute(), "{filename:?}");
    assert_eq!(filename.canonicalize().unwrap(), dir.path().join("a.py").canonicalize().unwrap());
    assert_eq!(location(&e["location"]), (4, 24));
    assert_eq!(location(&e["end_location"]), (4, 33));
    assert_eq!(e["noqa_row"], 4);
    assert!(e["url"].as_str().unwrap().ends_with("/NL101-log-of-possibly-zero/rule.md"));

    let fixes = e["fixes"].as_array().unwrap();
    assert_eq!(fixes.len(), 2, "clip and xlogy");
    assert_eq!(e["fix"], fixes[0], "`fix` is the preferred (first) alternative");
    for fix in fixes {
        assert_eq!(fix["applicability"], "unsafe");
        assert!(fix["message"].is_string());
        for edit in fix["edits"].as_array().unwrap() {
            assert!(edit["content"].is_string());
            location(&edit["location"]);
            location(&edit["end_location"]);
        }
    }
    let clip = &fixes[0]["edits"][0];
    assert_eq!((clip["content"].as_str().unwrap(), location(&clip["location"])), ("np.clip(p, 1e-7, 1.0)", (4, 31)));
    // xlogy: the import (an insertion at the start of line 2), then the product.
    let xlogy = fixes[1]["edits"].as_array().unwrap();
    assert_eq!(xlogy[0]["content"], "from scipy.special import xlogy\n");
    assert_eq!((location(&xlogy[0]["location"]), location(&xlogy[0]["end_location"])), ((2, 1), (2, 1)));
    assert_eq!(xlogy[1]["content"], "xlogy(p, p)");
    assert_eq!((location(&xlogy[1]["location"]), location(&xlogy[1]["end_location"])), ((4, 20), (4, 33)));

    // Nothing found: an empty array, no summary.
    let clean = project(&[("a.py", CLEAN)]);
    let run = nanlint(clean.path(), &["check", "--output-format", "json"]);
    assert_eq!((run.code, json(&run).len()), (0, 0));
}

#[test]
fn json_columns_count_characters() {
    // Three CJK characters (3 bytes each) and an emoji (4 bytes, 2 UTF-16 units) before the smell.
    let dir = project(&[("u.py", "import torch\np = torch.rand(3)\ns = \"日本語😀\"; y = torch.log(p)\n")]);
    let run = nanlint(dir.path(), &["check", "--output-format", "json", "u.py"]);
    let e = &json(&run)[0];
    assert_eq!(location(&e["location"]), (3, 17));
    assert_eq!(location(&e["end_location"]), (3, 29));
    let edit = &e["fix"]["edits"][0];
    assert_eq!((location(&edit["location"]), location(&edit["end_location"])), ((3, 27), (3, 28)));
    let concise = nanlint(dir.path(), &["check", "--output-format", "concise", "u.py"]);
    assert!(concise.stdout.starts_with("u.py:3:17: NL101 "), "{}", concise.stdout);
}

#[test]
fn fix_alone_applies_no_unsafe_fix() {
    let dir = project(&[("a.py", SMELLY)]);
    let run = nanlint(dir.path(), &["check", "--fix", "a.py"]);
    assert_eq!(run.code, 1);
    assert_eq!(read(dir.path(), "a.py"), SMELLY);
    assert!(run.stdout.ends_with("Found 1 smell.\n1 fix available with `--unsafe-fixes`.\n"), "{}", run.stdout);
}

#[test]
fn unsafe_fixes_rewrite_the_file() {
    let original = "import torch\n\n\ndef loss(z: torch.Tensor, y):\n    p = torch.softmax(z, dim=-1)\n    \
                    return -(y * torch.log(p)).sum(), torch.log(z)\n";
    let dir = project(&[("a.py", original), ("b.py", CLEAN)]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path().join("a.py"), std::fs::Permissions::from_mode(0o751)).unwrap();
    }
    let run = nanlint(dir.path(), &["check", "--unsafe-fixes", "."]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "Found 2 smells (2 fixed, 0 remaining).\n");
    assert_eq!(
        read(dir.path(), "a.py"),
        "import torch\n\n\ndef loss(z: torch.Tensor, y):\n    p = torch.softmax(z, dim=-1)\n    \
         return -(y * torch.log(torch.clamp(p, 1e-7, 1.0))).sum(), torch.log(torch.clamp(z, min=1e-7))\n"
    );
    assert_eq!(read(dir.path(), "b.py"), CLEAN, "a clean file was rewritten");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("a.py")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o751, "permissions changed");
    }
    // No temporary file is left behind.
    let mut names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["a.py", "b.py"]);
    // The rewritten file checks clean, and fixing again changes nothing.
    let again = nanlint(dir.path(), &["check", "."]);
    assert_eq!((again.code, again.stdout.as_str()), (0, "All checks passed!\n"));
    let again = nanlint(dir.path(), &["check", "--unsafe-fixes", "."]);
    assert_eq!((again.code, again.stdout.as_str()), (0, "All checks passed!\n"));
}

#[test]
fn unsafe_fixes_keep_crlf() {
    let dir = project(&[("a.py", "import torch\r\ny = torch.log(torch.relu(p))\r\n")]);
    assert_eq!(nanlint(dir.path(), &["check", "--unsafe-fixes", "a.py"]).code, 0);
    assert_eq!(read(dir.path(), "a.py"), "import torch\r\ny = torch.log(torch.clamp(torch.relu(p), min=1e-7))\r\n");
}

fn codes_and_fix(dir: &Path, args: &[&str]) -> Vec<(String, String)> {
    let mut all = vec!["check", "--output-format", "json"];
    all.extend_from_slice(args);
    json(&nanlint(dir, &all))
        .iter()
        .map(|e| {
            let file = Path::new(e["filename"].as_str().unwrap()).file_name().unwrap().to_string_lossy().into_owned();
            (file, e["fix"]["edits"][0]["content"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn pyproject_settings_and_overrides() {
    let ignored = project(&[("pyproject.toml", "[tool.nanlint]\nignore = [\"NL101\"]\n"), ("a.py", SMELLY)]);
    assert_eq!(nanlint(ignored.path(), &["check"]).code, 0);
    // The command line replaces the file's list.
    assert_eq!(nanlint(ignored.path(), &["check", "--ignore", "NL2"]).code, 1);

    let selected = project(&[("pyproject.toml", "[tool.nanlint]\nselect = [\"NL2\"]\n"), ("a.py", SMELLY)]);
    assert_eq!(nanlint(selected.path(), &["check"]).code, 0);
    assert_eq!(nanlint(selected.path(), &["check", "--select", "NL1"]).code, 1);

    let eps =
        project(&[("pyproject.toml", "[project]\nname = \"x\"\n\n[tool.nanlint]\nepsilon = 1e-3\n"), ("a.py", SMELLY)]);
    assert_eq!(codes_and_fix(eps.path(), &[]), [("a.py".into(), "torch.clamp(p, min=1e-3)".into())]);
    assert_eq!(codes_and_fix(eps.path(), &["--epsilon", "1e-5"]), [("a.py".into(), "torch.clamp(p, min=1e-5)".into())]);
}

#[test]
fn the_nearest_pyproject_with_a_nanlint_table_wins() {
    let dir = project(&[
        ("pyproject.toml", "[tool.nanlint]\nepsilon = 1e-3\n"),
        ("top.py", SMELLY),
        // No [tool.nanlint] table: the search goes on upward.
        ("plain/pyproject.toml", "[project]\nname = \"plain\"\n"),
        ("plain/a.py", SMELLY),
        // Its own table replaces the parent's (no merging across files).
        ("own/pyproject.toml", "[tool.nanlint]\nignore = [\"NL1\"]\n"),
        ("own/b.py", SMELLY),
        ("own/deeper/c.py", SMELLY),
    ]);
    assert_eq!(
        codes_and_fix(dir.path(), &["."]),
        [("a.py".into(), "torch.clamp(p, min=1e-3)".into()), ("top.py".into(), "torch.clamp(p, min=1e-3)".into())]
    );
    // Settings follow the file, not the folder nanlint runs in.
    assert_eq!(nanlint(&dir.path().join("own"), &["check", "../top.py"]).code, 1);
    assert_eq!(nanlint(dir.path(), &["check", "own/deeper/c.py"]).code, 0);
}

#[test]
fn ignored_files_are_skipped() {
    let dir = project(&[
        (".gitignore", "generated.py\nbuild/\n"),
        ("generated.py", SMELLY),
        ("build/lib/x.py", SMELLY),
        ("sub/.gitignore", "local_*.py\n"),
        ("sub/local_scratch.py", SMELLY),
        (".hidden/h.py", SMELLY),
        ("kept.py", SMELLY),
        ("sub/kept.py", SMELLY),
        ("notes.txt", "torch.log(p)"),
    ]);
    assert!(!dir.path().join(".git").exists());
    let run = nanlint(dir.path(), &["check", "--output-format", "concise"]);
    let files: Vec<&str> =
        run.stdout.lines().filter_map(|l| l.split(':').next()).filter(|f| f.ends_with(".py")).collect();
    assert_eq!(files, ["./kept.py", "./sub/kept.py"], "{}", run.stdout);
    // A file named on the command line is checked even when ignored.
    assert_eq!(nanlint(dir.path(), &["check", "generated.py"]).code, 1);
}

#[test]
fn output_order_is_stable_and_sorted() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for i in 0..60 {
        let path = format!("pkg{}/m{:02}.py", i % 4, (i * 37) % 60);
        write(
            dir.path(),
            &path,
            format!("import numpy as np\nx = np.log(abs(a))\ny = np.log2(abs(b{i}))\n").as_bytes(),
        );
        paths.push(PathBuf::from(".").join(path));
    }
    paths.sort();
    let run =
        |threads: &str| nanlint(dir.path(), &["check", "--output-format", "concise", "--threads", threads]).stdout;
    let first = run("4");
    for threads in ["1", "2", "4", "8"] {
        assert_eq!(run(threads), first, "output changed with --threads {threads}");
    }
    let listed: Vec<PathBuf> = first.lines().filter_map(|l| l.split(':').next()).map(PathBuf::from).collect();
    let expected: Vec<PathBuf> = paths.iter().flat_map(|p| [p.clone(), p.clone()]).collect();
    assert_eq!(listed[..expected.len()], expected[..]);
    assert!(first.ends_with("Found 120 smells.\n120 fixes available with `--unsafe-fixes`.\n"));
}

#[test]
fn non_utf8_files_are_skipped_with_a_warning() {
    let latin1 = b"import torch\n# caf\xe9\ny = torch.log(torch.relu(p))\n";
    let dir = project(&[("ok.py", CLEAN)]);
    write(dir.path(), "latin.py", latin1);
    let run = nanlint(dir.path(), &["check", "."]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "All checks passed!\n");
    assert_eq!(run.stderr, "nanlint: warning: ./latin.py: not valid UTF-8; skipped\n");
    // The exit code follows the other files.
    write(dir.path(), "smelly.py", SMELLY.as_bytes());
    let run = nanlint(dir.path(), &["check", "--output-format", "concise", "."]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.starts_with("./smelly.py:3:5: NL101 "), "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1);
    // And the file is never rewritten.
    let run = nanlint(dir.path(), &["check", "--unsafe-fixes", "."]);
    assert_eq!(run.code, 0);
    assert_eq!(std::fs::read(dir.path().join("latin.py")).unwrap(), latin1);
}

#[test]
fn rule_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let rule = nanlint::rules::by_code("NL101").unwrap();
    let run = nanlint(dir.path(), &["rule", "NL101"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, rule.doc));
    assert!(run.stdout.starts_with("# log-of-possibly-zero (NL101)\n"));
    // By name, and case-insensitively by code.
    assert_eq!(nanlint(dir.path(), &["rule", "log-of-possibly-zero"]).stdout, rule.doc);
    assert_eq!(nanlint(dir.path(), &["rule", "nl101"]).stdout, rule.doc);

    let all = nanlint(dir.path(), &["rule", "--all"]);
    assert_eq!(all.code, 0);
    assert_eq!(all.stdout.lines().count(), nanlint::rules::RULES.len());
    for (line, rule) in all.stdout.lines().zip(nanlint::rules::RULES) {
        assert!(line.starts_with(rule.code) && line.contains(rule.name), "{line}");
    }

    assert_usage_error(&nanlint(dir.path(), &["rule", "NL999"]), "unknown rule \"NL999\"");
}
