//! The `nanlint` binary end to end, in temporary folders: exit codes, output formats, fixes,
//! configuration, file discovery.

mod binary;

use binary::{Run, nanlint};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const SMELLY: &str = "import torch\np = torch.relu(x)\ny = torch.log(p)\n";
const CLEAN: &str = "import torch\np = torch.relu(x)\ny = torch.log(p + 1e-7)\n";

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
    assert_usage_error(
        &nanlint(dir.path(), &["check", "a.py", "--epsilon", "2"]),
        "epsilon must be a number in (0, 1)",
    );
    assert_usage_error(&nanlint(dir.path(), &["check", "a.py", "--epsilon=0"]), "epsilon");
    assert_usage_error(
        &nanlint(dir.path(), &["check", "a.py", "--select", "NL-1"]),
        "--select: unknown rule selector \"NL-1\"",
    );

    let broken = project(&[("a.py", SMELLY), ("pyproject.toml", "[tool.nanlint\nselect = [\"NL\"]\n")]);
    assert_usage_error(&nanlint(broken.path(), &["check", "a.py"]), "pyproject.toml");
    let unknown = project(&[("a.py", SMELLY), ("pyproject.toml", "[tool.nanlint]\nepsilom = 1e-4\n")]);
    assert_usage_error(&nanlint(unknown.path(), &["check", "a.py"]), "unknown field `epsilom`");
    let bad_value = project(&[("a.py", SMELLY), ("pyproject.toml", "[tool.nanlint]\nepsilon = \"small\"\n")]);
    assert_usage_error(&nanlint(bad_value.path(), &["check", "a.py"]), "[tool.nanlint]");

    // The file codes that say a file was not (wholly) checked cannot be turned off, by flag or
    // by configuration, as the README says.
    for (flag, code) in [("--ignore", "NL002"), ("--select", "NL003"), ("--ignore", "file-too-large")] {
        assert_usage_error(
            &nanlint(dir.path(), &["check", "a.py", flag, code]),
            "is always reported; it cannot be selected or ignored",
        );
    }
    // Standard input is one source: it is read once, alone.
    assert_usage_error(
        &nanlint(dir.path(), &["check", "-", "a.py"]),
        "`-` (stdin) cannot be combined with other paths",
    );
    assert_usage_error(&nanlint(dir.path(), &["check", "-", "-"]), "`-` (stdin) can be given only once");
    let ignored = project(&[("a.py", SMELLY), ("pyproject.toml", "[tool.nanlint]\nignore = [\"NL003\"]\n")]);
    assert_usage_error(&nanlint(ignored.path(), &["check", "a.py"]), "NL003 (nesting-too-deep) is always reported");
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
        ("b.py", "import numpy as np\nz = np.log(np.maximum(q, 0))\n"),
        (
            "a.py",
            "import torch\np = torch.relu(z)\ny = torch.log(p)\nw = torch.log(p + 1e-7)  # fine\nv = torch.log10(p)\n",
        ),
    ]);
    let run = nanlint(dir.path(), &["check", "--output-format", "concise", "b.py", "a.py"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "a.py:3:5: NL101 `torch.log` of `p`, a ReLU output that can reach 0: log(0) = -inf\n\
         a.py:5:5: NL101 `torch.log10` of `p`, a ReLU output that can reach 0: log(0) = -inf\n\
         b.py:2:5: NL101 `np.log` of a clipped value, which can reach 0: log(0) = -inf\n\
         Found 3 smells.\n\
         3 fixes available with `--fix --unsafe-fixes`.\n"
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
         \x20 = help: Raise `p` to at least 1e-7 (unsafe)\n\nFound 1 smell.\n1 fix available with `--fix --unsafe-fixes`.\n"
    );
}

/// Regression (a newcomer's run): the source line was printed raw while its carets counted a tab
/// as one column, so under a tab-indented line they pointed three columns early; and with colour
/// on, an escape sequence or a bell in the source reached the terminal. As ruff does, a tab is
/// shown as four spaces and other control characters as their Unicode symbols (`␛`, `␇`).
#[test]
fn full_output_shows_tabs_and_control_characters_under_their_carets() {
    let source = "import torch\ndef f(z):\n\ts = \"\x1b[31m\x07\"; return torch.log(torch.softmax(z, -1))\n\
                  w = torch.log(torch.softmax(d[\"\x1b[2J\"], -1))\n";
    let dir = project(&[("t.py", source)]);
    let run = nanlint(dir.path(), &["check", "--color", "always", "t.py"]);
    let plain = |s: &str| {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("\x1b[") {
            out.push_str(&rest[..i]);
            let tail = &rest[i + 2..];
            let end = tail.find('m').expect("a style escape ends with m");
            rest = &tail[end + 1..];
        }
        out + rest
    };
    let lines: Vec<String> = run.stdout.lines().map(plain).collect();
    let shown = lines.iter().find(|l| l.starts_with("3 |")).expect("the source line is shown");
    assert_eq!(shown, "3 |     s = \"␛[31m␇\"; return torch.log(torch.softmax(z, -1))");
    let carets = lines.iter().find(|l| l.contains('^')).expect("carets are shown");
    let column = |s: &str, needle: &str| s[..s.find(needle).expect("found")].chars().count();
    assert_eq!(column(carets, "^"), column(shown, "torch.log"), "{}", run.stdout);
    assert!(!run.stdout.contains('\x07') && !run.stdout.contains('\t'), "{:?}", run.stdout);
    // The message and the fix titles quote the source too.
    assert!(!run.stdout.contains("\x1b[2J") && run.stdout.contains("d[\"␛[2J\"]"), "{:?}", run.stdout);
}

fn location(v: &Value) -> (u64, u64) {
    (v["row"].as_u64().expect("row is a number"), v["column"].as_u64().expect("column is a number"))
}

/// Regression (a newcomer's run): `url` was null for the built-in codes (NL000 to NL003) even
/// in a build whose Cargo.toml names a repository, though each has documentation. Now every
/// code has a page in the repository, `docs/NL000-syntax-error.md` for a built-in, whose text is
/// its `nanlint rule` output, and `url` links to it whenever a repository is named; null only
/// when none is (this repository's Cargo.toml names none yet, so no link points nowhere).
#[test]
fn every_code_s_url_is_its_documentation_page() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // `{repository}/blob/main/`, or None.
    let base = nanlint::rules::docs_url("");
    for info in nanlint::render::all_rules() {
        let page = std::fs::read_to_string(root.join(&info.page)).unwrap_or_else(|e| panic!("{}: {e}", info.page));
        assert_eq!(page, info.doc, "{}: the page is the documentation `nanlint rule` prints", info.code);
        let expected = nanlint::rules::docs_url_in("https://example.org/nanlint", &info.page).unwrap();
        assert_eq!(expected, format!("https://example.org/nanlint/blob/main/{}", info.page));
        assert_eq!(info.url, base.as_ref().map(|b| format!("{b}{}", info.page)), "{}", info.code);
        assert_eq!(nanlint::check::docs_url_of(info.code), info.url, "{}", info.code);
    }
    assert_eq!(nanlint::check::SYNTAX_ERROR.page, "docs/NL000-syntax-error.md");

    // In JSON, a syntax error, an unreadable notebook and a rule's finding alike.
    let dir = project(&[
        (
            "a.py",
            "import torch
y = torch.log(torch.relu(x))
z = (
",
        ),
        ("b.ipynb", "{"),
    ]);
    let run = nanlint(dir.path(), &["check", "--output-format", "json", "a.py", "b.ipynb"]);
    let entries = json(&run);
    let codes: Vec<&str> = entries.iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["NL101", "NL000", "NL001"], "{}", run.stdout);
    for e in &entries {
        let url = nanlint::check::docs_url_of(e["code"].as_str().unwrap());
        assert_eq!(e["url"], serde_json::to_value(&url).unwrap(), "{e}");
    }
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
    // A link only where Cargo.toml names a repository: never one that points nowhere.
    match nanlint::rules::by_code("NL101").unwrap().url() {
        Some(url) => assert!(url.ends_with("/NL101-log-of-possibly-zero/rule.md") && e["url"] == url),
        None => assert!(e["url"].is_null()),
    }

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
    // `p * log(p)`: the clip first, which only raises `p` (nothing says p <= 1; its gradient
    // stays finite at 0), then xlogy.
    let clip = &fixes[0]["edits"][0];
    assert_eq!((clip["content"].as_str().unwrap(), location(&clip["location"])), ("np.maximum(p, 1e-7)", (4, 31)));
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
                    return -(y * torch.log(p)).sum(), torch.log(torch.relu(z))\n";
    let dir = project(&[("a.py", original), ("b.py", CLEAN)]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path().join("a.py"), std::fs::Permissions::from_mode(0o751)).unwrap();
    }
    let run = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "."]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "Found 2 smells (2 fixed, 0 remaining).\n");
    assert_eq!(
        read(dir.path(), "a.py"),
        "import torch\n\n\ndef loss(z: torch.Tensor, y):\n    p = torch.softmax(z, dim=-1)\n    \
         return -(y * torch.log_softmax(z, dim=-1)).sum(), torch.log(torch.clamp(torch.relu(z), min=1e-7))\n"
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
    let again = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "."]);
    assert_eq!((again.code, again.stdout.as_str()), (0, "All checks passed!\n"));
}

#[test]
fn unsafe_fixes_keep_crlf() {
    let dir = project(&[("a.py", "import torch\r\ny = torch.log(torch.relu(p))\r\n")]);
    assert_eq!(nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "a.py"]).code, 0);
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
    // As in ruff: the command line's --ignore adds to the file's, --extend-select brings a rule
    // back, and --select starts the selection afresh.
    assert_eq!(nanlint(ignored.path(), &["check", "--ignore", "NL1"]).code, 0);
    assert_eq!(nanlint(ignored.path(), &["check", "--extend-select", "NL101"]).code, 1);
    assert_eq!(nanlint(ignored.path(), &["check", "--select", "ALL"]).code, 1);

    let selected = project(&[("pyproject.toml", "[tool.nanlint]\nselect = [\"nl1\"]\n"), ("a.py", SMELLY)]);
    assert_eq!(nanlint(selected.path(), &["check"]).code, 1);
    assert_eq!(nanlint(selected.path(), &["check", "--ignore", "log-of-possibly-zero"]).code, 0);

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
    assert_eq!(files, ["kept.py", "sub/kept.py"], "{}", run.stdout);
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
            format!("import numpy as np\nx = np.log(np.maximum(a, 0))\ny = np.log2(np.maximum(b{i}, 0))\n").as_bytes(),
        );
        paths.push(PathBuf::from(path));
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
    assert!(first.ends_with("Found 120 smells.\n120 fixes available with `--fix --unsafe-fixes`.\n"));
}

#[test]
fn undecodable_files_are_reported_not_passed() {
    let latin1 = b"import torch\n# caf\xe9\ny = torch.log(torch.relu(p))\n";
    let dir = project(&[("ok.py", CLEAN)]);
    write(dir.path(), "latin.py", latin1);
    let run = nanlint(dir.path(), &["check", "--output-format", "concise", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "latin.py:1:1: NL001 not valid UTF-8 (byte 18, line 2) and no PEP 263 coding declaration names another \
         encoding\nFound 1 unreadable file.\n"
    );
    // Fixing never rewrites it.
    let run = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "."]);
    assert_eq!(run.code, 1);
    assert_eq!(std::fs::read(dir.path().join("latin.py")).unwrap(), latin1);
}

#[test]
fn pep263_declared_encodings_are_decoded_and_kept() {
    let latin1 = b"# -*- coding: latin-1 -*-\nimport torch\ns = 'caf\xe9'; y = torch.log(torch.relu(p))\n";
    let dir = project(&[]);
    write(dir.path(), "latin.py", latin1);
    let run = nanlint(dir.path(), &["check", "--output-format", "concise", "latin.py"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    // Columns count characters of the decoded text.
    assert!(run.stdout.starts_with("latin.py:3:17: NL101 `torch.log` of"), "{}", run.stdout);
    let full = nanlint(dir.path(), &["check", "latin.py"]);
    assert!(full.stdout.contains("3 | s = 'café'; y = torch.log(torch.relu(p))\n"), "{}", full.stdout);
    // The fixed file is written back in latin-1.
    let run = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "latin.py"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        std::fs::read(dir.path().join("latin.py")).unwrap(),
        b"# -*- coding: latin-1 -*-\nimport torch\ns = 'caf\xe9'; y = torch.log(torch.clamp(torch.relu(p), min=1e-7))\n"
    );
    // An encoding Python does not know is an unreadable file, not a pass.
    write(dir.path(), "odd.py", b"# coding: klingon\nimport torch\n");
    let run = nanlint(dir.path(), &["check", "--output-format", "concise", "odd.py"]);
    assert_eq!(
        (run.code, run.stdout.lines().next().unwrap()),
        (1, "odd.py:1:1: NL001 unknown encoding `klingon` declared on line 1")
    );
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
    // The built-in codes first, then the rules.
    let lines: Vec<&str> = all.stdout.lines().collect();
    let builtins = nanlint::check::BUILTINS.len();
    assert_eq!(lines.len(), nanlint::rules::RULES.len() + builtins);
    assert!(lines[0].starts_with("NL000  syntax-error") && lines[1].starts_with("NL001  unreadable-file"), "{lines:?}");
    for (line, rule) in lines[builtins..].iter().zip(nanlint::rules::RULES) {
        assert!(line.starts_with(rule.code) && line.contains(rule.name), "{line}");
        // Whether it runs by default, as the README table says.
        assert_eq!(line.ends_with(" (preview)"), rule.preview, "{line}");
        assert_eq!(line.ends_with(" (some forms in preview)"), !rule.preview && rule.has_preview_forms(), "{line}");
    }
    assert!(nanlint(dir.path(), &["rule", "nl000"]).stdout.starts_with("# syntax-error (NL000)"));
    assert!(nanlint(dir.path(), &["rule", "NL003"]).stdout.starts_with("# nesting-too-deep (NL003)"));

    assert_usage_error(&nanlint(dir.path(), &["rule", "NL999"]), "unknown rule \"NL999\"");
}

/// `nanlint rule --output-format json`, as ruff's: one object for a rule, an array for `--all`,
/// with the code, name, summary, full documentation, fix availability and preview status.
#[test]
fn rule_json_has_ruffs_fields() {
    let dir = tempfile::tempdir().unwrap();
    let run = nanlint(dir.path(), &["rule", "NL102", "--output-format", "json"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let one: Value = serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    let rule = nanlint::rules::by_code("NL102").unwrap();
    assert_eq!(one["code"], "NL102");
    assert_eq!(one["name"], "log-of-softmax");
    assert_eq!(one["summary"], rule.summary());
    assert_eq!(one["explanation"], rule.doc);
    let fix = (one["fix_availability"].as_str(), one["fix"].as_str());
    assert_eq!(fix, (Some("Sometimes"), Some("Fix is sometimes available.")));
    assert_eq!((one["preview"].as_bool(), one["preview_forms"].as_bool()), (Some(false), Some(false)));
    // A preview rule, one with preview forms, and a built-in code (no fix).
    let of = |code: &str| -> Value {
        serde_json::from_str(&nanlint(dir.path(), &["rule", code, "--output-format=json"]).stdout).unwrap()
    };
    assert_eq!(of("NL105")["preview"], true);
    assert_eq!((of("NL101")["preview"].as_bool(), of("NL101")["preview_forms"].as_bool()), (Some(false), Some(true)));
    assert_eq!(of("NL204")["fix_availability"], "Always");
    assert_eq!(of("nl000")["fix_availability"], "None");

    let all = nanlint(dir.path(), &["rule", "--all", "--output-format", "json"]);
    assert_eq!((all.code, all.stderr.as_str()), (0, ""));
    let list = json(&all);
    let codes: Vec<&str> = list.iter().map(|r| r["code"].as_str().unwrap()).collect();
    let want: Vec<&str> = nanlint::render::all_rules().iter().map(|r| r.code).collect();
    assert_eq!(codes, want);
    assert_eq!(list.iter().find(|r| r["code"] == "NL102"), Some(&one));
    // Text stays the default.
    assert_eq!(nanlint(dir.path(), &["rule", "NL102"]).stdout, rule.doc);
}

/// Regression (a newcomer's run): names longer than a fixed width of 24 pushed their summary
/// right, so `nanlint rule --all` was a ragged table. Each column now starts at one offset in
/// every row, wide enough for the longest name, and the output (a pipe here) is plain text.
#[test]
fn rule_all_is_an_aligned_table() {
    let dir = tempfile::tempdir().unwrap();
    let all = nanlint(dir.path(), &["rule", "--all"]);
    assert_eq!((all.code, all.stderr.as_str()), (0, ""));
    assert!(!all.stdout.contains('\x1b') && !all.stdout.contains('\t'), "{}", all.stdout);
    let infos = nanlint::render::all_rules();
    let longest = infos.iter().map(|r| r.name.len()).max().unwrap();
    let lines: Vec<&str> = all.stdout.lines().collect();
    assert_eq!(lines.len(), infos.len());
    // The offsets of the name and of the summary, the same in every row.
    let offsets: Vec<(usize, usize)> = lines
        .iter()
        .zip(&infos)
        .map(|(line, info)| {
            assert!(line.starts_with(info.code), "{line}");
            let name = line.find(&format!(" {} ", info.name)).unwrap_or_else(|| panic!("{line}")) + 1;
            let summary = line.find(&info.summary).unwrap_or_else(|| panic!("{line}"));
            assert!(line[name + info.name.len()..summary].chars().all(|c| c == ' '), "{line}");
            (name, summary)
        })
        .collect();
    assert!(offsets.iter().all(|o| *o == offsets[0]), "{offsets:?}\n{}", all.stdout);
    // Two spaces between columns, and no wider than the longest name needs.
    assert_eq!(offsets[0], ("NL000".len() + 2, "NL000".len() + 2 + longest + 2), "{}", all.stdout);
    assert!(lines.iter().all(|l| l.trim_end() == *l), "{}", all.stdout);
}

/// Runs nanlint with `stdin` as its standard input and extra environment variables.
fn nanlint_with(dir: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Run {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nanlint"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CI_PROJECT_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the nanlint binary runs");
    // A usage error exits before reading stdin: the pipe may be closed by then.
    match child.stdin.take().unwrap().write_all(stdin) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.unwrap(),
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().expect("nanlint exited normally"),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// The `path:row:col: CODE` prefixes of concise output, without the summary.
fn findings(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter(|l| l.contains(": NL"))
        .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect()
}

fn concise(dir: &Path, args: &[&str]) -> Run {
    let mut all = vec!["check", "--output-format", "concise"];
    all.extend_from_slice(args);
    nanlint(dir, &all)
}

#[test]
fn unknown_selectors_are_errors_and_names_and_case_work() {
    let dir = project(&[("a.py", SMELLY)]);
    for flag in ["--select", "--ignore", "--extend-select"] {
        assert_usage_error(
            &nanlint(dir.path(), &["check", flag, "NOPE"]),
            &format!("{flag}: unknown rule selector \"NOPE\""),
        );
    }
    assert_usage_error(&nanlint(dir.path(), &["check", "--ignore", "NL001"]), "always reported");
    assert_usage_error(&nanlint(dir.path(), &["check", "--ignore", "NL0"]), "only by its exact code or name");
    for good in ["nl101", "NL1", "log-of-possibly-zero", "ALL", "all"] {
        assert_eq!(nanlint(dir.path(), &["check", "--select", good]).code, 1, "--select {good}");
        assert_eq!(nanlint(dir.path(), &["check", "--ignore", good]).code, 0, "--ignore {good}");
    }
    let file = project(&[("a.py", SMELLY), ("pyproject.toml", "[tool.nanlint]\nselect = [\"NL101\", \"NOPE\"]\n")]);
    let run = nanlint(file.path(), &["check"]);
    assert_usage_error(&run, "pyproject.toml:2:20: [tool.nanlint]: select: unknown rule selector \"NOPE\"");
    let pfi = project(&[("a.py", SMELLY), ("nanlint.toml", "[per-file-ignores]\n\"a.py\" = [\"NL99\"]\n")]);
    assert_usage_error(
        &nanlint(pfi.path(), &["check"]),
        "nanlint.toml:2:11: per-file-ignores \"a.py\": unknown rule selector",
    );
}

#[test]
fn noqa_codes_are_case_insensitive() {
    let dir = project(&[(
        "a.py",
        "import torch\ny = torch.log(torch.relu(p))  # noqa: nl101\nz = torch.log(torch.relu(q))  # noqa: NL999\n",
    )]);
    let run = concise(dir.path(), &["a.py"]);
    assert_eq!(findings(&run), ["a.py:3:5: NL101"], "{}", run.stdout);
}

/// Regression (a newcomer's run): `# noqa: none`, or `# noqa:` followed by anything that is not
/// a code, silenced every rule on its line. As in ruff, such a directive silences nothing and
/// gets a warning on stderr naming the file and line (in a notebook, the cell and its line).
#[test]
fn a_noqa_directive_without_codes_is_not_blanket_and_warned_about() {
    let src = "import torch\np = torch.relu(x)\na = torch.log(p)  # noqa: none\nb = torch.log(p)  # NOQA:\nc = torch.log(p)  # noqa\nd = 1  # noqa: -\n";
    let dir = project(&[("a.py", src)]);
    let run = concise(dir.path(), &["--isolated", "a.py"]);
    assert_eq!(findings(&run), ["a.py:3:5: NL101", "a.py:4:5: NL101"], "{}", run.stdout);
    let expected =
        "expected a comma-separated list of codes after `noqa:` (e.g. `# noqa: NL101, NL102`); it silences nothing";
    assert_eq!(
        run.stderr,
        format!(
            "nanlint: warning: a.py:3: invalid `# noqa` directive: {expected}\n\
             nanlint: warning: a.py:4: invalid `# noqa` directive: {expected}\n\
             nanlint: warning: a.py:6: invalid `# noqa` directive: {expected}\n"
        )
    );
    // `--silent` prints nothing; the findings are the same in JSON.
    assert_eq!(nanlint(dir.path(), &["check", "--isolated", "--silent", "a.py"]).stderr, "");
    // `--add-noqa` puts the code into the list, which makes the directive valid.
    let run = nanlint(dir.path(), &["check", "--isolated", "--add-noqa", "a.py"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let added = read(dir.path(), "a.py");
    assert!(added.contains("a = torch.log(p)  # noqa: NL101 none\n"), "{added}");
    assert!(added.contains("b = torch.log(p)  # NOQA: NL101\n"), "{added}");
    assert_eq!(findings(&concise(dir.path(), &["--isolated", "a.py"])), Vec::<String>::new());

    // A notebook's warning names the cell and the line in it.
    let nb = r##"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
      {"cell_type": "code", "metadata": {}, "source": ["import torch\n", "p = torch.relu(x)\n"]},
      {"cell_type": "code", "metadata": {}, "source": ["y = 1\n", "z = torch.log(p)  # noqa: nothing\n"]}]}"##;
    let dir = project(&[("n.ipynb", nb)]);
    let run = concise(dir.path(), &["--isolated", "n.ipynb"]);
    assert!(run.stdout.starts_with("n.ipynb:cell 2:2:5: NL101 "), "{}", run.stdout);
    assert_eq!(run.stderr, format!("nanlint: warning: n.ipynb:cell 2:2: invalid `# noqa` directive: {expected}\n"));
}

/// Regression: `noqa` with text glued to it (`# noqaNL101`, a colon forgotten) silenced every
/// rule on its line. As in ruff, it silences nothing and is warned about; `# noqa : NL101` (a
/// space before the colon) lists its codes; `--add-noqa` adds the colon, and the code unless it
/// is the one glued on (it wrote `# noqa: NL101 NL101`).
#[test]
fn a_noqa_glued_to_other_text_is_not_blanket() {
    let src = "import torch\np = torch.relu(x)\na = torch.log(p)  # noqaNL101\nb = torch.log(p)  # noqa : NL101\n";
    let dir = project(&[("a.py", src)]);
    let run = concise(dir.path(), &["--isolated", "a.py"]);
    assert_eq!(findings(&run), ["a.py:3:5: NL101"], "{}", run.stdout);
    assert!(
        run.stderr.starts_with("nanlint: warning: a.py:3: invalid `# noqa` directive: expected `:` followed by"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    let run = nanlint(dir.path(), &["check", "--isolated", "--add-noqa", "a.py"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let added = read(dir.path(), "a.py");
    assert!(added.contains("a = torch.log(p)  # noqa: NL101\n"), "{added}");
    assert_eq!(findings(&concise(dir.path(), &["--isolated", "a.py"])), Vec::<String>::new());
}

/// Regression (a newcomer's run): the safe fixes of a softmax and a log-sum-exp written out
/// imported SciPy's functions under the names of the user's own functions, which then called
/// themselves (RecursionError, TypeError).
#[test]
fn a_fix_never_imports_a_name_the_file_defines() {
    let src = "import numpy as np\n\n\ndef logsumexp(x):\n    return np.log(np.sum(np.exp(x)))\n\n\ndef softmax(x):\n    e = np.exp(x)\n    return e / np.sum(e, axis=-1, keepdims=True)\n";
    let dir = project(&[("a.py", src)]);
    let run = nanlint(dir.path(), &["check", "--isolated", "--preview", "--fix", "a.py"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        read(dir.path(), "a.py"),
        "import numpy as np\nimport scipy.special\n\n\ndef logsumexp(x):\n    return scipy.special.logsumexp(x)\n\n\ndef softmax(x):\n    e = np.exp(x)\n    return scipy.special.softmax(x, axis=-1)\n"
    );
}

/// Regression (a newcomer's trial): with torch imported only in a `try` whose handler covers
/// a missing library, or only in the function, the safe `log_softmax` fix added `import torch`
/// at the top of the file: the module then failed to import without torch (and the import was
/// glued onto the `def`). The import now goes beside the file's own, and the fixed file parses.
#[test]
fn a_fix_imports_a_conditionally_imported_package_beside_the_files_own_import() {
    let in_try = "try:\n    from torch import log, softmax\nexcept ImportError:\n    pass\n\n\ndef a(z):\n    return log(softmax(z, -1))\n";
    let in_function = "def a(z):\n    from torch import log, softmax\n    return log(softmax(z, -1))\n";
    let one_line = "try: from torch import log, softmax\nexcept ImportError: pass\n\n\ndef a(z):\n    return log(softmax(z, -1))\n";
    let dir = project(&[("imp3.py", in_try), ("imp2.py", in_function), ("one_line.py", one_line)]);
    let run = nanlint(dir.path(), &["check", "--isolated", "--fix", "imp3.py", "imp2.py", "one_line.py"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let fixed = read(dir.path(), "imp3.py");
    assert_eq!(
        fixed,
        "try:\n    from torch import log, softmax\n    import torch\nexcept ImportError:\n    pass\n\n\ndef a(z):\n    return torch.log_softmax(z, -1)\n"
    );
    // Without torch, the `try` still catches the ImportError: no import of torch runs outside it.
    let top_level = |l: &&str| l.starts_with("import ") || l.starts_with("from ");
    assert_eq!(fixed.lines().filter(top_level).count(), 0, "{fixed}");
    assert_eq!(
        read(dir.path(), "imp2.py"),
        "def a(z):\n    from torch import log, softmax\n    import torch\n    return torch.log_softmax(z, -1)\n"
    );
    assert_eq!(
        read(dir.path(), "one_line.py"),
        "try: from torch import log, softmax; import torch\nexcept ImportError: pass\n\n\ndef a(z):\n    return torch.log_softmax(z, -1)\n"
    );
    // The fixed files parse (no NL000) and hold nothing more to fix.
    let again = nanlint(dir.path(), &["check", "--isolated", "--unsafe-fixes", "imp3.py", "imp2.py", "one_line.py"]);
    assert_eq!((again.code, again.stdout.as_str()), (0, "All checks passed!\n"), "{}", again.stderr);
}

/// Regression (a newcomer's trial): with torch's names set to `None` where torch is missing
/// (`except ImportError: log = softmax = None`), or imported in every branch of an `if`, the
/// `log_softmax` fix put `import torch` at the top and was unsafe. The fix only runs where the
/// import did (with `None` the call fails anyway): the import goes into the `try` beside the
/// file's own, or after the `if`, and the fix is safe.
#[test]
fn a_fix_imports_beside_an_import_with_a_none_fallback_or_in_every_branch() {
    let fallback = "try:\n    from torch import log, softmax\nexcept ImportError:\n    log = softmax = None\n\n\ndef f(z):\n    return log(softmax(z, dim=-1))\n";
    let branches = "import os\n\nif os.environ.get(\"A\"):\n    from torch import log, softmax\nelse:\n    from torch import log, softmax\n\n\ndef g(z):\n    return log(softmax(z, dim=-1))\n";
    let dir = project(&[("fallback.py", fallback), ("branches.py", branches)]);
    let run = nanlint(dir.path(), &["check", "--isolated", "--fix", "fallback.py", "branches.py"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        read(dir.path(), "fallback.py"),
        "try:\n    from torch import log, softmax\n    import torch\nexcept ImportError:\n    log = softmax = None\n\n\ndef f(z):\n    return torch.log_softmax(z, dim=-1)\n"
    );
    assert_eq!(
        read(dir.path(), "branches.py"),
        "import os\n\nif os.environ.get(\"A\"):\n    from torch import log, softmax\nelse:\n    from torch import log, softmax\nimport torch\n\n\ndef g(z):\n    return torch.log_softmax(z, dim=-1)\n"
    );
    let again = nanlint(dir.path(), &["check", "--isolated", "--unsafe-fixes", "fallback.py", "branches.py"]);
    assert_eq!((again.code, again.stdout.as_str()), (0, "All checks passed!\n"), "{}", again.stderr);
}

/// Regression (a newcomer's trial): where the module imports torch in a `try` whose handler
/// sets `torch = None`, a fix added a second `import torch` inside the `try` (ruff's F811) and
/// wrote `torch.nn.functional` where `F` held it. The file's own names are written: where the
/// fallback ran, the original fails on them just as the fixed code does.
#[test]
fn a_fix_writes_the_files_alias_beside_a_none_fallback() {
    let src = "try:\n    import torch\n    import torch.nn.functional as F\nexcept ImportError:\n    torch = F = None\n\n\ndef f(z):\n    p = torch.softmax(z, dim=-1)\n    return torch.log(p), F.softmax(z, -1).log()\n";
    let dir = project(&[("a.py", src)]);
    let run = nanlint(dir.path(), &["check", "--isolated", "--fix", "a.py"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        read(dir.path(), "a.py"),
        src.replace(
            "return torch.log(p), F.softmax(z, -1).log()",
            "return torch.log_softmax(z, dim=-1), F.log_softmax(z, -1)"
        )
    );
}

/// Regression (a trial of the lead's): a fix that spells a module name the file does not
/// import yet added the import and wrote `torch.nn.functional.log_softmax` where `torch` is a
/// parameter, a local or a class attribute read in the class body, and `F.log_softmax` after
/// the module deleted `F`: the fixed code called an attribute of another object (or raised a
/// NameError). Where the name is shadowed at the site the fix is not offered (the finding
/// stays); elsewhere in the file it is, and another free name spells it.
#[test]
fn a_fix_spells_no_name_shadowed_where_it_lands() {
    let head = "from torch.nn.functional import softmax\nfrom torch import log\n";
    let shadowed = format!(
        "{head}\n\ndef loss(x, torch):\n    return log(softmax(x, -1))\n\n\ndef loss2(x):\n    torch = x.device\n    return log(softmax(x, -1))\n\n\nclass Head:\n    torch = \"cpu\"\n    table = log(softmax(Z, -1))\n\n\ndef loss3(x):\n    return log(softmax(x, -1))\n"
    );
    let deleted = format!(
        "import torch.nn.functional as F\n{head}\nACT = F.relu\ndel F\n\n\ndef loss(x):\n    return log(softmax(x, -1))\n"
    );
    let dir = project(&[("a.py", &shadowed), ("b.py", &deleted)]);
    let run = nanlint(dir.path(), &["check", "--isolated", "--fix", "--unsafe-fixes", "a.py", "b.py"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        read(dir.path(), "a.py"),
        shadowed.replacen("from torch import log\n", "from torch import log\nimport torch\n", 1).replace(
            "def loss3(x):\n    return log(softmax(x, -1))",
            "def loss3(x):\n    return torch.nn.functional.log_softmax(x, -1)"
        )
    );
    assert_eq!(
        read(dir.path(), "b.py"),
        deleted
            .replace("from torch import log\n", "from torch import log\nimport torch\n")
            .replace("return log(softmax(x, -1))", "return torch.nn.functional.log_softmax(x, -1)")
    );
    let again =
        nanlint(dir.path(), &["check", "--isolated", "--unsafe-fixes", "--output-format", "json", "a.py", "b.py"]);
    let findings = json(&again);
    let rows: Vec<(u64, usize)> = findings
        .iter()
        .map(|f| (f["location"]["row"].as_u64().unwrap(), f["fixes"].as_array().map_or(0, Vec::len)))
        .collect();
    assert_eq!(rows, [(7, 0), (12, 0), (17, 0)], "{}", again.stdout);
}

/// Where no import of the package holds at the fix's site (only another function imports
/// torch), an import at the top would change what importing the module does: the fix is
/// unsafe and its title says why; with `--unsafe-fixes` the import goes at the top, two blank
/// lines before the `def`.
#[test]
fn a_fix_that_must_import_a_conditionally_imported_package_at_the_top_is_unsafe() {
    let src =
        "def b():\n    from torch import log, softmax\n    return log\n\n\ndef a(z):\n    return log(softmax(z, -1))\n";
    let dir = project(&[("a.py", src)]);
    let run = nanlint(dir.path(), &["check", "--isolated", "--output-format", "json", "a.py"]);
    let findings = json(&run);
    assert_eq!(findings.len(), 1, "{}", run.stdout);
    let fix = &findings[0]["fixes"][0];
    assert_eq!(fix["applicability"], "unsafe");
    assert_eq!(
        fix["message"],
        "Use `torch.log_softmax(z, -1)` (adds `import torch` at the top, where the module imports torch only conditionally)"
    );
    let run = nanlint(dir.path(), &["check", "--isolated", "--fix", "a.py"]);
    assert_eq!(run.code, 1);
    assert_eq!(read(dir.path(), "a.py"), src, "--fix applied an unsafe fix");
    let run = nanlint(dir.path(), &["check", "--isolated", "--fix", "--unsafe-fixes", "a.py"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        read(dir.path(), "a.py"),
        format!("import torch\n\n\n{}", src.replace("log(softmax(z, -1))", "torch.log_softmax(z, -1)"))
    );
}

#[test]
fn a_missing_path_is_reported_and_the_rest_checked() {
    let dir = project(&[("a.py", SMELLY), ("clean.py", CLEAN)]);
    let run = concise(dir.path(), &["missing.py", "clean.py", "gone/"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "gone/:1:1: NL001 No such file or directory (os error 2)\n\
         missing.py:1:1: NL001 No such file or directory (os error 2)\nFound 2 unreadable files.\n"
    );
    let run = concise(dir.path(), &["missing.py", "a.py"]);
    assert_eq!(findings(&run), ["a.py:3:5: NL101", "missing.py:1:1: NL001"]);
    assert!(
        run.stdout.ends_with("Found 1 smell and 1 unreadable file.\n1 fix available with `--fix --unsafe-fixes`.\n")
    );
    // --exit-zero: the findings are printed, the exit code is 0.
    assert_eq!(concise(dir.path(), &["missing.py", "--exit-zero"]).code, 0);
}

#[test]
fn syntax_errors_are_reported_and_the_rest_checked() {
    let src = "import torch\n\ndef broken(:\n    return 1\n\ny = torch.log(torch.relu(p))\n";
    let dir = project(&[("a.py", src)]);
    let run = concise(dir.path(), &["a.py"]);
    assert_eq!(run.code, 1);
    assert_eq!(findings(&run), ["a.py:3:12: NL000", "a.py:6:5: NL101"], "{}", run.stdout);
    assert!(run.stdout.contains("a.py:3:12: NL000 Syntax error: expected `)`\n"), "{}", run.stdout);
    // A file with a syntax error offers no fix (see `a_file_with_a_syntax_error_is_not_fixed`).
    assert!(run.stdout.ends_with("Found 1 smell and 1 syntax error.\n"), "{}", run.stdout);
    // Not turned off by selecting or ignoring rules...
    let run = concise(dir.path(), &["--ignore", "NL1", "a.py"]);
    assert_eq!((run.code, findings(&run)), (1, vec!["a.py:3:12: NL000".to_string()]));
    let run = concise(dir.path(), &["--select", "NL101", "a.py"]);
    assert_eq!(findings(&run), ["a.py:3:12: NL000", "a.py:6:5: NL101"]);
    // ...only by its own code or name, for syntax the grammar does not know yet (PEP 646).
    let src = "import torch\ny = torch.log(torch.relu(x[*(g(a) for a in b)]))\n";
    let newer = project(&[("b.py", src), ("nanlint.toml", "")]);
    assert_eq!(findings(&concise(newer.path(), &["b.py"])), ["b.py:2:5: NL101", "b.py:2:27: NL000"]);
    std::fs::write(newer.path().join("nanlint.toml"), "per-file-ignores = { \"b.py\" = [\"syntax-error\"] }\n")
        .unwrap();
    assert_eq!(findings(&concise(newer.path(), &["b.py"])), ["b.py:2:5: NL101"]);
    assert_eq!(findings(&concise(dir.path(), &["--ignore", "nl000", "a.py"])), ["a.py:6:5: NL101"]);
}

/// Regression (a newcomer's run): where tree-sitter folds the statements before an error into
/// one region with it, NL000 was at line 1, column 1, quoting `import torch`. It is reported
/// where Python reports it: at a bracket never closed (the last one opened), or where the code
/// stops being whole statements.
#[test]
fn syntax_errors_are_located_where_python_locates_them() {
    let dir = project(&[
        ("open.py", "import torch\ny = torch.log(z)\nx = {1: (2, [3\n"),
        ("stray.py", "import torch\ny = torch.log(z)\n}\n"),
    ]);
    let run = concise(dir.path(), &["--isolated", "open.py", "stray.py"]);
    let lines: Vec<&str> = run.stdout.lines().take(2).collect();
    assert_eq!(
        lines,
        [
            "open.py:3:13: NL000 Syntax error: `[` was never closed (nor were the 2 brackets opened before it)",
            "stray.py:3:1: NL000 Cannot parse `}`: invalid syntax, or syntax nanlint's Python grammar does not know",
        ],
        "{}",
        run.stdout
    );
}

#[test]
fn default_excludes_follow_ruff() {
    let dir = project(&[
        ("train.py", SMELLY),
        (".venv/lib/python3.11/site-packages/keras/x.py", SMELLY),
        ("venv/lib/y.py", SMELLY),
        ("env/lib/python3.11/site-packages/torch/z.py", SMELLY),
        ("node_modules/pkg/n.py", SMELLY),
        ("dist/d.py", SMELLY),
        ("__pypackages__/3.11/lib/p.py", SMELLY),
        ("src/model.py", SMELLY),
    ]);
    let run = concise(dir.path(), &[]);
    assert_eq!(findings(&run), ["src/model.py:3:5: NL101", "train.py:3:5: NL101"], "{}", run.stdout);
    // A path named explicitly is checked, unless --force-exclude (what pre-commit passes).
    assert_eq!(findings(&concise(dir.path(), &["venv/lib/y.py"])), ["venv/lib/y.py:3:5: NL101"]);
    assert_eq!(findings(&concise(dir.path(), &["venv"])), ["venv/lib/y.py:3:5: NL101"]);
    let forced = concise(dir.path(), &["--force-exclude", "venv/lib/y.py", "train.py"]);
    assert_eq!(findings(&forced), ["train.py:3:5: NL101"]);
    // Only folders below the project count: a project that lives inside a `venv` folder is
    // still checked.
    let outer = project(&[
        ("venv/proj/a.py", SMELLY),
        ("venv/proj/gen/b.py", SMELLY),
        ("venv/proj/nanlint.toml", "extend-exclude = [\"gen\"]\n"),
    ]);
    let inner = outer.path().join("venv/proj");
    assert_eq!(findings(&concise(&inner, &["--force-exclude", "a.py", "gen/b.py"])), ["a.py:3:5: NL101"]);
    // The same from a folder outside it: its configuration file's folder is where testing stops.
    let elsewhere = tempfile::tempdir().unwrap();
    let a = inner.join("a.py");
    let run = concise(elsewhere.path(), &["--force-exclude", a.to_str().unwrap()]);
    assert_eq!(findings(&run), [format!("{}:3:5: NL101", a.display())]);
}

#[test]
fn exclude_extend_exclude_and_per_file_ignores() {
    let config = "[tool.nanlint]\nextend-exclude = [\"generated\", \"src/legacy_*.py\"]\n\
                  per-file-ignores = { \"tests/*\" = [\"log-of-possibly-zero\"], \"conftest.py\" = [\"NL1\"] }\n";
    let dir = project(&[
        ("pyproject.toml", config),
        ("src/model.py", SMELLY),
        ("src/legacy_model.py", SMELLY),
        ("generated/g.py", SMELLY),
        ("tests/test_model.py", SMELLY),
        ("tests/conftest.py", SMELLY),
        ("conftest.py", SMELLY),
        (".venv/v.py", SMELLY),
    ]);
    let run = concise(dir.path(), &[]);
    assert_eq!(findings(&run), ["src/model.py:3:5: NL101"], "{}", run.stdout);
    // Per-file ignores also stop fixes.
    nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes"]);
    assert_eq!(read(dir.path(), "tests/test_model.py"), SMELLY);
    assert_ne!(read(dir.path(), "src/model.py"), SMELLY);
    // `exclude` replaces the defaults; so does --exclude on the command line.
    let replaced = project(&[("pyproject.toml", "[tool.nanlint]\nexclude = [\"other\"]\n"), ("venv/v.py", SMELLY)]);
    assert_eq!(findings(&concise(replaced.path(), &[])), ["venv/v.py:3:5: NL101"]);
    assert_eq!(findings(&concise(replaced.path(), &["--exclude", "venv"])), Vec::<String>::new());
    assert_usage_error(&nanlint(replaced.path(), &["check", "--extend-exclude", "a[", "."]), "invalid glob");
}

#[test]
fn configuration_files_precedence() {
    let dir = project(&[
        ("pyproject.toml", "[tool.nanlint]\nepsilon = 1e-3\n"),
        ("a.py", SMELLY),
        ("b/nanlint.toml", "epsilon = 1e-4\n"),
        ("b/pyproject.toml", "[tool.nanlint]\nepsilon = 1e-3\n"),
        ("b/a.py", SMELLY),
        ("c/.nanlint.toml", "epsilon = 1e-5\n"),
        ("c/nanlint.toml", "epsilon = 1e-4\n"),
        ("c/a.py", SMELLY),
        // An empty nanlint.toml still counts: the defaults, not the parent's file.
        ("d/nanlint.toml", ""),
        ("d/a.py", SMELLY),
        ("own.toml", "epsilon = 1e-6\n"),
    ]);
    let fixes =
        |args: &[&str]| -> Vec<String> { codes_and_fix(dir.path(), args).into_iter().map(|(_, f)| f).collect() };
    assert_eq!(
        fixes(&["a.py", "b/a.py", "c/a.py", "d/a.py"]),
        [
            "torch.clamp(p, min=1e-3)",
            "torch.clamp(p, min=1e-4)",
            "torch.clamp(p, min=1e-5)",
            "torch.clamp(p, min=1e-7)"
        ]
    );
    // --config: one file for everything; --isolated: none.
    assert_eq!(
        fixes(&["--config", "own.toml", "a.py", "c/a.py"]),
        ["torch.clamp(p, min=1e-6)", "torch.clamp(p, min=1e-6)"]
    );
    assert_eq!(fixes(&["--isolated", "a.py"]), ["torch.clamp(p, min=1e-7)"]);
    assert_usage_error(&nanlint(dir.path(), &["check", "--config", "nope.toml"]), "--config nope.toml: no such file");
    // A folder given as the file says so (it was called "no such file").
    assert_usage_error(&nanlint(dir.path(), &["check", "--config", "c"]), "--config c: a folder");
    // A broken file names itself with line and column.
    let broken = project(&[("nanlint.toml", "select = [\"NL1\"\nepsilon = 1e-3\n"), ("a.py", SMELLY)]);
    assert_usage_error(&nanlint(broken.path(), &["check"]), "nanlint.toml:2:1: ");
}

#[test]
fn unsafe_fixes_alone_write_nothing() {
    let dir = project(&[("a.py", SMELLY)]);
    let run = nanlint(dir.path(), &["check", "--unsafe-fixes", "a.py"]);
    assert_eq!(run.code, 1);
    assert_eq!(read(dir.path(), "a.py"), SMELLY);
    assert!(run.stdout.ends_with("Found 1 smell.\n1 fix available with `--fix`.\n"), "{}", run.stdout);
}

#[test]
fn fix_choice_picks_an_alternative() {
    // `p * log(p)`: the clip (raising `p` to eps) is preferred; xlogy is the alternative.
    let src = "import numpy as np\n\ndef f(p):\n    return -np.sum(p * np.log(p))\n";
    let dir = project(&[("a.py", src), ("b.py", src)]);
    let run = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "--fix-choice", "NL101:xlogy", "a.py"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(
        read(dir.path(), "a.py"),
        "import numpy as np\nfrom scipy.special import xlogy\n\ndef f(p):\n    return -np.sum(xlogy(p, p))\n"
    );
    // The JSON `fix` is the chosen one.
    let json_fix = codes_and_fix(dir.path(), &["--fix-choice", "xlogy", "b.py"]);
    assert_eq!(json_fix, [("b.py".into(), "from scipy.special import xlogy\n".into())]);
    // A choice that matches nothing says so, and the preferred fix applies.
    let run = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "--fix-choice", "xlgy", "b.py"]);
    assert_eq!(run.stderr, "nanlint: warning: --fix-choice xlgy matched no fix; the preferred fixes apply\n");
    assert!(read(dir.path(), "b.py").contains("np.maximum(p, 1e-7)"));
    assert_usage_error(&nanlint(dir.path(), &["check", "--fix-choice", "NOPE:xlogy"]), "unknown rule selector");
}

#[test]
fn negative_epsilon_is_a_value() {
    let dir = project(&[("a.py", SMELLY)]);
    assert_usage_error(
        &nanlint(dir.path(), &["check", "--epsilon", "-1e-7", "a.py"]),
        "epsilon must be a number in (0, 1), got -1e-7",
    );
}

#[test]
fn stdin_is_checked_and_fixed_to_stdout() {
    let dir = project(&[("sub/nanlint.toml", "epsilon = 1e-3\n")]);
    let run = nanlint_with(dir.path(), &["check", "--output-format", "concise", "-"], SMELLY.as_bytes(), &[]);
    assert_eq!((run.code, findings(&run)), (1, vec!["-:3:5: NL101".to_string()]));
    // --stdin-filename names it and picks its configuration.
    let args = ["check", "--output-format", "json", "--stdin-filename", "sub/model.py"];
    let run = nanlint_with(dir.path(), &args, SMELLY.as_bytes(), &[]);
    let e = &json(&run)[0];
    assert!(e["filename"].as_str().unwrap().ends_with("sub/model.py"), "{e}");
    assert_eq!(e["fix"]["edits"][0]["content"], "torch.clamp(p, min=1e-3)");
    // With --fix the fixed source goes to stdout, the findings to stderr.
    let args = ["check", "--fix", "--unsafe-fixes", "--stdin-filename", "sub/model.py"];
    let run = nanlint_with(dir.path(), &args, SMELLY.as_bytes(), &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "import torch\np = torch.relu(x)\ny = torch.log(torch.clamp(p, min=1e-3))\n");
    assert_eq!(run.stderr, "Found 1 smell (1 fixed, 0 remaining).\n");
    assert!(!dir.path().join("sub/model.py").exists());
    // Nothing to fix: the source comes back as it was.
    let run = nanlint_with(dir.path(), &["check", "--fix", "-"], CLEAN.as_bytes(), &[]);
    assert_eq!((run.code, run.stdout.as_str()), (0, CLEAN));
    // With paths, stdin was not read and --stdin-filename was dropped in silence.
    write(dir.path(), "a.py", SMELLY.as_bytes());
    let args = ["check", "--stdin-filename", "sub/model.py", "a.py"];
    let run = nanlint_with(dir.path(), &args, CLEAN.as_bytes(), &[]);
    assert_usage_error(
        &run,
        "--stdin-filename names the source read from stdin; it cannot be used with the path a.py (see `nanlint check --help`)",
    );
    // `-` is stdin itself.
    let args = ["check", "--stdin-filename", "sub/model.py", "-"];
    assert_eq!(nanlint_with(dir.path(), &args, CLEAN.as_bytes(), &[]).code, 0);
}

#[test]
fn diff_prints_what_fixes_would_change() {
    let dir = project(&[("a.py", SMELLY), ("clean.py", CLEAN)]);
    let run = nanlint(dir.path(), &["check", "--diff", "--unsafe-fixes", "a.py", "clean.py"]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stdout,
        "--- a.py\n+++ a.py\n@@ -1,3 +1,3 @@\n import torch\n p = torch.relu(x)\n-y = torch.log(p)\n+y = torch.log(torch.clamp(p, min=1e-7))\n\n"
    );
    assert_eq!(run.stderr, "Would fix 1 smell.\n");
    assert_eq!(read(dir.path(), "a.py"), SMELLY, "--diff writes nothing");
    // Without unsafe fixes nothing would change; the note says what `--unsafe-fixes` adds.
    let run = nanlint(dir.path(), &["check", "--diff", "a.py"]);
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "", "No fixes available (1 more fix with `--unsafe-fixes`).\n")
    );
    let run = nanlint(dir.path(), &["check", "--diff", "clean.py"]);
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, "", "No fixes available.\n"));
    // As ruff's, `--diff` wins over `--fix`: the same diff, nothing written (it was refused).
    let with_fix = nanlint(dir.path(), &["check", "--fix", "--diff", "--unsafe-fixes", "a.py"]);
    assert_eq!((with_fix.code, with_fix.stderr.as_str()), (1, "Would fix 1 smell.\n"));
    assert!(with_fix.stdout.contains("+y = torch.log(torch.clamp(p, min=1e-7))"), "{}", with_fix.stdout);
    assert_eq!(read(dir.path(), "a.py"), SMELLY, "--fix --diff writes nothing");
    let from_stdin =
        nanlint_with(dir.path(), &["check", "--fix", "--diff", "--unsafe-fixes", "-"], SMELLY.as_bytes(), &[]);
    assert_eq!(from_stdin.stdout, with_fix.stdout.replace("a.py", "-"), "stdin's diff, not its fixed source");
    let run = nanlint(dir.path(), &["check", "--diff", "--show-fixes", "--fix", "a.py"]);
    assert_usage_error(&run, "'--diff' cannot be used with '--show-fixes'");
    // --statistics with it was dropped in silence; the two do not combine.
    let run = nanlint(dir.path(), &["check", "--diff", "--statistics", "a.py"]);
    assert_usage_error(&run, "'--diff' cannot be used with '--statistics'");
    // clap's lines before its usage make the one line: the values a flag takes included.
    let run = nanlint(dir.path(), &["check", "--output-format", "xml", "a.py"]);
    assert_usage_error(
        &run,
        "invalid value 'xml' for '--output-format <OUTPUT_FORMAT>' [possible values: full, concise, json, sarif, github, gitlab, junit] (see `nanlint --help`)",
    );
    // So were the machine formats other than JSON: --statistics printed its text table.
    for format in ["sarif", "github", "gitlab", "junit"] {
        let run = nanlint(dir.path(), &["check", "--statistics", "--output-format", format, "a.py"]);
        assert_usage_error(
            &run,
            &format!("--statistics prints text or JSON; it cannot be used with --output-format {format}"),
        );
    }
}

#[test]
fn statistics_show_fixes_quiet_and_silent() {
    let dir = project(&[
        ("a.py", "import torch\ny = torch.log(torch.relu(p))\nz = torch.log(torch.relu(q))\n"),
        ("b.py", "def f(:\n    import numpy as np\n    np.log(np.maximum(x, 0))\n"),
    ]);
    let run = nanlint(dir.path(), &["check", "--statistics"]);
    assert_eq!(run.code, 1);
    // Most frequent first; the smell inside the broken function counts too.
    assert_eq!(run.stdout, "3\tNL101\t[ ] log-of-possibly-zero\n1\tNL000\t[ ] syntax-error\n");
    let run = nanlint(dir.path(), &["check", "--statistics", "--unsafe-fixes", "--output-format", "json", "a.py"]);
    assert_eq!(
        json(&run),
        [serde_json::json!({"code": "NL101", "name": "log-of-possibly-zero", "count": 2, "fixable": true})]
    );
    let quiet = nanlint(dir.path(), &["check", "-q", "--output-format", "concise", "a.py"]);
    assert_eq!((quiet.code, quiet.stdout.lines().count()), (1, 2), "{}", quiet.stdout);
    let silent = nanlint(dir.path(), &["check", "-s", "a.py"]);
    assert_eq!((silent.code, silent.stdout.as_str(), silent.stderr.as_str()), (1, "", ""));
    let run = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "--show-fixes", "a.py"]);
    assert_eq!(
        run.stdout,
        "Fixed 2 smells:\n- a.py:\n    2 × NL101 (log-of-possibly-zero)\n\nFound 2 smells (2 fixed, 0 remaining).\n"
    );
    // Without --fix there is nothing to list: the flag was ignored without a word.
    let run = nanlint(dir.path(), &["check", "--show-fixes", "a.py"]);
    assert_usage_error(&run, "--show-fixes lists what --fix changed; it needs --fix (see `nanlint check --help`)");
}

/// A selection that enables no rule (`select = []`, `--ignore ALL`) says so: "All checks
/// passed!" alone reads as a clean file.
#[test]
fn a_selection_enabling_no_rule_is_warned_of() {
    let dir =
        project(&[("a.py", SMELLY), ("quiet/pyproject.toml", "[tool.nanlint]\nselect = []\n"), ("quiet/b.py", SMELLY)]);
    let warning = |source: &str| {
        format!(
            "nanlint: warning: no rule is enabled (the selection of {source}): only syntax errors and unreadable files are reported\n"
        )
    };
    let run = nanlint(dir.path(), &["check", "quiet"]);
    assert_eq!((run.code, run.stderr), (0, warning("quiet/pyproject.toml")));
    let run = nanlint(dir.path(), &["check", "--isolated", "--ignore", "ALL", "a.py"]);
    assert_eq!((run.code, run.stderr), (0, warning("--select/--extend-select/--ignore")));
    let run = nanlint(dir.path(), &["check", "--extend-select", "NL1", "quiet"]);
    assert_eq!((run.code, run.stderr.as_str()), (1, ""));
    // Syntax errors alone, asked for by name: no warning.
    let run = nanlint(dir.path(), &["check", "--isolated", "--select", "NL000", "a.py"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    // Both folders: one warning, for the one that enables nothing.
    let run = nanlint(dir.path(), &["check", "a.py", "quiet"]);
    assert_eq!((run.code, run.stderr), (1, warning("quiet/pyproject.toml")));
}

#[test]
fn add_noqa_silences_each_flagged_line() {
    let src = "import torch\ny = torch.log(torch.relu(p))  # why\nz = torch.log(torch.relu(q)) + torch.log(torch.sigmoid(r))  # noqa: NL999\n";
    let dir = project(&[("a.py", src), ("b.py", "import torch\ny = torch.log(torch.relu(p)) + \\\n    1\n")]);
    let run = nanlint(dir.path(), &["check", "--add-noqa", "a.py"]);
    let unknown = "nanlint: warning: a.py:3: `# noqa` names `NL999`, which is no nanlint rule (`nanlint rule --all` \
                   lists them); it silences nothing\n";
    assert_eq!((run.code, run.stderr.as_str()), (0, format!("{unknown}Added 2 noqa directives.\n").as_str()));
    assert_eq!(
        read(dir.path(), "a.py"),
        "import torch\ny = torch.log(torch.relu(p))  # why  # noqa: NL101\nz = torch.log(torch.relu(q)) + torch.log(torch.sigmoid(r))  # noqa: NL999, NL101, NL103\n"
    );
    assert_eq!(nanlint(dir.path(), &["check", "a.py"]).code, 0);
    // A line that continues: the comment would break it, so nothing is written, and stderr says
    // where and why; as ruff's `--add-noqa`, the exit code is 0.
    let run = nanlint(dir.path(), &["check", "--add-noqa", "b.py"]);
    let want = "nanlint: warning: b.py:2: no `# noqa` added: the line continues onto the next with a backslash; \
                silence its finding with `per-file-ignores` or split the line\nAdded 0 noqa directives.\n";
    assert_eq!((run.code, run.stderr.as_str()), (0, want));
    assert_eq!(read(dir.path(), "b.py"), "import torch\ny = torch.log(torch.relu(p)) + \\\n    1\n");
}

/// A line that cannot take a comment is named (a newcomer could not tell which of a file's lines
/// blocked it), and the others get theirs.
#[test]
fn add_noqa_names_the_line_that_cannot_take_a_comment() {
    let src = "import torch\n\na = torch.log(torch.relu(p))\nb = torch.log(torch.relu(q)); s = \"\"\"x\ny\"\"\"\n";
    let dir = project(&[("c.py", src)]);
    let run = nanlint(dir.path(), &["check", "--add-noqa", "c.py"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stderr.contains("c.py:4: no `# noqa` added: the line ends inside a string"), "{}", run.stderr);
    assert!(run.stderr.ends_with("Added 1 noqa directive.\n"), "{}", run.stderr);
    assert_eq!(read(dir.path(), "c.py"), src.replace("relu(p))\n", "relu(p))  # noqa: NL101\n"));
    // Regressions (a newcomer's run): a string continued with a backslash, and an f-string's
    // replacement field left open, got a comment written into them (the first no longer
    // parsed; `#` in a replacement field is a syntax error before Python 3.12).
    let head = "import torch\na = torch.log(torch.softmax(z, 1)) + len(";
    for (name, tail) in [("d.py", "\"abc\\\ndef\")\n"), ("e.py", "f\"\"\"{x\n}\"\"\")\n"), ("f.py", "f\"{x +\n1}\")\n")]
    {
        let src = format!("{head}{tail}");
        let dir = project(&[(name, &src)]);
        let run = nanlint(dir.path(), &["check", "--isolated", "--add-noqa", name]);
        let want = format!("{name}:2: no `# noqa` added: the line ends inside a string");
        assert!(run.stderr.contains(&want), "{}", run.stderr);
        assert_eq!(read(dir.path(), name), src);
    }
    // In a notebook, the line is named by its cell.
    let nb = r##"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
      {"cell_type": "code", "metadata": {}, "source": ["import torch\n"]},
      {"cell_type": "code", "metadata": {}, "source": ["y = 1\n", "a = torch.log(torch.softmax(z, 1)); s = '''x\n", "'''\n"]}]}"##;
    let dir = project(&[("n.ipynb", nb)]);
    let run = nanlint(dir.path(), &["check", "--isolated", "--add-noqa", "n.ipynb"]);
    assert!(
        run.stderr.contains("n.ipynb:cell 2:2: no `# noqa` added: the line ends inside a string"),
        "{}",
        run.stderr
    );
    assert_eq!(read(dir.path(), "n.ipynb"), nb);
}

/// Regression (a newcomer's trial): one line that could not take a comment made `--add-noqa`
/// refuse the whole file. Every other flagged line gets its comment; each one that cannot is
/// named on stderr with why, and the exit code is 0, as ruff's `--add-noqa`.
#[test]
fn add_noqa_writes_every_line_that_can_take_a_comment_and_names_the_others() {
    let src = "import torch\n\na = torch.log(torch.relu(p)); s = \"\"\"x\ny\"\"\"\nb = torch.log(torch.relu(q))\nc = torch.log(torch.relu(r)) + \\\n    1\nd = torch.log(torch.relu(t)); u = f\"{t +\n1}\"\ne = torch.log(torch.relu(w))\n";
    let dir = project(&[("g.py", src)]);
    let run = nanlint(dir.path(), &["check", "--isolated", "--add-noqa", "g.py"]);
    let refused = |row: usize, why: &str| {
        format!(
            "nanlint: warning: g.py:{row}: no `# noqa` added: the line {why}; silence its finding with \
             `per-file-ignores` or split the line\n"
        )
    };
    let string = "ends inside a string (a `#` there would be text)";
    let want = [
        refused(3, string),
        refused(6, "continues onto the next with a backslash"),
        refused(8, string),
        "Added 2 noqa directives.\n".to_string(),
    ]
    .concat();
    assert_eq!((run.code, run.stderr.as_str()), (0, want.as_str()));
    let written =
        src.replace("relu(q))\n", "relu(q))  # noqa: NL101\n").replace("relu(w))\n", "relu(w))  # noqa: NL101\n");
    assert_eq!(read(dir.path(), "g.py"), written);
    // What is left is exactly the three lines named.
    let left = nanlint(dir.path(), &["check", "--isolated", "--output-format", "concise", "g.py"]);
    let rows: Vec<&str> =
        left.stdout.lines().filter(|l| l.contains(": NL")).map(|l| l.split(':').nth(1).unwrap()).collect();
    assert_eq!(rows, ["3", "6", "8"], "{}", left.stdout);
    // On stdin the same: the source with the comments that fit on stdout, the others named.
    let args = ["check", "--isolated", "--add-noqa", "--stdin-filename", "g.py"];
    let run = nanlint_with(dir.path(), &args, src.as_bytes(), &[]);
    assert_eq!((run.code, run.stdout.as_str(), run.stderr.as_str()), (0, written.as_str(), want.as_str()));
}

/// Regression (a newcomer's run): a string holding `# noqa: ...` on a flagged line, or a list
/// whose codes are glued (`NL103NL102`), made `--add-noqa` refuse the whole file, saying a line
/// "ends inside a string".
#[test]
fn add_noqa_writes_past_noqa_text_in_strings_and_glued_codes() {
    let src = "import torch\n\n\ndef f(z):\n    a = torch.log(torch.sigmoid(z)); s = \"# noqa: NL102\"\n    b = torch.log(torch.sigmoid(z))  # noqa: NL103NL102\n    return a, b\n";
    let dir = project(&[("a.py", src)]);
    let run = nanlint(dir.path(), &["check", "--isolated", "--add-noqa", "a.py"]);
    assert!(run.stderr.ends_with("Added 2 noqa directives.\n"), "{}", run.stderr);
    assert!(run.stderr.contains("`NL103NL102`, which is no nanlint rule: codes are separated"), "{}", run.stderr);
    assert_eq!(
        read(dir.path(), "a.py"),
        src.replace("\"# noqa: NL102\"\n", "\"# noqa: NL102\"  # noqa: NL103\n")
            .replace("NL103NL102\n", "NL103NL102, NL103\n")
    );
    assert_eq!(nanlint(dir.path(), &["check", "--isolated", "a.py"]).code, 0);
}

/// Regression (a newcomer's run): `--add-noqa` on stdin said "Added 1 noqa directive" and wrote
/// nothing anywhere; and `# noqa:ALL` made `--add-noqa` refuse the whole file.
#[test]
fn add_noqa_on_stdin_writes_the_source_and_a_colon_glued_word_stays_a_word() {
    let src = "import torch\n\n\ndef f(z):\n    a = torch.log(torch.softmax(z, -1))  # noqa:ALL\n    b = torch.log(torch.softmax(z, -1))\n    return a, b\n";
    let dir = project(&[]);
    let run = nanlint_with(dir.path(), &["check", "--isolated", "--add-noqa", "-"], src.as_bytes(), &[]);
    let with = src.replace("# noqa:ALL", "# noqa: NL102 ALL").replace(
        "    b = torch.log(torch.softmax(z, -1))\n",
        "    b = torch.log(torch.softmax(z, -1))  # noqa: NL102\n",
    );
    assert_eq!((run.code, run.stdout.as_str()), (0, with.as_str()), "{}", run.stderr);
    assert!(run.stderr.contains("Added 2 noqa directives."), "{}", run.stderr);
    let again = nanlint_with(dir.path(), &["check", "--isolated", "-"], with.as_bytes(), &[]);
    assert_eq!(again.code, 0, "{}", again.stdout);
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let dir = project(&[("a.py", SMELLY)]);
    let plain = nanlint_with(dir.path(), &["check", "--output-format", "concise"], b"", &[]);
    assert!(!plain.stdout.contains('\x1b'), "a pipe gets no colour");
    let always = nanlint_with(dir.path(), &["check", "--color", "always"], b"", &[("NO_COLOR", "1")]);
    assert!(always.stdout.contains("\x1b["), "{}", always.stdout);
    let forced = nanlint_with(dir.path(), &["check"], b"", &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]);
    assert!(!forced.stdout.contains('\x1b'), "NO_COLOR wins over CLICOLOR_FORCE");
    let forced = nanlint_with(dir.path(), &["check"], b"", &[("CLICOLOR_FORCE", "1")]);
    assert!(forced.stdout.contains("\x1b["));
    // Machine formats never carry colour.
    let json = nanlint_with(dir.path(), &["check", "--color", "always", "--output-format", "json"], b"", &[]);
    assert!(!json.stdout.contains('\x1b'));
}

#[test]
fn github_gitlab_and_junit_formats() {
    let src = "import numpy as np\n\ndef f(p):\n    return -np.sum(p * np.log(p))\n";
    let dir = project(&[("pkg/a, b.py", src)]);
    let run = nanlint(dir.path(), &["check", "--output-format", "github"]);
    assert_eq!(run.code, 1);
    let message =
        json(&nanlint(dir.path(), &["check", "--output-format", "json"]))[0]["message"].as_str().unwrap().to_string();
    assert_eq!(
        run.stdout,
        format!(
            "::error title=nanlint (NL101),file=pkg/a%2C b.py,line=4,col=24,endLine=4,endColumn=33::pkg/a, b.py:4:24: \
             NL101 {message}\n"
        )
    );

    let run = nanlint_with(
        dir.path(),
        &["check", "--output-format", "gitlab"],
        b"",
        &[("CI_PROJECT_DIR", dir.path().to_str().unwrap())],
    );
    let entries = json(&run);
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e["check_name"], "NL101");
    assert!(e["description"].as_str().unwrap().starts_with("NL101: `np.log` of "));
    assert_eq!(e["severity"], "major");
    assert_eq!(e["location"]["path"], "pkg/a, b.py");
    assert_eq!(
        e["location"]["positions"],
        serde_json::json!({"begin": {"line": 4, "column": 24}, "end": {"line": 4, "column": 33}})
    );
    assert_eq!(e["fingerprint"].as_str().unwrap().len(), 16);
    let again = nanlint_with(
        dir.path(),
        &["check", "--output-format", "gitlab"],
        b"",
        &[("CI_PROJECT_DIR", dir.path().to_str().unwrap())],
    );
    assert_eq!(json(&again)[0]["fingerprint"], e["fingerprint"], "fingerprints are stable");

    let run = nanlint(dir.path(), &["check", "--output-format", "junit"]);
    assert!(run.stdout.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"nanlint\" tests=\"1\" skipped=\"0\" failures=\"1\" errors=\"0\">"), "{}", run.stdout);
    assert!(run.stdout.contains("<testsuite name=\"pkg/a, b.py\" tests=\"1\" skipped=\"0\" errors=\"0\" failures=\"1\" package=\"org.nanlint\">"), "{}", run.stdout);
    assert!(
        run.stdout.contains("<testcase name=\"org.nanlint.NL101\" classname=\"pkg/a, b\" line=\"4\" column=\"24\">"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&format!(">line 4, col 24, {}</failure>", message)), "{}", run.stdout);
    let clean = project(&[("a.py", CLEAN)]);
    let run = nanlint(clean.path(), &["check", "--output-format", "junit"]);
    assert!(run.stdout.contains("<testcase name=\"No errors found\" classname=\"nanlint\"/>"), "{}", run.stdout);
    assert_eq!(run.code, 0);
}

#[test]
fn sarif_holds_rules_locations_and_fixes() {
    let src = "import torch\n\ndef f(z, y):\n    p = torch.relu(z)\n    return -(y * torch.log(p)).sum()\n";
    let dir = project(&[("src/a b.py", src)]);
    let run = nanlint(dir.path(), &["check", "--output-format", "sarif", "--output-file", "out.sarif"]);
    assert_eq!((run.code, run.stdout.as_str()), (1, ""));
    let sarif: Value = serde_json::from_str(&read(dir.path(), "out.sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run0 = &sarif["runs"][0];
    assert_eq!(run0["columnKind"], "unicodeCodePoints");
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids[..2], ["NL000", "NL001"]);
    let nl101 = rules.iter().position(|r| r["id"] == "NL101").unwrap();
    assert_eq!(rules[nl101]["name"], "log-of-possibly-zero");
    assert_eq!(rules[nl101]["help"]["markdown"], nanlint::rules::by_code("NL101").unwrap().doc);
    let result = &run0["results"][0];
    assert_eq!((result["ruleId"].as_str(), result["ruleIndex"].as_u64()), (Some("NL101"), Some(nl101 as u64)));
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"], serde_json::json!({"uri": "src/a%20b.py", "uriBaseId": "%SRCROOT%"}));
    assert_eq!(loc["region"], serde_json::json!({"startLine": 5, "startColumn": 18, "endLine": 5, "endColumn": 30}));
    let base = run0["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap();
    assert!(base.starts_with("file:///") && base.ends_with('/'), "{base}");
    assert_eq!(result["relatedLocations"][0]["physicalLocation"]["region"]["startLine"], 4);
    let fixes = result["fixes"].as_array().unwrap();
    assert_eq!(fixes.len(), 2);
    let change = &fixes[1]["artifactChanges"][0];
    assert_eq!(change["replacements"][0]["insertedContent"]["text"], "torch.xlogy(y, p)");
    assert_eq!(change["replacements"][0]["deletedRegion"]["startColumn"], 14);
    assert_eq!(fixes[1]["properties"]["applicability"], "unsafe");
}

#[test]
fn the_readme_sample_output_is_what_nanlint_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let intro = "`nanlint check examples/` (exit code 1):\n\n```text\n";
    let start = readme.find(intro).expect("the README shows a sample run") + intro.len();
    let sample = &readme[start..start + readme[start..].find("```").unwrap()];
    let run = nanlint(root, &["check", "examples/"]);
    assert_eq!((run.code, run.stdout.as_str()), (1, sample));
}

// Jupyter notebooks: tests/notebooks/*.ipynb, written as nbformat writes them (indent 1, sorted
// keys, non-ASCII as is). flow.ipynb: cell 1 (code, `source` a list) imports, cell 2 is
// markdown, cell 3 (`source` a string) assigns a softmax, cell 4 is a `%%time` cell (skipped),
// cell 5 (a list) takes the logs, between shell escapes, help lines and line magics.
const FLOW: &str = include_str!("notebooks/flow.ipynb");

#[test]
fn notebooks_are_checked_as_one_program_and_located_by_cell() {
    let dir =
        project(&[("flow.ipynb", FLOW), ("sub/nb.ipynb", FLOW), (".ipynb_checkpoints/flow-checkpoint.ipynb", FLOW)]);
    let run = concise(dir.path(), &["flow.ipynb"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    // `p` comes from cell 3, `q` from an import of cell 1; nothing in the skipped `%%time` cell
    // or the markdown cell; rows count from the start of each cell, cells from the first cell.
    assert_eq!(lines.len(), 4, "{}", run.stdout);
    assert!(lines[0].starts_with("flow.ipynb:cell 5:1:8: NL102 `torch.log` of `p`"), "{}", run.stdout);
    assert!(lines[1].starts_with("flow.ipynb:cell 5:7:5: NL102 `np.log` of `q`"), "{}", run.stdout);

    let full = nanlint(dir.path(), &["check", "flow.ipynb"]);
    assert!(full.stdout.contains("  |\n1 | loss = torch.log(p)\n  |        ^^^^^^^^^^^^ NL102\n"), "{}", full.stdout);
    assert!(full.stdout.contains("= note: cell 3, line 2: `p` is assigned a softmax output here"), "{}", full.stdout);

    // A folder walk picks notebooks up, skipping `.ipynb_checkpoints` as ruff does.
    let all = concise(dir.path(), &["."]);
    let files: std::collections::BTreeSet<&str> =
        all.stdout.lines().filter(|l| l.contains(": NL")).map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(files.into_iter().collect::<Vec<_>>(), ["flow.ipynb", "sub/nb.ipynb"]);
}

#[test]
fn notebook_json_and_ci_formats_name_the_cell() {
    let dir = project(&[("flow.ipynb", FLOW), ("a.py", SMELLY)]);
    let run = nanlint(dir.path(), &["check", "--output-format", "json", "flow.ipynb", "a.py"]);
    let entries = json(&run);
    assert_eq!(entries.len(), 3);
    assert!(entries[0]["cell"].is_null(), "a Python file has no cell");
    assert_eq!(entries[0]["filename"].as_str().map(|f| f.ends_with("a.py")), Some(true));
    let (first, second) = (&entries[1], &entries[2]);
    assert_eq!(
        (first["cell"].as_u64(), location(&first["location"]), location(&first["end_location"])),
        (Some(5), (1, 8), (1, 20))
    );
    assert_eq!((second["cell"].as_u64(), location(&second["location"])), (Some(5), (7, 5)));
    let edit = &first["fix"]["edits"][0];
    assert_eq!((edit["content"].as_str(), location(&edit["location"])), (Some("torch.log_softmax(z, -1)"), (1, 8)));

    for format in ["sarif", "github", "gitlab", "junit", "full", "concise"] {
        let run = nanlint(dir.path(), &["check", "--output-format", format, "flow.ipynb"]);
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        assert!(run.stdout.contains("cell 5"), "{format}: {}", run.stdout);
    }
    let github = nanlint(dir.path(), &["check", "--output-format", "github", "flow.ipynb"]);
    assert!(github.stdout.contains("::flow.ipynb:cell 5:1:8: NL102 "), "{}", github.stdout);
    let stats = nanlint(dir.path(), &["check", "--statistics", "flow.ipynb"]);
    assert_eq!(stats.stdout, "2\tNL102\t[*] log-of-softmax\n");
}

/// `original` with each (from, to) replaced exactly once.
fn replaced(original: &str, edits: &[(&str, &str)]) -> String {
    let mut out = original.to_string();
    for (from, to) in edits {
        assert_eq!(out.matches(from).count(), 1, "{from:?} occurs once");
        out = out.replacen(from, to, 1);
    }
    out
}

/// flow.ipynb after `--fix --unsafe-fixes`: an import added at the top of cell 1's list, cell
/// 5's lines rewritten.
fn flow_fixed() -> String {
    replaced(
        FLOW,
        &[
            (
                "    \"%matplotlib inline\\n\",\n",
                "    \"from scipy.special import log_softmax\\n\",\n    \"%matplotlib inline\\n\",\n",
            ),
            ("\"loss = torch.log(p)\\n\"", "\"loss = torch.log_softmax(z, -1)\\n\""),
            (
                "    \"q = softmax(z.numpy())\\n\",\n    \"r = np.log(q)\"\n",
                "    \"logits = z.numpy()\\n\",\n    \"q = softmax(logits)\\n\",\n    \"r = log_softmax(logits)\"\n",
            ),
        ],
    )
}

#[test]
fn notebook_fixes_rewrite_only_the_changed_cell_sources() {
    let dir = project(&[("flow.ipynb", FLOW)]);
    let diff = nanlint(dir.path(), &["check", "--diff", "--unsafe-fixes", "flow.ipynb"]);
    assert_eq!(diff.code, 1, "{}", diff.stderr);
    assert!(diff.stdout.starts_with("--- flow.ipynb:cell 1\n+++ flow.ipynb:cell 1\n"), "{}", diff.stdout);
    assert!(diff.stdout.contains("--- flow.ipynb:cell 5\n+++ flow.ipynb:cell 5\n"), "{}", diff.stdout);
    assert!(diff.stdout.contains("\n !nvidia-smi\n torch.log?\n"), "IPython lines shown as they are: {}", diff.stdout);
    assert_eq!(read(dir.path(), "flow.ipynb"), FLOW, "--diff writes nothing");

    let run = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "flow.ipynb"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stdout, "Found 2 smells (2 fixed, 0 remaining).\n");
    // The whole file: only the two sources changed (an import added at the top of cell 1's list,
    // cell 5's lines); outputs, metadata, the markdown cell, the magics and the layout kept byte for byte.
    let expected = flow_fixed();
    let fixed = read(dir.path(), "flow.ipynb");
    assert_eq!(fixed, expected);
    let back: Value = serde_json::from_str(&fixed).unwrap();
    assert_eq!(back["cells"][4]["source"][1], "!nvidia-smi\n");
    assert_eq!(concise(dir.path(), &["flow.ipynb"]).code, 0);
}

#[test]
fn notebook_cells_with_old_mac_or_windows_line_endings_are_lines() {
    // Notebook cells were split into lines at `\n` only: in a cell ending its lines with a lone
    // `\r` an IPython line was not blanked (a false NL000 that hid the cell's findings) and rows
    // were counted wrong.
    let fixed_lf = flow_fixed();
    for ending in ["\\r", "\\r\\n"] {
        // In the JSON text: every newline of a source string written as `ending`.
        let notebook = FLOW.replace("\\n", ending);
        let dir = project(&[("flow.ipynb", &notebook)]);
        let run = concise(dir.path(), &["--isolated", "flow.ipynb"]);
        assert_eq!(run.code, 1, "{ending}: {}{}", run.stdout, run.stderr);
        let got: Vec<&str> =
            run.stdout.lines().filter_map(|l| l.split(" NL").next().filter(|_| l.contains(": NL"))).collect();
        assert_eq!(got, ["flow.ipynb:cell 5:1:8:", "flow.ipynb:cell 5:7:5:"], "{ending}: {}", run.stdout);
        let run = nanlint(dir.path(), &["check", "--isolated", "--fix", "--unsafe-fixes", "flow.ipynb"]);
        assert_eq!(run.stdout, "Found 2 smells (2 fixed, 0 remaining).\n", "{ending}: {}", run.stderr);
        // The same rewrite as with `\n`, each added line ending as the cell's lines do.
        assert_eq!(read(dir.path(), "flow.ipynb"), fixed_lf.replace("\\n", ending), "{ending}");
    }
}

#[test]
fn notebook_string_sources_stay_strings_and_noqa_goes_into_the_cell() {
    let nb = r#"{"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": null, "source": "import torch\np = torch.relu(x)\n%time y = torch.log(p)\nw = torch.log(p)  # safe?\nz = torch.log(p)"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}"#;
    let dir = project(&[("s.ipynb", nb)]);
    let run = concise(dir.path(), &["s.ipynb"]);
    // The `%time` line is blanked; a comment's question mark is no help request.
    let rows: Vec<&str> = run.stdout.lines().filter(|l| l.contains(": NL")).map(|l| &l[..25]).collect();
    assert_eq!(rows, ["s.ipynb:cell 1:4:5: NL101", "s.ipynb:cell 1:5:5: NL101"], "{}", run.stdout);
    let run = nanlint(dir.path(), &["check", "--add-noqa", "s.ipynb"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let noqa = nb
        .replace("# safe?\\n", "# safe?  # noqa: NL101\\n")
        .replace("z = torch.log(p)\"", "z = torch.log(p)  # noqa: NL101\"");
    assert_eq!(read(dir.path(), "s.ipynb"), noqa);
    assert_eq!(concise(dir.path(), &["s.ipynb"]).stdout, "All checks passed!\n");
}

#[test]
fn invalid_notebooks_are_reported_and_the_rest_checked() {
    let dir = project(&[
        ("invalid.ipynb", include_str!("notebooks/invalid.ipynb")),
        ("nbformat3.ipynb", include_str!("notebooks/nbformat3.ipynb")),
        ("a.py", SMELLY),
    ]);
    let run = concise(dir.path(), &["."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("a.py:3:5: NL101 "), "{}", run.stdout);
    assert!(
        lines[1].starts_with(
            "invalid.ipynb:1:1: NL001 not a valid Jupyter notebook: the file is not valid JSON (EOF while parsing"
        ),
        "{}",
        run.stdout
    );
    assert_eq!(lines[2], "nbformat3.ipynb:1:1: NL001 an nbformat 3 notebook; only nbformat 4 notebooks are read");
    let run = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "."]);
    assert_eq!(run.code, 1);
    assert_eq!(read(dir.path(), "invalid.ipynb"), include_str!("notebooks/invalid.ipynb"));
}

/// Regression (a newcomer's trial): `--fix` rewrote files with syntax errors, where tree-sitter
/// recovered around the error and the code near it may be misread. As ruff, nanlint fixes a file
/// only once it parses: the findings are reported without fixes, and `--fix` and `--diff` say
/// why on stderr, naming the error's line; whatever `select` says about NL000.
#[test]
fn a_file_with_a_syntax_error_is_not_fixed() {
    let src = "import torch\ndef g(z):\n    x = 1 +\n    return torch.log(torch.softmax(z, -1))\n";
    let dir = project(&[("se.py", src)]);
    let warning = "nanlint: warning: se.py: fixes not applied: the file has a syntax error (line 3); a file is \
                   fixed only once it parses, as the code around an error may be misread\n";
    for ignore in [None, Some("NL000")] {
        let mut args = vec!["check", "--isolated", "--fix", "--output-format", "concise", "se.py"];
        args.extend(ignore.iter().flat_map(|code| ["--ignore", code]));
        let run = nanlint(dir.path(), &args);
        assert_eq!(read(dir.path(), "se.py"), src, "{ignore:?}");
        assert_eq!((run.code, run.stderr.as_str()), (1, warning), "{ignore:?}");
        assert!(findings(&run).iter().any(|f| f.contains("NL102")), "{}", run.stdout);
    }
    let run = nanlint(dir.path(), &["check", "--isolated", "--diff", "se.py"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
    assert_eq!(run.stderr, format!("{warning}No fixes available.\n"));
    // The findings show no fix, and none is counted.
    let run = nanlint(dir.path(), &["check", "--isolated", "--output-format", "json", "se.py"]);
    assert!(json(&run).iter().all(|d| d["fix"].is_null()), "{}", run.stdout);
    let run = concise(dir.path(), &["se.py"]);
    assert!(run.stdout.ends_with("Found 1 smell and 1 syntax error.\n"), "{}", run.stdout);
    assert_eq!(run.stderr, "");
    // Once it parses, it is fixed.
    write(dir.path(), "se.py", src.replace("1 +", "1").as_bytes());
    let run = nanlint(dir.path(), &["check", "--isolated", "--fix", "se.py"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert!(read(dir.path(), "se.py").contains("torch.log_softmax(z, -1)"));
    // In a notebook, the line is named in its cell.
    let nb = r#"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
      {"cell_type": "code", "metadata": {}, "source": ["import torch\n"]},
      {"cell_type": "code", "metadata": {}, "source": ["y = (1 +\n", "z = torch.log(torch.softmax(y, -1))\n"]}]}"#;
    let dir = project(&[("n.ipynb", nb)]);
    let run = nanlint(dir.path(), &["check", "--isolated", "--fix", "n.ipynb"]);
    assert!(
        run.stderr.contains("n.ipynb: fixes not applied: the file has a syntax error (cell 2, line 1)"),
        "{}",
        run.stderr
    );
    assert_eq!(read(dir.path(), "n.ipynb"), nb);
}

/// Regression (found by a newcomer run): `--threads 100000` spawned thousands of threads and
/// never finished; it is refused with the accepted range.
#[test]
fn an_absurd_thread_count_is_refused() {
    let dir = project(&[("a.py", "import torch\ny = torch.log(torch.relu(p))\n")]);
    let run = nanlint(dir.path(), &["check", "--threads", "100000", "a.py"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("1..=512") || run.stderr.contains("512"), "{}", run.stderr);
    assert_eq!(nanlint(dir.path(), &["check", "--threads", "512", "a.py"]).code, 1);
}

#[test]
fn a_file_over_max_file_size_is_reported_not_checked() {
    let big = format!("{SMELLY}{}", "# padding\n".repeat(20));
    let dir = project(&[("nanlint.toml", "max-file-size = 100\n"), ("big.py", &big), ("small.py", SMELLY)]);
    let run = nanlint(dir.path(), &["check", "--output-format", "concise", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().filter(|l| l.contains(": NL")).collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert!(lines[0].starts_with("big.py:1:1: NL002 File too large to check: 248 bytes"), "{}", lines[0]);
    assert!(lines[1].starts_with("small.py:3:5: NL101"), "{}", lines[1]);
    // Within the cap, the same file is checked.
    write(dir.path(), "nanlint.toml", b"max-file-size = 1000\n");
    let run = nanlint(dir.path(), &["check", "--output-format", "concise", "big.py"]);
    assert!(run.stdout.starts_with("big.py:3:5: NL101"), "{}", run.stdout);
    // A size that is not a positive number of bytes is a configuration error.
    write(dir.path(), "nanlint.toml", b"max-file-size = -1\n");
    assert_usage_error(&nanlint(dir.path(), &["check", "big.py"]), "max-file-size must be a positive number of bytes");
}

/// Input over `max-file-size` is not kept whole: at most the cap and one byte are, then NL002.
/// Regression: stdin (and `/dev/zero` named as a file) was read to the end before the size was
/// compared, so `nanlint check - < /dev/zero` filled the memory. Then, regression: the rest of a
/// pipe was left unread, so its writer got EPIPE (and failed a `set -o pipefail` pipeline). Here
/// the writer offers 256 MB and writes it all, which nanlint reads into nothing; a device as
/// stdin is not read past the cap; with `--fix` the input comes back as it was.
#[test]
fn stdin_over_max_file_size_is_not_read_whole() {
    use std::io::Write;
    let dir = project(&[("nanlint.toml", "max-file-size = 1000\n")]);
    // Reaped with `wait4` on Linux, which gives its own peak memory below.
    #[allow(clippy::zombie_processes)]
    let mut child = Command::new(env!("CARGO_BIN_EXE_nanlint"))
        .args(["check", "--output-format", "concise", "-"])
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = "# padding\n".repeat(6_400);
        let mut written = 0usize;
        for _ in 0..4_000 {
            if let Err(e) = stdin.write_all(chunk.as_bytes()) {
                return Err((written, e.kind()));
            }
            written += chunk.len();
        }
        Ok(written)
    });
    let mut pipe = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut pipe, &mut text).unwrap();
        text
    });
    // This child's own peak resident size, in KiB: not the 256 MB passed through. (The peak of
    // every child the test process has waited for, `RUSAGE_CHILDREN`, also held other tests'
    // children, one of them over 160 MB in a debug build on a loaded machine.)
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    let (code, peak) = {
        let pid = child.id() as libc::pid_t;
        let mut status = 0;
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
        (libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)), Some(usage.ru_maxrss))
    };
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    let (code, peak) = (child.wait().unwrap().code(), None::<libc::c_long>);
    let written = writer.join().unwrap();
    let stdout = reader.join().unwrap();
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.starts_with("-:1:1: NL002 File too large to check: more than `max-file-size` (1000 bytes) read"),
        "{stdout}"
    );
    assert!(stdout.contains("Found 1 file too large to check."), "{stdout}");
    assert_eq!(written, Ok(256_000_000), "the writer found the pipe closed");
    if let Some(peak) = peak {
        assert!(peak < 160 * 1024, "the child held {peak} KiB");
    }
    // A device has no writer: read up to the cap and no further (an endless read otherwise).
    #[cfg(unix)]
    {
        let out = Command::new(env!("CARGO_BIN_EXE_nanlint"))
            .args(["check", "--output-format", "concise", "-"])
            .current_dir(dir.path())
            .stdin(std::fs::File::open("/dev/zero").unwrap())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{stdout}");
        assert!(stdout.contains("NL002"), "{stdout}");
    }
    // With --fix, what was read and the rest pass through unchanged.
    let input = format!("{SMELLY}{}", "# padding\n".repeat(500));
    let run = nanlint_with(dir.path(), &["check", "--fix", "-"], input.as_bytes(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stdout, input);
    assert!(run.stderr.contains("NL002"), "{}", run.stderr);
}

/// Regression (a newcomer's run): `-o a.py` with `a.py` checked wrote the report over the
/// source. Now a usage error, whether the output names the file, a file in a folder checked, or
/// a hard link to one; the source is kept. A report beside them is written as before.
#[test]
fn an_output_file_that_is_a_file_checked_is_refused() {
    let dir = project(&[("a.py", SMELLY), ("pkg/b.py", SMELLY)]);
    assert_usage_error(
        &nanlint(dir.path(), &["check", "a.py", "-o", "a.py"]),
        "--output-file a.py: is a.py, a file being checked",
    );
    assert_usage_error(&nanlint(dir.path(), &["check", "pkg", "-o", "pkg/b.py"]), "a file being checked");
    #[cfg(unix)]
    {
        std::fs::hard_link(dir.path().join("a.py"), dir.path().join("link.txt")).unwrap();
        assert_usage_error(&nanlint(dir.path(), &["check", "a.py", "-o", "link.txt"]), "a file being checked");
    }
    assert_eq!(read(dir.path(), "a.py"), SMELLY);
    assert_eq!(read(dir.path(), "pkg/b.py"), SMELLY);
    let run = nanlint(dir.path(), &["check", "a.py", "-o", "report.txt"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(read(dir.path(), "report.txt").contains("a.py:"), "{}", read(dir.path(), "report.txt"));
}

/// `--fix` on a file with two hard links replaces it under the name fixed and says that the
/// other name keeps the old text (the links were split in silence).
#[cfg(unix)]
#[test]
fn a_fix_that_splits_hard_links_says_so() {
    let dir = project(&[("h1.py", SMELLY)]);
    std::fs::hard_link(dir.path().join("h1.py"), dir.path().join("h2.py")).unwrap();
    let run = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "h1.py"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "nanlint: warning: h1.py: fixed as a new file under this name; it had 2 hard links, and the other names keep the old text\n"
    );
    assert_eq!(read(dir.path(), "h2.py"), SMELLY);
    assert_ne!(read(dir.path(), "h1.py"), SMELLY);

    // Through a symlink the file written is its target, and the warning names it (it named the
    // symlink, which stays a symlink).
    let dir = project(&[("real.py", SMELLY)]);
    std::fs::hard_link(dir.path().join("real.py"), dir.path().join("hard.py")).unwrap();
    std::os::unix::fs::symlink("real.py", dir.path().join("link.py")).unwrap();
    let run = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "link.py"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "nanlint: warning: link.py: fixed real.py, the file this symlink points to, as a new file under that name; it \
         had 2 hard links, and the other names keep the old text\n"
    );
    assert!(std::fs::symlink_metadata(dir.path().join("link.py")).unwrap().file_type().is_symlink());
    assert_eq!(read(dir.path(), "hard.py"), SMELLY);
    assert_ne!(read(dir.path(), "real.py"), SMELLY);
}

/// A named pipe or a device named `*.py` in a folder is reported (NL001), not opened (a pipe
/// blocks until something writes to it) and not skipped in silence ("All checks passed!" was
/// printed). Named on the command line, a device is read up to `max-file-size`.
#[cfg(unix)]
#[test]
fn special_files_in_a_folder_are_reported_not_read() {
    let dir = project(&[("nanlint.toml", "max-file-size = 1000\n"), ("ok.py", CLEAN)]);
    let made = Command::new("mkfifo").arg(dir.path().join("pipe.py")).status().unwrap();
    assert!(made.success());
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.py")).unwrap();
    let run = nanlint(dir.path(), &["check", "--output-format", "concise", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stdout.lines().filter(|l| l.contains(": NL")).collect::<Vec<_>>(),
        [
            "pipe.py:1:1: NL001 Not a regular file (a named pipe): not read in a folder's walk; name it on the command line to read it",
            "zero.py:1:1: NL001 Not a regular file (a device): not read in a folder's walk; name it on the command line to read it",
        ],
        "{}",
        run.stdout
    );
    let run = nanlint(dir.path(), &["check", "--output-format", "concise", "zero.py"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.starts_with("zero.py:1:1: NL002 File too large to check: more than"), "{}", run.stdout);
}

/// When no file is checked (an exclude that takes every file, a folder with no Python), stderr
/// says so, as ruff does; "All checks passed!" alone read as if the files had been checked.
#[test]
fn no_python_file_found_is_a_warning() {
    let dir = project(&[("m.py", SMELLY), ("notes.txt", "log(0)\n")]);
    let run = nanlint(dir.path(), &["check", "--exclude", "m.py", "."]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "All checks passed!\n"), "{}", run.stderr);
    assert_eq!(run.stderr, "nanlint: warning: No Python files found under the given path(s)\n");
    let run = nanlint(dir.path(), &["check", "."]);
    assert_eq!(run.code, 1);
    assert!(!run.stderr.contains("No Python files"), "{}", run.stderr);
}

/// A finding on a very long line shows an excerpt around it, not the line: printing the whole
/// line under each of its findings made the output (and its memory) quadratic.
#[test]
fn findings_on_a_long_line_show_an_excerpt() {
    let line = format!("y = ({})\n", "torch.log(p), ".repeat(2_000));
    let dir = project(&[("long.py", &format!("import torch\np = torch.relu(x)\n{line}"))]);
    let run = nanlint(dir.path(), &["check", "long.py"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stdout.matches(": NL101 ").count(), 2_000);
    let longest = run.stdout.lines().map(str::len).max().unwrap();
    assert!(longest < 400, "a line of {longest} bytes in the output");
    // The caret still points at its call: the 1,000th call's excerpt starts 40 bytes before it.
    let at = run.stdout.find("long.py:3:13992:").expect("the 1,000th call");
    let excerpt: Vec<&str> = run.stdout[at..].lines().skip(2).take(2).collect();
    let caret = excerpt[1].find('^').unwrap() - excerpt[1].find('|').unwrap();
    assert_eq!(&excerpt[0][excerpt[0].find('|').unwrap() + caret..][..9], "torch.log");
}

/// `text` with each `\n` replaced by `ending`.
fn ended(text: &str, ending: &str) -> String {
    text.replace('\n', ending)
}

const INDENTED: &str = "import torch\n\n\ndef f(x):\n    p = torch.relu(x)\n    if x:\n        q = 1\n    return torch.log(p)\n\n\ndef g(x):\n    return torch.log(torch.softmax(x, 1))\n";

#[test]
fn cr_only_and_mixed_line_endings_are_lines() {
    // tree-sitter starts rows only at `\n`: a file with old Mac line endings (a lone `\r`, a line
    // end for Python) was one line, its indented bodies did not parse (NL000) and their smells
    // were lost, and a `# noqa` anywhere silenced the whole file.
    let mixed = "import torch\r\n\r\rdef f(x):\n    p = torch.relu(x)\r    if x:\r\n        q = 1\r    return torch.log(p)\n\r\rdef g(x):\r\n    return torch.log(torch.softmax(x, 1))\r";
    let dir = project(&[("lf.py", INDENTED), ("mixed.py", mixed)]);
    write(dir.path(), "cr.py", ended(INDENTED, "\r").as_bytes());
    write(dir.path(), "crlf.py", ended(INDENTED, "\r\n").as_bytes());
    let expected = ["8:12: NL101", "12:12: NL102"];
    for name in ["lf.py", "cr.py", "crlf.py", "mixed.py"] {
        let got: Vec<String> = findings(&concise(dir.path(), &["--isolated", name]))
            .into_iter()
            .map(|f| f.trim_start_matches(&format!("{name}:")).to_string())
            .collect();
        assert_eq!(got, expected, "{name}");
    }
    // The full format shows the finding's line, not the lines after it.
    let full = nanlint(dir.path(), &["check", "--isolated", "cr.py"]);
    assert!(full.stdout.contains("8 |     return torch.log(p)\n"), "{}", full.stdout);
    assert!(!full.stdout.contains('\r'), "{:?}", full.stdout);

    // `# noqa` silences its own line only.
    let noqa = ended("import torch  # noqa\np = torch.relu(x)\ny = torch.log(p)\nz = torch.log(p)  # noqa\n", "\r");
    write(dir.path(), "noqa.py", noqa.as_bytes());
    assert_eq!(findings(&concise(dir.path(), &["--isolated", "noqa.py"])), ["noqa.py:3:5: NL101"]);
}

#[test]
fn a_colored_diff_paints_each_line_whatever_ends_it() {
    // The colors were applied per `\n`-ended piece of the diff: with old Mac endings the whole
    // diff was one piece, left unpainted, the removed and the added line among the context.
    let (red, green, reset) = ("\x1b[31m", "\x1b[32m", "\x1b[0m");
    for ending in ["\n", "\r\n", "\r"] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.py", ended(SMELLY, ending).as_bytes());
        let run =
            nanlint(dir.path(), &["check", "--isolated", "--diff", "--unsafe-fixes", "--color", "always", "a.py"]);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let want = format!(
            "--- a.py\n+++ a.py\n@@ -1,3 +1,3 @@\n import torch{ending} p = torch.relu(x){ending}\
             {red}-y = torch.log(p){reset}{ending}{green}+y = torch.log(torch.clamp(p, min=1e-7)){reset}{ending}\n"
        );
        assert_eq!(run.stdout, want, "{ending:?}");
    }
    // A last line without an ending is marked as diff marks it, after the painted line.
    let dir = project(&[("a.py", SMELLY.trim_end())]);
    let run = nanlint(dir.path(), &["check", "--isolated", "--diff", "--unsafe-fixes", "--color", "always", "a.py"]);
    assert!(
        run.stdout.ends_with(&format!(
            "{red}-y = torch.log(p){reset}\n\\ No newline at end of file\n\
             {green}+y = torch.log(torch.clamp(p, min=1e-7)){reset}\n\\ No newline at end of file\n\n"
        )),
        "{:?}",
        run.stdout
    );
}

#[test]
fn fixes_and_noqa_comments_keep_each_lines_ending() {
    // The function imports `softmax` itself, and the module SciPy (`stats`): the fix's import is
    // a new line after the file's (a `from scipy.special import` among them would be joined,
    // and with SciPy imported only in the function, the function's own import).
    let imports = "import numpy as np\nfrom scipy import stats\n\n\ndef g(z):\n    from scipy.special import softmax\n    return np.log(softmax(z))\n";
    let imports_fixed = "import numpy as np\nfrom scipy import stats\nfrom scipy.special import log_softmax\n\n\ndef g(z):\n    from scipy.special import softmax\n    return log_softmax(z)\n";
    let indented_fixed = INDENTED
        .replace("torch.log(p)", "torch.log(torch.clamp(p, min=1e-7))")
        .replace("torch.log(torch.softmax(x, 1))", "torch.log_softmax(x, 1)");
    for ending in ["\r", "\r\n"] {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "a.py", ended(INDENTED, ending).as_bytes());
        write(dir.path(), "b.py", ended(imports, ending).as_bytes());
        let run = nanlint(dir.path(), &["check", "--isolated", "--fix", "--unsafe-fixes", "a.py", "b.py"]);
        assert_eq!(run.code, 0, "{}", run.stdout);
        assert_eq!(read(dir.path(), "a.py"), ended(&indented_fixed, ending), "{ending:?}");
        // The added import ends as the file's lines do.
        assert_eq!(read(dir.path(), "b.py"), ended(imports_fixed, ending), "{ending:?}");

        write(dir.path(), "a.py", ended(INDENTED, ending).as_bytes());
        let run = nanlint(dir.path(), &["check", "--isolated", "--add-noqa", "a.py"]);
        assert_eq!(run.code, 0, "{}", run.stdout);
        let noqa = INDENTED
            .replace("torch.log(p)\n", "torch.log(p)  # noqa: NL101\n")
            .replace("1))\n", "1))  # noqa: NL102\n");
        assert_eq!(read(dir.path(), "a.py"), ended(&noqa, ending), "{ending:?}");
    }
}

#[test]
fn a_nul_byte_is_one_clear_syntax_error_and_the_rest_is_checked() {
    // tree-sitter's lexer takes a NUL for the end of the input: the import on its line was lost
    // with every finding that needed it, and the message quoted text around an invisible byte.
    let dir = project(&[
        ("import.py", "import torch\0\ny = torch.log(torch.relu(p))\n"),
        ("string.py", "import torch\ns = 'a\0b\0'\ny = torch.log(torch.relu(p))\n"),
    ]);
    let run = concise(dir.path(), &["--isolated", "import.py", "string.py"]);
    assert_eq!(
        findings(&run),
        ["import.py:1:13: NL000", "import.py:2:5: NL101", "string.py:2:7: NL000", "string.py:3:5: NL101"],
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "string.py:2:7: NL000 Syntax error: a NUL byte (and 1 more); Python refuses source code containing null bytes"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\0'), "{:?}", run.stdout);
}

#[test]
fn a_bom_moves_no_column_and_fixes_keep_it() {
    let bom = "\u{feff}y = torch.log(torch.relu(p)); import torch\n";
    let dir = project(&[("bom.py", bom)]);
    assert_eq!(findings(&concise(dir.path(), &["--isolated", "bom.py"])), ["bom.py:1:5: NL101"]);
    assert_eq!(nanlint(dir.path(), &["check", "--isolated", "--fix", "--unsafe-fixes", "bom.py"]).code, 0);
    assert_eq!(read(dir.path(), "bom.py"), bom.replace("relu(p)", "clamp(torch.relu(p), min=1e-7)"));
}

/// A `# noqa` naming a code no nanlint rule has (`NL999`, a typo of a code) silences nothing of
/// nanlint's, and the check says so, as ruff warns of an invalid rule code; other tools' codes
/// (`E501`) are theirs and pass without a word.
#[test]
fn a_noqa_naming_an_unknown_nanlint_code_is_warned_about() {
    let src = "import torch\np = torch.relu(x)\na = torch.log(p)  # noqa: NL999, E501\nb = 1  # noqa: E501\n";
    let dir = project(&[("a.py", src)]);
    let run = concise(dir.path(), &["--isolated", "a.py"]);
    assert_eq!(findings(&run), ["a.py:3:5: NL101"], "{}", run.stdout);
    assert_eq!(
        run.stderr,
        "nanlint: warning: a.py:3: `# noqa` names `NL999`, which is no nanlint rule (`nanlint rule --all` lists \
         them); it silences nothing\n"
    );
}

/// A notebook exercise left to fill (`def run_app(img_path):` and only comments, from a course's
/// notebook) is an `IndentationError` tree-sitter parses without an error: reported at the
/// header, in the cell's own line numbers (CPython's "on line N" would have named the line of
/// the cells joined).
#[test]
fn an_empty_body_in_a_notebook_cell_is_reported_at_its_header() {
    let nb = r##"{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
      {"cell_type": "code", "metadata": {}, "source": ["import torch\n", "p = torch.relu(x)\n", "y = torch.log(p)\n"]},
      {"cell_type": "code", "metadata": {}, "source": ["# TODO: write it\n", "\n", "def run_app(img_path):\n", "    ## handle the cases\n", "    \n"]}]}"##;
    let dir = project(&[("n.ipynb", nb)]);
    let run = concise(dir.path(), &["--isolated", "n.ipynb"]);
    let expected = "n.ipynb:cell 2:3:1: NL000 Syntax error: expected an indented block after function definition (IndentationError)\n";
    assert!(run.stdout.contains(expected), "{}", run.stdout);
    assert!(run.stdout.starts_with("n.ipynb:cell 1:3:5: NL101 "), "{}", run.stdout);
}

/// Regression (issue 14's review): a cell that ends with `def f(x):` and leaves the body to the
/// next cell fails in Jupyter (IPython compiles each cell alone: `IndentationError: expected an
/// indented block`), but the cells joined parse whole, the body after the cell's end. Reported at
/// the header; the same two lines in one cell are not.
#[test]
fn a_body_left_to_the_next_cell_is_reported_at_its_header() {
    let notebook = |cells: &[&str]| {
        let cells: Vec<String> = cells
            .iter()
            .map(|source| format!(r#"{{"cell_type": "code", "metadata": {{}}, "source": {source:?}}}"#))
            .collect();
        format!(r#"{{"nbformat": 4, "nbformat_minor": 5, "metadata": {{}}, "cells": [{}]}}"#, cells.join(", "))
    };
    let split = notebook(&["import numpy as np\ndef f(x):", "    return np.log(np.maximum(x, 0))\n"]);
    let whole = notebook(&["import numpy as np\ndef f(x):\n    return np.log(np.maximum(x, 0))\n"]);
    // A header a backslash continues past the cell's end: CPython's error is another (`unexpected
    // EOF while parsing`), not an empty body (a reviewer's run), but the statement left
    // unfinished at the cell's end (a newcomer's trial: it was no error at all).
    let continued = notebook(&["import numpy as np\ndef f(x): \\", "    return np.log(np.maximum(x, 0))\n"]);
    let dir = project(&[("split.ipynb", &split), ("whole.ipynb", &whole), ("continued.ipynb", &continued)]);
    let run = concise(dir.path(), &["--isolated", "split.ipynb", "whole.ipynb", "continued.ipynb"]);
    let expected = "split.ipynb:cell 1:2:1: NL000 Syntax error: expected an indented block after function definition (IndentationError)\n";
    assert!(run.stdout.contains(expected), "{}", run.stdout);
    let unfinished = "continued.ipynb:cell 1:2:1: NL000 Syntax error: the statement is left unfinished at the cell's end (IPython compiles each cell on its own)\n";
    assert!(run.stdout.contains(unfinished), "{}", run.stdout);
    assert_eq!(run.stdout.matches("NL000").count(), 2, "{}", run.stdout);
    assert!(run.stdout.contains("whole.ipynb:cell 1:3:12: NL101 "), "{}", run.stdout);
}

/// Regression (a newcomer's run): `nanlint check | head` printed `cannot write stdout: Broken
/// pipe` once `head` had gone. The reader closes its end before nanlint writes (a file of 2,000
/// findings); stderr stays quiet and the exit code is the findings' (1).
#[test]
fn a_reader_gone_is_no_error() {
    let src = format!("import numpy as np\n{}", "y = np.log(np.maximum(p, 0))\n".repeat(2_000));
    let dir = project(&[("a.py", &src)]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_nanlint"))
        .args(["check", "--isolated", "a.py"])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the nanlint binary runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr, "", "{stderr}");
    assert_eq!(out.status.code(), Some(1));
}
