//! A streaming source of synthetic, agreeing execution events, for long-run and memory
//! benchmarks where a whole day of FIX text would not fit in memory (20 million orders).
//!
//! Owns: nothing but a counter; every event is computed from the order number, with no
//! allocation. Each order: New on both streams, then one full fill on both, spaced so the
//! event clock never goes backwards. Nothing diverges: the point is load, not findings.

use std::io::Write;

use fxrecon_core::decimal::{Price, Qty};
use fxrecon_core::event::{ExecEvent, ExecType, MsgKind, OrdStatus, Stream, has};
use fxrecon_core::text::{Id, Name};
use fxrecon_core::time::Micros;

/// Agreeing New + Fill events for `orders` orders spread over `span_us` of event time.
pub struct SyntheticDay {
    orders: u64,
    next: u64,
    step: u8,
    start: Micros,
    spacing_us: i64,
}

impl SyntheticDay {
    /// `orders` orders starting at `start`, one every `span_us / orders` microseconds.
    pub fn new(orders: u64, start: Micros, span_us: i64) -> Self {
        Self { orders, next: 0, step: 0, start, spacing_us: (span_us / orders.max(1) as i64).max(4) }
    }

    fn id(prefix: &str, n: u64, suffix: &str) -> Id {
        let mut buf = [0u8; 40];
        let mut cur = std::io::Cursor::new(&mut buf[..]);
        let _ = write!(cur, "{prefix}{n}{suffix}");
        let len = cur.position() as usize;
        Id::from_bytes(&buf[..len]).unwrap_or_default()
    }
}

impl Iterator for SyntheticDay {
    type Item = ExecEvent;

    fn next(&mut self) -> Option<ExecEvent> {
        if self.next >= self.orders {
            return None;
        }
        let n = self.next;
        let step = self.step;
        self.step = (self.step + 1) % 4;
        if self.step == 0 {
            self.next += 1;
        }
        let t0 = self.start.0 + n as i64 * self.spacing_us;
        // Steps spread over the first three quarters of the order's slot, so time only grows.
        let t = t0 + (step as i64) * (self.spacing_us / 4);
        let stream = if step.is_multiple_of(2) { Stream::Primary } else { Stream::DropCopy };
        let fill = step >= 2;
        let qty = Qty::from_int(1_000_000);
        let px = Price::parse(b"1.0845").unwrap_or_default();
        Some(ExecEvent {
            stream,
            kind: MsgKind::ExecutionReport,
            event_time: Micros(t),
            time: Micros(t),
            cl_ord_id: Self::id("S", n, ""),
            order_id: Self::id("V", n, ""),
            exec_id: Self::id("E", n, if fill { "F" } else { "N" }),
            exec_type: if fill { ExecType::Trade } else { ExecType::New },
            ord_status: if fill { OrdStatus::Filled } else { OrdStatus::New },
            symbol: Name::from_bytes(b"EUR/USD").unwrap_or_default(),
            venue: Name::from_bytes(b"EBS").unwrap_or_default(),
            order_qty: qty,
            price: px,
            last_qty: if fill { qty } else { Qty::ZERO },
            last_px: if fill { px } else { Price::ZERO },
            cum_qty: if fill { qty } else { Qty::ZERO },
            leaves_qty: if fill { Qty::ZERO } else { qty },
            avg_px: if fill { px } else { Price::ZERO },
            present: has::ORDER_QTY
                | has::PRICE
                | has::LAST_QTY
                | has::LAST_PX
                | has::CUM_QTY
                | has::LEAVES_QTY
                | has::AVG_PX
                | has::EXEC_TYPE
                | has::ORD_STATUS
                | has::ARRIVAL,
            ..ExecEvent::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fxrecon_core::{ReconConfig, Reconciler, Record};

    #[test]
    fn synthetic_orders_agree_and_retire_in_bounded_memory() {
        let orders = 20_000;
        let day = SyntheticDay::new(orders, Micros(1_700_000_000_000_000), 600_000_000);
        let cfg = ReconConfig { max_orders: 4_096, max_execs: 32_768, retention_ms: 5_000, ..ReconConfig::default() };
        let mut r = Reconciler::new(cfg);
        let mut out: Vec<Record> = Vec::new();
        let mut n = 0;
        for ev in day {
            r.apply(&ev, &mut out);
            n += 1;
        }
        r.finish(&mut out);
        assert_eq!(n, orders * 4);
        assert!(out.is_empty(), "{:?}", &out[..out.len().min(3)]);
        let s = r.store_stats();
        assert_eq!(r.stats().orders, orders);
        assert!(s.high_water < 4_096 && s.capacity_exhausted == 0 && s.evicted == 0, "{s:?}");
        assert!(s.retired > orders - 1_000);
    }
}
