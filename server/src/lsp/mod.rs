//! `nanlint server`: the language server. LSP types stay inside this module (and `convert`), so
//! a framework upgrade stays local.

pub mod config;
pub mod convert;
pub mod notebook;
pub mod server;
pub mod session;
mod transport;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use tokio::io::{AsyncRead, AsyncWrite};
use tower_lsp_server::{LspService, Server};
use tracing_subscriber::{EnvFilter, Registry, layer::SubscriberExt, reload, util::SubscriberInitExt};

type ReloadHandle = reload::Handle<EnvFilter, Registry>;

static LOG: OnceLock<ReloadHandle> = OnceLock::new();

/// Logs to stderr (stdout is the protocol), at the level in `NANLINT_LOG` (default `info`).
pub fn init_logging() {
    let filter = EnvFilter::try_from_env("NANLINT_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let (filter, handle) = reload::Layer::new(filter);
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_ansi(false).with_target(false);
    if tracing_subscriber::registry().with(filter).with(fmt).try_init().is_ok() {
        let _ = LOG.set(handle);
    }
}

/// Changes the log level at run time (the `logLevel` setting); `NANLINT_LOG` wins when set.
pub fn set_log_level(level: &str) {
    if std::env::var_os("NANLINT_LOG").is_some() {
        return;
    }
    if let (Some(handle), Ok(filter)) = (LOG.get(), EnvFilter::try_new(level)) {
        let _ = handle.reload(filter);
    }
}

/// How a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// The client sent `shutdown` before `exit` (or before closing its end).
    AfterShutdown,
    /// `exit` or the end of the input came without a `shutdown` request before it: the LSP spec
    /// has the server exit with code 1 then.
    WithoutShutdown,
}

/// Serves LSP over any byte streams (stdio in production, in-memory pipes in tests). A message
/// the server cannot decode is answered with an error instead of ending the session (see
/// `transport`).
pub async fn serve(input: impl AsyncRead + Unpin, output: impl AsyncWrite) -> Ending {
    // Compile the rules' query (a few ms) and start the threads that share the analysis of a
    // newly opened file while the client is still initializing, not when the first file opens.
    std::thread::spawn(|| {
        crate::engine::RuleSet::all();
        rayon::current_num_threads();
    });
    let shut_down = Arc::new(AtomicBool::new(false));
    let flag = shut_down.clone();
    transport::run(input, output, shut_down.clone(), |input, output, outbox| {
        let (service, socket) = LspService::new(move |client| server::Backend::new(client, outbox, flag));
        Server::new(input, output, socket).serve(service)
    })
    .await;
    if shut_down.load(Ordering::SeqCst) { Ending::AfterShutdown } else { Ending::WithoutShutdown }
}

/// Serves LSP over stdin/stdout until the client says `exit` or closes the pipe.
pub fn run_stdio() -> std::io::Result<Ending> {
    init_logging();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let ending = runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    if ending == Ending::WithoutShutdown {
        tracing::warn!("the client ended the session without a `shutdown` request: exit code 1");
    }
    Ok(ending)
}
