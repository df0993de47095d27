/* Password input for moatctl passwd: no-echo terminal prompt or stdin. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "auth/passwd.h"

__attribute__((format(printf, 3, 4)))
static long fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static void put(int fd, const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

/* The signal that interrupted a no-echo read. Signal handlers can only
 * talk to the code they interrupt through a static; this one is written
 * only while a prompt has echo off. */
static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
    caught = sig;
}

static const int stop_signals[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGTSTP };
#define NSTOP (sizeof(stop_signals) / sizeof(stop_signals[0]))

/* Reads one line byte by byte (so nothing after the newline is consumed
 * from a shared stdin). Returns its length without "\n" / "\r\n", -1 on
 * read error or EOF before any byte, -2 if longer than max. */
static long read_line(int fd, char *buf, size_t max)
{
    size_t n = 0;
    bool any = false, too_long = false;

    for (;;) {
        char c;
        if (caught)
            return -1;
        ssize_t r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR && !caught)
            continue;
        if (r < 0)
            return -1;
        if (r == 0) {
            if (!any)
                return -1;
            break;
        }
        any = true;
        if (c == '\n')
            break;
        if (n < max)
            buf[n++] = c;
        else
            too_long = true;           /* drain the rest of the line */
    }
    if (too_long)
        return -2;
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    return (long)n;
}

/* One prompt and answer; echo off if in_fd is a terminal. Ctrl-C (and
 * the other stop signals) while echo is off restore the terminal first,
 * then take their usual effect. */
static long ask(int in_fd, int out_fd, const char *prompt, char *buf, size_t max)
{
    struct termios old, quiet;
    struct sigaction sa = { .sa_handler = on_signal }, prev[NSTOP];
    bool tty = tcgetattr(in_fd, &old) == 0;
    long n;

    if (tty) {
        caught = 0;
        sigemptyset(&sa.sa_mask);      /* no SA_RESTART: read() returns EINTR */
        for (size_t i = 0; i < NSTOP; i++)
            sigaction(stop_signals[i], &sa, &prev[i]);
        quiet = old;
        quiet.c_lflag &= (tcflag_t)~(ECHO | ECHOE | ECHOK);
        quiet.c_lflag |= ECHONL;       /* the user still sees Enter */
        if (tcsetattr(in_fd, TCSAFLUSH, &quiet) < 0) {
            for (size_t i = 0; i < NSTOP; i++)
                sigaction(stop_signals[i], &prev[i], NULL);
            return -1;
        }
    }
    if (prompt)
        put(out_fd, prompt);
    n = read_line(in_fd, buf, max);
    if (tty) {
        tcsetattr(in_fd, TCSAFLUSH, &old);
        for (size_t i = 0; i < NSTOP; i++)
            sigaction(stop_signals[i], &prev[i], NULL);
        if (caught) {
            int sig = caught;
            put(out_fd, "\n");
            caught = 0;
            raise(sig);                /* now with the caller's disposition */
            if (n >= 0)
                n = -1;                /* SIGTSTP resumed: ask again is up to the caller */
        }
    }
    return n;
}

static size_t limit(size_t cap)
{
    size_t max = cap - 1;
    return max > PASSWD_PASSWORD_MAX ? PASSWD_PASSWORD_MAX : max;
}

static long check(long n, char *buf, size_t cap, char *err, size_t errlen)
{
    if (n == -2) {
        OPENSSL_cleanse(buf, cap);
        return fail(err, errlen, "password longer than %zu bytes", limit(cap));
    }
    if (n < 0)
        return fail(err, errlen, "no password read");
    if (n == 0)
        return fail(err, errlen, "empty password");
    buf[n] = '\0';
    return n;
}

/* Contract in passwd.h. */
long passwd_read_password_fd(int in_fd, int out_fd, char *buf, size_t cap, bool confirm,
                             char *err, size_t errlen)
{
    char again[PASSWD_PASSWORD_MAX + 1];
    long n, m;

    if (!buf || cap < 2)
        return fail(err, errlen, "password buffer too small");
    n = check(ask(in_fd, out_fd, "Password: ", buf, limit(cap)), buf, cap, err, errlen);
    if (n < 0 || !confirm)
        return n;
    m = ask(in_fd, out_fd, "Reenter password: ", again, limit(cap));
    bool same = m == n && memcmp(again, buf, (size_t)n) == 0;
    OPENSSL_cleanse(again, sizeof(again));
    if (!same) {
        OPENSSL_cleanse(buf, cap);
        return fail(err, errlen, "passwords do not match");
    }
    return n;
}

/* Contract in passwd.h. */
long passwd_read_password(char *buf, size_t cap, bool from_stdin, bool confirm,
                          char *err, size_t errlen)
{
    if (!buf || cap < 2)
        return fail(err, errlen, "password buffer too small");
    if (from_stdin)
        return check(read_line(STDIN_FILENO, buf, limit(cap)), buf, cap, err, errlen);
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return fail(err, errlen, "/dev/tty: %s (use --stdin to pipe the password)",
                    strerror(errno));
    long n = passwd_read_password_fd(fd, fd, buf, cap, confirm, err, errlen);
    close(fd);
    return n;
}
