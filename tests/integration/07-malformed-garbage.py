# Bounded random garbage on 200 connections (fixed seed, reproducible): the
# broker closes or ignores each and keeps serving (issue 2: a violation never
# crashes or leaks).
import random, socket
from mqttraw import *

rng = random.Random(20261201)
for i in range(200):
    c = Conn(timeout=2)
    if i % 2:
        c.connect("garbage-%d" % i)
    data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
    try:
        c.send(data)
    except OSError:
        pass
    c.close()
broker_alive()
