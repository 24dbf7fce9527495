//! The real QuickFIX day in shared/samples must give exactly the contract's expected output.

use std::collections::BTreeMap;
use std::path::PathBuf;

use fxrecon_engine::config::Config;
use fxrecon_engine::output::render::records_to_jsonl;
use fxrecon_engine::pipeline::memory::reconcile_in_memory;
use fxrecon_engine::pipeline::options::PipelineOptions;
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

    let run = reconcile_in_memory(primary, dropcopy, &Config::default(), PipelineOptions::default()).unwrap();
    assert!(run.rejects.is_empty(), "{:?}", run.rejects);
    let c = &run.outcome.counters;
    assert_eq!([c.primary.messages, c.dropcopy.messages], [124, 127]);
    let out = records_to_jsonl(&run.records);

    let got: Vec<_> = String::from_utf8(out).unwrap().lines().map(comparable).collect();
    let want: Vec<_> = expected.lines().map(comparable).collect();
    assert_eq!(got, want);
}
