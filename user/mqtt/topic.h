/* Topic names and filters [MQTT-4.7]: validation and matching, pure. */
#ifndef MOAT_MQTT_TOPIC_H
#define MOAT_MQTT_TOPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* UTF-8 string validity [MQTT-1.5.3]: well formed, no surrogates, no
 * U+0000. Returns 0 or -MQTT_E_UTF8 / -MQTT_E_UTF8_NUL. */
int mqtt_utf8_check(const uint8_t *s, size_t len);

/* Topic name (PUBLISH, Will): non-empty, valid UTF-8, no '+' or '#'.
 * Returns 0 or -err (enum mqtt_err). */
int mqtt_topic_name_check(const uint8_t *s, size_t len);

/* Topic filter: non-empty, valid UTF-8, '+' occupies a whole level, '#'
 * only as the whole last level. Returns 0 or -err. */
int mqtt_topic_filter_check(const uint8_t *s, size_t len);

/* Does filter match topic? Both already valid. Topics starting with '$'
 * are not matched by a filter starting with '+' or '#' [MQTT-4.7.2-1]. */
bool mqtt_topic_match(const uint8_t *filter, size_t flen,
                      const uint8_t *topic, size_t tlen);

#endif
