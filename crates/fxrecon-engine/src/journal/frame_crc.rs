//! CRC32C of journal frames: one record of a few hundred bytes at a time.
//!
//! Owns: the payload and header checksums of the frame format (same values as the `crc32c`
//! crate: tested). Hand-written because the crate's general entry point, built for long
//! buffers, cost about 440 instructions per record here (feature detection and three loops per
//! call, three calls per record; callgrind, BENCHMARKS.md): this runs the SSE4.2 `crc32`
//! instruction over eight bytes at a time in one pass per record, and falls back to the crate
//! where SSE4.2 is missing. The one `unsafe` is calling the SSE4.2 function once the CPU is
//! known to have it. Never allocates.

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
    if std::is_x86_feature_detected!("sse4.2") {
        // SAFETY: `sse42::crc` only needs SSE4.2, which was just detected on this CPU; it reads
        // nothing but the slices it is given.
        return unsafe { sse42::crc(Some(kind), parts) };
    }
    parts.iter().fold(crc32c::crc32c(&[kind]), |c, p| crc32c::crc32c_append(c, p))
}

/// CRC32C of a frame header's length and kind (its first five bytes): a damaged length is
/// caught as corruption instead of being mistaken for a write cut short.
#[inline]
pub fn header_crc(head: &[u8]) -> u32 {
    let head = &head[..5];
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("sse4.2") {
        // SAFETY: as in `record_crc_parts`.
        return unsafe { sse42::crc(None, &[head]) };
    }
    crc32c::crc32c(head)
}

#[cfg(target_arch = "x86_64")]
mod sse42 {
    use core::arch::x86_64::{_mm_crc32_u8, _mm_crc32_u16, _mm_crc32_u32, _mm_crc32_u64};

    /// CRC32C of `first` (when given) followed by the concatenation of `parts`, from the
    /// standard initial value.
    #[target_feature(enable = "sse4.2")]
    pub(super) fn crc(first: Option<u8>, parts: &[&[u8]]) -> u32 {
        let mut c = !0u32;
        if let Some(b) = first {
            c = _mm_crc32_u8(c, b);
        }
        for data in parts {
            let mut words = data.chunks_exact(8);
            let mut wide = u64::from(c);
            for w in &mut words {
                wide = _mm_crc32_u64(wide, u64::from_le_bytes(w.try_into().expect("8 bytes")));
            }
            c = wide as u32;
            // The last 0 to 7 bytes in at most three steps (4, 2, 1).
            let mut tail = words.remainder();
            if let Some((w, rest)) = tail.split_first_chunk::<4>() {
                c = _mm_crc32_u32(c, u32::from_le_bytes(*w));
                tail = rest;
            }
            if let Some((w, rest)) = tail.split_first_chunk::<2>() {
                c = _mm_crc32_u16(c, u16::from_le_bytes(*w));
                tail = rest;
            }
            if let Some(&b) = tail.first() {
                c = _mm_crc32_u8(c, b);
            }
        }
        !c
    }
}

#[cfg(test)]
mod tests {
    use super::{header_crc, record_crc, record_crc_parts};

    #[test]
    fn equals_the_crc32c_crate_for_every_length_and_kind() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let data: Vec<u8> = (0..2048)
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

    #[test]
    fn known_check_value() {
        // CRC-32C check value of "123456789" (RFC 3720): as the kind byte plus the rest, too.
        assert_eq!(header_crc(b"12345"), crc32c::crc32c(b"12345"));
        assert_eq!(record_crc(b'1', b"23456789"), 0xE306_9283);
    }
}
