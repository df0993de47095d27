/* Output queue: header coalescing, shared payload references, partial
 * writes through a real socket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/msg.h"
#include "broker/outq.h"

static void put(struct outq *q, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    uint8_t *w = outq_reserve(q, n);
    assert_non_null(w);
    memcpy(w, s, n);
    assert_int_equal(outq_commit(q, n), 0);
}

static void test_header_bytes_coalesce(void **st)
{
    struct outq q = { 0 };
    put(&q, "ab");
    put(&q, "cd");
    assert_int_equal(q.tail - q.head, 1);   /* one segment for both */
    assert_int_equal(q.bytes, 4);
    outq_clear(&q);
}

static void test_payload_is_referenced_not_copied(void **st)
{
    struct outq q = { 0 };
    struct msg *m = msg_new((const uint8_t *)"t", 1, (const uint8_t *)"PAYLOAD", 7, 0, false);
    put(&q, "h1");
    assert_int_equal(outq_push_payload(&q, m), 0);
    put(&q, "h2");
    assert_int_equal(outq_push_payload(&q, m), 0);
    assert_int_equal(m->refs, 3);
    assert_int_equal(q.tail - q.head, 4);
    assert_int_equal(q.bytes, 2 + 7 + 2 + 7);
    outq_clear(&q);
    assert_int_equal(m->refs, 1);
    msg_unref(m);
}

static void test_flush_partial_then_complete(void **st)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    static uint8_t big[200000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    struct msg *m = msg_new((const uint8_t *)"t", 1, big, sizeof big, 0, false);
    struct outq q = { 0 };
    put(&q, "HEAD");
    outq_push_payload(&q, m);
    put(&q, "TAIL");
    uint64_t w = 0, total = 0;
    int r = outq_flush(&q, &transport_tcp, sv[0], NULL, &w);
    total += w;
    assert_int_equal(r, 0);                 /* socket buffer full */
    assert_true(q.bytes == 4 + sizeof big + 4 - total);
    static uint8_t got[200008];
    size_t have = 0;
    while (r == 0 || have < sizeof got) {
        ssize_t n = read(sv[1], got + have, sizeof got - have);
        if (n > 0)
            have += (size_t)n;
        if (r == 0) {
            r = outq_flush(&q, &transport_tcp, sv[0], NULL, &w);
            assert_true(r >= 0);
            total += w;
        }
    }
    assert_int_equal(r, 1);
    assert_int_equal(total, sizeof got);
    assert_memory_equal(got, "HEAD", 4);
    assert_memory_equal(got + 4, big, sizeof big);
    assert_memory_equal(got + 4 + sizeof big, "TAIL", 4);
    assert_true(outq_empty(&q));
    assert_null(q.hdr);                      /* drained queues hold no memory */
    assert_int_equal(m->refs, 1);
    msg_unref(m);
    close(sv[0]);
    close(sv[1]);
}

static void test_flush_error_reported(void **st)
{
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    struct outq q = { 0 };
    put(&q, "x");
    uint64_t w;
    assert_int_equal(outq_flush(&q, &transport_tcp, sv[0], NULL, &w), -1);
    outq_clear(&q);
    close(sv[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_bytes_coalesce),
        cmocka_unit_test(test_payload_is_referenced_not_copied),
        cmocka_unit_test(test_flush_partial_then_complete),
        cmocka_unit_test(test_flush_error_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
