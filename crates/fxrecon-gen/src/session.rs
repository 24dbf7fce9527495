//! Session layer: Logon / Heartbeat / Logout traffic in both directions of every session,
//! session-level fault injection (withheld-and-resent messages, gap fills, unfilled gaps,
//! duplicates, resets; and the issue 22 situations: originals delivered out of order, a fill
//! lost in a gap that stays open past its grace deadline, a venue replaying its whole session)
//! and MsgSeqNum assignment in file order.
//!
//! It must never change the content of an ExecutionReport or the order-level ground truth of
//! the orders; it only adds, withholds, moves (a little later), repeats and numbers messages.
//! The one order-level record it makes is the MissingFill of a fill it withholds for good
//! ([`lost_fill_expectations`]).

use std::collections::BTreeMap;

use rand::RngExt;
use rand_chacha::ChaCha8Rng;

use crate::config::GenConfig;
use crate::expected::Expected;
use crate::model::{DIRS, DROPCOPY, Day, Kind, Msg, NO_FILL, Rule, STREAM_NAMES, SYMBOLS, code, reverse, session_name};
use crate::plan::SessionFault;

/// Number of session directions.
const NDIRS: usize = DIRS.len();
/// Heartbeat interval, µs.
const HEARTBEAT_US: i64 = 30_000_000;
/// Messages at each end of a direction that faults never touch.
const EDGE: usize = 5;
/// Attempts to place one session fault before its kind is considered saturated.
const ATTEMPTS: usize = 64;
/// How long after the day's last report a venue replays its whole session (issue 22, about
/// 80 s; up to 2 s more).
const REPLAY_AFTER_US: i64 = 80_000_000;
/// How much longer the day runs when a session is replayed (the replay, then Logouts).
pub(crate) const REPLAY_DAY_EXTENSION_US: i64 = REPLAY_AFTER_US + 5_000_000;

/// SendingTime for a message arriving at `arrival` in direction `dir`: the firm's own messages
/// are logged when sent, the counterparty's a little after they were sent.
fn sending_time(rng: &mut ChaCha8Rng, dir: u8, arrival: i64) -> i64 {
    if DIRS[usize::from(dir)].firm_side { arrival } else { arrival - rng.random_range(20..=400) }
}

/// Adds Logons before the first order, Heartbeats every 30 s and Logouts after the last
/// message (and `extend_us` more), in both directions of every session.
pub(crate) fn add_admin(day: &mut Day, cfg: &GenConfig, extend_us: i64, rng: &mut ChaCha8Rng) {
    let start = cfg.start_time_us;
    let last = day.msgs.iter().map(|m| m.arrival).max().unwrap_or(start).max(start);
    let end = last + 1_000_000 + extend_us;
    for session in 0..NDIRS / 2 {
        let cp = (session * 2) as u8;
        let firm = cp + 1;
        let pair = |day: &mut Day, rng: &mut ChaCha8Rng, kind: Kind, firm_at: i64, cp_at: i64| {
            let s = sending_time(rng, firm, firm_at);
            day.msgs.push(Msg::new(firm, kind, firm_at, s));
            let s = sending_time(rng, cp, cp_at);
            day.msgs.push(Msg::new(cp, kind, cp_at, s));
        };
        let t = start - 50_000 + rng.random_range(0..=1_000);
        let reply = t + rng.random_range(300..=900);
        pair(day, rng, Kind::Logon, t, reply);
        let mut hb = start + HEARTBEAT_US;
        while hb < end - 500_000 {
            let firm_at = hb + rng.random_range(0..=5_000);
            let cp_at = hb + rng.random_range(0..=5_000) + rng.random_range(100..=3_000);
            pair(day, rng, Kind::Heartbeat, firm_at, cp_at);
            hb += HEARTBEAT_US;
        }
        let t = end + rng.random_range(0..=1_000);
        let reply = t + rng.random_range(300..=900);
        pair(day, rng, Kind::Logout, t, reply);
    }
}

/// A placed session fault, for its ground truth once numbers are known.
pub(crate) enum Placed {
    /// `k` messages from `first` withheld and re-sent.
    GapResend { dir: u8, first: u32, k: u64 },
    /// `k` numbers skipped before `item`, closed by a GapFill.
    GapFill { dir: u8, item: u32, k: u64 },
    /// `k` numbers skipped before `item`, never filled.
    GapUnfilled { dir: u8, item: u32, k: u64 },
    /// `item` written twice.
    Duplicate { dir: u8, item: u32 },
    /// SequenceReset-Reset message `msg`, jumping by `jump`.
    Reset { dir: u8, msg: u32, jump: u64 },
    /// `late` (number n) delivered after `early` (number n + 1), no PossDupFlag.
    LateOriginal { dir: u8, late: u32, early: u32 },
    /// Fill report `item` withheld for good, its gap closed by a GapFill after the grace
    /// deadline of its MissingFill.
    LostFill { dir: u8, item: u32 },
    /// Every message of `dir` sent before the replay re-sent (PossDupFlag=Y; runs of session
    /// messages as GapFills) after a ResendRequest for 2..0.
    SessionReplay { dir: u8 },
}

/// Reserved time intervals of one direction (disjoint, keyed by start).
#[derive(Default)]
struct Reserved(BTreeMap<i64, i64>);

impl Reserved {
    /// Whether [lo, hi] overlaps nothing reserved.
    fn is_free(&self, lo: i64, hi: i64) -> bool {
        match self.0.range(..=hi).next_back() {
            Some((_, &end)) => end < lo,
            None => true,
        }
    }

    fn reserve(&mut self, lo: i64, hi: i64) {
        self.0.insert(lo, hi);
    }
}

/// Per-direction lists of message indices sorted by (arrival, index).
fn sorted_lists(day: &Day) -> Vec<Vec<u32>> {
    let mut keyed: Vec<Vec<(i64, u32)>> = vec![Vec::new(); NDIRS];
    for (i, m) in day.msgs.iter().enumerate() {
        keyed[usize::from(m.dir)].push((m.arrival, i as u32));
    }
    keyed
        .into_iter()
        .map(|mut l| {
            l.sort_unstable();
            l.into_iter().map(|(_, i)| i).collect()
        })
        .collect()
}

/// Session fault placement state.
struct Placer<'a> {
    day: &'a mut Day,
    rng: &'a mut ChaCha8Rng,
    lists: Vec<Vec<u32>>,
    reserved: Vec<Reserved>,
    /// The replayed direction: no other fault goes there (it would change what is replayed).
    excluded: Option<u8>,
    /// Orders with a fill lost for good (one per order: its twin must stay delivered).
    lost_fill_orders: Vec<u32>,
    /// Grace window, µs (a lost fill's gap stays open past it).
    grace_us: i64,
}

impl Placer<'_> {
    fn arr(&self, idx: u32) -> i64 {
        self.day.msgs[idx as usize].arrival
    }

    fn is_er(&self, idx: u32) -> bool {
        matches!(self.day.msgs[idx as usize].kind, Kind::Er(_))
    }

    /// Picks a direction with at least `min_len` messages, weighted by length.
    fn pick_dir(&mut self, min_len: usize, ers_only: bool) -> Option<u8> {
        let excluded = self.excluded.map(usize::from);
        let eligible =
            |d: usize, l: &Vec<u32>| l.len() >= min_len && (!ers_only || !DIRS[d].firm_side) && Some(d) != excluded;
        let total: usize = self.lists.iter().enumerate().filter(|(d, l)| eligible(*d, l)).map(|(_, l)| l.len()).sum();
        if total == 0 {
            return None;
        }
        let mut r = self.rng.random_range(0..total);
        for (d, l) in self.lists.iter().enumerate() {
            if eligible(d, l) {
                if r < l.len() {
                    return Some(d as u8);
                }
                r -= l.len();
            }
        }
        None
    }

    /// Whether both reservations are free; if so, takes them.
    fn claim(&mut self, dir: u8, lo: i64, hi: i64, rr_dir: Option<(u8, i64)>) -> bool {
        let free = self.reserved[usize::from(dir)].is_free(lo, hi)
            && rr_dir.is_none_or(|(d, q)| self.reserved[usize::from(d)].is_free(q, q));
        if free {
            self.reserved[usize::from(dir)].reserve(lo, hi);
            if let Some((d, q)) = rr_dir {
                self.reserved[usize::from(d)].reserve(q, q);
            }
        }
        free
    }

    fn push(&mut self, msg: Msg) -> u32 {
        self.day.msgs.push(msg);
        (self.day.msgs.len() - 1) as u32
    }

    /// A ResendRequest from the receiver of `dir`, sent at `at`.
    fn resend_request(&mut self, dir: u8, at: i64, of: u32, minus: u64) {
        let rr_dir = reverse(dir);
        let sending = sending_time(self.rng, rr_dir, at);
        self.push(Msg::new(rr_dir, Kind::ResendRequest { of, minus }, at, sending));
    }

    /// Tries once to place `fault`; `None` means "try again", `Some(None)` "no room at all".
    fn try_once(&mut self, fault: SessionFault) -> Option<Option<Placed>> {
        let rng_k = |rng: &mut ChaCha8Rng, hi: u64| rng.random_range(1..=hi);
        match fault {
            SessionFault::GapResend => {
                let k = rng_k(self.rng, 4) as usize;
                let Some(dir) = self.pick_dir(2 * EDGE + 1 + k, true) else { return Some(None) };
                let l = &self.lists[usize::from(dir)];
                let i = self.rng.random_range(EDGE..=l.len() - EDGE - 1 - k);
                let (items, prev, next) = (l[i..i + k].to_vec(), l[i - 1], l[i + k]);
                if !items.iter().all(|&m| self.is_er(m)) || self.arr(next) - self.arr(items[0]) > 300_000 {
                    return None;
                }
                let an = self.arr(next);
                let q = an + self.rng.random_range(50..=500);
                let mut r = an + self.rng.random_range(1_000..=30_000);
                let mut resend_at = Vec::with_capacity(k);
                for _ in 0..k {
                    resend_at.push(r);
                    r += self.rng.random_range(5..=50);
                }
                let r_last = resend_at[k - 1];
                if !self.claim(dir, self.arr(prev), r_last, Some((reverse(dir), q))) {
                    return None;
                }
                for (&m, &at) in items.iter().zip(&resend_at) {
                    let orig = self.day.msgs[m as usize];
                    self.day.msgs[m as usize].rule = Rule::Withheld;
                    self.day.msgs[m as usize].written = false;
                    let sending = sending_time(self.rng, dir, at);
                    self.push(Msg {
                        arrival: at,
                        sending,
                        orig_sending: orig.sending,
                        poss_dup: true,
                        rule: Rule::CopyOf(m),
                        ..orig
                    });
                }
                self.resend_request(dir, q, items[0], 0);
                Some(Some(Placed::GapResend { dir, first: items[0], k: k as u64 }))
            }
            SessionFault::GapFill | SessionFault::GapUnfilled => {
                let filled = fault == SessionFault::GapFill;
                let k = rng_k(self.rng, if filled { 3 } else { 5 });
                let Some(dir) = self.pick_dir(2 * EDGE + 1, false) else { return Some(None) };
                let l = &self.lists[usize::from(dir)];
                let i = self.rng.random_range(EDGE..=l.len() - EDGE - 1);
                let (item, prev) = (l[i], l[i - 1]);
                let a = self.arr(item);
                let q = a + self.rng.random_range(50..=500);
                let g = q + self.rng.random_range(1_000..=30_000);
                let hi = if filled { g } else { a };
                if !self.claim(dir, self.arr(prev), hi, Some((reverse(dir), q))) {
                    return None;
                }
                self.day.msgs[item as usize].rule = Rule::Skip(k);
                self.resend_request(dir, q, item, k);
                if filled {
                    let sending = sending_time(self.rng, dir, g);
                    let orig_sending = self.day.msgs[item as usize].sending;
                    self.push(Msg {
                        orig_sending,
                        poss_dup: true,
                        rule: Rule::GapFillOf { of: item, k },
                        ..Msg::new(dir, Kind::GapFill { of: item }, g, sending)
                    });
                    Some(Some(Placed::GapFill { dir, item, k }))
                } else {
                    Some(Some(Placed::GapUnfilled { dir, item, k }))
                }
            }
            SessionFault::Duplicate => {
                let Some(dir) = self.pick_dir(2 * EDGE + 2, false) else { return Some(None) };
                let l = &self.lists[usize::from(dir)];
                let i = self.rng.random_range(EDGE..=l.len() - EDGE - 2);
                let (item, next) = (l[i], l[i + 1]);
                let orig = self.day.msgs[item as usize];
                let (a, an) = (orig.arrival, self.arr(next));
                if !matches!(orig.kind, Kind::Er(_) | Kind::Heartbeat) || an - a < 2 {
                    return None;
                }
                if !self.claim(dir, a, an, None) {
                    return None;
                }
                let at = a + self.rng.random_range(1..=(an - a - 1).min(2_000));
                self.push(Msg { arrival: at, rule: Rule::CopyOf(item), ..orig });
                Some(Some(Placed::Duplicate { dir, item }))
            }
            SessionFault::Reset => {
                let Some(dir) = self.pick_dir(2 * EDGE + 2, false) else { return Some(None) };
                let l = &self.lists[usize::from(dir)];
                let i = self.rng.random_range(EDGE + 1..=l.len() - EDGE - 1);
                let (prev, item) = (l[i - 1], l[i]);
                let (ap, a) = (self.arr(prev), self.arr(item));
                if a - ap < 2 || !self.claim(dir, ap, a, None) {
                    return None;
                }
                let at = ap + self.rng.random_range(1..=a - ap - 1);
                let jump = self.rng.random_range(100..=1_000u64);
                let sending = sending_time(self.rng, dir, at);
                let msg =
                    self.push(Msg { rule: Rule::Reset(jump), ..Msg::new(dir, Kind::Reset { jump }, at, sending) });
                Some(Some(Placed::Reset { dir, msg, jump }))
            }
            SessionFault::LateOriginal => self.late_original(),
            SessionFault::GapExposure => self.lost_fill(),
            SessionFault::SessionReplay => self.session_replay(),
        }
    }

    /// The order of report message `m`, if it is one.
    fn order_of(&self, m: u32) -> Option<u32> {
        match self.day.msgs[m as usize].kind {
            Kind::Er(e) => Some(self.day.ers[e as usize].order),
            _ => None,
        }
    }

    /// Issue 22 situation 12: a report (number n) reaches the firm 1–2 ms after the next
    /// message of its direction (n + 1), without PossDupFlag: a gap, then closed by the late
    /// original. The two belong to different orders, and the report moves only a little later.
    fn late_original(&mut self) -> Option<Option<Placed>> {
        let Some(dir) = self.pick_dir(2 * EDGE + 3, true) else { return Some(None) };
        let l = &self.lists[usize::from(dir)];
        let i = self.rng.random_range(EDGE..=l.len() - EDGE - 3);
        let (prev, late, early, next) = (l[i - 1], l[i], l[i + 1], l[i + 2]);
        let (a, b, n) = (self.arr(late), self.arr(early), self.arr(next));
        let same_order = self.order_of(early).is_some() && self.order_of(early) == self.order_of(late);
        if self.order_of(late).is_none() || same_order || b - a > 20_000 || n - b < 3 {
            return None;
        }
        if !self.claim(dir, self.arr(prev), n, None) {
            return None;
        }
        self.day.msgs[late as usize].arrival = b + self.rng.random_range(1..=(n - b - 1).min(2_000));
        self.day.msgs[early as usize].rule = Rule::Skip(1);
        self.day.msgs[late as usize].rule = Rule::Before(early);
        Some(Some(Placed::LateOriginal { dir, late, early }))
    }

    /// Issue 22 situation 13: a fill report of a normal order never reaches the firm on its
    /// stream (its number is used). The gap opens with the next message and stays open until
    /// the venue answers the ResendRequest with a GapFill 0.1–0.6 s after the MissingFill's
    /// grace deadline (the twin's arrival + grace): the MissingFill is decided while it is open.
    fn lost_fill(&mut self) -> Option<Option<Placed>> {
        let Some(dir) = self.pick_dir(2 * EDGE + 2, true) else { return Some(None) };
        let l = &self.lists[usize::from(dir)];
        let i = self.rng.random_range(EDGE..=l.len() - EDGE - 2);
        let (prev, item, next) = (l[i - 1], l[i], l[i + 1]);
        let Kind::Er(e) = self.day.msgs[item as usize].kind else { return None };
        let er = self.day.ers[e as usize];
        let info = &self.day.orders[er.order as usize];
        if er.exec_type != code::TRADE
            || er.fill_id == NO_FILL
            || info.label != "normal"
            || info.internal
            || self.lost_fill_orders.contains(&er.order)
        {
            return None;
        }
        let ers = &self.day.ers[info.er_start as usize..info.er_end as usize];
        let twin = ers.iter().position(|t| t.stream != er.stream && t.fill_id == er.fill_id)? + info.er_start as usize;
        let twin_at = self.day.msgs.iter().filter(|m| m.written && matches!(m.kind, Kind::Er(t) if t as usize == twin));
        let deadline = twin_at.map(|m| m.arrival).min()? + self.grace_us;
        let an = self.arr(next);
        if an + 100_000 > deadline {
            return None;
        }
        let q = an + self.rng.random_range(50..=500);
        let g = deadline + self.rng.random_range(100_000..=600_000);
        if !self.claim(dir, self.arr(prev), g, Some((reverse(dir), q))) {
            return None;
        }
        let orig_sending = self.day.msgs[item as usize].sending;
        self.day.msgs[item as usize].rule = Rule::Withheld;
        self.day.msgs[item as usize].written = false;
        let sending = sending_time(self.rng, dir, g);
        let kind = Kind::GapFillTo { of: item, plus: 1 };
        self.push(Msg { orig_sending, poss_dup: true, rule: Rule::CopyOf(item), ..Msg::new(dir, kind, g, sending) });
        self.resend_request(dir, q, item, 0);
        self.lost_fill_orders.push(er.order);
        Some(Some(Placed::LostFill { dir, item }))
    }

    /// Issue 22 situation 5: a venue replays its whole drop-copy session about 80 s after the
    /// day's last report (after every finished order retired): the firm asks for 2..0 and the
    /// venue re-sends every message it had sent, PossDupFlag=Y with OrigSendingTime, each run
    /// of session messages (heartbeats) as one GapFill. Placed first: it takes its direction for
    /// the whole day.
    fn session_replay(&mut self) -> Option<Option<Placed>> {
        let dc: Vec<u8> = (0..NDIRS as u8)
            .filter(|&d| DIRS[usize::from(d)].stream == DROPCOPY && !DIRS[usize::from(d)].firm_side)
            .filter(|&d| self.lists[usize::from(d)].len() > 2 * EDGE)
            .collect();
        if dc.is_empty() {
            return Some(None);
        }
        let dir = dc[self.rng.random_range(0..dc.len())];
        let last_report = self.day.msgs.iter().filter(|m| matches!(m.kind, Kind::Er(_))).map(|m| m.arrival).max();
        let at = last_report.unwrap_or(0) + REPLAY_AFTER_US + self.rng.random_range(0..=2_000_000);
        if !self.claim(dir, i64::MIN, i64::MAX, Some((reverse(dir), at))) {
            return Some(None);
        }
        self.excluded = Some(dir);
        let sending = sending_time(self.rng, reverse(dir), at);
        self.push(Msg::new(reverse(dir), Kind::ResendAll, at, sending));
        let sent: Vec<u32> =
            self.lists[usize::from(dir)].iter().copied().filter(|&m| self.arr(m) < at).skip(1).collect();
        let mut t = at + self.rng.random_range(1_000..=5_000);
        let mut j = 0;
        while j < sent.len() {
            let first = self.day.msgs[sent[j] as usize];
            let sending = sending_time(self.rng, dir, t);
            let resend = if matches!(first.kind, Kind::Er(_)) {
                j += 1;
                Msg {
                    arrival: t,
                    sending,
                    orig_sending: first.sending,
                    poss_dup: true,
                    rule: Rule::CopyOf(sent[j - 1]),
                    ..first
                }
            } else {
                let run =
                    sent[j..].iter().take_while(|&&m| !matches!(self.day.msgs[m as usize].kind, Kind::Er(_))).count();
                let last = sent[j + run - 1];
                let gap_fill = Msg::new(dir, Kind::GapFillTo { of: last, plus: 1 }, t, sending);
                let m = Msg { orig_sending: first.sending, poss_dup: true, rule: Rule::CopyOf(sent[j]), ..gap_fill };
                j += run;
                m
            };
            self.push(resend);
            t += self.rng.random_range(5..=40);
        }
        Some(Some(Placed::SessionReplay { dir }))
    }
}

/// Places the session faults (as many as fit) and returns where they went.
pub(crate) fn inject(day: &mut Day, faults: &[SessionFault], grace_us: i64, rng: &mut ChaCha8Rng) -> Vec<Placed> {
    let lists = sorted_lists(day);
    let mut placer = Placer {
        day,
        rng,
        lists,
        reserved: (0..NDIRS).map(|_| Reserved::default()).collect(),
        excluded: None,
        lost_fill_orders: Vec::new(),
        grace_us,
    };
    let mut placed = Vec::new();
    let mut saturated: Vec<SessionFault> = Vec::new();
    for &fault in faults {
        if saturated.contains(&fault) {
            continue;
        }
        let mut done = false;
        for _ in 0..ATTEMPTS {
            match placer.try_once(fault) {
                Some(Some(p)) => {
                    placed.push(p);
                    done = true;
                    break;
                }
                Some(None) => break,
                None => {}
            }
        }
        if !done {
            saturated.push(fault);
        }
    }
    placed
}

/// Numbers every direction in file order, applying the fault rules.
/// Returns the next number of each direction.
pub(crate) fn assign_seqs(day: &mut Day, first: Option<&[u64]>) -> Vec<u64> {
    let mut nexts = Vec::with_capacity(NDIRS);
    for (dir, list) in sorted_lists(day).into_iter().enumerate() {
        let mut next: u64 = first.and_then(|f| f.get(dir).copied()).unwrap_or(1).max(1);
        for idx in list {
            let i = idx as usize;
            let seq = match day.msgs[i].rule {
                Rule::Normal | Rule::Withheld => {
                    next += 1;
                    next - 1
                }
                Rule::Skip(k) => {
                    next += k + 1;
                    next - 1
                }
                Rule::CopyOf(of) => day.msgs[of as usize].seq,
                Rule::GapFillOf { of, k } => day.msgs[of as usize].seq.saturating_sub(k),
                Rule::Reset(jump) => {
                    let seq = next;
                    next = seq + jump;
                    seq
                }
                Rule::Before(of) => day.msgs[of as usize].seq.saturating_sub(1),
            };
            day.msgs[i].seq = seq;
        }
        nexts.push(next);
    }
    nexts
}

/// Ground-truth SequenceGap records of the placed faults (after numbering).
pub(crate) fn gap_expectations(day: &Day, placed: &[Placed]) -> Vec<Expected> {
    let seq = |m: u32| day.msgs[m as usize].seq;
    let gap = |dir: u8, kind: &'static str, expected: u64, seen: u64| Expected::Gap {
        stream: STREAM_NAMES[usize::from(DIRS[usize::from(dir)].stream)],
        session: session_name(dir),
        kind,
        expected,
        seen,
    };
    let mut out = Vec::new();
    for p in placed {
        match *p {
            Placed::GapResend { dir, first, k } => {
                let e = seq(first);
                out.push(gap(dir, "gap", e, e + k));
                out.push(gap(dir, "gap_filled", e, e + k - 1));
            }
            Placed::GapFill { dir, item, k } => {
                let e = seq(item) - k;
                out.push(gap(dir, "gap", e, e + k));
                out.push(gap(dir, "gap_filled", e, e));
            }
            Placed::GapUnfilled { dir, item, k } => {
                let e = seq(item) - k;
                out.push(gap(dir, "gap", e, e + k));
            }
            Placed::Duplicate { dir, item } => {
                let n = seq(item);
                out.push(gap(dir, "duplicate", n + 1, n));
            }
            Placed::Reset { dir, msg, jump } => {
                let e = seq(msg);
                out.push(gap(dir, "reset", e, e + jump));
            }
            Placed::LateOriginal { dir, late, early } => {
                let e = seq(late);
                out.push(gap(dir, "gap", e, seq(early)));
                out.push(gap(dir, "gap_filled", e, e));
            }
            Placed::LostFill { dir, item } => {
                let e = seq(item);
                out.push(gap(dir, "gap", e, e + 1));
                out.push(gap(dir, "gap_filled", e, e));
            }
            Placed::SessionReplay { .. } => {}
        }
    }
    out
}

/// The MissingFill of each fill withheld for good (the situation 13 faults): missing on its
/// stream, its twin's ExecID.
pub(crate) fn lost_fill_expectations(day: &Day, placed: &[Placed]) -> Vec<Expected> {
    let mut out = Vec::new();
    for p in placed {
        let Placed::LostFill { item, .. } = *p else { continue };
        let Kind::Er(e) = day.msgs[item as usize].kind else { continue };
        let er = &day.ers[e as usize];
        let info = &day.orders[er.order as usize];
        let ers = &day.ers[info.er_start as usize..info.er_end as usize];
        let Some(twin) = ers.iter().find(|t| t.stream != er.stream && t.fill_id == er.fill_id) else { continue };
        out.push(Expected::Order {
            order_id: crate::model::root_cl_ord_id(day.first_order, er.order),
            kind: "MissingFill",
            symbol: SYMBOLS[usize::from(info.symbol)].name.to_string(),
            venue: day.venue_label(er.order).to_string(),
            side: Some(STREAM_NAMES[usize::from(er.stream)]),
            exec_id: Some(twin.exec_id.text()),
            rejected_only: false,
            gap_exposure: false,
        });
    }
    out
}

/// The orders each placed issue 22 situation touches, with its scenario name: the report moved
/// by a late original, the order of a lost fill, every order whose reports a replay re-sends.
pub(crate) fn situation_orders(day: &Day, placed: &[Placed]) -> Vec<(u32, &'static str)> {
    let order_of = |m: u32| match day.msgs[m as usize].kind {
        Kind::Er(e) => Some(day.ers[e as usize].order),
        _ => None,
    };
    let mut out = Vec::new();
    for p in placed {
        match *p {
            Placed::LateOriginal { late, early, .. } => {
                out.extend(order_of(late).map(|o| (o, "late_original")));
                out.extend(order_of(early).map(|o| (o, "late_original")));
            }
            Placed::LostFill { item, .. } => out.extend(order_of(item).map(|o| (o, "gap_exposure"))),
            Placed::SessionReplay { dir } => {
                let replayed = day.msgs.iter().filter(|m| m.dir == dir && m.poss_dup);
                out.extend(replayed.filter_map(|m| match m.kind {
                    Kind::Er(e) => Some((day.ers[e as usize].order, "late_after_retirement")),
                    _ => None,
                }));
            }
            _ => {}
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn admin_traffic_frames_every_direction() {
        let cfg = GenConfig::default();
        let mut day = Day {
            orders: Vec::new(),
            ers: Vec::new(),
            msgs: vec![Msg::new(0, Kind::Heartbeat, cfg.start_time_us + 65_000_000, cfg.start_time_us)],
            expected: Vec::new(),
            settl_dates: [[b'0'; 8]; 3],
            first_order: 0,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        add_admin(&mut day, &cfg, 0, &mut rng);
        let next = assign_seqs(&mut day, None);
        assert_eq!(next.len(), NDIRS);
        for (d, list) in sorted_lists(&day).iter().enumerate() {
            let kinds: Vec<&str> = list
                .iter()
                .map(|&i| match day.msgs[i as usize].kind {
                    Kind::Logon => "A",
                    Kind::Heartbeat => "0",
                    Kind::Logout => "5",
                    _ => "?",
                })
                .collect();
            // Heartbeats at +30 s and +60 s (the extra message of direction 0 sits between them).
            let want: &[&str] = if d == 0 { &["A", "0", "0", "0", "5"] } else { &["A", "0", "0", "5"] };
            assert_eq!(kinds, want, "direction {d}");
            let seqs: Vec<u64> = list.iter().map(|&i| day.msgs[i as usize].seq).collect();
            assert_eq!(seqs, (1..=want.len() as u64).collect::<Vec<_>>());
        }
    }
}
