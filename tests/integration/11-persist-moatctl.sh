#!/usr/bin/env bash
# moatctl store check / store rekey on a store moatd wrote [issue 6]:
# check passes on an intact encrypted store, rekey moves it to a new key
# (moatd then starts with the new key and still has the retained message,
# and refuses the old one). Flipped bytes: 11-persist-restart.py.
set -eu
[ "$BROKER" = moatd ] || exit 77
B=$(dirname "$BROKER_BIN")
W=$(mktemp -d)
trap 'kill $P 2>/dev/null || true; rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$W/log" ] && tail -20 "$W/log" >&2; exit 1; }
ok() { echo "ok $*"; }
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl rand -hex 32 > "$W/k1"; openssl rand -hex 32 > "$W/k2"; chmod 600 "$W/k1" "$W/k2"
conf() {
    printf 'listener %s 127.0.0.1\nallow_anonymous true\ncontrol_socket %s/ctl\npersistence true\npersistence_location %s\npersistence_key_file %s\nsys_interval 0\n' \
        "$PORT" "$W" "$W" "$1" > "$W/moatd.conf"
}
start() {
    "$BROKER_BIN" -c "$W/moatd.conf" >> "$W/log" 2>&1 &
    P=$!
    for _ in $(seq 50); do mosquitto_pub -p "$PORT" -t probe -n 2>/dev/null && return 0; sleep 0.1; done
    fail "moatd did not start"
}
stop() { kill -TERM "$P"; wait "$P" 2>/dev/null || true; }

conf "$W/k1"; start
mosquitto_pub -p "$PORT" -t plant/valve -m 'OPEN-7731' -r -q 1
stop
"$B/moatctl" store check --config "$W/moatd.conf" > "$W/check" || { cat "$W/check"; fail "check of an intact store"; }
ok "[moat] store check passes on the store moatd wrote"
"$B/moatctl" store rekey "$W/k2" --config "$W/moatd.conf" >/dev/null || fail "rekey"
"$B/moatctl" store check --path "$W/moat.lmdb" --key "$W/k2" >/dev/null || fail "check under the new key"
if "$B/moatctl" store check --path "$W/moat.lmdb" --key "$W/k1" >/dev/null 2>&1; then fail "old key still opens the store"; fi
ok "[moat] store rekey: the new key opens it, the old one does not"
conf "$W/k2"; start
got=$(mosquitto_sub -p "$PORT" -t plant/valve -C 1 -W 5)
[ "$got" = OPEN-7731 ] || fail "retained message lost across rekey (got '$got')"
stop
ok "[MQTT-3.3.1-6] retained message survives the rekey"
conf "$W/k1"
if timeout 10 "$BROKER_BIN" -c "$W/moatd.conf" >> "$W/log" 2>&1; then fail "moatd started with the old key"; fi
ok "[moat] moatd refuses the old key after rekey"
