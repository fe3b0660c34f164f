//! `nanlint check`: find Python files, check them in parallel, report in a stable order, and
//! optionally apply fixes.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::engine::{
    self,
    fix::{FixMode, fix_source},
};
use crate::settings::{self, FileSettings, Settings};
use crate::smell::Smell;

/// Settings given on the command line; they win over `[tool.nanlint]`.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub select: Option<Vec<String>>,
    pub ignore: Option<Vec<String>>,
    pub epsilon: Option<f64>,
}

/// The outcome for one file.
#[derive(Debug)]
pub struct FileReport {
    pub path: PathBuf,
    /// The source the smells refer to (after fixes, if any were applied).
    pub source: String,
    pub smells: Vec<Smell>,
    pub fixed: usize,
    /// A problem reading, fixing or writing the file; `warning` ones do not fail the run.
    pub problem: Option<Problem>,
}

#[derive(Debug)]
pub struct Problem {
    pub message: String,
    pub is_error: bool,
}

/// Every Python file under `paths`, honouring `.gitignore`, `.ignore` and hidden-file rules,
/// sorted. A file named explicitly is always included.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for path in paths {
        if !path.exists() {
            return Err(format!("{}: no such file or directory", path.display()));
        }
        if path.is_file() {
            files.push(path.clone());
            continue;
        }
        let walker = ignore::WalkBuilder::new(path).require_git(false).build();
        for entry in walker {
            let entry = entry.map_err(|e| e.to_string())?;
            let p = entry.path();
            if entry.file_type().is_some_and(|t| t.is_file()) && p.extension().is_some_and(|e| e == "py" || e == "pyi")
            {
                files.push(p.to_path_buf());
            }
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

/// Settings per file: the nearest `[tool.nanlint]`, then the command line. One lookup per folder.
pub fn resolve_settings(files: &[PathBuf], overrides: &Overrides) -> Result<Vec<Settings>, String> {
    let mut by_dir: HashMap<PathBuf, Settings> = HashMap::new();
    let cli =
        FileSettings { select: overrides.select.clone(), ignore: overrides.ignore.clone(), epsilon: overrides.epsilon };
    Settings::default().merged(&cli).validate()?;
    files
        .iter()
        .map(|f| {
            let dir = std::path::absolute(f).ok().and_then(|a| a.parent().map(Path::to_path_buf)).unwrap_or_default();
            if let Some(s) = by_dir.get(&dir) {
                return Ok(s.clone());
            }
            let base = match settings::find_pyproject(&dir)? {
                Some((_, file)) => Settings::default().merged(&file),
                None => Settings::default(),
            };
            let s = base.merged(&cli);
            by_dir.insert(dir, s.clone());
            Ok(s)
        })
        .collect()
}

/// Checks (and with `mode`, fixes) every file, in parallel, results in input order.
pub fn check_files(files: &[PathBuf], settings: &[Settings], mode: FixMode) -> Vec<FileReport> {
    files.par_iter().zip(settings.par_iter()).map(|(path, s)| check_file(path, s, mode)).collect()
}

fn check_file(path: &Path, settings: &Settings, mode: FixMode) -> FileReport {
    let mut report =
        FileReport { path: path.to_path_buf(), source: String::new(), smells: Vec::new(), fixed: 0, problem: None };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            report.problem = Some(Problem { message: format!("cannot read: {e}"), is_error: true });
            return report;
        }
    };
    let Ok(source) = String::from_utf8(bytes) else {
        report.problem = Some(Problem { message: "not valid UTF-8; skipped".into(), is_error: false });
        return report;
    };
    let smells = engine::check_source(&source, settings);
    if mode == FixMode::Off || smells.is_empty() {
        report.source = source;
        report.smells = smells;
        return report;
    }
    let outcome = fix_source(&source, settings, mode);
    if outcome.fixed > 0
        && let Err(e) = write_atomically(path, &outcome.source)
    {
        report.problem = Some(Problem { message: format!("cannot write fixes: {e}"), is_error: true });
        report.smells = smells;
        report.source = source;
        return report;
    }
    if let Some(refused) = outcome.refused {
        report.problem = Some(Problem { message: refused, is_error: false });
    }
    report.fixed = outcome.fixed;
    report.smells = outcome.remaining;
    report.source = outcome.source;
    report
}

/// Writes through a temporary file in the same folder and a rename, keeping permissions, so a
/// crash leaves either the old or the new file, never half of one.
pub fn write_atomically(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(contents.as_bytes())?;
    tmp.as_file().sync_all()?;
    if let Ok(meta) = std::fs::metadata(path) {
        tmp.as_file().set_permissions(meta.permissions())?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
