/* One line per event: "2026-12-01T20:51:57.123Z moatd[pid] level: message".
 * Types follow mosquitto's log_type names. */
#ifndef MOAT_LOG_H
#define MOAT_LOG_H

#include <stdarg.h>
#include <stdbool.h>

enum {
    LOG_T_ERR = 1, LOG_T_WARN = 2, LOG_T_NOTICE = 4, LOG_T_INFO = 8,
    LOG_T_DEBUG = 16, LOG_T_SUBSCRIBE = 32, LOG_T_UNSUBSCRIBE = 64,
    LOG_T_ALL = 127,
    LOG_T_DEFAULT = LOG_T_ERR | LOG_T_WARN | LOG_T_NOTICE | LOG_T_INFO,
};

/* Sets which types are written and where: dest NULL/"stderr", "stdout",
 * "syslog" or "file PATH". Returns 0 or -1 (file not writable). */
int  log_setup(int types, const char *dest, bool timestamps);
void log_msg(int type, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vmsg(int type, const char *fmt, va_list ap);

#define log_err(...)    log_msg(LOG_T_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_T_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_T_NOTICE, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_T_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_T_DEBUG, __VA_ARGS__)

#endif
