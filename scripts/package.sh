#!/usr/bin/env bash
# Makes the release bundle: one archive with the jar, the launcher, the installer, the uninstaller and the
# systemd unit. Usage: scripts/package.sh [--out DIR] [--version V] [--no-build]
#   --out DIR     where the archive goes (default target/)
#   --version V   the bundle's version (default: the project's, without -SNAPSHOT)
#   --no-build    package cli/target/bhatti.jar as it is (default: build it first)
# Prints the archive's path; a .sha256 file beside it lets `bhatti update --bundle` check it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=$ROOT/target VERSION="" BUILD=1
while (($#)); do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    --version) VERSION=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [[ -z $VERSION ]]; then
  VERSION=$(sed -n 's:^  <version>\(.*\)</version>.*:\1:p' pom.xml | head -1)
  VERSION=${VERSION%-SNAPSHOT}
fi
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+([.-][A-Za-z0-9.]+)?$ ]] || { echo "package.sh: version '$VERSION' is not MAJOR.MINOR.PATCH" >&2; exit 2; }
if ((BUILD)); then
  source scripts/java-home.sh
  echo "==> building the jar" >&2
  ./mvnw -q -B package -DskipTests -DskipITs >&2
fi
JAR=cli/target/bhatti.jar
[[ -f $JAR ]] || { echo "package.sh: $JAR is missing; run without --no-build" >&2; exit 1; }

NAME=bhatti-$VERSION-linux-amd64
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
B=$STAGE/$NAME
mkdir -p "$B/bin" "$B/lib" "$B/share"
install -m 0755 bin/bhatti "$B/bin/bhatti"
install -m 0644 "$JAR" "$B/lib/bhatti.jar"
install -m 0755 packaging/install.sh "$B/install.sh"
install -m 0755 packaging/uninstall.sh "$B/uninstall.sh"
install -m 0644 packaging/service.sh "$B/share/service.sh"
install -m 0644 packaging/bhatti.service "$B/share/bhatti.service"
install -m 0755 scripts/install-deps.sh "$B/share/install-deps.sh"
install -m 0644 README.md "$B/README.md"
printf '%s\n' "$VERSION" >"$B/VERSION"
(cd "$B" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum >SHA256SUMS)
mkdir -p "$OUT"
ARCHIVE=$(cd "$OUT" && pwd)/$NAME.tar.gz
tar -C "$STAGE" --owner=0 --group=0 -czf "$ARCHIVE.tmp" "$NAME"
mv -f "$ARCHIVE.tmp" "$ARCHIVE"
(cd "$(dirname "$ARCHIVE")" && sha256sum "$(basename "$ARCHIVE")" >"$(basename "$ARCHIVE").sha256")
echo "$ARCHIVE"
