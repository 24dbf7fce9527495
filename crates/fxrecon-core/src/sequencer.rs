//! Per-session MsgSeqNum tracking: gaps, duplicates, resets and the filling of gaps.
//!
//! Owns: one `SessionState` per (stream, SenderCompID, TargetCompID), each direction of a FIX
//! session on its own. Pre-sized; never allocates after construction (a full session table is
//! reported, not grown).

use crate::event::{ExecEvent, MsgKind, Stream, has};
use crate::snapshot::{SnapReader, SnapWriter, SnapshotError};
use crate::text::Name;
use crate::time::Micros;

/// Pieces of open gaps tracked per session. A gap is one piece (a run of numbers not yet
/// seen) when it opens, and each number seen inside a piece, out of order, splits that piece
/// in two; when a new gap or a split needs a piece beyond this, the oldest gap is forgotten
/// (all its pieces, counted in [`SequencerStats::gaps_forgotten`]): it never reports
/// `gap_filled`, and its numbers, when they come, are duplicates.
pub const MAX_OPEN_GAPS: usize = 16;

/// The kind of a sequence event, as printed in output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GapKind {
    /// Seen number above the expected one.
    Gap,
    /// Every number of an earlier gap has been resent or gap-filled.
    GapFilled,
    /// Seen number below the expected one without PossDupFlag.
    Duplicate,
    /// Logon with ResetSeqNumFlag, or SequenceReset in reset mode.
    Reset,
}

impl GapKind {
    /// Output name: `gap`, `gap_filled`, `duplicate`, `reset`.
    pub const fn name(self) -> &'static str {
        match self {
            GapKind::Gap => "gap",
            GapKind::GapFilled => "gap_filled",
            GapKind::Duplicate => "duplicate",
            GapKind::Reset => "reset",
        }
    }
}

/// One direction of a FIX session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SessionId {
    /// Stream the session belongs to.
    pub stream: Stream,
    /// 49 of the messages in this direction.
    pub sender: Name,
    /// 56 of the messages in this direction.
    pub target: Name,
}

/// A sequence anomaly found in one session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SequenceEvent {
    /// The session it concerns.
    pub session: SessionId,
    /// What happened.
    pub kind: GapKind,
    /// Expected number (for `gap_filled`: the gap's first number).
    pub expected: u64,
    /// Seen number (for `gap_filled`: the number that closed it; for `reset`: the new number).
    pub seen: u64,
    /// Event time of the message that showed it.
    pub at: Micros,
}

/// One piece of an open gap: the numbers `next ..= last`, none of them seen yet. The pieces of
/// one gap share its `first`; a session keeps its pieces in order (by gap, then by number), so
/// a gap's pieces sit side by side and the oldest gap comes first.
#[derive(Clone, Copy, Debug, Default)]
struct OpenGap {
    /// First number of the gap this piece belongs to (what `gap_filled` reports).
    first: u64,
    /// Highest number of the piece.
    last: u64,
    /// Lowest number of the piece.
    next: u64,
}

#[derive(Clone, Copy, Debug)]
struct SessionState {
    id: SessionId,
    expected: u64,
    /// Pieces of the open gaps, in order; `open` of them are used.
    gaps: [OpenGap; MAX_OPEN_GAPS],
    open: usize,
    /// Messages sequenced since this sequencer was built or loaded: an observation for live
    /// counters, not state (neither saved nor digested, so it never changes what is reported).
    messages: u64,
}

/// One session as the sequencer sees it now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionView {
    /// The session direction.
    pub id: SessionId,
    /// The next MsgSeqNum it expects.
    pub expected: u64,
    /// Gaps still open.
    pub open_gaps: usize,
    /// Messages sequenced since the sequencer was built or loaded (not part of the state).
    pub messages: u64,
}

/// Counters kept by the sequencer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SequencerStats {
    /// Sessions seen.
    pub sessions: u64,
    /// Messages of sessions that did not fit in the table (not sequenced).
    pub unsequenced_table_full: u64,
    /// Open gaps forgotten because a session's open gaps needed more than [`MAX_OPEN_GAPS`]
    /// pieces.
    pub gaps_forgotten: u64,
}

/// Tracks every session's expected next MsgSeqNum.
#[derive(Debug)]
pub struct Sequencer {
    sessions: Vec<SessionState>,
    capacity: usize,
    /// The session each stream's last message came from (a lookup cache: the streams
    /// interleave, so one shared entry would miss on every change of stream).
    last: [usize; 2],
    stats: SequencerStats,
}

impl Sequencer {
    /// A sequencer for at most `capacity` session directions.
    pub fn with_capacity(capacity: usize) -> Self {
        Self { sessions: Vec::with_capacity(capacity), capacity, last: [0; 2], stats: SequencerStats::default() }
    }

    /// Counters so far.
    pub fn stats(&self) -> SequencerStats {
        self.stats
    }

    /// True when a session of `stream` has a sequence gap still open (a message it is missing
    /// may be in the gap: contract 4, gap exposure).
    pub fn has_open_gap(&self, stream: Stream) -> bool {
        self.sessions.iter().any(|s| s.id.stream == stream && s.open > 0)
    }

    /// Every session seen, in the order first seen.
    pub fn sessions(&self) -> impl Iterator<Item = SessionView> + '_ {
        self.sessions.iter().map(|s| SessionView {
            id: s.id,
            expected: s.expected,
            open_gaps: s.open_gaps(),
            messages: s.messages,
        })
    }

    /// Observes one message at event time `at`; reports anomalies through `out`.
    pub fn observe(&mut self, ev: &ExecEvent, at: Micros, out: &mut impl FnMut(SequenceEvent)) {
        if !ev.has(has::SEQ) {
            return;
        }
        let id = SessionId { stream: ev.stream, sender: ev.sender, target: ev.target };
        let Some(idx) = self.find_or_insert(&id, ev) else {
            return;
        };
        let s = &mut self.sessions[idx];
        s.messages += 1;
        let seq = ev.seq;
        let mut emit = |kind, expected, seen| out(SequenceEvent { session: id, kind, expected, seen, at });

        let is_reset_logon = ev.kind == MsgKind::Logon && ev.reset_seq_num;
        let is_sequence_reset = ev.kind == MsgKind::SequenceReset && ev.has(has::NEW_SEQ_NO);
        if is_reset_logon {
            emit(GapKind::Reset, s.expected, seq);
            s.expected = seq + 1;
            s.open = 0;
        } else if is_sequence_reset && !ev.gap_fill {
            emit(GapKind::Reset, s.expected, ev.new_seq_no);
            s.expected = ev.new_seq_no;
            s.open = 0;
        } else if is_sequence_reset {
            // GapFill: numbers seq .. NewSeqNo-1 will not be sent again.
            if seq > s.expected {
                emit(GapKind::Gap, s.expected, seq);
                s.open_gap(s.expected, seq - 1, &mut self.stats);
            } else if seq < s.expected {
                s.fill(seq, ev.new_seq_no, seq, &mut self.stats, &mut emit);
            }
            s.expected = s.expected.max(ev.new_seq_no).max(seq + 1);
        } else if seq == s.expected {
            s.expected += 1;
        } else if seq > s.expected {
            emit(GapKind::Gap, s.expected, seq);
            s.open_gap(s.expected, seq - 1, &mut self.stats);
            s.expected = seq + 1;
        } else if ev.poss_dup || s.is_missing(seq) {
            // Below the expected number: a resend (PossDupFlag), or a late original (a number
            // never seen, in an open gap). Either counts toward closing its gap.
            s.fill(seq, seq + 1, seq, &mut self.stats, &mut emit);
        } else {
            emit(GapKind::Duplicate, s.expected, seq);
        }
    }

    /// Writes every session's state into a snapshot.
    pub fn save(&self, w: &mut SnapWriter<'_>) {
        // The lookup cache is not state: the format keeps one entry of it.
        w.put(&self.sessions.len()).put(&self.last[0]);
        for s in &self.sessions {
            w.put(&s.id.stream).put(&s.id.sender).put(&s.id.target).put(&s.expected).put(&s.open);
            for g in &s.gaps[..s.open] {
                w.put(&g.first).put(&g.last).put(&g.next);
            }
        }
        w.put(&self.stats.sessions).put(&self.stats.unsequenced_table_full).put(&self.stats.gaps_forgotten);
    }

    /// Replaces this (empty) sequencer's state with one written by [`Sequencer::save`].
    pub fn load(&mut self, r: &mut SnapReader<'_>) -> Result<(), SnapshotError> {
        let n = r.count(self.capacity)?;
        self.last = [r.get()?; 2];
        self.sessions.clear();
        for _ in 0..n {
            let id = SessionId { stream: r.get()?, sender: r.get()?, target: r.get()? };
            let expected = r.get()?;
            let open: usize = r.get()?;
            if open > MAX_OPEN_GAPS {
                return Err(SnapshotError::Invalid("open gaps"));
            }
            let mut gaps = [OpenGap::default(); MAX_OPEN_GAPS];
            for i in 0..open {
                let g = OpenGap { first: r.get()?, last: r.get()?, next: r.get()? };
                // Each piece within its gap, pieces in order and apart.
                let in_order = i == 0 || {
                    let p = gaps[i - 1];
                    if p.first == g.first { p.last < g.next } else { p.first < g.first && p.last < g.first }
                };
                if !(g.first <= g.next && g.next <= g.last && in_order) {
                    return Err(SnapshotError::Invalid("open gap pieces"));
                }
                gaps[i] = g;
            }
            self.sessions.push(SessionState { id, expected, gaps, open, messages: 0 });
        }
        self.stats = SequencerStats { sessions: r.get()?, unsequenced_table_full: r.get()?, gaps_forgotten: r.get()? };
        Ok(())
    }

    /// Feeds every session's state to `d`.
    pub fn digest_into(&self, d: &mut crate::digest::Digest) {
        d.u64(self.sessions.len() as u64);
        for s in &self.sessions {
            d.u64(s.id.stream as u64).text(s.id.sender.as_bytes()).text(s.id.target.as_bytes()).u64(s.expected);
            for g in &s.gaps[..s.open] {
                d.u64(g.first).u64(g.last).u64(g.next);
            }
        }
    }

    fn find_or_insert(&mut self, id: &SessionId, ev: &ExecEvent) -> Option<usize> {
        let last = &mut self.last[id.stream.index()];
        if self.sessions.get(*last).is_some_and(|s| s.id == *id) {
            return Some(*last);
        }
        if let Some(i) = self.sessions.iter().position(|s| s.id == *id) {
            *last = i;
            return Some(i);
        }
        if self.sessions.len() >= self.capacity {
            self.stats.unsequenced_table_full += 1;
            return None;
        }
        // A session's first message sets its baseline: no event, whatever it is.
        let expected = match ev.kind {
            MsgKind::SequenceReset if ev.has(has::NEW_SEQ_NO) => ev.new_seq_no,
            _ => ev.seq + 1,
        };
        self.sessions.push(SessionState {
            id: *id,
            expected,
            gaps: [OpenGap::default(); MAX_OPEN_GAPS],
            open: 0,
            messages: 1,
        });
        self.stats.sessions += 1;
        // The baseline message itself needs no further processing.
        None
    }
}

impl SessionState {
    /// Opens the gap `first ..= last` (numbers above every open gap's).
    fn open_gap(&mut self, first: u64, last: u64, stats: &mut SequencerStats) {
        if self.open == MAX_OPEN_GAPS {
            self.forget_oldest_gap(stats);
        }
        self.gaps[self.open] = OpenGap { first, last, next: first };
        self.open += 1;
    }

    /// Open gaps (not pieces).
    fn open_gaps(&self) -> usize {
        let pieces = &self.gaps[..self.open];
        pieces.iter().enumerate().filter(|&(i, g)| i == 0 || pieces[i - 1].first != g.first).count()
    }

    /// True when `seq` lies in an open gap: below the expected number and never seen.
    fn is_missing(&self, seq: u64) -> bool {
        self.gaps[..self.open].iter().any(|g| g.next <= seq && seq <= g.last)
    }

    /// Forgets the oldest open gap, every piece of it (the first ones); returns its first
    /// number and how many pieces it had.
    fn forget_oldest_gap(&mut self, stats: &mut SequencerStats) -> (u64, usize) {
        let first = self.gaps[0].first;
        let n = self.gaps[..self.open].iter().take_while(|g| g.first == first).count();
        self.gaps.copy_within(n..self.open, 0);
        self.open -= n;
        stats.gaps_forgotten += 1;
        (first, n)
    }

    /// Marks `from .. to` (exclusive) as seen: resent, gap-filled or come late. Emits
    /// `gap_filled` (with `closing` as the number that closed it) for each gap that has no
    /// number left unseen, once: when its last piece goes. A range inside a piece splits it.
    fn fill(
        &mut self,
        from: u64,
        to: u64,
        closing: u64,
        stats: &mut SequencerStats,
        emit: &mut impl FnMut(GapKind, u64, u64),
    ) {
        if to <= from {
            return;
        }
        let mut i = 0;
        while i < self.open {
            let g = self.gaps[i];
            let (lo, hi) = (from.max(g.next), (to - 1).min(g.last));
            if lo > hi {
                i += 1;
            } else if lo == g.next && hi == g.last {
                // The whole piece seen.
                self.gaps.copy_within(i + 1..self.open, i);
                self.open -= 1;
                if !self.gaps[..self.open].iter().any(|p| p.first == g.first) {
                    emit(GapKind::GapFilled, g.first, closing);
                }
            } else if lo == g.next {
                self.gaps[i].next = hi + 1;
                i += 1;
            } else if hi == g.last {
                self.gaps[i].last = lo - 1;
                i += 1;
            } else {
                // Inside the piece: it becomes `next .. lo` and `hi + 1 ..= last`.
                if self.open == MAX_OPEN_GAPS {
                    let (forgotten, n) = self.forget_oldest_gap(stats);
                    if forgotten == g.first {
                        // This very gap: the pieces left (now from 0) are all unvisited.
                        i = 0;
                        continue;
                    }
                    i -= n;
                }
                self.gaps.copy_within(i + 1..self.open, i + 2);
                self.gaps[i].last = lo - 1;
                self.gaps[i + 1] = OpenGap { first: g.first, last: g.last, next: hi + 1 };
                self.open += 1;
                i += 2;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::MsgKind;

    fn msg(seq: u64) -> ExecEvent {
        ExecEvent {
            stream: Stream::DropCopy,
            kind: MsgKind::Heartbeat,
            seq,
            present: has::SEQ,
            sender: Name::from_bytes(b"VENUE").unwrap(),
            target: Name::from_bytes(b"FIRMDC").unwrap(),
            ..ExecEvent::default()
        }
    }

    fn run(events: &[ExecEvent]) -> Vec<(GapKind, u64, u64)> {
        let mut s = Sequencer::with_capacity(4);
        let mut got = Vec::new();
        for e in events {
            s.observe(e, Micros(0), &mut |x| got.push((x.kind, x.expected, x.seen)));
        }
        got
    }

    #[test]
    fn first_message_is_baseline() {
        assert!(run(&[msg(500), msg(501)]).is_empty());
    }

    #[test]
    fn gap_then_gapfill_like_quickfix_sample() {
        let mut gf = msg(74);
        gf.kind = MsgKind::SequenceReset;
        gf.gap_fill = true;
        gf.poss_dup = true;
        gf.new_seq_no = 77;
        gf.present |= has::NEW_SEQ_NO;
        let mut resend = msg(77);
        resend.poss_dup = true;
        let got = run(&[msg(72), msg(73), msg(77), gf, resend, msg(78)]);
        assert_eq!(got, vec![(GapKind::Gap, 74, 77), (GapKind::GapFilled, 74, 74)]);
    }

    #[test]
    fn gap_filled_by_possdup_resends_in_order() {
        let pd = |n| {
            let mut m = msg(n);
            m.poss_dup = true;
            m
        };
        let got = run(&[msg(1), msg(2), msg(5), pd(3), pd(4), msg(6)]);
        assert_eq!(got, vec![(GapKind::Gap, 3, 5), (GapKind::GapFilled, 3, 4)]);
    }

    #[test]
    fn unfilled_gap_and_duplicate_and_possdup_resend() {
        let mut pd = msg(3);
        pd.poss_dup = true;
        let got = run(&[msg(1), msg(2), msg(3), msg(3), pd, msg(9)]);
        assert_eq!(got, vec![(GapKind::Duplicate, 4, 3), (GapKind::Gap, 4, 9)]);
    }

    #[test]
    fn resets_by_logon_and_sequence_reset() {
        let mut logon = msg(1);
        logon.kind = MsgKind::Logon;
        logon.reset_seq_num = true;
        let mut sr = msg(3);
        sr.kind = MsgKind::SequenceReset;
        sr.new_seq_no = 500;
        sr.present |= has::NEW_SEQ_NO;
        let got = run(&[msg(10), msg(11), logon, msg(2), sr, msg(500)]);
        assert_eq!(got, vec![(GapKind::Reset, 12, 1), (GapKind::Reset, 3, 500)]);
    }

    #[test]
    fn directions_and_streams_are_separate_sessions() {
        let mut other = msg(1);
        other.sender = Name::from_bytes(b"FIRMDC").unwrap();
        other.target = Name::from_bytes(b"VENUE").unwrap();
        let mut primary = msg(7);
        primary.stream = Stream::Primary;
        assert!(run(&[msg(1), other, primary, msg(2)]).is_empty());
    }

    #[test]
    fn unsequenced_messages_are_ignored() {
        let mut m = msg(0);
        m.present = 0;
        assert!(run(&[msg(1), m, msg(2)]).is_empty());
    }

    fn pd(n: u64) -> ExecEvent {
        let mut m = msg(n);
        m.poss_dup = true;
        m
    }

    fn gap_fill(seq: u64, new_seq_no: u64) -> ExecEvent {
        let mut m = pd(seq);
        m.kind = MsgKind::SequenceReset;
        m.gap_fill = true;
        m.new_seq_no = new_seq_no;
        m.present |= has::NEW_SEQ_NO;
        m
    }

    fn msgs(numbers: &[u64]) -> Vec<ExecEvent> {
        numbers.iter().map(|&n| msg(n)).collect()
    }

    /// The pieces of every session, checked against the order `load` requires.
    fn pieces(s: &Sequencer) -> Vec<Vec<(u64, u64, u64)>> {
        s.sessions
            .iter()
            .map(|st| {
                let p: Vec<(u64, u64, u64)> = st.gaps[..st.open].iter().map(|g| (g.first, g.next, g.last)).collect();
                for (i, &(first, next, last)) in p.iter().enumerate() {
                    assert!(first <= next && next <= last && last < st.expected, "{p:?}");
                    if i > 0 {
                        let (pf, _, pl) = p[i - 1];
                        assert!(if pf == first { pl + 1 < next } else { pf < first && pl < first }, "{p:?}");
                    }
                }
                p
            })
            .collect()
    }

    #[test]
    fn late_original_is_applied_not_a_duplicate_and_closes_its_gap() {
        // The case: 1, 3, then 2 without PossDupFlag.
        assert_eq!(run(&msgs(&[1, 3, 2])), vec![(GapKind::Gap, 2, 3), (GapKind::GapFilled, 2, 2)]);
    }

    #[test]
    fn late_originals_in_any_order_close_their_gap_once_when_every_number_is_seen() {
        // Gap 2..5; 4 first splits it into 2..3 and 5.
        let got = run(&msgs(&[1, 6, 4, 2, 5, 7, 3, 8]));
        assert_eq!(got, vec![(GapKind::Gap, 2, 6), (GapKind::GapFilled, 2, 3)]);
    }

    #[test]
    fn gap_is_never_filled_while_a_number_of_it_is_missing() {
        let mut s = Sequencer::with_capacity(4);
        let mut got = Vec::new();
        for e in &msgs(&[1, 6, 2, 3, 5, 7]) {
            s.observe(e, Micros(0), &mut |x| got.push((x.kind, x.expected, x.seen)));
        }
        assert_eq!(got, vec![(GapKind::Gap, 2, 6)]);
        assert_eq!(pieces(&s), vec![vec![(2, 4, 4)]]);
        assert!(s.has_open_gap(Stream::DropCopy));
    }

    #[test]
    fn number_seen_twice_below_expected_without_possdup_is_a_duplicate() {
        // 2 once late (in the gap), then again: the second is a duplicate; 4 was never in a gap.
        let got = run(&msgs(&[1, 3, 4, 2, 2, 4]));
        assert_eq!(
            got,
            vec![
                (GapKind::Gap, 2, 3),
                (GapKind::GapFilled, 2, 2),
                (GapKind::Duplicate, 5, 2),
                (GapKind::Duplicate, 5, 4)
            ]
        );
        // A number already seen inside a still open gap, again: a duplicate too.
        let got = run(&msgs(&[1, 9, 4, 4]));
        assert_eq!(got, vec![(GapKind::Gap, 2, 9), (GapKind::Duplicate, 10, 4)]);
    }

    #[test]
    fn resends_late_originals_and_gap_fills_together_cover_a_gap() {
        // Gap 2..9: 5 late, GapFill 2 -> 5 (2 to 4), PossDup resends of 8 and 6, then 7 late
        // and a GapFill 9 -> 10 that closes it.
        let mut seq = vec![msg(1), msg(10), msg(5), gap_fill(2, 5), pd(8), pd(6), msg(7)];
        let before = run(&seq);
        assert_eq!(before, vec![(GapKind::Gap, 2, 10)]);
        seq.push(gap_fill(9, 10));
        assert_eq!(run(&seq), vec![(GapKind::Gap, 2, 10), (GapKind::GapFilled, 2, 9)]);
        // A resend of a number seen already is neither a duplicate nor a fill.
        seq.push(pd(5));
        assert_eq!(run(&seq).len(), 2);
    }

    #[test]
    fn gap_fill_inside_a_gap_splits_it() {
        let mut s = Sequencer::with_capacity(4);
        let mut got = Vec::new();
        for e in &[msg(1), msg(10), gap_fill(4, 6)] {
            s.observe(e, Micros(0), &mut |x| got.push((x.kind, x.expected, x.seen)));
        }
        assert_eq!(pieces(&s), vec![vec![(2, 2, 3), (2, 6, 9)]]);
        assert_eq!(s.sessions().next().unwrap().open_gaps, 1);
        for e in &msgs(&[9, 2, 7, 3, 8, 6]) {
            s.observe(e, Micros(0), &mut |x| got.push((x.kind, x.expected, x.seen)));
        }
        assert_eq!(got, vec![(GapKind::Gap, 2, 10), (GapKind::GapFilled, 2, 6)]);
        assert!(!s.has_open_gap(Stream::DropCopy));
        assert_eq!(pieces(&s), vec![vec![]]);
    }

    #[test]
    fn one_gap_fill_closes_every_gap_it_covers_in_order() {
        let got = run(&[msg(1), msg(3), msg(6), msg(4), gap_fill(2, 7)]);
        assert_eq!(
            got,
            vec![(GapKind::Gap, 2, 3), (GapKind::Gap, 4, 6), (GapKind::GapFilled, 2, 2), (GapKind::GapFilled, 4, 2)]
        );
    }

    #[test]
    fn a_gap_split_beyond_the_piece_limit_is_forgotten_never_filled() {
        let mut s = Sequencer::with_capacity(4);
        let mut got = Vec::new();
        let mut obs = |s: &mut Sequencer, e: ExecEvent| s.observe(&e, Micros(0), &mut |x| got.push((x.kind, x.seen)));
        // An older gap (2) and a gap 4..43; every other number of the second one arrives.
        for n in [1, 3, 44] {
            obs(&mut s, msg(n));
        }
        for n in (5..=31).step_by(2) {
            obs(&mut s, msg(n));
        }
        // 1 + 15 pieces: the next split needs a 17th, so the older gap goes.
        assert_eq!(s.sessions[0].open, MAX_OPEN_GAPS);
        assert_eq!(s.stats().gaps_forgotten, 0);
        obs(&mut s, msg(33));
        assert_eq!(s.stats().gaps_forgotten, 1);
        assert_eq!(pieces(&s)[0].len(), MAX_OPEN_GAPS);
        assert!(pieces(&s)[0].iter().all(|p| p.0 == 4));
        obs(&mut s, msg(35));
        // Now the gap itself is the oldest: forgotten whole.
        assert_eq!(s.stats().gaps_forgotten, 2);
        assert!(!s.has_open_gap(Stream::DropCopy));
        // Its numbers, when they come, are duplicates; nothing ever says it was filled.
        for n in [2, 4, 6, 36, 38] {
            obs(&mut s, msg(n));
        }
        let kinds: Vec<GapKind> = got.iter().map(|g| g.0).collect();
        assert_eq!(kinds.iter().filter(|&&k| k == GapKind::GapFilled).count(), 0, "{got:?}");
        assert_eq!(&kinds[2..], [GapKind::Duplicate; 5], "{got:?}");
    }

    #[test]
    fn a_new_gap_beyond_the_piece_limit_forgets_the_oldest_gap_whole() {
        let mut s = Sequencer::with_capacity(4);
        let mut got = Vec::new();
        // Gap 2..20 split into 8 pieces, then 8 more gaps: the 9th new gap needs a 17th piece.
        let mut seq = vec![1, 21];
        seq.extend([3, 5, 7, 9, 11, 13, 15]);
        seq.extend((0..9).flat_map(|i| [23 + 2 * i]));
        for e in &msgs(&seq) {
            s.observe(e, Micros(0), &mut |x| got.push((x.kind, x.expected, x.seen)));
        }
        assert_eq!(s.stats().gaps_forgotten, 1);
        let p = &pieces(&s)[0];
        assert_eq!(p.len(), 9);
        assert_eq!(p[0], (22, 22, 22));
        assert_eq!(s.sessions().next().unwrap().open_gaps, 9);
    }

    #[test]
    fn split_gaps_survive_a_snapshot_and_count_in_the_digest() {
        let first = [msg(1), msg(12), msg(5), msg(8), gap_fill(10, 11)];
        let rest = msgs(&[2, 3, 4, 6, 7, 9, 11, 13]);
        let mut a = Sequencer::with_capacity(4);
        let mut got_a = Vec::new();
        for e in &first {
            a.observe(e, Micros(0), &mut |x| got_a.push(x));
        }
        let mut bytes = Vec::new();
        a.save(&mut SnapWriter::new(&mut bytes));
        let mut b = Sequencer::with_capacity(4);
        let mut r = SnapReader::new(&bytes);
        b.load(&mut r).unwrap();
        r.finish().unwrap();
        assert_eq!(pieces(&b), pieces(&a));
        let digest = |s: &Sequencer| {
            let mut d = crate::digest::Digest::default();
            s.digest_into(&mut d);
            d.finish()
        };
        assert_eq!(digest(&a), digest(&b));
        let mut got_b = got_a.clone();
        for e in &rest {
            a.observe(e, Micros(0), &mut |x| got_a.push(x));
            b.observe(e, Micros(0), &mut |x| got_b.push(x));
            assert_eq!(digest(&a), digest(&b));
        }
        assert_eq!(got_a, got_b);
        assert_eq!(got_a.last().map(|x| (x.kind, x.expected, x.seen)), Some((GapKind::GapFilled, 2, 11)));
        // Different pieces of the same gap: different digests.
        let mut c = Sequencer::with_capacity(4);
        let mut d = Sequencer::with_capacity(4);
        for e in &msgs(&[1, 12, 5]) {
            c.observe(e, Micros(0), &mut |_| {});
        }
        for e in &msgs(&[1, 12, 6]) {
            d.observe(e, Micros(0), &mut |_| {});
        }
        assert_ne!(digest(&c), digest(&d));
    }

    #[test]
    fn snapshot_with_pieces_out_of_order_is_invalid() {
        let mut a = Sequencer::with_capacity(4);
        for e in &msgs(&[1, 12, 5]) {
            a.observe(e, Micros(0), &mut |_| {});
        }
        // Swap the two pieces (2..4 and 6..11) in the saved bytes: the last 2 x 24 bytes
        // before the three stats counters.
        let mut bytes = Vec::new();
        a.save(&mut SnapWriter::new(&mut bytes));
        let end = bytes.len() - 24;
        let (p0, p1) = (bytes[end - 48..end - 24].to_vec(), bytes[end - 24..end].to_vec());
        bytes[end - 48..end - 24].copy_from_slice(&p1);
        bytes[end - 24..end].copy_from_slice(&p0);
        let mut b = Sequencer::with_capacity(4);
        assert_eq!(b.load(&mut SnapReader::new(&bytes)), Err(SnapshotError::Invalid("open gap pieces")));
    }
}
