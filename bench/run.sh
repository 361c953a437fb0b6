#!/usr/bin/env bash
# Old name of bench/run, kept so that existing scripts keep working.
exec "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/run" "$@"
