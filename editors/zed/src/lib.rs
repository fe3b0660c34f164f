//! Starts `nanlint server` for Python files and passes on the user's
//! `lsp.nanlint` settings from Zed's settings.json.

use zed_extension_api::{self as zed, settings::LspSettings, LanguageServerId, Result};

struct Nanlint;

fn lsp_settings(worktree: &zed::Worktree) -> LspSettings {
    LspSettings::for_worktree("nanlint", worktree).unwrap_or_default()
}

impl zed::Extension for Nanlint {
    fn new() -> Self {
        Nanlint
    }

    /// `lsp.nanlint.binary.path` / `.arguments` if set, else `nanlint server` from PATH.
    fn language_server_command(
        &mut self,
        _id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<zed::Command> {
        let binary = lsp_settings(worktree).binary;
        let command = binary
            .as_ref()
            .and_then(|b| b.path.clone())
            .or_else(|| worktree.which("nanlint"))
            .ok_or("nanlint is not on PATH: install it or set lsp.nanlint.binary.path")?;
        let args = binary
            .and_then(|b| b.arguments)
            .unwrap_or_else(|| vec!["server".to_string()]);
        Ok(zed::Command { command, args, env: worktree.shell_env() })
    }

    fn language_server_initialization_options(
        &mut self,
        _id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<zed::serde_json::Value>> {
        Ok(lsp_settings(worktree).initialization_options)
    }

    fn language_server_workspace_configuration(
        &mut self,
        _id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<zed::serde_json::Value>> {
        Ok(lsp_settings(worktree).settings)
    }
}

zed::register_extension!(Nanlint);
