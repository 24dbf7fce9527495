//! Hand-written traces under `tests/fixtures/<case>/`: `primary.fix` + `dropcopy.fix` must
//! reconcile to exactly the bytes of `expected.jsonl`, twice in a row.
//!
//! `README.md` in each case says what it exercises and why the expected lines are right.
//! To (re)write an expected file after a deliberate contract change, run with
//! `FXRECON_BLESS=1` and review the diff line by line before committing.

use std::path::{Path, PathBuf};

use fxrecon_engine::config::Config;
use fxrecon_engine::output::render::records_to_jsonl;
use fxrecon_engine::pipeline::memory::reconcile_in_memory;
use fxrecon_engine::pipeline::options::PipelineOptions;
use fxrecon_runtime::threading::Threading;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn run_case(dir: &Path) -> Vec<u8> {
    let primary = std::fs::read(dir.join("primary.fix")).unwrap_or_default();
    let dropcopy = std::fs::read(dir.join("dropcopy.fix")).unwrap_or_default();
    let mut cfg = Config::default();
    if let Ok(text) = std::fs::read_to_string(dir.join("config.toml")) {
        cfg = toml::from_str(&text).expect("fixture config");
    }
    let opts = PipelineOptions { threading: Threading::Stepped, ..PipelineOptions::default() };
    let run = reconcile_in_memory(primary, dropcopy, &cfg, opts).unwrap();
    assert!(run.rejects.is_empty(), "{}: unexpected rejects {:?}", dir.display(), run.rejects);
    records_to_jsonl(&run.records)
}

#[test]
fn every_fixture_reconciles_to_its_expected_bytes() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures_dir())
        .expect("tests/fixtures exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("primary.fix").exists() || p.join("dropcopy.fix").exists())
        .collect();
    cases.sort();
    assert!(!cases.is_empty());
    let bless = std::env::var_os("FXRECON_BLESS").is_some();
    let mut failures = Vec::new();
    for dir in &cases {
        let first = run_case(dir);
        let second = run_case(dir);
        assert_eq!(first, second, "{}: two runs differ", dir.display());
        let expected_path = dir.join("expected.jsonl");
        if bless {
            std::fs::write(&expected_path, &first).unwrap();
            continue;
        }
        let expected = std::fs::read(&expected_path).unwrap_or_default();
        if first != expected {
            failures.push(format!(
                "{}:\n--- expected\n{}--- got\n{}",
                dir.display(),
                String::from_utf8_lossy(&expected),
                String::from_utf8_lossy(&first)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
