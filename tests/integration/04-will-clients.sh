# mosquitto_sub with --will-* killed by SIGKILL (no DISCONNECT): the Will is
# published [MQTT-3.1.2-8]; one that exits normally (-C 1, sends DISCONNECT)
# leaves no Will [MQTT-3.1.2-10]. Debian mosquitto-clients.
set -u
H=(-h "$MQTT_HOST" -p "$MQTT_PORT")
out=$(mktemp); trap 'rm -f "$out"; kill $(jobs -p) 2>/dev/null' EXIT
timeout 15 mosquitto_sub "${H[@]}" -i wc-watch -t 'wc/#' -v -q 1 > "$out" &
sleep 0.5
mosquitto_sub "${H[@]}" -i wc-victim -t wc/none --will-topic wc/will --will-payload died --will-qos 1 &
victim=$!
sleep 0.5
kill -KILL $victim; wait $victim 2>/dev/null
timeout 10 mosquitto_sub "${H[@]}" -i wc-clean -t wc/bye -C 1 --will-topic wc/will --will-payload clean-exit &
clean=$!
sleep 0.5
mosquitto_pub "${H[@]}" -t wc/bye -m bye
wait $clean
sleep 1
if ! grep -qx 'wc/will died' "$out"; then
    echo "FAIL: [MQTT-3.1.2-8] will of SIGKILLed mosquitto_sub not published; got:"; cat "$out"; exit 1
fi
echo "ok [MQTT-3.1.2-8] will published after SIGKILL"
if grep -q 'clean-exit' "$out"; then
    echo "FAIL: [MQTT-3.1.2-10] will published after a normal DISCONNECT"; cat "$out"; exit 1
fi
echo "ok [MQTT-3.1.2-10] no will after mosquitto_sub's DISCONNECT"
