//! Memory hints (docs/decisions.md D23); with `fix::simd`, the only `unsafe` code of the core.
//!
//! Owns: asking the CPU to start loading the cache line of a value the reconciler will touch a
//! little later (the identity-table slot of the next event, the order of the next timer), and
//! asking the OS to back the large pre-sized tables with huge pages (fewer TLB misses on their
//! random accesses). A hint never changes what the program computes, only when and how memory
//! arrives. Must never dereference, free, move or remap anything: it only takes references
//! and address ranges of live allocations, which are valid by construction.
#![allow(unsafe_code)]

/// Hints that `value`'s cache line will be read soon (no effect on targets without a hint).
#[inline(always)]
pub fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: `_mm_prefetch` is SSE, which every x86_64 CPU has; it is a hint that never
        // faults and never reads or writes memory as far as the program can observe, and the
        // pointer comes from a live reference anyway.
        unsafe { _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast::<i8>()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// Hints every cache line `value` spans (a record of 96 bytes straddles two or three).
#[inline(always)]
pub fn prefetch_all<T>(value: &T) {
    if core::mem::size_of::<T>() == 0 {
        return;
    }
    let p = (value as *const T).cast::<u8>();
    let skew = p as usize & 63;
    let line = p.wrapping_sub(skew);
    let mut off = 0;
    while off < skew + core::mem::size_of::<T>() {
        #[cfg(target_arch = "x86_64")]
        {
            use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
            // SAFETY: as in `prefetch`: a hint that never faults and never reads or writes
            // memory as far as the program can observe; each line hinted holds part of `value`
            // (the pointer is never dereferenced).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line.wrapping_add(off).cast::<i8>()) };
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = line;
        off += 64;
    }
}

/// Hints every cache line of `bytes` (input a thread will read soon).
#[inline]
pub fn prefetch_lines(bytes: &[u8]) {
    let mut at = 0;
    while at < bytes.len() {
        prefetch(&bytes[at]);
        // To the start of the next line.
        at += 64 - ((bytes.as_ptr() as usize + at) & 63);
    }
}

/// Touches every page of `v`'s reserved but unused capacity (writes zeroed, still-unused
/// elements), so the OS maps it now rather than on first use in the middle of a run. The
/// length and contents of `v` do not change.
pub fn prefault_spare<T>(v: &mut Vec<T>) {
    for slot in v.spare_capacity_mut() {
        *slot = core::mem::MaybeUninit::zeroed();
    }
}

/// Touches one element in each page of `v`'s reserved but unused capacity, so the OS maps it
/// now (as [`prefault_spare`], without writing every element: for reservations of gigabytes).
/// The length and contents of `v` do not change.
pub fn prefault_pages<T>(v: &mut Vec<T>) {
    let per_page = (4096 / core::mem::size_of::<T>().max(1)).max(1);
    let spare = v.spare_capacity_mut();
    for i in (0..spare.len()).step_by(per_page) {
        spare[i] = core::mem::MaybeUninit::zeroed();
    }
}

/// Regions smaller than this are left alone (a huge page is 2 MiB).
const HUGE_MIN: usize = 4 << 20;

/// Advises the OS to back the allocation holding `capacity` elements at `start` with
/// transparent huge pages, when it is large enough to matter (Linux only; otherwise nothing).
pub fn advise_huge_pages<T>(start: *const T, capacity: usize) {
    let bytes = capacity.saturating_mul(core::mem::size_of::<T>());
    if bytes < HUGE_MIN {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        // Only whole huge pages inside the allocation: never touch memory outside it.
        let begin = (start as usize).next_multiple_of(HUGE);
        let end = (start as usize + bytes) & !(HUGE - 1);
        if end > begin {
            // SAFETY: [begin, end) lies inside one live allocation of this process (it is
            // rounded inwards from the allocation's own range). MADV_HUGEPAGE only changes how
            // the kernel backs those pages: contents, addresses and validity are unchanged, and
            // a failure (THP off, old kernel) is harmless, so its result is ignored.
            unsafe {
                libc::madvise(begin as *mut libc::c_void, end - begin, libc::MADV_HUGEPAGE);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{advise_huge_pages, prefetch, prefetch_all, prefetch_lines};

    #[test]
    fn huge_page_advice_keeps_contents_and_ignores_small_regions() {
        let mut v: Vec<u64> = (0..(3u64 << 20)).collect();
        advise_huge_pages(v.as_ptr(), v.capacity());
        advise_huge_pages(v[..10].as_ptr(), 10);
        v[12345] += 1;
        assert_eq!(v[12345], 12346);
        assert_eq!(v.iter().sum::<u64>(), (3u64 << 20) * ((3 << 20) - 1) / 2 + 1);
    }

    #[test]
    fn prefaulting_keeps_length_and_contents() {
        let mut v: Vec<u64> = Vec::with_capacity(100_000);
        v.extend([7, 8, 9]);
        super::prefault_spare(&mut v);
        assert_eq!(v, [7, 8, 9]);
        assert!(v.capacity() >= 100_000);
        v.extend(0..99_997);
        assert_eq!(v[3..].iter().sum::<u64>(), 99_996 * 99_997 / 2);
    }

    #[test]
    fn a_hint_changes_nothing() {
        let v: Vec<u64> = (0..1024).collect();
        for x in &v {
            prefetch(x);
        }
        prefetch(&v[1023]);
        assert_eq!(v.iter().sum::<u64>(), 1023 * 1024 / 2);
        // Values of every size and alignment, spanning one line or many; a zero-sized one.
        let bytes: Vec<[u8; 96]> = vec![[5; 96]; 16];
        for b in &bytes {
            prefetch_all(b);
        }
        prefetch_all(&v);
        prefetch_all(&());
        prefetch_all(&bytes[3][17]);
        // Byte ranges of every length and alignment, and an empty one.
        let raw: Vec<u8> = (0..=255).collect();
        for start in [0, 1, 63, 64, 100] {
            for len in [0, 1, 63, 64, 65, 155 - start.min(100)] {
                prefetch_lines(&raw[start..start + len]);
            }
        }
        assert!(raw.iter().enumerate().all(|(i, &b)| b as usize == i));
        assert!(bytes.iter().all(|b| b.iter().all(|&x| x == 5)));
    }
}
