//! Engine results in LSP shapes: diagnostics, hovers and code actions. Positions go through
//! `text::LineIndex` in the negotiated encoding. A diagnostic carries no fixes (`data`): a code
//! action takes them from the document's current findings, so a keystroke's publish costs what
//! its diagnostics do, not every alternative's edits, and a diagnostic from before an edit gets
//! no edit made for other text.

use std::collections::HashMap;
use std::sync::OnceLock;

use tower_lsp_server::ls_types::{self as lsp, Uri};
use tree_sitter::Node;

use super::config::Severity;
use crate::engine;
use crate::rules;
use crate::smell::{Applicability, Fix, Smell, Span};
use crate::text::{Encoding, LineIndex, Pos};

pub const SOURCE: &str = "nanlint";
pub const FIX_ALL_KIND: &str = "source.fixAll.nanlint";

pub fn position(text: &str, index: &LineIndex, enc: Encoding, byte: usize) -> lsp::Position {
    let Pos { line, character } = index.position(text, byte, enc);
    lsp::Position { line, character }
}

pub fn range(text: &str, index: &LineIndex, enc: Encoding, start: usize, end: usize) -> lsp::Range {
    lsp::Range { start: position(text, index, enc, start), end: position(text, index, enc, end) }
}

fn span_range(text: &str, index: &LineIndex, enc: Encoding, span: &Span) -> lsp::Range {
    range(text, index, enc, span.start_byte, span.end_byte)
}

pub fn diagnostic(
    uri: &Uri,
    text: &str,
    index: &LineIndex,
    enc: Encoding,
    smell: &Smell,
    severity: Severity,
    related: bool,
) -> lsp::Diagnostic {
    lsp::Diagnostic {
        range: span_range(text, index, enc, &smell.span),
        severity: Some(lsp_severity(severity)),
        code: Some(lsp::NumberOrString::String(smell.code.to_string())),
        code_description: rule_href(smell.code).map(|href| lsp::CodeDescription { href: href.clone() }),
        source: Some(SOURCE.to_string()),
        message: smell.message.clone(),
        related_information: smell.related.as_ref().filter(|_| related).map(|r| {
            vec![lsp::DiagnosticRelatedInformation {
                location: lsp::Location { uri: uri.clone(), range: span_range(text, index, enc, &r.span) },
                message: r.message.clone(),
            }]
        }),
        tags: None,
        data: None,
    }
}

fn lsp_severity(severity: Severity) -> lsp::DiagnosticSeverity {
    match severity {
        Severity::Error => lsp::DiagnosticSeverity::ERROR,
        Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        Severity::Information => lsp::DiagnosticSeverity::INFORMATION,
        Severity::Hint => lsp::DiagnosticSeverity::HINT,
    }
}

/// The link to a code's documentation (a rule's or a built-in code's), parsed once per code.
fn rule_href(code: &str) -> Option<&'static Uri> {
    static HREFS: OnceLock<HashMap<&'static str, Uri>> = OnceLock::new();
    HREFS
        .get_or_init(|| {
            let codes = crate::check::BUILTINS.iter().map(|b| b.code).chain(rules::RULES.iter().map(|r| r.code));
            codes.filter_map(|code| Some((code, crate::check::docs_url_of(code)?.parse::<Uri>().ok()?))).collect()
        })
        .get(code)
}

/// The body of a `textDocument/publishDiagnostics` notification, serialized straight from the
/// findings. It is the JSON that [`diagnostic`] gives through `lsp::Diagnostic` (a test holds
/// them equal), without building those first, and without the framework turning the
/// notification into a `Value` before writing it: pushing every diagnostic after every keystroke
/// is the server's hottest path. With a `cache` (the document's), a diagnostic that says what
/// one of the last publish said, at the same range, is copied from it rather than serialized.
#[allow(clippy::too_many_arguments)]
pub fn publish_body(
    uri: &Uri,
    version: Option<i32>,
    text: &str,
    index: &LineIndex,
    enc: Encoding,
    smells: &[Smell],
    severity: Severity,
    related: bool,
    cache: Option<&mut PublishCache>,
) -> Vec<u8> {
    let diagnostic = |smell| wire_diagnostic(uri, text, index, enc, smell, severity, related);
    let Some(cache) = cache else {
        let notification = wire::Notification {
            jsonrpc: "2.0",
            method: "textDocument/publishDiagnostics",
            params: wire::PublishParams { uri, diagnostics: smells.iter().map(diagnostic).collect(), version },
        };
        return serde_json::to_vec(&notification).unwrap_or_default();
    };
    // The same JSON written around the diagnostics' own (field order as `wire::Notification`).
    let mut out = Vec::with_capacity(cache.bytes + 256);
    out.extend_from_slice(br#"{"jsonrpc":"2.0","method":"textDocument/publishDiagnostics","params":{"uri":"#);
    let _ = serde_json::to_writer(&mut out, uri);
    out.extend_from_slice(br#","diagnostics":["#);
    let mut kept: foldhash::HashMap<u64, Vec<Said>> = foldhash::HashMap::default();
    kept.reserve(smells.len());
    for (i, smell) in smells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let d = diagnostic(smell);
        let key = Said::key(&d);
        // Taken from the last publish (moved, not copied), or serialized.
        let said = match cache
            .last
            .get_mut(&key)
            .and_then(|list| list.iter().position(|s| s.is(&d)).map(|at| list.swap_remove(at)))
        {
            Some(said) => said,
            None => Said::of(&d),
        };
        out.extend_from_slice(&said.json);
        kept.entry(key).or_default().push(said);
    }
    out.push(b']');
    if let Some(version) = version {
        out.extend_from_slice(br#","version":"#);
        out.extend_from_slice(version.to_string().as_bytes());
    }
    out.extend_from_slice(b"}}");
    cache.bytes = out.len();
    cache.last = kept;
    out
}

/// A finding as the borrowed shape [`publish_body`] serializes.
fn wire_diagnostic<'a>(
    uri: &'a Uri,
    text: &str,
    index: &LineIndex,
    enc: Encoding,
    smell: &'a Smell,
    severity: Severity,
    related: bool,
) -> wire::Diagnostic<'a> {
    let range = |start: usize, end: usize| range(text, index, enc, start, end);
    wire::Diagnostic {
        range: range(smell.span.start_byte, smell.span.end_byte),
        severity: lsp_severity(severity),
        code: smell.code,
        code_description: rule_href(smell.code).map(|href| wire::Href { href }),
        source: SOURCE,
        message: &smell.message,
        related_information: smell.related.as_ref().filter(|_| related).map(|r| {
            [wire::Related {
                location: wire::Location { uri, range: range(r.span.start_byte, r.span.end_byte) },
                message: &r.message,
            }]
        }),
    }
}

/// The serialized diagnostics of a document's last publish, by what each said and where.
#[derive(Debug, Default)]
pub struct PublishCache {
    /// By [`Said::key`].
    last: foldhash::HashMap<u64, Vec<Said>>,
    /// The size of the last body.
    bytes: usize,
}

/// A serialized diagnostic with everything it was made of (the document's URI aside: a cache
/// is one document's).
#[derive(Debug)]
struct Said {
    range: lsp::Range,
    severity: lsp::DiagnosticSeverity,
    code: String,
    message: String,
    related: Option<(lsp::Range, String)>,
    json: Vec<u8>,
}

impl Said {
    fn of(d: &wire::Diagnostic) -> Said {
        Said {
            range: d.range,
            severity: d.severity,
            code: d.code.to_string(),
            message: d.message.to_string(),
            related: d.related_information.as_ref().map(|[r]| (r.location.range, r.message.to_string())),
            json: serde_json::to_vec(d).unwrap_or_default(),
        }
    }

    fn is(&self, d: &wire::Diagnostic) -> bool {
        self.range == d.range
            && self.severity == d.severity
            && self.code == d.code
            && self.message == d.message
            && self.related.as_ref().map(|(range, message)| (*range, message.as_str()))
                == d.related_information.as_ref().map(|[r]| (r.location.range, r.message))
    }

    fn key(d: &wire::Diagnostic) -> u64 {
        let related = d.related_information.as_ref().map(|[r]| (r.location.range, r.message));
        crate::semantic::facts::stable_hash(&(d.range, d.code, d.message, related))
    }
}

/// Borrowing mirrors of the `ls_types` shapes a publish carries.
mod wire {
    use serde::Serialize;
    use tower_lsp_server::ls_types::{self as lsp, Uri};

    #[derive(Serialize)]
    pub struct Notification<'a> {
        pub jsonrpc: &'static str,
        pub method: &'static str,
        pub params: PublishParams<'a>,
    }

    #[derive(Serialize)]
    pub struct PublishParams<'a> {
        pub uri: &'a Uri,
        pub diagnostics: Vec<Diagnostic<'a>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub version: Option<i32>,
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Diagnostic<'a> {
        pub range: lsp::Range,
        pub severity: lsp::DiagnosticSeverity,
        pub code: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub code_description: Option<Href<'a>>,
        pub source: &'static str,
        pub message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub related_information: Option<[Related<'a>; 1]>,
    }

    #[derive(Serialize)]
    pub struct Href<'a> {
        pub href: &'a Uri,
    }

    #[derive(Serialize)]
    pub struct Related<'a> {
        pub location: Location<'a>,
        pub message: &'a str,
    }

    #[derive(Serialize)]
    pub struct Location<'a> {
        pub uri: &'a Uri,
        pub range: lsp::Range,
    }
}

/// Markdown for a hover over a smell: the finding, the rewrite of this very line, then the rule's
/// documentation.
pub fn hover_smell(text: &str, smell: &Smell) -> String {
    hover_smell_with(text, smell, smell.fixes.first())
}

/// [`hover_smell`] naming `fix` as the quick fix (in a notebook's cell, one that may also edit
/// other cells, its edits in this cell given).
pub fn hover_smell_with(text: &str, smell: &Smell, fix: Option<&Fix>) -> String {
    let mut md = format!("**{}** `{}`: {}\n\n", smell.code, smell.rule, smell.message);
    if let Some(fix) = fix {
        let safety = if fix.applicability == Applicability::Unsafe { " (unsafe: review it)" } else { "" };
        md.push_str(&format!("**Quick fix{safety}:** {}\n\n", fix.title));
        if let Some(rewritten) = rewritten_lines(text, smell, fix) {
            md.push_str(&format!("```python\n{rewritten}\n```\n\n"));
        }
    }
    if let Some(rule) = rules::by_code(smell.code) {
        md.push_str("---\n\n");
        md.push_str(doc_body(rule.doc));
    }
    md
}

/// The rule's documentation without its title line (the hover already names the rule).
pub fn doc_body(doc: &str) -> &str {
    doc.split_once('\n').map_or(doc, |(_, rest)| rest.trim_start())
}

/// The smell's lines after applying `fix`'s edits that touch them.
fn rewritten_lines(text: &str, smell: &Smell, fix: &crate::smell::Fix) -> Option<String> {
    let line_start = crate::text::line_start(text, smell.span.start_byte);
    let edits: Vec<_> =
        fix.edits.iter().filter(|e| e.end >= line_start && e.start <= smell.span.end_byte).cloned().collect();
    let last = edits.iter().map(|e| e.end).max()?.max(smell.span.end_byte);
    let line_end = crate::text::line_end(text, last);
    let shifted: Vec<_> = edits
        .into_iter()
        .map(|mut e| {
            e.start -= line_start;
            e.end -= line_start;
            e
        })
        .collect();
    let rewritten = crate::smell::apply_edits(&text[line_start..line_end], &shifted);
    Some(dedent(&rewritten))
}

fn dedent(block: &str) -> String {
    let indent =
        block.lines().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    block.lines().map(|l| l.get(indent..).unwrap_or(l.trim_start())).collect::<Vec<_>>().join("\n")
}

/// When `byte` is on a rule code inside a `# noqa: ...` comment, that rule's documentation.
/// `text` starts at byte `base` of the source `root` is the tree of (a cell's text is a part of
/// its notebook's program).
pub fn hover_noqa(text: &str, byte: usize, root: Node, base: usize) -> Option<String> {
    let line_start = crate::text::line_start(text, byte);
    let (line, comment) = line_in(text, line_start, root, base);
    let codes = engine::noqa_codes(line, comment)?;
    // From the comment on: a code in a string before it (`s = "NL101"  # noqa: NL101`) is text.
    let hash = comment?;
    let at = byte - line_start;
    for code in codes {
        let mut from = hash;
        while let Some(i) = line[from..].find(&code) {
            let s = from + i;
            if (s..=s + code.len()).contains(&at) {
                return rules::by_code(&code).map(|r| format!("**{}** `{}`\n\n{}", r.code, r.name, doc_body(r.doc)));
            }
            from = s + code.len();
        }
    }
    None
}

pub fn workspace_edit(uri: &Uri, edits: Vec<lsp::TextEdit>) -> lsp::WorkspaceEdit {
    lsp::WorkspaceEdit { changes: Some(HashMap::from([(uri.clone(), edits)])), ..Default::default() }
}

/// One quick fix per alternative of the current finding `diagnostic` shows (its code and range
/// in `text`), the first preferred; `None` when no current finding has them (a diagnostic from
/// before an edit: the client asks again once the new diagnostics arrive).
pub fn fix_actions(
    uri: &Uri,
    text: &str,
    index: &LineIndex,
    enc: Encoding,
    smells: &[Smell],
    diagnostic: &lsp::Diagnostic,
) -> Option<Vec<lsp::CodeAction>> {
    let code = code_of(diagnostic);
    let smell = smells.iter().find(|s| s.code == code && span_range(text, index, enc, &s.span) == diagnostic.range)?;
    let actions = smell
        .fixes
        .iter()
        .enumerate()
        .map(|(i, fix)| {
            let edits = fix
                .edits
                .iter()
                .map(|e| lsp::TextEdit { range: range(text, index, enc, e.start, e.end), new_text: e.content.clone() })
                .collect();
            lsp::CodeAction {
                title: format!("nanlint ({code}): {}", fix.title),
                kind: Some(lsp::CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(workspace_edit(uri, edits)),
                is_preferred: Some(i == 0),
                ..Default::default()
            }
        })
        .collect();
    Some(actions)
}

pub fn code_of(diagnostic: &lsp::Diagnostic) -> String {
    match &diagnostic.code {
        Some(lsp::NumberOrString::String(s)) => s.clone(),
        Some(lsp::NumberOrString::Number(n)) => n.to_string(),
        None => String::new(),
    }
}

/// "Disable CODE for this line": extends an existing `# noqa: ...` or appends one. None where a
/// comment at the line's end would not be one: after a backslash, or inside a string the line
/// leaves open, as `check --add-noqa` refuses. `text` starts at byte `base` of the source `root`
/// is the tree of (see [`hover_noqa`]); a cell's line holding a finding reads the same in the
/// program as in the cell, so the edit's position is the cell's.
pub fn noqa_action(
    uri: &Uri,
    text: &str,
    index: &LineIndex,
    enc: Encoding,
    diagnostic: &lsp::Diagnostic,
    root: Node,
    base: usize,
) -> Option<lsp::CodeAction> {
    let code = code_of(diagnostic);
    let start = index.offset(text, Pos { line: diagnostic.range.start.line, character: 0 }, enc).0;
    let (line, comment) = line_in(text, start, root, base);
    if engine::comment_cannot_end(root, line, base + start).is_some() {
        return None;
    }
    let (at, new_text) = engine::noqa_insertion(line, comment, &[code.as_str()])?;
    let (s, e) = (start + at, start + at);
    Some(lsp::CodeAction {
        title: format!("nanlint ({code}): Disable {code} for this line"),
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic.clone()]),
        edit: Some(workspace_edit(uri, vec![lsp::TextEdit { range: range(text, index, enc, s, e), new_text }])),
        is_preferred: Some(false),
        ..Default::default()
    })
}

/// The line of `text` starting at byte `start` and where its comment starts in it, `text`
/// being the part of the source at `base` that `root` is the tree of.
fn line_in<'t>(text: &'t str, start: usize, root: Node, base: usize) -> (&'t str, Option<usize>) {
    let line = &text[start..crate::text::line_end(text, start)];
    (line, crate::syntax::line_comment(root, line, base + start).map(|c| c - base - start))
}

/// The smallest single edit turning `old` into `new` (common prefix and suffix kept).
pub fn minimal_edit(old: &str, new: &str, index: &LineIndex, enc: Encoding) -> Option<lsp::TextEdit> {
    if old == new {
        return None;
    }
    let mut prefix = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = old.len().min(new.len()) - prefix;
    let mut suffix = old.bytes().rev().zip(new.bytes().rev()).take(max_suffix).take_while(|(a, b)| a == b).count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    Some(lsp::TextEdit {
        range: range(old, index, enc, prefix, old.len() - suffix),
        new_text: new[prefix..new.len() - suffix].to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Settings;

    #[test]
    fn a_noqa_code_is_hovered_in_the_comment_not_in_a_string_before_it() {
        let text = "s = \"# NL101\"; x = 1  # noqa: NL101\n";
        let in_string = text.find("NL101").unwrap() + 1;
        let in_comment = text.rfind("NL101").unwrap() + 1;
        let tree = crate::engine::parse(text);
        assert_eq!(hover_noqa(text, in_string, tree.root_node(), 0), None);
        assert!(hover_noqa(text, in_comment, tree.root_node(), 0).is_some_and(|h| h.starts_with("**NL101**")));
        // A part of a larger source (a cell of a program): read from the source's tree.
        let program = format!("x = '''\n'''\n{text}");
        let tree = crate::engine::parse(&program);
        let base = program.len() - text.len();
        assert!(hover_noqa(text, in_comment, tree.root_node(), base).is_some_and(|h| h.starts_with("**NL101**")));
        // A line a string continues onto holds no directive.
        let open = "x = '''\n# noqa: NL101\n'''\n";
        let tree = crate::engine::parse(open);
        assert_eq!(hover_noqa(open, open.find("NL101").unwrap() + 1, tree.root_node(), 0), None);
    }

    /// A document's cache serves only diagnostics that say the same at the same place: after a
    /// message, a range or the related information changes, or a finding is repeated, the body
    /// is the one serialized without a cache.
    #[test]
    fn a_cached_publish_follows_what_changed() {
        let src = "import torch\np = torch.softmax(z, -1)\na = torch.log(p)\nb = torch.log(torch.softmax(y, -1))\n";
        let smells = engine::check_source(src, &Settings::default());
        assert_eq!(smells.len(), 2, "{smells:#?}");
        let uri: Uri = "file:///w/m.py".parse().unwrap();
        let index = LineIndex::new(src);
        let body = |smells: &[Smell], cache: Option<&mut PublishCache>| {
            let body =
                publish_body(&uri, Some(1), src, &index, Encoding::Utf16, smells, Severity::Warning, true, cache);
            String::from_utf8(body).unwrap()
        };
        let mut cache = PublishCache::default();
        assert_eq!(body(&smells, Some(&mut cache)), body(&smells, None));
        let mut changed = smells.clone();
        changed[0].message.push_str(" (changed)");
        changed[1].span.start_byte += 2;
        changed.push(smells[0].clone());
        changed.push(smells[0].clone());
        let mut no_related = smells[0].clone();
        no_related.related = None;
        changed.push(no_related);
        let fresh = body(&changed, None);
        assert!(fresh.contains("(changed)"));
        assert_eq!(body(&changed, Some(&mut cache)), fresh);
        assert_eq!(body(&changed, Some(&mut cache)), fresh);
        assert_eq!(body(&smells, Some(&mut cache)), body(&smells, None));
        assert_eq!(body(&[], Some(&mut cache)), body(&[], None));
    }

    /// The pushed notification must be exactly what the framework would send for the
    /// `lsp::Diagnostic`s that pull mode and code actions use.
    #[test]
    fn publish_body_is_the_frameworks_json() {
        let src = "import tensorflow as tf\n# 概率 🔥\ny = tf.nn.softmax(z)  # é\nl = -tf.reduce_sum(t * tf.log(y))\n\
                   w = tf.log(tf.nn.relu(q))\n";
        let smells = engine::check_source(src, &Settings::default());
        assert_eq!(smells.len(), 2, "{smells:#?}");
        assert!(smells.iter().any(|s| s.related.is_some()) && smells.iter().all(|s| !s.fixes.is_empty()));
        let uri: Uri = "file:///w/loss%20fn.py".parse().unwrap();
        let index = LineIndex::new(src);
        for (enc, severity, related, version) in [
            (Encoding::Utf16, Severity::Warning, true, Some(3)),
            (Encoding::Utf8, Severity::Error, false, None),
            (Encoding::Utf16, Severity::Hint, true, Some(-1)),
        ] {
            let body = publish_body(&uri, version, src, &index, enc, &smells, severity, related, None);
            // The same bytes from a document's cache, empty and then holding them.
            let mut cache = PublishCache::default();
            for _ in 0..2 {
                let cached =
                    publish_body(&uri, version, src, &index, enc, &smells, severity, related, Some(&mut cache));
                assert_eq!(String::from_utf8_lossy(&cached), String::from_utf8_lossy(&body));
            }
            let sent: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let diagnostics = smells.iter().map(|s| diagnostic(&uri, src, &index, enc, s, severity, related)).collect();
            let params = lsp::PublishDiagnosticsParams { uri: uri.clone(), diagnostics, version };
            let expected = serde_json::json!({
                "jsonrpc": "2.0",
                "method": "textDocument/publishDiagnostics",
                "params": serde_json::to_value(params).unwrap(),
            });
            assert_eq!(sent, expected, "{enc:?} {severity:?} related={related}");
        }
    }
}
