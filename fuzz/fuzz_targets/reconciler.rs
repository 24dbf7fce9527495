//! Arbitrary interleavings of execution reports on both streams (a small alphabet of orders,
//! ExecIDs, statuses and quantities, so the fuzzer finds collisions): the reconciler never
//! panics, never emits the same MissingFill twice, is deterministic, and a snapshot taken at
//! any point and restored continues exactly like the original, and a damaged copy of that
//! snapshot is either refused or runs the rest of the events without a panic.
#![no_main]

use std::collections::BTreeSet;

use fxrecon_core::decimal::{Price, Qty};
use fxrecon_core::divergence::{DivergenceKind, Record};
use fxrecon_core::event::{ExecEvent, ExecType, MsgKind, OrdStatus, Stream, has};
use fxrecon_core::text::{Id, Name};
use fxrecon_core::time::Micros;
use fxrecon_core::{ReconConfig, Reconciler};
use libfuzzer_sys::fuzz_target;

const TYPES: [ExecType; 10] = [
    ExecType::New,
    ExecType::Trade,
    ExecType::Trade,
    ExecType::Canceled,
    ExecType::Replaced,
    ExecType::PendingCancel,
    ExecType::Expired,
    ExecType::TradeCancel,
    ExecType::TradeCorrect,
    ExecType::Rejected,
];
const STATUSES: [OrdStatus; 8] = [
    OrdStatus::New,
    OrdStatus::PartiallyFilled,
    OrdStatus::Filled,
    OrdStatus::Canceled,
    OrdStatus::PendingCancel,
    OrdStatus::Expired,
    OrdStatus::Rejected,
    OrdStatus::PendingNew,
];

fn events(data: &[u8]) -> Vec<ExecEvent> {
    let mut t = 1_700_000_000_000_000i64;
    data.chunks_exact(6)
        .map(|c| {
            t += (c[5] as i64) * 20_000; // up to ~5 s between events: timers fire in between
            let order = c[0] % 4;
            let small = |x: u8| Id::from_bytes(&[b'0' + x % 8]).unwrap();
            ExecEvent {
                stream: if c[1] & 1 == 0 { Stream::Primary } else { Stream::DropCopy },
                kind: if c[1] & 0x80 != 0 { MsgKind::OrderCancelReject } else { MsgKind::ExecutionReport },
                event_time: Micros(t),
                cl_ord_id: if c[1] & 2 != 0 {
                    Id::from_bytes(&[b'C', b'0' + order, b'R']).unwrap()
                } else {
                    Id::from_bytes(&[b'C', b'0' + order]).unwrap()
                },
                orig_cl_ord_id: if c[1] & 2 != 0 { Id::from_bytes(&[b'C', b'0' + order]).unwrap() } else { Id::new() },
                exec_id: small(c[2]),
                exec_ref_id: small(c[2] >> 3),
                exec_type: TYPES[(c[3] % 10) as usize],
                ord_status: STATUSES[((c[3] >> 4) % 8) as usize],
                symbol: Name::from_bytes(b"EUR/USD").unwrap(),
                order_qty: Qty::from_int(10 + (c[4] % 3) as i64 * 5),
                cum_qty: Qty::from_int((c[4] >> 2) as i64 % 20),
                last_qty: Qty::from_int((c[4] >> 4) as i64 % 10),
                last_px: Price::from_int(1 + (c[2] % 2) as i64),
                avg_px: Price::from_int(1),
                present: has::EXEC_TYPE
                    | has::ORD_STATUS
                    | has::ORDER_QTY
                    | has::CUM_QTY
                    | has::LAST_QTY
                    | has::LAST_PX
                    | has::AVG_PX,
                ..ExecEvent::default()
            }
        })
        .collect()
}

fn cfg() -> ReconConfig {
    ReconConfig {
        max_orders: 3,
        max_execs: 24,
        retention_ms: 2_000,
        open_retention_ms: 4_000,
        // A retired memory this small is often full: forgetting, reopening and resends of
        // retired orders all happen within a few hundred events.
        retired_memory_ms: 30_000,
        max_retired_orders: 4,
        ..ReconConfig::default()
    }
}

/// Runs the events; with `cut`, saves the state after that many, restores it into a new
/// reconciler and goes on with that one (and runs a copy of the snapshot with `damage`
/// applied: [`run_damaged`]). Returns the records and the final digest.
fn run(evs: &[ExecEvent], cut: Option<usize>, damage: [u8; 4]) -> (Vec<Record>, u64) {
    let mut r = Reconciler::new(cfg());
    let mut out = Vec::new();
    for (i, e) in evs.iter().enumerate() {
        if cut == Some(i) {
            let mut bytes = Vec::new();
            r.save(&mut bytes);
            let mut reader = fxrecon_core::snapshot::SnapReader::new(&bytes);
            let restored = Reconciler::restore(cfg(), &mut reader).expect("own snapshot restores");
            reader.finish().expect("whole snapshot read");
            assert_eq!(restored.state_digest(), r.state_digest(), "digest changed by save/restore");
            run_damaged(&bytes, &evs[i..], damage);
            r = restored;
        }
        r.apply(e, &mut out);
    }
    r.finish(&mut out);
    let digest = r.state_digest();
    (out, digest)
}

/// Writes `damage[2..]` over the snapshot at the offset `damage[..2]` names; when the damaged
/// snapshot restores, runs `evs` on it. It must not panic: a snapshot that restores is one the
/// reconciler can run on.
fn run_damaged(snapshot: &[u8], evs: &[ExecEvent], damage: [u8; 4]) {
    let mut bytes = snapshot.to_vec();
    let at = u16::from_le_bytes([damage[0], damage[1]]) as usize % bytes.len().saturating_sub(1).max(1);
    bytes[at] = damage[2];
    if let Some(b) = bytes.get_mut(at + 1) {
        *b ^= damage[3];
    }
    let mut reader = fxrecon_core::snapshot::SnapReader::new(&bytes);
    if let Ok(mut r) = Reconciler::restore(cfg(), &mut reader) {
        let mut out = Vec::new();
        for e in evs {
            r.apply(e, &mut out);
        }
        r.finish(&mut out);
        let _ = r.state_digest();
    }
}

fuzz_target!(|data: &[u8]| {
    let evs = events(data);
    // The input's last four bytes also say where a copy of the snapshot is damaged.
    let mut damage = [0u8; 4];
    for (d, &b) in damage.iter_mut().zip(data.rchunks(4).next().unwrap_or(&[])) {
        *d = b;
    }
    let (out, digest) = run(&evs, None, damage);
    assert_eq!(run(&evs, None, damage), (out.clone(), digest), "not deterministic");
    if !evs.is_empty() {
        let cut = data.last().map_or(0, |&b| b as usize % evs.len());
        assert_eq!(run(&evs, Some(cut), damage), (out.clone(), digest), "a snapshot at {cut} changed what follows");
    }
    let mut ids = BTreeSet::new();
    for r in &out {
        assert!(ids.insert(r.id()), "duplicate output id");
        if let Record::Divergence(d) = r {
            if d.kind == DivergenceKind::MissingFill {
                assert!(d.exec_id.is_some());
            }
        }
    }
});
