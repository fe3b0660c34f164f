use std::process::ExitCode;

use clap::Parser;

use nanlint::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            // One line on stderr, like every other usage error.
            let text = e.to_string();
            let first = text.lines().next().unwrap_or("invalid arguments").trim_start_matches("error: ");
            return cli::fail(&format!("{first} (see `nanlint --help`)"));
        }
    };
    match cli.command {
        Command::Check(args) => cli::run_check(*args),
        Command::Rule { code, all } => cli::run_rule(code, all),
        // The LSP spec: exit code 0 after a `shutdown` request, 1 without one.
        Command::Server => match nanlint::lsp::run_stdio() {
            Ok(nanlint::lsp::Ending::AfterShutdown) => ExitCode::SUCCESS,
            Ok(nanlint::lsp::Ending::WithoutShutdown) => ExitCode::FAILURE,
            Err(e) => cli::fail(&format!("cannot start the language server: {e}")),
        },
    }
}
