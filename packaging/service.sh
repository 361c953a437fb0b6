# Shared by install.sh and uninstall.sh (sourced): where an installation lives and how its daemon is run.
# Needs ROOT ("" for the real system, or a scratch root) and BUNDLE_PREFIX-independent paths only.

PREFIX=$ROOT/opt/bhatti
ETC=$ROOT/etc/bhatti
CONF=$ETC/config.yaml
UNIT=$ROOT/etc/systemd/system/bhatti.service
LINK=$ROOT/usr/local/bin/bhatti
LOG_DIR=$ROOT/var/log/bhatti

say() { printf '==> %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

need_root() {
  [[ $(id -u) -eq 0 ]] || die "$1 needs root (it manages a service, /opt/bhatti, /etc/bhatti and the data directory): run it with sudo"
}

# systemd manages the daemon only when it is PID 1 and we install into the real root.
uses_systemd() { [[ -z $ROOT && -d /run/systemd/system ]]; }

# A top-level setting of the installed config file (the installer writes these keys plainly).
conf_value() {
  [[ -r $CONF ]] || return 0
  sed -n "s/^$1:[[:space:]]*//p" "$CONF" | head -1 | sed -e 's/[[:space:]]*#.*$//' -e "s/^[\"']//" -e "s/[\"']$//"
}

data_dir() { local d; d=$(conf_value data_dir); echo "${d:-$ROOT/var/lib/bhatti}"; }
api_url() {
  local l; l=$(conf_value listen); l=${l:-127.0.0.1:8080}
  local host=${l%:*} port=${l##*:}
  [[ $host == 0.0.0.0 || -z $host ]] && host=127.0.0.1
  echo "http://$host:$port"
}
pid_file() { echo "$(data_dir)/daemon.pid"; }

daemon_pid() {
  local pid
  read -r pid 2>/dev/null <"$(pid_file)" || return 1
  [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && grep -qa -- 'serve' "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

daemon_running() {
  if uses_systemd; then systemctl is-active --quiet bhatti; else daemon_pid >/dev/null; fi
}

daemon_start() {
  if uses_systemd; then
    systemctl start bhatti
  else
    mkdir -p "$LOG_DIR"
    (umask 077; touch "$LOG_DIR/daemon.log")
    # no service manager here: a session of its own, so that the installer's terminal closing does not end it
    setsid nohup "$PREFIX/bin/bhatti" serve --config "$CONF" --cli-config none \
      >>"$LOG_DIR/daemon.log" 2>&1 </dev/null &
    echo $! >"$(pid_file)"
  fi
}

# Stops the daemon only; its VMs keep running and the next daemon adopts them.
daemon_stop() {
  if uses_systemd; then
    systemctl stop bhatti
    return
  fi
  local pid
  pid=$(daemon_pid) || return 0
  kill -TERM "$pid"
  for _ in $(seq 1 1200); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$(pid_file)"; return 0; }
    sleep 0.1
  done
  die "the daemon (pid $pid) did not stop within 120 s; see $LOG_DIR/daemon.log"
}

wait_healthy() {
  local url; url=$(api_url)
  for _ in $(seq 1 1200); do
    curl -fsS --max-time 2 "$url/health" >/dev/null 2>&1 && return 0
    if ! uses_systemd && ! daemon_pid >/dev/null; then break; fi
    sleep 0.1
  done
  echo "the daemon did not come up at $url; its log:" >&2
  if uses_systemd; then journalctl -u bhatti -n 30 --no-pager >&2 || true; else tail -30 "$LOG_DIR/daemon.log" >&2 || true; fi
  exit 1
}

# The installed CLI, as root, talking to this daemon with the admin's key.
admin_cli() {
  BHATTI_URL=$(api_url) BHATTI_TOKEN=$(cat "$(data_dir)/admin-api-key") BHATTI_CONFIG=/dev/null "$PREFIX/bin/bhatti" "$@"
}
