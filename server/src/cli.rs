//! The command line: `nanlint check`, `nanlint rule`, `nanlint server`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::check::{self, Overrides};
use crate::engine::fix::FixMode;
use crate::render;
use crate::rules::{self, RULES};

#[derive(Parser)]
#[command(name = "nanlint", version, about = "Finds numeric hazards (log of zero, NaN losses) in Python ML code")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check Python files and folders (default: the current folder).
    Check(CheckArgs),
    /// Show a rule's documentation, or list all rules.
    Rule {
        /// A rule code (NL101) or name (log-of-possibly-zero).
        code: Option<String>,
        /// List every rule.
        #[arg(long, conflicts_with = "code")]
        all: bool,
    },
    /// Run the language server over stdio.
    Server,
}

#[derive(Clone, Copy, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Full,
    Concise,
    Json,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Files or folders to check.
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub output_format: OutputFormat,
    /// Apply safe fixes.
    #[arg(long)]
    pub fix: bool,
    /// Also apply unsafe fixes (with --fix, or alone).
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Rule codes or prefixes to enable, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    pub select: Option<Vec<String>>,
    /// Rule codes or prefixes to disable, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub ignore: Option<Vec<String>>,
    /// The lower bound clip fixes write (default 1e-7).
    #[arg(long)]
    pub epsilon: Option<f64>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run_check(args: CheckArgs) -> ExitCode {
    if let Some(n) = args.threads {
        // Fails only if a pool was already built, which cannot happen before this point.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(n.max(1)).build_global();
    }
    let overrides = Overrides { select: args.select, ignore: args.ignore, epsilon: args.epsilon };
    let mode = match (args.fix, args.unsafe_fixes) {
        (_, true) => FixMode::Unsafe,
        (true, false) => FixMode::Safe,
        (false, false) => FixMode::Off,
    };
    let files = match check::collect_files(&args.paths) {
        Ok(f) => f,
        Err(e) => return fail(&e),
    };
    let settings = match check::resolve_settings(&files, &overrides) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let reports = check::check_files(&files, &settings, mode);

    let mut out = String::new();
    let mut stderr = std::io::stderr().lock();
    let mut io_error = false;
    for r in &reports {
        if let Some(p) = &r.problem {
            let level = if p.is_error { "error" } else { "warning" };
            let _ = writeln!(stderr, "nanlint: {level}: {}: {}", r.path.display(), p.message);
            io_error |= p.is_error;
        }
    }
    let found: usize = reports.iter().map(|r| r.smells.len()).sum();
    let fixed: usize = reports.iter().map(|r| r.fixed).sum();
    match args.output_format {
        OutputFormat::Json => out.push_str(&render::json_report(&reports)),
        format => {
            for r in reports.iter().filter(|r| !r.smells.is_empty()) {
                let loc = render::Locator::new(&r.source);
                for s in &r.smells {
                    match format {
                        OutputFormat::Concise => render::concise(&mut out, &r.path, &loc, s),
                        _ => render::full(&mut out, &r.path, &loc, s),
                    }
                }
            }
            out.push_str(&summary(&reports, found, fixed, mode));
        }
    }
    if std::io::stdout().lock().write_all(out.as_bytes()).is_err() {
        return ExitCode::from(2);
    }
    if io_error {
        ExitCode::from(2)
    } else if found > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn summary(reports: &[FileReport], found: usize, fixed: usize, mode: FixMode) -> String {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut s = match (found, fixed) {
        (0, 0) => "All checks passed!\n".to_string(),
        (0, f) => format!("Found {f} smell{} ({f} fixed, 0 remaining).\n", plural(f)),
        (n, 0) => format!("Found {n} smell{}.\n", plural(n)),
        (n, f) => format!("Found {} smell{} ({f} fixed, {n} remaining).\n", n + f, plural(n + f)),
    };
    let unsafe_fixable = reports.iter().flat_map(|r| &r.smells).filter(|s| !s.fixes.is_empty()).count();
    if unsafe_fixable > 0 && mode != FixMode::Unsafe {
        s.push_str(&format!(
            "{unsafe_fixable} fix{} available with `--unsafe-fixes`.\n",
            if unsafe_fixable == 1 { "" } else { "es" }
        ));
    }
    s
}

use crate::check::FileReport;

pub fn run_rule(code: Option<String>, all: bool) -> ExitCode {
    let mut out = String::new();
    match (code, all) {
        (Some(code), _) => match rules::by_code(&code) {
            Some(rule) => out.push_str(rule.doc),
            None => {
                return fail(&format!("unknown rule {code:?}; `nanlint rule --all` lists them"));
            }
        },
        (None, _) => {
            for rule in RULES {
                out.push_str(&format!("{}  {:<24}  {}\n", rule.code, rule.name, rule.summary()));
            }
        }
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    ExitCode::SUCCESS
}

pub fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "nanlint: error: {message}");
    ExitCode::from(2)
}
