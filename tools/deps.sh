#!/bin/sh
# Installs the Debian 12 packages moat needs to build, run and test.
# Root: apt-get installs what is missing. Otherwise: prints the exact command.
set -eu
PKGS="build-essential clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev \
libssl-dev openssl libnl-3-dev libnl-route-3-dev libcmocka-dev liblmdb-dev lmdb-utils libargon2-dev \
mosquitto mosquitto-clients python3 python3-paho-mqtt iproute2 valgrind libclang-rt-14-dev \
socat netcat-openbsd ethtool gnuplot-nox nftables sslscan qemu-system-x86 busybox-static cpio xz-utils zstd"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "moat: missing Debian packages. Run as root:" >&2
    echo "  apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
echo "moat: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
