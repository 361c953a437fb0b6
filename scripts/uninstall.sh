#!/usr/bin/env bash
# Uninstalls bhatti: runs the installed uninstaller (/opt/bhatti/uninstall.sh). --purge also deletes the data.
#   sudo scripts/uninstall.sh [--purge] [-y] [--root DIR]
set -euo pipefail
ROOT=""
args=("$@")
while (($#)); do [[ $1 == --root ]] && ROOT=${2%/}; shift; done
if [[ -x $ROOT/opt/bhatti/uninstall.sh ]]; then exec "$ROOT/opt/bhatti/uninstall.sh" "${args[@]}"; fi
exec "$(dirname "$0")/../packaging/uninstall.sh" "${args[@]}"
