#!/bin/busybox sh
# shellcheck shell=dash
# /init of the idle-memory VM (built by tests/vm/idle-tls.sh). Loads the
# tls module, then for each mode (kTLS, userspace TLS with
# MOAT_TLS_KTLS=off, plain TCP) starts a fresh moatd, reads its VmRSS,
# holds N idle connections with moat-bench, reads VmRSS again and prints
#   VM: idle_rss mode=M conns=N bytes_per_conn=X
# and then, for information, both TLS modes again with one handshake at a
# time (mode=ktls-serial, userspace-serial).
# For kTLS it also prints the kernel's current kTLS socket counts from
# /proc/net/tls_stat, which show that moatd's sockets really were kTLS.
# Every line for the host starts with "VM:"; the VM powers off at the end.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mkdir -p /proc /sys /dev /tmp /sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
ln -sf /bin/busybox /sbin/modprobe
ip link set lo up
# N connections on both ends in one VM: file descriptors for both.
ulimit -n 8192

N=$(cat /etc/moat/conns)
MODES=$(cat /etc/moat/modes)
want() { case " $MODES " in *" $1 "*) return 0 ;; esac; return 1; }
echo "VM: kernel $(uname -r)"
depmod -a 2>/dev/null
# tls and the AEADs it may need; preloaded, no autoloading is relied on.
for m in tls cryptd crypto_simd aesni_intel ghash_clmulni_intel ghash_generic ctr gcm seqiv \
         libchacha chacha_generic chacha_x86_64 libpoly1305 poly1305_generic poly1305_x86_64 \
         chacha20poly1305; do
    modprobe "$m" 2>/dev/null || echo "VM: note: module $m not loaded"
done
if [ -r /proc/net/tls_stat ]; then echo "VM: tls module loaded"; else echo "VM: no /proc/net/tls_stat"; fi

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
tls_stat() { awk -v k="$1" '$1 == k { print $2 }' /proc/net/tls_stat 2>/dev/null; }
listening() {   # port: true once a socket listens on it
    hex=$(printf '%04X' "$1")
    awk -v p=":$hex" 'substr($2, length($2) - 4) == p && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp
}

hold() {   # label port bench-flags: N idle connections up (pid in bp), or false
    rm -f /tmp/ready
    # shellcheck disable=SC2086  # $3 is a flag list
    timeout 150 moat-bench --scenario idle $3 --conns "$N" --hold 300 --deadline 140 --port "$2" \
        --ready-file /tmp/ready --no-progress > "/tmp/bench-$1.out" 2>&1 &
    bp=$!
    # moat-bench's own timeout bounds this wait.
    s0=$(date +%s)
    while [ ! -e /tmp/ready ] && kill -0 "$bp" 2>/dev/null; do sleep 0.2; done
    if [ ! -e /tmp/ready ]; then
        echo "VM: $1: moat-bench not ready after $(( $(date +%s) - s0 )) s"
        sed "s/^/VM: bench-$1: /" "/tmp/bench-$1.out"
        kill "$bp" 2>/dev/null; wait "$bp" 2>/dev/null
        return 1
    fi
    # Let moatd finish the last CONNECTs and kTLS switches before reading.
    sleep 2
}

measure() {   # mode conf port moatd-env bench-flags
    mode=$1; conf=$2; port=$3; menv=$4; bflags=$5
    t0=$(date +%s)
    rm -f /tmp/ctl
    env $menv moatd -c "$conf" > "/tmp/moatd-$mode.log" 2>&1 &
    mp=$!
    i=0
    while [ $i -lt 100 ] && ! listening "$port"; do sleep 0.1; i=$((i + 1)); done
    if ! listening "$port"; then
        echo "VM: $mode: moatd did not listen on $port"
        sed "s/^/VM: moatd-$mode: /" "/tmp/moatd-$mode.log"
        kill "$mp" 2>/dev/null; return
    fi
    sleep 1
    r0=$(rss_kb "$mp")
    tx0=$(tls_stat TlsCurrTxSw); rx0=$(tls_stat TlsCurrRxSw)
    if ! hold "$mode" "$port" "$bflags"; then
        kill "$mp" 2>/dev/null; wait "$mp" 2>/dev/null; return
    fi
    r1=$(rss_kb "$mp")
    tx1=$(tls_stat TlsCurrTxSw); rx1=$(tls_stat TlsCurrRxSw)
    kill "$bp" 2>/dev/null; wait "$bp" 2>/dev/null
    sleep 1
    r2=$(rss_kb "$mp")
    kill "$mp" 2>/dev/null; wait "$mp" 2>/dev/null
    sed "s/^/VM: moatd-$mode: /" "/tmp/moatd-$mode.log" | head -20
    echo "VM: $mode: VmRSS ${r0} kB idle, ${r1} kB with $N connections, ${r2} kB after they closed ($(( $(date +%s) - t0 )) s)"
    if [ "$mode" = ktls ] || [ -n "$tx1" ]; then
        echo "VM: $mode: tls_stat TlsCurrTxSw ${tx0:-?} -> ${tx1:-?}, TlsCurrRxSw ${rx0:-?} -> ${rx1:-?}"
    fi
    if [ -n "$r0" ] && [ -n "$r1" ]; then
        echo "VM: idle_rss mode=$mode conns=$N bytes_per_conn=$(( (r1 - r0) * 1024 / N ))"
    else
        echo "VM: $mode: could not read VmRSS of moatd (pid $mp)"
    fi
}

want ktls && measure ktls /etc/moat/tls.conf 8883 "" "--tls"
want userspace && measure userspace /etc/moat/tls.conf 8883 "MOAT_TLS_KTLS=off" "--tls"
want plain && measure plain /etc/moat/plain.conf 1883 "" ""
# Informational: one handshake at a time, so the heap is not grown by
# moat-bench's default 100 concurrent handshakes' SSL objects, which RSS
# keeps after they are freed.
want ktls-serial && measure ktls-serial /etc/moat/tls.conf 8883 "" "--tls --concurrency 1"
want userspace-serial &&
    measure userspace-serial /etc/moat/tls.conf 8883 "MOAT_TLS_KTLS=off" "--tls --concurrency 1"
echo "VM: tls_stat at the end"; sed 's/^/VM: stat /' /proc/net/tls_stat
echo "VM: DONE"
poweroff -f
