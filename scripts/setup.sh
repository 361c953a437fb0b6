#!/usr/bin/env bash
# One command from a fresh Debian/Ubuntu machine to a running daemon and a first sandbox:
# installs packages, builds bhatti, builds the minimal guest image, starts the daemon, creates "first".
# Idempotent: a second run reuses the packages, the jar, the image, the daemon and the sandbox.
#   BHATTI_DATA_DIR (default /var/lib/bhatti)   BHATTI_LISTEN (default 127.0.0.1:8080)
#   BHATTI_NETWORK=off: sandboxes without networking (no bridges, TAPs or nftables rules on this host)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DATA_DIR=${BHATTI_DATA_DIR:-/var/lib/bhatti}
LISTEN=${BHATTI_LISTEN:-127.0.0.1:8080}
if [[ $(id -u) -ne 0 ]]; then
  echo "bhatti setup needs root (QEMU, image builds, the data dir): run it with sudo" >&2
  exit 1
fi

scripts/install-deps.sh
source scripts/java-home.sh

echo "==> building bhatti"
./mvnw -q -B package -DskipTests
echo "==> preparing the CLI's start-up cache (an AOT cache of the client paths, for this jar and JDK)"
bin/bhatti --version >/dev/null

echo "==> building the minimal guest image (cached when nothing changed)"
bin/bhatti tier build minimal --data-dir "$DATA_DIR"

if [[ ! -e $DATA_DIR/config.yaml && ${BHATTI_NETWORK:-on} != off ]]; then
  echo "==> enabling sandbox networking (a bridge and /24 per user from 10.200.0.0/16; $DATA_DIR/config.yaml)"
  mkdir -p "$DATA_DIR"
  cat >"$DATA_DIR/config.yaml" <<'YAML'
# See README.md for every setting.
network:
  enabled: true
  pool: 10.200.0.0/16
  # allow_private: [10.0.5.0/24]   # private ranges sandboxes may reach (none by default)
YAML
fi

URL="http://$LISTEN"
if curl -fsS "$URL/health" >/dev/null 2>&1; then
  echo "==> daemon already running at $URL"
else
  echo "==> starting the daemon at $URL (log: $DATA_DIR/daemon.log)"
  # the data dir holds guest memory, disks and keys: its log and pid file are born private too
  (umask 077; mkdir -p "$DATA_DIR"; touch "$DATA_DIR/daemon.log")
  nohup "$ROOT/bin/bhatti" serve --data-dir "$DATA_DIR" --listen "$LISTEN" >>"$DATA_DIR/daemon.log" 2>&1 &
  echo $! >"$DATA_DIR/daemon.pid"
  for _ in $(seq 1 120); do
    curl -fsS "$URL/health" >/dev/null 2>&1 && break
    sleep 0.5
  done
  curl -fsS "$URL/health" >/dev/null || { echo "daemon did not start; see $DATA_DIR/daemon.log" >&2; tail -20 "$DATA_DIR/daemon.log" >&2; exit 1; }
fi

# The daemon wrote the admin key to the invoking user's ~/.bhatti/config.yaml on its first start.
# An older config (another daemon, another key) is not overwritten; use the key of this daemon here.
export BHATTI_URL="$URL" BHATTI_TOKEN="$(cat "$DATA_DIR/admin-api-key")"
export BHATTI_CONFIG="$DATA_DIR/.setup-cli.yaml"
echo "==> creating the first sandbox"
bin/bhatti create --name first --cpus 1 --memory 512
bin/bhatti exec first -- uname -a
cat <<MSG

bhatti is running at $URL (data in $DATA_DIR). Try:
  bin/bhatti list
  bin/bhatti exec first -- sh -c 'echo hello from \$(hostname)'
  bin/bhatti destroy first -y
Your API key is in $DATA_DIR/admin-api-key; 'bin/bhatti setup --url $URL --token <key>' saves it for the CLI.
MSG
