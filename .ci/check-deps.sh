#!/usr/bin/env bash
# Checks that no product crate depends on a bench-only crate.
#
# Product crates: fxrecon-core fxrecon-runtime fxrecon-journal fxrecon-engine fxrecon-gen
# (each with its default features; one not in the workspace yet is skipped with a note) and the
# binary `fxrecon` built with --no-default-features. Bench-only crates: fxrecon-bench criterion
# divan fix-codec-rs plotters hdrhistogram allocation-counter. For each product crate it lists
# `cargo tree -p CRATE -e normal,build --prefix none --target all` (normal and build
# dependencies of every platform; dev-dependencies are excluded) and fails if a bench-only crate
# appears at the start of a line, printing `cargo tree -i` for it (who pulls it in).
#
# Run:  .ci/check-deps.sh            (from anywhere; it works on the repository it lives in)
# Env:  CHECK_DEPS_LOCKED=0   drop --locked (local use while Cargo.lock is being changed; cargo
#                             may then rewrite Cargo.lock). Default: --locked, as in CI.
#       CHECK_DEPS_TARGET=T   platform for cargo tree (default: all).
# Uses --offline when every needed crate is already downloaded, otherwise lets cargo download
# (a fresh CI machine). Exit: 0 clean, 1 a product crate depends on a bench-only crate,
# 2 cargo failed (the workspace or Cargo.lock is broken, or downloading failed).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 2

PRODUCT_LIBS=(fxrecon-core fxrecon-runtime fxrecon-journal fxrecon-engine fxrecon-gen)
PRODUCT_BIN=fxrecon
BENCH_ONLY=(fxrecon-bench criterion divan fix-codec-rs plotters hdrhistogram allocation-counter)

target=${CHECK_DEPS_TARGET:-all}
locked=(--locked)
[ "${CHECK_DEPS_LOCKED:-1}" = 0 ] && locked=()

die() {
    echo "check-deps: ERROR: $*" >&2
    exit 2
}

command -v cargo >/dev/null || die "cargo not found"
command -v python3 >/dev/null || die "python3 not found"

# Workspace members, from the manifests only (no resolution, no network).
meta_err=$(mktemp)
trap 'rm -f "$meta_err"' EXIT
meta=$(cargo metadata --no-deps --format-version 1 2>"$meta_err") ||
    { cat "$meta_err" >&2; die "cargo metadata failed (is the workspace manifest valid?)"; }
members=$(python3 -c 'import json, sys; print("\n".join(p["name"] for p in json.load(sys.stdin)["packages"]))' <<<"$meta") ||
    die "cannot read the output of cargo metadata"

# --offline when everything needed is already here; otherwise cargo may download.
offline=()
if cargo tree --workspace -e normal,build --target "$target" "${locked[@]}" --offline >/dev/null 2>&1; then
    offline=(--offline)
    echo "check-deps: all crates available locally, using --offline"
fi

bench_re=$(printf '%s|' "${BENCH_ONLY[@]}")
bench_re="^(${bench_re%|}) v[0-9]"

violations=0
checked=0

check() { # check CRATE [extra cargo tree flags...]
    local crate=$1
    shift
    local flags=(-e normal,build --target "$target" "${locked[@]}" "${offline[@]}" "$@")
    local tree
    if ! tree=$(cargo tree -p "$crate" "${flags[@]}" --prefix none 2>"$meta_err"); then
        cat "$meta_err" >&2
        die "cargo tree -p $crate ${flags[*]} failed${locked:+ (if Cargo.lock is out of date: update and commit it; CHECK_DEPS_LOCKED=0 for a local run)}"
    fi
    checked=$((checked + 1))
    local bad
    bad=$(grep -E "$bench_re" <<<"$tree" | sed 's/ (\*)$//' | sort -u)
    if [ -z "$bad" ]; then
        echo "ok: $crate${*:+ ($*)}: $(sort -u <<<"$tree" | wc -l) packages in its tree, no bench-only crate"
        return
    fi
    violations=$((violations + 1))
    echo "FAIL: $crate${*:+ ($*)} depends on bench-only crate(s):"
    while read -r name version _; do
        local spec="$name@${version#v}"
        echo "  $name $version, pulled in by:"
        cargo tree -p "$crate" "${flags[@]}" -i "$spec" 2>&1 | sed 's/^/    /'
    done <<<"$bad"
}

for crate in "${PRODUCT_LIBS[@]}"; do
    if grep -qxF "$crate" <<<"$members"; then
        check "$crate"
    else
        echo "note: $crate is not in the workspace (yet); skipped"
    fi
done
if grep -qxF "$PRODUCT_BIN" <<<"$members"; then
    check "$PRODUCT_BIN" --no-default-features
else
    echo "note: $PRODUCT_BIN is not in the workspace; skipped"
fi

[ "$checked" -gt 0 ] || die "none of the product crates is in the workspace"
if [ "$violations" -gt 0 ]; then
    echo "check-deps: FAILED: $violations of $checked product crates depend on bench-only crates (${BENCH_ONLY[*]})"
    exit 1
fi
echo "check-deps: OK: $checked product crates, none depends on ${BENCH_ONLY[*]}"
