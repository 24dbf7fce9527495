//! For every scenario and 20 seeds, reconciling a generated day yields exactly the ground
//! truth's findings: (order_id, type) pairs and (stream, session, kind, expected, seen) gaps.

use std::collections::BTreeSet;

use fxrecon_engine::config::Config;
use fxrecon_engine::ground_truth::{Finding, findings};
use fxrecon_engine::pipeline::memory::reconcile_in_memory;
use fxrecon_engine::pipeline::options::PipelineOptions;
use fxrecon_gen::{GenConfig, Scenario, generate};
use fxrecon_runtime::threading::Threading;

/// The records of a one-thread run (the suite runs many days: threads would only add noise).
fn reconcile(primary: Vec<u8>, dropcopy: Vec<u8>) -> Result<Vec<fxrecon_core::divergence::Record>, String> {
    let opts = PipelineOptions { threading: Threading::Stepped, ..PipelineOptions::default() };
    let run = reconcile_in_memory(primary, dropcopy, &Config::default(), opts).map_err(|e| e.to_string())?;
    if !run.rejects.is_empty() {
        return Err(format!("generated input was rejected: {:?}", &run.rejects[..run.rejects.len().min(3)]));
    }
    Ok(run.records)
}

fn check(scenario: Scenario, seed: u64, orders: usize) -> Result<(), String> {
    let cfg = GenConfig { orders, seed, scenario, fault_rate: 0.03, ..GenConfig::default() };
    let day = generate(&cfg);
    let records = reconcile(day.primary.clone(), day.dropcopy.clone())?;
    let expected: BTreeSet<Finding> =
        day.expected.iter().map(|e| Finding::of_json_line(&e.to_json_line(0)).unwrap().unwrap()).collect();
    let detected = findings(&records);
    let missed: Vec<_> = expected.difference(&detected).collect();
    let extra: Vec<_> = detected.difference(&expected).collect();
    if missed.is_empty() && extra.is_empty() {
        Ok(())
    } else {
        Err(format!("missed {missed:?}\nfalse alarms {extra:?}"))
    }
}

#[test]
fn every_scenario_and_twenty_seeds_match_ground_truth() {
    let mut failures = Vec::new();
    for scenario in Scenario::ALL {
        for seed in 1..=20 {
            if let Err(e) = check(scenario, seed, 400) {
                failures.push(format!("scenario {} seed {seed}:\n{e}", scenario.name()));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn each_fault_scenario_injects_something_detectable() {
    for scenario in Scenario::ALL {
        let day = generate(&GenConfig { orders: 400, seed: 3, scenario, ..GenConfig::default() });
        let interesting = day.expected.len();
        match scenario {
            Scenario::Clean | Scenario::InternalReject => assert_eq!(interesting, 0, "{}", scenario.name()),
            _ => assert!(interesting > 0, "{} injected nothing", scenario.name()),
        }
    }
}

/// The parts of a long run (what the soak test streams), joined stream by stream, reconcile to
/// exactly the union of their ground truths: no false sequence gaps or order collisions at the
/// joins.
#[test]
fn consecutive_parts_of_a_long_run_match_their_joint_ground_truth() {
    let cfg = GenConfig { orders: 500, seed: 40, fault_rate: 0.03, ..GenConfig::default() };
    let (mut primary, mut dropcopy, mut expected) = (Vec::new(), Vec::new(), BTreeSet::new());
    for day in fxrecon_gen::parts(&cfg).take(3) {
        primary.extend_from_slice(&day.primary);
        dropcopy.extend_from_slice(&day.dropcopy);
        expected.extend(day.expected.iter().map(|e| Finding::of_json_line(&e.to_json_line(0)).unwrap().unwrap()));
    }
    let records = reconcile(primary, dropcopy).unwrap();
    let detected = findings(&records);
    assert!(expected.len() > 30, "the parts inject faults");
    let missed: Vec<_> = expected.difference(&detected).collect();
    let extra: Vec<_> = detected.difference(&expected).collect();
    assert!(missed.is_empty() && extra.is_empty(), "missed {missed:?}\nfalse alarms {extra:?}");
}
