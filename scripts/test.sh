#!/usr/bin/env bash
# The whole test suite, on a fresh machine too: installs what the build needs
# (scripts/bootstrap.sh), then runs every test of the workspace. `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh
# shellcheck source=scripts/bootstrap-api.sh
source scripts/bootstrap-api.sh
# shellcheck source=scripts/bootstrap-fixsession.sh
source scripts/bootstrap-fixsession.sh
exec cargo test --workspace --locked "$@"
