"""QoS 1 throughput to a persistent (clean session 0) subscriber [issue 6].
In the suite: a smoke run (moatd, durable store) that checks every message
arrives. With PERSIST_BENCH=1: the comparison of docs/persistence.md, in
one run on this machine: moatd without persistence, moatd with durable
commits (plain and AES-256-GCM), moatd with moat_persistence_fsync false,
and mosquitto with persistence true (its default autosave_interval 1800).
One publisher (window PERSIST_WINDOW) and one subscriber that acks at
once, over loopback; the generator is this single Python process, so the
fastest rows show its ceiling, not the broker's.
  PERSIST_BENCH=1 PERSIST_COUNT=50000 BROKER_PID=... BROKER_CONF=... \\
      /usr/bin/python3 tests/integration/11-persist-bench.py"""
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

import mqttraw as R

if os.environ.get("BROKER", "moatd") != "moatd":
    print("persistence benchmark of moatd's store")
    sys.exit(77)

FULL = os.environ.get("PERSIST_BENCH") == "1"
COUNT = int(os.environ.get("PERSIST_COUNT", "50000" if FULL else "3000"))
WINDOW = int(os.environ.get("PERSIST_WINDOW", "100"))
SIZE = int(os.environ.get("PERSIST_SIZE", "64"))
BIN = os.environ.get("MOATD") or os.readlink("/proc/%s/exe" % os.environ["BROKER_PID"])
TMP = tempfile.mkdtemp(prefix="moat-11-bench.", dir=os.environ.get("PERSIST_DIR"))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def start(argv, port, log):
    p = subprocess.Popen(argv, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if p.poll() is not None:
            R.fail("broker exited at start: %s" % open(log, "rb").read()[-800:])
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p
        except OSError:
            time.sleep(0.02)
    R.fail("broker did not listen")


LAST = [""]


def moatd(name, extra):
    d = os.path.join(TMP, name)
    LAST[0] = name
    os.makedirs(d)
    port = free_port()
    conf = os.path.join(d, "moatd.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\ncontrol_socket %s/ctl\n"
                "max_inflight_messages %d\nmax_queued_messages 0\nconnection_messages false\n"
                "sys_interval 0\n%s" % (port, d, WINDOW, "".join(l + "\n" for l in extra)))
    return start([BIN, "-c", conf], port, os.path.join(d, "log")), port


def mosquitto(name):
    d = os.path.join(TMP, name)
    LAST[0] = name
    os.makedirs(d)
    port = free_port()
    conf = os.path.join(d, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\nmax_inflight_messages %d\n"
                "max_queued_messages 0\npersistence true\npersistence_location %s/\n"
                "sys_interval 0\n" % (port, WINDOW, d))
    return start(["/usr/sbin/mosquitto", "-c", conf], port, os.path.join(d, "log")), port


def run(port):
    """Messages/s from the first PUBLISH to the last delivery of COUNT."""
    sub = R.Conn(port=port)
    sub.connect("bench-sub-%d" % time.monotonic_ns(), clean=False)
    sub.subscribe(1, [("bench/t", 1)])
    pub = R.Conn(port=port)
    pub.connect("bench-pub", clean=True)
    for c in (sub, pub):
        c.sock.setblocking(False)
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    payload = b"x" * SIZE
    pkts = [R.publish("bench/t", payload, qos=1, pid=1 + i % 60000) for i in range(min(COUNT, 60000))]
    sent = acked = got = 0
    pout = sout = b""
    t0 = time.monotonic()
    deadline = t0 + 120
    while got < COUNT and time.monotonic() < deadline:
        while sent < COUNT and sent - acked < WINDOW:
            pout += pkts[sent % len(pkts)]
            sent += 1
        ws = [c.sock for c, o in ((pub, pout), (sub, sout)) if o]
        r, w, _ = select.select([pub.sock, sub.sock], ws, [], 1.0)
        if pub.sock in w and pout:
            pout = pout[pub.sock.send(pout):]
        if sub.sock in w and sout:
            sout = sout[sub.sock.send(sout):]
        for c in (pub, sub):
            if c.sock not in r:
                continue
            try:
                data = c.sock.recv(1 << 20)
            except BlockingIOError:
                continue
            if not data:
                R.fail("broker closed a benchmark connection")
            buf = c.buf + data
            off = 0
            while len(buf) - off >= 2:
                n, mult, i = 0, 1, off + 1
                while i < len(buf):
                    b = buf[i]
                    n += (b & 0x7F) * mult
                    mult *= 128
                    i += 1
                    if not b & 0x80:
                        break
                else:
                    break
                if len(buf) < i + n:
                    break
                t = buf[off] >> 4
                if c is pub and t == R.PUBACK:
                    acked += 1
                elif c is sub and t == R.PUBLISH:
                    tl = struct.unpack_from("!H", buf, i)[0]
                    sout += b"\x40\x02" + buf[i + 2 + tl:i + 4 + tl]
                    got += 1
                off = i + n
            c.buf = buf[off:]
    dt = time.monotonic() - t0
    if os.environ.get("PERSIST_DEBUG"):
        print("sent %d acked %d got %d in %.3f s" % (sent, acked, got, dt))
    if got < COUNT:
        R.fail("only %d of %d messages delivered" % (got, COUNT))
    for c in (sub, pub):
        c.sock.setblocking(True)
    sub.send(sout)                       # the last PUBACKs: leave the session empty
    sub.send(R.DISCONNECT_BYTES)
    pub.send(R.DISCONNECT_BYTES)
    for c in (sub, pub):
        c.close()
    return COUNT / dt


try:
    rows = []
    if os.environ.get("PERSIST_PORT"):       # against a broker already running
        print("%.0f msg/s" % run(int(os.environ["PERSIST_PORT"])))
        sys.exit(0)
    if FULL:
        key = os.path.join(TMP, "store.key")
        with open(key, "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        os.chmod(key, 0o600)
        cases = [
            ("moatd, no persistence", lambda: moatd("mem", [])),
            ("moatd, durable (fsync per commit)", lambda: moatd("dur", ["persistence true",
             "persistence_location %s/dur/db" % TMP])),
            ("moatd, durable + AES-256-GCM", lambda: moatd("enc", ["persistence true",
             "persistence_location %s/enc/db" % TMP, "persistence_key_file " + key])),
            ("moatd, moat_persistence_fsync false", lambda: moatd("nosync", ["persistence true",
             "persistence_location %s/nosync/db" % TMP, "moat_persistence_fsync false"])),
            ("mosquitto, persistence true (autosave 1800 s)", lambda: mosquitto("mosq")),
        ]
    else:
        cases = [("moatd, durable (fsync per commit)", lambda: moatd("dur", ["persistence true",
                  "persistence_location %s/dur/db" % TMP]))]
    repeat = int(os.environ.get("PERSIST_REPEAT", "3" if FULL else "1"))
    rates = {name: [] for name, _ in cases}
    for rnd in range(repeat):                  # rounds interleave the brokers
        for name, mk in cases:
            p, port = mk()
            try:
                rates[name].append(run(port))
            finally:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=10)
            print("%-48s %9.0f msg/s" % (name, rates[name][-1]))
            shutil.rmtree(os.path.join(TMP, LAST[0]), ignore_errors=True)
    rows = [(name, sorted(r)[len(r) // 2], min(r), max(r)) for name, r in rates.items()]
    R.check(all(r[1] > 0 for r in rows), "issue-6",
            "QoS 1 to a persistent subscriber: %d messages of %d bytes, window %d, all delivered"
            % (COUNT, SIZE, WINDOW))
    if FULL:
        print("\nmedian of %d runs, %d messages of %d bytes, window %d" % (repeat, COUNT, SIZE, WINDOW))
        print("\n| broker / store | QoS 1 msg/s to a persistent subscriber (median) | min .. max |\n| --- | ---: | ---: |")
        for name, med, lo, hi in rows:
            print("| %s | %.0f | %.0f .. %.0f |" % (name, med, lo, hi))
finally:
    shutil.rmtree(TMP, ignore_errors=True)
