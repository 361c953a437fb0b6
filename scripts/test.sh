#!/usr/bin/env bash
# Runs every test: unit tests and the integration tests that boot real VMs (QEMU; TCG where KVM is unusable).
# First installs the host packages the tests need (idempotent; apt-get as root or via sudo). The first run
# builds the minimal guest image into /var/cache/bhatti-build/it (about a minute); later runs reuse it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
source scripts/java-home.sh
exec ./mvnw -B verify "$@"
