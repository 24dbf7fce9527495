//! Where a session resumes when its run recovers from a journal (D64): the next inbound
//! number and the gaps still open, worked out from the session's messages the journal holds,
//! not from the state directory (whose numbers are written as messages arrive, so after a
//! kill they may be ahead of what reached the journal: resuming from them would lose fills).
//!
//! Owns: reading a journal's event and reject records of one session (by stream and CompIDs)
//! and following their numbers as the session did. Must never write the journal nor decide
//! anything about the messages beyond their session header.

use std::path::Path;

use fxrecon_core::event::Stream;
use fxrecon_journal::record::{self, KIND_EVENT, KIND_REJECT};
use fxrecon_journal::segment::JournalReader;

use crate::config::SessionConfig;
use crate::error::SessionError;
use crate::message::Fields;
use crate::session::remove_range;

/// A session's inbound position as the journal holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resume {
    /// MsgSeqNum expected next from the peer.
    pub next_in: u64,
    /// Numbers skipped and not yet resent or gap-filled (inclusive ranges, in order).
    pub missing: Vec<(u64, u64)>,
    /// The session's messages found.
    pub messages: u64,
}

impl Resume {
    /// Follows one inbound message (its session header) as the session did on arrival.
    pub fn take(&mut self, bytes: &[u8]) {
        let f = Fields::new(bytes);
        let (Some(seq), Some(msg_type)) = (f.u64(34), f.get(35)) else { return };
        self.messages += 1;
        let is_reset = msg_type == b"4" && !f.flag(123);
        let gap_fill_to = (msg_type == b"4" && f.flag(123)).then(|| f.u64(36)).flatten();
        if msg_type == b"A" && f.flag(141) {
            self.next_in = seq + 1;
            self.missing.clear();
        } else if is_reset {
            if let Some(new) = f.u64(36) {
                self.next_in = new;
                self.missing.retain(|&(_, last)| last >= new);
            }
        } else if seq >= self.next_in {
            // With no known start (0), the first message sets the baseline.
            if seq > self.next_in && self.next_in > 0 {
                self.missing.push((self.next_in, seq - 1));
            }
            self.next_in = (seq + 1).max(gap_fill_to.unwrap_or(0));
        } else {
            let last = gap_fill_to.map_or(seq, |to| to.max(seq + 1) - 1);
            remove_range(&mut self.missing, seq, last);
            self.next_in = self.next_in.max(last + 1);
        }
    }
}

/// How a session's run uses a journal.
#[derive(Clone, Copy, Debug)]
pub enum Journaled<'a> {
    /// No journal: the state directory's numbers.
    No,
    /// A new journal: its starting inbound number is recorded in the state directory.
    New,
    /// A recovered journal (`dir`) whose stream `stream` the session feeds: the inbound side
    /// resumes from the journal's messages.
    Recovering {
        /// The journal directory.
        dir: &'a Path,
        /// The stream the session feeds.
        stream: Stream,
    },
}

/// The position of session `cfg` (on stream `stream`) in the journal at `dir`, which started
/// when the session expected `start` (if known: a gap at the journal's first message counts);
/// None when the journal holds none of its messages.
pub fn from_journal(
    dir: &Path,
    stream: Stream,
    cfg: &SessionConfig,
    start: Option<u64>,
) -> Result<Option<Resume>, SessionError> {
    let (ours, theirs) = (cfg.sender_comp_id.as_bytes(), cfg.target_comp_id.as_bytes());
    let mut r = Resume { next_in: start.unwrap_or(0), ..Resume::default() };
    let salvage = fxrecon_journal::recovery::was_salvaged(dir);
    JournalReader::new(dir, salvage)
        .read(|rec| {
            let bytes = match rec.kind {
                KIND_EVENT => match record::event_position(rec.payload) {
                    Ok((s, _, _)) if s == stream => record::raw(rec.payload),
                    _ => return,
                },
                KIND_REJECT => match record::decode_reject(rec.payload) {
                    Ok(j) if j.stream == stream => j.excerpt,
                    _ => return,
                },
                _ => return,
            };
            let f = Fields::new(bytes);
            if f.get(49) == Some(theirs) && f.get(56) == Some(ours) {
                r.take(bytes);
            }
        })
        .map_err(|e| SessionError::Io {
            session: cfg.name(),
            what: format!("reading the journal in {}", dir.display()),
            source: std::io::Error::other(e.to_string()),
        })?;
    Ok((r.messages > 0).then_some(r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: u64, rest: &str) -> Vec<u8> {
        format!("8=FIX.4.4\x019=10\x0135={rest}\x0149=V\x0156=F\x0134={seq}\x0110=000\x01").into_bytes()
    }

    #[test]
    fn the_journaled_numbers_give_the_next_one_and_the_gaps_still_open() {
        let mut r = Resume::default();
        r.take(&msg(5, "A")); // a logon mid-day sets the baseline, not a gap
        r.take(&msg(6, "8"));
        r.take(&msg(9, "8")); // 7..8 missing
        r.take(&msg(12, "8")); // 10..11 missing
        assert_eq!((r.next_in, r.missing.clone()), (13, vec![(7, 8), (10, 11)]));
        r.take(&msg(7, "8\x0143=Y"));
        r.take(&msg(8, "4\x0143=Y\x01123=Y\x0136=9"));
        assert_eq!((r.next_in, r.missing.clone()), (13, vec![(10, 11)]));
        r.take(&msg(13, "4\x0136=20")); // SequenceReset-Reset
        assert_eq!((r.next_in, r.missing.clone(), r.messages), (20, vec![], 7));
        r.take(&msg(1, "A\x01141=Y"));
        assert_eq!(r.next_in, 2);
        // A known start: a gap at the first message is still open.
        let mut r = Resume { next_in: 3, ..Resume::default() };
        r.take(&msg(5, "A"));
        assert_eq!((r.next_in, r.missing), (6, vec![(3, 4)]));
    }
}
