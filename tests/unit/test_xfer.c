/* test_xfer.c - the transport's copy-free path: bytes spliced from a pipe
 * (the Xen save pump's) to the connection's socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "xerr.h"
#include "xfer.h"

#define LEN (3u << 18)	/* 768 KiB: more than a socket buffer, so splice waits */

struct drain {
	int fd;
	uint8_t *buf;
	size_t got;
};

static void *
drain(void *arg)
{
	struct drain *d = arg;
	ssize_t n;

	while (d->got < LEN && (n = read(d->fd, d->buf + d->got, LEN - d->got)) > 0)
		d->got += (size_t)n;
	return NULL;
}

static void
test_spliced_bytes_arrive_intact_and_counted(void **state)
{
	int p[2], sv[2];
	uint8_t *src = malloc(LEN);
	struct drain d = { .buf = malloc(LEN) };
	struct xconn c;
	pthread_t t;
	size_t i;

	(void)state;
	assert_non_null(src);
	assert_non_null(d.buf);
	for (i = 0; i < LEN; i++)
		src[i] = (uint8_t)(i * 131 + (i >> 12));
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_true(fcntl(p[1], F_SETPIPE_SZ, 1 << 20) >= (int)LEN);
	assert_int_equal(write(p[1], src, LEN), (ssize_t)LEN);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	d.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, drain, &d), 0);
	xconn_init(&c, sv[0], 5000);
	/* in two pieces, as the pump sends what the pipe holds */
	assert_int_equal(xconn_splice_from(&c, p[0], 4096), 0);
	assert_int_equal(xconn_splice_from(&c, p[0], LEN - 4096), 0);
	pthread_join(t, NULL);
	assert_int_equal(d.got, LEN);
	assert_memory_equal(d.buf, src, LEN);
	assert_int_equal(c.tx_bytes, LEN);
	xconn_close(&c);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
	free(src);
	free(d.buf);
}

static void
test_pipe_shorter_than_promised_fails_and_sticks(void **state)
{
	int p[2], sv[2];
	struct xconn c;
	char buf[16];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], "0123456789", 10), 10);
	close(p[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	xconn_init(&c, sv[0], 5000);
	assert_int_equal(xconn_splice_from(&c, p[0], 20), XMIG_ERR_UNEXPECTED);
	assert_int_equal(c.tx_bytes, 10);
	/* the first error stays: nothing more goes out */
	assert_int_equal(xconn_write_all(&c, "x", 1), XMIG_ERR_UNEXPECTED);
	assert_int_equal(read(sv[1], buf, sizeof(buf)), 10);
	xconn_close(&c);
	close(sv[1]);
	close(p[0]);
}

static void
test_tls_connection_refuses_before_sending(void **state)
{
	int p[2], sv[2];
	struct xconn c;
	char buf[4];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(write(p[1], "abcd", 4), 4);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	xconn_init(&c, sv[0], 5000);
	c.tls = (struct tls_conn *)&c;	/* only its presence is looked at */
	assert_int_equal(xconn_splice_from(&c, p[0], 4), XMIG_ERR_UNSUPPORTED);
	c.tls = NULL;
	assert_int_equal(c.err, 0);
	assert_int_equal(c.tx_bytes, 0);
	/* the bytes are still in the pipe for the copying path */
	assert_int_equal(read(p[0], buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "abcd", 4);
	xconn_close(&c);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spliced_bytes_arrive_intact_and_counted),
		cmocka_unit_test(test_pipe_shorter_than_promised_fails_and_sticks),
		cmocka_unit_test(test_tls_connection_refuses_before_sending),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
