//! The command line: `nanlint check`, `nanlint rule`, `nanlint server`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use crate::check::{self, Discovery, FileReport, FixChoice, Options, Resolver};
use crate::engine::fix::FixMode;
use crate::render::{self, Counts, Styles};
use crate::settings::FileSettings;

#[derive(Parser)]
#[command(name = "nanlint", version, about = "Finds numeric hazards (log of zero, NaN losses) in Python ML code")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check Python files and folders (default: the current folder; `-` reads stdin).
    Check(Box<CheckArgs>),
    /// Show a rule's documentation, or list all rules.
    Rule {
        /// A rule code (NL101) or name (log-of-possibly-zero), in any case.
        code: Option<String>,
        /// List every rule.
        #[arg(long, conflicts_with = "code")]
        all: bool,
        /// `text` (default), or `json`: an object for one rule, an array for all, with ruff's
        /// fields (code, name, summary, explanation, fix_availability, preview...).
        #[arg(long, value_enum, default_value_t)]
        output_format: RuleFormat,
    },
    /// Run the language server over stdio.
    Server,
}

#[derive(Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum OutputFormat {
    /// Source line, caret and fix titles.
    #[default]
    Full,
    /// One line per finding: `path:row:col: CODE message`.
    Concise,
    /// ruff's JSON schema plus `fixes`.
    Json,
    /// SARIF 2.1.0 (GitHub code scanning).
    Sarif,
    /// GitHub Actions workflow commands (annotations).
    Github,
    /// GitLab Code Quality report.
    Gitlab,
    /// JUnit XML.
    Junit,
}

/// What `nanlint rule` prints, as ruff's `rule --output-format`.
#[derive(Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum RuleFormat {
    /// The documentation (one rule), or one line per rule.
    #[default]
    Text,
    /// A JSON object per rule (an array of them for the list).
    Json,
}

#[derive(Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum ColorWhen {
    /// When stdout is a terminal and `NO_COLOR` is unset.
    #[default]
    Auto,
    Always,
    Never,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Files or folders to check; `-` reads the source from stdin.
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t)]
    pub output_format: OutputFormat,
    /// Write the output to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "PATH")]
    pub output_file: Option<PathBuf>,
    /// Apply fixes (safe ones; with --unsafe-fixes, unsafe ones too).
    #[arg(long)]
    pub fix: bool,
    /// Enable unsafe fixes: applied with --fix or --diff, counted as available otherwise.
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Prefer the alternative fix whose title has this word (`xlogy`, `clip`), for every rule or
    /// one (`NL101:xlogy`); comma-separated or repeated, first match wins.
    #[arg(long, value_delimiter = ',', value_name = "[CODE:]WORD")]
    pub fix_choice: Vec<String>,
    /// Print the changes fixes would make as a unified diff; write nothing (also with --fix).
    #[arg(long)]
    pub diff: bool,
    /// List what fixes changed, per file (with --fix).
    #[arg(long, conflicts_with = "diff")]
    pub show_fixes: bool,
    /// Print how many findings of each code there are instead of the findings.
    #[arg(long, conflicts_with = "diff")]
    pub statistics: bool,
    /// Add `# noqa: CODE` to every line with a smell.
    #[arg(long, conflicts_with_all = ["fix", "diff"])]
    pub add_noqa: bool,
    /// Exit with 0 even when findings remain.
    #[arg(long, short = 'e')]
    pub exit_zero: bool,
    /// Print the findings and nothing else (no summary).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print nothing; the exit code tells.
    #[arg(long, short = 's', conflicts_with = "quiet")]
    pub silent: bool,
    /// Rules to enable (codes, prefixes, names or ALL), comma-separated; replaces the configured
    /// selection.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Option<Vec<String>>,
    /// Rules to enable on top of the configured selection.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub extend_select: Option<Vec<String>>,
    /// Rules to disable, on top of the configured ones.
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Option<Vec<String>>,
    /// The lower bound clip fixes write (default 1e-7).
    #[arg(long, allow_hyphen_values = true)]
    pub epsilon: Option<f64>,
    /// Run the preview rules too (rules whose precision on real code is still low; a preview
    /// rule selected by its code runs without it).
    #[arg(long)]
    pub preview: bool,
    /// Globs of files and folders to skip, replacing the configured and default excludes.
    #[arg(long, value_delimiter = ',', value_name = "GLOBS")]
    pub exclude: Option<Vec<String>>,
    /// Globs of files and folders to skip, on top of the others.
    #[arg(long, value_delimiter = ',', value_name = "GLOBS")]
    pub extend_exclude: Option<Vec<String>>,
    /// Apply the excludes to files named on the command line too (for pre-commit).
    #[arg(long)]
    pub force_exclude: bool,
    /// Use this configuration file for every file (a pyproject.toml's [tool.nanlint] table, or a
    /// nanlint.toml); no other file is read.
    #[arg(long, value_name = "PATH", conflicts_with = "isolated")]
    pub config: Option<PathBuf>,
    /// Read no configuration file.
    #[arg(long)]
    pub isolated: bool,
    /// The path of the file whose source stdin carries (for configuration and messages).
    #[arg(long, value_name = "PATH")]
    pub stdin_filename: Option<PathBuf>,
    /// Colour the text output.
    #[arg(long, value_enum, default_value_t, value_name = "WHEN")]
    pub color: ColorWhen,
    /// Worker threads, 1 to 512 (default: one per core). More than the files' count gains
    /// nothing; 100,000 threads once took minutes to start.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=512))]
    pub threads: Option<u16>,
}

pub fn run_check(args: CheckArgs) -> ExitCode {
    match check(args) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

fn check(mut args: CheckArgs) -> Result<ExitCode, String> {
    if let Some(n) = args.threads {
        // Fails only if a pool was already built, which cannot happen before this point.
        let _ = rayon::ThreadPoolBuilder::new().num_threads(usize::from(n)).build_global();
    }
    let color = match args.color {
        ColorWhen::Auto => colorchoice::ColorChoice::Auto,
        ColorWhen::Always => colorchoice::ColorChoice::Always,
        ColorWhen::Never => colorchoice::ColorChoice::Never,
    };
    color.write_global();
    let cli = FileSettings {
        select: args.select.clone(),
        extend_select: args.extend_select.clone(),
        ignore: args.ignore.clone(),
        epsilon: args.epsilon,
        preview: args.preview.then_some(true),
        max_file_size: None,
        exclude: args.exclude.clone(),
        extend_exclude: args.extend_exclude.clone(),
        per_file_ignores: None,
    };
    // The keys' errors start with the key: name the flag instead.
    cli.validate().map_err(|e| usage(if e.starts_with("epsilon") { e } else { format!("--{e}") }))?;
    // As `--statistics --diff`: one of the two would be dropped in silence.
    if args.statistics && !matches!(args.output_format, OutputFormat::Full | OutputFormat::Concise | OutputFormat::Json)
    {
        let format = args.output_format.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default();
        return Err(usage(format!(
            "--statistics prints text or JSON; it cannot be used with --output-format {format}"
        )));
    }
    if args.stdin_filename.is_some()
        && let Some(path) = args.paths.iter().find(|p| *p != Path::new("-"))
    {
        return Err(usage(format!(
            "--stdin-filename names the source read from stdin; it cannot be used with the path {}",
            path.display()
        )));
    }
    // As ruff's: `--fix --diff` prints the diff and writes nothing.
    args.fix &= !args.diff;
    if args.show_fixes && !args.fix {
        return Err(usage("--show-fixes lists what --fix changed; it needs --fix".to_string()));
    }
    let fix_choice =
        args.fix_choice.iter().map(|c| FixChoice::parse(c)).collect::<Result<Vec<_>, _>>().map_err(usage)?;
    let fixing = args.fix || args.diff;
    let options = Options {
        fix: match (fixing, args.unsafe_fixes) {
            (false, _) => FixMode::Off,
            (true, false) => FixMode::Safe,
            (true, true) => FixMode::Unsafe,
        },
        write: args.fix || args.add_noqa,
        fix_choice,
        add_noqa: args.add_noqa,
    };
    let discovery = match (&args.config, args.isolated) {
        (Some(path), _) => {
            match std::fs::metadata(path) {
                Ok(m) if m.is_dir() => {
                    return Err(format!("--config {}: a folder; give the configuration file", path.display()));
                }
                Ok(m) if m.is_file() => {}
                Ok(_) => return Err(format!("--config {}: not a regular file", path.display())),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(format!("--config {}: no such file", path.display()));
                }
                Err(e) => return Err(format!("--config {}: {}", path.display(), crate::settings::io_message(&e))),
            }
            Discovery::File(path.clone())
        }
        (None, true) => Discovery::Isolated,
        (None, false) => Discovery::Hierarchical,
    };
    let selects = cli.select.is_some() || cli.extend_select.is_some() || cli.ignore.is_some();
    let resolver = Arc::new(Resolver::new(discovery, cli)?);

    let stdin = match args.paths.as_slice() {
        [] => args.stdin_filename.is_some(),
        [only] => only == Path::new("-"),
        many => {
            match many.iter().filter(|p| *p == Path::new("-")).count() {
                0 => {}
                n if n == many.len() => {
                    return Err(usage("`-` (stdin) can be given only once".into()));
                }
                _ => return Err(usage("`-` (stdin) cannot be combined with other paths".into())),
            }
            false
        }
    };
    if stdin {
        return check_stdin(&args, &resolver, Options { write: false, ..options });
    }
    let paths = if args.paths.is_empty() { vec![PathBuf::from(".")] } else { args.paths.clone() };
    let mut warnings = Vec::new();
    let targets = check::discover(&paths, &resolver, args.force_exclude, &mut warnings)?;
    // The report written over a file being checked would replace its source.
    if let Some(out) = &args.output_file
        && let Some(t) = targets.iter().find(|t| same_file::is_same_file(out, &t.path).unwrap_or(false))
    {
        return Err(format!(
            "--output-file {}: is {}, a file being checked; the report would replace it",
            out.display(),
            t.path.display()
        ));
    }
    // Temporary files a killed `--fix` left next to the files about to be checked.
    let dirs: std::collections::BTreeSet<&Path> = targets
        .iter()
        .filter(|t| t.config.is_some())
        .map(|t| t.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")))
        .collect();
    warnings.extend(check::write::remove_stale(dirs));
    // A configuration that enables no rule (`select = []`, or `ignore = ["ALL"]`) would read as
    // "All checks passed!" however many hazards the files hold.
    // `--select NL000` asks for syntax errors alone: no warning.
    let syntax_only =
        args.select.iter().flatten().any(|s| crate::settings::normalize_selector(s).is_ok_and(|c| c == "NL000"));
    let mut silenced = std::collections::BTreeSet::new();
    for config in targets.iter().filter_map(|t| t.config.as_deref()) {
        if !syntax_only && !crate::rules::ALL.iter().any(|r| config.settings.is_enabled(r.code)) {
            let shown = |f: &PathBuf| f.strip_prefix(resolver.cwd()).unwrap_or(f).display().to_string();
            silenced.insert(config.file.as_ref().map(shown));
        }
    }
    for file in silenced {
        let source = match (file, selects) {
            (Some(f), false) => f,
            (Some(f), true) => format!("{f} with --select/--extend-select/--ignore"),
            (None, _) => "--select/--extend-select/--ignore".to_string(),
        };
        warnings.push(format!(
            "no rule is enabled (the selection of {source}): only syntax errors and unreadable files are reported"
        ));
    }
    if targets.is_empty() {
        // As ruff says: a mistyped path or an exclude that takes everything would otherwise read
        // as "All checks passed!".
        warnings.push("No Python files found under the given path(s)".to_string());
    }
    if !args.silent {
        let mut stderr = anstream::stderr().lock();
        for w in &warnings {
            let _ = writeln!(stderr, "nanlint: warning: {w}");
        }
    }
    let reports = check::check_targets(&targets, &options);
    Ok(finish(&args, &reports, &options, resolver.cwd(), Sink::Stdout))
}

/// Where the findings go: stdout, or stderr when stdout carries the fixed source.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sink {
    Stdout,
    Stderr,
}

fn check_stdin(args: &CheckArgs, resolver: &Resolver, options: Options) -> Result<ExitCode, String> {
    let name = args.stdin_filename.clone().unwrap_or_else(|| PathBuf::from("-"));
    let abs = std::path::absolute(&name).unwrap_or_else(|_| name.clone());
    let config = resolver.config_for_file(&abs)?;
    let settings = config.settings_for(&abs);
    // At most `max-file-size` bytes and one more are kept: `nanlint check - < /dev/zero` filled
    // the memory. Past the cap, NL002; with `--fix` the rest is passed through unread, without it
    // a pipe's rest is read and dropped.
    let mut stdin = std::io::stdin().lock();
    let (bytes, too_large) =
        check::read_capped(&mut stdin, &settings).map_err(|e| format!("cannot read stdin: {e}"))?;
    let passed_through = too_large.is_some();
    if passed_through && !(args.fix || args.add_noqa) && stdin_is_pipe() {
        // The program writing into the pipe would otherwise get EPIPE (SIGPIPE) and fail its
        // pipeline under `set -o pipefail`, when the size was reported as NL002. The rest is read
        // into nothing, in constant memory; a device (`< /dev/zero`) has no writer and is not read.
        std::io::copy(&mut stdin, &mut std::io::sink()).map_err(|e| format!("cannot read stdin: {e}"))?;
    }
    let excluded = args.force_exclude && args.stdin_filename.is_some() && resolver.is_excluded_with_parents(&abs)?;
    let report = if excluded {
        FileReport { path: name, ..FileReport::default() }
    } else if let Some(smell) = too_large {
        FileReport { path: name, smells: vec![smell], ..FileReport::default() }
    } else {
        check::check_bytes(&name, &bytes, &settings, &options)
    };
    if args.fix || args.add_noqa {
        // The fixed source, or the one with `# noqa` added (or the source as it came), goes to
        // stdout, the findings to stderr.
        let mut stdout = std::io::stdout().lock();
        let out = report.output.clone().unwrap_or(bytes);
        stdout.write_all(&out).map_err(|e| format!("cannot write stdout: {e}"))?;
        if passed_through {
            // What was read to find the input too large, then the rest as it comes.
            std::io::copy(&mut stdin, &mut stdout).map_err(|e| format!("cannot pass stdin through: {e}"))?;
        }
        return Ok(finish(args, std::slice::from_ref(&report), &options, resolver.cwd(), Sink::Stderr));
    }
    Ok(finish(args, std::slice::from_ref(&report), &options, resolver.cwd(), Sink::Stdout))
}

/// Whether stdin is a pipe or a socket, which a writer holds open: not a file or a device.
#[cfg(unix)]
fn stdin_is_pipe() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else { return false };
    std::fs::File::from(fd).metadata().is_ok_and(|m| m.file_type().is_fifo() || m.file_type().is_socket())
}

/// Whether stdin is a pipe; elsewhere than Unix it is read to the end.
#[cfg(not(unix))]
fn stdin_is_pipe() -> bool {
    true
}

/// Prints the findings in the chosen format, the warnings, and returns the exit code.
fn finish(args: &CheckArgs, reports: &[FileReport], options: &Options, cwd: &Path, sink: Sink) -> ExitCode {
    let choices = &options.fix_choice;
    let counts = Counts::of(reports, choices);
    let mut stderr = anstream::stderr().lock();
    let mut io_error = false;
    if !args.silent {
        use rayon::prelude::*;
        let noqa_warnings: Vec<Vec<crate::engine::NoqaWarning>> =
            reports.par_iter().map(|r| crate::engine::noqa_warnings(&r.source, None)).collect();
        for (r, noqa_warnings) in reports.iter().zip(noqa_warnings) {
            if let Some(p) = &r.problem {
                let level = if p.is_error { "error" } else { "warning" };
                let _ = writeln!(stderr, "nanlint: {level}: {}: {}", r.path.display(), p.message);
            }
            // As ruff's "Invalid `# noqa` directive on path:line" and "Invalid rule code provided
            // to `# noqa`": the directive, or the code, is not applied.
            let loc = render::Locator::of(r);
            for w in noqa_warnings {
                let (row, _) = loc.location(w.line);
                let cell = loc.cell(w.line).map(|c| format!("cell {c}:")).unwrap_or_default();
                let _ = writeln!(stderr, "nanlint: warning: {}:{cell}{row}: {}", r.path.display(), w.message);
            }
            // `--add-noqa`: the flagged lines a comment cannot end; the others got theirs.
            for (row, why) in &r.noqa_refused {
                let _ = writeln!(
                    stderr,
                    "nanlint: warning: {}:{}: no `# noqa` added: the line {why}; silence its finding with \
                     `per-file-ignores` or split the line",
                    r.path.display(),
                    loc.row_label(*row)
                );
            }
        }
        let had_fixes = reports.iter().flat_map(|r| &r.smells).any(|s| !s.fixes.is_empty())
            || reports.iter().any(|r| r.fixed_count() > 0);
        for c in choices.iter().filter(|c| had_fixes && !c.used.load(std::sync::atomic::Ordering::Relaxed)) {
            let scope = c.code.as_ref().map(|c| format!("{c}:")).unwrap_or_default();
            let _ = writeln!(
                stderr,
                "nanlint: warning: --fix-choice {scope}{} matched no fix; the preferred fixes apply",
                c.word
            );
        }
    }
    io_error |= reports.iter().any(|r| r.problem.as_ref().is_some_and(|p| p.is_error));

    let text_format = matches!(args.output_format, OutputFormat::Full | OutputFormat::Concise);
    let styles = if args.output_file.is_none() { Styles::colored() } else { Styles::plain() };
    let mut out = String::new();
    let mut note = String::new(); // summary lines that go to stderr
    if args.add_noqa {
        let added: usize = reports.iter().map(|r| r.noqa_added).sum();
        note = format!("Added {added} noqa directive{}.\n", if added == 1 { "" } else { "s" });
    } else if args.diff {
        out.push_str(&render::diff(reports, &styles));
        // As ruff does, the fixes `--unsafe-fixes` would add are named, so that "No fixes
        // available" does not contradict `check`'s "1 fix available with `--fix --unsafe-fixes`".
        let hidden = match counts.unsafe_fixable {
            u if u == 0 || args.unsafe_fixes => String::new(),
            1 => " (1 more fix with `--unsafe-fixes`)".to_string(),
            u => format!(" ({u} more fixes with `--unsafe-fixes`)"),
        };
        note = match counts.fixed {
            0 => format!("No fixes available{hidden}.\n"),
            n => format!("Would fix {n} smell{}{hidden}.\n", if n == 1 { "" } else { "s" }),
        };
    } else if args.statistics {
        out.push_str(&render::statistics(
            reports,
            choices,
            args.unsafe_fixes,
            args.output_format == OutputFormat::Json,
        ));
    } else {
        match args.output_format {
            OutputFormat::Json => out.push_str(&render::json_report(reports, choices)),
            OutputFormat::Sarif => out.push_str(&render::sarif::report(reports, cwd)),
            OutputFormat::Github => out.push_str(&render::ci::github(reports)),
            OutputFormat::Gitlab => out.push_str(&render::ci::gitlab(reports, cwd)),
            OutputFormat::Junit => out.push_str(&render::ci::junit(reports)),
            format @ (OutputFormat::Full | OutputFormat::Concise) => {
                for (r, loc) in render::each(reports) {
                    for s in &r.smells {
                        match format {
                            OutputFormat::Concise => render::concise_styled(&mut out, &r.path, &loc, s, &styles),
                            _ => render::full_styled(&mut out, &r.path, &loc, s, &styles),
                        }
                    }
                }
            }
        }
        if text_format && !args.quiet {
            if args.show_fixes {
                out.push_str(&render::fixed_list(reports));
            }
            out.push_str(&render::summary(&counts, args.fix, args.unsafe_fixes));
        }
    }

    if !args.silent {
        let written = match (&args.output_file, sink) {
            (Some(path), _) => std::fs::write(path, &out).map_err(|e| format!("cannot write {}: {e}", path.display())),
            (None, Sink::Stdout) => match anstream::stdout().lock().write_all(out.as_bytes()) {
                // `nanlint check | head`: the reader has gone, and no one is left to tell.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                written => written.map_err(|e| format!("cannot write stdout: {e}")),
            },
            (None, Sink::Stderr) => stderr.write_all(out.as_bytes()).map_err(|e| format!("cannot write stderr: {e}")),
        };
        if let Err(e) = written {
            let _ = writeln!(stderr, "nanlint: error: {e}");
            return ExitCode::from(2);
        }
        if !args.quiet && !note.is_empty() {
            let _ = stderr.write_all(note.as_bytes());
        }
    }
    if io_error {
        ExitCode::from(2)
    } else if args.exit_zero || args.add_noqa {
        ExitCode::SUCCESS
    } else if args.diff {
        ExitCode::from(u8::from(counts.fixed > 0))
    } else if counts.remaining() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn run_rule(code: Option<String>, _all: bool, format: RuleFormat) -> ExitCode {
    let mut out = String::new();
    let rules = render::all_rules();
    let pretty = |value: &serde_json::Value| serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    match code {
        Some(code) => {
            let found = rules
                .iter()
                .find(|r| r.code.eq_ignore_ascii_case(code.trim()) || r.name.eq_ignore_ascii_case(code.trim()));
            match (found, format) {
                (Some(rule), RuleFormat::Text) => out.push_str(rule.doc),
                (Some(rule), RuleFormat::Json) => out.push_str(&pretty(&rule.to_json())),
                (None, _) => return fail(&format!("unknown rule {code:?}; `nanlint rule --all` lists them")),
            }
        }
        None if format == RuleFormat::Json => {
            out.push_str(&pretty(&serde_json::Value::Array(rules.iter().map(render::RuleInfo::to_json).collect())));
        }
        None => {
            // Columns as wide as their longest entry, two spaces apart; one plain line per code,
            // so the table reads the same in a terminal, a pager or `grep`.
            let code_width = rules.iter().map(|r| r.code.len()).max().unwrap_or(0);
            let name_width = rules.iter().map(|r| r.name.len()).max().unwrap_or(0);
            for rule in &rules {
                out.push_str(&format!(
                    "{:<code_width$}  {:<name_width$}  {}{}\n",
                    rule.code, rule.name, rule.summary, rule.status
                ));
            }
        }
    }
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    ExitCode::SUCCESS
}

/// A usage error's message, pointing to the help as clap's own do.
fn usage(message: String) -> String {
    format!("{message} (see `nanlint check --help`)")
}

pub fn fail(message: &str) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "nanlint: error: {message}");
    ExitCode::from(2)
}
