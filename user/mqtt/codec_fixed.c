/* MQTT fixed header [MQTT-2.2]: type, flags, remaining-length varint. */
#include "mqtt/codec_internal.h"
#include "mqtt/packet.h"

/* Flags are fixed per type except PUBLISH [MQTT-2.2.2-1]; PUBREL, SUBSCRIBE
 * and UNSUBSCRIBE carry 0b0010 [MQTT-3.6.1-1, 3.8.1-1, 3.10.1-1]. */
int mqtt_fixed_flags_check(uint8_t type, uint8_t flags)
{
    if (type < MQTT_CONNECT || type > MQTT_DISCONNECT)
        return -MQTT_E_TYPE;
    if (flags > 0xF)
        return -MQTT_E_FLAGS;
    switch (type) {
    case MQTT_PUBLISH: {
        uint8_t qos = (uint8_t)((flags >> 1) & 3);
        if (qos == 3)
            return -MQTT_E_QOS3;
        if ((flags & 0x8) && qos == 0)
            return -MQTT_E_DUP_QOS0;
        return 0;
    }
    case MQTT_PUBREL:
    case MQTT_SUBSCRIBE:
    case MQTT_UNSUBSCRIBE:
        return flags == 0x2 ? 0 : -MQTT_E_FLAGS;
    default:
        return flags == 0 ? 0 : -MQTT_E_FLAGS;
    }
}

/* Contract in packet.h. Type and flags are judged from byte 0 alone, so a
 * bad packet is rejected before its length arrives. A varint needs at most
 * 4 bytes [MQTT-2.2.3]; a 4th byte with the continuation bit is an error. */
int mqtt_fixed_parse(const uint8_t *buf, size_t len, uint32_t max_packet,
                     struct mqtt_fixed *fh)
{
    uint32_t value = 0;
    size_t i;
    int rc;

    if (len < 1)
        return 0;
    rc = mqtt_fixed_flags_check((uint8_t)(buf[0] >> 4), (uint8_t)(buf[0] & 0xF));
    if (rc < 0)
        return rc;
    for (i = 0; i < 4; i++) {
        uint8_t b;

        if (1 + i >= len)
            return 0;
        b = buf[1 + i];
        value |= (uint32_t)(b & 0x7F) << (7 * i);   /* at most 28 bits */
        if (!(b & 0x80))
            break;
        /* Later bytes only add to value and the header grows to at least
         * i + 3 bytes, so an oversized packet is refused without waiting
         * for the rest of its length. */
        if (max_packet != 0 && (uint64_t)value + i + 3 > max_packet)
            return -MQTT_E_TOO_LARGE;
    }
    if (i == 4)
        return -MQTT_E_VARINT;
    /* hdr_len <= 5 and value <= 2^28 - 1: the sum cannot overflow 32 bits. */
    if (max_packet != 0 && (uint64_t)value + 2 + i > max_packet)
        return -MQTT_E_TOO_LARGE;
    fh->type = (uint8_t)(buf[0] >> 4);
    fh->flags = (uint8_t)(buf[0] & 0xF);
    fh->hdr_len = (uint8_t)(2 + i);
    fh->remaining = value;
    return (int)fh->hdr_len;
}

/* Contract in packet.h. Minimal encoding: 7 bits per byte, LSB first. */
size_t mqtt_varint_encode(uint8_t out[4], uint32_t v)
{
    size_t n = 0;

    if (v > MQTT_MAX_REMAINING)
        return 0;
    do {
        uint8_t b = (uint8_t)(v & 0x7F);
        v >>= 7;
        if (v)
            b |= 0x80;
        out[n++] = b;
    } while (v);
    return n;
}
