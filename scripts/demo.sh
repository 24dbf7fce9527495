#!/usr/bin/env bash
# The demo, on a fresh machine too: installs what the build needs (scripts/bootstrap.sh),
# then generates a mixed FX day in memory, reconciles it and prints injected vs detected.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh
exec cargo run --release --locked -- demo "$@"
