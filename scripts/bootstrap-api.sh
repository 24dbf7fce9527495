#!/usr/bin/env bash
# What the API's tests need (issue 25): Debian's headless-capable `chromium`, for the test that
# opens the live page and reads its rendered DOM. Idempotent: a quick check when it is there.
# Sourced by scripts/test.sh; run it directly to install only this.

fxrecon_bootstrap_api() {
    if command -v chromium >/dev/null 2>&1; then
        return 0
    fi
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "bootstrap-api: installing chromium (apt)" >&2
    if ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium; } >/dev/null; then
        echo "bootstrap-api: cannot install chromium with apt-get (needed by crates/fxrecon/tests/live_page.rs)" >&2
        return 1
    fi
    command -v chromium >/dev/null 2>&1 || { echo "bootstrap-api: chromium installed but not on PATH" >&2; return 1; }
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    fxrecon_bootstrap_api
else
    fxrecon_bootstrap_api
fi
