#!/usr/bin/env bash
# Installs bhatti from this bundle as a service: /opt/bhatti (jar, launcher), `bhatti` on the PATH,
# /etc/bhatti/config.yaml, the guest image tiers, bhatti.service (systemd), the admin user and its key.
# Idempotent: unchanged parts are skipped; over a running older version it upgrades in place, and the
# sandboxes keep running (the daemon restarts; it adopts their VMs).
#
#   sudo ./install.sh [options]
#     --tier NAME          the guest image to build (default minimal; none: build none)
#     --tiers LIST|all     further tiers to build (comma-separated)
#     --listen HOST:PORT   the API's address for a new config (default 127.0.0.1:8080)
#     --data-dir DIR       the data directory for a new config (default /var/lib/bhatti)
#     --no-network         a new config without sandbox networking (no bridges or nftables rules)
#     --cli-only           only the CLI (a client machine): no service, config, tiers or data
#     --update             as called by `bhatti update`: keep what is configured, restart if anything changed
#     --force              also across a major version (the data may need a backup first: bhatti admin backup)
#     --no-deps            do not install Debian packages (QEMU...)
#     --java-home DIR      the Java 25 JDK to run with (default: $JAVA_HOME, then /usr/lib/jvm/temurin-25*)
#     --root DIR           install into DIR instead of / (a scratch root, for packaging and tests; no systemd)
#     --no-start           install but do not start or restart the daemon
set -euo pipefail
BUNDLE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
TIER=minimal TIERS="" LISTEN="" DATA="" NETWORK=1 CLI_ONLY=0 UPDATE=0 FORCE=0 DEPS=1 JDK="" ROOT="" START=1 SOURCE=""
usage() { sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
while (($#)); do
  case $1 in
    --tier) TIER=${2:?--tier needs a name}; shift 2 ;;
    --tiers) TIERS=${2:?--tiers needs a list}; shift 2 ;;
    --listen) LISTEN=${2:?--listen needs HOST:PORT}; shift 2 ;;
    --data-dir) DATA=${2:?--data-dir needs a directory}; shift 2 ;;
    --no-network) NETWORK=0; shift ;;
    --cli-only) CLI_ONLY=1; shift ;;
    --update) UPDATE=1; shift ;;
    --force) FORCE=1; shift ;;
    --no-deps) DEPS=0; shift ;;
    --java-home) JDK=${2:?--java-home needs a directory}; shift 2 ;;
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --no-start) START=0; shift ;;
    --source) SOURCE=${2:?}; shift 2 ;; # the checkout this bundle was made from (scripts/install.sh), for `bhatti update`
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if [[ -n $ROOT ]]; then
  [[ $ROOT == /* ]] || { echo "install.sh: --root must be an absolute path" >&2; exit 2; }
  ROOT=${ROOT%/}
fi
source "$BUNDLE/share/service.sh"
need_root "bhatti install"
[[ -z $LISTEN || $LISTEN =~ ^[^:]*:[0-9]{1,5}$ ]] || die "--listen must be HOST:PORT, got '$LISTEN'"
[[ -z $DATA || $DATA == /* ]] || die "--data-dir must be an absolute path, got '$DATA'"
START_TIME=$SECONDS

# --- versions: a different major version is refused unless forced -----------------------------------
read -r NEW_VERSION <"$BUNDLE/VERSION"
OLD_VERSION=""
[[ -r $PREFIX/VERSION ]] && read -r OLD_VERSION <"$PREFIX/VERSION"
if [[ -n $OLD_VERSION && ${OLD_VERSION%%.*} != "${NEW_VERSION%%.*}" && $FORCE -eq 0 ]]; then
  die "bhatti $OLD_VERSION is installed and this bundle is $NEW_VERSION, a different major version: its data format may change.
  Back up first (sudo bhatti admin backup --to FILE), then run again with --force."
fi
((UPDATE)) && [[ -z $OLD_VERSION ]] && die "bhatti is not installed$( [[ -n $ROOT ]] && echo " in $ROOT"): nothing to update (install it with install.sh)"
if [[ -n $OLD_VERSION ]]; then say "bhatti $OLD_VERSION is installed; installing $NEW_VERSION over it"; else say "installing bhatti $NEW_VERSION"; fi

# --- the bundle's own integrity ------------------------------------------------------------------------
(cd "$BUNDLE" && sha256sum --quiet -c SHA256SUMS) || die "the bundle's files do not match its SHA256SUMS: it is damaged or altered"

# --- packages and Java ---------------------------------------------------------------------------------
if ((DEPS && !CLI_ONLY)); then "$BUNDLE/share/install-deps.sh" --runtime; fi
jdk_ok() { [[ -n $1 && -x $1/bin/java && -r $1/release ]] && grep -qE '^JAVA_VERSION="(2[5-9]|[3-9][0-9])' "$1/release"; }
if [[ -z $JDK ]]; then
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/*25* /usr/lib/jvm/*; do
    if jdk_ok "$candidate"; then JDK=$candidate; break; fi
  done
fi
jdk_ok "$JDK" || die "bhatti needs a Java 25 JDK (looked at \$JAVA_HOME and /usr/lib/jvm): install Temurin 25 (packages.adoptium.net) or pass --java-home DIR"

# --- files: copied only when they differ ---------------------------------------------------------------
CHANGED=0
put() { # put MODE SOURCE TARGET
  if ! cmp -s "$2" "$3" 2>/dev/null; then
    mkdir -p "$(dirname "$3")"
    install -m "$1" "$2" "$3.new" && mv -f "$3.new" "$3"
    CHANGED=1
  fi
}
put 0644 "$BUNDLE/lib/bhatti.jar" "$PREFIX/lib/bhatti.jar"
put 0755 "$BUNDLE/bin/bhatti" "$PREFIX/bin/bhatti"
for f in install.sh uninstall.sh; do put 0755 "$BUNDLE/$f" "$PREFIX/$f"; done
for f in service.sh bhatti.service install-deps.sh; do put 0644 "$BUNDLE/share/$f" "$PREFIX/share/$f"; done
chmod 0755 "$PREFIX/share/install-deps.sh"
put 0644 "$BUNDLE/README.md" "$PREFIX/README.md"
put 0644 "$BUNDLE/VERSION" "$PREFIX/VERSION"
JDK_FILE=$(mktemp); printf '%s\n' "$JDK" >"$JDK_FILE"; put 0644 "$JDK_FILE" "$PREFIX/lib/java-home"; rm -f "$JDK_FILE"
if [[ -n $SOURCE ]]; then printf '%s\n' "$SOURCE" >"$PREFIX/lib/source"; fi
mkdir -p "$(dirname "$LINK")"
ln -sfn "$( [[ -n $ROOT ]] && echo "$PREFIX" || echo /opt/bhatti)/bin/bhatti" "$LINK"
# the CLI's start-up cache, made once per jar and JDK (the launcher trains it as root, where it may write)
"$PREFIX/bin/bhatti" --version >/dev/null
if ((CHANGED)); then say "files installed in $PREFIX (bhatti on the PATH as $LINK)"; else say "files in $PREFIX are up to date"; fi

# The daemon's class-data archive, made by starting this jar's daemon once on an empty data directory while
# the running one still serves: the restart below (and every later one) then takes about half the time.
train_server_archive() {
  local train archive=$PREFIX/lib/bhatti-server.jsa pid
  train=$(mktemp -d)
  "$JDK/bin/java" -XX:ArchiveClassesAtExit="$archive.new" -Xlog:cds=off -Xlog:cds+dynamic=off --enable-native-access=ALL-UNNAMED \
    -jar "$PREFIX/lib/bhatti.jar" serve --config none --cli-config none --data-dir "$train/data" --listen 127.0.0.1:0 \
    >"$train/log" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 1 600); do
    grep -q "bhatti daemon listening" "$train/log" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [[ -s $archive.new ]]; then mv -f "$archive.new" "$archive"; else rm -f "$archive.new"; warn "could not make the daemon's class-data archive (it starts without)"; fi
  rm -rf "$train"
}
if ((!CLI_ONLY)) && { ((CHANGED)) || [[ ! -s $PREFIX/lib/bhatti-server.jsa ]]; }; then train_server_archive; fi

if ((CLI_ONLY)); then
  say "CLI installed ($(("$PREFIX/bin/bhatti" --version) 2>/dev/null)); point it at a server with: bhatti setup --url URL --token KEY"
  exit 0
fi

# --- the config: written once, then the operator's ----------------------------------------------------
mkdir -p "$ETC"
if [[ ! -e $CONF ]]; then
  D=${DATA:-$ROOT/var/lib/bhatti}
  {
    echo "# bhatti daemon settings (layered: built-in defaults, this file, <data_dir>/config.yaml, flags)."
    echo "# Every setting: /opt/bhatti/README.md. Restart after a change: systemctl restart bhatti"
    echo "listen: ${LISTEN:-127.0.0.1:8080}"
    echo "data_dir: $D"
    [[ $TIER != none && $TIER != minimal ]] && echo "default_image: $TIER   # what a create without --image boots"
    if ((NETWORK)); then
      echo "network:"
      echo "  enabled: true"
      echo "  pool: 10.200.0.0/16"
      echo "  # allow_private: [10.0.5.0/24]   # private ranges sandboxes may reach (none by default)"
    fi
  } >"$CONF.new"
  chmod 0644 "$CONF.new" && mv -f "$CONF.new" "$CONF"
  CHANGED=1
  say "wrote $CONF"
else
  [[ -z $LISTEN && -z $DATA ]] || warn "$CONF exists: --listen/--data-dir are ignored; edit the file instead"
  say "keeping $CONF"
fi
DATA_DIR=$(data_dir)
mkdir -p "$(dirname "$DATA_DIR")"; (umask 077; mkdir -p "$DATA_DIR")

# --- tiers (cached by content hash: an unchanged tier is not rebuilt) ----------------------------------
WANT=()
[[ $TIER != none ]] && WANT+=("$TIER")
if [[ $TIERS == all ]]; then WANT+=(all) # `tier build all`: every tier this version knows
elif [[ -n $TIERS ]]; then IFS=, read -r -a more <<<"$TIERS"; WANT+=("${more[@]}"); fi
if ((UPDATE)); then
  # the tiers already here are rebuilt when this version's agent or recipe differs (a cache hit otherwise);
  # sandboxes and snapshots keep the image they were made from, so old snapshots keep working
  for f in "$DATA_DIR"/images/rootfs-*-amd64.ext4; do
    [[ -e $f ]] || continue
    t=${f##*/rootfs-}; WANT+=("${t%-amd64.ext4}")
  done
fi
declare -A SEEN=()
for t in "${WANT[@]}"; do
  [[ -n $t && -z ${SEEN[$t]:-} ]] || continue
  SEEN[$t]=1
  say "guest image: tier $t"
  "$PREFIX/bin/bhatti" tier build "$t" --data-dir "$DATA_DIR"
done

# --- the service -----------------------------------------------------------------------------------------
put 0644 "$BUNDLE/share/bhatti.service" "$UNIT"
if uses_systemd; then
  systemctl daemon-reload
  systemctl enable bhatti >/dev/null 2>&1
else
  warn "systemd is not running on this host (PID 1 is $(cat /proc/1/comm 2>/dev/null || echo unknown))$( [[ -n $ROOT ]] && echo ", or this is a scratch root")": \
"the daemon is started directly (log $LOG_DIR/daemon.log) and will not start again at boot"
fi
NEW_ADMIN=0
[[ -e $DATA_DIR/admin-api-key ]] || NEW_ADMIN=1
if ((START)); then
  if daemon_running; then
    if ((CHANGED)); then
      say "restarting the daemon (its sandboxes keep running)"
      T0=$(date +%s%N)
      daemon_stop
      daemon_start
      wait_healthy
      say "the API was back after $(( ($(date +%s%N) - T0) / 1000000 )) ms"
    else
      say "the daemon is running and nothing changed"
    fi
  else
    say "starting the daemon"
    daemon_start
    wait_healthy
  fi
fi

# --- the admin's key, for root and for the user who ran sudo ---------------------------------------------
if [[ -r $DATA_DIR/admin-api-key ]]; then
  KEY=$(cat "$DATA_DIR/admin-api-key") URL=$(api_url)
  cli_config() { # cli_config HOME OWNER
    local file=$ROOT$1/.bhatti/config.yaml
    if [[ -e $file ]] && grep -qx "api_url: $URL" "$file" && grep -qx "auth_token: $KEY" "$file"; then return; fi
    if [[ -e $file ]] && ! grep -qx "api_url: $URL" "$file"; then
      warn "$file points at another server; left as it is (bhatti setup --url $URL --token <key> switches it)"
      return
    fi
    mkdir -p "$(dirname "$file")"
    (umask 077; printf 'api_url: %s\nauth_token: %s\n' "$URL" "$KEY" >"$file.new") && mv -f "$file.new" "$file"
    [[ -n $2 ]] && chown "$2:" "$(dirname "$file")" "$file"
    say "the admin key is in $file"
  }
  cli_config /root ""
  if [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]]; then
    home=$(getent passwd "$SUDO_USER" | cut -d: -f6)
    [[ -n $home ]] && cli_config "$home" "$SUDO_USER"
  fi
  if ((NEW_ADMIN)); then
    echo
    echo "The admin's API key (shown once; also in $DATA_DIR/admin-api-key, root only):"
    echo "  $KEY"
  fi
fi
echo
say "bhatti $NEW_VERSION is installed ($((SECONDS - START_TIME)) s). Try: bhatti create --name test && bhatti exec test -- uname -a"
