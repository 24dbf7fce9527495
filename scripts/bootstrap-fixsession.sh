#!/usr/bin/env bash
# Installs the FIX engine the session interop tests talk to (crates/fxrecon-fixsession/tests):
# QuickFIX, from the `quickfix-py` wheel on PyPI (CPython 3.11 manylinux; the FIX data
# dictionaries come with it under <venv>/share/quickfix/), in its own venv
# $FXRECON_TOOLS_DIR/fixpeer (default ~/.cache/fxrecon-tools/fixpeer).
#
#   source scripts/bootstrap-fixsession.sh   # scripts/test.sh does this: exports FXRECON_FIX_PEER_PYTHON
#   bash scripts/bootstrap-fixsession.sh     # installs/checks only
#
# Idempotent: once installed, only checks the import (well under a second). Fails (returns
# non-zero) with a message saying what is missing when it cannot install.

_fxs_say() { [ "${FXRECON_BOOTSTRAP_QUIET:-0}" = 1 ] || echo "bootstrap-fixsession: $*" >&2; }
_fxs_fail() { echo "bootstrap-fixsession: error: $*" >&2; return 1; }

_FXS_SPEC='quickfix-py==0.0.3'

fxrecon_bootstrap_fixsession() {
    local tools="${FXRECON_TOOLS_DIR:-$HOME/.cache/fxrecon-tools}"
    local venv="$tools/fixpeer"
    local py="$venv/bin/python"
    if [ -x "$py" ] && "$py" -c 'import quickfix' 2>/dev/null; then
        export FXRECON_FIX_PEER_PYTHON="$py"
        return 0
    fi
    local base=""
    for c in python3.11 python3; do
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            base="$c"
            break
        fi
    done
    [ -n "$base" ] || { _fxs_fail "quickfix-py 0.0.3 has a wheel for CPython 3.11 only, and no python3.11 is on PATH (apt-get install python3.11 python3.11-venv, or pyenv)"; return 1; }
    mkdir -p "$tools" || { _fxs_fail "cannot create $tools"; return 1; }
    _fxs_say "making $venv and installing $_FXS_SPEC"
    "$base" -m venv "$venv" || { _fxs_fail "cannot make a venv with $base (python3.11-venv missing?)"; return 1; }
    "$venv/bin/pip" install --quiet --only-binary=:all: "$_FXS_SPEC" || { _fxs_fail "pip could not install $_FXS_SPEC"; return 1; }
    "$py" -c 'import quickfix' || { _fxs_fail "quickfix does not import from $venv"; return 1; }
    export FXRECON_FIX_PEER_PYTHON="$py"
    _fxs_say "ok: $("$venv/bin/pip" show quickfix-py 2>/dev/null | sed -n 's/^Version: /quickfix-py /p') in $venv"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    fxrecon_bootstrap_fixsession
    echo "export FXRECON_FIX_PEER_PYTHON=\"$FXRECON_FIX_PEER_PYTHON\""
else
    fxrecon_bootstrap_fixsession
fi
