/* test_tls.c - mutual TLS in the transport (lib/tls.c through lib/xfer.c).
 *
 * Certificates come from scripts/xmig-certs in a temporary directory; the
 * two ends run over a socketpair, the server in a thread.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "tls.h"
#include "util.h"
#include "xerr.h"
#include "xfer.h"

static char pki[64];

static void
path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", pki, name);
}

static int
setup_pki(void **state)
{
	char cmd[512];

	snprintf(pki, sizeof(pki), "/tmp/xmig-test-tls-XXXXXX");
	if (mkdtemp(pki) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "scripts/xmig-certs init %s/ok >/dev/null && "
	    "scripts/xmig-certs host %s/ok a 127.0.0.1 >/dev/null && "
	    "scripts/xmig-certs host %s/ok b 127.0.0.1 >/dev/null", pki, pki, pki);
	return system(cmd) == 0 ? 0 : -1;
}

static int
teardown_pki(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", pki);
	return system(cmd) == 0 ? 0 : -1;
}

/* A context for host NAME ("a", "b") of the cluster, with optional pins. */
static struct tls_ctx *
ctx_for(const char *name, bool server, const char *pins, int minver)
{
	char key[128], cert[128], ca[128], f[32], err[512];
	struct tls_cfg cfg;
	struct tls_ctx *t;

	snprintf(f, sizeof(f), "ok/%s.key", name);
	path(key, sizeof(key), f);
	snprintf(f, sizeof(f), "ok/%s.pem", name);
	path(cert, sizeof(cert), f);
	path(ca, sizeof(ca), "ok/ca.pem");
	cfg = (struct tls_cfg){ .key_file = key, .cert_file = cert, .ca_file = ca,
		.fingerprints = pins, .min_version = minver };
	if (tls_ctx_new(&t, server, &cfg, err, sizeof(err)) != 0)
		fail_msg("tls_ctx_new(%s): %s", name, err);
	return t;
}

struct server {
	struct xconn c;
	struct tls_ctx *t;
	int r;
	char why[256];
	/* what to do after the handshake */
	size_t expect;
	uint8_t *got;
};

static void *
server_thread(void *arg)
{
	struct server *sv = arg;

	sv->c.deadline_us = now_us() + 5000000;
	sv->r = xconn_tls_accept(&sv->c, sv->t, sv->why, sizeof(sv->why));
	sv->c.deadline_us = 0;
	if (sv->r == 0 && sv->expect > 0) {
		/* Read in pieces shaped unlike the writer's. */
		struct iovec iov[3];
		size_t a = 5, b = sv->expect / 3;

		iov[0] = (struct iovec){ sv->got, a };
		iov[1] = (struct iovec){ sv->got + a, b };
		iov[2] = (struct iovec){ sv->got + a + b, sv->expect - a - b };
		sv->r = xconn_readv_exact(&sv->c, iov, 3);
	}
	return NULL;
}

static void
pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static void
test_writev_through_tls_arrives_intact(void **state)
{
	enum { NPAGES = 300, PAGE = 4096, BIG = 1 << 20 };
	size_t total = 12 + 8 * NPAGES + (size_t)NPAGES * PAGE + BIG + 7;
	uint8_t *src = malloc(total);
	struct iovec iov[NPAGES + 6];
	struct server sv = { .expect = total };
	struct xconn c;
	char why[256], desc[256];
	pthread_t th;
	size_t i, o = 0;
	int fds[2], n = 0;

	assert_non_null(src);
	assert_non_null(sv.got = malloc(total));
	for (i = 0; i < total; i++)
		src[i] = (uint8_t)(i * 131 + (i >> 12));
	/* A PAGES-like frame: header, entries, pages from "guest memory", then a
	 * piece bigger than the staging buffer, an empty one and a small tail. */
	iov[n++] = (struct iovec){ src, 12 };
	o = 12;
	iov[n++] = (struct iovec){ src + o, 8 * NPAGES };
	o += 8 * NPAGES;
	for (i = 0; i < NPAGES; i++, o += PAGE)
		iov[n++] = (struct iovec){ src + o, PAGE };
	iov[n++] = (struct iovec){ src + o, BIG };
	o += BIG;
	iov[n++] = (struct iovec){ src + o, 0 };
	iov[n++] = (struct iovec){ src + o, 7 };
	assert_int_equal(o + 7, total);

	pair(fds);
	sv.t = ctx_for("b", true, "", 13);
	xconn_init(&sv.c, fds[0], 5000);
	xconn_init(&c, fds[1], 5000);
	snprintf(c.peer, sizeof(c.peer), "test");
	assert_int_equal(pthread_create(&th, NULL, server_thread, &sv), 0);
	struct tls_ctx *ct = ctx_for("a", false, "", 13);
	if (xconn_tls_connect(&c, ct, "127.0.0.1", why, sizeof(why)) != 0)
		fail_msg("connect: %s", why);
	xconn_tls_describe(&c, desc, sizeof(desc));
	assert_non_null(strstr(desc, "TLSv1.3 TLS_AES_256_GCM_SHA384, peer CN=b"));
	assert_int_equal(xconn_writev_all(&c, iov, n), 0);
	assert_int_equal(c.tx_bytes, total);
	pthread_join(th, NULL);
	if (sv.r != 0)
		fail_msg("server: %d %s", sv.r, sv.why);
	assert_int_equal(sv.c.rx_bytes, total);
	assert_memory_equal(sv.got, src, total);
	xconn_tls_describe(&sv.c, desc, sizeof(desc));
	assert_non_null(strstr(desc, "peer CN=a"));

	/* a clean close is an EOF for the other side, not a TLS error */
	xconn_close(&c);
	assert_int_equal(xconn_read_exact(&sv.c, src, 1), XMIG_ERR_EOF);
	xconn_close(&sv.c);
	tls_ctx_free(ct);
	tls_ctx_free(sv.t);
	free(src);
	free(sv.got);
}

static void
test_unpinned_peer_is_refused_with_its_fingerprint(void **state)
{
	/* b pins a fingerprint that is not a's */
	struct server sv = { 0 };
	struct tls_ctx *ct = ctx_for("a", false, "", 13);
	struct xconn c;
	char why[256];
	pthread_t th;
	int fds[2];

	sv.t = ctx_for("b", true, "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:"
	    "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff", 13);
	pair(fds);
	xconn_init(&sv.c, fds[0], 5000);
	xconn_init(&c, fds[1], 5000);
	assert_int_equal(pthread_create(&th, NULL, server_thread, &sv), 0);
	/* TLS 1.3: the client is done before the server has judged it */
	assert_int_equal(xconn_tls_connect(&c, ct, "127.0.0.1", why, sizeof(why)), 0);
	pthread_join(th, NULL);
	assert_int_equal(sv.r, XMIG_ERR_TLS);
	assert_non_null(strstr(sv.why, "certificate CN=a (SHA-256 "));
	assert_non_null(strstr(sv.why, ") is valid but its fingerprint is not pinned in "
	    "ssl-peer-fingerprints"));
	xconn_close(&sv.c);
	xconn_close(&c);
	tls_ctx_free(ct);
	tls_ctx_free(sv.t);
}

static void
test_plaintext_xmig_frame_on_tls_port_is_told_apart(void **state)
{
	struct server sv = { 0 };
	uint8_t peek[12];
	pthread_t th;
	int fds[2];

	sv.t = ctx_for("b", true, "", 13);
	pair(fds);
	xconn_init(&sv.c, fds[0], 5000);
	assert_int_equal(write(fds[1], "XMIG\1\1\0\0\0\0\0\0", 12), 12);
	assert_int_equal(pthread_create(&th, NULL, server_thread, &sv), 0);
	pthread_join(th, NULL);
	assert_int_equal(sv.r, XMIG_ERR_UNEXPECTED);
	assert_string_equal(sv.why, "plaintext client on the TLS port (an xmig sender "
	    "without --ssl)");
	/* nothing was consumed: the frame is still there to be read in plaintext */
	assert_int_equal(recv(fds[0], peek, sizeof(peek), MSG_PEEK), 12);
	assert_memory_equal(peek, "XMIG", 4);
	xconn_close(&sv.c);
	close(fds[1]);
	tls_ctx_free(sv.t);
}

static void
test_silent_client_hits_the_handshake_deadline(void **state)
{
	struct tls_ctx *t = ctx_for("b", true, "", 13);
	struct xconn c;
	char why[256];
	uint64_t t0;
	int fds[2];

	pair(fds);
	xconn_init(&c, fds[0], 5000);
	c.deadline_us = now_us() + 200000;
	t0 = now_us();
	assert_int_equal(xconn_tls_accept(&c, t, why, sizeof(why)), XMIG_ERR_TIMEOUT);
	assert_true(now_us() - t0 < 2000000);
	assert_string_equal(why, "no TLS handshake within the deadline");
	xconn_close(&c);
	close(fds[1]);
	tls_ctx_free(t);
}

static void
test_context_errors_name_key_and_file(void **state)
{
	char key[128], cert[128], ca[128], err[512];
	struct tls_cfg cfg;
	struct tls_ctx *t = NULL;

	path(key, sizeof(key), "ok/b.key");
	path(cert, sizeof(cert), "ok/a.pem");
	path(ca, sizeof(ca), "ok/ca.pem");
	cfg = (struct tls_cfg){ .key_file = key, .cert_file = cert, .ca_file = ca,
		.fingerprints = "", .min_version = 13 };
	assert_int_equal(tls_ctx_new(&t, true, &cfg, err, sizeof(err)), XMIG_ERR_TLS);
	assert_null(t);
	assert_non_null(strstr(err, "b.key is not the key of ssl-cert-file "));
	cfg.cert_file = key;
	assert_int_equal(tls_ctx_new(&t, false, &cfg, err, sizeof(err)), XMIG_ERR_TLS);
	assert_non_null(strstr(err, "ssl-cert-file "));
	assert_non_null(strstr(err, "b.key: cannot load the certificate: no start line"));
	cfg.cert_file = cert;
	path(key, sizeof(key), "ok/a.key");
	cfg.ca_file = key;
	assert_int_equal(tls_ctx_new(&t, true, &cfg, err, sizeof(err)), XMIG_ERR_TLS);
	assert_non_null(strstr(err, "ssl-ca-file "));

	/* a good one passes its own check */
	cfg.ca_file = ca;
	assert_int_equal(tls_ctx_new(&t, true, &cfg, err, sizeof(err)), 0);
	assert_true(tls_ctx_self_check(t, err, sizeof(err)));
	tls_ctx_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writev_through_tls_arrives_intact),
		cmocka_unit_test(test_unpinned_peer_is_refused_with_its_fingerprint),
		cmocka_unit_test(test_plaintext_xmig_frame_on_tls_port_is_told_apart),
		cmocka_unit_test(test_silent_client_hits_the_handshake_deadline),
		cmocka_unit_test(test_context_errors_name_key_and_file),
	};

	return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
