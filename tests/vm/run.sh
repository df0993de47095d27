#!/bin/sh
# kTLS proof harness: boots Debian's cloud kernel (which has the tls
# module; this machine's kernel does not) under qemu TCG with an initramfs
# holding busybox, moatd, the mosquitto clients, openssl and their shared
# libraries, runs TLS 1.2 and TLS 1.3 publish/subscribe through moatd in
# the VM (tests/vm/guest-init.sh), and checks from /proc/net/tls_stat that
# the kernel encrypted and decrypted the records.
#
#   tests/vm/run.sh [BUILD_DIR]      (default: build; or MOATD=path/to/moatd)
#
# Needs the Debian packages qemu-system-x86 busybox-static openssl
# mosquitto-clients, and a cloud kernel: linux-image-cloud-amd64 installed,
# or (default) fetched with `apt-get download` into MOAT_VM_CACHE
# (~/.cache/moat-vm) and unpacked there, so the host's /boot is untouched.
# MOAT_VM_SUITE=sid boots Debian unstable's newest cloud kernel instead
# (TLS 1.3 rekey). MOAT_VM_KERNEL=/path/vmlinuz with
# MOAT_VM_MODULES=/path/lib/modules/VER picks a kernel explicitly.
# Bounded: the VM is killed after 300 s (about 45 s under TCG here).
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=${1:-$ROOT/build}
MOATD=${MOATD:-$B/moatd}
case $MOATD in /*) ;; *) MOATD=$(pwd)/$MOATD ;; esac
VM_TIMEOUT=${MOAT_VM_TIMEOUT:-300}
CACHE=${MOAT_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/moat-vm}

die() { echo "tests/vm: $*" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"

for t in qemu-system-x86_64 busybox openssl mosquitto_pub mosquitto_sub gzip; do
    command -v "$t" >/dev/null 2>&1 ||
        die "$t missing: apt-get install -y qemu-system-x86 busybox-static openssl mosquitto-clients"
done
[ -x "$MOATD" ] || die "moatd not found at $MOATD (build it, or set MOATD=)"
BUSYBOX=$(command -v busybox)
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    die "$BUSYBOX is dynamically linked: apt-get install -y busybox-static"
fi

# --- the kernel ---------------------------------------------------------
# MOAT_VM_SUITE=stable (default: the host's apt sources, Debian 12's 6.1)
# or sid (Debian unstable's newest cloud kernel, through a temporary
# sources list kept under the cache; it has TLS 1.3 rekey).
SUITE=${MOAT_VM_SUITE:-stable}
SC=$CACHE/$SUITE
find_in() {   # dir: kernels unpacked from .debs (old /boot or new /usr/lib layout)
    for k in $(ls -1 "$1"/boot/vmlinuz-* "$1"/usr/lib/modules/*/vmlinuz 2>/dev/null | sort -V -r); do
        case $k in
        */boot/vmlinuz-*) v=${k##*/vmlinuz-} ;;
        *) v=$(basename "$(dirname "$k")") ;;
        esac
        for m in "$1/lib/modules/$v" "$1/usr/lib/modules/$v"; do
            if ls "$m"/kernel/net/tls/tls.ko* >/dev/null 2>&1; then
                KERNEL=$k; MODDIR=$m; return 0
            fi
        done
    done
    return 1
}
find_kernel() {
    if [ -n "${MOAT_VM_KERNEL:-}" ]; then
        KERNEL=$MOAT_VM_KERNEL
        MODDIR=${MOAT_VM_MODULES:?MOAT_VM_MODULES must name the lib/modules/VER directory}
        return 0
    fi
    if [ "$SUITE" = stable ]; then
        find_in "" && case $KERNEL in *-cloud-amd64*) return 0 ;; esac
    fi
    find_in "$SC/root"
}
fetch_kernel() {
    mkdir -p "$SC"
    APTO=""
    if [ "$SUITE" != stable ]; then
        mkdir -p "$SC/lists/partial" "$SC/apt-cache/archives/partial"
        # The same Debian mirror the host's apt uses, another suite.
        mirror=$(sed -n 's/^URIs: *\([^ ]*debian[^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1)
        [ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*debian[^ ]*\) .*/\2/p' \
                                   /etc/apt/sources.list 2>/dev/null | head -1)
        [ -n "$mirror" ] || die "no Debian mirror in the host's apt sources"
        echo "deb $mirror $SUITE main" > "$SC/sources.list"
        APTO="-o Dir::Etc::SourceList=$SC/sources.list -o Dir::Etc::SourceParts=/dev/null
              -o Dir::State::Lists=$SC/lists -o Dir::Cache=$SC/apt-cache"
        # shellcheck disable=SC2086
        apt-get $APTO update >/dev/null 2>&1 || die "apt-get update for $SUITE failed"
    fi
    # shellcheck disable=SC2086
    img=$(apt-cache $APTO depends linux-image-cloud-amd64 2>/dev/null |
          awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    [ -n "$img" ] || die "cannot resolve linux-image-cloud-amd64 in $SUITE"
    ver=${img#linux-image-}
    # Newer kernels split the image into -binary, -base and -modules.
    # shellcheck disable=SC2086
    pkgs="$img $(apt-cache $APTO depends "$img" 2>/dev/null |
          awk -v v="$ver" '/Depends: linux-(binary|base|modules)-/ &&
                substr($2, length($2) - length(v) + 1) == v { print $2 }')"
    echo "tests/vm: fetching $pkgs ($SUITE) into $SC"
    for p in $pkgs; do
        # shellcheck disable=SC2086
        (cd "$SC" && apt-get $APTO download "$p" >/dev/null 2>&1) || die "apt-get download $p failed"
        dpkg-deb -x "$SC/$p"_*.deb "$SC/root"
    done
}
if ! find_kernel; then
    fetch_kernel
    find_kernel || die "no kernel with net/tls/tls.ko in the $SUITE packages"
fi
KVER=$(basename "$MODDIR")
[ -r "$KERNEL" ] || die "cannot read $KERNEL"

W=$(mktemp -d /tmp/moat-vm.XXXXXX)
cleanup() { rm -rf "$W"; }
trap cleanup EXIT INT TERM
R=$W/root
mkdir -p "$R/bin" "$R/etc/moat" "$R/lib/modules/$KVER/kernel" "$R/proc" "$R/sys" "$R/dev" "$R/tmp"

# --- binaries and the shared libraries they need ------------------------
cp "$BUSYBOX" "$R/bin/busybox"
copy_bin() {
    cp "$1" "$R/bin/"
    ldd "$1" | awk '/=> \// { print $3 } /^\t\// { print $1 }' | while read -r lib; do
        [ -e "$R$lib" ] || { mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"; }
    done
}
for b in "$MOATD" "$(command -v mosquitto_pub)" "$(command -v mosquitto_sub)" "$(command -v openssl)"; do
    copy_bin "$b"
done
# OpenSSL loads no provider modules for the default provider; keep its
# config directory so OPENSSL_CONF-less runs see a sane default.
mkdir -p "$R/usr/lib/ssl" && cp /etc/ssl/openssl.cnf "$R/usr/lib/ssl/" 2>/dev/null || true

# --- the tls module and the kernel crypto it uses ------------------------
vm_tls_modules

# --- certificates, configs -----------------------------------------------
E=$R/etc/moat
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=moat-vm-ca -keyout "$W/ca.key" -out "$E/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
    -keyout "$E/server.key" -out "$W/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > "$W/san.ext"
openssl x509 -req -in "$W/server.csr" -CA "$E/ca.crt" -CAkey "$W/ca.key" -CAcreateserial \
    -days 2 -extfile "$W/san.ext" -out "$E/server.crt" 2>/dev/null
cat > "$E/moat.conf" <<EOF
listener 8883 127.0.0.1
certfile /etc/moat/server.crt
keyfile /etc/moat/server.key
allow_anonymous true
EOF
# Three brokers side by side: each needs its own control socket.
echo "control_socket /run/moat/moatd.sock" >> "$E/moat.conf"
sed 's/^listener 8883/listener 8884/; s/moatd.sock/moatd-tx.sock/' "$E/moat.conf" > "$E/moat-tx.conf"
sed 's/^listener 8883/listener 8885/; s/moatd.sock/moatd-off.sock/' "$E/moat.conf" > "$E/moat-off.conf"
# Client-side pins: libmosquitto's --tls-version is only a minimum, so the
# exact version and suite come from an OpenSSL config per case.
client_conf() {   # name min max tls12-cipherstring tls13-suites
    cat > "$E/$1.cnf" <<EOF
openssl_conf = moat_client
[moat_client]
ssl_conf = moat_ssl
[moat_ssl]
system_default = moat_sys
[moat_sys]
MinProtocol = $2
MaxProtocol = $3
CipherString = $4
Ciphersuites = $5
EOF
}
client_conf tls12-aes128gcm TLSv1.2 TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256 TLS_AES_128_GCM_SHA256
client_conf tls12-aes256gcm TLSv1.2 TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384 TLS_AES_128_GCM_SHA256
client_conf tls12-chacha20 TLSv1.2 TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305 TLS_AES_128_GCM_SHA256
client_conf tls13-aes128gcm TLSv1.3 TLSv1.3 DEFAULT TLS_AES_128_GCM_SHA256
client_conf tls13-aes256gcm TLSv1.3 TLSv1.3 DEFAULT TLS_AES_256_GCM_SHA384
client_conf tls13-chacha20 TLSv1.3 TLSv1.3 DEFAULT TLS_CHACHA20_POLY1305_SHA256

cp "$HERE/guest-init.sh" "$R/init"
chmod +x "$R/init"

# --- initramfs, boot --------------------------------------------------------
vm_boot "tests/vm" "initramfs $(du -k "$W/initrd.gz" | cut -f1) KiB; moatd $MOATD"

# --- verdict ----------------------------------------------------------------
pass=0; fail=0
ok()  { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
stat() { awk -v s="$1" -v k="$2" '$2 == s && $3 == k { print $4 }' "$W/vm.log"; }

grep -q '^VM: DONE' "$W/vm.log" && ok "guest ran to the end" || bad "guest did not finish (see serial log; rc $qrc)"
grep -q '^VM: tls module loaded' "$W/vm.log" && ok "tls module loaded" || bad "tls module not loaded"
np=$(grep -c '^VM: PASS' "$W/vm.log" || true)
nf=$(grep -c '^VM: FAIL' "$W/vm.log" || true)
[ "$np" -eq 15 ] && [ "$nf" -eq 0 ] && ok "15 publish/subscribe cases, payloads intact" ||
    bad "publish/subscribe: $np passed, $nf failed (want 15, 0)"
for k in TlsTxSw TlsRxSw; do
    a=$(stat stat0 "$k"); z=$(stat stat1 "$k")
    if [ -n "$a" ] && [ -n "$z" ] && [ $((z - a)) -ge 24 ]; then
        ok "$k grew by $((z - a)) (kernel did the crypto)"
    else
        bad "$k did not grow enough: ${a:-?} -> ${z:-?} (want +24: 12 cases x pub+sub)"
    fi
done
a=$(stat stat0 TlsDecryptError); z=$(stat stat1 TlsDecryptError)
[ -n "$z" ] && [ "${z:-1}" = "${a:-0}" ] && ok "TlsDecryptError unchanged ($z)" ||
    bad "TlsDecryptError ${a:-?} -> ${z:-?}"
for v in TLSv1.2 TLSv1.3; do
    n=$(grep -c "VM: moatd: .*TLS $v .*kTLS tx+rx" "$W/vm.log" || true)
    [ "$n" -ge 12 ] && ok "$v: $n connections on kTLS tx+rx (logged once each)" ||
        bad "$v: only $n connections logged kTLS tx+rx (want 12)"
done
grep -q 'VM: moatd: .*kernel offers kTLS' "$W/vm.log" && ok "startup logged that the kernel offers kTLS" ||
    bad "no startup kTLS line"
n=$(grep -c 'VM: moatd-tx: .*TLSv1.3 .*kTLS tx, userspace rx' "$W/vm.log" || true)
[ "$n" -ge 2 ] && ok "mixed mode (kernel TX, userspace RX): $n TLS 1.3 connections" ||
    bad "mixed mode: $n connections logged (want 2)"
n=$(grep -c 'VM: moatd-off: .*userspace (kTLS turned off)' "$W/vm.log" || true)
[ "$n" -ge 4 ] && ok "userspace fallback on a kTLS kernel: $n connections" ||
    bad "userspace fallback: $n connections logged (want 4)"
for r in tls12-sessionid tls12-ticket tls13-ticket; do
    grep -q "^VM: resume $r: Reused" "$W/vm.log" && ok "kTLS session resumption: $r" ||
        bad "kTLS session resumption: $r not reused"
done
# KeyUpdate: the documented behaviour depends on the kernel's TLS 1.3
# rekey support (Linux 6.14).
kmaj=${KVER%%.*}; kmin=${KVER#*.}; kmin=${kmin%%[!0-9]*}
if [ "$kmaj" -gt 6 ] || { [ "$kmaj" -eq 6 ] && [ "$kmin" -ge 14 ]; }; then
    grep -q 'moatd: .*TLS 1.3 KeyUpdate applied (RX rekeyed)' "$W/vm.log" &&
        grep -q 'keyupdate not-requested: CONNACK received' "$W/vm.log" &&
        ok "KeyUpdate (not requested): RX rekeyed in the kernel, MQTT continues" ||
        bad "KeyUpdate (not requested) on a rekey kernel"
    grep -q 'moatd: .*TLS 1.3 KeyUpdate applied (RX and TX rekeyed)' "$W/vm.log" &&
        grep -q 'keyupdate requested: CONNACK received' "$W/vm.log" &&
        ok "KeyUpdate (requested): RX and TX rekeyed, our KeyUpdate sent, MQTT continues" ||
        bad "KeyUpdate (requested) on a rekey kernel"
else
    n=$(grep -c 'moatd: .*KeyUpdate: kernel cannot rekey RX' "$W/vm.log" || true)
    [ "$n" -eq 2 ] && ! grep -q 'keyupdate .*: CONNACK received' "$W/vm.log" &&
        ok "KeyUpdate on a kernel without rekey: both connections closed and logged" ||
        bad "KeyUpdate on a kernel without rekey: $n closes logged (want 2, no CONNACK)"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
