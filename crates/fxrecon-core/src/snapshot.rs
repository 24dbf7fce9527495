//! The byte form of a snapshot of the canonical state: a plain, explicit, little-endian
//! encoding that every stateful part of the core writes itself into and reads itself back from.
//!
//! Owns: the primitive encodings ([`Persist`] for integers, flags, inline strings, times,
//! decimals, options, arrays and vectors) and the error a damaged or foreign snapshot gives.
//! Knows nothing of files, checksums or journal positions (the shell's), and nothing of what
//! the state means. Reading never trusts a length: every count is checked against the bytes
//! left and the capacity it must fit, so a bad snapshot is an error, never a panic or a huge
//! allocation. Used only when a snapshot is taken or restored, never on the hot path.

use crate::decimal::Fixed;
use crate::text::InlineStr;
use crate::time::Micros;

/// A snapshot that cannot be restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    /// The bytes end before the state does.
    #[error("snapshot truncated")]
    Truncated,
    /// A value no state can hold (unknown tag, bad length, count above capacity).
    #[error("snapshot holds an impossible value: {0}")]
    Invalid(&'static str),
    /// Taken with other rules or sizes than the reconciler it is restored into.
    #[error("snapshot was taken with a different configuration")]
    ConfigMismatch,
    /// Bytes left over after the state.
    #[error("snapshot has trailing bytes")]
    Trailing,
}

/// Appends encoded state to a buffer.
pub struct SnapWriter<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> SnapWriter<'a> {
    /// A writer appending to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Self { out }
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.out.extend_from_slice(b);
    }

    /// Appends one value.
    pub fn put<T: Persist>(&mut self, v: &T) -> &mut Self {
        v.save(self);
        self
    }
}

/// Reads encoded state back.
pub struct SnapReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> SnapReader<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    /// Takes the next `n` raw bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.data.len()).ok_or(SnapshotError::Truncated)?;
        let b = &self.data[self.pos..end];
        self.pos = end;
        Ok(b)
    }

    /// Reads one value.
    pub fn get<T: Persist>(&mut self) -> Result<T, SnapshotError> {
        T::load(self)
    }

    /// Reads a count that must not exceed `max` (a capacity) nor the bytes left.
    pub fn count(&mut self, max: usize) -> Result<usize, SnapshotError> {
        let n = self.get::<u64>()?;
        if n > max as u64 || n > (self.data.len() - self.pos) as u64 {
            return Err(SnapshotError::Invalid("count above capacity"));
        }
        Ok(n as usize)
    }

    /// Fails unless every byte was read.
    pub fn finish(self) -> Result<(), SnapshotError> {
        if self.pos == self.data.len() { Ok(()) } else { Err(SnapshotError::Trailing) }
    }
}

/// State that can be written into a snapshot and read back exactly.
pub trait Persist: Sized {
    /// Appends `self`.
    fn save(&self, w: &mut SnapWriter<'_>);
    /// Reads a value written by [`Persist::save`].
    fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError>;
}

macro_rules! persist_int {
    ($($t:ty),*) => {$(
        impl Persist for $t {
            fn save(&self, w: &mut SnapWriter<'_>) {
                w.bytes(&self.to_le_bytes());
            }
            fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
                let b = r.bytes(core::mem::size_of::<$t>())?;
                Ok(<$t>::from_le_bytes(b.try_into().expect("sized above")))
            }
        }
    )*};
}
persist_int!(u8, u16, u32, u64, i64);

impl Persist for usize {
    fn save(&self, w: &mut SnapWriter<'_>) {
        (*self as u64).save(w);
    }
    fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        usize::try_from(r.get::<u64>()?).map_err(|_| SnapshotError::Invalid("size"))
    }
}

impl Persist for bool {
    fn save(&self, w: &mut SnapWriter<'_>) {
        (*self as u8).save(w);
    }
    fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        match r.get::<u8>()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(SnapshotError::Invalid("flag")),
        }
    }
}

impl Persist for Micros {
    fn save(&self, w: &mut SnapWriter<'_>) {
        self.0.save(w);
    }
    /// An instant outside [`Micros::SPAN`] (other than the `i64::MIN` "never" marker) is
    /// refused: differences of held instants must not overflow.
    fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        let v: i64 = r.get()?;
        if v != i64::MIN && !(-Micros::SPAN..=Micros::SPAN).contains(&v) {
            return Err(SnapshotError::Invalid("time out of range"));
        }
        Ok(Micros(v))
    }
}

impl<const S: u32> Persist for Fixed<S> {
    fn save(&self, w: &mut SnapWriter<'_>) {
        self.0.save(w);
    }
    fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        Ok(Fixed(r.get()?))
    }
}

impl<const N: usize> Persist for InlineStr<N> {
    fn save(&self, w: &mut SnapWriter<'_>) {
        (self.len() as u8).save(w);
        w.bytes(self.as_bytes());
    }
    fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        let n = r.get::<u8>()? as usize;
        InlineStr::from_bytes(r.bytes(n)?).map_err(|_| SnapshotError::Invalid("string too long"))
    }
}

impl<T: Persist> Persist for Option<T> {
    fn save(&self, w: &mut SnapWriter<'_>) {
        match self {
            None => 0u8.save(w),
            Some(v) => {
                1u8.save(w);
                v.save(w);
            }
        }
    }
    fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        match r.get::<u8>()? {
            0 => Ok(None),
            1 => Ok(Some(r.get()?)),
            _ => Err(SnapshotError::Invalid("option tag")),
        }
    }
}

impl<T: Persist + Copy + Default, const N: usize> Persist for [T; N] {
    fn save(&self, w: &mut SnapWriter<'_>) {
        for v in self {
            v.save(w);
        }
    }
    fn load(r: &mut SnapReader<'_>) -> Result<Self, SnapshotError> {
        let mut out = [T::default(); N];
        for v in &mut out {
            *v = r.get()?;
        }
        Ok(out)
    }
}

/// Writes a slice as a count and its elements.
pub fn save_slice<T: Persist>(w: &mut SnapWriter<'_>, items: &[T]) {
    items.len().save(w);
    for v in items {
        v.save(w);
    }
}

/// Reads a slice written by [`save_slice`] into `into` (cleared first; its capacity, reserved
/// at construction, bounds the count so restoring never grows past the configured size).
pub fn load_into<T: Persist>(r: &mut SnapReader<'_>, into: &mut Vec<T>) -> Result<(), SnapshotError> {
    into.clear();
    let n = r.count(into.capacity())?;
    for _ in 0..n {
        into.push(r.get()?);
    }
    Ok(())
}

/// Persists a fieldless enum as its index among `all`.
pub fn save_enum<T: PartialEq + Copy>(w: &mut SnapWriter<'_>, v: T, all: &[T]) {
    let i = all.iter().position(|x| *x == v).expect("every value is listed");
    (i as u8).save(w);
}

/// Reads an enum written by [`save_enum`].
pub fn load_enum<T: Copy>(r: &mut SnapReader<'_>, all: &[T]) -> Result<T, SnapshotError> {
    all.get(r.get::<u8>()? as usize).copied().ok_or(SnapshotError::Invalid("enum tag"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::Id;

    #[test]
    fn primitives_round_trip_and_damage_is_an_error() {
        let mut buf = Vec::new();
        let id = Id::from_bytes(b"C0001.R1").unwrap();
        let mut w = SnapWriter::new(&mut buf);
        w.put(&7u32).put(&-5i64).put(&true).put(&Some(Micros(42))).put(&None::<u64>).put(&id).put(&[1u16, 2, 3]);
        save_slice(&mut w, &[9u64, 8, 7]);
        let mut r = SnapReader::new(&buf);
        assert_eq!(r.get::<u32>().unwrap(), 7);
        assert_eq!(r.get::<i64>().unwrap(), -5);
        assert!(r.get::<bool>().unwrap());
        assert_eq!(r.get::<Option<Micros>>().unwrap(), Some(Micros(42)));
        assert_eq!(r.get::<Option<u64>>().unwrap(), None);
        assert_eq!(r.get::<Id>().unwrap(), id);
        assert_eq!(r.get::<[u16; 3]>().unwrap(), [1, 2, 3]);
        let mut v: Vec<u64> = Vec::with_capacity(3);
        load_into(&mut r, &mut v).unwrap();
        assert_eq!(v, vec![9, 8, 7]);
        r.finish().unwrap();

        // Every truncation is an error, not a panic.
        for cut in 0..buf.len() {
            let mut r = SnapReader::new(&buf[..cut]);
            let ok = (|| -> Result<(), SnapshotError> {
                r.get::<u32>()?;
                r.get::<i64>()?;
                r.get::<bool>()?;
                r.get::<Option<Micros>>()?;
                r.get::<Option<u64>>()?;
                r.get::<Id>()?;
                r.get::<[u16; 3]>()?;
                let mut v: Vec<u64> = Vec::with_capacity(3);
                load_into(&mut r, &mut v)
            })();
            assert!(ok.is_err(), "cut at {cut}");
        }
        // A count above the capacity reserved for it is refused before anything is read.
        let mut small = Vec::with_capacity(2);
        let mut r = SnapReader::new(&buf[buf.len() - 32..]);
        assert_eq!(load_into::<u64>(&mut r, &mut small), Err(SnapshotError::Invalid("count above capacity")));
    }
}
