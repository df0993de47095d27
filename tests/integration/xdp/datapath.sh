#!/bin/bash
# XDP datapath on a veth pair, in one mode (native|generic):
#  - a bounded SYN flood from 198.18.0.1 is dropped beyond its burst while
#    198.18.0.3 and 2001:2::3 still connect;
#  - moatctl block add cuts 198.18.0.3 off, its TTL expiry lets it back;
#  - bpftool map dump pinned shows named fields;
#  - a second load (moatd restart) keeps the blocks and replaces the program.
# Usage: datapath.sh BUILD_DIR MODE
set -eu
MODE=${2:-generic}
. "$(dirname "$0")/lib.sh"

setup_net
start_listener
got=$(ctl -j attach vs "$MODE")
echo "$got" | grep -q "\"mode\":\"$MODE\"" || fail "attach vs $MODE: $got"
pass "attached in $MODE mode"
ctl rate set --rate 1 --burst 5 --ports 1883 >/dev/null

connect_ok 198.18.0.3 198.18.0.2 || fail "good client cannot connect before the flood"

# Bounded flood: 3000 SYNs at ~1500/s (2 s at most, killed at 10 s).
in_c timeout 10 hping3 -q -S -p 1883 -c 3000 -i u600 -a 198.18.0.1 198.18.0.2 \
    >/dev/null 2>&1 &
FLOOD=$!
BG_PIDS="$BG_PIDS $FLOOD"
sleep 0.5
connect_ok 198.18.0.3 198.18.0.2 || fail "good client blocked during the flood (v4)"
connect_ok 2001:2::3 2001:2::2 || fail "good client blocked during the flood (v6)"
pass "second source connects during the flood"
wait "$FLOOD" || true
drops=$(stat_of drop_rate)
passed=$(stat_of pass_syn)
[ "${drops:-0}" -ge 2000 ] || fail "flood: only ${drops:-0} SYNs dropped (stats: $(ctl -j stats))"
[ "${passed:-0}" -le 40 ] || fail "flood: $passed SYNs passed, burst is 5"
pass "flood: $drops SYNs dropped, $passed passed"
ctl -j stats | grep -q '"events_sent":[1-9]' || fail "no rate event emitted"

# Block with a TTL: cut off at once, back after expiry.
ctl block add 198.18.0.3/32 --ttl 3s --reason scanner
if connect_ok 198.18.0.3 198.18.0.2; then fail "blocked source still connects"; fi
[ "$(stat_of drop_blocked)" -ge 1 ] || fail "drop_blocked did not count"
ctl block list | grep -q '198.18.0.3/32 *scanner' || fail "block list: $(ctl block list)"
dump=$(bpftool map dump pinned "$PIN/block4")
echo "$dump" | grep -q '"expires_ns"' || fail "bpftool dump lacks named fields: $dump"
echo "$dump" | grep -q '"hits": [1-9]' || fail "bpftool dump: no hits: $dump"
bpftool map dump pinned "$PIN/buckets" | grep -q '"tokens"' || fail "buckets dump empty"
pass "block drops the source; bpftool shows the entries"
sleep 3.2
connect_ok 198.18.0.3 198.18.0.2 || fail "source still blocked after TTL expiry"
pass "TTL expiry lets it back"

# Restart: a new load reuses the pins (blocks survive) and replaces the program.
ctl block add 2001:2::3 --reason flood
old=$(in_s bpftool net show dev vs | grep -o 'id [0-9]*' | head -1)
ctl attach vs "$MODE" >/dev/null
new=$(in_s bpftool net show dev vs | grep -o 'id [0-9]*' | head -1)
[ "$old" != "$new" ] || fail "program not replaced on reload ($old)"
ctl block list | grep -q '2001:2::3/128 *flood' || fail "block lost across reload"
if connect_ok 2001:2::3 2001:2::2; then fail "v6 block not enforced after reload"; fi
pass "reload replaced the program ($old -> $new), blocks survived"

ctl detach vs >/dev/null
in_s bpftool net show dev vs | grep -q moat_xdp && fail "still attached after detach"
connect_ok 2001:2::3 2001:2::2 || fail "detached but still filtered"
pass "detach: fail-open"
echo "datapath $MODE: PASS"
