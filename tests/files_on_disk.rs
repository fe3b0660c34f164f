//! The `nanlint` binary and the file system: what `--fix` guarantees when it writes (temporary
//! files, files changed meanwhile, read-only files, a run killed mid-way) and how folders are
//! walked (symlinks, loops, unreadable folders, names that are not UTF-8).

mod binary;

use binary::nanlint;
use std::path::Path;
use std::process::Command;

const SMELLY: &str = "import torch\np = torch.relu(x)\ny = torch.log(p)\n";
const FIXED: &str = "import torch\np = torch.relu(x)\ny = torch.log(torch.clamp(p, min=1e-7))\n";

fn write(dir: &Path, path: &str, contents: &str) {
    let path = dir.join(path);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

fn read(dir: &Path, path: &str) -> String {
    std::fs::read_to_string(dir.join(path)).unwrap()
}

/// nanlint's temporary files under `dir` (`.<file>.nanlint-<random>.tmp`), recursively.
fn temp_files(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.file_type().unwrap().is_dir() {
            found.extend(temp_files(&entry.path()));
        } else if name.starts_with('.') && name.contains(".nanlint-") && name.ends_with(".tmp") {
            found.push(entry.path().display().to_string());
        }
    }
    found
}

#[test]
fn stale_temporary_files_are_removed_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.py", SMELLY);
    write(dir.path(), "pkg/b.py", SMELLY);
    // What a `--fix` killed between creating its temporary file and the rename leaves.
    write(dir.path(), ".a.py.nanlint-Ab12Cd.tmp", "import torch\np = torch.re");
    write(dir.path(), "pkg/.b.py.nanlint-Zz9yX8.tmp", "");
    // Look-alikes that are not nanlint's stay.
    write(dir.path(), ".a.py.swp", "x");
    write(dir.path(), "pkg/.b.py.nanlint-notes.txt", "x");
    let run = nanlint(dir.path(), &["check", "--output-format", "concise", "."]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "nanlint: warning: removed .a.py.nanlint-Ab12Cd.tmp, a temporary file left by an interrupted \
         `nanlint --fix`\n\
         nanlint: warning: removed pkg/.b.py.nanlint-Zz9yX8.tmp, a temporary file left by an interrupted \
         `nanlint --fix`\n"
    );
    assert_eq!(temp_files(dir.path()), Vec::<String>::new());
    assert!(dir.path().join(".a.py.swp").exists());
    assert!(dir.path().join("pkg/.b.py.nanlint-notes.txt").exists());
    // stdout is the report alone.
    assert_eq!(run.stdout.lines().filter(|l| l.contains("NL101")).count(), 2, "{}", run.stdout);
    assert!(!run.stdout.contains("temporary"), "{}", run.stdout);
    // Nothing left to report the second time.
    assert_eq!(nanlint(dir.path(), &["check", "."]).stderr, "");
}

#[test]
fn fix_leaves_no_temporary_file_and_keeps_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "real/model.py", SMELLY);
    #[cfg(unix)]
    std::os::unix::fs::symlink("real/model.py", dir.path().join("link.py")).unwrap();
    let run = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "."]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // The symlink and its target are one file, fixed once; no warning about it changing meanwhile.
    assert_eq!(run.stderr, "");
    assert_eq!(read(dir.path(), "real/model.py"), FIXED);
    #[cfg(unix)]
    assert!(std::fs::symlink_metadata(dir.path().join("link.py")).unwrap().file_type().is_symlink());
    assert_eq!(temp_files(dir.path()), Vec::<String>::new());
}

/// Whether this process may write a file whose mode forbids it (it may as root).
#[cfg(unix)]
fn permissions_bind(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.join("probe");
    std::fs::write(&probe, "").unwrap();
    std::fs::set_permissions(&probe, std::fs::Permissions::from_mode(0o444)).unwrap();
    let denied = std::fs::OpenOptions::new().write(true).open(&probe).is_err();
    std::fs::remove_file(&probe).unwrap();
    denied
}

#[cfg(unix)]
#[test]
fn a_read_only_file_is_reported_and_the_others_fixed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a.py", SMELLY);
    write(dir.path(), "b.py", SMELLY);
    write(dir.path(), "c.py", SMELLY);
    if !permissions_bind(dir.path()) {
        // Root writes a file whatever its mode, and so may nanlint: nothing to assert here.
        eprintln!("skipped: this process writes read-only files (running as root)");
        return;
    }
    std::fs::set_permissions(dir.path().join("b.py"), std::fs::Permissions::from_mode(0o444)).unwrap();
    let run = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "--output-format", "concise", "."]);
    // A fixed file that could not be written: exit 2, as the README says.
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert_eq!(run.stderr, "nanlint: error: b.py: cannot write fixes to b.py: Permission denied (os error 13)\n");
    assert_eq!(read(dir.path(), "b.py"), SMELLY);
    assert_eq!(read(dir.path(), "a.py"), FIXED);
    assert_eq!(read(dir.path(), "c.py"), FIXED);
    // The unwritten file's smell is still reported.
    assert!(run.stdout.starts_with("b.py:3:5: NL101 "), "{}", run.stdout);
    assert_eq!(temp_files(dir.path()), Vec::<String>::new());
}

#[cfg(unix)]
#[test]
fn symlinks_loops_and_unreadable_folders_are_reported_and_the_rest_checked() {
    use std::os::unix::fs::{PermissionsExt, symlink};
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a.py", SMELLY);
    write(d, "pkg/b.py", SMELLY);
    write(d, "locked/c.py", SMELLY);
    write(d, "elsewhere/d.py", SMELLY);
    symlink("..", d.join("pkg/up")).unwrap(); // a loop if it were followed
    symlink("../elsewhere", d.join("pkg/data")).unwrap();
    symlink("self", d.join("self")).unwrap(); // a symlink loop
    symlink("loop.py", d.join("loop.py")).unwrap(); // one with a Python file's name
    symlink("a.py", d.join("alias.py")).unwrap();
    std::fs::set_permissions(d.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let denied = std::fs::read_dir(d.join("locked")).is_err();
    let run = nanlint(d, &["check", "--output-format", "concise", "--exclude", "elsewhere", "."]);
    std::fs::set_permissions(d.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    // The OS's words for a loop: "Too many levels of symbolic links (os error 40)" on Linux.
    let eloop = std::fs::metadata(d.join("self")).unwrap_err().raw_os_error().unwrap();
    let eloop = std::io::Error::from_raw_os_error(eloop).to_string();
    assert_eq!(
        run.stderr,
        format!(
            "nanlint: warning: pkg/data: a symlink to a folder, not followed; name it on the command line to check it\n\
             nanlint: warning: pkg/up: a symlink to a folder, not followed; name it on the command line to check it\n\
             nanlint: warning: self: cannot follow this symlink: {eloop}\n"
        )
    );
    let lines: Vec<&str> = run.stdout.lines().filter(|l| l.contains(": NL")).collect();
    let smell = "NL101 `torch.log` of `p`, a ReLU output that can reach 0: log(0) = -inf";
    let mut expected = vec![format!("a.py:3:5: {smell}"), format!("alias.py:3:5: {smell}")];
    if denied {
        expected.push("locked:1:1: NL001 Cannot read this folder: Permission denied (os error 13)".into());
    } else {
        eprintln!("the unreadable folder is readable here (running as root): its file is checked");
        expected.push(format!("locked/c.py:3:5: {smell}"));
    }
    expected.push(format!("loop.py:1:1: NL001 {eloop}"));
    expected.push(format!("pkg/b.py:3:5: {smell}"));
    assert_eq!(lines, expected, "{}", run.stdout);
    // A line of an ignore file that does not parse is said, and the rest of the file applies.
    write(d, "pkg/.ignore", "a{b\nb.py\n");
    let run = nanlint(d, &["check", "--output-format", "concise", "pkg"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stderr.starts_with(
            "nanlint: warning: pkg/.ignore: line 1: error parsing glob 'a{b': unclosed alternate group; missing '}'"
        ) && run.stderr.lines().count() == 4
            // `b.py` was the folder's one file to check.
            && run.stderr.ends_with("nanlint: warning: No Python files found under the given path(s)\n"),
        "{}",
        run.stderr
    );
    // A symlinked folder named on the command line is walked, without a warning that it is not
    // (there was one, telling the user to name it on the command line).
    let run = nanlint(d, &["check", "--output-format", "concise", "pkg/data"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stdout.starts_with("pkg/data/d.py:3:5: NL101"), "{}", run.stdout);
    assert_eq!(run.stderr, "", "{}", run.stderr);
}

/// The binary run as a user for whom permissions hold, when this process is root and can switch
/// (`setpriv` from util-linux): the read-only and unreadable-folder cases above are skipped as
/// root, and this runs them for real.
#[cfg(target_os = "linux")]
#[test]
fn permissions_hold_for_an_unprivileged_user() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    if permissions_bind(d) {
        eprintln!("not root: the tests above already ran with permissions enforced");
        return;
    }
    let switch = |args: &[&str]| {
        Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", env!("CARGO_BIN_EXE_nanlint")])
            .args(args)
            .current_dir(d)
            .env_remove("RUST_LOG")
            .output()
    };
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o777)).unwrap();
    // Whether that user can fix a file here at all (tempfile needs every folder above to be
    // searchable, which a temporary folder under /root is not).
    write(d, "probe.py", SMELLY);
    std::fs::set_permissions(d.join("probe.py"), std::fs::Permissions::from_mode(0o666)).unwrap();
    let fixed = switch(&["check", "--fix", "--unsafe-fixes", "probe.py"]).is_ok_and(|o| o.status.success());
    if !fixed || read(d, "probe.py") != FIXED {
        eprintln!("skipped: cannot fix a file as another user here (no setpriv, or a folder it cannot reach)");
        return;
    }
    std::fs::remove_file(d.join("probe.py")).unwrap();
    write(d, "a.py", SMELLY);
    write(d, "b.py", SMELLY);
    write(d, "locked/c.py", SMELLY);
    for (path, mode) in [("a.py", 0o666), ("b.py", 0o444), ("locked", 0o000)] {
        std::fs::set_permissions(d.join(path), std::fs::Permissions::from_mode(mode)).unwrap();
    }
    let out = switch(&["check", "--fix", "--unsafe-fixes", "--output-format", "concise", "."]).unwrap();
    std::fs::set_permissions(d.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stdout}{stderr}");
    assert_eq!(stderr, "nanlint: error: b.py: cannot write fixes to b.py: Permission denied (os error 13)\n");
    assert!(
        stdout.contains("locked:1:1: NL001 Cannot read this folder: Permission denied (os error 13)\n"),
        "{stdout}"
    );
    assert_eq!(read(d, "a.py"), FIXED);
    assert_eq!(read(d, "b.py"), SMELLY);
    assert_eq!(read(d, "locked/c.py"), SMELLY);
}

#[cfg(target_os = "linux")]
#[test]
fn names_that_are_not_utf8_are_checked_fixed_and_reported() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9.py");
    std::fs::write(dir.path().join(odd), SMELLY).unwrap();
    write(dir.path(), "ok.py", SMELLY);
    let run = nanlint(dir.path(), &["check", "--output-format", "concise", "."]);
    assert_eq!(run.code, 1);
    assert_eq!(
        run.stderr,
        "nanlint: warning: \"caf\\xE9.py\": the name is not valid UTF-8; the report shows it as caf\u{fffd}.py\n"
    );
    assert!(run.stdout.starts_with("caf\u{fffd}.py:3:5: NL101"), "{}", run.stdout);
    assert!(run.stdout.contains("ok.py:3:5: NL101"), "{}", run.stdout);
    // Fixed under its real name.
    let run = nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "."]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(std::fs::read_to_string(dir.path().join(odd)).unwrap(), FIXED);
    assert_eq!(read(dir.path(), "ok.py"), FIXED);
}

/// SplitMix64: kill moments drawn from a fixed seed, so a failure replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// `--fix` killed (SIGKILL) at moments drawn from a fixed seed: every file is wholly old or
/// wholly new, and the next plain run leaves no temporary file. Nothing is asserted about when
/// the kill lands; each round says on stderr how many files it found rewritten.
#[cfg(unix)]
#[test]
fn a_killed_fix_leaves_every_file_old_or_new() {
    const FILES: usize = 200;
    // Two fixes and some length; kept small because fixing costs an analysis per fix of the whole
    // file (200 files of 400 lines take minutes in a debug build).
    let mut old = String::from("import torch\n");
    for i in 0..2 {
        old.push_str(&format!("p{i} = torch.relu(x)\ny{i} = torch.log(p{i})\n"));
    }
    for i in 0..40 {
        old.push_str(&format!("# line {i} of a long comment that makes the file longer to write\n"));
    }
    let new = {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "m.py", &old);
        assert_eq!(nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "m.py"]).code, 0);
        read(dir.path(), "m.py")
    };
    assert_ne!(old, new);
    // How long a whole run takes here, so the kill moments spread over it.
    let span = {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..FILES {
            write(dir.path(), &format!("m{i:03}.py"), &old);
        }
        let start = std::time::Instant::now();
        nanlint(dir.path(), &["check", "--fix", "--unsafe-fixes", "."]);
        start.elapsed().as_micros().max(1000) as u64
    };
    let mut rng = Rng(0x6e61_6e6c_696e_7421);
    for round in 0..5 {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..FILES {
            write(dir.path(), &format!("m{i:03}.py"), &old);
        }
        let delay = std::time::Duration::from_micros(rng.next() % (span + span / 4));
        let mut child = Command::new(env!("CARGO_BIN_EXE_nanlint"))
            .args(["check", "--fix", "--unsafe-fixes", "--silent", "."])
            .current_dir(dir.path())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let mut rewritten = 0;
        for i in 0..FILES {
            let text = read(dir.path(), &format!("m{i:03}.py"));
            assert!(text == old || text == new, "round {round}: m{i:03}.py is neither old nor new:\n{text}");
            rewritten += usize::from(text == new);
        }
        let left = temp_files(dir.path()).len();
        eprintln!("round {round}: killed after {delay:?}: {rewritten} of {FILES} rewritten, {left} temporary files");
        let run = nanlint(dir.path(), &["check", "."]);
        assert_eq!(run.stderr.lines().count(), left, "one line per removed file:\n{}", run.stderr);
        assert_eq!(temp_files(dir.path()), Vec::<String>::new(), "round {round}");
    }
}
