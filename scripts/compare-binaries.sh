#!/usr/bin/env bash
# Compares two fxrecon binaries' outputs byte for byte on generated days (issue 27).
#
#   scripts/compare-binaries.sh OLD NEW [WORKDIR]
#
# Days: ordinary (`mixed`) and `--hard` ones of several sizes and seeds, each also rewritten
# three ways that take other decoder paths: `|` for SOH, the arrival prefix stripped (the clock
# is then SendingTime, 52), and both. Each day is reconciled by both binaries, threaded and
# `--single-thread`; divergences, rejects and the summary (without its one wall-clock field,
# `elapsed_ms`) must be identical. Prints one line per comparison and exits 1 on the first
# difference (the differing files are left in WORKDIR), 2 on bad arguments.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 3 ]]; then
    echo "usage: $0 OLD_BINARY NEW_BINARY [WORKDIR]" >&2
    exit 2
fi
old=$1
new=$2
for b in "$old" "$new"; do
    if [[ ! -x $b ]]; then
        echo "$0: not an executable: $b" >&2
        exit 2
    fi
done
own_work=0
if [[ $# -eq 3 ]]; then
    work=$3
    mkdir -p "$work"
else
    work=$(mktemp -d)
    own_work=1
fi

# orders seed flags
days=(
    "2000 1 "
    "20000 7 "
    "125000 11 "
    "3000 5 --hard"
    "20000 13 --hard"
    "60000 17 --hard"
)
# A quick run: FXRECON_COMPARE_QUICK=1 keeps the days of at most 20000 orders.
quick=${FXRECON_COMPARE_QUICK:-0}

compare_day() {
    local name=$1 dir=$2
    for mode in threaded single; do
        local extra=()
        [[ $mode == single ]] && extra=(--single-thread)
        for which in old new; do
            local bin=$old
            [[ $which == new ]] && bin=$new
            "$bin" reconcile --primary "$dir/primary.fix" --dropcopy "$dir/dropcopy.fix" "${extra[@]}" \
                --out "$dir/$which.$mode.out" --rejects "$dir/$which.$mode.rejects" \
                --summary "$dir/$which.$mode.summary.raw" || {
                echo "FAIL $name $mode: $which binary exited $?" >&2
                exit 1
            }
            grep -v '"elapsed_ms":' "$dir/$which.$mode.summary.raw" >"$dir/$which.$mode.summary"
        done
        for f in out rejects summary; do
            if ! cmp -s "$dir/old.$mode.$f" "$dir/new.$mode.$f"; then
                echo "FAIL $name $mode: $f differs ($dir/old.$mode.$f vs $dir/new.$mode.$f)" >&2
                exit 1
            fi
        done
        echo "same $name $mode: $(wc -l <"$dir/new.$mode.out") divergences, $(wc -l <"$dir/new.$mode.rejects") rejects"
    done
}

for spec in "${days[@]}"; do
    read -r orders seed flags <<<"$spec"
    if [[ $quick == 1 && $orders -gt 20000 ]]; then
        continue
    fi
    base="$work/o${orders}-s${seed}${flags:+-hard}"
    mkdir -p "$base/soh"
    # shellcheck disable=SC2086 # flags is empty or one word
    "$old" gen --orders "$orders" --seed "$seed" $flags --out-dir "$base/soh" >/dev/null 2>&1
    mkdir -p "$base/pipe" "$base/noprefix" "$base/pipe-noprefix"
    for f in primary.fix dropcopy.fix; do
        tr '\001' '|' <"$base/soh/$f" >"$base/pipe/$f"
        sed -e 's/^[^ ]* : //' "$base/soh/$f" >"$base/noprefix/$f"
        tr '\001' '|' <"$base/noprefix/$f" >"$base/pipe-noprefix/$f"
    done
    for variant in soh pipe noprefix pipe-noprefix; do
        compare_day "$(basename "$base")/$variant" "$base/$variant"
    done
    rm -rf "$base"
done
echo "all outputs byte-identical"
if [[ $own_work == 1 ]]; then
    rm -rf "$work"
fi
