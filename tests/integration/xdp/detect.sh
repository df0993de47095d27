#!/bin/bash
# Abnormal-behaviour detection end to end [issue 5], moatd with XDP
# (generic) in a namespace, clients from several source addresses:
#  - brute force (wrong passwords) from 198.18.0.1 ends in a block, held in
#    the XDP blocklist map;
#  - a password spray (many usernames) from 198.18.0.4 is caught;
#  - topic scanning by a client is caught (disconnect);
#  - connections that send no CONNECT are closed (connect timeout) and a
#    source that keeps doing it is blocked;
#  - connect-from: alice may connect from 198.18.0.3 only;
#  - moatctl events lists the decisions.
# Usage: detect.sh BUILD_DIR
set -eu
. "$(dirname "$0")/lib.sh"
MOATD=$B/moatd
WORK=$(mktemp -d)
SF=$WORK
PY=/usr/bin/python3

setup_net
ip -n "$NC" addr add 198.18.0.4/24 dev vc
ip -n "$NC" addr add 198.18.0.5/24 dev vc
mosquitto_passwd -c -b "$WORK"/passwd alice wonderland
mosquitto_passwd -b "$WORK"/passwd bob builder
cat > "$WORK"/acl <<ACL
user alice
connect-from 198.18.0.3/32
topic readwrite #
user bob
topic readwrite #
ACL
cat > "$WORK"/moatd.conf <<CONF
listener 1883
allow_anonymous false
password_file $WORK/passwd
acl_file $WORK/acl
xdp_interface vs generic
bpf_pin_path $PIN
control_socket $WORK/ctl
moat_block_state_file $WORK/blocks
moat_connect_timeout 1
moat_detect auth_failure 5 60s block_ip 60s
moat_detect topic_scan 20 60s disconnect
moat_detect silent 3 60s block_ip 60s
sys_interval 0
CONF
nsenter --net=/run/netns/"$NS" "$MOATD" -c "$WORK"/moatd.conf > "$WORK"/moatd.log 2>&1 &
BG_PIDS="$BG_PIDS $!"
for _ in $(seq 100); do grep -q ' running (' "$WORK"/moatd.log && break; sleep 0.1; done
grep -q ' running (' "$WORK"/moatd.log || { cat "$WORK"/moatd.log; fail "moatd did not start"; }
dctl() { in_s "$MOATCTL" --pin-path "$PIN" -s "$WORK"/ctl "$@"; }

# mq SRC USER PASS [TOPICS]: CONNECT; prints the CONNACK code (or "closed"),
# then publishes to TOPICS distinct topics and prints "open"/"closed".
mq() {
    in_c timeout 10 "$PY" - "$@" <<'PYEOF'
import socket, struct, sys, time
src, user, pw = sys.argv[1:4]
topics = int(sys.argv[4]) if len(sys.argv) > 4 else 0
def s16(b): return struct.pack("!H", len(b)) + b
def pkt(t, f, body):
    n, rl = len(body), b""
    while True:
        d, n = n % 128, n // 128
        rl += bytes([d | (0x80 if n else 0)])
        if not n: break
    return bytes([t << 4 | f]) + rl + body
try:
    s = socket.create_connection(("198.18.0.2", 1883), timeout=3, source_address=(src, 0))
    s.sendall(pkt(1, 0, s16(b"MQTT") + b"\x04\xc2\x00\x3c" + s16(b"c-" + src.encode() + user.encode())
                     + s16(user.encode()) + s16(pw.encode())))
    r = s.recv(4)
except OSError:
    print("closed"); sys.exit(0)
if len(r) < 4:
    print("closed"); sys.exit(0)
print(r[3])
if topics:
    try:
        for i in range(topics):
            s.sendall(pkt(3, 0, s16(b"scan/%d" % i) + b"x"))
            time.sleep(0.01)
        s.settimeout(2)
        print("closed" if s.recv(1) == b"" else "open")
    except OSError:
        print("closed")
PYEOF
}

# connect-from
[ "$(mq 198.18.0.3 alice wonderland)" = 0 ] || fail "alice from 198.18.0.3 refused"
[ "$(mq 198.18.0.5 alice wonderland)" = 5 ] || fail "alice from 198.18.0.5 not refused"
pass "connect-from: alice accepted from 198.18.0.3, refused (CONNACK 5) from 198.18.0.5"

# brute force from .1
for i in 1 2 3 4 5; do mq 198.18.0.1 bob "guess$i" >/dev/null; done
sleep 0.3
dctl -j block list | grep -q '"cidr":"198.18.0.1/32","reason":"auth"' || { tail -20 "$WORK"/moatd.log; fail "brute-force source not in the XDP blocklist"; }
bpftool map dump pinned "$PIN/block4" | grep -q '198' || true
[ "$(mq 198.18.0.1 bob builder)" = closed ] || fail "blocked source still reaches moatd"
pass "brute force from 198.18.0.1 ends in an XDP block (reason auth); its packets are dropped"

# password spray from .4: many usernames
for u in u1 u2 u3 u4 u5; do mq 198.18.0.4 "$u" pw >/dev/null; done
sleep 0.3
dctl -j block list | grep -q '"cidr":"198.18.0.4/32"' || fail "password spray not caught"
pass "password spray across usernames from one source is caught"

# topic scanning by bob from .3
out=$(mq 198.18.0.3 bob builder 40)
[ "$(echo "$out" | tail -1)" = closed ] || fail "topic scanner not disconnected ($out)"
grep -q "detect: kind=topic_scan" "$WORK"/moatd.log || fail "no topic_scan decision logged"
pass "topic scanning caught: client disconnected"

# silent connections from .5: no CONNECT, closed after 1 s; three -> block
for i in 1 2 3; do
    in_c timeout 5 "$PY" -c '
import socket, time
s = socket.create_connection(("198.18.0.2", 1883), timeout=4, source_address=("198.18.0.5", 0))
t = time.monotonic()
r = s.recv(1)
assert r == b"" and 0.5 < time.monotonic() - t < 3.5, "not closed by the connect timeout"
' || fail "silent connection not closed within the connect timeout"
done
sleep 0.3
dctl -j block list | grep -q '"cidr":"198.18.0.5/32"' || fail "silent source not blocked"
pass "silent connections closed after moat_connect_timeout; a repeat offender is blocked"

dctl events | grep -q '"kind":"auth_failure"' || fail "moatctl events lacks the auth_failure decision"
pass "moatctl events lists the decisions"
