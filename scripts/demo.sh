#!/usr/bin/env bash
# The demo, on a fresh machine too: installs what the build needs (scripts/bootstrap.sh),
# then replays a generated mixed FX day over Aeron IPC (an embedded media driver) into the
# daemon's pipeline and prints injected vs detected and the ingest-to-detection latency.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh
exec cargo run --release --locked -- demo "$@"
