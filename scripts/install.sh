#!/usr/bin/env bash
# Installs bhatti as a service from this checkout: makes the release bundle (scripts/package.sh) and runs
# its installer, which records this checkout so that `sudo bhatti update` rebuilds from it later.
#   sudo scripts/install.sh [--tier minimal] [--tiers LIST|all] [--listen HOST:PORT] ...   (see --help)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ " $* " == *" -h "* || " $* " == *" --help "* ]]; then exec packaging/install.sh --help; fi
[[ $(id -u) -eq 0 ]] || { echo "error: bhatti install needs root (it manages a service, /opt/bhatti, /etc/bhatti and the data directory): run it with sudo" >&2; exit 1; }
scripts/install-deps.sh --runtime
ARCHIVE=$(scripts/package.sh)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
tar -C "$WORK" -xzf "$ARCHIVE"
"$WORK"/bhatti-*/install.sh --source "$(pwd)" "$@"
