# mosquitto_pub / mosquitto_sub (Debian mosquitto-clients) interoperate:
# QoS 0/1/2 messages reach a subscriber, and -C exits after N messages.
set -eu
out=$(mktemp); trap 'rm -f "$out"' EXIT
timeout 10 mosquitto_sub -h "$MQTT_HOST" -p "$MQTT_PORT" -i cli-sub -t 'cli/#' -q 2 -C 3 -v > "$out" &
sp=$!
sleep 0.5
for q in 0 1 2; do
    mosquitto_pub -h "$MQTT_HOST" -p "$MQTT_PORT" -i cli-pub-$q -t cli/q$q -m "m$q" -q $q
done
wait $sp || { echo "FAIL: mosquitto_sub did not receive 3 messages: $(cat "$out")"; exit 1; }
want=$'cli/q0 m0\ncli/q1 m1\ncli/q2 m2'
if [ "$(cat "$out")" != "$want" ]; then
    echo "FAIL: [MQTT-4.6.0] mosquitto_sub got:"; cat "$out"; exit 1
fi
echo "ok [MQTT-4.3] mosquitto_pub QoS 0/1/2 -> mosquitto_sub"
# A file payload (binary, 64 KiB) round trip with -f / -N.
head -c 65536 /dev/urandom > "$out.in"
timeout 10 mosquitto_sub -h "$MQTT_HOST" -p "$MQTT_PORT" -t cli/bin -C 1 -N > "$out.got" &
sp=$!; sleep 0.5
mosquitto_pub -h "$MQTT_HOST" -p "$MQTT_PORT" -t cli/bin -f "$out.in" -q 1
wait $sp || { echo "FAIL: binary message not received"; rm -f "$out".*; exit 1; }
cmp "$out.in" "$out.got" || { echo "FAIL: [MQTT-3.3.3] binary payload altered"; rm -f "$out".*; exit 1; }
rm -f "$out".*
echo "ok [MQTT-3.3.3] 64 KiB binary payload intact"
