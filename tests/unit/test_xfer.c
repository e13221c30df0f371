/* test_xfer.c - the transport's view of its socket queue (xconn_unsent),
 * which the savers wait on before they suspend a guest.
 *
 * Over real TCP on 127.0.0.1: a receiver that does not read makes the
 * sender's data stay in the sender's queue; once it reads, the queue
 * empties.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "util.h"
#include "xfer.h"

/* A connected TCP pair on loopback: *a writes, *b reads. */
static void
tcp_pair(int *a, int *b)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(l >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	*a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(*a >= 0);
	assert_int_equal(connect(*a, (struct sockaddr *)&sin, sizeof(sin)), 0);
	*b = accept(l, NULL, NULL);
	assert_true(*b >= 0);
	/* a test that fails must not hang: reads give up after 10 s */
	assert_int_equal(setsockopt(*b, SOL_SOCKET, SO_RCVTIMEO,
	    &(struct timeval){ .tv_sec = 10 }, sizeof(struct timeval)), 0);
	/* (no small SO_RCVBUF: with loopback's 64 KiB segments a window that
	 * small reopens only on persist probes, seconds apart) */
	close(l);
}

static void
test_unsent_counts_what_a_silent_peer_left_queued_then_drops_to_zero(void **state)
{
	static uint8_t chunk[64 * 1024], sink[64 * 1024];
	struct xconn c;
	uint64_t queued;
	size_t written = 0;
	int a, b, i;
	ssize_t n;

	tcp_pair(&a, &b);
	xconn_init(&c, a, 5000);
	assert_int_equal(xconn_unsent(&c), 0);
	memset(chunk, 0x5a, sizeof(chunk));
	assert_int_equal(fcntl(a, F_SETFL, O_NONBLOCK), 0);
	while ((n = write(a, chunk, sizeof(chunk))) > 0)
		written += (size_t)n;
	assert_int_equal(errno, EAGAIN);
	queued = xconn_unsent(&c);
	/* the receiver took its window (it does not read, so it does not
	 * grow): the rest, up to the sender's buffer, waits at the sender */
	assert_true(queued > 0);
	assert_true(queued <= written);

	/* the receiver reads all of it: nothing is left to send */
	for (i = 0; i < 5000 && written > 0; i++) {
		n = read(b, sink, sizeof(sink));
		assert_true(n > 0);
		written -= (size_t)n;
	}
	assert_int_equal(written, 0);
	for (i = 0; i < 1000 && xconn_unsent(&c) != 0; i++)
		usleep(1000);
	assert_int_equal(xconn_unsent(&c), 0);
	close(b);
	xconn_close(&c);
}

static void
test_unsent_of_a_closed_connection_is_zero(void **state)
{
	struct xconn c;

	xconn_init(&c, -1, 1000);
	assert_int_equal(xconn_unsent(&c), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unsent_counts_what_a_silent_peer_left_queued_then_drops_to_zero),
		cmocka_unit_test(test_unsent_of_a_closed_connection_is_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
