"""paho-mqtt 1.6 helpers for the integration tests: a connected client whose
received messages land in a thread-safe list, with bounded waits."""
import threading
import time

import paho.mqtt.client as mqtt

from mqttraw import HOST, PORT, fail


class Client:
    """A paho client, connected and looping in its own thread."""

    def __init__(self, client_id, clean=True, keepalive=60, will=None, connect=True):
        self.c = mqtt.Client(client_id=client_id, clean_session=clean, protocol=mqtt.MQTTv311)
        self.id = client_id
        self.cv = threading.Condition()
        self.msgs = []          # paho MQTTMessage objects, in arrival order
        self.connack = None     # (flags dict, rc)
        self.disconnected = False
        self.acked = set()      # mids whose publish flow completed
        self.subacks = {}       # mid -> granted qos tuple
        self.c.on_connect = self._on_connect
        self.c.on_message = self._on_message
        self.c.on_publish = self._on_publish
        self.c.on_subscribe = self._on_subscribe
        self.c.on_unsubscribe = self._on_unsubscribe
        self.c.on_disconnect = self._on_disconnect
        if will is not None:
            topic, payload, qos, retain = will
            self.c.will_set(topic, payload, qos, retain)
        if connect:
            self.c.connect(HOST, PORT, keepalive)
            self.c.loop_start()
            self.wait(lambda: self.connack is not None, 5, "CONNACK for %s" % client_id)
            if self.connack[1] != 0:
                fail("client %s: CONNACK rc %d" % (client_id, self.connack[1]))

    # callbacks (paho network thread)
    def _on_connect(self, c, u, flags, rc):
        with self.cv:
            self.connack = (flags, rc)
            self.cv.notify_all()

    def _on_message(self, c, u, msg):
        with self.cv:
            self.msgs.append(msg)
            self.cv.notify_all()

    def _on_publish(self, c, u, mid):
        with self.cv:
            self.acked.add(mid)
            self.cv.notify_all()

    def _on_subscribe(self, c, u, mid, granted):
        with self.cv:
            self.subacks[mid] = tuple(granted)
            self.cv.notify_all()

    def _on_unsubscribe(self, c, u, mid):
        with self.cv:
            self.subacks[mid] = "unsub"
            self.cv.notify_all()

    def _on_disconnect(self, c, u, rc):
        with self.cv:
            self.disconnected = True
            self.cv.notify_all()

    def wait(self, pred, timeout, what):
        """Wait until pred() (called under the lock) is true, or fail."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while not pred():
                left = deadline - time.monotonic()
                if left <= 0:
                    fail("timeout (%.1f s) waiting for %s" % (timeout, what))
                self.cv.wait(left)

    def session_present(self):
        return self.connack[0].get("session present", 0)

    def subscribe(self, topic, qos=0):
        """Subscribe and wait for SUBACK; returns the granted QoS list."""
        rc, mid = self.c.subscribe(topic, qos)
        self.wait(lambda: mid in self.subacks, 5, "SUBACK for %r" % (topic,))
        return self.subacks[mid]

    def unsubscribe(self, topic):
        rc, mid = self.c.unsubscribe(topic)
        self.wait(lambda: mid in self.subacks, 5, "UNSUBACK for %r" % (topic,))

    def publish(self, topic, payload, qos=0, retain=False, wait=True):
        info = self.c.publish(topic, payload, qos, retain)
        if wait and qos > 0:
            self.wait(lambda: info.mid in self.acked, 10, "ack of publish to %s" % topic)
        return info

    def wait_msgs(self, n, timeout=5):
        """Wait until at least n messages arrived; returns a copy of the list."""
        self.wait(lambda: len(self.msgs) >= n, timeout,
                  "%d messages on %s (have %d)" % (n, self.id, len(self.msgs)))
        with self.cv:
            return list(self.msgs)

    def settle(self, seconds=0.5):
        """Give in-flight traffic time to arrive, return all messages so far."""
        time.sleep(seconds)
        with self.cv:
            return list(self.msgs)

    def disconnect(self):
        self.c.disconnect()
        self.c.loop_stop()

    def kill(self):
        """Abnormal close: shut the socket without DISCONNECT."""
        self.c.loop_stop()
        s = self.c.socket()
        if s is not None:
            s.close()
