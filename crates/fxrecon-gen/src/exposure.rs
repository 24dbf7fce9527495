//! Gap exposure ground truth (contract 4, issue 22 situation 13): which MissingFill and
//! PhantomOrder records are decided while the stream their event is missing on has an open
//! sequence gap.
//!
//! Open gaps are a fact of the written streams: this module follows each session direction's
//! MsgSeqNums in file order (the rules of contract 3's SequenceGap row: a number above the
//! expected one opens a gap of the numbers skipped; a resend, a late original or a GapFill
//! covers numbers; a SequenceReset-Reset forgets every open gap) and asks whether any gap of the
//! stream is open when a record's grace deadline passes: after every message that arrived at
//! or before it. A record's deadline is its event's arrival plus grace (the fill on the stream
//! that has it; the order's first report on the stream it was seen on). Read-only over the day:
//! it must never move, add or number a message, nor decide which records exist.

use crate::expected::Expected;
use crate::model::{DIRS, Day, Kind, Msg, STREAM_NAMES, code};

/// Gap pieces a session keeps at most before it forgets its oldest gap (as the reconciler's
/// sequencer does, `MAX_OPEN_GAPS`).
const MAX_PIECES: usize = 16;

/// One run of numbers `next ..= last` of the gap that starts at `first`, none seen yet.
#[derive(Clone, Copy)]
struct Piece {
    first: u64,
    last: u64,
    next: u64,
}

/// One session direction's numbering as a receiver follows it.
#[derive(Default)]
struct Session {
    started: bool,
    expected: u64,
    pieces: Vec<Piece>,
}

/// A sequence record, as the receiver would report it: (kind, expected, seen).
pub(crate) type GapEvent = (&'static str, u64, u64);

impl Session {
    /// Opens the gap `first ..= last`.
    fn open(&mut self, first: u64, last: u64) {
        if self.pieces.len() == MAX_PIECES {
            self.forget_oldest();
        }
        self.pieces.push(Piece { first, last, next: first });
    }

    fn forget_oldest(&mut self) {
        let first = self.pieces[0].first;
        self.pieces.retain(|p| p.first != first);
    }

    fn is_missing(&self, seq: u64) -> bool {
        self.pieces.iter().any(|p| p.next <= seq && seq <= p.last)
    }

    /// Numbers `from .. to` seen; a gap with none left unseen is filled (closed by `closing`).
    fn fill(&mut self, from: u64, to: u64, closing: u64, out: &mut Vec<GapEvent>) {
        let mut i = 0;
        while i < self.pieces.len() && to > from {
            let p = self.pieces[i];
            let (lo, hi) = (from.max(p.next), (to - 1).min(p.last));
            if lo > hi {
                i += 1;
            } else if lo == p.next && hi == p.last {
                self.pieces.remove(i);
                if !self.pieces.iter().any(|q| q.first == p.first) {
                    out.push(("gap_filled", p.first, closing));
                }
            } else if lo == p.next {
                self.pieces[i].next = hi + 1;
                i += 1;
            } else if hi == p.last {
                self.pieces[i].last = lo - 1;
                i += 1;
            } else {
                if self.pieces.len() == MAX_PIECES {
                    let oldest = self.pieces[0].first;
                    let n = self.pieces.iter().take_while(|q| q.first == oldest).count();
                    self.forget_oldest();
                    i = if oldest == p.first { 0 } else { i - n };
                    continue;
                }
                self.pieces[i].last = lo - 1;
                self.pieces.insert(i + 1, Piece { first: p.first, last: p.last, next: hi + 1 });
                i += 2;
            }
        }
    }

    /// Follows message `m` (NewSeqNo of a SequenceReset from `new_seq_no`).
    fn observe(&mut self, m: &Msg, new_seq_no: Option<u64>, out: &mut Vec<GapEvent>) {
        let seq = m.seq;
        if !self.started {
            self.started = true;
            self.expected = new_seq_no.filter(|_| matches!(m.kind, Kind::Reset { .. })).unwrap_or(seq + 1);
            return;
        }
        match (m.kind, new_seq_no) {
            (Kind::Reset { .. }, Some(new)) => {
                out.push(("reset", self.expected, new));
                self.expected = new;
                self.pieces.clear();
            }
            (_, Some(new)) => {
                if seq > self.expected {
                    out.push(("gap", self.expected, seq));
                    self.open(self.expected, seq - 1);
                } else if seq < self.expected {
                    self.fill(seq, new, seq, out);
                }
                self.expected = self.expected.max(new).max(seq + 1);
            }
            _ if seq == self.expected => self.expected += 1,
            _ if seq > self.expected => {
                out.push(("gap", self.expected, seq));
                self.open(self.expected, seq - 1);
                self.expected = seq + 1;
            }
            _ if m.poss_dup || self.is_missing(seq) => self.fill(seq, seq + 1, seq, out),
            _ => out.push(("duplicate", self.expected, seq)),
        }
    }
}

/// NewSeqNo of a SequenceReset message (GapFill or Reset), as written.
fn new_seq_no(day: &Day, m: &Msg) -> Option<u64> {
    let seq_of = |i: u32| day.msgs.get(i as usize).map_or(0, |t| t.seq);
    match m.kind {
        Kind::GapFill { of } => Some(seq_of(of)),
        Kind::GapFillTo { of, plus } => Some(seq_of(of) + plus),
        Kind::Reset { jump } => Some(m.seq + jump),
        _ => None,
    }
}

/// One direction's written messages in file order: (arrival, gaps open after it) per message.
pub(crate) type Timeline = Vec<(i64, usize)>;

/// Every direction followed in file order: its [`Timeline`], and the sequence records a
/// receiver reports.
pub(crate) fn follow(day: &Day) -> (Vec<Timeline>, Vec<(u8, GapEvent)>) {
    let mut order: Vec<(i64, u32)> =
        day.msgs.iter().enumerate().filter(|(_, m)| m.written).map(|(i, m)| (m.arrival, i as u32)).collect();
    order.sort_unstable();
    let mut sessions: Vec<Session> = (0..DIRS.len()).map(|_| Session::default()).collect();
    let mut timelines = vec![Vec::new(); DIRS.len()];
    let mut records = Vec::new();
    let mut out = Vec::new();
    for (arrival, i) in order {
        let m = &day.msgs[i as usize];
        let d = usize::from(m.dir);
        sessions[d].observe(m, new_seq_no(day, m), &mut out);
        records.extend(out.drain(..).map(|e| (m.dir, e)));
        let open = sessions[d].pieces.len();
        timelines[d].push((arrival, open));
    }
    (timelines, records)
}

/// Whether a direction of `stream` has an open gap once every message that arrived at or
/// before `at` is in.
fn exposed(timelines: &[Vec<(i64, usize)>], stream: u8, at: i64) -> bool {
    timelines.iter().enumerate().filter(|(d, _)| DIRS[*d].stream == stream).any(|(_, t)| {
        let n = t.partition_point(|&(a, _)| a <= at);
        n > 0 && t[n - 1].1 > 0
    })
}

/// Sets `gap_exposure` on every MissingFill and PhantomOrder record of `records` that is
/// decided while the stream its event is missing on has an open gap (`grace_us`: the grace
/// window the day is made for).
pub(crate) fn mark(day: &Day, records: &mut [Expected], grace_us: i64) {
    let (timelines, _) = follow(day);
    let first = day.first_arrivals();
    let stream_of = |name: &str| STREAM_NAMES.iter().position(|s| *s == name).map(|s| s as u8);
    for r in records.iter_mut() {
        let Expected::Order { order_id, kind, side, exec_id, gap_exposure, .. } = r else { continue };
        let (Some(order), Some(side)) = (day.order_of_root(order_id), side.and_then(stream_of)) else { continue };
        let info = &day.orders[order as usize];
        let ers = info.er_start as usize..info.er_end as usize;
        let (event_on, missing_on) = match *kind {
            "MissingFill" => (1 - side, side),
            "PhantomOrder" => (side, 1 - side),
            _ => continue,
        };
        let event_at = ers
            .filter(|&e| {
                let er = &day.ers[e];
                er.stream == event_on
                    && (*kind == "PhantomOrder"
                        || (er.exec_type == code::TRADE && exec_id.as_deref() == Some(er.exec_id.text().as_str())))
            })
            .map(|e| first[e])
            .min();
        if let Some(at) = event_at.filter(|&a| a != i64::MAX) {
            *gap_exposure = exposed(&timelines, missing_on, at.saturating_add(grace_us));
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    use super::*;
    use crate::config::GenConfig;
    use crate::plan::{self, SessionFault};
    use crate::scenario::Scenario;
    use crate::{orders, session};

    /// The day `generate` builds for `cfg`, numbered, with its placed session faults.
    fn numbered_day(cfg: &GenConfig) -> (Day, Vec<session::Placed>) {
        let plan = plan::make_plan(cfg);
        let mut day = orders::build_orders(cfg, &plan.order_faults);
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ crate::model::SESSION_SALT);
        let replay = plan.session_faults.contains(&SessionFault::SessionReplay);
        let extend = if replay { session::REPLAY_DAY_EXTENSION_US } else { 0 };
        session::add_admin(&mut day, cfg, extend, &mut rng);
        let placed = session::inject(&mut day, &plan.session_faults, cfg.grace_ms * 1000, &mut rng);
        session::assign_seqs(&mut day, None);
        (day, placed)
    }

    /// Following the written streams shows exactly the sequence records the placed faults
    /// predict (late originals, lost fills, a replayed session among them), and a lost fill's
    /// gap is open when its MissingFill is decided.
    #[test]
    fn the_streams_show_exactly_the_predicted_sequence_records() {
        for scenario in [Scenario::Hard, Scenario::LateOriginal, Scenario::GapExposure, Scenario::LateAfterRetirement] {
            for seed in [1, 2] {
                let cfg = GenConfig { orders: 1500, seed, scenario, fault_rate: 0.05, ..GenConfig::default() };
                let (day, placed) = numbered_day(&cfg);
                let mut want: Vec<(u8, &str, u64, u64)> = Vec::new();
                for g in session::gap_expectations(&day, &placed) {
                    let Expected::Gap { stream, session, kind, expected, seen } = g else { unreachable!() };
                    let dir = (0..DIRS.len() as u8)
                        .find(|&d| {
                            crate::model::session_name(d) == session
                                && STREAM_NAMES[usize::from(DIRS[usize::from(d)].stream)] == stream
                        })
                        .unwrap();
                    want.push((dir, kind, expected, seen));
                }
                let (_, got) = follow(&day);
                let mut got: Vec<(u8, &str, u64, u64)> = got.into_iter().map(|(d, (k, e, s))| (d, k, e, s)).collect();
                want.sort_unstable();
                got.sort_unstable();
                assert_eq!(got, want, "{scenario} seed {seed}");

                let mut lost = session::lost_fill_expectations(&day, &placed);
                mark(&day, &mut lost, cfg.grace_ms * 1000);
                let exposed = lost.iter().filter(|e| matches!(e, Expected::Order { gap_exposure: true, .. })).count();
                assert_eq!(exposed, lost.len(), "{scenario} seed {seed}: every lost fill is decided in its gap");
            }
        }
    }
}
