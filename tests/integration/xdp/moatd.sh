#!/bin/bash
# moatd itself with XDP on a veth (native|generic), in its namespace:
#  - moatd attaches to vs from its config and protects its listener port;
#  - a bounded SYN flood from 198.18.0.1 exceeds its rate, the filter's
#    events escalate it into the blocklist (moat_detect syn_flood), while a
#    good client on 198.18.0.3 completes MQTT CONNECT/SUBSCRIBE/PUBLISH;
#  - moatctl block add cuts a live MQTT client of 198.18.0.3 at once, and
#    the TTL's expiry lets it back;
#  - blocks survive a moatd restart (pinned maps reused);
#  - moatd detaches on exit (xdp_on_exit detach: fail-open).
# Usage: moatd.sh BUILD_DIR MODE
set -eu
MODE=${2:-generic}
. "$(dirname "$0")/lib.sh"
MOATD=$B/moatd
WORK=$(mktemp -d)
SF=$WORK
PY=/usr/bin/python3

setup_net
cc -std=c11 -D_GNU_SOURCE -O2 -o "$WORK"/synflood "$(dirname "$0")"/synflood.c

cat > "$WORK"/moatd.conf <<CONF
listener 1883
allow_anonymous true
xdp_interface vs $MODE
bpf_pin_path $PIN
xdp_syn_rate 5
xdp_syn_burst 10
control_socket $WORK/ctl
moat_block_state_file $WORK/blocks
moat_detect syn_flood 2 60s block_ip 60s
sys_interval 0
CONF

start_moatd() {
    local before
    before=$(grep -c ' running (' "$WORK"/moatd.log 2>/dev/null || true)
    nsenter --net=/run/netns/"$NS" "$MOATD" -c "$WORK"/moatd.conf >> "$WORK"/moatd.log 2>&1 &
    MOATD_PID=$!
    BG_PIDS="$BG_PIDS $MOATD_PID"
    for _ in $(seq 100); do
        [ "$(grep -c ' running (' "$WORK"/moatd.log)" -gt "${before:-0}" ] && return 0
        sleep 0.1
    done
    cat "$WORK"/moatd.log; fail "moatd did not start"
}
stop_moatd() {
    kill -TERM "$MOATD_PID"
    wait "$MOATD_PID" 2>/dev/null || true
}
dctl() { in_s "$MOATCTL" --pin-path "$PIN" -s "$WORK"/ctl "$@"; }

# mqtt SRC: CONNECT, SUBSCRIBE, PUBLISH QoS 1 to itself, receive it.
mqtt_roundtrip() {
    in_c timeout 10 "$PY" - "$1" <<'PYEOF'
import socket, struct, sys
src = sys.argv[1]
s = socket.create_connection(("198.18.0.2", 1883), timeout=3, source_address=(src, 0))
def pkt(t, f, body): return bytes([t << 4 | f, len(body)]) + body
def s16(b): return struct.pack("!H", len(b)) + b
s.sendall(pkt(1, 0, s16(b"MQTT") + b"\x04\x02\x00\x3c" + s16(b"good-" + src.encode())))
assert s.recv(4) == b"\x20\x02\x00\x00", "CONNACK"
s.sendall(pkt(8, 2, b"\x00\x01" + s16(b"xdp/t") + b"\x01"))
assert s.recv(5)[0] == 0x90, "SUBACK"
s.sendall(pkt(3, 2, s16(b"xdp/t") + b"\x00\x02" + b"hello"))
got = b""
while len(got) < 4 + 2 + 5 + 2 + 5:
    got += s.recv(64)
assert b"hello" in got, got
PYEOF
}

start_moatd
grep -q "filter attached to vs in $MODE mode" "$WORK"/moatd.log || { cat "$WORK"/moatd.log; fail "no attach line"; }
[ "$(xdp_prog_on_vs)" = moat_xdp ] || fail "bpftool does not show moat_xdp on vs"
pass "moatd attached the filter to vs in $MODE mode"
mqtt_roundtrip 198.18.0.3 || fail "good client MQTT round trip before the flood"

# Bounded flood: 4000 SYNs over ~4 s from 198.18.0.1.
in_c timeout 20 "$WORK"/synflood 198.18.0.1 198.18.0.2 1883 4000 1000 >/dev/null &
FLOOD=$!
mqtt_roundtrip 198.18.0.3 || fail "good client MQTT round trip during the flood"
pass "good client completes CONNECT/SUBSCRIBE/PUBLISH during the flood"
wait $FLOOD || true
drops=$(stat_of drop_rate)
[ "${drops:-0}" -gt 0 ] || fail "no SYN dropped by the rate limit"
for _ in $(seq 50); do
    dctl -j block list | grep -q '198.18.0.1/32' && break
    sleep 0.1
done
dctl -j block list | grep -q '"cidr":"198.18.0.1/32"' || { cat "$WORK"/moatd.log; fail "flooder not escalated into the blocklist"; }
grep -q "detect: kind=syn_flood source=198.18.0.1" "$WORK"/moatd.log || fail "no detect log line"
pass "flood dropped beyond burst ($drops drops) and escalated into the blocklist"

# A live MQTT connection from .3, then moatctl block add cuts it at once.
in_c "$PY" - <<'PYEOF' > "$WORK"/held.out 2>&1 &
import socket, struct, time
s = socket.create_connection(("198.18.0.2", 1883), timeout=15, source_address=("198.18.0.3", 0))
def s16(b): return struct.pack("!H", len(b)) + b
body = s16(b"MQTT") + b"\x04\x02\x00\x3c" + s16(b"held")
s.sendall(bytes([0x10, len(body)]) + body)
assert s.recv(4) == b"\x20\x02\x00\x00"
print("connected", flush=True)
t0 = time.monotonic()
try:
    r = s.recv(16)
except OSError:
    r = b""
print("closed" if r == b"" else "data", "%.1f" % (time.monotonic() - t0), flush=True)
PYEOF
HELD=$!
for _ in $(seq 50); do grep -q connected "$WORK"/held.out && break; sleep 0.1; done
dctl block add 198.18.0.3/32 --ttl 3s --reason manual >/dev/null || fail "moatctl block add"
wait $HELD || true
grep -q "^closed" "$WORK"/held.out || { cat "$WORK"/held.out; fail "live client not cut by block add"; }
pass "moatctl block add closed the live MQTT connection at once"
if mqtt_roundtrip 198.18.0.3 2>/dev/null; then fail "blocked source still connects"; fi
sleep 3.5
mqtt_roundtrip 198.18.0.3 || fail "TTL expired but the source is still blocked"
pass "TTL expiry lets the source back"

dctl block add 198.18.0.77/32 --reason scanner >/dev/null
stop_moatd
grep -q "detached (fail-open)" "$WORK"/moatd.log || fail "moatd did not detach on exit"
[ -z "$(xdp_prog_on_vs)" ] || fail "program still attached after moatd exit"
pass "moatd detached on exit (fail-open)"
start_moatd
dctl -j block list | grep -q '"cidr":"198.18.0.77/32"' || fail "permanent block lost across restart"
bpftool map dump pinned "$PIN/block4" | grep -q '"reason"' || fail "bpftool dump lacks named fields"
pass "blocks survive a moatd restart; bpftool dump shows named fields"
stop_moatd
grep -q '^198.18.0.77/32 scanner$' "$WORK"/blocks || fail "permanent block not in the state file"
rm -rf "$PIN"                 # what a reboot does to bpffs
start_moatd
dctl -j block list | grep -q '"cidr":"198.18.0.77/32"' || fail "permanent block not restored from the state file"
grep -q "1 permanent block(s) restored" "$WORK"/moatd.log || fail "no restore log line"
pass "permanent blocks survive a reboot (state file) and are loaded at start"

# The interface goes away and comes back (new ifindex): libnl tells moatd,
# which attaches the filter again.
n_att=$(grep -c "filter attached to vs" "$WORK"/moatd.log)
ip -n "$NC" link del vc
sleep 0.5
ip link add vc netns "$NC" type veth peer name vs netns "$NS"
ip -n "$NC" addr add 198.18.0.1/24 dev vc
ip -n "$NC" addr add 198.18.0.3/24 dev vc
ip -n "$NS" addr add 198.18.0.2/24 dev vs
ip -n "$NC" link set vc up
ip -n "$NS" link set vs up
in_c ethtool -K vc tx off >/dev/null
in_s ethtool -K vs tx off >/dev/null
for _ in $(seq 50); do
    [ "$(grep -c "filter attached to vs" "$WORK"/moatd.log)" -gt "$n_att" ] && break
    sleep 0.1
done
[ "$(grep -c "filter attached to vs" "$WORK"/moatd.log)" -gt "$n_att" ] || { tail "$WORK"/moatd.log; fail "not re-attached after the interface came back"; }
[ "$(xdp_prog_on_vs)" = moat_xdp ] || fail "bpftool does not show moat_xdp on the new vs"
sleep 1
mqtt_roundtrip 198.18.0.3 || fail "MQTT through the re-created interface"
pass "interface gone and back: filter attached again (libnl link events)"
stop_moatd
