use std::process::ExitCode;

use clap::Parser;
use nanlint::cli::{self, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => cli::run_check(args),
        Command::Rule { code, all } => cli::run_rule(code, all),
        Command::Server => match nanlint::lsp::run_stdio() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => cli::fail(&format!("cannot start the language server: {e}")),
        },
    }
}
