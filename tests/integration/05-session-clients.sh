# Persistent session with mosquitto_sub -c (clean session 0): while it is
# offline, QoS 1 messages from mosquitto_pub are queued and delivered on
# reconnect [MQTT-3.1.2-4, MQTT-3.1.2-5].
set -u
H=(-h "$MQTT_HOST" -p "$MQTT_PORT")
out=$(mktemp); trap 'rm -f "$out"' EXIT
# Create the session and its subscription, then leave (-E: exit after SUBACK).
timeout 10 mosquitto_sub "${H[@]}" -i sc-persist -c -q 1 -t sc/t -E ||
    { echo "FAIL: mosquitto_sub -E failed"; exit 1; }
for i in 1 2 3 4 5; do
    mosquitto_pub "${H[@]}" -t sc/t -q 1 -m "m$i" || { echo "FAIL: mosquitto_pub"; exit 1; }
done
timeout 10 mosquitto_sub "${H[@]}" -i sc-persist -c -q 1 -t sc/t -C 5 > "$out" ||
    { echo "FAIL: [MQTT-3.1.2-5] queued messages not delivered on reconnect; got:"; cat "$out"; exit 1; }
if [ "$(tr '\n' ' ' < "$out")" != "m1 m2 m3 m4 m5 " ]; then
    echo "FAIL: [MQTT-3.1.2-5] got: $(tr '\n' ' ' < "$out")"; exit 1
fi
echo "ok [MQTT-3.1.2-5] 5 queued QoS 1 messages delivered in order on reconnect"
