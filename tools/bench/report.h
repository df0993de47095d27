/* Result of one run: an ordered list of key/value pairs, printed either as
 * one line of key=value or as one JSON object. Bounded: at most
 * REPORT_MAX keys; further keys are dropped and flagged. */
#ifndef MOAT_BENCH_REPORT_H
#define MOAT_BENCH_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define REPORT_MAX 64

struct bench_report {
    unsigned n;
    bool overflow;
    struct {
        char key[32];
        char val[96];
        bool is_num;     /* JSON: unquoted */
    } kv[REPORT_MAX];
};

void report_str(struct bench_report *r, const char *key, const char *val);
void report_u64(struct bench_report *r, const char *key, uint64_t v);
void report_dbl(struct bench_report *r, const char *key, double v);
/* key=value ... on one line (values with spaces are double-quoted). */
void report_print_kv(const struct bench_report *r, FILE *f);
void report_print_json(const struct bench_report *r, FILE *f);

#endif
