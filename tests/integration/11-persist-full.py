"""A full store [issue 6]: with a small moat_persistence_map_size, an offline
persistent subscriber and a publisher sending QoS 1 messages until the map
is full. The broker must refuse the message that does not fit (no PUBACK,
the publisher's connection closed), log it, keep serving, and keep every
message it acknowledged: after a restart all of them are delivered, in
order, and the store opens without error. Runs its own moatd (binary of
BROKER_PID, config derived from BROKER_CONF)."""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import mqttraw as R

if os.environ.get("BROKER", "moatd") != "moatd":
    print("persistence test of moatd's store")
    sys.exit(77)

BIN = os.readlink("/proc/%s/exe" % os.environ["BROKER_PID"])
TMP = tempfile.mkdtemp(prefix="moat-11-full.")
OVERRIDE = {"listener", "control_socket", "persistence", "persistence_location",
            "max_queued_messages", "log_dest"}
s = socket.socket()
s.bind(("127.0.0.1", 0))
PORT = s.getsockname()[1]
s.close()
CONF = os.path.join(TMP, "moatd.conf")
LOG = os.path.join(TMP, "moatd.log")
with open(os.environ["BROKER_CONF"]) as f:
    base = [l for l in f if l.split(" ", 1)[0].strip() not in OVERRIDE]
with open(CONF, "w") as f:
    f.writelines(base)
    f.write("listener %d 127.0.0.1\ncontrol_socket %s/ctl\npersistence true\n"
            "persistence_location %s/db\nmoat_persistence_map_size 1048576\n"
            "max_queued_messages 0\n" % (PORT, TMP, TMP))
proc = None


def start():
    global proc
    proc = subprocess.Popen([BIN, "-c", CONF], stdout=open(LOG, "ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            R.fail("moatd exited at start: %s" % open(LOG, "rb").read()[-1000:])
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    R.fail("moatd did not listen")


try:
    start()
    c = R.Conn(port=PORT)
    c.connect("full-sub", clean=False)
    c.subscribe(1, [("full/#", 1)])
    c.send(R.DISCONNECT_BYTES)
    c.close()

    payload = os.urandom(3000)
    acked, refused = [], False
    pub = R.Conn(port=PORT)
    pub.connect("full-pub")
    for i in range(2000):          # 6 MB: far more than the 1 MiB map
        pub.send(R.publish("full/t", b"%05d" % i + payload, qos=1, pid=1 + i))
        try:
            p = pub.recv(timeout=5)
        except R.Closed:
            refused = True
            break
        if p.type != R.PUBACK or p.pid() != 1 + i:
            R.fail("unexpected %r" % p)
        acked.append(i)
    pub.close()
    R.check(refused and acked, "issue-6",
            "a full store refuses the message that does not fit: connection closed without "
            "PUBACK after %d acknowledged" % len(acked))
    log = open(LOG, "rb").read().decode(errors="replace")
    R.check("store full" in log and "refusing new persistent work" in log, "issue-6",
            "the refusal is logged with its cause: %s" % log[-600:])
    probe = R.Conn(port=PORT)
    probe.connect("full-probe")
    probe.send(R.PINGREQ_BYTES)
    probe.expect(R.PINGRESP)
    probe.close()
    R.check(True, "issue-6", "broker still serves clients after the refusal")

    proc.send_signal(signal.SIGKILL)
    proc.wait()
    start()
    c = R.Conn(port=PORT)
    R.check(c.connect("full-sub", clean=False) == 1, "MQTT-3.2.2-2", "session present")
    got = []
    while True:
        try:
            p = c.recv(timeout=1.5)
        except (socket.timeout, R.Closed):
            break
        if p.type == R.PUBLISH:
            m = p.publish()
            got.append(int(m["payload"][:5]))
            c.send(R.ack(R.PUBACK, m["pid"]))
    R.check(got == acked, "MQTT-4.6.0-2",
            "exactly the acknowledged messages delivered after a crash, in order "
            "(%d delivered, %d acknowledged)" % (len(got), len(acked)))
    c.close()
finally:
    if proc and proc.poll() is None:
        proc.kill()
    shutil.rmtree(TMP, ignore_errors=True)
