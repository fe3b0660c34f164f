use std::process::ExitCode;

use clap::Parser;

use nanlint::cli::{self, Cli, Command};

/// jemalloc for the binary (the CLI and the server) on Linux: see its line in Cargo.toml.
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options (its `malloc_conf`, read before `main`): one arena rather than four per
/// core, freed pages handed back after a second rather than ten, and no lazily purged state.
/// On the latency file's keystrokes this held the server's peak resident memory at 39.6 MB,
/// where glibc's malloc peaked at 45 MB and jemalloc's defaults at 50 MB (benches/README.md).
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
#[unsafe(export_name = "_rjem_malloc_conf")]
static JEMALLOC_CONF: Option<&std::ffi::c_char> =
    Some(unsafe { &*c"narenas:1,dirty_decay_ms:1000,muzzy_decay_ms:0".as_ptr() });

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
            // One line on stderr, like every other usage error: clap's lines up to the usage (a
            // missing argument's name is on the line after the message).
            let text = e.to_string();
            let lines: Vec<&str> = text.lines().map(str::trim).take_while(|l| !l.is_empty()).collect();
            let joined = lines.join(" ");
            let first = if joined.is_empty() { "invalid arguments" } else { joined.trim_start_matches("error: ") };
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
