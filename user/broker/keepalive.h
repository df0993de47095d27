/* Connection timers: the connect timeout (no CONNECT within
 * moat_connect_timeout seconds) and keepalive expiry at 1.5x the client's
 * keepalive [MQTT-3.1.2-24]. One timer per connection, re-armed lazily:
 * packets only bump last_rx_ms, the timer checks it when it fires. */
#ifndef MOAT_BROKER_KEEPALIVE_H
#define MOAT_BROKER_KEEPALIVE_H

struct conn;

void connect_timeout_start(struct conn *c);
void keepalive_start(struct conn *c);

#endif
