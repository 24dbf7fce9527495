#!/usr/bin/env bash
# Instructions per message for decode and for reconcile (issue 27): deterministic figures on a
# noisy host, counted by valgrind's callgrind (no hardware counters needed).
#
#   scripts/instr-per-msg.sh [EXAMPLES_DIR] [ORDERS]
#
# EXAMPLES_DIR holds release builds of the fxrecon-bench examples `decode_only` and
# `decode_reconcile` (default: $CARGO_TARGET_DIR/release/examples, built first with
# `cargo build --release -p fxrecon-bench --example decode_only --example decode_reconcile`);
# keep a copy of an old build's two files in a directory to compare builds. ORDERS: the
# generated day (seed 11; default 15000 orders, about 128k messages).
#
# decode: instructions inside `fxrecon_core::fix::decode` (inclusive) per line decoded.
# reconcile: the reconciler agent's `do_work` (inclusive: merge, sequencer, `apply`, output
# hand-off) less the end-of-run state digest, per message, in the one-thread decode + reconcile
# run. Prints one JSON object. Needs valgrind (`apt-get install valgrind`).
set -euo pipefail

dir=${1:-${CARGO_TARGET_DIR:-target}/release/examples}
orders=${2:-15000}
for b in decode_only decode_reconcile; do
    if [[ ! -x $dir/$b ]]; then
        echo "$0: no $dir/$b (build the fxrecon-bench examples in release first)" >&2
        exit 2
    fi
done
if ! command -v valgrind >/dev/null || ! command -v callgrind_annotate >/dev/null; then
    echo "$0: valgrind (callgrind) is not installed" >&2
    exit 2
fi
work=$(mktemp -d)
# Absolute, for the annotations run from /.
work=$(cd "$work" && pwd)
trap 'rm -rf "$work"' EXIT

# Inclusive count of function $2 (its own entry, `file:function [binary]`) in callgrind output $1.
# (Run from /: inside a source tree callgrind_annotate splits a function's entry by the
# relative and absolute spelling of its file, and the first entry misses part of the count.)
inclusive() {
    (cd / && callgrind_annotate --inclusive=yes --show-percs=no --threshold=100 "$1" 2>/dev/null) |
        awk -v f="$2" '!done && index($0, ":" f " [") { v = $1; gsub(",", "", v); print v; done = 1 }'
}

lines=$(valgrind --tool=callgrind --callgrind-out-file="$work/dec.out" "$dir/decode_only" "$orders" 1 2>/dev/null |
    sed -n 's/.*runs, \([0-9]*\) lines.*/\1/p')
valgrind --tool=callgrind --callgrind-out-file="$work/dr.out" "$dir/decode_reconcile" "$orders" 1 >/dev/null 2>&1

decode=$(inclusive "$work/dec.out" 'fxrecon_core::fix::decoder::decode')
agent=$(inclusive "$work/dr.out" '<fxrecon_engine::reconciler_agent::ReconcilerAgent as fxrecon_runtime::agent::Agent>::do_work')
digest=$(inclusive "$work/dr.out" 'fxrecon_core::reconciler::engine::Reconciler::state_digest')
ingest=$(inclusive "$work/dr.out" '<fxrecon_engine::ingest::ingestor::IngestAgent as fxrecon_runtime::agent::Agent>::do_work')
if [[ -z $lines || -z $decode || -z $agent || -z $digest || -z $ingest ]]; then
    echo "$0: could not read the counts (lines=$lines decode=$decode agent=$agent digest=$digest ingest=$ingest)" >&2
    exit 1
fi
awk -v n="$lines" -v d="$decode" -v a="$agent" -v g="$digest" -v i="$ingest" -v o="$orders" 'BEGIN {
    printf "{\"orders\": %d, \"messages\": %d, \"decode_per_msg\": %.0f, \"ingest_per_msg\": %.0f, \"reconcile_per_msg\": %.0f, \"decode_reconcile_per_msg\": %.0f}\n",
        o, n, d / n, i / n, (a - g) / n, (i + a - g) / n
}'
