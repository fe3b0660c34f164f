//! Meta tests of the rule registry: every query compiles (alone and together) and uses only what
//! the engine understands; codes, folders and docs follow the conventions; the README's rule
//! table is current (`NANLINT_BLESS=1 cargo test --test queries` rewrites it).

use std::path::Path;

use nanlint::rules::query::{RuleQuery, compile_from};
use nanlint::rules::{self, ALL as RULES, Anchor};

fn of(rule: &&'static rules::Rule) -> RuleQuery<'static> {
    RuleQuery::from(*rule)
}

/// A test rule with a query and no declared captures or anchors.
fn test_rule(query: &str) -> RuleQuery<'_> {
    RuleQuery { code: "NL999", name: "test-rule", query, captures: &[], anchors: &[] }
}

fn compile_err(rules: &[RuleQuery]) -> String {
    match compile_from(rules) {
        Ok(_) => panic!("expected a compile error for {:?}", rules.iter().map(|r| r.query).collect::<Vec<_>>()),
        Err(e) => e,
    }
}

#[test]
fn there_are_rules() {
    assert!(!RULES.is_empty(), "no rule folders were embedded from queries/python/");
}

#[test]
fn every_query_compiles_alone() {
    for rule in RULES {
        let compiled = compile_from(&[of(rule)]).unwrap_or_else(|e| panic!("{}: {e}", rule.code));
        assert!(compiled.query.pattern_count() > 0, "{}: the query has no pattern", rule.code);
        let names = compiled.query.capture_names();
        assert!(names.contains(&"smell"), "{}: the query never captures @smell", rule.code);
        for capture in rule.captures {
            assert!(
                names.contains(capture),
                "{}: CAPTURES lists @{capture}, which the query never captures",
                rule.code
            );
        }
    }
}

#[test]
fn all_queries_compile_together() {
    let all: Vec<RuleQuery> = RULES.iter().map(of).collect();
    let compiled = compile_from(&all).unwrap_or_else(|e| panic!("{e}"));
    // Every pattern is attributed to the rule whose query holds it, in code order.
    let mut seen: Vec<usize> = compiled.pattern_rule.clone();
    seen.dedup();
    assert_eq!(seen, (0..RULES.len()).collect::<Vec<_>>(), "patterns are not attributed to their rules in order");
    assert!(!compiled.words.is_empty(), "no trigger words: the prefilter would skip every file");
}

const CALL: &str = "((call function: (_) @_callee) @smell (#api? @_callee \"torch.log\"))";

#[test]
fn a_valid_test_query_compiles() {
    // The control case for the rejections below.
    let compiled = compile_from(&[test_rule(CALL)]).unwrap();
    assert_eq!(compiled.words, vec!["log".to_string()]);
    // Standard tree-sitter predicates are evaluated by the binding and allowed.
    compile_from(&[test_rule(
        "((call function: (identifier) @_f) @smell (#api? @_f \"torch.log\") (#eq? @_f \"log\") (#match? @_f \"^l\") (#any-of? @_f \"log\" \"ln\"))",
    )])
    .unwrap();
}

#[test]
fn unknown_predicates_are_rejected() {
    let e = compile_err(&[test_rule("((call function: (_) @_callee) @smell (#api-like? @_callee \"torch.log\"))")]);
    assert!(e.contains("NL999") && e.contains("unknown predicate #api-like?"), "{e}");
    assert!(e.contains("#api?") && e.contains("#method?"), "the error should list the known predicates: {e}");
    // Property predicates parse in tree-sitter but nothing would apply them.
    for query in [
        "((call) @smell (#set! priority 1))",
        "((call) @smell (#is? @smell local))",
        "((call) @smell (#is-not? @smell local))",
    ] {
        let e = compile_err(&[test_rule(query)]);
        assert!(e.contains("NL999") && e.contains("unknown predicate"), "{query}: {e}");
    }
}

#[test]
fn engine_predicates_are_checked() {
    let e = compile_err(&[test_rule("((call function: (_) @_callee) @smell (#api? @_callee \"tensorflow.log\"))")]);
    assert!(e.contains("\"tensorflow.log\" is not canonical") && e.contains("\"tensorflow.math.log\""), "{e}");
    let e = compile_err(&[test_rule("((call function: (_) @_callee) @smell (#api? @_callee))")]);
    assert!(e.contains("#api? needs at least one name"), "{e}");
    let e = compile_err(&[test_rule("((call function: (_) @_callee) @smell (#api? \"torch.log\"))")]);
    assert!(e.contains("takes a capture first"), "{e}");
    let e = compile_err(&[test_rule("((call function: (_) @_callee) @smell (#local? @_callee \"x\"))")]);
    assert!(e.contains("#local? takes only a capture"), "{e}");
    let e = compile_err(&[test_rule("((call function: (_) @_callee) @smell (#method? @_callee))")]);
    assert!(e.contains("#method? needs at least one method name"), "{e}");
}

#[test]
fn every_pattern_needs_an_anchor() {
    // An operator pattern passes every other check, and would never run: the engine queries only
    // around anchors' words and tokens.
    let division = "((binary_operator operator: \"/\") @smell)";
    let e = compile_err(&[test_rule(division)]);
    assert!(e.contains("NL999: pattern 0 has no anchor"), "{e}");
    let compiled = compile_from(&[RuleQuery { anchors: &[Anchor::Token("/")], ..test_rule(division) }]).unwrap();
    assert_eq!(compiled.tokens, vec!["/".to_string()]);
    let compiled = compile_from(&[RuleQuery {
        anchors: &[Anchor::LocalCall],
        ..test_rule("((call function: (identifier) @_f) @smell)")
    }])
    .unwrap();
    assert!(compiled.local_calls);
}

#[test]
fn unknown_captures_are_rejected() {
    let query = "((call function: (_) @callee) @smell (#api? @callee \"torch.log\"))";
    let e = compile_err(&[test_rule(query)]);
    assert!(e.contains("unknown capture @callee"), "{e}");
    // Declared in the rule's CAPTURES, the same capture is accepted.
    compile_from(&[RuleQuery { captures: &["callee"], ..test_rule(query) }]).unwrap();
}

#[test]
fn syntax_errors_name_the_rule_and_line() {
    let broken = "; a comment\n((call\n  function: (nonexistent_node) @_f) @smell)\n";
    let rules: Vec<RuleQuery> = RULES.iter().map(of).chain([test_rule(broken)]).collect();
    let e = compile_err(&rules);
    assert!(e.starts_with("NL999 (test-rule): NodeType error at line 3"), "{e}");
}

#[test]
fn every_rule_folder_is_registered() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries").join("python");
    let mut folders: Vec<String> = std::fs::read_dir(&root)
        .expect("queries/python exists")
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    folders.sort();
    let mut registered: Vec<String> = RULES.iter().map(|r| r.dir.to_string()).collect();
    registered.sort();
    assert_eq!(
        folders, registered,
        "every folder under queries/python/ must be listed in rules::ALL (server/src/rules/mod.rs)"
    );
    for dir in &folders {
        for file in ["query.scm", "rule.md", "rule.rs", "bad.py", "good.py"] {
            assert!(root.join(dir).join(file).is_file(), "{dir} lacks {file}");
        }
    }
}

#[test]
fn codes_are_unique_and_well_formed() {
    let mut codes: Vec<&str> = RULES.iter().map(|r| r.code).collect();
    for code in &codes {
        let digits = code.strip_prefix("NL").unwrap_or("");
        assert!(digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit()), "code {code:?} is not NL[0-9]{{3}}");
    }
    let n = codes.len();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), n, "duplicate rule codes");
    let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), n, "duplicate rule names");
}

#[test]
fn folders_are_code_dash_name() {
    for rule in RULES {
        assert_eq!(rule.dir, format!("{}-{}", rule.code, rule.name));
        let name_ok = !rule.name.is_empty()
            && !rule.name.starts_with('-')
            && !rule.name.ends_with('-')
            && rule.name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        assert!(name_ok, "rule name {:?} is not kebab-case", rule.name);
    }
}

const HEADINGS: &[&str] =
    &["## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety", "## References"];

/// Problems with a rule's markdown: the title line and the fixed headings, in order.
fn doc_problems(code: &str, name: &str, doc: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let title = format!("# {name} ({code})");
    if doc.lines().next() != Some(title.as_str()) {
        problems.push(format!("the first line should be {title:?}"));
    }
    let mut in_code = false;
    let found: Vec<&str> = doc
        .lines()
        .filter(|l| {
            if l.starts_with("```") {
                in_code = !in_code;
            }
            !in_code && l.starts_with("## ")
        })
        .map(str::trim_end)
        .collect();
    // An optional "## Preview" (the forms that run only in preview mode) follows "What it does".
    let mut found = found;
    if let Some(at) = found.iter().position(|h| *h == "## Preview") {
        if at != 1 {
            problems.push("## Preview should follow ## What it does".to_string());
        }
        found.remove(at);
    }
    if found != HEADINGS {
        problems.push(format!("the headings should be {HEADINGS:?}, found {found:?}"));
    }
    for h in HEADINGS {
        let body = doc.split(h).nth(1).and_then(|rest| rest.split("\n## ").next()).unwrap_or("");
        if body.trim().is_empty() {
            problems.push(format!("{h} is empty"));
        }
    }
    problems
}

#[test]
fn rule_docs_have_the_headings_in_order() {
    for rule in RULES {
        let problems = doc_problems(rule.code, rule.name, rule.doc);
        assert!(problems.is_empty(), "{}/rule.md:\n  {}", rule.dir, problems.join("\n  "));
        assert!(!rule.summary().is_empty(), "{}: empty summary", rule.code);
        // The README row says what runs by default: the Preview section opens with one
        // paragraph naming both (a newcomer took NL202's distance root for a default form).
        if rule.has_preview_forms() {
            let forms = rule.preview_summary();
            assert!(
                forms.starts_with("By default") && forms.contains("in preview only"),
                "{}/rule.md: \"## Preview\" opens with \"By default ...; ... in preview only.\", not {forms:?}",
                rule.dir
            );
        }
    }
}

#[test]
fn doc_check_catches_mistakes() {
    let good = RULES[0].doc;
    let (code, name) = (RULES[0].code, RULES[0].name);
    assert!(doc_problems(code, name, good).is_empty());
    let swapped = good
        .replace("## Example", "## TMP")
        .replace("## Use instead", "## Example")
        .replace("## TMP", "## Use instead");
    assert!(!doc_problems(code, name, &swapped).is_empty(), "swapped headings were accepted");
    let missing = good.replace("## References", "## See also");
    assert!(!doc_problems(code, name, &missing).is_empty(), "a missing heading was accepted");
    let retitled = good.replacen(&format!("({code})"), "(NL000)", 1);
    assert!(!doc_problems(code, name, &retitled).is_empty(), "a wrong title was accepted");
}

const BEGIN: &str = "<!-- begin rules -->\n";
const END: &str = "<!-- end rules -->";

#[test]
fn readme_rule_table_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(&path).expect("README.md exists");
    let start = readme.find(BEGIN).expect("README.md has <!-- begin rules -->") + BEGIN.len();
    let end = start + readme[start..].find(END).expect("README.md has <!-- end rules --> after the begin marker");
    let fresh = rules::markdown_table();
    if readme[start..end] == fresh {
        return;
    }
    if std::env::var_os("NANLINT_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, format!("{}{fresh}{}", &readme[..start], &readme[end..])).unwrap();
        eprintln!("README.md: rule table rewritten");
        return;
    }
    panic!(
        "README.md's rule table is stale; run `NANLINT_BLESS=1 cargo test --test queries` or paste:\n\n{BEGIN}{fresh}{END}\n"
    );
}

/// Patterns that differ only in engine predicates and comments are matched once, the first of
/// them standing for all; a tree-sitter predicate (`#eq?`) makes a pattern of its own.
#[test]
fn patterns_differing_only_in_engine_predicates_are_matched_once() {
    use nanlint::syntax::parse;
    use tree_sitter::{QueryCursor, StreamingIterator};
    let other = RuleQuery {
        code: "NL998",
        name: "other-test-rule",
        query: "; the same shape\n((call\n   function: (_) @_callee) @smell\n  (#method? @_callee \"log\" \"exp\"))",
        captures: &[],
        anchors: &[],
    };
    let eq = "((call function: (_) @_callee) @smell (#api? @_callee \"torch.exp\") (#eq? @_callee \"torch.exp\"))";
    let compiled = compile_from(&[test_rule(CALL), other, test_rule(eq)]).unwrap();
    // Two shapes compiled: the first stands for patterns 0 and 1.
    assert_eq!(compiled.shared, vec![vec![0, 1], vec![2]]);
    assert_eq!(compiled.query.pattern_count(), 2);
    assert_eq!(compiled.pattern_rule, vec![0, 1, 2]);
    let src = "import torch\ntorch.log(x)\ntorch.exp(y)\n";
    let tree = parse(src);
    let mut cursor = QueryCursor::new();
    let mut matches = cursor.matches(&compiled.query, tree.root_node(), src.as_bytes());
    let mut patterns = Vec::new();
    while let Some(m) = matches.next() {
        patterns.push(m.pattern_index);
    }
    // The shared shape matches both calls; the one with `#eq?` only `torch.exp`.
    assert_eq!(patterns, vec![0, 0, 1]);
}

/// A comment inside an engine predicate is skipped with it: its `(` opens nothing, so a
/// tree-sitter predicate after it stays part of the shape and two patterns it tells apart are
/// not shared. Regression: the `(` of the comment swallowed `(#eq? @arg "x")`, and the second
/// pattern was disabled and run on the first's matches (found in review).
#[test]
fn a_comment_inside_an_engine_predicate_keeps_the_predicates_after_it() {
    let pattern = |name: &str| {
        format!(
            "((call function: (_) @_callee arguments: (argument_list . (_) @_arg)) @smell\n  (#api? @_callee \"torch.sqrt\" ; sqrt (not pow\n  )\n  (#eq? @_arg \"{name}\"))"
        )
    };
    let (x, y) = (pattern("x"), pattern("y"));
    let compiled = compile_from(&[test_rule(&x), test_rule(&y)]).unwrap();
    assert_eq!(compiled.shared, vec![vec![0], vec![1]]);
}
