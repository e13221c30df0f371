/* tls.c - mutual TLS with OpenSSL 3 for the relocation transport.
 *
 * Every OpenSSL call of xmig is here.  Errors are turned into one line a
 * operator can act on: which certificate check failed and why, or what the
 * peer's alert said.  The OpenSSL error queue (per thread) is left empty
 * after every call, so the reason read after a failure is that call's
 * (clearing it before each read or write would cost 4% of a stream).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf.h"
#include "tls.h"
#include "xerr.h"

/* AEAD only, AES-GCM first (AES-NI makes it the fastest on x86 dom0s). */
#define TLS13_SUITES "TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:" \
	"TLS_CHACHA20_POLY1305_SHA256"
#define TLS12_CIPHERS "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
/* Bigger socket reads mean fewer syscalls per 16 KiB record. */
#define TLS_READ_BUF (256 * 1024)
/* Records are written into a BIO pair and sent from there by us, many at
 * a time: OpenSSL alone makes one write(2) per 16 KiB record, which costs
 * more than the encryption.  Room for two 256 KiB staging buffers. */
#define TLS_WRITE_RING (640 * 1024)

struct tls_ctx {
	SSL_CTX *ctx;
	bool server;
	size_t npins;
	uint8_t (*pins)[32];
};

struct tls_conn {
	struct tls_ctx *t;
	SSL *ssl;
	BIO *net;	/* our end of the write pair: ciphertext to send */
	int fd;
	char pin_why[320];	/* why the peer's certificate is not pinned */
};

static int tls_verify_cb(int ok, X509_STORE_CTX *sc);

/* The earliest error in the queue (the most specific one), then clear. */
static void
tls_err_text(char *buf, size_t len)
{
	unsigned long e = ERR_peek_error();
	const char *r = e ? ERR_reason_error_string(e) : NULL;

	if (r != NULL)
		snprintf(buf, len, "%s", r);
	else if (e != 0)
		snprintf(buf, len, "OpenSSL error %lx", e);
	else
		snprintf(buf, len, "unknown OpenSSL error");
	ERR_clear_error();
}

static int
tls_pins_parse(struct tls_ctx *t, const char *list, char *err, size_t errlen)
{
	const char *p = list;
	size_t n = 0;

	/* Count the words first: one allocation, no growth. */
	while (*p != '\0') {
		size_t k;

		p += strspn(p, " \t");
		k = strcspn(p, " \t");
		n += k > 0;
		p += k;
	}
	if (n == 0)
		return 0;
	if ((t->pins = calloc(n, sizeof(*t->pins))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return XMIG_ERR_NOMEM;
	}
	for (p = list; *p != '\0';) {
		size_t k;

		p += strspn(p, " \t");
		k = strcspn(p, " \t");
		if (k > 0 && conf_fingerprint_parse(p, k, t->pins[t->npins++]) != 0) {
			snprintf(err, errlen, "ssl-peer-fingerprints: \"%.*s\" is not a SHA-256 "
			    "fingerprint", (int)k, p);
			return XMIG_ERR_INVALID;
		}
		p += k;
	}
	return 0;
}

int
tls_ctx_new(struct tls_ctx **out, bool server, const struct tls_cfg *cfg, char *err,
    size_t errlen)
{
	struct tls_ctx *t;
	char why[256];
	int r = XMIG_ERR_TLS;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return XMIG_ERR_NOMEM;
	}
	t->server = server;
	ERR_clear_error();
	if ((t->ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method())) == NULL) {
		tls_err_text(why, sizeof(why));
		snprintf(err, errlen, "cannot create a TLS context: %s", why);
		goto fail;
	}
	if (!SSL_CTX_set_min_proto_version(t->ctx, cfg->min_version == 12 ? TLS1_2_VERSION
	    : TLS1_3_VERSION) || !SSL_CTX_set_ciphersuites(t->ctx, TLS13_SUITES) ||
	    !SSL_CTX_set_cipher_list(t->ctx, TLS12_CIPHERS)) {
		tls_err_text(why, sizeof(why));
		snprintf(err, errlen, "cannot set the TLS versions and ciphers: %s", why);
		goto fail;
	}
	/* Nothing to resume (one connection per migration), nothing to
	 * renegotiate: less state, less attack surface. */
	SSL_CTX_set_options(t->ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
	    SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(t->ctx, 0);
	SSL_CTX_set_read_ahead(t->ctx, 1);
	SSL_CTX_set_default_read_buffer_len(t->ctx, TLS_READ_BUF);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, cfg->cert_file) != 1) {
		tls_err_text(why, sizeof(why));
		snprintf(err, errlen, "ssl-cert-file %s: cannot load the certificate: %s",
		    cfg->cert_file, why);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(t->ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1 &&
	    ERR_GET_REASON(ERR_peek_error()) != X509_R_KEY_VALUES_MISMATCH) {
		tls_err_text(why, sizeof(why));
		snprintf(err, errlen, "ssl-key-file %s: cannot load the key: %s", cfg->key_file,
		    why);
		goto fail;
	}
	if (SSL_CTX_check_private_key(t->ctx) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "ssl-key-file %s is not the key of ssl-cert-file %s",
		    cfg->key_file, cfg->cert_file);
		goto fail;
	}
	if (SSL_CTX_load_verify_file(t->ctx, cfg->ca_file) != 1) {
		tls_err_text(why, sizeof(why));
		snprintf(err, errlen, "ssl-ca-file %s: cannot load the CA: %s", cfg->ca_file, why);
		goto fail;
	}
	if (server) {
		/* Tell clients which CA to pick their certificate from. */
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca_file);

		if (names == NULL) {
			tls_err_text(why, sizeof(why));
			snprintf(err, errlen, "ssl-ca-file %s: no CA certificate in it: %s",
			    cfg->ca_file, why);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(t->ctx, names);
	}
	/* Mutual: the server demands a certificate, both sides verify. */
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER |
	    (server ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), tls_verify_cb);
	if ((r = tls_pins_parse(t, cfg->fingerprints ? cfg->fingerprints : "", err,
	    errlen)) != 0)
		goto fail;
	*out = t;
	return 0;
fail:
	tls_ctx_free(t);
	return r;
}

void
tls_ctx_free(struct tls_ctx *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t->pins);
	free(t);
}

bool
tls_ctx_self_check(struct tls_ctx *t, char *why, size_t whylen)
{
	static const int purposes[] = { X509_PURPOSE_SSL_SERVER, X509_PURPOSE_SSL_CLIENT };
	X509 *leaf = SSL_CTX_get0_certificate(t->ctx);
	STACK_OF(X509) *chain = NULL;
	X509_STORE_CTX *sc;
	bool ok = true;
	size_t i;

	SSL_CTX_get0_chain_certs(t->ctx, &chain);
	/* Each host is a server to some peers and a client to others. */
	for (i = 0; ok && i < sizeof(purposes) / sizeof(purposes[0]); i++) {
		if ((sc = X509_STORE_CTX_new()) == NULL ||
		    !X509_STORE_CTX_init(sc, SSL_CTX_get_cert_store(t->ctx), leaf, chain)) {
			X509_STORE_CTX_free(sc);
			snprintf(why, whylen, "out of memory");
			ERR_clear_error();
			return false;
		}
		X509_STORE_CTX_set_purpose(sc, purposes[i]);
		if (X509_verify_cert(sc) != 1) {
			snprintf(why, whylen, "%s%s",
			    X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)),
			    X509_STORE_CTX_get_error(sc) == X509_V_ERR_INVALID_PURPOSE ?
			    i == 0 ? " (not for TLS servers)" : " (not for TLS clients)" : "");
			ok = false;
		}
		X509_STORE_CTX_free(sc);
	}
	ERR_clear_error();
	return ok;
}

struct tls_conn *
tls_conn_new(struct tls_ctx *t, int fd, const char *host, char *why, size_t whylen)
{
	struct tls_conn *tc = calloc(1, sizeof(*tc));
	unsigned char a[16];

	if (tc == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	tc->t = t;
	tc->fd = fd;
	ERR_clear_error();
	if ((tc->ssl = SSL_new(t->ctx)) == NULL)
		goto fail;
	SSL_set_app_data(tc->ssl, tc);	/* for tls_verify_cb */
	{
		/* Reads straight from the socket; writes into the pair. */
		BIO *rb = BIO_new_socket(fd, BIO_NOCLOSE), *wb = NULL;

		if (rb == NULL || BIO_new_bio_pair(&wb, TLS_WRITE_RING, &tc->net,
		    TLS_WRITE_RING) != 1) {
			BIO_free(rb);
			goto fail;
		}
		SSL_set_bio(tc->ssl, rb, wb);
	}
	if (t->server) {
		SSL_set_accept_state(tc->ssl);
		return tc;
	}
	SSL_set_connect_state(tc->ssl);
	/* The server must be the host we dialled, not just any host of the CA. */
	if (host != NULL && (inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tc->ssl), host) != 1)
			goto fail;
	} else if (host != NULL) {
		if (SSL_set1_host(tc->ssl, host) != 1 || SSL_set_tlsext_host_name(tc->ssl, host) != 1)
			goto fail;
	}
	return tc;
fail:
	tls_err_text(why, whylen);
	tls_conn_free(tc);
	return NULL;
}

/* Send the ciphertext waiting in the pair, without waiting: 0 when all of
 * it is out, TLS_WANT_WRITE when the socket is full. */
static int
tls_drain(struct tls_conn *tc, char *why, size_t whylen)
{
	for (;;) {
		char *p;
		int n = BIO_nread0(tc->net, &p);
		ssize_t k;

		if (n <= 0)
			return 0;
		k = send(tc->fd, p, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return TLS_WANT_WRITE;
			snprintf(why, whylen, "%s", strerror(errno));
			if (errno == EPIPE || errno == ECONNRESET) {
				snprintf(why, whylen, "connection closed by peer");
				return XMIG_ERR_EOF;
			}
			return XMIG_ERR_SYSTEM;
		}
		BIO_nread(tc->net, &p, (int)k);
	}
}

void
tls_conn_free(struct tls_conn *tc)
{
	char why[64];

	if (tc == NULL)
		return;
	if (tc->ssl != NULL && SSL_is_init_finished(tc->ssl)) {
		SSL_shutdown(tc->ssl);	/* close_notify if the socket takes it now */
		if (tc->net != NULL)
			(void)tls_drain(tc, why, sizeof(why));
	}
	SSL_free(tc->ssl);
	BIO_free(tc->net);
	ERR_clear_error();
	free(tc);
}

int
tls_conn_flush(struct tls_conn *tc, char *why, size_t whylen)
{
	return tls_drain(tc, why, whylen);
}

static bool
tls_alert_is_about_cert(int reason)
{
	switch (reason - SSL_AD_REASON_OFFSET) {
	case SSL_AD_BAD_CERTIFICATE:
	case SSL_AD_UNSUPPORTED_CERTIFICATE:
	case SSL_AD_CERTIFICATE_REVOKED:
	case SSL_AD_CERTIFICATE_EXPIRED:
	case SSL_AD_CERTIFICATE_UNKNOWN:
	case SSL_AD_UNKNOWN_CA:
	case SSL_AD_CERTIFICATE_REQUIRED:
	case SSL_AD_ACCESS_DENIED:
		return true;
	}
	return false;
}

/* Turn a failed SSL_* call (return ret) into an XMIG_ERR_* and a line. */
static int
tls_fail(struct tls_conn *tc, int ret, char *why, size_t whylen)
{
	int e = SSL_get_error(tc->ssl, ret), saved = errno;
	unsigned long q = ERR_peek_error();
	int reason = ERR_GET_REASON(q);
	char text[200], dw[64];
	long vr;

	/* Our alert, if OpenSSL made one, tells the peer why. */
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		(void)tls_drain(tc, dw, sizeof(dw));
	switch (e) {
	case SSL_ERROR_WANT_READ:
		return TLS_WANT_READ;
	case SSL_ERROR_WANT_WRITE:
		return TLS_WANT_WRITE;
	case SSL_ERROR_ZERO_RETURN:
		ERR_clear_error();
		snprintf(why, whylen, "connection closed by peer");
		return XMIG_ERR_EOF;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		/* errno was cleared before the call: 0 here is a bare EOF. */
		if (q == 0 && (saved == 0 || saved == ECONNRESET || saved == EPIPE)) {
			snprintf(why, whylen, "connection closed by peer");
			return XMIG_ERR_EOF;
		}
		snprintf(why, whylen, "%s", strerror(saved));
		errno = saved;
		return XMIG_ERR_SYSTEM;
	}
	if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED &&
	    (vr = SSL_get_verify_result(tc->ssl)) != X509_V_OK) {
		if (vr == X509_V_ERR_CERT_REJECTED && tc->pin_why[0] != '\0')
			snprintf(why, whylen, "%s", tc->pin_why);
		else
			snprintf(why, whylen, "certificate verify failed (%s)",
			    X509_verify_cert_error_string(vr));
		ERR_clear_error();
		return XMIG_ERR_TLS;
	}
	if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		ERR_clear_error();
		snprintf(why, whylen, "connection closed by peer");
		return XMIG_ERR_EOF;
	}
	tls_err_text(text, sizeof(text));
	if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		snprintf(why, whylen, "peer presented no certificate");
	else if (reason >= SSL_AD_REASON_OFFSET && tls_alert_is_about_cert(reason))
		snprintf(why, whylen, "peer refused our certificate (%s)", text);
	else if (reason >= SSL_AD_REASON_OFFSET)
		snprintf(why, whylen, "peer aborted the handshake (%s)", text);
	else if (!tc->t->server && (reason == SSL_R_WRONG_VERSION_NUMBER ||
	    reason == SSL_R_PACKET_LENGTH_TOO_LONG))
		snprintf(why, whylen, "peer does not speak TLS (%s): a plaintext port?", text);
	else
		snprintf(why, whylen, "%s", text);
	return XMIG_ERR_TLS;
}

static void
tls_fingerprint_str(const uint8_t md[32], char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < 32 && o + 4 <= outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, i ? ":%02X" : "%02X", md[i]);
}

static void
tls_peer_cn(X509 *cert, char *out, size_t outlen)
{
	if (cert == NULL || X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
	    NID_commonName, out, (int)outlen) < 0)
		snprintf(out, outlen, "?");
}

/* The SHA-256 of a certificate (pins, and a peer's identity). */
static bool
tls_cert_sha256(X509 *cert, unsigned char md[EVP_MAX_MD_SIZE])
{
	unsigned int mdlen = 0;

	if (cert == NULL || X509_digest(cert, EVP_sha256(), md, &mdlen) != 1 || mdlen != 32) {
		ERR_clear_error();
		return false;
	}
	return true;
}

/* Whether cert is one of the pinned ones; if not, why says which it is. */
static bool
tls_pinned(const struct tls_ctx *t, X509 *cert, char *why, size_t whylen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char cn[65], fp[100];	/* a CN has at most 64 characters */
	size_t i;

	if (!tls_cert_sha256(cert, md)) {
		snprintf(why, whylen, "cannot fingerprint the peer's certificate");
		return false;
	}
	for (i = 0; i < t->npins; i++)
		if (memcmp(t->pins[i], md, 32) == 0)
			return true;
	tls_peer_cn(cert, cn, sizeof(cn));
	tls_fingerprint_str(md, fp, sizeof(fp));
	snprintf(why, whylen, "certificate CN=%s (SHA-256 %s) is valid but its fingerprint "
	    "is not pinned in ssl-peer-fingerprints", cn, fp);
	return false;
}

/* Pins are checked inside the handshake, on the peer's leaf once its chain
 * has verified, so that a refusal reaches the peer as an alert rather than
 * a bare close. */
static int
tls_verify_cb(int ok, X509_STORE_CTX *sc)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(sc, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tls_conn *tc = ssl != NULL ? SSL_get_app_data(ssl) : NULL;

	if (!ok || tc == NULL || tc->t->npins == 0 || X509_STORE_CTX_get_error_depth(sc) != 0)
		return ok;
	if (tls_pinned(tc->t, X509_STORE_CTX_get_current_cert(sc), tc->pin_why,
	    sizeof(tc->pin_why)))
		return 1;
	X509_STORE_CTX_set_error(sc, X509_V_ERR_CERT_REJECTED);
	return 0;
}

int
tls_conn_handshake(struct tls_conn *tc, char *why, size_t whylen)
{
	int n;

	ERR_clear_error();
	errno = 0;
	n = SSL_do_handshake(tc->ssl);
	/* Whatever the handshake produced must be on the wire before we wait
	 * for the answer (or call it done). */
	if (n == 1 || SSL_get_error(tc->ssl, n) == SSL_ERROR_WANT_READ) {
		int r = tls_drain(tc, why, whylen);

		if (r != 0)
			return r;
	}
	if (n == 1)
		return 0;
	return tls_fail(tc, n, why, whylen);
}

int
tls_conn_read(struct tls_conn *tc, void *buf, size_t len, size_t *done, char *why,
    size_t whylen)
{
	int r;

	errno = 0;	/* the error queue is empty: every failure path clears it */
	*done = 0;
	if (SSL_read_ex(tc->ssl, buf, len, done) == 1) {
		/* A read may answer the peer (a key update): best effort, the
		 * next write or flush sends the rest. */
		r = tls_drain(tc, why, whylen);
		return r < 0 ? r : 0;
	}
	if (SSL_get_error(tc->ssl, 0) == SSL_ERROR_WANT_WRITE) {
		r = tls_drain(tc, why, whylen);
		return r != 0 ? r : TLS_WANT_WRITE;
	}
	return tls_fail(tc, 0, why, whylen);
}

bool
tls_conn_readable(struct tls_conn *tc)
{
	char why[64];
	uint8_t b;
	size_t n = 0;
	int e;

	if (SSL_pending(tc->ssl) > 0)
		return true;
	/* SSL_peek on the non-blocking socket: it decrypts what has come
	 * and leaves it for the next read. */
	ERR_clear_error();
	errno = 0;
	if (SSL_peek_ex(tc->ssl, &b, 1, &n) == 1)
		return n > 0;
	e = SSL_get_error(tc->ssl, 0);
	if (e == SSL_ERROR_WANT_WRITE)
		(void)tls_drain(tc, why, sizeof(why));
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		ERR_clear_error();
		return false;
	}
	ERR_clear_error();
	return true;
}

int
tls_conn_write(struct tls_conn *tc, const void *buf, size_t len, size_t *done, char *why,
    size_t whylen)
{
	int r;

	*done = 0;
	for (;;) {
		/* Room in the pair first; a full socket sends the caller to poll. */
		if ((r = tls_drain(tc, why, whylen)) != 0)
			return r;
		errno = 0;
		if (SSL_write_ex(tc->ssl, buf, len, done) == 1) {
			r = tls_drain(tc, why, whylen);
			return r < 0 ? r : 0;	/* the rest goes with tls_conn_flush */
		}
		/* The pair is full: drain it and repeat the same call. */
		if (SSL_get_error(tc->ssl, 0) != SSL_ERROR_WANT_WRITE)
			return tls_fail(tc, 0, why, whylen);
	}
}

int
tls_conn_peer_fingerprint(struct tls_conn *tc, char *out, size_t outlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int i;

	if (outlen < 65 || !tls_cert_sha256(SSL_get0_peer_certificate(tc->ssl), md))
		return XMIG_ERR_TLS;
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

void
tls_conn_describe(struct tls_conn *tc, char *buf, size_t buflen)
{
	char cn[128];

	tls_peer_cn(SSL_get0_peer_certificate(tc->ssl), cn, sizeof(cn));
	snprintf(buf, buflen, "%s %s, peer CN=%s", SSL_get_version(tc->ssl),
	    SSL_get_cipher_name(tc->ssl), cn);
}
