#!/usr/bin/env bash
# moatctl's daemon verbs against the running moatd: clients, kick, client-id
# and username blocks (refused at CONNECT: CONNACK 2 / 5 [MQTT-3.2.2.3]),
# block names, broker stats, reload; and moatctl passwd writing a file
# moatd and mosquitto_passwd's format readers accept.
set -eu
[ "$BROKER" = moatd ] || exit 77
CTL="$(dirname "$BROKER_BIN")/moatctl -s $MOAT_CTL"
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok $*"; }
sub=$(mktemp); trap 'kill $SUBPID 2>/dev/null || true; rm -f "$sub" "$pwf"' EXIT
pwf=$(mktemp -u)

timeout 20 mosquitto_sub -h "$MQTT_HOST" -p "$MQTT_PORT" -i kickme -t 'k/#' > "$sub" 2>&1 &
SUBPID=$!
for _ in $(seq 50); do $CTL clients | grep -q kickme && break; sleep 0.1; done
$CTL clients | grep -q '^kickme ' || fail "moatctl clients does not list kickme"
ok "[moat] moatctl clients lists a connected client"
$CTL -j clients | grep -q '"client_id":"kickme"' || fail "moatctl -j clients: no JSON entry"
ok "[moat] moatctl -j clients prints JSON"
[ "$($CTL kick --client-id kickme)" = "kicked 1" ] || fail "kick --client-id"
# mosquitto_sub reconnects by itself: the broker's log tells the kick.
for _ in $(seq 50); do grep -q "'kickme'.*kicked by operator" "$BROKER_LOG" && break; sleep 0.1; done
grep -q "'kickme'.*kicked by operator" "$BROKER_LOG" || fail "no kick in the broker log"
ok "[moat] moatctl kick client closes the connection"

$CTL block add --client-id evil --ttl 1m || fail "block add --client-id"
if mosquitto_pub -h "$MQTT_HOST" -p "$MQTT_PORT" -i evil -t k/x -m y 2>/dev/null; then
    fail "blocked client id could publish"
fi
mosquitto_pub -h "$MQTT_HOST" -p "$MQTT_PORT" -i good -t k/x -m y || fail "other client refused"
ok "[MQTT-3.2.2.3] blocked client id refused at CONNECT, others accepted"
$CTL -j block names | grep -q '"type":"client","name":"evil"' || fail "block names misses evil"
ok "[moat] block names lists the client block with its TTL"
$CTL block del --client-id evil || fail "block del --client-id"
mosquitto_pub -h "$MQTT_HOST" -p "$MQTT_PORT" -i evil -t k/x -m y || fail "unblocked id still refused"
ok "[moat] unblock client lets it back"
$CTL block add --user eve || fail "block add --user"
if mosquitto_pub -h "$MQTT_HOST" -p "$MQTT_PORT" -u eve -t k/x -m y 2>/dev/null; then
    fail "blocked username could publish"
fi
ok "[MQTT-3.2.2.3] blocked username refused"
$CTL --no-daemon block list >/dev/null 2>&1 || true
$CTL block names | grep -q '"type":"user","name":"eve"' || fail "block names misses user eve"
ok "[moat] client-id and username blocks listed"
[ "$($CTL kick --user eve)" = "kicked 0" ] || fail "kick --user"
ok "[moat] kick --user"
$CTL events | grep -q '^\[' || fail "events is not a JSON list"
ok "[moat] events answers"
$CTL kick --ip 300.0.0.0/8 2>/dev/null && fail "bad CIDR accepted"
ok "[moat] bad CIDR is a usage error"
$CTL broker stats | grep -q '"conns_accepted":' || fail "broker stats"
ok "[moat] broker stats"
$CTL reload | grep -q reloaded || fail "reload"
ok "[moat] reload"

printf 'secret1\n' | $CTL passwd --stdin "$pwf" alice || fail "passwd add"
grep -q '^alice:\$argon2id\$v=19\$m=19456,t=2,p=1\$' "$pwf" || fail "passwd: no argon2id line"
[ "$(stat -c %a "$pwf")" = 600 ] || fail "passwd file not 0600"
ok "[moat] moatctl passwd writes an argon2id line, mode 0600"
$CTL passwd -D "$pwf" alice || fail "passwd -D"
grep -q '^alice:' "$pwf" && fail "passwd -D left the user"
ok "[moat] moatctl passwd -D deletes the user"
