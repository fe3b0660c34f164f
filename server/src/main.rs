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

/// tree-sitter's trees, parsers and queries allocated by jemalloc too, not by the C library's
/// `malloc` (tree-sitter's default). A full-file reparse (a string delimiter typed, a paste)
/// holds the old and the new tree at once; in glibc's heap the freed tree stayed resident beside
/// jemalloc's pages (the server held 38-39 MB on the latency file afterwards, 31 MB with one
/// allocator; benches/README.md).
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
fn trees_in_jemalloc() {
    // SAFETY: called first in `main`, before any tree-sitter object exists and before any other
    // thread starts; the four functions are jemalloc's, one family, and return pointers aligned
    // as `malloc`'s.
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: tikv_jemalloc_sys::malloc,
            calloc: tikv_jemalloc_sys::calloc,
            realloc: tikv_jemalloc_sys::realloc,
            free: tikv_jemalloc_sys::free,
        }));
    }
}

#[cfg(not(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64"))))]
fn trees_in_jemalloc() {}

fn main() -> ExitCode {
    trees_in_jemalloc();
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
        Command::Rule { code, all, output_format } => cli::run_rule(code, all, output_format),
        // The LSP spec: exit code 0 after a `shutdown` request, 1 without one.
        Command::Server => match nanlint::lsp::run_stdio() {
            Ok(nanlint::lsp::Ending::AfterShutdown) => ExitCode::SUCCESS,
            Ok(nanlint::lsp::Ending::WithoutShutdown) => ExitCode::FAILURE,
            Err(e) => cli::fail(&format!("cannot start the language server: {e}")),
        },
    }
}
