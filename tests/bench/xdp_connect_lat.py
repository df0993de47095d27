"""MQTT connect latency for the XDP benchmarks (run with /usr/bin/python3).
    xdp_connect_lat.py SRC DST PORT N DEADLINE_S
N sequential connections from SRC: TCP connect + MQTT 3.1.1 CONNECT, wait
for CONNACK (return code 0), then DISCONNECT and close. Each attempt has a
3 s budget; the whole run stops at DEADLINE_S seconds. Latency = connect()
start to CONNACK received. Prints one line:
    ok=K fail=F p50_ms=.. p99_ms=.. max_ms=..
(p50/p99 over successful attempts; "nan" when none succeeded)."""
import socket
import struct
import sys
import time


def connect_once(src, dst, port, cid):
    t0 = time.monotonic()
    s = socket.create_connection((dst, port), timeout=3, source_address=(src, 0))
    try:
        body = struct.pack("!H", 4) + b"MQTT" + b"\x04\x02\x00\x3c" + struct.pack("!H", len(cid)) + cid
        s.sendall(bytes([0x10, len(body)]) + body)
        ack = b""
        while len(ack) < 4:
            chunk = s.recv(4 - len(ack))
            if not chunk:
                raise OSError("connection closed before CONNACK")
            ack += chunk
        if ack != b"\x20\x02\x00\x00":
            raise OSError("unexpected CONNACK %r" % ack)
        dt = time.monotonic() - t0
        s.sendall(b"\xe0\x00")
        return dt
    finally:
        s.close()


def pct(sorted_v, p):
    if not sorted_v:
        return float("nan")
    i = min(len(sorted_v) - 1, int(round(p / 100.0 * (len(sorted_v) - 1))))
    return sorted_v[i]


def main():
    src, dst, port, n, deadline = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
    end = time.monotonic() + deadline
    lat, fail = [], 0
    for i in range(n):
        if time.monotonic() >= end:
            fail += n - i
            break
        try:
            lat.append(connect_once(src, dst, port, b"bench-%d" % i) * 1000.0)
        except OSError:
            fail += 1
    lat.sort()
    print("ok=%d fail=%d p50_ms=%.3f p99_ms=%.3f max_ms=%.3f"
          % (len(lat), fail, pct(lat, 50), pct(lat, 99), lat[-1] if lat else float("nan")))


if __name__ == "__main__":
    main()
