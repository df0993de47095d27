#!/usr/bin/python3
"""A deliberately faulty MQTT 3.1.1 broker for checking moat-bench's accounting.

Forwards PUBLISH (QoS 0 and 1, exact topic match) from publishers to
subscribers, but by a fixed rule on the broker-wide message number n:
  n % 97 == 5   dropped            (moat-bench must count it as lost)
  n % 89 == 3   delivered twice    (must count one duplicate)
  n % 101 == 7  held back and sent after message n + 1 (must count one reordered)
n counts per topic, so every run (moat-bench uses a topic prefix per
process) starts at 0. The rule is deterministic, so for a known number of messages the expected
counts are known exactly (see expected()). Loopback only; exits after
--seconds or when its parent closes stdin.

usage: fake_broker.py PORT [SECONDS]      prints "ready" when listening
       fake_broker.py --expect N          prints "lost=L dup=D reordered=R" for N messages
"""
import asyncio
import sys


def expected(n):
    lost = dup = reord = 0
    for i in range(n):
        if i % 97 == 5:
            lost += 1
            continue
        if i % 101 == 7:
            # Held back until a later message is delivered; if none is, it
            # is never sent (lost, and so is its duplicate).
            if not any(j % 97 != 5 for j in range(i + 1, n)):
                lost += 1
                continue
            reord += 1
        if i % 89 == 3:
            dup += 1
    return lost, dup, reord


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


class Broker:
    def __init__(self):
        self.subs = {}      # topic -> list of (writer, qos)
        self.n = {}         # topic -> messages routed so far (the rule's n)
        self.held = {}      # topic -> (payload, dup) waiting for the next message
        self.pid = 0

    def deliver(self, topic, payload, dup=False):
        for w, qos in self.subs.get(topic, []):
            t = topic.encode()
            if qos == 0:
                body = len(t).to_bytes(2, "big") + t + payload
                w.write(bytes([0x30]) + varint(len(body)) + body)
            else:
                self.pid = self.pid % 65535 + 1
                body = len(t).to_bytes(2, "big") + t + self.pid.to_bytes(2, "big") + payload
                w.write(bytes([0x32 | (0x08 if dup else 0)]) + varint(len(body)) + body)

    def route(self, topic, payload):
        n = self.n.get(topic, 0)
        self.n[topic] = n + 1
        if n % 97 == 5:
            return
        if n % 101 == 7 and topic not in self.held:
            self.held[topic] = (payload, n % 89 == 3)
            return
        self.deliver(topic, payload)
        if n % 89 == 3:
            self.deliver(topic, payload, dup=True)
        if topic in self.held:
            p, d = self.held.pop(topic)
            self.deliver(topic, p)
            if d:
                self.deliver(topic, p, dup=True)

    async def client(self, r, w):
        try:
            while True:
                h = await r.readexactly(1)
                mult, rem = 1, 0
                while True:
                    b = (await r.readexactly(1))[0]
                    rem += (b & 0x7F) * mult
                    mult *= 128
                    if not b & 0x80:
                        break
                body = await r.readexactly(rem) if rem else b""
                t = h[0] >> 4
                if t == 1:                                  # CONNECT
                    w.write(b"\x20\x02\x00\x00")
                elif t == 8:                                # SUBSCRIBE
                    pid = body[:2]
                    ln = int.from_bytes(body[2:4], "big")
                    topic = body[4:4 + ln].decode()
                    qos = body[4 + ln]
                    self.subs.setdefault(topic, []).append((w, qos))
                    w.write(b"\x90\x03" + pid + bytes([qos]))
                elif t == 3:                                # PUBLISH
                    qos = (h[0] >> 1) & 3
                    ln = int.from_bytes(body[:2], "big")
                    topic = body[2:2 + ln].decode()
                    off = 2 + ln
                    if qos:
                        w.write(b"\x40\x02" + body[off:off + 2])
                        off += 2
                    self.route(topic, body[off:])
                elif t == 12:                               # PINGREQ
                    w.write(b"\xd0\x00")
                elif t == 14:                               # DISCONNECT
                    break
                await w.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        for lst in self.subs.values():
            lst[:] = [(x, q) for x, q in lst if x is not w]
        w.close()


async def main(port, seconds):
    b = Broker()
    srv = await asyncio.start_server(b.client, "127.0.0.1", port)
    print("ready", flush=True)
    async with srv:
        await asyncio.sleep(seconds)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--expect":
        lost, dup, reord = expected(int(sys.argv[2]))
        print(f"lost={lost} dup={dup} reordered={reord}")
    else:
        asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 30))
