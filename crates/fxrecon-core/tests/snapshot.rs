//! Snapshots: a reconciler saved at any point and restored behaves exactly like the original
//! from there on (same records, same state digest), and a damaged snapshot is an error. Also
//! prefaulting, the other operation on the whole state, changes nothing the reconciler does.

use fxrecon_core::event::{ExecEvent, Stream};
use fxrecon_core::fix::decode;
use fxrecon_core::snapshot::{SnapReader, SnapshotError};
use fxrecon_core::{ReconConfig, Reconciler, Record};

/// A generated mixed day with every fault kind, decoded and merged by event time.
fn day(orders: usize, seed: u64) -> Vec<ExecEvent> {
    let day = fxrecon_gen::generate(&fxrecon_gen::GenConfig { orders, seed, fault_rate: 0.05, ..Default::default() });
    let mut events = Vec::new();
    for (stream, bytes) in [(Stream::Primary, &day.primary), (Stream::DropCopy, &day.dropcopy)] {
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let mut e = ExecEvent { stream, ..Default::default() };
            decode(line, &mut e).unwrap();
            e.event_time = e.arrival().unwrap();
            events.push(e);
        }
    }
    events.sort_by_key(|e| (e.event_time, e.stream));
    events
}

fn cfg() -> ReconConfig {
    // Small store and short retention, so slots, records and aliases are reused and retired
    // orders leave free-list state behind before the snapshot.
    ReconConfig { max_orders: 1 << 12, max_execs: 1 << 15, retention_ms: 2_000, ..ReconConfig::default() }
}

/// The reference: one reconciler over the whole day, and the records it emitted.
fn uninterrupted(events: &[ExecEvent]) -> (Reconciler, Vec<Record>) {
    let mut reference = Reconciler::new(cfg());
    let mut want = Vec::new();
    for e in events {
        reference.apply(e, &mut want);
    }
    reference.finish(&mut want);
    (reference, want)
}

#[test]
fn restored_reconciler_continues_exactly_like_the_original() {
    for seed in [3, 8] {
        let events = day(1_500, seed);
        let (reference, want) = uninterrupted(&events);
        let n = events.len();
        for cut in [0, 1, n / 7, n / 3, n / 2, n - 1, n] {
            let mut first = Reconciler::new(cfg());
            let mut got: Vec<Record> = Vec::new();
            for e in &events[..cut] {
                first.apply(e, &mut got);
            }
            let mut bytes = Vec::new();
            first.save(&mut bytes);
            let mut r = SnapReader::new(&bytes);
            let mut restored = Reconciler::restore(cfg(), &mut r).unwrap();
            r.finish().unwrap();
            assert_eq!(restored.state_digest(), first.state_digest(), "seed {seed} cut {cut}: digest after restore");
            for e in &events[cut..] {
                restored.apply(e, &mut got);
            }
            restored.finish(&mut got);
            assert_eq!(got, want, "seed {seed} cut {cut}: records after restore");
            assert_eq!(restored.state_digest(), reference.state_digest(), "seed {seed} cut {cut}: final digest");
            assert_eq!(restored.stats(), reference.stats());
        }
    }
}

#[test]
fn prefaulting_at_any_point_changes_nothing() {
    let events = day(1_500, 5);
    let (reference, want) = uninterrupted(&events);
    let n = events.len();
    for cut in [0, n / 3, n] {
        let mut r = Reconciler::new(cfg());
        let mut got: Vec<Record> = Vec::new();
        for e in &events[..cut] {
            r.apply(e, &mut got);
        }
        let before = r.state_digest();
        r.prefault();
        assert_eq!(r.state_digest(), before, "cut {cut}: prefault changed the state");
        for e in &events[cut..] {
            r.apply(e, &mut got);
        }
        r.finish(&mut got);
        assert_eq!(got, want, "cut {cut}: records after a prefault");
        assert_eq!(r.state_digest(), reference.state_digest(), "cut {cut}: final digest");
    }
}

#[test]
fn damaged_or_foreign_snapshots_are_errors_not_panics() {
    let events = day(300, 5);
    let mut rec = Reconciler::new(cfg());
    let mut out: Vec<Record> = Vec::new();
    for e in &events[..events.len() / 2] {
        rec.apply(e, &mut out);
    }
    let mut bytes = Vec::new();
    rec.save(&mut bytes);
    let restore = |b: &[u8], c: ReconConfig| {
        let mut r = SnapReader::new(b);
        Reconciler::restore(c, &mut r).and_then(|x| r.finish().map(|()| x))
    };
    assert!(restore(&bytes, cfg()).is_ok());
    let other = ReconConfig { grace_ms: 1_000, ..cfg() };
    assert_eq!(restore(&bytes, other).err(), Some(SnapshotError::ConfigMismatch));
    for cut in (0..bytes.len()).step_by(bytes.len() / 200 + 1) {
        assert!(restore(&bytes[..cut], cfg()).is_err(), "truncated at {cut}");
    }
    // Flipped bytes never panic: each restores to an error or to some state (the file-level
    // CRC is what catches silent damage).
    for at in (0..bytes.len()).step_by(bytes.len() / 400 + 1) {
        let mut b = bytes.clone();
        b[at] ^= 0x5a;
        let _ = restore(&b, cfg());
    }
}

/// A snapshot that passes every check on restore is used like any other: damaged values in it
/// (an index past an arena, a table slot naming a missing entry, a timer for a slot that does
/// not exist) are caught on restore, never by a panic in the events that follow. The file's
/// CRC stops accidental damage; this stops a crafted or miscomputed snapshot from taking the
/// daemon down.
#[test]
fn a_restored_damaged_snapshot_never_panics_later() {
    let events = day(300, 5);
    let half = events.len() / 2;
    let mut rec = Reconciler::new(cfg());
    let mut out: Vec<Record> = Vec::new();
    for e in &events[..half] {
        rec.apply(e, &mut out);
    }
    let mut bytes = Vec::new();
    rec.save(&mut bytes);
    // Each mutation of a little-endian word: small values, values just past likely bounds, all
    // ones, and a flipped low bit; at every 4-byte-aligned offset and at odd offsets too.
    let patterns: [fn(&mut [u8]); 5] = [
        |w| w.copy_from_slice(&0u32.to_le_bytes()),
        |w| w.copy_from_slice(&u32::MAX.to_le_bytes()),
        |w| w.copy_from_slice(&4_096u32.to_le_bytes()),
        |w| w.copy_from_slice(&40_000u32.to_le_bytes()),
        |w| w[0] ^= 1,
    ];
    let step = (bytes.len() / 500).max(1);
    let mut restored = 0;
    for at in (0..bytes.len().saturating_sub(4)).step_by(step).chain((1..bytes.len() - 4).step_by(step * 7 + 1)) {
        for p in &patterns {
            let mut b = bytes.clone();
            p(&mut b[at..at + 4]);
            let mut r = SnapReader::new(&b);
            let Ok(mut rec) = Reconciler::restore(cfg(), &mut r) else { continue };
            restored += 1;
            let mut sink: Vec<Record> = Vec::new();
            for e in &events[half..] {
                rec.apply(e, &mut sink);
            }
            rec.finish(&mut sink);
            let _ = rec.state_digest();
            let mut again = Vec::new();
            rec.save(&mut again);
        }
    }
    // The damage mostly lands in values that any number may hold (quantities, times, counts):
    // those restore, and must then be safe to run on.
    assert!(restored > 500, "only {restored} damaged snapshots restored: the test exercises nothing");
}
