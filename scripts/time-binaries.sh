#!/usr/bin/env bash
# Wall-clock of two fxrecon binaries' `reconcile --single-thread` on the same day, pinned to one
# core, in alternating rounds (issue 27: same-run ratios on a noisy host).
#
#   scripts/time-binaries.sh OLD NEW DAY_DIR [ROUNDS] [CPU]
#
# DAY_DIR holds primary.fix and dropcopy.fix (`fxrecon gen`). Each round runs OLD then NEW
# (the order swaps every round), outputs to a temporary directory. Prints each round, then the
# median, min and max seconds and msgs/s of each binary and the ratio of the medians
# (OLD time / NEW time: above 1, NEW is faster). Defaults: 7 rounds, CPU 1.
set -euo pipefail

if [[ $# -lt 3 || $# -gt 5 ]]; then
    echo "usage: $0 OLD NEW DAY_DIR [ROUNDS] [CPU]" >&2
    exit 2
fi
old=$1 new=$2 day=$3 rounds=${4:-7} cpu=${5:-1}
for b in "$old" "$new"; do
    [[ -x $b ]] || { echo "$0: not an executable: $b" >&2; exit 2; }
done
for f in primary.fix dropcopy.fix; do
    [[ -f $day/$f ]] || { echo "$0: no $day/$f" >&2; exit 2; }
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
messages=$(cat "$day/primary.fix" "$day/dropcopy.fix" | wc -l)

run() {
    local bin=$1 t0 t1
    t0=$(date +%s.%N)
    taskset -c "$cpu" "$bin" reconcile --single-thread --primary "$day/primary.fix" --dropcopy "$day/dropcopy.fix" \
        --out "$out/out.jsonl" --rejects "$out/rejects.jsonl" --summary "$out/summary.json"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}

old_times=() new_times=()
for ((r = 1; r <= rounds; r++)); do
    if ((r % 2)); then
        o=$(run "$old"); n=$(run "$new")
    else
        n=$(run "$new"); o=$(run "$old")
    fi
    old_times+=("$o") new_times+=("$n")
    printf 'round %d: old %.3f s  new %.3f s\n' "$r" "$o" "$n"
done

stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f %.3f %.3f", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
read -r om omin omax <<<"$(stats "${old_times[@]}")"
read -r nm nmin nmax <<<"$(stats "${new_times[@]}")"
awk -v m="$messages" -v om="$om" -v omin="$omin" -v omax="$omax" -v nm="$nm" -v nmin="$nmin" -v nmax="$nmax" -v r="$rounds" 'BEGIN {
    printf "%d messages, %d rounds, median (min-max):\n", m, r
    printf "  old %.3f s (%.3f-%.3f), %.0f msgs/s\n", om, omin, omax, m / om
    printf "  new %.3f s (%.3f-%.3f), %.0f msgs/s\n", nm, nmin, nmax, m / nm
    printf "  ratio old/new %.3f\n", om / nm
}'
