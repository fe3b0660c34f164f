//! The `LanguageServer` implementation: thin handlers that call the session and then talk to
//! the client. Document mutations happen synchronously at the start of each notification, before
//! any `.await` (tower-lsp-server runs up to four handlers at once, notifications included).

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::Value;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::{self as lsp};
use tower_lsp_server::{Client, LanguageServer};

use super::convert::{self, FIX_ALL_KIND};
use super::session::{Capabilities, Publish, Session};
use super::transport::Outbox;
use crate::engine::fix::{self, FixMode};
use crate::smell::{Fix, Smell};
use crate::text::{Encoding, LineIndex, Pos};

/// How long a request to the client (e.g. `workspace/configuration`) may take.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Backend {
    client: Client,
    /// Where pushed diagnostics go, serialized by the session (see `convert::publish_body`).
    outbox: Outbox,
    session: Arc<Session>,
    /// Set when `shutdown` arrives (the exit code depends on it).
    shut_down: Arc<AtomicBool>,
}

impl Backend {
    pub fn new(client: Client, outbox: Outbox, shut_down: Arc<AtomicBool>) -> Self {
        Backend { client, outbox, session: Arc::new(Session::default()), shut_down }
    }

    async fn publish(&self, publishes: impl IntoIterator<Item = Publish>) {
        publish(&self.outbox, publishes).await;
    }

    async fn report(&self, problems: Vec<String>) {
        report(&self.client, problems).await;
    }

    /// Logs each warning, and sends it to the client's log (`window/logMessage`).
    async fn log_warnings(&self, warnings: Vec<String>) {
        for warning in warnings {
            tracing::warn!("{warning}");
            self.client.log_message(lsp::MessageType::WARNING, format!("nanlint: {warning}")).await;
        }
    }

    /// Fetches `workspace/configuration` in a task of its own (bounded by a timeout), so that a
    /// slow or silent client can never hold one of the server's handler slots.
    fn pull_configuration(&self) {
        if !self.session.caps.read().map(|c| c.configuration).unwrap_or(false) {
            return;
        }
        let (client, session, outbox) = (self.client.clone(), self.session.clone(), self.outbox.clone());
        let ticket = session.ticket();
        tokio::spawn(async move {
            let item = lsp::ConfigurationItem { scope_uri: None, section: Some("nanlint".into()) };
            match tokio::time::timeout(CLIENT_TIMEOUT, client.configuration(vec![item])).await {
                Ok(Ok(values)) => {
                    let value = values.into_iter().next().unwrap_or(Value::Null);
                    match session.set_client_settings_if(ticket, &value) {
                        Some(problems) => {
                            report(&client, problems).await;
                            refresh(&client, &outbox, &session).await;
                        }
                        None => tracing::debug!("dropped a configuration answer older than the current settings"),
                    }
                }
                Ok(Err(e)) => tracing::warn!("workspace/configuration failed: {e}"),
                Err(_) => tracing::warn!("workspace/configuration: no answer within {CLIENT_TIMEOUT:?}"),
            }
        });
    }
}

async fn publish(outbox: &Outbox, publishes: impl IntoIterator<Item = Publish>) {
    for p in publishes {
        outbox.send(&p.body).await;
    }
}

async fn report(client: &Client, problems: Vec<String>) {
    for problem in problems {
        tracing::warn!("{problem}");
        client.show_message(lsp::MessageType::ERROR, format!("nanlint: {problem}")).await;
    }
}

/// Re-analyzes every open document and pushes (or asks the client to pull) new diagnostics.
async fn refresh(client: &Client, outbox: &Outbox, session: &Session) {
    let (publishes, problems) = session.refresh_all();
    report(client, problems).await;
    publish(outbox, publishes).await;
    let (pull, refresh) = session.caps.read().map(|c| (c.pull, c.refresh)).unwrap_or((false, false));
    if pull && refresh {
        let _ = tokio::time::timeout(CLIENT_TIMEOUT, client.workspace_diagnostic_refresh()).await;
    }
}

/// Runs a request's work, turning a panic into an internal error instead of a dead server.
fn guarded<R>(what: &str, f: impl FnOnce() -> R) -> Result<R> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|_| {
        tracing::error!("{what} panicked");
        Error::internal_error()
    })
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: lsp::InitializeParams) -> Result<lsp::InitializeResult> {
        let caps = &params.capabilities;
        let utf8 = caps
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref())
            .is_some_and(|encs| encs.contains(&lsp::PositionEncodingKind::UTF8));
        let text_doc = caps.text_document.as_ref();
        let workspace = caps.workspace.as_ref();
        let refresh = workspace.and_then(|w| w.diagnostics.as_ref()).and_then(|d| d.refresh_support).unwrap_or(false);
        let negotiated = Capabilities {
            encoding: Some(if utf8 { Encoding::Utf8 } else { Encoding::Utf16 }),
            // Pull only when we can also ask the client to pull again: otherwise a settings change
            // would stay invisible until the user's next edit (Neovim 0.11 has no refresh).
            pull: text_doc.and_then(|t| t.diagnostic.as_ref()).is_some() && refresh,
            refresh,
            configuration: workspace.and_then(|w| w.configuration).unwrap_or(false),
            watch_files: workspace
                .and_then(|w| w.did_change_watched_files.as_ref())
                .and_then(|d| d.dynamic_registration)
                .unwrap_or(false),
            related_information: text_doc
                .and_then(|t| t.publish_diagnostics.as_ref())
                .and_then(|p| p.related_information)
                .unwrap_or(true),
            document_changes: workspace
                .and_then(|w| w.workspace_edit.as_ref())
                .and_then(|e| e.document_changes)
                .unwrap_or(false),
        };
        let pull = negotiated.pull;
        if let Ok(mut c) = self.session.caps.write() {
            *c = negotiated;
        }
        if let Some(options) = &params.initialization_options {
            let problems = self.session.set_client_settings(options);
            self.report(problems).await;
        }
        let capabilities = lsp::ServerCapabilities {
            position_encoding: Some(if utf8 {
                lsp::PositionEncodingKind::UTF8
            } else {
                lsp::PositionEncodingKind::UTF16
            }),
            text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                ..Default::default()
            })),
            // Python cells of Jupyter notebooks, analyzed as one program (see `notebook`).
            notebook_document_sync: Some(lsp::OneOf::Left(lsp::NotebookDocumentSyncOptions {
                notebook_selector: vec![lsp::NotebookSelector::ByNotebook {
                    notebook: lsp::Notebook::String("jupyter-notebook".into()),
                    cells: Some(vec![lsp::NotebookCellSelector { language: "python".into() }]),
                }],
                save: None,
            })),
            hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
            code_action_provider: Some(lsp::CodeActionProviderCapability::Options(lsp::CodeActionOptions {
                code_action_kinds: Some(vec![
                    lsp::CodeActionKind::QUICKFIX,
                    lsp::CodeActionKind::SOURCE_FIX_ALL,
                    lsp::CodeActionKind::new(FIX_ALL_KIND),
                ]),
                ..Default::default()
            })),
            diagnostic_provider: pull.then(|| {
                lsp::DiagnosticServerCapabilities::Options(lsp::DiagnosticOptions {
                    identifier: Some("nanlint".into()),
                    inter_file_dependencies: false,
                    workspace_diagnostics: false,
                    work_done_progress_options: Default::default(),
                })
            }),
            ..Default::default()
        };
        Ok(lsp::InitializeResult {
            capabilities,
            server_info: Some(lsp::ServerInfo {
                name: "nanlint".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: lsp::InitializedParams) {
        self.pull_configuration();
        if self.session.caps.read().map(|c| c.watch_files).unwrap_or(false) {
            let client = self.client.clone();
            tokio::spawn(async move {
                let options = lsp::DidChangeWatchedFilesRegistrationOptions {
                    watchers: crate::settings::CONFIG_FILES
                        .map(|name| lsp::FileSystemWatcher {
                            glob_pattern: lsp::GlobPattern::String(format!("**/{name}")),
                            kind: None,
                        })
                        .to_vec(),
                };
                let registration = lsp::Registration {
                    id: "nanlint-pyproject".into(),
                    method: "workspace/didChangeWatchedFiles".into(),
                    register_options: serde_json::to_value(options).ok(),
                };
                if let Ok(Err(e)) =
                    tokio::time::timeout(CLIENT_TIMEOUT, client.register_capability(vec![registration])).await
                {
                    tracing::warn!("could not watch pyproject.toml files: {e}");
                }
            });
        }
    }

    async fn shutdown(&self) -> Result<()> {
        self.shut_down.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: lsp::DidOpenTextDocumentParams) {
        let d = params.text_document;
        let uri = d.uri.clone();
        let (publish, problems) = self.session.open(d.uri, d.version, d.text);
        self.report(problems).await;
        self.log_warnings(self.session.noqa_warnings(&uri)).await;
        self.publish(publish).await;
    }

    async fn did_change(&self, params: lsp::DidChangeTextDocumentParams) {
        let d = params.text_document;
        let (publish, mut warnings) = self.session.change(&d.uri, d.version, params.content_changes);
        warnings.extend(self.session.noqa_warnings(&d.uri));
        self.log_warnings(warnings).await;
        self.publish(publish).await;
    }

    async fn did_close(&self, params: lsp::DidCloseTextDocumentParams) {
        let publish = self.session.close(&params.text_document.uri);
        self.publish(publish).await;
    }

    async fn notebook_did_open(&self, params: lsp::DidOpenNotebookDocumentParams) {
        let uri = params.notebook_document.uri.clone();
        let (publishes, problems) = self.session.notebook_open(params);
        self.report(problems).await;
        self.log_warnings(self.session.notebook_noqa_warnings(&uri)).await;
        self.publish(publishes).await;
    }

    async fn notebook_did_change(&self, params: lsp::DidChangeNotebookDocumentParams) {
        let uri = params.notebook_document.uri.clone();
        let (publishes, mut warnings) = self.session.notebook_change(params);
        warnings.extend(self.session.notebook_noqa_warnings(&uri));
        self.log_warnings(warnings).await;
        self.publish(publishes).await;
    }

    async fn notebook_did_close(&self, params: lsp::DidCloseNotebookDocumentParams) {
        let publishes = self.session.notebook_close(params);
        self.publish(publishes).await;
    }

    async fn did_change_configuration(&self, params: lsp::DidChangeConfigurationParams) {
        let pushed = params.settings.get("nanlint").filter(|v| !v.is_null());
        match pushed {
            Some(value) => {
                let problems = self.session.set_client_settings(value);
                self.report(problems).await;
                refresh(&self.client, &self.outbox, &self.session).await;
            }
            None if self.session.caps.read().map(|c| c.configuration).unwrap_or(false) => self.pull_configuration(),
            None => {
                let problems = self.session.set_client_settings(&params.settings);
                self.report(problems).await;
                refresh(&self.client, &self.outbox, &self.session).await;
            }
        }
    }

    async fn did_change_watched_files(&self, _: lsp::DidChangeWatchedFilesParams) {
        refresh(&self.client, &self.outbox, &self.session).await;
    }

    async fn diagnostic(&self, params: lsp::DocumentDiagnosticParams) -> Result<lsp::DocumentDiagnosticReportResult> {
        // A notebook cell's diagnostics are pushed (see `notebook`): a pull finds none.
        let (version, items) = self.session.pull(&params.text_document.uri).unwrap_or((0, Vec::new()));
        Ok(lsp::DocumentDiagnosticReportResult::Report(lsp::DocumentDiagnosticReport::Full(
            lsp::RelatedFullDocumentDiagnosticReport {
                related_documents: None,
                full_document_diagnostic_report: lsp::FullDocumentDiagnosticReport {
                    result_id: Some(version.to_string()),
                    items,
                },
            },
        )))
    }

    async fn hover(&self, params: lsp::HoverParams) -> Result<Option<lsp::Hover>> {
        let p = params.text_document_position_params;
        let enc = self.session.encoding();
        let pos = Pos { line: p.position.line, character: p.position.character };
        let hover = |text: &str,
                     index: &LineIndex,
                     smells: &[Smell],
                     preferred: Option<&[Option<Fix>]>,
                     tree: &tree_sitter::Tree,
                     base: usize| {
            let (byte, _) = index.offset(text, pos, enc);
            let found = smells.iter().position(|s| s.span.start_byte <= byte && byte <= s.span.end_byte);
            let (markdown, range) = match found.map(|i| (i, &smells[i])) {
                Some((i, s)) => (
                    match preferred {
                        Some(p) => convert::hover_smell_with(text, s, p.get(i).and_then(Option::as_ref)),
                        None => convert::hover_smell(text, s),
                    },
                    Some(convert::range(text, index, enc, s.span.start_byte, s.span.end_byte)),
                ),
                None => (convert::hover_noqa(text, byte, tree.root_node(), base)?, None),
            };
            Some(lsp::Hover {
                contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                    kind: lsp::MarkupKind::Markdown,
                    value: markdown,
                }),
                range,
            })
        };
        let uri = &p.text_document.uri;
        guarded("hover", || {
            if self.session.is_cell(uri) {
                return self
                    .session
                    .with_cell(uri, |cell| {
                        hover(cell.text, &cell.index, &cell.smells, Some(&cell.preferred), cell.tree, cell.base)
                    })
                    .flatten();
            }
            self.session.with_doc(uri, |doc| hover(&doc.text, &doc.index, &doc.smells, None, doc.tree(), 0)).flatten()
        })
    }

    async fn code_action(&self, params: lsp::CodeActionParams) -> Result<Option<lsp::CodeActionResponse>> {
        let uri = params.text_document.uri;
        let only = params.context.only.unwrap_or_default();
        let wants = |kind: &str| {
            only.is_empty() && kind == "quickfix"
                || only.iter().any(|k| kind == k.as_str() || kind.starts_with(&format!("{}.", k.as_str())))
        };
        let enc = self.session.encoding();
        let fix_all_unsafe = self.session.client_settings().fix_all_unsafe;
        let document_changes = self.session.caps.read().map(|c| c.document_changes).unwrap_or(false);
        let diagnostics: Vec<lsp::Diagnostic> =
            params.context.diagnostics.into_iter().filter(|d| d.source.as_deref() == Some(convert::SOURCE)).collect();
        guarded("code action", || {
            let mut actions = Vec::new();
            // As `nanlint check --fix` (and ruff's server): no fix in a document with a syntax
            // error, whose tree was parsed by recovering around it; the "Disable" `# noqa` stays.
            // A cell's notebook is asked in `cell_fix_actions`.
            let broken_cell = std::cell::OnceCell::new();
            let broken = || {
                *broken_cell.get_or_init(|| {
                    self.session
                        .with_doc(&uri, |doc| crate::check::first_syntax_error(doc.tree(), &doc.text).is_some())
                        .unwrap_or(false)
                })
            };
            if wants("quickfix") {
                for d in &diagnostics {
                    // The fixes of the current finding the diagnostic shows; in a cell, of the
                    // notebook's, so that a fix also editing another cell (an import) is offered.
                    // A diagnostic no current finding has (from before an edit) gets nothing,
                    // neither a fix nor a `# noqa` on a line that may now hold other code.
                    let fixes = match self.session.is_cell(&uri) {
                        true => self.session.cell_fix_actions(&uri, d, document_changes),
                        false => self
                            .session
                            .with_doc(&uri, |doc| {
                                convert::fix_actions(&uri, &doc.text, &doc.index, enc, &doc.smells, d)
                            })
                            .flatten()
                            .map(|fixes| if broken() { Vec::new() } else { fixes }),
                    };
                    let Some(fixes) = fixes else { continue };
                    actions.extend(fixes.into_iter().map(lsp::CodeActionOrCommand::CodeAction));
                    let noqa = if self.session.is_cell(&uri) {
                        // Read in the notebook's program, whose tree holds the cell's text.
                        self.session.with_cell(&uri, |cell| {
                            convert::noqa_action(&uri, cell.text, &cell.index, enc, d, cell.tree.root_node(), cell.base)
                        })
                    } else {
                        self.session.with_doc(&uri, |doc| {
                            convert::noqa_action(&uri, &doc.text, &doc.index, enc, d, doc.tree().root_node(), 0)
                        })
                    };
                    actions.extend(noqa.flatten().map(lsp::CodeActionOrCommand::CodeAction));
                }
            }
            if wants(FIX_ALL_KIND) && !broken() {
                let edit = self.session.with_doc(&uri, |doc| {
                    let mode = if fix_all_unsafe { FixMode::Unsafe } else { FixMode::Safe };
                    let fixed = fix::fix_source(&doc.text, &doc.settings, mode);
                    convert::minimal_edit(&doc.text, &fixed.source, &doc.index, enc)
                });
                if let Some(Some(edit)) = edit {
                    actions.push(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                        title: "nanlint: Fix all auto-fixable problems".into(),
                        kind: Some(lsp::CodeActionKind::new(FIX_ALL_KIND)),
                        edit: Some(convert::workspace_edit(&uri, vec![edit])),
                        ..Default::default()
                    }));
                }
            }
            Some(actions)
        })
    }
}
