//! nanlint: finds numeric hazards in Python machine-learning code.
//!
//! The layers, top-down as the data flows, each using only those before it:
//! - `text`: line index and position encodings (LSP UTF-16/UTF-8 <-> bytes);
//! - `syntax`: tree-sitter parsing and node helpers;
//! - `semantic`: the model of one file (imports, scopes, reaching definitions, abstract values,
//!   facts of its functions and classes), knowing the libraries but nothing of rules;
//! - `rules`: the rule interface, the compiled queries, shared fix helpers, and the catalog
//!   (each rule in its folder under `queries/python/`);
//! - `smell`: the findings and fixes rules produce;
//! - `engine`: runs a rule set over a file (precedence, `# noqa`, the per-function cache, fix
//!   application);
//! - `settings`, `check`, `render`, `cli`: the command line; `lsp`: the language server.

pub mod check;
pub mod cli;
pub mod engine;
pub mod lsp;
pub mod render;
pub mod rules;
pub mod semantic;
pub mod settings;
pub mod smell;
pub mod syntax;
pub mod text;
