//! Order lifecycles: the normal flow mix, order-level fault injection, and emission of the
//! ExecutionReports each stream receives (with arrival times).
//!
//! It must never create session-level traffic or assign MsgSeqNums (the session layer does),
//! and never decide how many faults a day gets (the plan does). The issue 22 situations are
//! built in [`hard`]; everything they change in how a report is written is in [`Mods`], so an
//! order without one is emitted exactly as before.

mod hard;
mod hard_mods;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::calendar::settlement_dates;
use crate::config::GenConfig;
use crate::expected::Expected;
use crate::model::{
    DROPCOPY, Day, Er, ExecId, Kind, LINK_CANCEL, LINK_NONE, Msg, NO_FILL, OrderInfo, PIP_POINTS, PRIMARY,
    STREAM_NAMES, SYMBOLS, VENUE_FXALL, VENUES, code, dropcopy_dir, primary_dir, root_cl_ord_id,
};
use crate::plan::OrderFault;
use hard_mods::HardMods;

/// Delivery mask bit: primary stream.
const P: u8 = 1 << PRIMARY;
/// Delivery mask bit: drop-copy stream.
const D: u8 = 1 << DROPCOPY;
/// Delivery mask: both streams.
const BOTH: u8 = P | D;
/// Quantity granularity (all fills and order sizes are multiples of it).
const LOT: i64 = 100_000;
/// Largest order size.
const MAX_QTY: i64 = 50_000_000;
/// Salt of the order inter-arrival random stream.
const TIMELINE_SALT: u64 = 0x7469_6d65_0000_0002;
/// Mean order inter-arrival time, µs.
const MEAN_INTERARRIVAL_US: f64 = 2_000.0;

/// One logical lifecycle event of an order, and the streams it is reported on.
#[derive(Clone, Copy)]
struct Step {
    t: i64,
    on: u8,
    exec_type: u8,
    status: u8,
    link: u8,
    orig: u8,
    order_qty: i64,
    cum: i64,
    price: i64,
    last_qty: i64,
    last_px: i64,
    /// OrderID variant (see `Er::oid`).
    oid: u8,
}

/// Normal lifecycle shapes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lifecycle {
    /// New, 1..4 partial fills, final fill.
    Fill,
    /// New, partial fills, cancel.
    PartialCancel,
    /// New, one or two replaces, fills, Filled or Canceled.
    Replace,
    /// New, Expired.
    Expire,
    /// PendingNew (primary), Rejected by the venue.
    VenueReject,
    /// New, Canceled.
    NewCancel,
    /// Primary-only internal reject.
    InternalReject,
}

/// Stream-specific changes applied while emitting an order's reports.
#[derive(Default)]
struct Mods {
    /// (step, stream, LastPx) replacing the step's LastPx on that stream.
    px_override: Option<(usize, u8, i64)>,
    /// (first step, stream, extra delay µs).
    lag: Option<(usize, u8, i64)>,
    /// Trade cancel/correct appended on one stream.
    adjust: Option<Adjust>,
    /// How the issue 22 situations change what is written (nothing for every other order).
    hard: HardMods,
}

/// A one-sided trade cancel (bust) or correction of one fill.
#[derive(Clone, Copy)]
struct Adjust {
    correct: bool,
    fill_step: usize,
    stream: u8,
    new_px: i64,
    /// When and on which streams it comes (the classic one-sided adjustment, or a situation).
    when: AdjustWhen,
}

/// When a trade cancel/correct arrives.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum AdjustWhen {
    /// On `Adjust::stream` only, up to 300 ms after the order's last report.
    #[default]
    Soon,
    /// On `Adjust::stream` only, 90–95 s after the fill it adjusts reached that stream (issue
    /// 22 situation 5: after the order retired).
    Late,
    /// On both streams 5–80 ms after the fill (its last step); on the drop copy the fill itself
    /// arrives just after it (situation 10).
    BothBustFirstOnDropCopy,
}

/// Builds the steps of one order.
struct Builder<'a> {
    rng: &'a mut ChaCha8Rng,
    steps: &'a mut Vec<Step>,
    t: i64,
    link: u8,
    qty: i64,
    cum: i64,
    price: i64,
    side: u8,
    /// OrderID variant of the next reports.
    oid: u8,
    /// Whether each replace gets a new OrderID (a venue that assigns one per replace).
    oid_per_replace: bool,
}

impl Builder<'_> {
    /// Advances time by a normal lifecycle step (1–300 ms).
    fn gap(&mut self) {
        self.t += self.rng.random_range(1_000..=300_000);
    }

    /// Advances time from a pending report to its confirmation (1–50 ms).
    fn short_gap(&mut self) {
        self.t += self.rng.random_range(1_000..=50_000);
    }

    fn push(&mut self, on: u8, exec_type: u8, status: u8, orig: u8, last_qty: i64, last_px: i64) {
        self.steps.push(Step {
            t: self.t,
            on,
            exec_type,
            status,
            link: self.link,
            orig,
            order_qty: self.qty,
            cum: self.cum,
            price: self.price,
            last_qty,
            last_px,
            oid: self.oid,
        });
    }

    /// Remaining open quantity in lots.
    fn open_lots(&self) -> i64 {
        (self.qty - self.cum) / LOT
    }

    /// Live status for the current CumQty.
    fn live_status(&self) -> u8 {
        if self.cum > 0 { code::PARTIAL } else { code::NEW }
    }

    /// Optional PendingNew on the primary, then New on `on`.
    fn open(&mut self, on: u8) {
        if on & P != 0 && self.rng.random_bool(0.3) {
            self.push(P, code::PENDING_NEW, code::PENDING_NEW, LINK_NONE, 0, 0);
            self.gap();
        }
        self.push(on, code::NEW, code::NEW, LINK_NONE, 0, 0);
    }

    /// A fill price at or better than the limit.
    fn fill_px(&mut self) -> i64 {
        let improvement = self.rng.random_range(0..=3);
        if self.side == 1 { self.price - improvement } else { self.price + improvement }
    }

    /// One fill of `lots` lots reported on both streams.
    fn fill(&mut self, lots: i64) {
        self.gap();
        let px = self.fill_px();
        self.cum += lots * LOT;
        let status = if self.cum >= self.qty { code::FILLED } else { code::PARTIAL };
        self.push(BOTH, code::TRADE, status, LINK_NONE, lots * LOT, px);
    }

    /// `lots` lots in `n` fills (fewer if there are not enough lots).
    fn fills(&mut self, lots: i64, n: i64) {
        let n = n.min(lots);
        let mut rem = lots;
        for left in (1..=n).rev() {
            let take = if left == 1 {
                rem
            } else {
                let max_take = rem - (left - 1);
                let avg = rem / left;
                let lo = (avg / 2).clamp(1, max_take);
                let hi = (avg + avg / 2).clamp(lo, max_take);
                self.rng.random_range(lo..=hi)
            };
            self.fill(take);
            rem -= take;
        }
    }

    /// Up to `n` partial fills that leave the order open.
    fn partial_fills(&mut self, n: i64) {
        let open = self.open_lots();
        if open >= 2 && n > 0 {
            let lots = self.rng.random_range(1..open);
            self.fills(lots, n);
        }
    }

    /// PendingCancel on `pending_on` (if any), then Canceled on `cancel_on`.
    fn cancel(&mut self, pending_on: u8, cancel_on: u8, long_wait: bool) {
        if long_wait {
            self.t += self.rng.random_range(1_000..=3_000_000);
        } else {
            self.gap();
        }
        let orig = self.link;
        self.link = LINK_CANCEL;
        if pending_on != 0 {
            self.push(pending_on, code::PENDING_CANCEL, code::PENDING_CANCEL, orig, 0, 0);
            self.short_gap();
        }
        self.push(cancel_on, code::CANCELED, code::CANCELED, orig, 0, 0);
    }

    /// A new OrderQty for a replace (0.5–2 million away from the current one, above CumQty,
    /// at most `MAX_QTY`), or `None` when no such quantity exists.
    fn replace_qty(&mut self) -> Option<i64> {
        let min = (self.cum + LOT).max(500_000);
        let up_first = self.rng.random_bool(0.5);
        let start = self.rng.random_range(1..=4);
        for d in (start..=4).chain(1..start) {
            for up in [up_first, !up_first] {
                let q = if up { self.qty + d * 500_000 } else { self.qty - d * 500_000 };
                if q >= min && q <= MAX_QTY {
                    return Some(q);
                }
            }
        }
        None
    }

    /// PendingReplace on `pending_on` (if any), then Replaced on `replaced_on` with a new
    /// OrderQty (and sometimes a new limit price).
    fn replace(&mut self, pending_on: u8, replaced_on: u8, new_qty: i64) {
        self.gap();
        let orig = self.link;
        self.link = self.link.saturating_add(1).min(LINK_CANCEL - 1);
        if pending_on != 0 {
            self.push(pending_on, code::PENDING_REPLACE, code::PENDING_REPLACE, orig, 0, 0);
            self.short_gap();
        }
        self.qty = new_qty;
        if self.rng.random_bool(0.3) {
            self.price += self.rng.random_range(-5..=5) * PIP_POINTS;
        }
        if self.oid_per_replace {
            self.oid = self.oid.saturating_add(1);
        }
        let status = self.live_status();
        self.push(replaced_on, code::REPLACED, status, orig, 0, 0);
    }

    /// Builds a normal lifecycle.
    fn normal(&mut self, lc: Lifecycle) {
        match lc {
            Lifecycle::Fill => {
                self.open(BOTH);
                let n = self.rng.random_range(2..=5);
                let lots = self.open_lots();
                self.fills(lots, n);
            }
            Lifecycle::PartialCancel => {
                self.open(BOTH);
                let n = self.rng.random_range(1..=3);
                self.partial_fills(n);
                self.cancel(P, BOTH, false);
            }
            Lifecycle::Replace => {
                self.open(BOTH);
                if self.rng.random_bool(0.3) {
                    self.partial_fills(1);
                }
                for _ in 0..self.rng.random_range(1..=2) {
                    match self.replace_qty() {
                        Some(q) => self.replace(P, BOTH, q),
                        None => break,
                    }
                }
                if self.rng.random_bool(0.7) {
                    let n = self.rng.random_range(1..=3);
                    let lots = self.open_lots();
                    self.fills(lots, n);
                } else {
                    let n = self.rng.random_range(0..=2);
                    self.partial_fills(n);
                    self.cancel(P, BOTH, false);
                }
            }
            Lifecycle::Expire => {
                self.open(BOTH);
                self.t += self.rng.random_range(500_000..=3_000_000);
                self.push(BOTH, code::EXPIRED, code::EXPIRED, LINK_NONE, 0, 0);
            }
            Lifecycle::VenueReject => {
                self.push(P, code::PENDING_NEW, code::PENDING_NEW, LINK_NONE, 0, 0);
                self.gap();
                self.push(BOTH, code::REJECTED, code::REJECTED, LINK_NONE, 0, 0);
            }
            Lifecycle::NewCancel => {
                self.open(BOTH);
                self.cancel(P, BOTH, true);
            }
            Lifecycle::InternalReject => {
                if self.rng.random_bool(0.5) {
                    self.push(P, code::PENDING_NEW, code::PENDING_NEW, LINK_NONE, 0, 0);
                    self.short_gap();
                }
                self.push(P, code::REJECTED, code::REJECTED, LINK_NONE, 0, 0);
            }
        }
    }
}

/// Picks a normal lifecycle (internal rejects are decided separately).
fn pick_lifecycle(rng: &mut ChaCha8Rng) -> Lifecycle {
    match rng.random_range(0..100) {
        0..50 => Lifecycle::Fill,
        50..62 => Lifecycle::PartialCancel,
        62..77 => Lifecycle::Replace,
        77..82 => Lifecycle::Expire,
        82..85 => Lifecycle::VenueReject,
        _ => Lifecycle::NewCancel,
    }
}

/// Picks a lifecycle that reaches the venue and is acknowledged (no rejects).
fn pick_acked_lifecycle(rng: &mut ChaCha8Rng) -> Lifecycle {
    match pick_lifecycle(rng) {
        Lifecycle::VenueReject => Lifecycle::Fill,
        lc => lc,
    }
}

/// Picks a venue: EBS 35%, HOTSPOT 25%, FXALL 20%, CURNX 20%.
fn pick_venue(rng: &mut ChaCha8Rng) -> u8 {
    match rng.random_range(0..100) {
        0..35 => 0,
        35..60 => 1,
        60..80 => 2,
        _ => 3,
    }
}

/// Picks an order size: mostly 1–5 million, sometimes up to 50 million.
fn pick_qty(rng: &mut ChaCha8Rng) -> i64 {
    match rng.random_range(0..100) {
        0..60 => rng.random_range(2..=10) * 500_000,
        60..90 => rng.random_range(5..=20) * 1_000_000,
        _ => rng.random_range(4..=10) * 5_000_000,
    }
}

/// AvgPx in units of 10^-8 from the sum of qty*px (px in points of `decimals`), rounded half up.
fn avg_px(sum_qty_px: i128, cum: i64, decimals: u32) -> i64 {
    if cum <= 0 {
        return 0;
    }
    let num = sum_qty_px * 10i128.pow(8u32.saturating_sub(decimals));
    let cum = i128::from(cum);
    i64::try_from((2 * num + cum) / (2 * cum)).unwrap_or(i64::MAX)
}

/// Chooses where a lag fault starts and how long it is, so that the lagged stream still
/// converges within grace: returns (first lagged step, extra delay µs).
fn choose_lag(rng: &mut ChaCha8Rng, steps: &[Step], cfg: &GenConfig) -> Option<(usize, i64)> {
    let lo = cfg.timing_ms.max(0).saturating_mul(1000).saturating_add(150_000);
    let grace = cfg.grace_ms.max(0).saturating_mul(1000);
    let t_last = steps.last()?.t;
    let mut candidates: Vec<(usize, i64)> = Vec::new();
    let mut last_both = None;
    let mut divergence_start = steps.first()?.t;
    for (j, st) in steps.iter().enumerate() {
        if st.on == BOTH {
            let span = t_last - divergence_start;
            let hi = 1_500_000i64.min(grace - 400_000 - span);
            if hi >= lo {
                candidates.push((j, hi));
            }
            last_both = Some(j);
            if let Some(next) = steps.get(j + 1) {
                divergence_start = next.t;
            }
        }
    }
    if candidates.is_empty() {
        return last_both.map(|j| (j, lo));
    }
    let (j, hi) = candidates[rng.random_range(0..candidates.len())];
    Some((j, rng.random_range(lo..=hi)))
}

/// Index of a random fill step, if the order has fills (the lifecycles chosen for fill
/// faults always do).
fn pick_fill(rng: &mut ChaCha8Rng, steps: &[Step]) -> Option<usize> {
    let fills: Vec<usize> = steps.iter().enumerate().filter(|(_, s)| s.last_qty > 0).map(|(i, _)| i).collect();
    if fills.is_empty() { None } else { Some(fills[rng.random_range(0..fills.len())]) }
}

/// Generator state while building orders.
struct Gen<'a> {
    cfg: &'a GenConfig,
    day: Day,
    steps: Vec<Step>,
    ids: Vec<[Option<ExecId>; 2]>,
    /// Message index of each step's report on each stream (for the situations that move one).
    msg_ix: Vec<[Option<u32>; 2]>,
    next_e: u32,
    next_hs: u32,
    next_fill: u32,
}

impl Gen<'_> {
    fn alloc_e(&mut self) -> ExecId {
        self.next_e = self.next_e.wrapping_add(1);
        ExecId { hs: false, n: self.next_e }
    }

    fn alloc_hs(&mut self) -> ExecId {
        self.next_hs = self.next_hs.wrapping_add(1);
        ExecId { hs: true, n: self.next_hs }
    }

    /// ExecID of a one-sided report on `stream`.
    fn alloc_for(&mut self, stream: u8, shares: bool) -> ExecId {
        if stream == DROPCOPY && !shares { self.alloc_hs() } else { self.alloc_e() }
    }

    /// Generates order number `i` starting at `t0`, with its fault.
    fn order(&mut self, i: usize, t0: i64, fault: OrderFault, rng: &mut ChaCha8Rng) {
        let mut s = if rng.random_bool(0.5) { PRIMARY } else { DROPCOPY };
        let venue = match fault {
            OrderFault::FillMismatch => [0u8, 2, 3][rng.random_range(0..3)],
            OrderFault::Fix42ReplaceToFilled => VENUE_FXALL,
            // The generator writes FIX 4.2 busts for no venue: FXALL's drop copy has none.
            OrderFault::BustBeforeFill => [0u8, 1, 3][rng.random_range(0..3)],
            _ => pick_venue(rng),
        };
        if matches!(fault, OrderFault::Bust | OrderFault::Correct) && venue == VENUE_FXALL {
            s = PRIMARY;
        }
        let gw = rng.random_range(0..2u8);
        let symbol = rng.random_range(0..SYMBOLS.len());
        let side = if rng.random_bool(0.5) { 1 } else { 2 };
        let account = rng.random_range(1..=6u8);
        let tenor = match rng.random_range(0..100) {
            0..75 => 0,
            75..90 => 1,
            _ => 2,
        };
        let price = SYMBOLS[symbol].mid + rng.random_range(-300..=300);
        let qty = pick_qty(rng);
        let internal_default = fault == OrderFault::None && rng.random_bool(0.01);
        let s_bit = 1u8 << s;

        let mut steps = std::mem::take(&mut self.steps);
        steps.clear();
        let mut mods = Mods::default();
        let mut fill_k = None;
        {
            let mut b = Builder {
                rng: &mut *rng,
                steps: &mut steps,
                t: t0,
                link: 0,
                qty,
                cum: 0,
                price,
                side,
                oid: 0,
                oid_per_replace: false,
            };
            match fault {
                OrderFault::None if internal_default => b.normal(Lifecycle::InternalReject),
                OrderFault::None => {
                    let lc = pick_lifecycle(b.rng);
                    b.normal(lc);
                }
                OrderFault::InternalReject => b.normal(Lifecycle::InternalReject),
                OrderFault::MissingFill => {
                    let lc = if b.rng.random_bool(0.7) { Lifecycle::Fill } else { Lifecycle::PartialCancel };
                    b.normal(lc);
                }
                OrderFault::Phantom | OrderFault::Lag => {
                    let lc = pick_acked_lifecycle(b.rng);
                    b.normal(lc);
                }
                OrderFault::CancelOneSide => {
                    b.open(BOTH);
                    if b.rng.random_bool(0.5) {
                        let n = b.rng.random_range(1..=2);
                        b.partial_fills(n);
                    }
                    if s == PRIMARY {
                        b.cancel(P, P, false);
                    } else {
                        b.cancel(0, D, false);
                    }
                }
                OrderFault::ReplaceOneSide => {
                    b.open(BOTH);
                    let q = b.replace_qty().unwrap_or(if qty < MAX_QTY { qty + LOT } else { qty - LOT });
                    if s == PRIMARY {
                        b.replace(P, P, q);
                    } else {
                        b.replace(0, D, q);
                    }
                }
                OrderFault::FillMismatch | OrderFault::Bust | OrderFault::Correct => b.normal(Lifecycle::Fill),
                hard_fault => mods.hard = b.hard(hard_fault, s),
            }
        }

        match fault {
            OrderFault::MissingFill => {
                if let Some(k) = pick_fill(rng, &steps) {
                    steps[k].on &= !s_bit;
                    fill_k = Some(k);
                }
            }
            OrderFault::Phantom => {
                steps.retain_mut(|st| {
                    st.on &= s_bit;
                    st.on != 0
                });
            }
            OrderFault::FillMismatch => {
                if let Some(k) = pick_fill(rng, &steps) {
                    let delta = if rng.random_bool(0.5) { PIP_POINTS } else { -PIP_POINTS };
                    mods.px_override = Some((k, s, steps[k].last_px + delta));
                }
            }
            OrderFault::Lag => {
                mods.lag = choose_lag(rng, &steps, self.cfg).map(|(j, l)| (j, s, l));
            }
            OrderFault::Bust | OrderFault::Correct => {
                if let Some(k) = pick_fill(rng, &steps) {
                    let pips = rng.random_range(1..=3) * PIP_POINTS;
                    let delta = if rng.random_bool(0.5) { pips } else { -pips };
                    mods.adjust = Some(Adjust {
                        correct: fault == OrderFault::Correct,
                        fill_step: k,
                        stream: s,
                        new_px: steps[k].last_px + delta,
                        when: AdjustWhen::Soon,
                    });
                }
            }
            OrderFault::ChainOutOfOrder | OrderFault::ChainOutOfOrderMissingFill => {
                // The drop copy is ahead of the primary (by more than its own latency, so it
                // has link D before the primary has C; within the timing threshold).
                mods.lag = Some((0, PRIMARY, rng.random_range(80_000..=180_000)));
                // A real MissingFill on such an order: one fill never sent on `s`.
                if fault == OrderFault::ChainOutOfOrderMissingFill
                    && let Some(k) = pick_fill(rng, &steps)
                {
                    steps[k].on &= !s_bit;
                    fill_k = Some(k);
                }
            }
            OrderFault::LateBust => {
                if let Some(k) = pick_fill(rng, &steps) {
                    let new_px = steps[k].last_px;
                    mods.adjust =
                        Some(Adjust { correct: false, fill_step: k, stream: PRIMARY, new_px, when: AdjustWhen::Late });
                }
            }
            OrderFault::BustBeforeFill => {
                // The last fill (the order's last step), busted on both streams.
                if let Some(k) = steps.len().checked_sub(1).filter(|&k| steps[k].last_qty > 0) {
                    let new_px = steps[k].last_px;
                    let when = AdjustWhen::BothBustFirstOnDropCopy;
                    mods.adjust = Some(Adjust { correct: false, fill_step: k, stream: DROPCOPY, new_px, when });
                }
            }
            OrderFault::AvgPxOff => {
                let k = rng.random_range(2..=9);
                mods.hard.avg_off = Some(if rng.random_bool(0.5) { k } else { -k });
            }
            _ => {}
        }

        let internal = fault == OrderFault::InternalReject
            || internal_default
            || (fault == OrderFault::VenueOnlyRejected && rng.random_bool(0.5));
        let order = u32::try_from(i).unwrap_or(u32::MAX);
        let er_start = self.day.ers.len();
        self.day.orders.push(OrderInfo {
            venue,
            gw,
            symbol: symbol as u8,
            side,
            account,
            tenor,
            internal,
            er_start: er_start as u32,
            er_end: er_start as u32,
            label_is_sender: false,
            label: fault.label(),
        });
        self.emit(rng, order, &steps, &mods);
        let er_end = self.day.ers.len();
        let label_is_sender = !self.day.ers[er_start..er_end].iter().any(|e| e.stream == PRIMARY || e.last_qty > 0);
        if let Some(info) = self.day.orders.last_mut() {
            info.er_end = er_end as u32;
            info.label_is_sender = label_is_sender;
        }

        let v = &VENUES[usize::from(venue)];
        let record = |kind: &'static str, side: Option<&'static str>, exec_id: Option<String>| Expected::Order {
            order_id: root_cl_ord_id(self.cfg.first_order, order),
            kind,
            symbol: SYMBOLS[symbol].name.to_string(),
            venue: if label_is_sender { v.dc_sender } else { v.name }.to_string(),
            side,
            exec_id,
            rejected_only: fault == OrderFault::VenueOnlyRejected,
            gap_exposure: false,
        };
        let side_name = STREAM_NAMES[usize::from(s)];
        let rec = match fault {
            OrderFault::MissingFill | OrderFault::ChainOutOfOrderMissingFill => fill_k.and_then(|k| {
                let other = usize::from(1 - s);
                self.ids[k][other].map(|id| record("MissingFill", Some(side_name), Some(id.text())))
            }),
            OrderFault::Phantom => Some(record("PhantomOrder", Some(side_name), None)),
            OrderFault::CancelOneSide => Some(record("StateMismatch", None, None)),
            OrderFault::ReplaceOneSide => Some(record("QuantityMismatch", None, None)),
            OrderFault::FillMismatch if mods.px_override.is_some() => Some(record("QuantityMismatch", None, None)),
            OrderFault::Bust | OrderFault::Correct | OrderFault::LateBust if mods.adjust.is_some() => {
                Some(record("QuantityMismatch", None, None))
            }
            OrderFault::AvgPxOff | OrderFault::PriceAmend => Some(record("QuantityMismatch", None, None)),
            OrderFault::VenueOnlyRejected => Some(record("PhantomOrder", Some("dropcopy"), None)),
            _ => None,
        };
        self.day.expected.extend(rec);
        self.steps = steps;
    }

    /// Emits the reports of one order on both streams.
    fn emit(&mut self, rng: &mut ChaCha8Rng, order: u32, steps: &[Step], mods: &Mods) {
        let info = match self.day.orders.get(order as usize) {
            Some(info) => (info.venue, info.gw, info.symbol),
            None => return,
        };
        let (venue, gw, symbol) = info;
        let shares = VENUES[usize::from(venue)].shares_exec_ids;
        let decimals = SYMBOLS[usize::from(symbol)].decimals;
        let dirs = [primary_dir(gw), dropcopy_dir(venue)];
        let mut sum = [0i128; 2];
        let mut last_arr = [i64::MIN / 2; 2];
        self.ids.clear();
        self.msg_ix.clear();
        let hard = &mods.hard;
        for (step_no, st) in steps.iter().enumerate() {
            let mut px = [st.last_px; 2];
            if let Some((k, stream, p)) = mods.px_override
                && k == step_no
            {
                px[usize::from(stream)] = p;
            }
            let mut fill_id = NO_FILL;
            if st.last_qty > 0 {
                for (acc, p) in sum.iter_mut().zip(px) {
                    *acc += i128::from(st.last_qty) * i128::from(p);
                }
                fill_id = self.next_fill;
                self.next_fill = self.next_fill.wrapping_add(1);
            }
            let shared = if st.on & P != 0 || (st.on & D != 0 && shares) { Some(self.alloc_e()) } else { None };
            let mut step_ids = [None; 2];
            let mut step_msgs = [None; 2];
            for stream in [PRIMARY, DROPCOPY] {
                let sx = usize::from(stream);
                if st.on & (1 << stream) == 0 {
                    continue;
                }
                let exec_id = match shared {
                    Some(id) if stream == PRIMARY || shares => id,
                    _ => self.alloc_for(stream, shares),
                };
                let lag = match mods.lag {
                    Some((j, ls, l)) if ls == stream && step_no >= j => l,
                    _ => 0,
                };
                let arrival = (st.t + latency(rng, stream) + lag).max(last_arr[sx] + 1);
                last_arr[sx] = arrival;
                let mut er = Er {
                    order,
                    fill_id,
                    exec_id,
                    exec_ref: None,
                    stream,
                    exec_type: st.exec_type,
                    status: st.status,
                    link: st.link,
                    orig: st.orig,
                    order_qty: st.order_qty,
                    cum: st.cum,
                    avg: avg_px(sum[sx], st.cum, decimals),
                    price: st.price,
                    last_qty: st.last_qty,
                    last_px: px[sx],
                    transact: st.t,
                    oid: st.oid,
                    flags: hard.flags[sx],
                };
                hard.apply(&mut er, step_no + 1 == steps.len());
                step_msgs[sx] = Some(self.day.msgs.len() as u32);
                self.push_er(rng, er, dirs[sx], arrival);
                step_ids[sx] = Some(exec_id);
            }
            self.ids.push(step_ids);
            self.msg_ix.push(step_msgs);
        }
        if let Some((c, d)) = hard.swap_dc {
            // Link D (naming C) reaches the drop copy before link C (situation 4).
            let at = |g: &Self, k: usize| g.msg_ix.get(k).and_then(|m| m[usize::from(DROPCOPY)]);
            if let (Some(mc), Some(md)) = (at(self, c), at(self, d)) {
                let arrival = self.day.msgs[md as usize].arrival + rng.random_range(1_000..=3_000);
                self.day.msgs[mc as usize].arrival = arrival;
                last_arr[usize::from(DROPCOPY)] = last_arr[usize::from(DROPCOPY)].max(arrival);
            }
        }

        if let (Some(adj), Some(last)) = (mods.adjust, steps.last()) {
            if adj.when != AdjustWhen::Soon {
                self.emit_situation_adjust(rng, order, steps, adj, &sum, &last_arr);
                return;
            }
            let Some(fill) = steps.get(adj.fill_step) else { return };
            let stream = adj.stream;
            let sx = usize::from(stream);
            let t = last_arr[0].max(last_arr[1]) + rng.random_range(1_000..=300_000);
            let q = i128::from(fill.last_qty);
            let old = q * i128::from(fill.last_px);
            let (exec_type, cum, total, status, last_px) = if adj.correct {
                let total = sum[sx] - old + q * i128::from(adj.new_px);
                (code::TRADE_CORRECT, last.cum, total, last.status, adj.new_px)
            } else {
                let cum = last.cum - fill.last_qty;
                let status = if cum > 0 { code::PARTIAL } else { code::NEW };
                (code::TRADE_CANCEL, cum, sum[sx] - old, status, fill.last_px)
            };
            let exec_id = self.alloc_for(stream, shares);
            let er = Er {
                order,
                fill_id: NO_FILL,
                exec_id,
                exec_ref: self.ids.get(adj.fill_step).and_then(|ids| ids[sx]),
                stream,
                exec_type,
                status,
                link: last.link,
                orig: LINK_NONE,
                order_qty: last.order_qty,
                cum,
                avg: avg_px(total, cum, decimals),
                price: last.price,
                last_qty: fill.last_qty,
                last_px,
                transact: t,
                oid: last.oid,
                flags: 0,
            };
            let arrival = (t + latency(rng, stream)).max(last_arr[sx] + 1);
            self.push_er(rng, er, dirs[sx], arrival);
        }
    }

    /// The trade cancel of a situation (5: on the primary only, 90–95 s after its fill; 10: on
    /// both streams soon after the fill, reaching the drop copy before the fill does).
    fn emit_situation_adjust(
        &mut self,
        rng: &mut ChaCha8Rng,
        order: u32,
        steps: &[Step],
        adj: Adjust,
        sum: &[i128; 2],
        last_arr: &[i64; 2],
    ) {
        let (Some(fill), Some(last)) = (steps.get(adj.fill_step), steps.last()) else { return };
        let Some(info) = self.day.orders.get(order as usize) else { return };
        let (venue, gw, decimals) = (info.venue, info.gw, SYMBOLS[usize::from(info.symbol)].decimals);
        let shares = VENUES[usize::from(venue)].shares_exec_ids;
        let dirs = [primary_dir(gw), dropcopy_dir(venue)];
        let (streams, t): (&[u8], i64) = match adj.when {
            AdjustWhen::Late => {
                let fill_at = self.msg_ix[adj.fill_step][usize::from(adj.stream)]
                    .map_or(fill.t, |m| self.day.msgs[m as usize].arrival);
                (
                    if adj.stream == PRIMARY { &[PRIMARY] } else { &[DROPCOPY] },
                    fill_at + rng.random_range(90_000_000..=95_000_000),
                )
            }
            _ => (&[PRIMARY, DROPCOPY], fill.t + rng.random_range(5_000..=80_000)),
        };
        let shared = self.alloc_e();
        let cum = last.cum - fill.last_qty;
        let status = if cum > 0 { code::PARTIAL } else { code::NEW };
        for &stream in streams {
            let sx = usize::from(stream);
            if fill.on & (1 << stream) == 0 {
                continue;
            }
            let exec_id = if stream == DROPCOPY && !shares { self.alloc_hs() } else { shared };
            let total = sum[sx] - i128::from(fill.last_qty) * i128::from(fill.last_px);
            let er = Er {
                order,
                fill_id: NO_FILL,
                exec_id,
                exec_ref: self.ids.get(adj.fill_step).and_then(|ids| ids[sx]),
                stream,
                exec_type: code::TRADE_CANCEL,
                status,
                link: last.link,
                orig: LINK_NONE,
                order_qty: last.order_qty,
                cum,
                avg: avg_px(total, cum, decimals),
                price: last.price,
                last_qty: fill.last_qty,
                last_px: fill.last_px,
                transact: t,
                oid: last.oid,
                flags: 0,
            };
            let arrival = (t + latency(rng, stream)).max(last_arr[sx] + 1);
            self.push_er(rng, er, dirs[sx], arrival);
            if adj.when == AdjustWhen::BothBustFirstOnDropCopy && stream == DROPCOPY {
                // The fill reaches the drop copy only after its trade cancel (reordered).
                if let Some(m) = self.msg_ix[adj.fill_step][sx] {
                    self.day.msgs[m as usize].arrival = arrival + rng.random_range(1_000..=3_000);
                }
            }
        }
    }

    /// Appends a report and its message.
    fn push_er(&mut self, rng: &mut ChaCha8Rng, er: Er, dir: u8, arrival: i64) {
        let idx = u32::try_from(self.day.ers.len()).unwrap_or(u32::MAX);
        let sending = (arrival - rng.random_range(20..=400)).max(er.transact);
        self.day.ers.push(er);
        self.day.msgs.push(Msg::new(dir, Kind::Er(idx), arrival, sending));
    }
}

/// Transport latency of one report: primary 0.1–3 ms, drop copy 0.5–40 ms.
fn latency(rng: &mut ChaCha8Rng, stream: u8) -> i64 {
    if stream == PRIMARY { rng.random_range(100..=3_000) } else { rng.random_range(500..=40_000) }
}

/// Exponential inter-arrival time, µs.
fn exp_us(rng: &mut ChaCha8Rng) -> i64 {
    let u: f64 = rng.random();
    (-(1.0 - u).ln() * MEAN_INTERARRIVAL_US).round() as i64
}

/// Seed of order number `i`'s own random stream.
fn order_seed(seed: u64, i: usize) -> u64 {
    seed ^ (i as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// Builds every order of the day (reports and their messages, order-fault ground truth).
pub(crate) fn build_orders(cfg: &GenConfig, faults: &[OrderFault]) -> Day {
    let day = Day::new(faults.len(), settlement_dates(cfg.start_time_us), cfg.first_order);
    let mut g =
        Gen { cfg, day, steps: Vec::new(), ids: Vec::new(), msg_ix: Vec::new(), next_e: 0, next_hs: 0, next_fill: 0 };
    let mut timeline = ChaCha8Rng::seed_from_u64(cfg.seed ^ TIMELINE_SALT);
    let mut t0 = cfg.start_time_us;
    for (i, &fault) in faults.iter().enumerate() {
        t0 += exp_us(&mut timeline);
        let mut rng = ChaCha8Rng::seed_from_u64(order_seed(cfg.seed, i));
        g.order(i, t0, fault, &mut rng);
    }
    g.day
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avg_px_is_exact_half_up() {
        // 1M @ 1.08451 + 2M @ 1.08452 = 1.084516666.. -> 1.08451667
        let sum = 1_000_000i128 * 108_451 + 2_000_000i128 * 108_452;
        assert_eq!(avg_px(sum, 3_000_000, 5), 108_451_667);
        assert_eq!(avg_px(0, 0, 5), 0);
        assert_eq!(avg_px(1_000_000i128 * 151_230, 1_000_000, 3), 15_123_000_000);
    }
}
