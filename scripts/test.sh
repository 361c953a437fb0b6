#!/usr/bin/env bash
# Runs every test: unit tests and the integration tests that boot real VMs (QEMU; TCG where KVM is unusable),
# then the benchmark in quick mode (a few minutes; writes bench/target/quick/).
# First installs the host packages the tests need (idempotent; apt-get as root or via sudo). The first run
# builds the minimal guest image into /var/cache/bhatti-build/it (about a minute); later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
source scripts/java-home.sh
./mvnw -B verify "$@"
# Then the benchmark in quick mode (bench/README.md), so that its harness cannot rot: it fails only when
# something fails functionally, never on a number. Only for the full suite (no arguments); SKIP_BENCH=1 skips it.
if [[ $# -eq 0 && -z "${SKIP_BENCH:-}" ]]; then
  IMAGES="${BHATTI_IT_IMAGES:-/var/cache/bhatti-build/it}/images" bench/run --quick
fi
