/* Permanent source blocks kept in a state file (moat_block_state_file), so
 * they survive a reboot, which empties bpffs: one "CIDR REASON" per line,
 * written whole to a temporary file and renamed over the old one. Loaded
 * at start into the XDP blocklist and moatd's denylist. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/engine.h"
#include "config.h"
#include "policy/denylist.h"
#include "util/log.h"
#include "xdp/cidr.h"

int block_state_load(struct engine *e, char *err, size_t errlen)
{
    const char *path = e->cfg->moat_block_state_file;
    if (!path || !*path)
        return 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0;               /* first start */
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[256];
    int lineno = 0, n = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = 0;
        else if (!feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            fclose(f);
            return -1;
        }
        if (!len || line[0] == '#')
            continue;
        char *sp = strchr(line, ' ');
        if (sp)
            *sp++ = 0;
        struct moat_cidr c;
        uint32_t reason = 0;
        char why[160];
        if (moat_cidr_parse(line, &c, why, sizeof why) < 0 ||
            (sp && moat_reason_parse(sp, &reason, why, sizeof why) < 0)) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
            fclose(f);
            return -1;
        }
        if (denylist_add_ip(e->deny, c.family, c.addr, c.prefixlen, 0, reason) < 0) {
            snprintf(err, errlen, "%s:%d: denylist full", path, lineno);
            fclose(f);
            return -1;
        }
        engine_filter_block(e, &c, 0, reason);
        n++;
    }
    fclose(f);
    if (n)
        log_notice("%s: %d permanent block(s) restored", path, n);
    return 0;
}

struct writer {
    FILE *f;
    int n;
};

static void write_one(void *arg, int kind, const char *name, size_t len, uint8_t family,
                      const uint8_t *addr, uint8_t prefixlen, uint64_t expires_ms, uint32_t reason)
{
    struct writer *w = arg;
    if (kind >= 0 || expires_ms)
        return;                     /* only permanent source blocks */
    struct moat_cidr c = { .family = family, .prefixlen = prefixlen };
    memcpy(c.addr, addr, 16);
    char cs[MOAT_CIDR_STRLEN];
    fprintf(w->f, "%s %s\n", moat_cidr_format(&c, cs, sizeof cs), moat_reason_name(reason));
    w->n++;
}

void block_state_save(struct engine *e)
{
    const char *path = e->cfg->moat_block_state_file;
    if (!path || !*path)
        return;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        mkdir(dir, 0700);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        log_err("%s: cannot write the block state: %s", tmp, strerror(errno));
        if (fd >= 0)
            close(fd);
        return;
    }
    struct writer w = { .f = f };
    fprintf(f, "# moatd permanent source blocks (moatctl block add without --ttl)\n");
    denylist_each(e->deny, ev_now_ms(e->el), write_one, &w);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
        log_err("%s: cannot write the block state: %s", path, strerror(errno));
        unlink(tmp);
        return;
    }
    log_info("%s: %d permanent block(s) saved", path, w.n);
}
