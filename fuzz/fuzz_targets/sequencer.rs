//! Any sequence of session messages (numbers, PossDup, resets, gap fills) on a few sessions:
//! the sequencer never panics, and every gap_filled closes a gap it reported before.
#![no_main]

use std::collections::BTreeSet;

use fxrecon_core::event::{ExecEvent, MsgKind, Stream, has};
use fxrecon_core::sequencer::{GapKind, Sequencer};
use fxrecon_core::text::Name;
use fxrecon_core::time::Micros;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut seq = Sequencer::with_capacity(4);
    let mut gaps = BTreeSet::new();
    for chunk in data.chunks_exact(4) {
        let session = chunk[0] % 3;
        let n = u16::from_le_bytes([chunk[1], chunk[2]]) as u64;
        let flags = chunk[3];
        let kind = match flags % 5 {
            0 => MsgKind::Logon,
            1 => MsgKind::SequenceReset,
            _ => MsgKind::ExecutionReport,
        };
        let ev = ExecEvent {
            stream: if session == 2 { Stream::DropCopy } else { Stream::Primary },
            kind,
            seq: n,
            present: has::SEQ | if flags & 0x40 != 0 { has::NEW_SEQ_NO } else { 0 },
            new_seq_no: n + (flags as u64 >> 3),
            poss_dup: flags & 0x08 != 0,
            gap_fill: flags & 0x10 != 0,
            reset_seq_num: flags & 0x20 != 0,
            sender: Name::from_bytes(&[b'A' + session]).unwrap(),
            target: Name::from_bytes(b"T").unwrap(),
            ..ExecEvent::default()
        };
        seq.observe(&ev, Micros(0), &mut |e| match e.kind {
            GapKind::Gap => {
                gaps.insert((e.session.sender, e.expected));
            }
            GapKind::GapFilled => assert!(gaps.contains(&(e.session.sender, e.expected)), "{e:?}"),
            _ => {}
        });
    }
});
