# conf: max_packet_size 1024
# A packet larger than max_packet_size closes the connection and is not
# delivered; one under the limit works (issue 2 limits).
import socket
from mqttraw import *

watch = Conn(); watch.connect("os-watch"); watch.subscribe(1, [("os/#", 0)])
ok = Conn(); ok.connect("os-ok")
ok.send(publish("os/small", b"s" * 900))
m = watch.expect(PUBLISH, stmt="max_packet_size").publish()
check(len(m["payload"]) == 900, "max_packet_size", "900-byte payload under the limit delivered")
violation(publish("os/big", b"B" * 2000), "max_packet_size", "PUBLISH of 2 KiB over max_packet_size 1024")
# Only the header of a huge packet is sent: the broker must refuse it from
# the remaining length alone, without waiting for (or buffering) 200 MB.
violation(bytes([0x30]) + varint(200 * 1000 * 1000) + b"\x00\x02os", "max_packet_size",
          "PUBLISH announcing 200 MB", timeout=3)
try:
    m = watch.recv(1.0)
    if m.type == PUBLISH and m.publish()["topic"].startswith("os/"):
        fail("[max_packet_size] oversize PUBLISH delivered: %r" % m)
except socket.timeout:
    pass
print("ok [max_packet_size] oversize packets not delivered")
