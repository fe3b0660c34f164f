//! nanlint: finds numeric hazards in Python machine-learning code.
//!
//! The engine (`engine`) parses with tree-sitter, resolves imports to canonical API names, runs
//! the rules' queries (`rules`, embedded from `queries/python/`) and returns LSP-free [`smell::Smell`]s
//! with their fixes. `check` is the command line; the language server builds on the same engine.

pub mod check;
pub mod cli;
pub mod engine;
pub mod lsp;
pub mod render;
pub mod rules;
pub mod settings;
pub mod smell;
pub mod text;
