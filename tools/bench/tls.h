/* TLS for moat-bench connections (OpenSSL), kept out of the protocol code:
 * only conn.c calls these. Certificates are not verified: the benchmark
 * measures the broker's side of the handshake, and a client-side chain
 * check would only add client CPU. */
#ifndef MOAT_BENCH_TLS_H
#define MOAT_BENCH_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct bench_tls;

/* A client context; with resume, the session of each closed connection is
 * offered once, to a later connection (newest first, at most 256 kept). max_version: NULL, "1.2" or "1.3".
 * NULL on error (err set). */
struct bench_tls *btls_new(bool resume, const char *max_version, char *err, size_t errlen);
void btls_free(struct bench_tls *t);

/* A TLS client on connected socket fd; NULL on error (err set). */
void *btls_conn_new(struct bench_tls *t, int fd, char *err, size_t errlen);
/* Saves the session for resumption (if enabled) and frees ssl. */
void btls_conn_free(struct bench_tls *t, void *ssl);
/* Advances the handshake: 1 done, 0 waiting for the socket, -1 error. */
int  btls_handshake(void *ssl, char *err, size_t errlen);
bool btls_resumed(void *ssl);

/* Like send/recv on a non-blocking socket: > 0 bytes, 0 peer closed (read),
 * -1 with *again when the socket would block, -1 otherwise on error. */
ssize_t btls_write(void *ssl, const void *buf, size_t len, bool *again, char *err, size_t errlen);
ssize_t btls_read(void *ssl, void *buf, size_t len, bool *again, char *err, size_t errlen);

#endif
