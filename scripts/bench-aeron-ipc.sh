#!/usr/bin/env bash
# Issue 24 figure (BENCHMARKS.md, "Issue 24: Aeron"): throughput of `fxrecon run` fed by the
# files of a generated day vs fed by two `fxrecon publish` processes over Aeron IPC (the
# daemon's embedded driver), same day, same binary, in turns; checks both outputs are
# identical. Build first: cargo build --release --locked -p fxrecon (after scripts/bootstrap.sh).
# Usage: scripts/bench-aeron-ipc.sh [ORDERS] [REPS]
set -euo pipefail
B=${FXRECON_BIN:-${CARGO_TARGET_DIR:-target}/release/fxrecon}
ORDERS=${1:-125000}
REPS=${2:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/fxrecon-bench-aeron-XXXXXX")
trap 'rm -rf "$W"' EXIT
"$B" gen --orders "$ORDERS" --seed 7 --out-dir "$W/day" >/dev/null 2>&1
summary() { python3 -c "import json,sys;t=open(sys.argv[1]).read();s=json.loads(t[t.index('{'):]);m=s['messages_read'];print(m['primary']+m['dropcopy'],s['elapsed_ms'],int(s['messages_per_s']))" "$1"; }
echo "uptime: $(uptime)"
for i in $(seq "$REPS"); do
  rm -rf "$W/st" "$W"/*.jsonl
  "$B" run --primary "$W/day/primary.fix" --dropcopy "$W/day/dropcopy.fix" --out "$W/file.jsonl" --rejects "$W/file.rej" 2>"$W/file.err"
  "$B" run --primary aeron:ipc --dropcopy aeron:ipc --clock file --state-dir "$W/st" --out "$W/ipc.jsonl" --rejects "$W/ipc.rej" 2>"$W/ipc.err" &
  daemon=$!
  "$B" publish --stream primary --file "$W/day/primary.fix" --aeron-dir "$W/st/aeron-driver" 2>/dev/null &
  primary=$!
  "$B" publish --stream dropcopy --file "$W/day/dropcopy.fix" --aeron-dir "$W/st/aeron-driver" 2>/dev/null
  wait "$primary"
  wait "$daemon"
  same=identical
  cmp -s "$W/file.jsonl" "$W/ipc.jsonl" || same=DIFFERENT
  echo "rep $i: file (messages elapsed_ms msgs/s) $(summary "$W/file.err"); aeron ipc $(summary "$W/ipc.err"); outputs $same"
done
echo "uptime: $(uptime)"
