//! `nanlint check`: find Python files, resolve their configuration, check them in parallel,
//! report in a stable order, and optionally fix them or add `# noqa` comments.
//!
//! Besides the rules' smells, two codes report on files themselves and are always on:
//! `NL000 syntax-error` (tree-sitter could not parse part of a file; the rest is still checked)
//! and `NL001 unreadable-file` (a path that does not exist, cannot be read, or is not text in
//! its declared encoding).

pub mod decode;
pub mod notebook;
pub mod walk;
pub mod write;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;

use crate::engine::{
    self,
    fix::{FixMode, fix_source_in},
};
use crate::settings::{self, FileSettings, Settings, normalize_selector};
use crate::smell::{Fix, Point, Smell, Span};
use crate::syntax::{KindName, Refused, refused_statements, refused_walruses};
use decode::SourceEncoding;
use notebook::Notebook;

/// A code nanlint reports about a file rather than a smell in it. Its documentation is a page
/// of its own, `docs/<code>-<name>.md` (as a rule's is its `rule.md`): the same text is
/// `nanlint rule CODE`, the editor hover, SARIF's help and what `url` links to.
pub struct Builtin {
    pub code: &'static str,
    pub name: &'static str,
    pub summary: &'static str,
    /// The documentation page's path in the repository.
    pub page: &'static str,
    pub doc: &'static str,
}

impl Builtin {
    /// Where the documentation is published, as [`crate::rules::Rule::url`].
    pub fn url(&self) -> Option<String> {
        crate::rules::docs_url(self.page)
    }
}

pub const SYNTAX_ERROR: Builtin = Builtin {
    code: "NL000",
    name: "syntax-error",
    summary: "Part of the file is not valid Python; the parts that parse are still checked.",
    page: "docs/NL000-syntax-error.md",
    doc: include_str!("../../docs/NL000-syntax-error.md"),
};

pub const UNREADABLE_FILE: Builtin = Builtin {
    code: "NL001",
    name: "unreadable-file",
    summary: "A path that does not exist, cannot be read, or is not text in its declared encoding.",
    page: "docs/NL001-unreadable-file.md",
    doc: include_str!("../../docs/NL001-unreadable-file.md"),
};

pub const FILE_TOO_LARGE: Builtin = Builtin {
    code: "NL002",
    name: "file-too-large",
    summary: "A file larger than `max-file-size` (default 10 MB), which is not checked.",
    page: "docs/NL002-file-too-large.md",
    doc: include_str!("../../docs/NL002-file-too-large.md"),
};

pub const NESTING_TOO_DEEP: Builtin = Builtin {
    code: "NL003",
    name: "nesting-too-deep",
    summary: "Code nested deeper than nanlint follows; the code inside is not checked.",
    page: "docs/NL003-nesting-too-deep.md",
    doc: include_str!("../../docs/NL003-nesting-too-deep.md"),
};

pub const BUILTINS: [&Builtin; 4] = [&SYNTAX_ERROR, &UNREADABLE_FILE, &FILE_TOO_LARGE, &NESTING_TOO_DEEP];

pub fn is_builtin(code: &str) -> bool {
    BUILTINS.iter().any(|b| b.code == code)
}

/// The link to the documentation of `code`, a built-in code's or a rule's: what JSON's `url`,
/// SARIF's `helpUri` and the editor's `codeDescription` carry. None while `Cargo.toml` names no
/// `repository` (see [`crate::rules::docs_url`]).
pub fn docs_url_of(code: &str) -> Option<String> {
    match BUILTINS.iter().find(|b| b.code == code) {
        Some(builtin) => builtin.url(),
        None => crate::rules::by_code(code).and_then(|r| r.url()),
    }
}

fn builtin_smell(builtin: &Builtin, message: String, span: Span) -> Smell {
    Smell {
        code: builtin.code,
        rule: builtin.name,
        message,
        span,
        fixes: Vec::new(),
        related: None,
        absorbed: Vec::new(),
    }
}

/// NL002 for a file of `len` bytes over the `max-file-size` setting (also what the language
/// server reports for an open document over it).
pub fn too_large(len: u64, settings: &Settings) -> Option<Smell> {
    (len > settings.max_file_size).then(|| {
        file_too_large(format!(
            "File too large to check: {len} bytes, more than `max-file-size` ({} bytes); not checked",
            settings.max_file_size
        ))
    })
}

fn file_too_large(message: String) -> Smell {
    let at = Point { row: 0, column: 0 };
    builtin_smell(&FILE_TOO_LARGE, message, Span { start_byte: 0, end_byte: 0, start: at, end: at })
}

/// Reads at most `max-file-size` bytes and one more from `input`, with NL002 if it holds more: a
/// file that is no regular file (`/dev/zero`, a pipe from `<(...)`) has no length to compare
/// before reading, and a regular one can grow while it is read. Reading it whole filled the
/// memory. The bytes read are returned either way.
pub fn read_capped(input: impl std::io::Read, settings: &Settings) -> std::io::Result<(Vec<u8>, Option<Smell>)> {
    use std::io::Read;
    let mut bytes = Vec::new();
    input.take(settings.max_file_size.saturating_add(1)).read_to_end(&mut bytes)?;
    let over = (bytes.len() as u64 > settings.max_file_size).then(|| {
        file_too_large(format!(
            "File too large to check: more than `max-file-size` ({} bytes) read; not checked",
            settings.max_file_size
        ))
    });
    Ok((bytes, over))
}

fn unreadable(message: String) -> Smell {
    let at = Point { row: 0, column: 0 };
    builtin_smell(&UNREADABLE_FILE, message, Span { start_byte: 0, end_byte: 0, start: at, end: at })
}

/// Ruff's default `exclude`: folders of tools, environments and build output.
pub const DEFAULT_EXCLUDE: &[&str] = &[
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".git-rewrite",
    ".hg",
    ".ipynb_checkpoints",
    ".mypy_cache",
    ".nox",
    ".pants.d",
    ".pyenv",
    ".pytest_cache",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    ".vscode",
    "__pypackages__",
    "_build",
    "buck-out",
    "dist",
    "node_modules",
    "site-packages",
    "venv",
];

/// The configuration that applies to a set of files: resolved rule settings and the globs.
#[derive(Debug)]
pub struct Config {
    /// The configuration file, if any.
    pub file: Option<PathBuf>,
    /// The folder its globs are relative to.
    pub root: PathBuf,
    pub settings: Settings,
    exclude: GlobSet,
    per_file_ignores: Vec<(GlobSet, FileSettings)>,
}

/// A glob matched both against a whole absolute path (anchored at `root`) and, when it has no
/// `/`, against a file or folder name, as ruff matches `exclude` and `per-file-ignores`.
fn add_glob(builder: &mut GlobSetBuilder, root: &Path, pattern: &str) -> Result<(), String> {
    let glob = |p: &str| Glob::new(p).map_err(|e| format!("invalid glob {pattern:?}: {}", e.kind()));
    builder.add(glob(pattern)?);
    if !Path::new(pattern).is_absolute() {
        let anchored = format!("{}/{}", globset::escape(&root.to_string_lossy()), pattern.trim_start_matches("./"));
        builder.add(glob(&anchored)?);
    }
    Ok(())
}

impl Config {
    /// `file` layered over the defaults, then the command line. Globs from the file are relative
    /// to `root` (the file's folder, or the current folder for `--config`); the command line's to
    /// the current folder.
    pub fn new(
        file: Option<(&Path, &FileSettings)>,
        root: &Path,
        cli: &FileSettings,
        cwd: &Path,
    ) -> Result<Config, String> {
        let empty = FileSettings::default();
        let layer = file.map_or(&empty, |(_, f)| f);
        let settings = Settings::default().merged(layer).merged(cli);
        settings.validate()?;
        let mut exclude = GlobSetBuilder::new();
        match (&cli.exclude, &layer.exclude) {
            (Some(list), _) => list.iter().try_for_each(|p| add_glob(&mut exclude, cwd, p))?,
            (None, Some(list)) => list.iter().try_for_each(|p| add_glob(&mut exclude, root, p))?,
            (None, None) => DEFAULT_EXCLUDE.iter().try_for_each(|p| add_glob(&mut exclude, root, p))?,
        }
        for p in layer.extend_exclude.iter().flatten() {
            add_glob(&mut exclude, root, p)?;
        }
        for p in cli.extend_exclude.iter().flatten() {
            add_glob(&mut exclude, cwd, p)?;
        }
        let mut per_file_ignores = Vec::new();
        for (pattern, codes) in layer.per_file_ignores.iter().flatten() {
            let mut set = GlobSetBuilder::new();
            add_glob(&mut set, root, pattern)?;
            let set = set.build().map_err(|e| e.to_string())?;
            per_file_ignores.push((set, FileSettings { ignore: Some(codes.clone()), ..FileSettings::default() }));
        }
        Ok(Config {
            file: file.map(|(p, _)| p.to_path_buf()),
            root: root.to_path_buf(),
            settings,
            exclude: exclude.build().map_err(|e| e.to_string())?,
            per_file_ignores,
        })
    }

    fn matches(set: &GlobSet, abs: &Path) -> bool {
        set.is_match(abs) || abs.file_name().is_some_and(|n| set.is_match(n))
    }

    /// Whether `exclude`/`extend-exclude` match this file or folder (by name or by path).
    pub fn is_excluded(&self, abs: &Path) -> bool {
        Self::matches(&self.exclude, abs)
    }

    /// The settings for one file, its `per-file-ignores` applied.
    pub fn settings_for(&self, abs: &Path) -> Settings {
        self.per_file_ignores
            .iter()
            .filter(|(set, _)| Self::matches(set, abs))
            .fold(self.settings.clone(), |s, (_, layer)| s.merged(layer))
    }
}

/// Where configuration comes from.
pub enum Discovery {
    /// The nearest configuration file of each file's folder (the default).
    Hierarchical,
    /// One file for everything (`--config`).
    File(PathBuf),
    /// No configuration file (`--isolated`).
    Isolated,
}

/// Finds and caches the configuration of each folder.
pub struct Resolver {
    cli: FileSettings,
    cwd: PathBuf,
    fixed: Option<Arc<Config>>,
    by_dir: Mutex<HashMap<PathBuf, Arc<Config>>>,
    default: Arc<Config>,
}

impl Resolver {
    pub fn new(discovery: Discovery, cli: FileSettings) -> Result<Resolver, String> {
        cli.validate()?;
        let cwd = std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
        let default = Arc::new(Config::new(None, &cwd, &cli, &cwd)?);
        let fixed = match discovery {
            Discovery::Hierarchical => None,
            Discovery::Isolated => Some(default.clone()),
            Discovery::File(path) => {
                let file = match settings::read_config(&path)? {
                    Some(f) => f,
                    None => return Err(format!("{}: has no [tool.nanlint] table", path.display())),
                };
                Some(Arc::new(Config::new(Some((&path, &file)), &cwd, &cli, &cwd)?))
            }
        };
        Ok(Resolver { cli, cwd, fixed, by_dir: Mutex::default(), default })
    }

    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// The configuration for files in `dir` (absolute): its own file, else its parent's.
    pub fn config_for_dir(&self, dir: &Path) -> Result<Arc<Config>, String> {
        if let Some(c) = &self.fixed {
            return Ok(c.clone());
        }
        if let Some(c) = self.by_dir.lock().unwrap().get(dir) {
            return Ok(c.clone());
        }
        let config = match settings::config_in(dir)? {
            Some(found) => Arc::new(
                Config::new(Some((&found.path, &found.settings)), dir, &self.cli, &self.cwd)
                    .map_err(|e| format!("{}: {e}", found.path.display()))?,
            ),
            None => match dir.parent() {
                Some(parent) => self.config_for_dir(parent)?,
                None => self.default.clone(),
            },
        };
        self.by_dir.lock().unwrap().insert(dir.to_path_buf(), config.clone());
        Ok(config)
    }

    pub fn config_for_file(&self, abs: &Path) -> Result<Arc<Config>, String> {
        self.config_for_dir(abs.parent().unwrap_or(Path::new("/")))
    }

    /// `abs`, or a folder above it below its configuration's folder (the current folder without
    /// one), is excluded: what `--force-exclude` asks of the paths named on the command line.
    pub fn is_excluded_with_parents(&self, abs: &Path) -> Result<bool, String> {
        for p in abs.ancestors() {
            let Some(dir) = p.parent() else { break };
            let config = self.config_for_dir(dir)?;
            if p != abs && !(p.starts_with(&config.root) && p != config.root) {
                break;
            }
            if config.is_excluded(p) {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A file to check.
pub struct Target {
    /// The path as shown to the user.
    pub path: PathBuf,
    pub config: Option<Arc<Config>>,
    /// Why it cannot be checked (a path that does not exist).
    pub missing: Option<String>,
}

/// Whether a file found while walking is checked.
fn is_python(p: &Path) -> bool {
    p.extension().is_some_and(is_checked_extension)
}

/// Every Python file under `paths`: folders are walked honouring `.gitignore`, `.ignore`, hidden
/// files and the `exclude` settings; a file named explicitly is always included unless
/// `force_exclude`. A path that does not exist, or a folder that cannot be read, becomes a target
/// that reports NL001. Symlinks: see [`walk`]. What is skipped for a reason the user should know
/// (a symlink to a folder, a name that is not UTF-8) goes to `warnings`. Sorted.
pub fn discover(
    paths: &[PathBuf],
    resolver: &Arc<Resolver>,
    force_exclude: bool,
    warnings: &mut Vec<String>,
) -> Result<Vec<Target>, String> {
    let mut targets = Vec::new();
    let error: Arc<Mutex<Option<String>>> = Arc::default();
    for path in paths {
        let abs = absolute(path);
        if std::fs::symlink_metadata(path).is_err() {
            let message = match std::fs::metadata(path) {
                Err(e) => settings::io_message(&e),
                Ok(_) => "No such file or directory".to_string(),
            };
            targets.push(Target { path: path.clone(), config: None, missing: Some(message) });
            continue;
        }
        if force_exclude && resolver.is_excluded_with_parents(&abs)? {
            continue;
        }
        if !path.is_dir() {
            let config = resolver.config_for_file(&abs)?;
            targets.push(Target { path: path.clone(), config: Some(config), missing: None });
            continue;
        }
        let (r, err) = (resolver.clone(), error.clone());
        let walker = ignore::WalkBuilder::new(path)
            .require_git(false)
            .filter_entry(move |entry| {
                if entry.depth() == 0 {
                    return true;
                }
                let abs = absolute(entry.path());
                match r.config_for_file(&abs) {
                    Ok(c) => !c.is_excluded(&abs),
                    Err(e) => {
                        err.lock().unwrap().get_or_insert(e);
                        false
                    }
                }
            })
            .build();
        for entry in walker {
            match walk::classify(entry, is_python, warnings) {
                walk::Entry::File(p) => {
                    let config = resolver.config_for_file(&absolute(&p))?;
                    targets.push(Target { path: p, config: Some(config), missing: None });
                }
                walk::Entry::Unreadable(p, why) => targets.push(Target { path: p, config: None, missing: Some(why) }),
                walk::Entry::Skip => {}
            }
        }
        if let Some(e) = error.lock().unwrap().take() {
            return Err(e);
        }
    }
    for t in &mut targets {
        t.path = shown(&t.path).to_path_buf();
    }
    targets.sort_by(|a, b| a.path.cmp(&b.path));
    targets.dedup_by(|a, b| a.path == b.path);
    warnings.sort();
    warnings.extend(walk::non_utf8_names(targets.iter().map(|t| t.path.as_path())));
    Ok(targets)
}

/// `path` as the report shows it: `./a.py` as `a.py`, as ruff shows it (`nanlint check .`, or no
/// path at all, walks `./`).
pub fn shown(path: &Path) -> &Path {
    path.strip_prefix(".").ok().filter(|p| !p.as_os_str().is_empty()).unwrap_or(path)
}

/// What a folder walk picks up, as ruff's default `include`: Python files, stubs and Jupyter
/// notebooks.
fn is_checked_extension(ext: &std::ffi::OsStr) -> bool {
    ext == "py" || ext == "pyi" || ext == "ipynb"
}

/// Whether `path` is read as a Jupyter notebook.
pub fn is_notebook(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "ipynb")
}

/// The Python files under `paths` with the default settings (for benchmarks and tools).
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let resolver = Arc::new(Resolver::new(Discovery::Isolated, FileSettings::default())?);
    let targets = discover(paths, &resolver, false, &mut Vec::new())?;
    if let Some(t) = targets.iter().find(|t| t.missing.is_some()) {
        return Err(format!("{}: no such file or directory", t.path.display()));
    }
    Ok(targets.into_iter().map(|t| t.path).collect())
}

/// Which alternative fix to prefer: `--fix-choice xlogy` or `--fix-choice NL101:xlogy`.
#[derive(Debug)]
pub struct FixChoice {
    /// A rule code or prefix the choice is limited to.
    pub code: Option<String>,
    /// A word of the fix's title (`xlogy`, `clip`), matched whole and case-insensitively.
    pub word: String,
    /// Whether any smell had a fix it picked.
    pub used: AtomicBool,
}

impl FixChoice {
    pub fn parse(text: &str) -> Result<FixChoice, String> {
        let (code, word) = match text.split_once(':') {
            Some((code, word)) => (Some(normalize_selector(code)?), word),
            None => (None, text),
        };
        let word = word.trim().to_lowercase();
        if word.is_empty() || !word.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(format!("--fix-choice {text:?}: expected a word of a fix's title, like xlogy or NL101:xlogy"));
        }
        Ok(FixChoice { code, word, used: AtomicBool::new(false) })
    }

    fn picks<'s>(&self, smell: &'s Smell) -> Option<&'s Fix> {
        if self.code.as_ref().is_some_and(|c| !smell.code.starts_with(c.as_str())) {
            return None;
        }
        let fix = smell.fixes.iter().find(|f| has_word(&f.title.to_lowercase(), &self.word))?;
        self.used.store(true, Ordering::Relaxed);
        Some(fix)
    }
}

fn has_word(text: &str, word: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(ident) && !text[i + word.len()..].chars().next().is_some_and(ident)
    })
}

/// The fix `--fix` applies to `smell`: the first `choices` entry that picks one, else the
/// preferred (first) fix.
pub fn chosen_fix<'s>(smell: &'s Smell, choices: &[FixChoice]) -> Option<&'s Fix> {
    choices.iter().find_map(|c| c.picks(smell)).or_else(|| smell.fixes.first())
}

/// What to do with each file besides reporting.
#[derive(Debug, Default)]
pub struct Options {
    /// Which fixes to apply; `Off` to only report.
    pub fix: FixMode,
    /// Write fixed files back (false for `--diff` and stdin).
    pub write: bool,
    pub fix_choice: Vec<FixChoice>,
    /// Add `# noqa: CODE` to every line with a smell instead of fixing.
    pub add_noqa: bool,
}

/// The outcome for one file.
#[derive(Debug, Default)]
pub struct FileReport {
    pub path: PathBuf,
    /// The text the smells refer to (after fixes or added `# noqa`, if any).
    pub source: String,
    /// The text before fixes, when they changed it.
    pub original: Option<String>,
    /// The fixed text in the file's own encoding, when fixes changed it.
    pub output: Option<Vec<u8>>,
    /// Smells still there, and NL000/NL001; sorted by position.
    pub smells: Vec<Smell>,
    /// How many smells of each code fixes removed.
    pub fixed: BTreeMap<String, usize>,
    pub noqa_added: usize,
    /// With `--add-noqa`, the flagged lines (0-based rows of `source`) that cannot end with a
    /// comment, and why ([`engine::comment_cannot_end`]); the others got theirs.
    pub noqa_refused: Vec<(usize, &'static str)>,
    /// A problem fixing or writing the file; `warning` ones do not fail the run.
    pub problem: Option<Problem>,
    /// For a notebook, the numbers of the cells `source` holds, in order (`source` is then the
    /// program of [`notebook`]); `None` for a Python file.
    pub cells: Option<Vec<usize>>,
    /// For a fixed notebook, each changed cell: its number, source before and after.
    pub changed_cells: Vec<(usize, String, String)>,
}

impl FileReport {
    pub fn fixed_count(&self) -> usize {
        self.fixed.values().sum()
    }
}

#[derive(Debug)]
pub struct Problem {
    pub message: String,
    pub is_error: bool,
}

impl Problem {
    fn warning(message: impl Into<String>) -> Option<Problem> {
        Some(Problem { message: message.into(), is_error: false })
    }
}

/// Checks (and with `options`, fixes) every target in parallel; reports in input order.
pub fn check_targets(targets: &[Target], options: &Options) -> Vec<FileReport> {
    targets
        .par_iter()
        .map(|t| match (&t.missing, &t.config) {
            (None, Some(config)) => check_file(&t.path, config, options),
            (missing, _) => FileReport {
                path: t.path.clone(),
                smells: vec![unreadable(missing.clone().unwrap_or_else(|| "No such file or directory".into()))],
                ..FileReport::default()
            },
        })
        .collect()
}

fn check_file(path: &Path, config: &Config, options: &Options) -> FileReport {
    let settings = config.settings_for(&absolute(path));
    // A file over the cap is not even read (a 2 GB log named `.py` must not fill the memory).
    if let Ok(meta) = std::fs::metadata(path)
        && let Some(smell) = too_large(meta.len(), &settings)
    {
        return FileReport { path: path.to_path_buf(), smells: vec![smell], ..FileReport::default() };
    }
    let bytes = match std::fs::File::open(path).and_then(|f| read_capped(f, &settings)) {
        Ok((b, None)) => b,
        Ok((_, Some(smell))) => {
            return FileReport { path: path.to_path_buf(), smells: vec![smell], ..FileReport::default() };
        }
        Err(e) => {
            return FileReport {
                path: path.to_path_buf(),
                smells: vec![unreadable(settings::io_message(&e))],
                ..FileReport::default()
            };
        }
    };
    let mut report = check_bytes(path, &bytes, &settings, options);
    let problem = match &report.output {
        Some(output) if options.write => match write::replace(path, &bytes, output) {
            Ok(write::Written::Replaced) => None,
            Ok(write::Written::LinksSplit { links, target }) => {
                // Written: the report stands, with a warning naming the file written (through a
                // symlink, its target: the symlink stays one), relative to the current folder.
                let split = format!("it had {links} hard links, and the other names keep the old text");
                report.problem = Problem::warning(match target {
                    None => format!("fixed as a new file under this name; {split}"),
                    Some(target) => {
                        let cwd = std::env::current_dir().unwrap_or_default();
                        let written = target.strip_prefix(&cwd).unwrap_or(&target).display();
                        format!(
                            "fixed {written}, the file this symlink points to, as a new file under that name; {split}"
                        )
                    }
                });
                None
            }
            Ok(write::Written::ChangedOnDisk) => {
                Problem::warning("changed on disk while nanlint checked it: not fixed")
            }
            Err(e) => Some(Problem { message: e, is_error: true }),
        },
        _ => None,
    };
    if let Some(problem) = problem {
        report.problem = Some(problem);
        // Nothing was written: report what the file still holds.
        if let Some(original) = report.original.take() {
            report.source = original;
            report.fixed.clear();
            report.noqa_added = 0;
            report.output = None;
            report.smells = analyze_for_fixes(&report.source, &settings, &Options::default(), None).0;
            if let Some(nb) = report.cells.as_ref().and(Notebook::parse(&bytes).ok()) {
                report.smells = notebook_smells(&nb, &report.source, report.smells);
            }
        }
    }
    report
}

/// Checks one source given as bytes (a file's or stdin's), shown as `path`; fixes or adds
/// `# noqa` per `options` in memory (`output` holds the new bytes).
pub fn check_bytes(path: &Path, bytes: &[u8], settings: &Settings, options: &Options) -> FileReport {
    if let Some(smell) = too_large(bytes.len() as u64, settings) {
        return FileReport { path: path.to_path_buf(), smells: vec![smell], ..FileReport::default() };
    }
    if is_notebook(path) {
        return check_notebook(path, bytes, settings, options);
    }
    let mut report = FileReport { path: path.to_path_buf(), ..FileReport::default() };
    let decoded = match decode::decode(bytes) {
        Ok(d) => d,
        Err(why) => {
            report.smells = vec![unreadable(why)];
            return report;
        }
    };
    let source = decoded.text;
    let (smells, unfixable) = analyze_for_fixes(&source, settings, options, None);
    let Some(new_source) = edited_source(&source, &smells, settings, options, &mut report, &|_, _| true) else {
        report.problem = report.problem.or(unfixable);
        report.source = source;
        report.smells = smells;
        return report;
    };
    match decode::encode(&new_source, decoded.encoding, bytes) {
        Ok(output) => {
            let after = analyze_fixed(&new_source, settings, &smells);
            if !options.add_noqa {
                report.fixed = fixed_by_code(&smells, &after);
            }
            report.output = Some(output);
            report.original = Some(source);
            report.source = new_source;
            report.smells = after;
        }
        Err(why) => {
            let what = if options.add_noqa { "`# noqa` comments" } else { "fixes" };
            let encoding = match decoded.encoding {
                SourceEncoding::Utf8 { .. } => String::new(),
                other => format!(" ({})", other.name()),
            };
            report.problem = Problem::warning(format!("{what} not applied: {why}{encoding}"));
            report.noqa_added = 0;
            report.source = source;
            report.smells = smells;
        }
    }
    report
}

/// The text `options` ask for, when it differs from `source`: `# noqa` comments added (their
/// count in `report.noqa_added`), or each smell's chosen fix applied where `allows` accepts it in
/// the text as fixed so far (a notebook keeps fixes inside one cell). Why something was not
/// applied goes to `report.problem`.
fn edited_source(
    source: &str,
    smells: &[Smell],
    settings: &Settings,
    options: &Options,
    report: &mut FileReport,
    allows: &dyn Fn(&str, &Fix) -> bool,
) -> Option<String> {
    let wants_fix = options.fix != FixMode::Off
        && smells
            .iter()
            .any(|s| chosen_fix(s, &options.fix_choice).is_some_and(|f| options.fix.allows(f.applicability)));
    let (new_source, problem) = if options.add_noqa {
        let outcome = add_noqa(source, smells, settings);
        report.noqa_refused = outcome.refused;
        (
            outcome.added.map(|(text, lines)| {
                report.noqa_added = lines;
                text
            }),
            outcome.problem,
        )
    } else if wants_fix {
        let outcome = fix_source_in(source, settings, options.fix, &|current: &str, s: &Smell| {
            chosen_fix(s, &options.fix_choice).filter(|f| allows(current, f))
        });
        let changed = (outcome.fixed > 0).then_some(outcome.source);
        (changed, outcome.refused.and_then(Problem::warning))
    } else {
        (None, None)
    };
    report.problem = problem;
    new_source.filter(|n| n != source)
}

/// [`check_bytes`] for a notebook: its code cells checked as one program; fixes and `# noqa`
/// comments that stay inside a cell and off IPython lines written back into the cells' sources.
fn check_notebook(path: &Path, bytes: &[u8], settings: &Settings, options: &Options) -> FileReport {
    let mut report = FileReport { path: path.to_path_buf(), ..FileReport::default() };
    let nb = match Notebook::parse(bytes) {
        Ok(nb) => nb,
        Err(why) => {
            report.smells = vec![unreadable(why)];
            return report;
        }
    };
    report.cells = Some(nb.numbers());
    let source = nb.program.clone();
    let (smells, unfixable) = analyze_for_fixes(&source, settings, options, report.cells.as_deref());
    let smells = notebook_smells(&nb, &source, smells);
    let Some(new_source) =
        edited_source(&source, &smells, settings, options, &mut report, &|current, f| nb.allows(current, f))
    else {
        report.problem = report.problem.or(unfixable);
        report.source = source;
        report.smells = smells;
        return report;
    };
    match nb.rewrite(&new_source) {
        Ok(output) => {
            let after = notebook_smells(&nb, &new_source, analyze_fixed(&new_source, settings, &smells));
            if !options.add_noqa {
                report.fixed = fixed_by_code(&smells, &after);
            }
            let before = nb.cells.iter().map(|c| (c.number, c.text.clone()));
            let after_texts = nb.cell_texts(&new_source).unwrap_or_default();
            report.changed_cells = before
                .zip(after_texts)
                .filter(|((_, old), new)| old != new)
                .map(|((n, old), new)| (n, old, new))
                .collect();
            report.output = Some(output.into_bytes());
            report.original = Some(source);
            report.source = new_source;
            report.smells = after;
        }
        Err(why) => {
            report.problem = Problem::warning(why);
            report.noqa_added = 0;
            report.source = source;
            report.smells = smells;
        }
    }
    report
}

/// A notebook's smells with the fixes that would cross a cell boundary or touch an IPython line
/// removed, so they are neither offered nor counted.
fn notebook_smells(nb: &Notebook, program: &str, mut smells: Vec<Smell>) -> Vec<Smell> {
    for s in &mut smells {
        s.fixes.retain(|f| nb.allows(program, f));
    }
    smells
}

fn fixed_by_code(before: &[Smell], after: &[Smell]) -> BTreeMap<String, usize> {
    let mut counts: BTreeMap<String, isize> = BTreeMap::new();
    for s in before.iter().filter(|s| !is_builtin(s.code)) {
        *counts.entry(s.code.to_string()).or_default() += 1;
    }
    for s in after.iter().filter(|s| !is_builtin(s.code)) {
        *counts.entry(s.code.to_string()).or_default() -= 1;
    }
    counts.into_iter().filter(|(_, n)| *n > 0).map(|(c, n)| (c, n as usize)).collect()
}

/// The one place `check` runs the engine: syntax errors and smells, sorted by position.
/// Files that cannot hold a smell are neither parsed nor checked for syntax errors.
pub fn analyze(source: &str, settings: &Settings) -> Vec<Smell> {
    if !engine::might_smell(source) {
        return Vec::new();
    }
    let tree = engine::parse(source);
    let mut smells = if settings.is_enabled(SYNTAX_ERROR.code) { syntax_errors(&tree, source) } else { Vec::new() };
    smells.extend(engine::analyze(source, &tree, settings));
    smells.sort_by(|a, b| {
        (a.span.start_byte, a.span.end_byte, &a.code).cmp(&(b.span.start_byte, b.span.end_byte, &b.code))
    });
    smells
}

/// [`analyze`] of a file as it is read, before any fix: in a file with a syntax error, which
/// tree-sitter parsed by recovering around it, every smell loses its fixes (ruff's rule: a file
/// that does not parse is not fixed, and its diagnostics show no fix), so that neither `--fix`,
/// `--diff` nor the counts of available fixes rely on a tree the error may have misread. When
/// `options` asked for fixes that this took away, the warning that says so, naming the first
/// syntax error's line (in its cell: `cells`, a notebook's cell numbers).
fn analyze_for_fixes(
    source: &str,
    settings: &Settings,
    options: &Options,
    cells: Option<&[usize]>,
) -> (Vec<Smell>, Option<Problem>) {
    let mut smells = analyze(source, settings);
    if smells.iter().all(|s| s.fixes.is_empty()) {
        return (smells, None);
    }
    let first_error = match settings.is_enabled(SYNTAX_ERROR.code) {
        true => smells.iter().find(|s| s.code == SYNTAX_ERROR.code).map(|s| s.span.start_byte),
        false => first_syntax_error(&engine::parse(source), source),
    };
    let Some(at) = first_error else { return (smells, None) };
    let wanted =
        smells.iter().any(|s| chosen_fix(s, &options.fix_choice).is_some_and(|f| options.fix.allows(f.applicability)));
    for s in &mut smells {
        s.fixes.clear();
    }
    let problem = wanted.then(|| {
        let row = crate::text::LineIndex::new(source).position(source, at, crate::text::Encoding::Utf8).line as usize;
        let place = match cells.map(|numbers| notebook::CellMap::of(source, numbers)).and_then(|m| m.cell_row(row)) {
            Some((cell, row)) => format!("cell {cell}, line {}", row + 1),
            None => format!("line {}", row + 1),
        };
        Problem {
            message: format!(
                "fixes not applied: the file has a syntax error ({place}); a file is fixed only once it parses, \
                 as the code around an error may be misread"
            ),
            is_error: false,
        }
    });
    (smells, problem)
}

/// The byte where the first syntax error of `source` starts (what [`syntax_errors`] reports
/// first), whatever the selection: a file with one is not fixed, by `check` or by the language
/// server.
pub fn first_syntax_error(tree: &tree_sitter::Tree, source: &str) -> Option<usize> {
    syntax_errors(tree, source).first().map(|s| s.span.start_byte)
}

/// [`analyze`] of a file's fixed text. A fix can remove the last word the prefilter looks for
/// (`log(softmax(...))` to `log_softmax(...)`), and the file would then not be parsed: its syntax
/// errors, reported before the fix, would vanish from the report while still in the file.
fn analyze_fixed(source: &str, settings: &Settings, before: &[Smell]) -> Vec<Smell> {
    let after = analyze(source, settings);
    if after.is_empty() && settings.is_enabled(SYNTAX_ERROR.code) && before.iter().any(|s| s.code == SYNTAX_ERROR.code)
    {
        return syntax_errors(&engine::parse(source), source);
    }
    after
}

/// One NL000 per outermost region tree-sitter skipped (`ERROR`) or token it assumed (`MISSING`),
/// and one at the first NUL byte (Python refuses a source holding any; the tree was parsed with
/// them read as spaces, see `syntax::reparse`).
pub fn syntax_errors(tree: &tree_sitter::Tree, source: &str) -> Vec<Smell> {
    let mut out = Vec::new();
    if let Some(at) = source.bytes().position(|b| b == 0) {
        let more = source.bytes().filter(|&b| b == 0).count() - 1;
        let more = match more {
            0 => String::new(),
            1 => " (and 1 more)".to_string(),
            n => format!(" (and {n} more)"),
        };
        let span = span_of(source, at..at + 1);
        let message = format!(
            "Syntax error: a NUL byte{more}; Python refuses source code containing null bytes (the rest is checked)"
        );
        out.push(builtin_smell(&SYNTAX_ERROR, message, span));
    }
    // tree-sitter may stumble on the line of such a character too: the character is the error.
    let (refused, refused_rows) = whitespace_python_refuses(tree, source);
    out.extend(refused);
    // Down the nodes holding an error, with a stack rather than recursion: a tree can be
    // 100,000 levels deep with the error at the bottom.
    let mut pending = if tree.root_node().has_error() { vec![tree.root_node()] } else { Vec::new() };
    while let Some(node) = pending.pop() {
        if (node.is_missing() || node.is_error()) && in_format_spec_after_a_name(node, source) {
            continue;
        }
        if node.is_missing() {
            let what =
                if node.is_named() { node.kind_name().replace('_', " ") } else { format!("`{}`", node.kind_name()) };
            out.push(builtin_smell(&SYNTAX_ERROR, format!("Syntax error: expected {what}"), Span::of(node)));
        } else if node.is_error() {
            // A region that holds such a character's row is that character's error (`def f(p):`
            // on the line before `return log(p)\x0b`): Python reports the character alone.
            let rows = node.start_position().row..=node.end_position().row;
            if !refused_rows.iter().any(|r| rows.contains(r)) {
                out.push(error_region(node, source));
            }
        } else {
            let mut cursor = node.walk();
            pending.extend(node.children(&mut cursor).filter(|c| c.has_error()));
        }
    }
    // A notebook's cells joined (`notebook::join` ends each with a marker line).
    let cells = memchr::memmem::find(source.as_bytes(), notebook::CELL_END.as_bytes()).is_some();
    let cell_end = cells.then_some(notebook::CELL_END);
    let (python2, others): (Vec<Refused>, Vec<Refused>) = refused_statements(tree.root_node(), source, cell_end)
        .into_iter()
        .partition(|r| matches!(r, Refused::Python2(_)));
    out.extend(others.into_iter().map(|r| refused_error(r, source)));
    out.extend(refused_walruses(tree.root_node(), source).into_iter().map(|r| refused_error(r, source)));
    // Python 2's statements once, at the first: a Python 2 file has dozens of `print x`.
    if let Some((&first, rest)) = python2.split_first() {
        let mut smell = refused_error(first, source);
        match rest.len() {
            0 => {}
            1 => smell.message.push_str(" (and 1 more Python 2 statement)"),
            n => smell.message.push_str(&format!(" (and {n} more Python 2 statements)")),
        }
        out.push(smell);
    }
    out.sort_by_key(|s| s.span.start_byte);
    out
}

/// `node` lies in an f-string's replacement field `{name:=spec}`: CPython reads a name and a
/// format spec that starts with the fill character `=` (`f"{title:=^40}"`, a banner line;
/// `f"{x:=.2f}"`), tree-sitter-python an assignment expression whose value does not parse. Not a
/// syntax error: reporting it took every fix of the file away.
fn in_format_spec_after_a_name(node: tree_sitter::Node, source: &str) -> bool {
    let mut up = node.parent();
    while let Some(n) = up {
        match n.kind_name() {
            "interpolation" => {
                let field = source.get(n.byte_range()).unwrap_or("");
                let inner = field.strip_prefix('{').unwrap_or(field).trim_start();
                let name = inner.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(inner.len());
                return name > 0
                    && !inner.starts_with(|c: char| c.is_ascii_digit())
                    && inner[name..].trim_start().starts_with(":=");
            }
            "string" | "module" | "block" => return false,
            _ => up = n.parent(),
        }
    }
    false
}

/// Characters tree-sitter-python skips as whitespace (its `extras`) that CPython's tokenizer
/// refuses as non-printable: a vertical tab, a zero-width space, a word joiner, and a byte order
/// mark after the file's start (one at the start is the encoding's, and skipped by both).
const SKIPPED_BUT_REFUSED: [char; 4] = ['\x0b', '\u{200b}', '\u{2060}', '\u{feff}'];

/// The first bytes of the UTF-8 encodings of [`SKIPPED_BUT_REFUSED`] (a test checks they are).
const REFUSED_LEAD_BYTES: [u8; 3] = [0x0b, 0xe2, 0xef];

/// The first of [`SKIPPED_BUT_REFUSED`] in code (not in a string or a comment), in CPython's
/// words, with how many more there are: tree-sitter parses around it, Python refuses the file.
/// With the rows that hold one.
fn whitespace_python_refuses(tree: &tree_sitter::Tree, source: &str) -> (Option<Smell>, Vec<usize>) {
    // Most files hold none: a byte search before any character is decoded.
    let bytes = source.as_bytes();
    let [a, b, c] = REFUSED_LEAD_BYTES;
    let possible = memchr::memchr3_iter(a, b, c, bytes)
        .any(|i| SKIPPED_BUT_REFUSED.iter().any(|c| bytes[i..].starts_with(c.encode_utf8(&mut [0; 4]).as_bytes())));
    if !possible {
        return (None, Vec::new());
    }
    // The strings and comments, in order, from one walk down the tree (not into them).
    let mut quoted: Vec<std::ops::Range<usize>> = Vec::new();
    crate::syntax::visit(tree.root_node(), |node| {
        let inside = matches!(node.kind_name(), "string" | "comment" | "concatenated_string");
        if inside {
            quoted.push(node.byte_range());
        }
        !inside
    });
    let in_code = |at: usize| {
        let i = quoted.partition_point(|r| r.end <= at);
        at > 0 && quoted.get(i).is_none_or(|r| at < r.start)
    };
    let found: Vec<(usize, char)> =
        source.char_indices().filter(|&(at, c)| SKIPPED_BUT_REFUSED.contains(&c) && in_code(at)).collect();
    let Some(&(at, c)) = found.first() else { return (None, Vec::new()) };
    let more = match found.len() - 1 {
        0 => String::new(),
        1 => " (and 1 more)".to_string(),
        n => format!(" (and {n} more)"),
    };
    let message = format!("Syntax error: invalid non-printable character U+{:04X}{more}", u32::from(c));
    let index = crate::text::LineIndex::new(source);
    let rows = found.iter().map(|&(at, _)| crate::text::point_of(&index, source, at).0).collect();
    (Some(builtin_smell(&SYNTAX_ERROR, message, span_of(source, at..at + c.len_utf8()))), rows)
}

/// The span of a byte range of `source` (rows and byte columns as the tree counts them), for a
/// finding that is no node's.
fn span_of(source: &str, bytes: std::ops::Range<usize>) -> Span {
    let index = crate::text::LineIndex::new(source);
    let (row, column) = crate::text::point_of(&index, source, bytes.start);
    let (end_row, end_column) = crate::text::point_of(&index, source, bytes.end);
    Span {
        start_byte: bytes.start,
        end_byte: bytes.end,
        start: Point { row, column },
        end: Point { row: end_row, column: end_column },
    }
}

/// The NL000 of a statement Python 3 refuses and tree-sitter accepts, in CPython's words.
fn refused_error(bad: Refused, source: &str) -> Smell {
    let (message, node) = match bad {
        Refused::Unexpected(s) => ("Syntax error: unexpected indent (IndentationError)".to_string(), s),
        Refused::Unindent(s) => {
            ("Syntax error: unindent does not match any outer indentation level (IndentationError)".to_string(), s)
        }
        Refused::Tabs(s) => {
            ("Syntax error: inconsistent use of tabs and spaces in indentation (TabError)".to_string(), s)
        }
        Refused::TooDeep(s) => ("Syntax error: too many levels of indentation (IndentationError)".to_string(), s),
        Refused::NoHandler(_, at) => {
            // Where CPython reports it: that line's code, not the `try` statement.
            let line = source[at..].split(['\n', '\r']).next().unwrap_or("");
            let code = line.trim_start_matches([' ', '\t', '\x0c']);
            let start_byte = at + (line.len() - code.len());
            let span = span_of(source, start_byte..start_byte + code.trim_end().len());
            return builtin_smell(
                &SYNTAX_ERROR,
                "Syntax error: expected 'except' or 'finally' block".to_string(),
                span,
            );
        }
        Refused::Walrus(walrus) => {
            // Where CPython points: the `:=`.
            let mut cursor = walrus.walk();
            let operator = walrus.children(&mut cursor).find(|c| c.kind_name() == ":=").unwrap_or(walrus);
            return builtin_smell(
                &SYNTAX_ERROR,
                "Syntax error: invalid syntax (an assignment expression `:=` needs parentheses here)".to_string(),
                Span::of(operator),
            );
        }
        Refused::EmptyBody(header) => {
            let what = match header.kind_name() {
                "function_definition" => "function definition".to_string(),
                "class_definition" => "class definition".to_string(),
                "except_clause" | "except_group_clause"
                    if source
                        .get(header.byte_range())
                        .and_then(|t| t.strip_prefix("except"))
                        .is_some_and(|rest| rest.trim_start().starts_with('*')) =>
                {
                    "'except*' statement".to_string()
                }
                kind => format!("'{}' statement", kind.trim_end_matches("_statement").trim_end_matches("_clause")),
            };
            // CPython adds "on line N", the header's line: the finding is reported there, and
            // in a notebook the program's line numbers are not the cell's.
            (format!("Syntax error: expected an indented block after {what} (IndentationError)"), header)
        }
        Refused::AcrossCells(statement) => (
            "Syntax error: the statement is left unfinished at the cell's end (IPython compiles each cell on its own)"
                .to_string(),
            statement,
        ),
        Refused::Python2(statement) => {
            let keyword = if statement.kind_name() == "exec_statement" { "exec" } else { "print" };
            (format!("Syntax error: Missing parentheses in call to '{keyword}' (Python 2 syntax)"), statement)
        }
    };
    // The statement's first line: a whole class is no place to point at.
    let mut span = Span::of(node);
    let text = source.get(span.start_byte..span.end_byte).unwrap_or("");
    if let Some(first) = text.find(['\n', '\r']).filter(|_| span.end.row > span.start.row) {
        span.end_byte = span.start_byte + text[..first].trim_end().len();
        span.end = Point { row: span.start.row, column: span.start.column + (span.end_byte - span.start_byte) };
    }
    builtin_smell(&SYNTAX_ERROR, message, span)
}

/// The NL000 of a region tree-sitter skipped (an `ERROR` node).
///
/// A region that runs to the end of the file with brackets still open is a bracket never
/// closed: reported as CPython reports it, at the last bracket opened (`'(' was never closed`),
/// rather than at the region's start, which can be the first line of the file. Otherwise the
/// region less the whole statements it starts with (tree-sitter can fold the statements before
/// the error into it), with its first line.
fn error_region(node: tree_sitter::Node, source: &str) -> Smell {
    if let Some(operator) = dangling_operator(node) {
        let message = format!("Syntax error: expected an expression after `{}`", operator.kind_name());
        return builtin_smell(&SYNTAX_ERROR, message, Span::of(operator));
    }
    if source.get(node.end_byte()..).is_some_and(|rest| rest.trim().is_empty())
        && let Some((bracket, before)) = unclosed_bracket(node)
    {
        let nor = match before {
            0 => String::new(),
            1 => " (nor was the bracket opened before it)".to_string(),
            n => format!(" (nor were the {n} brackets opened before it)"),
        };
        let message = format!("Syntax error: `{}` was never closed{nor}", bracket.kind_name());
        return builtin_smell(&SYNTAX_ERROR, message, Span::of(bracket));
    }
    let mut span = Span::of(node);
    let mut cursor = node.walk();
    let children: Vec<tree_sitter::Node> = node.children(&mut cursor).collect();
    // A statement that parsed whole and ends its line, before the first child that did not.
    let whole = |(c, next): (&tree_sitter::Node, &tree_sitter::Node)| {
        let statement = c.kind_name().ends_with("_statement") || c.kind_name().ends_with("_definition");
        c.is_named() && statement && !c.has_error() && next.start_position().row > c.end_position().row
    };
    let skipped = children.iter().zip(children.iter().skip(1)).take_while(|&pair| whole(pair)).count();
    if let Some(first) = children.get(skipped).filter(|_| skipped > 0) {
        (span.start_byte, span.start) = (first.start_byte(), first.start_position().into());
    }
    let text = source.get(span.start_byte..span.end_byte).unwrap_or("");
    let first = text.split(['\n', '\r']).map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    // A character CPython calls non-printable in the code of the region's first line (U+0001
    // pasted from a terminal, a no-break space from a web page): CPython names it, and a
    // snippet of it would print as nothing, or as a space.
    let python_space = [' ', '\t', '\x0c'];
    let first_line = text.split(['\n', '\r']).find(|l| !l.trim_matches(python_space).is_empty()).unwrap_or("");
    if let Some(c) = non_printable_in_code(first_line) {
        let message = format!("Syntax error: invalid non-printable character U+{:04X}", u32::from(c));
        return builtin_smell(&SYNTAX_ERROR, message, span);
    }
    let mut snippet: String = first.chars().take(40).collect();
    if snippet.len() < first.len() {
        snippet.push('…');
    }
    let message = if snippet.is_empty() {
        "Syntax error: invalid syntax".to_string()
    } else {
        format!("Cannot parse `{snippet}`: invalid syntax, or syntax nanlint's Python grammar does not know")
    };
    builtin_smell(&SYNTAX_ERROR, message, span)
}

/// The first character of `line` outside strings and comments that CPython's tokenizer
/// rejects as non-printable (`str.isprintable()` false: controls, format characters, private
/// use, unassigned code points, and separators other than the space), tab and form feed
/// excepted (Python whitespace). Quotes are followed one line at a time, as a first line shows.
fn non_printable_in_code(line: &str) -> Option<char> {
    use unicode_properties::{GeneralCategory as G, UnicodeGeneralCategory};
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in line.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' => return None,
            None if c == ' ' || c == '\t' || c == '\x0c' => {}
            None => {
                let rejected = matches!(
                    c.general_category(),
                    G::Control
                        | G::Format
                        | G::Surrogate
                        | G::PrivateUse
                        | G::Unassigned
                        | G::SpaceSeparator
                        | G::LineSeparator
                        | G::ParagraphSeparator
                );
                if rejected {
                    return Some(c);
                }
            }
        }
    }
    None
}

/// The operator ending the line before an `ERROR` region that starts on a later line (comments
/// between skipped): `loss = ` left blank in an exercise, which tree-sitter continues with the
/// next line's `return` (or, in a notebook, the next cell's first statement) and reports there.
/// Python reports the line of the `=`, and so does nanlint.
fn dangling_operator(region: tree_sitter::Node) -> Option<tree_sitter::Node> {
    let mut previous = region.prev_sibling()?;
    while previous.kind_name() == "comment" {
        previous = previous.prev_sibling()?;
    }
    let operator = !previous.is_named()
        && matches!(
            previous.kind_name(),
            "=" | "+="
                | "-="
                | "*="
                | "/="
                | "//="
                | "%="
                | "**="
                | "@="
                | "&="
                | "|="
                | "^="
                | ">>="
                | "<<="
                | ":="
                | "+"
                | "-"
                | "*"
                | "/"
                | "//"
                | "%"
                | "**"
                | "@"
                | "&"
                | "|"
                | "^"
                | "<<"
                | ">>"
                | "and"
                | "or"
                | "=="
                | "!="
                | "<"
                | ">"
                | "<="
                | ">="
        );
    (operator && previous.end_position().row < region.start_position().row).then_some(previous)
}

/// The last bracket of an `ERROR` region left open in it, and how many before it were left open
/// too. Only the region's own tokens and the nodes holding errors are read: a node that parsed
/// without error closes every bracket it opens.
fn unclosed_bracket(region: tree_sitter::Node) -> Option<(tree_sitter::Node, usize)> {
    let mut open: Vec<tree_sitter::Node> = Vec::new();
    let mut cursor = region.walk();
    'walk: loop {
        let node = cursor.node();
        if node.child_count() == 0 && !node.is_missing() {
            match node.kind_name() {
                "(" | "[" | "{" => open.push(node),
                closing @ (")" | "]" | "}") => {
                    let opening = match closing {
                        ")" => "(",
                        "]" => "[",
                        _ => "{",
                    };
                    // A closing bracket of another kind is another error; it closes nothing.
                    if open.last().is_some_and(|o| o.kind_name() == opening) {
                        open.pop();
                    }
                }
                _ => {}
            }
        }
        let read_inside = node == region || node.is_error() || node.has_error();
        if read_inside && cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                continue 'walk;
            }
            if !cursor.goto_parent() {
                break 'walk;
            }
        }
    }
    let last = open.pop()?;
    Some((last, open.len()))
}

/// Adds `# noqa: CODE` (or the code to an existing `# noqa:` list) on each line where a smell
/// starts and a comment can end the line. The lines where one cannot (a line ending inside a
/// string or after a backslash: [`engine::comment_cannot_end`]) are left as they are and returned
/// with the reason, as 0-based rows of `source` (adding comments moves no line). Refuses the whole
/// file (with a warning) when the comments it adds would not parse or not silence their lines.
fn add_noqa(source: &str, smells: &[Smell], settings: &Settings) -> NoqaOutcome {
    let mut outcome = NoqaOutcome::default();
    let mut by_line: BTreeMap<usize, Vec<&str>> = BTreeMap::new();
    for s in smells.iter().filter(|s| !is_builtin(s.code)) {
        let line_start = crate::text::line_start(source, s.span.start_byte);
        let codes = by_line.entry(line_start).or_default();
        if !codes.contains(&s.code) {
            codes.push(s.code);
        }
    }
    if by_line.is_empty() {
        return outcome;
    }
    let tree = engine::parse(source);
    let lines_index = crate::text::LineIndex::new(source);
    let row_of = |index: &crate::text::LineIndex, text: &str, byte: usize| {
        index.position(text, byte, crate::text::Encoding::Utf8).line as usize
    };
    let mut out = String::with_capacity(source.len() + 32 * by_line.len());
    let mut at = 0;
    let mut added = 0;
    for (line_start, codes) in by_line {
        let (line, comment) = engine::line_with_comment(tree.root_node(), source, line_start);
        if let Some(why) = engine::comment_cannot_end(tree.root_node(), line, line_start) {
            outcome.refused.push((row_of(&lines_index, source, line_start), why));
            continue;
        }
        out.push_str(&source[at..line_start]);
        out.push_str(&with_noqa(line, comment, &codes));
        at = line_start + line.len();
        added += 1;
    }
    if added == 0 {
        return outcome;
    }
    out.push_str(&source[at..]);
    // Every smell left must be on a line that could take no comment.
    let before = tree.root_node().has_error();
    let out_index = crate::text::LineIndex::new(&out);
    let unsilenced = analyze(&out, settings).iter().filter(|s| !is_builtin(s.code)).any(|s| {
        let row = row_of(&out_index, &out, s.span.start_byte);
        !outcome.refused.iter().any(|(r, _)| *r == row)
    });
    if (!before && engine::parse(&out).root_node().has_error()) || unsilenced {
        outcome.problem = Problem::warning(
            "`# noqa` comments not added: a flagged line ends inside a string or continues onto the next",
        );
        return outcome;
    }
    outcome.added = Some((out, added));
    outcome
}

/// What [`add_noqa`] did to a source.
#[derive(Default)]
struct NoqaOutcome {
    /// The new text and how many lines got a comment, when any did.
    added: Option<(String, usize)>,
    /// Flagged lines (0-based rows) that cannot end with a comment, and why.
    refused: Vec<(usize, &'static str)>,
    /// Why nothing was written, when the comments were refused altogether.
    problem: Option<Problem>,
}

/// `line` with `codes` added to its `# noqa` directive ([`engine::noqa_insertion`]), its
/// comment starting at byte `comment` of it ([`engine::line_with_comment`]).
fn with_noqa(line: &str, comment: Option<usize>, codes: &[&str]) -> String {
    match engine::noqa_insertion(line, comment, codes) {
        Some((at, text)) => format!("{}{text}{}", &line[..at], &line[at..]),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_byte_search_starts_at_every_refused_character() {
        let mut leads: Vec<u8> = SKIPPED_BUT_REFUSED.iter().map(|c| c.encode_utf8(&mut [0; 4]).as_bytes()[0]).collect();
        leads.sort_unstable();
        leads.dedup();
        assert_eq!(leads, REFUSED_LEAD_BYTES);
    }

    /// [`super::with_noqa`] of a line read as a whole file.
    fn with_noqa(line: &str, codes: &[&str]) -> String {
        super::with_noqa(line, engine::line_with_comment(engine::parse(line).root_node(), line, 0).1, codes)
    }

    #[test]
    fn write_errors_name_the_users_file() {
        let e = write::replace(Path::new("/nonexistent-nanlint-dir/model.py"), b"", b"x").unwrap_err();
        assert_eq!(
            e,
            "cannot write fixes to /nonexistent-nanlint-dir/model.py: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn noqa_comments() {
        assert_eq!(with_noqa("y = f(x)", &["NL101"]), "y = f(x)  # noqa: NL101");
        assert_eq!(with_noqa("y = f(x)  # why", &["NL101"]), "y = f(x)  # why  # noqa: NL101");
        assert_eq!(with_noqa("y = f(x)  # noqa: NL102 reason", &["NL101"]), "y = f(x)  # noqa: NL102, NL101 reason");
        assert_eq!(with_noqa("y = f(x)  # noqa:", &["NL101"]), "y = f(x)  # noqa: NL101");
        // Regression: `noqa` glued to text was read as blanket; it is invalid, and the codes
        // (with the missing colon) go right after the word.
        assert_eq!(with_noqa("y = f(x)  # noqaXYZ", &["NL101"]), "y = f(x)  # noqa: NL101 XYZ");
        assert_eq!(with_noqa("y = f(x)  # noqa;NL102", &["NL101"]), "y = f(x)  # noqa: NL101 ;NL102");
        // A colon after spaces starts the list too.
        assert_eq!(with_noqa("y = f(x)  # noqa : NL102", &["NL101"]), "y = f(x)  # noqa : NL102, NL101");
    }

    #[test]
    fn fix_choices() {
        assert!(has_word("use `tf.math.xlogy(y, p)`", "xlogy"));
        assert!(!has_word("use xlogy_fast", "xlogy"));
        assert!(FixChoice::parse("NL101:xlogy").unwrap().code.as_deref() == Some("NL101"));
        assert!(FixChoice::parse("nope:xlogy").is_err());
        assert!(FixChoice::parse("x y").is_err());
    }

    #[test]
    fn syntax_errors_are_found_and_the_rest_checked() {
        let src = "import numpy as np\ndef f(:\n    pass\ny = np.log(np.maximum(p, 0))\n";
        let smells = analyze(src, &Settings::default());
        let codes: Vec<&str> = smells.iter().map(|s| s.code).collect();
        assert!(codes.contains(&"NL000"), "{smells:?}");
        assert!(codes.contains(&"NL101"), "{smells:?}");
    }

    /// The NL000 messages of `src`, each with its 1-based line and column.
    fn syntax_messages(src: &str) -> Vec<(usize, usize, String)> {
        let tree = engine::parse(src);
        let at = |s: &Smell| (s.span.start.row + 1, s.span.start.column + 1, s.message.clone());
        syntax_errors(&tree, src).iter().map(at).collect()
    }

    #[test]
    fn indentation_python_refuses_is_a_syntax_error() {
        // Each message is CPython 3.11's (`compile(src, "f", "exec")`), less the header's line
        // number; the place is the statement, or the header of the empty body (CPython points at
        // the line after it).
        let unexpected = "def f(x):\n    y = np.log(x)\n      z = 1\n    return y\n";
        let unindent = "if True:\n    a = np.log(x)\n  b = 2\n";
        let module = "import numpy as np\n  x = np.log(y)\n";
        let empty = "def f():\n    # only a comment\nx = np.log(y)\n";
        let except = "try:\n    pass\nexcept E:\npass\n";
        let group = "try:\n    pass\nexcept* E:\npass\n";
        let expected = [
            (unexpected, (3, 7, "Syntax error: unexpected indent (IndentationError)")),
            (unindent, (3, 3, "Syntax error: unindent does not match any outer indentation level (IndentationError)")),
            (module, (2, 3, "Syntax error: unexpected indent (IndentationError)")),
            (empty, (1, 1, "Syntax error: expected an indented block after function definition (IndentationError)")),
            (except, (3, 1, "Syntax error: expected an indented block after 'except' statement (IndentationError)")),
            (group, (3, 1, "Syntax error: expected an indented block after 'except*' statement (IndentationError)")),
        ];
        for (src, (row, column, message)) in expected {
            assert_eq!(syntax_messages(src), vec![(row, column, message.to_string())], "{src}");
        }
        // Python 2's statements: once, at the first (`print >>f, x` is a tuple to Python 3).
        let python2 = "print 'loss', np.log(x)\nprint >>f, x\nexec 'y = 1'\nprint\nprint(x)\n";
        let message =
            "Syntax error: Missing parentheses in call to 'print' (Python 2 syntax) (and 1 more Python 2 statement)";
        assert_eq!(syntax_messages(python2), vec![(1, 1, message.to_string())]);
        // The span of a compound statement is its first line, not its whole body.
        let smells = syntax_errors(&engine::parse(except), except);
        assert_eq!(smells[0].span.end.row, smells[0].span.start.row);
    }

    /// Regression (a newcomer's trial): `p := torch.softmax(x, dim=-1)` as a statement is invalid
    /// syntax, but tree-sitter-python parses it, and the file got fixes. Each verdict is CPython
    /// 3.11's (`compile(src, "f", "exec")`); CPython points at the `:=`.
    #[test]
    fn an_assignment_expression_python_refuses_is_a_syntax_error() {
        let refused = [
            "p := f(x)",
            "p := f(x), 2",
            "1, p := 2",
            "x = y := 1",
            "x = 1, y := 2",
            "t = p := 1,",
            "x = y = p := 1",
            "x += y := 1",
            "x: int = y := 1",
            "x: p := int = 1",
            "f(a=b:=1)",
            "class A(metaclass=p := B): pass",
            "def g(): return p := 1",
            "def g(): return 1, p := 1",
            "def g(): yield p := 1",
            "x = (yield p := 1)",
            "def g(a=p:=1): pass",
            "def f(a: p := int): pass",
            "x = lambda a=p:=1: a",
            "lambda: p := 1",
            "a if p := 1 else b",
            "p := 1 if a else b",
            "x = y := 1 if a else b",
            "x = y := 1 if a else b if c else d",
            "a if b else p := 1",
            "{a := 1: 2}",
            "{1: a := 2}",
            "{a: b := 2 for a in c}",
            "[x for x in y if z := 1]",
            "[x for x in z := y]",
            "for x in y := z: pass",
            "for x in 1, p := 2: pass",
            "with p := f(): pass",
            "with p := f() as g: pass",
            "assert p := 1",
            "assert x, p := 1",
            "raise p := 1",
            "raise x from p := 1",
            "del p := 1",
            "a and p := 1",
            "y = f(x) or p := 1",
            "not p := 1",
            "a[p := 1:2]",
            "print(*p := 1)",
            "f(**p := 1)",
            "f(p := q := 1)",
            "try:\n    pass\nexcept p := E:\n    pass",
            "if a: p := 1",
            "import a; p := 1",
        ];
        for src in refused {
            let src = format!("import torch\n{src}\n");
            let column = src.lines().find_map(|l| l.rfind(":=")).unwrap() + 1;
            let found = syntax_messages(&src);
            assert_eq!(found.len(), 1, "{src}: {found:?}");
            assert_eq!(found[0].1, column, "{src}");
            assert!(found[0].2.contains("`:=` needs parentheses"), "{src}: {found:?}");
        }
        let valid = [
            "if p := f(): pass",
            "while chunk := read(): pass",
            "if x: pass\nelif p := f(): pass",
            "r = [y := f(x), y**2]",
            "f(x := 1)",
            "f(a, p := 1, b=2)",
            "class A(p := B): pass",
            "{y := 1, 2}",
            "(y := 1, 2)",
            "x = (p := 1)",
            "x = 1 if (p := 2) else 3",
            "a[y := 1]",
            "a[1:2, y := 1]",
            "x[p := 1] = 2",
            "[z := x for x in y]",
            "{z := x for x in y}",
            "g(z := x for y in w)",
            "x = [y for y in z if (p := y)]",
            "with (p := f()): pass",
            // Regressions (a newcomer's trial): the walrus binds the whole conditional; a
            // parenthesized `with` of walruses is a tuple.
            "k = (y := 1 if c else 2)",
            "x = [y := 1 if c else 2]",
            "f(x := 1 if c else 2)",
            "print(x := y if z else w, 1)",
            "if y := 1 if c else 2: pass",
            "if y := 1 if c else 2 if d else 3: pass",
            "while x := y if c else z: break",
            "[y := 1 if c else 2 for c in range(3)]",
            "a[y := 1 if c else 2]",
            "with (x := open('f'), y := open('g')): pass",
            "with (a, b := 2): pass",
            "@p := f\ndef g(): pass",
            "@a(p := 1)\ndef g(): pass",
            "match p := 1:\n    case 1: pass",
            "match a, p := 1:\n    case 1: pass",
            "match x:\n    case 1 if p := 2: pass",
            // A format spec `= 1`, not an assignment expression.
            "f\"{p := 1}\"",
            "f\"{a, p := 1}\"",
            "s = \"a := b\"  # c := d",
        ];
        for src in valid {
            let src = format!("import torch\n{src}\n");
            assert_eq!(syntax_messages(&src), vec![], "{src}");
        }
        // The file is checked, and offered no fix.
        let src = "import torch\ndef f(x):\n    p := torch.softmax(x, dim=-1)\n    return torch.log(torch.softmax(x, dim=-1))\n";
        assert!(analyze(src, &Settings::default()).iter().any(|s| s.code == "NL102" && !s.fixes.is_empty()));
        let (smells, _) = analyze_for_fixes(src, &Settings::default(), &Options::default(), None);
        assert!(smells.iter().any(|s| s.code == "NL102") && smells.iter().all(|s| s.fixes.is_empty()), "{smells:?}");
        assert_eq!(first_syntax_error(&engine::parse(src), src), src.find(":="));
    }

    /// Regression (a newcomer's trial): `f"{title:=^40}"`, a name formatted with the fill
    /// character `=`, was NL000 ("Cannot parse `^`"), and the file lost its fixes.
    #[test]
    fn a_format_spec_filled_with_equals_signs_is_no_syntax_error() {
        for field in ["{title:=^40}", "{x:=<10}", "{x:=>10}", "{x :=^10}", "{x:=.2f}", "{x:=5}", "{x:=+10}"] {
            let src = format!("import torch\nprint(f\"{field}\")\ny = torch.log(torch.softmax(z, -1))\n");
            assert_eq!(syntax_messages(&src), vec![], "{src}");
            let (smells, _) = analyze_for_fixes(&src, &Settings::default(), &Options::default(), None);
            assert!(smells.iter().any(|s| s.code == "NL102" && !s.fixes.is_empty()), "{src}: {smells:?}");
        }
        // Still errors: an expression that does not parse, and a field that is no name.
        for src in ["print(f\"{1 +}\")\n", "print(f\"{(x:=^40}\")\n"] {
            assert!(!syntax_messages(src).is_empty(), "{src}");
        }
    }

    /// Regression (a newcomer's trial): a control character at a line's start gave "Cannot parse
    /// ``" (its snippet prints as nothing). The message is CPython 3.11's.
    #[test]
    fn a_non_printable_character_is_named() {
        // Controls, and (a reviewer's cases, each CPython 3.11's message) a no-break space at a
        // line's start or in it, a left-to-right mark (a format character), a control after
        // code, an ideographic space.
        for (src, code) in [
            ("import numpy as np\n\u{1}y = np.log(0)\n", "0001"),
            ("x = 1 +\u{7f}2\n", "007F"),
            ("import numpy as np\n\u{a0}y = np.log(0)\n", "00A0"),
            ("import numpy as np\ny = np.log(0)\u{a0}+ 1\n", "00A0"),
            ("import numpy as np\n\u{200e}y = np.log(0)\n", "200E"),
            ("import numpy as np\ny = np.log(0)\nz = 1 \u{1}\n", "0001"),
            ("import numpy as np\ndef f():\n    y = np.log(0)\u{3000}\n", "3000"),
        ] {
            let messages = syntax_messages(src);
            let message = format!("Syntax error: invalid non-printable character U+{code}");
            assert!(messages.iter().any(|(_, _, m)| *m == message), "{src:?}: {messages:?}");
            assert!(messages.iter().all(|(_, _, m)| !m.contains("``")), "{src:?}: {messages:?}");
        }
        // Characters the grammar skips as whitespace, which Python refuses (a file that parses).
        for (src, code, at) in [
            ("import numpy as np\ny = np.log(0)\x0b+ 1\n", "000B", (2, 14)),
            ("import numpy as np\ny = np.log(0)\nz = 1 +\u{200b} 2\n", "200B", (3, 8)),
            ("import numpy as np\n\u{2060}y = np.log(0)\n", "2060", (2, 1)),
            ("import numpy as np\ny = 1\u{feff}\n", "FEFF", (2, 6)),
            // At a function's last line, the error region starts at its `def`: one message.
            ("import torch\ndef f(p):\n    return torch.log(p)\x0b\n", "000B", (3, 24)),
        ] {
            let messages = syntax_messages(src);
            let message = format!("Syntax error: invalid non-printable character U+{code}");
            assert_eq!(messages, vec![(at.0, at.1, message)], "{src:?}");
        }
        // One message for many, and none for those in strings and comments or a leading BOM.
        let many = syntax_messages("x = 1\u{200b}\ny = 2\u{200b}\nz = 3\u{200b}\n");
        assert_eq!(many, vec![(1, 6, "Syntax error: invalid non-printable character U+200B (and 2 more)".into())]);
        let quiet =
            "\u{feff}import numpy as np\ns = \"a\u{200b}b\"  # \u{2060}\nt = '''\x0b'''\nu = f\"{1}\u{200b}\"\n";
        assert_eq!(syntax_messages(quiet), vec![], "{quiet:?}");
        // In a string or a comment of the broken line, Python takes it: the region is named.
        for src in
            ["import numpy as np\ny = np.log(\"a\u{a0}b\" +)\n", "import numpy as np\ny = np.log(0 +)  # \u{a0}\n"]
        {
            let messages = syntax_messages(src);
            assert!(messages.iter().all(|(_, _, m)| !m.contains("non-printable")), "{src:?}: {messages:?}");
            assert!(!messages.is_empty(), "{src:?}");
        }
    }

    /// Regressions (issue 14's review): tabs and spaces mixed so that a tab counted as 8 columns
    /// and as 1 compare differently is CPython's `TabError` (it was named "unexpected indent" or
    /// missed); a form feed in the indentation sets the column back to 0 (such lines were
    /// skipped); a statement indented deeper than a bracket's continuation line, but not deeper
    /// than any block open before it, is an unexpected indent. Each message is CPython 3.11's.
    #[test]
    fn tabs_form_feeds_and_open_levels_are_counted_as_python_counts_them() {
        let tab = "Syntax error: inconsistent use of tabs and spaces in indentation (TabError)";
        let unindent = "Syntax error: unindent does not match any outer indentation level (IndentationError)";
        let unexpected = "Syntax error: unexpected indent (IndentationError)";
        let no_handler = "Syntax error: expected 'except' or 'finally' block";
        let refused = [
            ("def f():\n\ta = np.log(x)\n        b = 2\n", (3, 9, tab)),
            ("def f():\n\ta = np.log(x)\n    b = 2\n", (3, 5, unindent)),
            ("if x:\n        if y:\n\t    a = np.log(x)\n", (3, 6, tab)),
            ("class A:\n\tdef f(self):\n\t    return 1\n        def g(self):\n\t    return 2\n", (4, 9, tab)),
            ("if x:\n\tif y:\n\t\ta = 1\n        b = 2\n", (4, 9, tab)),
            ("if x:\n    if y:\n\ta = 1\n", (3, 2, tab)),
            ("if x:\n    a = 1\n\tb = 2\n", (3, 2, tab)),
            ("x = np.log(y)\n\x0c  y = 2\n", (2, 4, unexpected)),
            ("if x:\n    if y:\n        a = 1\n      b = 2\n", (4, 7, unindent)),
            ("def f():\n    x = (1,\n            2)\n      y = 3\n", (4, 7, unexpected)),
            // A clause's line and a decorated definition's are lines of the statement's level.
            ("for i in y:\n\ty = np.log(x)\n else:\n\tw = 1\n", (3, 2, unindent)),
            ("if x:\n    a = np.log(x)\n  elif y:\n    b = 2\n", (3, 3, unindent)),
            ("@dec\n  def g():\n    return np.log(x)\n", (2, 3, unexpected)),
            (
                "try:\n        try:\n            a = np.log(x)\n        except E:\n            pass\n    finally:\n        pass\n",
                (6, 5, unindent),
            ),
            // A `try` with neither `except` nor `finally`, where CPython reports it: the next
            // line of code after its body, or the file's last line.
            ("try:\n    a = np.log(x)\nelse:\n    b = 2\n", (3, 1, no_handler)),
            ("def f():\n    try:\n        a = np.log(x)\n    # c\n\n    b = 2\n", (6, 5, no_handler)),
            ("try:\n    a = np.log(x)\n", (2, 5, no_handler)),
            // An empty body comes first.
            (
                "try:\n# c\nx = np.log(y)\n",
                (1, 1, "Syntax error: expected an indented block after 'try' statement (IndentationError)"),
            ),
            // The body before a refused clause is still compared: its error comes first.
            ("def g():\n    try:\n\t\ty = np.log(x)\n\t  else:\n        w = 1\n", (3, 3, tab)),
        ];
        for (src, (row, column, message)) in refused {
            assert_eq!(syntax_messages(src), vec![(row, column, message.to_string())], "{src:?}");
        }
        let accepted = [
            "if x:\n\tif y:\n\t    a = np.log(x)\n\t    b = 2\n",
            "x = 1\n\x0cdef f():\n    return np.log(x)\n",
            "def f():\n    a = 1\n  \x0c    b = 2\n",
            "x = 1\n  \x0cy = 2\n",
            "if x:\n    if y:\n        a = 1\n    b = 2\nc = 3\n",
            // Regressions (a reviewer's run; false before this change too): a block whose first
            // line is only `\` (tree-sitter-python puts the block's later statements after it), a
            // line holding only `\` before a blank line (the statement after starts with it).
            "if a:\n  if b:\n      \\\n      c = 1\n      if d:\n          e = np.log(x)\n      f = 2\n  g = 3\n",
            "if a:\n    x = 1\n    if b:\n        \\\n  c = 1\n        if d:\n            e = np.log(x)\n        f = 2\n",
            "if a:\n    b = np.log(x)\n  \\\n\nc = 1\n",
        ];
        for src in accepted {
            assert_eq!(syntax_messages(src), vec![], "{src:?}");
        }
    }

    /// CPython's tokenizer holds 100 levels of indentation, the module's included: the line that
    /// would open the hundredth is refused (line 102 here), whether a block starts there or not.
    #[test]
    fn the_hundredth_level_of_indentation_is_refused() {
        let nested = |levels: usize, last: &str| {
            let mut src = String::from("p = np.log(q)\n");
            for i in 0..levels {
                src.push_str(&format!("{}if p:\n", " ".repeat(i)));
            }
            src + last
        };
        let too_deep = "Syntax error: too many levels of indentation (IndentationError)".to_string();
        let unexpected = "Syntax error: unexpected indent (IndentationError)".to_string();
        let body = |levels: usize| format!("{}y = 1\n", " ".repeat(levels));
        assert_eq!(syntax_messages(&nested(99, &body(99))), vec![]);
        assert_eq!(syntax_messages(&nested(100, &body(100))), vec![(102, 101, too_deep.clone())]);
        assert_eq!(syntax_messages(&nested(140, &body(140))), vec![(102, 101, too_deep.clone())]);
        // Deeper than the block's level, where no block starts: one level short, and at the limit.
        let unopened = |levels: usize| format!("{}y = 1\n{}z = 2\n", " ".repeat(levels), " ".repeat(levels + 1));
        assert_eq!(syntax_messages(&nested(98, &unopened(98))), vec![(101, 100, unexpected)]);
        assert_eq!(syntax_messages(&nested(99, &unopened(99))), vec![(102, 101, too_deep)]);
    }

    /// Regression (a course's exercise notebooks): `loss = ` left blank was reported at the
    /// next line's `return` (or the next cell's first line), where tree-sitter goes on; Python
    /// reports the line of the `=`.
    #[test]
    fn an_operator_ending_a_line_before_an_error_is_reported() {
        let blank = "def f(x):\n    # TODO\n    loss = \n    return loss\ny = np.log(x)\n";
        let message = "Syntax error: expected an expression after `=`".to_string();
        assert_eq!(syntax_messages(blank), vec![(3, 10, message.clone())]);
        let cells = "y = np.log(x)\ng_optimizer = \n# a comment\nimport numpy\n";
        assert_eq!(syntax_messages(cells), vec![(2, 13, message)]);
    }

    #[test]
    fn indentation_python_accepts_is_no_syntax_error() {
        let valid = [
            // Tabs, each block consistent.
            "def f():\n\tif x:\n\t\treturn np.log(x)\n\treturn 0\n",
            // Bodies on the header's line, and statements after `;`.
            "if x: a = 1; b = 2\nclass A: pass\ndef g(): return np.log(y)\n",
            // Comments at any column.
            "class A:\n    @staticmethod\n    def f():\n# at column 0\n            # deeper\n        return 1\n",
            // A string, a bracket and a backslash continued onto less indented lines.
            "def f():\n    s = \"\"\"\ntext at column 0\n\"\"\"\n    t = (1,\n2)\n    u = 1 + \\\n3\n    return s\n",
            // match / case, else / elif / except / finally, nested definitions.
            "match x:\n    case 1:\n        pass\n    case _:\n        pass\nif a:\n    pass\nelif b:\n    pass\nelse:\n    pass\ntry:\n    pass\nexcept E:\n    pass\nfinally:\n    pass\ndef f():\n    def g():\n        return 1\n    return g\n",
        ];
        // Regressions (a newcomer's run): a statement on a line a backslash continues is no new
        // logical line, nor is a block's first statement after a line that is only `\`.
        let continued = [
            "if x:\n    a = np.log(y); \\\n        b = 2\n",
            "if x:\n    a = np.log(y); \\\nb = 2\n",
            "def f():\n    x = np.log(y)\n    \\\n        z = 2\n",
            "if x:\n    \\\n      a = np.log(y)\n    b = 2\n",
        ];
        for src in valid.into_iter().chain(continued) {
            assert_eq!(syntax_messages(src), vec![], "{src}");
        }
        // A tree with a syntax error gets no indentation verdict: its recovery can move the
        // statements after the error into another block (a comment at column 0 in brackets).
        let recovered = "def f(x):\n    res = (x if a\n#  else y\n           else z)\n    return res\n";
        let messages = syntax_messages(recovered);
        assert!(messages.iter().all(|(_, _, m)| !m.contains("IndentationError")), "{messages:?}");
    }
}
