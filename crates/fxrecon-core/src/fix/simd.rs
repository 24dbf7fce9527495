//! 16-byte comparisons for the decoder's field scan (SSE2 on x86_64, part of its baseline;
//! plain comparisons elsewhere).
//!
//! Owns: two questions, "which of these 16 bytes equal c" and "what do these bytes add up to"
//! (the CheckSum). Never reads outside the slice it is given: a window that does not fit is not
//! compared at all, and sums take whole 16-byte chunks of the slice only. The only `unsafe`
//! code of the decoder.
#![allow(unsafe_code)]

/// Bit `i` set when `hay[at + i] == c`, for the 16 bytes from `at`; `None` when `hay` has fewer
/// than 16 bytes there.
#[inline(always)]
pub(crate) fn eq_mask16(hay: &[u8], at: usize, c: u8) -> Option<u32> {
    let window: &[u8; 16] = hay.get(at..at.checked_add(16)?)?.try_into().ok()?;
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
        // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always
        // available; the (unaligned) load reads exactly the 16 bytes of `window`.
        let m = unsafe {
            let v = _mm_loadu_si128(window.as_ptr().cast::<__m128i>());
            _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8)))
        };
        Some(m as u32 & 0xffff)
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        Some(eq_mask16_portable(window, c))
    }
}

/// The comparison of [`eq_mask16`] without SIMD: the build for other targets, and the reference
/// the SSE2 one is tested against.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn eq_mask16_portable(window: &[u8; 16], c: u8) -> u32 {
    window.iter().enumerate().fold(0u32, |m, (i, &b)| m | (((b == c) as u32) << i))
}

/// Bit `i` set when `hay[at + i] == c`, for the up to 64 bytes from `at` that `hay` has.
#[inline(always)]
pub(crate) fn eq_mask64(hay: &[u8], at: usize, c: u8) -> u64 {
    let mut mask = 0u64;
    let mut i = 0;
    // Whole 16-byte windows (all four for a full block), then byte by byte.
    while i < 64 {
        match eq_mask16(hay, at + i, c) {
            Some(m) => mask |= (m as u64) << i,
            None => break,
        }
        i += 16;
    }
    // Fewer than 16 bytes left (the end of a message): the 16-byte window that ends with the
    // slice, shifted down past the bytes already compared, instead of a loop over the rest.
    let from = at.saturating_add(i);
    if i < 64 && from < hay.len() {
        match hay.len().checked_sub(16).and_then(|s| Some((s, eq_mask16(hay, s, c)?))) {
            Some((s, m)) => mask |= ((m >> (from - s)) as u64) << i,
            None => {
                for (j, &b) in hay[from..].iter().enumerate() {
                    mask |= ((b == c) as u64) << (i + j);
                }
            }
        }
    }
    mask
}

/// The sum of all bytes (16 at a time with SSE2 `psadbw` on x86_64).
#[inline]
pub(crate) fn byte_sum(bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(16);
    #[cfg(target_arch = "x86_64")]
    let mut total = {
        use core::arch::x86_64::{
            __m128i, _mm_add_epi64, _mm_cvtsi128_si64, _mm_loadu_si128, _mm_sad_epu8, _mm_setzero_si128,
            _mm_unpackhi_epi64,
        };
        // SAFETY: SSE2 is part of the x86_64 baseline, so these intrinsics are always
        // available; each (unaligned) load reads exactly one 16-byte chunk of `bytes`.
        unsafe {
            let mut acc = _mm_setzero_si128();
            for c in &mut chunks {
                let v = _mm_loadu_si128(c.as_ptr().cast::<__m128i>());
                acc = _mm_add_epi64(acc, _mm_sad_epu8(v, _mm_setzero_si128()));
            }
            _mm_cvtsi128_si64(acc) as u64 + _mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc)) as u64
        }
    };
    #[cfg(not(target_arch = "x86_64"))]
    let mut total = (&mut chunks).flatten().map(|&b| b as u64).sum::<u64>();
    total += chunks.remainder().iter().map(|&b| b as u64).sum::<u64>();
    total
}

#[cfg(test)]
mod tests {
    use super::{byte_sum, eq_mask16, eq_mask16_portable, eq_mask64};

    /// The SSE2 comparison (on x86_64) and the portable one agree on every window, byte value
    /// and searched byte (on other targets both are the portable one).
    #[test]
    fn simd_and_portable_comparisons_agree() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..20_000 {
            let mut window = [0u8; 16];
            for b in &mut window {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Mostly the bytes the decoder looks for, so that masks are dense and sparse.
                *b = [0x01, b'|', b'=', b'8', (seed >> 24) as u8][(seed % 5) as usize];
            }
            for c in [0x01, b'|', b'=', b'8', 0x00, 0xff] {
                assert_eq!(eq_mask16(&window, 0, c), Some(eq_mask16_portable(&window, c)), "{window:?} {c}");
            }
        }
    }

    #[test]
    fn eq_mask64_agrees_with_a_byte_comparison_and_stops_at_the_slice_end() {
        let hay: Vec<u8> =
            (0..200u32).map(|i| if i % 5 == 0 || i % 13 == 0 { b'|' } else { b'0' + (i % 10) as u8 }).collect();
        for len in [0, 1, 15, 16, 17, 63, 64, 65, 100, 127, 128, 200] {
            let hay = &hay[..len];
            for at in 0..len + 2 {
                let want = (0..64).filter(|&i| hay.get(at + i) == Some(&b'|')).fold(0u64, |m, i| m | 1 << i);
                assert_eq!(eq_mask64(hay, at, b'|'), want, "len {len} at {at}");
            }
        }
    }

    #[test]
    fn byte_sum_agrees_with_a_plain_sum() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 37 % 256) as u8).collect();
        for len in 0..data.len() {
            for start in [0, 1, 7] {
                let s = &data[start.min(len)..len];
                assert_eq!(byte_sum(s), s.iter().map(|&b| b as u64).sum::<u64>(), "len {len} start {start}");
            }
        }
        assert_eq!(byte_sum(&[255u8; 70_000]), 255 * 70_000);
    }

    #[test]
    fn agrees_with_a_byte_comparison_and_never_reads_past_the_slice() {
        let hay: Vec<u8> =
            (0..100u32).map(|i| if i % 7 == 0 || i % 11 == 0 { 0x01 } else { b'a' + (i % 26) as u8 }).collect();
        for at in 0..hay.len() + 3 {
            let want =
                (at + 16 <= hay.len()).then(|| (0..16).fold(0u32, |m, i| m | (((hay[at + i] == 0x01) as u32) << i)));
            assert_eq!(eq_mask16(&hay, at, 0x01), want, "at {at}");
        }
        assert_eq!(eq_mask16(&hay, usize::MAX, 0x01), None);
    }
}
