//! Per-session MsgSeqNum tracking: gaps, duplicates, resets and the filling of gaps.
//!
//! Owns: one `SessionState` per (stream, SenderCompID, TargetCompID), each direction of a FIX
//! session on its own. Pre-sized; never allocates after construction (a full session table is
//! reported, not grown).

use crate::event::{ExecEvent, MsgKind, Stream, has};
use crate::snapshot::{SnapReader, SnapWriter, SnapshotError};
use crate::text::Name;
use crate::time::Micros;

/// Open gaps tracked per session; older ones are forgotten (and counted) beyond this.
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

#[derive(Clone, Copy, Debug, Default)]
struct OpenGap {
    first: u64,
    last: u64,
    /// Lowest number of the gap not yet resent.
    next: u64,
}

#[derive(Clone, Copy, Debug)]
struct SessionState {
    id: SessionId,
    expected: u64,
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
    /// Open gaps forgotten because a session had more than [`MAX_OPEN_GAPS`].
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
            open_gaps: s.open,
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
                s.fill(seq, ev.new_seq_no, seq, &mut emit);
            }
            s.expected = s.expected.max(ev.new_seq_no).max(seq + 1);
        } else if seq == s.expected {
            s.expected += 1;
        } else if seq > s.expected {
            emit(GapKind::Gap, s.expected, seq);
            s.open_gap(s.expected, seq - 1, &mut self.stats);
            s.expected = seq + 1;
        } else if ev.poss_dup {
            s.fill(seq, seq + 1, seq, &mut emit);
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
            for g in &mut gaps[..open] {
                *g = OpenGap { first: r.get()?, last: r.get()?, next: r.get()? };
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
    fn open_gap(&mut self, first: u64, last: u64, stats: &mut SequencerStats) {
        if self.open == MAX_OPEN_GAPS {
            self.gaps.copy_within(1.., 0);
            self.open -= 1;
            stats.gaps_forgotten += 1;
        }
        self.gaps[self.open] = OpenGap { first, last, next: first };
        self.open += 1;
    }

    /// Marks `from .. to` (exclusive) as resent; closes gaps it completes.
    fn fill(&mut self, from: u64, to: u64, closing: u64, emit: &mut impl FnMut(GapKind, u64, u64)) {
        let mut i = 0;
        while i < self.open {
            let g = &mut self.gaps[i];
            if from <= g.next && to > g.next {
                g.next = to;
            }
            if g.next > g.last {
                emit(GapKind::GapFilled, g.first, closing);
                self.gaps.copy_within(i + 1..self.open, i);
                self.open -= 1;
            } else {
                i += 1;
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
}
