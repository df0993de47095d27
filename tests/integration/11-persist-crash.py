"""Crash test of the durable store [issue 6]: a persistent (clean session 0)
QoS 2 subscriber is offline while a publisher streams QoS 1 and QoS 2
messages; moatd is killed with SIGKILL at a random point, several rounds,
and restarted each time. Then the subscriber drains its session, and moatd
is killed once more in the middle of that (messages in flight). Every
message the broker acknowledged (PUBACK / PUBREC) must be delivered, QoS 2
exactly once [MQTT-4.3.3], QoS 1 at least once [MQTT-4.3.2], nothing that
was never published. The test runs its own moatd (binary of BROKER_PID,
config derived from BROKER_CONF) on another port and store directory."""
import os
import random
import select
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

ROUNDS = int(os.environ.get("PERSIST_ROUNDS", "6"))
PER_ROUND = 4000
SEED = int(os.environ.get("PERSIST_SEED", str(int(time.time()))))
random.seed(SEED)
print("seed %d" % SEED)

BIN = os.readlink("/proc/%s/exe" % os.environ["BROKER_PID"])
TMP = tempfile.mkdtemp(prefix="moat-11-crash.")
OVERRIDE = {"listener", "control_socket", "max_queued_messages", "max_inflight_messages",
            "persistence", "persistence_location", "log_dest"}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


PORT = free_port()
CONF = os.path.join(TMP, "moatd.conf")
with open(os.environ["BROKER_CONF"]) as f:
    base = [l for l in f if l.split(" ", 1)[0].strip() not in OVERRIDE]
with open(CONF, "w") as f:
    f.writelines(base)
    f.write("listener %d 127.0.0.1\ncontrol_socket %s/ctl\nmax_queued_messages 0\n"
            "max_inflight_messages 10\npersistence true\npersistence_location %s/db\n"
            % (PORT, TMP, TMP))

proc = None
LOG = open(os.path.join(TMP, "moatd.log"), "ab")


def start():
    global proc
    proc = subprocess.Popen([BIN, "-c", CONF], stdout=LOG, stderr=LOG)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            R.fail("moatd exited at start (rc %s): %s" % (proc.returncode, tail()))
        try:
            socket.create_connection(("127.0.0.1", PORT), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    R.fail("moatd did not listen on %d" % PORT)


def kill():
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def tail():
    LOG.flush()
    with open(os.path.join(TMP, "moatd.log"), "rb") as f:
        return f.read()[-2000:].decode(errors="replace")


def conn():
    return R.Conn(port=PORT, timeout=5)


def cleanup():
    if proc and proc.poll() is None:
        kill()
    shutil.rmtree(TMP, ignore_errors=True)


sent = {}          # payload -> qos, for every message ever written to a socket
acked = set()      # payloads the broker acknowledged before it was killed


def publish_round(rnd):
    """Stream PER_ROUND messages, kill moatd at a random moment."""
    c = conn()
    c.connect("crash-pub-%d" % rnd, clean=True)
    c.sock.setblocking(False)
    # Random point: after a random number of messages written plus a
    # random delay of up to 5 ms (acks are then still in flight).
    kill_i = random.randint(100, PER_ROUND - 1)
    kill_at = float("inf")
    deadline = time.monotonic() + 20
    pid_payload = {}
    i = 0
    out = b""
    while time.monotonic() < min(kill_at, deadline):
        if i == kill_i and kill_at == float("inf"):
            kill_at = time.monotonic() + random.uniform(0, 0.005)
        if i < PER_ROUND and len(out) < 8192:
            qos = 1 + (i % 2)
            payload = ("r%d-m%05d-q%d" % (rnd, i, qos)).encode()
            pid = i + 1
            pid_payload[pid] = payload
            sent[payload] = qos
            out += R.publish("crash/%d" % (i % 7), payload, qos=qos, pid=pid)
            i += 1
        r, w, _ = select.select([c.sock], [c.sock] if out else [], [], 0.002)
        if w and out:
            try:
                n = c.sock.send(out)
                out = out[n:]
            except BlockingIOError:
                pass
        if r:
            try:
                data = c.sock.recv(65536)
            except BlockingIOError:
                data = b""
            c.buf += data
            while True:
                try:
                    p = c.recv(timeout=0.0001) if c.buf else None
                except (socket.timeout, BlockingIOError):
                    p = None
                if p is None:
                    break
                if p.type in (R.PUBACK, R.PUBREC):
                    acked.add(pid_payload[p.pid()])
                    if p.type == R.PUBREC:
                        out += R.ack(R.PUBREL, p.pid())
        if i >= PER_ROUND and not out and len(acked) >= len(sent):
            break
    kill()
    c.close()
    print("round %d: %d messages written, %d acknowledged in total" % (rnd, i, len(acked)))


class Subscriber:
    """A QoS 2 receiver with method B state kept across connections, as a
    real client's session: a pid awaiting PUBREL is not delivered again."""

    def __init__(self):
        self.delivered = {}
        self.awaiting_rel = set()
        self.c = None

    def connect(self):
        self.c = conn()
        return self.c.connect("crash-sub", clean=False)

    def pump(self, idle=1.5, stop_after=None):
        """Receive and acknowledge until idle; with stop_after, return
        after that many PUBLISHes without acknowledging the last one."""
        n = 0
        while True:
            try:
                p = self.c.recv(timeout=idle)
            except (socket.timeout, R.Closed):
                return n
            if p.type == R.PUBLISH:
                m = p.publish()
                n += 1
                if stop_after is not None and n >= stop_after:
                    return n          # killed before it acknowledges this one
                if m["qos"] == 1:
                    self.delivered[m["payload"]] = self.delivered.get(m["payload"], 0) + 1
                    self.c.send(R.ack(R.PUBACK, m["pid"]))
                elif m["qos"] == 2:
                    if m["pid"] not in self.awaiting_rel:
                        self.delivered[m["payload"]] = self.delivered.get(m["payload"], 0) + 1
                        self.awaiting_rel.add(m["pid"])
                    self.c.send(R.ack(R.PUBREC, m["pid"]))
                else:
                    R.fail("QoS 0 delivery of %r to a QoS 2 subscription of QoS 1/2 messages" % m)
            elif p.type == R.PUBREL:
                self.awaiting_rel.discard(p.pid())
                self.c.send(R.ack(R.PUBCOMP, p.pid()))


try:
    start()
    sub = Subscriber()
    sub.connect()
    granted = sub.c.subscribe(1, [("crash/#", 2)])
    R.check(granted == [2], "MQTT-3.8.4-6", "persistent subscriber granted QoS 2")
    sub.c.send(R.DISCONNECT_BYTES)
    sub.c.close()
    for rnd in range(ROUNDS):
        if rnd:
            start()
        publish_round(rnd)
    R.check(len(acked) > 0, "issue-6", "some messages were acknowledged before the kills")

    # Drain with two more crashes while messages are in flight to the subscriber.
    for crash in range(2):
        start()
        sp = sub.connect()
        R.check(sp == 1, "MQTT-3.2.2-2", "session present after restart %d" % crash)
        sub.pump(idle=2.0, stop_after=random.randint(5, 200))
        kill()
        sub.c.close()
    start()
    sub.connect()
    sub.pump(idle=2.0)
    sub.c.send(R.DISCONNECT_BYTES)
    sub.c.close()

    missing = sorted(p for p in acked if p not in sub.delivered)
    R.check(not missing, "MQTT-4.3.2/4.3.3",
            "every acknowledged message delivered after the crashes (%d acked, %d missing %r)"
            % (len(acked), len(missing), missing[:5]))
    twice = sorted(p for p, n in sub.delivered.items() if sent.get(p) == 2 and n > 1)
    R.check(not twice, "MQTT-4.3.3", "no QoS 2 message delivered twice (%r)" % twice[:5])
    alien = sorted(p for p in sub.delivered if p not in sent)
    R.check(not alien, "MQTT-4.3", "nothing delivered that was not published (%r)" % alien[:5])
    dup1 = sum(n - 1 for p, n in sub.delivered.items() if sent.get(p) == 1)
    print("delivered %d distinct (%d QoS 1 duplicates allowed by [MQTT-4.3.2]); %d sent"
          % (len(sub.delivered), dup1, len(sent)))
    if "error" in tail() and "store" in tail():
        print(tail())
finally:
    cleanup()
