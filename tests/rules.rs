//! Every rule against its own fixtures, and reviewed snapshots of its output and fixes.
//!
//! `bad.py` marks each line where smells start with `# error: [NL101]` (one code per smell:
//! `# error: [NL101, NL101]`); every other line of `bad.py` and every line of `good.py` must be
//! clean. Snapshots live in `tests/snapshots/`; review changes with `cargo insta review` (or run
//! with `INSTA_UPDATE=always` and read the diff).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nanlint::engine::fix::{FixMode, fix_source};
use nanlint::engine::{check_source, parse};
use nanlint::render;
use nanlint::rules::{RULES, Rule};
use nanlint::settings::Settings;
use nanlint::smell::{Smell, apply_edits};

fn rule_dir(rule: &Rule) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("queries").join("python").join(rule.dir)
}

fn read(rule: &Rule, file: &str) -> String {
    let path = rule_dir(rule).join(file);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The codes a fixture line expects, by one-based line number, from `# error: [CODE, ...]`.
fn expected_codes(src: &str) -> BTreeMap<usize, Vec<String>> {
    let mut expected = BTreeMap::new();
    for (i, line) in src.lines().enumerate() {
        let Some(at) = line.find("# error:") else { continue };
        let rest = line[at + "# error:".len()..].trim_start();
        let list = rest
            .strip_prefix('[')
            .and_then(|r| r.split_once(']'))
            .map(|(list, _)| list)
            .unwrap_or_else(|| panic!("line {}: a marker is written `# error: [CODE, ...]`: {line}", i + 1));
        let mut codes: Vec<String> = list.split(',').map(|c| c.trim().to_string()).collect();
        assert!(codes.iter().all(|c| !c.is_empty()), "line {}: empty code in marker: {line}", i + 1);
        codes.sort();
        expected.insert(i + 1, codes);
    }
    expected
}

fn found_codes(smells: &[Smell]) -> BTreeMap<usize, Vec<String>> {
    let mut found: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for s in smells {
        found.entry(s.span.start.row + 1).or_default().push(s.code.to_string());
    }
    for codes in found.values_mut() {
        codes.sort();
    }
    found
}

/// Line-by-line differences between what the markers expect and what the engine found.
fn mismatches(src: &str, expected: &BTreeMap<usize, Vec<String>>, found: &BTreeMap<usize, Vec<String>>) -> Vec<String> {
    let lines: Vec<&str> = src.lines().collect();
    let mut out = Vec::new();
    let rows: std::collections::BTreeSet<usize> = expected.keys().chain(found.keys()).copied().collect();
    for row in rows {
        let mut want = expected.get(&row).cloned().unwrap_or_default();
        let mut missing = Vec::new();
        let mut unexpected = Vec::new();
        for code in found.get(&row).into_iter().flatten() {
            match want.iter().position(|c| c == code) {
                Some(i) => {
                    want.remove(i);
                }
                None => unexpected.push(code.clone()),
            }
        }
        missing.extend(want);
        if missing.is_empty() && unexpected.is_empty() {
            continue;
        }
        let mut what = Vec::new();
        if !missing.is_empty() {
            what.push(format!("missing [{}]", missing.join(", ")));
        }
        if !unexpected.is_empty() {
            what.push(format!("unexpected [{}]", unexpected.join(", ")));
        }
        out.push(format!("line {row}: {}\n    {}", what.join(", "), lines.get(row - 1).unwrap_or(&"").trim()));
    }
    out
}

#[test]
fn fixtures_match_their_markers() {
    let mut failures = Vec::new();
    for rule in RULES {
        for file in ["bad.py", "good.py"] {
            let src = read(rule, file);
            let expected = expected_codes(&src);
            if file == "bad.py" {
                assert!(!expected.is_empty(), "{}/bad.py has no `# error: [...]` marker", rule.dir);
            } else {
                assert!(expected.is_empty(), "{}/good.py must not hold markers: {expected:?}", rule.dir);
            }
            for codes in expected.values() {
                for code in codes {
                    assert!(
                        RULES.iter().any(|r| r.code == code),
                        "{}/{file}: marker names unknown code {code}",
                        rule.dir
                    );
                }
            }
            let found = found_codes(&check_source(&src, &all_rules()));
            let problems = mismatches(&src, &expected, &found);
            if !problems.is_empty() {
                failures.push(format!("{}/{file}:\n  {}", rule.dir, problems.join("\n  ")));
            }
        }
    }
    assert!(failures.is_empty(), "fixtures disagree with the engine:\n{}", failures.join("\n"));
}

#[test]
fn marker_comparison_reports_both_directions() {
    let src = "a  # error: [NL101, NL101]\nb\nc  # error: [NL101]\n";
    let expected = expected_codes(src);
    let found = BTreeMap::from([(1, vec!["NL101".to_string()]), (2, vec!["NL101".to_string()])]);
    assert_eq!(
        mismatches(src, &expected, &found),
        vec![
            "line 1: missing [NL101]\n    a  # error: [NL101, NL101]",
            "line 2: unexpected [NL101]\n    b",
            "line 3: missing [NL101]\n    c  # error: [NL101]",
        ]
    );
    assert!(mismatches(src, &expected, &expected).is_empty());
}

/// The `full` output for `bad.py`, with a relative file name.
fn full_output(src: &str, smells: &[Smell]) -> String {
    let mut out = String::new();
    for s in smells {
        render::full(&mut out, Path::new("bad.py"), &render::Locator::new(src), s);
    }
    out
}

#[test]
fn snapshot_full_output() {
    for rule in RULES {
        let src = read(rule, "bad.py");
        let smells = check_source(&src, &all_rules());
        insta::assert_snapshot!(format!("{}__full", rule.dir), full_output(&src, &smells));
    }
}

#[test]
fn snapshot_preferred_fixes() {
    for rule in RULES {
        let src = read(rule, "bad.py");
        let outcome = fix_source(&src, &all_rules(), FixMode::Unsafe);
        assert_eq!(outcome.refused, None, "{}: a fix was refused", rule.dir);
        let found = check_source(&src, &all_rules());
        let fixable = found.iter().filter(|s| !s.fixes.is_empty()).count();
        // A fix may expose a smell its finding superseded (NL104's `xlogy` leaves NL203's written-out
        // softmax), which the fix loop fixes too: at least every fixable smell is fixed.
        assert!(
            outcome.fixed >= fixable,
            "{}: not every fixable smell was fixed ({} of {fixable})",
            rule.dir,
            outcome.fixed
        );
        // What remains are exactly the smells that came without a fix.
        let left = check_source(&outcome.source, &all_rules());
        assert!(!parse(&outcome.source).root_node().has_error(), "{}: the fixed source does not parse", rule.dir);
        assert_eq!(left.len(), found.len() - fixable, "{}: smells remain after fixing: {left:#?}", rule.dir);
        assert!(left.iter().all(|s| s.fixes.is_empty()), "{}: a fixable smell remains: {left:#?}", rule.dir);
        insta::assert_snapshot!(format!("{}__fixed", rule.dir), outcome.source);
    }
}

/// A minimal line diff (longest common subsequence): `-row old` and `+row new` lines, by hunk.
fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    let mut in_hunk = false;
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            in_hunk = false;
            i += 1;
            j += 1;
            continue;
        }
        if !in_hunk {
            out.push_str("@@\n");
            in_hunk = true;
        }
        // Removals before additions, as in a unified diff.
        if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("-{:>3} {}\n", i + 1, a[i]));
            i += 1;
        } else {
            out.push_str(&format!("+{:>3} {}\n", j + 1, b[j]));
            j += 1;
        }
    }
    out
}

#[test]
fn line_diff_shows_changed_and_added_lines() {
    assert_eq!(line_diff("a\nb\nc\n", "a\nb\nc\n"), "");
    assert_eq!(line_diff("a\nb\nc\n", "x\na\nB\nc\n"), "@@\n+  1 x\n@@\n-  2 b\n+  3 B\n");
}

#[test]
fn snapshot_alternative_fixes() {
    for rule in RULES {
        let src = read(rule, "bad.py");
        let smells = check_source(&src, &all_rules());
        let mut out = String::new();
        for smell in smells.iter().filter(|s| s.fixes.len() > 1) {
            let fix = smell.fixes.last().unwrap();
            let fixed = apply_edits(&src, &fix.edits);
            let what = format!("{}/bad.py line {} with `{}`", rule.dir, smell.span.start.row + 1, fix.title);
            assert!(!parse(&fixed).root_node().has_error(), "{what}: the fixed source does not parse:\n{fixed}");
            let before = smells.len();
            let after = check_source(&fixed, &all_rules()).len();
            assert_eq!(after + 1, before, "{what}: expected exactly one smell fewer");
            out.push_str(&format!("# line {}: {} ({:?})\n", smell.span.start.row + 1, fix.title, fix.applicability));
            out.push_str(&line_diff(&src, &fixed));
            out.push('\n');
        }
        insta::assert_snapshot!(format!("{}__alternatives", rule.dir), out);
    }
}

/// Why `tests/snapshots/<file>` is no longer written by any test, if it is not.
fn orphaned(file: &str, tests: &Path) -> Option<String> {
    let Some((test, name)) = file.strip_suffix(".snap").and_then(|f| f.split_once("__")) else {
        return Some("not named <test>__<name>.snap".into());
    };
    let Ok(source) = std::fs::read_to_string(tests.join(format!("{test}.rs"))) else {
        return Some(format!("tests/{test}.rs does not exist"));
    };
    // A literal name, an unnamed snapshot in `fn <name>` (insta drops a `test_` prefix and
    // numbers repeats `-2`, `-3`), or `format!("{}__<kind>", rule.dir)`.
    let literal = source.contains(&format!("\"{name}\""));
    let function = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-');
    let unnamed = source.contains(&format!("fn {function}(")) || source.contains(&format!("fn test_{function}("));
    let per_rule = RULES.iter().any(|r| {
        name.strip_prefix(r.dir)
            .and_then(|rest| rest.strip_prefix("__"))
            .is_some_and(|kind| source.contains(&format!("\"{{}}__{kind}\", rule.dir")))
    });
    if literal || unnamed || per_rule { None } else { Some(format!("no test in tests/{test}.rs writes {name:?}")) }
}

#[test]
fn no_orphaned_snapshots() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut files: Vec<String> = std::fs::read_dir(tests.join("snapshots"))
        .expect("tests/snapshots exists")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".snap"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no snapshots in tests/snapshots");
    let orphans: Vec<String> =
        files.iter().filter_map(|f| orphaned(f, &tests).map(|why| format!("tests/snapshots/{f}: {why}"))).collect();
    assert!(orphans.is_empty(), "orphaned snapshots (delete them, or restore their tests):\n{}", orphans.join("\n"));
}

#[test]
fn orphan_check_catches_stale_names() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let dir = RULES[0].dir;
    assert_eq!(orphaned(&format!("rules__{dir}__full.snap"), &tests), None);
    assert!(orphaned(&format!("rules__{dir}__unknown.snap"), &tests).is_some());
    assert!(orphaned("rules__NL999-removed-rule__full.snap", &tests).is_some());
    assert!(orphaned(&format!("gone__{dir}__full.snap"), &tests).is_some());
    assert!(orphaned("stray.snap", &tests).is_some());
}

/// Every rule fires on its own `bad.py` (and stays silent on `good.py`) through the two paths
/// users take: the real `nanlint check` binary, and the language server's incremental path, the
/// file typed line by line into an open document, each line one `didChange`.
#[test]
fn fixtures_fire_through_the_cli_and_the_servers_incremental_path() {
    use nanlint::lsp::session::Session;
    use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

    let bin = env!("CARGO_BIN_EXE_nanlint");
    for rule in RULES {
        for file in ["bad.py", "good.py"] {
            let src = read(rule, file);
            let expected = expected_codes(&src);

            let path = rule_dir(rule).join(file);
            let out = std::process::Command::new(bin)
                .args(["check", "--preview", "--output-format", "json"])
                .arg(&path)
                .output()
                .expect("nanlint runs");
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON output");
            let mut cli: BTreeMap<usize, Vec<String>> = BTreeMap::new();
            for d in json.as_array().expect("an array of findings") {
                let row = d["location"]["row"].as_u64().unwrap() as usize;
                cli.entry(row).or_default().push(d["code"].as_str().unwrap().to_string());
            }
            cli.values_mut().for_each(|c| c.sort());
            let problems = mismatches(&src, &expected, &cli);
            assert!(problems.is_empty(), "{}/{file} through the CLI:\n  {}", rule.dir, problems.join("\n  "));

            let session = Session::default();
            assert!(session.set_client_settings(&serde_json::json!({"preview": true})).is_empty());
            let uri: Uri = format!("file:///fixtures/{}/{file}", rule.dir).parse().unwrap();
            session.open(uri.clone(), 0, String::new());
            let mut typed = String::new();
            for (version, line) in src.split_inclusive('\n').enumerate() {
                let rows = typed.matches('\n').count() as u32;
                let col = typed.rsplit('\n').next().unwrap_or("").encode_utf16().count() as u32;
                let at = Position { line: rows, character: col };
                let change = TextDocumentContentChangeEvent {
                    range: Some(Range { start: at, end: at }),
                    range_length: None,
                    text: line.to_string(),
                };
                session.change(&uri, version as i32 + 1, vec![change]);
                typed.push_str(line);
            }
            assert_eq!(session.text(&uri).as_deref(), Some(src.as_str()));
            let smells = session.with_doc(&uri, |d| d.smells.clone()).unwrap();
            let problems = mismatches(&src, &expected, &found_codes(&smells));
            assert!(problems.is_empty(), "{}/{file} typed into the server:\n  {}", rule.dir, problems.join("\n  "));
        }
    }
}

/// A rule whose documentation has a "## Preview" section reports some of its fixtures' smells by
/// default and more in preview mode; any other rule that runs by default reports the same in
/// both modes.
#[test]
fn preview_forms_run_only_in_preview_mode() {
    for rule in RULES.iter().filter(|r| !r.preview) {
        let select = |preview: bool| Settings { select: vec![rule.code.to_string()], preview, ..Settings::default() };
        let src = read(rule, "bad.py");
        let by_default = check_source(&src, &select(false));
        let in_preview = check_source(&src, &select(true));
        if rule.has_preview_forms() {
            assert!(!by_default.is_empty(), "{}: no form runs by default", rule.code);
            assert!(
                by_default.len() < in_preview.len() && by_default.iter().all(|s| in_preview.contains(s)),
                "{}: the default findings ({}) should be a part of the preview ones ({})",
                rule.code,
                by_default.len(),
                in_preview.len()
            );
        } else {
            assert_eq!(by_default, in_preview, "{}: differs in preview mode without a ## Preview section", rule.code);
        }
    }
}

/// Every rule, preview rules included: the fixtures hold all of them.
fn all_rules() -> Settings {
    Settings { preview: true, ..Settings::default() }
}

/// How many `code` findings `src` has, with or without the preview forms.
fn found(code: &str, src: &str, preview: bool) -> usize {
    let settings = Settings { preview, ..Settings::default() };
    check_source(src, &settings).iter().filter(|s| s.code == code).count()
}

/// Each body after `head`: `in_preview` findings of `codes` in preview mode, and by default the
/// same (`by_default`) or none.
fn preview_split(codes: &[&str], head: &str, bodies: &[(&str, usize, bool)]) {
    let count = |src: &str, preview: bool| codes.iter().map(|c| found(c, src, preview)).sum::<usize>();
    for &(body, in_preview, by_default) in bodies {
        let src = format!("{head}{body}");
        assert_eq!(count(&src, true), in_preview, "in preview mode:\n{src}");
        assert_eq!(count(&src, false), if by_default { in_preview } else { 0 }, "by default:\n{src}");
    }
}

/// NL201's default form, a masked mean per sample, and what stays in preview: a sum over the
/// whole batch, an attention mask (by name or made from one), a denominator not weighting the
/// numerator.
#[test]
fn a_masked_mean_per_sample_is_the_default_form_of_nl201() {
    let head = "import torch\n\n\ndef masked_loss(l, masks, attention_mask):\n";
    let bodies = [
        ("    return (l * masks).sum(1) / masks.sum(1)\n", true),
        ("    w = l * masks\n    return w.sum(dim=1) / masks.sum(dim=1)\n", true),
        ("    return (l * masks).sum() / masks.sum()\n", false),
        ("    return (l * attention_mask).sum(1) / attention_mask.sum(1)\n", false),
        ("    pool_mask = attention_mask[..., None]\n    return (l * pool_mask).sum(1) / pool_mask.sum(1)\n", false),
        ("    return l.sum(1) / masks.sum(1)\n", false),
    ];
    let nl201 = |src: &str, preview: bool| found("NL201", src, preview);
    for (body, by_default) in bodies {
        let src = format!("{head}{body}");
        assert_eq!(nl201(&src, false), usize::from(by_default), "by default:\n{src}");
        assert_eq!(nl201(&src, true), 1, "in preview mode:\n{src}");
    }
}

/// NL101's training-time-value evidence is a preview form: a `forward` input that nothing keeps
/// above 0 is reported only in preview mode, and so are a norm and a 0/1 mask; a producer that
/// reaches 0 (a ReLU) and the `x * log(x)` form are reported by default.
#[test]
fn a_training_time_value_alone_is_nl101_evidence_only_in_preview() {
    let head = "import torch\nfrom torch import nn\n\n\nclass Head(nn.Module):\n    def forward(self, x, z):\n";
    let bodies = [
        ("        return torch.log(x)\n", false),
        ("        return torch.log(x / (1 - x))\n", false),
        ("        h = torch.relu(x)\n        return torch.log(h)\n", true),
        ("        return (x * torch.log(x)).sum()\n", true),
        // A norm and a 0/1 mask are preview forms of the producer evidence.
        ("        return torch.log(torch.linalg.norm(z, dim=-1))\n", false),
        ("        return (z == 0).float().log()\n", false),
    ];
    let nl101 = |src: &str, preview: bool| found("NL101", src, preview);
    for (body, by_default) in bodies {
        let src = format!("{head}{body}");
        assert_eq!(nl101(&src, false), usize::from(by_default), "by default:\n{src}");
        assert_eq!(nl101(&src, true), 1, "in preview mode:\n{src}");
    }
}

/// NL101 on a probability in float32 that the code's losses keep away from 0 is a preview form
/// (rule.md, "Preview"): a sigmoid output's log unless a minimized loss holds it positively, a
/// softmax output's or one minus a probability's where every loss holds it negated. A loss that
/// lowers it, a product with labels and a float16 value stay reported by default.
#[test]
fn a_probability_its_losses_keep_from_0_is_nl101_evidence_only_in_preview() {
    let head = "import torch\nfrom torch import nn\n\n\nclass Discriminator(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(784, 1)\n\n    def forward(self, x):\n        return torch.sigmoid(self.fc(x))\n\n\nD = Discriminator()\n\n\ndef step(real, fake, y, opt):\n    d_real = D(real)\n    d_fake = D(fake)\n";
    let bodies = [
        // A discriminator's loss raises both: its own gradient moves them away from 0.
        ("    d_loss = -torch.mean(torch.log(d_real))\n", 1, false),
        ("    d_loss = -torch.mean(torch.log(1.0 - d_fake))\n", 1, false),
        ("    d_loss = -torch.mean(torch.log(d_real) + torch.log(1.0 - d_fake))\n", 2, false),
        ("    (-torch.log(1.0 - d_fake).mean()).backward()\n", 1, false),
        ("    score = torch.log(1.0 - d_fake)\n    d_loss = -(score.sum() * 0.5)\n", 1, false),
        ("    score = torch.log(1.0 - d_fake)\n    objective = -score.mean()\n    opt.minimize(objective)\n", 1, false),
        // The non-saturating generator loss: its log needs a logit below about -88.
        ("    g_loss = -torch.mean(torch.log(d_fake))\n", 1, false),
        ("    metric = torch.log(d_real)\n    return metric\n", 1, false),
        // The saturating generator loss lowers `1 - d_fake` to 0, and so does a loss that
        // holds the log positively, directly or through a name that another loss negates.
        ("    g_loss = torch.mean(torch.log(1.0 - d_fake))\n", 1, true),
        ("    g_loss = torch.mean(torch.log(d_fake))\n", 1, true),
        (
            "    score = torch.log(1.0 - d_fake)\n    d_loss = -score.mean()\n    g_obj = score.mean()\n    g_obj.backward()\n",
            1,
            true,
        ),
        // A loss minimized as it is and kept negated for a log (review): lowered.
        (
            "    g_loss = torch.mean(torch.log(1.0 - d_fake))\n    g_loss.backward()\n    neg_loss = -g_loss\n    print(neg_loss)\n",
            1,
            true,
        ),
        // Augmented assignments (review): a sum of losses, a subtrahend, a factor.
        (
            "    g_loss = 0.0\n    for _ in range(2):\n        g_loss += torch.log(d_fake).mean()\n    g_loss.backward()\n",
            1,
            true,
        ),
        (
            "    d_loss = 0.0\n    for _ in range(2):\n        d_loss -= torch.log(1.0 - d_fake).mean()\n    d_loss.backward()\n",
            1,
            false,
        ),
        (
            "    d_loss = -torch.log(d_real).mean()\n    d_loss -= torch.log(1.0 - d_fake).mean()\n    d_loss.backward()\n",
            2,
            false,
        ),
        ("    g_loss = -torch.log(1.0 - d_fake).mean()\n    g_loss *= -1.0\n    g_loss.backward()\n", 1, true),
        // A loss returned beside auxiliary results, and a Keras `add_loss` (review).
        (
            "    return 0\n\n\ndef g_loss_fn(fake):\n    d_fake = D(fake)\n    return torch.mean(torch.log(d_fake)), d_fake\n",
            1,
            true,
        ),
        (
            "    return 0\n\n\ndef g_loss_fn(fake):\n    d_fake = D(fake)\n    return d_fake, torch.mean(torch.log(d_fake))\n",
            1,
            false,
        ),
        ("    opt.add_loss(torch.mean(torch.log(d_fake)))\n", 1, true),
        ("    opt.add_loss(-torch.mean(torch.log(1.0 - d_fake)))\n", 1, false),
        // A minus sign the walk does not see through, or a name used elsewhere: unknown.
        ("    d_loss = -torch.mean(torch.log(1.0 - d_fake) ** 2)\n", 1, true),
        // A loss read in a loop before it is assigned (review): those reads are not followed.
        (
            "    d_loss = None\n    for _ in range(3):\n        print(d_loss)\n        d_loss = -torch.mean(torch.log(1.0 - d_fake))\n        (-d_loss).backward()\n",
            1,
            true,
        ),
        ("    score = torch.log(1.0 - d_fake)\n    print(score)\n    d_loss = -score.mean()\n", 1, true),
        // A product with labels is the cross-entropy's 0 * -inf.
        ("    d_loss = -torch.mean(y * torch.log(d_real))\n", 1, true),
        // float16: one minus a sigmoid output is 0 above a logit of about 8.3.
        ("    half = d_fake.half()\n    d_loss = -torch.mean(torch.log(1.0 - half))\n", 1, true),
    ];
    preview_split(&["NL101"], head, &bodies);
}

/// NL101 on a probability's log in NumPy, no factor of a product, is a preview form (rule.md,
/// "Preview"): no gradient meets the -inf, which sums and sorting keep. A product (the
/// cross-entropy's 0 * -inf), a float16 value, other libraries and other producers stay
/// reported by default; so does a helper of the file that logs its parameter with another
/// library.
#[test]
fn a_probabilitys_log_in_numpy_is_nl101_evidence_only_in_preview() {
    let head = "import numpy as np\nimport torch\n\n\ndef softmax(z):\n    e = np.exp(z - z.max(-1, keepdims=True))\n    return e / e.sum(-1, keepdims=True)\n\n\ndef rank(beam):\n    p = softmax(beam)\n";
    let bodies = [
        // A beam search's scores: -inf is ranked last.
        ("    scores = np.log(p) + 1.0\n    return np.argsort(scores)\n", 1, false),
        ("    return np.log(1.0 - p).sum()\n", 1, false),
        ("    return np_helper(p)\n\n\ndef np_helper(q):\n    return np.log(q).max()\n", 1, false),
        // 0 * -inf = NaN.
        ("    y = np.eye(3)[0]\n    return -(y * np.log(p)).sum()\n", 1, true),
        ("    return -(p * np.log(p)).sum()\n", 1, true),
        // float16: a gap of about 17 underflows.
        ("    h = p.astype(np.float16)\n    return np.log(h).max()\n", 1, true),
        // Another library: gradients meet the -inf.
        ("    t = torch.softmax(torch.randn(3), -1)\n    return torch.log(t).sum()\n", 1, true),
        (
            "    return torch_helper(torch.softmax(torch.randn(3), -1))\n\n\ndef torch_helper(q):\n    return torch.log(q).sum()\n",
            1,
            true,
        ),
        // Another producer: a count is 0 without any underflow.
        ("    n = np.count_nonzero(beam > 0)\n    return np.log(n)\n", 1, true),
    ];
    // The log family: a product is NL104's or NL106's, a softmax's log NL102's, each taking the
    // line from NL101.
    preview_split(&["NL101", "NL102", "NL103", "NL104", "NL106"], head, &bodies);
}

/// NL304 on a clip's upper bound `1 - eps` that rounds to 1 is a preview form where nothing
/// takes the clipped value's complement (rule.md, "Preview"): the bound keeps `1 - p` above 0,
/// and without `1 - p` it guards nothing.
#[test]
fn a_bound_below_1_nothing_needs_is_nl304_only_in_preview() {
    let head =
        "import tensorflow as tf\nimport torch\n\n\ndef f(z, x):\n    p = tf.nn.sigmoid(z)\n    q = torch.sigmoid(x)\n";
    let bodies = [
        ("    p = tf.clip_by_value(p, 1e-10, 1.0 - 1e-10)\n    return tf.math.log(p)\n", 1, false),
        ("    policy = q.clamp(max=1-1e-20)\n    return policy\n", 1, false),
        ("    p = tf.clip_by_value(p, 1e-10, 1.0 - 1e-10)\n    return tf.math.log(1.0 - p)\n", 1, true),
        ("    return torch.log1p(-torch.clamp(q, max=1 - 1e-10))\n", 1, true),
        ("    q = torch.clamp(q, 1e-10, 1 - 1e-10)\n    return q / (1 - q)\n", 1, true),
        ("    return torch.log(1 - (q.clamp(max=1 - 1e-12)))\n", 1, true),
        // A rebinding before the complement: the clipped value is not what it takes.
        ("    r = q.clamp(max=1 - 1e-12)\n    r = q\n    return torch.log(1 - r)\n", 1, false),
    ];
    preview_split(&["NL304"], head, &bodies);
}

/// NL103 in a loss that raises the sigmoid output is a preview form; a bare log, a loss that
/// lowers it, a product and a float16 value stay reported by default.
#[test]
fn a_log_sigmoid_its_loss_raises_is_nl103_only_in_preview() {
    let head = "import torch\n\n\ndef negative_sampling_loss(pos, neg, y):\n";
    let bodies = [
        ("    return -torch.log(torch.sigmoid(pos)).mean()\n", 1, false),
        ("    out_loss = torch.log(torch.sigmoid(pos)).squeeze()\n    return -(out_loss + neg).mean()\n", 1, false),
        ("    return torch.log(torch.sigmoid(pos)).mean()\n", 1, true),
        ("    p = torch.log(torch.sigmoid(pos))\n    print(p)\n    return neg\n", 1, true),
        ("    return -(y * torch.log(torch.sigmoid(pos))).mean()\n", 1, true),
        ("    return -torch.log(torch.sigmoid(pos.half())).mean()\n", 1, true),
        // A loss returned beside auxiliary results (review): the first result is the loss.
        ("    return -torch.log(torch.sigmoid(pos)).mean(), neg\n", 1, false),
        ("    return torch.log(torch.sigmoid(pos)).mean(), neg\n", 1, true),
        ("    return neg, -torch.log(torch.sigmoid(pos)).mean()\n", 1, true),
        // Augmented assignments (review): `-=` raises it, `+=` lowers it.
        ("    loss = neg.mean()\n    loss -= torch.log(torch.sigmoid(pos)).mean()\n    return loss\n", 1, false),
        ("    loss = neg.mean()\n    loss += torch.log(torch.sigmoid(pos)).mean()\n    return loss\n", 1, true),
    ];
    preview_split(&["NL103"], head, &bodies);
}

/// NL204's `exp` form is a preview form: a softplus guarded at 20 has a NaN gradient only where
/// `exp` overflows (above 88.7 in float32). A log the `where` discards stays reported.
#[test]
fn an_exp_in_a_discarded_branch_is_nl204_only_in_preview() {
    let head = "import torch\n\n\ndef forward(x):\n    g = 2.0 * x\n";
    let bodies = [
        ("    return torch.where(g > 20.0, g, torch.log(1.0 + torch.exp(g)))\n", 1, false),
        ("    return torch.where(g > 0, torch.log(g), torch.zeros_like(g))\n", 1, true),
    ];
    preview_split(&["NL204"], head, &bodies);
}

/// Regression (pyro's brute-force assignment): an accumulator made of zeros and filled in a
/// loop is not a zero after the loop; inside the loop before the update, or updated outside a loop, its
/// zeros still count.
#[test]
fn an_accumulator_filled_in_a_loop_is_not_zeros_after_it() {
    let head = "import torch\n\n\ndef probs(logits, pairs):\n    acc = torch.zeros(4)\n";
    let bodies = [
        ("    for i, j in pairs:\n        acc[i] += torch.exp(logits[j])\n    return acc.log()\n", false),
        ("    for i in pairs:\n        acc.add_(torch.exp(logits[i]))\n    return acc.log()\n", false),
        ("    for i, j in pairs:\n        print(acc.log())\n        acc[i] += torch.exp(logits[j])\n", true),
        ("    if pairs:\n        acc[0] += 1.0\n    return acc.log()\n", true),
        ("    return acc.log()\n", true),
    ];
    let nl101 = |src: &str| found("NL101", src, false);
    for (body, flagged) in bodies {
        let src = format!("{head}{body}");
        assert_eq!(nl101(&src), usize::from(flagged), "{src}");
    }
}
