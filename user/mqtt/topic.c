/* UTF-8 strings [MQTT-1.5.3], topic names and filters [MQTT-4.7]. */
#include <string.h>

#include "mqtt/topic.h"
#include "mqtt/packet.h"

/* Contract in topic.h. Follows the well-formed byte sequences of RFC 3629
 * section 4 (Unicode Table 3-7): the second byte's range is narrowed after
 * E0, ED, F0 and F4, which excludes overlongs, the surrogates U+D800..DFFF
 * and anything above U+10FFFF in one step. */
int mqtt_utf8_check(const uint8_t *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        uint8_t b = s[i];
        uint8_t lo = 0x80, hi = 0xBF;   /* range of the 2nd byte */
        size_t n;                       /* continuation bytes */

        if (b == 0)
            return -MQTT_E_UTF8_NUL;
        if (b < 0x80) {
            i++;
            continue;
        }
        if (b >= 0xC2 && b <= 0xDF) {
            n = 1;
        } else if (b >= 0xE0 && b <= 0xEF) {
            n = 2;
            if (b == 0xE0)
                lo = 0xA0;              /* overlong below U+0800 */
            else if (b == 0xED)
                hi = 0x9F;              /* surrogates [MQTT-1.5.3-1] */
        } else if (b >= 0xF0 && b <= 0xF4) {
            n = 3;
            if (b == 0xF0)
                lo = 0x90;              /* overlong below U+10000 */
            else if (b == 0xF4)
                hi = 0x8F;              /* above U+10FFFF */
        } else {
            return -MQTT_E_UTF8;        /* 80..C1 lead, F5..FF */
        }
        if (len - i - 1 < n)
            return -MQTT_E_UTF8;        /* truncated sequence */
        if (s[i + 1] < lo || s[i + 1] > hi)
            return -MQTT_E_UTF8;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80)
                return -MQTT_E_UTF8;
        i += n + 1;
    }
    return 0;
}

/* Contract in topic.h. '+' and '#' are ASCII and never appear inside a
 * multi-byte UTF-8 sequence, so a byte scan is exact. */
int mqtt_topic_name_check(const uint8_t *s, size_t len)
{
    if (len == 0)
        return -MQTT_E_TOPIC_EMPTY;     /* [MQTT-4.7.3-1] */
    for (size_t i = 0; i < len; i++)
        if (s[i] == '+' || s[i] == '#')
            return -MQTT_E_TOPIC_WILDCARD;  /* [MQTT-3.3.2-2] */
    return mqtt_utf8_check(s, len);
}

/* Contract in topic.h. */
int mqtt_topic_filter_check(const uint8_t *s, size_t len)
{
    if (len == 0)
        return -MQTT_E_TOPIC_EMPTY;     /* [MQTT-4.7.3-1] */
    for (size_t i = 0; i < len; i++) {
        bool level_start = i == 0 || s[i - 1] == '/';
        bool level_end = i + 1 == len || s[i + 1] == '/';

        if (s[i] == '+' && !(level_start && level_end))
            return -MQTT_E_FILTER;      /* [MQTT-4.7.1-3] */
        if (s[i] == '#' && !(level_start && i + 1 == len))
            return -MQTT_E_FILTER;      /* [MQTT-4.7.1-2] */
    }
    return mqtt_utf8_check(s, len);
}

/* End of the level starting at i: index of the next '/' or len. */
static size_t level_end(const uint8_t *s, size_t i, size_t len)
{
    while (i < len && s[i] != '/')
        i++;
    return i;
}

/* Contract in topic.h. Walks both strings one level at a time. Levels may
 * be empty ("a//b" has three); '+' matches one level, empty or not; '#'
 * matches the remaining levels including none, so "a/#" matches "a"
 * [MQTT-4.7.1-2]. */
bool mqtt_topic_match(const uint8_t *filter, size_t flen,
                      const uint8_t *topic, size_t tlen)
{
    size_t fi = 0, ti = 0;
    bool topic_done = false;   /* all topic levels consumed */

    if (tlen > 0 && topic[0] == '$' && flen > 0 &&
        (filter[0] == '+' || filter[0] == '#'))
        return false;          /* [MQTT-4.7.2-1] */
    for (;;) {
        size_t fe = level_end(filter, fi, flen);
        size_t te, n = fe - fi;
        bool plus = n == 1 && filter[fi] == '+';

        if (n == 1 && filter[fi] == '#')
            return true;
        if (topic_done)
            return false;      /* filter has a level the topic lacks */
        te = level_end(topic, ti, tlen);
        if (!plus && (te - ti != n ||
                      (n > 0 && memcmp(filter + fi, topic + ti, n) != 0)))
            return false;
        if (fe == flen)
            return te == tlen;
        fi = fe + 1;
        if (te == tlen)
            topic_done = true;
        else
            ti = te + 1;
    }
}
