#!/usr/bin/env bash
# Installs the host packages bhatti needs (Debian/Ubuntu). Idempotent: installed packages are skipped.
set -euo pipefail
# iproute2, nftables and conntrack: sandbox networking; dnsmasq: the upstream resolver of the network
# tests; chromium: the browser the web shell test drives; pebble (an ACME CA) and openssl: the TLS tests;
# docker-registry and skopeo: a real registry to pull images from, and the tool that pushes test images to it;
# patchelf: the tools disk (build-tier.sh); musl: the C library of a test image without glibc; gcc and
# libc6-dev: the benchmark's static spawn-floor program (bench/src/main/c).
# systemd: systemd-analyze, which checks the installer's unit in the tests; python3-prometheus-client: the
# Prometheus project's parser of the text format, which reads /metrics in the tests.
# --runtime: only what a server running bhatti needs (the installer's choice), not the tests' tools.
RUNTIME=(qemu-system-x86 qemu-utils e2fsprogs debootstrap busybox-static cpio zstd util-linux procps ca-certificates curl
  iproute2 nftables conntrack patchelf)
PACKAGES=("${RUNTIME[@]}" dnsmasq-base chromium pebble openssl docker-registry skopeo musl gcc libc6-dev systemd
  python3-prometheus-client)
ONLY_RUNTIME=0
[[ ${1:-} == --runtime ]] && { PACKAGES=("${RUNTIME[@]}"); ONLY_RUNTIME=1; }
# nodejs and npm: the TypeScript SDK's build and tests (TypeScriptSdkIT). Only where they are missing: a node
# from elsewhere (NodeSource's bundles its npm) conflicts with Debian's npm package.
if ((!ONLY_RUNTIME)); then
  command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
  command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "==> installing ${missing[*]}"
  # A third-party source that cannot be reached must not stop the install from the distribution.
  $SUDO apt-get update -o Acquire::Retries=2 >/dev/null 2>&1 || echo "warning: apt-get update reported errors; trying anyway" >&2
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "==> host packages already installed"
fi

((ONLY_RUNTIME)) && exit 0 # the installer finds its JDK itself
JDK=/usr/lib/jvm/temurin-25-jdk-amd64
if [[ -n "${JAVA_HOME:-}" ]] && "$JAVA_HOME/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
  JDK="$JAVA_HOME"
fi
if ! "$JDK/bin/java" -version 2>&1 | grep -q 'version "2[5-9]'; then
  echo "error: bhatti needs a Java 25 JDK (looked at $JDK); install Temurin 25 or set JAVA_HOME" >&2
  exit 1
fi
echo "==> Java: $("$JDK/bin/java" -version 2>&1 | head -1)"
