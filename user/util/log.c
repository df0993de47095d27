#include "util/log.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/* Logging is a property of the process, not of an engine: the sink is the
 * one deliberate static in moatd. */
static int   log_types = LOG_T_DEFAULT;
static FILE *log_out;
static bool  log_syslog;
static bool  log_stamps = true;

int log_setup(int types, const char *dest, bool timestamps)
{
    log_types = types;
    log_stamps = timestamps;
    log_syslog = false;
    if (log_out && log_out != stderr && log_out != stdout)
        fclose(log_out);
    log_out = stderr;
    if (!dest || !strcmp(dest, "stderr"))
        return 0;
    if (!strcmp(dest, "stdout")) {
        log_out = stdout;
        return 0;
    }
    if (!strcmp(dest, "syslog")) {
        openlog("moatd", LOG_PID, LOG_DAEMON);
        log_syslog = true;
        return 0;
    }
    if (!strncmp(dest, "file ", 5)) {
        FILE *f = fopen(dest + 5, "a");
        if (!f)
            return -1;
        setvbuf(f, NULL, _IOLBF, 0);
        log_out = f;
        return 0;
    }
    return -1;
}

static const char *type_name(int type)
{
    switch (type) {
    case LOG_T_ERR: return "error";
    case LOG_T_WARN: return "warning";
    case LOG_T_NOTICE: return "notice";
    case LOG_T_INFO: return "info";
    case LOG_T_SUBSCRIBE: return "subscribe";
    case LOG_T_UNSUBSCRIBE: return "unsubscribe";
    default: return "debug";
    }
}

void log_vmsg(int type, const char *fmt, va_list ap)
{
    if (!(log_types & type))
        return;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* One event, one line: never let a peer-supplied newline split it. */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    if (log_syslog) {
        int prio = type == LOG_T_ERR ? LOG_ERR : type == LOG_T_WARN ? LOG_WARNING
                 : type == LOG_T_NOTICE ? LOG_NOTICE : type == LOG_T_DEBUG ? LOG_DEBUG : LOG_INFO;
        syslog(prio, "%s", msg);
        return;
    }
    if (!log_stamps) {
        fprintf(log_out ? log_out : stderr, "moatd[%d] %s: %s\n", (int)getpid(), type_name(type), msg);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(log_out ? log_out : stderr, "%s.%03ldZ moatd[%d] %s: %s\n", when,
            ts.tv_nsec / 1000000, (int)getpid(), type_name(type), msg);
}

void log_msg(int type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vmsg(type, fmt, ap);
    va_end(ap);
}
