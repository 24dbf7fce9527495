//! Any bytes: the decoder returns a message or a reason, never panics; a decoded message
//! keeps its invariants.
#![no_main]

use fxrecon_core::event::{ExecEvent, MsgKind, has};
use fxrecon_core::fix::decode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut ev = ExecEvent::default();
    if decode(data, &mut ev).is_ok() && ev.kind == MsgKind::ExecutionReport {
        assert!(!ev.exec_id.is_empty());
        assert!(ev.has(has::EXEC_TYPE) && ev.has(has::ORD_STATUS));
        assert!(!ev.cl_ord_id.is_empty() || !ev.order_id.is_empty());
    }
});
