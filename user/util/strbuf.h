/* A growable string for building replies (JSON, listings). On out of
 * memory it latches failed and drops further appends. */
#ifndef MOAT_STRBUF_H
#define MOAT_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char  *p;
    size_t len, cap;
    bool   failed;
};

void  sb_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void  sb_append(struct strbuf *b, const char *s, size_t n);
/* A JSON string literal (quotes included) of n bytes of s; bytes that are
 * not printable ASCII are escaped as \u00XX. */
void  sb_json_str(struct strbuf *b, const char *s, size_t n);
/* Returns the string (caller frees), or NULL if anything failed. */
char *sb_take(struct strbuf *b);

#endif
