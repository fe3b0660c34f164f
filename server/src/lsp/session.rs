//! The server's state: open documents with their text, tree and findings, the negotiated
//! capabilities and the settings. Every function here is synchronous: handlers call them before
//! any `.await`, and no map guard outlives a call, so no guard is ever held across an `.await`.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use dashmap::DashMap;
use serde_json::Value;
use tower_lsp_server::ls_types::{self as lsp, Uri};
use tree_sitter::{InputEdit, Point, Tree};

use super::config::ClientSettings;
use super::convert;
use crate::engine::{self, EditSite, UnitCache};
use crate::settings::{self, FileSettings, Settings};
use crate::smell::Smell;
use crate::text::{self, Encoding, Fit, LineIndex, Pos};

pub struct Document {
    pub version: i32,
    pub text: String,
    pub index: LineIndex,
    tree: Tree,
    cache: UnitCache,
    pub smells: Vec<Smell>,
    pub settings: Settings,
    pub path: Option<PathBuf>,
    /// The text is over `max-file-size` (NL002): it is neither parsed nor analyzed, and `tree`
    /// is the tree of an empty text, until the text is back under the limit.
    pub too_large: bool,
    /// The invalid `# noqa` directives already logged, each by its line's text up to `noqa:`
    /// (see [`Session::noqa_warnings`]).
    noqa_logged: Vec<String>,
    /// The diagnostics of the last publish, serialized ([`convert::PublishCache`]).
    publish_cache: std::sync::Mutex<convert::PublishCache>,
}

impl Document {
    /// The current syntax tree (reparsed incrementally after each change).
    pub fn tree(&self) -> &Tree {
        &self.tree
    }
}

/// What the client can do, learned at `initialize`.
#[derive(Clone, Debug, Default)]
pub struct Capabilities {
    pub encoding: Option<Encoding>,
    /// The client pulls diagnostics (`textDocument/diagnostic`); otherwise we push.
    pub pull: bool,
    pub refresh: bool,
    pub configuration: bool,
    pub watch_files: bool,
    pub related_information: bool,
    /// The client takes `documentChanges` in a `WorkspaceEdit` (versioned edits per document).
    pub document_changes: bool,
}

#[derive(Default)]
pub struct Session {
    docs: DashMap<Uri, Document>,
    pub caps: RwLock<Capabilities>,
    pub client: RwLock<ClientSettings>,
    /// The last `[tool.nanlint]` that parsed, per `pyproject.toml`, used while the file is broken.
    last_good: DashMap<PathBuf, FileSettings>,
    /// Open notebooks by notebook URI (see `super::notebook`).
    pub(super) notebooks: DashMap<Uri, super::notebook::NotebookDoc>,
    /// The notebook each open cell (`vscode-notebook-cell:` URI) belongs to. Never locked
    /// while a `notebooks` entry is being waited for.
    pub(super) cell_owner: DashMap<Uri, Uri>,
    /// The last ticket handed out: one per configuration request sent and per settings pushed.
    tickets: std::sync::atomic::AtomicU64,
    /// The ticket of the settings in force: settings with an older ticket arriving later (the
    /// answer to an earlier `workspace/configuration` request) are dropped.
    applied: std::sync::Mutex<u64>,
}

/// A `textDocument/publishDiagnostics` notification for one document, serialized while its
/// entry was locked.
pub struct Publish {
    /// The JSON-RPC message, without its `Content-Length` header.
    pub body: Vec<u8>,
}

impl Session {
    pub fn encoding(&self) -> Encoding {
        self.caps.read().map(|c| c.encoding.unwrap_or(Encoding::Utf16)).unwrap_or(Encoding::Utf16)
    }

    pub fn client_settings(&self) -> ClientSettings {
        self.client.read().map(|c| c.clone()).unwrap_or_default()
    }

    /// Settings for a file path: the nearest `[tool.nanlint]` combined with the editor's, and any
    /// problem reading configuration files (the last good version of a broken file is used).
    pub fn settings_for(&self, path: Option<&Path>) -> (Settings, Vec<String>) {
        let client = self.client_settings();
        let mut problems = Vec::new();
        let mut file = None;
        if let Some(dir) = path.and_then(Path::parent) {
            // In each folder `.nanlint.toml`, `nanlint.toml`, then `pyproject.toml`, as the CLI.
            'search: for candidate in dir.ancestors().flat_map(|d| settings::CONFIG_FILES.map(|n| d.join(n))) {
                if !candidate.is_file() {
                    continue;
                }
                match settings::read_config(&candidate) {
                    Ok(Some(f)) => {
                        self.last_good.insert(candidate, f.clone());
                        file = Some(f);
                        break 'search;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        problems.push(e);
                        if let Some(good) = self.last_good.get(&candidate) {
                            file = Some(good.clone());
                            break 'search;
                        }
                    }
                }
            }
        }
        (client.effective(file.as_ref()), problems)
    }

    /// A document for `text`, parsed and analyzed with the settings of `uri`'s path.
    pub(super) fn new_document(&self, uri: &Uri, version: i32, text: String) -> (Document, Vec<String>) {
        let path = uri.to_file_path().map(|p| p.into_owned());
        let (settings, mut problems) = self.settings_for(path.as_deref());
        // A text over `max-file-size` is not parsed (`reanalyze` reports it).
        let over = (text.len() as u64) > settings.max_file_size;
        let tree = engine::parse(if over { "" } else { &text });
        let mut doc = Document {
            version,
            index: LineIndex::new(&text),
            text,
            tree,
            cache: UnitCache::default(),
            smells: Vec::new(),
            settings,
            path,
            too_large: false,
            noqa_logged: Vec::new(),
            publish_cache: Default::default(),
        };
        if !reanalyze(uri, &mut doc, None) {
            problems.push(format!("analysis of {} failed; see the server log", uri.as_str()));
        }
        (doc, problems)
    }

    pub fn open(&self, uri: Uri, version: i32, text: String) -> (Option<Publish>, Vec<String>) {
        let (doc, problems) = self.new_document(&uri, version, text);
        let publish = self.publish_of(&uri, &doc);
        self.docs.insert(uri, doc);
        (publish, problems)
    }

    /// Applies incremental (or full) changes in order, reparses with the old tree, and
    /// re-analyzes. A version not newer than the document's is stale and dropped.
    ///
    /// A range the LSP spec or the reference client library gives a meaning to is applied with
    /// that meaning, and the repair is logged: a character past the end of its line stands for
    /// the end of the line (the spec), a line past the last line for the end of the text, and a
    /// reversed range for the same range in order (as `vscode-languageserver-textdocument` reads
    /// them). A position inside a character (between the two halves of a UTF-16 surrogate pair,
    /// or inside a UTF-8 sequence) names no place in any text: the whole notification is refused,
    /// and the document keeps its last good text, version and findings.
    pub fn change(
        &self,
        uri: &Uri,
        version: i32,
        changes: Vec<lsp::TextDocumentContentChangeEvent>,
    ) -> (Option<Publish>, Vec<String>) {
        let enc = self.encoding();
        let mut warnings = Vec::new();
        let mut doc = match self.docs.get_mut(uri) {
            Some(d) => d,
            None => {
                warnings.push(format!("ignored a change to {}, which is not open", uri.as_str()));
                return (None, warnings);
            }
        };
        if version <= doc.version {
            warnings.push(format!(
                "dropped a stale change to {} (version {version}, have {})",
                uri.as_str(),
                doc.version
            ));
            return (None, warnings);
        }
        let before = doc.text.len();
        let (accepted, mut more) = edit_document(uri, &mut doc, version, changes, enc);
        warnings.append(&mut more);
        if !accepted {
            return (None, warnings);
        }
        let publish = self.publish_of(uri, &doc);
        if before.abs_diff(doc.text.len()) >= TRIM_AFTER_BYTES {
            release_freed_memory();
        }
        (publish, warnings)
    }

    pub fn close(&self, uri: &Uri) -> Option<Publish> {
        if self.docs.remove(uri).is_some() {
            release_freed_memory();
        }
        let (text, index) = (String::new(), LineIndex::new(""));
        self.push_mode().then(|| Publish {
            body: convert::publish_body(uri, None, &text, &index, Encoding::Utf8, &[], Default::default(), false, None),
        })
    }

    fn push_mode(&self) -> bool {
        !self.caps.read().map(|c| c.pull).unwrap_or(false)
    }

    /// The diagnostics to push for `doc`, or `None` in pull mode.
    fn publish_of(&self, uri: &Uri, doc: &Document) -> Option<Publish> {
        let (enc, severity, related) = self.conversion();
        self.push_mode().then(|| Publish {
            body: convert::publish_body(
                uri,
                Some(doc.version),
                &doc.text,
                &doc.index,
                enc,
                &doc.smells,
                severity,
                related,
                doc.publish_cache.lock().as_deref_mut().ok(),
            ),
        })
    }

    /// The position encoding, severity and related-information support diagnostics are made with.
    pub(super) fn conversion(&self) -> (Encoding, super::config::Severity, bool) {
        let related = self.caps.read().map(|c| c.related_information).unwrap_or(true);
        (self.encoding(), self.client_settings().severity, related)
    }

    fn diagnostics_of(&self, uri: &Uri, doc: &Document) -> Vec<lsp::Diagnostic> {
        let (enc, severity, related) = self.conversion();
        doc.smells.iter().map(|s| convert::diagnostic(uri, &doc.text, &doc.index, enc, s, severity, related)).collect()
    }

    /// `textDocument/diagnostic`: the current findings, or `None` when the document is not open.
    pub fn pull(&self, uri: &Uri) -> Option<(i32, Vec<lsp::Diagnostic>)> {
        let doc = self.docs.get(uri)?;
        Some((doc.version, self.diagnostics_of(uri, &doc)))
    }

    /// Recomputes settings and findings of every open document (after a configuration change).
    pub fn refresh_all(&self) -> (Vec<Publish>, Vec<String>) {
        let uris: Vec<Uri> = self.docs.iter().map(|e| e.key().clone()).collect();
        let mut publishes = Vec::new();
        let mut problems = Vec::new();
        for uri in uris {
            let path = self.docs.get(&uri).and_then(|d| d.path.clone());
            let (settings, mut p) = self.settings_for(path.as_deref());
            problems.append(&mut p);
            if let Some(mut doc) = self.docs.get_mut(&uri) {
                doc.settings = settings;
                if !reanalyze(&uri, &mut doc, None) {
                    problems.push(format!("analysis of {} failed; see the server log", uri.as_str()));
                }
                publishes.extend(self.publish_of(&uri, &doc));
            }
        }
        let (mut notebooks, mut p) = self.refresh_notebooks();
        publishes.append(&mut notebooks);
        problems.append(&mut p);
        problems.sort();
        problems.dedup();
        (publishes, problems)
    }

    /// The warnings for the invalid `# noqa` directives of an open file (`# noqa: none`, which
    /// silences nothing, see [`engine::Noqa::Invalid`]) not logged before, as `nanlint check`
    /// prints them: `uri:line: invalid ...`. For the log, on open and after each change.
    pub fn noqa_warnings(&self, uri: &Uri) -> Vec<String> {
        let Some(mut doc) = self.docs.get_mut(uri) else { return Vec::new() };
        let new = new_noqa_warnings(&mut doc).into_iter();
        new.map(|(w, row)| format!("{}:{}: {}", uri.as_str(), row + 1, w.message)).collect()
    }

    /// Runs `f` on an open document (read-only), or returns `None`.
    pub fn with_doc<R>(&self, uri: &Uri, f: impl FnOnce(&Document) -> R) -> Option<R> {
        self.docs.get(uri).map(|d| f(&d))
    }

    /// A ticket for settings about to be asked for: take it before asking the client, pass it to
    /// `set_client_settings_if` with the answer.
    pub fn ticket(&self) -> u64 {
        self.tickets.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1
    }

    /// Applies settings asked for with `ticket`, unless settings asked for (or pushed) later have
    /// been applied already. Answers can arrive in any order: the newest request wins, not the
    /// latest answer.
    pub fn set_client_settings_if(&self, ticket: u64, value: &Value) -> Option<Vec<String>> {
        let mut applied = self.applied.lock().unwrap_or_else(|e| e.into_inner());
        if ticket <= *applied {
            return None;
        }
        *applied = ticket;
        let (settings, problems) = ClientSettings::from_json(value);
        if let Some(level) = &settings.log_level {
            super::set_log_level(level);
        }
        if let Ok(mut c) = self.client.write() {
            *c = settings;
        }
        Some(problems)
    }

    /// Applies the client's settings object (pushed, newer than anything asked for before);
    /// returns the problems found in it.
    pub fn set_client_settings(&self, value: &Value) -> Vec<String> {
        self.set_client_settings_if(self.ticket(), value).unwrap_or_default()
    }

    /// The text of an open document (for tests and the benchmark).
    pub fn text(&self, uri: &Uri) -> Option<String> {
        self.with_doc(uri, |d| d.text.clone())
    }
}

/// Where a change's range lies in `text`: its start and end offsets and what was repaired
/// (a reversed range, a position past its line or past the text, which the LSP spec or the
/// reference client library give a meaning to); refused, with why, when a position falls inside
/// one character, where no text has a boundary.
pub(super) fn locate_range(
    text: &str,
    index: &LineIndex,
    range: lsp::Range,
    enc: Encoding,
) -> Result<(usize, usize, Vec<String>), String> {
    let start = Pos { line: range.start.line, character: range.start.character };
    let end = Pos { line: range.end.line, character: range.end.character };
    let (s, start_fit) = index.locate(text, start, enc);
    let (e, end_fit) = index.locate(text, end, enc);
    let name = |p: Pos| format!("{}:{}", p.line, p.character);
    if let Some((inside, _)) = [(start, start_fit), (end, end_fit)].into_iter().find(|(_, f)| *f == Fit::InsideChar) {
        let what = match enc {
            Encoding::Utf16 => "between the two UTF-16 code units of one character",
            Encoding::Utf8 => "inside the UTF-8 bytes of one character",
        };
        return Err(format!("position {} is {what}", name(inside)));
    }
    let mut repairs = Vec::new();
    if s > e {
        repairs.push("reversed range (end before start): applied from end to start".to_string());
    }
    for (p, fit) in [(start, start_fit), (end, end_fit)] {
        match fit {
            Fit::PastLineEnd => {
                repairs.push(format!("{} is past the end of its line: read as the line's end", name(p)))
            }
            Fit::PastTextEnd => {
                repairs.push(format!("{} is past the last line: read as the end of the document", name(p)))
            }
            Fit::Exact | Fit::InsideChar => {}
        }
    }
    Ok((s, e, repairs))
}

/// Re-analyzes a document, containing any panic in the engine: the document keeps its new text
/// and tree, loses its findings, and the server goes on. Returns false after a panic. `edit` is
/// the single edit that made this version (with the edited old tree and the function that held
/// it), when there was one: then only that function may be analyzed again.
/// Applies incremental (or full) changes, in the encoding `enc`, to `doc` in order, reparses with
/// the old tree, re-analyzes and sets the version; returns warnings (a range outside the text,
/// a failed analysis).
pub(super) fn edit_document(
    uri: &Uri,
    doc: &mut Document,
    version: i32,
    changes: Vec<lsp::TextDocumentContentChangeEvent>,
    enc: Encoding,
) -> (bool, Vec<String>) {
    let mut warnings = Vec::new();
    // Several changes apply one after the other, so a later one can only be checked against
    // the text the earlier ones made: keep the last good text to go back to.
    let backup = (changes.len() > 1).then(|| (doc.text.clone(), doc.index.clone()));
    let mut full_reparse = false;
    // A single edit inside one function may be re-analyzed alone (`UnitCache::reanalyze_edit`).
    let count = changes.len();
    let single = count == 1;
    let mut site = None;
    // The tree is edited only once every change has been accepted.
    let mut tree_edits = Vec::new();
    // What was repaired, logged only if the whole notification is accepted.
    let mut repaired = Vec::new();
    for (i, change) in changes.into_iter().enumerate() {
        let Some(range) = change.range else {
            doc.text = change.text;
            doc.index = LineIndex::new(&doc.text);
            full_reparse = true;
            tree_edits.clear();
            continue;
        };
        let start = Pos { line: range.start.line, character: range.start.character };
        let end = Pos { line: range.end.line, character: range.end.character };
        let (s, e, repairs) = match locate_range(&doc.text, &doc.index, range, enc) {
            Ok(located) => located,
            Err(why) => {
                warnings.push(format!(
                    "refused change {} of {} to {} version {version}: {why}; the document keeps version {}",
                    i + 1,
                    count,
                    uri.as_str(),
                    doc.version
                ));
                if let Some((text, index)) = backup {
                    doc.text = text;
                    doc.index = index;
                }
                return (false, warnings);
            }
        };
        if !repairs.is_empty() {
            repaired.push(format!(
                "{} version {version}: change range {range:?}: {}",
                uri.as_str(),
                repairs.join("; ")
            ));
        }
        // The function holding the edit, found in the old text and tree (the same offsets
        // `apply_change` resolves).
        // Outside any function, whether the text replaced and the text typed are plain (no
        // comment, string or line continuation begins or ends in them).
        let plain = |t: &str| !t.contains(['#', '\'', '"', '\\']);
        let unit = if single && !doc.too_large {
            match engine::unit_around(&doc.tree, s.min(e), s.max(e)) {
                Some(unit) => Some((doc.text[unit.clone()].contains("import"), Some(unit), false)),
                None => Some((false, None, plain(&doc.text[s.min(e)..s.max(e)]) && plain(&change.text))),
            }
        } else {
            None
        };
        // From where the edit starts for the tree (a `\r` before it included), as `e.start`.
        let replaced = match unit {
            Some(_) => doc.text[text::edit_start(&doc.text, s.min(e))..s.max(e)].to_string(),
            None => String::new(),
        };
        let e = text::apply_change(&mut doc.text, &doc.index, start, end, &change.text, enc);
        debug_assert!(unit.is_none() || replaced.len() == e.old_end - e.start);
        site = unit.map(|(unit_imports, unit, plain)| EditSite {
            replaced,
            start: e.start,
            old_end: e.old_end,
            new_end: e.new_end,
            rows: e.new_end_point.0 as isize - e.old_end_point.0 as isize,
            unit,
            unit_imports,
            plain,
        });
        doc.index.update(&doc.text, &e);
        let point = |(row, column): (usize, usize)| Point { row, column };
        tree_edits.push(InputEdit {
            start_byte: e.start,
            old_end_byte: e.old_end,
            new_end_byte: e.new_end,
            start_position: point(e.start_point),
            old_end_position: point(e.old_end_point),
            new_end_position: point(e.new_end_point),
        });
    }
    warnings.append(&mut repaired);
    if doc.too_large || (doc.text.len() as u64) > doc.settings.max_file_size {
        // No tree is kept for a text over `max-file-size`: `reanalyze` reports it, or parses the
        // text afresh once it is back under the limit.
        doc.version = version;
        if !reanalyze(uri, doc, None) {
            warnings.push(format!("analysis of {} failed; see the server log", uri.as_str()));
        }
        return (true, warnings);
    }
    for edit in &tree_edits {
        doc.tree.edit(edit);
    }
    let old = if full_reparse { None } else { Some(&doc.tree) };
    let tree = engine::reparse(&doc.text, old);
    let old_tree = std::mem::replace(&mut doc.tree, tree);
    doc.version = version;
    let edit = site.map(|site| (old_tree, site));
    if !reanalyze(uri, doc, edit) {
        warnings.push(format!("analysis of {} failed; see the server log", uri.as_str()));
    }
    (true, warnings)
}

/// The `# noqa` warnings of `doc` not logged yet, each with its row (0-based); remembers the
/// current ones. A warning is known by its message and its line's text up to what it is about
/// (`noqa:` for an invalid directive, the code for an unknown one), so it is logged once while
/// it stays: typing after it or moving its line does not log it again.
pub(super) fn new_noqa_warnings(doc: &mut Document) -> Vec<(engine::NoqaWarning, usize)> {
    let mut current = Vec::new();
    let mut new = Vec::new();
    for w in engine::noqa_warnings(&doc.text, Some(doc.tree())) {
        let key = format!("{}\n{}", &doc.text[w.line..w.line + w.key], w.message);
        if !doc.noqa_logged.contains(&key) {
            let row = doc.index.position(&doc.text, w.line, Encoding::Utf8).line as usize;
            new.push((w, row));
        }
        current.push(key);
    }
    doc.noqa_logged = current;
    new
}

pub(super) fn reanalyze(uri: &Uri, doc: &mut Document, edit: Option<(Tree, EditSite)>) -> bool {
    // Over `max-file-size`: the CLI's NL002, at the top of the file, and no analysis (nor a
    // tree: parsing is a large part of the cost the limit avoids).
    if let Some(smell) = crate::check::too_large(doc.text.len() as u64, &doc.settings) {
        if !doc.too_large {
            tracing::warn!("{}: {}", uri.as_str(), smell.message);
            doc.too_large = true;
            doc.tree = engine::parse("");
            doc.cache = UnitCache::default();
        }
        doc.smells = vec![smell];
        return true;
    }
    let edit = match doc.too_large {
        true => {
            tracing::info!(
                "{}: {} bytes, within `max-file-size` ({} bytes) again: analyzed",
                uri.as_str(),
                doc.text.len(),
                doc.settings.max_file_size
            );
            doc.too_large = false;
            doc.tree = engine::parse(&doc.text);
            None
        }
        false => edit,
    };
    let Document { text, tree, cache, settings, smells, .. } = doc;
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        if let Some((old_tree, site)) = edit {
            let done = match site.unit {
                Some(_) => cache.reanalyze_edit(text, &old_tree, tree, settings, smells, &site),
                None => cache.reanalyze_loose_edit(text, &old_tree, tree, settings, smells, &site),
            };
            if done.is_some() {
                return std::mem::take(smells);
            }
        }
        if engine::might_smell(text) {
            cache.analyze(text, tree, settings)
        } else {
            // Nothing to find; the cache must not outlive the imports it was built with.
            *cache = UnitCache::default();
            Vec::new()
        }
    }));
    match result {
        Ok(found) => {
            *smells = found;
            true
        }
        Err(_) => {
            tracing::error!("analysis of {} panicked; its diagnostics are cleared", uri.as_str());
            *cache = UnitCache::default();
            smells.clear();
            false
        }
    }
}

/// A change that adds or removes this much text is followed by [`release_freed_memory`], as is
/// every close.
const TRIM_AFTER_BYTES: usize = 1 << 20;

/// Hands the memory a large document freed (its old text and tree, the findings of a big paste's
/// analysis) back to the system. glibc's malloc keeps freed pages in its arenas: after 600
/// messages of the soak test with 2 MB pastes the server held 399-516 MiB with about 1 MB of
/// text open. The binary's own values live in jemalloc on Linux (`main.rs`), which hands freed
/// pages back after a second by itself, and the binary gives tree-sitter's trees to jemalloc too;
/// this trims what still uses the C library's `malloc` (the library built without the binary's
/// allocator, as the tests run it, and C code outside tree-sitter). Elsewhere, nothing to do.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim(3) takes no pointer and only returns free pages of malloc's own heap.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_older_configuration_answer_does_not_undo_a_newer_change() {
        let session = Session::default();
        let seen = session.ticket(); // a workspace/configuration request goes out
        session.set_client_settings(&json!({"epsilon": 1e-3})); // then didChangeConfiguration
        assert_eq!(session.set_client_settings_if(seen, &json!({"epsilon": 1e-5})), None);
        assert_eq!(session.client_settings().rules.epsilon, Some(1e-3));
        let seen = session.ticket();
        assert_eq!(session.set_client_settings_if(seen, &json!({"epsilon": 1e-5})), Some(vec![]));
        assert_eq!(session.client_settings().rules.epsilon, Some(1e-5));
    }

    #[test]
    fn the_answer_to_the_newest_configuration_request_wins_whatever_order_answers_arrive_in() {
        // Two didChangeConfiguration without settings: two requests go out. The first answer
        // arriving after the second request was sent used to bump the generation the second had
        // taken, so the newer answer was dropped and the server kept the older settings.
        let session = Session::default();
        let first = session.ticket();
        let second = session.ticket();
        assert_eq!(session.set_client_settings_if(first, &json!({"epsilon": 1e-3})), Some(vec![]));
        assert_eq!(session.set_client_settings_if(second, &json!({"epsilon": 1e-5})), Some(vec![]));
        assert_eq!(session.client_settings().rules.epsilon, Some(1e-5));
        // Answered the other way round, the older answer is dropped.
        let (first, second) = (session.ticket(), session.ticket());
        assert_eq!(session.set_client_settings_if(second, &json!({"epsilon": 1e-4})), Some(vec![]));
        assert_eq!(session.set_client_settings_if(first, &json!({"epsilon": 1e-2})), None);
        assert_eq!(session.client_settings().rules.epsilon, Some(1e-4));
    }
}
