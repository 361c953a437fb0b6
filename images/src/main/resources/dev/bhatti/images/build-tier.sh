#!/usr/bin/env bash
# build-tier.sh: builds one bhatti guest image tier (kernel, initramfs, ext4 root filesystem).
#
#   build-tier.sh --tier minimal --out DIR --agent-jar PATH --java-home JDK
#                 [--suite bookworm] [--mirror http://deb.debian.org/debian]
#                 [--cache DIR] [--arch amd64] [--force]
#
# Outputs in --out: vmlinuz-<arch>, initramfs-<arch>.img, rootfs-<tier>-<arch>.ext4,
# tools-<arch>.ext4 (the agent, its runtime and the C library it needs, for booting images that are not
# tiers: see step 8) and rootfs-<tier>-<arch>.ext4.hash. Every output is written to a temp file in --out and renamed.
# stdout carries only progress lines "==> [n/N] description"; everything else goes to stderr
# or to the build log (--out/.build-<tier>-<arch>.log).
#
# Tiers: a tier <name> exists when tier-<name>.packages sits next to this script (one Debian
# package per line, '#' comments). Directives in that file: "@extends PARENT" builds the tier on top of
# PARENT's root (its packages are apt-get installed there; the result is cached as a layer), "@size 4G"
# sizes its file system (default 2G). An optional tier-<name>.setup runs on the host after the root is
# configured (env ROOT, MODDIR, KREL, ARCH; every tier of the chain, base first). Must run as root.
#
# Caches (--cache, default /var/cache/bhatti-build):
#   debs/    the kernel .deb, keyed by package name and version
#   rootfs/  debootstrap results as tar.zst, keyed by suite, mirror, arch, package list and
#            DEBOOTSTRAP_STEP_VERSION (bump it when the debootstrap step changes); and one layer per
#            derived tier (layer-<tier>-...), keyed by its parent's key and its package list
# --force rebuilds everything, including a fresh debootstrap (which refreshes its cache entry).
set -euo pipefail
set -m # background jobs get their own process group (see logged)
umask 022

readonly DEBOOTSTRAP_STEP_VERSION=2
readonly LAYER_STEP_VERSION=1
readonly STEPS=10
# Always present in every tier: /opt/bhatti/init uses tini and ip, the bhatti user gets sudo.
readonly BASE_PACKAGES=(sudo tini iproute2 ca-certificates)
# virtio modules for the initramfs, in load order (vmm-recipe.md section 4).
readonly INITRAMFS_MODULES=(virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev
  virtio_pci virtio_mmio virtio_blk failover net_failover virtio_net virtio_console virtio-rng
  vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport virtio_balloon)
# Without these the guest cannot boot on microvm (disk) or talk to the host (virtio-serial).
readonly REQUIRED_MODULES=(virtio_mmio virtio_blk virtio_console)

SCRIPT_PATH=$(readlink -f "${BASH_SOURCE[0]}")
SCRIPT_DIR=$(dirname "$SCRIPT_PATH")
readonly SCRIPT_PATH SCRIPT_DIR
PROG=build-tier.sh

usage() {
  cat <<EOF
usage: $PROG --tier NAME --out DIR --agent-jar PATH --java-home JDK
             [--suite bookworm] [--mirror http://deb.debian.org/debian]
             [--cache DIR] [--arch amd64] [--force]
available tiers: $(available_tiers)
EOF
}

available_tiers() {
  local f names=()
  for f in "$SCRIPT_DIR"/tier-*.packages; do
    [[ -e $f ]] || continue
    f=${f##*/tier-}
    names+=("${f%.packages}")
  done
  if ((${#names[@]})); then echo "${names[*]}"; else echo "(none: no tier-*.packages next to $SCRIPT_PATH)"; fi
}

die_usage() { echo "$PROG: error: $*" >&2; usage >&2; exit 2; }
die() { echo "$PROG: error: $*" >&2; exit 1; }
warn() { echo "$PROG: warning: $*" >&2; }
step() { echo "==> [$1/$STEPS] $2"; }
sha256() { sha256sum "$1" | cut -d' ' -f1; }

LOG=/dev/null
CHILD=""
# logged CMD...: runs CMD with its output in the build log and returns its exit status. CMD runs
# in the background in its own process group (set -m) so that a TERM/INT to this script takes
# effect at once: the trap kills the whole group (debootstrap, dpkg, java) before cleaning up.
logged() {
  local rc=0
  printf '\n+ [%s] %s\n' "$(date +%T)" "$*" >>"$LOG"
  "$@" </dev/null >>"$LOG" 2>&1 &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  return "$rc"
}
# run DESCRIPTION CMD...: like logged, but a failure ends the build with the log's tail.
run() {
  local what=$1 rc=0
  shift
  logged "$@" || rc=$?
  if ((rc != 0)); then
    {
      echo "$PROG: error: $what failed (exit $rc). Last lines of the build log:"
      tail -n 30 "$LOG" | sed 's/^/  | /'
      echo "$PROG: full log: $LOG"
      echo "$PROG: fix the cause above (network/mirror, disk space, inputs) and re-run; --force rebuilds from scratch."
    } >&2
    exit 1
  fi
}

# ---------------------------------------------------------------- arguments
TIER="" OUT="" AGENT_JAR="" JDK="" SUITE=bookworm MIRROR=http://deb.debian.org/debian
CACHE=/var/cache/bhatti-build ARCH=amd64 FORCE=0

need_value() { [[ $# -ge 2 && -n $2 && $2 != --* ]] || die_usage "$1 needs a value"; }
while (($#)); do
  case $1 in
    --tier|--out|--agent-jar|--java-home|--suite|--mirror|--cache|--arch)
      need_value "$@"
      case $1 in
        --tier) TIER=$2 ;; --out) OUT=$2 ;; --agent-jar) AGENT_JAR=$2 ;; --java-home) JDK=$2 ;;
        --suite) SUITE=$2 ;; --mirror) MIRROR=$2 ;; --cache) CACHE=$2 ;; --arch) ARCH=$2 ;;
      esac
      shift 2 ;;
    --tier=*) TIER=${1#*=}; shift ;;
    --out=*) OUT=${1#*=}; shift ;;
    --agent-jar=*) AGENT_JAR=${1#*=}; shift ;;
    --java-home=*) JDK=${1#*=}; shift ;;
    --suite=*) SUITE=${1#*=}; shift ;;
    --mirror=*) MIRROR=${1#*=}; shift ;;
    --cache=*) CACHE=${1#*=}; shift ;;
    --arch=*) ARCH=${1#*=}; shift ;;
    --force) FORCE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die_usage "unknown argument: $1" ;;
  esac
done

[[ -n $TIER ]] || die_usage "--tier is required"
[[ $TIER =~ ^[a-z0-9][a-z0-9_-]*$ ]] || die_usage "bad tier name '$TIER' (available: $(available_tiers))"
TIER_FILE=$SCRIPT_DIR/tier-$TIER.packages
[[ -f $TIER_FILE ]] || die_usage "unknown tier '$TIER' (available: $(available_tiers))"
# directive FILE NAME: the value of "@NAME VALUE" in a tier file (empty if absent)
directive() { sed -n "s/^[[:space:]]*@$2[[:space:]]\{1,\}\([^[:space:]#]*\).*/\1/p" "$1" | head -n 1; }
# packages FILE: the file's package names, one per line (comments, blanks and directives dropped)
packages() { sed -e 's/#.*//' -e '/^[[:space:]]*@/d' -e 's/[[:space:]]//g' "$1" | grep -v '^$' || true; }
# updates_sources: apt lines for the suite's security and point-release updates, when the mirror is Debian's
# own (a derived tier holds a browser, a container engine: it must not ship the release's first builds)
updates_sources() {
  case $MIRROR in
    http://deb.debian.org/debian|https://deb.debian.org/debian)
      echo "deb ${MIRROR}-security $SUITE-security main"
      echo "deb $MIRROR $SUITE-updates main" ;;
  esac
}
# The chain of tiers this one builds on, base first (CHAIN[0] is debootstrapped, the rest are layers).
CHAIN=("$TIER")
while parent=$(directive "$SCRIPT_DIR/tier-${CHAIN[0]}.packages" extends) && [[ -n $parent ]]; do
  [[ $parent =~ ^[a-z0-9][a-z0-9_-]*$ && -f $SCRIPT_DIR/tier-$parent.packages ]] \
    || die_usage "tier ${CHAIN[0]} extends '$parent', which is not a tier (available: $(available_tiers))"
  for t in "${CHAIN[@]}"; do [[ $t != "$parent" ]] || die_usage "tier $TIER: @extends makes a cycle through $parent"; done
  CHAIN=("$parent" "${CHAIN[@]}")
done
IMAGE_SIZE=2G
for t in "${CHAIN[@]}"; do
  size=$(directive "$SCRIPT_DIR/tier-$t.packages" size)
  if [[ -n $size ]]; then
    [[ $size =~ ^[1-9][0-9]{0,2}G$ ]] || die_usage "tier $t: bad @size '$size' (want e.g. 4G)"
    IMAGE_SIZE=$size
  fi
done
[[ -n $OUT ]] || die_usage "--out is required"
[[ -n $AGENT_JAR ]] || die_usage "--agent-jar is required"
[[ -f $AGENT_JAR && -r $AGENT_JAR ]] || die_usage "agent jar not found or unreadable: $AGENT_JAR"
[[ $(head -c 2 "$AGENT_JAR") == PK ]] || die_usage "agent jar is not a jar (zip) file: $AGENT_JAR"
[[ -n $JDK ]] || die_usage "--java-home is required"
[[ -x $JDK/bin/jlink && -f $JDK/release ]] || die_usage "--java-home $JDK is not a JDK (no bin/jlink or release file)"
[[ $SUITE =~ ^[a-z0-9][a-z0-9.-]*$ ]] || die_usage "bad suite name '$SUITE'"
[[ $MIRROR =~ ^(https?|file):// ]] || die_usage "bad mirror URL '$MIRROR' (want http://, https:// or file://)"
[[ $ARCH =~ ^(amd64|arm64)$ ]] || die_usage "unsupported arch '$ARCH' (supported: amd64, arm64)"
HOST_ARCH=$(dpkg --print-architecture)
[[ $ARCH == "$HOST_ARCH" ]] || die_usage "cross-arch builds are not supported: --arch $ARCH on a $HOST_ARCH host (build on a $ARCH machine)"
[[ $CACHE == /* ]] || CACHE=$PWD/$CACHE

((EUID == 0)) || die "must run as root (debootstrap and chroot need it); re-run with sudo"
for tool in debootstrap mkfs.ext4 e2fsck cpio gzip zstd tar apt-get apt-cache dpkg-deb chroot \
            sha256sum flock mount umount timeout; do
  command -v "$tool" >/dev/null 2>&1 || die "required tool '$tool' not found; install it (apt-get install debootstrap e2fsprogs cpio zstd ...)"
done
BUSYBOX=/bin/busybox
[[ -x $BUSYBOX ]] && grep -q 'not a dynamic' < <(ldd "$BUSYBOX" 2>&1 || true) \
  || die "a static busybox is needed at $BUSYBOX for the initramfs; run: apt-get install busybox-static"

# Package list: base packages + the tier file, validated, sorted, unique.
# Package list of the base (debootstrap): base packages + the base tier's file, validated, sorted, unique.
BASE_FILE=$SCRIPT_DIR/tier-${CHAIN[0]}.packages
mapfile -t PKGS < <( { printf '%s\n' "${BASE_PACKAGES[@]}"; packages "$BASE_FILE"; } | LC_ALL=C sort -u)
for t in "${CHAIN[@]}"; do
  for p in $(packages "$SCRIPT_DIR/tier-$t.packages"); do
    [[ $p =~ ^[a-z0-9][a-z0-9+.-]+$ ]] || die_usage "bad package name '$p' in tier-$t.packages"
  done
done

mkdir -p "$OUT" "$CACHE/debs" "$CACHE/rootfs"
OUT=$(cd "$OUT" && pwd)
KERNEL_OUT=$OUT/vmlinuz-$ARCH
INITRD_OUT=$OUT/initramfs-$ARCH.img
IMAGE_OUT=$OUT/rootfs-$TIER-$ARCH.ext4
TOOLS_OUT=$OUT/tools-$ARCH.ext4
HASH_OUT=$IMAGE_OUT.hash

# One build of a tier per output directory at a time (a second one waits, then finds it up to date). Tiers
# build side by side: what they share (kernel, initramfs, tools disk, caches) is written by atomic renames.
exec 9>>"$OUT/.build-$TIER.lock"
if ! flock -n 9; then
  echo "$PROG: another build is writing to $OUT; waiting for it" >&2
  flock 9
fi

LOG=$OUT/.build-$TIER-$ARCH.log
: >"$LOG"

# ---------------------------------------------------------------- cleanup
WORK="" ROOT=""
TMP_FILES=()
umount_under() { # unmounts everything mounted below $1, deepest first
  local dir=$1 m
  [[ -n $dir ]] || return 0
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
}
cleanup() {
  local rc=$? i
  set +e
  if [[ -n $CHILD ]] && kill -0 "$CHILD" 2>/dev/null; then
    kill -TERM -- "-$CHILD" 2>/dev/null
    for i in {1..50}; do kill -0 -- "-$CHILD" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$CHILD" 2>/dev/null
    sleep 0.2
  fi
  if [[ -n $WORK && -d $WORK ]]; then
    umount_under "$WORK"
    if awk -v d="$WORK/" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
      warn "could not unmount everything under $WORK; left it in place, remove it by hand"
    else
      rm -rf --one-file-system "$WORK"
    fi
  fi
  ((${#TMP_FILES[@]})) && rm -f "${TMP_FILES[@]}"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

out_tmp() { # out_tmp VAR FINAL: sets VAR to a fresh temp file next to FINAL (removed on failure)
  local t
  t=$(mktemp "$(dirname "$2")/.$(basename "$2").tmp.XXXXXX")
  TMP_FILES+=("$t") # not in a $(...) subshell, or the trap would never see it
  printf -v "$1" '%s' "$t"
}
publish() { # publish TMP FINAL: atomic rename with sane permissions
  chmod 0644 "$1"
  mv -f "$1" "$2"
}

# ---------------------------------------------------------------- 1: inputs and cache check
step 1 "Checking inputs (tier $TIER, $SUITE/$ARCH)"
KMETA=linux-image-cloud-$ARCH
# The cloud kernel metapackage depends on the versioned kernel package (like `apt-cache depends`,
# in one apt-cache call: apt here has no pkgcache.bin, so every call re-reads the lists, ~0.5 s).
kernel_dep() {
  apt-cache show --no-all-versions "$KMETA" 2>/dev/null | sed -n 's/^Depends: //p' | tr ',' '\n' \
    | sed -n 's/^ *\(linux-image-[0-9][^ ]*\)\( *(= *\([^)]*\))\)\{0,1\}.*$/\1 \3/p' | head -n 1
}
KDEP=$(kernel_dep || true)
if [[ -z $KDEP ]]; then
  run "apt-get update (apt knows nothing about $KMETA)" apt-get update
  KDEP=$(kernel_dep || true)
  [[ -n $KDEP ]] || die "apt cannot resolve the kernel package of $KMETA; check /etc/apt/sources.list (needs Debian main)"
fi
read -r KPKG KVER <<<"$KDEP"
if [[ -z ${KVER:-} ]]; then
  KVER=$(apt-cache show --no-all-versions "$KPKG" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1 || true)
  [[ -n $KVER ]] || die "apt has no installable version of $KPKG; run apt-get update"
fi

HASH=$( {
  echo "bhatti-image v1"
  echo "script $(sha256 "$SCRIPT_PATH")"
  for t in "${CHAIN[@]}"; do
    echo "tier $t $(sha256 "$SCRIPT_DIR/tier-$t.packages")"
    [[ -f $SCRIPT_DIR/tier-$t.setup ]] && echo "setup $t $(sha256 "$SCRIPT_DIR/tier-$t.setup")"
  done
  echo "agent-jar $(sha256 "$AGENT_JAR")"
  echo "suite $SUITE"
  echo "mirror $MIRROR"
  echo "updates $(updates_sources | tr '\n' ' ')"
  echo "arch $ARCH"
  echo "kernel $KPKG $KVER"
  echo "java-release $(sha256 "$JDK/release")"
} | sha256sum | cut -d' ' -f1)

if ((FORCE == 0)) && [[ -s $KERNEL_OUT && -s $INITRD_OUT && -s $IMAGE_OUT && -s $TOOLS_OUT && -f $HASH_OUT ]] \
   && [[ $(<"$HASH_OUT") == "$HASH" ]]; then
  step $STEPS "up to date (cached)"
  exit 0
fi
# The outputs are about to change: a stale hash must never vouch for a mix of old and new files.
rm -f "$HASH_OUT"

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/bhatti-build-$TIER.XXXXXX")
ROOT=$WORK/rootfs
in_root() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 chroot "$ROOT" "$@"; }

# ---------------------------------------------------------------- 2: kernel
step 2 "Fetching kernel $KPKG $KVER"
KDEB=$CACHE/debs/${KPKG}_${KVER//:/%3a}_$ARCH.deb
if [[ ! -s $KDEB ]] || ! dpkg-deb --info "$KDEB" >/dev/null 2>&1; then
  mkdir -p "$WORK/dl"
  run "downloading $KPKG" bash -c 'cd "$1" && apt-get download "$2=$3"' _ "$WORK/dl" "$KPKG" "$KVER"
  deb=$(find "$WORK/dl" -maxdepth 1 -name '*.deb' | head -n 1)
  [[ -n $deb ]] || die "apt-get download $KPKG produced no .deb (see $LOG)"
  tmp=$(mktemp "$CACHE/debs/.kernel.tmp.XXXXXX"); TMP_FILES+=("$tmp")
  cp "$deb" "$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$KDEB"
fi
run "unpacking $KDEB" dpkg-deb -x "$KDEB" "$WORK/kernel"
VMLINUZ=$(find "$WORK/kernel/boot" -maxdepth 1 -name 'vmlinuz-*' | head -n 1)
[[ -n $VMLINUZ ]] || die "$KDEB contains no boot/vmlinuz-*"
KREL=${VMLINUZ##*/vmlinuz-}
MODDIR=$WORK/kernel/lib/modules/$KREL
[[ -d $MODDIR/kernel ]] || die "$KDEB has no modules for $KREL"
out_tmp KERNEL_TMP "$KERNEL_OUT"
cp "$VMLINUZ" "$KERNEL_TMP"

# ---------------------------------------------------------------- 3: initramfs
step 3 "Building initramfs ($KREL)"
IRD=$WORK/initramfs
mkdir -p "$IRD"/{bin,dev,proc,sys,newroot,etc,lib/modules}
cp "$BUSYBOX" "$IRD/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [[ $applet == busybox || -e $IRD/bin/$applet ]] || ln -s busybox "$IRD/bin/$applet"
done
mknod -m 600 "$IRD/dev/console" c 5 1
mknod -m 666 "$IRD/dev/null" c 1 3
: >"$IRD/etc/modules.order"
for m in "${INITRAMFS_MODULES[@]}"; do
  alt=${m//_/-}; alt2=${m//-/_}
  ko=$(find "$MODDIR/kernel" \( -name "$m.ko*" -o -name "$alt.ko*" -o -name "$alt2.ko*" \) -print -quit)
  if [[ -z $ko ]]; then
    if grep -Eq "/($m|$alt|$alt2)\.ko" "$MODDIR/modules.builtin" 2>/dev/null; then
      continue # built into the kernel
    fi
    for r in "${REQUIRED_MODULES[@]}"; do
      [[ $r == "$alt2" ]] && die "kernel $KREL has no module $m (neither module nor built in); the guest cannot boot without it"
    done
    warn "kernel $KREL has no module $m; leaving it out of the initramfs"
    continue
  fi
  case $ko in
    *.ko) cp "$ko" "$IRD/lib/modules/$m.ko" ;;
    *.ko.xz) xz -dc "$ko" >"$IRD/lib/modules/$m.ko" ;;
    *.ko.zst) zstd -qdc "$ko" >"$IRD/lib/modules/$m.ko" ;;
    *.ko.gz) gzip -dc "$ko" >"$IRD/lib/modules/$m.ko" ;;
    *) die "unexpected module file $ko" ;;
  esac
  echo "$m" >>"$IRD/etc/modules.order"
done

cat >"$IRD/init" <<'EOF'
#!/bin/sh
# bhatti initramfs: load virtio modules, find the root disk, switch_root to /opt/bhatti/init.
# Kernel arguments: root=/dev/vda (default), bhatti.init=/opt/bhatti/init, bhatti.rootwait=10 (s).
export PATH=/bin

fatal() {
  echo "bhatti-initramfs: FATAL: $*" >/dev/console 2>/dev/null || echo "bhatti-initramfs: FATAL: $*"
  sync
  poweroff -f
  sleep 5
  exit 1 # PID 1 exiting panics the kernel; panic=-1 + -no-reboot ends QEMU too
}

mount -t proc proc /proc || fatal "cannot mount /proc"
mount -t sysfs sysfs /sys || fatal "cannot mount /sys"
mount -t devtmpfs devtmpfs /dev || fatal "cannot mount devtmpfs on /dev"
exec </dev/console >/dev/console 2>&1

root=/dev/vda
init=/opt/bhatti/init
rootwait=10
rootserial=
toolsserial=
for arg in $(cat /proc/cmdline); do
  case $arg in
    root=*) root=${arg#root=} ;;
    bhatti.init=*) init=${arg#bhatti.init=} ;;
    bhatti.rootwait=*) rootwait=${arg#bhatti.rootwait=} ;;
    bhatti.root=*) rootserial=${arg#bhatti.root=} ;;
    bhatti.tools=*) toolsserial=${arg#bhatti.tools=} ;;
  esac
done

for m in $(cat /etc/modules.order); do
  [ -d "/sys/module/$(echo "$m" | tr - _)" ] && continue
  insmod "/lib/modules/$m.ko" || echo "bhatti-initramfs: warning: could not load module $m"
done

# by_serial SERIAL: the virtio disk QEMU gave that serial (device names follow probe order, which
# with more than one disk is not the command line's).
by_serial() {
  for s in /sys/block/vd*/serial; do
    [ -r "$s" ] && [ "$(cat "$s")" = "$1" ] && { d=${s%/serial}; echo "/dev/${d##*/}"; return 0; }
  done
  return 1
}
tries=$((rootwait * 10))
tools=
while :; do
  [ -n "$rootserial" ] && root=$(by_serial "$rootserial")
  [ -n "$toolsserial" ] && tools=$(by_serial "$toolsserial")
  [ -b "$root" ] && { [ -z "$toolsserial" ] || [ -b "$tools" ]; } && break
  tries=$((tries - 1))
  [ "$tries" -gt 0 ] || fatal "root device $root${toolsserial:+ or the tools disk} did not appear within ${rootwait}s (is a virtio-blk disk attached?)"
  usleep 100000
done

# No udev: name the virtio-serial ports the way udev would (/opt/bhatti/init repeats this for
# ports that show up late).
for f in /sys/class/virtio-ports/*/name; do
  [ -r "$f" ] || continue
  name=$(cat "$f")
  [ -n "$name" ] || continue
  port=${f%/name}
  mkdir -p /dev/virtio-ports
  ln -sf "../${port##*/}" "/dev/virtio-ports/$name"
done

mount -t ext4 -o rw "$root" /newroot || fatal "cannot mount $root (ext4) read-write on /newroot"
# An image that is not a tier: the agent, its runtime and init come from the read-only tools disk,
# whatever the image holds (any C library or none).
if [ -n "$toolsserial" ]; then
  mkdir -p /newroot/opt/bhatti || fatal "cannot make /opt/bhatti in the image"
  mount -t ext4 -o ro "$tools" /newroot/opt/bhatti || fatal "cannot mount the tools disk $tools on /opt/bhatti"
fi
[ -x "/newroot$init" ] || fatal "$init is missing or not executable in the root filesystem on $root"
for d in dev proc sys; do
  mkdir -p "/newroot/$d"
  mount --move "/$d" "/newroot/$d" || fatal "cannot move /$d into the root filesystem"
done
exec switch_root /newroot "$init"
fatal "switch_root to $init failed"
EOF
chmod 0755 "$IRD/init"
out_tmp INITRD_TMP "$INITRD_OUT"
run "packing the initramfs" bash -c 'set -o pipefail; cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet | gzip -9 >"$2"' \
  _ "$IRD" "$INITRD_TMP"

# ---------------------------------------------------------------- 4: base system
DB_KEY=$(printf 'debootstrap-step %s\nsuite %s\nmirror %s\narch %s\npackages %s\nupdates %s\n' \
  "$DEBOOTSTRAP_STEP_VERSION" "$SUITE" "$MIRROR" "$ARCH" "${PKGS[*]}" "$(updates_sources | tr '\n' ' ')" | sha256sum | cut -d' ' -f1)
DB_TAR=$CACHE/rootfs/debootstrap-$SUITE-$ARCH-$DB_KEY.tar.zst
mkdir -p "$ROOT"
chmod 0755 "$ROOT"
# Each derived tier of the chain is a cached layer: the whole root after its packages went in, keyed by
# its parent's key and its own package list. Restore the deepest one cached and build the rest on it.
KEYS=("$DB_KEY") LAYER_TARS=("$DB_TAR")
for ((i = 1; i < ${#CHAIN[@]}; i++)); do
  KEYS[i]=$( { echo "layer-step $LAYER_STEP_VERSION"; echo "parent ${KEYS[i - 1]}"; echo "tier ${CHAIN[i]}"; updates_sources;
               packages "$SCRIPT_DIR/tier-${CHAIN[i]}.packages" | LC_ALL=C sort -u; } | sha256sum | cut -d' ' -f1)
  LAYER_TARS[i]=$CACHE/rootfs/layer-${CHAIN[i]}-$SUITE-$ARCH-${KEYS[i]}.tar.zst
done
FROM=0 # the first chain entry still to build; a cached layer below it is restored
if ((FORCE == 0)); then
  for ((i = ${#CHAIN[@]} - 1; i >= 1; i--)); do
    if [[ -s ${LAYER_TARS[i]} ]]; then FROM=$((i + 1)); break; fi
  done
fi
# save_tree TAR: packs $ROOT into the cache (atomically; a failure only costs the cache entry)
save_tree() {
  local tmp
  tmp=$(mktemp "$CACHE/rootfs/.layer.tmp.XXXXXX"); TMP_FILES+=("$tmp")
  if logged bash -c 'set -o pipefail; tar --numeric-owner --xattrs --xattrs-include="*" -cpf - -C "$1" . | zstd -q -T0 -3 >"$2"' \
       _ "$ROOT" "$tmp"; then
    chmod 0644 "$tmp"
    mv -f "$tmp" "$1"
  else
    warn "could not write the cache entry $1 (continuing without it)"
    rm -f "$tmp"
  fi
}
# apt_in_root [PACKAGE...]: brings $ROOT up to date with the suite's updates and installs PACKAGEs (no service
# starts: policy-rc.d), leaving no mounts, package lists or downloads behind
apt_in_root() {
  cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
  printf '#!/bin/sh\n# bhatti build: no service starts in the image build\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
  chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
  mkdir -p "$ROOT/proc" "$ROOT/sys" "$ROOT/dev"
  run "mounting /proc in the chroot" mount -t proc proc "$ROOT/proc"
  run "mounting /sys in the chroot" mount -t sysfs sysfs "$ROOT/sys"
  run "binding /dev into the chroot" mount --bind /dev "$ROOT/dev"
  updates_sources >"$ROOT/etc/apt/sources.list.d/bhatti-updates.list"
  run "apt-get update in the image" in_root apt-get update
  run "apt-get upgrade in the image (security and point-release updates)" in_root env DEBIAN_FRONTEND=noninteractive \
    apt-get upgrade -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold
  if (($#)); then
    run "apt-get install ($*)" in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
      --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"
  fi
  run "apt-get clean in the image" in_root apt-get clean
  umount_under "$ROOT"
  rm -f "$ROOT/usr/sbin/policy-rc.d" "$ROOT"/var/lib/apt/lists/*_*
  : >"$ROOT/etc/resolv.conf"
}
# install_layer TIER: TIER's packages on what $ROOT holds
install_layer() {
  local pkgs
  mapfile -t pkgs < <(packages "$SCRIPT_DIR/tier-$1.packages" | LC_ALL=C sort -u)
  apt_in_root "${pkgs[@]}"
}
if ((FROM > 0)); then
  step 4 "Restoring tier ${CHAIN[FROM - 1]} from cache (${LAYER_TARS[FROM - 1]##*/})"
  run "extracting the cached layer ${LAYER_TARS[FROM - 1]}" \
    tar --numeric-owner --xattrs --xattrs-include='*' -xpf "${LAYER_TARS[FROM - 1]}" -C "$ROOT"
elif ((FORCE == 0)) && [[ -s $DB_TAR ]]; then
  step 4 "Restoring base system from cache (${DB_TAR##*/})"
  run "extracting the cached base system $DB_TAR" \
    tar --numeric-owner --xattrs --xattrs-include='*' -xpf "$DB_TAR" -C "$ROOT"
else
  step 4 "Installing base system (debootstrap $SUITE, ${#PKGS[@]} extra packages)"
  includes=$(IFS=,; echo "${PKGS[*]}")
  run "debootstrap $SUITE from $MIRROR" \
    debootstrap --variant=minbase --arch="$ARCH" --include="$includes" "$SUITE" "$ROOT" "$MIRROR"
  umount_under "$WORK"
  apt_in_root
  rm -f "$ROOT"/var/cache/apt/archives/*.deb
  tmp=$(mktemp "$CACHE/rootfs/.debootstrap.tmp.XXXXXX"); TMP_FILES+=("$tmp")
  if logged bash -c 'set -o pipefail; tar --numeric-owner --xattrs --xattrs-include="*" -cpf - -C "$1" . | zstd -q -T0 -3 >"$2"' \
       _ "$ROOT" "$tmp"; then
    chmod 0644 "$tmp"
    mv -f "$tmp" "$DB_TAR"
    # Keep the cache from growing without bound: drop other entries for this suite/arch older than 30 days.
    find "$CACHE/rootfs" -maxdepth 1 -name "debootstrap-$SUITE-$ARCH-*.tar.zst" ! -name "${DB_TAR##*/}" -mtime +30 -delete 2>/dev/null || true
  else
    warn "could not write the debootstrap cache $DB_TAR (continuing without it)"
    rm -f "$tmp"
  fi
fi
((FROM > 0)) || FROM=1
for ((i = FROM; i < ${#CHAIN[@]}; i++)); do
  step 4 "Installing tier ${CHAIN[i]}'s packages on ${CHAIN[i - 1]} (apt-get)"
  install_layer "${CHAIN[i]}"
  save_tree "${LAYER_TARS[i]}"
  find "$CACHE/rootfs" -maxdepth 1 -name "layer-${CHAIN[i]}-$SUITE-$ARCH-*.tar.zst" ! -name "${LAYER_TARS[i]##*/}" -mtime +30 -delete 2>/dev/null || true
done
[[ -x $ROOT/usr/bin/tini && -x $ROOT/bin/bash ]] || die "base system in $ROOT looks incomplete (no tini or bash); re-run with --force"

# ---------------------------------------------------------------- 5: configure
step 5 "Configuring root filesystem (user bhatti, init)"
echo bhatti >"$ROOT/etc/hostname"
cat >"$ROOT/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	bhatti
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
EOF
# debootstrap copies the build host's resolver config; the daemon provides DNS settings per VM.
rm -f "$ROOT/etc/resolv.conf"
: >"$ROOT/etc/resolv.conf"
if ! in_root getent group bhatti >/dev/null; then
  run "creating group bhatti" in_root groupadd -g 1000 bhatti
fi
if ! in_root getent passwd bhatti >/dev/null; then
  run "creating user bhatti" in_root useradd -u 1000 -g 1000 -m -d /home/bhatti -s /bin/bash -c bhatti bhatti
fi
[[ $(in_root id -u bhatti) == 1000 && $(in_root id -g bhatti) == 1000 ]] || die "user bhatti does not have uid/gid 1000 in the image"
echo 'bhatti ALL=(ALL:ALL) NOPASSWD: ALL' >"$ROOT/etc/sudoers.d/bhatti"
chmod 0440 "$ROOT/etc/sudoers.d/bhatti"
run "checking /etc/sudoers.d/bhatti" in_root visudo -c -q -f /etc/sudoers.d/bhatti
install -d -o 1000 -g 1000 -m 0755 "$ROOT/workspace"
install -d -m 0755 "$ROOT/opt/bhatti"
# The guest init, one script for tiers and (from the tools disk) for any other image.
guest_init() {
  cat <<'EOF'
# bhatti guest init: PID 1 after the initramfs switch_root, in tiers and (from the tools disk) in any
# other image. Mounts the runtime filesystems, sets the hostname and network (kernel arguments
# bhatti.hostname=NAME, bhatti.net=...), grows the root file system when asked (bhatti.grow), makes
# sure there is a uid 1000 user, and hands PID 1 to tini, which reaps orphans and runs the agent.
# From the tools disk it runs nothing but the disk's busybox: the image may have no shell, no mount, no ip.
TOOLS=
[ -x /opt/bhatti/busybox/busybox ] && TOOLS=1
if [ -n "$TOOLS" ]; then PATH=/opt/bhatti/busybox; else PATH=/usr/sbin:/usr/bin:/sbin:/bin; fi
export PATH

warn() { echo "bhatti-init: $*" >/dev/console; }

mkdir -p /dev/pts /dev/shm /tmp /run /etc /root
mount -t devpts -o newinstance,ptmxmode=0666,gid=5,mode=620 devpts /dev/pts || warn "cannot mount /dev/pts"
ln -sf pts/ptmx /dev/ptmx
mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm || warn "cannot mount /dev/shm"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp || warn "cannot mount /tmp"
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run || warn "cannot mount /run"
mkdir -p /run/lock && chmod 1777 /run/lock
[ -e /dev/fd ] || ln -sf /proc/self/fd /dev/fd
[ -e /dev/stdin ] || ln -sf /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || ln -sf /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || ln -sf /proc/self/fd/2 /dev/stderr

name=bhatti
net=
grow=
for arg in $(cat /proc/cmdline); do
  case $arg in
    bhatti.hostname=*) name=${arg#bhatti.hostname=} ;;
    bhatti.net=*) net=${arg#bhatti.net=} ;;
    bhatti.grow=*) grow=1 ;;
  esac
done
case $name in
  ''|-*|*[!A-Za-z0-9.-]*) warn "ignoring bad bhatti.hostname '$name'"; name=bhatti ;;
esac
hostname "$name" || warn "cannot set hostname $name"
# each machine its own id (images ship an empty one); a VM restored from a template gets a new one from the agent
[ -s /etc/machine-id ] || tr -d - </proc/sys/kernel/random/uuid >/etc/machine-id 2>/dev/null || warn "cannot write /etc/machine-id"
rm -f /etc/hostname /etc/hosts
echo "$name" >/etc/hostname
cat >/etc/hosts <<HOSTS
127.0.0.1	localhost
127.0.1.1	$name
::1		localhost ip6-localhost ip6-loopback
ff02::1		ip6-allnodes
ff02::2		ip6-allrouters
HOSTS
ip link set lo up || warn "cannot bring lo up"
# bhatti.grow: the disk was made larger than the image's file system (create --disk); grow it online
if [ -n "$grow" ]; then
  rootdev=$(awk '$2 == "/" { d = $1 } END { print d }' /proc/mounts)
  resize2fs=resize2fs
  [ -n "$TOOLS" ] && resize2fs=/opt/bhatti/bin/resize2fs
  "$resize2fs" "$rootdev" >/dev/null 2>&1 || warn "could not grow the root file system on $rootdev"
fi

# bhatti.net=ADDRESS/PREFIX,GATEWAY,MAC: eth0's identity; the gateway is also the only nameserver
# (the daemon's resolver: glibc does not fall through to a second one on NXDOMAIN).
if [ -n "$net" ]; then
  IFS=, read -r addr gw mac <<NET
$net
NET
  ip link set dev eth0 address "$mac" || warn "cannot set the MAC of eth0"
  ip addr add "$addr" dev eth0 || warn "cannot address eth0 as $addr"
  ip link set dev eth0 up || warn "cannot bring eth0 up"
  ip route add default via "$gw" dev eth0 || warn "cannot route via $gw"
  rm -f /etc/resolv.conf
  printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$gw" >/etc/resolv.conf
fi

# Commands run as uid 1000 by default: an image without that user gets one (scratch images get a
# passwd file with root too). The image's own users and files are otherwise left alone.
[ -s /etc/passwd ] || echo 'root:x:0:0:root:/root:/bin/sh' >/etc/passwd
[ -s /etc/group ] || echo 'root:x:0:' >/etc/group
if ! cut -d: -f3 /etc/passwd | grep -qx 1000; then
  user=bhatti
  cut -d: -f1 /etc/passwd | grep -qx bhatti && user=bhatti1000
  echo "$user:x:1000:1000:bhatti:/home/$user:/bin/sh" >>/etc/passwd
  # PAM (an image's own sudo, su) refuses an account shadow does not know: no password, no ageing
  [ -f /etc/shadow ] && echo "$user:*:::::::" >>/etc/shadow
  cut -d: -f3 /etc/group | grep -qx 1000 || echo "$user:x:1000:" >>/etc/group
  mkdir -p "/home/$user" && chown 1000:1000 "/home/$user"
  # an image with sudo of its own: the user it did not know gets the rule the tiers' bhatti has
  if [ -d /etc/sudoers.d ]; then
    echo "$user ALL=(ALL:ALL) NOPASSWD: ALL" >/etc/sudoers.d/bhatti-uid-1000
    chmod 0440 /etc/sudoers.d/bhatti-uid-1000
  fi
fi
[ -e /workspace ] || { mkdir -p /workspace && chown 1000:1000 /workspace; }
# an image without sudo gets the tools disk's (the default user may run anything as root, as in tiers)
if [ -n "$TOOLS" ] && [ ! -e /usr/bin/sudo ] && [ ! -e /bin/sudo ] && [ ! -e /usr/local/bin/sudo ]; then
  if [ -d /usr/bin ] && [ ! -L /usr/bin ]; then ln -s /opt/bhatti/bin/sudo /usr/bin/sudo; else ln -s /opt/bhatti/bin/sudo /bin/sudo; fi
fi

# Ports that appeared after the initramfs looked (no udev).
for f in /sys/class/virtio-ports/*/name; do
  [ -r "$f" ] || continue
  port=$(cat "$f")
  [ -n "$port" ] || continue
  dev=${f%/name}
  mkdir -p /dev/virtio-ports
  [ -e "/dev/virtio-ports/$port" ] || ln -sf "../${dev##*/}" "/dev/virtio-ports/$port"
done

cd /
exec </dev/null >/dev/console 2>&1
if [ -n "$TOOLS" ]; then
  # the agent finds setsid and setpriv in /opt/bhatti/bin first; the image's tools, then busybox, for the rest
  PATH=/opt/bhatti/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/opt/bhatti/busybox
  exec /opt/bhatti/bin/tini -- /opt/bhatti/agent-run
fi
exec /usr/bin/tini -- /opt/bhatti/agent-run
EOF
}
{ echo "#!/bin/sh"; guest_init; } >"$ROOT/opt/bhatti/init"
chmod 0755 "$ROOT/opt/bhatti/init"
cat >"$ROOT/opt/bhatti/agent-run" <<'EOF'
#!/bin/sh
# Runs the agent under tini and restarts it if it ever exits: a crashed agent must not take the VM
# down with it. The agent is the last thing the OOM killer may pick; it resets its children to 0.
CDS=
[ -f /opt/bhatti/agent.jsa ] && CDS=-XX:SharedArchiveFile=/opt/bhatti/agent.jsa
echo -1000 >/proc/self/oom_score_adj 2>/dev/null
# Tuned for a small process that lives as long as the VM (bench: "agent RSS"): a heap that starts at
# 4 MiB and gives memory back after a burst (a file transfer), one compiler thread (C1 only), malloc
# arenas and the native heap trimmed, no perf-data file, smaller thread stacks, and the class archive
# mapped where it was dumped: relocating it (the JDK's default, for address randomisation) writes to
# its pages and makes some 5 MiB of them private memory instead of clean, reclaimable file pages.
export MALLOC_ARENA_MAX=2
while :; do
  /opt/bhatti/jre/bin/java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:CICompilerCount=1 -Xshare:auto $CDS \
    -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0 \
    -Xms4m -Xmx128m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30 -XX:TrimNativeHeapInterval=5000 \
    -XX:-UsePerfData -Xss512k \
    --enable-native-access=ALL-UNNAMED -jar /opt/bhatti/agent.jar --device /dev/virtio-ports/agent
  echo "bhatti-agent-run: agent exited with status $?; restarting in 1 s"
  sleep 1
done
EOF
chmod 0755 "$ROOT/opt/bhatti/agent-run"
# systemctl and journalctl: the agent is the sandbox's service manager (no systemd in the guest).
# In /usr/bin: apt runs package scripts with PATH=/usr/sbin:/usr/bin:/sbin:/bin (Dpkg::Path), and a
# package's postinst must find systemctl to start its service.
cat >"$ROOT/usr/bin/systemctl" <<'EOF'
#!/usr/bin/perl
# bhatti systemctl: forwards the command to the guest agent, which runs the services. Everyone may
# ask; the agent names the caller (SO_PEERCRED): uid 1000 may look (status, show, list-units, ...),
# changes need root (sudo systemctl ...), as on a Debian system.
use strict;
use IO::Socket::UNIX;
$SIG{PIPE} = 'IGNORE'; # an agent that refuses before reading still answers: read that answer
my $path = "/run/bhatti/systemctl.sock";
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path);
unless ($s) {
  my $why = $!{EACCES} ? "permission denied; run it as root (sudo systemctl ...)" : "$!";
  print STDERR "systemctl: cannot reach the bhatti agent at $path: $why\n";
  exit 1;
}
print $s join("\t", @ARGV), "\n";
my $code = 1;
while (my $l = <$s>) {
  if ($l =~ /^\0EXIT (\d+)/) { $code = $1; last }
  if ($l =~ s/^\0E //) { print STDERR $l } else { print $l }
}
exit $code;
EOF
cat >"$ROOT/usr/bin/journalctl" <<'EOF'
#!/usr/bin/perl
# bhatti journalctl: per-unit plain-text logs written by the guest agent to /var/log/bhatti (readable
# by everyone, written by root only). -u/--unit NAME (repeatable), -n/--lines [N], -f/--follow; with no
# unit it lists the logs there are. Other options are accepted and ignored.
use strict;
my $dir = "/var/log/bhatti";
my (@units, $n, $follow);
my $types = qr/\.(service|socket|target|timer|path|mount|automount|swap|slice|scope|device)$/;
sub fail { print STDERR "journalctl: @_\n"; exit 1 }
sub unit {
  my $u = shift;
  fail("'$u' is not a unit name") if $u eq '' || $u =~ m{/} || $u =~ /^\./;
  return $u =~ $types ? $u : "$u.service";
}
sub lines {
  my $v = shift;
  return undef if $v eq 'all';
  fail("-n takes a number of lines, not '$v'") unless $v =~ /^\+?(\d+)$/;
  return $1;
}
while (@ARGV) {
  my $a = shift @ARGV;
  if ($a eq '-u' || $a eq '--unit') { fail("$a needs a unit name") unless @ARGV; push @units, unit(shift @ARGV) }
  elsif ($a =~ /^--unit=(.*)$/ || $a =~ /^-u(.+)$/) { push @units, unit($1) }
  elsif ($a eq '-n' || $a eq '--lines') { $n = (@ARGV && $ARGV[0] =~ /^(\+?\d+|all)$/) ? lines(shift @ARGV) : 10 }
  elsif ($a =~ /^--lines=(.*)$/ || $a =~ /^-n(.+)$/) { $n = lines($1) }
  elsif ($a eq '-f' || $a eq '--follow') { $follow = 1 }
}
unless (@units) {
  opendir(my $d, $dir) or do { print "-- No entries --\n"; exit 0 };
  my @logs = sort grep { s/\.log$// } readdir($d);
  print STDERR "bhatti keeps one log per unit in $dir; journalctl -u NAME shows one:\n";
  print @logs ? join("\n", @logs) . "\n" : "-- No entries --\n";
  exit 0;
}
$| = 1;
my @files = map { "$dir/$_.log" } @units;
my $printed = 0;
for my $f (@files) {
  open(my $h, '<', $f) or next;
  my @l;
  if (defined $n) {
    # read from the end only: a log can be larger than memory
    my $from = -s $h;
    my $chunk = '';
    while ($from > 0) {
      my $len = $from < 65536 ? $from : 65536;
      $from -= $len;
      seek($h, $from, 0);
      read($h, my $buf, $len);
      $chunk = $buf . $chunk;
      last if ($chunk =~ tr/\n//) > $n;
    }
    @l = split /^/, $chunk;
    shift @l if $from > 0 && @l; # the first line may be cut
    splice(@l, 0, @l - $n) if @l > $n;
  } else {
    @l = <$h>;
  }
  $printed += @l;
  print @l;
}
print "-- No entries --\n" unless $printed || $follow;
exit 0 unless $follow;
my %pos = map { $_ => (-s $_ || 0) } @files;
while (1) {
  for my $f (@files) {
    my $size = -s $f || 0;
    $pos{$f} = 0 if $size < $pos{$f};
    next unless $size > $pos{$f};
    open(my $h, '<', $f) or next;
    seek($h, $pos{$f}, 0);
    print while <$h>;
    $pos{$f} = tell($h);
  }
  select(undef, undef, undef, 0.5);
}
EOF
chmod 0755 "$ROOT/usr/bin/systemctl" "$ROOT/usr/bin/journalctl"
# invoke-rc.d (used by package scripts) treats a system without /sbin/init as a chroot and refuses to
# start anything; the kernel boots /opt/bhatti/init directly, so this link only answers that check.
[[ -e $ROOT/sbin/init ]] || ln -s /opt/bhatti/init "$ROOT/sbin/init"

# Tier setup hooks (base first): what a tier needs beyond packages (kernel modules, units, config).
for t in "${CHAIN[@]}"; do
  [[ -f $SCRIPT_DIR/tier-$t.setup ]] || continue
  run "tier-$t.setup" env ROOT="$ROOT" MODDIR="$MODDIR" KREL="$KREL" ARCH="$ARCH" bash -euo pipefail "$SCRIPT_DIR/tier-$t.setup"
done

# ---------------------------------------------------------------- 6: Java runtime
# jdk.net: the agent names the callers of its systemctl socket with SO_PEERCRED.
step 6 "Linking Java runtime (jlink java.base, jdk.net)"
rm -rf "$ROOT/opt/bhatti/jre"
run "jlink from $JDK" "$JDK/bin/jlink" --add-modules java.base,jdk.net --strip-debug --no-header-files \
  --no-man-pages --compress=zip-6 --generate-cds-archive --output "$ROOT/opt/bhatti/jre"
mkdir -p "$ROOT/proc"
run "mounting /proc in the chroot" mount -t proc proc "$ROOT/proc"
run "running the jlinked java inside the image (chroot $ROOT /opt/bhatti/jre/bin/java -version)" \
  in_root /opt/bhatti/jre/bin/java -version
# jlink's default CDS archive is dumped without --enable-native-access, and the agent runs
# with it: the JVM then logs "[error][cds] Mismatched values for property
# jdk.module.enable.native.access" and drops the archived module graph. Re-dump it with the
# agent's module options (the agent.jsa trained below is layered on this one).
run "re-dumping the base CDS archive with the agent's module options" \
  in_root /opt/bhatti/jre/bin/java -Xshare:dump -XX:+UseSerialGC --enable-native-access=ALL-UNNAMED
# The agent runs with a small heap (compressed oops): the no-compressed-oops archive is dead weight.
rm -f "$ROOT/opt/bhatti/jre/lib/server/classes_nocoops.jsa"

# ---------------------------------------------------------------- 7: agent
step 7 "Installing agent and training AppCDS archive"
install -m 0644 "$AGENT_JAR" "$ROOT/opt/bhatti/agent.jar"
rm -f "$ROOT/opt/bhatti/agent.jsa"
if logged timeout 600 env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 chroot "$ROOT" \
     /opt/bhatti/jre/bin/java -XX:ArchiveClassesAtExit=/opt/bhatti/agent.jsa -XX:+UseSerialGC \
     -XX:TieredStopAtLevel=1 --enable-native-access=ALL-UNNAMED -jar /opt/bhatti/agent.jar --self-test \
   && [[ -s $ROOT/opt/bhatti/agent.jsa ]]; then
  chmod 0644 "$ROOT/opt/bhatti/agent.jsa"
else
  warn "AppCDS training (agent.jar --self-test) failed; the image will work without agent.jsa, but the agent starts slower (see $LOG)"
  rm -f "$ROOT/opt/bhatti/agent.jsa"
fi
run "unmounting /proc in the chroot" umount "$ROOT/proc"

# ---------------------------------------------------------------- 8: tools disk
# Images that are not tiers (pulled, imported) boot with this disk mounted read-only on /opt/bhatti: the
# agent and its jlinked runtime, the glibc it was built against, util-linux's setsid and setpriv (the agent
# starts every command through them), resize2fs (create --disk), a static tini and a static busybox for init. Every ELF file is
# patched to load its libraries from /opt/bhatti/lib through /opt/bhatti/lib's own dynamic loader, so the
# image's C library (glibc of another version, musl, or none at all) is never touched.
step 8 "Building the tools disk (agent, runtime and C library for any image)"
TOOLS=$WORK/tools
TL=/opt/bhatti
command -v patchelf >/dev/null 2>&1 || die "patchelf is needed for the tools disk; run: apt-get install patchelf"
mkdir -p "$TOOLS"/{bin,lib,busybox}
cp -a "$ROOT$TL/jre" "$TOOLS/jre"
cp -a "$ROOT$TL/agent.jar" "$TOOLS/"
[[ -f $ROOT$TL/agent.jsa ]] && cp -a "$ROOT$TL/agent.jsa" "$TOOLS/"
cp -a "$ROOT/usr/bin/setsid" "$ROOT/usr/bin/setpriv" "$ROOT/usr/sbin/resize2fs" "$TOOLS/bin/"
[[ -x $ROOT/usr/bin/tini-static ]] || die "the image has no /usr/bin/tini-static (Debian's tini package ships it)"
cp "$ROOT/usr/bin/tini-static" "$TOOLS/bin/tini"
cp "$BUSYBOX" "$TOOLS/busybox/busybox"
for applet in $("$BUSYBOX" --list); do
  [[ $applet == busybox ]] || ln -s busybox "$TOOLS/busybox/$applet"
done
INTERP=$(patchelf --print-interpreter "$ROOT/usr/bin/setsid")
cp -L "$ROOT$INTERP" "$TOOLS/lib/${INTERP##*/}"
is_elf() { [[ -f $1 && ! -L $1 && $(head -c 4 "$1" | od -An -c | tr -d ' ') == '177ELF' ]]; }
mapfile -t ELVES < <(find "$TOOLS/jre" "$TOOLS/bin" -type f | while read -r f; do is_elf "$f" && echo "$f"; done)
# The closure of the libraries they need, taken from the image's own multiarch directory.
case $ARCH in amd64) TRIPLET=x86_64-linux-gnu ;; arm64) TRIPLET=aarch64-linux-gnu ;; esac
LIBDIRS=("$ROOT/lib/$TRIPLET" "$ROOT/usr/lib/$TRIPLET")
pending=("${ELVES[@]}")
while ((${#pending[@]})); do
  f=${pending[0]}; pending=("${pending[@]:1}")
  for need in $(patchelf --print-needed "$f" 2>/dev/null); do
    [[ -e $TOOLS/lib/$need || -n $(find "$TOOLS/jre/lib" -name "$need" -print -quit) ]] && continue
    src=""
    for d in "${LIBDIRS[@]}"; do [[ -e $d/$need ]] && { src=$d/$need; break; }; done
    [[ -n $src ]] || die "the tools disk needs $need (for ${f#"$TOOLS"/}) and the image does not have it"
    cp -L "$src" "$TOOLS/lib/$need"
    pending+=("$TOOLS/lib/$need")
  done
done
RPATH=$TL/lib:$TL/jre/lib:$TL/jre/lib/server
# Only the runtime and the tools: glibc's own libraries find each other already loaded.
for f in "${ELVES[@]}"; do
  patchelf --print-rpath "$f" >/dev/null 2>&1 || continue # static (tini): nothing to load
  if patchelf --print-interpreter "$f" >/dev/null 2>&1; then
    run "patching ${f#"$TOOLS"/}" patchelf --set-interpreter "$TL/lib/${INTERP##*/}" --force-rpath --set-rpath "$RPATH" "$f"
  else
    run "patching ${f#"$TOOLS"/}" patchelf --force-rpath --set-rpath "$RPATH" "$f"
  fi
done
{ echo "#!/opt/bhatti/busybox/sh"; guest_init; } >"$TOOLS/init"
sed -e '1s|.*|#!/opt/bhatti/busybox/sh|' "$ROOT$TL/agent-run" >"$TOOLS/agent-run"
chmod 0755 "$TOOLS/init" "$TOOLS/agent-run"
# sudo for images without one, as tiers give it: the default user (group 1000) may run anything as root.
# A setuid-root setpriv that only group 1000 may execute does the switch; the script reads sudo's options.
cp -a "$TOOLS/bin/setpriv" "$TOOLS/bin/sudo-setpriv"
chown 0:1000 "$TOOLS/bin/sudo-setpriv"
chmod 4750 "$TOOLS/bin/sudo-setpriv"
cat >"$TOOLS/bin/sudo" <<'EOF'
#!/opt/bhatti/busybox/sh
# bhatti's sudo, in images that have none: sudo [-u USER] [-i|-s] [-E] [-H] [-n] [COMMAND [ARGS...]]
# The environment is kept (as with -E). Only the default user's group (gid 1000) may use it.
user=root
shell=
while [ $# -gt 0 ]; do
  case $1 in
    -u) [ $# -ge 2 ] || { echo "sudo: -u needs a user" >&2; exit 1; }; user=$2; shift 2 ;;
    -u*) user=${1#-u}; shift ;;
    -i|-s|--login|--shell) shell=1; shift ;;
    -E|-H|-n|-S|--preserve-env|--preserve-env=*|--non-interactive|--set-home) shift ;;
    --) shift; break ;;
    -*) echo "sudo: $1 is not supported by this sudo (bhatti's: -u USER, -i, -s, -E, -H, -n)" >&2; exit 1 ;;
    *) break ;;
  esac
done
if [ $# -eq 0 ]; then
  [ -n "$shell" ] || { echo "usage: sudo [-u USER] COMMAND [ARGS...]" >&2; exit 1; }
  set -- /bin/sh
fi
gid=$(/opt/bhatti/busybox/id -g "$user" 2>/dev/null) || { echo "sudo: unknown user: $user" >&2; exit 1; }
uid=$(/opt/bhatti/busybox/id -u "$user")
[ "$user" = root ] && export HOME=/root
exec /opt/bhatti/bin/sudo-setpriv --reuid="$uid" --regid="$gid" --init-groups -- "$@"
EOF
chmod 0755 "$TOOLS/bin/sudo"
# Proof that it needs nothing from an image: the agent's self-test in a root holding only the tools
# (and busybox as /bin/sh, which the self-test runs).
EMPTY=$WORK/empty
mkdir -p "$EMPTY"/{opt/bhatti,proc,dev,tmp,bin,etc}
ln -s /opt/bhatti/busybox/busybox "$EMPTY/bin/sh"
run "binding the tools into an empty root" mount --bind "$TOOLS" "$EMPTY$TL"
run "mounting /proc in the empty root" mount -t proc proc "$EMPTY/proc"
run "binding /dev into the empty root" mount --bind /dev "$EMPTY/dev"
run "running the agent's self-test in a root without any C library (the tools disk alone)" \
  timeout 300 env -i PATH=$TL/bin:/bin:$TL/busybox "$(command -v chroot)" "$EMPTY" $TL/jre/bin/java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
  --enable-native-access=ALL-UNNAMED -jar $TL/agent.jar --self-test
umount "$EMPTY/dev" "$EMPTY/proc" "$EMPTY$TL"
out_tmp TOOLS_TMP "$TOOLS_OUT"
TOOLS_MB=$(( $(du -sm "$TOOLS" | cut -f1) + 32 ))
run "mkfs.ext4 -d of the tools disk" mkfs.ext4 -q -F -L bhatti-tools -E root_owner=0:0 -d "$TOOLS" "$TOOLS_TMP" "${TOOLS_MB}M"
run "checking the tools disk" e2fsck -fn "$TOOLS_TMP"

# ---------------------------------------------------------------- 8: clean and pack
step 9 "Cleaning and packing ext4 image ($IMAGE_SIZE, sparse)"
rm -rf "$ROOT"/var/cache/apt/archives/*.deb "$ROOT"/var/cache/apt/archives/partial/* \
       "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/lib/apt/lists/* \
       "$ROOT"/var/cache/debconf/*-old "$ROOT"/var/lib/dpkg/*-old \
       "$ROOT"/var/log/*.log "$ROOT"/var/log/apt/* "$ROOT"/var/log/bootstrap.log \
       "$ROOT"/tmp/* "$ROOT"/var/tmp/* "$ROOT"/root/.bash_history "$ROOT"/root/.java
mkdir -p "$ROOT/var/lib/apt/lists/partial"
# Docs and man pages are not needed in a sandbox; keep licences. Later apt installs skip them too.
rm -rf "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/*
find "$ROOT/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete 2>/dev/null || true
find "$ROOT/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
cat >"$ROOT/etc/dpkg/dpkg.cfg.d/bhatti-nodoc" <<'EOF'
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
EOF
echo bhatti >"$ROOT/etc/hostname"
[[ -e $ROOT/etc/machine-id ]] && : >"$ROOT/etc/machine-id"
rm -f "$ROOT/var/lib/dbus/machine-id"
out_tmp IMAGE_TMP "$IMAGE_OUT"
run "mkfs.ext4 -d (image too small? the tree is $(du -sh "$ROOT" 2>/dev/null | cut -f1))" \
  mkfs.ext4 -q -F -L rootfs -E root_owner=0:0 -d "$ROOT" "$IMAGE_TMP" "$IMAGE_SIZE"
run "checking the new file system" e2fsck -fn "$IMAGE_TMP"

# ---------------------------------------------------------------- 9: publish
step 10 "Installing outputs into $OUT"
publish "$KERNEL_TMP" "$KERNEL_OUT"
publish "$INITRD_TMP" "$INITRD_OUT"
publish "$IMAGE_TMP" "$IMAGE_OUT"
publish "$TOOLS_TMP" "$TOOLS_OUT"
out_tmp HASH_TMP "$HASH_OUT"
echo "$HASH" >"$HASH_TMP"
publish "$HASH_TMP" "$HASH_OUT"
echo "$PROG: built $IMAGE_OUT ($(du -h "$IMAGE_OUT" | cut -f1) used), $KERNEL_OUT ($KREL), $INITRD_OUT" >&2
