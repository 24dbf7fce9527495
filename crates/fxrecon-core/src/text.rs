//! Fixed-capacity inline strings for identifiers carried by events and orders.
//!
//! Owns: the byte storage of ClOrdIDs, ExecIDs, symbols and CompIDs. Never allocates: every
//! value lives inline, so events can be copied through rings and stored in arenas.

use core::fmt;
use core::hash::{Hash, Hasher};

/// A string of at most `N` bytes stored inline.
#[derive(Clone, Copy)]
pub struct InlineStr<const N: usize> {
    len: u8,
    bytes: [u8; N],
}

/// An order or execution identifier (ClOrdID, OrderID, ExecID …), up to 40 bytes.
pub type Id = InlineStr<40>;
/// A short name (Symbol, Account, CompID, venue), up to 24 bytes.
pub type Name = InlineStr<24>;

/// The value did not fit in its inline capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooLong;

impl<const N: usize> InlineStr<N> {
    /// Capacity in bytes.
    pub const CAPACITY: usize = N;

    /// The empty string.
    pub const fn new() -> Self {
        Self { len: 0, bytes: [0; N] }
    }

    /// Copies `src` inline; fails when it is longer than `N`.
    pub fn from_bytes(src: &[u8]) -> Result<Self, TooLong> {
        if src.len() > N {
            return Err(TooLong);
        }
        let mut s = Self::new();
        s.bytes[..src.len()].copy_from_slice(src);
        s.len = src.len() as u8;
        Ok(s)
    }

    /// Replaces the value in place with `src` (no zeroing of unused capacity: it is never
    /// read). Fails, leaving the value unchanged, when `src` is longer than `N`.
    #[inline]
    pub fn set(&mut self, src: &[u8]) -> Result<(), TooLong> {
        if src.len() > N {
            return Err(TooLong);
        }
        self.bytes[..src.len()].copy_from_slice(src);
        self.len = src.len() as u8;
        Ok(())
    }

    /// Replaces the value in place with `src[..len]`; when `src` has `N` bytes it copies all `N`
    /// (a fixed-size copy: the bytes past `len` are unused capacity, never read). Fails, leaving
    /// the value unchanged, when `len` is longer than `N`.
    #[inline]
    pub fn set_from(&mut self, src: &[u8], len: usize) -> Result<(), TooLong> {
        if len > N {
            return Err(TooLong);
        }
        match src.get(..N) {
            Some(window) => self.bytes.copy_from_slice(window),
            None => self.set_short(src, len),
        }
        self.len = len as u8;
        Ok(())
    }

    /// The rare end of [`Self::set_from`] (fewer than `N` bytes in `src`): out of line, so that
    /// the common copy stays a fixed-size one (merged with this one, it became a call to
    /// `memcpy` of a computed length for every field).
    #[cold]
    #[inline(never)]
    fn set_short(&mut self, src: &[u8], len: usize) {
        self.bytes[..len].copy_from_slice(&src[..len]);
    }

    /// Copies up to `N` bytes of arbitrary input as printable ASCII: SOH becomes `|`, other
    /// control and non-ASCII bytes become `?`. For excerpts of bad input; never fails.
    pub fn from_bytes_lossy(src: &[u8]) -> Self {
        let mut s = Self::new();
        let n = src.len().min(N);
        for (dst, &b) in s.bytes[..n].iter_mut().zip(src) {
            *dst = match b {
                0x01 => b'|',
                0x20..=0x7e => b,
                _ => b'?',
            };
        }
        s.len = n as u8;
        s
    }

    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The stored text; for bytes that are not UTF-8, the longest valid prefix.
    pub fn as_str(&self) -> &str {
        match core::str::from_utf8(self.as_bytes()) {
            Ok(s) => s,
            Err(e) => {
                // The prefix up to the first invalid byte is valid UTF-8.
                core::str::from_utf8(&self.as_bytes()[..e.valid_up_to()]).unwrap_or("")
            }
        }
    }

    /// Empties the value in place (the capacity is left as it was: bytes past the length are
    /// never read).
    #[inline]
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// True when no bytes are stored.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len as usize
    }
}

impl<const N: usize> Default for InlineStr<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> InlineStr<N> {
    /// Bytes `i..i + 8` as one word (`i + 8 <= N`).
    #[inline(always)]
    fn word(&self, i: usize) -> u64 {
        u64::from_le_bytes(self.bytes[i..i + 8].try_into().expect("8 bytes"))
    }
}

impl<const N: usize> PartialEq for InlineStr<N> {
    /// Equal lengths and equal bytes up to the length; compared a word at a time inline (ids
    /// are compared on every lookup), the unused capacity masked off.
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        if self.len != other.len {
            return false;
        }
        let n = self.len as usize;
        if !N.is_multiple_of(8) {
            return self.as_bytes() == other.as_bytes();
        }
        let mut i = 0;
        while i + 8 <= n {
            if self.word(i) != other.word(i) {
                return false;
            }
            i += 8;
        }
        // A partial last word: i < n <= N and N is a multiple of 8, so i + 8 <= N.
        i == n || (self.word(i) ^ other.word(i)) & (u64::MAX >> (8 * (8 - (n - i)))) == 0
    }
}
impl<const N: usize> Eq for InlineStr<N> {}

impl<const N: usize> Hash for InlineStr<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(self.as_bytes());
    }
}

impl<const N: usize> PartialOrd for InlineStr<N> {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl<const N: usize> Ord for InlineStr<N> {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl<const N: usize> fmt::Debug for InlineStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_bytes()))
    }
}

impl<const N: usize> fmt::Display for InlineStr<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_overlong() {
        let id = Id::from_bytes(b"C0001.R1").unwrap();
        assert_eq!(id.as_str(), "C0001.R1");
        assert_eq!(id.len(), 8);
        assert!(Id::from_bytes(&[b'x'; 41]).is_err());
        assert!(Id::from_bytes(&[b'x'; 40]).is_ok());
        assert_eq!(Name::from_bytes_lossy(b"8=FIX\x01\xff\n").as_str(), "8=FIX|??");
    }

    #[test]
    fn set_from_keeps_only_len_bytes() {
        let mut a = Name::new();
        a.set_from(b"EUR/USD\x01rest of the message, well past 24 bytes", 7).unwrap();
        assert_eq!(a, Name::from_bytes(b"EUR/USD").unwrap());
        a.set_from(b"GBP", 3).unwrap();
        assert_eq!(a.as_str(), "GBP");
        assert_eq!(a.set_from(&[b'x'; 30], 25), Err(TooLong));
        assert_eq!(a.as_str(), "GBP");
    }

    #[test]
    fn equality_compares_exactly_the_stored_bytes() {
        let texts: Vec<Vec<u8>> =
            (0..=40).flat_map(|n| [vec![b'a'; n], [vec![b'a'; n.max(1) - 1], vec![b'b']].concat()]).collect();
        for a in &texts {
            for b in &texts {
                let mut x = Id::new();
                let mut y = Id::new();
                // Junk in the unused capacity must not matter.
                x.set_from(&[a.as_slice(), &[b'x'; 40]].concat(), a.len()).unwrap();
                y.set_from(&[b.as_slice(), &[b'y'; 40]].concat(), b.len()).unwrap();
                assert_eq!(x == y, a == b, "{a:?} {b:?}");
            }
        }
        let odd = InlineStr::<5>::from_bytes(b"abc").unwrap();
        assert_eq!(odd, InlineStr::<5>::from_bytes(b"abc").unwrap());
        assert_ne!(odd, InlineStr::<5>::from_bytes(b"abd").unwrap());
    }

    #[test]
    fn equality_ignores_unused_capacity() {
        let a = Id::from_bytes(b"AB").unwrap();
        let mut b = Id::from_bytes(b"ABC").unwrap();
        b = Id::from_bytes(&b.as_bytes()[..2]).unwrap();
        assert_eq!(a, b);
    }
}
