//! Sequence numbers persisted in the state directory, so a restart resumes the session where
//! it was (no reset, no request for the whole day).
//!
//! Owns: one small file per session (`<state>/fix/<Sender>-<Target>.seqnums`: the next number
//! we send and the next we expect), written whole to a temporary file and renamed over the old
//! one (a crash leaves the old numbers or the new ones, never a torn file); beside it, when a
//! run starts a new journal, the inbound number it started from (`.journal-start`: where a
//! recovery resumes if the journal holds none of the session's messages yet, D64). Must never hold
//! messages (we send admin messages only: a resend is a GapFill).

use std::io;
use std::path::{Path, PathBuf};

/// A session's numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqNums {
    /// MsgSeqNum of the next message we send.
    pub next_out: u64,
    /// MsgSeqNum we expect next from the peer.
    pub next_in: u64,
}

impl Default for SeqNums {
    /// A new session: both at 1.
    fn default() -> Self {
        Self { next_out: 1, next_in: 1 }
    }
}

/// Where one session's numbers live.
#[derive(Clone, Debug)]
pub struct SeqStore {
    path: PathBuf,
}

impl SeqStore {
    /// The store of session `sender`→`target` under `state_dir` (its `fix` directory is made).
    pub fn open(state_dir: &Path, sender: &str, target: &str) -> io::Result<Self> {
        let dir = state_dir.join("fix");
        std::fs::create_dir_all(&dir)?;
        let safe = |s: &str| {
            s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect::<String>()
        };
        Ok(Self { path: dir.join(format!("{}-{}.seqnums", safe(sender), safe(target))) })
    }

    /// The file it writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The numbers stored, or 1/1 when there are none yet.
    pub fn load(&self) -> io::Result<SeqNums> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(SeqNums::default()),
            Err(e) => return Err(e),
        };
        let mut it = text.split_whitespace().map(str::parse::<u64>);
        match (it.next(), it.next()) {
            (Some(Ok(next_out)), Some(Ok(next_in))) if next_out > 0 && next_in > 0 => Ok(SeqNums { next_out, next_in }),
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} does not hold two sequence numbers", self.path.display()),
            )),
        }
    }

    /// Stores `seq` (write a temporary file, rename it over the old one).
    pub fn save(&self, seq: SeqNums) -> io::Result<()> {
        write_whole(&self.path, &format!("{} {}\n", seq.next_out, seq.next_in))
    }

    /// When the numbers were last stored (None: never).
    pub fn saved_at(&self) -> Option<std::time::SystemTime> {
        std::fs::metadata(&self.path).and_then(|m| m.modified()).ok()
    }

    fn journal_start_path(&self) -> PathBuf {
        self.path.with_extension("journal-start")
    }

    /// Records `next_in` as the inbound number a new journal starts from.
    pub fn save_journal_start(&self, next_in: u64) -> io::Result<()> {
        write_whole(&self.journal_start_path(), &format!("{next_in}\n"))
    }

    /// The inbound number the current journal started from, if recorded.
    pub fn load_journal_start(&self) -> io::Result<Option<u64>> {
        match std::fs::read_to_string(self.journal_start_path()) {
            Ok(t) => t.trim().parse().map(Some).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is not a number", self.journal_start_path().display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Writes `text` to a temporary file and renames it over `path`.
fn write_whole(path: &Path, text: &str) -> io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_survive_a_reopen_and_a_bad_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let s = SeqStore::open(dir.path(), "FXRECON", "VENUE/1").unwrap();
        assert_eq!(s.load().unwrap(), SeqNums::default());
        s.save(SeqNums { next_out: 17, next_in: 42 }).unwrap();
        let again = SeqStore::open(dir.path(), "FXRECON", "VENUE/1").unwrap();
        assert_eq!(again.load().unwrap(), SeqNums { next_out: 17, next_in: 42 });
        std::fs::write(again.path(), "x").unwrap();
        assert!(again.load().is_err());
        assert_eq!(again.load_journal_start().unwrap(), None);
        again.save_journal_start(42).unwrap();
        assert_eq!(s.load_journal_start().unwrap(), Some(42));
    }
}
