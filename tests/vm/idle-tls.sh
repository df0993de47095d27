#!/bin/sh
# Idle-connection memory in a kernel with kTLS: boots the same Debian 12
# cloud kernel as tests/vm/run.sh (6.1, which has net/tls) under qemu TCG
# with an initramfs holding busybox, moatd, moat-bench, their shared
# libraries and the tls module, and lets tests/vm/idle-tls-guest-init.sh
# measure moatd's VmRSS growth per idle connection for kTLS, userspace TLS
# (MOAT_TLS_KTLS=off) and plain TCP, each in a fresh moatd. Prints the
# guest's "idle_rss mode=... conns=N bytes_per_conn=X" lines, one per mode
# (N into a fresh moatd, moat-bench's 100 handshakes in flight), and for
# ktls-serial and userspace-serial the same with one handshake at a time.
#
#   tests/vm/idle-tls.sh [BUILD_DIR]     (default: build)
#   MOAT_IDLE_CONNS=N                    (default 500)
#   MOAT_IDLE_MODES="ktls plain ..."     (default: all five)
#
# Exits 0 when every selected mode was measured (whatever the numbers), 2 when
# a tool or the kernel is missing, 1 when the guest could not measure.
# Needs qemu-system-x86 busybox-static openssl; the kernel comes from
# MOAT_VM_CACHE (~/.cache/moat-vm/stable, shared with run.sh and xdp.sh):
# run tests/vm/run.sh once to fetch it. Bounded: qemu is killed after
# MOAT_VM_TIMEOUT (300) s.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=${1:-$ROOT/build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
VM_TIMEOUT=${MOAT_VM_TIMEOUT:-300}
CONNS=${MOAT_IDLE_CONNS:-500}
MODES=${MOAT_IDLE_MODES:-ktls userspace plain ktls-serial userspace-serial}
CACHE=${MOAT_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/moat-vm}
SC=$CACHE/stable

die() { echo "tests/vm/idle-tls: $*" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"

for t in qemu-system-x86_64 busybox openssl gzip; do
    command -v "$t" >/dev/null 2>&1 ||
        die "$t missing: apt-get install -y qemu-system-x86 busybox-static openssl"
done
for f in moatd moat-bench; do [ -x "$B/$f" ] || die "$B/$f not built (make)"; done
case $CONNS in ''|*[!0-9]*|0) die "MOAT_IDLE_CONNS must be a positive number, not '$CONNS'" ;; esac
for m in $MODES; do
    case $m in ktls|userspace|plain|ktls-serial|userspace-serial) ;;
    *) die "unknown mode '$m' in MOAT_IDLE_MODES (ktls userspace plain ktls-serial userspace-serial)" ;;
    esac
done
BUSYBOX=$(command -v busybox)
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    die "$BUSYBOX is dynamically linked: apt-get install -y busybox-static"
fi

# --- the kernel: newest unpacked cloud kernel with net/tls/tls.ko ----------
KERNEL=""; MODDIR=""
for k in $(ls -1 "$SC"/root/boot/vmlinuz-* 2>/dev/null | sort -V -r); do
    v=${k##*/vmlinuz-}
    for m in "$SC/root/lib/modules/$v" "$SC/root/usr/lib/modules/$v"; do
        if [ -z "$KERNEL" ] && ls "$m"/kernel/net/tls/tls.ko* >/dev/null 2>&1; then
            KERNEL=$k; MODDIR=$m
        fi
    done
done
[ -n "$KERNEL" ] || die "no kernel with net/tls in $SC/root: run tests/vm/run.sh once to fetch it"
KVER=$(basename "$MODDIR")

W=$(mktemp -d /tmp/moat-vm-idle.XXXXXX)
cleanup() { rm -rf "$W"; }
trap cleanup EXIT INT TERM
R=$W/root
mkdir -p "$R/bin" "$R/etc/moat" "$R/lib/modules/$KVER/kernel" "$R/proc" "$R/sys" "$R/dev" "$R/tmp"

# --- binaries and the shared libraries they need --------------------------
cp "$BUSYBOX" "$R/bin/busybox"
copy_bin() {
    cp "$1" "$R/bin/"
    ldd "$1" | awk '/=> \// { print $3 } /^\t\// { print $1 }' | while read -r lib; do
        [ -e "$R$lib" ] || { mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"; }
    done
}
copy_bin "$B/moatd"
copy_bin "$B/moat-bench"
mkdir -p "$R/usr/lib/ssl" && cp /etc/ssl/openssl.cnf "$R/usr/lib/ssl/" 2>/dev/null || true

# --- the tls module and the kernel crypto it uses --------------------------
vm_tls_modules

# --- a throwaway certificate and the three configs ---------------------------
E=$R/etc/moat
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=127.0.0.1 -keyout "$E/server.key" -out "$E/server.crt" 2>/dev/null ||
    die "openssl could not make a certificate"
common='allow_anonymous true
control_socket /tmp/ctl
sys_interval 0
log_type error'
printf 'listener 8883 127.0.0.1\ncertfile /etc/moat/server.crt\nkeyfile /etc/moat/server.key\n%s\n' \
    "$common" > "$E/tls.conf"
printf 'listener 1883 127.0.0.1\n%s\n' "$common" > "$E/plain.conf"
echo "$CONNS" > "$E/conns"
echo "$MODES" > "$E/modes"

cp "$HERE/idle-tls-guest-init.sh" "$R/init"
chmod +x "$R/init"

# --- initramfs, boot -----------------------------------------------------------
vm_boot "tests/vm/idle-tls" "$CONNS idle connections per mode ($MODES); build $B"

# --- result: one line per mode; failure only when a mode was not measured ---
missing=0
for m in $MODES; do
    l=$(sed -n "s/^VM: \(idle_rss mode=$m conns=[0-9]* bytes_per_conn=-\{0,1\}[0-9]*\)\$/\1/p" "$W/vm.log")
    if [ -n "$l" ]; then echo "$l"; else echo "tests/vm/idle-tls: mode $m not measured" >&2; missing=1; fi
done
grep -q '^VM: DONE' "$W/vm.log" || { echo "tests/vm/idle-tls: guest did not finish (qemu rc $qrc)" >&2; missing=1; }
[ "$missing" -eq 0 ] || exit 1
