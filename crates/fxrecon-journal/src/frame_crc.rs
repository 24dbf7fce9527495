//! CRC32C of journal frames: one record of a few hundred bytes at a time.
//!
//! Owns: the payload and header checksums of the frame format (same values as the `crc32c`
//! crate: tested). Hand-written because the crate's general entry point, built for long
//! buffers, cost about 440 instructions per record here (feature detection and three loops per
//! call, three calls per record; callgrind, BENCHMARKS.md): this runs the SSE4.2 `crc32`
//! instruction over eight bytes at a time in one pass per record, in three interleaved lanes
//! joined with a carry-less multiply for the long part (D42), and falls back to the crate
//! where SSE4.2 or PCLMULQDQ is missing. The only `unsafe` is calling that function (from two
//! places) once the CPU is known to have both. Never allocates.
#![allow(unsafe_code)]

/// CRC32C of `kind` followed by `payload` (a frame's payload checksum).
#[inline]
pub fn record_crc(kind: u8, payload: &[u8]) -> u32 {
    record_crc_parts(kind, &[payload])
}

/// CRC32C of `kind` followed by the concatenation of `parts`: the payload checksum computed
/// from where the parts lie, before they are copied into a frame (the copy's destination may
/// not be in cache yet: reading it back stalled on every line, D41).
#[inline]
pub fn record_crc_parts(kind: u8, parts: &[&[u8]]) -> u32 {
    #[cfg(target_arch = "x86_64")]
    if accelerated() {
        // SAFETY: `sse42::crc` only needs SSE4.2 and PCLMULQDQ, which `accelerated` just found
        // on this CPU; it reads nothing but the slices it is given.
        return unsafe { sse42::crc(Some(kind), parts) };
    }
    parts.iter().fold(crc32c::crc32c(&[kind]), |c, p| crc32c::crc32c_append(c, p))
}

/// True when the CPU has the `crc32` and carry-less multiply instructions (cached by std).
#[cfg(target_arch = "x86_64")]
#[inline]
fn accelerated() -> bool {
    std::is_x86_feature_detected!("sse4.2") && std::is_x86_feature_detected!("pclmulqdq")
}

/// CRC32C of a frame header's length and kind (its first five bytes): a damaged length is
/// caught as corruption instead of being mistaken for a write cut short.
///
/// # Panics
/// When `head` is shorter than five bytes (callers pass a whole frame header).
#[inline]
pub fn header_crc(head: &[u8]) -> u32 {
    let head = &head[..5];
    #[cfg(target_arch = "x86_64")]
    if accelerated() {
        // SAFETY: as in `record_crc_parts`.
        return unsafe { sse42::crc(None, &[head]) };
    }
    crc32c::crc32c(head)
}

#[cfg(target_arch = "x86_64")]
mod sse42 {
    use core::arch::x86_64::{
        _mm_clmulepi64_si128, _mm_crc32_u8, _mm_crc32_u16, _mm_crc32_u32, _mm_crc32_u64, _mm_cvtsi32_si128,
        _mm_cvtsi128_si64,
    };

    /// CRC32C's polynomial, bit-reflected.
    const POLY: u32 = 0x82F6_3B78;
    /// Longest lane, in 8-byte words (longer data takes several passes of three lanes).
    pub(super) const MAX_LANE: usize = 256;
    /// Shortest lane worth the step that joins the three (about 8 cycles).
    const MIN_LANE: usize = 4;

    /// `SHIFT[m]` = x^(64·m − 33) mod P, bit-reflected: a register multiplied by it carry-less
    /// and reduced by one `crc32` step is the register after m more zero words.
    static SHIFT: [u32; 2 * MAX_LANE + 1] = shift_table();

    const fn shift_table() -> [u32; 2 * MAX_LANE + 1] {
        let mut t = [0u32; 2 * MAX_LANE + 1];
        // x^31 is bit 0 of a reflected register; each next entry is the last times x^64.
        let mut v = 1u32;
        let mut m = 1;
        while m <= 2 * MAX_LANE {
            t[m] = v;
            let mut k = 0;
            while k < 64 {
                v = (v >> 1) ^ if v & 1 != 0 { POLY } else { 0 };
                k += 1;
            }
            m += 1;
        }
        t
    }

    /// The register `c` after `m` zero words (1 ≤ m ≤ 2·MAX_LANE): the carry-less product
    /// with x^(64m−33) is a 64-bit value worth c·x^(64m−32); one `crc32` step multiplies by
    /// x^32 and reduces.
    #[target_feature(enable = "sse4.2,pclmulqdq")]
    pub(super) fn shift(c: u32, m: usize) -> u32 {
        debug_assert!((1..=2 * MAX_LANE).contains(&m), "the table covers 1 to 2·MAX_LANE words");
        let product = _mm_clmulepi64_si128::<0x00>(_mm_cvtsi32_si128(c as i32), _mm_cvtsi32_si128(SHIFT[m] as i32));
        _mm_crc32_u64(0, _mm_cvtsi128_si64(product) as u64) as u32
    }

    /// CRC32C of `first` (when given) followed by the concatenation of `parts`, from the
    /// standard initial value.
    #[target_feature(enable = "sse4.2,pclmulqdq")]
    pub(super) fn crc(first: Option<u8>, parts: &[&[u8]]) -> u32 {
        let mut c = !0u32;
        if let Some(b) = first {
            c = _mm_crc32_u8(c, b);
        }
        for data in parts {
            c = update(c, data);
        }
        !c
    }

    /// The register `c` after `data`.
    ///
    /// Each `crc32` step waits for the one before (3 cycles), so a long part runs as three
    /// independent lanes, the second and third from a zero register, joined by linearity:
    /// crc(c, A‖B‖C) = shift(crc(c, A), 2n) ⊕ shift(crc(0, B), n) ⊕ crc(0, C) for lanes of
    /// n words. A 330-byte message goes from a chain of 41 word steps to one of 13, plus the
    /// join and 2 leftover words.
    #[target_feature(enable = "sse4.2,pclmulqdq")]
    fn update(mut c: u32, data: &[u8]) -> u32 {
        let mut rest = data;
        while rest.len() / 8 >= 3 * MIN_LANE {
            let n = (rest.len() / 8 / 3).min(MAX_LANE);
            let (l0, r) = rest.split_at(8 * n);
            let (l1, r) = r.split_at(8 * n);
            let (l2, r) = r.split_at(8 * n);
            let (mut c0, mut c1, mut c2) = (u64::from(c), 0u64, 0u64);
            for ((w0, w1), w2) in l0.chunks_exact(8).zip(l1.chunks_exact(8)).zip(l2.chunks_exact(8)) {
                c0 = _mm_crc32_u64(c0, u64::from_le_bytes(w0.try_into().expect("8 bytes")));
                c1 = _mm_crc32_u64(c1, u64::from_le_bytes(w1.try_into().expect("8 bytes")));
                c2 = _mm_crc32_u64(c2, u64::from_le_bytes(w2.try_into().expect("8 bytes")));
            }
            c = shift(c0 as u32, 2 * n) ^ shift(c1 as u32, n) ^ c2 as u32;
            rest = r;
        }
        let mut words = rest.chunks_exact(8);
        let mut wide = u64::from(c);
        for w in &mut words {
            wide = _mm_crc32_u64(wide, u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
        c = wide as u32;
        // The last 0 to 7 bytes in at most three steps (4, 2, 1).
        let mut tail = words.remainder();
        if let Some((w, r)) = tail.split_first_chunk::<4>() {
            c = _mm_crc32_u32(c, u32::from_le_bytes(*w));
            tail = r;
        }
        if let Some((w, r)) = tail.split_first_chunk::<2>() {
            c = _mm_crc32_u16(c, u16::from_le_bytes(*w));
            tail = r;
        }
        if let Some(&b) = tail.first() {
            c = _mm_crc32_u8(c, b);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::{header_crc, record_crc, record_crc_parts};

    #[test]
    fn equals_the_crc32c_crate_for_every_length_and_kind() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let data: Vec<u8> = (0..40_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for len in 0..600 {
            for start in [0, 1, 3, 7] {
                let payload = &data[start..start + len];
                for kind in [0u8, 1, 2, 0xff] {
                    let want = crc32c::crc32c_append(crc32c::crc32c(&[kind]), payload);
                    assert_eq!(record_crc(kind, payload), want, "len {len} start {start} kind {kind}");
                }
            }
        }
        // Long enough for several passes of three full lanes (6,144 bytes each), and a short
        // remainder after them.
        for len in [6_143, 6_144, 6_151, 6_240, 12_288, 12_383, 20_000, 39_990] {
            let payload = &data[3..3 + len];
            let want = crc32c::crc32c_append(crc32c::crc32c(&[9]), payload);
            assert_eq!(record_crc(9, payload), want, "len {len}");
        }
        // Split anywhere into up to three parts, as frames are appended.
        for len in [0, 1, 9, 17, 350, 599] {
            let payload = &data[..len];
            let want = crc32c::crc32c_append(crc32c::crc32c(&[3]), payload);
            for cut1 in 0..=len.min(20) {
                for cut2 in [cut1, (cut1 + len) / 2, len] {
                    let parts = [&payload[..cut1], &payload[cut1..cut2], &payload[cut2..]];
                    assert_eq!(record_crc_parts(3, &parts), want, "len {len} cuts {cut1} {cut2}");
                }
            }
        }
        for head in data.windows(5).take(200) {
            assert_eq!(header_crc(head), crc32c::crc32c(head));
        }
    }

    /// The join's one step equals that many zero words, for every shift the lanes use; and on
    /// this CPU the lanes are what runs (not the crate, which the other test compares with).
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn each_shift_equals_that_many_zero_words() {
        use core::arch::x86_64::_mm_crc32_u64;
        if !super::accelerated() {
            // No SSE4.2 and PCLMULQDQ here: the crate's path runs, and the test above checks it.
            return;
        }
        for c in [0x1234_5678u32, 0xffff_ffff, 1, 0x8000_0000] {
            let mut stepped = u64::from(c);
            for m in 1..=2 * super::sse42::MAX_LANE {
                // SAFETY: both features were detected above.
                stepped = unsafe { _mm_crc32_u64(stepped, 0) };
                // SAFETY: as above.
                assert_eq!(unsafe { super::sse42::shift(c, m) }, stepped as u32, "c {c:#x} m {m}");
            }
        }
    }

    #[test]
    fn known_check_value() {
        // CRC-32C (CRC-32/ISCSI in the CRC catalogue) check value of "123456789": as the kind
        // byte plus the rest, too.
        assert_eq!(header_crc(b"12345"), crc32c::crc32c(b"12345"));
        assert_eq!(record_crc(b'1', b"23456789"), 0xE306_9283);
    }
}
