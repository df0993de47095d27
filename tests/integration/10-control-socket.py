# moatd's control socket (what moatctl talks to): ping, clients, kick.
# moatd only: mosquitto has no control socket.
import json
import os
import socket
import sys
import time

from mqttraw import BROKER, check, fail
from pahoutil import Client

if BROKER != "moatd":
    sys.exit(77)
CTL = os.environ["MOAT_CTL"]


def ctl(line):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(CTL)
    s.sendall(line.encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return buf.decode().rstrip("\n")


mode = os.stat(CTL).st_mode & 0o777
check(mode == 0o600, "moat", "control socket is owner-only (mode %o)" % mode)
check(ctl("ping").startswith("ok moatd "), "moat", "ping answered")
check(ctl("bogus").startswith("error unknown command"), "moat", "unknown command is an error")

a = Client("ctl-a")
b = Client("ctl-b")
a.subscribe("ctl/#", 1)
reply = ctl("clients")
check(reply.startswith("ok ["), "moat", "clients answers a JSON list")
clients = json.loads(reply[3:])
ids = {c.get("client_id") for c in clients}
check({"ctl-a", "ctl-b"} <= ids, "moat", "both clients listed: %s" % sorted(i for i in ids if i))
ca = [c for c in clients if c.get("client_id") == "ctl-a"][0]
check(ca["transport"] == "tcp" and ca["subscriptions"] == 1, "moat", "client a: tcp, one subscription")

check(ctl("kick client ctl-a") == "ok kicked 1", "moat", "kick client closes its connection")
a.wait(lambda: a.disconnected, 5, "ctl-a disconnected by kick")
check(not b.disconnected, "moat", "the other client stays connected")
check(ctl("kick client nobody") == "ok kicked 0", "moat", "kicking an unknown id kicks nothing")
check(ctl("kick ip 127.0.0.0/8").startswith("ok kicked "), "moat", "kick ip by CIDR")
b.wait(lambda: b.disconnected, 5, "ctl-b disconnected by CIDR kick")
check(ctl("kick ip 300.1.1.1/8").startswith("error "), "moat", "bad CIDR is an error")
stats = json.loads(ctl("stats")[3:])
check(stats["conns_accepted"] >= 2, "moat", "stats counts accepted connections")
