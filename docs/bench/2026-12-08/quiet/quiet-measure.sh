#!/bin/bash
# Lead's quiet-host measurements after the fifth session's merges.
set -u
NEW=${NEW:-/work/target-rel/release/fxrecon}          # default features
NEWND=${NEWND:-/work/baseline/fxrecon-main-s5-nodef}  # --no-default-features
OUT=/work/main/docs/bench/2026-12-08/quiet
mkdir -p $OUT
cd /work/main
uptime | tee $OUT/load-start.txt
echo "== retired memory: prev da00ed6 / main 60119b4 / new"
docs/bench/2026-12-07/retired-memory-reconcile-ab.sh 9 /work/perf/day prev=/work/target-h10-prev/release/fxrecon main=/work/baseline/fxrecon-60119b4 new=$NEWND | tee $OUT/retired-ab.txt
echo "== time-binaries ef0fdca vs new, 1.07M day and 213k day"
scripts/time-binaries.sh /work/baseline/fxrecon-ef0fdca $NEWND /work/perf/day 7 1 2>&1 | tee $OUT/time-ef0fdca-day.txt | tail -6
scripts/time-binaries.sh /work/baseline/fxrecon-ef0fdca $NEWND /work/perf/day200k 7 1 2>&1 | tee $OUT/time-ef0fdca-day200k.txt | tail -6
D=/work/target-rel/release/examples/api_load
echo "== api orders-only default threading"
python3 scripts/bench-api.py $NEWND /work/perf/api-day --rate 1000 --rounds 9 --orders-only --driver $D | tee $OUT/api-orders.txt | tail -1
echo "== api mixed default threading"
python3 scripts/bench-api.py $NEWND /work/perf/api-day --rate 1000 --rounds 9 --driver $D | tee $OUT/api-mixed.txt | tail -1
echo "== api orders-only stepped"
python3 scripts/bench-api.py $NEWND /work/perf/api-day --rate 1000 --rounds 9 --orders-only --driver $D --run-arg=--threading --run-arg=stepped | tee $OUT/api-orders-stepped.txt | tail -1
echo "== api orders-only, main before the replica (60119b4), default threading"
python3 scripts/bench-api.py /work/baseline/fxrecon-60119b4-nodef /work/perf/api-day --rate 1000 --rounds 9 --orders-only --driver $D | tee $OUT/api-orders-before.txt | tail -1
echo "== aeron latency 200k: before MIN_SLEEP (376b759) / new, alternating, 5 rounds each"
for i in 1 2 3 4 5; do for b in /work/baseline/fxrecon-376b759 $NEW; do
  echo "$b $($b bench --aeron-latency 200000 --rounds 1 --orders 125000 2>/dev/null | tail -1)"; done; done | tee $OUT/aeron-latency-minsleep-ab.txt
uptime | tee $OUT/load-end.txt
