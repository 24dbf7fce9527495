#!/usr/bin/env bash
# Wall-clock of two fxrecon binaries' `reconcile --single-thread` on the same day, pinned to one
# core, in alternating rounds (issue 27: same-run ratios on a noisy host).
#
#   scripts/time-binaries.sh OLD NEW DAY_DIR [ROUNDS] [CPU]
#
# DAY_DIR holds primary.fix and dropcopy.fix (`fxrecon gen`). Each round runs OLD then NEW
# (the order swaps every round), outputs to a temporary directory. Prints each round, then the
# median, min and max of each binary's wall-clock seconds and of its CPU seconds (user + sys:
# on a shared host the wall clock also counts the time the pinned core ran someone else), and
# the ratios of the medians (OLD / NEW: above 1, NEW is faster). Defaults: 7 rounds, CPU 1.
# Needs python3 (for getrusage).
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
    # Wall clock and the child's user + sys time (getrusage: microseconds, not GNU time's 10 ms).
    python3 -c '
import resource, subprocess, sys, time
cpu = lambda r: r.ru_utime + r.ru_stime
before = cpu(resource.getrusage(resource.RUSAGE_CHILDREN))
t = time.monotonic()
subprocess.run(sys.argv[1:], check=True)
wall = time.monotonic() - t
print(f"{wall:.4f} {cpu(resource.getrusage(resource.RUSAGE_CHILDREN)) - before:.4f}")
' taskset -c "$cpu" "$1" reconcile --single-thread --primary "$day/primary.fix" --dropcopy "$day/dropcopy.fix" \
        --out "$out/out.jsonl" --rejects "$out/rejects.jsonl" --summary "$out/summary.json"
}

old_wall=() new_wall=() old_cpu=() new_cpu=()
for ((r = 1; r <= rounds; r++)); do
    if ((r % 2)); then
        o=$(run "$old"); n=$(run "$new")
    else
        n=$(run "$new"); o=$(run "$old")
    fi
    read -r ow oc <<<"$o"
    read -r nw nc <<<"$n"
    old_wall+=("$ow") old_cpu+=("$oc") new_wall+=("$nw") new_cpu+=("$nc")
    echo "round $r: old ${ow} s wall ${oc} s cpu   new ${nw} s wall ${nc} s cpu"
done

stats() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { printf "%.4f %.4f %.4f", v[int((NR + 1) / 2)], v[1], v[NR] }'; }
echo "$messages messages, $rounds rounds, median (min-max), msgs/s of the median:"
for what in wall cpu; do
    eval "o=(\"\${old_${what}[@]}\")"
    eval "n=(\"\${new_${what}[@]}\")"
    read -r om omin omax <<<"$(stats "${o[@]}")"
    read -r nm nmin nmax <<<"$(stats "${n[@]}")"
    awk -v w="$what" -v m="$messages" -v om="$om" -v omin="$omin" -v omax="$omax" -v nm="$nm" -v nmin="$nmin" -v nmax="$nmax" 'BEGIN {
        printf "  %-4s old %.4f s (%.4f-%.4f) %.0f/s   new %.4f s (%.4f-%.4f) %.0f/s   old/new %.3f\n",
            w, om, omin, omax, m / om, nm, nmin, nmax, m / nm, om / nm
    }'
done
