#!/usr/bin/env bash
# Latency benchmark for bhatti: starts a private daemon (temp data dir, free loopback port),
# runs bench/Bench.java against it, then destroys its sandboxes and stops the daemon.
# Usage: bench/run.sh [--n-create 5] [--n-http 200] [--warmup-http 10] [--n-cli 20] [--cpus 1] [--memory 512]
#        env: IMAGES=/var/lib/bhatti/images  JAVA_HOME=<JDK 25+>  KEEP_DATA=1 (keep the temp data dir)
# Output goes to stdout; tee it into bench/results/ if you want to keep it. See bench/README.md.
set -euo pipefail

BENCH="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
ROOT="$(dirname "$BENCH")"
IMAGES="${IMAGES:-/var/lib/bhatti/images}"
if [[ -z "${JAVA_HOME:-}" || ! -x "${JAVA_HOME}/bin/java" ]] || ! "${JAVA_HOME}/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
  JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64
fi
export JAVA_HOME
JAVA="$JAVA_HOME/bin/java"

[[ -f "$ROOT/cli/target/bhatti.jar" ]] || { echo "run.sh: $ROOT/cli/target/bhatti.jar missing; build it first" >&2; exit 1; }
[[ -d "$IMAGES" ]] || { echo "run.sh: images dir $IMAGES missing (set IMAGES=...)" >&2; exit 1; }

free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
  else
    local p
    for _ in $(seq 50); do
      p=$((20000 + RANDOM % 20000))
      ss -ltn "sport = :$p" | grep -q LISTEN || { echo "$p"; return; }
    done
    return 1
  fi
}

DATA="$(mktemp -d /tmp/bhatti-bench.XXXXXX)"
ln -s "$IMAGES" "$DATA/images"
PORT="$(free_port)"
URL="http://127.0.0.1:$PORT"
LOG="$DATA/daemon.log"
export BHATTI_CONFIG="$DATA/cli-config.yaml"   # daemon writes it on first start; CLI reads it
DAEMON_PID=""
BENCH_PID=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -n "$BENCH_PID" ]] && kill -0 "$BENCH_PID" 2>/dev/null; then
    kill -TERM "$BENCH_PID" 2>/dev/null; wait "$BENCH_PID" 2>/dev/null   # its shutdown hook destroys sandboxes
  fi
  DAEMON_STOPPED=""
  if [[ -n "$DAEMON_PID" ]] && kill -0 "$DAEMON_PID" 2>/dev/null; then
    DAEMON_STOPPED=1
    # Belt and braces: destroy anything left in this daemon (it is private to this run).
    if [[ -s "$DATA/admin-api-key" ]]; then
      local key names
      key="$(tr -d '\n' < "$DATA/admin-api-key")"
      names="$(curl -s --max-time 10 -H "Authorization: Bearer $key" "$URL/sandboxes" | grep -o '"name":"[^"]*"' | cut -d'"' -f4)"
      for n in $names; do
        echo "run.sh: cleanup: destroying leftover sandbox $n" >&2
        curl -s --max-time 60 -o /dev/null -X DELETE -H "Authorization: Bearer $key" "$URL/sandboxes/$n"
      done
    fi
    kill -TERM "$DAEMON_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$DAEMON_PID" 2>/dev/null && kill -KILL "$DAEMON_PID" 2>/dev/null
    wait "$DAEMON_PID" 2>/dev/null
  fi
  if [[ -n "$DAEMON_PID" ]] && ! kill -0 "$DAEMON_PID" 2>/dev/null && [[ -z "$DAEMON_STOPPED" ]]; then
    echo "run.sh: the daemon (pid $DAEMON_PID) died during the run" >&2; [[ $rc -eq 0 ]] && rc=1
  fi
  # The daemon leaves VMs running on stop (by design); anything still holding our data dir is ours.
  local left
  left="$(pgrep -f -- "$DATA" || true)"
  if [[ -n "$left" ]]; then
    echo "run.sh: cleanup: killing leftover processes of $DATA: $(echo $left)" >&2
    kill -KILL $left 2>/dev/null; sleep 0.5
  fi
  if pgrep -f -- "$DATA" >/dev/null; then
    echo "run.sh: WARNING: processes still running from $DATA" >&2; rc=1
  else
    echo "cleanup: daemon stopped; no processes left from $DATA (pgrep -f)"
  fi
  if [[ $rc -ne 0 && -f "$LOG" ]]; then
    cp "$LOG" "/tmp/bhatti-bench-daemon-$(date +%s).log" && echo "run.sh: daemon log kept in /tmp/bhatti-bench-daemon-*.log" >&2
    echo "--- last daemon log lines ---" >&2; tail -n 30 "$LOG" >&2
  fi
  if [[ -z "${KEEP_DATA:-}" ]]; then rm -rf "$DATA"; else echo "kept data dir $DATA" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The bench measures the server, not its per-user rate limits (burst 0 = unlimited); it paces itself otherwise.
PROXY_PORT="$(free_port)"
printf 'rate_limits:\n  create: {burst: 0}\n  exec: {burst: 0}\n  read: {burst: 0}\nproxy: {listen: "127.0.0.1:%s", domain: bench.test}\n' \
  "$PROXY_PORT" > "$DATA/config.yaml"
"$ROOT/bin/bhatti" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" 2>"$LOG" >>"$LOG" &
DAEMON_PID=$!
for _ in $(seq 600); do
  curl -sf --max-time 2 "$URL/health" >/dev/null 2>&1 && [[ -s "$DATA/admin-api-key" ]] && break
  kill -0 "$DAEMON_PID" 2>/dev/null || { echo "run.sh: daemon exited during startup" >&2; exit 1; }
  sleep 0.1
done
curl -sf --max-time 2 "$URL/health" >/dev/null || { echo "run.sh: daemon not healthy after 60 s" >&2; exit 1; }
TOKEN="$(tr -d '\n' < "$DATA/admin-api-key")"
export BHATTI_URL="$URL" BHATTI_TOKEN="$TOKEN"

echo "bhatti:      $("$ROOT/bin/bhatti" --version 2>&1 | head -n1)   (data dir $DATA, daemon pid $DAEMON_PID)"
echo "qemu:        $(qemu-system-x86_64 --version 2>/dev/null | head -n1 || echo unknown)"
echo "nproc:       $(nproc)"
"$JAVA" "$BENCH/Bench.java" --url "$URL" --token "$TOKEN" --cli "$ROOT/bin/bhatti" --daemon-log "$LOG" --proxy-port "$PROXY_PORT" --proxy-domain bench.test "$@" &
BENCH_PID=$!
set +e
wait "$BENCH_PID"; rc=$?
set -e
BENCH_PID=""
exit "$rc"
