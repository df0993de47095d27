"""Persistence across restarts [issue 6]: retained messages, clean-session-0
sessions (subscriptions, queued QoS 1/2 messages) survive a clean restart
(SIGTERM) and a crash (SIGKILL); clean session 1 discards the stored
session [MQTT-3.1.2-6]; with persistence_key_file no payload, topic name or
client id is readable in the store files; a wrong key, a key file readable
by others, a flipped byte and a truncated file each make moatd refuse to
start, naming what failed. Runs its own moatd (binary of BROKER_PID, config
derived from BROKER_CONF) on another port and store directory."""
import hashlib
import hmac
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
TMP = tempfile.mkdtemp(prefix="moat-11-restart.")
OVERRIDE = {"listener", "control_socket", "persistence", "persistence_location",
            "persistence_key_file", "log_dest"}
with open(os.environ["BROKER_CONF"]) as f:
    BASE = [l for l in f if l.split(" ", 1)[0].strip() not in OVERRIDE]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Broker:
    def __init__(self, name, key=None):
        self.dir = os.path.join(TMP, name)
        os.makedirs(self.dir)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "moatd.conf")
        self.db = os.path.join(self.dir, "db")
        self.key = key
        with open(self.conf, "w") as f:
            f.writelines(BASE)
            f.write("listener %d 127.0.0.1\ncontrol_socket %s/ctl\npersistence true\n"
                    "persistence_location %s\n" % (self.port, self.dir, self.db))
            if key:
                f.write("persistence_key_file %s\n" % key)
        self.proc = None
        self.log = os.path.join(self.dir, "moatd.log")

    def start(self):
        self.proc = subprocess.Popen([BIN, "-c", self.conf], stdout=open(self.log, "ab"),
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                R.fail("moatd exited at start: %s" % self.tail())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        R.fail("moatd did not listen")

    def refuses(self, stmt, what, needle):
        """moatd must exit non-zero at start with needle in its message."""
        p = subprocess.run([BIN, "-c", self.conf], capture_output=True, timeout=10)
        out = (p.stdout + p.stderr).decode(errors="replace")
        R.check(p.returncode != 0 and needle in out, stmt,
                "%s: moatd refuses to start (rc %d): %s" % (what, p.returncode, out.strip()[-300:]))

    def stop(self, sig):
        self.proc.send_signal(sig)
        self.proc.wait(timeout=10)

    def tail(self):
        with open(self.log, "rb") as f:
            return f.read()[-1500:].decode(errors="replace")

    def conn(self):
        return R.Conn(port=self.port)

    def files(self):
        return b"".join(open(os.path.join(self.db, n), "rb").read() for n in os.listdir(self.db))


def drain(c, timeout=1.0):
    """Every PUBLISH until idle, acknowledged; QoS 2 completed."""
    got = []
    while True:
        try:
            p = c.recv(timeout)
        except (socket.timeout, R.Closed):
            return got
        if p.type == R.PUBLISH:
            m = p.publish()
            got.append(m)
            if m["qos"] == 1:
                c.send(R.ack(R.PUBACK, m["pid"]))
            elif m["qos"] == 2:
                c.send(R.ack(R.PUBREC, m["pid"]))
        elif p.type == R.PUBREL:
            c.send(R.ack(R.PUBCOMP, p.pid()))


def publish(b, topic, payload, qos, retain=False):
    c = b.conn()
    c.connect("pub-%d" % os.getpid())
    c.send(R.publish(topic, payload, qos=qos, retain=retain, pid=7))
    if qos == 1:
        c.expect(R.PUBACK)
    elif qos == 2:
        c.expect(R.PUBREC)
        c.send(R.ack(R.PUBREL, 7))
        c.expect(R.PUBCOMP)
    c.send(R.DISCONNECT_BYTES)
    c.close()


def retained_of(b, flt):
    c = b.conn()
    c.connect("")
    c.subscribe(1, [(flt, 1)])
    got = drain(c, 0.7)
    c.close()
    return sorted((m["topic"], m["payload"]) for m in got if m["retain"])


def session_cycle(b, tag, topic_a, topic_b, payload):
    """Session with two subscriptions, offline; queue one QoS 1 and one
    QoS 2 message and set a retained message."""
    c = b.conn()
    R.check(c.connect("sess-%s" % tag, clean=False) == 0, "MQTT-3.2.2-3", "new session")
    c.subscribe(1, [(topic_a + "/#", 1), (topic_b + "/+", 2)])
    c.send(R.DISCONNECT_BYTES)
    c.close()
    publish(b, topic_a + "/x", payload + b"-q1", 1)
    publish(b, topic_b + "/y", payload + b"-q2", 2)
    publish(b, topic_a + "/retained", payload + b"-ret", 1, retain=True)


def expect_session(b, tag, topic_a, topic_b, payload, when):
    c = b.conn()
    R.check(c.connect("sess-%s" % tag, clean=False) == 1, "MQTT-3.2.2-2",
            "session present after %s" % when)
    got = sorted((m["topic"], m["payload"], m["qos"]) for m in drain(c))
    want = sorted([(topic_a + "/x", payload + b"-q1", 1), (topic_b + "/y", payload + b"-q2", 2),
                   (topic_a + "/retained", payload + b"-ret", 1)])
    R.check(got == want, "MQTT-4.1", "queued messages delivered after %s: %r" % (when, got))
    # The subscriptions came back too: a live message is routed.
    publish(b, topic_b + "/live", b"live", 2)
    live = [m["payload"] for m in drain(c, 1.0)]
    R.check(live == [b"live"], "MQTT-4.1", "subscriptions restored after %s" % when)
    c.send(R.DISCONNECT_BYTES)
    c.close()
    R.check(retained_of(b, topic_a + "/#") == [(topic_a + "/retained", payload + b"-ret")],
            "MQTT-3.3.1-5", "retained message restored after %s" % when)


def key_id(raw):
    """HKDF-SHA256(salt 'moat-store-1', info 'moat store key id'), 4 bytes."""
    prk = hmac.new(b"moat-store-1", raw, hashlib.sha256).digest()
    okm = hmac.new(prk, b"moat store key id" + b"\x01", hashlib.sha256).digest()[:4]
    return okm if okm != b"\0\0\0\0" else b"\0\0\0\1"


def write_key(path, raw, mode=0o600):
    with open(path, "w") as f:
        f.write(raw.hex() + "\n")
    os.chmod(path, mode)


def flip_all(path, needle, offset):
    """Flips one byte at needle+offset in every copy of needle in the file
    (LMDB keeps older page copies: the live one is among them)."""
    data = bytearray(open(path, "rb").read())
    n, i = 0, data.find(needle)
    while i >= 0:
        if i + offset < len(data):
            data[i + offset] ^= 0x01
            n += 1
        i = data.find(needle, i + 1)
    open(path, "wb").write(bytes(data))
    return n


try:
    # ---- plain store: clean restart, crash, clean session 1 ----
    b = Broker("plain")
    b.start()
    # A session without subscriptions is stored at CONNECT [MQTT-3.1.2-4].
    c = b.conn()
    c.connect("bare", clean=False)
    c.send(R.DISCONNECT_BYTES)
    c.close()
    session_cycle(b, "p1", "plain/a", "plain/b", b"plainpayload")
    b.stop(signal.SIGTERM)
    b.start()
    expect_session(b, "p1", "plain/a", "plain/b", b"plainpayload", "a clean restart")
    c = b.conn()
    R.check(c.connect("bare", clean=False) == 1, "MQTT-3.1.2-4",
            "a session without subscriptions survives a restart")
    c.close()
    session_cycle(b, "p2", "crash/a", "crash/b", b"crashpayload")
    b.stop(signal.SIGKILL)
    b.start()
    expect_session(b, "p2", "crash/a", "crash/b", b"crashpayload", "a crash (SIGKILL)")
    # Unsubscribe is stored too.
    c = b.conn()
    c.connect("sess-p2", clean=False)
    c.send(R.unsubscribe(3, ["crash/b/+"]))
    c.expect(R.UNSUBACK)
    c.send(R.DISCONNECT_BYTES)
    c.close()
    # Clean session 1 discards the stored session of sess-p1 [MQTT-3.1.2-6].
    c = b.conn()
    c.connect("sess-p1", clean=True)
    c.send(R.DISCONNECT_BYTES)
    c.close()
    b.stop(signal.SIGKILL)
    b.start()
    c = b.conn()
    R.check(c.connect("sess-p1", clean=False) == 0, "MQTT-3.1.2-6",
            "a session ended by clean session 1 is gone after a restart")
    c.close()
    c = b.conn()
    c.connect("sess-p2", clean=False)
    publish(b, "crash/b/z", b"after-unsub", 1)
    got = [m["payload"] for m in drain(c, 0.7)]
    R.check(got == [], "MQTT-3.10.4-1", "an unsubscription survives a crash: %r" % got)
    c.close()
    b.stop(signal.SIGTERM)
    # Flipped byte in a plain record: the CRC catches it.
    R.check(flip_all(os.path.join(b.db, "moat.lmdb"), b"plainpayload-ret", 2) > 0, "issue-6",
            "payload found in the unencrypted store (so it can be flipped)")
    b.refuses("issue-6", "flipped byte in an unencrypted record", "checksum mismatch")

    # ---- encrypted store ----
    raw = os.urandom(32)
    key = os.path.join(TMP, "store.key")
    write_key(key, raw)
    e = Broker("enc", key)
    e.start()
    session_cycle(e, "secret-client-id", "secret-topic-alpha", "secret-topic-beta", b"SECRET-PAYLOAD")
    e.stop(signal.SIGKILL)
    img = e.files()
    for needle in (b"SECRET-PAYLOAD", b"secret-topic", b"secret-client-id", b"alpha", b"beta"):
        R.check(needle not in img, "issue-6", "encrypted store files do not contain %r" % needle)
    e.start()
    expect_session(e, "secret-client-id", "secret-topic-alpha", "secret-topic-beta",
                   b"SECRET-PAYLOAD", "a crash, encrypted")
    e.stop(signal.SIGTERM)
    img = e.files()
    R.check(b"SECRET-PAYLOAD" not in img and b"secret-topic" not in img, "issue-6",
            "still no plaintext after the session ran")

    # Wrong key, then a key file others can read: both refused.
    write_key(key, os.urandom(32))
    e.refuses("issue-6", "wrong key", "wrong key")
    write_key(key, raw, 0o644)
    e.refuses("issue-6", "key file readable by group/other", "owner-only")
    write_key(key, raw)
    e.start()          # the right key opens it again
    e.stop(signal.SIGTERM)

    # A flipped byte in every encrypted record copy: authentication fails.
    path = os.path.join(e.db, "moat.lmdb")
    saved = open(path, "rb").read()
    hdr = b"\x01\x01" + key_id(raw)
    R.check(flip_all(path, hdr, 6 + 12 + 1) > 0, "issue-6", "encrypted records found by header")
    e.refuses("issue-6", "flipped byte in an encrypted record", "authentication failed")
    open(path, "wb").write(saved)

    # Truncated file.
    os.truncate(path, len(saved) // 2)
    e.refuses("issue-6", "truncated store file", "truncated")
finally:
    for br in list(globals().values()):
        if isinstance(br, Broker) and br.proc and br.proc.poll() is None:
            br.proc.kill()
    shutil.rmtree(TMP, ignore_errors=True)
