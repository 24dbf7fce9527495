//! The retired-order memory's cost (issue 22 item 5, docs/decisions.md D59): bytes per
//! remembered order, the address space a memory of N orders reserves, and the resident memory
//! and apply rate of a 24-hour day of N orders with the memory on against the same day
//! with it off, measured in the same process (`fxrecon bench --retired-memory N`).
//!
//! Owns: a streaming synthetic day with the generator's identifiers (ClOrdID `C0000001`,
//! replace links `C0000001.R1`, OrderID `EBS-000001`, ExecID `E000000001` shared by both
//! streams) in which every order agrees on both streams and retires: plain orders (New and one
//! full fill) and, one in `mixed_every`, an order replaced twice with three fills; and the
//! measurement around it (/proc/self/status before and after). No allocation per event.

use std::time::{Duration, Instant};

use fxrecon_core::decimal::{Price, Qty};
use fxrecon_core::divergence::Record;
use fxrecon_core::event::{ExecEvent, ExecType, MsgKind, OrdStatus, Stream, has};
use fxrecon_core::order::store::RetiredMemory;
use fxrecon_core::order::store::retired_memory::BYTES_PER_ORDER;
use fxrecon_core::text::{Id, Name};
use fxrecon_core::time::Micros;
use fxrecon_core::{ReconConfig, Reconciler, Sink};

/// One order in this many is a replaced order (two replaces, three fills) in the mixed day.
pub const MIXED_EVERY: u64 = 10;

/// Orders of each calibration day (one kind of order only).
const CALIBRATION_ORDERS: u64 = 20_000;

/// Event time of the first order (2026-11-18, well inside the i64 µs range).
const DAY_START: Micros = Micros(1_795_000_000_000_000);

/// The orders' reports are spread over the day less this much, so that the last order retires
/// (after `retention_ms`) before the first record's 24 h are up: every order of the day is
/// then held at once, as at the end of a real day.
const DAY_MARGIN_US: i64 = 120_000_000;

/// Events made ahead of the clock at a time (4 MB of them).
const BATCH: usize = 8_192;

/// Event time between two events of one order at most, µs.
const STEP_US: i64 = 500;

/// Reports of a plain order (New, fill) and of a mixed one (New, fill, replace, fill,
/// replace, fill); each goes out on both streams.
const PLAIN_REPORTS: u8 = 2;
const MIXED_REPORTS: u8 = 6;

/// A day of `orders` agreeing orders over 24 h of event time, in merged order.
pub struct RetiredDay {
    orders: u64,
    mixed_every: u64,
    /// Order being emitted (0-based).
    next: u64,
    /// Its next event: report `step / 2`, primary when even.
    step: u8,
    /// ExecID serial of the report being emitted (both streams share it).
    exec_serial: u64,
    spacing_us: i64,
}

impl RetiredDay {
    /// `orders` orders, one in `mixed_every` mixed (0: none), spread evenly over the day.
    pub fn new(orders: u64, mixed_every: u64) -> Self {
        let span = 86_400_000_000 - DAY_MARGIN_US;
        let spacing_us = (span / orders.max(1) as i64).max(16);
        Self { orders, mixed_every, next: 0, step: 0, exec_serial: 0, spacing_us }
    }

    /// Event time just after the last order retired (`retention_ms` after its fill, with the
    /// grace window on top): an event there retires every order of the day.
    pub fn end(&self, cfg: &ReconConfig) -> Micros {
        let last = DAY_START.0 + self.orders as i64 * self.spacing_us;
        Micros(last + (cfg.retention_ms + cfg.grace_ms + 1_000) * Micros::PER_MS)
    }

    fn is_mixed(&self, n: u64) -> bool {
        self.mixed_every > 0 && n % self.mixed_every == self.mixed_every - 1
    }

    /// `prefix`, `n` zero-padded to `width` digits (more when it needs them), `suffix`:
    /// written by hand, as formatting would cost more than the reconciler's work on the event.
    fn id(prefix: &[u8], n: u64, width: usize, suffix: &[u8]) -> Id {
        let mut digits = [b'0'; 20];
        let mut v = n;
        let mut used = 0;
        while v > 0 || used == 0 {
            digits[19 - used] = b'0' + (v % 10) as u8;
            v /= 10;
            used += 1;
        }
        let used = used.max(width);
        let mut buf = [0u8; 48];
        let mut len = 0;
        for part in [prefix, &digits[20 - used..], suffix] {
            buf[len..len + part.len()].copy_from_slice(part);
            len += part.len();
        }
        Id::from_bytes(&buf[..len]).unwrap_or_default()
    }

    /// ClOrdID of link `link` (0 the root) of order number `k` (1-based).
    fn cl_ord_id(k: u64, link: u8) -> Id {
        match link {
            0 => Self::id(b"C", k, 7, b""),
            1 => Self::id(b"C", k, 7, b".R1"),
            _ => Self::id(b"C", k, 7, b".R2"),
        }
    }
}

/// What report `r` of an order says: (ClOrdID link, OrigClOrdID link, ExecType, OrdStatus,
/// OrderQty, LastQty, CumQty) in millions.
fn report_of(mixed: bool, r: u8) -> (u8, Option<u8>, ExecType, OrdStatus, i64, i64, i64) {
    use ExecType::{New, Replaced, Trade};
    use OrdStatus::{Filled, PartiallyFilled};
    if !mixed {
        return match r {
            0 => (0, None, New, OrdStatus::New, 1, 0, 0),
            _ => (0, None, Trade, Filled, 1, 1, 1),
        };
    }
    match r {
        0 => (0, None, New, OrdStatus::New, 3, 0, 0),
        1 => (0, None, Trade, PartiallyFilled, 3, 1, 1),
        2 => (1, Some(0), Replaced, PartiallyFilled, 4, 0, 1),
        3 => (1, None, Trade, PartiallyFilled, 4, 1, 2),
        4 => (2, Some(1), Replaced, PartiallyFilled, 3, 0, 2),
        _ => (2, None, Trade, Filled, 3, 1, 3),
    }
}

impl Iterator for RetiredDay {
    type Item = ExecEvent;

    fn next(&mut self) -> Option<ExecEvent> {
        if self.next >= self.orders {
            return None;
        }
        let n = self.next;
        let mixed = self.is_mixed(n);
        let reports = if mixed { MIXED_REPORTS } else { PLAIN_REPORTS };
        let step = self.step;
        if step.is_multiple_of(2) {
            self.exec_serial += 1;
        }
        self.step += 1;
        if self.step == 2 * reports {
            self.step = 0;
            self.next += 1;
        }
        let (link, orig, exec_type, ord_status, qty, last, cum) = report_of(mixed, step / 2);
        let k = n + 1;
        // Twelve events at most per order, 500 µs apart (less when orders come faster than one
        // every 8 ms), within the first three quarters of its slot: the drop copy follows the
        // primary by one step.
        let t = DAY_START.0 + n as i64 * self.spacing_us + i64::from(step) * (self.spacing_us / 16).min(STEP_US);
        let px = Price::parse(b"1.0845").unwrap_or_default();
        let m = |q: i64| Qty::from_int(q * 1_000_000);
        let trade = exec_type == ExecType::Trade;
        let mut present = has::ORDER_QTY
            | has::PRICE
            | has::CUM_QTY
            | has::LEAVES_QTY
            | has::AVG_PX
            | has::EXEC_TYPE
            | has::ORD_STATUS
            | has::ARRIVAL;
        if trade {
            present |= has::LAST_QTY | has::LAST_PX;
        }
        Some(ExecEvent {
            stream: if step.is_multiple_of(2) { Stream::Primary } else { Stream::DropCopy },
            kind: MsgKind::ExecutionReport,
            event_time: Micros(t),
            time: Micros(t),
            cl_ord_id: Self::cl_ord_id(k, link),
            orig_cl_ord_id: orig.map_or_else(Id::default, |o| Self::cl_ord_id(k, o)),
            order_id: Self::id(b"EBS-", k, 6, b""),
            exec_id: Self::id(b"E", self.exec_serial, 9, b""),
            exec_type,
            ord_status,
            side: b'1',
            symbol: Name::from_bytes(b"EUR/USD").unwrap_or_default(),
            venue: Name::from_bytes(b"EBS").unwrap_or_default(),
            order_qty: m(qty),
            price: px,
            last_qty: if trade { m(last) } else { Qty::ZERO },
            last_px: if trade { px } else { Price::ZERO },
            cum_qty: m(cum),
            leaves_qty: m(qty - cum),
            avg_px: if cum > 0 { px } else { Price::ZERO },
            present,
            ..ExecEvent::default()
        })
    }
}

/// VmSize, VmRSS and VmHWM of this process, bytes (0 where /proc is unavailable).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProcMemory {
    /// Address space mapped.
    pub vm_size: u64,
    /// Resident now.
    pub vm_rss: u64,
    /// Resident at most since start (or since the last reset).
    pub vm_hwm: u64,
}

impl ProcMemory {
    /// Reads /proc/self/status now.
    pub fn now() -> Self {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kb = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map_or(0, |k| k * 1024)
        };
        Self { vm_size: kb("VmSize:"), vm_rss: kb("VmRSS:"), vm_hwm: kb("VmHWM:") }
    }

    /// Resets VmHWM to the current VmRSS (`/proc/self/clear_refs`, value 5); false where the
    /// kernel refuses.
    pub fn reset_peak() -> bool {
        std::fs::write("/proc/self/clear_refs", "5").is_ok()
    }
}

/// One day through one reconciler.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct DayRun {
    /// `retired_memory_ms` of the run (0: the memory off).
    pub retired_memory_ms: i64,
    /// Events applied (both streams, the closing event included).
    pub events: u64,
    /// Time in `Reconciler::apply`, seconds (making the events is not counted).
    pub apply_s: f64,
    /// `events / apply_s`.
    pub events_per_s: f64,
    /// Records the reconciler emitted (an agreeing day: 0).
    pub records: u64,
    /// Orders still live at the end (every order retired: 0).
    pub live_orders: u64,
    /// Orders held by the retired memory at the end.
    pub records_held: u64,
    /// Bytes of record storage in use at the end (`RetiredMemory::bytes_in_use`).
    pub bytes_in_use: u64,
    /// `bytes_in_use / records_held`.
    pub bytes_per_order: f64,
    /// Store counters: orders remembered, forgotten early (the memory full), reopened.
    pub remembered: u64,
    /// See `remembered`.
    pub forgotten_early: u64,
    /// See `remembered`.
    pub reopened: u64,
    /// /proc/self/status before the reconciler was built.
    pub before: ProcMemory,
    /// Just after it was built (its memory reserved, not touched).
    pub built: ProcMemory,
    /// After the day (VmHWM: the peak since `before`, when the kernel allows its reset).
    pub after: ProcMemory,
    /// `after.vm_rss - before.vm_rss`.
    pub rss_growth: u64,
    /// `built.vm_size - before.vm_size`: address space the reconciler reserved.
    pub reserved: u64,
    /// Whether VmHWM was reset before the run (else `after.vm_hwm` is the process's peak).
    pub peak_reset: bool,
}

/// Everything `fxrecon bench --retired-memory N` measures.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RetiredMemoryReport {
    /// Orders of the day.
    pub orders: u64,
    /// One order in this many is mixed (replaced twice, three fills).
    pub mixed_every: u64,
    /// Orders of each kind.
    pub plain_orders: u64,
    /// See `plain_orders`.
    pub mixed_orders: u64,
    /// Bytes per order of a day of plain orders only ([`CALIBRATION_ORDERS`] of them).
    pub plain_bytes_per_order: f64,
    /// Bytes per order of a day of mixed orders only.
    pub mixed_only_bytes_per_order: f64,
    /// `BYTES_PER_ORDER`: record storage reserved per order.
    pub reserved_bytes_per_order: u64,
    /// `max_retired_orders` of the measured run.
    pub max_retired_orders: u64,
    /// Address space one `RetiredMemory` of `max_retired_orders` reserves (VmSize growth
    /// around its construction, nothing touched): slots, byte ring and identifier index.
    pub memory_reserved: u64,
    /// Of which the byte ring (`max_retired_orders * BYTES_PER_ORDER`).
    pub memory_reserved_ring: u64,
    /// The day with the memory off (`retired_memory_ms = 0`), run first.
    pub off: DayRun,
    /// The day with the memory on.
    pub on: DayRun,
    /// `on.rss_growth - off.rss_growth`: resident memory of the retired memory at the day's
    /// end.
    pub resident_of_memory: i64,
    /// `on.events_per_s / off.events_per_s`.
    pub rate_on_over_off: f64,
}

struct Count(u64);

impl Sink for Count {
    fn emit(&mut self, _: &Record) {
        self.0 += 1;
    }
}

/// Runs the day of `orders` orders (one in `mixed_every` mixed) through a new reconciler
/// with `cfg`, then one event after the last order retired.
pub fn run_day(orders: u64, mixed_every: u64, cfg: ReconConfig) -> DayRun {
    let peak_reset = ProcMemory::reset_peak();
    let before = ProcMemory::now();
    let mut r = Reconciler::new(cfg);
    let built = ProcMemory::now();
    let day = RetiredDay::new(orders, mixed_every);
    let end = day.end(&cfg);
    let mut sink = Count(0);
    let mut events = 0u64;
    let mut apply = Duration::ZERO;
    // Events are made a batch at a time outside the clock: making one costs about as much as
    // applying it.
    let mut batch: Vec<ExecEvent> = Vec::with_capacity(BATCH);
    let mut day = day.peekable();
    while day.peek().is_some() {
        batch.clear();
        batch.extend(day.by_ref().take(BATCH));
        let t0 = Instant::now();
        for ev in &batch {
            r.apply(ev, &mut sink);
        }
        apply += t0.elapsed();
        events += batch.len() as u64;
    }
    drop(batch);
    // A heartbeat after the last order's retention: every order has retired.
    let close = ExecEvent {
        stream: Stream::Primary,
        kind: MsgKind::Heartbeat,
        event_time: end,
        time: end,
        present: has::ARRIVAL,
        ..ExecEvent::default()
    };
    let t0 = Instant::now();
    r.apply(&close, &mut sink);
    apply += t0.elapsed();
    events += 1;
    let apply_s = apply.as_secs_f64();
    let after = ProcMemory::now();
    let m = r.store().retired();
    let s = r.store_stats();
    let held = m.len() as u64;
    let bytes = m.bytes_in_use() as u64;
    let run = DayRun {
        retired_memory_ms: cfg.retired_memory_ms,
        events,
        apply_s,
        events_per_s: events as f64 / apply_s.max(1e-9),
        records: sink.0,
        live_orders: r.store().len() as u64,
        records_held: held,
        bytes_in_use: bytes,
        bytes_per_order: if held > 0 { bytes as f64 / held as f64 } else { 0.0 },
        remembered: s.remembered,
        forgotten_early: s.forgotten_early,
        reopened: s.reopened,
        before,
        built,
        after,
        peak_reset,
        rss_growth: after.vm_rss.saturating_sub(before.vm_rss),
        reserved: built.vm_size.saturating_sub(before.vm_size),
    };
    drop(r);
    run
}

/// Mean bytes per remembered order of a small day of one kind of order only.
fn calibrate(mixed: bool, cfg: ReconConfig) -> f64 {
    let cfg = ReconConfig { max_retired_orders: 2 * CALIBRATION_ORDERS as usize, ..cfg };
    let run = run_day(CALIBRATION_ORDERS, u64::from(mixed), cfg);
    run.bytes_per_order
}

/// The whole measurement: calibration days, the reservation, then the day with the memory off
/// and with it on (`cfg` as given; its `retired_memory_ms` must be > 0). `progress` hears of
/// each step.
pub fn retired_memory(
    orders: u64,
    mixed_every: u64,
    cfg: ReconConfig,
    mut progress: impl FnMut(&str),
) -> RetiredMemoryReport {
    progress("calibration days (one kind of order each)");
    let plain = calibrate(false, cfg);
    let mixed_only = calibrate(true, cfg);
    progress("reserving one retired memory");
    let before = ProcMemory::now();
    let m = RetiredMemory::with_capacity(cfg.max_retired_orders, cfg.retired_memory_ms * Micros::PER_MS);
    let reserved = ProcMemory::now().vm_size.saturating_sub(before.vm_size);
    drop(m);
    progress("the day, retired memory off");
    let off = run_day(orders, mixed_every, ReconConfig { retired_memory_ms: 0, ..cfg });
    progress("the day, retired memory on");
    let on = run_day(orders, mixed_every, cfg);
    let mixed_orders = orders.checked_div(mixed_every).unwrap_or(0);
    RetiredMemoryReport {
        orders,
        mixed_every,
        plain_orders: orders - mixed_orders,
        mixed_orders,
        plain_bytes_per_order: plain,
        mixed_only_bytes_per_order: mixed_only,
        reserved_bytes_per_order: BYTES_PER_ORDER as u64,
        max_retired_orders: cfg.max_retired_orders as u64,
        memory_reserved: reserved,
        memory_reserved_ring: (cfg.max_retired_orders * BYTES_PER_ORDER) as u64,
        resident_of_memory: on.rss_growth as i64 - off.rss_growth as i64,
        rate_on_over_off: on.events_per_s / off.events_per_s.max(1e-9),
        off,
        on,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ReconConfig {
        ReconConfig { max_orders: 4_096, max_execs: 32_768, max_retired_orders: 5_000, ..ReconConfig::default() }
    }

    #[test]
    fn every_order_of_the_day_agrees_retires_and_is_remembered() {
        let run = run_day(5_000, MIXED_EVERY, cfg());
        assert_eq!(run.events, 4_500 * 4 + 500 * 12 + 1);
        assert_eq!(run.records, 0, "an agreeing day reports nothing");
        assert_eq!((run.live_orders, run.records_held, run.remembered), (0, 5_000, 5_000));
        assert_eq!((run.forgotten_early, run.reopened), (0, 0));
        assert!(run.bytes_per_order > 50.0 && run.bytes_per_order <= BYTES_PER_ORDER as f64, "{run:?}");
    }

    #[test]
    fn a_mixed_order_takes_more_than_a_plain_one_and_the_memory_off_holds_nothing() {
        let plain = calibrate(false, cfg());
        let mixed = calibrate(true, cfg());
        assert!(plain > 50.0 && mixed > plain, "plain {plain}, mixed {mixed}");
        let off = run_day(1_000, MIXED_EVERY, ReconConfig { retired_memory_ms: 0, ..cfg() });
        assert_eq!((off.records, off.live_orders, off.records_held, off.bytes_in_use), (0, 0, 0, 0));
    }

    #[test]
    fn identifiers_look_like_the_generators() {
        let ev: Vec<ExecEvent> = RetiredDay::new(10, 10).collect();
        assert_eq!(ev.len(), 9 * 4 + 12);
        assert_eq!(ev[0].cl_ord_id.as_bytes(), b"C0000001");
        assert_eq!(ev[0].order_id.as_bytes(), b"EBS-000001");
        assert_eq!(ev[0].exec_id.as_bytes(), b"E000000001");
        assert_eq!(ev[1].exec_id, ev[0].exec_id, "both streams share the ExecID");
        let replaced = &ev[9 * 4 + 4];
        assert_eq!(
            (replaced.cl_ord_id.as_bytes(), replaced.orig_cl_ord_id.as_bytes()),
            (&b"C0000010.R1"[..], &b"C0000010"[..])
        );
        assert!(ev.windows(2).all(|w| w[0].event_time <= w[1].event_time));
        assert_eq!(RetiredDay::id(b"C", 12_345_678, 7, b".R2").as_bytes(), b"C12345678.R2");
        assert_eq!(RetiredDay::id(b"EBS-", 0, 6, b"").as_bytes(), b"EBS-000000");
    }
}
