"""Hand-made MQTT 3.1.1 packets over a raw socket, for byte-exact and
malformed-packet integration tests. Test code: small and explicit, no
dependency beyond the standard library.

Broker address comes from MQTT_HOST / MQTT_PORT (set by run.sh)."""
import os
import socket
import struct
import sys
import time

HOST = os.environ.get("MQTT_HOST", "127.0.0.1")
PORT = int(os.environ.get("MQTT_PORT", "1883"))
BROKER = os.environ.get("BROKER", "moatd")

# Control packet types (MQTT 3.1.1 table 2.1).
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK = 8, 9, 10, 11
PINGREQ, PINGRESP, DISCONNECT = 12, 13, 14


def fail(msg):
    """Print a test failure and exit non-zero (run.sh shows this output)."""
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def check(cond, stmt, msg):
    """Assert cond; stmt names the spec statement, e.g. 'MQTT-3.1.4-2'."""
    if not cond:
        fail("[%s] %s" % (stmt, msg))
    print("ok [%s] %s" % (stmt, msg))


# ---- encoding -------------------------------------------------------------

def varint(n):
    """Remaining-length encoding (MQTT 2.2.3), 1..4 bytes."""
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s16(data):
    """2-byte-length-prefixed string; str is UTF-8 encoded, bytes go as-is."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return struct.pack("!H", len(data)) + data


def packet(ptype, flags, body):
    return bytes([(ptype << 4) | (flags & 0x0F)]) + varint(len(body)) + body


def connect(client_id="", clean=True, keepalive=60, will=None, username=None,
            password=None, proto_name="MQTT", level=4, flags=None):
    """CONNECT. will = (topic, payload, qos, retain). flags overrides the
    computed connect-flags byte (for reserved-bit / inconsistent-flag tests)."""
    f = 0x02 if clean else 0
    payload = s16(client_id)
    if will is not None:
        wt, wp, wq, wr = will
        f |= 0x04 | (wq << 3) | (0x20 if wr else 0)
        payload += s16(wt) + s16(wp)
    if username is not None:
        f |= 0x80
        payload += s16(username)
    if password is not None:
        f |= 0x40
        payload += s16(password)
    if flags is not None:
        f = flags
    body = s16(proto_name) + bytes([level, f]) + struct.pack("!H", keepalive)
    return packet(CONNECT, 0, body + payload)


def publish(topic, payload=b"", qos=0, retain=False, dup=False, pid=None):
    if isinstance(payload, str):
        payload = payload.encode()
    flags = (qos << 1) | (1 if retain else 0) | (8 if dup else 0)
    body = s16(topic)
    if qos > 0:
        body += struct.pack("!H", 1 if pid is None else pid)
    return packet(PUBLISH, flags, body + payload)


def subscribe(pid, filters, flags=0x2):
    """filters: list of (filter, requested_qos)."""
    body = struct.pack("!H", pid)
    for flt, q in filters:
        body += s16(flt) + bytes([q])
    return packet(SUBSCRIBE, flags, body)


def unsubscribe(pid, filters, flags=0x2):
    body = struct.pack("!H", pid) + b"".join(s16(f) for f in filters)
    return packet(UNSUBSCRIBE, flags, body)


def ack(ptype, pid):
    """PUBACK/PUBREC/PUBCOMP (flags 0) or PUBREL (flags 2, MQTT-3.6.1-1)."""
    return packet(ptype, 2 if ptype == PUBREL else 0, struct.pack("!H", pid))


PINGREQ_BYTES = bytes([0xC0, 0x00])
DISCONNECT_BYTES = bytes([0xE0, 0x00])


# ---- decoding -------------------------------------------------------------

class Packet:
    def __init__(self, ptype, flags, body):
        self.type, self.flags, self.body = ptype, flags, body

    def __repr__(self):
        return "Packet(type=%d flags=%#x body=%r)" % (self.type, self.flags, self.body[:40])

    def pid(self):
        return struct.unpack("!H", self.body[:2])[0]

    def connack(self):
        """-> (session_present, return_code)"""
        assert self.type == CONNACK and len(self.body) == 2, self
        return self.body[0] & 1, self.body[1]

    def publish(self):
        """-> dict(topic, payload, qos, retain, dup, pid)"""
        assert self.type == PUBLISH, self
        tl = struct.unpack("!H", self.body[:2])[0]
        topic = self.body[2:2 + tl].decode("utf-8")
        qos = (self.flags >> 1) & 3
        off = 2 + tl
        pid = None
        if qos:
            pid = struct.unpack("!H", self.body[off:off + 2])[0]
            off += 2
        return dict(topic=topic, payload=self.body[off:], qos=qos,
                    retain=bool(self.flags & 1), dup=bool(self.flags & 8), pid=pid)

    def suback(self):
        """-> (pid, [return codes])"""
        assert self.type == SUBACK, self
        return self.pid(), list(self.body[2:])


def _remaining_length(buf):
    """-> (remaining length, fixed header length) once buf holds a complete
    fixed header, else None. The broker never sends a 5-byte length."""
    n, mult = 0, 1
    for i in range(1, min(len(buf), 5)):
        n += (buf[i] & 0x7F) * mult
        mult *= 128
        if not buf[i] & 0x80:
            return n, i + 1
    return None


class Closed(Exception):
    pass


class Conn:
    """One raw TCP connection to the broker with a packet reader."""

    def __init__(self, host=HOST, port=PORT, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("timed out")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise Closed()
        self.buf += chunk

    def recv(self, timeout=5.0):
        """Next packet. Raises Closed on EOF/reset, socket.timeout on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            hdr = _remaining_length(self.buf)
            if hdr is not None:
                n, hlen = hdr
                if len(self.buf) >= hlen + n:
                    p = Packet(self.buf[0] >> 4, self.buf[0] & 0xF, self.buf[hlen:hlen + n])
                    self.buf = self.buf[hlen + n:]
                    return p
            self._fill(deadline)

    def expect(self, ptype, timeout=5.0, stmt="", what=""):
        """Next packet must be of ptype; fails the test otherwise."""
        try:
            p = self.recv(timeout)
        except Closed:
            fail("[%s] connection closed while waiting for packet type %d %s" % (stmt, ptype, what))
        except socket.timeout:
            fail("[%s] timeout waiting for packet type %d %s" % (stmt, ptype, what))
        if p.type != ptype:
            fail("[%s] expected packet type %d, got %r %s" % (stmt, ptype, p, what))
        return p

    def wait_closed(self, timeout=5.0):
        """Read until the broker closes. Returns the packets received before
        the close, or None if still open after timeout."""
        got = []
        deadline = time.monotonic() + timeout
        while True:
            try:
                got.append(self.recv(max(0.0, deadline - time.monotonic())))
            except Closed:
                return got
            except socket.timeout:
                return None

    def connect(self, client_id="", clean=True, keepalive=60, **kw):
        """CONNECT and require CONNACK 0; returns session_present."""
        self.send(connect(client_id, clean, keepalive, **kw))
        sp, rc = self.expect(CONNACK, what="(CONNACK)").connack()
        if rc != 0:
            fail("CONNACK return code %d for client %r" % (rc, client_id))
        return sp

    def subscribe(self, pid, filters):
        self.send(subscribe(pid, filters))
        p = self.expect(SUBACK, what="(SUBACK)")
        return p.suback()[1]

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def broker_rss_kb():
    """Resident set size of the broker under test (run.sh sets BROKER_PID)."""
    with open("/proc/%s/status" % os.environ["BROKER_PID"]) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    fail("no VmRSS for broker pid %s" % os.environ["BROKER_PID"])


def broker_instrumented():
    """True when the broker runs under ASan or valgrind (RSS not meaningful)."""
    with open("/proc/%s/maps" % os.environ["BROKER_PID"]) as f:
        maps = f.read()
    return "libasan" in maps or "vgpreload" in maps or "valgrind" in maps


def connected(client_id="", clean=True, keepalive=60, **kw):
    c = Conn()
    c.connect(client_id, clean, keepalive, **kw)
    return c


def expect_closed(c, stmt, what, timeout=5.0, allow=()):
    """The broker must close c within timeout, sending nothing except packet
    types in allow."""
    got = c.wait_closed(timeout)
    if got is None:
        fail("[%s] %s: connection still open after %.0f s" % (stmt, what, timeout))
    bad = [p for p in got if p.type not in allow]
    if bad:
        fail("[%s] %s: unexpected packets before close: %r" % (stmt, what, bad))
    print("ok [%s] %s: connection closed" % (stmt, what))
    return got


def broker_alive(stmt="robustness"):
    """A fresh client can connect, subscribe, publish to itself and ping."""
    c = Conn()
    c.connect("alive-probe")
    c.subscribe(1, [("alive/probe", 0)])
    c.send(publish("alive/probe", b"ping"))
    m = c.expect(PUBLISH, stmt=stmt, what="(probe echo)").publish()
    check(m["payload"] == b"ping", stmt, "broker still serves a new client")
    c.send(PINGREQ_BYTES)
    c.expect(PINGRESP, stmt=stmt)
    c.send(DISCONNECT_BYTES)
    c.close()


def violation(data, stmt, what, allow=(), pre_connect=True, timeout=5.0):
    """Connect (unless pre_connect is False), send data, require the broker
    to close the connection, then require it still serves a new client."""
    c = Conn()
    if pre_connect:
        c.connect("violator-%d" % os.getpid())
    try:
        c.send(data)
    except OSError:       # the broker may close before it has read everything
        pass
    got = expect_closed(c, stmt, what, timeout, allow)
    c.close()
    broker_alive(stmt)
    return got
