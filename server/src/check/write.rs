//! Writing fixed files back, crash-safe.
//!
//! A fixed file is written to a temporary file next to it, named `.<file>.nanlint-<random>.tmp`,
//! synced, given the file's permissions and renamed over it, so a crash leaves the old file or
//! the new one, never half of one. A file with several hard links is replaced the same way, so
//! its other names keep the old text: [`Written::LinksSplit`] says so. (Writing it in place
//! instead, as ruff and vim do, could leave it half-written, and a run fixing two of its names
//! read it half-written through the other one.) Just before the rename the file is read again:
//! if it no longer holds what was checked (an editor saved it meanwhile), it is left alone. A
//! temporary file that a killed run left behind is recognised by its name and removed by the
//! next run ([`remove_stale`]); the run writing one holds an advisory lock on it, so a run beside
//! it does not take a live one for stale. (Between creating its temporary file and locking it a run is
//! exposed for an instant: a run beside it that removes the file then makes the rename fail, which
//! is reported and leaves the old file whole.)

use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::settings;

const MARK: &str = ".nanlint-";
const SUFFIX: &str = ".tmp";
/// tempfile's random part: this many ASCII letters and digits.
const RANDOM_LEN: usize = 6;

/// What became of a write.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Replaced,
    /// Replaced, but the file had `links` hard links: the other names keep the old text. `target`
    /// is the file written when the path fixed was a symlink (resolved, absolute).
    LinksSplit {
        links: u64,
        target: Option<PathBuf>,
    },
    /// The file no longer holds the bytes that were checked; nothing was written.
    ChangedOnDisk,
}

/// Whether `name` is one of nanlint's temporary files (`.<file>.nanlint-<random>.tmp`).
pub fn is_temp_name(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else { return false };
    let Some(rest) = name.strip_prefix('.').and_then(|n| n.strip_suffix(SUFFIX)) else { return false };
    let Some(at) = rest.rfind(MARK) else { return false };
    let random = &rest[at + MARK.len()..];
    at > 0 && random.len() == RANDOM_LEN && random.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Replaces `path` (through a symlink, its target) with `contents` if it still holds `original`.
/// Errors name `path`, never the temporary file, and carry the OS error.
pub fn replace(path: &Path, original: &[u8], contents: &[u8]) -> Result<Written, String> {
    replace_with_hook(path, original, contents, &|| {})
}

/// [`replace`], running `before_check` once the temporary file is written and before the file is
/// read again: the tests change the file there.
pub fn replace_with_hook(
    path: &Path,
    original: &[u8],
    contents: &[u8],
    before_check: &dyn Fn(),
) -> Result<Written, String> {
    let fail = |e: &std::io::Error| format!("cannot write fixes to {}: {}", path.display(), settings::io_message(e));
    // A symlink stays a symlink: its target is what gets replaced. (Only then is the path
    // resolved: that needs every folder above it to be searchable.)
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    let target = if is_link { std::fs::canonicalize(path).map_err(|e| fail(&e))? } else { path.to_path_buf() };
    // Renaming over a read-only file would succeed on Unix; ask the OS whether the file may be
    // written instead (root may write any file, so there it is replaced).
    std::fs::OpenOptions::new().write(true).open(&target).map_err(|e| fail(&e))?;
    let meta = std::fs::metadata(&target).map_err(|e| fail(&e))?;
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target.file_name().unwrap_or(OsStr::new("file")).to_string_lossy();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}{MARK}"))
        .suffix(SUFFIX)
        .rand_bytes(RANDOM_LEN)
        .tempfile_in(dir)
        .map_err(|e| fail(&e))?;
    // Held until the process ends or the file is dropped: `remove_stale` skips locked files.
    let _ = tmp.as_file().try_lock();
    tmp.write_all(contents).map_err(|e| fail(&e))?;
    // The owner, where the OS lets this user give it (root, or a group the user is in); before
    // the permissions, because a change of owner clears the set-user-ID and set-group-ID bits.
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if std::os::unix::fs::fchown(tmp.as_file(), Some(meta.uid()), Some(meta.gid())).is_err() {
            let _ = std::os::unix::fs::fchown(tmp.as_file(), None, Some(meta.gid()));
        }
    }
    tmp.as_file().set_permissions(meta.permissions()).map_err(|e| fail(&e))?;
    tmp.as_file().sync_all().map_err(|e| fail(&e))?;
    before_check();
    match std::fs::read(&target) {
        Ok(now) if now == original => {}
        // Fixed meanwhile through another path to it (a symlink checked with its target).
        Ok(now) if now == contents => return Ok(Written::Replaced),
        Ok(_) => return Ok(Written::ChangedOnDisk),
        Err(e) => return Err(fail(&e)),
    }
    tmp.persist(&target).map_err(|e| fail(&e.error))?;
    // The rename is durable once the folder is synced (not possible everywhere, hence no error).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if meta.nlink() > 1 {
            return Ok(Written::LinksSplit { links: meta.nlink(), target: is_link.then_some(target) });
        }
    }
    Ok(Written::Replaced)
}

/// Removes nanlint's temporary files in `dirs` that no running nanlint holds, and says which, one
/// message per file (a removal that fails is reported with its OS error).
pub fn remove_stale<'a>(dirs: impl IntoIterator<Item = &'a Path>) -> Vec<String> {
    let mut messages = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(dir) else { continue };
        let mut stale: Vec<PathBuf> =
            entries.flatten().filter(|e| is_temp_name(&e.file_name())).map(|e| e.path()).collect();
        stale.sort();
        for path in stale {
            // A live run holds the lock on its temporary file; a killed one held none.
            let Ok(file) = std::fs::File::open(&path) else { continue };
            if file.try_lock().is_err() {
                continue;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => messages.push(format!(
                    "removed {}, a temporary file left by an interrupted `nanlint --fix`",
                    super::shown(&path).display()
                )),
                Err(e) => messages.push(format!(
                    "cannot remove {}, a temporary file left by an interrupted `nanlint --fix`: {}",
                    super::shown(&path).display(),
                    settings::io_message(&e)
                )),
            }
        }
    }
    messages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_file_names() {
        assert!(is_temp_name(OsStr::new(".model.py.nanlint-a1B2c3.tmp")));
        assert!(!is_temp_name(OsStr::new(".model.py.nanlint-a1B2c.tmp")), "random part too short");
        assert!(!is_temp_name(OsStr::new("model.py.nanlint-a1B2c3.tmp")), "not hidden");
        assert!(!is_temp_name(OsStr::new(".nanlint-a1B2c3.tmp")), "no file name");
        assert!(!is_temp_name(OsStr::new(".model.py.nanlint-a1B2c!.tmp")));
        assert!(!is_temp_name(OsStr::new(".model.py")));
    }

    #[test]
    fn temporary_files_carry_the_recognisable_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.py");
        std::fs::write(&file, "old").unwrap();
        let seen = std::cell::RefCell::new(Vec::new());
        let outcome = replace_with_hook(&file, b"old", b"new", &|| {
            *seen.borrow_mut() = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        })
        .unwrap();
        assert_eq!(outcome, Written::Replaced);
        let seen = seen.into_inner();
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen.iter().any(|n| n.to_str().unwrap().starts_with(".m.py.nanlint-") && is_temp_name(n)), "{seen:?}");
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the temporary file is gone");
    }

    #[test]
    fn a_file_changed_between_read_and_write_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.py");
        std::fs::write(&file, "checked").unwrap();
        let outcome = replace_with_hook(&file, b"checked", b"fixed", &|| std::fs::write(&file, "edited").unwrap());
        assert_eq!(outcome, Ok(Written::ChangedOnDisk));
        assert_eq!(std::fs::read(&file).unwrap(), b"edited", "the edit was overwritten");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the temporary file is gone");
        // Same size, same content length: still noticed.
        std::fs::write(&file, "checked").unwrap();
        let outcome = replace_with_hook(&file, b"checked", b"fixed", &|| std::fs::write(&file, "CHECKED").unwrap());
        assert_eq!(outcome, Ok(Written::ChangedOnDisk));
        assert_eq!(std::fs::read(&file).unwrap(), b"CHECKED");
    }

    #[test]
    fn stale_files_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(".m.py.nanlint-AbC123.tmp");
        let live = dir.path().join(".n.py.nanlint-XyZ789.tmp");
        let other = dir.path().join(".m.py.swp");
        for p in [&stale, &live, &other] {
            std::fs::write(p, "x").unwrap();
        }
        let held = std::fs::File::open(&live).unwrap();
        held.lock().unwrap();
        let messages = remove_stale([dir.path()]);
        assert_eq!(messages.len(), 1, "{messages:?}");
        assert!(messages[0].starts_with(&format!("removed {}", stale.display())), "{messages:?}");
        assert!(!stale.exists());
        assert!(live.exists(), "a temporary file a running nanlint holds was removed");
        assert!(other.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_stays_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.py");
        let link = dir.path().join("link.py");
        std::fs::write(&real, "old").unwrap();
        std::os::unix::fs::symlink("real.py", &link).unwrap();
        assert_eq!(replace(&link, b"old", b"new"), Ok(Written::Replaced));
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
    }

    /// A file with several hard links is replaced under the name fixed, and the result says so:
    /// its other names keep the old text (a newcomer's trial found the links split in silence).
    #[cfg(unix)]
    #[test]
    fn a_hard_linked_file_is_replaced_and_said() {
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (dir.path().join("h1.py"), dir.path().join("h2.py"));
        std::fs::write(&one, "old").unwrap();
        std::fs::hard_link(&one, &two).unwrap();
        assert_eq!(replace(&one, b"old", b"new text"), Ok(Written::LinksSplit { links: 2, target: None }));
        assert_eq!(std::fs::read(&one).unwrap(), b"new text");
        assert_eq!(std::fs::read(&two).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "the temporary file is gone");
        // Each has one name now.
        assert_eq!(replace(&two, b"old", b"newer"), Ok(Written::Replaced));
    }

    /// Through a symlink, the file written is its target, and the result names it: the
    /// warning named the symlink, which stays a symlink (a newcomer's trial).
    #[cfg(unix)]
    #[test]
    fn a_hard_linked_file_fixed_through_a_symlink_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (real, hard, link) = (dir.path().join("real.py"), dir.path().join("hard.py"), dir.path().join("link.py"));
        std::fs::write(&real, "old").unwrap();
        std::fs::hard_link(&real, &hard).unwrap();
        std::os::unix::fs::symlink("real.py", &link).unwrap();
        let target = Some(std::fs::canonicalize(&real).unwrap());
        assert_eq!(replace(&link, b"old", b"new"), Ok(Written::LinksSplit { links: 2, target }));
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        assert_eq!(std::fs::read(&hard).unwrap(), b"old");
    }
}
