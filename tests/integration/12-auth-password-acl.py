"""Authentication and authorization [issue 5] through a running moatd with
a mosquitto_passwd file and a mosquitto ACL file: CONNACK 0/4/5
[MQTT-3.2.2.3], packets pipelined behind a CONNECT that is being verified
[MQTT-3.1.4-5], denied SUBSCRIBE answered 0x80 [MQTT-3.9.3], denied PUBLISH
not delivered but acknowledged, ACL on delivery, connect-from, and a reload
(SIGHUP) that closes connections whose user was deleted. Starts its own
moatd (BROKER_BIN) on another port."""
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
    sys.exit(77)   # moat's own ACL additions; mosquitto runs its own suite

TMP = tempfile.mkdtemp(prefix="moat-12-auth.")
PW = os.path.join(TMP, "passwd")
ACL = os.path.join(TMP, "acl")
subprocess.run(["mosquitto_passwd", "-c", "-b", PW, "alice", "wonderland"], check=True)
subprocess.run(["mosquitto_passwd", "-b", PW, "bob", "builder"], check=True)
subprocess.run(["mosquitto_passwd", "-b", PW, "mallory", "evil"], check=True)
with open(ACL, "w") as f:
    f.write("user alice\ntopic readwrite sensors/#\ntopic read public/#\n"
            "user bob\ntopic read sensors/#\ntopic write public/bob\n"
            "user mallory\nconnect-from 198.18.0.0/15\ntopic readwrite #\n"
            "pattern readwrite users/%u/#\n")
s = socket.socket()
s.bind(("127.0.0.1", 0))
PORT = s.getsockname()[1]
s.close()
CONF = os.path.join(TMP, "moatd.conf")
with open(CONF, "w") as f:
    f.write("listener %d 127.0.0.1\nallow_anonymous false\npassword_file %s\nacl_file %s\n"
            "control_socket %s/ctl\nsys_interval 0\n" % (PORT, PW, ACL, TMP))
LOG = open(os.path.join(TMP, "log"), "w")
proc = subprocess.Popen([os.environ["BROKER_BIN"], "-c", CONF], stdout=LOG, stderr=subprocess.STDOUT)


def cleanup():
    if proc.poll() is None:
        proc.terminate()
        proc.wait(10)
    LOG.close()
    print(open(os.path.join(TMP, "log")).read()[-3000:])   # shown when the test fails
    shutil.rmtree(TMP, ignore_errors=True)


import atexit
atexit.register(cleanup)
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", PORT), 0.2).close()
        break
    except OSError:
        time.sleep(0.05)


def conn():
    return R.Conn(port=PORT)


def connack(**kw):
    c = conn()
    c.send(R.connect(**kw))
    return c, c.expect(R.CONNACK, what="CONNACK").connack()[1]


_, rc = connack(client_id="a1", username="alice", password="wonderland")
R.check(rc == 0, "MQTT-3.2.2.3", "right password: CONNACK 0")
_, rc = connack(client_id="a2", username="alice", password="wrong")
R.check(rc == 4, "MQTT-3.2.2.3", "wrong password: CONNACK 4 (bad user name or password)")
_, rc = connack(client_id="a3", username="nobody", password="x")
R.check(rc == 4, "MQTT-3.2.2.3", "unknown user: CONNACK 4")
_, rc = connack(client_id="a4")
R.check(rc == 5, "MQTT-3.2.2.3", "anonymous with allow_anonymous false: CONNACK 5")
_, rc = connack(client_id="m1", username="mallory", password="evil")
R.check(rc == 5, "moat", "connect-from 198.18.0.0/15 refuses a loopback source: CONNACK 5")

# CONNECT and SUBSCRIBE in one write: the SUBSCRIBE waits while the hash is
# verified off the engine thread, then is answered after CONNACK.
c = conn()
c.send(R.connect(client_id="pipe", username="alice", password="wonderland") +
       R.subscribe(7, [("sensors/#", 1), ("secret/#", 1)]))
R.check(c.expect(R.CONNACK).connack()[1] == 0, "MQTT-3.1.4-5", "pipelined CONNECT accepted")
pid, codes = c.expect(R.SUBACK, what="SUBACK after CONNACK").suback()
R.check(pid == 7 and list(codes) == [1, 0x80], "MQTT-3.9.3",
        "SUBACK grants sensors/# and answers 0x80 for the denied secret/# (got %r)" % (list(codes),))

# bob may write public/bob and read sensors/#, not write sensors/x.
b = conn()
b.connect("bob1", username="bob", password="builder")
a = conn()
a.connect("alice1", username="alice", password="wonderland")
R.check(list(a.subscribe(1, [("public/#", 1)])) == [1], "MQTT-3.8.4", "alice subscribes public/#")
b.send(R.publish("sensors/x", b"forged", qos=1, pid=5))
R.check(b.expect(R.PUBACK).pid() == 5, "moat", "denied PUBLISH still acknowledged (client not stuck)")
b.send(R.publish("public/bob", b"hello", qos=1, pid=6))
b.expect(R.PUBACK)
m = a.expect(R.PUBLISH, what="public/bob delivered").publish()
R.check(m["topic"] == "public/bob" and m["payload"] == b"hello", "moat", "allowed PUBLISH delivered")
if m["qos"]:
    a.send(R.ack(R.PUBACK, m["pid"]))
# the pipelined alice subscriber on sensors/# must not have seen the forged message
try:
    got = c.recv(1.0)
    R.check(got.type != R.PUBLISH, "moat", "denied PUBLISH not delivered")
except socket.timeout:
    R.check(True, "moat", "denied PUBLISH not delivered")

# Reload after deleting bob and narrowing alice to write-only on sensors/#:
# bob's live connection is closed, and the pipelined client's sensors/#
# subscription, which the new ACL denies, is removed.
subprocess.run(["mosquitto_passwd", "-D", PW, "bob"], check=True)
with open(ACL, "w") as f:
    f.write("user alice\ntopic write sensors/#\ntopic read public/#\n"
            "pattern readwrite users/%u/#\n")
proc.send_signal(signal.SIGHUP)
R.check(b.wait_closed(5.0) is not None, "moat", "SIGHUP reload closes a deleted user's connection")
_, rc = connack(client_id="b2", username="bob", password="builder")
R.check(rc == 4, "moat", "deleted user refused after reload")
R.check(a.wait_closed(0.5) is None, "moat", "other users stay connected across the reload")
a.send(R.publish("sensors/after", b"x", qos=1, pid=9))
a.expect(R.PUBACK)
try:
    got = c.recv(1.0)
    R.check(got.type != R.PUBLISH, "moat", "subscription denied by the reloaded ACL removed")
except socket.timeout:
    R.check(True, "moat", "subscription denied by the reloaded ACL removed")
# A bad ACL on reload keeps the old policy and names file:line.
with open(ACL, "w") as f:
    f.write("user alice\ntopic sideways sensors/#\n")
proc.send_signal(signal.SIGHUP)
time.sleep(0.5)
logtext = open(os.path.join(TMP, "log")).read()
R.check("reload failed" in logtext and ":2:" in logtext, "moat",
        "bad ACL on reload: old policy kept, error names file:line")
_, rc = connack(client_id="a9", username="alice", password="wonderland")
R.check(rc == 0, "moat", "still serving with the old policy")
R.check(proc.poll() is None, "robustness", "moatd still running")
