//! What a folder walk does with each entry: symlinks, unreadable folders, odd file names.
//!
//! As ruff does, a symlink found while walking is checked when it points to a file and not
//! followed when it points to a folder (a virtual environment, a dataset, an ancestor: a loop);
//! unlike ruff, the folder not followed is said on stderr. A folder named on the command line is
//! walked even when it is a symlink. A symlink that cannot be followed (a loop, a dangling link)
//! is NL001 when it has a Python file's name and a warning otherwise. A folder that cannot be read
//! is NL001 (ruff's E902): its files are not checked, so the run does not pass. None of these
//! stops the walk.

use std::path::{Path, PathBuf};

use crate::settings;

/// One entry of the walk, classified.
pub enum Entry {
    /// A file to check (a regular file, or a symlink to one).
    File(PathBuf),
    /// A path to report as NL001, with why.
    Unreadable(PathBuf, String),
    /// Nothing to check (a folder, a file of another kind, an entry reported in `warnings`).
    Skip,
}

/// Classifies one entry of an `ignore` walk that does not follow symlinks; what is skipped for a
/// reason the user should know goes to `warnings`. `is_python` says which file names are checked.
pub fn classify(
    result: Result<ignore::DirEntry, ignore::Error>,
    is_python: impl Fn(&Path) -> bool,
    warnings: &mut Vec<String>,
) -> Entry {
    let entry = match result {
        Ok(entry) => entry,
        Err(e) => {
            return match io_error(&e) {
                Some((path, io)) if path.is_dir() => {
                    Entry::Unreadable(path.to_path_buf(), format!("Cannot read this folder: {}", os_message(io)))
                }
                _ => {
                    warnings.push(e.to_string());
                    Entry::Skip
                }
            };
        }
    };
    // Lines of this folder's ignore files that do not parse (`ignore` skips them).
    fn each_line(e: &ignore::Error, warnings: &mut Vec<String>) {
        match e {
            ignore::Error::Partial(errors) => errors.iter().for_each(|e| each_line(e, warnings)),
            e => warnings.push(format!("{e}; line skipped")),
        }
    }
    if let Some(e) = entry.error() {
        each_line(e, warnings);
    }
    let path = entry.path();
    let Some(kind) = entry.file_type() else { return Entry::Skip };
    if kind.is_file() {
        return if is_python(path) { Entry::File(path.to_path_buf()) } else { Entry::Skip };
    }
    if !kind.is_symlink() {
        return match special(&kind) {
            Some(what) if is_python(path) => Entry::Unreadable(path.to_path_buf(), not_regular(what)),
            _ => Entry::Skip,
        };
    }
    match std::fs::metadata(path) {
        Ok(target) if target.is_file() && is_python(path) => Entry::File(path.to_path_buf()),
        Ok(target)
            if is_python(path)
                && let Some(what) = special(&target.file_type()) =>
        {
            Entry::Unreadable(path.to_path_buf(), not_regular(what))
        }
        // A folder named on the command line (the walk's root) is walked whatever it is.
        Ok(target) if target.is_dir() && entry.depth() == 0 => Entry::Skip,
        Ok(target) if target.is_dir() => {
            warnings.push(format!(
                "{}: a symlink to a folder, not followed; name it on the command line to check it",
                super::shown(path).display()
            ));
            Entry::Skip
        }
        Ok(_) => Entry::Skip,
        Err(e) if is_python(path) => Entry::Unreadable(path.to_path_buf(), settings::io_message(&e)),
        Err(e) => {
            warnings.push(format!(
                "{}: cannot follow this symlink: {}",
                super::shown(path).display(),
                settings::io_message(&e)
            ));
            Entry::Skip
        }
    }
}

/// What a file that is neither a regular file, a folder nor a symlink is: a walk does not open
/// it (a named pipe blocks until something writes to it, `/dev/zero` never ends), and one named
/// `*.py` gets NL001 rather than being skipped in silence.
fn special(kind: &std::fs::FileType) -> Option<&'static str> {
    if kind.is_file() || kind.is_dir() || kind.is_symlink() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a named pipe");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
        if kind.is_char_device() || kind.is_block_device() {
            return Some("a device");
        }
    }
    Some("a special file")
}

fn not_regular(what: &str) -> String {
    format!("Not a regular file ({what}): not read in a folder's walk; name it on the command line to read it")
}

/// The I/O error and the path it happened at, under `ignore`'s wrappers.
fn io_error(e: &ignore::Error) -> Option<(&Path, &std::io::Error)> {
    fn find<'e>(e: &'e ignore::Error, at: Option<&'e Path>) -> Option<(&'e Path, &'e std::io::Error)> {
        match e {
            ignore::Error::WithDepth { err, .. } => find(err, at),
            ignore::Error::WithPath { path, err } => find(err, Some(path)),
            ignore::Error::Io(io) => at.map(|p| (p, io)),
            _ => None,
        }
    }
    find(e, None)
}

/// The OS's message for `e`, also when it wraps the OS error (walkdir's errors do).
fn os_message(e: &std::io::Error) -> String {
    let mut source: Option<&(dyn std::error::Error + 'static)> = e.get_ref().map(|e| e as _);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.raw_os_error().is_some()
        {
            return settings::io_message(io);
        }
        source = s.source();
    }
    settings::io_message(e)
}

/// A warning for each path that is not valid UTF-8: it is checked and fixed under its real name,
/// but every report shows it with U+FFFD in place of the bytes that are not.
pub fn non_utf8_names<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Vec<String> {
    paths
        .into_iter()
        .filter(|p| p.to_str().is_none())
        .map(|p| format!("{p:?}: the name is not valid UTF-8; the report shows it as {}", p.display()))
        .collect()
}
