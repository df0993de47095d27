#!/bin/busybox sh
# /init of the kTLS test VM (built by tests/vm/run.sh). Loads the tls
# module, starts moatd with a TLS listener on 127.0.0.1:8883, publishes
# and subscribes over TLS 1.2 and 1.3 with each AEAD suite, sends a TLS 1.3
# KeyUpdate, and prints /proc/net/tls_stat before and after so the host
# can check the kernel did the record crypto. Every result line starts
# with "VM:" for the host to parse; the VM powers off at the end.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mkdir -p /proc /sys /dev /tmp /run/moat /sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
ln -sf /bin/busybox /sbin/modprobe
ip link set lo up

echo "VM: kernel $(uname -r)"
depmod -a 2>/dev/null
# tls and the AEAD implementations the kernel needs for it (preloaded:
# no module autoloading is relied on).
for m in tls cryptd crypto_simd aesni_intel ghash_clmulni_intel ghash_generic ctr gcm seqiv \
         libchacha chacha_generic chacha_x86_64 libpoly1305 poly1305_generic poly1305_x86_64 \
         chacha20poly1305; do
    modprobe "$m" 2>/dev/null || echo "VM: note: module $m not loaded"
done
if [ -r /proc/net/tls_stat ]; then echo "VM: tls module loaded"; else echo "VM: FAIL no /proc/net/tls_stat"; fi
echo "VM: tls_stat before"; sed 's/^/VM: stat0 /' /proc/net/tls_stat

start_moatd() {   # conf log [env]
    env $3 moatd -c "$1" > "$2" 2>&1 &
    i=0
    while [ $i -lt 50 ] && ! grep -q "running" "$2"; do sleep 0.2; i=$((i + 1)); done
}
start_moatd /etc/moat/moat.conf /tmp/moatd.log
MOATD=$!
# Same broker with TLS 1.3 receive left in userspace (mixed mode), and
# with kTLS off (the userspace fallback on a kTLS kernel).
start_moatd /etc/moat/moat-tx.conf /tmp/moatd-tx.log MOAT_TLS_KTLS=tx
MOATD_TX=$!
start_moatd /etc/moat/moat-off.conf /tmp/moatd-off.log MOAT_TLS_KTLS=off
MOATD_OFF=$!

# A payload of several records (64 KiB) and one that fits in one.
dd if=/dev/urandom of=/tmp/big.bin bs=1024 count=64 2>/dev/null
echo "small payload over TLS" > /tmp/small.bin

pubsub() {   # name opensslconf payloadfile [port]
    name=$1; conf=/etc/moat/$2.cnf; payload=$3; port=${4:-8883}
    rm -f /tmp/got
    OPENSSL_CONF=$conf timeout 60 mosquitto_sub --cafile /etc/moat/ca.crt -h 127.0.0.1 -p $port \
        -t "vm/$name" -q 1 -C 1 -N -W 50 > /tmp/got 2>/tmp/sub.err &
    sub=$!
    sleep 2
    OPENSSL_CONF=$conf timeout 60 mosquitto_pub --cafile /etc/moat/ca.crt -h 127.0.0.1 -p $port \
        -t "vm/$name" -q 1 -f "$payload" 2>/tmp/pub.err
    prc=$?
    wait $sub
    src=$?
    if [ $prc -eq 0 ] && [ $src -eq 0 ] && cmp -s /tmp/got "$payload"; then
        echo "VM: PASS $name ($(wc -c < "$payload") bytes intact)"
    else
        echo "VM: FAIL $name (pub rc $prc, sub rc $src, $(wc -c < /tmp/got) bytes received)"
        sed 's/^/VM:   pub: /' /tmp/pub.err; sed 's/^/VM:   sub: /' /tmp/sub.err
    fi
}

for c in tls12-aes128gcm tls12-aes256gcm tls12-chacha20 tls13-aes128gcm tls13-aes256gcm tls13-chacha20; do
    pubsub "$c-big" "$c" /tmp/big.bin
    pubsub "$c-small" "$c" /tmp/small.bin
done

pubsub mixed-tls13-big tls13-aes128gcm /tmp/big.bin 8884
pubsub userspace-tls13-big tls13-aes256gcm /tmp/big.bin 8885
pubsub userspace-tls12-big tls12-chacha20 /tmp/big.bin 8885

# TLS 1.3 KeyUpdate from the client (s_client's "k": update_not_requested,
# "K": update_requested), then an MQTT CONNECT under the new key. With
# kernel rekey (6.14+) moat rekeys RX (and TX for "K") and the CONNACK
# comes back; without, moat closes the connection and counts it.
keyupdate() {   # name k|K
    (sleep 3; echo "$2"; sleep 2; printf '\020\014\000\004MQTT\004\002\000\074\000\000'; sleep 3) |
        OPENSSL_CONF=/etc/moat/tls13-aes128gcm.cnf timeout 30 \
        openssl s_client -connect 127.0.0.1:8883 -CAfile /etc/moat/ca.crt > /tmp/ku.out 2>&1
    if od -An -v -tx1 /tmp/ku.out | tr -d '\n' | grep -q ' 20 02 00 00'; then
        echo "VM: keyupdate $1: CONNACK received after the KeyUpdate"
    else
        echo "VM: keyupdate $1: no CONNACK after the KeyUpdate"
    fi
}
# Resumption of kTLS connections: TLS 1.2 by session id (server cache:
# the SSL object is freed at the switch, the session must stay cached)
# and TLS 1.3 by ticket.
resume() {   # name args...
    n=$1; shift
    (sleep 2) | timeout 20 openssl s_client -connect 127.0.0.1:8883 -CAfile /etc/moat/ca.crt \
        "$@" -sess_out /tmp/sess.pem > /tmp/r1.out 2>&1
    (sleep 2) | timeout 20 openssl s_client -connect 127.0.0.1:8883 -CAfile /etc/moat/ca.crt \
        "$@" -sess_in /tmp/sess.pem > /tmp/r2.out 2>&1
    echo "VM: resume $n: $(grep -E '^(New|Reused),' /tmp/r2.out | cut -d, -f1)"
}
resume tls12-sessionid -tls1_2 -no_ticket
resume tls12-ticket -tls1_2
resume tls13-ticket -tls1_3

keyupdate not-requested k
keyupdate requested K

echo "VM: tls_stat after"; sed 's/^/VM: stat1 /' /proc/net/tls_stat
kill $MOATD $MOATD_TX $MOATD_OFF 2>/dev/null
sleep 1
grep -E "TLS|kTLS|KeyUpdate|listener" /tmp/moatd.log | sed 's/^/VM: moatd: /'
grep -E "TLS|kTLS|listener|err" /tmp/moatd-tx.log | sed 's/^/VM: moatd-tx: /'
grep -E "TLS|kTLS|listener|err" /tmp/moatd-off.log | sed 's/^/VM: moatd-off: /'
echo "VM: DONE"
poweroff -f
