//! Long runs as consecutive parts: [`Parts`] yields days that follow one another (later start,
//! disjoint order numbers, continuing sequence numbers).
//!
//! It only derives each part's [`GenConfig`] from the previous part and calls [`generate`]; it
//! must never alter a generated day, so every part is exactly what `generate` gives for its config.

use crate::config::GenConfig;
use crate::day::{GeneratedDay, generate};

/// Consecutive parts of one long run (a soak test's endless day): each part is a day of
/// `cfg.orders` orders with its own seed, starting a little after the previous part ends, with
/// order numbers that do not repeat and sequence numbers that continue — so the parts, joined
/// stream by stream, are one valid run whose ground truth is the union of the parts'.
#[derive(Debug, Clone)]
pub struct Parts {
    cfg: GenConfig,
    part: u64,
    next_start: i64,
    next_seqs: Option<Vec<u64>>,
}

/// The parts of a long run built from `cfg` (its seed seeds part 0; part k uses seed + k).
pub fn parts(cfg: &GenConfig) -> Parts {
    Parts { cfg: cfg.clone(), part: 0, next_start: cfg.start_time_us, next_seqs: cfg.first_seqs.clone() }
}

impl Iterator for Parts {
    type Item = GeneratedDay;

    fn next(&mut self) -> Option<GeneratedDay> {
        let cfg = GenConfig {
            seed: self.cfg.seed.wrapping_add(self.part),
            start_time_us: self.next_start,
            first_order: self.cfg.first_order + self.part * self.cfg.orders as u64,
            first_seqs: self.next_seqs.take(),
            ..self.cfg.clone()
        };
        let day = generate(&cfg);
        self.part += 1;
        // Two grace windows apart: nothing of one part is still pending when the next begins.
        self.next_start = day.end_time_us + 2 * cfg.grace_ms * 1000 + 1_000_000;
        self.next_seqs = Some(day.next_seqs.clone());
        Some(day)
    }
}
