#!/usr/bin/env bash
# Installs onekube: the Debian packages it links against, a release build with the Swift runtime
# linked in, and the binary in $PREFIX/bin (default /usr/local). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
PREFIX="${PREFIX:-/usr/local}"

say() { printf 'install.sh: %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
    say "run me as root (sudo ./install.sh): I install Debian packages and write to $PREFIX/bin"
    exit 1
fi

packages=(libcurl4-openssl-dev libarchive-dev libsqlite3-dev libssl-dev zlib1g-dev zstd busybox-static ca-certificates)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# sudo resets PATH: look where Swift toolchains usually live too.
SWIFT="$(command -v swift || true)"
for candidate in /opt/swift/usr/bin/swift /usr/share/swift/usr/bin/swift /usr/local/swift/usr/bin/swift; do
    [ -n "$SWIFT" ] && break
    [ -x "$candidate" ] && SWIFT="$candidate"
done
if [ -z "$SWIFT" ]; then
    say "Swift 6 was not found. Install the Debian 12 toolchain from https://www.swift.org/install/linux/"
    say "(unpack it, e.g. to /opt/swift, and put /opt/swift/usr/bin on PATH), then run ./install.sh again."
    exit 1
fi

say "building with $("$SWIFT" --version 2>/dev/null | head -n 1)"
"$SWIFT" build -c release --static-swift-stdlib --product onekube
install -d "$PREFIX/bin"
install -m 0755 "$("$SWIFT" build -c release --static-swift-stdlib --show-bin-path)/onekube" "$PREFIX/bin/onekube"
say "installed $PREFIX/bin/onekube"

# Never replace or shadow a real docker or kubectl: offer `onekube docker` and `onekube kubectl`,
# and a symlink only where no such command exists at all.
if command -v docker >/dev/null 2>&1; then
    say "keeping the existing docker at $(command -v docker); use 'onekube docker …' or: eval \$(onekube docker-env)"
elif [ ! -e "$PREFIX/bin/docker" ]; then
    ln -s onekube "$PREFIX/bin/docker"
    say "linked $PREFIX/bin/docker -> onekube (no other docker was installed)"
fi
if command -v kubectl >/dev/null 2>&1; then
    say "keeping the existing kubectl at $(command -v kubectl); onekube's own is 'onekube kubectl …'"
elif [ ! -e "$PREFIX/bin/kubectl" ]; then
    ln -s onekube "$PREFIX/bin/kubectl"
    say "linked $PREFIX/bin/kubectl -> onekube (no other kubectl was installed)"
fi
say "done. Start it with: sudo onekube start"
