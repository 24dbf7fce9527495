//! A stable 64-bit digest of the reconciler's canonical state, so anyone can check that a
//! replay or a recovery rebuilt exactly the state of the original run.
//!
//! Owns: the hash function (FNV-1a, 64 bit: fixed forever, independent of crate versions and
//! platforms) and the order in which state is fed to it. Never allocates.

/// FNV-1a, 64 bit.
#[derive(Clone, Copy, Debug)]
pub struct Digest(u64);

impl Default for Digest {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Digest {
    /// Feeds bytes.
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        for &x in b {
            self.0 ^= x as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self
    }

    /// Feeds an integer (little-endian bytes).
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    /// Feeds a signed integer.
    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.u64(v as u64)
    }

    /// Feeds a length-prefixed byte string (so concatenations cannot collide).
    pub fn text(&mut self, b: &[u8]) -> &mut Self {
        self.u64(b.len() as u64).bytes(b)
    }

    /// The digest value.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_and_length_prefixing() {
        assert_eq!(Digest::default().bytes(b"").finish(), 0xcbf2_9ce4_8422_2325);
        assert_eq!(Digest::default().bytes(b"a").finish(), 0xaf63_dc4c_8601_ec8c);
        let ab_c = Digest::default().text(b"ab").text(b"c").finish();
        let a_bc = Digest::default().text(b"a").text(b"bc").finish();
        assert_ne!(ab_c, a_bc);
    }
}
