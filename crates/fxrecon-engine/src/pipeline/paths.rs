//! Path checks before anything is opened for writing (contract 5): an output that names an
//! input (the same file by any path), two outputs naming one file, a directory where a file
//! is expected, a journal directory that is a file.
//!
//! Owns: what "the same file" means — (device, inode) for files that exist; for an output not
//! created yet, its directory's identity plus its name — and the one clear line each refusal
//! gets. Never creates, opens for writing or truncates anything.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// A path a command was given, and the option that named it (for the message).
#[derive(Clone, Copy, Debug)]
pub struct Named<'a> {
    /// The option, as the user typed it (`--out`, `--primary`).
    pub option: &'static str,
    /// The path.
    pub path: &'a Path,
}

/// A path that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PathError {
    /// An output names an input.
    #[error("{output} {} is the same file as the {input} input: refusing to overwrite an input", .path.display())]
    OutputIsInput {
        /// The output option.
        output: &'static str,
        /// The input option.
        input: &'static str,
        /// The path given for the output.
        path: PathBuf,
    },
    /// Two outputs name one file.
    #[error("{first} and {second} name the same file ({}): each output needs a file of its own", .path.display())]
    SameOutput {
        /// The first option.
        first: &'static str,
        /// The second option.
        second: &'static str,
        /// The path given for the second.
        path: PathBuf,
    },
    /// A directory given where a file is expected.
    #[error("{option} {} is a directory, not a file", .path.display())]
    Directory {
        /// The option.
        option: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// A file given where a directory is expected.
    #[error("{option} {} is a file, not a directory", .path.display())]
    NotADirectory {
        /// The option.
        option: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// The journal's archive directory is the journal's own.
    #[error("journal.archive_dir {} is the journal's own directory: archived segments must go elsewhere", .path.display())]
    ArchiveIsJournal {
        /// The archive directory given.
        path: PathBuf,
    },
    /// An output's directory does not exist.
    #[error("{option} {}: directory {} does not exist", .path.display(), .dir.display())]
    NoDirectory {
        /// The option.
        option: &'static str,
        /// The path.
        path: PathBuf,
        /// Its directory.
        dir: PathBuf,
    },
}

/// What a path is, for comparing it with others.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Identity {
    /// An existing regular file (device, inode).
    File(u64, u64),
    /// A device, FIFO or socket: several outputs may share one (`/dev/null`, a terminal).
    Special,
    /// A file to be created: its directory's (device, inode) and its name.
    New(u64, u64, std::ffi::OsString),
}

fn identity(n: Named<'_>) -> Result<Identity, PathError> {
    match std::fs::metadata(n.path) {
        Ok(m) if m.is_dir() => Err(PathError::Directory { option: n.option, path: n.path.to_path_buf() }),
        Ok(m) if m.file_type().is_fifo() || m.file_type().is_char_device() || m.file_type().is_block_device() => {
            Ok(Identity::Special)
        }
        Ok(m) if m.file_type().is_socket() => Ok(Identity::Special),
        Ok(m) => Ok(Identity::File(m.dev(), m.ino())),
        Err(_) => {
            let dir = match n.path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let name = n.path.file_name().map(|s| s.to_os_string()).unwrap_or_default();
            match std::fs::metadata(dir) {
                Ok(m) if m.is_dir() => Ok(Identity::New(m.dev(), m.ino(), name)),
                _ => {
                    Err(PathError::NoDirectory { option: n.option, path: n.path.to_path_buf(), dir: dir.to_path_buf() })
                }
            }
        }
    }
}

/// Checks `outputs` against `inputs` and each other. Inputs that do not exist or are not
/// files are left to the code that opens them (it names them in its own error).
pub fn check_outputs(inputs: &[Named<'_>], outputs: &[Named<'_>]) -> Result<(), PathError> {
    let inputs: Vec<(Named<'_>, Identity)> = inputs
        .iter()
        .filter(|n| n.path.as_os_str() != "-")
        .filter_map(|n| match std::fs::metadata(n.path) {
            Ok(m) if m.is_file() => Some((*n, Identity::File(m.dev(), m.ino()))),
            _ => None,
        })
        .collect();
    let mut seen: Vec<(Named<'_>, Identity)> = Vec::new();
    for out in outputs.iter().filter(|n| n.path.as_os_str() != "-") {
        let id = identity(*out)?;
        if id == Identity::Special {
            continue;
        }
        if let Some((input, _)) = inputs.iter().find(|(_, i)| *i == id) {
            return Err(PathError::OutputIsInput {
                output: out.option,
                input: input.option,
                path: out.path.to_path_buf(),
            });
        }
        if let Some((first, _)) = seen.iter().find(|(_, i)| *i == id) {
            return Err(PathError::SameOutput {
                first: first.option,
                second: out.option,
                path: out.path.to_path_buf(),
            });
        }
        seen.push((*out, id));
    }
    Ok(())
}

/// Checks that `dir`, when it exists, is a directory.
pub fn check_directory(dir: Named<'_>) -> Result<(), PathError> {
    match std::fs::metadata(dir.path) {
        Ok(m) if !m.is_dir() => Err(PathError::NotADirectory { option: dir.option, path: dir.path.to_path_buf() }),
        _ => Ok(()),
    }
}

/// Checks the journal's archive directory (`[journal] archive_dir`): a directory when it
/// exists, and never the journal's own directory (a segment "archived" there never goes).
pub fn check_archive(journal: &Path, archive: &Path) -> Result<(), PathError> {
    check_directory(Named { option: "journal.archive_dir", path: archive })?;
    let id = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    if id(archive).is_some() && id(archive) == id(journal) || archive == journal {
        return Err(PathError::ArchiveIsJournal { path: archive.to_path_buf() });
    }
    Ok(())
}

/// True when the two inputs are the same existing file (worth a warning: a stream
/// reconciled against itself reports nothing).
pub fn same_input(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.is_file() && (x.dev(), x.ino()) == (y.dev(), y.ino()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named<'a>(option: &'static str, path: &'a Path) -> Named<'a> {
        Named { option, path }
    }

    #[test]
    fn an_output_naming_an_input_by_any_path_or_another_output_is_refused() {
        let tmp = tempfile::Builder::new().prefix("fxrecon-paths-").tempdir().unwrap();
        let dir = tmp.path();
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let input = dir.join("primary.fix");
        std::fs::write(&input, b"x\n").unwrap();
        let other_path = dir.join("sub/../primary.fix");
        let link = dir.join("link.fix");
        std::os::unix::fs::symlink(&input, &link).unwrap();
        let hard = dir.join("hard.fix");
        std::fs::hard_link(&input, &hard).unwrap();
        let ins = [named("--primary", &input)];
        for out in [&input, &other_path, &link, &hard] {
            let err = check_outputs(&ins, &[named("--out", out)]).unwrap_err();
            assert!(matches!(err, PathError::OutputIsInput { output: "--out", input: "--primary", .. }), "{err}");
        }
        // Two new outputs naming one file, one of them by another spelling.
        let a = dir.join("out.jsonl");
        let b = dir.join("sub/../out.jsonl");
        let err = check_outputs(&ins, &[named("--out", &a), named("--summary", &b)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("--out and --summary name the same file ({}): each output needs a file of its own", b.display())
        );
        // Distinct outputs, /dev/null twice, and stdin as an input are fine.
        let devnull = Path::new("/dev/null");
        let outs = [named("--out", &a), named("--rejects", devnull), named("--summary", devnull)];
        check_outputs(&[named("--primary", Path::new("-"))], &outs).unwrap();
        // A directory is no output; a missing directory is named.
        assert!(matches!(check_outputs(&ins, &[named("--out", dir)]), Err(PathError::Directory { .. })));
        let err = check_outputs(&ins, &[named("--out", &dir.join("nowhere/out.jsonl"))]).unwrap_err();
        assert!(matches!(err, PathError::NoDirectory { .. }), "{err}");
        assert!(matches!(check_directory(named("--journal", &input)), Err(PathError::NotADirectory { .. })));
        assert!(same_input(&input, &hard) && !same_input(&input, &a));
    }
}
