//! Arbitrary interleavings of execution reports on both streams (a small alphabet of orders,
//! ExecIDs, statuses and quantities, so the fuzzer finds collisions): the reconciler never
//! panics, never emits the same MissingFill twice, is deterministic, and a snapshot taken at
//! any point and restored continues exactly like the original.
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
        ..ReconConfig::default()
    }
}

/// Runs the events; with `cut`, saves the state after that many, restores it into a new
/// reconciler and goes on with that one. Returns the records and the final digest.
fn run(evs: &[ExecEvent], cut: Option<usize>) -> (Vec<Record>, u64) {
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
            r = restored;
        }
        r.apply(e, &mut out);
    }
    r.finish(&mut out);
    let digest = r.state_digest();
    (out, digest)
}

fuzz_target!(|data: &[u8]| {
    let evs = events(data);
    let (out, digest) = run(&evs, None);
    assert_eq!(run(&evs, None), (out.clone(), digest), "not deterministic");
    if !evs.is_empty() {
        let cut = data.last().map_or(0, |&b| b as usize % evs.len());
        assert_eq!(run(&evs, Some(cut)), (out.clone(), digest), "a snapshot at {cut} changed what follows");
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
