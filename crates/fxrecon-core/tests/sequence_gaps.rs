//! Sequence gaps (contract 3, SequenceGap): a late original (a number below the expected one,
//! never seen, in an open gap) is not a duplicate and counts toward closing its gap like a
//! resend; `gap_filled` comes exactly once per gap, when every number of it has been seen, and
//! never while one is missing. Properties against a plain model of the rule.

use std::collections::BTreeSet;

use fxrecon_core::event::{ExecEvent, MsgKind, Stream, has};
use fxrecon_core::sequencer::{GapKind, MAX_OPEN_GAPS, Sequencer};
use fxrecon_core::snapshot::{SnapReader, SnapWriter};
use fxrecon_core::text::Name;
use fxrecon_core::time::Micros;
use proptest::prelude::*;

fn msg(seq: u64, poss_dup: bool) -> ExecEvent {
    ExecEvent {
        stream: Stream::DropCopy,
        kind: MsgKind::Heartbeat,
        seq,
        poss_dup,
        present: has::SEQ,
        sender: Name::from_bytes(b"VENUE").unwrap(),
        target: Name::from_bytes(b"FIRMDC").unwrap(),
        ..ExecEvent::default()
    }
}

fn gap_fill(seq: u64, new_seq_no: u64) -> ExecEvent {
    let mut m = msg(seq, true);
    m.kind = MsgKind::SequenceReset;
    m.gap_fill = true;
    m.new_seq_no = new_seq_no;
    m.present |= has::NEW_SEQ_NO;
    m
}

fn observe_all(events: &[ExecEvent]) -> (Vec<(GapKind, u64, u64)>, Sequencer) {
    let mut s = Sequencer::with_capacity(4);
    let mut got = Vec::new();
    for e in events {
        s.observe(e, Micros(0), &mut |x| got.push((x.kind, x.expected, x.seen)));
    }
    (got, s)
}

/// The rule, written plainly: each open gap as the set of its numbers not seen yet.
#[derive(Default)]
struct Model {
    expected: Option<u64>,
    gaps: Vec<(u64, BTreeSet<u64>)>,
    /// Most pieces (runs of unseen numbers) the open gaps ever needed at once.
    max_pieces: usize,
}

impl Model {
    fn pieces(&self) -> usize {
        self.gaps.iter().map(|(_, m)| m.iter().filter(|&&n| n == 0 || !m.contains(&(n - 1))).count()).sum()
    }

    fn open(&mut self, first: u64, last: u64, out: &mut Vec<(GapKind, u64, u64)>, expected: u64, seen: u64) {
        out.push((GapKind::Gap, expected, seen));
        self.gaps.push((first, (first..=last).collect()));
    }

    fn cover(&mut self, from: u64, to: u64, closing: u64, out: &mut Vec<(GapKind, u64, u64)>) {
        for (first, missing) in &mut self.gaps {
            let was_open = !missing.is_empty();
            missing.retain(|&n| n < from || n >= to);
            if was_open && missing.is_empty() {
                out.push((GapKind::GapFilled, *first, closing));
            }
        }
        self.gaps.retain(|(_, m)| !m.is_empty());
    }

    fn observe(&mut self, e: &ExecEvent, out: &mut Vec<(GapKind, u64, u64)>) {
        let seq = e.seq;
        let Some(expected) = self.expected else {
            self.expected = Some(if e.kind == MsgKind::SequenceReset { e.new_seq_no } else { seq + 1 });
            return;
        };
        if e.kind == MsgKind::SequenceReset {
            if seq > expected {
                self.open(expected, seq - 1, out, expected, seq);
            } else if seq < expected {
                self.cover(seq, e.new_seq_no, seq, out);
            }
            self.expected = Some(expected.max(e.new_seq_no).max(seq + 1));
        } else if seq == expected {
            self.expected = Some(seq + 1);
        } else if seq > expected {
            self.open(expected, seq - 1, out, expected, seq);
            self.expected = Some(seq + 1);
        } else if e.poss_dup || self.gaps.iter().any(|(_, m)| m.contains(&seq)) {
            self.cover(seq, seq + 1, seq, out);
        } else {
            out.push((GapKind::Duplicate, expected, seq));
        }
        self.max_pieces = self.max_pieces.max(self.pieces());
    }
}

/// A session's traffic: numbers mostly near the next expected one, some far back, some
/// PossDup, some GapFills.
fn traffic() -> impl Strategy<Value = Vec<ExecEvent>> {
    let step = (0u8..100, 0u64..12, 0u64..6, any::<bool>());
    proptest::collection::vec(step, 1..60).prop_map(|steps| {
        let mut events = vec![msg(1, false)];
        let mut high = 1u64;
        for (kind, a, b, flag) in steps {
            let e = match kind {
                // The next number, or a jump ahead (a gap).
                0..=39 => {
                    high += 1 + a.saturating_sub(8);
                    msg(high, flag && a == 0)
                }
                // An older number: a late original, a resend or a duplicate.
                40..=84 => msg(high.saturating_sub(a).max(1), flag),
                // A GapFill starting below (or at, or above) the high mark.
                _ => {
                    let seq = (high + 2).saturating_sub(a).max(1);
                    gap_fill(seq, seq + b)
                }
            };
            events.push(e);
        }
        events
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3_000, ..ProptestConfig::default() })]

    /// Any permutation of a gap's numbers, delivered without PossDupFlag: exactly one `gap`,
    /// one `gap_filled` (with the gap's first number and the number that closed it, the last
    /// one delivered), no `duplicate`, and no open gap left.
    #[test]
    fn any_permutation_of_a_gap_closes_it_once_without_duplicates(
        order in (1usize..=2 * MAX_OPEN_GAPS).prop_flat_map(|n| Just((0..n as u64).collect::<Vec<_>>()).prop_shuffle()),
        start in 1u64..1000,
    ) {
        let n = order.len() as u64;
        let first = start + 1;
        let mut events = vec![msg(start, false), msg(first + n, false)];
        events.extend(order.iter().map(|&i| msg(first + i, false)));
        events.push(msg(first + n + 1, false));
        let (got, s) = observe_all(&events);
        let last = first + order[order.len() - 1];
        prop_assert_eq!(got, vec![(GapKind::Gap, first, first + n), (GapKind::GapFilled, first, last)]);
        prop_assert!(!s.has_open_gap(Stream::DropCopy));
    }

    /// Only some of a gap's numbers (in any order, with or without PossDupFlag): no
    /// `gap_filled` while one is missing, and the gap stays open.
    #[test]
    fn a_gap_missing_a_number_is_never_filled(
        order in (2usize..=2 * MAX_OPEN_GAPS).prop_flat_map(|n| Just((0..n as u64).collect::<Vec<_>>()).prop_shuffle()),
        keep_out in any::<prop::sample::Index>(),
        poss_dup in proptest::collection::vec(any::<bool>(), 2 * MAX_OPEN_GAPS),
    ) {
        let n = order.len() as u64;
        let out = order[keep_out.index(order.len())];
        let mut events = vec![msg(1, false), msg(2 + n, false)];
        events.extend(order.iter().filter(|&&i| i != out).map(|&i| msg(2 + i, poss_dup[i as usize])));
        let (got, s) = observe_all(&events);
        prop_assert_eq!(got, vec![(GapKind::Gap, 2, 2 + n)]);
        prop_assert!(s.has_open_gap(Stream::DropCopy));
        prop_assert_eq!(s.sessions().next().unwrap().open_gaps, 1);
    }

    /// Random traffic (gaps, late originals, resends, duplicates, GapFills): the sequencer
    /// reports exactly what the plain model of the rule does, while the open gaps fit in
    /// the sequencer's pieces; saved and loaded at any point, it goes on the same.
    #[test]
    fn sequencer_agrees_with_the_plain_rule(events in traffic(), cut in any::<prop::sample::Index>()) {
        let mut model = Model::default();
        let mut want = Vec::new();
        for e in &events {
            model.observe(e, &mut want);
        }
        prop_assume!(model.max_pieces <= MAX_OPEN_GAPS);
        let (got, s) = observe_all(&events);
        prop_assert_eq!(&got, &want);
        prop_assert_eq!(s.has_open_gap(Stream::DropCopy), !model.gaps.is_empty());
        prop_assert_eq!(s.sessions().next().unwrap().open_gaps, model.gaps.len());
        prop_assert_eq!(s.stats().gaps_forgotten, 0);
        // Exactly one gap_filled per gap closed, never more than gaps opened.
        let opened = got.iter().filter(|g| g.0 == GapKind::Gap).count();
        let filled: Vec<u64> = got.iter().filter(|g| g.0 == GapKind::GapFilled).map(|g| g.1).collect();
        prop_assert_eq!(filled.iter().collect::<BTreeSet<_>>().len(), filled.len());
        prop_assert!(filled.len() <= opened);

        // Snapshot at the cut (the state, whatever its pieces, loads), then the rest.
        let cut = cut.index(events.len() + 1);
        let (mut resumed, first) = observe_all(&events[..cut]);
        let mut bytes = Vec::new();
        first.save(&mut SnapWriter::new(&mut bytes));
        let mut loaded = Sequencer::with_capacity(4);
        let mut r = SnapReader::new(&bytes);
        prop_assert!(loaded.load(&mut r).is_ok());
        prop_assert!(r.finish().is_ok());
        for e in &events[cut..] {
            loaded.observe(e, Micros(0), &mut |x| resumed.push((x.kind, x.expected, x.seen)));
        }
        prop_assert_eq!(resumed, got);
    }
}
