//! Read-only memory maps of offline input files.
//!
//! Owns: the one `unsafe` call of the offline path. Mapping lets the reader hand out lines as
//! slices of the file with no copy; measured on a 1M-message day it removed the kernel copy
//! and the per-line memmove that together took about a sixth of the run (BENCHMARKS.md).

use std::fs::File;
use std::io;
use std::path::Path;

use crate::line_reader::{Line, LineSource, cut_line};

/// A whole input file, mapped read-only (or empty).
pub struct MappedInput {
    map: Option<memmap2::Mmap>,
}

impl MappedInput {
    /// Maps `path` read-only.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        if file.metadata()?.len() == 0 {
            return Ok(Self { map: None });
        }
        // SAFETY: the mapping is read-only and private to this process. The one hazard is
        // another process truncating the file while it is mapped (reads past the new end
        // fault); offline inputs are finished logs, and README says not to modify them during
        // a run. No `&mut` to the mapped bytes is ever created.
        let map = unsafe { memmap2::Mmap::map(&file)? };
        Ok(Self { map: Some(map) })
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

/// The lines of a mapped file, owned (so an ingest thread can hold it).
pub struct MappedLines {
    input: MappedInput,
    pos: usize,
    max: usize,
}

impl MappedLines {
    /// Lines of `input`, each capped at `max` bytes.
    pub fn new(input: MappedInput, max: usize) -> Self {
        Self { input, pos: 0, max }
    }
}

impl LineSource for MappedLines {
    fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        Ok(cut_line(self.input.bytes(), self.pos, self.max).map(|(line, next)| {
            self.pos = next;
            line
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_files_and_empty_files() {
        let dir = std::env::temp_dir().join(format!("fxrecon-map-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.fix");
        std::fs::write(&p, b"line1\nline2\n").unwrap();
        assert_eq!(MappedInput::open(&p).unwrap().bytes(), b"line1\nline2\n");
        let e = dir.join("empty.fix");
        std::fs::write(&e, b"").unwrap();
        assert_eq!(MappedInput::open(&e).unwrap().bytes(), b"");
        assert!(MappedInput::open(&dir.join("missing")).is_err());
    }
}
