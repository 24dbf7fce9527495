//! The real QuickFIX day in shared/samples must give exactly the contract's expected output.

use std::collections::BTreeMap;
use std::path::PathBuf;

use fxrecon_engine::config::Config;
use fxrecon_engine::summary::JsonlSink;
use serde_json::Value;

fn sample_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/quickfix-day")
}

/// A JSON object without the keys the sample's expected output leaves out.
fn comparable(line: &str) -> BTreeMap<String, Value> {
    let v: BTreeMap<String, Value> = serde_json::from_str(line).unwrap();
    v.into_iter().filter(|(k, _)| !matches!(k.as_str(), "id" | "detected_at" | "detail")).collect()
}

#[test]
fn quickfix_sample_matches_expected_output() {
    let dir = sample_dir();
    let primary = std::fs::read(dir.join("primary.fix")).expect("shared/samples must be beside the repo");
    let dropcopy = std::fs::read(dir.join("dropcopy.fix")).unwrap();
    let expected = std::fs::read_to_string(dir.join("expected.jsonl")).unwrap();

    let mut out = Vec::new();
    let mut sink = JsonlSink::new(&mut out);
    let mut rejects: Vec<(fxrecon_core::Stream, u64, String)> = Vec::new();
    let stats =
        fxrecon_engine::offline::reconcile(&primary[..], &dropcopy[..], &Config::default(), &mut sink, &mut rejects)
            .unwrap();
    sink.finish().unwrap();
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(stats.messages, [124, 127]);

    let got: Vec<_> = String::from_utf8(out).unwrap().lines().map(comparable).collect();
    let want: Vec<_> = expected.lines().map(comparable).collect();
    assert_eq!(got, want);
}
