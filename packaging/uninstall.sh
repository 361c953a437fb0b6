#!/usr/bin/env bash
# Removes bhatti: the service, /opt/bhatti, the `bhatti` link and /etc/bhatti. The data directory
# (sandboxes, images, volumes, snapshots, the store and its keys) stays unless --purge.
# Running sandboxes are listed and, once confirmed, put to disk (kept) or, with --purge, ended.
#
#   sudo /opt/bhatti/uninstall.sh [--purge] [-y] [--root DIR]
#     --purge      also delete the data directory (asks first; -y does not ask)
#     -y, --yes    do not ask
#     --root DIR   the scratch root install.sh --root installed into
set -euo pipefail
HERE=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
PURGE=0 YES=0 ROOT=""
while (($#)); do
  case $1 in
    --purge) PURGE=1; shift ;;
    -y|--yes) YES=1; shift ;;
    --root) ROOT=${2:?--root needs a directory}; ROOT=${ROOT%/}; shift 2 ;;
    -h|--help) sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "uninstall.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -r $HERE/share/service.sh ]]; then source "$HERE/share/service.sh"; else source "$HERE/service.sh"; fi
need_root "bhatti uninstall"
DATA_DIR=$(data_dir)
if [[ ! -d $PREFIX && ! -e $CONF && ! -e $UNIT ]] && ! ((PURGE)) || [[ ! -d $PREFIX && ! -e $CONF && ! -e $UNIT && ! -d $DATA_DIR ]]; then
  say "bhatti is not installed$( [[ -n $ROOT ]] && echo " in $ROOT")"
  exit 0
fi

confirm() { # confirm QUESTION: yes with -y; no without a terminal to ask on
  ((YES)) && return 0
  [[ -t 0 ]] || die "$1 Run with -y to confirm without a terminal."
  local answer
  read -r -p "$1 [y/N] " answer
  [[ $answer == [yY]* ]]
}

# --- sandboxes whose VMs run: kept on disk (or ended with --purge), never left running unowned -----------
RUNNING=""
if [[ -e $DATA_DIR/state.db && -x $PREFIX/bin/bhatti ]]; then
  RUNNING=$("$PREFIX/bin/bhatti" admin sandboxes --running --data-dir "$DATA_DIR" 2>/dev/null | grep -v '^no running' || true)
fi
if [[ -n $RUNNING ]]; then
  echo "These sandboxes are running:"
  echo "$RUNNING"
  if ((PURGE)); then
    confirm "Uninstall and delete them with everything in $DATA_DIR?" || die "nothing was changed"
  else
    confirm "Put them to disk (they resume after a reinstall) and uninstall?" || die "nothing was changed"
  fi
elif ((PURGE)); then
  confirm "Uninstall and delete $DATA_DIR (sandboxes, images, volumes, snapshots, keys)?" || die "nothing was changed"
fi

# --- the daemon -------------------------------------------------------------------------------------------
if daemon_running; then
  if [[ -n $RUNNING && $PURGE -eq 0 ]]; then
    touch "$DATA_DIR/drain-on-stop" # the daemon's shutdown puts every running sandbox to disk first
    say "stopping the daemon; it puts the running sandboxes to disk first"
  else
    say "stopping the daemon"
  fi
  daemon_stop
fi
if uses_systemd; then
  systemctl disable bhatti >/dev/null 2>&1 || true
fi
# VMs still running (a purge, or a sandbox that could not go to disk): ended, so none is left without a daemon.
# Each VM's QEMU carries its sandbox directory on its command line.
for pid in $(pgrep -f "qemu-system" || true); do
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$DATA_DIR/sandboxes/"; then
    ((PURGE)) || warn "ending the VM of pid $pid, which did not go to disk"
    kill -KILL "$pid" 2>/dev/null || true
  fi
done

# --- files ------------------------------------------------------------------------------------------------
rm -f "$UNIT"
uses_systemd && systemctl daemon-reload
[[ -L $LINK ]] && rm -f "$LINK"
rm -rf "$PREFIX" "$ETC" "$LOG_DIR"
say "removed the service, $PREFIX, $LINK and $ETC"

# --- sandbox networking the daemon set up on the host (bridges, their TAPs, the nftables tables) ---------
if ! pgrep -f "bhatti.jar serve" >/dev/null; then # another daemon on this host would still need them
  for br in $(ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1 | grep '^bhbr' || true); do
    for tap in $(ip -o link show master "$br" 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do ip link del "$tap" 2>/dev/null || true; done
    ip link del "$br" 2>/dev/null || true
  done
  for family in inet bridge; do nft delete table "$family" bhatti 2>/dev/null || true; done
fi

if ((PURGE)); then
  # the CLI configs that hold this server's admin key: the key dies with the data
  KEY=$(cat "$DATA_DIR/admin-api-key" 2>/dev/null || true)
  homes=("$ROOT/root")
  [[ -n ${SUDO_USER:-} && $SUDO_USER != root ]] && homes+=("$ROOT$(getent passwd "$SUDO_USER" | cut -d: -f6)")
  for home in "${homes[@]}"; do
    f=$home/.bhatti/config.yaml
    if [[ -n $KEY && -f $f ]] && grep -qx "auth_token: $KEY" "$f"; then
      rm -f "$f"; rmdir "$home/.bhatti" 2>/dev/null || true
      say "removed $f"
    fi
  done
  rm -rf "$DATA_DIR"
  say "deleted $DATA_DIR"
  # the tier build cache (debootstrap downloads) belongs to a real install only, not to a scratch root's
  if [[ -z $ROOT ]]; then rm -rf /var/cache/bhatti-build; fi
else
  say "kept $DATA_DIR (sandboxes, images, volumes, snapshots, the store and its keys); --purge deletes it"
fi
