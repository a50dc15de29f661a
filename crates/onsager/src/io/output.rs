//! Output files: checked before any work starts, written atomically, never over a device.
//!
//! Every file the project writes goes through [`write_atomic`]: the bytes go to a temporary
//! file beside the destination, are flushed to disk, and the temporary file is renamed over
//! the destination, so a reader sees the old file or the new one, never a partial one. A
//! destination that is a symbolic link is written through the link to its target (the link
//! stays a link); one that is a directory, FIFO, socket or device is refused. [`check_output`]
//! runs the same checks (and a trial write) before a long computation, so a bad `-o` is
//! reported in the first second rather than after training, and refuses an output that
//! would overwrite an input.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Links followed before giving up (the operating system's own limit is 40).
const MAX_LINKS: usize = 40;

fn refused(path: &Path, reason: impl Into<String>) -> Error {
    Error::Output {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// The file a write to `path` lands in: `path` itself, or the target of the symbolic link(s)
/// at `path` (a relative target is taken relative to the link's folder, as the system does).
///
/// # Errors
/// [`Error::Output`] for a link loop or a destination that exists and is not a regular file.
pub fn destination(path: &Path) -> Result<PathBuf> {
    let mut p = path.to_owned();
    for _ in 0..MAX_LINKS {
        let meta = match std::fs::symlink_metadata(&p) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(p),
            Err(source) => return Err(Error::Io { path: p, source }),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            let target = std::fs::read_link(&p).map_err(|source| Error::Io {
                path: p.clone(),
                source,
            })?;
            p = match p.parent() {
                Some(dir) if target.is_relative() => dir.join(target),
                _ => target,
            };
            continue;
        }
        if kind.is_file() {
            return Ok(p);
        }
        let what = if kind.is_dir() {
            "a directory"
        } else {
            special_kind(&kind)
        };
        let shown = if p == path {
            format!("it is {what}; give a file name")
        } else {
            format!("it links to {}, which is {what}", p.display())
        };
        return Err(refused(path, shown));
    }
    Err(refused(path, "too many levels of symbolic links"))
}

#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "not a regular file"
}

/// The folder a file is written in (`.` for a bare name).
fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The temporary name a write by this process to `file` uses: `.NAME.tmp-PID` beside it.
fn temporary(file: &Path, pid: u32) -> Result<PathBuf> {
    let name = file
        .file_name()
        .ok_or_else(|| refused(file, "not a file path"))?;
    Ok(folder(file).join(format!(".{}.tmp-{pid}", name.to_string_lossy())))
}

/// Removes temporaries of our own naming (`.NAME.tmp-PID`) for `file` left by processes that
/// no longer run (killed during a write). Only where the process table can be read (`/proc`);
/// elsewhere only this process's own leftovers are removed.
fn remove_stale(file: &Path) {
    let (Some(name), Ok(entries)) = (file.file_name(), std::fs::read_dir(folder(file))) else {
        return;
    };
    let prefix = format!(".{}.tmp-", name.to_string_lossy());
    let proc_table = Path::new("/proc/self").exists();
    let own = std::process::id();
    for entry in entries.flatten() {
        let entry_name = entry.file_name();
        let Some(pid) = entry_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let gone = pid == own || (proc_table && !Path::new("/proc").join(pid.to_string()).exists());
        if gone && entry.file_type().is_ok_and(|t| t.is_file()) {
            std::fs::remove_file(entry.path()).ok();
        }
    }
}

/// Checks, before any work, that `path` can be written: it is none of `inputs` (the same
/// file through any path or link), its folder exists, it is not a directory, FIFO or device
/// (a link is followed), and a trial file can be created beside it (then removed). Nothing at
/// `path` is touched.
///
/// # Errors
/// [`Error::Output`] naming `path` and the reason (and the input it would overwrite);
/// [`Error::Io`] if the folder is not writable.
pub fn check_output<'a>(path: &Path, inputs: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    distinct(path, inputs)?;
    let file = destination(path)?;
    let dir = folder(&file);
    if !dir.is_dir() {
        return Err(refused(
            path,
            format!("the folder {} does not exist", dir.display()),
        ));
    }
    let tmp = temporary(&file, std::process::id())?;
    std::fs::File::create(&tmp).map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })?;
    std::fs::remove_file(&tmp).ok();
    Ok(())
}

/// Whether two paths name the same existing file (through links and hard links).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(x), Ok(y)) => {
            use std::os::unix::fs::MetadataExt;
            x.dev() == y.dev() && x.ino() == y.ino()
        }
        #[cfg(not(unix))]
        (Ok(_), Ok(_)) => match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        },
        _ => false,
    }
}

/// Refuses an output that is one of the inputs, naming both.
fn distinct<'a>(output: &Path, inputs: impl IntoIterator<Item = &'a Path>) -> Result<()> {
    for input in inputs {
        if same_file(output, input) {
            return Err(refused(
                output,
                format!(
                    "it is the input {}; writing it would destroy the data it is computed from",
                    input.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` through a temporary file in the same folder, flushed to disk,
/// renamed over the destination and the folder flushed, so readers see the old file or the
/// new one, never a partial one. A link at `path` is written through to its target; stale
/// temporaries of earlier killed writes to the same file are removed.
///
/// # Errors
/// [`Error::Output`] if the destination is a directory, FIFO, socket or device;
/// [`Error::Io`] naming `path` if the folder is not writable or the disk is full (the
/// temporary file is removed).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let file = destination(path)?;
    remove_stale(&file);
    let tmp = temporary(&file, std::process::id())?;
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &file)?;
        // The rename is durable once the folder's entry is on disk. Folders cannot be opened
        // for syncing everywhere (Windows), so a failure here is not an error.
        if let Ok(d) = std::fs::File::open(folder(&file)) {
            d.sync_all().ok();
        }
        Ok(())
    })();
    if result.is_err() {
        std::fs::remove_file(&tmp).ok();
    }
    result.map_err(|source| Error::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_followed_and_special_files_refused() {
        #[cfg(unix)]
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("target.bin");
        std::fs::write(&target, b"old").unwrap();
        #[cfg(unix)]
        {
            let link = dir.path().join("link.bin");
            std::os::unix::fs::symlink("target.bin", &link).unwrap();
            write_atomic(&link, b"new").unwrap();
            assert!(std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink());
            assert_eq!(std::fs::read(&target).unwrap(), b"new");
            let e = write_atomic(Path::new("/dev/null"), b"x").unwrap_err();
            assert!(e.to_string().contains("a device"), "{e}");
            let loop_link = dir.path().join("loop");
            std::os::unix::fs::symlink("loop", &loop_link).unwrap();
            let e = write_atomic(&loop_link, b"x").unwrap_err().to_string();
            assert!(e.contains("symbolic links"), "{e}");
            assert!(check_output(&link, [target.as_path()]).is_err());
            // A FIFO would block a reader-less write forever, or be replaced by a rename.
            let fifo = dir.path().join("pipe");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                let e = write_atomic(&fifo, b"x").unwrap_err().to_string();
                assert!(e.contains("a FIFO"), "{e}");
                assert!(std::fs::symlink_metadata(&fifo)
                    .unwrap()
                    .file_type()
                    .is_fifo());
            }
        }
        let e = write_atomic(dir.path(), b"x").unwrap_err().to_string();
        assert!(e.contains("a directory"), "{e}");
        let e = check_output(&dir.path().join("missing/x.bin"), [])
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        check_output(&dir.path().join("fresh.bin"), []).unwrap();
        assert!(!dir.path().join("fresh.bin").exists());
        assert!(check_output(&target, [dir.path().join("other").as_path()]).is_ok());
        let e = check_output(&target, [target.as_path()]).unwrap_err();
        assert!(e.to_string().contains("is the input"), "{e}");
    }

    #[test]
    fn stale_temporaries_of_dead_writers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.safetensors");
        // A pid above the kernel's maximum (2^22) never runs; our own leftover is stale too.
        let dead = dir.path().join(".m.safetensors.tmp-4294967");
        let own = temporary(&file, std::process::id()).unwrap();
        let other = dir.path().join(".other.tmp-4294967");
        for p in [&dead, &own, &other] {
            std::fs::write(p, b"partial").unwrap();
        }
        write_atomic(&file, b"whole").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"whole");
        if Path::new("/proc/self").exists() {
            assert!(!dead.exists());
        }
        assert!(!own.exists() && other.exists());
    }
}
