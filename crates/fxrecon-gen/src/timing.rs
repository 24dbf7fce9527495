//! TimingAnomaly ground truth, computed for every order from the final arrival times.
//!
//! Pairs compared across the streams: each logical fill delivered on both (first delivery on
//! each stream), and for each OrdStatus the first non-fill report carrying it on each stream
//! (FIX 4.2 Replaced is already stored as the live status). A pair more than `timing_ms` apart
//! makes the order a TimingAnomaly. OrderCancelRejects are no ExecutionReports: never paired.
//!
//! Read-only over the day: this module must never move an arrival time or add messages.

use crate::config::GenConfig;
use crate::expected::Expected;
use crate::model::{Day, NO_FILL, SYMBOLS, code, root_cl_ord_id};

/// Slot of an OrdStatus in the per-order first-arrival table.
fn status_slot(status: u8) -> usize {
    match status {
        code::NEW => 0,
        code::PARTIAL => 1,
        code::FILLED => 2,
        code::CANCELED => 3,
        code::PENDING_CANCEL => 4,
        code::REJECTED => 5,
        code::PENDING_NEW => 6,
        code::EXPIRED => 7,
        code::PENDING_REPLACE => 8,
        _ => 9,
    }
}

/// TimingAnomaly records for every order whose paired arrivals differ by more than the threshold.
pub(crate) fn timing_expectations(day: &Day, cfg: &GenConfig) -> Vec<Expected> {
    let threshold = cfg.timing_ms.max(0).saturating_mul(1000);
    let first = day.first_arrivals();
    let mut out = Vec::new();
    for (oi, o) in day.orders.iter().enumerate() {
        let range = o.er_start as usize..o.er_end as usize;
        let ers = &day.ers[range.clone()];
        let arrivals = &first[range];
        let mut status_first = [[i64::MAX; 2]; 10];
        let mut late = false;
        for (e, &arr) in ers.iter().zip(arrivals) {
            if arr == i64::MAX {
                continue;
            }
            let stream = usize::from(e.stream);
            if e.exec_type == code::TRADE {
                if e.fill_id != NO_FILL && stream == 0 {
                    let other = ers
                        .iter()
                        .zip(arrivals)
                        .find(|(o, a)| o.stream == 1 && o.fill_id == e.fill_id && **a != i64::MAX);
                    if let Some((_, &other_arr)) = other {
                        late |= (arr - other_arr).abs() > threshold;
                    }
                }
            } else if !matches!(e.exec_type, code::TRADE_CANCEL | code::TRADE_CORRECT | code::CANCEL_REJECT) {
                let slot = &mut status_first[status_slot(e.status)][stream];
                *slot = (*slot).min(arr);
            }
        }
        late |= status_first.iter().any(|[p, d]| *p != i64::MAX && *d != i64::MAX && (p - d).abs() > threshold);
        if late {
            out.push(Expected::Order {
                order_id: root_cl_ord_id(day.first_order, oi as u32),
                kind: "TimingAnomaly",
                symbol: SYMBOLS[usize::from(o.symbol)].name.to_string(),
                venue: day.venue_label(oi as u32).to_string(),
                side: None,
                exec_id: None,
                rejected_only: false,
                gap_exposure: false,
            });
        }
    }
    out
}
