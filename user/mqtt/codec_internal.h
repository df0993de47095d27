/* Internals shared by the codec files only (not part of the codec API):
 * a length-checked read cursor and the per-type fixed-header flag rule. */
#ifndef MOAT_MQTT_CODEC_INTERNAL_H
#define MOAT_MQTT_CODEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mqtt/packet.h"

/* Read cursor over [p, p + left). Every read checks left first, so a
 * decoder built on it cannot read outside the caller's buffer. */
struct mqtt_cur {
    const uint8_t *p;
    size_t left;
};

static inline bool mqtt_cur_u8(struct mqtt_cur *c, uint8_t *v)
{
    if (c->left < 1)
        return false;
    *v = c->p[0];
    c->p++;
    c->left--;
    return true;
}

/* Big-endian 16-bit integer [MQTT-1.5.2]. */
static inline bool mqtt_cur_u16(struct mqtt_cur *c, uint16_t *v)
{
    if (c->left < 2)
        return false;
    *v = (uint16_t)((uint16_t)c->p[0] << 8 | c->p[1]);
    c->p += 2;
    c->left -= 2;
    return true;
}

/* A 2-byte length prefix and that many bytes (strings and binary data,
 * [MQTT-1.5.3]); the view points into the buffer. */
static inline bool mqtt_cur_lenbytes(struct mqtt_cur *c, struct mqtt_bytes *b)
{
    uint16_t n;
    struct mqtt_cur save = *c;

    if (!mqtt_cur_u16(c, &n) || c->left < n) {
        *c = save;
        return false;
    }
    b->p = c->p;
    b->len = n;
    c->p += n;
    c->left -= n;
    return true;
}

/* Returns 0 if flags (low nibble of byte 1) are valid for type, else -err:
 * MQTT_E_TYPE, MQTT_E_FLAGS, MQTT_E_QOS3 or MQTT_E_DUP_QOS0. */
int mqtt_fixed_flags_check(uint8_t type, uint8_t flags);

#endif
