#!/bin/bash
# XDP datapath on a veth pair, in one mode (native|generic):
#  - a bounded SYN flood (synflood.c, raw socket) from 198.18.0.1 is dropped
#    beyond its burst while 198.18.0.3 and 2001:2::3 still connect; same for
#    an IPv6 flood from 2001:2::1;
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
[ "$(xdp_prog_on_vs)" = moat_xdp ] || fail "bpftool does not show moat_xdp on vs"
pass "attached in $MODE mode"
ctl rate set --rate 1 --burst 5 --ports 1883 >/dev/null

connect_ok 198.18.0.3 198.18.0.2 || fail "good client cannot connect before the flood"

# Bad input: exit 2 and no map touched.
before=$(bpftool map dump pinned "$PIN/block4"; bpftool map dump pinned "$PIN/block6")
for bad in "198.18.0.0/33" "198.18.0.1/24" "2001:2::/129" "banana"; do
    rc=0; ctl block add "$bad" --ttl 10m >/dev/null 2>&1 || rc=$?
    [ $rc -eq 2 ] || fail "block add $bad: exit $rc, expected 2"
done
rc=0; ctl block add 198.18.0.0/24 --ttl 10y >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "bad duration: exit $rc"
rc=0; ctl block add 198.18.0.0/24 --reason nope >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "bad reason: exit $rc"
after=$(bpftool map dump pinned "$PIN/block4"; bpftool map dump pinned "$PIN/block6")
[ "$before" = "$after" ] || fail "bad input changed the blocklist"
pass "bad address/prefix/duration/reason: exit 2, maps untouched"

# Control socket: moatctl tells a running moatd (a socat stand-in here).
SOCKDIR=$(mktemp -d)
nsenter --net=/run/netns/"$NS" socat UNIX-LISTEN:"$SOCKDIR"/s.sock,fork \
    SYSTEM:"read l; echo \"\$l\" >> $SOCKDIR/lines; echo ok kicked 0" </dev/null >/dev/null 2>&1 &
BG_PIDS="$BG_PIDS $!"
for _ in $(seq 50); do [ -S "$SOCKDIR"/s.sock ] && break; sleep 0.1; done
in_s "$MOATCTL" --pin-path "$PIN" -s "$SOCKDIR"/s.sock block add 198.18.0.99 --ttl 10m \
    --reason scanner || fail "block add with control socket"
in_s "$MOATCTL" --pin-path "$PIN" -s "$SOCKDIR"/s.sock block del 198.18.0.99 \
    || fail "block del with control socket"
grep -qx "block add 198.18.0.99/32 ttl=600000000000 reason=scanner" "$SOCKDIR"/lines \
    || fail "control line: $(cat "$SOCKDIR"/lines)"
grep -qx "block del 198.18.0.99/32" "$SOCKDIR"/lines || fail "control line: $(cat "$SOCKDIR"/lines)"
rc=0; in_s "$MOATCTL" --pin-path "$PIN" -s "$SOCKDIR"/none.sock block add 198.18.0.98 \
    >/dev/null 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "unreachable explicit -s: exit $rc, expected 1"
ctl block del 198.18.0.98 >/dev/null
rm -rf "$SOCKDIR"
pass "control socket lines sent"

# Bounded flood with our raw sender: 3000 SYNs at 1500/s (2 s; it stops
# itself at 10 s, timeout kills it at 15 s).
SF=$(mktemp -d)
cc -std=c11 -D_GNU_SOURCE -O2 -o "$SF"/synflood "$(dirname "$0")"/synflood.c
nsenter --net=/run/netns/"$NC" timeout 15 "$SF"/synflood 198.18.0.1 198.18.0.2 1883 3000 1500 \
    </dev/null >/dev/null 2>&1 &
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

# IPv6 flood with our own raw sender: the /64 of 2001:2::1 is limited (and
# 2001:2::3 shares that /64, so it is tested with another prefix length).
d0=$(stat_of drop_rate)
ctl rate set --ipv6-prefix 128 >/dev/null
sent=$(in_c timeout 15 "$SF"/synflood 2001:2::1 2001:2::2 1883 1000 2000)
rm -rf "$SF"
d1=$(stat_of drop_rate)
[ "$sent" -eq 1000 ] || fail "synflood sent $sent of 1000"
[ $((d1 - d0)) -ge 900 ] || fail "v6 flood: only $((d1 - d0)) of 1000 SYNs dropped"
connect_ok 2001:2::3 2001:2::2 || fail "v6 /128 neighbour blocked by the flood"
pass "v6 flood (raw sender): $((d1 - d0)) of $sent dropped, neighbour connects"

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
[ -z "$(xdp_prog_on_vs)" ] || fail "still attached after detach: $(xdp_prog_on_vs)"
connect_ok 2001:2::3 2001:2::2 || fail "detached but still filtered"
pass "detach: fail-open"
echo "datapath $MODE: PASS"
