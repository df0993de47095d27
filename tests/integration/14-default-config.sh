#!/usr/bin/env bash
# `moatd` with no -c runs the embedded default [issue 2]: plain MQTT on
# 127.0.0.1:1883 with anonymous clients, and [issue 4] TLS on
# 127.0.0.1:8883 with a throwaway development CA whose ca.crt it names in
# its log; `moatd -d` prints that configuration and `moatd -t` accepts it.
set -eu
[ "$BROKER" = moatd ] || exit 77
W=$(mktemp -d)
P=""
trap '[ -n "$P" ] && kill $P 2>/dev/null; rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$W/log" >&2 2>/dev/null || true; exit 1; }
ok() { echo "ok $*"; }
for port in 1883 8883; do
    if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then
        echo "port $port is in use here: cannot run the embedded default"; exit 77
    fi
done
"$BROKER_BIN" -d > "$W/default.conf"
grep -q '^listener 1883 127.0.0.1$' "$W/default.conf" || fail "moatd -d: no loopback 1883 listener"
"$BROKER_BIN" -t -c "$W/default.conf" >/dev/null || fail "moatd -t rejects its own default"
ok "[moat] moatd -d prints the embedded default and moatd -t accepts it"

HOME=$W "$BROKER_BIN" > "$W/log" 2>&1 &
P=$!
for _ in $(seq 50); do grep -q ' running (' "$W/log" && break; sleep 0.1; done
grep -q 'running ((embedded default))' "$W/log" || fail "moatd did not start on its default"
mosquitto_pub -h 127.0.0.1 -p 1883 -t d/plain -m x -q 1 || fail "plain MQTT on 1883"
ok "[moat] plain MQTT on 127.0.0.1:1883, anonymous"
ca=$(sed -n "s/.*clients trust \([^ ]*ca.crt\).*/\1/p" "$W/log" | head -1)
[ -r "$ca" ] || fail "no development CA path in the log"
timeout 10 mosquitto_sub -h localhost -p 8883 --cafile "$ca" -t d/tls -C 1 -W 8 > "$W/got" &
S=$!
sleep 0.5
mosquitto_pub -h localhost -p 8883 --cafile "$ca" -t d/tls -m over-tls -q 1 || fail "TLS publish on 8883"
wait $S || fail "TLS subscriber got nothing"
[ "$(cat "$W/got")" = over-tls ] || fail "TLS round trip payload"
ok "[moat] TLS on 127.0.0.1:8883 with the generated development CA (verified by the clients)"
kill -TERM $P; wait $P 2>/dev/null || true; P=""
grep -q "moatd stopped" "$W/log" || fail "no clean stop on SIGTERM"
ok "[moat] SIGTERM stops it cleanly"
