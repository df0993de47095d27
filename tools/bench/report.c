/* key=value and JSON output of a run; see report.h. */
#include "report.h"

#include "../lib/cli.h"

#include <inttypes.h>
#include <string.h>

static void put(struct bench_report *r, const char *key, const char *val, bool is_num)
{
    if (r->n >= REPORT_MAX) {
        r->overflow = true;
        return;
    }
    snprintf(r->kv[r->n].key, sizeof(r->kv[r->n].key), "%s", key);
    snprintf(r->kv[r->n].val, sizeof(r->kv[r->n].val), "%s", val);
    r->kv[r->n].is_num = is_num;
    r->n++;
}

void report_str(struct bench_report *r, const char *key, const char *val)
{
    put(r, key, val ? val : "", false);
}

void report_u64(struct bench_report *r, const char *key, uint64_t v)
{
    char b[32];

    snprintf(b, sizeof(b), "%" PRIu64, v);
    put(r, key, b, true);
}

void report_dbl(struct bench_report *r, const char *key, double v)
{
    char b[48];

    if (v != v || v > 1e300 || v < -1e300)
        v = 0;   /* NaN/inf are not JSON; a run never produces them on purpose */
    snprintf(b, sizeof(b), "%.6g", v);
    put(r, key, b, true);
}

void report_print_kv(const struct bench_report *r, FILE *f)
{
    unsigned i;

    for (i = 0; i < r->n; i++) {
        const char *v = r->kv[i].val;
        bool quote = !r->kv[i].is_num && (v[0] == 0 || strpbrk(v, " \t\"=") != NULL);

        fprintf(f, "%s%s=", i ? " " : "", r->kv[i].key);
        if (quote) {
            fputc('"', f);
            for (; *v; v++)
                fputc(*v == '"' ? '\'' : *v, f);
            fputc('"', f);
        } else {
            fputs(v, f);
        }
    }
    if (r->overflow)
        fputs(" report_truncated=1", f);
    fputc('\n', f);
}

void report_print_json(const struct bench_report *r, FILE *f)
{
    unsigned i;

    fputc('{', f);
    for (i = 0; i < r->n; i++) {
        if (i)
            fputs(", ", f);
        cli_json_str(f, r->kv[i].key);
        fputs(": ", f);
        if (r->kv[i].is_num)
            fputs(r->kv[i].val, f);
        else
            cli_json_str(f, r->kv[i].val);
    }
    if (r->overflow)
        fputs(", \"report_truncated\": true", f);
    fputs("}\n", f);
}
