#!/bin/sh
# XDP datapath tests on the oldest supported kernel: boots the same Debian 12
# cloud kernel (6.1) as tests/vm/run.sh under qemu TCG, with an initramfs
# holding bash, iproute2 (ip, ss), ethtool, util-linux nsenter, netcat-openbsd,
# socat, bpftool, mosquitto_passwd, a stdlib subset of /usr/bin/python3,
# moatd, moatctl, the veth module and the shared libraries (ldd), and runs
# tests/integration/xdp/{datapath,moatd}.sh in native and generic mode and
# detect.sh unchanged (tests/vm/xdp-guest-init.sh). The guest has no
# compiler: synflood.c is built here and a `cc` stand-in in the guest hands
# out that binary (it refuses anything else). foreign.sh is not run: it
# needs clang -target bpf in the guest.
#
#   tests/vm/xdp.sh [BUILD_DIR]       (default: build)
#
# Needs the Debian packages qemu-system-x86 busybox-static bash iproute2
# ethtool util-linux netcat-openbsd socat bpftool mosquitto python3 and a C
# compiler; the kernel comes from MOAT_VM_CACHE (~/.cache/moat-vm/stable,
# shared with run.sh), fetched there with `apt-get download` if missing.
# Bounded: the VM is killed after MOAT_VM_TIMEOUT (300) s.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=${1:-$ROOT/build}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
VM_TIMEOUT=${MOAT_VM_TIMEOUT:-300}
CACHE=${MOAT_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/moat-vm}
SC=$CACHE/stable
X=$ROOT/tests/integration/xdp
PY=/usr/bin/python3

die() { echo "tests/vm/xdp: $*" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"

for t in qemu-system-x86_64 busybox bash ip ss ethtool nsenter nc socat bpftool \
         mosquitto_passwd cc gzip; do
    command -v "$t" >/dev/null 2>&1 || die "$t missing: apt-get install -y qemu-system-x86 \
busybox-static iproute2 ethtool util-linux netcat-openbsd socat bpftool mosquitto gcc"
done
[ -x "$PY" ] || die "$PY missing: apt-get install -y python3"
for f in moatd moatctl; do [ -x "$B/$f" ] || die "$B/$f not built (make)"; done
BUSYBOX=$(command -v busybox)
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    die "$BUSYBOX is dynamically linked: apt-get install -y busybox-static"
fi

# --- the kernel: Debian 12's cloud kernel, as run.sh uses it --------------
find_kernel() {   # sets KERNEL, MODDIR: newest unpacked kernel with veth.ko
    for k in $(find "$SC/root/boot" -name 'vmlinuz-*' 2>/dev/null | sort -V -r); do
        v=${k##*/vmlinuz-}
        for m in "$SC/root/lib/modules/$v" "$SC/root/usr/lib/modules/$v"; do
            if ls "$m"/kernel/drivers/net/veth.ko* >/dev/null 2>&1; then
                KERNEL=$k; MODDIR=$m; return 0
            fi
        done
    done
    return 1
}
if ! find_kernel; then
    img=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
          awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    [ -n "$img" ] || die "cannot resolve linux-image-cloud-amd64"
    mkdir -p "$SC"
    echo "tests/vm/xdp: fetching $img into $SC"
    (cd "$SC" && apt-get download "$img" >/dev/null 2>&1) || die "apt-get download $img failed"
    dpkg-deb -x "$SC/$img"_*.deb "$SC/root"
    find_kernel || die "no kernel with drivers/net/veth.ko in $SC/root"
fi
KVER=$(basename "$MODDIR")

W=$(mktemp -d /tmp/moat-vm-xdp.XXXXXX)
cleanup() { rm -rf "$W"; }
trap cleanup EXIT INT TERM
R=$W/root
mkdir -p "$R/bin" "$R/usr/bin" "$R/usr/sbin" "$R/usr/local/bin" "$R/opt/moat-vm" \
    "$R/proc" "$R/sys" "$R/dev" "$R/tmp" "$R/run" "$R/etc" \
    "$R/moat/build" "$R/moat/tests/integration/xdp" "$R/lib/modules/$KVER/kernel/drivers/net"

# --- binaries and their shared libraries ------------------------------------
copy_libs() {
    ldd "$1" | awk '/=> \// { print $3 } /^\t\// { print $1 }' | while read -r lib; do
        [ -e "$R$lib" ] || { mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib"; }
    done
}
copy_bin() {   # path-on-host dir-in-guest [name]
    cp -L "$1" "$R$2/${3:-$(basename "$1")}"
    copy_libs "$1"
}
cp "$BUSYBOX" "$R/bin/busybox"
# Real tools in /usr: busybox's applets (in /bin, later on PATH) lack
# options the tests use (nc -s, nsenter --net=, ip netns, ss).
# coreutils' timeout too: busybox prefers its own applets when it execs, so
# its timeout would run busybox nc instead of netcat-openbsd.
for t in bash timeout nsenter socat ss mosquitto_passwd; do copy_bin "$(command -v $t)" /usr/bin; done
copy_bin "$(readlink -f "$(command -v nc)")" /usr/bin nc
for t in ip ethtool bpftool; do copy_bin "$(command -v $t)" /usr/sbin; done
copy_bin "$B/moatd" /moat/build
copy_bin "$B/moatctl" /moat/build
cp "$X"/lib.sh "$X"/datapath.sh "$X"/moatd.sh "$X"/detect.sh "$R/moat/tests/integration/xdp/"

# synflood, built here; the guest's cc/clang stand-in copies it to -o.
cc -std=c11 -D_GNU_SOURCE -O2 -o "$R/opt/moat-vm/synflood" "$X"/synflood.c
copy_libs "$R/opt/moat-vm/synflood"
cat > "$R/usr/local/bin/cc" <<'EOF'
#!/bin/busybox sh
# Guest stand-in for the compiler: the XDP tests build only synflood.c, which
# tests/vm/xdp.sh compiled on the host; anything else is refused.
out=""; src=""
while [ $# -gt 0 ]; do
    case $1 in
    -o) out=$2; shift ;;
    *synflood.c) src=$1 ;;
    esac
    shift
done
[ -n "$out" ] && [ -n "$src" ] || { echo "cc (vm stand-in): only synflood.c -o OUT is available" >&2; exit 1; }
exec cp /opt/moat-vm/synflood "$out"
EOF
chmod +x "$R/usr/local/bin/cc"
ln -s cc "$R/usr/local/bin/clang"

# --- python3: the interpreter and only the stdlib modules it loads at startup
# and for socket/struct/time/sys (sources and Debian's compiled .pyc). ------
copy_bin "$PY" /usr/bin python3
"$PY" -c '
import socket, struct, time, sys, traceback, linecache, tokenize, select, errno, encodings.idna
for m in list(sys.modules.values()):
    f = getattr(m, "__file__", None)
    if f and f.startswith(sys.prefix + "/lib/python3."):
        print(f)
' | sort -u > "$W/pymods"
PYLIB=$("$PY" -c 'import sys; print("%s/lib/python%d.%d" % (sys.prefix, *sys.version_info[:2]))')
while read -r f; do
    d=$(dirname "$f"); n=$(basename "$f" .py)
    mkdir -p "$R$d/__pycache__"
    cp "$f" "$R$f"
    case $f in *.py) cp "$d"/__pycache__/"$n".cpython-*.pyc "$R$d/__pycache__/" 2>/dev/null || true ;;
    *) copy_libs "$f" ;;   # a C extension from lib-dynload (unicodedata for idna)
    esac
done < "$W/pymods"
cp -r "$PYLIB/encodings" "$R$PYLIB/"
mkdir -p "$R$PYLIB/lib-dynload"   # landmark for exec_prefix

# --- veth ----------------------------------------------------------------------
for k in "$MODDIR"/kernel/drivers/net/veth.ko*; do
    case $k in
    *.xz) xz -dc "$k" ;;
    *.zst) zstd -qdc "$k" ;;
    *.gz) gzip -dc "$k" ;;
    *) cat "$k" ;;
    esac > "$R/lib/modules/$KVER/kernel/drivers/net/veth.ko"
done

cp "$HERE/xdp-guest-init.sh" "$R/init"
chmod +x "$R/init"

# --- initramfs, boot -------------------------------------------------------------
vm_boot "tests/vm/xdp" "initramfs $(du -k "$W/initrd.gz" | cut -f1) KiB; build $B"

# --- verdict: one line per test script, as the guest reported it --------------------
pass=0; fail=0
ok()  { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
if grep -q '^VM: veth loaded' "$W/vm.log"; then ok "veth module loaded"; else bad "veth module not loaded"; fi
for t in "datapath.sh native" "datapath.sh generic" "moatd.sh native" "moatd.sh generic" "detect.sh"; do
    n=$(grep -c "^VM: \[$t\] ok: " "$W/vm.log" || true)
    r=$(sed -n "s/^VM: RESULT $t rc=\([0-9]*\).*/\1/p" "$W/vm.log")
    if [ "$r" = 0 ]; then
        ok "$t on $KVER ($n checks)"
    else
        # The test's FAIL line, else its last line (e.g. a libbpf error).
        why=$(grep "^VM: \[$t\] FAIL" "$W/vm.log" | head -1)
        [ -n "$why" ] || why=$(grep "^VM: \[$t\] " "$W/vm.log" | tail -1)
        bad "$t on $KVER: rc ${r:-missing} after $n checks: ${why#VM: \["$t"\] }"
    fi
done
if grep -q '^VM: DONE' "$W/vm.log"; then ok "guest ran to the end"; else bad "guest did not finish (qemu rc $qrc)"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
