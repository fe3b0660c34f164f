//! Notebook documents (`notebookDocument/didOpen|didChange|didClose`, LSP 3.17): a notebook's
//! Python code cells are analyzed as one program, joined as the CLI joins an `.ipynb`
//! (`check::notebook::join`: cell magics left out, IPython lines blanked, cells in order), so a
//! cell sees the imports and assignments of the cells above it. Findings go to the cell they
//! are in, at cell-relative positions, under the cell's own URI (`vscode-notebook-cell:...`).
//!
//! The joined program is a [`Document`] like any open file: after a change, the new program is
//! compared with the old one and the difference goes through the same incremental edit, reparse
//! and re-analysis as a keystroke in a `.py` file (`session::edit_document`).
//!
//! Cells' diagnostics are always pushed, also to a client that pulls: a cell's findings depend
//! on the cells above it, and a client pulls again only the cell it changed. A cell is pushed
//! again only when what it would be sent differs from what it was last sent.

use std::collections::HashMap;
use std::ops::Range;

use tower_lsp_server::ls_types::{self as lsp, Uri};
use tree_sitter::Tree;

use super::convert;
use super::session::{self, Document, Publish, Session};
use crate::check::notebook::{self as nb, MAGIC};
use crate::smell::{Fix, Smell};
use crate::text::{self, Encoding, LineIndex, Pos};

/// One cell of an open notebook.
pub struct Cell {
    pub uri: Uri,
    /// The cell text document's version.
    pub version: i32,
    /// A Python code cell (a markup cell, or a cell in another language, is not analyzed).
    pub code: bool,
    /// The cell document's language (`python`), if the client sent its text.
    language: Option<String>,
    pub text: String,
    /// The diagnostics body this cell was last pushed, and whether it held none.
    sent: Option<(Vec<u8>, bool)>,
}

/// An open notebook: its cells in order and the program they make.
pub struct NotebookDoc {
    pub version: i32,
    pub cells: Vec<Cell>,
    /// The code cells joined (`check::notebook::join`), parsed and analyzed; its version is the
    /// notebook's.
    pub program: Document,
    /// Per cell, its text's byte range in `program.text`; `None` for a cell not analyzed.
    spans: Vec<Option<Range<usize>>>,
}

/// A cell as the analysis sees it: its text in the program (IPython lines blanked, same lines),
/// and the program's findings inside it, moved to cell-relative positions.
pub struct CellView<'a> {
    pub text: &'a str,
    pub index: LineIndex,
    pub smells: Vec<Smell>,
    /// Per smell, the first of its fixes that code actions offer (`fix_actions`: also one
    /// editing other cells), with its edits in this cell only, in the cell's bytes: what a hover
    /// names as the quick fix, as it does in a file.
    pub preferred: Vec<Option<Fix>>,
    /// The cell's text as the client has it (its IPython lines as written).
    pub original: &'a str,
    /// The program's tree, and the byte of the program `text` starts at.
    pub tree: &'a Tree,
    pub base: usize,
}

fn is_python_code(kind: &lsp::NotebookCellKind, language: Option<&str>) -> bool {
    *kind == lsp::NotebookCellKind::CODE && language.is_none_or(|l| l == "python")
}

impl NotebookDoc {
    /// The joined program of the current cells, and each cell's span in it.
    fn joined(cells: &[Cell]) -> (String, Vec<Option<Range<usize>>>) {
        let code: Vec<&str> = cells.iter().filter(|c| c.code).map(|c| c.text.as_str()).collect();
        let joined = nb::join(code);
        let mut spans = joined.spans.into_iter();
        let spans = cells.iter().map(|c| if c.code { spans.next().flatten() } else { None }).collect();
        (joined.program, spans)
    }

    /// The view of cell `i`, or `None` if it is not analyzed.
    pub fn view(&self, i: usize) -> Option<CellView<'_>> {
        let span = self.spans.get(i)?.clone()?;
        let program = &self.program;
        let text = &program.text[span.clone()];
        let rows = program.index.position(&program.text, span.start, Encoding::Utf8).line as isize;
        let inside = |s: usize, e: usize| span.start <= s && s <= e && e <= span.end;
        let here = || program.smells.iter().filter(|s| inside(s.span.start_byte, s.span.end_byte));
        let preferred = here()
            .map(|s| {
                let fix =
                    s.fixes.iter().find(|f| f.edits.iter().all(|e| self.locate_edit(e.start, e.end).is_some()))?;
                let mut fix = fix.clone();
                fix.edits.retain(|e| inside(e.start, e.end));
                for e in &mut fix.edits {
                    e.start -= span.start;
                    e.end -= span.start;
                }
                Some(fix)
            })
            .collect();
        let smells = here()
            .map(|s| {
                let mut s = s.clone();
                // Another cell's place cannot be shown under this cell's URI.
                if s.related.as_ref().is_some_and(|r| !inside(r.span.start_byte, r.span.end_byte)) {
                    s.related = None;
                }
                // A fix must edit this cell only, and no blanked IPython line (its text in the
                // program is not the cell's): what the cell's diagnostics carry and its hover
                // shows. Code actions also offer fixes editing other cells (`fix_actions`).
                s.fixes.retain(|f| {
                    f.edits.iter().all(|e| inside(e.start, e.end) && !touches_magic(&program.text, e.start, e.end))
                });
                s.move_from(0, -(span.start as isize), -rows);
                s
            })
            .collect();
        Some(CellView {
            text,
            index: LineIndex::new(text),
            smells,
            preferred,
            original: &self.cells[i].text,
            tree: program.tree(),
            base: span.start,
        })
    }

    /// Where a program edit `start..end` lands: the cell's index and the edit's byte range in
    /// that cell's text; `None` when it is not inside one analyzed cell (between cells), or
    /// touches a blanked IPython line (its text in the program is not the cell's).
    fn locate_edit(&self, start: usize, end: usize) -> Option<(usize, Range<usize>)> {
        let text = &self.program.text;
        if start > end || end > text.len() || touches_magic(text, start, end) {
            return None;
        }
        self.spans.iter().enumerate().find_map(|(i, span)| {
            let span = span.as_ref()?;
            (span.start <= start && end <= span.end).then(|| (i, start - span.start..end - span.start))
        })
    }

    /// The quick fixes of cell `i`'s finding that `diagnostic` stands for (same code, same
    /// range in the cell), each edit mapped back to the cell it lands in, at that cell's
    /// positions in `enc`: a fix may also edit another cell (an import added to the cell
    /// holding the imports). A fix with an edit that lands in no cell is not offered. `None`
    /// when no current finding matches (the diagnostic is stale).
    fn fix_actions(
        &self,
        i: usize,
        diagnostic: &lsp::Diagnostic,
        enc: Encoding,
        versioned: bool,
    ) -> Option<Vec<lsp::CodeAction>> {
        let span = self.spans.get(i)?.clone()?;
        let program = &self.program.text;
        let code = convert::code_of(diagnostic);
        let cell_text = |j: usize| self.spans[j].clone().map(|s| &program[s]).unwrap_or_default();
        let mut indexes: HashMap<usize, LineIndex> = HashMap::new();
        let mut range_in = |j: usize, r: Range<usize>| {
            let text = cell_text(j);
            let index = indexes.entry(j).or_insert_with(|| LineIndex::new(text));
            convert::range(text, index, enc, r.start, r.end)
        };
        let smell = self.program.smells.iter().find(|s| {
            s.code == code
                && span.start <= s.span.start_byte
                && s.span.end_byte <= span.end
                && range_in(i, s.span.start_byte - span.start..s.span.end_byte - span.start) == diagnostic.range
        })?;
        let mut actions = Vec::new();
        // As `nanlint check --fix` on the notebook: none while its cells hold a syntax error.
        if crate::check::first_syntax_error(self.program.tree(), program).is_some() {
            return Some(actions);
        }
        for fix in &smell.fixes {
            let Some(located) = fix.edits.iter().map(|e| self.locate_edit(e.start, e.end)).collect::<Option<Vec<_>>>()
            else {
                continue;
            };
            // The edits per cell, cells in notebook order, each cell's edits in the fix's order.
            let mut per_cell: Vec<(usize, Vec<lsp::TextEdit>)> = Vec::new();
            for ((j, r), e) in located.into_iter().zip(&fix.edits) {
                let edit = lsp::TextEdit { range: range_in(j, r), new_text: e.content.clone() };
                match per_cell.iter_mut().find(|(k, _)| *k == j) {
                    Some((_, edits)) => edits.push(edit),
                    None => per_cell.push((j, vec![edit])),
                }
            }
            per_cell.sort_by_key(|(j, _)| *j);
            let edit = if versioned {
                let edits = per_cell
                    .into_iter()
                    .map(|(j, edits)| lsp::TextDocumentEdit {
                        text_document: lsp::OptionalVersionedTextDocumentIdentifier {
                            uri: self.cells[j].uri.clone(),
                            version: Some(self.cells[j].version),
                        },
                        edits: edits.into_iter().map(lsp::OneOf::Left).collect(),
                    })
                    .collect();
                lsp::WorkspaceEdit { document_changes: Some(lsp::DocumentChanges::Edits(edits)), ..Default::default() }
            } else {
                let changes = per_cell.into_iter().map(|(j, edits)| (self.cells[j].uri.clone(), edits)).collect();
                lsp::WorkspaceEdit { changes: Some(changes), ..Default::default() }
            };
            actions.push(lsp::CodeAction {
                title: format!("nanlint ({code}): {}", fix.title),
                kind: Some(lsp::CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(edit),
                is_preferred: Some(actions.is_empty()),
                ..Default::default()
            });
        }
        Some(actions)
    }

    /// The diagnostics of each cell whose diagnostics differ from what it was last sent.
    fn publishes(&mut self, session: &Session) -> Vec<Publish> {
        let (enc, severity, related) = session.conversion();
        let mut out = Vec::new();
        for i in 0..self.cells.len() {
            let view = self.view(i);
            let cell = &self.cells[i];
            let body = match &view {
                // Nothing to say about a cell never sent anything, or last sent nothing.
                None if cell.sent.as_ref().is_none_or(|(_, empty)| *empty) => continue,
                Some(v) if v.smells.is_empty() && cell.sent.as_ref().is_none_or(|(_, empty)| *empty) => continue,
                Some(v) => convert::publish_body(
                    &cell.uri,
                    Some(cell.version),
                    v.text,
                    &v.index,
                    enc,
                    &v.smells,
                    severity,
                    related,
                    None,
                ),
                None => empty_body(&cell.uri),
            };
            let empty = view.is_none_or(|v| v.smells.is_empty());
            if self.cells[i].sent.as_ref().map(|(b, _)| b) != Some(&body) {
                self.cells[i].sent = Some((body.clone(), empty));
                out.push(Publish { body });
            }
        }
        out
    }

    /// Joins the cells again and brings the program up to date through an incremental edit.
    fn sync(&mut self, uri: &Uri, version: i32) -> Vec<String> {
        let (program, spans) = Self::joined(&self.cells);
        self.spans = spans;
        let doc = &mut self.program;
        let Some(edit) = convert::minimal_edit(&doc.text, &program, &doc.index, Encoding::Utf8) else {
            doc.version = version;
            return Vec::new();
        };
        let change =
            lsp::TextDocumentContentChangeEvent { range: Some(edit.range), range_length: None, text: edit.new_text };
        let (_, warnings) = session::edit_document(uri, doc, version, vec![change], Encoding::Utf8);
        debug_assert_eq!(doc.text, program);
        warnings
    }
}

/// Whether the lines `start..end` of `program` touch include a blanked IPython line.
fn touches_magic(program: &str, start: usize, end: usize) -> bool {
    let (first, last) = (text::line_start(program, start), text::line_end(program, end));
    text::lines_inclusive(&program[first..last]).any(|line| line.contains(MAGIC))
}

fn empty_body(uri: &Uri) -> Vec<u8> {
    let params = lsp::PublishDiagnosticsParams { uri: uri.clone(), diagnostics: Vec::new(), version: None };
    serde_json::to_vec(&serde_json::json!({
        "jsonrpc": "2.0",
        "method": "textDocument/publishDiagnostics",
        "params": params,
    }))
    .expect("diagnostics serialize")
}

impl Session {
    /// `notebookDocument/didOpen`: the notebook's cells, analyzed as one program; the
    /// diagnostics of each cell with findings, and problems to report.
    pub fn notebook_open(&self, params: lsp::DidOpenNotebookDocumentParams) -> (Vec<Publish>, Vec<String>) {
        let notebook = params.notebook_document;
        let mut items: HashMap<Uri, lsp::TextDocumentItem> =
            params.cell_text_documents.into_iter().map(|d| (d.uri.clone(), d)).collect();
        let cells: Vec<Cell> = notebook.cells.iter().map(|c| new_cell(c, items.remove(&c.document))).collect();
        let (program, spans) = NotebookDoc::joined(&cells);
        let (doc, problems) = self.new_document(&notebook.uri, notebook.version, program);
        let mut nbdoc = NotebookDoc { version: notebook.version, cells, program: doc, spans };
        for cell in &nbdoc.cells {
            self.cell_owner.insert(cell.uri.clone(), notebook.uri.clone());
        }
        let publishes = nbdoc.publishes(self);
        if let Some(old) = self.notebooks.insert(notebook.uri.clone(), nbdoc) {
            tracing::warn!("{} was opened again; its earlier cells are forgotten", notebook.uri.as_str());
            drop(old);
        }
        (publishes, problems)
    }

    /// `notebookDocument/didChange`: cells added, removed or moved (`structure`), their kind
    /// (`data`), and their text (`textContent`, incremental), in that order; then the program
    /// is joined again and re-analyzed incrementally. Cells removed get empty diagnostics.
    ///
    /// A notebook version older than the notebook's is stale and the change dropped; the same
    /// version is not: VS Code keeps a notebook's version when only a cell's text changes, and
    /// `vscode-languageclient` sends that version with the cell's edit. A cell's text change
    /// whose cell version is not newer than the cell's is stale and dropped (that cell only).
    pub fn notebook_change(&self, params: lsp::DidChangeNotebookDocumentParams) -> (Vec<Publish>, Vec<String>) {
        let uri = params.notebook_document.uri;
        let version = params.notebook_document.version;
        let enc = self.encoding();
        let mut warnings = Vec::new();
        let mut publishes = Vec::new();
        let Some(mut entry) = self.notebooks.get_mut(&uri) else {
            warnings.push(format!("ignored a change to notebook {}, which is not open", uri.as_str()));
            return (publishes, warnings);
        };
        let doc = &mut *entry;
        if version < doc.version {
            warnings.push(format!(
                "dropped a stale change to notebook {} (version {version}, have {})",
                uri.as_str(),
                doc.version
            ));
            return (publishes, warnings);
        }
        let cells = params.change.cells.unwrap_or(lsp::NotebookDocumentCellChange {
            structure: None,
            data: None,
            text_content: None,
        });
        let mut closed: Vec<Uri> = Vec::new();
        let mut opened: Vec<Uri> = Vec::new();
        if let Some(structure) = cells.structure {
            let (asked, count, len) =
                (structure.array.start as usize, structure.array.delete_count as usize, doc.cells.len());
            let start = asked.min(len);
            let end = start.saturating_add(count).min(len);
            // Repaired as far as it can be, and said: a client that sends it is out of step.
            if asked > len || asked.saturating_add(count) > len {
                warnings.push(format!(
                    "repaired a cell change of notebook {}: cells {asked}..{} asked for, it has {len}; \
                     cells {start}..{end} replaced",
                    uri.as_str(),
                    asked.saturating_add(count),
                ));
            }
            let mut removed: HashMap<Uri, Cell> = doc.cells.drain(start..end).map(|c| (c.uri.clone(), c)).collect();
            let mut items: HashMap<Uri, lsp::TextDocumentItem> =
                structure.did_open.unwrap_or_default().into_iter().map(|d| (d.uri.clone(), d)).collect();
            let added: Vec<Cell> = structure
                .array
                .cells
                .unwrap_or_default()
                .iter()
                .map(|c| match (items.remove(&c.document), removed.remove(&c.document)) {
                    // A moved cell keeps its text and what it was sent.
                    (None, Some(moved)) => moved,
                    (item, _) => {
                        opened.push(c.document.clone());
                        new_cell(c, item)
                    }
                })
                .collect();
            doc.cells.splice(start..start, added);
            closed.extend(removed.into_keys());
            closed.extend(structure.did_close.unwrap_or_default().into_iter().map(|d| d.uri));
        }
        for data in cells.data.unwrap_or_default() {
            match doc.cells.iter_mut().find(|c| c.uri == data.document) {
                Some(cell) => cell.code = is_python_code(&data.kind, cell.language.as_deref()),
                None => warnings.push(format!(
                    "ignored a change of kind of cell {}, which is not in the notebook",
                    data.document.as_str()
                )),
            }
        }
        for content in cells.text_content.unwrap_or_default() {
            let Some(cell) = doc.cells.iter_mut().find(|c| c.uri == content.document.uri) else {
                warnings.push(format!(
                    "ignored a change to cell {}, which is not in the notebook",
                    content.document.uri.as_str()
                ));
                continue;
            };
            if content.document.version <= cell.version {
                warnings.push(format!(
                    "dropped a stale change to cell {} (version {}, have {})",
                    cell.uri.as_str(),
                    content.document.version,
                    cell.version
                ));
                continue;
            }
            cell.version = content.document.version;
            apply_changes(&mut cell.text, content.changes, enc, &cell.uri, &mut warnings);
        }
        closed.retain(|c| !doc.cells.iter().any(|cell| &cell.uri == c));
        closed.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        closed.dedup();
        warnings.extend(doc.sync(&uri, version));
        doc.version = version;
        publishes.extend(doc.publishes(self));
        drop(entry);
        for cell in &closed {
            self.cell_owner.remove(cell);
            publishes.push(Publish { body: empty_body(cell) });
        }
        for cell in opened {
            self.cell_owner.insert(cell, uri.clone());
        }
        (publishes, warnings)
    }

    /// [`Session::noqa_warnings`] for an open notebook: each invalid `# noqa` directive not
    /// logged before, named by its cell's URI and its line in the cell.
    pub fn notebook_noqa_warnings(&self, uri: &Uri) -> Vec<String> {
        let Some(mut entry) = self.notebooks.get_mut(uri) else { return Vec::new() };
        let doc = &mut *entry;
        let found = session::new_noqa_warnings(&mut doc.program);
        let program = &doc.program;
        found
            .into_iter()
            .filter_map(|(w, row)| {
                let byte = w.line;
                let i = doc.spans.iter().position(|s| s.as_ref().is_some_and(|s| s.contains(&byte)))?;
                let start = doc.spans[i].as_ref()?.start;
                let first = program.index.position(&program.text, start, Encoding::Utf8).line as usize;
                let cell = doc.cells[i].uri.as_str();
                Some(format!("{cell}:{}: {}", row - first + 1, w.message))
            })
            .collect()
    }

    /// `notebookDocument/didClose`: forgets the notebook; every cell gets empty diagnostics.
    pub fn notebook_close(&self, params: lsp::DidCloseNotebookDocumentParams) -> Vec<Publish> {
        let uri = params.notebook_document.uri;
        let mut cells: Vec<Uri> = params.cell_text_documents.into_iter().map(|d| d.uri).collect();
        if let Some((_, doc)) = self.notebooks.remove(&uri) {
            cells.extend(doc.cells.into_iter().map(|c| c.uri));
        }
        cells.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        cells.dedup();
        cells
            .into_iter()
            .map(|cell| {
                self.cell_owner.remove(&cell);
                Publish { body: empty_body(&cell) }
            })
            .collect()
    }

    /// Whether `uri` is a cell of an open notebook.
    pub fn is_cell(&self, uri: &Uri) -> bool {
        self.cell_owner.contains_key(uri)
    }

    /// Runs `f` on the view of an open notebook's cell (read-only), or returns `None` (not a
    /// cell of an open notebook, or a cell not analyzed).
    pub fn with_cell<R>(&self, cell: &Uri, f: impl FnOnce(&CellView<'_>) -> R) -> Option<R> {
        let owner = self.cell_owner.get(cell)?.clone();
        let notebook = self.notebooks.get(&owner)?;
        let i = notebook.cells.iter().position(|c| &c.uri == cell)?;
        notebook.view(i).map(|v| f(&v))
    }

    /// The quick fixes for `diagnostic` in an open notebook's cell, also those editing other
    /// cells (see `NotebookDoc::fix_actions`), as `documentChanges` with each cell's version
    /// when `versioned`, else `changes` by cell URI; `None` when the cell is not open or no
    /// current finding matches the diagnostic.
    pub fn cell_fix_actions(
        &self,
        cell: &Uri,
        diagnostic: &lsp::Diagnostic,
        versioned: bool,
    ) -> Option<Vec<lsp::CodeAction>> {
        let owner = self.cell_owner.get(cell)?.clone();
        let notebook = self.notebooks.get(&owner)?;
        let i = notebook.cells.iter().position(|c| &c.uri == cell)?;
        notebook.fix_actions(i, diagnostic, self.encoding(), versioned)
    }

    /// Re-analyzes every open notebook (after a settings change); the cells to push again.
    pub(super) fn refresh_notebooks(&self) -> (Vec<Publish>, Vec<String>) {
        let uris: Vec<Uri> = self.notebooks.iter().map(|e| e.key().clone()).collect();
        let (mut publishes, mut problems) = (Vec::new(), Vec::new());
        for uri in uris {
            let path = self.notebooks.get(&uri).and_then(|d| d.program.path.clone());
            let (settings, mut p) = self.settings_for(path.as_deref());
            problems.append(&mut p);
            if let Some(mut doc) = self.notebooks.get_mut(&uri) {
                doc.program.settings = settings;
                if !session::reanalyze(&uri, &mut doc.program, None) {
                    problems.push(format!("analysis of {} failed; see the server log", uri.as_str()));
                }
                publishes.extend(doc.publishes(self));
            }
        }
        (publishes, problems)
    }
}

fn new_cell(cell: &lsp::NotebookCell, item: Option<lsp::TextDocumentItem>) -> Cell {
    let (version, language, text) = match item {
        Some(item) => (item.version, Some(item.language_id), item.text),
        None => (0, None, String::new()),
    };
    let code = is_python_code(&cell.kind, language.as_deref());
    Cell { uri: cell.document.clone(), version, code, language, text, sent: None }
}

/// Applies a cell's content changes in order (as `session::edit_document` does for a file): a
/// change with a position inside a character refuses the whole notification for this cell,
/// which keeps its text.
fn apply_changes(
    text: &mut String,
    changes: Vec<lsp::TextDocumentContentChangeEvent>,
    enc: Encoding,
    uri: &Uri,
    warnings: &mut Vec<String>,
) {
    let mut new = text.clone();
    let mut index = LineIndex::new(&new);
    let mut repaired = Vec::new();
    for change in changes {
        match change.range {
            None => {
                new = change.text;
                index = LineIndex::new(&new);
            }
            Some(range) => {
                match session::locate_range(&new, &index, range, enc) {
                    Ok((_, _, repairs)) if !repairs.is_empty() => {
                        repaired.push(format!("{}: change range {range:?}: {}", uri.as_str(), repairs.join("; ")))
                    }
                    Ok(_) => {}
                    Err(why) => {
                        warnings
                            .push(format!("refused a change to cell {}: {why}; the cell keeps its text", uri.as_str()));
                        return;
                    }
                }
                let start = Pos { line: range.start.line, character: range.start.character };
                let end = Pos { line: range.end.line, character: range.end.character };
                let e = text::apply_change(&mut new, &index, start, end, &change.text, enc);
                index.update(&new, &e);
            }
        }
    }
    warnings.append(&mut repaired);
    *text = new;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    fn cell(i: usize) -> Uri {
        uri(&format!("vscode-notebook-cell:/w/nb.ipynb#C{i}"))
    }

    fn open(session: &Session, texts: &[&str]) -> Vec<Publish> {
        let params = lsp::DidOpenNotebookDocumentParams {
            notebook_document: lsp::NotebookDocument {
                uri: uri("file:///w/nb.ipynb"),
                notebook_type: "jupyter-notebook".into(),
                version: 1,
                metadata: None,
                cells: (0..texts.len())
                    .map(|i| lsp::NotebookCell {
                        kind: lsp::NotebookCellKind::CODE,
                        document: cell(i),
                        metadata: None,
                        execution_summary: None,
                    })
                    .collect(),
            },
            cell_text_documents: texts
                .iter()
                .enumerate()
                .map(|(i, t)| lsp::TextDocumentItem::new(cell(i), "python".into(), 1, t.to_string()))
                .collect(),
        };
        let (publishes, problems) = session.notebook_open(params);
        assert_eq!(problems, Vec::<String>::new());
        publishes
    }

    fn uris_of(publishes: &[Publish]) -> Vec<String> {
        publishes
            .iter()
            .map(|p| {
                let v: serde_json::Value = serde_json::from_slice(&p.body).unwrap();
                v["params"]["uri"].as_str().unwrap().to_string()
            })
            .collect()
    }

    fn type_in(
        session: &Session,
        version: i32,
        i: usize,
        cell_version: i32,
        at: (u32, u32),
        text: &str,
    ) -> Vec<Publish> {
        let pos = lsp::Position::new(at.0, at.1);
        let params = lsp::DidChangeNotebookDocumentParams {
            notebook_document: lsp::VersionedNotebookDocumentIdentifier { version, uri: uri("file:///w/nb.ipynb") },
            change: lsp::NotebookDocumentChangeEvent {
                metadata: None,
                cells: Some(lsp::NotebookDocumentCellChange {
                    structure: None,
                    data: None,
                    text_content: Some(vec![lsp::NotebookDocumentChangeTextContent {
                        document: lsp::VersionedTextDocumentIdentifier::new(cell(i), cell_version),
                        changes: vec![lsp::TextDocumentContentChangeEvent {
                            range: Some(lsp::Range::new(pos, pos)),
                            range_length: None,
                            text: text.into(),
                        }],
                    }]),
                }),
            },
        };
        let (publishes, warnings) = session.notebook_change(params);
        assert_eq!(warnings, Vec::<String>::new());
        publishes
    }

    /// A structure change past the notebook's cells is applied as far as it goes and logged
    /// (it was applied in silence; a newcomer's trial sent `start: 50` to a 3-cell notebook).
    #[test]
    fn a_structure_change_past_the_cells_is_repaired_and_logged() {
        let session = Session::default();
        open(&session, &["import torch\n", "x = 1\n", "y = 2\n"]);
        let change = |start: u32, delete_count: u32, version: i32| lsp::DidChangeNotebookDocumentParams {
            notebook_document: lsp::VersionedNotebookDocumentIdentifier { version, uri: uri("file:///w/nb.ipynb") },
            change: lsp::NotebookDocumentChangeEvent {
                metadata: None,
                cells: Some(lsp::NotebookDocumentCellChange {
                    structure: Some(lsp::NotebookDocumentCellChangeStructure {
                        array: lsp::NotebookCellArrayChange {
                            start,
                            delete_count,
                            cells: Some(vec![lsp::NotebookCell {
                                kind: lsp::NotebookCellKind::CODE,
                                document: cell(9),
                                metadata: None,
                                execution_summary: None,
                            }]),
                        },
                        did_open: Some(vec![lsp::TextDocumentItem::new(
                            cell(9),
                            "python".into(),
                            1,
                            "p = torch.softmax(h, 1)\nz = torch.log(p)\n".into(),
                        )]),
                        did_close: None,
                    }),
                    data: Some(vec![lsp::NotebookCell {
                        document: cell(42),
                        kind: lsp::NotebookCellKind::CODE,
                        metadata: None,
                        execution_summary: None,
                    }]),
                    text_content: None,
                }),
            },
        };
        let (publishes, warnings) = session.notebook_change(change(50, 0, 2));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("cells 50..50 asked for, it has 3; cells 3..3 replaced"), "{warnings:?}");
        assert!(warnings[1].contains("which is not in the notebook"), "{warnings:?}");
        // Appended at the end, and analyzed with the others.
        assert!(uris_of(&publishes).contains(&cell(9).as_str().to_string()), "{:?}", uris_of(&publishes));
        // Within the cells, nothing is said.
        let (_, warnings) = session.notebook_change(lsp::DidChangeNotebookDocumentParams {
            change: lsp::NotebookDocumentChangeEvent { metadata: None, cells: None },
            ..change(0, 0, 3)
        });
        assert_eq!(warnings, Vec::<String>::new());
    }

    /// Regression (found reading the merge of the soak and notebook work): a cell's change with
    /// a position inside a character was clamped and applied; it is refused like a file's, and
    /// the cell keeps its text. A position past the end of a line is repaired and logged.
    #[test]
    fn a_cell_change_inside_a_character_is_refused() {
        let change = |line, from, to, text: &str| lsp::TextDocumentContentChangeEvent {
            range: Some(lsp::Range::new(lsp::Position::new(line, from), lsp::Position::new(line, to))),
            range_length: None,
            text: text.to_string(),
        };
        let uri = cell(1);
        let mut text = "x = '\u{1F600}'\n".to_string();
        let mut warnings = Vec::new();
        // After the first change, UTF-16 code unit 7 is between the emoji's two halves: the
        // first change is valid, but the whole notification is refused.
        apply_changes(
            &mut text,
            vec![change(0, 0, 0, "y"), change(0, 7, 7, "a")],
            Encoding::Utf16,
            &uri,
            &mut warnings,
        );
        assert_eq!(text, "x = '\u{1F600}'\n");
        assert!(warnings.len() == 1 && warnings[0].contains("refused"), "{warnings:?}");
        warnings.clear();
        apply_changes(
            &mut text,
            vec![change(0, 0, 0, "y"), change(0, 40, 40, "#")],
            Encoding::Utf16,
            &uri,
            &mut warnings,
        );
        assert_eq!(text, "yx = '\u{1F600}'#\n");
        assert!(warnings.len() == 1 && warnings[0].contains("past the end of its line"), "{warnings:?}");
    }

    /// Regression (found by the VS Code end-to-end test, a quick fix applied in a cell): VS Code
    /// keeps a notebook's version when only a cell's text changes, and `vscode-languageclient`
    /// sends that same version with every cell edit. Those edits were dropped as stale, so the
    /// server kept the old cell text and its finding. Staleness of a cell's text is the cell's
    /// version's business.
    #[test]
    fn a_cell_edit_under_the_same_notebook_version_is_applied() {
        let session = Session::default();
        let texts = ["import torch\n", "p = torch.relu(z)\n", "l = torch.log(p)"];
        assert_eq!(uris_of(&open(&session, &texts)), [cell(2).as_str()]);
        // The notebook stays at version 1 (as opened), the cell goes from 1 to 2, then 3.
        assert_eq!(uris_of(&type_in(&session, 1, 2, 2, (0, 0), "#")), [cell(2).as_str()]);
        assert!(session.with_cell(&cell(2), |c| c.smells.is_empty() && c.text == "#l = torch.log(p)").unwrap());
        assert_eq!(uris_of(&type_in(&session, 1, 2, 3, (0, 17), "\nm = 1")), Vec::<&str>::new());
        assert_eq!(session.with_cell(&cell(2), |c| c.text.to_string()).unwrap(), "#l = torch.log(p)\nm = 1");
        // A cell edit whose cell version is not newer is stale: dropped, that cell keeps its text.
        let (p, w) = session.notebook_change(lsp::DidChangeNotebookDocumentParams {
            notebook_document: lsp::VersionedNotebookDocumentIdentifier { version: 1, uri: uri("file:///w/nb.ipynb") },
            change: lsp::NotebookDocumentChangeEvent {
                metadata: None,
                cells: Some(lsp::NotebookDocumentCellChange {
                    structure: None,
                    data: None,
                    text_content: Some(vec![lsp::NotebookDocumentChangeTextContent {
                        document: lsp::VersionedTextDocumentIdentifier::new(cell(2), 3),
                        changes: vec![lsp::TextDocumentContentChangeEvent {
                            range: None,
                            range_length: None,
                            text: "l = torch.log(p)".into(),
                        }],
                    }]),
                }),
            },
        });
        assert!(p.is_empty() && w.len() == 1 && w[0].contains("stale change to cell"), "{w:?}");
        assert_eq!(session.with_cell(&cell(2), |c| c.text.to_string()).unwrap(), "#l = torch.log(p)\nm = 1");
    }

    /// `# noqa: none` in a cell silences nothing, as in a file; the log names the cell and its
    /// line once, not again after an edit that keeps it.
    #[test]
    fn an_invalid_noqa_in_a_cell_is_logged_by_cell_and_line() {
        let session = Session::default();
        let texts = ["import torch\n", "p = torch.relu(z)\n", "m = 1\nl = torch.log(p)  # noqa: none"];
        assert_eq!(uris_of(&open(&session, &texts)), [cell(2).as_str()]);
        let nb = uri("file:///w/nb.ipynb");
        let line = "l = torch.log(p)  # noqa: none";
        let why = crate::engine::invalid_noqa_reason(line, line.len() - " none".len());
        let expected = format!("{}:2: {why}", cell(2).as_str());
        assert_eq!(session.notebook_noqa_warnings(&nb), [expected]);
        type_in(&session, 1, 2, 2, (0, 0), "# top\n");
        assert_eq!(session.notebook_noqa_warnings(&nb), Vec::<String>::new());
        assert!(session.with_cell(&cell(2), |c| c.smells.len() == 1).unwrap());
    }

    /// The cells of `json` (an `.ipynb`) after `nanlint check --fix --unsafe-fixes
    /// --fix-choice <choice>` (what the CLI runs, without writing the file).
    fn cli_fixed_cells(json: &str, choice: &str) -> Vec<String> {
        use crate::check::{self, FixChoice, Options};
        let options = Options {
            fix: crate::engine::fix::FixMode::Unsafe,
            write: false,
            fix_choice: vec![FixChoice::parse(choice).unwrap()],
            add_noqa: false,
        };
        let settings = crate::settings::Settings::default();
        let report = check::check_bytes(std::path::Path::new("nb.ipynb"), json.as_bytes(), &settings, &options);
        let output = report.output.expect("the CLI fixes the notebook");
        nb::Notebook::parse(&output).unwrap().cells.into_iter().map(|c| c.text).collect()
    }

    /// `edits` (UTF-16 positions) applied to `text`.
    fn apply(text: &str, edits: &[lsp::TextEdit]) -> String {
        let index = LineIndex::new(text);
        let at = |p: lsp::Position| index.offset(text, Pos { line: p.line, character: p.character }, Encoding::Utf16).0;
        let mut edits: Vec<_> = edits.iter().map(|e| (at(e.range.start), at(e.range.end), &e.new_text)).collect();
        edits.sort_by_key(|(s, _, _)| std::cmp::Reverse(*s));
        let mut out = text.to_string();
        for (s, e, new) in edits {
            out.replace_range(s..e, new);
        }
        out
    }

    /// As `nanlint check --fix` on the notebook: no quick fix while a cell holds a syntax error
    /// (the cells are one program), and the fixes come back once it parses.
    #[test]
    fn no_fix_is_offered_while_a_cell_holds_a_syntax_error() {
        for (broken, offered) in [("y = (1 +\n", false), ("y = (1)\n", true)] {
            let texts = ["import torch\n", broken, "q = torch.log(torch.softmax(z, -1))\n"];
            let session = Session::default();
            let publishes = open(&session, &texts);
            let at = publishes.iter().position(|p| {
                let body: serde_json::Value = serde_json::from_slice(&p.body).unwrap();
                body["params"]["uri"] == cell(2).as_str()
            });
            let body: serde_json::Value = serde_json::from_slice(&publishes[at.unwrap()].body).unwrap();
            let diagnostic: lsp::Diagnostic = serde_json::from_value(body["params"]["diagnostics"][0].clone()).unwrap();
            assert_eq!(convert::code_of(&diagnostic), "NL102");
            let actions = session.cell_fix_actions(&cell(2), &diagnostic, false).unwrap();
            assert_eq!(!actions.is_empty(), offered, "{broken:?}");
        }
    }

    /// A quick fix that adds an import to the cell holding the imports (NL104's `xlogy` and
    /// `log_softmax`) is offered in the finding's cell, as one workspace edit split per cell
    /// URI, and applying it gives the cells `nanlint check --fix` gives. A fix with an edit
    /// on a blanked IPython line is still not offered.
    #[test]
    fn a_fix_that_adds_an_import_in_another_cell_edits_both_cells() {
        let texts = [
            "import numpy as np\nfrom scipy.special import softmax\n",
            "p = softmax(z)\nloss = -np.sum(y * np.log(p))",
        ];
        let session = Session::default();
        let publishes = open(&session, &texts);
        assert_eq!(uris_of(&publishes), [cell(1).as_str()]);
        let body: serde_json::Value = serde_json::from_slice(&publishes[0].body).unwrap();
        let diagnostic: lsp::Diagnostic = serde_json::from_value(body["params"]["diagnostics"][0].clone()).unwrap();
        assert_eq!(convert::code_of(&diagnostic), "NL104");
        // The diagnostic carries no fix: the actions come from the notebook's findings.
        assert_eq!(diagnostic.data, None);
        let titles = |actions: &[lsp::CodeAction]| actions.iter().map(|a| a.title.clone()).collect::<Vec<_>>();

        let actions = session.cell_fix_actions(&cell(1), &diagnostic, false).unwrap();
        assert_eq!(
            titles(&actions),
            [
                "nanlint (NL104): Use `log_softmax(z)`",
                "nanlint (NL104): Use `xlogy(y, p)`",
                "nanlint (NL104): Clip `p` into [1e-7, 1]"
            ]
        );
        assert_eq!(actions.iter().map(|a| a.is_preferred.unwrap()).collect::<Vec<_>>(), [true, false, false]);
        let json = serde_json::json!({
            "nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": texts.iter().map(|t| serde_json::json!({
                "cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": t,
            })).collect::<Vec<_>>(),
        })
        .to_string();
        for (action, choice) in [(&actions[1], "xlogy"), (&actions[0], "log_softmax")] {
            let changes = action.edit.as_ref().unwrap().changes.as_ref().unwrap();
            let mut keys: Vec<&str> = changes.keys().map(|u| u.as_str()).collect();
            keys.sort();
            assert_eq!(keys, [cell(0).as_str(), cell(1).as_str()], "{choice}");
            assert_eq!(changes[&cell(0)].len(), 1, "{choice}");
            assert_eq!(changes[&cell(1)].len(), 1, "{choice}");
            let fixed: Vec<String> = (0..2).map(|i| apply(texts[i], &changes[&cell(i)])).collect();
            assert_eq!(fixed, cli_fixed_cells(&json, choice), "{choice}");
        }
        // What the CLI gives for `xlogy` (`nanlint check --fix --unsafe-fixes --fix-choice xlogy`).
        assert_eq!(
            cli_fixed_cells(&json, "xlogy"),
            [
                "import numpy as np\nfrom scipy.special import softmax, xlogy\n",
                "p = softmax(z)\nloss = -np.sum(xlogy(y, p))"
            ]
        );

        // A client taking `documentChanges`: the same edits, with each cell's version.
        let versioned = session.cell_fix_actions(&cell(1), &diagnostic, true).unwrap();
        let Some(lsp::DocumentChanges::Edits(edits)) = &versioned[0].edit.as_ref().unwrap().document_changes else {
            panic!("{versioned:?}");
        };
        let changes = actions[0].edit.as_ref().unwrap().changes.as_ref().unwrap();
        assert_eq!(edits.len(), 2);
        for (i, e) in edits.iter().enumerate() {
            assert_eq!((&e.text_document.uri, e.text_document.version), (&cell(i), Some(1)));
            let plain: Vec<lsp::TextEdit> = e
                .edits
                .iter()
                .map(|e| match e {
                    lsp::OneOf::Left(e) => e.clone(),
                    lsp::OneOf::Right(a) => a.text_edit.clone(),
                })
                .collect();
            assert_eq!(&plain, &changes[&cell(i)]);
        }

        // A stale diagnostic (a range no finding has) matches nothing: no fix is offered.
        let mut stale = diagnostic.clone();
        stale.range.start.line += 5;
        assert!(session.cell_fix_actions(&cell(1), &stale, false).is_none());
    }

    /// A fix with an edit that lands in no cell is not offered in the finding's cell; its other
    /// fixes are, the first of them preferred.
    #[test]
    fn a_fix_with_an_edit_outside_every_cell_is_not_offered() {
        // The imports cell lacks its last newline: the import would go after the newline the
        // program adds, between the cells. (The function imports `softmax` itself: with it in
        // the first cell, `xlogy` would join that statement, in the cell; with SciPy imported
        // in the function only, it would join the function's. `stats` is imported in the first.)
        let texts = [
            "import numpy as np\nfrom scipy import stats",
            "def f(z, y):\n    from scipy.special import softmax\n    p = softmax(z)\n    return -np.sum(y * np.log(p))",
        ];
        let session = Session::default();
        let publishes = open(&session, &texts);
        let body: serde_json::Value = serde_json::from_slice(&publishes[0].body).unwrap();
        let diagnostic: lsp::Diagnostic = serde_json::from_value(body["params"]["diagnostics"][0].clone()).unwrap();
        let actions = session.cell_fix_actions(&cell(1), &diagnostic, false).unwrap();
        let titles: Vec<&str> = actions.iter().map(|a| a.title.as_str()).collect();
        assert_eq!(titles, ["nanlint (NL104): Clip `p` into [1e-7, 1]"]);
        assert_eq!(actions[0].is_preferred, Some(true));
        // Dropped for that reason: the import's edit is in the program but in no cell.
        let notebook = session.notebooks.get(&uri("file:///w/nb.ipynb")).unwrap();
        let xlogy = notebook.program.smells[0].fixes.iter().find(|f| f.title.contains("xlogy")).unwrap();
        let unmapped: Vec<_> = xlogy.edits.iter().filter(|e| notebook.locate_edit(e.start, e.end).is_none()).collect();
        assert!(unmapped.len() == 1 && unmapped[0].content.contains("import xlogy"), "{:?}", xlogy.edits);
    }

    #[test]
    fn cells_are_one_program_and_only_changed_cells_are_pushed() {
        let session = Session::default();
        let mut texts = vec!["import torch\n", "%time x = 1\np = torch.relu(z)\n"];
        texts.extend(std::iter::repeat_n("a = 1\n", 20));
        texts.push("l = torch.log(p)");
        let last = texts.len() - 1;
        let publishes = open(&session, &texts);
        // Only the cell with a finding is pushed on open.
        assert_eq!(uris_of(&publishes), [cell(last).as_str()]);
        let (range, line) = session
            .with_cell(&cell(last), |c| {
                assert_eq!(c.text, "l = torch.log(p)");
                (c.smells[0].span.start_byte..c.smells[0].span.end_byte, c.smells[0].span.start.row)
            })
            .unwrap();
        assert_eq!(&texts[last][range], "torch.log(p)");
        assert_eq!(line, 0);
        // The magic line is blanked in the analysis, kept in the cell.
        assert_eq!(session.with_cell(&cell(1), |c| c.original.to_string()).unwrap(), texts[1]);

        // A keystroke in a cell without findings pushes nothing; the program follows the cells.
        assert!(type_in(&session, 2, 5, 2, (0, 5), "2").is_empty());
        let program = session.notebooks.get(&uri("file:///w/nb.ipynb")).unwrap().program.text.clone();
        texts[5] = "a = 12\n";
        assert_eq!(program, nb::join(texts.iter().copied()).program);
        // A line added above the log in its cell: that cell only is pushed, the finding moved.
        assert_eq!(uris_of(&type_in(&session, 3, last, 2, (0, 0), "q = 0\n")), [cell(last).as_str()]);
        assert_eq!(session.with_cell(&cell(last), |c| c.smells[0].span.start.row).unwrap(), 1);
        // The import cell broken: the log's cell is pushed (now empty) although not edited.
        assert_eq!(uris_of(&type_in(&session, 4, 0, 2, (0, 0), "#")), [cell(last).as_str()]);
        assert!(session.with_cell(&cell(last), |c| c.smells.is_empty()).unwrap());
        // An older notebook version is stale and dropped.
        let (p, w) = session.notebook_change(lsp::DidChangeNotebookDocumentParams {
            notebook_document: lsp::VersionedNotebookDocumentIdentifier { version: 3, uri: uri("file:///w/nb.ipynb") },
            change: lsp::NotebookDocumentChangeEvent { metadata: None, cells: None },
        });
        assert!(p.is_empty() && w[0].contains("stale"), "{w:?}");
    }
}
